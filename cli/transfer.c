/* transfer.c — `porch ls`, `porch get` and `porch put`, and their progress line.
 *
 *   porch ls  [-l [-h]] [--json] [--identity FILE] [--timeout SECONDS] HOST[/SHARE[/PATH]]
 *   porch get [-r] [--no-resume] [--force] [--quiet] [--json] [--identity FILE]
 *             [--timeout SECONDS] HOST/SHARE/PATH... [DEST]
 *   porch put [-r] [--force] [--parents] [--quiet] [--json] [--identity FILE]
 *             [--timeout SECONDS] SOURCE... HOST/SHARE/PATH
 *
 * Each finds the neighbour and connects (cli/target.c; get and put with several paths or a
 * glob through cli/files.c, a connection per host), then hands the work to the client
 * library (shared/porch-sftp-client.h). Failures are one line each on stderr,
 * "porch: PATH: message", with remote paths as HOST/SHARE/PATH; the exit status says what
 * kind of failure it was (PORCH_CLI_EXIT_*). A progress line is drawn on stderr only when it
 * is a terminal (or PORCH_PROGRESS=always) and neither --quiet nor --json was given: a thread
 * of its own redraws it every TICK from the library's last report, so that a neighbour that
 * stops sending shows as "stalled" rather than as a frozen line. It ends with a summary of
 * what arrived, or, after a failure, of what failed. --json prints each file and the totals
 * on stdout instead, once the transfer ended.
 *
 * Ctrl-C during a transfer sets a flag that the library's next callback (progress comes at
 * least every 200 ms while files are open) turns into a cancellation: the transfer stops, a
 * get keeps its NAME.part files, which the same command resumes, and porch exits 130. A second
 * Ctrl-C kills at once.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-transfer.h"

/* The progress line is redrawn every TICK by a thread of its own, whether the transfer reports
 * or not. The rate it shows is that of the bytes moved over the last RATE_WINDOW, once there
 * are RATE_MIN_SPAN of them; no byte for STALL_AFTER while files are not over: "stalled". */
#define TICK          (100 * G_TIME_SPAN_MILLISECOND)
#define RATE_WINDOW   (3 * G_TIME_SPAN_SECOND)
#define RATE_MIN_SPAN (1 * G_TIME_SPAN_SECOND)
#define STALL_AFTER   (3 * G_TIME_SPAN_SECOND)
#define MAX_SAMPLES   64 /* > RATE_WINDOW / TICK */

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
 * A transfer's callbacks: progress, failures, notices, files done */

typedef struct {
    gint64 at;
    guint64 moved;
} Sample;

