/* porch-transfer-get.c — get: fetching files and trees (porch-transfer.c has the engine they
 * share).
 *
 * get: data goes to NAME.part (pwrite at its offset); when every range matched and a final
 * FSTAT shows the file did not change meanwhile, NAME.part gets the file's mode and mtime and
 * is renamed to NAME: large files each after an fdatasync, small files in batches after one
 * syncfs, so that no file ever appears under its final name before its data is on disk.
 *
 * NAME.part is locked (an OFD lock: the kernel drops it when its last descriptor closes, however
 * the process ends) from before anything is read from it or written to it until it has its
 * final name: a second fetch of the same file into the same folder, from this process or
 * another, fails at once rather than write into it too. A NAME.part found there is resumed
 * when all of it matches the file's start (PORCH_TRANSFER_RESUME); one that does not, or any
 * without PORCH_TRANSFER_RESUME, is renamed aside to NAME.part.1 (.2, ...), never removed. */
#include "porch-transfer-private.h"

#include "porch-direct-io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* get -r: files waiting to start before the walk lets the transfer run */
#define MAX_WAITING_JOBS 4096
#define BIG_FILE         (4u << 20)
#define BATCH            256
/* NAME.part.1 ... NAME.part.SET_ASIDE_MAX: the names a NAME.part is set aside as */
#define SET_ASIDE_MAX 1000u

/* get -r: a folder of the tree, held by the walk while it lists it, by its files' jobs and
 * by its folders; when the last lets go, it gets its mode and time (a folder it made). */
struct _PorchTransferDir {
    PorchTransfer *t;
    PorchTransferDir *parent;
    char *path;
    gint mode;    /* -1: leave it as it is */
    gint64 mtime; /* -1: leave it as it is */
    guint refs;
};

/* ---- folders (get -r) --------------------------------------------------------------------- */

static PorchTransferDir *
dir_new(PorchTransfer *t, PorchTransferDir *parent, const char *path, gint mode, gint64 mtime)
{
    PorchTransferDir *d = g_new0(PorchTransferDir, 1);

    d->t = t;
    d->parent = parent;
    if (parent != NULL)
        parent->refs++;
    d->path = g_strdup(path);
    d->mode = mode;
    d->mtime = mtime;
    d->refs = 1;
    return d;
}

/* The last file or folder in @d is done: a folder it made gets its mode (as the umask lets it,
 * and always u+rwx: its new owner may want to fetch into it again, or delete it; cp -r does
 * the same) and then its time, which the files landing in it changed. Not when the transfer as
 * a whole failed. */
void
porch_transfer_dir_unref(PorchTransferDir *d)
{
    while (d != NULL && --d->refs == 0) {
        PorchTransferDir *parent = d->parent;
        PorchTransfer *t = d->t;

        if (!t->aborted && t->c->fatal == NULL && !g_cancellable_is_cancelled(t->cancellable)) {
            if (d->mode >= 0)
                chmod(d->path, (((mode_t)d->mode & 0777) & ~t->umask) | 0700);
            if (d->mtime >= 0)
                utimensat(AT_FDCWD, d->path, (struct timespec[2]){{d->mtime, 0}, {d->mtime, 0}}, 0);
        }
        g_free(d->path);
        g_free(d);
        d = parent;
    }
}

/* ---- get --------------------------------------------------------------------------- */

static gboolean
rename_into_place(PorchTransferJob *j, GError **error)
{
    if (j->t->flags & PORCH_TRANSFER_FORCE) {
        if (rename(j->part, j->local) == 0)
            return TRUE;
    } else {
        /* never replace a file that appeared meanwhile */
        if (renameat2(AT_FDCWD, j->part, AT_FDCWD, j->local, RENAME_NOREPLACE) == 0)
            return TRUE;
        if (errno == EINVAL && link(j->part, j->local) == 0) {
            unlink(j->part);
            return TRUE;
        }
    }
    if (errno == EEXIST) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "exists (use --force to replace it)");
        return FALSE;
    }
    g_propagate_error(error, porch_transfer_local_error(errno, NULL));
    return FALSE;
}

/* Renames the small files verified so far, after one syncfs() made their data durable. */
void
porch_transfer_get_flush_batch(PorchTransfer *t)
{
    if (t->batch->len == 0)
        return;
    {
        PorchTransferJob *first = g_ptr_array_index(t->batch, 0);
        g_autofree char *dir = g_path_get_dirname(first->local);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            syncfs(dfd);
            close(dfd);
        }
    }
    for (guint i = 0; i < t->batch->len; i++) {
        PorchTransferJob *j = g_ptr_array_index(t->batch, i);
        GError *e = NULL;

        if (rename_into_place(j, &e)) {
            porch_transfer_job_done(j);
        } else {
            unlink(j->part);
            porch_transfer_job_fail(j, j->local, e);
        }
    }
    g_ptr_array_set_size(t->batch, 0);
}

