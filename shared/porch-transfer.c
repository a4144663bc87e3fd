/* porch-transfer.c — get and put of files and trees, pipelined and verified.
 *
 * A transfer is a set of jobs, one per file, up to MAX_FILES_IN_FLIGHT of them open at once,
 * sharing a budget of data requests in flight (MAX_REQS_IN_FLIGHT, MAX_BYTES_IN_FLIGHT), so
 * that a single large file has many large READs (or WRITEs) in flight and a tree of small
 * files has many files in flight. Each file is cut into ranges of RANGE_SIZE; once a range
 * has been requested (or sent), a check-file-handle request asks the server for the SHA-256
 * of that range, which is compared with ours. Everything is driven by the replies' callbacks
 * (porch-sftp-client-private.h) and by porch_transfer_schedule(), run after each pump of the
 * connection.
 *
 * What a server claims never sizes what the client holds: a file's ranges are made as the
 * transfer reaches them, at most MAX_LIVE_RANGES of them at once (a server that does not
 * answer the checks stalls the file, and times out); a tree's walk lets the transfer run
 * whenever MAX_WAITING_JOBS files wait, and holds only the names of the folders still to be
 * entered, within the bounds of a listing; a folder's mode and time are set once the last
 * file in it is done, so that only the folders in progress are held.
 *
 * This file is the engine that get (porch-transfer-get.c) and put (porch-transfer-put.c)
 * share: jobs, their ranges and requests, the schedule and the loop; what the three files
 * share is declared in porch-transfer-private.h. */
#include "porch-transfer-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILES_IN_FLIGHT 64
#define MAX_REQS_IN_FLIGHT  64
#define MAX_BYTES_IN_FLIGHT (8u << 20)
/* Uploads keep less in flight: a libssh server moves everything still unread in its channel
 * buffer each time a packet arrives, so what is queued there costs copies (1 MiB: 1.37 s for
 * 300 MiB over loopback; 8 MiB: 1.42 s). */
#define MAX_PUT_BYTES_IN_FLIGHT (2u << 20)
#define RANGE_SIZE              (8u << 20)
/* Ranges of a file held at once: data in flight (8 MiB), pieces with the writer (8 MiB) and
 * ranges waiting for their check fit in far fewer */
#define MAX_LIVE_RANGES   8
#define PROGRESS_INTERVAL (50 * G_TIME_SPAN_MILLISECOND)

/* ---- progress and failures ----------------------------------------------------------- */

void
porch_transfer_progress(PorchTransfer *t, PorchTransferJob *j, gboolean force)
{
    gint64 now = g_get_monotonic_time();

    if (t->cb == NULL || t->cb->progress == NULL)
        return;
    if (!force && now - t->last_progress < PROGRESS_INTERVAL)
        return;
    t->last_progress = now;
    if (j != NULL) {
        const char *cur = j->t->upload ? j->local : j->remote;
        if (t->current == NULL || strcmp(t->current, cur) != 0) {
            g_free(t->current);
            t->current = g_strdup(cur);
        }
        t->p.current = t->current;
        t->p.current_size = j->size;
        t->p.current_done = MIN(j->from + j->filled, j->size);
        if (j->state == JOB_DONE && !j->failed)
            t->p.current_done = j->size;
    }
    t->cb->progress(&t->p, t->cb->user_data);
}

void
porch_transfer_notice(PorchTransfer *t, const char *path, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *m = NULL;

    if (t->cb == NULL || t->cb->notice == NULL)
        return;
    va_start(ap, fmt);
    m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    t->cb->notice(path, m, t->cb->user_data);
}

void
porch_transfer_report_failure(PorchTransfer *t, const char *path, const GError *e)
{
    t->p.failed_files++;
    if (t->cb != NULL && t->cb->failed != NULL)
        t->cb->failed(path, e, t->cb->user_data);
}

/* The same for an error made for it, which it frees. */
void
porch_transfer_report_failure_take(PorchTransfer *t, const char *path, GError *e)
{
    porch_transfer_report_failure(t, path, e);
    g_error_free(e);
}