typedef struct {
    const PorchCliTarget *target;
    const char *local;      /* DEST (get) or SOURCE (put), as given */
    gboolean local_default; /* get without DEST: "." */
    gboolean upload;
    gboolean tree; /* -r */
    gboolean quiet;
    gboolean bar;       /* draw the progress line: stderr is a terminal (or PORCH_PROGRESS=always),
                           and neither --quiet nor --json */
    GPtrArray *results; /* --json: a JsonNode per file, done or failed; else NULL */
    GCancellable *cancellable;

    guint failed;
    gboolean denied; /* a path failed with "permission denied" */

    /* What the progress thread reads is guarded by lock, and so is stderr while it runs. */
    GMutex lock;
    GCond wake;
    GThread *ticker;
    gboolean stop;
    gint64 start;
    gboolean started;   /* a progress report came */
    PorchProgress last; /* the last report; last.current is current */
    char *current;
    guint64 last_bytes;          /* done_bytes of the last report */
    gint64 last_moved;           /* when bytes last moved (at first: the start) */
    guint64 skipped;             /* bytes counted done without moving: resumed, or already here */
    gboolean rebase;             /* a notice came: the next jump in bytes done may be such bytes */
    Sample samples[MAX_SAMPLES]; /* bytes moved, a sample a tick, over RATE_WINDOW: a ring */
    guint first_sample, n_samples;
    gboolean drawn; /* the progress line is on the screen */
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

/* The name shown while nothing was reported yet: that of what was named. */
static char *
first_name(const Transfer *x)
{
    g_autofree char *base = g_path_get_basename(x->upload ? x->local : x->target->path);
    return porch_cli_safe_text(base);
}

/* The bytes per second over the last RATE_WINDOW: < 0 when that is not measured over
 * RATE_MIN_SPAN yet. */
static double
window_rate(const Transfer *x, gint64 now, guint64 moved)
{
    const Sample *oldest = &x->samples[x->first_sample];

    if (x->n_samples == 0 || now - oldest->at < RATE_MIN_SPAN)
        return -1;
    return (double)(moved - MIN(moved, oldest->moved)) * G_USEC_PER_SEC /
           (double)(now - oldest->at);
}

/* Whether bytes should be moving and have not for STALL_AFTER: files are known that are not
 * over yet. */
static gboolean
is_stalled(const Transfer *x, gint64 now)
{
    const PorchProgress *p = &x->last;

    return x->started && p->total_files > p->done_files + p->failed_files &&
           now - x->last_moved >= STALL_AFTER;
}

/* One frame of the progress line, on stderr; with x->lock held. */
static void
draw(Transfer *x, gint64 now)
{
    const PorchProgress *p = &x->last;
    gboolean files = x->tree && !(p->listing_done && p->total_files <= 1);
    gboolean known = p->listing_done || !x->tree;
    gboolean with_bar = known && p->total_bytes > 0, with_sizes = TRUE, with_rate = TRUE,
             with_eta = TRUE;
    int width = terminal_columns() - 1; /* never the last column: no wrapping */
    guint64 moved = p->done_bytes - MIN(p->done_bytes, x->skipped);
    double rate = window_rate(x, now, moved);
    gboolean stalled = is_stalled(x, now);
    g_autofree char *name = NULL;
    char pct[16], count[48], sizes[48], done[16], total[16], rate_text[24], eta[24];
    int name_cols, plan_cols, bar = 0, name_room = 0;
    g_autoptr(GString) line = g_string_new("\r");

    /* Nothing known yet, or a tree whose walk found no file yet: say what happens. */
    if (!x->started || (x->tree && !p->listing_done && p->total_files == 0)) {
        const char *what = x->tree ? "listing…" : "starting…";
        name = x->current != NULL ? progress_name(x, p) : first_name(x);
        append_tail(line, name, width - 2 - text_columns(what));
        g_string_append_printf(line, "  %s\033[K", what);
        fputs(line->str, stderr);
        fflush(stderr);
        x->drawn = TRUE;
        return;
    }
    name = x->current != NULL ? progress_name(x, p) : first_name(x);
    name_cols = text_columns(name);
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
    if (stalled)
        rate = 0; /* and the time left is unknown */
    if (rate >= 0) {
        char r[16];
        porch_cli_format_size(r, sizeof r, rate);
        snprintf(rate_text, sizeof rate_text, "%9s/s", r);
    } else {
        snprintf(rate_text, sizeof rate_text, "%9s/s", "--");
    }
    /* time left: only from a rate measured now, for totals that are final */
    if (stalled) {
        snprintf(eta, sizeof eta, "%-9s", "stalled");
    } else if (rate > 0 && known && p->total_bytes > p->done_bytes) {
        char d[16];
        format_duration(d, sizeof d, (double)(p->total_bytes - p->done_bytes) / rate);
        snprintf(eta, sizeof eta, "ETA %-5s", d);
    } else {
        snprintf(eta, sizeof eta, "ETA --:--");
    }

    /* Give way, in this order: the bar shrinks, the bar goes, then the rate, the ETA (or
     * "stalled") and the sizes; the name takes what is left. Within a tree, names come and go: plan
     * for a name of 16 columns, so that the layout does not jump from one file to the next. */
    plan_cols = files ? 16 : MIN(name_cols, 16);
    for (;;) {
        int fixed = (int)strlen(pct) + (files ? 2 + (int)strlen(count) : 0) +
                    (with_sizes ? 2 + (int)strlen(sizes) : 0) +
                    (with_rate ? 2 + (int)strlen(rate_text) : 0) +
                    (with_eta ? 2 + (int)strlen(eta) : 0);
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
        g_string_append_printf(line, "  %s", rate_text);
    if (with_eta)
        g_string_append_printf(line, "  %s", eta);
    g_string_append(line, "\033[K");
    fputs(line->str, stderr);
    fflush(stderr);
    x->drawn = TRUE;
}

/* A sample of the bytes moved, and a frame; with x->lock held. */
static void
tick(Transfer *x)
{
    gint64 now = g_get_monotonic_time();
    guint64 moved = x->last.done_bytes - MIN(x->last.done_bytes, x->skipped);
    Sample *s;

    while (x->n_samples > 0 && now - x->samples[x->first_sample].at > RATE_WINDOW) {
        x->first_sample = (x->first_sample + 1) % MAX_SAMPLES;
        x->n_samples--;
    }
    if (x->n_samples == MAX_SAMPLES) { /* only when ticks come late: keep the newest */
        x->first_sample = (x->first_sample + 1) % MAX_SAMPLES;
        x->n_samples--;
    }
    s = &x->samples[(x->first_sample + x->n_samples++) % MAX_SAMPLES];
    s->at = now;
    s->moved = moved;
    if (!porch_cli_interrupted)
        draw(x, now);
}

/* Every TICK, whether reports come or not (a stalled neighbour sends none worth drawing). */
static gpointer
ticker_main(gpointer data)
{
    Transfer *x = data;

    g_mutex_lock(&x->lock);
    while (!x->stop) {
        /* FALSE once TICK passed; TRUE when woken (to stop) */
        gint64 until = g_get_monotonic_time() + TICK;
        while (!x->stop && g_cond_wait_until(&x->wake, &x->lock, until))
            ;
        if (!x->stop)
            tick(x);
    }
    g_mutex_unlock(&x->lock);
    return NULL;
}

/* Draws the first frame, before anything was reported ("listing…", "starting…"), and starts
 * the progress thread, which takes no signal: Ctrl-C stays the main thread's. */
static void
ticker_start(Transfer *x)
{
    sigset_t all, old;

    tick(x); /* no other thread yet */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    x->ticker = g_thread_new("progress", ticker_main, x);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
ticker_stop(Transfer *x)
{
    if (x->ticker == NULL)
        return;
    g_mutex_lock(&x->lock);
    x->stop = TRUE;
    g_cond_signal(&x->wake);
    g_mutex_unlock(&x->lock);
    g_thread_join(g_steal_pointer(&x->ticker));
}

static void
on_progress(const PorchProgress *p, gpointer data)
{
    Transfer *x = data;

    check_interrupt(x);
    g_mutex_lock(&x->lock);
    x->started = TRUE;
    x->last = *p;
    if (p->current != NULL && (x->current == NULL || strcmp(p->current, x->current) != 0)) {
        g_free(x->current);
        x->current = g_strdup(p->current); /* the library's is valid during the call only */
    }
    x->last.current = x->current;
    /* The bytes of a .part resumed, or of a file found already here, come with a notice and
     * count as done at once: they are left out of the rate. */
    if (x->rebase && p->done_bytes >= x->last_bytes) {
        x->skipped += p->done_bytes - x->last_bytes;
        x->rebase = FALSE;
    } else if (p->done_bytes > x->last_bytes) {
        x->last_moved = g_get_monotonic_time();
    }
    x->last_bytes = p->done_bytes;
    g_mutex_unlock(&x->lock);
}

/* --json: an entry of "files" */
static void
add_result(Transfer *x, const char *path, const char *source, guint64 bytes, const char *sha256,
           const char *error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *valid_path = g_utf8_make_valid(path, -1);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, valid_path);
    if (source != NULL) {
        g_autofree char *valid = g_utf8_make_valid(source, -1);
        json_builder_set_member_name(b, "source");
        json_builder_add_string_value(b, valid);
    }
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, error == NULL ? "ok" : "failed");
    if (error == NULL) {
        json_builder_set_member_name(b, "bytes");
        json_builder_add_int_value(b, (gint64)MIN(bytes, (guint64)G_MAXINT64));
        json_builder_set_member_name(b, "sha256");
        if (sha256 != NULL)
            json_builder_add_string_value(b, sha256);
        else
            json_builder_add_null_value(b);
    } else {
        g_autofree char *valid = g_utf8_make_valid(error, -1);
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, valid);
    }
    json_builder_end_object(b);
    g_ptr_array_add(x->results, json_builder_get_root(b));
}

