/* porch-multiget.c — one file from several neighbours at once (porch-multiget.h). */
#include "porch-multiget.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "porch-direct-io.h"
#include "porch-sftp-client-private.h"

/* READs in flight per source: 32 × 255 KiB (8 MiB, as the one-source fetch keeps) */
#define READS_IN_FLIGHT 32
#define DEFAULT_STALL_S 5
#define PROGRESS_US     (50 * G_TIME_SPAN_MILLISECOND)
/* check-file answers at most 16 GiB per request */
#define HASH_REQUEST_MAX (16ull << 30)

/* RANGE_CHECKING: received whole by a source, with its verifier (not taken in the end game:
 * nothing would come of fetching it again unless the verifier finds it wrong) */
typedef enum { RANGE_TODO, RANGE_ACTIVE, RANGE_CHECKING, RANGE_DONE } RangeState;

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
    guint working;      /* source threads still running */
    int fd;             /* NAME.part */
    int dfd;            /* NAME.part for O_DIRECT writes, or -1 (porch-direct-io.h) */
    gint direct_failed; /* atomic: an O_DIRECT write failed; the rest goes through fd */
    const char *part;   /* for messages */
    GError *local_error;
    gboolean stop;
} Multi;

/* A range a source is fetching, or that its verifier is hashing and writing. Two are fetched
 * at once per source, so that the reads of the next range are under way while the last
 * replies of one arrive: the link never idles between ranges. A whole range goes to the
 * source's verifier thread, which hashes and writes it while this thread goes on receiving
 * into the third slot. In one thread, hashing and writing took turns with receiving and the
 * engine alone was half as fast as the one-source get (docs/performance.md). */
typedef struct {
    gint64 index; /* -1: free */
    guint64 start, len, next, received;
    guint8 *buf;        /* one range, aligned for O_DIRECT */
    guint32 gen;        /* replies of an earlier use of the slot are dropped */
    gboolean verifying; /* with the verifier: only it touches the slot until it gives it back */
    gboolean wrong;     /* the verifier found the source's bytes wrong */
} Slot;

#define SLOTS 3

typedef struct {
    Multi *m;
    PorchMultigetSource *src;
    GByteArray *handle; /* the remote handle as an SFTP string */
    Slot slots[SLOTS];
    guint inflight;
    GError *error; /* from a reply callback */
    /* the verifier thread: whole ranges in, the same slots out once hashed and written */
    GThread *verifier;
    GAsyncQueue *to_verify, *verified;
    guint verifying;
} Worker;

typedef struct {
    Worker *w;
    Slot *slot;
    guint32 gen;
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

static void issue_read(Worker *w, Slot *slot, guint64 offset, guint32 len);

static void
on_data(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    Read *q = data;
    Worker *w = q->w;
    Slot *slot = q->slot;
    const guint8 *d;
    guint32 n;

    (void)c;
    w->inflight--;
    if (w->error != NULL || slot->gen != q->gen || slot->index < 0) {
        /* a reply to a range given up: dropped */
    } else if (type == SSH_FXP_STATUS) {
        worker_fail(w, g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_CHANGED,
                                           "its copy is shorter"));
    } else if (type != SSH_FXP_DATA || !porch_wire_get_string(r, &d, &n) || n > q->len || n == 0) {
        worker_fail(w, g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                                           "a malformed DATA reply"));
    } else {
        memcpy(slot->buf + (q->offset - slot->start), d, n);
        slot->received += n;
        if (n < q->len)
            issue_read(w, slot, q->offset + n, q->len - n);
    }
    g_free(q);
}

