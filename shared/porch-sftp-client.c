/* porch-sftp-client.c — Porch's SFTP client: connection, host key pinning, the protocol
 * engine, listing, and the requests that change a share (remove, mkdir, rename). Transfers are in
 * porch-transfer.c (porch-transfer.h).
 *
 * The SSH transport, key exchange, host key and user authentication are libssh's. The SFTP
 * packets are written here, over a libssh channel, and not with libssh 0.10's sftp_* client
 * calls, because those cannot do what Porch's client needs (libssh 0.10.6, Debian 12):
 * they send no extended requests other than statvfs/fsync, so no check-file (the server's
 * SHA-256 that verifies every transfer), no posix-rename (the atomic replace of an upload)
 * and no limits@openssh.com; sftp_write() waits for each WRITE's reply, so uploads cannot be
 * pipelined; and sftp_open()/sftp_stat() wait for their replies, so a tree cannot have many
 * files in flight on one connection. Here every request is asynchronous: it carries a
 * callback that runs when its reply arrives, and the caller pumps the connection. */
#include "porch-sftp-client-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "porch-auto.h"
#include "porch-channel.h"
#include "porch-ciphers.h"
#include "porch-config.h"
#include "porch-hash.h"
#include "porch-identity.h"
#include "porch-text.h"

G_DEFINE_QUARK(porch - client - error - quark, porch_client_error)

/* What we read at most per call: the channel's window grows to this (libssh grows the
 * window to what a read asks for), so that the server never waits for a window adjust. */
#define PORCH_IN_BUFFER     (8u << 20)
#define PORCH_MAX_IN_PACKET (PORCH_SFTP_DEFAULT_MAX_PACKET + 1024)
/* A DATA reply at least this big goes to the sink */
#define PORCH_SINK_MIN (64u * 1024u)

G_STATIC_ASSERT(PORCH_SINK_SIZE >= PORCH_SINK_DATA + PORCH_MAX_IN_PACKET);

/* ---- packets ------------------------------------------------------------------------- */

gboolean
porch_get_attrs(PorchWireReader *r, PorchRemoteFile *f)
{
    PorchWireAttrs a;

    f->type = PORCH_REMOTE_OTHER;
    f->mtime = -1;
    f->size = 0;
    f->mode = 0;
    if (!porch_wire_get_attrs(r, &a))
        return FALSE;
    if (a.flags & SSH_FILEXFER_ATTR_SIZE)
        f->size = a.size;
    if (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) {
        f->mode = a.permissions & 07777;
        switch (a.permissions & S_IFMT) {
        case S_IFREG:
            f->type = PORCH_REMOTE_FILE;
            break;
        case S_IFDIR:
            f->type = PORCH_REMOTE_DIRECTORY;
            break;
        case S_IFLNK:
            f->type = PORCH_REMOTE_SYMLINK;
            break;
        default:
            f->type = PORCH_REMOTE_OTHER;
            break;
        }
    }
    if (a.flags & SSH_FILEXFER_ATTR_ACMODTIME)
        f->mtime = a.mtime;
    return TRUE;
}

void
porch_put_attrs(GByteArray *b, gint mode, gint64 mtime)
{
    guint32 flags = (mode >= 0 ? SSH_FILEXFER_ATTR_PERMISSIONS : 0) |
                    (mtime >= 0 ? SSH_FILEXFER_ATTR_ACMODTIME : 0);

    porch_wire_put_u32(b, flags);
    if (mode >= 0)
        porch_wire_put_u32(b, (guint32)mode & 07777);
    if (mtime >= 0) {
        porch_wire_put_u32(b, (guint32)mtime); /* atime: the same */
        porch_wire_put_u32(b, (guint32)mtime);
    }
}

void
porch_remote_file_free(PorchRemoteFile *f)
{
    if (f == NULL)
        return;
    g_free(f->name);
    g_free(f);
}

/* ---- errors ---------------------------------------------------------------------------- */

/* An SFTP status as a GError about @path, by its code alone: the message is for people (it
 * becomes the error's message, except for the two codes whose words we choose). Codes 11 and
 * 14 come only from a server that knows the extended codes (porch-wire.h, porchd); from any
 * other, an existing name or a full disk is FAILURE like any other failure. */
GError *
porch_status_error(guint32 code, const char *message, const char *path)
{
    GIOErrorEnum e;
    const char *what;

    switch (code) {
    case SSH_FX_NO_SUCH_FILE:
        e = G_IO_ERROR_NOT_FOUND;
        what = "No such file or folder";
        break;
    case SSH_FX_PERMISSION_DENIED:
        e = G_IO_ERROR_PERMISSION_DENIED;
        what = "Permission denied";
        break;
    case SSH_FX_OP_UNSUPPORTED:
        e = G_IO_ERROR_NOT_SUPPORTED;
        what = "Not supported";
        break;
    case SSH_FX_NO_CONNECTION:
    case SSH_FX_CONNECTION_LOST:
        e = G_IO_ERROR_CONNECTION_CLOSED;
        what = "Connection lost";
        break;
    case SSH_FX_EOF:
        e = G_IO_ERROR_FAILED;
        what = "Unexpected end of file";
        break;
    case SSH_FX_FILE_ALREADY_EXISTS:
        e = G_IO_ERROR_EXISTS;
        what = "Exists already";
        break;
    case PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM:
        e = G_IO_ERROR_NO_SPACE;
        what = "No space left on the server's disk";
        break;
    default:
        e = G_IO_ERROR_FAILED;
        what = "Failed";
        break;
    }
    /* OpenSSH and porchd say what failed in the message ("No space left on device") */
    if (message != NULL && *message != '\0' && code != SSH_FX_NO_SUCH_FILE &&
        code != SSH_FX_PERMISSION_DENIED)
        what = message;
    return g_error_new(G_IO_ERROR, e, "%s", what);
}

static void
set_fatal(PorchClient *c, GError *e)
{
    if (c->fatal == NULL)
        c->fatal = e;
    else
        g_error_free(e);
}

