/* transfer.c — `porch ls`, `porch get` and `porch put`, and their progress line.
 *
 *   porch ls  [-l [-h]] [--json] [--identity FILE] [--timeout SECONDS] HOST[/SHARE[/PATH]]
 *   porch get [-r] [--no-resume] [--force] [--quiet] [--identity FILE] [--timeout SECONDS]
 *             HOST/SHARE/PATH [DEST]
 *   porch put [-r] [--force] [--quiet] [--identity FILE] [--timeout SECONDS]
 *             SOURCE HOST/SHARE/PATH
 *
 * Each finds the neighbour and connects (cli/target.c), then hands the work to the client
 * library (shared/porch-sftp-client.h). Failures are one line each on stderr,
 * "porch: PATH: message", with remote paths as HOST/SHARE/PATH; the exit status says what
 * kind of failure it was (PORCH_CLI_EXIT_*). A progress line is drawn on stderr only when it
 * is a terminal and --quiet was not given.
 *
 * Ctrl-C during a transfer sets a flag that the library's next callback (progress comes at
 * least every 50 ms while data moves) turns into a cancellation: the transfer stops, a get
 * keeps its NAME.part files, which the same command resumes, and porch exits 130. A second Ctrl-C
 * kills at once.
 */
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-transfer.h"

#define REDRAW_INTERVAL (100 * G_TIME_SPAN_MILLISECOND)
#define RATE_WINDOW_S   2.0 /* the rate shown is smoothed over about this long */

/* ------------------------------------------------------------------------------------------
 * Numbers for people */

/* "0:02", "12:34", "1:02:03" */
static void
format_duration(char *buf, size_t len, double seconds)
{
    guint64 s = seconds < 0 ? 0 : (guint64)(seconds + 0.5);

    if (s >= 100 * 3600)
        snprintf(buf, len, "--:--");
    else if (s >= 3600)
        snprintf(buf, len, "%u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
                 (unsigned)(s % 60));
    else
        snprintf(buf, len, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

/* ------------------------------------------------------------------------------------------
 * Text on a terminal: what is shown is made safe first, and measured in columns. */

static int
char_columns(gunichar c)
{
    if (g_unichar_iszerowidth(c))
        return 0;
    return g_unichar_iswide(c) ? 2 : 1;
}

static int
text_columns(const char *s)
{
    int n = 0;
    for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p))
        n += char_columns(g_utf8_get_char(p));
    return n;
}

/* @s (safe, valid UTF-8) in at most @columns columns: its end, after "…" when cut. */
static void
append_tail(GString *out, const char *s, int columns)
{
    int total = text_columns(s);
    const char *p = s;

    if (columns <= 0)
        return;
    if (total <= columns) {
        g_string_append(out, s);
        return;
    }
    g_string_append(out, "…");
    total -= columns - 1; /* columns to drop from the start */
    while (*p != '\0' && total > 0) {
        total -= char_columns(g_utf8_get_char(p));
        p = g_utf8_next_char(p);
    }
    g_string_append(out, p);
}

