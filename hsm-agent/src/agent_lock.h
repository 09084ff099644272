/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent_lock.h: one agent per filesystem.  agent_lock.c explains the
 * mechanism.
 */
#ifndef SCOUTFS_HSM_AGENT_LOCK_H
#define SCOUTFS_HSM_AGENT_LOCK_H

#include <stddef.h>
#include <sys/types.h>

#define AGENT_LOCK_ID_MAX 96

/*
 * Take the lock named id (an fsid or device/inode string): 0 and *fd (keep
 * it open for the life of the agent; close it to let go), -EBUSY when
 * another process holds it (*holder its pid, or 0 if unknown), or another
 * -errno.
 */
int agent_lock_take(const char *id, int *fd, pid_t *holder);
/* Accept and close whoever connected to ask (see agent_lock.c). */
void agent_lock_serve(int fd);

#endif