static void
set_ssh_fatal(PorchClient *c, const char *what)
{
    set_fatal(c, g_error_new(G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "%s: %s", what,
                             ssh_get_error(c->ssh)));
}

/* ---- the engine ---------------------------------------------------------------------- */

guint32
porch_client_send(PorchClient *c, guint8 type, const GByteArray *body, const void *tail,
                  gsize tail_len, PorchReplyFunc fn, gpointer data)
{
    guint32 id = c->next_id++;
    gsize len = 1 + 4 + (body ? body->len : 0) + tail_len;
    PorchPending *p;
    const guint8 *at;
    gsize left;

    if (id == 0) /* 0 is never an id: the id after 2^32 - 1 requests */
        id = c->next_id++;
    /* the reply clock runs while something is awaited */
    if (g_hash_table_size(c->pending) == 0)
        c->waited = 0;
    p = g_new(PorchPending, 1);
    p->fn = fn;
    p->data = data;
    g_hash_table_insert(c->pending, GUINT_TO_POINTER(id), p);
    if (c->fatal != NULL)
        return id;
    g_byte_array_set_size(c->out, 0);
    porch_wire_put_u32(c->out, (guint32)len);
    g_byte_array_append(c->out, &type, 1);
    porch_wire_put_u32(c->out, id);
    if (body != NULL)
        g_byte_array_append(c->out, body->data, body->len);
    if (tail_len > 0)
        g_byte_array_append(c->out, tail, (guint)tail_len);
    at = c->out->data;
    left = c->out->len;
    while (left > 0) {
        int n = ssh_channel_write(c->chan, at, (guint32)MIN(left, G_MAXINT32));
        if (n <= 0) {
            set_ssh_fatal(c, "cannot send");
            return id;
        }
        at += n;
        left -= (gsize)n;
    }
    c->requests++;
    return id;
}

/* A whole reply (@pkt: its type, request id and payload) goes to the callback of the request
 * it answers; a reply without an id or to no request pending breaks the connection. */
static void
dispatch_reply(PorchClient *c, const guint8 *pkt, gsize len)
{
    PorchWireReader r = {pkt + 1, len - 1};
    guint8 type = pkt[0];
    guint32 id;
    PorchPending *p;

    if (!porch_wire_get_u32(&r, &id)) {
        set_fatal(c, g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                                 "a reply without a request id"));
        return;
    }
    p = g_hash_table_lookup(c->pending, GUINT_TO_POINTER(id));
    if (p == NULL) {
        set_fatal(c, g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                                 "a reply to no request (id %u)", id));
        return;
    }
    g_hash_table_steal(c->pending, GUINT_TO_POINTER(id));
    c->waited = 0;
    if (p->fn != NULL)
        p->fn(c, type, &r, p->data);
    g_free(p);
}

guint8 *
porch_sink_buffer_new(void)
{
    return g_aligned_alloc(1, PORCH_SINK_SIZE, PORCH_SINK_DATA);
}

guint8 *
porch_client_take_sink(PorchClient *c, const guint8 *data, guint8 *replacement)
{
    guint8 *taken = c->sink;

    if (taken == NULL || data != taken + PORCH_SINK_DATA)
        return NULL;
    c->sink = replacement;
    return taken;
}

/* Reads what has arrived (waiting up to 200 ms for something) and runs the callbacks of
 * every complete reply. FALSE when the connection failed (c->fatal) or @cancellable was
 * cancelled.
 *
 * The reply timeout counts the time spent here waiting for the network since the last whole
 * reply (c->waited), not the time since the last byte: a server that sends a byte now and
 * then makes no progress, and is given up after c->timeout seconds as one that is silent.
 * Time the caller spends elsewhere (writing to a slow disk) does not count. */
gboolean
porch_client_pump(PorchClient *c, GCancellable *cancellable, GError **error)
{
    gsize at;
    gint64 before;
    int n;

    if (c->fatal == NULL && g_cancellable_set_error_if_cancelled(cancellable, error))
        return FALSE;
    if (c->fatal != NULL) {
        g_propagate_error(error, g_error_copy(c->fatal));
        return FALSE;
    }
    /* A big DATA reply arrives over several reads. What is left undispatched moves to the
     * front only when the free tail could not hold a whole packet: moving it after every
     * read copied each byte of a 255 KiB reply up to seven more times. */
    if (c->in_cap - c->in_len < PORCH_MAX_IN_PACKET + 4 && c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
        c->in_len -= c->in_start;
        c->in_start = 0;
    }
    before = g_get_monotonic_time();
    if (c->sink_want > 0) /* the rest of a big DATA reply's payload */
        n = porch_channel_read_timeout(c->chan, c->sink + PORCH_SINK_DATA + c->sink_have,
                                       c->sink_want - c->sink_have, 0, 200);
    else
        n = porch_channel_read_timeout(c->chan, c->in + c->in_len, (guint32)(c->in_cap - c->in_len),
                                       0, 200);
    c->waited += g_get_monotonic_time() - before;
    if (n < 0) {
        set_ssh_fatal(c, "connection lost");
    } else if (n == 0) {
        if (ssh_channel_is_eof(c->chan) || ssh_channel_is_closed(c->chan))
            set_fatal(c, g_error_new(G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                     "the neighbour closed the connection"));
    } else if (c->sink_want > 0) {
        c->sink_have += (guint32)n;
        if (c->sink_have == c->sink_want) {
            guint32 len = c->sink_want;
            c->sink_want = c->sink_have = 0;
            dispatch_reply(c, c->sink + PORCH_SINK_DATA - 9, 9 + len);
        }
    } else {
        c->in_len += (gsize)n;
    }
    /* every complete packet */
    at = c->in_start;
    while (c->fatal == NULL && c->in_len - at >= 4) {
        PorchWireReader r = {c->in + at, 4};
        guint32 plen, dlen;

        porch_wire_get_u32(&r, &plen);
        if (plen < 5 || plen > PORCH_MAX_IN_PACKET) {
            set_fatal(c, g_error_new(PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                                     "an SFTP packet of %u bytes", plen));
            break;
        }
        if (c->in_len - at >= 4 + (gsize)plen) {
            dispatch_reply(c, c->in + at + 4, plen);
            at += 4 + plen;
            continue;
        }
        /* The last packet is incomplete: if it is a big DATA reply (type, id, the data's
         * length, the data) whose header is here, the rest goes to the sink. */
        r.p = c->in + at + 9;
        r.left = 4;
        if (c->in_len - at >= 13 && c->in[at + 4] == SSH_FXP_DATA &&
            porch_wire_get_u32(&r, &dlen) && plen == 9 + dlen && dlen >= PORCH_SINK_MIN) {
            gsize have = c->in_len - at - 13;
            if (c->sink == NULL)
                c->sink = porch_sink_buffer_new();
            memcpy(c->sink + PORCH_SINK_DATA - 9, c->in + at + 4, 9);
            memcpy(c->sink + PORCH_SINK_DATA, c->in + at + 13, have);
            c->sink_want = dlen;
            c->sink_have = (guint32)have;
            at = c->in_len;
        }
        break;
    }
    c->in_start = at;
    if (c->in_start == c->in_len)
        c->in_start = c->in_len = 0;
    if (c->fatal == NULL && g_hash_table_size(c->pending) > 0 &&
        c->waited > (gint64)c->timeout * G_USEC_PER_SEC)
        set_fatal(c,
                  g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                              "timed out: no whole reply from the neighbour for %d s", c->timeout));
    if (c->fatal != NULL) {
        g_propagate_error(error, g_error_copy(c->fatal));
        return FALSE;
    }
    return TRUE;
}

