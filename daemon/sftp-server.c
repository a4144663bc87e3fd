/* sftp-server.c — Porch's SFTP server: libssh 0.10 parses the requests and sends the
 * standard replies; this file decides and does.
 *
 * Every request goes through one table (handlers[]) and one gate (gate()). A row names the
 * operation the ACL must allow for the share the request touches; the gate resolves the
 * client's path in the virtual tree ("/" lists the shares, "/SHARE/..." is a share), asks
 * porch_acl_check() with the configuration of this very moment, and only then calls the
 * handler with the share's jail and the path beneath it. Handlers touch files only through
 * file descriptors that the jail resolved beneath the share root.
 *
 * libssh 0.10's server API has no way to advertise extensions other than its own two, nor
 * to send SSH_FXP_EXTENDED_REPLY; both are written here as plain SFTP packets on the same
 * channel (send_packet()), and the arguments of extended requests are read from the
 * message's raw payload (Reader).
 */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1
#define WITH_SERVER

#include "sftp-server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libssh/sftp.h>

#include "porch-acl.h"
#include "porch-hash.h"
#include "porch-jail.h"

#define READDIR_BATCH 100
/* the end of argv[0] of our session processes */
#define PORCH_SESSION_NAME "porchd-session"
/* check-file hashes at most this much per request (~10 s here): a client verifies a larger
 * file range by range, and no request can keep a session busy for hours */
#define PORCH_CHECK_FILE_MAX        ((guint64)16 << 30)
#define MAX_PATH_LENGTH             4096
#define SSH_FXP_EXTENDED_REPLY_TYPE 201

typedef enum {
    HANDLE_FILE,
    HANDLE_DIR,
    HANDLE_ROOT, /* a listing of "/" */
} HandleKind;

typedef struct {
    HandleKind kind;
    guint32 id; /* index | generation << 16, what the client holds */
    char *share;
    char *vpath; /* for logs */
    int fd;
    gboolean for_write;
    DIR *dir;
    GStrv root_names; /* HANDLE_ROOT: the shares, listed once */
    guint root_next;
    /* an upload that replaces its target when closed */
    int parent_fd;
    char *final_name;
    char *temp_name;
    char *journal;
    int write_errno; /* the first failed write's: the upload is not completed */
} Handle;

typedef struct {
    ssh_session session;
    ssh_channel channel;
    sftp_session sftp;
    const PorchSftpContext *ctx;
    PorchConfig *config;      /* borrowed, refreshed before each request */
    GHashTable *jails;        /* share name -> PorchJail* */
    GHashTable *client_temps; /* "share/rel" of a porch put's new file -> its journal entry */
    Handle *handles[PORCH_SFTP_MAX_HANDLES];
    guint16 generation;
    guint journal_serial;
    guchar *read_buf;
    gint64 started;
    /* the request being handled, for log lines */
    const char *op;
    const char *path;
} Server;

/* Where a request's path leads: "/" (share NULL), or a share and the path beneath it. */
typedef struct {
    const PorchShare *share;
    PorchJail *jail;
    char *rel;   /* "" for the share root */
    char *vpath; /* the normalised virtual path, "/SHARE/rel" */
} Target;

static void
target_clear(Target *t)
{
    g_clear_pointer(&t->rel, g_free);
    g_clear_pointer(&t->vpath, g_free);
}

/* ---- replies ------------------------------------------------------------------------- */

static int
status_of_errno(int e)
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
    default:
        return SSH_FX_FAILURE;
    }
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
    default:
        return g_strerror(e);
    }
}

/* Replies with the status of errno @e. A refusal (permission, a path leading outside the
 * share) is logged with the request it refuses. */
static int
reply_errno(Server *s, sftp_client_message msg, int e)
{
    int status = status_of_errno(e);

    if (status == SSH_FX_PERMISSION_DENIED)
        g_message("%s: refused %s %s: %s", s->ctx->who, s->op ? s->op : "request",
                  s->path ? s->path : "", message_of_errno(e));
    return sftp_reply_status(msg, status, message_of_errno(e));
}

static int
reply_ok(sftp_client_message msg)
{
    return sftp_reply_status(msg, SSH_FX_OK, "Success");
}

