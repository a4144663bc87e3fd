/* multiget.c — `porch get` of a large file from every neighbour that holds it
 * (porch-multiget.h), and `porch get --sha256 HASH`.
 *
 * The origin (HOST of HOST/SHARE/PATH) gives the file's SHA-256 from its content index (a file
 * it has not indexed gets the ordinary fetch) and its range hashes, and starts sending at
 * once. The other Porch neighbours seen over mDNS (and those
 * remembered by address) whose keys are pinned are asked, all at once (porch-search.h), whether
 * they hold a file with that SHA-256 ("search --sha256", answered from their indexes, only with
 * files this user may read there). Each that does becomes a source with a connection of its own;
 * every range is verified against the origin's hashes, whoever sent it. They are not asked
 * when the origin is about to finish alone (porch_multiget_worth_more_sources()): on a fast
 * link the origin sends a file of hundreds of MiB before another source could log in. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "porch-browse.h"
#include "porch-cli.h"
#include "porch-identity.h"
#include "porch-multiget.h"
#include "porch-neighbours.h"
#include "porch-print-client.h"
#include "porch-print-protocol.h"
#include "porch-search.h"

/* how long to look for other sources over mDNS while the origin sends */
#define LOOK_S 1.5
/* a source that sends nothing for this long is dropped */
#define STALL_S 5
/* how long the origin may take to answer the connection that asks its index */
#define INDEX_CONNECT_S 3

/* In a thread of porch_search_find_holders(): connects to @n (pinned keys only). */
static PorchClient *
connect_pinned(const PorchNeighbour *n, gboolean for_print, gpointer data,
               GCancellable *cancellable, GError **error)
{
    const PorchCliCommon *common = data;
    g_autoptr(PorchCliTarget) target = porch_cli_target_from_neighbour(n);

    (void)cancellable;
    return porch_cli_connect_pinned(target, common->identity, for_print, for_print ? 10 : 30,
                                    common->connect_timeout, error);
}

typedef struct {
    GMainLoop *loop;
    gint64 until;
    PorchMultiget *fetch;
    guint64 size;
} Looking;