static void
get_complete(PorchTransferJob *j)
{
    PorchTransfer *t = j->t;
    /* the file's mode (0: the server did not say) as the umask lets it, and always writable
     * by its new owner: porchd shows a read-only peer its files without write bits, which a
     * copy should not keep */
    mode_t mode = (((j->mode > 0 ? (mode_t)j->mode : 0666) & 0777) & ~t->umask) | 0200;

    if (fchmod(j->fd, mode) != 0 ||
        (j->mtime >= 0 &&
         futimens(j->fd, (struct timespec[2]){{j->mtime, 0}, {j->mtime, 0}}) != 0)) {
        porch_transfer_job_fail(j, j->local, porch_transfer_local_error(errno, NULL));
        return;
    }
    if (j->dfd >= 0) {
        close(j->dfd);
        j->dfd = -1;
    }
    if (j->size >= BIG_FILE && fdatasync(j->fd) != 0) {
        porch_transfer_job_fail(j, j->local, porch_transfer_local_error(errno, NULL));
        return;
    }
    /* the lock stays until NAME.part has its final name (job_close_files() drops it): closing
     * fd, which says whether the data could be written, would drop it */
    if ((j->lock_fd = fcntl(j->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        porch_transfer_job_fail(j, j->local, porch_transfer_local_error(errno, NULL));
        return;
    }
    if (close(j->fd) != 0) {
        j->fd = -1;
        porch_transfer_job_fail(j, j->local, porch_transfer_local_error(errno, NULL));
        return;
    }
    j->fd = -1;
    if (j->size >= BIG_FILE) {
        GError *e = NULL;
        if (rename_into_place(j, &e))
            porch_transfer_job_done(j);
        else
            porch_transfer_job_fail(j, j->local, e);
        return;
    }
    j->state = JOB_FINISHING;
    g_ptr_array_add(t->batch, j);
    if (t->batch->len >= BATCH)
        porch_transfer_get_flush_batch(t);
}

static void
on_get_fstat(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;
    PorchRemoteFile f = {0};

    (void)c;
    if (porch_transfer_req_live(q)) {
        GError *e = NULL;
        if (type == SSH_FXP_STATUS) {
            porch_reply_status_ok(type, r, j->remote, &e);
            porch_transfer_job_fail(
                    j, j->remote,
                    e ? e : g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, "fstat"));
        } else if (type != SSH_FXP_ATTRS || !porch_get_attrs(r, &f)) {
            porch_transfer_job_fail(j, j->remote,
                                    g_error_new_literal(PORCH_CLIENT_ERROR,
                                                        PORCH_CLIENT_ERROR_PROTOCOL,
                                                        "malformed attributes"));
        } else if (f.size != j->size || (j->mtime >= 0 && f.mtime != j->mtime)) {
            porch_transfer_job_fail(
                    j, j->remote,
                    g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_CHANGED,
                                        "changed while it was being fetched; fetch it again"));
        } else {
            get_complete(j);
        }
    }
    porch_transfer_req_done(q);
}

/* Every range matched: one last FSTAT to see the file did not change since it was listed. */
static void
get_reads_verified(PorchTransferJob *j)
{
    j->state = JOB_FINISHING;
    porch_client_send(j->t->c, SSH_FXP_FSTAT, j->handle, NULL, 0, on_get_fstat,
                      porch_transfer_req_new(j, 0, 0, 0));
    porch_transfer_job_send_close(j);
}

static void
verify_get_range(PorchTransferJob *j, guint64 k)
{
    PorchTransferRange *rg = porch_transfer_job_range(j, k);
    guint8 digest[PORCH_SHA256_LEN];
    GError *e = NULL;

    if (rg->hashed == rg->len) {
        porch_sha256_finish(rg->sha, digest);
    } else if (!porch_transfer_hash_local(j->fd, rg->start, rg->len, digest, &e)) {
        porch_transfer_job_fail(j, j->local, e);
        return;
    }
    if (memcmp(digest, rg->server, sizeof digest) != 0) {
        porch_transfer_job_fail(
                j, j->remote,
                g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_VERIFY,
                            "the data received (bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                            ") does not match the server's SHA-256; nothing was kept",
                            rg->start, rg->start + rg->len));
        return;
    }
    rg->verified = TRUE;
    /* a big file is made durable before it gets its name: start writing this range to disk
     * now, so that the fdatasync at the end waits for the last range only */
    if (j->size >= BIG_FILE)
        sync_file_range(j->fd, (off_t)rg->start, (off_t)rg->len, SYNC_FILE_RANGE_WRITE);
    if (porch_transfer_job_ranges_verified(j))
        get_reads_verified(j);
}

static void
on_get_range_check(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;

    (void)c;
    if (porch_transfer_req_live(q) && porch_transfer_range_check_reply(q, type, r))
        verify_get_range(j, q->range);
    porch_transfer_req_done(q);
}

static void issue_read(PorchTransferJob *j, guint64 offset, guint32 len);

/* Writes received data at @offset of NAME.part: 0, or an errno.
 *
 * A big file's aligned pieces (all but an odd tail) go through j->dfd, opened with O_DIRECT
 * where the file system suits it (porch-direct-io.h says why): from the network straight to
 * the disk, without the page cache (measured: OpenSSH's sftp takes 3.0 s to /dev/null,
 * 4.6-5.7 s to a file), and the fdatasync before the rename then has nothing left to wait
 * for. */