/* ---- calls that wait for their reply ------------------------------------------------- */

typedef struct {
    gboolean done;
    guint8 type;
    GBytes *payload;
} SyncReply;

static void
sync_reply(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    SyncReply *s = data;

    (void)c;
    s->done = TRUE;
    s->type = type;
    s->payload = g_bytes_new(r->p, r->left);
}

/* Sends a request and pumps until its reply is in; the replies of other requests are
 * dispatched meanwhile. Returns the reply's payload (after the id), or NULL with @error. */
GBytes *
porch_client_call(PorchClient *c, guint8 type, const GByteArray *body, guint8 *reply_type,
                  GCancellable *cancellable, GError **error)
{
    SyncReply s = {0};

    porch_client_send(c, type, body, NULL, 0, sync_reply, &s);
    while (!s.done) {
        if (!porch_client_pump(c, cancellable, error)) {
            if (!s.done) {
                /* the callback must not run once we are gone */
                GHashTableIter it;
                gpointer k, v;
                g_hash_table_iter_init(&it, c->pending);
                while (g_hash_table_iter_next(&it, &k, &v))
                    if (((PorchPending *)v)->data == &s)
                        ((PorchPending *)v)->fn = NULL;
            }
            g_clear_pointer(&s.payload, g_bytes_unref);
            return NULL;
        }
    }
    *reply_type = s.type;
    return s.payload;
}

/* A reply that must be a STATUS: TRUE when it is OK, else @error about @path. */
gboolean
porch_reply_status_ok(guint8 type, PorchWireReader *r, const char *path, GError **error)
{
    guint32 code;
    const guint8 *msg = NULL;
    guint32 mlen = 0;
    g_autofree char *m = NULL;

    if (type != SSH_FXP_STATUS || !porch_wire_get_u32(r, &code)) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "an unexpected reply (type %u)", type);
        return FALSE;
    }
    if (code == SSH_FX_OK)
        return TRUE;
    if (porch_wire_get_string(r, &msg, &mlen)) {
        /* a line for people: up to PORCH_SFTP_MAX_MESSAGE bytes, up to a NUL */
        const guint8 *nul = memchr(msg, '\0', mlen);
        gsize text = nul != NULL ? (gsize)(nul - msg) : mlen;
        gsize keep = MIN(text, PORCH_SFTP_MAX_MESSAGE);
        g_autofree char *valid = g_utf8_make_valid((const char *)msg, (gssize)keep);
        m = keep < text ? g_strconcat(valid, "…", NULL) : g_steal_pointer(&valid);
    }
    g_propagate_error(error, porch_status_error(code, m, path));
    return FALSE;
}

gboolean
porch_parse_check_file(guint8 type, PorchWireReader *r, guint8 *digest, const char *path,
                       GError **error)
{
    const guint8 *s;
    guint32 len;

    if (type == SSH_FXP_STATUS) {
        if (porch_reply_status_ok(type, r, path, error))
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "no hash from the server");
        return FALSE;
    }
    if (type != SSH_FXP_EXTENDED_REPLY || !porch_wire_get_string(r, &s, &len) ||
        !porch_wire_get_string(r, &s, &len) || len != strlen(PORCH_WIRE_CHECK_FILE_SHA256) ||
        memcmp(s, PORCH_WIRE_CHECK_FILE_SHA256, len) != 0 || r->left != PORCH_SHA256_LEN) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "a malformed check-file reply");
        return FALSE;
    }
    memcpy(digest, r->p, PORCH_SHA256_LEN);
    return TRUE;
}

GBytes *
porch_client_call_expect(PorchClient *c, guint8 type, const GByteArray *body, guint8 expect,
                         const char *path, GCancellable *cancellable, GError **error)
{
    guint8 got = 0;
    g_autoptr(GBytes) reply = porch_client_call(c, type, body, &got, cancellable, error);
    gsize len = 0;
    PorchWireReader r;

    if (reply == NULL)
        return NULL;
    r.p = g_bytes_get_data(reply, &len);
    r.left = len;
    if (got == expect)
        return g_steal_pointer(&reply);
    if (got == SSH_FXP_STATUS && expect != SSH_FXP_STATUS) {
        if (porch_reply_status_ok(got, &r, path, error))
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "%s: an OK status where data was expected", path);
        return NULL;
    }
    g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                "%s: an unexpected reply (type %u)", path, got);
    return NULL;
}

