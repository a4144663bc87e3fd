/* print-server.c — the print, jobs, cancel, status and search commands of an exec channel, run
 * by porchd-print for a session that relays the channel (print-server.h, print-relay.h).
 *
 * As in sftp-server.c, every command goes through one table (commands[]) and one gate
 * (gate()): the gate finds the printer the command names and asks porch_acl_check() with the
 * configuration of this very moment; only then does a handler connect to CUPS. A peer without
 * the print right never makes porchd talk to CUPS at all.
 *
 * A document goes from the channel to CUPS chunk by chunk (Send-Document with chunked
 * encoding), never through a spool file of ours: CUPS spools it. It is only ended, and so
 * printed, when the client sent EOF; a client that goes away before that leaves a request CUPS
 * never sees the end of, and the job is cancelled.
 *
 * In CUPS every job belongs to the requesting-user-name porchd gives (porch_print_server_user()):
 * "PEER@porch" for a [peer]; for a guest, who has no key, "guest+ADDRESS@porch" after the
 * client's address ("guest+10.0.0.5@porch", "guest+fe80--1@porch"), so that each address is a
 * guest of its own: one guest neither lists nor cancels another's jobs. Guests behind one NAT
 * address share theirs, and an address given to another machine later comes with the jobs
 * CUPS still remembers. jobs and cancel only ever see that user's jobs, checked here rather
 * than left to CUPS (to CUPS, every job comes from porchd's one local connection).
 *
 * A document is counted as it arrives: one larger than max-print-size (porch.conf) is cut off
 * there, its job cancelled so that nothing of it prints, and the client told so with
 * EX_DATAERR. One that stops arriving for idle-timeout seconds (0: never) is given up the same
 * way with EX_IOERR.
 */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "print-server.h"

#include <limits.h>
#include <string.h>
#include <sysexits.h>

#include <gio/gio.h>

#include "indexer.h"
#include "porch-acl.h"
#include "porch-cups.h"
#include "porch-index.h"
#include "porch-text.h"
#include "print-relay.h"

/* what is read from the channel and written to CUPS at a time */
#define CHUNK_SIZE (64 * 1024)
/* how long a CUPS request may wait for an answer: a busy cupsd can take a while, a hung one
 * must not hold the client for ever */
#define CUPS_TIMEOUT_MS 30000

typedef struct CommandSpec CommandSpec;

typedef struct {
    PorchPrintIO *io;
    const PorchPrintServerContext *ctx;
    const CommandSpec *command;
    PorchConfig *config; /* borrowed: the snapshot when the command arrived */
    PorchPrintServerCommand cmd;
    const PorchPrinter *printer; /* the printer named, once the gate let the command through */
    char *user;                  /* in CUPS: "PEER@porch" or "guest+ADDRESS@porch" */
} Request;

struct CommandSpec {
    const char *name;
    PorchPrintServerVerb verb;
    guint min_args, max_args; /* positional arguments */
    const char *usage;
    int (*handler)(Request *r);
};

/* ---- replies ------------------------------------------------------------------------- */

static gboolean
write_all(PorchPrintIO *io, const char *data, gsize len, gboolean to_stderr)
{
    return io->write(io, data, len, to_stderr);
}

/* Writes one line, "MESSAGE\n", on the client's stderr; returns @status. */
G_GNUC_PRINTF(3, 4)
static int
fail(Request *r, int status, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strconcat(msg, "\n", NULL);
    write_all(r->io, line, strlen(line), TRUE);
    return status;
}

/* For log lines and messages: a client-given text, cut to 200 bytes and escaped (printable
 * ASCII: a line break or a terminal's escape sequence in it cannot fake a log line). */
static char *
for_log(const char *text)
{
    return porch_text_show(text, -1, 200, PORCH_TEXT_C_STRING);
}