static int
write_local(PorchTransferJob *j, const guint8 *d, gsize n, guint64 offset)
{
    if (j->dfd >= 0 && porch_direct_aligned(d, n, offset)) {
        if (porch_direct_write(j->dfd, d, n, offset, j->part))
            return 0;
        close(j->dfd);
        j->dfd = -1;
    }
    return porch_write_at(j->fd, d, n, offset);
}

/* The writer thread (get): a big file's data is written and hashed there, while this
 * thread goes on receiving. In one thread, receiving (recv, AES-GCM, libssh's copies: two
 * thirds of the time) and writing plus SHA-256 (the rest) took turns while the second core
 * idled. Pieces are written in the order they arrived; one that continues its range's data
 * in order is also added to the range's hash there. Everything else about a piece
 * (accounting, verifying, failing) happens in this thread, in piece_done(). At most
 * WRITER_PIECES pieces are with the writer (porch-transfer-private.h). */
typedef struct {
    PorchTransferJob *job; /* a reference */
    guint64 offset;
    guint32 n;
    guint64 range;
    PorchSha256 *sha; /* the range's hash when the piece continues it in order, else NULL */
    guint8 *buf;      /* a sink buffer: the data is at buf + PORCH_SINK_DATA, page-aligned */
    int err;
} Piece;

static Piece writer_stop;

static gpointer
writer_main(gpointer data)
{
    PorchTransfer *t = data;
    Piece *p;

    while ((p = g_async_queue_pop(t->to_write)) != &writer_stop) {
        p->err = write_local(p->job, p->buf + PORCH_SINK_DATA, p->n, p->offset);
        if (p->err == 0 && p->sha != NULL)
            porch_sha256_update(p->sha, p->buf + PORCH_SINK_DATA, p->n);
        g_async_queue_push(t->written, p);
    }
    return NULL;
}

static void
piece_done(PorchTransfer *t, Piece *p)
{
    PorchTransferJob *j = p->job;

    t->pieces_out--;
    j->pieces--;
    if (porch_transfer_req_live(&(PorchTransferReq){.job = j})) {
        PorchTransferRange *rg = porch_transfer_job_range(j, p->range);
        if (p->err != 0) {
            porch_transfer_job_fail(j, j->local, porch_transfer_local_error(p->err, NULL));
        } else {
            if (p->sha != NULL)
                rg->hashed += p->n;
            rg->filled += p->n;
            j->filled += p->n;
            t->p.done_bytes += p->n;
            if (rg->filled == rg->len && rg->have_server)
                verify_get_range(j, p->range);
            porch_transfer_progress(t, j, FALSE);
        }
    }
    g_ptr_array_add(t->spare, p->buf);
    g_free(p);
    porch_transfer_job_unref(j);
}

/* Takes the pieces the writer is done with, waiting for one when @wait; TRUE if any. */
gboolean
porch_transfer_get_pieces_collect(PorchTransfer *t, gboolean wait)
{
    Piece *p;
    gboolean any = FALSE;

    if (t->pieces_out == 0)
        return FALSE;
    if (wait) {
        piece_done(t, g_async_queue_pop(t->written));
        any = TRUE;
    }
    while ((p = g_async_queue_try_pop(t->written)) != NULL) {
        piece_done(t, p);
        any = TRUE;
    }
    return any;
}

/* Hands @n bytes of data at @offset of @j's range @range to the writer thread. */
static void
piece_queue(PorchTransferJob *j, guint64 range, guint64 offset, const guint8 *d, guint32 n)
{
    PorchTransfer *t = j->t;
    PorchTransferRange *rg = porch_transfer_job_range(j, range);
    Piece *p = g_new0(Piece, 1);
    guint8 *spare;

    if (t->writer == NULL) {
        t->to_write = g_async_queue_new();
        t->written = g_async_queue_new();
        t->spare = g_ptr_array_new_with_free_func(g_aligned_free);
        t->writer = g_thread_new("porch-writer", writer_main, t);
    }
    p->job = j;
    p->offset = offset;
    p->n = n;
    p->range = range;
    if (offset == rg->start + rg->hash_next) {
        p->sha = rg->sha;
        rg->hash_next += n;
    }
    /* the data is in the sink (a big reply): the piece takes it, and leaves a spare buffer
     * in its place; else it is copied */
    spare = t->spare->len > 0 ? g_ptr_array_steal_index_fast(t->spare, t->spare->len - 1) : NULL;
    p->buf = porch_client_take_sink(t->c, d, spare);
    if (p->buf == NULL) {
        p->buf = spare != NULL ? spare : porch_sink_buffer_new();
        memcpy(p->buf + PORCH_SINK_DATA, d, n);
    }
    j->refs++;
    j->pieces++;
    t->pieces_out++;
    g_async_queue_push(t->to_write, p);
}

/* Stops the writer thread once it wrote what it has; the pieces' jobs may be gone
 * (porch_transfer_abandon()), so the pieces are only freed. */