static gboolean
write_all(Server *s, const guchar *data, gsize len)
{
    while (len > 0) {
        int n = ssh_channel_write(s->channel, data, (guint32)MIN(len, 65536));
        if (n <= 0)
            return FALSE;
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* A big-endian uint32 at any alignment. */
static guint32
get_be32(const guchar *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void
put_u32(GByteArray *b, guint32 v)
{
    guint32 be = GUINT32_TO_BE(v);
    g_byte_array_append(b, (const guint8 *)&be, 4);
}

static void
put_u64(GByteArray *b, guint64 v)
{
    guint64 be = GUINT64_TO_BE(v);
    g_byte_array_append(b, (const guint8 *)&be, 8);
}

static void
put_string(GByteArray *b, const void *data, gsize len)
{
    put_u32(b, (guint32)len);
    g_byte_array_append(b, data, (guint)len);
}

/* Sends one SFTP packet of @type whose payload is @payload. */
static gboolean
send_packet(Server *s, guint8 type, GByteArray *payload)
{
    g_autoptr(GByteArray) p = g_byte_array_sized_new(payload->len + 5);

    put_u32(p, payload->len + 1);
    g_byte_array_append(p, &type, 1);
    g_byte_array_append(p, payload->data, payload->len);
    return write_all(s, p->data, p->len);
}

/* The arguments of an extended request, read from the raw payload that libssh keeps:
 * uint32 id, string name, then the request's own fields. */
typedef struct {
    const guchar *p;
    gsize left;
} Reader;

static gboolean
reader_init(Reader *r, sftp_client_message msg)
{
    guint32 n;

    r->p = ssh_buffer_get(msg->complete_message);
    r->left = ssh_buffer_get_len(msg->complete_message);
    if (r->left < 8)
        return FALSE;
    n = get_be32(r->p + 4);
    if (n > r->left - 8)
        return FALSE;
    r->p += 8 + n;
    r->left -= 8 + n;
    return TRUE;
}

static gboolean
read_u32(Reader *r, guint32 *ret)
{
    if (r->left < 4)
        return FALSE;
    *ret = get_be32(r->p);
    r->p += 4;
    r->left -= 4;
    return TRUE;
}

static gboolean
read_u64(Reader *r, guint64 *ret)
{
    guint32 hi, lo;

    if (!read_u32(r, &hi) || !read_u32(r, &lo))
        return FALSE;
    *ret = (guint64)hi << 32 | lo;
    return TRUE;
}

/* A string argument, copied and NUL-terminated. Without @ret_len (a path, a name) one that
 * holds a NUL byte is malformed; with it (a handle), the length is returned. NULL when
 * malformed. */
static char *
read_string(Reader *r, gsize *ret_len)
{
    guint32 n;
    char *s;

    if (!read_u32(r, &n) || n > r->left)
        return NULL;
    if (ret_len == NULL && memchr(r->p, '\0', n) != NULL)
        return NULL;
    s = g_malloc(n + 1);
    memcpy(s, r->p, n);
    s[n] = '\0';
    if (ret_len != NULL)
        *ret_len = n;
    r->p += n;
    r->left -= n;
    return s;
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

    if (path == NULL || strlen(path) > MAX_PATH_LENGTH)
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

/* The jail of @share, opened on first use. The key holds the path too, so a reload that
 * points the share elsewhere opens a new jail. */
static PorchJail *
jail_for(Server *s, const PorchShare *share, int *ret_errno)
{
    g_autofree char *key = g_strconcat(share->name, "\n", share->path, NULL);
    PorchJail *jail = g_hash_table_lookup(s->jails, key);
    g_autoptr(GError) error = NULL;

    if (jail != NULL)
        return jail;
    jail = porch_jail_new(share->path, &error);
    if (jail == NULL) {
        g_warning("%s: share %s (%s) cannot be opened: %s", s->ctx->who, share->name, share->path,
                  error->message);
        *ret_errno = ENOENT;
        return NULL;
    }
    g_hash_table_insert(s->jails, g_steal_pointer(&key), jail);
    return jail;
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
resolve(Server *s, const char *path, PorchAclOp op, gboolean need_share, Target *t,
        const char **ret_why)
{
    g_auto(GStrv) parts = split_vpath(path);
    int e = 0;

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
    t->share = porch_config_lookup_share(s->config, parts[0]);
    if (t->share == NULL) {
        *ret_why = "no such share";
        return SSH_FX_NO_SUCH_FILE;
    }
    if (!may(s, t->share, op)) {
        gboolean reads = may(s, t->share, PORCH_ACL_READ);
        *ret_why = reads ? "not allowed to write" : "not allowed to read";
        if (!reads && t->share->hidden)
            return SSH_FX_NO_SUCH_FILE;
        return SSH_FX_PERMISSION_DENIED;
    }
    t->jail = jail_for(s, t->share, &e);
    if (t->jail == NULL) {
        *ret_why = "the share's folder cannot be opened";
        return SSH_FX_NO_SUCH_FILE;
    }
    t->rel = g_strjoinv("/", parts + 1);
    return 0;
}

/* ---- attributes ---------------------------------------------------------------------- */

static void
attrs_from_stat(struct sftp_attributes_struct *a, const struct stat *st, gboolean read_only)
{
    *a = (struct sftp_attributes_struct){0};
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
root_attrs(Server *s, struct sftp_attributes_struct *a)
{
    *a = (struct sftp_attributes_struct){0};
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

static void
journal_remove(Handle *h)
{
    if (h->journal != NULL) {
        g_unlink(h->journal);
        g_clear_pointer(&h->journal, g_free);
    }
}

/* Frees @h; an upload not completed is discarded, its target untouched. */
static void
handle_free(Handle *h)
{
    if (h->temp_name != NULL) {
        unlinkat(h->parent_fd, h->temp_name, 0);
        journal_remove(h);
    }
    if (h->dir != NULL)
        closedir(h->dir);
    else if (h->fd >= 0)
        close(h->fd);
    if (h->parent_fd >= 0)
        close(h->parent_fd);
    g_strfreev(h->root_names);
    g_free(h->final_name);
    g_free(h->temp_name);
    g_free(h->share);
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
    h->share = t->share ? g_strdup(t->share->name) : NULL;
    h->vpath = g_strdup(t->vpath);
    return h;
}

/* Registers @h and replies with its handle; frees it and replies FAILURE when all
 * PORCH_SFTP_MAX_HANDLES are in use. */
static int
reply_handle(Server *s, sftp_client_message msg, Handle *h)
{
    ssh_string str;
    guint32 be;
    int r;

    for (guint i = 0; i < PORCH_SFTP_MAX_HANDLES; i++) {
        if (s->handles[i] != NULL)
            continue;
        h->id = i | (guint32)(++s->generation) << 16;
        s->handles[i] = h;
        be = GUINT32_TO_BE(h->id);
        str = ssh_string_new(4);
        ssh_string_fill(str, &be, 4);
        r = sftp_reply_handle(msg, str);
        ssh_string_free(str);
        return r;
    }
    handle_free(h);
    return sftp_reply_status(msg, SSH_FX_FAILURE, "Too many open files in this session");
}

static Handle *
handle_lookup(Server *s, ssh_string str)
{
    guint32 id;
    Handle *h;

    if (str == NULL || ssh_string_len(str) != 4)
        return NULL;
    memcpy(&id, ssh_string_data(str), 4);
    id = GUINT32_FROM_BE(id);
    if ((id & 0xffff) >= PORCH_SFTP_MAX_HANDLES)
        return NULL;
    h = s->handles[id & 0xffff];
    return (h != NULL && h->id == id) ? h : NULL;
}

static void
handle_release(Server *s, Handle *h)
{
    s->handles[h->id & 0xffff] = NULL;
    handle_free(h);
}

/* ---- handlers ------------------------------------------------------------------------ */

typedef struct {
    sftp_client_message msg;
    Target t;   /* the path the row names */
    Target t2;  /* rename's new path */
    Handle *h;  /* the handle the row names */
    Reader ext; /* an extended request's remaining arguments */
} Request;

static gboolean
read_only_for(Server *s, const PorchShare *share)
{
    return share == NULL || !may(s, share, PORCH_ACL_WRITE);
}

/* Applies what @a asks to @fd: size, permissions (never set-id bits), times. Owners are
 * never changed. Returns 0 or an errno. */
static int
apply_attrs(int fd, const struct sftp_attributes_struct *a)
{
    if (a == NULL)
        return 0;
    if ((a->flags & SSH_FILEXFER_ATTR_SIZE) && ftruncate(fd, (off_t)a->size) != 0)
        return errno;
    if ((a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) && fchmod(fd, a->permissions & 0777) != 0)
        return errno;
    if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
        struct timespec ts[2] = {{.tv_sec = a->atime}, {.tv_sec = a->mtime}};
        if (futimens(fd, ts) != 0)
            return errno;
    }
    return 0;
}

static char *
parent_rel(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? g_strndup(rel, slash - rel) : g_strdup("");
}

/* porchd runs as root: what a client creates belongs to whoever owns the folder it is
 * created in (the share's owner, usually), not to root. @fd, or else the name @name in
 * @parent_fd, is the new object. */
static void
give_to_folder_owner(Server *s, int parent_fd, int fd, const char *name)
{
    struct stat st;
    int rc;

    if (geteuid() != 0 || fstat(parent_fd, &st) != 0)
        return;
    rc = fd >= 0 ? fchown(fd, st.st_uid, st.st_gid)
                 : fchownat(parent_fd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    if (rc != 0)
        g_warning("%s: cannot give %s to the folder's owner: %s", s->ctx->who,
                  name ? name : "a new file", g_strerror(errno));
}

/* Writes the journal entry of an upload's temporary file before the file exists. */
static char *
journal_add(Server *s, const Target *t, const char *temp_name, GError **error)
{
    g_autofree char *dir = g_build_filename(s->ctx->state_dir, PORCH_UPLOAD_JOURNAL, NULL);
    g_autofree char *name = g_strdup_printf("%d.%u", (int)getpid(), ++s->journal_serial);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *rel_dir = parent_rel(t->rel);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *data = NULL;

    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", dir, g_strerror(e));
        return NULL;
    }
    g_key_file_set_string(kf, "upload", "share", t->share->name);
    g_key_file_set_string(kf, "upload", "dir", rel_dir);
    g_key_file_set_string(kf, "upload", "name", temp_name);
    data = g_key_file_to_data(kf, NULL, NULL);
    if (!g_file_set_contents_full(path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
        return NULL;
    return g_steal_pointer(&path);
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
    g_autofree char *journal = NULL;
    g_autoptr(GError) error = NULL;
    struct stat st;
    gboolean exists = FALSE;
    guint32 flags = r->msg->flags;
    int parent, fd = -1, e;
    Handle *h;

    *ret_in_place = FALSE;
    parent = porch_jail_open_parent(r->t.jail, r->t.rel, &name);
    if (parent < 0)
        return reply_errno(s, r->msg, -parent);
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) {
            close(parent);
            *ret_in_place = TRUE;
            return 0;
        }
        if (S_ISDIR(st.st_mode)) {
            close(parent);
            return reply_errno(s, r->msg, EISDIR);
        }
        if (!S_ISREG(st.st_mode)) {
            close(parent);
            return reply_errno(s, r->msg, EACCES);
        }
        exists = TRUE;
    } else if (errno != ENOENT || !(flags & SSH_FXF_CREAT)) {
        e = errno;
        close(parent);
        return reply_errno(s, r->msg, e);
    }

    temp = g_strdup_printf(PORCH_UPLOAD_PREFIX "%08x%08x", g_random_int(), g_random_int());
    journal = journal_add(s, &r->t, temp, &error);
    if (journal == NULL) {
        g_warning("%s: cannot note an upload: %s", s->ctx->who, error->message);
        close(parent);
        return sftp_reply_status(r->msg, SSH_FX_FAILURE, "The server cannot store uploads");
    }
    fd = openat(parent, temp, access | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                exists ? (st.st_mode & 0777) : mode);
    if (fd < 0) {
        e = errno;
        g_unlink(journal);
        close(parent);
        return reply_errno(s, r->msg, e);
    }
    if (exists) {
        /* the new content keeps the old file's mode and owner, as an in-place write would */
        if (fchmod(fd, st.st_mode & 0777) != 0 ||
            (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) != 0))
            g_warning("%s: cannot keep the mode or owner of %s: %s", s->ctx->who, r->t.vpath,
                      g_strerror(errno));
    } else {
        give_to_folder_owner(s, parent, fd, NULL);
    }
    h = handle_new(HANDLE_FILE, &r->t);
    h->fd = fd;
    h->for_write = TRUE;
    h->parent_fd = parent;
    h->final_name = g_steal_pointer(&name);
    h->temp_name = g_steal_pointer(&temp);
    h->journal = g_steal_pointer(&journal);
    return reply_handle(s, r->msg, h);
}

static int
h_open(Server *s, Request *r)
{
    guint32 f = r->msg->flags;
    gboolean writes = (f & (SSH_FXF_WRITE | SSH_FXF_APPEND | SSH_FXF_CREAT | SSH_FXF_TRUNC)) != 0;
    int access = (f & SSH_FXF_READ) && writes ? O_RDWR : writes ? O_WRONLY : O_RDONLY;
    mode_t mode = 0666;
    int oflags = access, fd;
    struct stat st;
    gboolean created = FALSE;
    g_autofree char *journal = NULL;
    Handle *h;

    if (r->msg->attr != NULL && (r->msg->attr->flags & SSH_FILEXFER_ATTR_PERMISSIONS))
        mode = r->msg->attr->permissions & 0777;
    if (r->t.rel[0] == '\0')
        return reply_errno(s, r->msg, EISDIR);
    if ((f & SSH_FXF_TRUNC) && writes && !(f & SSH_FXF_EXCL)) {
        gboolean in_place = FALSE;
        int rc = open_replacing(s, r, access, mode, &in_place);
        if (!in_place)
            return rc;
    }
    if (f & SSH_FXF_CREAT) {
        oflags |= O_CREAT;
        created = porch_jail_stat(r->t.jail, r->t.rel, &st, PORCH_JAIL_NOFOLLOW) == -ENOENT;
    }
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
            journal = journal_add(s, &r->t, base, &error);
            if (journal == NULL) {
                g_warning("%s: cannot note an upload's file: %s", s->ctx->who, error->message);
                return reply_errno(s, r->msg, EIO);
            }
        }
    }
    fd = porch_jail_open(r->t.jail, r->t.rel, oflags, mode, 0);
    if (fd < 0) {
        if (journal != NULL)
            g_unlink(journal);
        return reply_errno(s, r->msg, -fd);
    }
    if (journal != NULL)
        g_hash_table_insert(s->client_temps, g_strconcat(r->t.share->name, "/", r->t.rel, NULL),
                            g_steal_pointer(&journal));
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return reply_errno(s, r->msg, EISDIR);
    }
    /* root writes without losing set-id bits (CAP_FSETID): drop them, as any other writer's
     * write would */
    if (writes && (st.st_mode & (S_ISUID | S_ISGID)))
        fchmod(fd, st.st_mode & 0777);
    if (created) {
        g_autofree char *name = NULL;
        int parent = porch_jail_open_parent(r->t.jail, r->t.rel, &name);
        if (parent >= 0) {
            give_to_folder_owner(s, parent, fd, NULL);
            close(parent);
        }
    }
    h = handle_new(HANDLE_FILE, &r->t);
    h->fd = fd;
    h->for_write = writes;
    return reply_handle(s, r->msg, h);
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
        else if (fdatasync(h->fd) != 0 ||
                 renameat(h->parent_fd, h->temp_name, h->parent_fd, h->final_name) != 0)
            e = errno;
        if (e == 0) {
            g_clear_pointer(&h->temp_name, g_free); /* it is the file now */
            journal_remove(h);
        } else {
            g_message("%s: upload to %s discarded, the file is left as it was: %s", s->ctx->who,
                      h->vpath, g_strerror(e));
        }
    }
    handle_release(s, h);
    if (e != 0) {
        g_autofree char *why =
                g_strdup_printf("%s; the file was left as it was", message_of_errno(e));
        return sftp_reply_status(r->msg, status_of_errno(e), why);
    }
    return reply_ok(r->msg);
}

static int
h_read(Server *s, Request *r)
{
    guint32 len = MIN(r->msg->len, PORCH_SFTP_MAX_READ);
    ssize_t n;

    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->msg, EBADF);
    n = pread(r->h->fd, s->read_buf, len, (off_t)r->msg->offset);
    if (n < 0)
        return reply_errno(s, r->msg, errno);
    if (n == 0)
        return sftp_reply_status(r->msg, SSH_FX_EOF, "End of file");
    return sftp_reply_data(r->msg, s->read_buf, (int)n);
}

