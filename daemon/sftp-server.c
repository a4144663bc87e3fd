/* sftp-server.c — Porch's SFTP server: requests framed and parsed by shared/porch-wire.c,
 * decided and done here.
 *
 * Every request goes through one table (handlers[]) and one gate (gate()). A row names the
 * operation the ACL must allow for the share the request touches; the gate resolves the
 * client's path in the virtual tree ("/" lists the shares, "/SHARE/..." is a share), asks
 * porch_acl_check() with the configuration of this very moment, and only then calls the
 * handler with the share's jail and the path beneath it. Handlers touch files only through
 * file descriptors that the jail resolved beneath the share root.
 *
 * The client's byte stream is framed here, into one buffer of max-packet-size: a request
 * that announces more is answered (FAILURE) and its bytes skipped as they arrive, never
 * buffered; a malformed request gets BAD_MESSAGE and an unknown one OP_UNSUPPORTED, and the
 * session goes on. libssh 0.10's SFTP server calls cannot do that (porch-wire.c says why), so
 * only its SSH channel is used: packets are read and written here.
 */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "sftp-server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>

#include "porch-channel.h"
#include "porch-acl.h"
#include "porch-hash.h"
#include "files.h"
#include "indexer.h"
#include "porch-index.h"
#include "porch-jail.h"
#include "porch-text.h"
#include "porch-wire.h"
#include "upload-journal.h"

/* check-file hashes at most this much per request (~10 s here): a client verifies a larger
 * file range by range, and no request can keep a session busy for hours */
#define PORCH_CHECK_FILE_MAX ((guint64)16 << 30)
/* A DATA reply's header: length, type, id, the data's length. */
#define DATA_HEADER 13
/* How much of a client's text a log line shows. */
#define LOG_TEXT_MAX 512
/* At most this many closed uploads of `porch put` (its PORCH_CLIENT_TEMP_PREFIX files) wait
 * for the rename that gives them their name in the transfer log; beyond, each is logged under
 * its temporary name when it is closed. */
#define MAX_PENDING_PUTS 64

typedef enum {
    HANDLE_FILE,
    HANDLE_DIR,
    HANDLE_ROOT, /* a listing of "/" */
} HandleKind;

typedef struct {
    HandleKind kind;
    guint32 id; /* index | generation << 16, what the client holds */
    char *share;
    char *vpath;       /* for logs */
    PorchFiles *files; /* the share's (borrowed from the server's table); NULL for "/" */
    char *rel;         /* the path beneath the share's root */
    int fd;
    gboolean for_write;
    guint32 listing;  /* HANDLE_DIR: the worker's listing id */
    GStrv root_names; /* HANDLE_ROOT: the shares, listed once */
    guint root_next;
    /* an upload that replaces its target when closed: the new file's folder (O_PATH) */
    int parent_fd;
    char *final_name;
    char *temp_name;
    char *journal_entry; /* the upload journal's entry of temp_name */
    int write_errno;     /* the first failed write's: the upload is not completed */
    /* for the transfer log: what went through the handle */
    guint64 size; /* the file's size when it was opened */
    guint64 n_read, n_written;
    gboolean read, written; /* a READ, a WRITE was answered (an empty file is read too) */
    gboolean replaced;      /* the upload in temp_name replaced its target */
    /* for porch status (PorchSftpContext.transfer) */
    guint64 written_end; /* the end of what was written */
    gint64 last_note;    /* monotonic time of the last note; 0: none yet */
} Handle;

struct _PorchSftpServer {
    const PorchSftpContext *ctx;
    PorchSftpSendFunc send;
    gpointer send_data;
    PorchConfig *config; /* borrowed, refreshed before each request */
    GHashTable *files;   /* "share\npath" -> PorchFiles* */
    /* closed uploads of `porch put` not yet renamed: virtual path -> guint64* bytes */
    GHashTable *puts;
    PorchUploadJournal *journal; /* this session's temporary files (upload-journal.h) */
    Handle **handles;
    guint n_handles; /* max-handles when the session started */
    guint16 generation;
    gint64 started;
    gboolean initialized;  /* INIT was answered */
    gboolean status_codes; /* the client's INIT announced PORCH_WIRE_EXT_STATUS_CODES */
    /* the client's stream: in[in_start..in_len) not processed yet; a packet over max_packet
     * is answered and its last `discard` bytes skipped */
    guint8 *in;
    gsize in_start, in_len, in_cap;
    guint32 max_packet;
    guint64 discard;
    GByteArray *out;  /* the reply being built */
    guint8 *read_buf; /* DATA_HEADER + PORCH_SFTP_MAX_READ: a READ reply, built in place */
    guint32 max_read;
    /* the request being handled, for log lines */
    const char *op;
    const char *path;
    /* the content index, read-only (indexer.h); NULL until it could be opened */
    PorchIndex *index;
    gint64 index_retry; /* monotonic time of the next attempt to open it */
};

typedef PorchSftpServer Server;

/* Where a request's path leads: "/" (share NULL), or a share and the path beneath it. */
typedef struct {
    const PorchShare *share;
    PorchFiles *files;
    char *rel;   /* "" for the share root */
    char *vpath; /* the normalised virtual path, "/SHARE/rel" */
} Target;

static void
target_clear(Target *t)
{
    g_clear_pointer(&t->rel, g_free);
    g_clear_pointer(&t->vpath, g_free);
}

/* A client's text for a log line: escaped, bounded. */
static char *
shown(const char *text)
{
    return porch_text_escape(text, -1, LOG_TEXT_MAX);
}

/* ---- the transfer log ---------------------------------------------------------------- */

/* One line per file fetched or uploaded (never one per READ or WRITE), per removal, rename
 * and new folder: "PEER (ADDRESS) " then @format. */
static void G_GNUC_PRINTF(2, 3) log_transfer(Server *s, const char *format, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, format);
    what = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_message("%s (%s) %s", s->ctx->peer ? s->ctx->peer : "guest",
              s->ctx->address ? s->ctx->address : "unknown", what);
}

/* A virtual path as the transfer log shows it, "SHARE/PATH": escaped, bounded. */
static char *
shown_vpath(const char *vpath)
{
    return shown(vpath[0] == '/' ? vpath + 1 : vpath);
}

/* Whether @h writes a temporary file of `porch put`, which the client renames over its target
 * once it is complete. */
static gboolean
is_client_temp(const Handle *h)
{
    const char *base = strrchr(h->rel, '/') ? strrchr(h->rel, '/') + 1 : h->rel;

    return g_str_has_prefix(base, PORCH_CLIENT_TEMP_PREFIX);
}

/* The transfer log's line for @h: closed by the client, or still open when the session ends
 * (@ended). @e: why an upload that replaces its target (h->temp_name) was not committed. A
 * closed `porch put` file waits in s->puts for the rename that gives it its name. */
static void
log_handle(Server *s, Handle *h, int e, gboolean ended)
{
    g_autofree char *path = NULL;

    if (h->kind != HANDLE_FILE || !(h->read || h->written || h->temp_name != NULL || h->replaced))
        return;
    path = shown_vpath(h->vpath);
    if (h->temp_name != NULL || (ended && h->written && is_client_temp(h))) {
        log_transfer(s,
                     "upload of %s abandoned after %" G_GUINT64_FORMAT
                     " bytes, the file is left as it was: %s",
                     path, h->n_written, ended ? "the session ended" : g_strerror(e));
    } else if (h->written && is_client_temp(h) &&
               (g_hash_table_contains(s->puts, h->vpath) ||
                g_hash_table_size(s->puts) < MAX_PENDING_PUTS)) {
        guint64 *n = g_hash_table_lookup(s->puts, h->vpath);

        if (n == NULL) {
            n = g_new0(guint64, 1);
            g_hash_table_insert(s->puts, g_strdup(h->vpath), n);
        }
        *n += h->n_written;
    } else if (h->written || h->replaced) {
        log_transfer(s, "uploaded %s (%" G_GUINT64_FORMAT " bytes%s)", path, h->n_written,
                     ended ? "; the session ended before it was closed" : "");
    } else if (h->n_read >= h->size) {
        log_transfer(s, "fetched %s (%" G_GUINT64_FORMAT " bytes)", path, h->n_read);
    } else {
        log_transfer(s, "fetched %s (read %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes)",
                     path, h->n_read, h->size);
    }
}

/* ---- replies ------------------------------------------------------------------------- */

guint32
porch_sftp_status_of_errno(int e, gboolean status_codes)
{
    switch (e) {
    case 0:
        return SSH_FX_OK;
    case ENOENT:
    case ENOTDIR:
        return SSH_FX_NO_SUCH_FILE;
    case EACCES:
    case EPERM:
    case EXDEV:
    case ELOOP:
    case EROFS:
        return SSH_FX_PERMISSION_DENIED;
    case EBADF:
        return SSH_FX_INVALID_HANDLE;
    case EEXIST:
        return status_codes ? SSH_FX_FILE_ALREADY_EXISTS : SSH_FX_FAILURE;
    case ENOSPC:
        return status_codes ? PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM : SSH_FX_FAILURE;
    default:
        return SSH_FX_FAILURE;
    }
}

/* The status code of errno @e for this session's client. */
static guint32
status_of_errno(Server *s, int e)
{
    return porch_sftp_status_of_errno(e, s->status_codes);
}

static const char *
message_of_errno(int e)
{
    switch (e) {
    case EXDEV:
    case ELOOP:
        return "Outside the share";
    case ENOSPC:
        return "No space left on the server's disk";
    case EDQUOT:
        return "Disk quota exceeded on the server";
    case EFBIG:
        return "File too large";
    default:
        return g_strerror(e);
    }
}

/* Sends s->out, a packet begun with porch_wire_begin_packet(). 0, or -1 when the client
 * cannot be written to any more. */
