/* porch-print-client.c — print, jobs and cancel as SSH "exec" commands (porch-print-client.h).
 *
 * One command runs on one channel of a connection made by porch_client_connect_print():
 * open a session channel, send the command line (its arguments quoted for
 * g_shell_parse_argv(), which porchd splits it with), stream the document on its standard
 * input for "print", then read standard output and standard error until porchd's end of file
 * and take the exit status.
 *
 * The end of file is what tells porchd that the document is whole; so a print that stops
 * half way (cancelled, the document unreadable, the neighbour too slow) must never send one.
 * libssh sends an EOF before every channel close (ssh_channel_close(), and ssh_channel_free()
 * on an open channel), hence abort() below drops the whole connection instead: porchd then
 * sees the channel end without EOF and cancels the job.
 *
 * Nothing here waits without a bound: while a document is sent the session's own timeout is
 * lowered to SEND_POLL_MS so that a full window returns to the loop, which checks
 * @cancellable and counts the time without progress against the client's timeout; replies
 * are read with porch_channel_read_timeout() in READ_POLL_MS steps, the same way. */
#include "porch-print-client.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "porch-channel.h"
#include "porch-config.h"
#include "porch-sftp-client-private.h"
#include "porch-text.h"
#include "porch-wire.h"

G_DEFINE_QUARK(porch - print - error - quark, porch_print_error)

#define CHUNK_SIZE   (64 * 1024)
#define SEND_POLL_MS 250
#define READ_POLL_MS 200
/* What a reply may hold: a long list of jobs (PORCH_PRINT_MAX_JOBS lines of at most some
 * hundred bytes), a job id or nothing, one line of error. */
#define MAX_STDOUT_JOBS (16u << 20)
#define MAX_STDOUT      (4u << 10)
#define MAX_STDERR      (64u << 10)

void
porch_print_job_free(PorchPrintJob *job)
{
    if (job == NULL)
        return;
    g_free(job->printer);
    g_free(job->title);
    g_free(job);
}

PorchClient *
porch_client_connect_print(const PorchConnectOptions *options, GCancellable *cancellable,
                           GError **error)
{
    return porch_client_connect_exec(options, cancellable, error);
}

/* ---- one command ----------------------------------------------------------------------- */

typedef struct {
    PorchClient *c;
    ssh_channel chan; /* c->chan */
    GCancellable *cancellable;
    PorchPrintProgressFunc progress;
    gpointer progress_data;
    guint64 sent, total;
    gint64 last_progress_call;

    GByteArray *out; /* standard output */
    guint max_out;   /* its most bytes: MAX_STDOUT unless set */
    GByteArray *err; /* standard error (its first MAX_STDERR bytes) */
} RemoteCommand;

