/* files.c — changing a neighbour's share, and what get, put and ls share for many paths.
 *
 *   porch rm [-r] HOST/SHARE/PATH...
 *   porch mkdir [-p] HOST/SHARE/PATH...
 *   porch mv [-f] HOST/SHARE/OLD... HOST/SHARE/NEW
 *   porch get HOST/SHARE/PATH... [DEST | -]      (porch_cli_get_many())
 *   porch put SOURCE... | - HOST/SHARE/PATH      (porch_cli_put_many())
 *
 * Remote paths may hold globs (*, ?, [...]), quoted as users quote them for scp: the client
 * lists the folder and matches the names itself (porch_cli_glob()); a pattern that matches
 * nothing is an error naming it. Every path of one host goes over one connection. One path
 * that fails does not stop the others: each failure is a line "porch: PATH: message" on
 * stderr, and the exit status says that something failed (PORCH_CLI_EXIT_*).
 *
 * `-` in get and put: a file is written to standard output only once it arrived whole and
 * verified (it is fetched into a private temporary folder first), and standard input is
 * kept in such a folder until it ends, then uploaded as any file is: under a temporary name
 * on the share, renamed to its own only when the neighbour confirmed its SHA-256. An
 * interrupted command leaves nothing on the share, and nothing behind locally.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "porch-cli.h"

/* While standard input is read for a put, a request at least this often keeps the
 * connection from porchd's idle-timeout (porch.conf(5)), which a user may set to seconds */
#define KEEPALIVE_INTERVAL (2 * G_USEC_PER_SEC)

/* ------------------------------------------------------------------------------------------
 * Exit statuses and messages */

/* The status of a command whose paths ended with @status so far and then @next: the one they
 * share, else PORCH_CLI_EXIT_FAILED ("something failed"); an interruption wins. */
static int
combine(int status, int next)
{
    if (next == PORCH_CLI_EXIT_OK)
        return status;
    if (status == PORCH_CLI_EXIT_INTERRUPTED || next == PORCH_CLI_EXIT_INTERRUPTED)
        return PORCH_CLI_EXIT_INTERRUPTED;
    if (status == PORCH_CLI_EXIT_OK || status == next)
        return next;
    return PORCH_CLI_EXIT_FAILED;
}

/* "porch: HOST/SHARE/PATH: message" */
static void
remote_error(const PorchCliTarget *target, const char *path, const char *message)
{
    g_autofree char *what = porch_cli_target_format(target, path);
    porch_cli_error(what, message);
}

/* Whether @e says the connection (or the whole command) is over, rather than one path
 * failed. */
static gboolean
is_fatal(const GError *e)
{
    return e->domain != G_IO_ERROR ||
           (e->code != G_IO_ERROR_NOT_FOUND && e->code != G_IO_ERROR_FAILED &&
            e->code != G_IO_ERROR_EXISTS && e->code != G_IO_ERROR_NOT_DIRECTORY &&
            e->code != G_IO_ERROR_IS_DIRECTORY && e->code != G_IO_ERROR_PERMISSION_DENIED &&
            e->code != G_IO_ERROR_NO_SPACE && e->code != G_IO_ERROR_NOT_SUPPORTED);
}

static char *
join_remote(const char *dir, const char *name)
{
    return strcmp(dir, "/") == 0 ? g_strconcat("/", name, NULL) : g_strconcat(dir, "/", name, NULL);
}

/* The number of components of a normalized remote path: 0 for "/", 1 for a share. */
static guint
depth_of(const char *path)
{
    guint n = 0;

    for (const char *p = path; *p != '\0'; p++)
        n += *p == '/' && p[1] != '\0';
    return n;
}

/* ------------------------------------------------------------------------------------------
 * Arguments */

/* A copy of @t for another path of the same host. */
static PorchCliTarget *
target_with_path(const PorchCliTarget *t, const char *path)
{
    PorchCliTarget *c = g_new0(PorchCliTarget, 1);

    c->host = g_strdup(t->host);
    c->user = g_strdup(t->user);
    c->name = g_strdup(t->name);
    c->port = t->port;
    c->path = g_strdup(path);
    c->addresses = g_strdupv(t->addresses);
    c->connect_port = t->connect_port;
    c->pin_name = g_strdup(t->pin_name);
    c->fingerprint = g_strdup(t->fingerprint);
    return c;
}

/* Parses @arg as HOST/SHARE[/PATH]: NULL having told the usage error of @command when it is
 * not one, names no share, holds a "." or ".." component, or (@below_share) names a share
 * itself. */
