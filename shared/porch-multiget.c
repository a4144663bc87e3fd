/* porch-multiget.c — one file from several neighbours at once (porch-multiget.h). */
#include "porch-multiget.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "porch-sftp-client-private.h"

/* READs in flight per source: 16 × 255 KiB keeps a LAN link busy */
#define READS_IN_FLIGHT 16
#define DEFAULT_STALL_S 5
#define PROGRESS_US     (50 * G_TIME_SPAN_MILLISECOND)
/* check-file answers at most 16 GiB per request */
#define HASH_REQUEST_MAX (16ull << 30)

typedef enum { RANGE_TODO, RANGE_ACTIVE, RANGE_DONE } RangeState;

typedef struct {
    GMutex lock;
    GCond cond;
    const PorchMultigetPlan *plan;
    const PorchMultigetCallbacks *cb;
    GCancellable *cancellable;
    guint n_ranges;
    guint8 *state; /* RangeState per range */
    guint *takers; /* sources fetching each range */
    guint64 done_bytes;
    guint working; /* source threads still running */
    guint dropped; /* sources dropped */
    int fd;        /* NAME.part */
    GError *local_error;
    gboolean stop;
} Multi;

typedef struct {
    Multi *m;
    PorchMultigetSource *src;
    GByteArray *handle; /* the remote handle as an SFTP string */
    guint8 *buf;        /* one range */
    guint64 range_start;
    guint64 received;
    guint inflight;
    GError *error; /* from a reply callback */
} Worker;

typedef struct {
    Worker *w;
    guint64 offset;
    guint32 len;
} Read;

static guint64
range_len(const Multi *m, guint i)
{
    guint64 start = (guint64)i * PORCH_MULTIGET_RANGE;
    return MIN((guint64)PORCH_MULTIGET_RANGE, m->plan->size - start);
}

static const guint8 *
origin_hash(const Multi *m, guint i)
{
    return (const guint8 *)g_bytes_get_data(m->plan->ranges, NULL) + (gsize)i * PORCH_SHA256_LEN;
}

/* ---- asking the origin for its hashes ----------------------------------------------------- */

static GBytes *
check_file_name(PorchClient *c, const char *remote, guint64 start, guint64 len, guint32 block,
                GCancellable *cancellable, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(GBytes) reply = NULL;
    PorchWireReader r;
    const guint8 *s;
    guint32 n;
    gsize size = 0;

    porch_wire_put_cstring(b, PORCH_WIRE_EXT_CHECK_FILE_NAME);
    porch_wire_put_cstring(b, remote);
    porch_wire_put_cstring(b, PORCH_WIRE_CHECK_FILE_SHA256);
    porch_wire_put_u64(b, start);
    porch_wire_put_u64(b, len);
    porch_wire_put_u32(b, block);
    reply = porch_client_call_expect(c, SSH_FXP_EXTENDED, b, SSH_FXP_EXTENDED_REPLY, remote,
                                     cancellable, error);
    if (reply == NULL)
        return NULL;
    r.p = g_bytes_get_data(reply, &size);
    r.left = size;
    if (!porch_wire_get_string(&r, &s, &n) || n != strlen(PORCH_WIRE_CHECK_FILE_REPLY) ||
        memcmp(s, PORCH_WIRE_CHECK_FILE_REPLY, n) != 0 || !porch_wire_get_string(&r, &s, &n) ||
        n != strlen(PORCH_WIRE_CHECK_FILE_SHA256) ||
        memcmp(s, PORCH_WIRE_CHECK_FILE_SHA256, n) != 0 || r.left % PORCH_SHA256_LEN != 0) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "%s: a malformed check-file reply", remote);
        return NULL;
    }
    return g_bytes_new(r.p, r.left);
}