/* The SHA-256 (hex) of the local file @path, NULL when it cannot be read. */
static char *
sha256_of_file(const char *path)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(1 << 20);
    FILE *f = fopen(path, "rbe");
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(buf, 1, 1 << 20, f)) > 0)
        g_checksum_update(sum, buf, n);
    if (ferror(f)) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    return g_strdup(g_checksum_get_string(sum));
}

static void
on_done(const char *remote, const char *local, guint64 size, gpointer data)
{
    Transfer *x = data;
    g_autofree char *there = NULL;
    g_autofree char *here = NULL;
    g_autofree char *sha = NULL;

    check_interrupt(x);
    if (x->results == NULL)
        return;
    /* the file as it is here now: what arrived (get), or what was sent and verified (put) */
    sha = sha256_of_file(local);
    there = describe_path(x, remote);
    here = describe_path(x, local);
    if (x->upload)
        add_result(x, there, here, size, sha, NULL);
    else
        add_result(x, here, there, size, sha, NULL);
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
    what = describe_path(x, path);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS) &&
        strstr(error->message, "--force") == NULL)
        message = g_strconcat(error->message, " (use --force to replace it)", NULL);
    if (x->results != NULL)
        add_result(x, what, NULL, 0, NULL, message != NULL ? message : error->message);
    g_mutex_lock(&x->lock);
    clear_line(x);
    porch_cli_error(what, message != NULL ? message : error->message);
    g_mutex_unlock(&x->lock);
}

