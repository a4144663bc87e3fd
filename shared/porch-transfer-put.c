/* porch-transfer-put.c — put: uploading files and trees (porch-transfer.c has the engine they
 * share).
 *
 * put: data goes to a new hidden file beside the target (created exclusively), which gets
 * mode and mtime, is fsync'ed (fsync@openssh.com), closed and then renamed over the target
 * (posix-rename@openssh.com with --force, else a plain RENAME, which refuses to replace). */
#include "porch-transfer-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- put ----------------------------------------------------------------------------- */

static void
on_put_renamed(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;

    (void)c;
    if (porch_transfer_req_live(q)) {
        GError *e = NULL;
        if (porch_reply_status_ok(type, r, j->remote, &e)) {
            j->temp_made = FALSE;
            porch_transfer_job_done(j);
        } else {
            /* a plain RENAME refuses to replace: the target appeared meanwhile */
            if (!(j->t->flags & PORCH_TRANSFER_FORCE) && e->code == G_IO_ERROR_FAILED) {
                g_clear_error(&e);
                e = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_EXISTS,
                                        "exists (use --force to replace it)");
            }
            porch_transfer_job_fail(j, j->remote, e);
        }
    }
    porch_transfer_req_done(q);
}

static void
on_put_closed(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;

    if (porch_transfer_req_live(q)) {
        GError *e = NULL;
        if (!porch_reply_status_ok(type, r, j->remote, &e)) {
            porch_transfer_job_fail(j, j->remote, e);
        } else {
            g_autoptr(GByteArray) b = g_byte_array_new();
            gboolean replace = (j->t->flags & PORCH_TRANSFER_FORCE) && c->has_posix_rename;
            if (replace)
                porch_wire_put_cstring(b, PORCH_WIRE_EXT_POSIX_RENAME);
            porch_wire_put_cstring(b, j->part);
            porch_wire_put_cstring(b, j->remote);
            porch_client_send(c, replace ? SSH_FXP_EXTENDED : SSH_FXP_RENAME, b, NULL, 0,
                              on_put_renamed, porch_transfer_req_new(j, 0, 0, 0));
        }
    }
    porch_transfer_req_done(q);
}

static void
on_put_status(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;

    (void)c;
    if (porch_transfer_req_live(q)) {
        GError *e = NULL;
        if (!porch_reply_status_ok(type, r, j->remote, &e))
            porch_transfer_job_fail(j, j->remote, e);
    }
    porch_transfer_req_done(q);
}

static void
put_writes_verified(PorchTransferJob *j)
{
    PorchClient *c = j->t->c;
    g_autoptr(GByteArray) b = g_byte_array_new();
    struct stat st;

    if (fstat(j->fd, &st) != 0 || (guint64)st.st_size != j->size ||
        (j->mtime >= 0 && st.st_mtim.tv_sec != j->mtime)) {
        porch_transfer_job_fail(
                j, j->local,
                g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_CHANGED,
                                    "changed while it was being sent; send it again"));
        return;
    }
    j->state = JOB_FINISHING;
    g_byte_array_append(b, j->handle->data, j->handle->len);
    porch_put_attrs(b, j->mode, j->mtime);
    porch_client_send(c, SSH_FXP_FSETSTAT, b, NULL, 0, on_put_status,
                      porch_transfer_req_new(j, 0, 0, 0));
    if (c->has_fsync) {
        g_byte_array_set_size(b, 0);
        porch_wire_put_cstring(b, PORCH_WIRE_EXT_FSYNC);
        g_byte_array_append(b, j->handle->data, j->handle->len);
        porch_client_send(c, SSH_FXP_EXTENDED, b, NULL, 0, on_put_status,
                          porch_transfer_req_new(j, 0, 0, 0));
    }
    porch_client_send(c, SSH_FXP_CLOSE, j->handle, NULL, 0, on_put_closed,
                      porch_transfer_req_new(j, 0, 0, 0));
    g_clear_pointer(&j->handle, g_byte_array_unref);
}

static void
verify_put_range(PorchTransferJob *j, guint64 k)
{
    PorchTransferRange *rg = porch_transfer_job_range(j, k);

    if (memcmp(rg->mine, rg->server, PORCH_SHA256_LEN) != 0) {
        porch_transfer_job_fail(j, j->remote,
                                g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_VERIFY,
                                            "what the neighbour stored (bytes %" G_GUINT64_FORMAT
                                            "-%" G_GUINT64_FORMAT
                                            ") does not match what was sent; the target "
                                            "was left as it was",
                                            rg->start, rg->start + rg->len));
        return;
    }
    rg->verified = TRUE;
    if (porch_transfer_job_ranges_verified(j))
        put_writes_verified(j);
}