GBytes *
porch_multiget_range_hashes(PorchClient *client, const char *remote, guint64 size,
                            GCancellable *cancellable, GError **error)
{
    g_autoptr(GByteArray) all = g_byte_array_new();
    guint64 n_ranges = size == 0 ? 0 : (size - 1) / PORCH_MULTIGET_RANGE + 1;

    for (guint64 start = 0; start < size; start += HASH_REQUEST_MAX) {
        guint64 len = MIN(HASH_REQUEST_MAX, size - start);
        g_autoptr(GBytes) part = check_file_name(client, remote, start, len, PORCH_MULTIGET_RANGE,
                                                 cancellable, error);
        guint64 want = (len - 1) / PORCH_MULTIGET_RANGE + 1;

        if (part == NULL)
            return NULL;
        if (g_bytes_get_size(part) != want * PORCH_SHA256_LEN) {
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "%s: the neighbour gave %" G_GSIZE_FORMAT
                        " range hashes where %" G_GUINT64_FORMAT " were asked",
                        remote, g_bytes_get_size(part) / PORCH_SHA256_LEN, want);
            return NULL;
        }
        g_byte_array_append(all, g_bytes_get_data(part, NULL), (guint)g_bytes_get_size(part));
    }
    g_assert(all->len == n_ranges * PORCH_SHA256_LEN);
    return g_byte_array_free_to_bytes(g_steal_pointer(&all));
}

gboolean
porch_multiget_file_hash(PorchClient *client, const char *remote, guint8 *ret_sha256,
                         GCancellable *cancellable, GError **error)
{
    g_autoptr(GBytes) h = check_file_name(client, remote, 0, 0, 0, cancellable, error);

    if (h == NULL)
        return FALSE;
    if (g_bytes_get_size(h) != PORCH_SHA256_LEN) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "%s: a malformed check-file reply", remote);
        return FALSE;
    }
    memcpy(ret_sha256, g_bytes_get_data(h, NULL), PORCH_SHA256_LEN);
    return TRUE;
}

/* ---- one source ---------------------------------------------------------------------------- */

static void
worker_fail(Worker *w, GError *e)
{
    if (w->error == NULL)
        w->error = e;
    else
        g_error_free(e);
}

static void issue_read(Worker *w, guint64 offset, guint32 len);

static void
on_data(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    Read *q = data;
    Worker *w = q->w;
    const guint8 *d;
    guint32 n;

    (void)c;
    w->inflight--;
    if (w->error != NULL || q->offset < w->range_start) {
        /* a reply to a range given up: dropped */
    } else if (type == SSH_FXP_STATUS) {
        worker_fail(w, g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_CHANGED,
                                           "its copy is shorter"));
    } else if (type != SSH_FXP_DATA || !porch_wire_get_string(r, &d, &n) || n > q->len || n == 0) {
        worker_fail(w, g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                                           "a malformed DATA reply"));
    } else {
        memcpy(w->buf + (q->offset - w->range_start), d, n);
        w->received += n;
        if (n < q->len)
            issue_read(w, q->offset + n, q->len - n);
    }
    g_free(q);
}

static void
issue_read(Worker *w, guint64 offset, guint32 len)
{
    g_autoptr(GByteArray) b = g_byte_array_sized_new(w->handle->len + 12);
    Read *q = g_new0(Read, 1);

    q->w = w;
    q->offset = offset;
    q->len = len;
    g_byte_array_append(b, w->handle->data, w->handle->len);
    porch_wire_put_u64(b, offset);
    porch_wire_put_u32(b, len);
    w->inflight++;
    porch_client_send(w->src->client, SSH_FXP_READ, b, NULL, 0, on_data, q);
}

/* Whether range @i was finished by another source meanwhile (the end game). */
static gboolean
range_done(Multi *m, guint i)
{
    gboolean done;

    g_mutex_lock(&m->lock);
    done = m->state[i] == RANGE_DONE || m->stop;
    g_mutex_unlock(&m->lock);
    return done;
}

/* Fetches range @i into w->buf. FALSE with @error when the source failed (or the range was
 * finished elsewhere: *ret_moot). */