static void
issue_read(Worker *w, Slot *slot, guint64 offset, guint32 len)
{
    g_autoptr(GByteArray) b = g_byte_array_sized_new(w->handle->len + 12);
    Read *q = g_new0(Read, 1);

    q->w = w;
    q->slot = slot;
    q->gen = slot->gen;
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

/* Whether @w holds range @i in one of its slots (being fetched or with its verifier). */
static gboolean
holds(const Worker *w, guint i)
{
    for (guint k = 0; k < SLOTS; k++)
        if (w->slots[k].index == (gint64)i)
            return TRUE;
    return FALSE;
}

/* The next range for @w: one nobody took, else (the end game) one a single other source is
 * still fetching. -1 when there is none, after waiting while ranges of other sources are
 * with their verifiers: one may yet be found wrong and come back (@wait; else at once). */
static gint64
take_range(Worker *w, gboolean wait)
{
    Multi *m = w->m;
    gint64 pick = -1;

    g_mutex_lock(&m->lock);
    for (;;) {
        gboolean checking = FALSE;

        for (guint i = 0; i < m->n_ranges && pick < 0 && !m->stop; i++)
            if (m->state[i] == RANGE_TODO)
                pick = i;
        for (guint i = 0; i < m->n_ranges && pick < 0 && !m->stop; i++) {
            if (m->state[i] == RANGE_ACTIVE && m->takers[i] == 1 && !holds(w, i))
                pick = i;
            checking = checking || (m->state[i] == RANGE_CHECKING && !holds(w, i));
        }
        if (pick >= 0 || !checking || !wait || m->stop)
            break;
        g_cond_wait_until(&m->cond, &m->lock, g_get_monotonic_time() + PROGRESS_US);
    }
    if (pick >= 0) {
        m->state[pick] = RANGE_ACTIVE;
        m->takers[pick]++;
    }
    g_mutex_unlock(&m->lock);
    return pick;
}

/* A source lets go of range @i, not done by it. */
static void
give_back(Multi *m, guint i)
{
    g_mutex_lock(&m->lock);
    m->takers[i]--;
    if (m->state[i] == RANGE_ACTIVE || m->state[i] == RANGE_CHECKING)
        m->state[i] = m->takers[i] == 0 ? RANGE_TODO : RANGE_ACTIVE;
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

/* Drops @w's source for @why. The first reason is kept, but wrong bytes (@wrong) are named
 * whatever happened before: the verifier may find them after the connection failed. */
static void
drop(Worker *w, const char *why, gboolean wrong)
{
    Multi *m = w->m;

    g_mutex_lock(&m->lock);
    if (w->src->dropped == NULL || wrong) {
        g_free(w->src->dropped);
        w->src->dropped = g_strdup(why);
    }
    g_mutex_unlock(&m->lock);
}

static void
slot_start(Multi *m, Slot *slot, gint64 i)
{
    slot->index = i;
    slot->start = (guint64)i * PORCH_MULTIGET_RANGE;
    slot->len = range_len(m, (guint)i);
    slot->next = slot->start;
    slot->received = 0;
    slot->gen++;
}

static void
slot_free(Slot *slot)
{
    slot->index = -1;
    slot->gen++;
}

/* Writes @n bytes of @d at @offset of NAME.part: 0, or an errno. */
static int
write_range(Multi *m, const guint8 *d, gsize n, guint64 offset)
{
    if (m->dfd >= 0 && !g_atomic_int_get(&m->direct_failed) && porch_direct_aligned(d, n, offset)) {
        if (porch_direct_write(m->dfd, d, n, offset, m->part))
            return 0;
        g_atomic_int_set(&m->direct_failed, TRUE);
    }
    return porch_write_at(m->fd, d, n, offset);
}

/* In the verifier thread: a whole range arrived in @slot; it is hashed, compared with the
 * origin's hash, and written. On wrong bytes the range goes back to the others, the source is
 * dropped and named, and @slot is marked wrong. A range another source finished meanwhile (the
 * end game) is let go unread. */
static void
slot_verify(Worker *w, Slot *slot, PorchSha256 *sha)
{
    Multi *m = w->m;
    guint i = (guint)slot->index;
    guint8 digest[PORCH_SHA256_LEN];
    gboolean done;
    int err;

    g_mutex_lock(&m->lock);
    done = m->state[i] == RANGE_DONE;
    if (done) {
        m->takers[i]--;
        g_cond_broadcast(&m->cond);
    }
    g_mutex_unlock(&m->lock);
    if (done)
        return;
    porch_sha256_update(sha, slot->buf, slot->len);
    porch_sha256_finish(sha, digest);
    if (memcmp(digest, origin_hash(m, i), PORCH_SHA256_LEN) != 0) {
        g_autofree char *why =
                g_strdup_printf("sent wrong data for bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                                " (its copy differs from the origin's)",
                                slot->start, slot->start + slot->len - 1);
        give_back(m, i);
        drop(w, why, TRUE);
        slot->wrong = TRUE;
        return;
    }
    err = write_range(m, slot->buf, slot->len, slot->start);
    g_mutex_lock(&m->lock);
    m->takers[i]--;
    if (err != 0) {
        if (m->local_error == NULL)
            m->local_error = g_error_new(G_IO_ERROR, g_io_error_from_errno(err), "writing: %s",
                                         g_strerror(err));
        m->stop = TRUE;
    } else if (m->state[i] != RANGE_DONE) {
        m->state[i] = RANGE_DONE;
        m->done_bytes += slot->len;
        w->src->bytes += slot->len;
    }
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
}

static Slot verifier_stop;

static gpointer
verifier_main(gpointer data)
{
    Worker *w = data;
    g_autoptr(PorchSha256) sha = porch_sha256_new();
    gboolean wrong = FALSE;
    Slot *slot;

    while ((slot = g_async_queue_pop(w->to_verify)) != &verifier_stop) {
        /* after wrong bytes the source is done for: the rest is given back unchecked */
        if (wrong)
            give_back(w->m, (guint)slot->index);
        else
            slot_verify(w, slot, sha);
        wrong = wrong || slot->wrong;
        g_async_queue_push(w->verified, slot);
    }
    return NULL;
}

/* Hands a whole range to the verifier. */
static void
slot_to_verifier(Worker *w, Slot *slot)
{
    Multi *m = w->m;

    g_mutex_lock(&m->lock);
    if (m->state[slot->index] == RANGE_ACTIVE)
        m->state[slot->index] = RANGE_CHECKING;
    g_mutex_unlock(&m->lock);
    slot->verifying = TRUE;
    w->verifying++;
    g_async_queue_push(w->to_verify, slot);
}

/* Takes back the slots the verifier is done with (waiting for one when @wait); FALSE when one
 * held wrong bytes (the source was dropped). */
static gboolean
slots_collect(Worker *w, gboolean wait)
{
    gboolean ok = TRUE;
    Slot *slot;

    while (w->verifying > 0 && (slot = wait ? g_async_queue_pop(w->verified)
                                            : g_async_queue_try_pop(w->verified)) != NULL) {
        wait = FALSE;
        w->verifying--;
        if (slot->wrong)
            ok = FALSE;
        slot->verifying = FALSE;
        slot->wrong = FALSE;
        slot_free(slot);
    }
    return ok;
}

/* Gives back the ranges of the slots being fetched. */
static void
slots_give_back(Worker *w)
{
    for (guint k = 0; k < SLOTS; k++)
        if (w->slots[k].index >= 0 && !w->slots[k].verifying) {
            give_back(w->m, (guint)w->slots[k].index);
            slot_free(&w->slots[k]);
        }
}

/* A free slot, or NULL. */
static Slot *
slot_spare(Worker *w)
{
    for (guint k = 0; k < SLOTS; k++)
        if (w->slots[k].index < 0)
            return &w->slots[k];
    return NULL;
}

static gpointer
source_thread(gpointer data)
{
    Worker *w = data;
    Multi *m = w->m;
    PorchClient *c = w->src->client;
    int saved_timeout = c->timeout;
    g_autoptr(GError) error = NULL;

    c->timeout = m->plan->stall_seconds > 0 ? m->plan->stall_seconds : DEFAULT_STALL_S;
    for (guint k = 0; k < SLOTS; k++)
        w->slots[k].index = -1;
    if (!open_remote(w, &error)) {
        drop(w, error->message, FALSE);
        goto out;
    }
    for (guint k = 0; k < SLOTS; k++)
        w->slots[k].buf = g_aligned_alloc(PORCH_MULTIGET_RANGE, 1, PORCH_DIRECT_ALIGN);
    w->to_verify = g_async_queue_new();
    w->verified = g_async_queue_new();
    w->verifier = g_thread_new("porch-verify", verifier_main, w);
    for (;;) {
        Slot *a = NULL, *b = NULL;
        gboolean failed = FALSE;

        if (!slots_collect(w, FALSE)) {
            slots_give_back(w);
            break;
        }
        /* the slots being fetched: @a the one whose range started first, served first */
        for (guint k = 0; k < SLOTS; k++) {
            Slot *s = &w->slots[k];
            if (s->index < 0 || s->verifying)
                continue;
            if (a == NULL || s->start < a->start) {
                b = a;
                a = s;
            } else {
                b = s;
            }
        }
        /* a second range is taken once every read of the first is sent (asked again each
         * time: a dropped source gives its ranges back) */
        if (a == NULL) {
            Slot *f = slot_spare(w);
            gint64 i;
            if (f == NULL) { /* every slot is with the verifier */
                if (!slots_collect(w, TRUE))
                    break;
                continue;
            }
            i = take_range(w, TRUE);
            if (i < 0)
                break; /* nothing in hand, nothing left to take */
            slot_start(m, f, i);
            a = f;
        }
        if (a->next == a->start + a->len && b == NULL) {
            Slot *f = slot_spare(w);
            gint64 i = f != NULL ? take_range(w, FALSE) : -1;
            if (i >= 0) {
                slot_start(m, f, i);
                b = f;
            }
        }
        for (Slot *s = a; w->inflight < READS_IN_FLIGHT && s != NULL; s = s == a ? b : NULL) {
            while (s->index >= 0 && w->inflight < READS_IN_FLIGHT && s->next < s->start + s->len) {
                guint32 n = (guint32)MIN((guint64)c->max_read, s->start + s->len - s->next);
                issue_read(w, s, s->next, n);
                s->next += n;
            }
        }
        if (!porch_client_pump(c, m->cancellable, &error)) {
            failed = TRUE;
        } else if (w->error != NULL) {
            g_propagate_error(&error, g_steal_pointer(&w->error));
            failed = TRUE;
        }
        if (failed) {
            slots_give_back(w);
            drop(w, error->message, FALSE);
            break;
        }
        for (guint k = 0; k < SLOTS; k++) {
            Slot *s = &w->slots[k];
            if (s->index < 0 || s->verifying)
                continue;
            if (s->received == s->len) {
                slot_to_verifier(w, s);
            } else if (range_done(m, (guint)s->index)) {
                /* finished by another source (the end game), or the fetch is over */
                give_back(m, (guint)s->index);
                slot_free(s);
            }
        }
    }
    /* what the verifier holds is hashed and written (or given back) before the source ends */
    g_async_queue_push(w->to_verify, &verifier_stop);
    g_thread_join(g_steal_pointer(&w->verifier));
    slots_collect(w, FALSE);
    /* replies still due are received and dropped, then the handle is closed */
    while (w->inflight > 0 && c->fatal == NULL && porch_client_pump(c, NULL, NULL))
        ;
    /* on a broken connection their callbacks never run: the reads are taken back */
    {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, c->pending);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            PorchPending *pending = v;
            if (pending->fn == on_data) {
                g_free(pending->data);
                pending->fn = NULL;
                pending->data = NULL;
            }
        }
        w->inflight = 0;
    }
    if (w->handle != NULL && c->fatal == NULL) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_byte_array_append(b, w->handle->data, w->handle->len);
        porch_client_send(c, SSH_FXP_CLOSE, b, NULL, 0, NULL, NULL);
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

struct _PorchMultiget {
    Multi m;
    char *local, *part;
    GPtrArray *workers; /* Worker* */
    GPtrArray *threads; /* GThread* */
};

static void
multiget_free(PorchMultiget *mg)
{
    Multi *m = &mg->m;

    if (m->fd >= 0)
        close(m->fd);
    if (m->dfd >= 0)
        close(m->dfd);
    g_clear_error(&m->local_error);
    g_free(m->state);
    g_free(m->takers);
    g_mutex_clear(&m->lock);
    g_cond_clear(&m->cond);
    for (guint i = 0; i < mg->workers->len; i++) {
        Worker *w = g_ptr_array_index(mg->workers, i);
        for (guint k = 0; k < SLOTS; k++)
            g_aligned_free(w->slots[k].buf);
        if (w->to_verify != NULL)
            g_async_queue_unref(w->to_verify);
        if (w->verified != NULL)
            g_async_queue_unref(w->verified);
        if (w->handle != NULL)
            g_byte_array_unref(w->handle);
        g_free(w);
    }
    g_ptr_array_unref(mg->workers);
    g_ptr_array_unref(mg->threads);
    g_free(mg->local);
    g_free(mg->part);
    g_free(mg);
}

PorchMultiget *
porch_multiget_start(const PorchMultigetPlan *plan, const char *local,
                     const PorchMultigetCallbacks *callbacks, GCancellable *cancellable,
                     GError **error)
{
    PorchMultiget *mg = g_new0(PorchMultiget, 1);
    Multi *m = &mg->m;
    struct stat st;
    struct statvfs vfs;

    mg->local = g_strdup(local);
    mg->part = g_strconcat(local, ".part", NULL);
    mg->workers = g_ptr_array_new();
    mg->threads = g_ptr_array_new();
    m->plan = plan;
    m->cb = callbacks;
    m->cancellable = cancellable;
    m->fd = -1;
    m->dfd = -1;
    m->part = mg->part;
    m->n_ranges = plan->size == 0 ? 0 : (guint)((plan->size - 1) / PORCH_MULTIGET_RANGE + 1);
    m->state = g_new0(guint8, m->n_ranges + 1);
    m->takers = g_new0(guint, m->n_ranges + 1);
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    if (g_bytes_get_size(plan->ranges) != (gsize)m->n_ranges * PORCH_SHA256_LEN) {
        g_set_error_literal(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "the origin's range hashes do not match its size");
        goto fail;
    }
    m->fd = open(mg->part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (m->fd < 0 || fstat(m->fd, &st) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", mg->part,
                    g_strerror(errno));
        goto fail;
    }
    {
        /* as the one-source fetch does: a second porch on the same NAME.part stops at once */
        struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(m->fd, F_OFD_SETLK, &lk) != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "%s: another porch is fetching it",
                        mg->part);
            goto fail;
        }
    }
    resume(m, (guint64)st.st_size);
    if (fstatvfs(m->fd, &vfs) == 0 && plan->size > (guint64)st.st_size &&
        (plan->size - (guint64)st.st_size) / MAX(vfs.f_frsize, 1) > vfs.f_bavail) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s: not enough free space", mg->part);
        goto fail;
    }
    if (ftruncate(m->fd, (off_t)plan->size) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", mg->part,
                    g_strerror(errno));
        goto fail;
    }
    m->dfd = porch_direct_open(m->fd, mg->part);
    return mg;