static int
h_write(Server *s, Request *r)
{
    const guchar *data = ssh_string_data(r->msg->data);
    gsize len = ssh_string_len(r->msg->data);
    off_t off = (off_t)r->msg->offset;

    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->msg, EBADF);
    while (len > 0) {
        ssize_t n = pwrite(r->h->fd, data, len, off);
        if (n < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            if (r->h->write_errno == 0)
                r->h->write_errno = e;
            return reply_errno(s, r->msg, e);
        }
        data += n;
        len -= (gsize)n;
        off += n;
    }
    return reply_ok(r->msg);
}

static int
stat_target(Server *s, Request *r, guint jail_flags)
{
    struct sftp_attributes_struct a;
    struct stat st;
    int rc;

    if (r->t.share == NULL) {
        root_attrs(s, &a);
        return sftp_reply_attr(r->msg, &a);
    }
    rc = porch_jail_stat(r->t.jail, r->t.rel, &st, jail_flags);
    if (rc < 0)
        return reply_errno(s, r->msg, -rc);
    attrs_from_stat(&a, &st, read_only_for(s, r->t.share));
    return sftp_reply_attr(r->msg, &a);
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
    struct sftp_attributes_struct a;
    struct stat st;
    int fd = r->h->dir ? dirfd(r->h->dir) : r->h->fd;

    if (r->h->kind == HANDLE_ROOT) {
        root_attrs(s, &a);
        return sftp_reply_attr(r->msg, &a);
    }
    if (fstat(fd, &st) != 0)
        return reply_errno(s, r->msg, errno);
    attrs_from_stat(&a, &st, read_only_for(s, porch_config_lookup_share(s->config, r->h->share)));
    return sftp_reply_attr(r->msg, &a);
}