static void
on_put_range_check(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;

    (void)c;
    if (porch_transfer_req_live(q) && porch_transfer_range_check_reply(q, type, r))
        verify_put_range(j, q->range);
    porch_transfer_req_done(q);
}

static void
on_put_write(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;
    PorchTransfer *t = j->t;

    (void)c;
    t->reqs--;
    t->bytes_in_flight -= q->len;
    if (porch_transfer_req_live(q)) {
        GError *e = NULL;
        if (!porch_reply_status_ok(type, r, j->remote, &e)) {
            porch_transfer_job_fail(j, j->remote, e);
        } else {
            PorchTransferRange *rg = porch_transfer_job_range(j, q->range);
            rg->filled += q->len;
            j->filled += q->len;
            t->p.done_bytes += q->len;
            if (rg->filled == rg->len && rg->have_server)
                verify_put_range(j, q->range);
            porch_transfer_progress(t, j, FALSE);
        }
    }
    porch_transfer_req_done(q);
}

gboolean
porch_transfer_put_issue(PorchTransferJob *j)
{
    PorchTransfer *t = j->t;
    guint64 range;
    PorchTransferRange *rg;
    guint32 len;
    g_autoptr(GByteArray) b = NULL;
    gsize got = 0;

    if (j->state != JOB_DATA || j->next >= j->size ||
        (rg = porch_transfer_job_next_range(j)) == NULL)
        return FALSE;
    range = porch_transfer_job_range_of(j, j->next);
    len = (guint32)MIN((guint64)t->c->max_write, rg->start + rg->len - j->next);
    while (got < len) {
        ssize_t n = pread(j->fd, t->buf + got, len - got, (off_t)(j->next + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            porch_transfer_job_fail(j, j->local, porch_transfer_local_error(errno, NULL));
            return FALSE;
        }
        if (n == 0) {
            porch_transfer_job_fail(
                    j, j->local,
                    g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_CHANGED,
                                        "shrank while it was being sent; send it again"));
            return FALSE;
        }
        got += (gsize)n;
    }
    porch_sha256_update(rg->sha, t->buf, len);
    b = g_byte_array_sized_new(j->handle->len + 12);
    g_byte_array_append(b, j->handle->data, j->handle->len);
    porch_wire_put_u64(b, j->next);
    porch_wire_put_u32(b, len);
    t->reqs++;
    t->bytes_in_flight += len;
    porch_client_send(t->c, SSH_FXP_WRITE, b, t->buf, len, on_put_write,
                      porch_transfer_req_new(j, j->next, len, range));
    j->next += len;
    if (j->next == rg->start + rg->len) {
        porch_sha256_finish(rg->sha, rg->mine);
        rg->have_mine = TRUE;
        porch_transfer_job_send_check(j, rg->start, rg->len, range, on_put_range_check);
    }
    return TRUE;
}

static void
on_put_open(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
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
        } else {
            j->temp_made = TRUE;
            porch_transfer_job_ranges_begin(j, 0);
            j->state = JOB_DATA;
            if (porch_transfer_job_ranges_verified(j))
                put_writes_verified(j);
        }
    }
    porch_transfer_req_done(q);
}

static void
put_open(PorchTransferJob *j)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    porch_wire_put_cstring(b, j->part);
    porch_wire_put_u32(b, SSH_FXF_READ | SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_EXCL);
    porch_put_attrs(b, 0600, -1);
    porch_client_send(j->t->c, SSH_FXP_OPEN, b, NULL, 0, on_put_open,
                      porch_transfer_req_new(j, 0, 0, 0));
}

/* The target first: without --force, nothing is created before it is known not to exist;
 * with --force, a file it replaces keeps its mode. */
