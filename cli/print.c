/* print.c — `porch print`, `porch jobs`, `porch cancel` and `porch printer add`.
 *
 *   porch print  [--copies N] [--title TITLE] [--quiet] [--identity FILE] [--timeout SECONDS]
 *                HOST/PRINTER FILE
 *   porch jobs   [--json] [--identity FILE] [--timeout SECONDS] HOST[/PRINTER]
 *   porch cancel [--quiet] [--identity FILE] [--timeout SECONDS] HOST/PRINTER JOB-ID
 *   porch printer add [--name QUEUE] [--timeout SECONDS] HOST/PRINTER
 *
 * The first three find the neighbour and connect (cli/target.c) for one command of
 * shared/porch-print-client.h. Their failures are one line on stderr, "porch: HOST/PRINTER:
 * message", where the message is porchd's (or CUPS's) own; the exit status says what kind of
 * failure it was (PORCH_CLI_EXIT_*): a refusal or a failure of the printer is 1, like a file
 * that failed.
 *
 * `printer add` makes the neighbour's printer a queue of this machine's CUPS, served by the
 * porch backend (cli/backend.c), with lpadmin: it looks HOST up only to check that it exists,
 * and puts it in the device URI as it was typed, so that the queue follows the neighbour when
 * its address changes.
 *
 * Ctrl-C while a document is being sent drops the connection without ending the document:
 * porchd cancels the job and nothing prints; porch exits 130.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "porch-cli.h"
#include "porch-config.h"
#include "porch-print-client.h"
#include "porch-printer-add.h"
#include "porch-state.h"
#include "porch-text.h"

#define REDRAW_INTERVAL (100 * G_TIME_SPAN_MILLISECOND)

/* ------------------------------------------------------------------------------------------
 * Options and arguments */

/* HOST/PRINTER (@printer_required) or HOST[/PRINTER]: the target, and the printer's name in
 * @ret_printer (NULL for HOST alone). NULL having told the usage error. */
static PorchCliTarget *
parse_printer_target(const char *command, const char *arg, gboolean printer_required,
                     char **ret_printer)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchCliTarget) target = porch_cli_target_parse(arg, &error);
    g_autofree char *printer = NULL;

    if (target == NULL) {
        porch_cli_usage_error(command, error->message);
        return NULL;
    }
    printer = porch_cli_target_share(target);
    if (printer == NULL && printer_required) {
        g_autofree char *m = g_strdup_printf("'%s' names no printer (HOST/PRINTER)", arg);
        porch_cli_usage_error(command, m);
        return NULL;
    }
    if (printer != NULL && strlen(target->path) != strlen(printer) + 1) {
        g_autofree char *m = g_strdup_printf("'%s': a printer is HOST/PRINTER, with no more "
                                             "'/'",
                                             arg);
        porch_cli_usage_error(command, m);
        return NULL;
    }
    *ret_printer = g_steal_pointer(&printer);
    return g_steal_pointer(&target);
}

/* Finds and connects to the target for one print command. */
static int
reach(PorchCliTarget *target, const PorchCliCommon *common, PorchClient **ret_client,
      char **ret_key_fingerprint)
{
    PorchCliConnectOptions o = {
            .identity_file = common->identity,
            .quiet = common->quiet,
            .for_print = TRUE,
            .connect_timeout_seconds = common->connect_timeout,
            .say_connecting = !common->quiet,
    };
    int status = porch_cli_target_resolve(target, common->timeout);

    if (status != PORCH_CLI_EXIT_OK)
        return status;
    return porch_cli_connect_full(target, &o, ret_client, ret_key_fingerprint, NULL);
}

/* Tells a failed command's @error about @what ("HOST/PRINTER"); returns the exit status. */
static int
command_failed(const PorchCliTarget *target, const char *what, PorchClient *client,
               const char *key_fp, const GError *error)
{
    porch_cli_error(what, error->message);
    /* porchd's "no such printer: NAME" (NO_SUCH is also cancel's "no job N of yours") */
    if (g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_NO_SUCH) &&
        g_str_has_prefix(error->message, "no such printer"))
        porch_cli_hint_printers(target);
    if (g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_NOT_ALLOWED) ||
        g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_NO_SUCH))
        porch_cli_hint_guest(target, client, key_fp);
    return PORCH_CLI_EXIT_FAILED;
}