void
porch_transfer_get_writer_end(PorchTransfer *t)
{
    Piece *p;

    if (t->writer == NULL)
        return;
    g_async_queue_push(t->to_write, &writer_stop);
    g_thread_join(t->writer);
    t->writer = NULL;
    while ((p = g_async_queue_try_pop(t->written)) != NULL) {
        g_aligned_free(p->buf);
        g_free(p);
    }
    g_async_queue_unref(t->to_write);
    g_async_queue_unref(t->written);
    g_ptr_array_unref(t->spare);
    t->pieces_out = 0;
}

static void
on_get_data(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;
    PorchTransfer *t = j->t;

    (void)c;
    t->reqs--;
    t->bytes_in_flight -= q->len;
    if (porch_transfer_req_live(q)) {
        const guint8 *d;
        guint32 n;
        PorchTransferRange *rg = porch_transfer_job_range(j, q->range);

        if (type == SSH_FXP_STATUS) {
            guint32 code = 0;
            GError *e = NULL;
            PorchWireReader r2 = *r;
            if (porch_wire_get_u32(&r2, &code) && code == SSH_FX_EOF)
                e = g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_CHANGED,
                                        "shrank while it was being fetched; fetch it again");
            else if (porch_reply_status_ok(type, r, j->remote, &e))
                e = g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL, "no data");
            porch_transfer_job_fail(j, j->remote, e);
        } else if (type != SSH_FXP_DATA || !porch_wire_get_string(r, &d, &n) || n > q->len ||
                   (n == 0 && q->len > 0)) {
            porch_transfer_job_fail(j, j->remote,
                                    g_error_new_literal(PORCH_CLIENT_ERROR,
                                                        PORCH_CLIENT_ERROR_PROTOCOL,
                                                        "a malformed DATA reply"));
        } else if (j->size >= BIG_FILE) {
            piece_queue(j, q->range, q->offset, d, n);
            if (n < q->len) /* a short read: ask for the rest */
                issue_read(j, q->offset + n, q->len - n);
        } else {
            int err = write_local(j, d, n, q->offset);
            if (err != 0) {
                porch_transfer_job_fail(j, j->local, porch_transfer_local_error(err, NULL));
            } else {
                if (q->offset == rg->start + rg->hash_next) {
                    porch_sha256_update(rg->sha, d, n);
                    rg->hash_next += n;
                    rg->hashed += n;
                }
                rg->filled += n;
                j->filled += n;
                t->p.done_bytes += n;
                if (n < q->len) /* a short read: ask for the rest */
                    issue_read(j, q->offset + n, q->len - n);
                else if (rg->filled == rg->len && rg->have_server)
                    verify_get_range(j, q->range);
                porch_transfer_progress(t, j, FALSE);
            }
        }
    }
    porch_transfer_req_done(q);
}

static void
issue_read(PorchTransferJob *j, guint64 offset, guint32 len)
{
    PorchTransfer *t = j->t;
    g_autoptr(GByteArray) b = g_byte_array_sized_new(j->handle->len + 12);
    guint64 range = porch_transfer_job_range_of(j, offset);

    g_byte_array_append(b, j->handle->data, j->handle->len);
    porch_wire_put_u64(b, offset);
    porch_wire_put_u32(b, len);
    t->reqs++;
    t->bytes_in_flight += len;
    porch_client_send(t->c, SSH_FXP_READ, b, NULL, 0, on_get_data,
                      porch_transfer_req_new(j, offset, len, range));
}

/* Issues the next READ of @j (and the range's check when it was the range's last). */
gboolean
porch_transfer_get_issue(PorchTransferJob *j)
{
    PorchTransfer *t = j->t;
    guint64 range, start, end;
    PorchTransferRange *rg;
    guint32 len;

    if (j->state != JOB_DATA || j->next >= j->size ||
        (rg = porch_transfer_job_next_range(j)) == NULL)
        return FALSE;
    range = porch_transfer_job_range_of(j, j->next);
    start = rg->start;
    end = rg->start + rg->len;
    len = (guint32)MIN((guint64)t->c->max_read, end - j->next);
    issue_read(j, j->next, len);
    j->next += len;
    if (j->next == end)
        porch_transfer_job_send_check(j, start, end - start, range, on_get_range_check);
    return TRUE;
}

static char *format_size(guint64 bytes);

/* "another porch is fetching NAME into DIR": @j's NAME.part is locked by another fetch */
static GError *
busy_error(PorchTransferJob *j)
{
    g_autofree char *dir = g_path_get_dirname(j->local);
    g_autofree char *name = g_path_get_basename(j->local);

    return g_error_new(G_IO_ERROR, G_IO_ERROR_BUSY, "another porch is fetching %s into %s", name,
                       dir);
}

/* Opens @j's NAME.part (made when it is missing) as j->fd and locks all of it, before anything
 * reads or writes it. FALSE with @error: G_IO_ERROR_BUSY (busy_error()) when another fetch
 * holds it. */