static int
terminal_columns(void)
{
    struct winsize ws;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* ------------------------------------------------------------------------------------------
 * A transfer's callbacks: progress, failures, notices */

typedef struct {
    const PorchCliTarget *target;
    const char *local;      /* DEST (get) or SOURCE (put), as given */
    gboolean local_default; /* get without DEST: "." */
    gboolean upload;
    gboolean tree; /* -r */
    gboolean quiet;
    gboolean bar; /* draw the progress line: stderr is a terminal and not --quiet */
    GCancellable *cancellable;

    guint failed;
    gboolean denied; /* a path failed with "permission denied" */

    gint64 start, last_draw, last_sample;
    guint64 last_bytes;
    guint64 skipped; /* bytes counted done without moving: resumed, or already here */
    gboolean rebase; /* a notice came: the next jump in bytes done may be such bytes */
    double rate;     /* bytes per second, smoothed; < 0: not measured yet */
    gboolean drawn;  /* the progress line is on the screen */
    PorchProgress last;
} Transfer;

static void
check_interrupt(Transfer *x)
{
    if (porch_cli_interrupted && !g_cancellable_is_cancelled(x->cancellable))
        g_cancellable_cancel(x->cancellable);
}

static void
clear_line(Transfer *x)
{
    if (!x->drawn)
        return;
    fputs("\r\033[K", stderr);
    x->drawn = FALSE;
}

/* Whether @path is @prefix or beneath it (as strings: "/a" holds "/a/b", not "/ab"). */
static gboolean
has_path_prefix(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (n > 1 && prefix[n - 1] == '/')
        n--;
    if (strncmp(path, prefix, n) != 0)
        return FALSE;
    return path[n] == '\0' || path[n] == '/' || (n == 1 && prefix[0] == '/');
}

/* Whether a path the library reported is a remote one (else it is a local file). The
 * library's remote paths are absolute, beneath the remote path given; local ones are beneath
 * DEST or SOURCE as given, or DEST.part beside a DEST that names the file. */
static gboolean
is_remote(const Transfer *x, const char *path)
{
    gboolean remote = has_path_prefix(path, x->target->path);
    gboolean local =
            has_path_prefix(path, x->local) || (!x->upload && g_str_has_prefix(path, x->local) &&
                                                strcmp(path + strlen(x->local), ".part") == 0);

    if (remote != local)
        return remote;
    if (remote)
        return !x->upload; /* both: the source is the more likely */
    return !x->upload && path[0] == '/';
}

/* The path as users address it: HOST/SHARE/PATH for a remote one. */
static char *
describe_path(const Transfer *x, const char *path)
{
    if (path == NULL)
        return x->upload ? g_strdup(x->local) : porch_cli_target_format(x->target, NULL);
    if (is_remote(x, path))
        return porch_cli_target_format(x->target, path);
    /* "README.txt" rather than "./README.txt" for a DEST the user did not give */
    if (x->local_default && g_str_has_prefix(path, "./") && path[2] != '\0')
        return g_strdup(path + 2);
    return g_strdup(path);
}

/* The name shown on the progress line: the file's name, or within a tree its path from the
 * top of the tree. */
static char *
progress_name(const Transfer *x, const PorchProgress *p)
{
    const char *top = x->upload ? x->local : x->target->path;
    const char *cur = p->current;

    if (cur == NULL)
        return g_strdup("");
    if (x->tree && has_path_prefix(cur, top)) {
        const char *slash = strrchr(top, '/');
        /* from the tree's own name: "2024/beach.jpg" for "/Photos/2024" */
        size_t at = slash != NULL && slash[1] != '\0' ? (size_t)(slash + 1 - top) : 0;
        if (strcmp(top, "/") != 0 && strcmp(top, ".") != 0)
            return porch_cli_safe_text(cur + at);
        return porch_cli_safe_text(cur[0] == '/' ? cur + 1 : cur);
    }
    {
        g_autofree char *base = g_path_get_basename(cur);
        return porch_cli_safe_text(base);
    }
}

static void
draw(Transfer *x, const PorchProgress *p)
{
    gboolean files = x->tree && !(p->listing_done && p->total_files <= 1);
    gboolean known = p->listing_done || !x->tree;
    gboolean with_bar = known && p->total_bytes > 0, with_sizes = TRUE, with_rate = TRUE,
             with_eta = TRUE;
    int width = terminal_columns() - 1; /* never the last column: no wrapping */
    g_autofree char *name = progress_name(x, p);
    char pct[16], count[48], sizes[48], done[16], total[16], rate[24], eta[24];
    int name_cols = text_columns(name), plan_cols, bar = 0, name_room = 0;
    g_autoptr(GString) line = g_string_new("\r");

    if (known && p->total_bytes > 0)
        snprintf(pct, sizeof pct, "%3u%%",
                 (unsigned)MIN(100, p->done_bytes * 100 / p->total_bytes));
    else
        snprintf(pct, sizeof pct, "  ?%%");
    snprintf(total, sizeof total, "%u", p->total_files);
    snprintf(count, sizeof count, "files %*u/%s%s", (int)strlen(total), p->done_files, total,
             p->listing_done ? "" : "+");
    porch_cli_format_size(done, sizeof done, (double)p->done_bytes);
    porch_cli_format_size(total, sizeof total, (double)p->total_bytes);
    /* padded, so that the line keeps its layout while the numbers change */
    snprintf(sizes, sizeof sizes, "%*s / %s%s", (int)strlen(total), done, total, known ? "" : "+");
    if (x->rate > 0) {
        char r[16];
        porch_cli_format_size(r, sizeof r, x->rate);
        snprintf(rate, sizeof rate, "%9s/s", r);
    } else {
        snprintf(rate, sizeof rate, "%9s/s", "--");
    }
    if (x->rate > 0 && known && p->total_bytes >= p->done_bytes) {
        char d[16];
        format_duration(d, sizeof d, (double)(p->total_bytes - p->done_bytes) / x->rate);
        snprintf(eta, sizeof eta, "ETA %-5s", d);
    } else {
        snprintf(eta, sizeof eta, "ETA --:--");
    }

    /* Give way, in this order: the bar shrinks, the bar goes, then the rate, the ETA and the
     * sizes; the name takes what is left. Within a tree, names come and go: plan for a name of
     * 16 columns, so that the layout does not jump from one file to the next. */
    plan_cols = files ? 16 : MIN(name_cols, 16);
    for (;;) {
        int fixed = (int)strlen(pct) + (files ? 2 + (int)strlen(count) : 0) +
                    (with_sizes ? 2 + (int)strlen(sizes) : 0) +
                    (with_rate ? 2 + (int)strlen(rate) : 0) + (with_eta ? 2 + (int)strlen(eta) : 0);
        int room = width - fixed - 2; /* name, "  ", the rest */

        if (with_bar) {
            bar = MIN(30, room - plan_cols - 4); /* "[" bar "]  " */
            if (bar >= 10) {
                name_room = room - bar - 4;
                break;
            }
            with_bar = FALSE;
            bar = 0;
            continue;
        }
        name_room = room;
        if (name_room >= MIN(plan_cols, 12))
            break;
        if (with_rate)
            with_rate = FALSE;
        else if (with_eta)
            with_eta = FALSE;
        else if (with_sizes)
            with_sizes = FALSE;
        else
            break;
    }

    append_tail(line, name, name_room);
    g_string_append(line, "  ");
    if (files)
        g_string_append_printf(line, "%s  ", count);
    g_string_append(line, pct);
    if (with_bar) {
        int filled = (int)((double)bar * (double)MIN(p->done_bytes, p->total_bytes) /
                           (double)p->total_bytes);
        g_string_append(line, "  [");
        for (int i = 0; i < bar; i++)
            g_string_append_c(line, i < filled ? '#' : '.');
        g_string_append_c(line, ']');
    }
    if (with_sizes)
        g_string_append_printf(line, "  %s", sizes);
    if (with_rate)
        g_string_append_printf(line, "  %s", rate);
    if (with_eta)
        g_string_append_printf(line, "  %s", eta);
    g_string_append(line, "\033[K");
    fputs(line->str, stderr);
    fflush(stderr);
    x->drawn = TRUE;
}

static void
on_progress(const PorchProgress *p, gpointer data)
{
    Transfer *x = data;
    gint64 now = g_get_monotonic_time();
    double dt = (double)(now - x->last_sample) / G_USEC_PER_SEC;

    check_interrupt(x);
    x->last = *p;
    x->last.current = NULL; /* owned by the library, valid during the call only */

    /* A moving average over about RATE_WINDOW_S: each sample weighs by how long it took.
     * The bytes of a .part resumed, or of a file found already here, come with a notice and
     * count as done at once: they are left out. */
    if (x->rebase && p->done_bytes >= x->last_bytes) {
        x->skipped += p->done_bytes - x->last_bytes;
        x->last_sample = now;
        x->last_bytes = p->done_bytes;
        x->rebase = FALSE;
    } else if (dt >= 0.05 && p->done_bytes >= x->last_bytes) {
        double sample = (double)(p->done_bytes - x->last_bytes) / dt;
        double weight = dt / (RATE_WINDOW_S + dt);

        x->rate = x->rate < 0 ? sample : x->rate + weight * (sample - x->rate);
        x->last_sample = now;
        x->last_bytes = p->done_bytes;
    } else if (p->done_bytes < x->last_bytes) {
        x->last_bytes = p->done_bytes;
    }

    if (!x->bar || porch_cli_interrupted || now - x->last_draw < REDRAW_INTERVAL)
        return;
    x->last_draw = now;
    draw(x, p);
}

static void
on_failed(const char *path, const GError *error, gpointer data)
{
    Transfer *x = data;
    g_autofree char *what = NULL;
    g_autofree char *message = NULL;

    check_interrupt(x);
    x->failed++;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* said once, at the end */
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) && is_remote(x, path))
        x->denied = TRUE;
    clear_line(x);
    what = describe_path(x, path);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS) &&
        strstr(error->message, "--force") == NULL)
        message = g_strconcat(error->message, " (use --force to replace it)", NULL);
    porch_cli_error(what, message != NULL ? message : error->message);
}