static void
command_clear(RemoteCommand *cmd)
{
    g_clear_pointer(&cmd->out, g_byte_array_unref);
    g_clear_pointer(&cmd->err, g_byte_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RemoteCommand, command_clear)

static void
tell_progress(RemoteCommand *cmd, gboolean force)
{
    gint64 now = g_get_monotonic_time();

    if (cmd->progress == NULL)
        return;
    if (!force && now - cmd->last_progress_call < READ_POLL_MS * G_TIME_SPAN_MILLISECOND)
        return;
    cmd->last_progress_call = now;
    cmd->progress(cmd->sent, cmd->total, cmd->progress_data);
}

/* The session's timeout for blocking calls: @ms, or the client's own with @ms = 0. */
static void
set_session_timeout(PorchClient *c, long ms)
{
    long sec = ms > 0 ? 0 : c->timeout;
    long usec = ms > 0 ? ms * 1000 : 0;

    ssh_options_set(c->ssh, SSH_OPTIONS_TIMEOUT, &sec);
    ssh_options_set(c->ssh, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

/* Ends a command half way without an end of file (see the top of this file): the connection
 * is dropped, which frees the channel too. The client is unusable afterwards. */
static void
abort_command(RemoteCommand *cmd, const GError *why)
{
    PorchClient *c = cmd->c;

    ssh_disconnect(c->ssh); /* frees every channel of the session */
    c->chan = NULL;
    cmd->chan = NULL;
    if (c->fatal == NULL)
        c->fatal = g_error_copy(why);
}

static gboolean
connection_lost(PorchClient *c)
{
    return (ssh_get_status(c->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0 ||
           !ssh_is_connected(c->ssh);
}

/* Opens the channel and sends @line. */
static gboolean
start_command(RemoteCommand *cmd, const char *line, GError **error)
{
    PorchClient *c = cmd->c;

    if (c->fatal != NULL) {
        g_propagate_error(error, g_error_copy(c->fatal));
        return FALSE;
    }
    if (c->chan != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                    "this connection ran a command or SFTP already; porchd runs one command per "
                    "connection (porch_client_connect_print())");
        return FALSE;
    }
    if (g_cancellable_set_error_if_cancelled(cmd->cancellable, error))
        return FALSE;
    c->chan = cmd->chan = ssh_channel_new(c->ssh);
    if (cmd->chan == NULL || ssh_channel_open_session(cmd->chan) != SSH_OK) {
        g_set_error(error, G_IO_ERROR,
                    connection_lost(c) ? G_IO_ERROR_CONNECTION_CLOSED : G_IO_ERROR_FAILED,
                    "cannot open a channel: %s", ssh_get_error(c->ssh));
        return FALSE;
    }
    if (ssh_channel_request_exec(cmd->chan, line) != SSH_OK) {
        if (connection_lost(c))
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection lost: %s",
                        ssh_get_error(c->ssh));
        else
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "it does not take print commands (a porchd without printing?)");
        return FALSE;
    }
    cmd->out = g_byte_array_new();
    cmd->err = g_byte_array_new();
    return TRUE;
}

/* Whether porchd has said something or ended its side: then it reads no more. */
static gboolean
remote_finished(RemoteCommand *cmd)
{
    return ssh_channel_poll(cmd->chan, 1) != 0 || ssh_channel_poll(cmd->chan, 0) != 0;
}

/* Streams @fd to the channel and sends EOF. FALSE with @error set, the command aborted, when
 * the document could not be sent whole; TRUE also when porchd stopped reading early (it
 * refused the job: its status tells why). */
static gboolean
send_document(RemoteCommand *cmd, int fd, GError **error)
{
    PorchClient *c = cmd->c;
    g_autofree guint8 *buf = g_malloc(CHUNK_SIZE);
    gsize len = 0, at = 0;
    gboolean end = FALSE;
    gint64 last_moved = g_get_monotonic_time();
    g_autoptr(GError) local = NULL;

    set_session_timeout(c, SEND_POLL_MS);
    while (local == NULL) {
        int n;

        /* the caller may cancel from its callback: always ask it before the end of file */
        tell_progress(cmd, at == len && end);
        if (g_cancellable_set_error_if_cancelled(cmd->cancellable, &local))
            break;
        if (remote_finished(cmd))
            break; /* it refused, or failed: read why */
        if (at == len && end) {
            set_session_timeout(c, 0);
            if (ssh_channel_send_eof(cmd->chan) == SSH_OK)
                return TRUE;
            if (connection_lost(c)) {
                g_set_error(&local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection lost: %s",
                            ssh_get_error(c->ssh));
                break;
            }
            return TRUE; /* the channel is closing: its status says why */
        }
        if (at == len) {
            gssize r = read(fd, buf, CHUNK_SIZE);

            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                int e = errno;
                g_set_error(&local, G_IO_ERROR, g_io_error_from_errno(e),
                            "cannot read the document: %s", g_strerror(e));
                break;
            }
            len = (gsize)r;
            at = 0;
            end = r == 0;
            continue;
        }
        n = ssh_channel_write(cmd->chan, buf + at, (guint32)(len - at));
        if (n < 0) {
            if (connection_lost(c)) {
                g_set_error(&local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                            "connection lost while sending the document: %s",
                            ssh_get_error(c->ssh));
                break;
            }
            /* porchd closed the channel (it refused): its status says why */
            set_session_timeout(c, 0);
            return TRUE;
        }
        if (n > 0) {
            at += (gsize)n;
            cmd->sent += (guint64)n;
            last_moved = g_get_monotonic_time();
            continue;
        }
        /* no window within SEND_POLL_MS: porchd (or its CUPS) is slow */
        if (g_get_monotonic_time() - last_moved > (gint64)c->timeout * G_USEC_PER_SEC)
            g_set_error(&local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "the neighbour took no data for %d s", c->timeout);
    }
    if (local == NULL) {
        set_session_timeout(c, 0);
        return TRUE;
    }
    abort_command(cmd, local);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* Reads standard error as far as it came (it is never waited for on its own). */
static gboolean
drain_stderr(RemoteCommand *cmd)
{
    guint8 buf[4096];

    for (;;) {
        int n = ssh_channel_read_nonblocking(cmd->chan, buf, sizeof buf, 1);
        if (n <= 0)
            return n == 0 || n == SSH_EOF;
        if (cmd->err->len < MAX_STDERR)
            g_byte_array_append(cmd->err, buf, (guint)MIN((guint)n, MAX_STDERR - cmd->err->len));
    }
}

/* Reads both outputs until porchd's EOF, then takes the exit status. Returns the status (-1
 * when porchd gave none), or -2 with @error set. */
static int
finish_command(RemoteCommand *cmd, GError **error)
{
    PorchClient *c = cmd->c;
    g_autofree guint8 *buf = g_malloc(CHUNK_SIZE);
    gint64 last_moved = g_get_monotonic_time();
    g_autoptr(GError) local = NULL;
    int status;

    while (local == NULL) {
        int n;

        tell_progress(cmd, FALSE);
        if (g_cancellable_set_error_if_cancelled(cmd->cancellable, &local))
            break;
        n = porch_channel_read_timeout(cmd->chan, buf, CHUNK_SIZE, 0, READ_POLL_MS);
        if (!drain_stderr(cmd) && n >= 0 && connection_lost(c))
            n = SSH_ERROR;
        if (n > 0) {
            guint max_out = cmd->max_out > 0 ? cmd->max_out : MAX_STDOUT;

            if ((guint)n > max_out - cmd->out->len) {
                g_set_error(&local, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "the neighbour's reply is longer than %u bytes", max_out);
                break;
            }
            g_byte_array_append(cmd->out, buf, (guint)n);
            last_moved = g_get_monotonic_time();
            continue;
        }
        if (n < 0) {
            /* the channel closed without EOF: an exit status may have come before */
            if (connection_lost(c))
                g_set_error(&local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection lost: %s",
                            ssh_get_error(c->ssh));
            break;
        }
        if (ssh_channel_is_eof(cmd->chan))
            break;
        if (g_get_monotonic_time() - last_moved > (gint64)c->timeout * G_USEC_PER_SEC)
            g_set_error(&local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no reply from the neighbour for %d s", c->timeout);
    }
    if (local != NULL) {
        abort_command(cmd, local);
        g_propagate_error(error, g_steal_pointer(&local));
        return -2;
    }
    /* porchd sends the status before its EOF: this does not wait (or, from a neighbour that
     * sends none, until it closes the channel or the client's timeout) */
    status = ssh_channel_get_exit_status(cmd->chan);
    drain_stderr(cmd);
    ssh_channel_close(cmd->chan);
    return status < 0 ? -1 : status;
}

GError *
porch_print_status_error(int status, const char *data, gsize len)
{
    const char *nl = len > 0 ? memchr(data, '\n', len) : NULL;
    gsize n = nl != NULL ? (gsize)(nl - data) : len;
    g_autofree char *line = NULL;
    PorchPrintError code;
    const char *fallback;

    /* the first line without its leading blanks, then cut */
    while (n > 0 && g_ascii_isspace(*data)) {
        data++;
        n--;
    }
    line = porch_text_show(data, (gssize)n, PORCH_PRINT_MAX_MESSAGE, PORCH_TEXT_ONE_LINE);

    switch (status) {
    case PORCH_PRINT_ERROR_USAGE:
        code = status;
        fallback = "porchd did not understand the command";
        break;
    case PORCH_PRINT_ERROR_REJECTED:
        code = status;
        fallback = "the job was refused";
        break;
    case PORCH_PRINT_ERROR_NO_SUCH:
        code = status;
        fallback = "no such printer or job";
        break;
    case PORCH_PRINT_ERROR_UNAVAILABLE:
        code = status;
        fallback = "the printer's CUPS is not running; try later";
        break;
    case PORCH_PRINT_ERROR_INCOMPLETE:
        code = status;
        fallback = "the document did not arrive whole; the job was cancelled";
        break;
    case PORCH_PRINT_ERROR_NOT_ALLOWED:
        code = status;
        fallback = "not allowed";
        break;
    default:
        code = PORCH_PRINT_ERROR_FAILED;
        fallback = NULL;
        break;
    }
    g_strstrip(line);
    if (*line != '\0')
        return g_error_new(PORCH_PRINT_ERROR, code, "%s", line);
    if (fallback != NULL)
        return g_error_new(PORCH_PRINT_ERROR, code, "%s", fallback);
    if (status < 0)
        return g_error_new(PORCH_PRINT_ERROR, code,
                           "the neighbour ended the command without a status");
    return g_error_new(PORCH_PRINT_ERROR, code, "failed on the neighbour (status %d)", status);
}

/* Runs @line; with @fd >= 0 streams it as standard input. TRUE with standard output in
 * cmd->out when the status was 0. */
static gboolean
run(RemoteCommand *cmd, const char *line, int fd, GError **error)
{
    int status;

    if (!start_command(cmd, line, error))
        return FALSE;
    if (fd >= 0) {
        if (!send_document(cmd, fd, error))
            return FALSE;
    } else if (ssh_channel_send_eof(cmd->chan) != SSH_OK && connection_lost(cmd->c)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection lost: %s",
                    ssh_get_error(cmd->c->ssh));
        return FALSE;
    }
    status = finish_command(cmd, error);
    if (status == -2)
        return FALSE;
    if (status != 0) {
        g_propagate_error(error, porch_print_status_error(status, (const char *)cmd->err->data,
                                                          cmd->err->len));
        return FALSE;
    }
    return TRUE;
}

/* "VERB [OPTIONS] -- ARGS...", each quoted for g_shell_parse_argv(). */
static char *
command_line(const char *verb, const char *options, const char *const *args)
{
    g_autoptr(GString) s = g_string_new(verb);

    if (options != NULL)
        g_string_append_printf(s, " %s", options);
    g_string_append(s, " --");
    for (guint i = 0; args[i] != NULL; i++) {
        g_autofree char *q = g_shell_quote(args[i]);
        g_string_append_printf(s, " %s", q);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* @title cut to PORCH_PRINT_MAX_TITLE bytes, valid UTF-8, without control characters. */
static char *
clean_title(const char *title)
{
    return porch_text_show(title, -1, PORCH_PRINT_MAX_TITLE, PORCH_TEXT_ONE_LINE);
}

gboolean
porch_client_print(PorchClient *client, const char *printer, int fd, guint copies,
                   const char *title, gint *ret_job_id, PorchPrintProgressFunc progress,
                   gpointer progress_data, GCancellable *cancellable, GError **error)
{
    g_auto(RemoteCommand) cmd = {0};
    g_autoptr(GString) options = g_string_new(NULL);
    g_autofree char *line = NULL;
    const char *args[] = {printer, NULL};
    struct stat st;

    g_return_val_if_fail(client != NULL, FALSE);
    g_return_val_if_fail(printer != NULL && *printer != '\0', FALSE);
    g_return_val_if_fail(fd >= 0, FALSE);
    g_return_val_if_fail(copies >= 1, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (copies > PORCH_PRINT_MAX_COPIES) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%u copies: at most %d at a time", copies, PORCH_PRINT_MAX_COPIES);
        return FALSE;
    }
    g_string_append_printf(options, PORCH_PRINT_OPT_COPIES " %u", copies);
    if (title != NULL && *title != '\0') {
        g_autofree char *t = clean_title(title);
        g_autofree char *q = g_shell_quote(t);
        g_string_append_printf(options, " " PORCH_PRINT_OPT_TITLE " %s", q);
    }
    line = command_line(PORCH_PRINT_CMD_PRINT, options->str, args);
    if (strlen(line) > PORCH_PRINT_MAX_COMMAND) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "the printer's name is too long");
        return FALSE;
    }

    cmd.c = client;
    cmd.cancellable = cancellable;
    cmd.progress = progress;
    cmd.progress_data = progress_data;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t pos = lseek(fd, 0, SEEK_CUR);
        cmd.total = (guint64)st.st_size - (guint64)(pos > 0 && pos <= st.st_size ? pos : 0);
    }
    if (!run(&cmd, line, fd, error))
        return FALSE;
    return porch_print_parse_job_id((const char *)cmd.out->data, cmd.out->len,
                                    ret_job_id != NULL ? ret_job_id : &(gint){0}, error);
}

gboolean
porch_print_parse_job_id(const char *data, gsize len, gint *ret_job_id, GError **error)
{
    g_autofree char *reply = NULL;
    gint64 id;

    g_return_val_if_fail(data != NULL || len == 0, FALSE);
    g_return_val_if_fail(ret_job_id != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    reply = g_strndup(len > 0 ? data : "", len);
    g_strstrip(reply);
    if ((len > 0 && memchr(data, '\0', len) != NULL) ||
        !porch_text_to_signed(reply, 10, 1, G_MAXINT, &id, NULL)) {
        g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                    "the neighbour printed but gave no job id");
        return FALSE;
    }
    /* success */
    *ret_job_id = (gint)id;
    return TRUE;
}

/* One line of "jobs" (@len bytes, no NUL): ID PRINTER STATE SIZE-KB CREATED TITLE,
 * tab-separated; NULL when it is malformed. */
static PorchPrintJob *
parse_job(const char *data, gsize len)
{
    g_autofree char *line = g_strndup(data, len);
    g_auto(GStrv) f = g_strsplit(line, "\t", PORCH_PRINT_JOB_FIELDS);
    g_autoptr(PorchPrintJob) job = g_new0(PorchPrintJob, 1);
    gint64 id, created;
    guint64 size;

    if (g_strv_length(f) != PORCH_PRINT_JOB_FIELDS ||
        !porch_text_to_signed(f[0], 10, 1, G_MAXINT, &id, NULL) ||
        !porch_text_to_unsigned(f[3], 10, 0, G_MAXUINT64, &size, NULL) ||
        !porch_text_to_signed(f[4], 10, G_MININT64, G_MAXINT64, &created, NULL) || f[1][0] == '\0')
        return NULL;
    job->id = (int)id;
    job->printer = porch_text_show(f[1], -1, G_MAXSIZE, PORCH_TEXT_ONE_LINE);
    job->state = porch_print_job_state_from_string(f[2]);
    job->size_kb = size;
    job->created = created;
    job->title = clean_title(f[5]);
    return g_steal_pointer(&job);
}

GPtrArray *
porch_print_parse_jobs(const char *data, gsize len, GError **error)
{
    g_autoptr(GPtrArray) jobs =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_print_job_free);
    guint line = 0;

    g_return_val_if_fail(data != NULL || len == 0, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    for (gsize at = 0; at < len;) {
        const char *start = data + at;
        const char *nl = memchr(start, '\n', len - at);
        gsize n = nl != NULL ? (gsize)(nl - start) : len - at;
        PorchPrintJob *job;

        at += n + (nl != NULL);
        line++;
        if (n == 0)
            continue;
        if (jobs->len == PORCH_PRINT_MAX_JOBS) {
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "the list of jobs is longer than %d jobs", PORCH_PRINT_MAX_JOBS);
            return NULL;
        }
        job = memchr(start, '\0', n) == NULL ? parse_job(start, n) : NULL;
        if (job == NULL) {
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "a malformed line in the list of jobs (line %u)", line);
            return NULL;
        }
        g_ptr_array_add(jobs, job);
    }
    /* success */
    return g_steal_pointer(&jobs);
}