gboolean
porch_client_call_status(PorchClient *c, guint8 type, const GByteArray *body, const char *path,
                         GCancellable *cancellable, GError **error)
{
    g_autoptr(GBytes) reply =
            porch_client_call_expect(c, type, body, SSH_FXP_STATUS, path, cancellable, error);
    PorchWireReader r;
    gsize len = 0;

    if (reply == NULL)
        return FALSE;
    r.p = g_bytes_get_data(reply, &len);
    r.left = len;
    return porch_reply_status_ok(SSH_FXP_STATUS, &r, path, error);
}

/* ---- listing ---------------------------------------------------------------------------- */

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    const PorchRemoteFile *x = *(PorchRemoteFile *const *)a, *y = *(PorchRemoteFile *const *)b;
    return strcmp(x->name, y->name);
}

/* Whether @name (of @len bytes) can be a file's name: not empty, no '/', no NUL. */
static gboolean
is_file_name(const guint8 *name, guint32 len)
{
    return len > 0 && memchr(name, '/', len) == NULL && memchr(name, '\0', len) == NULL;
}

gboolean
porch_parse_names(PorchWireReader *r, PorchListing *l, GError **error)
{
    guint32 count, len;
    const guint8 *s;

    /* an entry takes at least 12 bytes: its name, long name and ATTRS flags */
    if (!porch_wire_get_u32(r, &count) || count > r->left / 12) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "a malformed listing (a NAME reply that claims %u entries in %" G_GSIZE_FORMAT
                    " bytes)",
                    count, r->left);
        return FALSE;
    }
    if (l->entries + count > PORCH_LIST_MAX_ENTRIES) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_LIMIT,
                    "the listing has more than %u entries: refused", PORCH_LIST_MAX_ENTRIES);
        return FALSE;
    }
    l->entries += count;
    for (guint32 i = 0; i < count; i++) {
        g_autoptr(PorchRemoteFile) f = g_new0(PorchRemoteFile, 1);
        const guint8 *name;
        guint32 name_len;

        if (!porch_wire_get_string(r, &name, &name_len) || !porch_wire_get_string(r, &s, &len) ||
            !porch_get_attrs(r, f)) {
            g_set_error_literal(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                                "a malformed listing (an entry cut short)");
            return FALSE;
        }
        l->name_bytes += name_len;
        if (l->name_bytes > PORCH_LIST_MAX_NAME_BYTES) {
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_LIMIT,
                        "the listing has more than %u MiB of names: refused",
                        PORCH_LIST_MAX_NAME_BYTES >> 20);
            return FALSE;
        }
        if ((name_len == 1 && name[0] == '.') || (name_len == 2 && memcmp(name, "..", 2) == 0))
            continue;
        if (is_file_name(name, name_len)) {
            f->name = g_strndup((const char *)name, name_len);
            g_ptr_array_add(l->files, g_steal_pointer(&f));
        } else if (l->refused != NULL) {
            g_autofree char *raw = g_malloc(name_len + 1);
            for (guint32 k = 0; k < name_len; k++)
                raw[k] = name[k] != '\0' ? (char)name[k] : '?';
            raw[name_len] = '\0';
            f->name = porch_text_escape(raw, -1, 255);
            g_ptr_array_add(l->refused, g_steal_pointer(&f));
        }
    }
    return TRUE;
}

void
porch_listing_clear(PorchListing *l)
{
    g_clear_pointer(&l->files, g_ptr_array_unref);
    g_clear_pointer(&l->refused, g_ptr_array_unref);
    l->entries = l->name_bytes = 0;
}

GPtrArray *
porch_client_list_full(PorchClient *c, const char *path, GPtrArray **ret_refused,
                       GCancellable *cancellable, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(GBytes) h = NULL;
    PorchListing l = {0};
    const guint8 *hs;
    guint32 hlen;
    PorchWireReader r;
    gsize len;
    gboolean ok = TRUE;

    g_return_val_if_fail(c != NULL && path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    porch_wire_put_cstring(b, path);
    h = porch_client_call_expect(c, SSH_FXP_OPENDIR, b, SSH_FXP_HANDLE, path, cancellable, error);
    if (h == NULL)
        return NULL;
    r.p = g_bytes_get_data(h, &len);
    r.left = len;
    if (!porch_wire_get_string(&r, &hs, &hlen) || hlen > PORCH_SFTP_MAX_HANDLE) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL, "%s: a bad handle",
                    path);
        return NULL;
    }
    g_byte_array_set_size(b, 0);
    porch_wire_put_string(b, hs, hlen);
    l.files = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
    if (ret_refused != NULL)
        l.refused = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
    for (;;) {
        guint8 type = 0;
        g_autoptr(GBytes) names =
                porch_client_call(c, SSH_FXP_READDIR, b, &type, cancellable, error);
        GError *e = NULL;

        if (names == NULL) {
            porch_listing_clear(&l);
            return NULL;
        }
        r.p = g_bytes_get_data(names, &len);
        r.left = len;
        if (type == SSH_FXP_STATUS) {
            guint32 code = 0;
            PorchWireReader r2 = r;
            if (porch_wire_get_u32(&r2, &code) && code == SSH_FX_EOF)
                break;
            ok = FALSE;
            porch_reply_status_ok(type, &r, path, error);
            break;
        }
        if (type != SSH_FXP_NAME) {
            ok = FALSE;
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "%s: a malformed listing (a reply of type %u)", path, type);
            break;
        }
        if (!porch_parse_names(&r, &l, &e)) {
            ok = FALSE;
            g_propagate_error(error, e);
            break;
        }
    }
    porch_client_send(c, SSH_FXP_CLOSE, b, NULL, 0, NULL, NULL);
    if (!ok) {
        porch_listing_clear(&l);
        return NULL;
    }
    g_ptr_array_sort(l.files, compare_names);
    if (ret_refused != NULL)
        *ret_refused = g_steal_pointer(&l.refused);
    return g_steal_pointer(&l.files);
}

GPtrArray *
porch_client_list(PorchClient *c, const char *path, GCancellable *cancellable, GError **error)
{
    return porch_client_list_full(c, path, NULL, cancellable, error);
}