GError *
porch_transfer_local_error(int e, const char *what)
{
    if (what != NULL)
        return g_error_new(G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", what, g_strerror(e));
    return g_error_new(G_IO_ERROR, g_io_error_from_errno(e), "%s", g_strerror(e));
}

/* The process's umask, from /proc/self/status: umask() would change it for a moment, which
 * porch-tray's other threads could see. 022 when it cannot be read. */
static mode_t
process_umask(void)
{
    g_autofree char *status = NULL;
    const char *line;

    if (g_file_get_contents("/proc/self/status", &status, NULL, NULL) &&
        (line = strstr(status, "\nUmask:")) != NULL) {
        char *end;
        guint64 v = g_ascii_strtoull(line + 7, &end, 8);
        if (end != line + 7)
            return (mode_t)(v & 0777);
    }
    return 022;
}

/* ---- jobs ----------------------------------------------------------------------------- */

PorchTransferJob *
porch_transfer_job_new(PorchTransfer *t, const char *remote, const char *local, guint64 size,
                       gint mode, gint64 mtime)
{
    PorchTransferJob *j = g_new0(PorchTransferJob, 1);

    j->t = t;
    j->remote = g_strdup(remote);
    j->local = g_strdup(local);
    j->size = size;
    j->mode = mode;
    j->mtime = mtime;
    j->fd = -1;
    j->dfd = -1;
    j->lock_fd = -1;
    j->refs = 1;
    j->ranges = g_array_sized_new(FALSE, TRUE, sizeof(PorchTransferRange), MAX_LIVE_RANGES);
    t->p.total_files++;
    t->p.total_bytes = add_sat(t->p.total_bytes, size);
    g_queue_push_tail(&t->waiting, j);
    return j;
}

static void
job_close_files(PorchTransferJob *j)
{
    if (j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
    }
    if (j->dfd >= 0) {
        close(j->dfd);
        j->dfd = -1;
    }
    if (j->lock_fd >= 0) {
        close(j->lock_fd);
        j->lock_fd = -1;
    }
}

static void
job_free(PorchTransferJob *j)
{
    for (guint i = 0; i < j->ranges->len; i++)
        g_clear_pointer(&g_array_index(j->ranges, PorchTransferRange, i).sha, porch_sha256_free);
    g_array_unref(j->ranges);
    job_close_files(j);
    if (j->handle != NULL)
        g_byte_array_unref(j->handle);
    g_free(j->remote);
    g_free(j->local);
    g_free(j->part);
    porch_transfer_dir_unref(j->dir);
    g_free(j);
}

void
porch_transfer_job_unref(PorchTransferJob *j)
{
    if (--j->refs > 0)
        return;
    g_queue_remove(&j->t->active, j);
    job_free(j);
}

/* The job is over (done or failed): it leaves the active set once its replies are in. */
void
porch_transfer_job_end(PorchTransferJob *j)
{
    if (j->state == JOB_DONE)
        return;
    j->state = JOB_DONE;
    porch_transfer_job_unref(j);
}

void
porch_transfer_job_send_close(PorchTransferJob *j)
{
    if (j->handle == NULL)
        return;
    porch_client_send(j->t->c, SSH_FXP_CLOSE, j->handle, NULL, 0, NULL, NULL);
    g_clear_pointer(&j->handle, g_byte_array_unref);
}

static void on_cleanup(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data);

/* A file failed: told once, its leftovers removed (a NAME.part is kept only when a resume
 * can use it), and the transfer goes on. */
void
porch_transfer_job_fail(PorchTransferJob *j, const char *path, GError *e)
{
    PorchTransfer *t = j->t;

    if (j->failed || j->state == JOB_DONE) {
        g_error_free(e);
        return;
    }
    j->failed = TRUE;
    porch_transfer_report_failure(t, path, e);
    porch_transfer_job_send_close(j);
    if (t->upload) {
        if (j->temp_made) {
            /* the transfer waits for this reply: the file must be gone before it ends */
            g_autoptr(GByteArray) b = g_byte_array_new();
            porch_wire_put_cstring(b, j->part);
            porch_client_send(t->c, SSH_FXP_REMOVE, b, NULL, 0, on_cleanup,
                              porch_transfer_req_new(j, 0, 0, 0));
        }
    } else if (j->part != NULL && !j->check_existing) {
        gboolean keep = g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
                        g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        if (!keep)
            unlink(j->part);
    }
    if (j->pieces == 0) /* else the writer thread still uses them: job_free() closes them */
        job_close_files(j);
    g_error_free(e);
    porch_transfer_job_end(j);
}

PorchTransferReq *
porch_transfer_req_new(PorchTransferJob *j, guint64 offset, guint32 len, guint64 range)
{
    PorchTransferReq *r = g_new(PorchTransferReq, 1);

    r->job = j;
    r->offset = offset;
    r->len = len;
    r->range = range;
    j->refs++;
    return r;
}

/* Ends a request's callback: FALSE when its job is over and the reply is to be ignored. */
gboolean
porch_transfer_req_live(PorchTransferReq *r)
{
    return !r->job->failed && r->job->state != JOB_DONE;
}

void
porch_transfer_req_done(PorchTransferReq *r)
{
    porch_transfer_job_unref(r->job);
    g_free(r);
}

static void
on_cleanup(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    (void)c;
    (void)type;
    (void)r;
    porch_transfer_req_done(data);
}

/* The data starts at @from: no range is made yet (a size is what the server claims). */
void
porch_transfer_job_ranges_begin(PorchTransferJob *j, guint64 from)
{
    for (guint i = 0; i < j->ranges->len; i++)
        g_clear_pointer(&g_array_index(j->ranges, PorchTransferRange, i).sha, porch_sha256_free);
    g_array_set_size(j->ranges, 0);
    j->from = from;
    j->next = from;
    j->filled = 0;
    j->range_base = 0;
}

/* The live range number @k. */
PorchTransferRange *
porch_transfer_job_range(PorchTransferJob *j, guint64 k)
{
    g_assert(k >= j->range_base && k - j->range_base < j->ranges->len);
    return &g_array_index(j->ranges, PorchTransferRange, (guint)(k - j->range_base));
}

/* The number of the range that holds @offset. */
guint64
porch_transfer_job_range_of(PorchTransferJob *j, guint64 offset)
{
    return (offset - j->from) / RANGE_SIZE;
}

/* The range that j->next is in, made when the transfer reaches it; NULL when MAX_LIVE_RANGES
 * are live (those before must be verified first). */
PorchTransferRange *
porch_transfer_job_next_range(PorchTransferJob *j)
{
    guint64 k = porch_transfer_job_range_of(j, j->next);
    PorchTransferRange r = {0};

    if (k < j->range_base + j->ranges->len)
        return porch_transfer_job_range(j, k);
    if (j->ranges->len >= MAX_LIVE_RANGES)
        return NULL;
    g_assert(k == j->range_base + j->ranges->len);
    r.start = j->from + k * RANGE_SIZE;
    r.len = MIN(RANGE_SIZE, j->size - r.start);
    r.sha = porch_sha256_new();
    g_array_append_val(j->ranges, r);
    return porch_transfer_job_range(j, k);
}

/* Drops the verified ranges at the front; TRUE when every range of the file is verified. */
gboolean
porch_transfer_job_ranges_verified(PorchTransferJob *j)
{
    while (j->ranges->len > 0 && g_array_index(j->ranges, PorchTransferRange, 0).verified) {
        g_clear_pointer(&g_array_index(j->ranges, PorchTransferRange, 0).sha, porch_sha256_free);
        g_array_remove_index(j->ranges, 0);
        j->range_base++;
    }
    /* sizes are below 2^63 (get_add()): no sum here wraps */
    return j->ranges->len == 0 && j->from + j->range_base * RANGE_SIZE >= j->size;
}

/* Takes the check-file reply of range q->range: keeps the server's hash of it. TRUE when the
 * range is now complete on both sides, to be compared; FALSE when it is not yet, or the reply
 * was bad (the job failed). */
gboolean
porch_transfer_range_check_reply(PorchTransferReq *q, guint8 type, PorchWireReader *r)
{
    PorchTransferJob *j = q->job;
    PorchTransferRange *rg = porch_transfer_job_range(j, q->range);
    GError *e = NULL;

    if (!porch_parse_check_file(type, r, rg->server, j->remote, &e)) {
        porch_transfer_job_fail(j, j->remote, e);
        return FALSE;
    }
    rg->have_server = TRUE;
    return rg->filled == rg->len;
}

void
porch_transfer_job_send_check(PorchTransferJob *j, guint64 start, guint64 len, guint64 range,
                              PorchReplyFunc fn)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    porch_wire_put_cstring(b, PORCH_WIRE_EXT_CHECK_FILE_HANDLE);
    g_byte_array_append(b, j->handle->data, j->handle->len);
    porch_wire_put_cstring(b, PORCH_WIRE_CHECK_FILE_SHA256);
    porch_wire_put_u64(b, start);
    porch_wire_put_u64(b, len);
    porch_wire_put_u32(b, 0);
    porch_client_send(j->t->c, SSH_FXP_EXTENDED, b, NULL, 0, fn,
                      porch_transfer_req_new(j, start, 0, range));
}