/* A refusal: logged as the SFTP server logs its refusals, then told to the client. */
G_GNUC_PRINTF(3, 4)
static int
refuse(Request *r, int status, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *printer = r->cmd.printer ? for_log(r->cmd.printer) : NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_message("%s: refused %s%s%s: %s", r->ctx->who, r->command->name, printer ? " " : "",
              printer ? printer : "", msg);
    return fail(r, status, "%s", msg);
}

/* Tells the client what CUPS said, as the exit status the contract gives it: CUPS refusing
 * what was sent is EX_DATAERR, everything that may pass (CUPS down, the queue missing or not
 * accepting jobs) EX_UNAVAILABLE. */
static int
cups_failed(Request *r, const GError *error)
{
    const char *printer = r->printer ? r->printer->name : "";

    if (error->domain == G_IO_ERROR &&
        (error->code == G_IO_ERROR_INVALID_DATA || error->code == G_IO_ERROR_PERMISSION_DENIED)) {
        g_message("%s: %s %s: CUPS refused: %s", r->ctx->who, r->command->name, printer,
                  error->message);
        return fail(r, EX_DATAERR, "%s", error->message);
    }
    g_warning("%s: %s %s: %s", r->ctx->who, r->command->name, printer, error->message);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        return fail(r, EX_UNAVAILABLE, "CUPS is not running on this host; try again later");
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return fail(r, EX_UNAVAILABLE, "%s is not available: its CUPS queue does not exist",
                    printer);
    return fail(r, EX_UNAVAILABLE, "%s", error->message);
}

/* ---- commands ------------------------------------------------------------------------ */

static int
h_print(Request *r)
{
    g_autoptr(PorchCupsSubmission) sub = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *buf = g_malloc(CHUNK_SIZE);
    g_autofree char *shown_title = NULL;
    g_autofree char *out = NULL;
    g_autofree char *cut_off = NULL;
    const char *title = r->cmd.title ? r->cmd.title : PORCH_PRINT_DEFAULT_TITLE;
    guint64 max_size = porch_config_get_limit(r->config, PORCH_LIMIT_MAX_PRINT_SIZE);
    guint64 idle_s = porch_config_get_limit(r->config, PORCH_LIMIT_IDLE_TIMEOUT);
    /* milliseconds, -1 for none */
    int idle_ms = idle_s == 0 ? -1 : idle_s > INT_MAX / 1000 ? INT_MAX : (int)idle_s * 1000;
    guint64 total = 0;
    int job_id;

    sub = porch_cups_submission_new(r->printer->queue, r->user, title, r->cmd.copies,
                                    CUPS_TIMEOUT_MS, &error);
    if (sub == NULL)
        return cups_failed(r, error);
    job_id = porch_cups_submission_get_job_id(sub);
    for (;;) {
        gssize n = r->io->read(r->io, buf, CHUNK_SIZE, idle_ms, &cut_off);

        if (n > 0 && (guint64)n > max_size - total) {
            g_autofree char *limit = g_format_size_full(max_size, G_FORMAT_SIZE_IEC_UNITS);

            /* nothing of it may print: CUPS never sees the end of the document */
            g_clear_pointer(&sub, porch_cups_submission_free);
            g_message("%s: print %s: job %d cancelled after %" G_GUINT64_FORMAT
                      " bytes: the document is larger than max-print-size (%" G_GUINT64_FORMAT
                      " bytes)",
                      r->ctx->who, r->printer->name, job_id, total + (guint64)n, max_size);
            return fail(r, EX_DATAERR,
                        "the document is larger than %s, the most %s takes (max-print-size); "
                        "job %d was cancelled",
                        limit, r->printer->name, job_id);
        }
        if (n > 0) {
            total += (guint64)n;
            if (!porch_cups_submission_write(sub, buf, (gsize)n, &error))
                return cups_failed(r, error);
            continue;
        }
        if (n < 0 && cut_off == NULL)
            cut_off = g_strdup("the client went away");
        break;
    }
    if (cut_off != NULL) {
        /* nothing of it may print: CUPS never sees the end of the document */
        g_clear_pointer(&sub, porch_cups_submission_free);
        g_message("%s: print %s: job %d cancelled after %" G_GUINT64_FORMAT
                  " bytes, the document did not arrive whole: %s",
                  r->ctx->who, r->printer->name, job_id, total, cut_off);
        return fail(r, EX_IOERR, "the document did not arrive whole; job %d was cancelled", job_id);
    }
    if (!porch_cups_submission_finish(sub, &error))
        return cups_failed(r, error);

    shown_title = for_log(title);
    g_message("%s: print %s: job %d, %" G_GUINT64_FORMAT " bytes, %u cop%s, \"%s\"", r->ctx->who,
              r->printer->name, job_id, total, r->cmd.copies, r->cmd.copies == 1 ? "y" : "ies",
              shown_title);
    out = g_strdup_printf("%d\n", job_id);
    write_all(r->io, out, strlen(out), FALSE);
    return EX_OK;
}