static PorchCliTarget *
parse_remote(const char *command, const char *arg, gboolean below_share)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchCliTarget) t = porch_cli_target_parse(arg, &error);
    g_autofree char *m = NULL;

    if (t == NULL) {
        porch_cli_usage_error(command, error->message);
        return NULL;
    }
    if (depth_of(t->path) == 0)
        m = g_strdup_printf("'%s' names no share (HOST/SHARE/PATH)", arg);
    else if (strstr(t->path, "/./") != NULL || strstr(t->path, "/../") != NULL ||
             g_str_has_suffix(t->path, "/.") || g_str_has_suffix(t->path, "/.."))
        m = g_strdup_printf("'%s': '.' and '..' are not taken in remote paths", arg);
    else if (below_share && depth_of(t->path) == 1 && !porch_cli_has_glob(t->path))
        m = g_strdup_printf("'%s' is a share, not a file or folder in one", arg);
    if (m != NULL) {
        porch_cli_usage_error(command, m);
        return NULL;
    }
    return g_steal_pointer(&t);
}

/* parse_remote() of each of the @n @args: the targets (free with g_ptr_array_unref()), or NULL
 * having told the first usage error. */
static GPtrArray *
parse_remotes(const char *command, int n, char **args, gboolean below_share)
{
    g_autoptr(GPtrArray) targets =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_cli_target_free);

    for (int i = 0; i < n; i++) {
        PorchCliTarget *t = parse_remote(command, args[i], below_share);
        if (t == NULL)
            return NULL;
        g_ptr_array_add(targets, t);
    }
    return g_steal_pointer(&targets);
}

/* ------------------------------------------------------------------------------------------
 * One connection per host */

typedef struct {
    PorchCliTarget *target; /* the first target that named it (borrowed), resolved */
    PorchClient *client;
    char *key_fp;
    int status; /* PORCH_CLI_EXIT_OK, or why it could not be reached (told once) */
} Host;

typedef struct {
    const PorchCliCommon *common;
    gboolean quiet;
    GHashTable *hosts; /* "USER@HOST" -> Host* */
} Hosts;

static void
host_free(Host *h)
{
    g_clear_pointer(&h->client, porch_client_free);
    g_free(h->key_fp);
    g_free(h);
}

static void
hosts_init(Hosts *hs, const PorchCliCommon *common, gboolean quiet)
{
    hs->common = common;
    hs->quiet = quiet;
    hs->hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)host_free);
}

static void
hosts_clear(Hosts *hs)
{
    g_clear_pointer(&hs->hosts, g_hash_table_unref);
}

/* The connection to @target's host, made on first use; its ->status says whether there is
 * one. */
static Host *
hosts_reach(Hosts *hs, PorchCliTarget *target)
{
    g_autofree char *key =
            g_strconcat(target->user != NULL ? target->user : "", "@", target->host, NULL);
    Host *h = g_hash_table_lookup(hs->hosts, key);

    if (h != NULL)
        return h;
    h = g_new0(Host, 1);
    h->target = target;
    h->status = porch_cli_reach(target, hs->common, hs->quiet, &h->client, &h->key_fp);
    g_hash_table_insert(hs->hosts, g_steal_pointer(&key), h);
    return h;
}

/* ------------------------------------------------------------------------------------------
 * Globs */

gboolean
porch_cli_has_glob(const char *path)
{
    return strpbrk(path, "*?[") != NULL;
}

/* Whether a failure to list or stat one candidate only means that it does not match. */
static gboolean
is_no_match(const GError *e)
{
    return g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
           g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) ||
           g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
}

static PorchRemoteFile *
candidate(const char *path, PorchRemoteType type)
{
    PorchRemoteFile *f = g_new0(PorchRemoteFile, 1);

    f->name = g_strdup(path);
    f->type = type;
    f->mtime = -1;
    return f;
}