static void
on_notice(const char *path, const char *message, gpointer data)
{
    Transfer *x = data;
    g_autofree char *what = NULL;

    check_interrupt(x);
    x->rebase = TRUE;
    if (x->quiet)
        return;
    clear_line(x);
    what = describe_path(x, path);
    porch_cli_error(what, message);
}

/* "1.0 GiB in 3.2 s, 320.0 MiB/s", with "120 files, " first for a tree. */
static void
print_summary(const Transfer *x)
{
    double elapsed = (double)(g_get_monotonic_time() - x->start) / G_USEC_PER_SEC;
    char size[16], rate[24], took[24];

    porch_cli_format_size(size, sizeof size, (double)x->last.done_bytes);
    if (elapsed < 60)
        snprintf(took, sizeof took, "%.1f s", elapsed);
    else
        format_duration(took, sizeof took, elapsed);
    if (x->tree && !(x->last.listing_done && x->last.total_files <= 1))
        fprintf(stderr, "%u file%s, ", x->last.done_files, x->last.done_files == 1 ? "" : "s");
    fprintf(stderr, "%s in %s", size, took);
    if (elapsed > 0.001 && x->last.done_bytes > x->skipped) {
        porch_cli_format_size(rate, sizeof rate,
                              (double)(x->last.done_bytes - x->skipped) / elapsed);
        fprintf(stderr, ", %s/s", rate);
    }
    fputc('\n', stderr);
}

