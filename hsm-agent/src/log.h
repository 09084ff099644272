/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h: the agent's log, one line per message on stderr with a level.
 * log.c explains the formats (plain for a terminal, sd-daemon priority
 * prefixes when stderr is the journal).
 */
#ifndef SCOUTFS_HSM_AGENT_LOG_H
#define SCOUTFS_HSM_AGENT_LOG_H

#include <syslog.h>	/* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

/* Decide the format from the environment (JOURNAL_STREAM); call once. */
void agent_log_init(void);
/* Messages above level (less severe) are dropped. */
void agent_log_set_level(int level);
int agent_log_get_level(void);
/* "error" "warning" "notice" "info" "debug" */
const char *agent_log_level_name(int level);

void agent_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define agent_err(...) agent_log(LOG_ERR, __VA_ARGS__)
#define agent_warn(...) agent_log(LOG_WARNING, __VA_ARGS__)
#define agent_notice(...) agent_log(LOG_NOTICE, __VA_ARGS__)
#define agent_info(...) agent_log(LOG_INFO, __VA_ARGS__)
#define agent_debug(...) agent_log(LOG_DEBUG, __VA_ARGS__)

#endif
