/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_CLI_HSM_AGENT_CLIENT_H
#define SCOUTFS_CLI_HSM_AGENT_CLIENT_H
/*
 * hsm_agent_client.h: how the `scoutfs-hsm` commands talk to the
 * hsm-agent of a mount: HTTP over its unix socket (hsm_agent_client.c).
 */
#include <stddef.h>

struct json_object;

/*
 * The agent's socket: socket_opt when given, else the agent's default for
 * the mount (mount_arg, or $SCOUTFS_MOUNT_PATH or "."; resolved, copied
 * to mount when not NULL).  0, or -1 with the reason printed as "cmd: ...".
 */
int hsm_agent_socket(const char *cmd, const char *socket_opt,
		     const char *mount_arg, char *sock, size_t sock_len,
		     char *mount, size_t mount_len);

/*
 * method ("GET" or "POST") url on the agent at sock, within timeout_s
 * seconds, and its JSON answer
 * into *out (raw, when not NULL, the body as it came, to free).  0, or
 * -1 with the reason in err: no agent answers, an HTTP error, not JSON,
 * or the answer's own "error".
 */
int hsm_agent_call(const char *sock, const char *method, const char *url,
		   long timeout_s, struct json_object **out, char **raw,
		   char *err, size_t err_len);

/* Members of a JSON object: NULL, "?" and 0 when missing. */
struct json_object *hsm_json_get(struct json_object *o, const char *k);
const char *hsm_json_str(struct json_object *o, const char *k);
double hsm_json_num(struct json_object *o, const char *k);

/* bytes as "1.5 MiB" */
void hsm_human_bytes(double bytes, char *out, size_t len);

#endif
