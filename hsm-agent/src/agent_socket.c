// SPDX-License-Identifier: GPL-2.0
/*
 * agent_socket.c: where an agent's metrics/status socket is when its
 * configuration names none, shared by the agent and `scoutfs-hsm status`
 * (which compiles this file alone, so it needs nothing else of the agent).
 * agent_socket.h has the rules.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_socket.h"

int agent_escape_path(const char *path, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char simple[PATH_MAX];
	size_t n = 0, o = 0;
	const char *p = path;

	/* simplify: no repeated, leading or trailing '/', no "." parts */
	while (*p) {
		const char *e;
		size_t cl;

		while (*p == '/')
			p++;
		e = strchrnul(p, '/');
		cl = (size_t)(e - p);
		if (cl && !(cl == 1 && p[0] == '.')) {
			if (n + cl + 2 > sizeof(simple))
				return -ENAMETOOLONG;
			if (n)
				simple[n++] = '/';
			memcpy(simple + n, p, cl);
			n += cl;
		}
		p = e;
	}
	simple[n] = 0;
	if (!n) {
		if (len < 2)
			return -ENAMETOOLONG;
		strcpy(out, "-");
		return 0;
	}
	for (p = simple; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == ':' || c == '_' ||
			     (c == '.' && p != simple);

		if (o + 5 > len)
			return -ENAMETOOLONG;
		if (c == '/') {
			out[o++] = '-';
		} else if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
	return 0;
}

int agent_default_socket(const char *mount, char *out, size_t len)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");
	char esc[PATH_MAX];
	int n, ret;

	if (rt && *rt) {
		/* systemd's RuntimeDirectory= (the first if several) */
		n = snprintf(out, len, "%.*s/agent.sock",
			     (int)strcspn(rt, ":"), rt);
	} else {
		ret = agent_escape_path(mount, esc, sizeof(esc));
		if (ret)
			return ret;
		n = snprintf(out, len, "%s/%s/agent.sock", AGENT_RUN_DIR, esc);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
