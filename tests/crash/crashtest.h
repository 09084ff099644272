/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CRASHTEST_H_
#define _CRASHTEST_H_
/* crashtest: shared by the workload/verifier and the write-log replay. */
#include <stdint.h>

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
uint64_t mix64(uint64_t x);
uint64_t rng_next(uint64_t *state);

/* replay.c */
void dm_mark(const char *dm_name, unsigned long line);
int cmd_replay(int argc, char **argv);

#endif