/* ------------------------------------------------------------------------------------------
 * get and put */

/* Finds and connects to the target's host and checks that its share exists
 * (porch_cli_check_share()); PORCH_CLI_EXIT_OK or the status to exit with. */
static int
reach(PorchCliTarget *target, const PorchCliCommon *common, gboolean quiet,
      PorchClient **ret_client, char **ret_key_fingerprint)
{
    PorchCliConnectOptions o = {
            .identity_file = common->identity,
            .quiet = quiet,
            .connect_timeout_seconds = common->connect_timeout,
            .say_connecting = !quiet,
    };
    int status = porch_cli_target_resolve(target, common->timeout);

    if (status != PORCH_CLI_EXIT_OK)
        return status;
    status = porch_cli_connect_full(target, &o, ret_client, ret_key_fingerprint, NULL);
    if (status != PORCH_CLI_EXIT_OK)
        return status;
    /* a mistyped share: name the ones there are, before anything else happens */
    status = porch_cli_check_share(target, *ret_client);
    if (status != PORCH_CLI_EXIT_OK) {
        porch_cli_hint_guest(target, *ret_client, *ret_key_fingerprint);
        g_clear_pointer(ret_client, porch_client_free);
    }
    return status;
}

static int
transfer(gboolean upload, PorchCliTarget *target, const char *local, gboolean local_default,
         PorchTransferFlags flags, const PorchCliCommon *common)
{
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *key_fp = NULL;
    PorchTransferCallbacks callbacks = {on_progress, on_failed, on_notice, NULL};
    Transfer x = {0};
    struct sigaction old;
    gboolean ok;
    int status;

    status = reach(target, common, common->quiet, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK)
        return status;

    x.target = target;
    x.local = local;
    x.local_default = local_default;
    x.upload = upload;
    x.tree = (flags & PORCH_TRANSFER_RECURSIVE) != 0;
    x.quiet = common->quiet;
    x.bar = !common->quiet && isatty(STDERR_FILENO);
    x.cancellable = cancellable;
    x.start = x.last_sample = g_get_monotonic_time();
    x.rate = -1;
    callbacks.user_data = &x;

    porch_cli_catch_sigint(&old, TRUE);
    if (upload)
        ok = porch_transfer_put(client, local, target->path, flags, &callbacks, cancellable,
                                &error);
    else
        ok = porch_transfer_get(client, target->path, local, flags, &callbacks, cancellable,
                                &error);
    porch_cli_restore_sigint(&old);
    clear_line(&x);

    if (porch_cli_interrupted || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        /* put: what was not complete never replaced anything on the neighbour */
        if (upload)
            fputs("porch: interrupted\n", stderr);
        else
            fputs("porch: interrupted; run the same command again to continue from the .part "
                  "files\n",
                  stderr);
        return PORCH_CLI_EXIT_INTERRUPTED;
    }
    if (x.bar && (ok || x.last.done_bytes > 0))
        print_summary(&x);
    if (x.denied)
        porch_cli_hint_guest(target, client, key_fp);
    if (ok)
        return PORCH_CLI_EXIT_OK;
    if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_FILES_FAILED)) {
        if (x.tree && (x.last.total_files > 1 || x.failed > 1)) {
            fputs("porch: ", stderr);
            porch_cli_put_text(stderr, error->message);
            fputc('\n', stderr);
        }
    } else {
        /* the whole transfer failed: the connection, typically */
        g_autofree char *what = porch_cli_target_format(target, target->path);
        porch_cli_error(what, error->message);
    }
    return PORCH_CLI_EXIT_FAILED;
}

