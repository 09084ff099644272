// SPDX-License-Identifier: GPL-2.0
/*
 * backend.c: what all backends share: the error buffer.  The interface
 * itself and its rules are described in backend.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "backend.h"

int hsm_backend_set_error(struct hsm_backend *be, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(be->error, sizeof(be->error), fmt, ap);
	va_end(ap);
	return err;
}