/* fnmatch(3) rather than GPatternSpec, which knows no [...] (scp and shells do). */
GPtrArray *
porch_cli_glob(PorchClient *client, const char *pattern, gboolean relative, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(pattern[0] == '/' ? pattern + 1 : pattern, "/", -1);
    guint n = g_strv_length(parts), first = 0;
    g_autoptr(GPtrArray) cur =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
    g_autoptr(GString) prefix = g_string_new(NULL);

    while (first < n && !porch_cli_has_glob(parts[first]))
        g_string_append_printf(prefix, "/%s", parts[first++]);
    if (prefix->len == 0)
        g_string_append_c(prefix, '/');
    g_ptr_array_add(cur, candidate(prefix->str, PORCH_REMOTE_DIRECTORY));
    for (guint i = first; i < n && parts[i][0] != '\0'; i++) {
        gboolean last = i + 1 == n;
        g_autoptr(GPtrArray) next =
                g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);

        for (guint k = 0; k < cur->len; k++) {
            const PorchRemoteFile *c = g_ptr_array_index(cur, k);
            g_autoptr(GError) e = NULL;

            if (!porch_cli_has_glob(parts[i]) && !last) {
                g_autofree char *p = join_remote(c->name, parts[i]);
                g_ptr_array_add(next, candidate(p, PORCH_REMOTE_DIRECTORY));
            } else if (!porch_cli_has_glob(parts[i])) {
                g_autofree char *p = join_remote(c->name, parts[i]);
                PorchRemoteFile *f = porch_client_lstat(client, p, NULL, &e);
                if (f != NULL)
                    g_ptr_array_add(next, f);
            } else {
                g_autoptr(GPtrArray) list = porch_client_list(client, c->name, NULL, &e);
                for (guint m = 0; list != NULL && m < list->len; m++) {
                    PorchRemoteFile *f = g_ptr_array_index(list, m);
                    char *p;
                    if (fnmatch(parts[i], f->name, FNM_PERIOD) != 0 ||
                        (!last && f->type != PORCH_REMOTE_DIRECTORY &&
                         f->type != PORCH_REMOTE_SYMLINK))
                        continue;
                    p = join_remote(c->name, f->name);
                    g_free(f->name);
                    f->name = p;
                    g_ptr_array_add(next, g_ptr_array_steal_index(list, m--));
                }
            }
            /* the folder the pattern starts from must be there; below it, a candidate that
             * is not a folder, or not there, is only one that does not match */
            if (e != NULL && (i == first || !is_no_match(e))) {
                g_propagate_error(error, g_steal_pointer(&e));
                return NULL;
            }
            if (next->len > PORCH_LIST_MAX_ENTRIES) {
                g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_LIMIT,
                            "the pattern matches more than %u paths: refused",
                            PORCH_LIST_MAX_ENTRIES);
                return NULL;
            }
        }
        g_ptr_array_unref(cur);
        cur = g_steal_pointer(&next);
    }
    if (cur->len == 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no match");
        return NULL;
    }
    for (guint k = 0; relative && k < cur->len; k++) {
        PorchRemoteFile *f = g_ptr_array_index(cur, k);
        gsize skip = prefix->len == 1 ? 1 : prefix->len + 1;
        char *rel = g_strdup(strlen(f->name) > skip ? f->name + skip : f->name);
        g_free(f->name);
        f->name = rel;
    }
    return g_steal_pointer(&cur);
}

/* The paths that @target's path names on @client (its glob's matches, or itself): NULL
 * having told why (no match) on stderr. */
static GPtrArray *
expand(PorchClient *client, const PorchCliTarget *target)
{
    g_autoptr(GError) e = NULL;
    GPtrArray *paths;

    if (!porch_cli_has_glob(target->path)) {
        paths = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
        g_ptr_array_add(paths, candidate(target->path, PORCH_REMOTE_OTHER));
        return paths;
    }
    paths = porch_cli_glob(client, target->path, FALSE, &e);
    if (paths == NULL)
        remote_error(target, target->path, e->message);
    return paths;
}

/* ------------------------------------------------------------------------------------------
 * mkdir -p */

/* Makes the folder @path and those above it that are missing, up to the share (which must
 * be there); one that exists is fine. FALSE having told on stderr which failed. */
static gboolean
make_parents(PorchClient *client, const PorchCliTarget *target, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path + 1, "/", -1);
    g_autoptr(GString) at = g_string_new(NULL);

    for (guint i = 0; parts[i] != NULL; i++) {
        g_autoptr(PorchRemoteFile) f = NULL;
        g_autoptr(GError) e = NULL;

        g_string_append_printf(at, "/%s", parts[i]);
        f = porch_client_stat(client, at->str, NULL, &e);
        if (f != NULL && f->type == PORCH_REMOTE_DIRECTORY)
            continue;
        if (f != NULL) {
            remote_error(target, at->str, "exists, and is not a folder");
            return FALSE;
        }
        if (i > 0 && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
            g_clear_error(&e);
            if (porch_client_mkdir(client, at->str, -1, NULL, &e))
                continue;
            /* made meanwhile by someone else: as good */
            g_clear_pointer(&f, porch_remote_file_free);
            f = porch_client_stat(client, at->str, NULL, NULL);
            if (f != NULL && f->type == PORCH_REMOTE_DIRECTORY)
                continue;
        }
        remote_error(target, at->str, e->message);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------------------------------------
 * rm */

typedef struct {
    const PorchCliTarget *target;
    PorchClient *client;
    gboolean recursive;
    gboolean stop;   /* no point going on in this share (permission denied, connection lost) */
    gboolean denied; /* a path failed with "permission denied" */
} Removal;

static void
removal_failed(Removal *x, const char *path, const GError *e)
{
    remote_error(x->target, path, e->message);
    if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) {
        /* the rights are the share's: the next path would be refused too */
        x->denied = TRUE;
        x->stop = TRUE;
    }
    if (is_fatal(e))
        x->stop = TRUE;
}