/* ------------------------------------------------------------------------------------------
 * porch print */

typedef struct {
    GCancellable *cancellable;
    gboolean bar; /* draw the progress line */
    gboolean drawn;
    gint64 last_draw;
    guint64 sent, total;
    char *name; /* what is shown on the line, made safe */
} Sending;

static void
clear_line(Sending *s)
{
    if (!s->drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    s->drawn = FALSE;
}

static void
on_print_progress(guint64 sent, guint64 total, gpointer data)
{
    Sending *s = data;
    gint64 now = g_get_monotonic_time();
    char done[16], all[16];

    s->sent = sent;
    s->total = total;
    if (porch_cli_interrupted && !g_cancellable_is_cancelled(s->cancellable))
        g_cancellable_cancel(s->cancellable);
    if (!s->bar || porch_cli_interrupted || now - s->last_draw < REDRAW_INTERVAL)
        return;
    s->last_draw = now;
    porch_cli_format_size(done, sizeof done, (double)sent);
    if (total > 0) {
        porch_cli_format_size(all, sizeof all, (double)total);
        fprintf(stderr, "\rsending %s  %3u%%  %s / %s\033[K", s->name,
                (unsigned)MIN(100, sent * 100 / total), done, all);
    } else {
        fprintf(stderr, "\rsending %s  %s\033[K", s->name, done);
    }
    fflush(stderr);
    s->drawn = TRUE;
}

int
porch_cli_print(int argc, char **argv)
{
    int copies = 1;
    char *title_opt = NULL;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"copies", 'n', 0, G_OPTION_ARG_INT, &copies,
             "Print N copies (default 1, at most " G_STRINGIFY(PORCH_PRINT_MAX_COPIES) ")", "N"},
            {"title", 'T', 0, G_OPTION_ARG_STRING, &title_opt,
             "The job's title (default: FILE's name)", "TITLE"},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST/PRINTER FILE");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    g_autofree char *title = NULL;
    g_autofree char *printer = NULL;
    g_autofree char *what = NULL;
    g_autofree char *key_fp = NULL;
    const char *file;
    Sending s = {0};
    struct sigaction old;
    struct stat st;
    int fd, status, job_id = 0;
    gboolean ok;

    porch_cli_set_summary(ctx, "Print FILE (\"-\": standard input) on a neighbour's "
                               "printer. Prints \"job ID on HOST/PRINTER\" when the "
                               "neighbour's CUPS took it.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, "No progress or notices: only errors");
    if (!porch_cli_parse_options(ctx, "print", &argc, &argv, &common)) {
        g_free(title_opt);
        return PORCH_CLI_EXIT_USAGE;
    }
    title = title_opt;
    if (argc != 3) {
        porch_cli_usage_error("print", argc < 3 ? "print needs HOST/PRINTER and FILE"
                                                : "too many arguments");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (copies < 1 || copies > PORCH_PRINT_MAX_COPIES) {
        porch_cli_usage_error(
                "print", "--copies takes a number from 1 to " G_STRINGIFY(PORCH_PRINT_MAX_COPIES));
        return PORCH_CLI_EXIT_USAGE;
    }
    target = parse_printer_target("print", argv[1], TRUE, &printer);
    if (target == NULL)
        return PORCH_CLI_EXIT_USAGE;
    what = porch_cli_target_format(target, target->path);
    file = argv[2];

    /* the document first: nothing to connect for when it cannot be read */
    if (strcmp(file, "-") == 0) {
        fd = STDIN_FILENO;
    } else {
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            porch_cli_error(file, g_strerror(errno));
            return PORCH_CLI_EXIT_FAILED;
        }
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            porch_cli_error(file, "is a folder; porch prints files");
            close(fd);
            return PORCH_CLI_EXIT_FAILED;
        }
        if (title == NULL)
            title = g_path_get_basename(file);
    }

    status = reach(target, &common, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK) {
        if (fd != STDIN_FILENO)
            close(fd);
        return status;
    }

    s.cancellable = cancellable;
    s.bar = !common.quiet && isatty(STDERR_FILENO);
    if (fd == STDIN_FILENO) {
        s.name = g_strdup("standard input");
    } else {
        g_autofree char *base = g_path_get_basename(file);
        s.name = porch_cli_safe_text(base);
    }
    /* no SA_RESTART: a read of standard input waiting for more must return, so that the
     * library asks on_print_progress() whether to go on */
    porch_cli_catch_sigint(&old, FALSE);
    ok = porch_client_print(client, printer, fd, (guint)copies, title, &job_id, on_print_progress,
                            &s, cancellable, &error);
    porch_cli_restore_sigint(&old);
    clear_line(&s);
    g_free(s.name);
    if (fd != STDIN_FILENO)
        close(fd);

    if (!ok &&
        (porch_cli_interrupted || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))) {
        if (s.total > 0 && s.sent >= s.total) {
            fputs("porch: interrupted after the whole document was sent: it may print (see "
                  "'porch jobs ",
                  stderr);
            porch_cli_put_text(stderr, what);
            fputs("')\n", stderr);
        } else {
            fputs("porch: interrupted; the job was cancelled, nothing prints\n", stderr);
        }
        return PORCH_CLI_EXIT_INTERRUPTED;
    }
    if (!ok)
        return command_failed(target, what, client, key_fp, error);
    printf("job %d on ", job_id);
    porch_cli_put_text(stdout, what);
    fputc('\n', stdout);
    return fflush(stdout) == 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}