static PorchRemoteFile *
stat_path(PorchClient *c, guint8 type, const char *path, GCancellable *cancellable, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(GBytes) reply = NULL;
    g_autoptr(PorchRemoteFile) f = g_new0(PorchRemoteFile, 1);
    PorchWireReader r;
    gsize len;

    g_return_val_if_fail(c != NULL && path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    porch_wire_put_cstring(b, path);
    reply = porch_client_call_expect(c, type, b, SSH_FXP_ATTRS, path, cancellable, error);
    if (reply == NULL)
        return NULL;
    r.p = g_bytes_get_data(reply, &len);
    r.left = len;
    if (!porch_get_attrs(&r, f)) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "%s: malformed attributes", path);
        return NULL;
    }
    f->name = g_strdup(path);
    return g_steal_pointer(&f);
}

PorchRemoteFile *
porch_client_stat(PorchClient *c, const char *path, GCancellable *cancellable, GError **error)
{
    return stat_path(c, SSH_FXP_STAT, path, cancellable, error);
}

PorchRemoteFile *
porch_client_lstat(PorchClient *c, const char *path, GCancellable *cancellable, GError **error)
{
    return stat_path(c, SSH_FXP_LSTAT, path, cancellable, error);
}

/* ---- changing a share ------------------------------------------------------------------ */

/* One request about @path that the server answers with a STATUS. */
static gboolean
call_path_status(PorchClient *c, guint8 type, const char *path, gint mode,
                 GCancellable *cancellable, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    g_return_val_if_fail(c != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    porch_wire_put_cstring(b, path);
    if (type == SSH_FXP_MKDIR)
        porch_put_attrs(b, mode, -1);
    return porch_client_call_status(c, type, b, path, cancellable, error);
}

gboolean
porch_client_remove(PorchClient *c, const char *path, GCancellable *cancellable, GError **error)
{
    return call_path_status(c, SSH_FXP_REMOVE, path, -1, cancellable, error);
}

gboolean
porch_client_rmdir(PorchClient *c, const char *path, GCancellable *cancellable, GError **error)
{
    return call_path_status(c, SSH_FXP_RMDIR, path, -1, cancellable, error);
}

gboolean
porch_client_mkdir(PorchClient *c, const char *path, gint mode, GCancellable *cancellable,
                   GError **error)
{
    return call_path_status(c, SSH_FXP_MKDIR, path, mode, cancellable, error);
}

gboolean
porch_client_rename(PorchClient *c, const char *from, const char *to, gboolean replace,
                    GCancellable *cancellable, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    g_return_val_if_fail(c != NULL && from != NULL && to != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (replace && !c->has_posix_rename) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "the server cannot replace a file by renaming (no posix-rename)");
        return FALSE;
    }
    if (replace)
        porch_wire_put_cstring(b, PORCH_WIRE_EXT_POSIX_RENAME);
    porch_wire_put_cstring(b, from);
    porch_wire_put_cstring(b, to);
    return porch_client_call_status(c, replace ? SSH_FXP_EXTENDED : SSH_FXP_RENAME, b, from,
                                    cancellable, error);
}

/* ---- known_peers -------------------------------------------------------------------- */

static char *
escape_pin(const char *name)
{
    return g_uri_escape_string(name, "!$&'()*+,;=:@[]", TRUE);
}

char *
porch_known_peers_lookup(const char *file, const char *pin_name, guint *line)
{
    g_autofree char *text = NULL;
    g_autofree char *want = escape_pin(pin_name);
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(file, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        g_auto(GStrv) f = g_strsplit(g_strstrip(lines[i]), " ", 3);
        g_auto(ssh_key) key = NULL;

        if (g_strv_length(f) != 3 || f[0][0] == '#' || strcmp(f[0], want) != 0)
            continue;
        if (ssh_pki_import_pubkey_base64(f[2], ssh_key_type_from_name(f[1]), &key) != SSH_OK)
            continue;
        if (line != NULL)
            *line = i + 1;
        return porch_key_fingerprint(key);
    }
    return NULL;
}

gboolean
porch_known_peers_add(const char *file, const char *pin_name, ssh_key key, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *pub = porch_key_public_line(key, NULL);
    g_autofree char *name = escape_pin(pin_name);
    g_autofree char *dir = g_path_get_dirname(file);
    g_autoptr(GString) s = g_string_new(NULL);

    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (pub == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "an unusable host key");
        return FALSE;
    }
    if (g_file_get_contents(file, &text, NULL, NULL)) {
        g_string_append(s, text);
        if (s->len > 0 && s->str[s->len - 1] != '\n')
            g_string_append_c(s, '\n');
    } else {
        g_string_append(s, "# Porch: neighbours' host keys, pinned on first contact.\n");
    }
    g_string_append_printf(s, "%s %s\n", name, pub);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", dir, g_strerror(e));
        return FALSE;
    }
    return g_file_set_contents_full(file, s->str, (gssize)s->len, G_FILE_SET_CONTENTS_CONSISTENT,
                                    0600, error);
}

/* ---- connecting --------------------------------------------------------------------- */

static gboolean
check_host_key(PorchClient *c, const PorchConnectOptions *o, const char *known, GError **error)
{
    g_auto(ssh_key) key = NULL;
    g_autofree char *pinned = NULL;
    guint line = 0;
    gboolean advertised;
    const char *name = o->pin_name ? o->pin_name : o->address;

    if (ssh_get_server_publickey(c->ssh, &key) != SSH_OK) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL, "no host key from %s",
                    name);
        return FALSE;
    }
    c->host_fp = porch_key_fingerprint(key);
    if (o->expected_fingerprint != NULL && g_strcmp0(o->expected_fingerprint, c->host_fp) != 0) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH,
                    "the key presented (%s) is not the one %s advertises on the network (%s): "
                    "refusing to connect; someone may be impersonating it",
                    c->host_fp, name, o->expected_fingerprint);
        return FALSE;
    }
    advertised = o->expected_fingerprint != NULL;
    pinned = porch_known_peers_lookup(known, name, &line);
    if (pinned != NULL) {
        if (strcmp(pinned, c->host_fp) == 0)
            return TRUE;
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_CHANGED,
                    "the host key has CHANGED: it is now %s, but %s was pinned on first contact "
                    "(%s, line %u). Someone may be impersonating this neighbour, or it was "
                    "reinstalled. If you know it was reinstalled, delete line %u of %s to "
                    "forget the old key",
                    c->host_fp, pinned, known, line, line, known);
        return FALSE;
    }
    if (o->trust != NULL && !o->trust(name, c->host_fp, advertised, o->trust_data)) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_UNTRUSTED,
                    "its key %s was not trusted", c->host_fp);
        return FALSE;
    }
    if (!porch_known_peers_add(known, name, key, error)) {
        g_prefix_error(error, "cannot pin the key in %s: ", known);
        return FALSE;
    }
    return TRUE;
}