/* Whether @fd is the share's root folder itself (reached through a link, say). */
static gboolean
is_share_root(const PorchJail *jail, int fd)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && fstat(porch_jail_get_root_fd(jail), &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
h_setstat(Server *s, Request *r)
{
    const struct sftp_attributes_struct *a = r->msg->attr;
    struct stat st;
    int fd, rc, e;

    if (r->t.rel[0] == '\0')
        return sftp_reply_status(r->msg, SSH_FX_PERMISSION_DENIED,
                                 "The share's own folder cannot be changed");
    rc = porch_jail_stat(r->t.jail, r->t.rel, &st, 0);
    if (rc < 0)
        return reply_errno(s, r->msg, -rc);
    if (S_ISDIR(st.st_mode))
        fd = porch_jail_open(r->t.jail, r->t.rel, O_RDONLY | O_DIRECTORY, 0, 0);
    else
        fd = porch_jail_open(r->t.jail, r->t.rel,
                             (a && (a->flags & SSH_FILEXFER_ATTR_SIZE)) ? O_WRONLY : O_RDONLY, 0,
                             0);
    if (fd < 0)
        return reply_errno(s, r->msg, -fd);
    if (is_share_root(r->t.jail, fd)) {
        close(fd);
        return sftp_reply_status(r->msg, SSH_FX_PERMISSION_DENIED,
                                 "The share's own folder cannot be changed");
    }
    e = apply_attrs(fd, a);
    close(fd);
    return e ? reply_errno(s, r->msg, e) : reply_ok(r->msg);
}

static int
h_fsetstat(Server *s, Request *r)
{
    int e;

    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->msg, EBADF);
    e = apply_attrs(r->h->fd, r->msg->attr);
    return e ? reply_errno(s, r->msg, e) : reply_ok(r->msg);
}

static int
h_opendir(Server *s, Request *r)
{
    Handle *h;
    int fd;

    if (r->t.share == NULL) {
        const PorchPeer *peer =
                porch_config_lookup_peer_by_fingerprint(s->config, s->ctx->fingerprint);
        h = handle_new(HANDLE_ROOT, &r->t);
        /* a key that is no longer in the file sees nothing, not what guests see */
        if (s->ctx->fingerprint != NULL && peer == NULL)
            h->root_names = g_new0(char *, 1);
        else
            h->root_names = porch_acl_readable_shares(s->config, peer);
        return reply_handle(s, r->msg, h);
    }
    fd = porch_jail_open(r->t.jail, r->t.rel, O_RDONLY | O_DIRECTORY, 0, 0);
    if (fd < 0)
        return reply_errno(s, r->msg, -fd);
    h = handle_new(HANDLE_DIR, &r->t);
    h->dir = fdopendir(fd);
    if (h->dir == NULL) {
        int e = errno;
        close(fd);
        handle_free(h);
        return reply_errno(s, r->msg, e);
    }
    return reply_handle(s, r->msg, h);
}

static int
readdir_root(Server *s, Request *r)
{
    Handle *h = r->h;
    guint n = 0;

    while (h->root_names[h->root_next] != NULL && n < READDIR_BATCH) {
        const char *name = h->root_names[h->root_next++];
        const PorchShare *share = porch_config_lookup_share(s->config, name);
        struct sftp_attributes_struct a;
        g_autofree char *longname = NULL;
        PorchJail *jail;
        struct stat st;
        int e = 0;

        if (share == NULL || !may(s, share, PORCH_ACL_READ) ||
            (jail = jail_for(s, share, &e)) == NULL || porch_jail_stat(jail, "", &st, 0) < 0)
            continue;
        attrs_from_stat(&a, &st, read_only_for(s, share));
        longname = long_name(name, &st, a.permissions);
        sftp_reply_names_add(r->msg, name, longname, &a);
        n++;
    }
    if (n == 0)
        return sftp_reply_status(r->msg, SSH_FX_EOF, "End of listing");
    return sftp_reply_names(r->msg);
}

