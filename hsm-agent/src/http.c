// SPDX-License-Identifier: GPL-2.0
/*
 * http.c: the metrics and status server, HTTP/1.1 by libmicrohttpd.
 *
 * Prometheus scrapes over HTTP, and `scoutfs-hsm status` (libcurl's
 * CURLOPT_UNIX_SOCKET_PATH) and curl --unix-socket speak it too, so one
 * protocol serves both: GET /metrics (text format) and GET /status (JSON).
 * We create, bind and listen on each socket ourselves and hand it to a
 * libmicrohttpd daemon with MHD_OPTION_LISTEN_SOCKET, which serves it from
 * its own internal polling thread; the same code path thus covers the unix
 * socket and the loopback TCP port.  GET and HEAD are answered, and POST
 * (the commands that make the agent act: `scoutfs-hsm release`) on the
 * unix socket only, whose mode says who may (403 on the TCP port; 405
 * for other methods); request bodies are refused.  Each connection has a timeout,
 * so a stuck client cannot hold a slot.
 *
 * The unix socket: a stale socket file left by a killed agent is removed
 * (connect() to it is refused), a live one is an error, so two agents
 * never serve on one path.  The file is mode 0660.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"

#define HTTP_CONNECTION_TIMEOUT_S 10
#define HTTP_MAX_CONNECTIONS 32

struct agent_http {
	struct MHD_Daemon *unix_d;
	struct MHD_Daemon *tcp_d;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	agent_http_fn fn;
	void *arg;
};

static bool is_unix(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return ci && ci->client_addr && ci->client_addr->sa_family == AF_UNIX;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct agent_http *h = cls;
	struct MHD_Response *resp;
	const char *ctype = "text/plain; charset=utf-8";
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload_data;
	if (!*con_cls) {
		/* first call: headers only; answer on the next */
		*con_cls = h;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_NO;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD") &&
	    strcmp(method, "POST")) {
		body = strdup("only GET and POST\n");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (!strcmp(method, "POST") && !is_unix(conn)) {
		body = strdup("POST only on the agent's unix socket\n");
		status = MHD_HTTP_FORBIDDEN;
	} else {
		body = h->fn(h->arg, method, url, &ctype, &len, &status);
		if (!body) {
			body = strdup("not found: try /metrics or /status\n");
			status = MHD_HTTP_NOT_FOUND;
			ctype = "text/plain; charset=utf-8";
		}
	}
	if (!body)
		return MHD_NO;
	if (status != MHD_HTTP_OK)
		len = strlen(body);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct MHD_Daemon *serve(struct agent_http *h, int fd, bool ipv6)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;

	if (ipv6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, answer, h,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)HTTP_CONNECTION_TIMEOUT_S,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)HTTP_MAX_CONNECTIONS,
				MHD_OPTION_END);
}

static int listen_unix(const char *path, char *err, size_t err_len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, probe, e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, err_len, "%s: path too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) && errno == EADDRINUSE) {
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    !connect(probe, (struct sockaddr *)&sun, sizeof(sun))) {
			close(probe);
			close(fd);
			snprintf(err, err_len, "%s: another process serves on this socket",
				 path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
		if (!bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
			errno = 0;
	} else {
		errno = 0;
	}
	if (errno) {
		e = errno;
		snprintf(err, err_len, "%s: bind: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	chmod(path, 0660);
	if (listen(fd, HTTP_MAX_CONNECTIONS)) {
		e = errno;
		snprintf(err, err_len, "%s: listen: %s", path, strerror(e));
		close(fd);
		unlink(path);
		return -e;
	}
	return fd;
}

static int listen_tcp(const char *address, unsigned int port, bool *ipv6,
		      char *err, size_t err_len)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr *sa;
	socklen_t salen;
	int fd, e, one = 1;

	if (inet_pton(AF_INET, address, &s4.sin_addr) == 1) {
		s4.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&s4;
		salen = sizeof(s4);
		*ipv6 = false;
	} else if (inet_pton(AF_INET6, address, &s6.sin6_addr) == 1) {
		s6.sin6_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&s6;
		salen = sizeof(s6);
		*ipv6 = true;
	} else {
		snprintf(err, err_len, "%s: not an IP address", address);
		return -EINVAL;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, salen) || listen(fd, HTTP_MAX_CONNECTIONS)) {
		e = errno;
		snprintf(err, err_len, "%s port %u: %s", address, port, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int agent_http_start(const char *path, const char *address,
		     unsigned int port, agent_http_fn fn, void *arg,
		     struct agent_http **out, char *err, size_t err_len)
{
	struct agent_http *h = calloc(1, sizeof(*h));
	bool ipv6 = false;
	int fd;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->fn = fn;
	h->arg = arg;
	fd = listen_unix(path, err, err_len);
	if (fd < 0) {
		free(h);
		return fd;
	}
	snprintf(h->path, sizeof(h->path), "%s", path);
	h->unix_d = serve(h, fd, false);
	if (!h->unix_d) {
		snprintf(err, err_len, "%s: cannot start the HTTP server", path);
		close(fd);
		unlink(path);
		free(h);
		return -EIO;
	}
	if (port) {
		fd = listen_tcp(address, port, &ipv6, err, err_len);
		if (fd < 0) {
			agent_http_stop(h);
			return fd;
		}
		h->tcp_d = serve(h, fd, ipv6);
		if (!h->tcp_d) {
			snprintf(err, err_len, "%s port %u: cannot start the HTTP server",
				 address, port);
			close(fd);
			agent_http_stop(h);
			return -EIO;
		}
	}
	*out = h;
	return 0;
}

void agent_http_stop(struct agent_http *h)
{
	if (!h)
		return;
	if (h->tcp_d)
		MHD_stop_daemon(h->tcp_d);
	if (h->unix_d) {
		MHD_stop_daemon(h->unix_d);
		unlink(h->path);
	}
	free(h);
}
