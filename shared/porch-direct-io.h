/* porch-direct-io.h — writing a fetched file's bulk with O_DIRECT, past the page cache.
 *
 * On the reference machine a buffered write copies every byte into a freshly allocated
 * page-cache page and later writes it back: ~1.5 s per GiB for that copy alone (dd: 434 MB/s
 * buffered, 2.9 GB/s with O_DIRECT), and the fsync before the rename then waits for all of it.
 * Both fetches (the one-source get and the many-sources engine) write a big file's aligned
 * pieces through a second descriptor opened with O_DIRECT, and the rest through the page
 * cache. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What O_DIRECT asks of a write's offset, length and memory: a page covers every logical
 * block size we meet (512 or 4096). */
#define PORCH_DIRECT_ALIGN 4096u

/* @path opened again for O_DIRECT writes when the file system of @fd (the same file) suits
 * them: local disk file systems only. On NFS or SMB each write would be a synchronous round
 * trip to the server; tmpfs and FUSE gain nothing or refuse it. -1 when it does not suit. */
int porch_direct_open(int fd, const char *path);

/* Whether @n bytes of @d at @offset can go through an O_DIRECT descriptor. */
gboolean porch_direct_aligned(const void *d, gsize n, guint64 offset);

/* Writes @n bytes of @d at @offset through @dfd (porch_direct_open()); TRUE when all of them
 * were written. FALSE, with the reason logged at debug level, on any error (another alignment
 * wanted: EINVAL; a full tmpfs: EIO rather than ENOSPC): the caller then writes them, and
 * everything after, through the page cache, which says what is wrong properly. */
gboolean porch_direct_write(int dfd, const void *d, gsize n, guint64 offset, const char *name);

/* Writes all @n bytes of @d at @offset of @fd (through the page cache): 0, or an errno (EIO
 * for a write that wrote nothing). */
int porch_write_at(int fd, const void *d, gsize n, guint64 offset);

G_END_DECLS
