/* SPDX-License-Identifier: GPL-2.0 */
/*
 * checksum.h: the checksum every archive copy carries.
 *
 * Archive copies are checked end to end with SHA-256 (OpenSSL's EVP
 * interface): it is computed while put() streams the data out, stored with
 * the copy (object metadata, pax header, sidecar) and in the catalog, and
 * compared when a whole copy is read back.  The text form is
 * "sha256:<64 hex digits>", the only form the catalog and the backends
 * store, so a copy can always say which algorithm made its checksum.
 */
#ifndef SCOUTFS_HSM_CHECKSUM_H
#define SCOUTFS_HSM_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HSM_CHECKSUM_BYTES 32
#define HSM_CHECKSUM_PREFIX "sha256:"
/* "sha256:" + 64 hex digits + NUL */
#define HSM_CHECKSUM_TEXT_MAX (sizeof(HSM_CHECKSUM_PREFIX) + 2 * HSM_CHECKSUM_BYTES)

struct hsm_checksum {
	uint8_t bytes[HSM_CHECKSUM_BYTES];
};

struct hsm_checksum_ctx;

/* Returns NULL only when out of memory. */
struct hsm_checksum_ctx *hsm_checksum_begin(void);
void hsm_checksum_update(struct hsm_checksum_ctx *ctx, const void *buf,
			 size_t len);
/* Finishes and frees ctx. */
void hsm_checksum_end(struct hsm_checksum_ctx *ctx, struct hsm_checksum *sum);
/* Frees ctx without a result (error paths). */
void hsm_checksum_abort(struct hsm_checksum_ctx *ctx);

void hsm_checksum_buf(const void *buf, size_t len, struct hsm_checksum *sum);

/* out must hold HSM_CHECKSUM_TEXT_MAX bytes. */
void hsm_checksum_to_text(const struct hsm_checksum *sum, char *out);
/* 0 or -EINVAL for anything but a well-formed "sha256:..." string. */
int hsm_checksum_from_text(const char *text, struct hsm_checksum *sum);

bool hsm_checksum_equal(const struct hsm_checksum *a,
			const struct hsm_checksum *b);

#endif
