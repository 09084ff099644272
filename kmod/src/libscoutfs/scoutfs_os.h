/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_OS_H_
#define _SCOUTFS_OS_H_
/*
 * scoutfs_os.h: the environment libscoutfs code is written against, in the
 * kernel and in userspace (see README in this directory).
 */
#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <asm/byteorder.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <endian.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef int32_t s32;

#define cpu_to_le16(v) ((__force __le16)htole16(v))
#define cpu_to_le32(v) ((__force __le32)htole32(v))
#define cpu_to_le64(v) ((__force __le64)htole64(v))
#define le16_to_cpu(v) le16toh((__force u16)(v))
#define le32_to_cpu(v) le32toh((__force u32)(v))
#define le64_to_cpu(v) le64toh((__force u64)(v))
#define cpu_to_be64(v) ((__force __be64)htobe64(v))
#define be64_to_cpu(v) be64toh((__force u64)(v))

#ifndef __force
#define __force
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#endif

#endif