gboolean
porch_client_jobs(PorchClient *client, const char *printer, GPtrArray **ret_jobs, GError **error)
{
    g_auto(RemoteCommand) cmd = {0};
    g_autofree char *line = NULL;
    GPtrArray *jobs;
    const char *args[] = {printer, NULL};

    g_return_val_if_fail(client != NULL, FALSE);
    g_return_val_if_fail(ret_jobs != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    line = command_line(PORCH_PRINT_CMD_JOBS, NULL, args);
    if (strlen(line) > PORCH_PRINT_MAX_COMMAND) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "the printer's name is too long");
        return FALSE;
    }
    cmd.c = client;
    cmd.max_out = MAX_STDOUT_JOBS;
    if (!run(&cmd, line, -1, error))
        return FALSE;
    jobs = porch_print_parse_jobs((const char *)cmd.out->data, cmd.out->len, error);
    if (jobs == NULL)
        return FALSE;
    /* success */
    *ret_jobs = jobs;
    return TRUE;
}

gboolean
porch_client_cancel(PorchClient *client, const char *printer, int job_id, GError **error)
{
    g_auto(RemoteCommand) cmd = {0};
    g_autofree char *line = NULL;
    g_autofree char *id = NULL;
    const char *args[] = {printer, NULL, NULL};

    g_return_val_if_fail(client != NULL, FALSE);
    g_return_val_if_fail(printer != NULL && *printer != '\0', FALSE);
    g_return_val_if_fail(job_id > 0, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    id = g_strdup_printf("%d", job_id);
    args[1] = id;
    line = command_line(PORCH_PRINT_CMD_CANCEL, NULL, args);
    if (strlen(line) > PORCH_PRINT_MAX_COMMAND) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "the printer's name is too long");
        return FALSE;
    }
    cmd.c = client;
    return run(&cmd, line, -1, error);
}

