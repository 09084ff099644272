// SPDX-License-Identifier: GPL-2.0
/*
 * log.c: leveled logging to stderr.
 *
 * Two formats, chosen once at startup:
 *  - stderr is the journal (systemd sets JOURNAL_STREAM to the device and
 *    inode of the stream it connected, and we check that stderr is that
 *    stream): each line starts with the sd-daemon prefix "<N>" (N the
 *    syslog priority), which journald turns into the entry's PRIORITY;
 *    journald adds the time and the unit itself.
 *  - otherwise: "2026-01-02T03:04:05Z hsm-agent[PID] LEVEL: message".
 * Each message is formatted into one buffer and written with one write(2),
 * so lines from worker threads never interleave.  The level is an atomic
 * so that a SIGHUP reload can change it while workers log.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int log_level = LOG_INFO;
static bool log_journal;

static const char *const level_names[] = {
	[LOG_EMERG] = "emergency", [LOG_ALERT] = "alert",
	[LOG_CRIT] = "critical", [LOG_ERR] = "error",
	[LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void agent_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		      !fstat(STDERR_FILENO, &st) &&
		      (unsigned long long)st.st_dev == dev &&
		      (unsigned long long)st.st_ino == ino;
}

void agent_log_set_level(int level)
{
	atomic_store(&log_level, level);
}

int agent_log_get_level(void)
{
	return atomic_load(&log_level);
}

const char *agent_log_level_name(int level)
{
	if (level < LOG_EMERG || level > LOG_DEBUG)
		return "?";
	return level_names[level];
}

void agent_log(int level, const char *fmt, ...)
{
	char line[2048];
	size_t n = 0;
	va_list ap;
	int r;

	if (level > atomic_load(&log_level))
		return;
	if (log_journal) {
		r = snprintf(line, sizeof(line), "<%d>", level);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
		r = snprintf(line + n, sizeof(line) - n, " hsm-agent[%d] %s: ",
			     (int)getpid(), agent_log_level_name(level));
	}
	n += r > 0 ? (size_t)r : 0;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r :
		     sizeof(line) - n - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to say it */
	}
}