/* Browsing ends at its time, or early once the fetch already under way is whole. */
static gboolean
on_look_tick(gpointer data)
{
    Looking *l = data;

    if (g_get_monotonic_time() >= l->until ||
        (l->fetch != NULL && porch_multiget_get_done(l->fetch) >= l->size)) {
        g_main_loop_quit(l->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* The Porch neighbours to ask, seen within @seconds or remembered, but not @skip_fp (the
 * origin's key). With @fetch (of @size bytes), browsing stops early once it is whole. */
static GPtrArray *
find_neighbours(const char *skip_fp, double seconds, PorchMultiget *fetch, guint64 size)
{
    g_autoptr(PorchBrowser) browser = porch_browser_new();
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GPtrArray) list = NULL;
    Looking looking = {loop, g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC), fetch,
                       size};
    GPtrArray *all;

    if (porch_browser_start(browser, NULL)) {
        g_timeout_add(100, on_look_tick, &looking); /* it removes itself as it quits */
        g_main_loop_run(loop);
    }
    all = porch_browser_get_neighbours(browser);
    list = porch_neighbours_load(NULL, NULL);
    porch_search_add_remembered(all, list);
    for (guint i = all->len; i-- > 0;) {
        const PorchNeighbour *n = g_ptr_array_index(all, i);
        if (!porch_neighbour_is_porch(n) ||
            (skip_fp != NULL && g_strcmp0(porch_neighbour_get_fingerprint(n), skip_fp) == 0))
            g_ptr_array_remove_index(all, i);
    }
    return all;
}

/* Asks every neighbour of @neighbours at once; returns the PorchSearchHolders of the file. */
static GPtrArray *
find_sources(GPtrArray *neighbours, const char *hex, guint64 size, guint max,
             const PorchCliCommon *common)
{
    return porch_search_find_holders(neighbours, hex, size, max, connect_pinned, (gpointer)common,
                                     NULL);
}

typedef struct {
    gboolean bar;
    const char *name;
} Progress;

static void
on_progress(guint64 done, guint64 total, guint sources, gpointer data)
{
    Progress *p = data;
    char a[32], b[32];

    if (!p->bar)
        return;
    porch_cli_format_size(a, sizeof a, (double)done);
    porch_cli_format_size(b, sizeof b, (double)total);
    fprintf(stderr, "\r\033[K%s  %s of %s  from %u source%s", p->name, a, b, sources,
            sources == 1 ? "" : "s");
    fflush(stderr);
}

static void
on_dropped(const PorchMultigetSource *s, const char *why, gpointer data)
{
    Progress *p = data;
    g_autofree char *line = g_strdup_printf("%s dropped as a source: %s", s->name, why);

    if (p->bar)
        fputs("\r\033[K", stderr);
    porch_cli_error("get", line);
}

static void
summary(const char *local, const PorchMultigetPlan *plan, const PorchMultigetSource *sources,
        guint n, const PorchCliCommon *common)
{
    char size[32];
    g_autoptr(GString) who = g_string_new(NULL);

    if (common->quiet)
        return;
    porch_cli_format_size(size, sizeof size, (double)plan->size);
    for (guint i = 0; i < n; i++) {
        char b[32];
        porch_cli_format_size(b, sizeof b, (double)sources[i].bytes);
        g_string_append_printf(who, "%s%s %s", i > 0 ? ", " : "", sources[i].name, b);
    }
    fprintf(stderr, "porch: %s (%s) verified, from %u source%s: ", local, size, n,
            n == 1 ? "" : "s");
    porch_cli_put_text(stderr, who->str);
    fputc('\n', stderr);
}

/* Runs the fetch from @sources; the exit status. */
static int
fetch(PorchMultigetSource *sources, guint n, const PorchMultigetPlan *plan, const char *local,
      const PorchCliCommon *common)
{
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *base = g_path_get_basename(local);
    Progress p = {.bar = !common->quiet && isatty(STDERR_FILENO), .name = base};
    PorchMultigetCallbacks cb = {on_progress, on_dropped, &p};
    gboolean ok = porch_multiget(sources, n, plan, local, &cb, cancellable, &error);

    if (p.bar)
        fputs("\r\033[K", stderr);
    if (!ok) {
        porch_cli_error(local, error->message);
        return PORCH_CLI_EXIT_FAILED;
    }
    summary(local, plan, sources, n, common);
    return PORCH_CLI_EXIT_OK;
}

/* Where @remote lands for `porch get ... DEST`: in DEST when it is a folder, else as DEST. */
static char *
local_path(const char *remote, const char *dest)
{
    g_autofree char *base = g_path_get_basename(remote);

    if (dest == NULL)
        return g_strdup(base);
    if (g_file_test(dest, G_FILE_TEST_IS_DIR))
        return g_build_filename(dest, base, NULL);
    return g_strdup(dest);
}

/* Whether the file system of @local has room for @size bytes (the ordinary fetch tells the
 * user when not, before asking anyone anything). */
static gboolean
room_for(const char *local, guint64 size)
{
    g_autofree char *dir = g_path_get_dirname(local);
    struct statvfs v;

    return statvfs(dir, &v) != 0 || v.f_frsize == 0 || size / v.f_frsize <= v.f_bavail;
}

/* The SHA-256 of @target's file as the origin's content index holds it ("search" over a
 * connection of its own), so that finding other holders never makes the origin hash a file it
 * has not indexed (then NULL, and the ordinary fetch runs). */
static char *
indexed_hash(const PorchCliTarget *target, guint64 size, const PorchCliCommon *common)
{
    g_autoptr(PorchClient) exec = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autofree char *base = g_path_get_basename(target->path);
    const char *share = target->path + 1;
    const char *slash = strchr(share, '/');

    if (slash == NULL || strlen(base) > PORCH_SEARCH_MAX_PATTERN)
        return NULL;
    /* a short wait: the ordinary fetch is the answer to a host that does not take commands */
    exec = porch_cli_connect_pinned(target, common->identity, TRUE, 10,
                                    MIN(common->connect_timeout, INDEX_CONNECT_S), NULL);
    if (exec == NULL || !porch_client_search(exec, base, NULL, &found, NULL))
        return NULL;
    for (guint i = 0; i < found->len; i++) {
        const PorchSearchMatch *m = g_ptr_array_index(found, i);
        /* porchd takes share names without regard to case */
        if (m->size == size && strlen(m->share) == (gsize)(slash - share) &&
            g_ascii_strncasecmp(m->share, share, (gsize)(slash - share)) == 0 &&
            strcmp(m->path, slash + 1) == 0)
            return g_strdup(m->sha256);
    }
    return NULL;
}

int
porch_cli_get_multi(PorchClient *origin, const PorchCliTarget *target, const char *dest,
                    guint max_sources, const PorchCliCommon *common)
{
    g_autoptr(PorchRemoteFile) f = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) ranges = NULL;
    g_autoptr(GPtrArray) neighbours = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autofree char *local = NULL;
    g_autofree char *part = NULL;
    g_autofree char *hex = NULL;
    g_autofree char *base = NULL;
    g_autofree PorchMultigetSource *sources = NULL;
    PorchMultigetPlan plan = {0};
    PorchMultiget *mg;
    Progress p = {0};
    PorchMultigetCallbacks cb = {on_progress, on_dropped, &p};
    guint n = 0;
    gboolean ok;
    gint64 started;

    f = porch_client_stat(origin, target->path, NULL, NULL);
    if (f == NULL || f->type != PORCH_REMOTE_FILE || f->size < PORCH_CLI_MULTI_THRESHOLD)
        return -1;
    local = local_path(target->path, dest);
    part = g_strconcat(local, ".part", NULL);
    /* a file or a NAME.part already here (resumed, set aside with --no-resume, replaced with
     * --force), or no room: the ordinary get's business, and it says what it does */
    if (g_file_test(local, G_FILE_TEST_EXISTS) || g_file_test(part, G_FILE_TEST_EXISTS) ||
        !room_for(local, f->size))
        return -1;
    hex = indexed_hash(target, f->size, common);
    if (hex == NULL)
        return -1;
    /* its range hashes: from the index too, unless the file changed meanwhile */
    ranges = porch_multiget_range_hashes(origin, target->path, f->size, NULL, &error);
    if (ranges == NULL)
        return -1;
    plan.size = f->size;
    plan.ranges = ranges;
    plan.mtime = f->mtime;
    plan.stall_seconds = STALL_S;
    base = g_path_get_basename(local);
    p.bar = !common->quiet && isatty(STDERR_FILENO);
    p.name = base;
    mg = porch_multiget_start(&plan, local, &cb, cancellable, &error);
    if (mg == NULL)
        return -1; /* a .part in use, no room: the ordinary get says so */
    /* the origin fetches at once; the others join as they are found */
    sources = g_new0(PorchMultigetSource, max_sources);
    sources[n++] = (PorchMultigetSource){origin, target->host, target->path, 0, NULL};
    porch_multiget_add(mg, &sources[0]);
    started = g_get_monotonic_time();
    neighbours = find_neighbours(porch_client_get_host_fingerprint(origin), LOOK_S, mg, f->size);
    /* an origin about to finish alone is left to it: asking would cost logins, no time */
    if (porch_multiget_worth_more_sources(porch_multiget_get_done(mg), f->size,
                                          g_get_monotonic_time() - started))
        found = find_sources(neighbours, hex, f->size, max_sources - 1, common);
    else
        found = g_ptr_array_new();
    for (guint i = 0; i < found->len && n < max_sources; i++) {
        PorchSearchHolder *h = g_ptr_array_index(found, i);
        sources[n] = (PorchMultigetSource){h->client, porch_neighbour_get_name(h->neighbour),
                                           h->remote, 0, NULL};
        porch_multiget_add(mg, &sources[n++]);
    }
    ok = porch_multiget_finish(mg, &error);
    if (p.bar)
        fputs("\r\033[K", stderr);
    if (!ok)
        porch_cli_error(local, error->message);
    else
        summary(local, &plan, sources, n, common);
    for (guint i = 0; i < n; i++)
        g_free(sources[i].dropped);
    return ok ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}

int
porch_cli_get_by_hash(const char *sha256_hex, const char *dest, guint max_sources,
                      const PorchCliCommon *common)
{
    g_autoptr(GPtrArray) neighbours = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autoptr(GBytes) ranges = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree PorchMultigetSource *sources = NULL;
    g_autofree char *hex = g_ascii_strdown(sha256_hex, -1);
    g_autofree char *local = NULL;
    guint8 sha[PORCH_SHA256_LEN];
    PorchMultigetPlan plan = {0};
    guint64 size = 0;
    int status;

    if (!porch_sha256_from_hex(hex, sha)) {
        porch_cli_usage_error("get", "--sha256 takes 64 hexadecimal digits");
        return PORCH_CLI_EXIT_USAGE;
    }
    neighbours = find_neighbours(NULL, common->timeout, NULL, 0);
    /* the size is not known yet: any holder's answer gives it, checked by the hash at the end */
    found = find_sources(neighbours, hex, G_MAXUINT64, max_sources, common);
    if (found->len == 0) {
        porch_cli_error("get", "no neighbour you may read from holds a file with that SHA-256");
        return PORCH_CLI_EXIT_FAILED;
    }
    {
        PorchSearchHolder *first = g_ptr_array_index(found, 0);
        g_autoptr(PorchRemoteFile) f =
                porch_client_stat(first->client, first->remote, NULL, &error);
        if (f == NULL) {
            porch_cli_error(porch_neighbour_get_name(first->neighbour), error->message);
            return PORCH_CLI_EXIT_FAILED;
        }
        size = f->size;
        plan.mtime = f->mtime;
        local = local_path(first->remote, dest);
        /* the range hashes of the first holder; the whole file is checked against HASH */
        ranges = porch_multiget_range_hashes(first->client, first->remote, size, NULL, &error);
        if (ranges == NULL) {
            porch_cli_error(porch_neighbour_get_name(first->neighbour), error->message);
            return PORCH_CLI_EXIT_FAILED;
        }
    }
    if (g_file_test(local, G_FILE_TEST_EXISTS)) {
        porch_cli_error(local, "exists already");
        return PORCH_CLI_EXIT_FAILED;
    }
    /* every holder must have the size the first one has (the hash decides in the end) */
    for (guint i = found->len; i-- > 1;)
        if (((PorchSearchHolder *)g_ptr_array_index(found, i))->size != size)
            g_ptr_array_remove_index(found, i);
    sources = g_new0(PorchMultigetSource, found->len);
    for (guint i = 0; i < found->len; i++) {
        PorchSearchHolder *h = g_ptr_array_index(found, i);
        sources[i] = (PorchMultigetSource){h->client, porch_neighbour_get_name(h->neighbour),
                                           h->remote, 0, NULL};
    }
    plan.size = size;
    plan.ranges = ranges;
    plan.sha256 = sha;
    plan.stall_seconds = STALL_S;
    status = fetch(sources, found->len, &plan, local, common);
    for (guint i = 0; i < found->len; i++)
        g_free(sources[i].dropped);
    return status;
}