/* ---- status ------------------------------------------------------------------------------ */

void
porch_host_status_free(PorchHostStatus *status)
{
    if (status == NULL)
        return;
    g_free(status->name);
    g_strfreev(status->shares);
    g_strfreev(status->printers);
    g_free(status);
}

/* Whether @value (@len bytes) is a name as "status" gives them. */
static gboolean
status_value_ok(const char *value, gsize len)
{
    if (len == 0 || len > PORCH_NAME_MAX || !g_utf8_validate_len(value, len, NULL))
        return FALSE;
    for (const char *p = value; p < value + len; p = g_utf8_next_char(p))
        if (g_unichar_iscntrl(g_utf8_get_char(p)))
            return FALSE;
    return TRUE;
}

PorchHostStatus *
porch_print_parse_status(const char *data, gsize len, GError **error)
{
    g_autoptr(GStrvBuilder) shares = g_strv_builder_new();
    g_autoptr(GStrvBuilder) printers = g_strv_builder_new();
    g_autoptr(PorchHostStatus) status = g_new0(PorchHostStatus, 1);
    guint line = 0, entries = 0;

    g_return_val_if_fail(data != NULL || len == 0, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    for (gsize at = 0; at < len;) {
        const char *start = data + at;
        const char *nl = memchr(start, '\n', len - at);
        gsize n = nl != NULL ? (gsize)(nl - start) : len - at;
        const char *tab = memchr(start, '\t', n);
        gsize key_len = tab != NULL ? (gsize)(tab - start) : 0;
        const char *value = tab != NULL ? tab + 1 : NULL;
        gsize value_len = tab != NULL ? n - key_len - 1 : 0;
        g_autofree char *key = NULL;

        at += n + (nl != NULL);
        line++;
        if (n == 0)
            continue;
        if (tab == NULL || memchr(start, '\0', n) != NULL || !status_value_ok(value, value_len))
            goto malformed;
        key = g_strndup(start, key_len);
        if (status->name == NULL && strcmp(key, PORCH_STATUS_KEY_NAME) != 0)
            goto malformed;
        if (strcmp(key, PORCH_STATUS_KEY_NAME) == 0) {
            if (status->name != NULL)
                goto malformed;
            status->name = g_strndup(value, value_len);
            continue;
        }
        if (strcmp(key, PORCH_STATUS_KEY_TIME) == 0) {
            g_autofree char *v = g_strndup(value, value_len);
            guint64 t = 0;

            /* digits only: no sign, no blanks, no more than fit */
            if (status->time_us != 0 || value_len > PORCH_STATUS_MAX_TIME_DIGITS ||
                strspn(v, "0123456789") != value_len ||
                !porch_text_to_unsigned(v, 10, 1, G_MAXINT64, &t, NULL))
                goto malformed;
            status->time_us = (gint64)t;
            continue;
        }
        if (strcmp(key, PORCH_STATUS_KEY_SHARE) != 0 && strcmp(key, PORCH_STATUS_KEY_PRINTER) != 0)
            continue; /* a key of a later version */
        if (++entries > PORCH_STATUS_MAX_ENTRIES) {
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "the status lists more than %d shares and printers",
                        PORCH_STATUS_MAX_ENTRIES);
            return NULL;
        }
        {
            g_autofree char *v = g_strndup(value, value_len);
            g_strv_builder_add(strcmp(key, PORCH_STATUS_KEY_SHARE) == 0 ? shares : printers, v);
        }
    }
    if (status->name == NULL) {
        g_set_error_literal(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                            "the status names no host");
        return NULL;
    }
    status->shares = g_strv_builder_end(shares);
    status->printers = g_strv_builder_end(printers);
    /* success */
    return g_steal_pointer(&status);

malformed:
    g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                "a malformed line in the status (line %u)", line);
    return NULL;
}