int
porch_cli_get(int argc, char **argv)
{
    gboolean recursive = FALSE, resume = FALSE, no_resume = FALSE, force = FALSE;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
             "Fetch a folder and everything in it", NULL},
            {"resume", 0, 0, G_OPTION_ARG_NONE, &resume,
             "Continue matching NAME.part files (the default)", NULL},
            {"no-resume", 0, 0, G_OPTION_ARG_NONE, &no_resume,
             "Fetch whole; keep a NAME.part as NAME.part.N", NULL},
            {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace files that exist already", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST/SHARE/PATH [DEST]");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *share = NULL;
    PorchTransferFlags flags = 0;

    porch_cli_set_summary(ctx, "Fetch a file (or with -r a folder) from a neighbour into "
                               "DEST (default: the current folder), each file verified "
                               "with the SHA-256 the neighbour computes.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE,
                                 "No progress, notices or summary: only errors");
    if (!porch_cli_parse_options(ctx, "get", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc < 2 || argc > 3) {
        porch_cli_usage_error("get",
                              argc < 2 ? "what to fetch? HOST/SHARE/PATH" : "too many arguments");
        return PORCH_CLI_EXIT_USAGE;
    }
    target = porch_cli_target_parse(argv[1], &error);
    if (target == NULL) {
        porch_cli_usage_error("get", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    share = porch_cli_target_share(target);
    if (share == NULL) {
        g_autofree char *m = g_strdup_printf("'%s' names no share (HOST/SHARE/PATH)", argv[1]);
        porch_cli_usage_error("get", m);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (recursive)
        flags |= PORCH_TRANSFER_RECURSIVE;
    if (resume && no_resume) {
        porch_cli_usage_error("get", "--resume and --no-resume exclude each other");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (!no_resume)
        flags |= PORCH_TRANSFER_RESUME;
    if (force)
        flags |= PORCH_TRANSFER_FORCE;
    return transfer(FALSE, target, argc > 2 ? argv[2] : ".", argc <= 2, flags, &common);
}

int
porch_cli_put(int argc, char **argv)
{
    gboolean recursive = FALSE, force = FALSE;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
             "Upload a folder and everything in it", NULL},
            {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace files that exist already", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("SOURCE HOST/SHARE/PATH");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *share = NULL;
    PorchTransferFlags flags = 0;

    porch_cli_set_summary(ctx, "Upload a file (or with -r a folder) to a neighbour's "
                               "share: into PATH when it is a folder, else as PATH. "
                               "Nothing lands under its final name before the neighbour "
                               "confirmed its SHA-256.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE,
                                 "No progress, notices or summary: only errors");
    if (!porch_cli_parse_options(ctx, "put", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc != 3) {
        porch_cli_usage_error("put", argc < 3 ? "put needs SOURCE and HOST/SHARE/PATH"
                                              : "too many arguments");
        return PORCH_CLI_EXIT_USAGE;
    }
    target = porch_cli_target_parse(argv[2], &error);
    if (target == NULL) {
        porch_cli_usage_error("put", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    share = porch_cli_target_share(target);
    if (share == NULL) {
        g_autofree char *m = g_strdup_printf("'%s' names no share (HOST/SHARE/PATH)", argv[2]);
        porch_cli_usage_error("put", m);
        return PORCH_CLI_EXIT_USAGE;
    }
    if (recursive)
        flags |= PORCH_TRANSFER_RECURSIVE;
    if (force)
        flags |= PORCH_TRANSFER_FORCE;
    return transfer(TRUE, target, argv[1], FALSE, flags, &common);
}

/* ------------------------------------------------------------------------------------------
 * ls */

static const char *
type_name(PorchRemoteType type)
{
    switch (type) {
    case PORCH_REMOTE_FILE:
        return "file";
    case PORCH_REMOTE_DIRECTORY:
        return "directory";
    case PORCH_REMOTE_SYMLINK:
        return "symlink";
    default:
        return "other";
    }
}

/* "drwxr-xr-x", as ls -l shows it. */
static void
format_mode(char buf[11], const PorchRemoteFile *f)
{
    static const char type_chars[] = {[PORCH_REMOTE_FILE] = '-',
                                      [PORCH_REMOTE_DIRECTORY] = 'd',
                                      [PORCH_REMOTE_SYMLINK] = 'l',
                                      [PORCH_REMOTE_OTHER] = '?'};
    guint32 m = f->mode;

    buf[0] = (guint)f->type < sizeof type_chars ? type_chars[f->type] : '?';
    for (int who = 0; who < 3; who++) {
        guint32 bits = m >> (6 - 3 * who);
        buf[1 + 3 * who] = bits & 4 ? 'r' : '-';
        buf[2 + 3 * who] = bits & 2 ? 'w' : '-';
        buf[3 + 3 * who] = bits & 1 ? 'x' : '-';
    }
    if (m & 04000)
        buf[3] = buf[3] == 'x' ? 's' : 'S';
    if (m & 02000)
        buf[6] = buf[6] == 'x' ? 's' : 'S';
    if (m & 01000)
        buf[9] = buf[9] == 'x' ? 't' : 'T';
    buf[10] = '\0';
}

static void
print_json(GPtrArray *files)
{
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);

    for (guint i = 0; i < files->len; i++) {
        const PorchRemoteFile *f = g_ptr_array_index(files, i);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autofree char *valid = g_utf8_make_valid(f->name, -1);

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, valid);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, type_name(f->type));
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, (gint64)MIN(f->size, (guint64)G_MAXINT64));
        json_builder_set_member_name(b, "mode");
        json_builder_add_int_value(b, f->mode);
        json_builder_set_member_name(b, "mtime");
        if (f->mtime >= 0)
            json_builder_add_int_value(b, f->mtime);
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
        g_ptr_array_add(nodes, json_builder_get_root(b));
    }
    porch_cli_put_json_lines(nodes);
}

/* The size column of ls -l: exact bytes, or with @human as porch_cli_format_size() shows
 * sizes ("12.3 KiB"). */
static void
format_ls_size(char *buf, size_t len, guint64 size, gboolean human)
{
    if (human)
        porch_cli_format_size(buf, len, (double)size);
    else
        snprintf(buf, len, "%" G_GUINT64_FORMAT, size);
}

static void
print_long(GPtrArray *files, gboolean human)
{
    int size_width = 1;

    for (guint i = 0; i < files->len; i++) {
        const PorchRemoteFile *f = g_ptr_array_index(files, i);
        char size[24];
        format_ls_size(size, sizeof size, f->size, human);
        size_width = MAX(size_width, (int)strlen(size));
    }
    for (guint i = 0; i < files->len; i++) {
        const PorchRemoteFile *f = g_ptr_array_index(files, i);
        char mode[11], size[24];
        g_autoptr(GDateTime) when =
                f->mtime >= 0 ? g_date_time_new_from_unix_local(f->mtime) : NULL;
        g_autofree char *date =
                when != NULL ? g_date_time_format(when, "%Y-%m-%d %H:%M") : g_strdup("-");

        format_mode(mode, f);
        format_ls_size(size, sizeof size, f->size, human);
        printf("%s %*s %-16s ", mode, size_width, size, date);
        porch_cli_put_text(stdout, f->name);
        fputc('\n', stdout);
    }
}

static void
print_short(GPtrArray *files)
{
    for (guint i = 0; i < files->len; i++) {
        const PorchRemoteFile *f = g_ptr_array_index(files, i);
        porch_cli_put_text(stdout, f->name);
        fputs(f->type == PORCH_REMOTE_DIRECTORY ? "/\n" : "\n", stdout);
    }
}

int
porch_cli_ls(int argc, char **argv)
{
    gboolean long_format = FALSE, human = FALSE, json = FALSE, help = FALSE;
    g_auto(PorchCliCommon) common = {0};
    /* -h is ls's: GOption's own help, which takes -h, is replaced by --help and -? */
    GOptionEntry entries[] = {
            {"long", 'l', 0, G_OPTION_ARG_NONE, &long_format,
             "Long format: mode, size, modification time, name", NULL},
            {"human-readable", 'h', 0, G_OPTION_ARG_NONE, &human,
             "With -l, sizes as 1.5 KiB, 3.2 MiB", NULL},
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "As JSON: [{name, type, size, mode, mtime}]",
             NULL},
            {"help", '?', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST[/SHARE[/PATH]]");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) files = NULL;
    g_autofree char *key_fp = NULL;
    int status;

    porch_cli_set_summary(ctx, "List the shares of a neighbour (HOST alone), a folder of "
                               "a share, or one file.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, NULL);
    g_option_context_set_help_enabled(ctx, FALSE);
    if (!porch_cli_parse_options(ctx, "ls", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (help) {
        g_autofree char *text = g_option_context_get_help(ctx, TRUE, NULL);
        fputs(text, stdout);
        return PORCH_CLI_EXIT_OK;
    }
    if (argc != 2) {
        porch_cli_usage_error("ls", argc < 2 ? "what to list? HOST[/SHARE[/PATH]]"
                                             : "too many arguments");
        return PORCH_CLI_EXIT_USAGE;
    }
    target = porch_cli_target_parse(argv[1], &error);
    if (target == NULL) {
        porch_cli_usage_error("ls", error->message);
        return PORCH_CLI_EXIT_USAGE;
    }
    status = reach(target, &common, FALSE, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK)
        return status;

    if (strcmp(target->path, "/") != 0) {
        g_autoptr(PorchRemoteFile) f = porch_client_stat(client, target->path, NULL, &error);
        if (f != NULL && f->type != PORCH_REMOTE_DIRECTORY) {
            files = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
            g_free(f->name);
            f->name = g_path_get_basename(target->path);
            g_ptr_array_add(files, g_steal_pointer(&f));
        }
    }
    if (files == NULL && error == NULL)
        files = porch_client_list(client, target->path, NULL, &error);
    if (files == NULL) {
        g_autofree char *what = porch_cli_target_format(target, target->path);
        porch_cli_error(what, error->message);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
            porch_cli_hint_guest(target, client, key_fp);
        return PORCH_CLI_EXIT_FAILED;
    }

    if (json)
        print_json(files);
    else if (long_format)
        print_long(files, human);
    else
        print_short(files);
    return fflush(stdout) == 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}