static gboolean
part_open_locked(PorchTransferJob *j, GError **error)
{
    for (guint tries = 0; tries < 3; tries++) {
        struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        struct stat held, named;
        int fd = open(j->part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0) {
            g_propagate_error(error, porch_transfer_local_error(errno, NULL));
            return FALSE;
        }
        if (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
            int e = errno;
            close(fd);
            g_propagate_error(error, e == EAGAIN || e == EACCES
                                             ? busy_error(j)
                                             : porch_transfer_local_error(e, NULL));
            return FALSE;
        }
        /* The file locked must still be NAME.part: the fetch that held it may have renamed it
         * to NAME (or set it aside) and let go of it meanwhile. */
        if (fstat(fd, &held) == 0 && lstat(j->part, &named) == 0 && held.st_dev == named.st_dev &&
            held.st_ino == named.st_ino) {
            j->fd = fd;
            return TRUE;
        }
        close(fd);
    }
    g_propagate_error(error, busy_error(j));
    return FALSE;
}

/* Fails @j (told as a failure of NAME.part when @of_part, else of NAME), leaving NAME.part
 * where it is: another fetch's, or not to be removed. */
static void
part_fail_keep(PorchTransferJob *j, gboolean of_part, GError *e)
{
    g_autofree char *part = g_steal_pointer(&j->part);
    porch_transfer_job_fail(j, of_part ? part : j->local, e);
}

/* Renames @j's NAME.part (locked, as j->fd) to the first free NAME.part.N, never over a file,
 * says so (@why it is), and starts a new NAME.part, locked. FALSE when @j failed. */
static gboolean
part_set_aside(PorchTransferJob *j, const char *why)
{
    g_autofree char *aside = NULL;
    int e = EEXIST;

    for (guint n = 1; n <= SET_ASIDE_MAX && e == EEXIST; n++) {
        g_free(aside);
        aside = g_strdup_printf("%s.%u", j->part, n);
        if (renameat2(AT_FDCWD, j->part, AT_FDCWD, aside, RENAME_NOREPLACE) == 0 ||
            (errno == EINVAL && link(j->part, aside) == 0 && unlink(j->part) == 0))
            e = 0;
        else
            e = errno;
    }
    if (e != 0) {
        part_fail_keep(j, TRUE, porch_transfer_local_error(e, "cannot set it aside"));
        return FALSE;
    }
    {
        g_autofree char *base = g_path_get_basename(aside);
        porch_transfer_notice(j->t, j->part, "%s; kept as %s, fetching the file whole", why, base);
    }
    close(j->fd); /* and its lock: it is not NAME.part any more */
    j->fd = -1;
    {
        GError *err = NULL;
        if (!part_open_locked(j, &err)) {
            part_fail_keep(j, FALSE, err);
            return FALSE;
        }
    }
    return TRUE;
}

static void
get_begin_data(PorchTransferJob *j, guint64 from)
{
    PorchTransfer *t = j->t;

    if (j->size >= BIG_FILE)
        j->dfd = porch_direct_open(j->fd, j->part);
    t->p.done_bytes += from;
    porch_transfer_job_ranges_begin(j, from);
    j->state = JOB_DATA;
    if (porch_transfer_job_ranges_verified(j))
        get_reads_verified(j);
}

static void
on_resume_check(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;

    (void)c;
    if (porch_transfer_req_live(q)) {
        guint8 server[PORCH_SHA256_LEN], mine[PORCH_SHA256_LEN];
        GError *e = NULL;
        guint64 have = j->check_existing ? j->size : j->resume_at;

        if (!porch_parse_check_file(type, r, server, j->remote, &e)) {
            porch_transfer_job_fail(j, j->remote, e);
        } else if (!porch_transfer_hash_local(j->fd, 0, have, mine, &e)) {
            porch_transfer_job_fail(j, j->check_existing ? j->local : j->part, e);
        } else if (j->check_existing) {
            if (memcmp(server, mine, sizeof mine) == 0) {
                porch_transfer_notice(j->t, j->local, "already here and identical; kept");
                j->t->p.done_bytes += j->size;
                porch_transfer_job_send_close(j);
                porch_transfer_job_done(j);
            } else {
                porch_transfer_job_fail(
                        j, j->local,
                        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_EXISTS,
                                            "exists and differs (use --force to replace it)"));
            }
        } else if (memcmp(server, mine, sizeof mine) == 0) {
            g_autofree char *at = format_size(have);
            porch_transfer_notice(j->t, j->local,
                                  "resuming at %s: the %" G_GUINT64_FORMAT
                                  " bytes already here match the neighbour's file",
                                  at, have);
            get_begin_data(j, have);
        } else if (part_set_aside(j, "does not match the neighbour's file")) {
            get_begin_data(j, 0);
        }
    }
    porch_transfer_req_done(q);
}

static void
on_get_open(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;

    (void)c;
    if (!porch_transfer_req_live(q)) {
        porch_transfer_job_drop_late_handle(j, type, r);
    } else {
        GError *e = NULL;
        if (!porch_transfer_job_store_handle(j, type, r, j->remote, &e)) {
            porch_transfer_job_fail(j, j->remote, e);
        } else if (j->check_existing || j->resume_at > 0) {
            porch_transfer_job_send_check(j, 0, j->check_existing ? j->size : j->resume_at, 0,
                                          on_resume_check);
        } else {
            get_begin_data(j, 0);
        }
    }
    porch_transfer_req_done(q);
}