void
porch_search_match_free(PorchSearchMatch *m)
{
    if (m == NULL)
        return;
    g_free(m->share);
    g_free(m->path);
    g_free(m->sha256);
    g_free(m);
}

/* A path beneath a share as "search" gives it: relative, no empty, "." or ".." part. */
static gboolean
search_path_ok(const char *path)
{
    g_auto(GStrv) parts = NULL;

    if (path[0] == '/')
        return FALSE;
    parts = g_strsplit(path, "/", -1);
    for (guint i = 0; parts[i] != NULL; i++)
        if (parts[i][0] == '\0' || strcmp(parts[i], ".") == 0 || strcmp(parts[i], "..") == 0)
            return FALSE;
    return TRUE;
}

static gboolean
field_ok(const char *value, gsize len, gsize max)
{
    if (len == 0 || len > max || !g_utf8_validate_len(value, len, NULL))
        return FALSE;
    for (const char *p = value; p < value + len; p = g_utf8_next_char(p))
        if (g_unichar_iscntrl(g_utf8_get_char(p)))
            return FALSE;
    return TRUE;
}

GPtrArray *
porch_print_parse_search(const char *data, gsize len, GError **error)
{
    g_autoptr(GPtrArray) matches =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_search_match_free);
    guint line = 0;

    for (gsize at = 0; at < len;) {
        const char *start = data + at;
        const char *nl = memchr(start, '\n', len - at);
        gsize n = nl != NULL ? (gsize)(nl - start) : len - at;
        g_autoptr(PorchSearchMatch) m = NULL;
        g_auto(GStrv) fields = NULL;
        g_autofree char *text = NULL;
        guint64 size;

        at += n + (nl != NULL);
        line++;
        if (n == 0)
            continue;
        if (memchr(start, '\0', n) != NULL)
            goto malformed;
        text = g_strndup(start, n);
        fields = g_strsplit(text, "\t", 5);
        if (g_strv_length(fields) != 4 || !field_ok(fields[0], strlen(fields[0]), PORCH_NAME_MAX) ||
            !field_ok(fields[1], strlen(fields[1]), PORCH_WIRE_MAX_PATH) ||
            !search_path_ok(fields[1]) ||
            !porch_text_to_unsigned(fields[2], 10, 0, G_MAXINT64, &size, NULL) ||
            strlen(fields[3]) != 64 || strspn(fields[3], "0123456789abcdef") != 64)
            goto malformed;
        if (matches->len >= PORCH_SEARCH_MAX_RESULTS) {
            g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                        "the search answer lists more than %d files", PORCH_SEARCH_MAX_RESULTS);
            return NULL;
        }
        m = g_new0(PorchSearchMatch, 1);
        m->share = g_strdup(fields[0]);
        m->path = g_strdup(fields[1]);
        m->size = size;
        m->sha256 = g_strdup(fields[3]);
        g_ptr_array_add(matches, g_steal_pointer(&m));
    }
    return g_steal_pointer(&matches);