static int
send_out(Server *s)
{
    porch_wire_end_packet(s->out);
    return s->send(s->out->data, s->out->len, s->send_data) ? 0 : -1;
}

static void
begin_reply(Server *s, guint8 type, const PorchWireRequest *q)
{
    porch_wire_begin_packet(s->out, type);
    porch_wire_put_u32(s->out, q->id);
}

static int
reply_status(Server *s, const PorchWireRequest *q, guint32 code, const char *message)
{
    begin_reply(s, SSH_FXP_STATUS, q);
    porch_wire_put_u32(s->out, code);
    porch_wire_put_cstring(s->out, message);
    porch_wire_put_cstring(s->out, ""); /* language tag */
    return send_out(s);
}

/* Replies with the status of errno @e. A refusal (permission, a path leading outside the
 * share) is logged with the request it refuses. */
static int
reply_errno(Server *s, const PorchWireRequest *q, int e)
{
    guint32 status = status_of_errno(s, e);

    if (status == SSH_FX_PERMISSION_DENIED) {
        g_autofree char *path = shown(s->path ? s->path : "");
        g_message("%s: refused %s %s: %s", s->ctx->who, s->op ? s->op : "request", path,
                  message_of_errno(e));
    }
    return reply_status(s, q, status, message_of_errno(e));
}

static int
reply_ok(Server *s, const PorchWireRequest *q)
{
    return reply_status(s, q, SSH_FX_OK, "Success");
}

static int
reply_attrs(Server *s, const PorchWireRequest *q, const PorchWireAttrs *a)
{
    begin_reply(s, SSH_FXP_ATTRS, q);
    porch_wire_put_attrs(s->out, a);
    return send_out(s);
}

/* A NAME reply of one name (REALPATH, READLINK): no attributes, the name as its long name. */
static int
reply_name(Server *s, const PorchWireRequest *q, const char *name)
{
    PorchWireAttrs none = {0};

    begin_reply(s, SSH_FXP_NAME, q);
    porch_wire_put_u32(s->out, 1);
    porch_wire_put_cstring(s->out, name);
    porch_wire_put_cstring(s->out, name);
    porch_wire_put_attrs(s->out, &none);
    return send_out(s);
}

/* A NAME reply of several: begin, add each, then send; the count is filled in at the end. */
#define NAMES_COUNT_AT 9

static void
names_begin(Server *s, const PorchWireRequest *q)
{
    begin_reply(s, SSH_FXP_NAME, q);
    porch_wire_put_u32(s->out, 0);
}

static void
names_add(Server *s, const char *name, const char *longname, const PorchWireAttrs *a)
{
    porch_wire_put_cstring(s->out, name);
    porch_wire_put_cstring(s->out, longname);
    porch_wire_put_attrs(s->out, a);
}

static int
names_send(Server *s, guint32 count)
{
    guint8 *p = s->out->data + NAMES_COUNT_AT;

    p[0] = (guint8)(count >> 24);
    p[1] = (guint8)(count >> 16);
    p[2] = (guint8)(count >> 8);
    p[3] = (guint8)count;
    return send_out(s);
}

static int
send_extended_reply(Server *s, const PorchWireRequest *q, GByteArray *body)
{
    begin_reply(s, SSH_FXP_EXTENDED_REPLY, q);
    g_byte_array_append(s->out, body->data, body->len);
    return send_out(s);
}

/* ---- paths --------------------------------------------------------------------------- */

/* Normalises a client path of the virtual tree: relative paths start at "/", "." and empty
 * components go, ".." removes the previous component and stops at "/". Returns the
 * components (a NULL-terminated array, empty for "/"), or NULL when the path is too long. */