/* Removes @path, a folder with everything in it (-r). A link is removed, never followed.
 * TRUE when it is gone. */
static gboolean
remove_path(Removal *x, const char *path, guint depth)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(PorchRemoteFile) f = porch_client_lstat(x->client, path, NULL, &e);
    g_autoptr(GPtrArray) list = NULL;
    gboolean ok = TRUE;

    if (f == NULL) {
        removal_failed(x, path, e);
        return FALSE;
    }
    if (f->type != PORCH_REMOTE_DIRECTORY) {
        if (porch_client_remove(x->client, path, NULL, &e))
            return TRUE;
        removal_failed(x, path, e);
        return FALSE;
    }
    if (!x->recursive) {
        remote_error(x->target, path, "is a folder (use -r)");
        return FALSE;
    }
    if (depth > PORCH_GET_MAX_DEPTH) {
        remote_error(x->target, path, "folders nested too deep: refused");
        return FALSE;
    }
    list = porch_client_list(x->client, path, NULL, &e);
    if (list == NULL) {
        removal_failed(x, path, e);
        return FALSE;
    }
    for (guint i = 0; i < list->len && !x->stop && !porch_cli_interrupted; i++) {
        const PorchRemoteFile *c = g_ptr_array_index(list, i);
        g_autofree char *p = join_remote(path, c->name);

        if (c->type == PORCH_REMOTE_DIRECTORY) {
            ok = remove_path(x, p, depth + 1) && ok;
        } else if (!porch_client_remove(x->client, p, NULL, &e)) {
            removal_failed(x, p, e);
            g_clear_error(&e);
            ok = FALSE;
        }
    }
    if (!ok || x->stop || porch_cli_interrupted)
        return FALSE;
    if (porch_client_rmdir(x->client, path, NULL, &e))
        return TRUE;
    removal_failed(x, path, e);
    return FALSE;
}