static gboolean
fetch_range(Worker *w, guint i, gboolean *ret_moot, GError **error)
{
    Multi *m = w->m;
    PorchClient *c = w->src->client;
    guint64 start = (guint64)i * PORCH_MULTIGET_RANGE, len = range_len(m, i), next = start;
    gboolean ok = TRUE;

    *ret_moot = FALSE;
    w->range_start = start;
    w->received = 0;
    while (ok && w->received < len) {
        while (w->inflight < READS_IN_FLIGHT && next < start + len) {
            guint32 n = (guint32)MIN((guint64)c->max_read, start + len - next);
            issue_read(w, next, n);
            next += n;
        }
        if (!porch_client_pump(c, m->cancellable, error)) {
            ok = FALSE;
        } else if (w->error != NULL) {
            g_propagate_error(error, g_steal_pointer(&w->error));
            ok = FALSE;
        } else if (range_done(m, i)) {
            *ret_moot = TRUE;
            ok = FALSE;
        }
    }
    /* replies still due belong to this range: received and dropped before the next */
    w->range_start = G_MAXUINT64;
    while (w->inflight > 0 && c->fatal == NULL && porch_client_pump(c, NULL, NULL))
        ;
    g_clear_error(&w->error);
    return ok;
}

/* The next range for a source: one nobody took, else (the end game) one a single other
 * source is on. -1 when there is none. */
static gint64
take_range(Multi *m)
{
    gint64 pick = -1;

    g_mutex_lock(&m->lock);
    for (guint i = 0; i < m->n_ranges && pick < 0 && !m->stop; i++)
        if (m->state[i] == RANGE_TODO)
            pick = i;
    for (guint i = 0; i < m->n_ranges && pick < 0 && !m->stop; i++)
        if (m->state[i] == RANGE_ACTIVE && m->takers[i] == 1)
            pick = i;
    if (pick >= 0) {
        m->state[pick] = RANGE_ACTIVE;
        m->takers[pick]++;
    }
    g_mutex_unlock(&m->lock);
    return pick;
}

static void
give_back(Multi *m, guint i)
{
    g_mutex_lock(&m->lock);
    m->takers[i]--;
    if (m->state[i] == RANGE_ACTIVE && m->takers[i] == 0)
        m->state[i] = RANGE_TODO;
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
}

static gboolean
open_remote(Worker *w, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(GBytes) reply = NULL;
    PorchWireReader r;
    const guint8 *h;
    guint32 n;
    gsize size = 0;

    porch_wire_put_cstring(b, w->src->remote);
    porch_wire_put_u32(b, SSH_FXF_READ);
    porch_wire_put_u32(b, 0);
    reply = porch_client_call_expect(w->src->client, SSH_FXP_OPEN, b, SSH_FXP_HANDLE,
                                     w->src->remote, w->m->cancellable, error);
    if (reply == NULL)
        return FALSE;
    r.p = g_bytes_get_data(reply, &size);
    r.left = size;
    if (!porch_wire_get_string(&r, &h, &n) || n == 0 || n > PORCH_SFTP_MAX_HANDLE) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "%s: a malformed HANDLE reply", w->src->remote);
        return FALSE;
    }
    w->handle = g_byte_array_new();
    porch_wire_put_string(w->handle, h, n);
    return TRUE;
}

static void
drop(Worker *w, const char *why)
{
    Multi *m = w->m;

    g_mutex_lock(&m->lock);
    w->src->dropped = g_strdup(why);
    m->dropped++;
    g_mutex_unlock(&m->lock);
}