static GStrv
split_vpath(const char *path)
{
    g_auto(GStrv) parts = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

    if (path == NULL || strlen(path) > PORCH_WIRE_MAX_PATH)
        return NULL;
    parts = g_strsplit(path, "/", -1);
    for (guint i = 0; parts[i]; i++) {
        if (parts[i][0] == '\0' || g_str_equal(parts[i], "."))
            continue;
        if (g_str_equal(parts[i], "..")) {
            if (out->len > 0)
                g_ptr_array_remove_index(out, out->len - 1);
            continue;
        }
        g_ptr_array_add(out, g_strdup(parts[i]));
    }
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* The file operations of @share (its worker), set up on first use. The key holds the path
 * too, so a reload that points the share elsewhere gets new ones. */
static PorchFiles *
share_files(Server *s, const PorchShare *share)
{
    /* and the offline epoch: a folder back from an unplugged disk gets a new worker */
    g_autofree char *key = g_strdup_printf("%s\n%s\n%" G_GUINT64_FORMAT, share->name, share->path,
                                           porch_config_get_offline_epoch(s->config));
    PorchFiles *files = g_hash_table_lookup(s->files, key);
    g_autoptr(GError) error = NULL;

    if (files != NULL)
        return files;
    if (s->ctx->files_for != NULL)
        files = s->ctx->files_for(s->ctx->user_data, share, &error);
    else
        files = porch_files_new_direct(share->path, &error);
    if (files == NULL) {
        g_warning("%s: share %s (%s) cannot be opened: %s", s->ctx->who, share->name, share->path,
                  error->message);
        return NULL;
    }
    g_hash_table_insert(s->files, g_steal_pointer(&key), files);
    return files;
}

static gboolean
may(Server *s, const PorchShare *share, PorchAclOp op)
{
    return porch_acl_check(s->config, s->ctx->fingerprint, PORCH_RESOURCE_SHARE, share->name, op);
}

/* Resolves @path to a Target and checks that @op is allowed on its share. Returns 0, or
 * an SFTP status (with *ret_why for the log) when the request must be refused: a share
 * the peer may not even read is "no such file" when hidden; our temporary files do not
 * exist for clients. */
static int
resolve_target(Server *s, const char *path, PorchAclOp op, gboolean need_share, Target *t,
               const char **ret_why)
{
    g_auto(GStrv) parts = split_vpath(path);

    *t = (Target){0};
    if (parts == NULL) {
        *ret_why = "path too long";
        return SSH_FX_BAD_MESSAGE;
    }
    {
        g_autofree char *joined = g_strjoinv("/", parts);
        t->vpath = g_strconcat("/", joined, NULL);
    }
    if (parts[0] == NULL) {
        if (need_share) {
            *ret_why = "the root lists shares only";
            return SSH_FX_PERMISSION_DENIED;
        }
        return 0;
    }
    for (guint i = 1; parts[i]; i++) {
        if (g_str_has_prefix(parts[i], PORCH_UPLOAD_PREFIX)) {
            *ret_why = "an upload in progress";
            return SSH_FX_NO_SUCH_FILE;
        }
    }
    /* "/photos" reaches [share Photos]: names are unique without regard to case (porch.conf(5)),
     * so every client matches them as people type them; paths then name it as configured */
    t->share = porch_config_find_share(s->config, parts[0]);
    if (t->share == NULL) {
        *ret_why = "no such share";
        return SSH_FX_NO_SUCH_FILE;
    }
    /* its folder is missing (offline.h): it does not exist until it is back */
    if (t->share->offline) {
        *ret_why = "the share is offline";
        return SSH_FX_NO_SUCH_FILE;
    }
    if (strcmp(parts[0], t->share->name) != 0) {
        g_autofree char *rest = g_strjoinv("/", parts + 1);
        g_free(t->vpath);
        t->vpath = g_strconcat("/", t->share->name, *rest != '\0' ? "/" : "", rest, NULL);
    }
    if (!may(s, t->share, op)) {
        gboolean reads = may(s, t->share, PORCH_ACL_READ);
        *ret_why = reads ? "not allowed to write" : "not allowed to read";
        if (!reads && t->share->hidden)
            return SSH_FX_NO_SUCH_FILE;
        return SSH_FX_PERMISSION_DENIED;
    }
    t->files = share_files(s, t->share);
    if (t->files == NULL) {
        *ret_why = "the share's folder cannot be opened";
        return SSH_FX_NO_SUCH_FILE;
    }
    t->rel = g_strjoinv("/", parts + 1);
    return 0;
}

/* ---- attributes ---------------------------------------------------------------------- */

static void
attrs_from_stat(PorchWireAttrs *a, const struct stat *st, gboolean read_only)
{
    *a = (PorchWireAttrs){0};
    a->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID | SSH_FILEXFER_ATTR_PERMISSIONS |
               SSH_FILEXFER_ATTR_ACMODTIME;
    a->size = (guint64)st->st_size;
    a->uid = st->st_uid;
    a->gid = st->st_gid;
    /* what this peer may do, as file managers show it: no write bits without the right */
    a->permissions = st->st_mode & (read_only ? ~(mode_t)0222 : ~(mode_t)0);
    a->atime = (guint32)st->st_atime;
    a->mtime = (guint32)st->st_mtime;
}

/* "/" itself: a read-only directory. */
static void
root_attrs(Server *s, PorchWireAttrs *a)
{
    *a = (PorchWireAttrs){0};
    a->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME;
    a->permissions = S_IFDIR | 0555;
    a->atime = a->mtime = (guint32)s->started;
}

/* An "ls -l" line, as OpenSSH's client shows it for version 3 servers. Owners are shown
 * as numbers: the server's user names are none of the neighbours' business. */
static char *
long_name(const char *name, const struct stat *st, mode_t mode)
{
    char perms[11], date[32];
    struct tm tm;
    time_t now = time(NULL);

    perms[0] = S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : S_ISREG(mode) ? '-' : '?';
    for (int i = 0; i < 9; i++)
        perms[1 + i] = (mode & (0400 >> i)) ? "rwxrwxrwx"[i] : '-';
    perms[10] = '\0';
    localtime_r(&st->st_mtime, &tm);
    if (st->st_mtime > now - 182 * 86400 && st->st_mtime <= now + 3600)
        strftime(date, sizeof date, "%b %e %H:%M", &tm);
    else
        strftime(date, sizeof date, "%b %e  %Y", &tm);
    return g_strdup_printf("%s %4lu %-8u %-8u %8llu %s %s", perms, (unsigned long)st->st_nlink,
                           (unsigned)st->st_uid, (unsigned)st->st_gid,
                           (unsigned long long)st->st_size, date, name);
}

/* ---- handles ------------------------------------------------------------------------- */

/* The journal entry of @h's temporary file goes: the file is gone or is the target now. */
static void
handle_journal_remove(Handle *h)
{
    porch_upload_journal_remove(h->journal_entry);
    g_clear_pointer(&h->journal_entry, g_free);
}

/* Frees @h; an upload not completed is discarded, its target untouched. */
static void
handle_free(Handle *h)
{
    if (h->temp_name != NULL) {
        porch_files_discard(h->files, h->parent_fd, h->temp_name);
        handle_journal_remove(h);
    }
    if (h->kind == HANDLE_DIR)
        porch_files_closedir(h->files, h->listing);
    if (h->fd >= 0)
        close(h->fd);
    if (h->parent_fd >= 0)
        close(h->parent_fd);
    g_strfreev(h->root_names);
    g_free(h->final_name);
    g_free(h->temp_name);
    g_free(h->share);
    g_free(h->rel);
    g_free(h->vpath);
    g_free(h);
}

static Handle *
handle_new(HandleKind kind, const Target *t)
{
    Handle *h = g_new0(Handle, 1);

    h->kind = kind;
    h->fd = -1;
    h->parent_fd = -1;
    h->files = t->files;
    h->share = t->share ? g_strdup(t->share->name) : NULL;
    h->rel = g_strdup(t->rel ? t->rel : "");
    h->vpath = g_strdup(t->vpath);
    return h;
}

/* Registers @h and replies with its handle; frees it and replies FAILURE when all
 * max-handles are in use. */
static int
reply_handle(Server *s, const PorchWireRequest *q, Handle *h)
{
    for (guint i = 0; i < s->n_handles; i++) {
        guint8 id[4];

        if (s->handles[i] != NULL)
            continue;
        h->id = i | (guint32)(++s->generation) << 16;
        s->handles[i] = h;
        id[0] = (guint8)(h->id >> 24);
        id[1] = (guint8)(h->id >> 16);
        id[2] = (guint8)(h->id >> 8);
        id[3] = (guint8)h->id;
        begin_reply(s, SSH_FXP_HANDLE, q);
        porch_wire_put_string(s->out, id, sizeof id);
        return send_out(s);
    }
    handle_free(h);
    return reply_status(s, q, SSH_FX_FAILURE, "Too many open files in this session");
}

static Handle *
handle_lookup(Server *s, const guint8 *handle, guint32 len)
{
    guint32 id;
    Handle *h;

    if (handle == NULL || len != 4)
        return NULL;
    id = (guint32)handle[0] << 24 | (guint32)handle[1] << 16 | (guint32)handle[2] << 8 | handle[3];
    if ((id & 0xffff) >= s->n_handles)
        return NULL;
    h = s->handles[id & 0xffff];
    return (h != NULL && h->id == id) ? h : NULL;
}

/* h_read(): a file sent whole by its first read, at most this long, is not noted (64 KiB
 * take half a second at 1 Mbit/s) */
#define QUIET_READ_MAX (64 * 1024)

/* Tells the session that @h moved data (at most once a second), or was closed (@end). */
static void
note_transfer(Server *s, Handle *h, gboolean end)
{
    gint64 now = g_get_monotonic_time();
    g_autofree char *path = NULL;

    if (s->ctx->transfer == NULL || h->kind != HANDLE_FILE)
        return;
    if (end) {
        if (h->last_note != 0)
            s->ctx->transfer(s->ctx->user_data, h->id, FALSE, 0, 0, NULL);
        return;
    }
    if (h->last_note != 0 && now - h->last_note < G_USEC_PER_SEC)
        return;
    h->last_note = now;
    path = g_strconcat(h->share, "/", h->rel, NULL);
    s->ctx->transfer(s->ctx->user_data, h->id, h->for_write,
                     h->for_write ? h->written_end : h->size,
                     h->for_write ? h->n_written : h->n_read, path);
}

static void
handle_release(Server *s, Handle *h)
{
    note_transfer(s, h, TRUE);
    s->handles[h->id & 0xffff] = NULL;
    handle_free(h);
}

/* ---- handlers ------------------------------------------------------------------------ */

typedef struct {
    const PorchWireRequest *q;
    Target t;            /* the path the row names */
    Target t2;           /* rename's new path */
    Handle *h;           /* the handle the row names */
    PorchWireReader ext; /* an extended request's arguments after the first */
} Request;

static gboolean
read_only_for(Server *s, const PorchShare *share)
{
    return share == NULL || !may(s, share, PORCH_ACL_WRITE);
}

/* An open that truncates: the data goes to a hidden temporary file beside the target,
 * which replaces the target in one rename when the handle is closed after a complete
 * upload. Until then every reader sees the old file; an upload that does not complete
 * leaves it as it was. A target that is a symbolic link is written through in place. */
static int
open_replacing(Server *s, Request *r, int access, mode_t mode, gboolean *ret_in_place)
{
    g_autofree char *name = NULL;
    g_autofree char *temp = NULL;
    g_autofree char *entry = NULL;
    g_autoptr(GError) error = NULL;
    int parent = -1, fd, rc;
    Handle *h;

    temp = g_strdup_printf(PORCH_UPLOAD_PREFIX "%08x%08x", g_random_int(), g_random_int());
    entry = porch_upload_journal_add(s->journal, r->t.share->name, r->t.rel, temp, &error);
    if (entry == NULL) {
        g_warning("%s: cannot note an upload: %s", s->ctx->who, error->message);
        return reply_status(s, r->q, SSH_FX_FAILURE, "The server cannot store uploads");
    }
    /* from here on, one way out: the journal entry goes unless the handle took it */
    fd = porch_files_replace(r->t.files, r->t.rel, temp, access, mode,
                             (r->q->pflags & SSH_FXF_CREAT) != 0, &parent, &name, ret_in_place);
    if (*ret_in_place) { /* nothing opened: the caller writes through the link */
        rc = 0;
        goto out;
    }
    if (fd < 0) {
        rc = reply_errno(s, r->q, -fd);
        goto out;
    }
    h = handle_new(HANDLE_FILE, &r->t);
    h->fd = fd;
    h->for_write = TRUE;
    h->parent_fd = parent;
    h->final_name = g_steal_pointer(&name);
    h->temp_name = g_steal_pointer(&temp);
    h->journal_entry = g_steal_pointer(&entry);
    rc = reply_handle(s, r->q, h);
out:
    porch_upload_journal_remove(entry);
    return rc;
}

static int
h_open(Server *s, Request *r)
{
    guint32 f = r->q->pflags;
    gboolean writes = (f & (SSH_FXF_WRITE | SSH_FXF_APPEND | SSH_FXF_CREAT | SSH_FXF_TRUNC)) != 0;
    int access = (f & SSH_FXF_READ) && writes ? O_RDWR : writes ? O_WRONLY : O_RDONLY;
    mode_t mode = 0666;
    int oflags = access, fd;
    struct stat st;
    g_autofree char *entry = NULL;
    Handle *h;

    if (r->q->attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
        mode = r->q->attrs.permissions & 0777;
    if (r->t.rel[0] == '\0')
        return reply_errno(s, r->q, EISDIR);
    if ((f & SSH_FXF_TRUNC) && writes && !(f & SSH_FXF_EXCL)) {
        gboolean in_place = FALSE;
        int rc = open_replacing(s, r, access, mode, &in_place);
        if (!in_place)
            return rc;
    }
    if (f & SSH_FXF_CREAT)
        oflags |= O_CREAT;
    if (f & SSH_FXF_TRUNC)
        oflags |= O_TRUNC;
    if (f & SSH_FXF_EXCL)
        oflags |= O_EXCL;
    if (f & SSH_FXF_APPEND)
        oflags |= O_APPEND;
    {
        const char *base = strrchr(r->t.rel, '/') ? strrchr(r->t.rel, '/') + 1 : r->t.rel;
        if ((f & SSH_FXF_CREAT) && (f & SSH_FXF_EXCL) &&
            g_str_has_prefix(base, PORCH_CLIENT_TEMP_PREFIX)) {
            g_autoptr(GError) error = NULL;
            entry = porch_upload_journal_add(s->journal, r->t.share->name, r->t.rel, base, &error);
            if (entry == NULL) {
                g_warning("%s: cannot note an upload's file: %s", s->ctx->who, error->message);
                return reply_errno(s, r->q, EIO);
            }
        }
    }
    /* opened ahead, with the other opens of its batch (open_ahead()), or now */
    fd = oflags == O_RDONLY ? porch_files_open_take(r->t.files, r->q->id) : G_MININT;
    if (fd == G_MININT)
        fd = porch_files_open(r->t.files, r->t.rel, oflags, mode, 0);
    if (fd < 0) {
        porch_upload_journal_remove(entry);
        return reply_errno(s, r->q, -fd);
    }
    if (entry != NULL)
        porch_upload_journal_keep_client_temp(s->journal, r->t.share->name, r->t.rel,
                                              g_steal_pointer(&entry));
    if (fstat(fd, &st) != 0)
        st.st_size = 0; /* only the transfer log's "read N of M" needs it */
    else if (S_ISDIR(st.st_mode)) {
        close(fd);
        return reply_errno(s, r->q, EISDIR);
    }
    h = handle_new(HANDLE_FILE, &r->t);
    h->fd = fd;
    h->for_write = writes;
    h->size = (guint64)MAX(st.st_size, 0);
    return reply_handle(s, r->q, h);
}

static int
h_close(Server *s, Request *r)
{
    Handle *h = r->h;
    int e = 0;

    if (h->temp_name != NULL) {
        const PorchShare *share = porch_config_lookup_share(s->config, h->share);

        /* the rules may have changed since the open: completing is a write too */
        if (share == NULL || !may(s, share, PORCH_ACL_WRITE))
            e = EACCES;
        else if (h->write_errno != 0)
            e = h->write_errno;
        else if (fdatasync(h->fd) != 0)
            e = errno;
        else
            e = -porch_files_commit(h->files, h->parent_fd, h->temp_name, h->final_name);
        if (e == 0) {
            g_clear_pointer(&h->temp_name, g_free); /* it is the file now */
            handle_journal_remove(h);
            h->replaced = TRUE;
        }
    }
    log_handle(s, h, e, FALSE);
    handle_release(s, h);
    if (e != 0) {
        g_autofree char *why =
                g_strdup_printf("%s; the file was left as it was", message_of_errno(e));
        return reply_status(s, r->q, status_of_errno(s, e), why);
    }
    return reply_ok(s, r->q);
}

static int
h_read(Server *s, Request *r)
{
    guint32 len = MIN(r->q->len, s->max_read);
    guint8 *p = s->read_buf;
    gboolean first;
    ssize_t n;

    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->q, EBADF);
    if (r->q->offset > (guint64)G_MAXINT64)
        return reply_status(s, r->q, SSH_FX_EOF, "End of file");
    n = pread(r->h->fd, p + DATA_HEADER, len, (off_t)r->q->offset);
    if (n < 0)
        return reply_errno(s, r->q, errno);
    first = !r->h->read;
    r->h->read = TRUE;
    r->h->n_read += (guint64)n;
    if (n == 0)
        return reply_status(s, r->q, SSH_FX_EOF, "End of file");
    /* A small file whose first read sends all of it is not noted: nothing of it is left to
     * come, and a tree of small files would otherwise cost the network side two notes (and
     * two wake-ups) per file, for transfers over before anyone could see them. Up to
     * QUIET_READ_MAX only: a bigger reply (up to max_read) can take seconds on a slow
     * link, and porch status should show it meanwhile. */
    if (!(first && (guint64)n >= r->h->size && n <= QUIET_READ_MAX))
        note_transfer(s, r->h, FALSE);
    /* the reply is built around the data, where pread put it: no copy */
    {
        guint32 plen = (guint32)n + DATA_HEADER - 4, id = r->q->id, dlen = (guint32)n;
        guint8 head[DATA_HEADER] = {plen >> 24, plen >> 16, plen >> 8, plen, SSH_FXP_DATA,
                                    id >> 24,   id >> 16,   id >> 8,   id,   dlen >> 24,
                                    dlen >> 16, dlen >> 8,  dlen};
        memcpy(p, head, sizeof head);
    }
    return s->send(p, DATA_HEADER + (gsize)n, s->send_data) ? 0 : -1;
}

static int
h_write(Server *s, Request *r)
{
    const guint8 *data = r->q->data;
    gsize len = r->q->data_len;
    guint64 off = r->q->offset;
    int e;

    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->q, EBADF);
    /* a write far past the end would leave a hole: bounded as a SETSTAT's growth is */
    if (off > (guint64)G_MAXINT64 - len)
        e = EFBIG;
    else
        e = porch_files_growth_allowed(r->h->fd, off);
    while (e == 0 && len > 0) {
        ssize_t n = pwrite(r->h->fd, data, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            break;
        }
        data += n;
        len -= (gsize)n;
        off += (guint64)n;
    }
    r->h->written = TRUE;
    r->h->n_written += r->q->data_len - len;
    if (e != 0) {
        if (r->h->write_errno == 0)
            r->h->write_errno = e;
        return reply_errno(s, r->q, e);
    }
    r->h->written_end = MAX(r->h->written_end, off);
    note_transfer(s, r->h, FALSE);
    return reply_ok(s, r->q);
}