static gboolean
authenticate(PorchClient *c, const PorchConnectOptions *o, GError **error)
{
    const char *user = o->user ? o->user : g_get_user_name();
    int rc;

    if (o->identity != NULL) {
        rc = ssh_userauth_publickey(c->ssh, user, o->identity);
        if (rc == SSH_AUTH_SUCCESS)
            return TRUE;
        if (rc == SSH_AUTH_ERROR) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "authentication: %s",
                        ssh_get_error(c->ssh));
            return FALSE;
        }
    }
    rc = ssh_userauth_none(c->ssh, "guest");
    if (rc == SSH_AUTH_SUCCESS) {
        c->guest = TRUE;
        return TRUE;
    }
    if (rc == SSH_AUTH_ERROR) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "authentication: %s",
                    ssh_get_error(c->ssh));
        return FALSE;
    }
    if (o->identity != NULL) {
        g_autofree char *fp = porch_key_fingerprint(o->identity);
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_AUTH,
                    "it does not know your key (%s) and has no guest access; it has been asked "
                    "for access: its owner can run 'porch peers accept %s'",
                    fp, user);
    } else {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_AUTH, "it has no guest access");
    }
    return FALSE;
}

static void
limits_reply(PorchClient *c, guint8 type, PorchWireReader *r, gpointer data)
{
    guint64 packet, rd, wr, handles;

    (void)data;
    if (type != SSH_FXP_EXTENDED_REPLY || !porch_wire_get_u64(r, &packet) ||
        !porch_wire_get_u64(r, &rd) || !porch_wire_get_u64(r, &wr) ||
        !porch_wire_get_u64(r, &handles))
        return;
    /* 0 means "no limit"; stay within what a packet may carry and what we accept, and above
     * what makes a transfer a crawl of tiny requests (no real server asks for less) */
    if (rd > 0)
        c->max_read = (guint32)CLAMP(rd, 1024, PORCH_SFTP_DEFAULT_MAX_PACKET - 1024);
    /* whole pages, so that a file's reads land aligned for O_DIRECT (porch-transfer-get.c) */
    if (c->max_read > 4096)
        c->max_read &= ~4095u;
    if (wr > 0)
        c->max_write = (guint32)CLAMP(wr, 1024, PORCH_SFTP_DEFAULT_MAX_PACKET - 1024);
    if (handles > 0)
        c->max_handles = (guint)MIN(handles, 1024);
}

/* Whether the comma-separated list @s (@len bytes) holds @want. */
static gboolean
list_has(const guint8 *s, guint32 len, const char *want)
{
    gsize n = strlen(want);

    for (gsize at = 0; at <= len;) {
        const guint8 *comma = memchr(s + at, ',', len - at);
        gsize end = comma != NULL ? (gsize)(comma - s) : len;
        if (end - at == n && memcmp(s + at, want, n) == 0)
            return TRUE;
        at = end + 1;
    }
    return FALSE;
}

gboolean
porch_parse_version(const guint8 *payload, gsize len, PorchServerInfo *info, GError **error)
{
    PorchWireReader r = {payload, len};
    guint8 type;
    guint n = 0;

    memset(info, 0, sizeof *info);
    if (len > PORCH_SFTP_MAX_VERSION) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "an SFTP VERSION of %" G_GSIZE_FORMAT " bytes (at most %u)", len,
                    PORCH_SFTP_MAX_VERSION);
        return FALSE;
    }
    if (len < 5) {
        g_set_error_literal(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "no SFTP VERSION (a packet too short)");
        return FALSE;
    }
    type = *r.p++;
    r.left--;
    if (type != SSH_FXP_VERSION) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "no SFTP VERSION (a packet of type %u)", type);
        return FALSE;
    }
    porch_wire_get_u32(&r, &info->version);
    for (; r.left > 0; n++) {
        const guint8 *name, *data;
        guint32 nl, dl;

        if (!porch_wire_get_string(&r, &name, &nl) || !porch_wire_get_string(&r, &data, &dl)) {
            memset(info, 0, sizeof *info);
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "a malformed SFTP VERSION (extension %u is cut short)", n + 1);
            return FALSE;
        }
#define IS(s) (nl == strlen(s) && memcmp(name, s, nl) == 0)
        if (IS(PORCH_WIRE_EXT_CHECK_FILE_HANDLE) &&
            list_has(data, dl, PORCH_WIRE_CHECK_FILE_SHA256))
            info->has_check_file = TRUE;
        else if (IS(PORCH_WIRE_EXT_POSIX_RENAME))
            info->has_posix_rename = TRUE;
        else if (IS(PORCH_WIRE_EXT_FSYNC))
            info->has_fsync = TRUE;
        else if (IS(PORCH_WIRE_EXT_LIMITS))
            info->has_limits = TRUE;
#undef IS
    }
    if (info->version != PORCH_WIRE_VERSION) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "SFTP version %u, not %u", info->version, PORCH_WIRE_VERSION);
        return FALSE;
    }
    return TRUE;
}

/* Reads the VERSION, which has no request id, before the engine runs: its length is checked
 * before it is waited for, and all of it must come within the timeout. */
