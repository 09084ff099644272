/* SPDX-License-Identifier: GPL-2.0 */
/*
 * http.h: the agent's metrics and status server (libmicrohttpd), on a unix
 * socket and optionally a loopback TCP port.  http.c explains it.
 */
#ifndef SCOUTFS_HSM_AGENT_HTTP_H
#define SCOUTFS_HSM_AGENT_HTTP_H

#include <stddef.h>

/*
 * Answer method ("GET", "HEAD" or "POST", without a body) on url: return
 * a malloc'd body (the server frees it) and set *content_type, and
 * *status when not 200; or NULL for 404.
 */
typedef char *(*agent_http_fn)(void *arg, const char *method, const char *url,
			       const char **content_type, size_t *len,
			       unsigned int *status);

struct agent_http;

/*
 * Serve on the unix socket path (a stale socket there is replaced, a live
 * one is -EADDRINUSE) and, when port is not 0, on address:port.  0 and
 * *out, or -errno with the reason in err.
 */
int agent_http_start(const char *path, const char *address,
		     unsigned int port, agent_http_fn fn, void *arg,
		     struct agent_http **out, char *err, size_t err_len);
/* Stop serving (in-flight requests finish) and remove the socket. */
void agent_http_stop(struct agent_http *h);

#endif
