/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_NAME_HASH_H_
#define _SCOUTFS_NAME_HASH_H_

#include "scoutfs_os.h"

u64 scoutfs_name_hash(const char *name, unsigned int len);

#endif