static int
stat_target(Server *s, Request *r, guint jail_flags)
{
    PorchWireAttrs a;
    struct stat st;
    int rc;

    if (r->t.share == NULL) {
        root_attrs(s, &a);
        return reply_attrs(s, r->q, &a);
    }
    rc = porch_files_stat(r->t.files, r->t.rel, &st, jail_flags);
    if (rc < 0)
        return reply_errno(s, r->q, -rc);
    attrs_from_stat(&a, &st, read_only_for(s, r->t.share));
    return reply_attrs(s, r->q, &a);
}

static int
h_stat(Server *s, Request *r)
{
    return stat_target(s, r, 0);
}

static int
h_lstat(Server *s, Request *r)
{
    return stat_target(s, r, PORCH_JAIL_NOFOLLOW);
}

static int
h_fstat(Server *s, Request *r)
{
    PorchWireAttrs a;
    struct stat st;
    int rc;

    if (r->h->kind == HANDLE_ROOT) {
        root_attrs(s, &a);
        return reply_attrs(s, r->q, &a);
    }
    /* a folder: the session holds no descriptor of it, the worker does */
    if (r->h->kind == HANDLE_DIR)
        rc = porch_files_stat(r->h->files, r->h->rel, &st, 0);
    else
        rc = fstat(r->h->fd, &st) == 0 ? 0 : -errno;
    if (rc < 0)
        return reply_errno(s, r->q, -rc);
    attrs_from_stat(&a, &st, read_only_for(s, porch_config_lookup_share(s->config, r->h->share)));
    return reply_attrs(s, r->q, &a);
}

static int
h_setstat(Server *s, Request *r)
{
    int rc;

    if (r->t.rel[0] == '\0')
        return reply_status(s, r->q, SSH_FX_PERMISSION_DENIED,
                            "The share's own folder cannot be changed");
    rc = porch_files_setstat(r->t.files, r->t.rel, &r->q->attrs);
    if (rc == -EPERM)
        return reply_status(s, r->q, SSH_FX_PERMISSION_DENIED,
                            "The share's own folder cannot be changed");
    return rc < 0 ? reply_errno(s, r->q, -rc) : reply_ok(s, r->q);
}

static int
h_fsetstat(Server *s, Request *r)
{
    int e;

    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->q, EBADF);
    e = porch_files_fsetstat(r->h->files, r->h->fd, &r->q->attrs);
    return e < 0 ? reply_errno(s, r->q, -e) : reply_ok(s, r->q);
}

/* The shares a listing of "/" shows this peer: those it may read, hidden ones left out (a
 * hidden share is reached by its name only, as Samba's "browseable = no"). */
static GStrv
listed_shares(Server *s)
{
    const PorchPeer *peer = porch_config_lookup_peer_by_fingerprint(s->config, s->ctx->fingerprint);
    g_auto(GStrv) readable = NULL;
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    /* a key that is no longer in the file sees nothing, not what guests see */
    if (s->ctx->fingerprint != NULL && peer == NULL)
        return g_new0(char *, 1);
    readable = porch_acl_readable_shares(s->config, peer);
    for (guint i = 0; readable[i] != NULL; i++) {
        const PorchShare *share = porch_config_lookup_share(s->config, readable[i]);
        if (share != NULL && !share->hidden && !share->offline)
            g_strv_builder_add(b, readable[i]);
    }
    return g_strv_builder_end(b);
}

static int
h_opendir(Server *s, Request *r)
{
    Handle *h;
    guint32 listing = 0;
    int rc;

    if (r->t.share == NULL) {
        h = handle_new(HANDLE_ROOT, &r->t);
        h->root_names = listed_shares(s);
        return reply_handle(s, r->q, h);
    }
    rc = porch_files_opendir(r->t.files, r->t.rel, &listing);
    if (rc < 0)
        return reply_errno(s, r->q, -rc);
    h = handle_new(HANDLE_DIR, &r->t);
    h->listing = listing;
    return reply_handle(s, r->q, h);
}

static int
readdir_root(Server *s, Request *r)
{
    Handle *h = r->h;
    guint n = 0;

    names_begin(s, r->q);
    while (h->root_names[h->root_next] != NULL && n < PORCH_SFTP_READDIR_BATCH) {
        const char *name = h->root_names[h->root_next++];
        const PorchShare *share = porch_config_lookup_share(s->config, name);
        PorchWireAttrs a;
        g_autofree char *longname = NULL;
        PorchFiles *files;
        struct stat st;

        if (share == NULL || share->hidden || share->offline || !may(s, share, PORCH_ACL_READ) ||
            (files = share_files(s, share)) == NULL || porch_files_stat(files, "", &st, 0) < 0)
            continue;
        attrs_from_stat(&a, &st, read_only_for(s, share));
        longname = long_name(name, &st, a.permissions);
        names_add(s, name, longname, &a);
        n++;
    }
    if (n == 0)
        return reply_status(s, r->q, SSH_FX_EOF, "End of listing");
    return names_send(s, n);
}