static void
on_notice(const char *path, const char *message, gpointer data)
{
    Transfer *x = data;
    g_autofree char *what = NULL;

    check_interrupt(x);
    g_mutex_lock(&x->lock);
    x->rebase = TRUE;
    if (!x->quiet) {
        clear_line(x);
        what = describe_path(x, path);
        porch_cli_error(what, message);
    }
    g_mutex_unlock(&x->lock);
}

/* "took": "3.2 s", "1:02:03" */
static void
format_took(char *buf, size_t len, double elapsed)
{
    if (elapsed < 60)
        snprintf(buf, len, "%.1f s", elapsed);
    else
        format_duration(buf, len, elapsed);
}

/* After a transfer that worked: "1.0 GiB in 3.2 s, 320.0 MiB/s", with "120 files, " first for
 * a tree. */
static void
print_summary(const Transfer *x)
{
    double elapsed = (double)(g_get_monotonic_time() - x->start) / G_USEC_PER_SEC;
    char size[16], rate[24], took[24];

    porch_cli_format_size(size, sizeof size, (double)x->last.done_bytes);
    format_took(took, sizeof took, elapsed);
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

/* After a transfer that failed, what did not arrive and what did: "porch: 2 of 5 files
 * failed; 3 arrived (1.2 MiB of 9.0 MiB)", or for one file "porch: x.bin not fetched (1.2 MiB
 * of 4.0 MiB had arrived)". @all: the whole transfer failed (its error was told). */
static void
print_failure_summary(const Transfer *x, gboolean all)
{
    const PorchProgress *p = &x->last;
    char done[16], total[16];

    porch_cli_format_size(done, sizeof done, (double)p->done_bytes);
    porch_cli_format_size(total, sizeof total, (double)p->total_bytes);
    if (x->tree && (p->total_files > 1 || x->failed > 1)) {
        guint failed = MAX(p->failed_files, x->failed);
        if (all)
            fprintf(stderr, "porch: stopped: %u of %u%s files arrived", p->done_files,
                    p->total_files, p->listing_done ? "" : "+");
        else
            fprintf(stderr, "porch: %u of %u files failed; %u arrived", failed,
                    MAX(p->total_files, failed), p->done_files);
        fprintf(stderr, " (%s of %s%s)\n", done, total, p->listing_done || all ? "" : "+");
    } else {
        g_autofree char *name = x->current != NULL ? progress_name(x, p) : first_name(x);
        fprintf(stderr, "porch: %s not %s (%s of %s had %s)\n", name,
                x->upload ? "uploaded" : "fetched", done, total,
                x->upload ? "been sent" : "arrived");
    }
}

/* --json: {"status", "files": [{"path", "source", "status", "bytes", "sha256"} or {"path",
 * "status": "failed", "error"}], "totals": {"files", "failed", "bytes", "seconds"}, "error"}
 * on stdout, on one line. */
static gboolean
print_json_result(const Transfer *x, const char *status, const GError *error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;
    double elapsed = (double)(g_get_monotonic_time() - x->start) / G_USEC_PER_SEC;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, status);
    json_builder_set_member_name(b, "files");
    json_builder_begin_array(b);
    for (guint i = 0; i < x->results->len; i++)
        json_builder_add_value(b, json_node_copy(g_ptr_array_index(x->results, i)));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "totals");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "files");
    json_builder_add_int_value(b, x->last.done_files);
    json_builder_set_member_name(b, "failed");
    json_builder_add_int_value(b, MAX(x->last.failed_files, x->failed));
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, (gint64)MIN(x->last.done_bytes, (guint64)G_MAXINT64));
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, elapsed);
    json_builder_end_object(b);
    if (error != NULL) {
        g_autofree char *valid = g_utf8_make_valid(error->message, -1);
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, valid);
    }
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, NULL);
    fputs(text, stdout);
    fputc('\n', stdout);
    return fflush(stdout) == 0;
}