static int
h_readdir(Server *s, Request *r)
{
    Handle *h = r->h;
    gboolean read_only;
    guint n = 0;

    if (h->kind == HANDLE_ROOT)
        return readdir_root(s, r);
    if (h->kind != HANDLE_DIR)
        return reply_errno(s, r->msg, EBADF);
    read_only = read_only_for(s, porch_config_lookup_share(s->config, h->share));
    while (n < READDIR_BATCH) {
        struct sftp_attributes_struct a;
        g_autofree char *longname = NULL;
        struct dirent *d;
        struct stat st;

        errno = 0;
        d = readdir(h->dir);
        if (d == NULL) {
            if (errno != 0 && n == 0)
                return reply_errno(s, r->msg, errno);
            break;
        }
        if (g_str_equal(d->d_name, ".") || g_str_equal(d->d_name, "..") ||
            g_str_has_prefix(d->d_name, PORCH_UPLOAD_PREFIX))
            continue;
        if (fstatat(dirfd(h->dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone meanwhile */
        attrs_from_stat(&a, &st, read_only);
        longname = long_name(d->d_name, &st, a.permissions);
        sftp_reply_names_add(r->msg, d->d_name, longname, &a);
        n++;
    }
    if (n == 0)
        return sftp_reply_status(r->msg, SSH_FX_EOF, "End of listing");
    return sftp_reply_names(r->msg);
}

/* For the requests that act on a name in its directory: the parent's fd and the name. A
 * share's own folder is not a name that can be removed, renamed or made. */
static int
open_parent(Request *r, const Target *t, char **ret_name)
{
    if (t->rel[0] == '\0')
        return -EPERM;
    return porch_jail_open_parent(t->jail, t->rel, ret_name);
}

/* A porch put's new file was renamed or removed: it is not to be cleaned up any more. */
static void
client_temp_forget(Server *s, const Target *t)
{
    g_autofree char *key = g_strconcat(t->share->name, "/", t->rel, NULL);
    const char *journal = g_hash_table_lookup(s->client_temps, key);

    if (journal != NULL) {
        g_unlink(journal);
        g_hash_table_remove(s->client_temps, key);
    }
}

static int
h_remove(Server *s, Request *r)
{
    g_autofree char *name = NULL;
    int parent = open_parent(r, &r->t, &name), e = 0;
    struct stat st;

    if (parent < 0)
        return reply_errno(s, r->msg, -parent);
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    else if (unlinkat(parent, name, 0) != 0)
        e = errno;
    close(parent);
    if (e == 0)
        client_temp_forget(s, &r->t);
    return e ? reply_errno(s, r->msg, e) : reply_ok(r->msg);
}

static int
h_mkdir(Server *s, Request *r)
{
    g_autofree char *name = NULL;
    mode_t mode = 0777;
    int parent, e = 0;

    if (r->t.rel[0] == '\0')
        return reply_errno(s, r->msg, EEXIST);
    parent = open_parent(r, &r->t, &name);
    if (parent < 0)
        return reply_errno(s, r->msg, -parent);
    if (r->msg->attr != NULL && (r->msg->attr->flags & SSH_FILEXFER_ATTR_PERMISSIONS))
        mode = r->msg->attr->permissions & 0777;
    if (mkdirat(parent, name, mode) != 0)
        e = errno;
    else
        give_to_folder_owner(s, parent, -1, name);
    close(parent);
    return e ? reply_errno(s, r->msg, e) : reply_ok(r->msg);
}

static int
h_rmdir(Server *s, Request *r)
{
    g_autofree char *name = NULL;
    int parent = open_parent(r, &r->t, &name), e = 0;

    if (parent < 0)
        return reply_errno(s, r->msg, -parent);
    if (unlinkat(parent, name, AT_REMOVEDIR) != 0)
        e = errno;
    close(parent);
    return e ? reply_errno(s, r->msg, e) : reply_ok(r->msg);
}

static int
h_realpath(Server *s, Request *r)
{
    struct sftp_attributes_struct a = {0};
    return sftp_reply_name(r->msg, r->t.vpath, &a);
}

static int
do_rename(Server *s, Request *r, gboolean replace)
{
    g_autofree char *from = NULL;
    g_autofree char *to = NULL;
    int p1 = -1, p2 = -1, e = 0;

    if (r->t.share != r->t2.share)
        return sftp_reply_status(r->msg, SSH_FX_OP_UNSUPPORTED,
                                 "Files cannot be moved from one share to another");
    p1 = open_parent(r, &r->t, &from);
    if (p1 < 0)
        return reply_errno(s, r->msg, -p1);
    p2 = open_parent(r, &r->t2, &to);
    if (p2 < 0) {
        close(p1);
        return reply_errno(s, r->msg, -p2);
    }
    if (replace) {
        if (renameat(p1, from, p2, to) != 0)
            e = errno;
    } else if (renameat2(p1, from, p2, to, RENAME_NOREPLACE) != 0) {
        e = errno;
        /* a file system without RENAME_NOREPLACE: a file is linked under the new name
         * (which fails if it exists) and unlinked under the old; a folder is refused */
        if (e == EINVAL) {
            struct stat st;
            if (fstatat(p1, from, &st, AT_SYMLINK_NOFOLLOW) != 0)
                e = errno;
            else if (S_ISDIR(st.st_mode))
                e = EOPNOTSUPP;
            else if (linkat(p1, from, p2, to, 0) != 0)
                e = errno;
            else
                e = unlinkat(p1, from, 0) == 0 ? 0 : errno;
        }
    }
    close(p1);
    close(p2);
    if (e == 0)
        client_temp_forget(s, &r->t);
    if (e == EEXIST)
        return sftp_reply_status(r->msg, SSH_FX_FAILURE, "The new name exists already");
    return e ? reply_errno(s, r->msg, e) : reply_ok(r->msg);
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

static int
h_readlink(Server *s, Request *r)
{
    g_autofree char *name = NULL;
    char buf[MAX_PATH_LENGTH + 1];
    struct sftp_attributes_struct a = {0};
    int parent = open_parent(r, &r->t, &name);
    ssize_t n;
    int e;

    if (parent < 0)
        return reply_errno(s, r->msg, -parent);
    n = readlinkat(parent, name, buf, sizeof buf - 1);
    e = errno;
    close(parent);
    if (n < 0)
        return reply_errno(s, r->msg, e);
    buf[n] = '\0';
    if (buf[0] == '/') {
        /* an absolute link made on the server: shown in the share's terms when it points
         * into the share, never as a server path */
        size_t root_len = strlen(r->t.share->path);
        g_autofree char *v = NULL;

        if (strncmp(buf, r->t.share->path, root_len) != 0 ||
            (buf[root_len] != '/' && buf[root_len] != '\0'))
            return sftp_reply_status(r->msg, SSH_FX_PERMISSION_DENIED,
                                     "The link points outside the share");
        v = g_strconcat("/", r->t.share->name, buf + root_len, NULL);
        return sftp_reply_name(r->msg, v, &a);
    }
    return sftp_reply_name(r->msg, buf, &a);
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
    const char *target = r->msg->filename;
    g_autofree char *name = NULL;
    int parent, e = 0;

    if (!client_link_target_ok(r->t.rel, target)) {
        g_message("%s: refused symlink %s -> %s: it could lead outside the share", s->ctx->who,
                  r->t.vpath, target ? target : "");
        return sftp_reply_status(r->msg, SSH_FX_PERMISSION_DENIED,
                                 "A link must point down into the share, by a relative path");
    }
    parent = open_parent(r, &r->t, &name);
    if (parent < 0)
        return reply_errno(s, r->msg, -parent);
    if (symlinkat(target, parent, name) != 0)
        e = errno;
    else
        give_to_folder_owner(s, parent, -1, name);
    close(parent);
    return e ? reply_errno(s, r->msg, e) : reply_ok(r->msg);
}

static int
send_extended_reply(Server *s, sftp_client_message msg, GByteArray *body)
{
    g_autoptr(GByteArray) p = g_byte_array_new();

    /* libssh keeps the request id as it came, in network byte order */
    g_byte_array_append(p, (const guint8 *)&msg->id, 4);
    g_byte_array_append(p, body->data, body->len);
    return send_packet(s, SSH_FXP_EXTENDED_REPLY_TYPE, p) ? 0 : -1;
}

static int
h_statvfs(Server *s, Request *r)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    struct statvfs v;
    int fd = porch_jail_open(r->t.jail, r->t.rel, O_PATH, 0, 0), rc;
    guint64 flag = 0;

    if (fd < 0)
        return reply_errno(s, r->msg, -fd);
    rc = fstatvfs(fd, &v);
    close(fd);
    if (rc != 0)
        return reply_errno(s, r->msg, errno);
    if ((v.f_flag & ST_RDONLY) || read_only_for(s, r->t.share))
        flag |= 0x1; /* SSH2_FXE_STATVFS_ST_RDONLY */
    if (v.f_flag & ST_NOSUID)
        flag |= 0x2;
    put_u64(b, v.f_bsize);
    put_u64(b, v.f_frsize);
    put_u64(b, v.f_blocks);
    put_u64(b, v.f_bfree);
    put_u64(b, v.f_bavail);
    put_u64(b, v.f_files);
    put_u64(b, v.f_ffree);
    put_u64(b, v.f_favail);
    put_u64(b, v.f_fsid);
    put_u64(b, flag);
    put_u64(b, v.f_namemax);
    return send_extended_reply(s, r->msg, b);
}

static int
h_fsync(Server *s, Request *r)
{
    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->msg, EBADF);
    return fsync(r->h->fd) == 0 ? reply_ok(r->msg) : reply_errno(s, r->msg, errno);
}

static int
h_limits(Server *s, Request *r)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    put_u64(b, PORCH_SFTP_MAX_PACKET);
    put_u64(b, PORCH_SFTP_MAX_READ);
    put_u64(b, PORCH_SFTP_MAX_READ);
    put_u64(b, PORCH_SFTP_MAX_HANDLES);
    return send_extended_reply(s, r->msg, b);
}

/* The draft-ietf-secsh-filexfer "check-file" extension, SHA-256 only: the hash of a byte
 * range, or one hash per block of it. Replies "check-file", "sha256", the hashes. */
static int
check_file(Server *s, Request *r, int fd)
{
    g_autofree char *algorithms = read_string(&r->ext, NULL);
    g_auto(GStrv) algs = NULL;
    guint64 start = 0, length = 0, done = 0;
    guint32 block = 0;
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(PorchSha256) sum = porch_sha256_new();
    guint8 digest[PORCH_SHA256_LEN];
    struct stat st;
    guint64 in_block = 0;

    if (algorithms == NULL || !read_u64(&r->ext, &start) || !read_u64(&r->ext, &length) ||
        !read_u32(&r->ext, &block))
        return sftp_reply_status(r->msg, SSH_FX_BAD_MESSAGE, "Malformed check-file request");
    algs = g_strsplit(algorithms, ",", -1);
    if (!g_strv_contains((const char *const *)algs, "sha256"))
        return sftp_reply_status(r->msg, SSH_FX_OP_UNSUPPORTED, "Only sha256 is offered");
    if (block != 0 && block < 256)
        return sftp_reply_status(r->msg, SSH_FX_BAD_MESSAGE, "Block size below 256");
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return reply_errno(s, r->msg, errno ? errno : EISDIR);
    if (start > (guint64)st.st_size)
        start = (guint64)st.st_size;
    if (length == 0 || length > (guint64)st.st_size - start)
        length = (guint64)st.st_size - start;
    if (length > PORCH_CHECK_FILE_MAX)
        return sftp_reply_status(r->msg, SSH_FX_FAILURE,
                                 "Ask for at most 16 GiB per check-file request");
    if (block != 0 && length / block > (PORCH_SFTP_MAX_READ - 64) / 32)
        return sftp_reply_status(r->msg, SSH_FX_FAILURE, "Too many blocks for one reply");

    put_string(b, "check-file", 10);
    put_string(b, "sha256", 6);
    while (done < length) {
        gsize want = (gsize)MIN(length - done, PORCH_SFTP_MAX_READ);
        ssize_t n;

        if (block != 0)
            want = (gsize)MIN(want, block - in_block);
        n = pread(fd, s->read_buf, want, (off_t)(start + done));
        if (n < 0)
            return reply_errno(s, r->msg, errno);
        if (n == 0)
            break; /* the file shrank meanwhile */
        porch_sha256_update(sum, s->read_buf, (gsize)n);
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
    return send_extended_reply(s, r->msg, b);
}

static int
h_check_file_name(Server *s, Request *r)
{
    int fd = porch_jail_open(r->t.jail, r->t.rel, O_RDONLY, 0, 0), rc;

    if (fd < 0)
        return reply_errno(s, r->msg, -fd);
    rc = check_file(s, r, fd);
    close(fd);
    return rc;
}

static int
h_check_file_handle(Server *s, Request *r)
{
    if (r->h->kind != HANDLE_FILE)
        return reply_errno(s, r->msg, EBADF);
    return check_file(s, r, r->h->fd);
}

/* ---- the table and the gate ---------------------------------------------------------- */

typedef enum {
    ARG_NONE,       /* no path, no handle */
    ARG_PATH,       /* msg->filename */
    ARG_LINK_PATH,  /* msg->data: symlink's new link */
    ARG_TWO_PATHS,  /* msg->filename and msg->data: rename */
    ARG_HANDLE,     /* msg->handle */
    ARG_EXT_PATH,   /* an extended request's first argument, a path */
    ARG_EXT_HANDLE, /* an extended request's first argument, a handle */
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
        {"posix-rename", SSH_FXP_EXTENDED, "posix-rename@openssh.com", ARG_TWO_PATHS, NEED_WRITE,
         FALSE, h_posix_rename},
        {"statvfs", SSH_FXP_EXTENDED, "statvfs@openssh.com", ARG_EXT_PATH, NEED_READ, FALSE,
         h_statvfs},
        {"fsync", SSH_FXP_EXTENDED, "fsync@openssh.com", ARG_EXT_HANDLE, NEED_READ, FALSE, h_fsync},
        {"limits", SSH_FXP_EXTENDED, "limits@openssh.com", ARG_NONE, NEED_NOTHING, FALSE, h_limits},
        {"check-file-name", SSH_FXP_EXTENDED, "check-file-name", ARG_EXT_PATH, NEED_READ, FALSE,
         h_check_file_name},
        {"check-file-handle", SSH_FXP_EXTENDED, "check-file-handle", ARG_EXT_HANDLE, NEED_READ,
         FALSE, h_check_file_handle},
};

/* What the VERSION reply offers: name and version of each extension above. */
static const char *const extensions[][2] = {
        {"posix-rename@openssh.com", "1"}, {"statvfs@openssh.com", "2"},
        {"fsync@openssh.com", "1"},        {"limits@openssh.com", "1"},
        {"check-file-name", "sha256"},     {"check-file-handle", "sha256"},
};

static const struct handler *
find_handler(sftp_client_message msg)
{
    for (guint i = 0; i < G_N_ELEMENTS(handlers); i++) {
        if (handlers[i].type != msg->type)
            continue;
        if (handlers[i].extended == NULL || g_strcmp0(handlers[i].extended, msg->submessage) == 0)
            return &handlers[i];
    }
    return NULL;
}

static PorchAclOp
op_of(const struct handler *row, sftp_client_message msg)
{
    if (row->need == NEED_WRITE)
        return PORCH_ACL_WRITE;
    if (row->need == NEED_BY_OPEN_FLAGS &&
        (msg->flags & (SSH_FXF_WRITE | SSH_FXF_APPEND | SSH_FXF_CREAT | SSH_FXF_TRUNC)))
        return PORCH_ACL_WRITE;
    return PORCH_ACL_READ;
}

static int
refuse(Server *s, const struct handler *row, sftp_client_message msg, const char *what, int status,
       const char *why)
{
    g_message("%s: refused %s %s: %s", s->ctx->who, row->name, what ? what : "", why);
    switch (status) {
    case SSH_FX_NO_SUCH_FILE:
        return sftp_reply_status(msg, status, "No such file");
    case SSH_FX_PERMISSION_DENIED:
        return sftp_reply_status(msg, status, "Permission denied");
    default:
        return sftp_reply_status(msg, status, why);
    }
}

/* The one gate: arguments resolved, the ACL asked, then the handler. */
static int
gate(Server *s, const struct handler *row, Request *r)
{
    sftp_client_message msg = r->msg;
    PorchAclOp op = op_of(row, msg);
    const char *why = NULL;
    g_autofree char *ext_arg = NULL;
    gsize ext_len = 0;
    int status;

    /* a handle is binary and may hold NUL bytes; a path may not */
    if ((row->arg == ARG_EXT_PATH || row->arg == ARG_EXT_HANDLE) &&
        (!reader_init(&r->ext, msg) ||
         (ext_arg = read_string(&r->ext, row->arg == ARG_EXT_HANDLE ? &ext_len : NULL)) == NULL))
        return refuse(s, row, msg, NULL, SSH_FX_BAD_MESSAGE, "malformed request");

    switch (row->arg) {
    case ARG_NONE:
        break;
    case ARG_PATH:
    case ARG_EXT_PATH:
    case ARG_LINK_PATH:
    case ARG_TWO_PATHS: {
        const char *path = row->arg == ARG_PATH || row->arg == ARG_TWO_PATHS ? msg->filename
                           : row->arg == ARG_EXT_PATH                        ? ext_arg
                                                      : sftp_client_message_get_data(msg);
        status = resolve(s, path, op, !row->root_ok, &r->t, &why);
        if (status != 0)
            return refuse(s, row, msg, r->t.vpath ? r->t.vpath : path, status, why);
        if (row->arg == ARG_TWO_PATHS) {
            status = resolve(s, sftp_client_message_get_data(msg), op, TRUE, &r->t2, &why);
            if (status != 0)
                return refuse(s, row, msg, r->t2.vpath, status, why);
        }
        break;
    }
    case ARG_HANDLE:
    case ARG_EXT_HANDLE: {
        ssh_string str = msg->handle;
        ssh_string tmp = NULL;

        if (row->arg == ARG_EXT_HANDLE) {
            tmp = ssh_string_new(ext_len);
            ssh_string_fill(tmp, ext_arg, ext_len);
            str = tmp;
        }
        r->h = handle_lookup(s, str);
        ssh_string_free(tmp);
        if (r->h == NULL)
            return refuse(s, row, msg, NULL, SSH_FX_INVALID_HANDLE, "no such handle");
        if (row->need == NEED_NOTHING)
            break;
        /* rules may have changed since the open: ask again */
        if (r->h->kind == HANDLE_ROOT) {
            if (op != PORCH_ACL_READ)
                return refuse(s, row, msg, "/", SSH_FX_PERMISSION_DENIED, "the root is read-only");
        } else {
            const PorchShare *share = porch_config_lookup_share(s->config, r->h->share);
            if (share == NULL || !may(s, share, op))
                return refuse(s, row, msg, r->h->vpath, SSH_FX_PERMISSION_DENIED,
                              op == PORCH_ACL_WRITE ? "not allowed to write"
                                                    : "not allowed to read");
            if (op == PORCH_ACL_WRITE && !r->h->for_write)
                return refuse(s, row, msg, r->h->vpath, SSH_FX_PERMISSION_DENIED,
                              "not opened for writing");
        }
        break;
    }
    }
    s->op = row->name;
    s->path = r->t.vpath ? r->t.vpath : r->h ? r->h->vpath : NULL;
    return row->fn(s, r);
}

static int
dispatch(Server *s, sftp_client_message msg)
{
    const struct handler *row = find_handler(msg);
    Request r = {.msg = msg};
    int rc;

    if (row == NULL) {
        g_debug("%s: unsupported request %u %s", s->ctx->who, msg->type,
                msg->submessage ? msg->submessage : "");
        return sftp_reply_status(msg, SSH_FX_OP_UNSUPPORTED, "Not supported");
    }
    rc = gate(s, row, &r);
    target_clear(&r.t);
    target_clear(&r.t2);
    return rc;
}

/* ---- the session --------------------------------------------------------------------- */

static gboolean
read_exact(Server *s, void *buf, guint32 len)
{
    guchar *p = buf;

    while (len > 0) {
        int n = ssh_channel_read(s->channel, p, len, 0);
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (guint32)n;
    }
    return TRUE;
}

/* SSH_FXP_INIT and SSH_FXP_VERSION, done here rather than by sftp_server_init(), which
 * offers libssh's own extensions only. */
static gboolean
version_exchange(Server *s)
{
    guchar head[9];
    guint32 len, version;
    g_autoptr(GByteArray) reply = g_byte_array_new();

    if (!read_exact(s, head, sizeof head))
        return FALSE;
    len = get_be32(head);
    version = get_be32(head + 5);
    if (head[4] != SSH_FXP_INIT || len < 5 || len > 64 * 1024)
        return FALSE;
    /* INIT may carry extension pairs of its own: read and ignore them */
    for (len -= 5; len > 0;) {
        guchar skip[256];
        guint32 n = MIN(len, sizeof skip);
        if (!read_exact(s, skip, n))
            return FALSE;
        len -= n;
    }
    s->sftp->client_version = (int)version;
    s->sftp->version = 3;
    put_u32(reply, 3);
    for (guint i = 0; i < G_N_ELEMENTS(extensions); i++) {
        put_string(reply, extensions[i][0], strlen(extensions[i][0]));
        put_string(reply, extensions[i][1], strlen(extensions[i][1]));
    }
    return send_packet(s, SSH_FXP_VERSION, reply);
}

int
porch_sftp_serve(ssh_session session, ssh_channel channel, const PorchSftpContext *ctx)
{
    Server s = {
            .session = session,
            .channel = channel,
            .ctx = ctx,
            .started = g_get_real_time() / G_USEC_PER_SEC,
    };
    int r = 0;

    g_return_val_if_fail(ctx != NULL && ctx->current_config != NULL, -1);

    s.sftp = sftp_server_new(session, channel);
    if (s.sftp == NULL)
        return -1;
    s.jails =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)porch_jail_free);
    s.read_buf = g_malloc(PORCH_SFTP_MAX_READ);
    /* the journal entries stay: what is still listed at the end goes with the session */
    s.client_temps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!version_exchange(&s)) {
        r = -1;
        goto out;
    }
    for (;;) {
        sftp_client_message msg = sftp_get_client_message(s.sftp);

        if (msg == NULL) {
            /* the client closed the channel, or sent what libssh cannot parse */
            if (!ssh_channel_is_eof(channel) && ssh_channel_is_open(channel))
                r = -1;
            break;
        }
        s.config = ctx->current_config(ctx->user_data);
        if (dispatch(&s, msg) < 0) {
            sftp_client_message_free(msg);
            r = -1;
            break;
        }
        sftp_client_message_free(msg);
    }