/* The printer of a job on @queue as this peer knows it: the first in the file that uses that
 * queue and that the peer may print on (NULL: none). */
static const PorchPrinter *
printer_of_queue(Request *r, const char *queue)
{
    for (guint i = 0; i < porch_config_get_n_printers(r->config); i++) {
        const PorchPrinter *p = porch_config_get_printer(r->config, i);

        if (strcmp(p->queue, queue) == 0 &&
            porch_acl_check(r->config, r->ctx->fingerprint, PORCH_RESOURCE_PRINTER, p->name,
                            PORCH_ACL_PRINT))
            return p;
    }
    return NULL;
}

static int
by_id(gconstpointer a, gconstpointer b)
{
    const PorchCupsJob *x = *(PorchCupsJob *const *)a;
    const PorchCupsJob *y = *(PorchCupsJob *const *)b;

    return (x->id > y->id) - (x->id < y->id);
}

static int
h_jobs(Request *r)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) jobs = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    http_t *http;
    gboolean any = r->printer != NULL;

    /* Without a printer: the jobs on every printer this peer may print on; none, no CUPS. */
    for (guint i = 0; !any && i < porch_config_get_n_printers(r->config); i++)
        any = porch_acl_check(r->config, r->ctx->fingerprint, PORCH_RESOURCE_PRINTER,
                              porch_config_get_printer(r->config, i)->name, PORCH_ACL_PRINT);
    if (!any)
        return EX_OK;
    http = porch_cups_connect(CUPS_TIMEOUT_MS, &error);
    if (http == NULL)
        return cups_failed(r, error);
    jobs = porch_cups_get_jobs(http, r->printer ? r->printer->queue : NULL, r->user, &error);
    httpClose(http);
    if (jobs == NULL)
        return cups_failed(r, error);

    g_ptr_array_sort(jobs, by_id);
    for (guint i = 0; i < jobs->len; i++) {
        const PorchCupsJob *job = g_ptr_array_index(jobs, i);
        const PorchPrinter *p = r->printer;
        g_autofree char *title = NULL;

        if (p != NULL ? strcmp(job->queue, p->queue) != 0
                      : (p = printer_of_queue(r, job->queue)) == NULL)
            continue;
        /* on one line of "jobs": no tabs, line breaks or other control characters */
        title = porch_text_show(job->title, -1, G_MAXSIZE, PORCH_TEXT_ONE_LINE);
        g_string_append_printf(out, "%d\t%s\t%s\t%" G_GUINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%s\n",
                               job->id, p->name,
                               porch_print_job_state_to_string(porch_cups_job_state(job->state)),
                               job->size_kb, job->created, title);
    }
    write_all(r->io, out->str, out->len, FALSE);
    return EX_OK;
}