int
porch_cli_rm(int argc, char **argv)
{
    gboolean recursive = FALSE;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
             "Remove folders and everything in them", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST/SHARE/PATH...");
    g_autoptr(GPtrArray) targets = NULL;
    Hosts hs;
    struct sigaction old;
    int status = PORCH_CLI_EXIT_OK;

    porch_cli_set_summary(ctx, "Remove files (with -r folders and everything in them) "
                               "from a neighbour's share. PATH may hold globs (*, ?, "
                               "[...]: quote them). A share itself is never removed.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, NULL);
    if (!porch_cli_parse_options(ctx, "rm", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc < 2) {
        porch_cli_usage_error("rm", "what to remove? HOST/SHARE/PATH");
        return PORCH_CLI_EXIT_USAGE;
    }
    targets = parse_remotes("rm", argc - 1, argv + 1, TRUE);
    if (targets == NULL)
        return PORCH_CLI_EXIT_USAGE;

    hosts_init(&hs, &common, FALSE);
    porch_cli_catch_sigint(&old, TRUE);
    for (guint i = 0; i < targets->len && !porch_cli_interrupted; i++) {
        PorchCliTarget *t = g_ptr_array_index(targets, i);
        Host *h = hosts_reach(&hs, t);
        g_autoptr(GPtrArray) paths = NULL;
        Removal x = {t, h->client, recursive, FALSE, FALSE};

        if (h->status != PORCH_CLI_EXIT_OK) {
            status = combine(status, h->status);
            continue;
        }
        paths = expand(h->client, t);
        if (paths == NULL) {
            status = combine(status, PORCH_CLI_EXIT_FAILED);
            continue;
        }
        for (guint k = 0; k < paths->len && !x.stop && !porch_cli_interrupted; k++) {
            const PorchRemoteFile *p = g_ptr_array_index(paths, k);
            if (depth_of(p->name) < 2) {
                remote_error(t, p->name, "is a share: porch rm removes what is in shares");
                status = combine(status, PORCH_CLI_EXIT_FAILED);
            } else if (!remove_path(&x, p->name, 0)) {
                status = combine(status, PORCH_CLI_EXIT_FAILED);
            }
        }
        if (x.denied)
            porch_cli_hint_guest(t, h->client, h->key_fp);
    }
    porch_cli_restore_sigint(&old);
    hosts_clear(&hs);
    if (porch_cli_interrupted) {
        fputs("porch: interrupted\n", stderr);
        return PORCH_CLI_EXIT_INTERRUPTED;
    }
    return status;
}

/* ------------------------------------------------------------------------------------------
 * mkdir */

int
porch_cli_mkdir(int argc, char **argv)
{
    gboolean parents = FALSE;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"parents", 'p', 0, G_OPTION_ARG_NONE, &parents,
             "Also make missing parents; existing is no error", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST/SHARE/PATH...");
    g_autoptr(GPtrArray) targets = NULL;
    Hosts hs;
    int status = PORCH_CLI_EXIT_OK;

    porch_cli_set_summary(ctx, "Make folders on a neighbour's share.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, NULL);
    if (!porch_cli_parse_options(ctx, "mkdir", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc < 2) {
        porch_cli_usage_error("mkdir", "which folder? HOST/SHARE/PATH");
        return PORCH_CLI_EXIT_USAGE;
    }
    targets = parse_remotes("mkdir", argc - 1, argv + 1, TRUE);
    if (targets == NULL)
        return PORCH_CLI_EXIT_USAGE;

    hosts_init(&hs, &common, FALSE);
    for (guint i = 0; i < targets->len; i++) {
        PorchCliTarget *t = g_ptr_array_index(targets, i);
        Host *h = hosts_reach(&hs, t);
        g_autoptr(GError) e = NULL;

        if (h->status != PORCH_CLI_EXIT_OK) {
            status = combine(status, h->status);
            continue;
        }
        if (parents ? make_parents(h->client, t, t->path)
                    : porch_client_mkdir(h->client, t->path, -1, NULL, &e))
            continue;
        if (e != NULL)
            remote_error(t, t->path, e->message);
        status = combine(status, PORCH_CLI_EXIT_FAILED);
        if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
            porch_cli_hint_guest(t, h->client, h->key_fp);
    }
    hosts_clear(&hs);
    return status;
}

/* ------------------------------------------------------------------------------------------
 * mv */

/* Whether two shares' names are the same to porchd: case-insensitive (porch.conf(5)). */
static gboolean
same_share(const PorchCliTarget *a, const PorchCliTarget *b)
{
    g_autofree char *x = porch_cli_target_share(a);
    g_autofree char *y = porch_cli_target_share(b);
    g_autofree char *fx = g_utf8_casefold(x, -1);
    g_autofree char *fy = g_utf8_casefold(y, -1);

    return strcmp(a->host, b->host) == 0 && g_strcmp0(a->user, b->user) == 0 && strcmp(fx, fy) == 0;
}

int
porch_cli_mv(int argc, char **argv)
{
    gboolean force = FALSE;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace a file that exists already",
             NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST/SHARE/OLD... HOST/SHARE/NEW");
    g_autoptr(GPtrArray) sources =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_cli_target_free);
    g_autoptr(PorchCliTarget) dest = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GPtrArray) paths =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
    g_autoptr(PorchRemoteFile) d = NULL;
    g_autofree char *key_fp = NULL;
    gboolean into, denied = FALSE;
    int status = PORCH_CLI_EXIT_OK;

    porch_cli_set_summary(ctx, "Rename or move files and folders within a share of a "
                               "neighbour: into NEW when it is a folder (it must be one "
                               "for several OLDs), else as NEW. OLD may hold globs (*, "
                               "?, [...]: quote them).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, NULL);
    if (!porch_cli_parse_options(ctx, "mv", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc < 3) {
        porch_cli_usage_error("mv", "mv needs HOST/SHARE/OLD and HOST/SHARE/NEW");
        return PORCH_CLI_EXIT_USAGE;
    }
    dest = parse_remote("mv", argv[argc - 1], FALSE);
    if (dest == NULL)
        return PORCH_CLI_EXIT_USAGE;
    if (porch_cli_has_glob(dest->path)) {
        porch_cli_usage_error("mv", "NEW is a name, not a pattern");
        return PORCH_CLI_EXIT_USAGE;
    }
    for (int i = 1; i < argc - 1; i++) {
        PorchCliTarget *t = parse_remote("mv", argv[i], TRUE);
        if (t == NULL)
            return PORCH_CLI_EXIT_USAGE;
        g_ptr_array_add(sources, t);
        if (!same_share(t, dest)) {
            g_autofree char *m = g_strdup_printf("'%s' and '%s' are not on the same share of "
                                                 "one host: porch mv moves within a share",
                                                 argv[i], argv[argc - 1]);
            porch_cli_usage_error("mv", m);
            return PORCH_CLI_EXIT_USAGE;
        }
    }

    status = porch_cli_reach(dest, &common, FALSE, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK)
        return status;
    for (guint i = 0; i < sources->len; i++) {
        GPtrArray *p = expand(client, g_ptr_array_index(sources, i));
        if (p == NULL) {
            status = PORCH_CLI_EXIT_FAILED;
            continue;
        }
        g_ptr_array_extend_and_steal(paths, p);
    }
    d = porch_client_stat(client, dest->path, NULL, NULL);
    into = d != NULL && d->type == PORCH_REMOTE_DIRECTORY;
    if (!into && (paths->len > 1 || sources->len > 1)) {
        remote_error(dest, dest->path,
                     d == NULL ? "no such folder (several go into a folder)"
                               : "not a folder (several go into a folder)");
        return PORCH_CLI_EXIT_FAILED;
    }
    for (guint i = 0; i < paths->len; i++) {
        const PorchRemoteFile *p = g_ptr_array_index(paths, i);
        g_autofree char *base = g_path_get_basename(p->name);
        g_autofree char *to = into ? join_remote(dest->path, base) : g_strdup(dest->path);
        g_autoptr(GError) e = NULL;

        if (depth_of(p->name) < 2) {
            remote_error(dest, p->name, "is a share: porch mv moves what is in shares");
            status = PORCH_CLI_EXIT_FAILED;
            continue;
        }
        if (porch_client_rename(client, p->name, to, force, NULL, &e))
            continue;
        status = PORCH_CLI_EXIT_FAILED;
        if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_EXISTS))
            remote_error(dest, to, "exists (use --force to replace it)");
        else
            remote_error(dest, p->name, e->message);
        if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) {
            denied = TRUE;
            break; /* the rights are the share's: the next would be refused too */
        }
        if (is_fatal(e))
            break;
    }
    if (denied)
        porch_cli_hint_guest(dest, client, key_fp);
    return status;
}

/* ------------------------------------------------------------------------------------------
 * get and put of many paths, and '-' */

/* Removes @dir, a private temporary folder, and the files in it. */
static void
remove_temp_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

/* Copies @fd to standard output. */
static gboolean
copy_to_stdout(int fd)
{
    char buf[64 * 1024];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            porch_cli_error("standard output", g_strerror(errno));
            return FALSE;
        }
        if (n == 0)
            return TRUE;
        for (ssize_t at = 0; at < n;) {
            ssize_t w = write(STDOUT_FILENO, buf + at, (size_t)(n - at));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                porch_cli_error("standard output", g_strerror(errno));
                return FALSE;
            }
            at += w;
        }
    }
}