static gboolean
read_version(PorchClient *c, GCancellable *cancellable, PorchServerInfo *info, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)c->timeout * G_USEC_PER_SEC;
    guint32 len = 0;

    for (;;) {
        gint64 left;
        int n;

        if (c->in_len >= 4) {
            PorchWireReader r = {c->in, 4};
            porch_wire_get_u32(&r, &len);
            if (len > PORCH_SFTP_MAX_VERSION) {
                g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "the neighbour's SFTP VERSION claims %u bytes (at most %u): refused",
                            len, PORCH_SFTP_MAX_VERSION);
                return FALSE;
            }
            if (len < 5) {
                g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "no SFTP VERSION (a packet of %u bytes)", len);
                return FALSE;
            }
            if (c->in_len >= 4 + (gsize)len)
                break;
        }
        if (g_cancellable_set_error_if_cancelled(cancellable, error))
            return FALSE;
        left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "timed out: no whole SFTP VERSION from the neighbour within %d s",
                        c->timeout);
            return FALSE;
        }
        /* never more than a VERSION can be: what follows it is no reply to anything */
        n = porch_channel_read_timeout(c->chan, c->in + c->in_len,
                                       (guint32)(4 + PORCH_SFTP_MAX_VERSION - c->in_len), 0,
                                       (int)MIN(left / 1000 + 1, 1000));
        if (n < 0 || (n == 0 && (ssh_channel_is_eof(c->chan) || ssh_channel_is_closed(c->chan)))) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "no SFTP from the neighbour: %s",
                        n < 0 ? ssh_get_error(c->ssh) : "it closed the connection");
            return FALSE;
        }
        c->in_len += (gsize)n;
    }
    if (!porch_parse_version(c->in + 4, len, info, error))
        return FALSE;
    memmove(c->in, c->in + 4 + len, c->in_len - 4 - len);
    c->in_len -= 4 + len;
    return TRUE;
}

static gboolean
start_sftp(PorchClient *c, GCancellable *cancellable, GError **error)
{
    g_autoptr(GByteArray) init = g_byte_array_new();
    PorchServerInfo info;

    c->chan = ssh_channel_new(c->ssh);
    if (c->chan == NULL || ssh_channel_open_session(c->chan) != SSH_OK ||
        ssh_channel_request_subsystem(c->chan, "sftp") != SSH_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start SFTP: %s",
                    ssh_get_error(c->ssh));
        return FALSE;
    }
    porch_wire_put_init(init);
    if (ssh_channel_write(c->chan, init->data, init->len) != (int)init->len) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "cannot start SFTP: %s",
                    ssh_get_error(c->ssh));
        return FALSE;
    }
    if (!read_version(c, cancellable, &info, error))
        return FALSE;
    c->has_check_file = info.has_check_file;
    c->has_posix_rename = info.has_posix_rename;
    c->has_fsync = info.has_fsync;
    c->has_limits = info.has_limits;
    if (c->has_limits) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        guint8 type;
        g_autoptr(GBytes) reply = NULL;
        porch_wire_put_cstring(b, PORCH_WIRE_EXT_LIMITS);
        reply = porch_client_call(c, SSH_FXP_EXTENDED, b, &type, cancellable, error);
        if (reply == NULL)
            return FALSE;
        {
            gsize l;
            PorchWireReader lr = {g_bytes_get_data(reply, &l), 0};
            lr.left = l;
            limits_reply(c, type, &lr, NULL);
        }
    }
    return TRUE;
}

/* How long probe_not_ssh() waits to connect, and then for an answer. */
#define PROBE_TIMEOUT_S 2

/* What answers on @address port @port, asked after SSH failed there: the first line it sends
 * back to an SSH client's banner (libssh passes over lines before an "SSH-" one, as RFC 4253
 * lets servers send them, and then only says the connection closed). NULL when it says
 * nothing within PROBE_TIMEOUT_S or its first line is an SSH banner after all; else the line,
 * safe to show, cut to 60 bytes. */
static char *
probe_not_ssh(const char *address, guint port)
{
    static const char banner[] = "SSH-2.0-porch\r\n";
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketConnectable) where = NULL;
    g_autoptr(GSocketConnection) conn = NULL;
    GSocket *sock;
    char buf[256];
    gsize have = 0;
    const char *eol;

    where = G_SOCKET_CONNECTABLE(g_inet_socket_address_new_from_string(address, port));
    if (where == NULL)
        where = g_network_address_new(address, (guint16)port);
    g_socket_client_set_timeout(client, PROBE_TIMEOUT_S);
    conn = g_socket_client_connect(client, where, NULL, NULL);
    if (conn == NULL)
        return NULL;
    sock = g_socket_connection_get_socket(conn);
    g_socket_set_timeout(sock, PROBE_TIMEOUT_S);
    /* an HTTP server, say, speaks only when spoken to */
    if (g_socket_send(sock, banner, sizeof banner - 1, NULL, NULL) < 0)
        return NULL;
    while (have < sizeof buf - 1 && memchr(buf, '\n', have) == NULL) {
        gssize n = g_socket_receive(sock, buf + have, sizeof buf - 1 - have, NULL, NULL);
        if (n <= 0)
            break;
        have += (gsize)n;
    }
    if (have == 0)
        return NULL;
    eol = memchr(buf, '\n', have);
    if (eol != NULL)
        have = (gsize)(eol - buf);
    if (have > 0 && buf[have - 1] == '\r')
        have--;
    if (have >= 4 && memcmp(buf, "SSH-", 4) == 0)
        return NULL;
    return porch_text_show(buf, (gssize)have, 60, PORCH_TEXT_ONE_LINE);
}

/* @fd: an already connected socket to use (taken over) instead of connecting to o->address,
 * or -1. */