/* SHA-256 of @len bytes of @fd from @start. */
gboolean
porch_transfer_hash_local(int fd, guint64 start, guint64 len, guint8 *digest, GError **error)
{
    g_autoptr(PorchSha256) sha = porch_sha256_new();
    g_autofree guint8 *buf = g_malloc(1 << 20);

    while (len > 0) {
        ssize_t n = pread(fd, buf, MIN(len, 1u << 20), (off_t)start);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_propagate_error(error, porch_transfer_local_error(n < 0 ? errno : EIO, NULL));
            return FALSE;
        }
        porch_sha256_update(sha, buf, (gsize)n);
        start += (guint64)n;
        len -= (guint64)n;
    }
    porch_sha256_finish(sha, digest);
    return TRUE;
}

gboolean
porch_transfer_job_store_handle(PorchTransferJob *j, guint8 type, PorchWireReader *r,
                                const char *path, GError **error)
{
    const guint8 *h;
    guint32 len;

    if (type == SSH_FXP_STATUS) {
        porch_reply_status_ok(type, r, path, error);
        if (error != NULL && *error == NULL)
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL, "no handle");
        return FALSE;
    }
    if (type != SSH_FXP_HANDLE || !porch_wire_get_string(r, &h, &len) ||
        len > PORCH_SFTP_MAX_HANDLE) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL, "a malformed handle");
        return FALSE;
    }
    j->handle = g_byte_array_new();
    porch_wire_put_string(j->handle, h, len);
    return TRUE;
}