/* get HOST/SHARE/FILE -: fetched and verified into a private folder, then written out. */
static int
get_to_stdout(Host *h, const PorchCliTarget *t, PorchTransferFlags flags,
              const PorchCliCommon *common)
{
    g_autoptr(GError) e = NULL;
    g_autofree char *dir = g_dir_make_tmp("porch-get-XXXXXX", &e);
    g_autofree char *base = g_path_get_basename(t->path);
    g_autofree char *file = NULL;
    int status, fd;

    if (dir == NULL) {
        porch_cli_error("standard output", e->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    file = g_build_filename(dir, base, NULL);
    status = porch_cli_transfer(h->client, h->key_fp, FALSE, t, dir, FALSE,
                                flags & ~(PORCH_TRANSFER_RESUME | PORCH_TRANSFER_RECURSIVE), FALSE,
                                common);
    if (status == PORCH_CLI_EXIT_OK) {
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || !copy_to_stdout(fd))
            status = PORCH_CLI_EXIT_FAILED;
        if (fd < 0)
            porch_cli_error(file, g_strerror(errno));
        else
            close(fd);
    }
    remove_temp_dir(dir);
    return status;
}

int
porch_cli_get_many(int n, char **sources, const char *dest, PorchTransferFlags flags, gboolean json,
                   guint max_sources, const PorchCliCommon *common)
{
    g_autoptr(GPtrArray) targets = NULL;
    gboolean to_stdout = g_strcmp0(dest, "-") == 0;
    const char *local = dest != NULL ? dest : ".";
    Hosts hs;
    int status = PORCH_CLI_EXIT_OK;

    targets = parse_remotes("get", n, sources, FALSE);
    if (targets == NULL)
        return PORCH_CLI_EXIT_USAGE;
    if (to_stdout && (n > 1 || (flags & PORCH_TRANSFER_RECURSIVE) || json)) {
        porch_cli_usage_error("get", "- (standard output) takes one file, without -r or --json");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (n > 1 && !to_stdout && !g_file_test(local, G_FILE_TEST_IS_DIR)) {
        porch_cli_error(local, "not a folder (several sources go into a folder)");
        return PORCH_CLI_EXIT_FAILED;
    }

    hosts_init(&hs, common, common->quiet);
    for (guint i = 0; i < targets->len && status != PORCH_CLI_EXIT_INTERRUPTED; i++) {
        PorchCliTarget *t = g_ptr_array_index(targets, i);
        Host *h = hosts_reach(&hs, t);
        g_autoptr(GPtrArray) paths = NULL;

        if (h->status != PORCH_CLI_EXIT_OK) {
            status = combine(status, h->status);
            continue;
        }
        paths = expand(h->client, t);
        if (paths == NULL) {
            status = combine(status, PORCH_CLI_EXIT_FAILED);
            continue;
        }
        if (paths->len > 1 && to_stdout) {
            remote_error(t, t->path, "matches several files; - (standard output) takes one");
            status = combine(status, PORCH_CLI_EXIT_FAILED);
            continue;
        }
        if (paths->len > 1 && !g_file_test(local, G_FILE_TEST_IS_DIR)) {
            porch_cli_error(local, "not a folder (several sources go into a folder)");
            status = combine(status, PORCH_CLI_EXIT_FAILED);
            continue;
        }
        for (guint k = 0; k < paths->len && status != PORCH_CLI_EXIT_INTERRUPTED; k++) {
            const PorchRemoteFile *p = g_ptr_array_index(paths, k);
            g_autoptr(PorchCliTarget) one = target_with_path(t, p->name);

            /* a large file that other neighbours hold too: from all of them */
            if (!to_stdout && !json && !(flags & PORCH_TRANSFER_RECURSIVE) && max_sources > 1) {
                int multi = porch_cli_get_multi(h->client, one, dest, max_sources, common);
                if (multi >= 0) {
                    status = combine(status, multi);
                    continue;
                }
            }
            status = combine(status,
                             to_stdout ? get_to_stdout(h, one, flags, common)
                                       : porch_cli_transfer(h->client, h->key_fp, FALSE, one, local,
                                                            dest == NULL, flags, json, common));
        }
    }
    hosts_clear(&hs);
    return status;
}

/* Keeps standard input in a new file @path until it ends; a request on @client (a stat of
 * @remote_dir) every KEEPALIVE_INTERVAL meanwhile. FALSE having told why on stderr; *@interrupted
 * after Ctrl-C. */
static gboolean
spool_stdin(PorchClient *client, const char *remote_dir, const char *path, gboolean *interrupted)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    gint64 last = g_get_monotonic_time();
    struct sigaction old;
    gboolean ok = TRUE;
    char buf[64 * 1024];

    if (fd < 0) {
        porch_cli_error(path, g_strerror(errno));
        return FALSE;
    }
    porch_cli_catch_sigint(&old, FALSE);
    while (ok) {
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        ssize_t n;

        if (g_get_monotonic_time() - last >= KEEPALIVE_INTERVAL) {
            g_autoptr(PorchRemoteFile) f = porch_client_stat(client, remote_dir, NULL, NULL);
            last = g_get_monotonic_time();
        }
        if (poll(&p, 1, (int)(KEEPALIVE_INTERVAL / 1000)) == 0)
            continue;
        if (porch_cli_interrupted) {
            *interrupted = TRUE;
            ok = FALSE;
            break;
        }
        n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            porch_cli_error("standard input", g_strerror(errno));
            ok = FALSE;
        } else if (n == 0) {
            break;
        }
        for (ssize_t at = 0; ok && at < n;) {
            ssize_t w = write(fd, buf + at, (size_t)(n - at));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                g_autofree char *m = g_strdup_printf("cannot keep standard input in %s: %s",
                                                     g_get_tmp_dir(), g_strerror(errno));
                porch_cli_error("standard input", m);
                ok = FALSE;
            } else {
                at += w;
            }
        }
    }
    porch_cli_restore_sigint(&old);
    if (close(fd) != 0 && ok) {
        porch_cli_error(path, g_strerror(errno));
        ok = FALSE;
    }
    return ok;
}