static void
on_put_target_stat(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    PorchTransferReq *q = data;
    PorchTransferJob *j = q->job;
    guint32 code = 0;
    GError *e = NULL;
    PorchRemoteFile f = {0};

    (void)c;
    if (porch_transfer_req_live(q)) {
        if (type == SSH_FXP_ATTRS && !(j->t->flags & PORCH_TRANSFER_FORCE)) {
            porch_transfer_job_fail(j, j->remote,
                                    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_EXISTS,
                                                        "exists (use --force to replace it)"));
        } else if (type == SSH_FXP_ATTRS) {
            if (porch_get_attrs(r, &f) && f.type == PORCH_REMOTE_FILE)
                j->mode = (gint)f.mode;
            put_open(j);
        } else if (type == SSH_FXP_STATUS &&
                   porch_wire_get_u32(&(PorchWireReader){r->p, r->left}, &code) &&
                   code == SSH_FX_NO_SUCH_FILE) {
            put_open(j);
        } else if (!porch_reply_status_ok(type, r, j->remote, &e) || e != NULL) {
            porch_transfer_job_fail(j, j->remote, e);
        } else {
            porch_transfer_job_fail(j, j->remote,
                                    g_error_new_literal(PORCH_CLIENT_ERROR,
                                                        PORCH_CLIENT_ERROR_PROTOCOL,
                                                        "an unexpected reply to STAT"));
        }
    }
    porch_transfer_req_done(q);
}

void
porch_transfer_put_start(PorchTransferJob *j)
{
    PorchTransfer *t = j->t;
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *dir = g_path_get_dirname(j->remote);
    char rnd[13];
    struct stat st;

    j->state = JOB_OPENING;
    j->fd = open(j->local, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (j->fd < 0 || fstat(j->fd, &st) != 0) {
        porch_transfer_job_fail(j, j->local, porch_transfer_local_error(errno, NULL));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        porch_transfer_job_fail(
                j, j->local,
                g_error_new_literal(G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "not a regular file"));
        return;
    }
    t->p.total_bytes += (guint64)st.st_size - j->size;
    j->size = (guint64)st.st_size;
    /* a new file: the local permissions, always writable by its owner (a file fetched from a
     * share this peer may only read came without write bits); a file replaced keeps its own
     * (on_put_target_stat()) */
    j->mode = (gint)((st.st_mode & 0777) | 0200);
    j->mtime = st.st_mtim.tv_sec;
    for (guint i = 0; i < sizeof rnd - 1; i++)
        rnd[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[g_random_int_range(0, 36)];
    rnd[sizeof rnd - 1] = '\0';
    j->part = g_strdup_printf("%s/" PORCH_WIRE_PUT_TEMP_PREFIX "%s",
                              strcmp(dir, "/") == 0 ? "" : dir, rnd);
    porch_wire_put_cstring(b, j->remote);
    porch_client_send(t->c, SSH_FXP_STAT, b, NULL, 0, on_put_target_stat,
                      porch_transfer_req_new(j, 0, 0, 0));
}

/* ---- put: the walk ----------------------------------------------------------------------- */

static gboolean
remote_mkdir(PorchTransfer *t, const char *remote, gint mode, GError **fatal)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    GError *e = NULL;
    g_autoptr(PorchRemoteFile) st = NULL;

    porch_wire_put_cstring(b, remote);
    porch_put_attrs(b, mode, -1);
    if (porch_client_call_status(t->c, SSH_FXP_MKDIR, b, remote, t->cancellable, &e))
        return TRUE;
    if (t->c->fatal != NULL || g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        *fatal = e;
        return FALSE;
    }
    /* already there as a folder: the tree goes into it */
    st = porch_client_stat(t->c, remote, t->cancellable, NULL);
    if (st != NULL && st->type == PORCH_REMOTE_DIRECTORY) {
        g_error_free(e);
        return TRUE;
    }
    porch_transfer_report_failure(t, remote, e);
    g_error_free(e);
    return FALSE;
}

static gboolean
put_tree(PorchTransfer *t, const char *local, const char *remote, GError **fatal)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) subdirs = g_ptr_array_new_with_free_func(g_free);
    GError *e = NULL;
    const char *name;
    struct stat st;

    if (stat(local, &st) != 0) {
        porch_transfer_report_failure_take(t, local, porch_transfer_local_error(errno, NULL));
        return TRUE;
    }
    /* the local permissions, and always u+rwx: the files of the tree go into it next */
    if (!remote_mkdir(t, remote, (gint)((st.st_mode & 0777) | 0700), fatal))
        return *fatal == NULL;
    dir = g_dir_open(local, 0, &e);
    if (dir == NULL) {
        porch_transfer_report_failure(t, local, e);
        g_error_free(e);
        return TRUE;
    }
    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *l = g_build_filename(local, name, NULL);
        g_autofree char *r = porch_transfer_join_remote(remote, name);

        if (lstat(l, &st) != 0) {
            porch_transfer_report_failure_take(t, l, porch_transfer_local_error(errno, NULL));
        } else if (S_ISREG(st.st_mode)) {
            porch_transfer_job_new(t, r, l, (guint64)st.st_size, (gint)(st.st_mode & 07777),
                                   st.st_mtim.tv_sec);
        } else if (S_ISDIR(st.st_mode)) {
            g_ptr_array_add(subdirs, g_steal_pointer(&l));
        } else {
            porch_transfer_notice(t, l, "not a regular file or folder: skipped");
        }
    }
    porch_transfer_schedule(t);
    porch_transfer_progress(t, NULL, FALSE);
    for (guint i = 0; i < subdirs->len; i++) {
        const char *l = g_ptr_array_index(subdirs, i);
        g_autofree char *base = g_path_get_basename(l);
        g_autofree char *r = porch_transfer_join_remote(remote, base);
        if (!put_tree(t, l, r, fatal))
            return FALSE;
    }
    return TRUE;
}

