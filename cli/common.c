/* common.c — what the commands that reach a neighbour share (cli/transfer.c, cli/print.c):
 * their common options, usage errors, Ctrl-C, sizes for people and terminal-safe text. */
#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-text.h"

#define DEFAULT_TIMEOUT_S         3.0
#define MAX_TIMEOUT_S             3600.0
#define DEFAULT_CONNECT_TIMEOUT_S 10
#define MAX_CONNECT_TIMEOUT_S     3600

volatile sig_atomic_t porch_cli_interrupted;

void
porch_cli_common_clear(PorchCliCommon *common)
{
    g_clear_pointer(&common->identity, g_free);
}

void
porch_cli_add_common_entries(GOptionContext *ctx, PorchCliCommon *common, gboolean with_identity,
                             const char *quiet_help)
{
    GOptionEntry entries[5] = {0};
    guint n = 0;

    if (with_identity)
        entries[n++] = (GOptionEntry){"identity",
                                      'i',
                                      0,
                                      G_OPTION_ARG_FILENAME,
                                      &common->identity,
                                      "Log in with the private key in FILE",
                                      "FILE"};
    entries[n++] = (GOptionEntry){"timeout",
                                  't',
                                  0,
                                  G_OPTION_ARG_DOUBLE,
                                  &common->timeout,
                                  "Look for HOST for up to SECONDS (default 3)",
                                  "SECONDS"};
    entries[n++] = (GOptionEntry){"connect-timeout",
                                  0,
                                  0,
                                  G_OPTION_ARG_INT,
                                  &common->connect_timeout,
                                  "Give up connecting after SECONDS (default 10)",
                                  "SECONDS"};
    if (quiet_help != NULL)
        entries[n++] = (GOptionEntry){"quiet",        'q',        0,   G_OPTION_ARG_NONE,
                                      &common->quiet, quiet_help, NULL};
    g_option_context_add_main_entries(ctx, entries, NULL);
}

void
porch_cli_set_summary(GOptionContext *ctx, const char *text)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    glong column = 0;

    /* GOption prints a summary as it is: broken into lines here, between words, so that
     * every --help fits a terminal of PORCH_CLI_HELP_COLUMNS */
    for (guint i = 0; words[i] != NULL; i++) {
        glong width = g_utf8_strlen(words[i], -1);

        if (words[i][0] == '\0')
            continue;
        if (column > 0 && column + 1 + width > PORCH_CLI_HELP_COLUMNS) {
            g_string_append_c(out, '\n');
            column = 0;
        } else if (column > 0) {
            g_string_append_c(out, ' ');
            column++;
        }
        g_string_append(out, words[i]);
        column += width;
    }
    g_option_context_set_summary(ctx, out->str);
}

void
porch_cli_usage_error(const char *command, const char *message)
{
    fprintf(stderr, "porch %s: ", command);
    porch_cli_put_text(stderr, message);
    fprintf(stderr, " (see porch %s --help)\n", command);
}

gboolean
porch_cli_parse_options(GOptionContext *ctx, const char *command, int *argc, char ***argv,
                        PorchCliCommon *common)
{
    g_autoptr(GError) error = NULL;

    common->timeout = -1;
    common->connect_timeout = G_MININT; /* not given */
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        porch_cli_usage_error(command, error->message);
        return FALSE;
    }
    if (common->timeout == -1) {
        common->timeout = DEFAULT_TIMEOUT_S;
    } else if (!(common->timeout > 0 && common->timeout <= MAX_TIMEOUT_S)) {
        porch_cli_usage_error(command, "--timeout takes a number of seconds above 0");
        return FALSE;
    }
    if (common->connect_timeout == G_MININT) {
        common->connect_timeout = DEFAULT_CONNECT_TIMEOUT_S;
    } else if (common->connect_timeout < 1 || common->connect_timeout > MAX_CONNECT_TIMEOUT_S) {
        porch_cli_usage_error(command, "--connect-timeout takes a whole number of seconds from 1 "
                                       "to 3600");
        return FALSE;
    }
    /* Before looking for HOST: a mistyped key name must neither become a new key nor log in
     * as guest (porch_cli_connect_full() makes sure again). */
    if (common->identity != NULL && !g_file_test(common->identity, G_FILE_TEST_EXISTS)) {
        porch_cli_no_key_file(command, common->identity);
        return FALSE;
    }
    /* "--" ends the options; GOption leaves it in place */
    for (int i = 1; i < *argc; i++) {
        if (strcmp((*argv)[i], "--") == 0) {
            memmove(&(*argv)[i], &(*argv)[i + 1], sizeof(char *) * (size_t)(*argc - i));
            (*argc)--;
            break;
        }
    }
    return TRUE;
}

static void
on_sigint(int sig)
{
    (void)sig;
    porch_cli_interrupted = 1;
}

void
porch_cli_catch_sigint(struct sigaction *ret_old, gboolean restart)
{
    struct sigaction sa = {0};

    porch_cli_interrupted = 0;
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND | (restart ? SA_RESTART : 0);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, ret_old);
}

void
porch_cli_restore_sigint(const struct sigaction *old)
{
    sigaction(SIGINT, old, NULL);
}

void
porch_cli_format_size(char *buf, size_t len, double bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = -1;

    if (bytes < 1024) {
        snprintf(buf, len, "%.0f B", bytes);
        return;
    }
    while (bytes >= 1024 && u < (int)G_N_ELEMENTS(units) - 1) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

char *
porch_cli_safe_text(const char *s)
{
    return porch_text_show(s, -1, G_MAXSIZE, PORCH_TEXT_TERMINAL);
}

void
porch_cli_put_json_lines(GPtrArray *nodes)
{
    g_autoptr(GString) out = g_string_new("[");
    g_autoptr(JsonGenerator) gen = json_generator_new();

    for (guint i = 0; i < nodes->len; i++) {
        g_autofree char *text = NULL;

        json_generator_set_root(gen, g_ptr_array_index(nodes, i));
        text = json_generator_to_data(gen, NULL);
        g_string_append(out, i > 0 ? ",\n" : "\n");
        g_string_append(out, text);
    }
    g_string_append(out, nodes->len > 0 ? "\n]\n" : "]\n");
    fputs(out->str, stdout);
}