static int
h_readdir(Server *s, Request *r)
{
    Handle *h = r->h;
    g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(PorchFilesEntry));
    gboolean read_only;
    guint n = 0;
    int rc = 0;

    if (h->kind == HANDLE_ROOT)
        return readdir_root(s, r);
    if (h->kind != HANDLE_DIR)
        return reply_errno(s, r->q, EBADF);
    read_only = read_only_for(s, porch_config_lookup_share(s->config, h->share));
    names_begin(s, r->q);
    /* until something is shown: a batch may hold only our temporary files */
    while (n == 0 && (rc = porch_files_readdir(h->files, h->listing, entries)) > 0) {
        for (guint i = 0; i < entries->len; i++) {
            const PorchFilesEntry *e = &g_array_index(entries, PorchFilesEntry, i);
            g_autofree char *longname = NULL;
            PorchWireAttrs a;

            if (g_str_has_prefix(e->name, PORCH_UPLOAD_PREFIX))
                continue;
            attrs_from_stat(&a, &e->st, read_only);
            longname = long_name(e->name, &e->st, a.permissions);
            names_add(s, e->name, longname, &a);
            n++;
        }
        porch_files_entries_clear(entries);
    }
    if (n == 0 && rc < 0)
        return reply_errno(s, r->q, -rc);
    if (n == 0)
        return reply_status(s, r->q, SSH_FX_EOF, "End of listing");
    return names_send(s, n);
}

static int
h_remove(Server *s, Request *r)
{
    int rc = porch_files_remove(r->t.files, r->t.rel);

    g_autofree char *path = NULL;
    guint64 *put;

    if (rc < 0)
        return reply_errno(s, r->q, -rc);
    porch_upload_journal_forget_client_temp(s->journal, r->t.share->name, r->t.rel);
    path = shown_vpath(r->t.vpath);
    if ((put = g_hash_table_lookup(s->puts, r->t.vpath)) != NULL) {
        log_transfer(s,
                     "upload of %s abandoned after %" G_GUINT64_FORMAT
                     " bytes: the client removed it",
                     path, *put);
        g_hash_table_remove(s->puts, r->t.vpath);
    } else {
        log_transfer(s, "removed %s", path);
    }
    return reply_ok(s, r->q);
}

static int
h_mkdir(Server *s, Request *r)
{
    mode_t mode = 0777;
    int rc;

    if (r->q->attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
        mode = r->q->attrs.permissions & 0777;
    rc = porch_files_mkdir(r->t.files, r->t.rel, mode);
    if (rc < 0)
        return reply_errno(s, r->q, -rc);
    {
        g_autofree char *path = shown_vpath(r->t.vpath);
        log_transfer(s, "created folder %s", path);
    }
    return reply_ok(s, r->q);
}

static int
h_rmdir(Server *s, Request *r)
{
    int rc = porch_files_rmdir(r->t.files, r->t.rel);
    g_autofree char *path = NULL;

    if (rc < 0)
        return reply_errno(s, r->q, -rc);
    path = shown_vpath(r->t.vpath);
    log_transfer(s, "removed folder %s", path);
    return reply_ok(s, r->q);
}

static int
h_realpath(Server *s, Request *r)
{
    return reply_name(s, r->q, r->t.vpath);
}

static int
do_rename(Server *s, Request *r, gboolean replace)
{
    int rc;

    if (r->t.share != r->t2.share)
        return reply_status(s, r->q, SSH_FX_OP_UNSUPPORTED,
                            "Files cannot be moved from one share to another");
    rc = porch_files_rename(r->t.files, r->t.rel, r->t2.rel, replace);
    if (rc == 0) {
        g_autofree char *from = shown_vpath(r->t.vpath);
        g_autofree char *to = shown_vpath(r->t2.vpath);
        guint64 *put = g_hash_table_lookup(s->puts, r->t.vpath);

        porch_upload_journal_forget_client_temp(s->journal, r->t.share->name, r->t.rel);
        /* `porch put` names its upload: one line, under the name it now has */
        if (put != NULL)
            log_transfer(s, "uploaded %s (%" G_GUINT64_FORMAT " bytes)", to, *put);
        else
            log_transfer(s, "renamed %s to %s", from, to);
        g_hash_table_remove(s->puts, r->t.vpath);
    }
    if (rc == -EEXIST)
        return reply_status(s, r->q, status_of_errno(s, EEXIST), "The new name exists already");
    return rc < 0 ? reply_errno(s, r->q, -rc) : reply_ok(s, r->q);
}

static int
h_rename(Server *s, Request *r)
{
    return do_rename(s, r, FALSE);
}

static int
h_posix_rename(Server *s, Request *r)
{
    return do_rename(s, r, TRUE);
}

/* A link's target in the share's terms: an absolute one made on the server becomes
 * "/SHARE/...", a relative one stays as it is; either only when it leads to a place inside
 * the share (counted from the link's own folder), never to a server path or above the
 * share's root. */
static int
h_readlink(Server *s, Request *r)
{
    g_autofree char *buf = NULL;
    int rc = porch_files_readlink(r->t.files, r->t.rel, &buf);

    if (rc < 0)
        return reply_errno(s, r->q, -rc);
    if (buf[0] == '/') {
        size_t root_len = strlen(r->t.share->path);
        g_autofree char *v = NULL;

        if (strncmp(buf, r->t.share->path, root_len) != 0 ||
            (buf[root_len] != '/' && buf[root_len] != '\0'))
            return reply_status(s, r->q, SSH_FX_PERMISSION_DENIED,
                                "The link points outside the share");
        v = g_strconcat("/", r->t.share->name, buf + root_len, NULL);
        return reply_name(s, r->q, v);
    }
    if (!porch_jail_symlink_target_inside(r->t.rel, buf))
        return reply_status(s, r->q, SSH_FX_PERMISSION_DENIED, "The link points outside the share");
    return reply_name(s, r->q, buf);
}

/* A link a client makes may only point down: relative, no "..". One that climbs could be
 * moved (rename) to where its ".." leads outside, or made through a link to a parent,
 * and the share owner's own programs would follow it even though porchd never does. */
static gboolean
client_link_target_ok(const char *link_rel, const char *target)
{
    g_auto(GStrv) parts = NULL;

    if (target == NULL || !porch_jail_symlink_target_inside(link_rel, target))
        return FALSE;
    parts = g_strsplit(target, "/", -1);
    for (guint i = 0; parts[i]; i++)
        if (g_str_equal(parts[i], ".."))
            return FALSE;
    return TRUE;
}

/* OpenSSH's order: the link's target first, then the new link's path (the gate resolved
 * the latter). Only relative targets that stay inside the share are made. */
static int
h_symlink(Server *s, Request *r)
{
    const char *target = r->q->path;
    int rc;

    if (!client_link_target_ok(r->t.rel, target)) {
        g_autofree char *v = shown(r->t.vpath);
        g_autofree char *to = shown(target);
        g_message("%s: refused symlink %s -> %s: it could lead outside the share", s->ctx->who, v,
                  to);
        return reply_status(s, r->q, SSH_FX_PERMISSION_DENIED,
                            "A link must point down into the share, by a relative path");
    }
    rc = porch_files_symlink(r->t.files, target, r->t.rel);
    return rc < 0 ? reply_errno(s, r->q, -rc) : reply_ok(s, r->q);
}

static int
h_statvfs(Server *s, Request *r)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    struct statvfs v;
    int fd = porch_files_open(r->t.files, r->t.rel, O_PATH, 0, 0), rc;
    guint64 flag = 0;

    if (fd < 0)
        return reply_errno(s, r->q, -fd);
    rc = fstatvfs(fd, &v);
    close(fd);
    if (rc != 0)
        return reply_errno(s, r->q, errno);
    if ((v.f_flag & ST_RDONLY) || read_only_for(s, r->t.share))
        flag |= 0x1; /* SSH2_FXE_STATVFS_ST_RDONLY */
    if (v.f_flag & ST_NOSUID)
        flag |= 0x2;
    porch_wire_put_u64(b, v.f_bsize);
    porch_wire_put_u64(b, v.f_frsize);
    porch_wire_put_u64(b, v.f_blocks);
    porch_wire_put_u64(b, v.f_bfree);
    porch_wire_put_u64(b, v.f_bavail);
    porch_wire_put_u64(b, v.f_files);
    porch_wire_put_u64(b, v.f_ffree);
    porch_wire_put_u64(b, v.f_favail);
    porch_wire_put_u64(b, v.f_fsid);
    porch_wire_put_u64(b, flag);
    porch_wire_put_u64(b, v.f_namemax);
    return send_extended_reply(s, r->q, b);
}

static int
h_fsync(Server *s, Request *r)
{
    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->q, EBADF);
    return fsync(r->h->fd) == 0 ? reply_ok(s, r->q) : reply_errno(s, r->q, errno);
}

static int
h_limits(Server *s, Request *r)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    porch_wire_put_u64(b, s->max_packet);
    porch_wire_put_u64(b, s->max_read);
    /* a WRITE's header (id, handle, offset, data length) is well under 1 KiB */
    porch_wire_put_u64(b, s->max_packet - 1024);
    porch_wire_put_u64(b, s->n_handles);
    return send_extended_reply(s, r->q, b);
}

/* The draft-ietf-secsh-filexfer "check-file" extension, SHA-256 only: the hash of a byte
 * range, or one hash per block of it. Replies PORCH_WIRE_CHECK_FILE_REPLY,
 * PORCH_WIRE_CHECK_FILE_SHA256, the hashes. */
/* The content index, opened read-only at the first check-file (and tried again at most every
 * 10 s while there is none: porchd makes it in the background). */
static PorchIndex *
server_index(Server *s)
{
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;

    if (s->index != NULL || s->ctx->state_dir == NULL || g_get_monotonic_time() < s->index_retry)
        return s->index;
    path = g_build_filename(s->ctx->state_dir, PORCH_INDEX_FILE, NULL);
    s->index = porch_index_open(path, FALSE, NULL, &error);
    if (s->index == NULL) {
        g_debug("no content index: %s", error->message);
        s->index_retry = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    }
    return s->index;
}

/* The hashes of a check-file request from the content index, when it holds them for the
 * file @fd (stat @st) is: the record's size, times, device and inode must be the file's. */