static int
h_cancel(Request *r)
{
    g_autoptr(GError) error = NULL;
    http_t *http;
    gboolean ok;

    http = porch_cups_connect(CUPS_TIMEOUT_MS, &error);
    if (http == NULL)
        return cups_failed(r, error);
    ok = porch_cups_cancel_job(http, r->printer->queue, r->cmd.job_id, r->user, &error);
    httpClose(http);
    if (!ok && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return refuse(r, EX_NOINPUT, "no job %d of yours on %s", r->cmd.job_id, r->printer->name);
    if (!ok)
        return cups_failed(r, error);
    g_message("%s: cancel %s: job %d cancelled", r->ctx->who, r->printer->name, r->cmd.job_id);
    return EX_OK;
}

/* Who this host is, to the asker: its display name, the shares it may read and the printers
 * it may print on, as mDNS and the SFTP root listing would show them. */
static int
h_status(Request *r)
{
    const PorchPeer *peer = NULL;
    const char *name = porch_config_has_name(r->config) || r->ctx->default_name == NULL
                               ? porch_config_get_name(r->config)
                               : r->ctx->default_name;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *shown = porch_text_show(name, -1, PORCH_NAME_MAX, PORCH_TEXT_ONE_LINE);
    guint entries = 0;

    g_string_append_printf(out, PORCH_STATUS_KEY_NAME "\t%s\n", shown);
    if (r->ctx->fingerprint != NULL)
        peer = porch_config_lookup_peer_by_fingerprint(r->config, r->ctx->fingerprint);
    /* a key that is no longer in the file sees nothing, not what guests see */
    if (r->ctx->fingerprint == NULL || peer != NULL) {
        g_auto(GStrv) readable = porch_acl_readable_shares(r->config, peer);

        for (guint i = 0; readable[i] != NULL && entries < PORCH_STATUS_MAX_ENTRIES; i++) {
            const PorchShare *share = porch_config_lookup_share(r->config, readable[i]);
            if (share != NULL && !share->hidden && !share->offline) {
                g_string_append_printf(out, PORCH_STATUS_KEY_SHARE "\t%s\n", share->name);
                entries++;
            }
        }
        for (guint i = 0;
             i < porch_config_get_n_printers(r->config) && entries < PORCH_STATUS_MAX_ENTRIES;
             i++) {
            const PorchPrinter *p = porch_config_get_printer(r->config, i);
            if (!p->hidden && porch_acl_check(r->config, r->ctx->fingerprint,
                                              PORCH_RESOURCE_PRINTER, p->name, PORCH_ACL_PRINT)) {
                g_string_append_printf(out, PORCH_STATUS_KEY_PRINTER "\t%s\n", p->name);
                entries++;
            }
        }
    }
    /* our clock, for `porch doctor HOST` to compare with its own; a clock at or before 1970
     * has nothing to compare (clients take positive times only) */
    if (g_get_real_time() > 0)
        g_string_append_printf(out, PORCH_STATUS_KEY_TIME "\t%" G_GINT64_FORMAT "\n",
                               g_get_real_time());
    write_all(r->io, out->str, out->len, FALSE);
    return EX_OK;
}

/* Whether @s can go on one line of an answer: UTF-8 without control characters (tabs and
 * line breaks included). */
static gboolean
one_line(const char *s)
{
    if (!g_utf8_validate(s, -1, NULL))
        return FALSE;
    for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p))
        if (g_unichar_iscntrl(g_utf8_get_char(p)))
            return FALSE;
    return TRUE;
}

/* A filter of the content index: the shares the asker may read (a set). */
static gboolean
readable_share(const char *share, const char *path, gpointer user_data)
{
    (void)path;
    return g_hash_table_contains(user_data, share);
}

/* "search": the files of the index the asker may read whose name matches, or whose content
 * is the SHA-256 asked for. The pattern is not logged above debug: it says what someone
 * looks for. */