/* ------------------------------------------------------------------------------------------
 * get and put */

int
porch_cli_reach(PorchCliTarget *target, const PorchCliCommon *common, gboolean quiet,
                PorchClient **ret_client, char **ret_key_fingerprint)
{
    PorchCliConnectOptions o = {
            .identity_file = common->identity,
            .quiet = quiet,
            .connect_timeout_seconds = common->connect_timeout,
            .say_connecting = !quiet,
    };
    int status = porch_cli_target_resolve(target, common->timeout);
    g_autofree char *share = NULL;

    if (status != PORCH_CLI_EXIT_OK)
        return status;
    status = porch_cli_connect_full(target, &o, ret_client, ret_key_fingerprint, NULL);
    if (status != PORCH_CLI_EXIT_OK)
        return status;
    /* a mistyped share: name the ones there are, before anything else happens (a pattern
     * in its place is matched against them instead) */
    share = porch_cli_target_share(target);
    if (share != NULL && porch_cli_has_glob(share))
        return status;
    status = porch_cli_check_share(target, *ret_client);
    if (status != PORCH_CLI_EXIT_OK) {
        porch_cli_hint_guest(target, *ret_client, *ret_key_fingerprint);
        g_clear_pointer(ret_client, porch_client_free);
    }
    return status;
}

/* Whether progress frames are drawn although stderr is not a terminal: PORCH_PROGRESS=always
 * (porch(1), ENVIRONMENT), for scripts and tests that read them from a pipe. */