static GBytes *
check_file_from_index(Server *s, const char *share, const char *rel, const struct stat *st,
                      guint64 start, guint64 length, guint32 block)
{
    PorchIndex *idx;
    g_autoptr(PorchIndexEntry) e = NULL;

    if (share == NULL || rel == NULL || rel[0] == '\0' || (idx = server_index(s)) == NULL)
        return NULL;
    e = porch_index_lookup(idx, share, rel, st);
    return e != NULL ? porch_index_check_file(e, start, length, block) : NULL;
}

static int
check_file(Server *s, Request *r, int fd, const char *share, const char *rel)
{
    g_autofree char *algorithms = porch_wire_get_path(&r->ext, 1024);
    g_auto(GStrv) algs = NULL;
    guint64 start = 0, length = 0, done = 0;
    guint32 block = 0;
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(PorchSha256) sum = porch_sha256_new();
    guint8 digest[PORCH_SHA256_LEN];
    guint8 *buf = s->read_buf + DATA_HEADER;
    struct stat st;
    guint64 in_block = 0;

    if (algorithms == NULL || !porch_wire_get_u64(&r->ext, &start) ||
        !porch_wire_get_u64(&r->ext, &length) || !porch_wire_get_u32(&r->ext, &block))
        return reply_status(s, r->q, SSH_FX_BAD_MESSAGE, "Malformed check-file request");
    algs = g_strsplit(algorithms, ",", -1);
    if (!g_strv_contains((const char *const *)algs, PORCH_WIRE_CHECK_FILE_SHA256))
        return reply_status(s, r->q, SSH_FX_OP_UNSUPPORTED, "Only sha256 is offered");
    if (block != 0 && block < 256)
        return reply_status(s, r->q, SSH_FX_BAD_MESSAGE, "Block size below 256");
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return reply_errno(s, r->q, errno ? errno : EISDIR);
    if (start > (guint64)st.st_size)
        start = (guint64)st.st_size;
    if (length == 0 || length > (guint64)st.st_size - start)
        length = (guint64)st.st_size - start;
    if (length > PORCH_CHECK_FILE_MAX)
        return reply_status(s, r->q, SSH_FX_FAILURE,
                            "Ask for at most 16 GiB per check-file request");
    if (block != 0 && length / block > (PORCH_SFTP_MAX_READ - 64) / 32)
        return reply_status(s, r->q, SSH_FX_FAILURE, "Too many blocks for one reply");

    porch_wire_put_cstring(b, PORCH_WIRE_CHECK_FILE_REPLY);
    porch_wire_put_cstring(b, PORCH_WIRE_CHECK_FILE_SHA256);
    {
        g_autoptr(GBytes) known = check_file_from_index(s, share, rel, &st, start, length, block);
        if (known != NULL) {
            g_byte_array_append(b, g_bytes_get_data(known, NULL), g_bytes_get_size(known));
            return send_extended_reply(s, r->q, b);
        }
    }
    while (done < length) {
        gsize want = (gsize)MIN(length - done, s->max_read);
        ssize_t n;

        if (block != 0)
            want = (gsize)MIN(want, block - in_block);
        n = pread(fd, buf, want, (off_t)(start + done));
        if (n < 0)
            return reply_errno(s, r->q, errno);
        if (n == 0)
            break; /* the file shrank meanwhile */
        porch_sha256_update(sum, buf, (gsize)n);
        done += (guint64)n;
        in_block += (guint64)n;
        if (block != 0 && (in_block == block || done == length)) {
            porch_sha256_finish(sum, digest);
            g_byte_array_append(b, digest, sizeof digest);
            in_block = 0;
        }
    }
    if (block == 0) {
        porch_sha256_finish(sum, digest);
        g_byte_array_append(b, digest, sizeof digest);
    }
    return send_extended_reply(s, r->q, b);
}

static int
h_check_file_name(Server *s, Request *r)
{
    int fd = porch_files_open(r->t.files, r->t.rel, O_RDONLY, 0, 0), rc;

    if (fd < 0)
        return reply_errno(s, r->q, -fd);
    rc = check_file(s, r, fd, r->t.share->name, r->t.rel);
    close(fd);
    return rc;
}

static int
h_check_file_handle(Server *s, Request *r)
{
    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->q, EBADF);
    return check_file(s, r, r->h->fd, r->h->share, r->h->rel);
}

/* ---- the table and the gate ---------------------------------------------------------- */

typedef enum {
    ARG_NONE,          /* no path, no handle */
    ARG_PATH,          /* q->path */
    ARG_LINK_PATH,     /* q->path2: symlink's new link (q->path is its target) */
    ARG_TWO_PATHS,     /* q->path and q->path2: rename */
    ARG_HANDLE,        /* q->handle */
    ARG_EXT_PATH,      /* an extended request's first argument, a path */
    ARG_EXT_TWO_PATHS, /* an extended request's two first arguments, paths */
    ARG_EXT_HANDLE,    /* an extended request's first argument, a handle */
} ArgKind;

typedef enum {
    NEED_NOTHING,
    NEED_READ,
    NEED_WRITE,
    NEED_BY_OPEN_FLAGS, /* open: write when it writes, creates or truncates */
} Need;

static const struct handler {
    const char *name;     /* for log lines */
    guint8 type;          /* SSH_FXP_* */
    const char *extended; /* with SSH_FXP_EXTENDED: the request's name */
    ArgKind arg;
    Need need;        /* the operation the ACL must allow on the share */
    gboolean root_ok; /* may name "/" itself */
    int (*fn)(Server *s, Request *r);
} handlers[] = {
        {"open", SSH_FXP_OPEN, NULL, ARG_PATH, NEED_BY_OPEN_FLAGS, FALSE, h_open},
        {"close", SSH_FXP_CLOSE, NULL, ARG_HANDLE, NEED_NOTHING, FALSE, h_close},
        {"read", SSH_FXP_READ, NULL, ARG_HANDLE, NEED_READ, FALSE, h_read},
        {"write", SSH_FXP_WRITE, NULL, ARG_HANDLE, NEED_WRITE, FALSE, h_write},
        {"lstat", SSH_FXP_LSTAT, NULL, ARG_PATH, NEED_READ, TRUE, h_lstat},
        {"stat", SSH_FXP_STAT, NULL, ARG_PATH, NEED_READ, TRUE, h_stat},
        {"fstat", SSH_FXP_FSTAT, NULL, ARG_HANDLE, NEED_READ, FALSE, h_fstat},
        {"setstat", SSH_FXP_SETSTAT, NULL, ARG_PATH, NEED_WRITE, FALSE, h_setstat},
        {"fsetstat", SSH_FXP_FSETSTAT, NULL, ARG_HANDLE, NEED_WRITE, FALSE, h_fsetstat},
        {"opendir", SSH_FXP_OPENDIR, NULL, ARG_PATH, NEED_READ, TRUE, h_opendir},
        {"readdir", SSH_FXP_READDIR, NULL, ARG_HANDLE, NEED_READ, FALSE, h_readdir},
        {"remove", SSH_FXP_REMOVE, NULL, ARG_PATH, NEED_WRITE, FALSE, h_remove},
        {"mkdir", SSH_FXP_MKDIR, NULL, ARG_PATH, NEED_WRITE, FALSE, h_mkdir},
        {"rmdir", SSH_FXP_RMDIR, NULL, ARG_PATH, NEED_WRITE, FALSE, h_rmdir},
        {"realpath", SSH_FXP_REALPATH, NULL, ARG_PATH, NEED_READ, TRUE, h_realpath},
        {"rename", SSH_FXP_RENAME, NULL, ARG_TWO_PATHS, NEED_WRITE, FALSE, h_rename},
        {"readlink", SSH_FXP_READLINK, NULL, ARG_PATH, NEED_READ, FALSE, h_readlink},
        {"symlink", SSH_FXP_SYMLINK, NULL, ARG_LINK_PATH, NEED_WRITE, FALSE, h_symlink},
        {"posix-rename", SSH_FXP_EXTENDED, PORCH_WIRE_EXT_POSIX_RENAME, ARG_EXT_TWO_PATHS,
         NEED_WRITE, FALSE, h_posix_rename},
        {"statvfs", SSH_FXP_EXTENDED, PORCH_WIRE_EXT_STATVFS, ARG_EXT_PATH, NEED_READ, FALSE,
         h_statvfs},
        {"fsync", SSH_FXP_EXTENDED, PORCH_WIRE_EXT_FSYNC, ARG_EXT_HANDLE, NEED_READ, FALSE,
         h_fsync},
        {"limits", SSH_FXP_EXTENDED, PORCH_WIRE_EXT_LIMITS, ARG_NONE, NEED_NOTHING, FALSE,
         h_limits},
        {"check-file-name", SSH_FXP_EXTENDED, PORCH_WIRE_EXT_CHECK_FILE_NAME, ARG_EXT_PATH,
         NEED_READ, FALSE, h_check_file_name},
        {"check-file-handle", SSH_FXP_EXTENDED, PORCH_WIRE_EXT_CHECK_FILE_HANDLE, ARG_EXT_HANDLE,
         NEED_READ, FALSE, h_check_file_handle},
};

/* What the VERSION reply offers: name and version of each extension above. */
static const char *const extensions[][2] = {
        {PORCH_WIRE_EXT_POSIX_RENAME, "1"},
        {PORCH_WIRE_EXT_STATVFS, "2"},
        {PORCH_WIRE_EXT_FSYNC, "1"},
        {PORCH_WIRE_EXT_LIMITS, "1"},
        {PORCH_WIRE_EXT_CHECK_FILE_NAME, PORCH_WIRE_CHECK_FILE_SHA256},
        {PORCH_WIRE_EXT_CHECK_FILE_HANDLE, PORCH_WIRE_CHECK_FILE_SHA256},
};