gboolean
porch_transfer_put(PorchClient *c, const char *local, const char *remote, PorchTransferFlags flags,
                   const PorchTransferCallbacks *cb, GCancellable *cancellable, GError **error)
{
    PorchTransfer t;
    struct stat st;
    g_autoptr(PorchRemoteFile) dest = NULL;
    g_autofree char *base = NULL;
    g_autofree char *target = NULL;
    GError *e = NULL;
    gboolean ok = TRUE;

    g_return_val_if_fail(c != NULL && remote != NULL && local != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    porch_transfer_init(&t, c, TRUE, flags, cb, cancellable);
    if (!c->has_check_file) {
        porch_transfer_report_failure_take(
                &t, remote,
                g_error_new_literal(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_UNSUPPORTED,
                                    "the server cannot hash files (no check-file): "
                                    "nothing could be verified"));
        return porch_transfer_finish(&t, error, NULL);
    }
    if (stat(local, &st) != 0) {
        porch_transfer_report_failure_take(&t, local, porch_transfer_local_error(errno, NULL));
        return porch_transfer_finish(&t, error, NULL);
    }
    base = g_path_get_basename(local);
    dest = porch_client_stat(c, remote, cancellable, &e);
    if (dest == NULL && (c->fatal != NULL || g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
        return porch_transfer_finish(&t, error, e);
    g_clear_error(&e);
    target = (dest != NULL && dest->type == PORCH_REMOTE_DIRECTORY)
                     ? porch_transfer_join_remote(remote, base)
                     : g_strdup(remote);
    if (S_ISDIR(st.st_mode)) {
        if (!(flags & PORCH_TRANSFER_RECURSIVE)) {
            porch_transfer_report_failure_take(&t, local,
                                               g_error_new_literal(G_IO_ERROR,
                                                                   G_IO_ERROR_IS_DIRECTORY,
                                                                   "is a folder (use -r)"));
            return porch_transfer_finish(&t, error, NULL);
        }
        ok = put_tree(&t, local, target, &e);
    } else if (S_ISREG(st.st_mode)) {
        porch_transfer_job_new(&t, target, local, (guint64)st.st_size, (gint)(st.st_mode & 07777),
                               st.st_mtim.tv_sec);
    } else {
        porch_transfer_report_failure_take(&t, local,
                                           g_error_new_literal(G_IO_ERROR,
                                                               G_IO_ERROR_NOT_REGULAR_FILE,
                                                               "not a regular file or folder"));
    }
    t.p.listing_done = TRUE;
    if (ok)
        ok = porch_transfer_run(&t, 0, &e);
    if (!ok)
        porch_transfer_abandon(&t);
    return porch_transfer_finish(&t, error, ok ? NULL : e);
}

/* Whether @fn is one of put's reply callbacks (porch_transfer_abandon() drops their requests). */
gboolean
porch_transfer_put_owns_reply(PorchReplyFunc fn)
{
    static const PorchReplyFunc replies[] = {
            on_put_renamed, on_put_closed, on_put_status,      on_put_range_check,
            on_put_write,   on_put_open,   on_put_target_stat,
    };

    for (guint i = 0; i < G_N_ELEMENTS(replies); i++)
        if (fn == replies[i])
            return TRUE;
    return FALSE;
}
