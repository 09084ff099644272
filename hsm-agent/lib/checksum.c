// SPDX-License-Identifier: GPL-2.0
/*
 * checksum.c: SHA-256 of archive copies through OpenSSL's EVP interface.
 * See checksum.h for why there is exactly one algorithm and one text form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "checksum.h"

struct hsm_checksum_ctx {
	EVP_MD_CTX *md;
};

struct hsm_checksum_ctx *hsm_checksum_begin(void)
{
	struct hsm_checksum_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->md = EVP_MD_CTX_new();
	if (!ctx->md || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx->md);
		free(ctx);
		return NULL;
	}
	return ctx;
}

void hsm_checksum_update(struct hsm_checksum_ctx *ctx, const void *buf,
			 size_t len)
{
	if (len)
		EVP_DigestUpdate(ctx->md, buf, len);
}

void hsm_checksum_end(struct hsm_checksum_ctx *ctx, struct hsm_checksum *sum)
{
	unsigned int len = 0;

	EVP_DigestFinal_ex(ctx->md, sum->bytes, &len);
	hsm_checksum_abort(ctx);
}

void hsm_checksum_abort(struct hsm_checksum_ctx *ctx)
{
	if (!ctx)
		return;
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
}

void hsm_checksum_buf(const void *buf, size_t len, struct hsm_checksum *sum)
{
	unsigned int out_len = 0;

	EVP_Digest(buf, len, sum->bytes, &out_len, EVP_sha256(), NULL);
}

void hsm_checksum_to_text(const struct hsm_checksum *sum, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t prefix = strlen(HSM_CHECKSUM_PREFIX);
	size_t i;

	memcpy(out, HSM_CHECKSUM_PREFIX, prefix);
	for (i = 0; i < HSM_CHECKSUM_BYTES; i++) {
		out[prefix + 2 * i] = hex[sum->bytes[i] >> 4];
		out[prefix + 2 * i + 1] = hex[sum->bytes[i] & 0xf];
	}
	out[prefix + 2 * HSM_CHECKSUM_BYTES] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hsm_checksum_from_text(const char *text, struct hsm_checksum *sum)
{
	size_t prefix = strlen(HSM_CHECKSUM_PREFIX);
	size_t i;

	if (!text || strncmp(text, HSM_CHECKSUM_PREFIX, prefix) != 0 ||
	    strlen(text) != prefix + 2 * HSM_CHECKSUM_BYTES)
		return -EINVAL;

	for (i = 0; i < HSM_CHECKSUM_BYTES; i++) {
		int hi = hex_value(text[prefix + 2 * i]);
		int lo = hex_value(text[prefix + 2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		sum->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool hsm_checksum_equal(const struct hsm_checksum *a,
			const struct hsm_checksum *b)
{
	return memcmp(a->bytes, b->bytes, HSM_CHECKSUM_BYTES) == 0;
}