static gpointer
source_thread(gpointer data)
{
    Worker *w = data;
    Multi *m = w->m;
    PorchClient *c = w->src->client;
    int saved_timeout = c->timeout;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchSha256) sha = porch_sha256_new();
    gint64 i;

    c->timeout = m->plan->stall_seconds > 0 ? m->plan->stall_seconds : DEFAULT_STALL_S;
    if (!open_remote(w, &error)) {
        drop(w, error->message);
        goto out;
    }
    w->buf = g_malloc(PORCH_MULTIGET_RANGE);
    while ((i = take_range(m)) >= 0) {
        guint64 len = range_len(m, (guint)i);
        guint8 digest[PORCH_SHA256_LEN];
        gboolean moot = FALSE;
        ssize_t n;

        if (!fetch_range(w, (guint)i, &moot, &error)) {
            give_back(m, (guint)i);
            if (moot) {
                g_clear_error(&error);
                continue;
            }
            drop(w, error->message);
            break;
        }
        porch_sha256_update(sha, w->buf, len);
        porch_sha256_finish(sha, digest);
        if (memcmp(digest, origin_hash(m, (guint)i), PORCH_SHA256_LEN) != 0) {
            g_autofree char *why = g_strdup_printf(
                    "sent wrong data for bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                    " (its copy differs from the origin's)",
                    (guint64)i * PORCH_MULTIGET_RANGE, (guint64)i * PORCH_MULTIGET_RANGE + len - 1);
            give_back(m, (guint)i);
            drop(w, why);
            break;
        }
        n = pwrite(m->fd, w->buf, len, (off_t)((guint64)i * PORCH_MULTIGET_RANGE));
        g_mutex_lock(&m->lock);
        m->takers[i]--;
        if (n != (ssize_t)len) {
            if (m->local_error == NULL)
                m->local_error =
                        g_error_new(G_IO_ERROR, g_io_error_from_errno(n < 0 ? errno : ENOSPC),
                                    "writing: %s", g_strerror(n < 0 ? errno : ENOSPC));
            m->stop = TRUE;
        } else if (m->state[i] != RANGE_DONE) {
            m->state[i] = RANGE_DONE;
            m->done_bytes += len;
            w->src->bytes += len;
        }
        g_cond_broadcast(&m->cond);
        g_mutex_unlock(&m->lock);
    }
    {
        /* the handle is closed; what the close says changes nothing */
        g_autoptr(GByteArray) b = g_byte_array_new();
        if (w->handle != NULL && c->fatal == NULL) {
            g_byte_array_append(b, w->handle->data, w->handle->len);
            porch_client_send(c, SSH_FXP_CLOSE, b, NULL, 0, NULL, NULL);
        }
    }
out:
    c->timeout = saved_timeout;
    g_mutex_lock(&m->lock);
    m->working--;
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
    return NULL;
}

/* ---- the fetch --------------------------------------------------------------------------- */

/* Marks the ranges of an earlier NAME.part (its first @have bytes) that match the origin's
 * hashes as done. */
static void
resume(Multi *m, guint64 have)
{
    g_autofree guint8 *buf = g_malloc(PORCH_MULTIGET_RANGE);
    g_autoptr(PorchSha256) sha = porch_sha256_new();

    for (guint i = 0; i < m->n_ranges; i++) {
        guint64 len = range_len(m, i), start = (guint64)i * PORCH_MULTIGET_RANGE;
        guint8 digest[PORCH_SHA256_LEN];

        if (start + len > have)
            break;
        if (pread(m->fd, buf, len, (off_t)start) != (ssize_t)len)
            break;
        porch_sha256_update(sha, buf, len);
        porch_sha256_finish(sha, digest);
        if (memcmp(digest, origin_hash(m, i), PORCH_SHA256_LEN) == 0) {
            m->state[i] = RANGE_DONE;
            m->done_bytes += len;
        }
    }
}

static gboolean
whole_hash_is(int fd, guint64 size, const guint8 *want, GError **error)
{
    g_autofree guint8 *buf = g_malloc(1u << 20);
    g_autoptr(PorchSha256) sha = porch_sha256_new();
    guint8 digest[PORCH_SHA256_LEN];

    for (guint64 at = 0; at < size;) {
        ssize_t n = pread(fd, buf, (size_t)MIN((guint64)(1u << 20), size - at), (off_t)at);
        if (n <= 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(n < 0 ? errno : EIO),
                        "reading it back: %s", g_strerror(n < 0 ? errno : EIO));
            return FALSE;
        }
        porch_sha256_update(sha, buf, (gsize)n);
        at += (guint64)n;
    }
    porch_sha256_finish(sha, digest);
    if (memcmp(digest, want, PORCH_SHA256_LEN) != 0) {
        g_set_error_literal(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_CHANGED,
                            "the file's SHA-256 is not the one asked for");
        return FALSE;
    }
    return TRUE;
}