/* @a * @b, or G_MAXUINT64 when that does not fit */
static guint64
mul_sat(guint64 a, guint64 b)
{
    return b != 0 && a > G_MAXUINT64 / b ? G_MAXUINT64 : a * b;
}

/* "8.0 TiB": the units of porch's progress line, with a plain space */
static char *
format_size(guint64 bytes)
{
    g_autofree char *s = g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
    g_auto(GStrv) parts = g_strsplit(s, "\u00a0", -1);
    return g_strjoinv(" ", parts);
}

/* The mount point of the file system that @path (an existing folder) is on, for messages. */
static char *
mount_point(const char *path)
{
    g_autofree char *p = realpath(path, NULL);
    struct stat st, up;

    if (p == NULL || stat(p, &st) != 0)
        return g_strdup(path);
    for (;;) {
        g_autofree char *parent = g_path_get_dirname(p);
        if (strcmp(parent, p) == 0 || stat(parent, &up) != 0 || up.st_dev != st.st_dev)
            return g_steal_pointer(&p);
        g_free(p);
        p = g_steal_pointer(&parent);
    }
}

/* Whether the destination's file system has room for what @j still needs (its size but the
 * @have bytes of NAME.part it resumes) and for what the other files in flight still need:
 * FALSE with @error (G_IO_ERROR_NO_SPACE) when it has not. A size is what the server claims:
 * this is also what stops one that claims more than could ever be stored. */
static gboolean
get_check_space(PorchTransferJob *j, guint64 have, GError **error)
{
    PorchTransfer *t = j->t;
    g_autofree char *dir = g_path_get_dirname(j->local);
    guint64 need = j->size - have, others = 0, avail;
    struct statvfs sv;

    for (GList *l = t->active.head; l != NULL; l = l->next) {
        PorchTransferJob *o = l->data;
        if (o == j || o->check_existing)
            continue;
        if (o->state == JOB_OPENING)
            others = add_sat(others, o->size - o->resume_at);
        else if (o->state == JOB_DATA)
            others = add_sat(others, o->size - MIN(o->size, o->from + o->filled));
    }
    if (need == 0 || statvfs(dir, &sv) != 0)
        return TRUE;
    avail = mul_sat(sv.f_bavail, sv.f_frsize);
    if (add_sat(need, others) <= avail)
        return TRUE;
    {
        g_autofree char *n = format_size(add_sat(need, others));
        g_autofree char *a = format_size(avail);
        g_autofree char *m = mount_point(dir);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "needs %s%s, %s free on %s", n,
                    others > 0 ? " with the files in flight" : "", a, m);
    }
    return FALSE;
}

void
porch_transfer_get_start(PorchTransferJob *j)
{
    PorchTransfer *t = j->t;
    struct stat st;
    g_autoptr(GByteArray) b = g_byte_array_new();

    j->state = JOB_OPENING;
    if (lstat(j->local, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            porch_transfer_job_fail(
                    j, j->local,
                    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "is a folder"));
            return;
        }
        if (!(t->flags & PORCH_TRANSFER_FORCE)) {
            if ((t->flags & PORCH_TRANSFER_RESUME) && S_ISREG(st.st_mode) &&
                (guint64)st.st_size == j->size) {
                j->check_existing = TRUE;
                j->fd = open(j->local, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (j->fd < 0) {
                    porch_transfer_job_fail(j, j->local, porch_transfer_local_error(errno, NULL));
                    return;
                }
            } else {
                porch_transfer_job_fail(j, j->local,
                                        g_error_new_literal(G_IO_ERROR, G_IO_ERROR_EXISTS,
                                                            "exists (use --force to replace it)"));
                return;
            }
        }
    }
    if (!j->check_existing) {
        guint64 have = 0;
        const char *aside = NULL;
        GError *e = NULL;

        j->part = g_strconcat(j->local, ".part", NULL);
        if ((t->flags & PORCH_TRANSFER_RESUME) && lstat(j->part, &st) == 0 && S_ISREG(st.st_mode) &&
            (guint64)st.st_size <= j->size)
            have = (guint64)st.st_size;
        if (!get_check_space(j, have, &e) || !part_open_locked(j, &e)) {
            part_fail_keep(j, FALSE, e); /* not touched: not removed either */
            return;
        }
        if (fstat(j->fd, &st) != 0) {
            part_fail_keep(j, TRUE, porch_transfer_local_error(errno, NULL));
            return;
        }
        if (st.st_size > 0 && !(t->flags & PORCH_TRANSFER_RESUME))
            aside = "was there already and is not resumed";
        else if (st.st_size > 0 && (guint64)st.st_size > j->size)
            aside = "is longer than the neighbour's file";
        else
            j->resume_at = (guint64)st.st_size;
        if (aside != NULL && !part_set_aside(j, aside))
            return;
    }
    porch_wire_put_cstring(b, j->remote);
    porch_wire_put_u32(b, SSH_FXF_READ);
    porch_wire_put_u32(b, 0);
    porch_client_send(t->c, SSH_FXP_OPEN, b, NULL, 0, on_get_open,
                      porch_transfer_req_new(j, 0, 0, 0));
}