static PorchClient *
connect_client(const PorchConnectOptions *o, int fd, gboolean sftp, GCancellable *cancellable,
               GError **error)
{
    g_autoptr(PorchClient) c = g_new0(PorchClient, 1);
    g_autofree char *known = NULL;
    unsigned int port;
    long timeout, connect_timeout;
    int yes = 1, no = 0;

    g_return_val_if_fail(o != NULL && o->address != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    c->sock = -1;
    known = o->known_peers ? g_strdup(o->known_peers) : porch_known_peers_default_file();
    port = o->port ? o->port : PORCH_DEFAULT_PORT;
    c->timeout = o->timeout_seconds > 0 ? o->timeout_seconds : 30;
    timeout = c->timeout;
    connect_timeout = o->connect_timeout_seconds > 0 ? o->connect_timeout_seconds : c->timeout;
    c->max_read = PORCH_SFTP_DEFAULT_MAX_IO;
    c->max_write = PORCH_SFTP_DEFAULT_MAX_IO;
    c->max_handles = 64;
    c->next_id = 1;
    c->pending = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    c->out = g_byte_array_sized_new(PORCH_SFTP_DEFAULT_MAX_PACKET + 64);
    c->in_cap = PORCH_IN_BUFFER;
    c->in = g_malloc(c->in_cap);

    c->ssh = ssh_new();
    if (c->ssh == NULL) {
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create an SSH session");
        return NULL;
    }
    /* Only what Porch's server speaks; never ~/.ssh/config or known_hosts: Porch pins keys
     * in its own file. */
    ssh_options_set(c->ssh, SSH_OPTIONS_PROCESS_CONFIG, &no);
    ssh_options_set(c->ssh, SSH_OPTIONS_HOST, o->address);
    ssh_options_set(c->ssh, SSH_OPTIONS_PORT, &port);
    ssh_options_set(c->ssh, SSH_OPTIONS_TIMEOUT, &connect_timeout);
    ssh_options_set(c->ssh, SSH_OPTIONS_NODELAY, &yes);
    ssh_options_set(c->ssh, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512");
    /* AEAD only, AES-GCM or chacha20-poly1305 first as suits the CPU (porch-ciphers.h) */
    {
        const char *ciphers = porch_cipher_list(porch_cipher_order(), FALSE);

        ssh_options_set(c->ssh, SSH_OPTIONS_CIPHERS_C_S, ciphers);
        ssh_options_set(c->ssh, SSH_OPTIONS_CIPHERS_S_C, ciphers);
    }
    if (g_cancellable_set_error_if_cancelled(cancellable, error)) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    /* libssh closes @fd when the connection fails, else never: porch_client_free() does */
    if (fd >= 0) {
        socket_t sock = fd;
        ssh_options_set(c->ssh, SSH_OPTIONS_FD, &sock);
        c->sock = fd;
    }
    if (ssh_connect(c->ssh) != SSH_OK) {
        const char *m = ssh_get_error(c->ssh);
        GIOErrorEnum code = G_IO_ERROR_HOST_UNREACHABLE;
        g_autofree char *said = NULL;

        if (strstr(m, "refused") != NULL)
            code = G_IO_ERROR_CONNECTION_REFUSED;
        else if (strstr(m, "imeout") != NULL || strstr(m, "timed out") != NULL)
            code = G_IO_ERROR_TIMED_OUT;
        else if (strstr(m, "resolve") != NULL)
            code = G_IO_ERROR_HOST_NOT_FOUND;
        /* the connection was made, but no SSH came of it: ask what answers there */
        if (fd < 0 && code != G_IO_ERROR_CONNECTION_REFUSED && code != G_IO_ERROR_HOST_NOT_FOUND)
            said = probe_not_ssh(o->address, port);
        if (said != NULL)
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_NOT_SSH,
                        "%s port %u answers, but not with SSH (it said '%s'): not a Porch "
                        "neighbour's port",
                        o->address, port, said);
        else
            g_set_error(error, G_IO_ERROR, code, "cannot connect to %s port %u: %s", o->address,
                        port, m);
        return NULL;
    }
    /* from now on, the reply timeout */
    ssh_options_set(c->ssh, SSH_OPTIONS_TIMEOUT, &timeout);
    if (!check_host_key(c, o, known, error) || !authenticate(c, o, error) ||
        (sftp && !start_sftp(c, cancellable, error)))
        return NULL;
    return g_steal_pointer(&c);
}

PorchClient *
porch_client_connect(const PorchConnectOptions *o, GCancellable *cancellable, GError **error)
{
    return connect_client(o, -1, TRUE, cancellable, error);
}

PorchClient *
porch_client_connect_socket(const PorchConnectOptions *o, int fd, GCancellable *cancellable,
                            GError **error)
{
    g_return_val_if_fail(fd >= 0, NULL);
    return connect_client(o, fd, TRUE, cancellable, error);
}

PorchClient *
porch_client_connect_exec(const PorchConnectOptions *o, GCancellable *cancellable, GError **error)
{
    return connect_client(o, -1, FALSE, cancellable, error);
}

void
porch_client_free(PorchClient *c)
{
    if (c == NULL)
        return;
    if (c->chan != NULL) {
        if (c->fatal == NULL && ssh_channel_is_open(c->chan)) {
            ssh_channel_send_eof(c->chan);
            ssh_channel_close(c->chan);
        }
        ssh_channel_free(c->chan);
    }
    if (c->ssh != NULL) {
        /* a socket given to porch_client_connect_socket() that libssh has not closed (on an
         * error) is ours to close: ssh_disconnect() leaves it open */
        int sock = c->sock >= 0 && ssh_get_fd(c->ssh) == c->sock ? c->sock : -1;
        ssh_disconnect(c->ssh);
        ssh_free(c->ssh);
        if (sock >= 0)
            close(sock);
    }
    g_clear_error(&c->fatal);
    g_hash_table_unref(c->pending);
    g_byte_array_unref(c->out);
    g_free(c->in);
    g_aligned_free(c->sink);
    g_free(c->host_fp);
    g_free(c);
}

const char *
porch_client_get_host_fingerprint(PorchClient *c)
{
    return c->host_fp;
}

gboolean
porch_client_is_guest(PorchClient *c)
{
    return c->guest;
}

guint32
porch_client_get_max_read(PorchClient *c)
{
    return c->max_read;
}