/* ------------------------------------------------------------------------------------------
 * porch jobs */

static void
print_jobs_json(GPtrArray *jobs)
{
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);

    for (guint i = 0; i < jobs->len; i++) {
        const PorchPrintJob *j = g_ptr_array_index(jobs, i);
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_int_value(b, j->id);
        json_builder_set_member_name(b, "printer");
        json_builder_add_string_value(b, j->printer);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, porch_print_job_state_to_string(j->state));
        json_builder_set_member_name(b, "size_kb");
        json_builder_add_int_value(b, (gint64)MIN(j->size_kb, (guint64)G_MAXINT64));
        json_builder_set_member_name(b, "created");
        json_builder_add_int_value(b, j->created);
        json_builder_set_member_name(b, "title");
        json_builder_add_string_value(b, j->title);
        json_builder_end_object(b);
        g_ptr_array_add(nodes, json_builder_get_root(b));
    }
    porch_cli_put_json_lines(nodes);
}

/* @s (valid UTF-8) made safe for the terminal, padded with spaces to @columns characters. */
static void
put_padded(const char *s, int columns)
{
    g_autofree char *safe = porch_cli_safe_text(s);

    fputs(safe, stdout);
    for (long n = g_utf8_strlen(safe, -1); n < columns; n++)
        fputc(' ', stdout);
}

static void
print_jobs_table(GPtrArray *jobs)
{
    int printer_w = (int)strlen("PRINTER"), id_w = (int)strlen("ID");

    for (guint i = 0; i < jobs->len; i++) {
        const PorchPrintJob *j = g_ptr_array_index(jobs, i);
        char digits[16];
        printer_w = MAX(printer_w, (int)g_utf8_strlen(j->printer, -1));
        id_w = MAX(id_w, snprintf(digits, sizeof digits, "%d", j->id));
    }
    printf("%-*s  ", id_w, "ID");
    put_padded("PRINTER", printer_w);
    printf("  %-10s  %9s  %-16s  %s\n", "STATE", "SIZE", "CREATED", "TITLE");
    for (guint i = 0; i < jobs->len; i++) {
        const PorchPrintJob *j = g_ptr_array_index(jobs, i);
        g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(j->created);
        g_autofree char *date =
                when != NULL ? g_date_time_format(when, "%Y-%m-%d %H:%M") : g_strdup("-");
        char size[16];

        porch_cli_format_size(size, sizeof size, (double)j->size_kb * 1024.0);
        printf("%-*d  ", id_w, j->id);
        put_padded(j->printer, printer_w);
        printf("  %-10s  %9s  %-16s  ", porch_print_job_state_to_string(j->state), size, date);
        porch_cli_put_text(stdout, j->title);
        fputc('\n', stdout);
    }
}

