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

G_END_DECLS