static const struct handler *
find_handler(const PorchWireRequest *q)
{
    for (guint i = 0; i < G_N_ELEMENTS(handlers); i++) {
        if (handlers[i].type != q->type)
            continue;
        if (handlers[i].extended == NULL || g_strcmp0(handlers[i].extended, q->extended) == 0)
            return &handlers[i];
    }
    return NULL;
}

static PorchAclOp
op_of(const struct handler *row, const PorchWireRequest *q)
{
    if (row->need == NEED_WRITE)
        return PORCH_ACL_WRITE;
    if (row->need == NEED_BY_OPEN_FLAGS &&
        (q->pflags & (SSH_FXF_WRITE | SSH_FXF_APPEND | SSH_FXF_CREAT | SSH_FXF_TRUNC)))
        return PORCH_ACL_WRITE;
    return PORCH_ACL_READ;
}

static int
refuse(Server *s, const struct handler *row, const PorchWireRequest *q, const char *what,
       int status, const char *why)
{
    g_autofree char *path = shown(what ? what : "");

    g_message("%s: refused %s %s: %s", s->ctx->who, row->name, path, why);
    switch (status) {
    case SSH_FX_NO_SUCH_FILE:
        return reply_status(s, q, (guint32)status, "No such file");
    case SSH_FX_PERMISSION_DENIED:
        return reply_status(s, q, (guint32)status, "Permission denied");
    default:
        return reply_status(s, q, (guint32)status, why);
    }
}

/* The one gate: arguments resolved, the ACL asked, then the handler. */
static int
gate(Server *s, const struct handler *row, Request *r)
{
    const PorchWireRequest *q = r->q;
    PorchAclOp op = op_of(row, q);
    const char *why = NULL;
    g_autofree char *ext_path = NULL;
    g_autofree char *ext_path2 = NULL;
    const guint8 *handle = q->handle;
    guint32 handle_len = q->handle_len;
    int status;

    /* an extended request's own arguments: a handle is binary and may hold NUL bytes; a
     * path may not */
    r->ext = q->ext_args;
    if ((row->arg == ARG_EXT_PATH || row->arg == ARG_EXT_TWO_PATHS) &&
        (ext_path = porch_wire_get_path(&r->ext, G_MAXUINT32)) == NULL)
        return refuse(s, row, q, NULL, SSH_FX_BAD_MESSAGE, "malformed request");
    if (row->arg == ARG_EXT_TWO_PATHS &&
        (ext_path2 = porch_wire_get_path(&r->ext, G_MAXUINT32)) == NULL)
        return refuse(s, row, q, NULL, SSH_FX_BAD_MESSAGE, "malformed request");
    if (row->arg == ARG_EXT_HANDLE && !porch_wire_get_string(&r->ext, &handle, &handle_len))
        return refuse(s, row, q, NULL, SSH_FX_BAD_MESSAGE, "malformed request");

    switch (row->arg) {
    case ARG_NONE:
        break;
    case ARG_PATH:
    case ARG_EXT_PATH:
    case ARG_LINK_PATH:
    case ARG_TWO_PATHS:
    case ARG_EXT_TWO_PATHS: {
        const char *path = row->arg == ARG_PATH || row->arg == ARG_TWO_PATHS ? q->path
                           : row->arg == ARG_LINK_PATH                       ? q->path2
                                                                             : ext_path;
        const char *path2 = row->arg == ARG_TWO_PATHS ? q->path2 : ext_path2;

        status = resolve_target(s, path, op, !row->root_ok, &r->t, &why);
        if (status != 0)
            return refuse(s, row, q, r->t.vpath ? r->t.vpath : path, status, why);
        if (row->arg == ARG_TWO_PATHS || row->arg == ARG_EXT_TWO_PATHS) {
            status = resolve_target(s, path2, op, TRUE, &r->t2, &why);
            if (status != 0)
                return refuse(s, row, q, r->t2.vpath ? r->t2.vpath : path2, status, why);
        }
        break;
    }
    case ARG_HANDLE:
    case ARG_EXT_HANDLE:
        r->h = handle_lookup(s, handle, handle_len);
        if (r->h == NULL)
            return refuse(s, row, q, NULL, SSH_FX_INVALID_HANDLE, "no such handle");
        if (row->need == NEED_NOTHING)
            break;
        /* rules may have changed since the open: ask again */
        if (r->h->kind == HANDLE_ROOT) {
            if (op != PORCH_ACL_READ)
                return refuse(s, row, q, "/", SSH_FX_PERMISSION_DENIED, "the root is read-only");
        } else {
            const PorchShare *share = porch_config_lookup_share(s->config, r->h->share);
            if (share == NULL || !may(s, share, op))
                return refuse(s, row, q, r->h->vpath, SSH_FX_PERMISSION_DENIED,
                              op == PORCH_ACL_WRITE ? "not allowed to write"
                                                    : "not allowed to read");
            if (op == PORCH_ACL_WRITE && !r->h->for_write)
                return refuse(s, row, q, r->h->vpath, SSH_FX_PERMISSION_DENIED,
                              "not opened for writing");
        }
        break;
    }
    s->op = row->name;
    s->path = r->t.vpath ? r->t.vpath : r->h ? r->h->vpath : NULL;
    return row->fn(s, r);
}

/* A parsed request goes through its row of handlers[] and the gate; one without a row is
 * answered OP_UNSUPPORTED. */
static int
dispatch_request(Server *s, const PorchWireRequest *q)
{
    const struct handler *row = find_handler(q);
    Request r = {.q = q};
    int rc;

    if (row == NULL) {
        g_autofree char *ext = shown(q->extended ? q->extended : "");
        g_debug("%s: unsupported request %u %s", s->ctx->who, q->type, ext);
        return reply_status(s, q, SSH_FX_OP_UNSUPPORTED, "Not supported");
    }
    rc = gate(s, row, &r);
    target_clear(&r.t);
    target_clear(&r.t2);
    s->op = NULL;
    s->path = NULL;
    return rc;
}

/* ---- the stream ---------------------------------------------------------------------- */

/* SSH_FXP_INIT, answered with SSH_FXP_VERSION: version 3 and our extensions. Of the
 * extension pairs INIT may carry, PORCH_WIRE_EXT_STATUS_CODES is taken note of (porch-wire.h);
 * the others are ignored. */
static int
version_exchange(Server *s, const guint8 *packet, gsize len)
{
    guint32 version = 0;

    if (!porch_wire_parse_init(packet, len, &version, &s->status_codes)) {
        g_message("%s: the SFTP client did not start with INIT", s->ctx->who);
        return -1;
    }
    porch_wire_begin_packet(s->out, SSH_FXP_VERSION);
    porch_wire_put_u32(s->out, PORCH_WIRE_VERSION);
    for (guint i = 0; i < G_N_ELEMENTS(extensions); i++) {
        porch_wire_put_cstring(s->out, extensions[i][0]);
        porch_wire_put_cstring(s->out, extensions[i][1]);
    }
    s->initialized = TRUE;
    return send_out(s);
}

/* One whole packet (type and fields, the length taken off). 0, or -1 to end the session. */
static int
process_packet(Server *s, const guint8 *packet, gsize len)
{
    PorchWireRequest q;
    PorchWireParse parsed;
    int rc;

    if (!s->initialized)
        return version_exchange(s, packet, len);
    s->config = s->ctx->current_config(s->ctx->user_data);
    parsed = porch_wire_parse_request(packet, len, &q);
    switch (parsed) {
    case PORCH_WIRE_PARSE_NO_ID:
        rc = -1;
        break;
    case PORCH_WIRE_PARSE_UNSUPPORTED:
        g_debug("%s: unsupported request type %u", s->ctx->who, q.type);
        rc = reply_status(s, &q, SSH_FX_OP_UNSUPPORTED, "Not supported");
        break;
    case PORCH_WIRE_PARSE_MALFORMED:
        g_message("%s: refused a malformed request (type %u)", s->ctx->who, q.type);
        rc = reply_status(s, &q, SSH_FX_BAD_MESSAGE, "Malformed request");
        break;
    case PORCH_WIRE_PARSE_OK:
    default:
        rc = dispatch_request(s, &q);
        break;
    }
    porch_wire_request_clear(&q);
    return rc;
}

/* Answers a request that announced @len bytes, more than max-packet-size: it is refused by
 * its id (the 5 bytes after the length are here) and the rest of it will be skipped. */
static int
refuse_too_large(Server *s, const guint8 *head, guint64 len)
{
    PorchWireRequest q = {.type = head[4],
                          .id = (guint32)head[5] << 24 | (guint32)head[6] << 16 |
                                (guint32)head[7] << 8 | head[8]};
    g_autofree char *why = g_strdup_printf("A request of %" G_GUINT64_FORMAT
                                           " bytes; this server takes at most %u",
                                           len, s->max_packet);

    g_message("%s: refused a request (type %u) of %" G_GUINT64_FORMAT
              " bytes: more than max-packet-size",
              s->ctx->who, q.type, len);
    if (!s->initialized)
        return -1;
    return reply_status(s, &q, SSH_FX_FAILURE, why);
}