/* ---- get: the walk ----------------------------------------------------------------------- */

/* Whether a name from a listing can be made here: FALSE, told as a failure of @path, when it
 * is longer than NAME_MAX ('/' and NUL never come: porch_parse_names() refuses them). */
static gboolean
get_name_ok(PorchTransfer *t, const char *path, const char *name)
{
    if (strlen(name) <= NAME_MAX)
        return TRUE;
    porch_transfer_report_failure_take(
            t, path,
            g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                        "a name of %" G_GSIZE_FORMAT
                        " bytes, longer than a file name can be here (%d): "
                        "not fetched",
                        strlen(name), NAME_MAX));
    return FALSE;
}

/* A file the server listed (or stat'ed) becomes a job, unless its size is one no file can
 * have: every offset and sum of the transfer stays below 2^64. */
static void
get_add(PorchTransfer *t, PorchTransferDir *dir, const char *remote, const char *local,
        const PorchRemoteFile *f)
{
    PorchTransferJob *j;

    if (f->size > (guint64)G_MAXINT64) {
        porch_transfer_report_failure_take(
                t, remote,
                g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_LIMIT,
                            "the neighbour claims a size of %" G_GUINT64_FORMAT
                            " bytes, more than a file can have: not fetched",
                            f->size));
        return;
    }
    j = porch_transfer_job_new(t, remote, local, f->size, (gint)f->mode, f->mtime);
    if (dir != NULL) {
        j->dir = dir;
        dir->refs++;
    }
}

/* The walk holds the names of the folders it has listed but not entered: within the bounds
 * of one listing, whatever the depth. */
static gboolean
hold_name(PorchTransfer *t, const char *remote, const char *name)
{
    if (t->held_entries < PORCH_LIST_MAX_ENTRIES &&
        t->held_bytes + strlen(name) <= PORCH_LIST_MAX_NAME_BYTES) {
        t->held_entries++;
        t->held_bytes += strlen(name);
        return TRUE;
    }
    porch_transfer_report_failure_take(
            t, remote,
            g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_LIMIT,
                        "more than %u folders listed and not fetched yet: not "
                        "fetched",
                        PORCH_LIST_MAX_ENTRIES));
    return FALSE;
}

static gboolean
get_tree(PorchTransfer *t, PorchTransferDir *parent, const char *remote, const char *local,
         const PorchRemoteFile *top, guint depth, GError **fatal)
{
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GPtrArray) refused = NULL;
    g_autoptr(GPtrArray) subdirs = NULL;
    GError *e = NULL;
    PorchTransferDir *d;
    gboolean ok = TRUE;

    if (depth > PORCH_GET_MAX_DEPTH) {
        porch_transfer_report_failure_take(
                t, remote,
                g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_LIMIT,
                            "folders nested more than %u deep: not fetched", PORCH_GET_MAX_DEPTH));
        return TRUE;
    }
    if (mkdir(local, 0700) == 0) {
        /* a folder made here: it gets the remote one's mode and time when it is complete */
        d = dir_new(t, parent, local, top->mode ? (gint)top->mode : 0777, top->mtime);
    } else {
        struct stat st;
        if (errno != EEXIST || stat(local, &st) != 0 || !S_ISDIR(st.st_mode)) {
            porch_transfer_report_failure_take(
                    t, local, porch_transfer_local_error(errno == EEXIST ? ENOTDIR : errno, NULL));
            return TRUE;
        }
        d = dir_new(t, parent, local, -1, -1); /* one that was here stays as it is */
    }

    list = porch_client_list_full(t->c, remote, &refused, t->cancellable, &e);
    if (list == NULL) {
        if (t->c->fatal != NULL || g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            *fatal = e;
            porch_transfer_dir_unref(d);
            return FALSE;
        }
        porch_transfer_report_failure(t, remote, e);
        g_error_free(e);
        porch_transfer_dir_unref(d);
        return TRUE;
    }
    for (guint i = 0; i < refused->len; i++) {
        const PorchRemoteFile *f = g_ptr_array_index(refused, i);
        g_autofree char *r = porch_transfer_join_remote(remote, f->name);
        porch_transfer_report_failure_take(
                t, r,
                g_error_new_literal(G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                                    f->name[0] == '\0'
                                            ? "the neighbour listed an empty name: not fetched"
                                            : "the neighbour listed a name holding '/' or a NUL "
                                              "byte: not fetched"));
    }
    subdirs = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
    for (guint i = 0; ok && i < list->len; i++) {
        PorchRemoteFile *f = g_ptr_array_index(list, i);
        g_autofree char *r = porch_transfer_join_remote(remote, f->name);

        if (f->type != PORCH_REMOTE_FILE && f->type != PORCH_REMOTE_DIRECTORY) {
            porch_transfer_notice(t, r, "not a regular file or folder: skipped");
        } else if (!get_name_ok(t, r, f->name)) {
            continue;
        } else if (f->type == PORCH_REMOTE_DIRECTORY) {
            if (hold_name(t, r, f->name)) /* moved from the listing, which goes */
                g_ptr_array_add(subdirs, g_steal_pointer(&g_ptr_array_index(list, i)));
        } else {
            g_autofree char *l = g_build_filename(local, f->name, NULL);
            get_add(t, d, r, l, f);
            /* a folder of many files: fetch while listing, rather than hold them all */
            if (t->waiting.length >= MAX_WAITING_JOBS &&
                !porch_transfer_run(t, MAX_WAITING_JOBS / 2, &e)) {
                *fatal = e;
                ok = FALSE;
            }
        }
    }
    /* only the folders' entries stay, while the walk goes down */
    g_clear_pointer(&list, g_ptr_array_unref);
    if (ok) {
        porch_transfer_schedule(t);
        porch_transfer_progress(t, NULL, FALSE);
    }
    for (guint i = 0; i < subdirs->len; i++) {
        const PorchRemoteFile *f = g_ptr_array_index(subdirs, i);

        t->held_entries--;
        t->held_bytes -= strlen(f->name);
        if (ok) {
            g_autofree char *r = porch_transfer_join_remote(remote, f->name);
            g_autofree char *l = g_build_filename(local, f->name, NULL);
            ok = get_tree(t, d, r, l, f, depth + 1, fatal);
        }
    }
    porch_transfer_dir_unref(d);
    return ok;
}

