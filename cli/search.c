/* search.c — `porch search PATTERN [--json]`: the files of every neighbour this user may read
 * whose name matches, from each neighbour's content index ("search", porch-print-protocol.h).
 *
 * The neighbours are those seen over mDNS in --timeout seconds and those remembered by
 * address. Each is asked in a thread of its own, all at once (porch-search.h), so that a slow
 * or silent one holds up no other; answers are printed as they arrive, each with the
 * neighbour's name.
 * Only neighbours whose key is pinned already are asked: a search never trusts a key on
 * first use without the question `porch ls` asks. */
#include <string.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "porch-browse.h"
#include "porch-cli.h"
#include "porch-identity.h"
#include "porch-neighbour-client.h"
#include "porch-neighbours.h"
#include "porch-print-client.h"
#include "porch-print-protocol.h"
#include "porch-search.h"

/* how long one neighbour may take to answer */
#define DEFAULT_ANSWER_S 10

typedef struct {
    GMainLoop *loop;
    gboolean json;
    char *identity; /* NULL: this user's key */
    int connect_timeout;
    gboolean over;  /* every neighbour answered */
    guint asked;    /* neighbours that answered (with or without matches) */
    guint found;    /* files printed */
    guint problems; /* neighbours that could not be asked */
} Search;

/* The search is shared by porch_cli_search() and the threads that ask (porch-search.h). */
static void
search_clear(Search *s)
{
    g_free(s->identity);
}

static void
search_release(Search *s)
{
    g_atomic_rc_box_release_full(s, (GDestroyNotify)search_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Search, search_release)

static void
print_match(Search *s, const char *host, const PorchSearchMatch *m)
{
    if (s->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "host");
        json_builder_add_string_value(b, host);
        json_builder_set_member_name(b, "share");
        json_builder_add_string_value(b, m->share);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, m->path);
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, (gint64)m->size);
        json_builder_set_member_name(b, "sha256");
        json_builder_add_string_value(b, m->sha256);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        puts(text);
    } else {
        char size[32];
        g_autofree char *line = g_strdup_printf("%s/%s/%s", host, m->share, m->path);

        porch_cli_format_size(size, sizeof size, (double)m->size);
        porch_cli_put_text(stdout, line);
        printf("  %s\n", size);
    }
    fflush(stdout);
}

/* In the main thread: one neighbour's answer. */
static void
on_answer(const PorchNeighbour *n, GPtrArray *matches, const GError *error, gpointer data)
{
    Search *s = data;
    const char *host = porch_neighbour_get_name(n);

    if (matches == NULL) {
        g_autofree char *line =
                g_strdup_printf("%s: %s", host,
                                g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_USAGE)
                                        ? "its porchd is too old to search"
                                        : error->message);
        porch_cli_error("search", line);
        s->problems++;
    } else {
        s->asked++;
        for (guint i = 0; i < matches->len; i++, s->found++)
            print_match(s, host, g_ptr_array_index(matches, i));
    }
}

static void
on_done(gpointer data)
{
    Search *s = data;

    s->over = TRUE;
    g_main_loop_quit(s->loop);
}

/* In a thread of the search: connects (pinned keys only). */
static PorchClient *
connect_pinned(const PorchNeighbour *n, gboolean for_print, gpointer data,
               GCancellable *cancellable, GError **error)
{
    Search *s = data;
    g_autoptr(PorchCliTarget) target = porch_cli_target_from_neighbour(n);
    GError *e = NULL;
    PorchClient *client = porch_cli_connect_pinned(target, s->identity, for_print, DEFAULT_ANSWER_S,
                                                   s->connect_timeout, &e);

    (void)cancellable;
    if (client == NULL && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) {
        g_clear_error(&e);
        g_set_error_literal(&e, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "not asked: its key is not pinned yet (porch ls HOST asks to "
                            "trust it)");
    }
    if (e != NULL)
        g_propagate_error(error, e);
    return client;
}

static gboolean
on_quit(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_CONTINUE;
}

int
porch_cli_search(int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
            {"json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per file found, a line each",
             NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("PATTERN");
    g_auto(PorchCliCommon) common = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchBrowser) browser = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GPtrArray) remembered = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autoptr(Search) s = NULL;
    PorchSearchCallbacks callbacks = {connect_pinned, on_answer, on_done, NULL,
                                      (GDestroyNotify)search_release};
    guint timer, sigint;
    const char *pattern;

    porch_cli_set_summary(ctx, "Find files by name in what every neighbour shares with you, "
                               "from each neighbour's content index: those seen on the network "
                               "within --timeout and those remembered by address, whose keys "
                               "are pinned. PATTERN is part of a name, or a glob with * and ?; "
                               "case does not matter.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, NULL);
    if (!porch_cli_parse_options(ctx, "search", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc != 2) {
        porch_cli_usage_error("search", argc < 2 ? "give a PATTERN" : "give one PATTERN");
        return PORCH_CLI_EXIT_USAGE;
    }
    pattern = argv[1];
    if (pattern[0] == '\0' || strlen(pattern) > PORCH_SEARCH_MAX_PATTERN ||
        !g_utf8_validate(pattern, -1, NULL)) {
        g_autofree char *msg =
                g_strdup_printf("PATTERN is 1 to %d bytes of UTF-8", PORCH_SEARCH_MAX_PATTERN);
        porch_cli_usage_error("search", msg);
        return PORCH_CLI_EXIT_USAGE;
    }

    loop = g_main_loop_new(NULL, FALSE);
    browser = porch_browser_new();
    if (!porch_browser_start(browser, &error)) {
        /* remembered neighbours can still be asked */
        porch_cli_error("search", error->message);
        g_clear_error(&error);
    } else {
        timer = g_timeout_add((guint)(common.timeout * 1000), on_quit, loop);
        sigint = g_unix_signal_add(SIGINT, on_quit, loop);
        g_main_loop_run(loop);
        g_source_remove(timer);
        g_source_remove(sigint);
    }
    all = porch_browser_get_neighbours(browser);
    remembered = porch_neighbours_load(NULL, &error);
    if (remembered == NULL) {
        porch_cli_error("search: remembered neighbours", error->message);
        g_clear_error(&error);
    }
    porch_search_add_remembered(all, remembered);

    s = g_atomic_rc_box_new0(Search);
    s->loop = loop;
    s->json = json;
    s->identity = g_strdup(common.identity);
    s->connect_timeout = common.connect_timeout;
    callbacks.data = g_atomic_rc_box_acquire(s);
    if (porch_search_start(all, pattern, NULL, &callbacks, cancellable) == 0) {
        porch_cli_error("search", "no neighbours found to ask");
        return PORCH_CLI_EXIT_UNREACHABLE;
    }
    sigint = g_unix_signal_add(SIGINT, on_quit, loop);
    g_main_loop_run(loop);
    g_source_remove(sigint);
    if (!s->over) { /* interrupted: the threads are left to the process's end */
        g_cancellable_cancel(cancellable);
        return PORCH_CLI_EXIT_INTERRUPTED;
    }
    if (!json && s->found == 0 && s->asked > 0)
        fprintf(stderr, "porch search: nothing found on %u neighbour%s\n", s->asked,
                s->asked == 1 ? "" : "s");
    if (s->asked == 0)
        return PORCH_CLI_EXIT_UNREACHABLE;
    return s->found > 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}