/* Whether @q only reads: nothing it does can change what an open after it finds. */
static gboolean
only_reads(Server *s, const PorchWireRequest *q)
{
    static const char *const reading_extensions[] = {
            PORCH_WIRE_EXT_CHECK_FILE_HANDLE, PORCH_WIRE_EXT_CHECK_FILE_NAME, PORCH_WIRE_EXT_LIMITS,
            PORCH_WIRE_EXT_STATVFS, NULL};
    Handle *h;

    switch (q->type) {
    case SSH_FXP_OPEN:
        return !(q->pflags & (SSH_FXF_WRITE | SSH_FXF_APPEND | SSH_FXF_CREAT | SSH_FXF_TRUNC));
    case SSH_FXP_READ:
    case SSH_FXP_FSTAT:
    case SSH_FXP_STAT:
    case SSH_FXP_LSTAT:
    case SSH_FXP_OPENDIR:
    case SSH_FXP_READDIR:
    case SSH_FXP_REALPATH:
    case SSH_FXP_READLINK:
        return TRUE;
    case SSH_FXP_CLOSE:
        /* closing an upload renames it into place */
        h = handle_lookup(s, q->handle, q->handle_len);
        return h == NULL || (!h->for_write && h->temp_name == NULL);
    case SSH_FXP_EXTENDED:
        return g_strv_contains(reading_extensions, q->extended);
    default:
        return FALSE;
    }
}

/* The client pipelines: a batch of requests is often here at once, many of them opens of
 * files to read (a tree being fetched). Their opens go to the workers back to back, before
 * the batch is processed, and each OPEN then takes its descriptor (porch_files_open_ahead()):
 * one round trip to a worker for the batch rather than one per file. Only opens to read,
 * only as far as nothing before them in the batch could change what they find, and only
 * those the gate lets through: each is gated again when it is processed, and what is not
 * taken is closed at the end of the batch. */
static void
open_ahead(Server *s, gsize at)
{
    guint sent = 0;

    if (!s->initialized)
        return;
    s->config = s->ctx->current_config(s->ctx->user_data);
    while (sent < PORCH_FILES_MAX_AHEAD && s->in_len - at >= 4) {
        guint32 plen = (guint32)s->in[at] << 24 | (guint32)s->in[at + 1] << 16 |
                       (guint32)s->in[at + 2] << 8 | s->in[at + 3];
        PorchWireRequest q;
        gboolean go_on;

        if (plen < 5 || plen > s->max_packet || s->in_len - at < 4 + (gsize)plen)
            return;
        go_on = porch_wire_parse_request(s->in + at + 4, plen, &q) == PORCH_WIRE_PARSE_OK &&
                only_reads(s, &q);
        if (go_on && q.type == SSH_FXP_OPEN) {
            const char *why = NULL;
            Target t;
            if (resolve_target(s, q.path, PORCH_ACL_READ, TRUE, &t, &why) == 0 &&
                t.rel[0] != '\0') {
                porch_files_open_ahead(t.files, t.rel, O_RDONLY, q.id);
                sent++;
            }
            target_clear(&t);
        }
        porch_wire_request_clear(&q);
        if (!go_on)
            return;
        at += 4 + plen;
    }
}

/* What was opened ahead and not taken (refused at its turn, or a request that failed) is
 * closed. */
static void
drop_ahead(Server *s)
{
    GHashTableIter it;
    gpointer files;

    g_hash_table_iter_init(&it, s->files);
    while (g_hash_table_iter_next(&it, NULL, &files))
        porch_files_drop_ahead(files);
}

/* Processes every whole packet in s->in[in_start..in_len), skips what an oversized one still
 * has, and makes room for the rest of an unfinished one: it moves to the front only when the
 * buffer's free tail cannot hold the rest (moving it after every read would copy each byte of
 * a big WRITE once more). FALSE when the session must end. */
static gboolean
consume(Server *s)
{
    gsize at = s->in_start, need = 0;
    gboolean ok = TRUE;

    if (s->discard == 0)
        open_ahead(s, at);
    while (ok) {
        gsize avail = s->in_len - at;
        guint32 plen;

        if (s->discard > 0) {
            gsize k = (gsize)MIN(s->discard, (guint64)avail);
            at += k;
            s->discard -= k;
            if (s->discard > 0)
                break;
            continue;
        }
        if (avail < 4) {
            need = 4;
            break;
        }
        plen = (guint32)s->in[at] << 24 | (guint32)s->in[at + 1] << 16 |
               (guint32)s->in[at + 2] << 8 | s->in[at + 3];
        if (plen < 5) {
            g_message("%s: an SFTP packet of %u bytes: the client is not speaking SFTP",
                      s->ctx->who, plen);
            ok = FALSE;
        } else if (plen > s->max_packet) {
            if (avail < 9) {
                need = 9;
                break;
            }
            ok = refuse_too_large(s, s->in + at, plen) == 0;
            at += 9;
            s->discard = plen - 5;
        } else if (avail >= 4 + (gsize)plen) {
            ok = process_packet(s, s->in + at + 4, plen) == 0;
            at += 4 + plen;
        } else {
            need = 4 + (gsize)plen;
            break;
        }
    }
    drop_ahead(s);
    s->in_start = at;
    if (s->in_start == s->in_len) {
        s->in_start = s->in_len = 0;
    } else if (s->in_cap - s->in_start < need) {
        memmove(s->in, s->in + s->in_start, s->in_len - s->in_start);
        s->in_len -= s->in_start;
        s->in_start = 0;
    }
    return ok;
}

PorchSftpServer *
porch_sftp_server_new(const PorchSftpContext *ctx, PorchSftpSendFunc send, gpointer send_data)
{
    Server *s;
    PorchConfig *config;

    g_return_val_if_fail(ctx != NULL && ctx->current_config != NULL && send != NULL, NULL);
    config = ctx->current_config(ctx->user_data);
    s = g_new0(Server, 1);
    s->ctx = ctx;
    s->send = send;
    s->send_data = send_data;
    s->started = g_get_real_time() / G_USEC_PER_SEC;
    s->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)porch_files_free);
    s->puts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->journal = porch_upload_journal_new(ctx->state_dir);
    s->n_handles = (guint)porch_config_get_limit(config, PORCH_LIMIT_MAX_HANDLES);
    s->handles = g_new0(Handle *, s->n_handles);
    s->max_packet = (guint32)porch_config_get_limit(config, PORCH_LIMIT_MAX_PACKET_SIZE);
    s->max_read = MIN(PORCH_SFTP_MAX_READ, s->max_packet - 1024);
    s->in_cap = 4 + (gsize)s->max_packet;
    s->in = g_malloc(s->in_cap);
    s->out = g_byte_array_sized_new(64 * 1024);
    s->read_buf = g_malloc(DATA_HEADER + (gsize)s->max_read);
    return s;
}

gboolean
porch_sftp_server_feed(PorchSftpServer *s, const guint8 *data, gsize len)
{
    while (len > 0) {
        gsize k = MIN(len, s->in_cap - s->in_len);

        memcpy(s->in + s->in_len, data, k);
        s->in_len += k;
        data += k;
        len -= k;
        if (!consume(s))
            return FALSE;
    }
    return TRUE;
}

void
porch_sftp_server_free(PorchSftpServer *s)
{
    GHashTableIter it;
    gpointer path, put;

    if (s == NULL)
        return;
    g_clear_pointer(&s->index, porch_index_close);
    for (guint i = 0; i < s->n_handles; i++) {
        if (s->handles[i] != NULL) {
            log_handle(s, s->handles[i], 0, TRUE);
            note_transfer(s, s->handles[i], TRUE);
            handle_free(s->handles[i]);
        }
    }
    /* closed `porch put` files never renamed: the upload journal removes them */
    g_hash_table_iter_init(&it, s->puts);
    while (g_hash_table_iter_next(&it, &path, &put)) {
        g_autofree char *shown_path = shown_vpath(path);
        log_transfer(s,
                     "upload of %s abandoned after %" G_GUINT64_FORMAT
                     " bytes: the session ended before it was renamed",
                     shown_path, *(guint64 *)put);
    }
    g_hash_table_unref(s->puts);
    g_free(s->handles);
    g_hash_table_unref(s->files);
    porch_upload_journal_free(s->journal);
    g_free(s->in);
    g_byte_array_unref(s->out);
    g_free(s->read_buf);
    g_free(s);
}

/* ---- on a channel -------------------------------------------------------------------- */

static gboolean
channel_send(const guint8 *data, gsize len, gpointer user_data)
{
    ssh_channel channel = user_data;

    while (len > 0) {
        int n = ssh_channel_write(channel, data, (guint32)MIN(len, 65536));
        if (n <= 0)
            return FALSE;
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

int
porch_sftp_serve(ssh_session session, ssh_channel channel, const PorchSftpContext *ctx)
{
    PorchSftpServer *s;
    PorchConfig *config;
    long idle;
    int r = 0;

    g_return_val_if_fail(ctx != NULL && ctx->current_config != NULL, -1);
    config = ctx->current_config(ctx->user_data);
    idle = (long)porch_config_get_limit(config, PORCH_LIMIT_IDLE_TIMEOUT);
    /* a client that stops reading must not hold the session either: libssh's blocking
     * writes wait for the window at most this long */
    if (idle > 0)
        ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &idle);
    s = porch_sftp_server_new(ctx, channel_send, channel);
    for (;;) {
        /* the configuration may have been reloaded: the idle time is the current one */
        idle = (long)porch_config_get_limit(ctx->current_config(ctx->user_data),
                                            PORCH_LIMIT_IDLE_TIMEOUT);
        int n = porch_channel_read_timeout(channel, s->in + s->in_len,
                                           (guint32)(s->in_cap - s->in_len), 0,
                                           idle > 0 ? (int)(idle * 1000) : -1);

        if (n < 0) {
            r = -1;
            break;
        }
        if (n == 0) {
            if (ssh_channel_is_eof(channel) || !ssh_channel_is_open(channel))
                break; /* the client closed the channel */
            g_message("%s: idle for %ld s; disconnecting", ctx->who, idle);
            break;
        }
        s->in_len += (gsize)n;
        if (!consume(s)) {
            r = -1;
            break;
        }
    }
    porch_sftp_server_free(s);
    return r;
}
