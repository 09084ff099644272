// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_agent_client.c: HTTP to the hsm-agent over its unix socket
 * (libcurl's CURLOPT_UNIX_SOCKET_PATH), shared by `scoutfs-hsm status`,
 * `release` and `stage`.  The socket is found with the agent's own rule
 * (agent_socket.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "agent_socket.h"
#include "fsioctl.h"
#include "hsm_agent_client.h"

struct body {
	char *buf;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	char *nb = realloc(b->buf, b->len + size * n + 1);

	if (!nb)
		return 0;
	memcpy(nb + b->len, p, size * n);
	b->len += size * n;
	nb[b->len] = 0;
	b->buf = nb;
	return size * n;
}

int hsm_agent_socket(const char *cmd, const char *socket_opt,
		     const char *mount_arg, char *sock, size_t sock_len,
		     char *mount, size_t mount_len)
{
	char real[PATH_MAX];
	const char *m = scoutfs_mount_path(mount_arg);

	if (!realpath(m, real)) {
		fprintf(stderr, "%s: %s: %s\n", cmd, m, strerror(errno));
		return -1;
	}
	if (mount && snprintf(mount, mount_len, "%s", real) >= (int)mount_len) {
		fprintf(stderr, "%s: %s: the path is too long\n", cmd, real);
		return -1;
	}
	if (socket_opt) {
		if (snprintf(sock, sock_len, "%s", socket_opt) >= (int)sock_len) {
			fprintf(stderr, "%s: %s: the socket path is too long\n",
				cmd, socket_opt);
			return -1;
		}
		return 0;
	}
	if (agent_default_socket(real, sock, sock_len)) {
		fprintf(stderr, "%s: %s: the socket path is too long\n", cmd,
			real);
		return -1;
	}
	return 0;
}

int hsm_agent_call(const char *sock, const char *method, const char *url,
		   long timeout_s, struct json_object **out, char **raw,
		   char *err, size_t err_len)
{
	char cerr[CURL_ERROR_SIZE] = "";
	char full[256];
	struct body b = { 0 };
	struct json_object *o, *e = NULL;
	long code = 0;
	CURLcode cr;
	CURL *c;

	*out = NULL;
	if (raw)
		*raw = NULL;
	c = curl_easy_init();
	if (!c) {
		snprintf(err, err_len, "libcurl did not initialise");
		return -1;
	}
	snprintf(full, sizeof(full), "http://agent%s", url);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, full);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cr = curl_easy_perform(c);
	if (cr == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (cr != CURLE_OK) {
		snprintf(err, err_len, "no agent answers on %s: %s", sock,
			 cerr[0] ? cerr : curl_easy_strerror(cr));
		free(b.buf);
		return -1;
	}
	if (code != 200 || !b.buf) {
		snprintf(err, err_len, "%s answered HTTP %ld to %s %s%s%s", sock,
			 code, method, url, b.buf ? ": " : "",
			 b.buf ? strtok(b.buf, "\n") : "");
		free(b.buf);
		return -1;
	}
	o = json_tokener_parse(b.buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, err_len, "%s: the answer to %s %s is not JSON",
			 sock, method, url);
		json_object_put(o);
		free(b.buf);
		return -1;
	}
	if (json_object_object_get_ex(o, "error", &e) && e) {
		snprintf(err, err_len, "the agent: %s", json_object_get_string(e));
		json_object_put(o);
		free(b.buf);
		return -1;
	}
	*out = o;
	if (raw)
		*raw = b.buf;
	else
		free(b.buf);
	return 0;
}

struct json_object *hsm_json_get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

const char *hsm_json_str(struct json_object *o, const char *k)
{
	struct json_object *v = hsm_json_get(o, k);

	return v ? json_object_get_string(v) : "?";
}

double hsm_json_num(struct json_object *o, const char *k)
{
	struct json_object *v = hsm_json_get(o, k);

	return v ? json_object_get_double(v) : 0;
}

void hsm_human_bytes(double bytes, char *out, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (bytes >= 1024 && i < 4) {
		bytes /= 1024;
		i++;
	}
	snprintf(out, len, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}