out:
    for (guint i = 0; i < PORCH_SFTP_MAX_HANDLES; i++)
        if (s.handles[i] != NULL)
            handle_free(s.handles[i]);
    g_hash_table_unref(s.jails);
    g_hash_table_unref(s.client_temps);
    g_free(s.read_buf);
    sftp_server_free(s.sftp);
    return r;
}

/* ---- after a session ----------------------------------------------------------------- */

static gboolean
cleanup_entry(const PorchConfig *config, const char *path)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *share_name = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    g_autoptr(PorchJail) jail = NULL;
    const PorchShare *share;
    gboolean removed = FALSE;
    int fd;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return FALSE;
    share_name = g_key_file_get_string(kf, "upload", "share", NULL);
    dir = g_key_file_get_string(kf, "upload", "dir", NULL);
    name = g_key_file_get_string(kf, "upload", "name", NULL);
    share = porch_config_lookup_share(config, share_name);
    if (share == NULL || dir == NULL || name == NULL || strchr(name, '/') != NULL ||
        (!g_str_has_prefix(name, PORCH_UPLOAD_PREFIX) &&
         !g_str_has_prefix(name, PORCH_CLIENT_TEMP_PREFIX)))
        return FALSE;
    jail = porch_jail_new(share->path, NULL);
    if (jail == NULL)
        return FALSE;
    fd = porch_jail_open(jail, dir, O_PATH | O_DIRECTORY, 0, 0);
    if (fd >= 0) {
        removed = unlinkat(fd, name, 0) == 0;
        close(fd);
    }
    return removed;
}