void
porch_transfer_job_done(PorchTransferJob *j)
{
    PorchTransfer *t = j->t;

    t->p.done_files++;
    if (t->cb != NULL && t->cb->done != NULL)
        t->cb->done(j->remote, j->local, j->size, t->cb->user_data);
    j->state = JOB_DONE; /* progress shows it whole */
    porch_transfer_progress(t, j, TRUE);
    j->state = JOB_FINISHING;
    porch_transfer_job_end(j); /* may free it */
}

/* The reply to an OPEN for a job that failed meanwhile: the handle is closed (and for put,
 * the temporary file removed). */
void
porch_transfer_job_drop_late_handle(PorchTransferJob *j, guint8 type, PorchWireReader *r)
{
    if (type != SSH_FXP_HANDLE || !porch_transfer_job_store_handle(j, type, r, j->remote, NULL))
        return;
    porch_transfer_job_send_close(j);
    if (j->t->upload) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        porch_wire_put_cstring(b, j->part);
        porch_client_send(j->t->c, SSH_FXP_REMOVE, b, NULL, 0, on_cleanup,
                          porch_transfer_req_new(j, 0, 0, 0));
    }
}

/* ---- the loop --------------------------------------------------------------------------- */

/* Starts waiting jobs and hands out the budget of data requests, round-robin. */
void
porch_transfer_schedule(PorchTransfer *t)
{
    gboolean issued = TRUE;

    while (t->active.length - t->batch->len < MAX_FILES_IN_FLIGHT && t->waiting.length > 0 &&
           !t->aborted && t->c->fatal == NULL) {
        PorchTransferJob *j = g_queue_pop_head(&t->waiting);
        g_queue_push_tail(&t->active, j);
        j->refs++; /* held while it starts: a failure at once must not free it under us */
        if (t->upload)
            porch_transfer_put_start(j);
        else
            porch_transfer_get_start(j);
        porch_transfer_job_unref(j);
    }
    guint64 max_bytes = t->upload ? MAX_PUT_BYTES_IN_FLIGHT : MAX_BYTES_IN_FLIGHT;

    while (issued && t->reqs < MAX_REQS_IN_FLIGHT && t->bytes_in_flight < max_bytes &&
           t->c->fatal == NULL) {
        GList *l = t->active.head;
        issued = FALSE;
        while (l != NULL && t->reqs < MAX_REQS_IN_FLIGHT && t->bytes_in_flight < max_bytes) {
            PorchTransferJob *j = l->data;
            l = l->next; /* a failure removes the job from the list */
            j->refs++;
            if (t->upload ? porch_transfer_put_issue(j) : porch_transfer_get_issue(j))
                issued = TRUE;
            porch_transfer_job_unref(j);
        }
    }
}

static gboolean
transfer_busy(PorchTransfer *t)
{
    return t->waiting.length > 0 || t->active.length > 0;
}

/* Pumps until nothing is left to do, or with @waiting > 0 until at most @waiting jobs wait;
 * FALSE (with @error) when the connection failed or the transfer was cancelled. */