static int
h_search(Request *r)
{
    const PorchPeer *peer = NULL;
    g_autoptr(GHashTable) readable = g_hash_table_new(g_str_hash, g_str_equal);
    g_auto(GStrv) shares = NULL;
    g_autofree char *path = NULL;
    g_autoptr(PorchIndex) idx = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    guint8 digest[PORCH_SHA256_LEN];

    if (r->ctx->fingerprint != NULL)
        peer = porch_config_lookup_peer_by_fingerprint(r->config, r->ctx->fingerprint);
    /* a key that is no longer in the file sees nothing, not what guests see */
    if (r->ctx->fingerprint == NULL || peer != NULL) {
        shares = porch_acl_readable_shares(r->config, peer);
        for (guint i = 0; shares[i] != NULL; i++) {
            const PorchShare *share = porch_config_lookup_share(r->config, shares[i]);
            if (share != NULL && !share->offline)
                g_hash_table_add(readable, share->name);
        }
    }
    if (r->ctx->state_dir == NULL)
        return refuse(r, EX_UNAVAILABLE, "this host has no content index");
    path = g_build_filename(r->ctx->state_dir, PORCH_INDEX_FILE, NULL);
    idx = porch_index_open(path, FALSE, NULL, &error);
    if (idx == NULL) {
        g_debug("%s: search: %s", r->ctx->who, error->message);
        return refuse(r, EX_UNAVAILABLE, "this host has no content index yet");
    }
    g_clear_error(&error);
    if (r->cmd.sha256 != NULL) {
        if (!porch_sha256_from_hex(r->cmd.sha256, digest))
            return fail(r, EX_USAGE, "%s takes 64 hexadecimal digits", PORCH_SEARCH_OPT_SHA256);
        found = porch_index_find_sha256(idx, digest, PORCH_SEARCH_MAX_RESULTS, readable_share,
                                        readable, &error);
    } else {
        found = porch_index_search(idx, r->cmd.pattern, PORCH_SEARCH_MAX_RESULTS, readable_share,
                                   readable, &error);
    }
    if (found == NULL)
        return fail(r, EX_USAGE, "%s", error->message);
    for (guint i = 0; i < found->len; i++) {
        const PorchIndexEntry *e = g_ptr_array_index(found, i);
        char hex[PORCH_SHA256_HEX_LEN + 1];

        /* a name that cannot be written on one line is left out */
        if (!one_line(e->path) || !one_line(e->share))
            continue;
        porch_sha256_to_hex(e->sha256, hex);
        g_string_append_printf(out, "%s\t%s\t%" G_GUINT64_FORMAT "\t%s\n", e->share, e->path,
                               e->size, hex);
    }
    g_debug("%s: search '%s'", r->ctx->who, r->cmd.sha256 ? r->cmd.sha256 : r->cmd.pattern);
    g_message("%s: search: %u file(s) found", r->ctx->who, found->len);
    write_all(r->io, out->str, out->len, FALSE);
    return EX_OK;
}

static const CommandSpec commands[] = {
        {PORCH_PRINT_CMD_PRINT, PORCH_PRINT_SERVER_PRINT, 1, 1,
         PORCH_PRINT_CMD_PRINT " PRINTER [" PORCH_PRINT_OPT_COPIES " N] [" PORCH_PRINT_OPT_TITLE
                               " TITLE]",
         h_print},
        {PORCH_PRINT_CMD_JOBS, PORCH_PRINT_SERVER_JOBS, 0, 1, PORCH_PRINT_CMD_JOBS " [PRINTER]",
         h_jobs},
        {PORCH_PRINT_CMD_CANCEL, PORCH_PRINT_SERVER_CANCEL, 2, 2,
         PORCH_PRINT_CMD_CANCEL " PRINTER JOB-ID", h_cancel},
        {PORCH_PRINT_CMD_STATUS, PORCH_PRINT_SERVER_STATUS, 0, 0, PORCH_PRINT_CMD_STATUS, h_status},
        {PORCH_PRINT_CMD_SEARCH, PORCH_PRINT_SERVER_SEARCH, 0, 1,
         PORCH_PRINT_CMD_SEARCH " PATTERN | " PORCH_PRINT_CMD_SEARCH " " PORCH_SEARCH_OPT_SHA256
                                " HEX",
         h_search},
};

/* ---- parsing ------------------------------------------------------------------------- */