/* Whether @pid is a porchd-session of @state_dir still running: not a zombie that has not
 * been reaped yet, not a reused pid of another program. */
static gboolean
session_alive(GPid pid, const char *state_dir)
{
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *cmd_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *stat = NULL;
    g_autofree char *cmd = NULL;
    gsize len = 0;
    const char *state;

    if (pid <= 0 || !g_file_get_contents(stat_path, &stat, NULL, NULL) ||
        !g_file_get_contents(cmd_path, &cmd, &len, NULL))
        return FALSE;
    /* "pid (comm) S ...": the state follows the last ')' */
    state = strrchr(stat, ')');
    if (state == NULL || state[1] == '\0' || state[2] == 'Z' || state[2] == 'X')
        return FALSE;
    if (!g_str_has_suffix(cmd, PORCH_SESSION_NAME))
        return FALSE;
    for (gsize i = 0; i + 1 < len; i++)
        if (cmd[i] == '\0' && g_str_equal(cmd + i + 1, state_dir))
            return TRUE;
    return FALSE;
}

guint
porch_sftp_cleanup(const PorchConfig *config, const char *state_dir, GPid pid)
{
    g_autofree char *dir = g_build_filename(state_dir, PORCH_UPLOAD_JOURNAL, NULL);
    g_autofree char *prefix = g_strdup_printf("%d.", (int)pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    guint removed = 0;

    while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = NULL;

        if (pid != 0 && !g_str_has_prefix(n, prefix))
            continue;
        /* sessions outlive a porchd killed with SIGKILL: their uploads are theirs */
        if (pid == 0 && session_alive((GPid)g_ascii_strtoll(n, NULL, 10), state_dir))
            continue;
        path = g_build_filename(dir, n, NULL);
        if (cleanup_entry(config, path))
            removed++;
        g_unlink(path);
    }
    return removed;
}