malformed:
    g_set_error(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL,
                "a malformed line in the search answer (line %u)", line);
    return NULL;
}

gboolean
porch_client_search(PorchClient *client, const char *pattern, const char *sha256,
                    GPtrArray **ret_matches, GError **error)
{
    g_auto(RemoteCommand) cmd = {0};
    g_autofree char *line = NULL;
    GPtrArray *matches;

    g_return_val_if_fail(client != NULL, FALSE);
    g_return_val_if_fail((pattern == NULL) != (sha256 == NULL), FALSE);
    g_return_val_if_fail(ret_matches != NULL, FALSE);

    if (pattern != NULL) {
        const char *args[] = {pattern, NULL};
        line = command_line(PORCH_PRINT_CMD_SEARCH, NULL, args);
    } else {
        g_autofree char *option = g_strdup_printf(PORCH_SEARCH_OPT_SHA256 "=%s", sha256);
        const char *args[] = {NULL};
        line = command_line(PORCH_PRINT_CMD_SEARCH, option, args);
    }
    cmd.c = client;
    cmd.max_out = PORCH_SEARCH_MAX_REPLY;
    if (!run(&cmd, line, -1, error))
        return FALSE;
    matches = porch_print_parse_search((const char *)cmd.out->data, cmd.out->len, error);
    if (matches == NULL)
        return FALSE;
    *ret_matches = matches;
    return TRUE;
}

gboolean
porch_client_status(PorchClient *client, PorchHostStatus **ret_status, GError **error)
{
    g_auto(RemoteCommand) cmd = {0};
    PorchHostStatus *status;

    g_return_val_if_fail(client != NULL, FALSE);
    g_return_val_if_fail(ret_status != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    cmd.c = client;
    cmd.max_out = PORCH_STATUS_MAX_REPLY;
    if (!run(&cmd, PORCH_PRINT_CMD_STATUS, -1, error))
        return FALSE;
    status = porch_print_parse_status((const char *)cmd.out->data, cmd.out->len, error);
    if (status == NULL)
        return FALSE;
    /* success */
    *ret_status = status;
    return TRUE;
}