static gboolean
progress_forced(void)
{
    return g_strcmp0(g_getenv("PORCH_PROGRESS"), "always") == 0;
}

int
porch_cli_transfer(PorchClient *client, const char *key_fp, gboolean upload,
                   const PorchCliTarget *target, const char *local, gboolean local_default,
                   PorchTransferFlags flags, gboolean json, const PorchCliCommon *common)
{
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) results = NULL;
    PorchTransferCallbacks callbacks = {on_progress, on_failed, on_notice, on_done, NULL};
    Transfer x = {0};
    struct sigaction old;
    gboolean ok, interrupted, files_failed;
    int status;

    if (json)
        results = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    x.target = target;
    x.local = local;
    x.local_default = local_default;
    x.upload = upload;
    x.tree = (flags & PORCH_TRANSFER_RECURSIVE) != 0;
    x.quiet = common->quiet;
    x.bar = !common->quiet && !json && (isatty(STDERR_FILENO) || progress_forced());
    x.results = results;
    x.cancellable = cancellable;
    x.start = x.last_moved = g_get_monotonic_time();
    g_mutex_init(&x.lock);
    g_cond_init(&x.wake);
    callbacks.user_data = &x;

    porch_cli_catch_sigint(&old, TRUE);
    if (x.bar)
        ticker_start(&x);
    if (upload)
        ok = porch_transfer_put(client, local, target->path, flags, &callbacks, cancellable,
                                &error);
    else
        ok = porch_transfer_get(client, target->path, local, flags, &callbacks, cancellable,
                                &error);
    ticker_stop(&x);
    porch_cli_restore_sigint(&old);
    clear_line(&x);
    g_cond_clear(&x.wake);
    g_mutex_clear(&x.lock);

    interrupted = porch_cli_interrupted || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    files_failed = g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_FILES_FAILED);
    if (interrupted) {
        /* put: what was not complete never replaced anything on the neighbour; a get
         * without resuming (--no-resume, or to standard output) has nothing to continue */
        if (upload || !(flags & PORCH_TRANSFER_RESUME))
            fputs("porch: interrupted\n", stderr);
        else
            fputs("porch: interrupted; run the same command again to continue from the .part "
                  "files\n",
                  stderr);
        status = PORCH_CLI_EXIT_INTERRUPTED;
    } else if (ok) {
        if (x.bar)
            print_summary(&x);
        status = PORCH_CLI_EXIT_OK;
    } else {
        if (!files_failed) {
            /* the whole transfer failed: the connection, typically */
            g_autofree char *what = porch_cli_target_format(target, target->path);
            porch_cli_error(what, error->message);
        }
        /* never a summary that reads like success: what failed, and what arrived */
        if (x.bar || (x.tree && (x.last.total_files > 1 || x.failed > 1)))
            print_failure_summary(&x, !files_failed);
        status = PORCH_CLI_EXIT_FAILED;
    }
    if (!interrupted && x.denied)
        porch_cli_hint_guest(target, client, key_fp);
    if (json &&
        !print_json_result(&x,
                           interrupted ? "interrupted"
                           : ok        ? "ok"
                                       : "failed",
                           ok || files_failed ? NULL : error) &&
        status == PORCH_CLI_EXIT_OK)
        status = PORCH_CLI_EXIT_FAILED;
    g_free(x.current);
    return status;
}