gboolean
porch_multiget(PorchMultigetSource *sources, guint n_sources, const PorchMultigetPlan *plan,
               const char *local, const PorchMultigetCallbacks *callbacks,
               GCancellable *cancellable, GError **error)
{
    g_autofree char *part = g_strconcat(local, ".part", NULL);
    g_autofree Worker *workers = g_new0(Worker, n_sources);
    GThread **threads = g_new0(GThread *, n_sources);
    Multi m = {0};
    struct stat st;
    struct statvfs vfs;
    gboolean ok = FALSE;
    gint64 last_progress = 0;

    g_return_val_if_fail(n_sources > 0, FALSE);
    m.plan = plan;
    m.cb = callbacks;
    m.cancellable = cancellable;
    m.n_ranges = plan->size == 0 ? 0 : (guint)((plan->size - 1) / PORCH_MULTIGET_RANGE + 1);
    if (g_bytes_get_size(plan->ranges) != (gsize)m.n_ranges * PORCH_SHA256_LEN) {
        g_set_error_literal(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "the origin's range hashes do not match its size");
        g_free(threads);
        return FALSE;
    }
    m.state = g_new0(guint8, m.n_ranges + 1);
    m.takers = g_new0(guint, m.n_ranges + 1);
    g_mutex_init(&m.lock);
    g_cond_init(&m.cond);
    m.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (m.fd < 0 || fstat(m.fd, &st) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", part,
                    g_strerror(errno));
        goto done;
    }
    resume(&m, (guint64)st.st_size);
    if (fstatvfs(m.fd, &vfs) == 0 && plan->size > (guint64)st.st_size &&
        (plan->size - (guint64)st.st_size) / MAX(vfs.f_frsize, 1) > vfs.f_bavail) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s: not enough free space", part);
        goto done;
    }
    if (ftruncate(m.fd, (off_t)plan->size) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", part,
                    g_strerror(errno));
        goto done;
    }
    m.working = n_sources;
    for (guint i = 0; i < n_sources; i++) {
        workers[i] = (Worker){.m = &m, .src = &sources[i]};
        threads[i] = g_thread_new("porch-multiget", source_thread, &workers[i]);
    }
    g_mutex_lock(&m.lock);
    for (;;) {
        gboolean all_done = m.done_bytes == plan->size;
        guint working = m.working;
        gint64 now = g_get_monotonic_time();

        if (all_done)
            m.stop = TRUE;
        if (m.working == 0)
            break;
        if (callbacks != NULL && callbacks->progress != NULL &&
            now - last_progress >= PROGRESS_US) {
            guint64 done = m.done_bytes;
            last_progress = now;
            g_mutex_unlock(&m.lock);
            callbacks->progress(done, plan->size, working, callbacks->user_data);
            g_mutex_lock(&m.lock);
            continue;
        }
        if (g_cancellable_is_cancelled(cancellable))
            m.stop = TRUE;
        g_cond_wait_until(&m.cond, &m.lock, now + PROGRESS_US);
    }
    g_mutex_unlock(&m.lock);
    for (guint i = 0; i < n_sources; i++) {
        g_thread_join(threads[i]);
        g_free(workers[i].buf);
        if (workers[i].handle != NULL)
            g_byte_array_unref(workers[i].handle);
        if (sources[i].dropped != NULL && callbacks != NULL && callbacks->dropped != NULL)
            callbacks->dropped(&sources[i], sources[i].dropped, callbacks->user_data);
    }
    if (callbacks != NULL && callbacks->progress != NULL)
        callbacks->progress(m.done_bytes, plan->size, 0, callbacks->user_data);
    if (m.local_error != NULL) {
        g_propagate_prefixed_error(error, g_steal_pointer(&m.local_error), "%s: ", part);
        goto done;
    }
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
        goto done;
    if (m.done_bytes != plan->size) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "every source failed with %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                    " bytes verified (%s kept for a resume)",
                    m.done_bytes, plan->size, part);
        goto done;
    }
    if (fsync(m.fd) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", part,
                    g_strerror(errno));
        goto done;
    }
    if (plan->sha256 != NULL && !whole_hash_is(m.fd, plan->size, plan->sha256, error)) {
        unlink(part);
        goto done;
    }
    if (plan->mtime >= 0) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = plan->mtime}};
        futimens(m.fd, ts);
    }
    if (rename(part, local) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", local,
                    g_strerror(errno));
        goto done;
    }
    ok = TRUE;
done:
    if (m.fd >= 0)
        close(m.fd);
    g_clear_error(&m.local_error);
    g_free(m.state);
    g_free(m.takers);
    g_free(threads);
    g_mutex_clear(&m.lock);
    g_cond_clear(&m.cond);
    return ok;
}