static char *
remote_basename(const char *remote)
{
    const char *slash = strrchr(remote, '/');
    return g_strdup(slash ? slash + 1 : remote);
}

gboolean
porch_transfer_get(PorchClient *c, const char *remote, const char *local, PorchTransferFlags flags,
                   const PorchTransferCallbacks *cb, GCancellable *cancellable, GError **error)
{
    PorchTransfer t;
    g_autoptr(PorchRemoteFile) top = NULL;
    g_autofree char *name = NULL;
    g_autofree char *target = NULL;
    GError *e = NULL;
    gboolean ok = TRUE;

    g_return_val_if_fail(c != NULL && remote != NULL && local != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    porch_transfer_init(&t, c, FALSE, flags, cb, cancellable);
    if (!c->has_check_file) {
        porch_transfer_report_failure_take(
                &t, remote,
                g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_UNSUPPORTED,
                                    "the server cannot hash files (no check-file): "
                                    "nothing could be verified"));
        return porch_transfer_finish(&t, error, NULL);
    }
    name = remote_basename(remote);
    top = porch_client_stat(c, remote, cancellable, &e);
    if (top == NULL) {
        if (c->fatal != NULL || g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return porch_transfer_finish(&t, error, e);
        porch_transfer_report_failure(&t, remote, e);
        g_error_free(e);
        return porch_transfer_finish(&t, error, NULL);
    }
    if (name[0] == '\0') {
        porch_transfer_report_failure_take(&t, remote,
                                           g_error_new_literal(G_IO_ERROR,
                                                               G_IO_ERROR_INVALID_ARGUMENT,
                                                               "name a share or a file in one"));
        return porch_transfer_finish(&t, error, NULL);
    }
    target = g_file_test(local, G_FILE_TEST_IS_DIR) ? g_build_filename(local, name, NULL)
                                                    : g_strdup(local);
    if (top->type == PORCH_REMOTE_DIRECTORY) {
        if (!(flags & PORCH_TRANSFER_RECURSIVE)) {
            porch_transfer_report_failure_take(&t, remote,
                                               g_error_new_literal(G_IO_ERROR,
                                                                   G_IO_ERROR_IS_DIRECTORY,
                                                                   "is a folder (use -r)"));
            return porch_transfer_finish(&t, error, NULL);
        }
        ok = get_tree(&t, NULL, remote, target, top, 0, &e);
    } else if (top->type == PORCH_REMOTE_FILE) {
        get_add(&t, NULL, remote, target, top);
    } else {
        porch_transfer_report_failure_take(&t, remote,
                                           g_error_new_literal(G_IO_ERROR,
                                                               G_IO_ERROR_NOT_REGULAR_FILE,
                                                               "not a regular file or folder"));
    }
    t.p.listing_done = TRUE;
    if (ok)
        ok = porch_transfer_run(&t, 0, &e);
    if (ok) {
        porch_transfer_get_flush_batch(&t);
    } else {
        porch_transfer_abandon(&t);
    }
    return porch_transfer_finish(&t, error, ok ? NULL : e);
}

/* Whether @fn is one of get's reply callbacks (porch_transfer_abandon() drops their requests). */
gboolean
porch_transfer_get_owns_reply(PorchReplyFunc fn)
{
    static const PorchReplyFunc replies[] = {
            on_get_fstat, on_get_range_check, on_get_data, on_resume_check, on_get_open,
    };

    for (guint i = 0; i < G_N_ELEMENTS(replies); i++)
        if (fn == replies[i])
            return TRUE;
    return FALSE;
}