gboolean
porch_transfer_run(PorchTransfer *t, guint waiting, GError **error)
{
    porch_transfer_schedule(t);
    while (waiting > 0 ? t->waiting.length > waiting : transfer_busy(t)) {
        /* what the writer thread has written; waiting for it when it has much to do, or
         * when nothing else can come */
        if (porch_transfer_get_pieces_collect(
                    t, t->pieces_out > WRITER_PIECES ||
                               (t->pieces_out > 0 && g_hash_table_size(t->c->pending) == 0))) {
            porch_transfer_schedule(t);
            continue;
        }
        if (g_hash_table_size(t->c->pending) == 0 && t->batch->len > 0) {
            /* only small files waiting for the batch's syncfs: nothing else will come */
            porch_transfer_get_flush_batch(t);
            porch_transfer_schedule(t);
            continue;
        }
        if (g_hash_table_size(t->c->pending) == 0) {
            /* nothing in flight and nothing to send: a bug, not a reason to wait forever */
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "internal error: transfer stalled");
            return FALSE;
        }
        if (!porch_client_pump(t->c, t->cancellable, error))
            return FALSE;
        porch_transfer_schedule(t);
        porch_transfer_progress(t, NULL,
                                FALSE); /* also while nothing arrives: the caller may cancel */
    }
    return TRUE;
}

/* The transfer as a whole failed (connection lost, cancelled): every job is dropped without
 * a word, their NAME.part files kept for a resume. The connection is not used any more:
 * replies to what is in flight may still come. */
void
porch_transfer_abandon(PorchTransfer *t)
{
    GHashTableIter it;
    gpointer k, v;
    PorchTransferJob *j;

    t->aborted = TRUE;
    porch_transfer_get_writer_end(t);
    g_ptr_array_set_size(t->batch, 0);
    g_hash_table_iter_init(&it, t->c->pending);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        PorchPending *p = v;
        if (p->fn == on_cleanup || porch_transfer_get_owns_reply(p->fn) ||
            porch_transfer_put_owns_reply(p->fn)) {
            PorchTransferReq *q = p->data;
            q->job->refs--;
            g_free(q);
            p->fn = NULL;
            p->data = NULL;
        }
    }
    /* cancelled with the connection still up: uploads' temporary files are removed (what
     * was there before is untouched either way) */
    if (t->upload && t->c->fatal == NULL) {
        guint32 last = 0;
        gint64 until = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

        for (GList *l = t->active.head; l != NULL; l = l->next) {
            g_autoptr(GByteArray) b = g_byte_array_new();
            j = l->data;
            if (!j->temp_made)
                continue;
            porch_transfer_job_send_close(j);
            porch_wire_put_cstring(b, j->part);
            last = porch_client_send(t->c, SSH_FXP_REMOVE, b, NULL, 0, NULL, NULL);
        }
        while (last != 0 && g_hash_table_contains(t->c->pending, GUINT_TO_POINTER(last)) &&
               g_get_monotonic_time() < until && porch_client_pump(t->c, NULL, NULL))
            ;
    }
    while ((j = g_queue_pop_head(&t->waiting)) != NULL)
        job_free(j);
    while ((j = g_queue_pop_head(&t->active)) != NULL)
        job_free(j);
    if (t->c->fatal == NULL)
        t->c->fatal = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                          "an earlier transfer was cancelled");
}

void
porch_transfer_init(PorchTransfer *t, PorchClient *c, gboolean upload, PorchTransferFlags flags,
                    const PorchTransferCallbacks *cb, GCancellable *cancellable)
{
    memset(t, 0, sizeof *t);
    t->c = c;
    t->upload = upload;
    t->flags = flags;
    t->cb = cb;
    t->cancellable = cancellable;
    g_queue_init(&t->waiting);
    g_queue_init(&t->active);
    t->batch = g_ptr_array_new();
    if (!upload)
        t->umask = process_umask();
    if (upload)
        t->buf = g_malloc(MAX(c->max_write, 1u));
}

gboolean
porch_transfer_finish(PorchTransfer *t, GError **error, GError *fatal)
{
    porch_transfer_get_writer_end(t);
    g_ptr_array_unref(t->batch);
    g_free(t->buf);
    t->p.listing_done = TRUE;
    porch_transfer_progress(t, NULL, TRUE);
    t->p.current = NULL;
    g_clear_pointer(&t->current, g_free);
    if (fatal != NULL) {
        g_propagate_error(error, fatal);
        return FALSE;
    }
    if (t->p.failed_files > 0) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_FILES_FAILED,
                    "%u of %u files failed", t->p.failed_files,
                    MAX(t->p.total_files, t->p.failed_files));
        return FALSE;
    }
    return TRUE;
}

char *
porch_transfer_join_remote(const char *dir, const char *name)
{
    return g_strconcat(strcmp(dir, "/") == 0 ? "" : dir, "/", name, NULL);
}