int
porch_cli_jobs(int argc, char **argv)
{
    gboolean json = FALSE;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"json", 0, 0, G_OPTION_ARG_NONE, &json,
             "Print a JSON array of jobs (keys: see porch(1))", NULL},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST[/PRINTER]");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) jobs = NULL;
    g_autofree char *printer = NULL;
    g_autofree char *what = NULL;
    g_autofree char *key_fp = NULL;
    int status;

    porch_cli_set_summary(ctx, "List your print jobs on a neighbour's printers (HOST "
                               "alone), or on one of them.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, TRUE, NULL);
    if (!porch_cli_parse_options(ctx, "jobs", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc != 2) {
        porch_cli_usage_error("jobs",
                              argc < 2 ? "whose jobs? HOST[/PRINTER]" : "too many arguments");
        return PORCH_CLI_EXIT_USAGE;
    }
    target = parse_printer_target("jobs", argv[1], FALSE, &printer);
    if (target == NULL)
        return PORCH_CLI_EXIT_USAGE;
    what = porch_cli_target_format(target, target->path);
    status = reach(target, &common, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK)
        return status;
    if (!porch_client_jobs(client, printer, &jobs, &error))
        return command_failed(target, what, client, key_fp, error);

    if (json) {
        print_jobs_json(jobs);
    } else if (jobs->len > 0) {
        print_jobs_table(jobs);
    } else if (isatty(STDOUT_FILENO)) {
        fputs("porch: no print jobs of yours on ", stderr);
        porch_cli_put_text(stderr, what);
        fputc('\n', stderr);
    }
    return fflush(stdout) == 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}

/* ------------------------------------------------------------------------------------------
 * porch cancel */

int
porch_cli_cancel(int argc, char **argv)
{
    g_auto(PorchCliCommon) common = {0};
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST/PRINTER JOB-ID");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *printer = NULL;
    g_autofree char *what = NULL;
    g_autofree char *key_fp = NULL;
    gint64 job_id;
    int status;

    porch_cli_set_summary(ctx, "Cancel one of your print jobs on a neighbour's printer "
                               "(porch jobs lists them).");
    porch_cli_add_common_entries(ctx, &common, TRUE, "No progress or notices: only errors");
    if (!porch_cli_parse_options(ctx, "cancel", &argc, &argv, &common))
        return PORCH_CLI_EXIT_USAGE;
    if (argc != 3) {
        porch_cli_usage_error("cancel", argc < 3 ? "cancel needs HOST/PRINTER and JOB-ID"
                                                 : "too many arguments");
        return PORCH_CLI_EXIT_USAGE;
    }
    target = parse_printer_target("cancel", argv[1], TRUE, &printer);
    if (target == NULL)
        return PORCH_CLI_EXIT_USAGE;
    if (!porch_text_to_signed(argv[2], 10, 1, G_MAXINT, &job_id, NULL)) {
        g_autofree char *m = g_strdup_printf("'%s' is not a job id (a number, as porch jobs "
                                             "shows)",
                                             argv[2]);
        porch_cli_usage_error("cancel", m);
        return PORCH_CLI_EXIT_USAGE;
    }
    what = porch_cli_target_format(target, target->path);
    status = reach(target, &common, &client, &key_fp);
    if (status != PORCH_CLI_EXIT_OK)
        return status;
    if (!porch_client_cancel(client, printer, (int)job_id, &error))
        return command_failed(target, what, client, key_fp, error);
    if (!common.quiet) {
        printf("cancelled job %d on ", (int)job_id);
        porch_cli_put_text(stdout, what);
        fputc('\n', stdout);
    }
    return fflush(stdout) == 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}

/* ------------------------------------------------------------------------------------------
 * porch printer add */

int
porch_cli_printer(int argc, char **argv)
{
    char *name_opt = NULL;
    g_auto(PorchCliCommon) common = {0};
    GOptionEntry entries[] = {
            {"name", 'N', 0, G_OPTION_ARG_STRING, &name_opt,
             "The local queue's name (default: PRINTER@HOST)", "QUEUE"},
            G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("add HOST/PRINTER");
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *queue = NULL;
    g_autofree char *printer = NULL;
    g_autofree char *uri = NULL;
    g_autofree char *description = NULL;
    g_autofree char *ppd = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *key = NULL;
    g_auto(GStrv) args = NULL;
    const char *hint;
    int status;

    porch_cli_set_summary(
            ctx, "Add a neighbour's printer to this machine's CUPS as the queue QUEUE, printed "
                 "to through the porch backend with this machine's host key; every "
                 "application can then print on it. Needs root or the lpadmin group.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    porch_cli_add_common_entries(ctx, &common, FALSE, NULL);
    if (!porch_cli_parse_options(ctx, "printer", &argc, &argv, &common)) {
        g_free(name_opt);
        return PORCH_CLI_EXIT_USAGE;
    }
    queue = name_opt;
    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        porch_cli_usage_error("printer", argc < 2 ? "what to do? add HOST/PRINTER"
                                                  : "the only subcommand is add HOST/PRINTER");
        return PORCH_CLI_EXIT_USAGE;
    }
    if (argc != 3) {
        porch_cli_usage_error("printer",
                              argc < 3 ? "add what? HOST/PRINTER" : "too many arguments");
        return PORCH_CLI_EXIT_USAGE;
    }
    target = parse_printer_target("printer", argv[2], TRUE, &printer);
    if (target == NULL)
        return PORCH_CLI_EXIT_USAGE;
    if (queue != NULL) {
        if (!porch_printer_queue_name_is_valid(queue)) {
            porch_cli_usage_error("printer",
                                  "--name: a CUPS queue name has at most 127 printable ASCII "
                                  "characters, without space, /, \\, ?, ', \" or #");
            return PORCH_CLI_EXIT_USAGE;
        }
    } else {
        queue = porch_printer_default_queue_name(printer, target->host);
    }
    ppd = porch_printer_ppd_file(&error);
    if (ppd == NULL) {
        fputs("porch: ", stderr);
        porch_cli_put_text(stderr, error->message);
        fputc('\n', stderr);
        return PORCH_CLI_EXIT_FAILED;
    }

    /* Only to check that HOST exists: the queue keeps the name as typed. */
    status = porch_cli_target_resolve(target, common.timeout);
    if (status != PORCH_CLI_EXIT_OK)
        return status;

    uri = porch_printer_porch_uri(target->name, target->port, printer);
    description = g_strdup_printf("%s on %s", printer,
                                  target->fingerprint != NULL && target->pin_name != NULL
                                          ? target->pin_name
                                          : target->name);
    args = porch_printer_lpadmin_argv(queue, uri, ppd, description);
    if (!porch_printer_lpadmin_run((const char *const *)args, NULL, &error)) {
        porch_cli_error(queue, error->message);
        hint = porch_printer_lpadmin_hint(error);
        if (hint != NULL) {
            fputs("porch: ", stderr);
            fputs(hint, stderr);
            fputs(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) ? " (try sudo)\n"
                                                                                   : "\n",
                  stderr);
        }
        return PORCH_CLI_EXIT_FAILED;
    }

    fputs("added the CUPS queue ", stdout);
    porch_cli_put_text(stdout, queue);
    fputs(" for ", stdout);
    porch_cli_put_text(stdout, argv[2]);
    fputs(" (", stdout);
    porch_cli_put_text(stdout, uri);
    fputs(")\n", stdout);
    fflush(stdout);
    /* what the neighbour's owner needs to do */
    state_dir = porch_state_default_dir(TRUE);
    key = porch_state_file(state_dir, PORCH_STATE_HOST_KEY);
    fputs("porch: the queue prints with this machine's host key: the owner of ", stderr);
    porch_cli_put_text(stderr, target->host);
    fputs(" adds the [peer] that 'porch id --identity ", stderr);
    porch_cli_put_text(stderr, key);
    fputs("' shows, with the print right on ", stderr);
    porch_cli_put_text(stderr, printer);
    fputs(" (unless guests may print there)\n", stderr);
    return fflush(stdout) == 0 ? PORCH_CLI_EXIT_OK : PORCH_CLI_EXIT_FAILED;
}