static const CommandSpec *
command_of_verb(PorchPrintServerVerb verb)
{
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        if (commands[i].verb == verb)
            return &commands[i];
    g_return_val_if_reached(NULL);
}

G_GNUC_PRINTF(2, 3)
static gboolean
usage_error(GError **error, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, msg);
    return FALSE;
}

/* An option of "print" at argv[*i]: "--copies N", "--copies=N", "--title T", "--title=T". */
static gboolean
parse_option(GStrv argv, guint *i, PorchPrintServerCommand *c, const CommandSpec *cmd,
             GError **error)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    g_autofree char *name = eq ? g_strndup(arg, (gsize)(eq - arg)) : g_strdup(arg);
    const char *value = eq ? eq + 1 : NULL;
    guint64 copies;

    if (c->verb == PORCH_PRINT_SERVER_SEARCH && strcmp(name, PORCH_SEARCH_OPT_SHA256) == 0) {
        if (value == NULL) {
            if (argv[*i + 1] == NULL)
                return usage_error(error, "%s needs a value; usage: %s", name, cmd->usage);
            value = argv[++*i];
        }
        if (strlen(value) != 2 * 32 || strspn(value, "0123456789abcdefABCDEF") != 2 * 32)
            return usage_error(error, "%s takes 64 hexadecimal digits", name);
        g_free(c->sha256);
        c->sha256 = g_ascii_strdown(value, -1);
        return TRUE;
    }
    if (c->verb != PORCH_PRINT_SERVER_PRINT ||
        (strcmp(name, PORCH_PRINT_OPT_COPIES) != 0 && strcmp(name, PORCH_PRINT_OPT_TITLE) != 0)) {
        g_autofree char *shown = for_log(name);
        return usage_error(error, "unknown option '%s'; usage: %s", shown, cmd->usage);
    }
    if (value == NULL) {
        if (argv[*i + 1] == NULL)
            return usage_error(error, "%s needs a value; usage: %s", name, cmd->usage);
        value = argv[++*i];
    }
    if (strcmp(name, PORCH_PRINT_OPT_TITLE) == 0) {
        g_free(c->title);
        c->title = *value ? g_strdup(value) : NULL;
        return TRUE;
    }
    if (!porch_text_to_unsigned(value, 10, 1, PORCH_PRINT_MAX_COPIES, &copies, NULL)) {
        g_autofree char *shown = for_log(value);
        return usage_error(error, PORCH_PRINT_OPT_COPIES " takes a number from 1 to %d, not '%s'",
                           PORCH_PRINT_MAX_COPIES, shown);
    }
    c->copies = (guint)copies;
    return TRUE;
}