fail:
    multiget_free(mg);
    return NULL;
}

void
porch_multiget_add(PorchMultiget *mg, PorchMultigetSource *source)
{
    Worker *w = g_new0(Worker, 1);

    w->m = &mg->m;
    w->src = source;
    g_mutex_lock(&mg->m.lock);
    mg->m.working++;
    g_mutex_unlock(&mg->m.lock);
    g_ptr_array_add(mg->workers, w);
    g_ptr_array_add(mg->threads, g_thread_new("porch-multiget", source_thread, w));
}

guint64
porch_multiget_get_done(PorchMultiget *mg)
{
    guint64 done;

    g_mutex_lock(&mg->m.lock);
    done = mg->m.done_bytes;
    g_mutex_unlock(&mg->m.lock);
    return done;
}

gboolean
porch_multiget_worth_more_sources(guint64 done, guint64 size, gint64 elapsed_us)
{
    if (done >= size)
        return FALSE;
    if (done == 0 || elapsed_us <= 0)
        return TRUE;
    /* the rest at the pace so far: (size - done) / (done / elapsed) */
    return (double)(size - done) * (double)elapsed_us / (double)done >=
           PORCH_MULTIGET_JOIN_S * G_USEC_PER_SEC;
}

gboolean
porch_multiget_finish(PorchMultiget *mg, GError **error)
{
    Multi *m = &mg->m;
    const PorchMultigetPlan *plan = m->plan;
    const PorchMultigetCallbacks *callbacks = m->cb;
    gboolean ok = FALSE;
    gint64 last_progress = 0;

    g_mutex_lock(&m->lock);
    for (;;) {
        guint working = m->working;
        gint64 now = g_get_monotonic_time();

        if (m->done_bytes == plan->size)
            m->stop = TRUE;
        if (m->working == 0)
            break;
        if (callbacks != NULL && callbacks->progress != NULL &&
            now - last_progress >= PROGRESS_US) {
            guint64 done = m->done_bytes;
            last_progress = now;
            g_mutex_unlock(&m->lock);
            callbacks->progress(done, plan->size, working, callbacks->user_data);
            g_mutex_lock(&m->lock);
            continue;
        }
        if (g_cancellable_is_cancelled(m->cancellable))
            m->stop = TRUE;
        g_cond_wait_until(&m->cond, &m->lock, now + PROGRESS_US);
    }
    g_mutex_unlock(&m->lock);
    for (guint i = 0; i < mg->threads->len; i++) {
        Worker *w = g_ptr_array_index(mg->workers, i);
        g_thread_join(g_ptr_array_index(mg->threads, i));
        if (w->src->dropped != NULL && callbacks != NULL && callbacks->dropped != NULL)
            callbacks->dropped(w->src, w->src->dropped, callbacks->user_data);
    }
    if (callbacks != NULL && callbacks->progress != NULL)
        callbacks->progress(m->done_bytes, plan->size, 0, callbacks->user_data);
    if (m->local_error != NULL) {
        g_propagate_prefixed_error(error, g_steal_pointer(&m->local_error), "%s: ", mg->part);
        goto done;
    }
    if (g_cancellable_set_error_if_cancelled(m->cancellable, error))
        goto done;
    if (m->done_bytes != plan->size) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "every source failed with %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                    " bytes verified (%s kept for a resume)",
                    m->done_bytes, plan->size, mg->part);
        goto done;
    }
    if (fsync(m->fd) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", mg->part,
                    g_strerror(errno));
        goto done;
    }
    if (plan->sha256 != NULL && !whole_hash_is(m->fd, plan->size, plan->sha256, error)) {
        unlink(mg->part);
        goto done;
    }
    if (plan->mtime >= 0) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = plan->mtime}};
        futimens(m->fd, ts);
    }
    if (rename(mg->part, mg->local) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", mg->local,
                    g_strerror(errno));
        goto done;
    }
    ok = TRUE;
done:
    multiget_free(mg);
    return ok;
}

gboolean
porch_multiget(PorchMultigetSource *sources, guint n_sources, const PorchMultigetPlan *plan,
               const char *local, const PorchMultigetCallbacks *callbacks,
               GCancellable *cancellable, GError **error)
{
    PorchMultiget *mg;

    g_return_val_if_fail(n_sources > 0, FALSE);
    mg = porch_multiget_start(plan, local, callbacks, cancellable, error);
    if (mg == NULL)
        return FALSE;
    for (guint i = 0; i < n_sources; i++)
        porch_multiget_add(mg, &sources[i]);
    return porch_multiget_finish(mg, error);
}