int
porch_cli_get(int argc, char **argv)
{
    gboolean recursive = FALSE, resume = FALSE, no_resume = FALSE, force = FALSE, json = FALSE;
    int sources = PORCH_CLI_DEFAULT_SOURCES;
    g_autofree char *sha256 = NULL;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
             "Fetch a folder and everything in it", NULL},
            {"sources", 0, 0, G_OPTION_ARG_INT, &sources,
             "Use up to N holders of a large file (default 4)", "N"},
            {"sha256", 0, 0, G_OPTION_ARG_STRING, &sha256,
             "Fetch the file with this SHA-256 from any holder", "HEX"},
            {"resume", 0, 0, G_OPTION_ARG_NONE, &resume,
             "Continue matching NAME.part files (the default)", NULL},
            {"no-resume", 0, 0, G_OPTION_ARG_NONE, &no_resume,
             "Fetch whole; keep a NAME.part as NAME.part.N", NULL},
            {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace files that exist already", NULL},
            {"json", 0, 0, G_OPTION_ARG_NONE, &json,
             "Print files, bytes, sha256 as JSON; no progress", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST/SHARE/PATH... [DEST]");
    PorchTransferFlags flags = 0;

    porch_cli_set_summary(ctx, "Fetch a file (or with -r a folder) from a neighbour into "
                               "DEST (default: the current folder; a folder when there are "
                               "several), each file verified with the SHA-256 the neighbour "
                               "computes. PATH may hold globs (*, ?, [...]: quote them); "
                               "DEST - writes one file to standard output.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE,
                                 "No progress, notices or summary: only errors");
    if (!porch_cli_parse_options(ctx, "get", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (sources < 1 || sources > 16) {
        porch_cli_usage_error("get", "--sources takes a number from 1 to 16");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (sha256 != NULL) {
        if (argc > 2 || recursive || json) {
            porch_cli_usage_error("get", "--sha256 takes at most a DEST, without -r or --json");
            return PORCH_CLI_EXIT_USAGE;
        }
        return porch_cli_get_by_hash(sha256, argc == 2 ? argv[1] : NULL, (guint)sources, &common);
    }
    if (argc < 2) {
        porch_cli_usage_error("get", "what to fetch? HOST/SHARE/PATH");
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
    /* porch get SOURCE [DEST], porch get SOURCE... DEST */
    if (argc == 2)
        return porch_cli_get_many(1, argv + 1, NULL, flags, json, (guint)sources, &common);
    return porch_cli_get_many(argc - 2, argv + 1, argv[argc - 1], flags, json, (guint)sources,
                              &common);
}

int
porch_cli_put(int argc, char **argv)
{
    gboolean recursive = FALSE, force = FALSE, parents = FALSE, json = FALSE;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive,
             "Upload a folder and everything in it", NULL},
            {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace files that exist already", NULL},
            {"parents", 'p', 0, G_OPTION_ARG_NONE, &parents,
             "Make the missing folders of PATH (mkdir -p)", NULL},
            {"json", 0, 0, G_OPTION_ARG_NONE, &json,
             "Print files, bytes, sha256 as JSON; no progress", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("SOURCE... HOST/SHARE/PATH");
    PorchTransferFlags flags = 0;

    porch_cli_set_summary(ctx, "Upload a file (or with -r a folder) to a neighbour's "
                               "share: into PATH when it is a folder (it must be one for "
                               "several SOURCEs, or when it ends in /), else as PATH. "
                               "SOURCE - uploads standard input as PATH. Nothing lands "
                               "under its final name before the neighbour confirmed its "
                               "SHA-256.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE,
                                 "No progress, notices or summary: only errors");
    if (!porch_cli_parse_options(ctx, "put", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc < 3) {
        porch_cli_usage_error("put", "put needs SOURCE and HOST/SHARE/PATH");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (recursive)
        flags |= PORCH_TRANSFER_RECURSIVE;
    if (force)
        flags |= PORCH_TRANSFER_FORCE;
    return porch_cli_put_many(argc - 2, argv + 1, argv[argc - 1], flags, parents, json, &common);
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
    status = porch_cli_reach(target, &common, FALSE, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK)
        return status;

    if (porch_cli_has_glob(target->path)) {
        files = porch_cli_glob(client, target->path, TRUE, &error);
    } else if (strcmp(target->path, "/") != 0) {
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