gboolean
porch_print_server_parse(const char *line, PorchPrintServerCommand *ret, GError **error)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_autoptr(GError) local = NULL;
    PorchPrintServerCommand c = {.copies = 1};
    const CommandSpec *cmd = NULL;
    gboolean options = TRUE;

    g_return_val_if_fail(line != NULL && ret != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (strlen(line) > PORCH_PRINT_MAX_COMMAND)
        return usage_error(error, "the command is longer than %d bytes", PORCH_PRINT_MAX_COMMAND);
    if (!g_shell_parse_argv(line, NULL, &argv, &local)) {
        if (g_error_matches(local, G_SHELL_ERROR, G_SHELL_ERROR_EMPTY_STRING))
            return usage_error(
                    error, "no command; the commands are print, jobs, cancel, status and search");
        /* not GLib's message: it quotes the whole line, as it came */
        if (g_error_matches(local, G_SHELL_ERROR, G_SHELL_ERROR_BAD_QUOTING))
            return usage_error(error, "cannot split the command: a quote is not closed, or it "
                                      "ends in a backslash");
        return usage_error(error, "cannot split the command");
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        if (strcmp(argv[0], commands[i].name) == 0)
            cmd = &commands[i];
    if (cmd == NULL) {
        g_autofree char *shown = for_log(argv[0]);
        return usage_error(
                error,
                "unknown command '%s'; the commands are print, jobs, cancel, status and search",
                shown);
    }
    c.verb = cmd->verb;
    for (guint i = 1; argv[i] != NULL; i++) {
        if (options && strcmp(argv[i], "--") == 0) {
            options = FALSE;
        } else if (options && g_str_has_prefix(argv[i], "--")) {
            if (!parse_option(argv, &i, &c, cmd, error)) {
                porch_print_server_command_clear(&c);
                return FALSE;
            }
        } else {
            g_ptr_array_add(args, argv[i]);
        }
    }
    if (args->len < cmd->min_args || args->len > cmd->max_args) {
        porch_print_server_command_clear(&c);
        return usage_error(error, "%s arguments; usage: %s",
                           args->len < cmd->min_args ? "missing" : "too many", cmd->usage);
    }
    if (c.verb == PORCH_PRINT_SERVER_SEARCH) {
        const char *pattern = args->len > 0 ? g_ptr_array_index(args, 0) : NULL;

        if ((pattern == NULL) == (c.sha256 == NULL)) {
            porch_print_server_command_clear(&c);
            return usage_error(error, "give a pattern or %s; usage: %s", PORCH_SEARCH_OPT_SHA256,
                               cmd->usage);
        }
        if (pattern != NULL && (pattern[0] == '\0' || strlen(pattern) > PORCH_SEARCH_MAX_PATTERN ||
                                !g_utf8_validate(pattern, -1, NULL))) {
            porch_print_server_command_clear(&c);
            return usage_error(error, "a search pattern is 1 to %d bytes of UTF-8",
                               PORCH_SEARCH_MAX_PATTERN);
        }
        c.pattern = g_strdup(pattern);
    } else if (args->len > 0) {
        c.printer = g_strdup(g_ptr_array_index(args, 0));
    }
    if (c.verb == PORCH_PRINT_SERVER_CANCEL) {
        const char *id = g_ptr_array_index(args, 1);
        gint64 n;

        if (!porch_text_to_signed(id, 10, 1, G_MAXINT, &n, NULL)) {
            g_autofree char *shown = for_log(id);
            porch_print_server_command_clear(&c);
            return usage_error(error, "'%s' is not a job id; usage: %s", shown, cmd->usage);
        }
        c.job_id = (int)n;
    }

    /* success */
    *ret = c;
    return TRUE;
}

void
porch_print_server_command_clear(PorchPrintServerCommand *command)
{
    g_clear_pointer(&command->printer, g_free);
    g_clear_pointer(&command->title, g_free);
    g_clear_pointer(&command->pattern, g_free);
    g_clear_pointer(&command->sha256, g_free);
}

/* ---- who a job belongs to ------------------------------------------------------------ */

/* The longest ADDRESS of "guest+ADDRESS@porch" (an IPv6 address takes at most 45). */
#define GUEST_ADDRESS_MAX 64

/* Whether the 16 bytes of an IPv6 address are ::ffff:a.b.c.d. */
static gboolean
is_ipv4_mapped(const guint8 *b)
{
    static const guint8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(b, prefix, sizeof prefix) == 0;
}

char *
porch_print_server_user(const char *peer, const char *address)
{
    g_autoptr(GInetAddress) ia = NULL;
    g_autofree char *text = NULL;

    if (peer != NULL)
        return g_strconcat(peer, "@porch", NULL);
    if (address == NULL)
        return g_strdup("guest+unknown@porch");
    ia = g_inet_address_new_from_string(address);
    if (ia != NULL && g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6 &&
        is_ipv4_mapped(g_inet_address_to_bytes(ia))) {
        const guint8 *b = g_inet_address_to_bytes(ia);
        text = g_strdup_printf("%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    } else {
        text = ia != NULL ? g_inet_address_to_string(ia) : g_strdup(address);
    }
    if (strlen(text) > GUEST_ADDRESS_MAX)
        text[GUEST_ADDRESS_MAX] = '\0';
    for (char *p = text; *p != '\0'; p++) {
        if (*p == ':')
            *p = '-';
        else if (g_ascii_isalpha(*p))
            *p = g_ascii_tolower(*p);
        else if (!g_ascii_isdigit(*p) && *p != '.' && *p != '-')
            *p = '_';
    }
    return g_strconcat("guest+", text, "@porch", NULL);
}

/* ---- the gate ------------------------------------------------------------------------ */

/* Who is asking, and whether they may: the printer must exist and the peer must have the
 * print right on it. A hidden printer the peer may not print on does not exist for it. */
static int
gate(Request *r)
{
    const PorchPeer *peer = NULL;

    if (r->ctx->fingerprint != NULL)
        peer = porch_config_lookup_peer_by_fingerprint(r->config, r->ctx->fingerprint);
    /* a peer removed by a reload has no rights left: porch_acl_check() refuses its key */
    r->user = porch_print_server_user(peer ? peer->name : NULL, r->ctx->address);
    if (r->cmd.printer == NULL)
        return EX_OK;
    /* without regard to case, as porch.conf compares printer names */
    r->printer = porch_config_find_printer(r->config, r->cmd.printer);
    if (r->printer == NULL) {
        g_autofree char *shown = for_log(r->cmd.printer);
        return refuse(r, EX_NOINPUT, "no such printer: %s", shown);
    }
    if (!porch_acl_check(r->config, r->ctx->fingerprint, PORCH_RESOURCE_PRINTER, r->printer->name,
                         PORCH_ACL_PRINT)) {
        if (r->printer->hidden)
            return refuse(r, EX_NOINPUT, "no such printer: %s", r->printer->name);
        return refuse(r, EX_NOPERM, "not allowed to print on %s", r->printer->name);
    }
    return EX_OK;
}

/* After a print command failed, told the client already on stderr: what it may still send of
 * the document is read and dropped until its end of file, a pause of
 * PORCH_PRINT_DRAIN_QUIET_MS, or PORCH_PRINT_DRAIN_MS in all. porch stops sending as soon as it
 * sees the answer, OpenSSH's ssh at the end of its input; either way the session then does not
 * hang up on a client that is still sending, which would lose it the answer (ssh: "Received
 * disconnect", status 255). */
static void
let_client_stop(PorchPrintIO *io)
{
    g_autofree char *buf = g_malloc(CHUNK_SIZE);
    gint64 end = g_get_monotonic_time() + PORCH_PRINT_DRAIN_MS * G_TIME_SPAN_MILLISECOND;

    for (;;) {
        gint64 left = (end - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
        g_autofree char *why = NULL;

        if (left <= 0 ||
            io->read(io, buf, CHUNK_SIZE, (int)MIN(left, PORCH_PRINT_DRAIN_QUIET_MS), &why) <= 0)
            return;
    }
}

int
porch_print_server_serve(PorchPrintIO *io, const char *command_line,
                         const PorchPrintServerContext *ctx)
{
    g_autoptr(GError) error = NULL;
    Request r = {.io = io, .ctx = ctx};
    int status;

    g_return_val_if_fail(command_line != NULL && ctx != NULL, EX_SOFTWARE);

    if (!porch_print_server_parse(command_line, &r.cmd, &error)) {
        g_autofree char *shown = for_log(command_line);
        g_message("%s: refused command \"%s\": %s", ctx->who, shown, error->message);
        status = fail(&r, EX_USAGE, "%s", error->message);
        let_client_stop(io); /* it may be sending a document all the same */
        return status;
    }
    r.command = command_of_verb(r.cmd.verb);
    r.config = ctx->current_config(ctx->user_data);
    status = gate(&r);
    if (status == EX_OK)
        status = r.command->handler(&r);
    if (status != EX_OK && r.cmd.verb == PORCH_PRINT_SERVER_PRINT)
        let_client_stop(io);
    porch_print_server_command_clear(&r.cmd);
    g_free(r.user);
    return status;
}