/* put - HOST/SHARE/PATH */
static int
put_stdin(PorchClient *client, const char *key_fp, const PorchCliTarget *t,
          PorchTransferFlags flags, gboolean json, const PorchCliCommon *common)
{
    g_autoptr(GError) e = NULL;
    g_autoptr(PorchRemoteFile) f = porch_client_stat(client, t->path, NULL, NULL);
    g_autoptr(PorchRemoteFile) parent = NULL;
    g_autofree char *folder = g_path_get_dirname(t->path);
    g_autofree char *dir = NULL;
    g_autofree char *base = g_path_get_basename(t->path);
    g_autofree char *file = NULL;
    gboolean interrupted = FALSE;
    int status;

    if (f != NULL && f->type == PORCH_REMOTE_DIRECTORY) {
        remote_error(t, t->path, "is a folder; name the file: - HOST/SHARE/PATH/NAME");
        return PORCH_CLI_EXIT_FAILED;
    }
    /* before standard input is read: it cannot be read again */
    parent = porch_client_stat(client, folder, NULL, &e);
    if (parent == NULL || parent->type != PORCH_REMOTE_DIRECTORY) {
        remote_error(t, folder,
                     parent != NULL ? "not a folder"
                     : g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                             ? "no such folder (--parents makes it)"
                             : e->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    dir = g_dir_make_tmp("porch-put-XXXXXX", &e);
    if (dir == NULL) {
        porch_cli_error("standard input", e->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    file = g_build_filename(dir, base, NULL);
    if (!spool_stdin(client, folder, file, &interrupted))
        status = interrupted ? PORCH_CLI_EXIT_INTERRUPTED : PORCH_CLI_EXIT_FAILED;
    else
        status = porch_cli_transfer(client, key_fp, TRUE, t, file, FALSE,
                                    flags & ~PORCH_TRANSFER_RECURSIVE, json, common);
    if (interrupted)
        fputs("porch: interrupted\n", stderr);
    remove_temp_dir(dir);
    return status;
}

int
porch_cli_put_many(int n, char **sources, const char *dest, PorchTransferFlags flags,
                   gboolean parents, gboolean json, const PorchCliCommon *common)
{
    g_autoptr(PorchCliTarget) t = parse_remote("put", dest, FALSE);
    g_autoptr(PorchClient) client = NULL;
    g_autofree char *key_fp = NULL;
    gboolean from_stdin = FALSE, into_folder;
    int status;

    if (t == NULL)
        return PORCH_CLI_EXIT_USAGE;
    if (porch_cli_has_glob(t->path)) {
        porch_cli_usage_error("put", "HOST/SHARE/PATH is a name, not a pattern");
        return PORCH_CLI_EXIT_USAGE;
    }
    for (int i = 0; i < n; i++)
        from_stdin = from_stdin || strcmp(sources[i], "-") == 0;
    /* a trailing '/' says that PATH is a folder: never a file of that name */
    into_folder = n > 1 || g_str_has_suffix(dest, "/");
    if (from_stdin && (n > 1 || into_folder || (flags & PORCH_TRANSFER_RECURSIVE))) {
        porch_cli_usage_error("put", "- (standard input) is the only SOURCE, without -r, and "
                                     "goes to HOST/SHARE/PATH/NAME");
        return PORCH_CLI_EXIT_USAGE;
    }

    status = porch_cli_reach(t, common, common->quiet, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK)
        return status;
    if (parents) {
        g_autofree char *folder = into_folder ? g_strdup(t->path) : g_path_get_dirname(t->path);
        if (!make_parents(client, t, folder))
            return PORCH_CLI_EXIT_FAILED;
    }
    if (into_folder) {
        g_autoptr(GError) e = NULL;
        g_autoptr(PorchRemoteFile) f = porch_client_stat(client, t->path, NULL, &e);
        if (f == NULL || f->type != PORCH_REMOTE_DIRECTORY) {
            remote_error(t, t->path,
                         f != NULL ? "not a folder"
                         : g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                                 ? "no such folder (--parents makes it)"
                                 : e->message);
            return PORCH_CLI_EXIT_FAILED;
        }
    }
    if (from_stdin)
        return put_stdin(client, key_fp, t, flags, json, common);
    for (int i = 0; i < n && status != PORCH_CLI_EXIT_INTERRUPTED; i++)
        status = combine(status, porch_cli_transfer(client, key_fp, TRUE, t, sources[i], FALSE,
                                                    flags, json, common));
    return status;
}
