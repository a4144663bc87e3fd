/* porch-hash.h — SHA-256 of file data, for verified and resumable transfers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PORCH_SHA256_LEN 32

typedef struct _PorchSha256 PorchSha256;

/* A new SHA-256 computation; free with porch_sha256_free(). */
PorchSha256 *porch_sha256_new(void);
void porch_sha256_free(PorchSha256 *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchSha256, porch_sha256_free)

void porch_sha256_update(PorchSha256 *h, const void *data, gsize len);

/* Writes the digest of everything added since the last reset to @ret_digest
 * (PORCH_SHA256_LEN bytes) and starts again from nothing. */
void porch_sha256_finish(PorchSha256 *h, guint8 *ret_digest);

/* A digest as 64 lower-case hexadecimal digits, the form the protocols write it in: into @out
 * (PORCH_SHA256_HEX_LEN + 1 bytes, NUL-terminated). */
#define PORCH_SHA256_HEX_LEN (2 * PORCH_SHA256_LEN)
void porch_sha256_to_hex(const guint8 *digest, char *out);
/* The digest written by porch_sha256_to_hex(): exactly 64 lower-case hexadecimal digits, else
 * FALSE (and @ret_digest untouched). */
gboolean porch_sha256_from_hex(const char *hex, guint8 *ret_digest);

G_END_DECLS
