/* porch-printer-add.c — the CUPS queue of a printer seen on the network, made with lpadmin. */
#include "porch-printer-add.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#ifndef PORCH_PPD_FILE
#define PORCH_PPD_FILE "/usr/share/porch/porch.ppd"
#endif

#define MAX_QUEUE_NAME 127

/* A character CUPS refuses in a queue name (lpadmin's validate_name(); non-ASCII as well). */
static gboolean
bad_queue_char(gunichar c)
{
    return c <= ' ' || c >= 127 || strchr("/\\?'\"#", (int)c) != NULL;
}

gboolean
porch_printer_queue_name_is_valid(const char *name)
{
    if (name == NULL || *name == '\0' || strlen(name) > MAX_QUEUE_NAME ||
        !g_utf8_validate(name, -1, NULL))
        return FALSE;
    for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p))
        if (bad_queue_char(g_utf8_get_char(p)))
            return FALSE;
    return TRUE;
}

char *
porch_printer_default_queue_name(const char *printer, const char *host)
{
    g_autofree char *joined = g_strconcat(printer, host != NULL ? "@" : NULL, host, NULL);
    g_autofree char *valid = g_utf8_make_valid(joined, -1);
    g_autoptr(GString) s = g_string_new(NULL);

    for (const char *p = valid; *p != '\0' && s->len < MAX_QUEUE_NAME; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        g_string_append_c(s, bad_queue_char(c) ? '_' : (char)c);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

char *
porch_printer_porch_uri(const char *host, guint16 port, const char *printer)
{
    g_autofree char *h = NULL;
    g_autofree char *path = g_uri_escape_string(printer, "!$&'()*+,;=:@", FALSE);
    g_autoptr(GString) s = g_string_new("porch://");

    if (strchr(host, ':') != NULL) {
        /* an IPv6 address; its zone's '%' escaped */
        h = g_uri_escape_string(host, ":", FALSE);
        g_string_append_printf(s, "[%s]", h);
    } else {
        h = g_uri_escape_string(host, "!$&'()*+,;=", FALSE);
        g_string_append(s, h);
    }
    if (port != 0)
        g_string_append_printf(s, ":%u", (unsigned)port);
    g_string_append_printf(s, "/%s", path);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

char *
porch_printer_ppd_file(GError **error)
{
    const char *ppd = g_getenv("PORCH_PPD");

    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (ppd == NULL || *ppd == '\0')
        ppd = PORCH_PPD_FILE;
    if (access(ppd, R_OK) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s: the PPD file cannot be read (%s); is Porch installed?", ppd,
                    g_strerror(e));
        return NULL;
    }
    return g_strdup(ppd);
}

GStrv
porch_printer_lpadmin_argv(const char *queue, const char *device_uri, const char *ppd,
                           const char *description)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autofree char *lpadmin = g_find_program_in_path("lpadmin");

    g_strv_builder_add(b, lpadmin != NULL ? lpadmin : "/usr/sbin/lpadmin");
    g_strv_builder_add_many(b, "-p", queue, "-E", "-v", device_uri, NULL);
    if (ppd != NULL)
        g_strv_builder_add_many(b, "-P", ppd, NULL);
    else
        g_strv_builder_add_many(b, "-m", "everywhere", NULL);
    if (description != NULL)
        g_strv_builder_add_many(b, "-D", description, NULL);
    if (ppd != NULL)
        g_strv_builder_add_many(b, "-o", "printer-error-policy=abort-job", "-o",
                                "printer-is-shared=false", NULL);
    return g_strv_builder_end(b);
}

/* lpadmin's exit and what it said, as the error described in the header. */
static gboolean
check_exit(GSubprocess *proc, const char *err, GError **error)
{
    g_autofree char *said = NULL;
    int code = G_IO_ERROR_FAILED;

    if (g_subprocess_get_successful(proc))
        return TRUE;
    said = g_strstrip(g_strdup(err != NULL ? err : ""));
    if (*said == '\0') {
        g_free(said);
        if (g_subprocess_get_if_exited(proc))
            said = g_strdup_printf("lpadmin failed (exit status %d)",
                                   g_subprocess_get_exit_status(proc));
        else
            said = g_strdup("lpadmin was killed");
    }
    if (strstr(said, "Forbidden") != NULL || strstr(said, "nauthorized") != NULL ||
        strstr(said, "ermission") != NULL)
        code = G_IO_ERROR_PERMISSION_DENIED;
    else if (strstr(said, "scheme") != NULL)
        code = G_IO_ERROR_NOT_SUPPORTED;
    g_set_error_literal(error, G_IO_ERROR, code, said);
    return FALSE;
}

static GSubprocess *
spawn(const char *const *argv, GError **error)
{
    GSubprocess *proc = g_subprocess_newv(
            argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);

    if (proc == NULL && error != NULL && *error != NULL && (*error)->domain == G_SPAWN_ERROR &&
        (*error)->code == G_SPAWN_ERROR_NOENT) {
        g_clear_error(error);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "%s: not found (is CUPS's client, cups-client, installed?)", argv[0]);
    }
    return proc;
}

gboolean
porch_printer_lpadmin_run(const char *const *argv, GCancellable *cancellable, GError **error)
{
    g_autoptr(GSubprocess) proc = NULL;
    g_autofree char *err = NULL;

    g_return_val_if_fail(argv != NULL && argv[0] != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    proc = spawn(argv, error);
    if (proc == NULL)
        return FALSE;
    if (!g_subprocess_communicate_utf8(proc, NULL, cancellable, NULL, &err, error)) {
        g_subprocess_force_exit(proc);
        return FALSE;
    }
    return check_exit(proc, err, error);
}

static void
on_communicated(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GTask) task = data;
    GSubprocess *proc = G_SUBPROCESS(source);
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;

    if (!g_subprocess_communicate_utf8_finish(proc, result, NULL, &err, &error)) {
        g_subprocess_force_exit(proc);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (!check_exit(proc, err, &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_boolean(task, TRUE);
}

void
porch_printer_lpadmin_run_async(const char *const *argv, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) proc = NULL;

    g_return_if_fail(argv != NULL && argv[0] != NULL);
    g_task_set_source_tag(task, porch_printer_lpadmin_run_async);
    proc = spawn(argv, &error);
    if (proc == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_subprocess_communicate_utf8_async(proc, NULL, cancellable, on_communicated,
                                        g_steal_pointer(&task));
}

gboolean
porch_printer_lpadmin_run_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

const char *
porch_printer_lpadmin_hint(const GError *error)
{
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
        return "adding a printer takes root or the lpadmin group";
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        return "CUPS has no backend for this printer's address (for porch://: is Porch "
               "installed?)";
    return NULL;
}
