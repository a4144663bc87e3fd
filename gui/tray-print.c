/* tray-print.c — printing from the tray: "Print a file…" on a neighbour's Porch printer (a
 * GTask worker with a print connection of its own, shared/porch-print-client.h) and "Add to
 * this computer" for a neighbour's Porch printer or an IPP printer nearby (lpadmin as an
 * asynchronous GSubprocess, shared/porch-printer-add.h, the same queues `porch printer add`
 * makes). Nothing here waits on the main loop; the outcome is a notification, and a failure a
 * dialog with the reason. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "porch-config.h"
#include "porch-print-client.h"
#include "porch-printer-add.h"
#include "porch-state.h"
#include "tray-connect.h"
#include "tray-print.h"

struct _PorchTrayPrinting {
    GObject parent_instance;
    PorchTrayModel *model;
    GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE(PorchTrayPrinting, porch_tray_printing, G_TYPE_OBJECT)

/* A running operation, on the main thread (its state is the model's). */
typedef struct {
    PorchTrayModel *model; /* a reference, for the completion */
    guint id;
    char *what;  /* "hello.txt on Office", "Office@Alice_s_laptop" */
    char *queue; /* adding: the queue's name */
    char *host;
    char *printer; /* of a Porch neighbour */
} Op;

/* What a print worker reads: the task's own, so that it never touches the Op (a worker that
 * outlives the tray's wait for it holds nothing of the main thread's). */
typedef struct {
    PorchNeighbour *neighbour;
    char *printer;
    char *path;
    PorchTrayConnect *connect;
    gint connected; /* atomic: the worker reached the neighbour */
} PrintWork;

static void
print_work_free(PrintWork *work)
{
    porch_neighbour_unref(work->neighbour);
    g_free(work->printer);
    g_free(work->path);
    porch_tray_connect_free(work->connect);
    g_free(work);
}

static void
porch_tray_printing_init(PorchTrayPrinting *self)
{
}

static void
porch_tray_printing_dispose(GObject *object)
{
    PorchTrayPrinting *self = PORCH_TRAY_PRINTING(object);

    if (self->chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
        g_clear_object(&self->chooser);
    }
    g_clear_object(&self->model);
    G_OBJECT_CLASS(porch_tray_printing_parent_class)->dispose(object);
}

static void
porch_tray_printing_class_init(PorchTrayPrintingClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = porch_tray_printing_dispose;
}

PorchTrayPrinting *
porch_tray_printing_new(PorchTrayModel *model)
{
    PorchTrayPrinting *self = g_object_new(PORCH_TYPE_TRAY_PRINTING, NULL);

    self->model = g_object_ref(model);
    return self;
}

static void
op_free(Op *op)
{
    g_clear_object(&op->model);
    g_free(op->what);
    g_free(op->queue);
    g_free(op->host);
    g_free(op->printer);
    g_free(op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Op, op_free)

/* A new operation of @model's about @host, running (@queue: the queue an added printer
 * gets, or NULL). */
static Op *
op_new(PorchTrayModel *model, const char *host, const char *queue, GCancellable *cancellable)
{
    Op *op = g_new0(Op, 1);

    op->model = g_object_ref(model);
    op->id = porch_tray_model_print_add(model, queue, cancellable);
    op->host = g_strdup(host);
    op->queue = g_strdup(queue);
    return op;
}

/* ------------------------------------------------------------------------------------------
 * Telling the user */

static void
on_dialog_response(GtkDialog *dialog, int response, gpointer data)
{
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

/* A failure dialog over the window; it goes when the user closes it, or when the tray
 * closes. */
static void
show_failure(PorchTrayModel *model, const char *title, const char *primary, const char *secondary)
{
    GtkWidget *d = gtk_message_dialog_new(porch_tray_model_get_dialog_parent(model),
                                          GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_ERROR,
                                          GTK_BUTTONS_CLOSE, "%s", primary);

    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
    gtk_window_set_title(GTK_WINDOW(d), title);
    atk_object_set_name(gtk_widget_get_accessible(d), primary);
    g_signal_connect(d, "response", G_CALLBACK(on_dialog_response), NULL);
    g_signal_connect_object(model, "notify::closing", G_CALLBACK(gtk_widget_destroy), d,
                            G_CONNECT_SWAPPED);
    gtk_widget_show_all(d);
}

static void
notify(Op *op, const char *title, const char *body)
{
    GApplication *app = G_APPLICATION(porch_tray_model_get_application(op->model));
    g_autoptr(GNotification) note = NULL;
    g_autofree char *id = g_strdup_printf("print-%u", op->id);

    /* Notifications go through the session bus: none, none to send. */
    if (app == NULL || g_application_get_dbus_connection(app) == NULL)
        return;
    note = g_notification_new(title);
    g_notification_set_body(note, body);
    g_application_send_notification(app, id, note);
}

/* ------------------------------------------------------------------------------------------
 * Print a file */

static void
print_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    PrintWork *work = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autofree char *title = g_path_get_basename(work->path);
    struct stat st;
    int fd, job_id = 0;
    gboolean ok;

    /* the document first: nothing to connect for when it cannot be read */
    fd = open(work->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        g_task_return_new_error(task, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", work->path,
                                g_strerror(e));
        return;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                                "%s is a folder; Porch prints files", work->path);
        return;
    }
    client = porch_tray_connect_run_print(work->connect, work->neighbour, cancellable, &error);
    if (client == NULL) {
        close(fd);
        g_prefix_error(&error, "connecting: ");
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_atomic_int_set(&work->connected, 1);
    ok = porch_client_print(client, work->printer, fd, 1, title, &job_id, NULL, NULL, cancellable,
                            &error);
    close(fd);
    if (!ok) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_int(task, job_id);
}

/* Printing @op failed with @error: the neighbour is marked unreachable when it could not be
 * reached, and the user is told. */
static void
print_failed(Op *op, const GError *error, gboolean connected)
{
    g_autofree char *primary = g_strdup_printf("Could not print %s", op->what);
    g_autofree char *secondary = NULL;

    if (!connected)
        porch_tray_contact_failed(op->model, op->host, error);
    if (g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_NOT_ALLOWED))
        secondary = g_strdup_printf("%s\n\nThe owner of the neighbour can give your key "
                                    "the print right on %s (your key's fingerprint: "
                                    "porch id).",
                                    error->message, op->printer);
    else
        secondary = g_strdup(error->message);
    notify(op, "Printing failed", error->message);
    show_failure(op->model, "Porch — printing failed", primary, secondary);
}

static void
print_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(Op) op = data;
    PorchTrayModel *model = op->model;
    PrintWork *work = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    gssize job_id;

    job_id = g_task_propagate_int(G_TASK(result), &error);
    if (error == NULL) {
        g_autofree char *message = g_strdup_printf("job %d on %s", (int)job_id, op->printer);
        porch_tray_model_print_finish(model, op->id, PORCH_TRAY_PRINT_DONE, message);
        porch_tray_contact_ok(model, op->host);
        notify(op, "Sent to the printer", op->what);
    } else {
        porch_tray_model_print_finish(model, op->id, PORCH_TRAY_PRINT_FAILED, error->message);
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
            !porch_tray_model_is_closing(model))
            print_failed(op, error, g_atomic_int_get(&work->connected));
    }
    porch_tray_model_worker_done(model); /* the Op's reference keeps the model till its end */
}

guint
porch_tray_printing_print_file(PorchTrayPrinting *self, const char *host, const char *printer,
                               const char *path)
{
    g_autoptr(PorchNeighbour) n = NULL;
    g_autoptr(GTask) task = NULL;
    g_autoptr(GCancellable) cancellable = NULL;
    g_autofree char *base = NULL;
    PrintWork *work;
    Op *op;
    guint id;

    g_return_val_if_fail(host != NULL && printer != NULL && path != NULL, 0);
    n = porch_tray_model_find_neighbour(self->model, host);
    if (n == NULL || !porch_neighbour_is_porch(n))
        return 0;
    cancellable = g_cancellable_new();
    op = op_new(self->model, host, NULL, cancellable);
    id = op->id;
    base = g_path_get_basename(path);
    op->what = g_strdup_printf("%s on %s", base, printer);
    op->printer = g_strdup(printer);
    work = g_new0(PrintWork, 1);
    work->neighbour = porch_neighbour_ref(n);
    work->printer = g_strdup(printer);
    work->path = g_strdup(path);
    work->connect = porch_tray_connect_new(self->model);
    porch_tray_model_worker_start(self->model);
    task = g_task_new(NULL, cancellable, print_done, op);
    g_task_set_task_data(task, work, (GDestroyNotify)print_work_free);
    g_task_set_name(task, "porch-tray print");
    g_task_run_in_thread(task, print_thread);
    return id;
}

static void
on_chooser_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    PorchTrayPrinting *self = data;
    g_autofree char *file = NULL;

    if (response == GTK_RESPONSE_ACCEPT)
        file = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));
    if (file != NULL)
        porch_tray_printing_print_file(self, g_object_get_data(G_OBJECT(dialog), "porch-host"),
                                       g_object_get_data(G_OBJECT(dialog), "porch-printer"), file);
    if (self->chooser == GTK_FILE_CHOOSER_NATIVE(dialog)) {
        self->chooser = NULL;
        g_object_unref(dialog);
    }
}

void
porch_tray_printing_choose(PorchTrayPrinting *self, const char *host, const char *printer)
{
    g_autofree char *title = NULL;
    GtkFileChooserNative *d;

    g_return_if_fail(host != NULL && printer != NULL);
    if (self->chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
        g_clear_object(&self->chooser);
    }
    title = g_strdup_printf("Print a file on %s", printer);
    d = gtk_file_chooser_native_new(title, porch_tray_model_get_dialog_parent(self->model),
                                    GTK_FILE_CHOOSER_ACTION_OPEN, "_Print", "_Cancel");
    gtk_file_chooser_set_local_only(GTK_FILE_CHOOSER(d), TRUE);
    g_object_set_data_full(G_OBJECT(d), "porch-host", g_strdup(host), g_free);
    g_object_set_data_full(G_OBJECT(d), "porch-printer", g_strdup(printer), g_free);
    g_signal_connect(d, "response", G_CALLBACK(on_chooser_response), self);
    self->chooser = d;
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

/* ------------------------------------------------------------------------------------------
 * Add to this computer */

static void
add_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(Op) op = data;
    PorchTrayModel *model = op->model;
    g_autoptr(GError) error = NULL;
    g_autofree char *message = NULL;
    const char *hint;

    if (porch_printer_lpadmin_run_finish(result, &error)) {
        if (op->printer != NULL) {
            /* as porch printer add says it */
            g_autofree char *state_dir = porch_state_default_dir(TRUE);
            g_autofree char *key = porch_state_file(state_dir, PORCH_STATE_HOST_KEY);
            message = g_strdup_printf(
                    "Added the printer %s. It prints with this computer's host key: the "
                    "neighbour's owner adds the peer that “porch id --identity %s” shows, with "
                    "the print right on %s.",
                    op->queue, key, op->printer);
        } else {
            message = g_strdup_printf("Added the printer %s: every application of this "
                                      "computer can print on it.",
                                      op->queue);
        }
        porch_tray_model_print_finish(model, op->id, PORCH_TRAY_PRINT_DONE, message);
        notify(op, "Printer added", message);
    } else {
        hint = porch_printer_lpadmin_hint(error);
        message = hint != NULL ? g_strdup_printf("%s (%s)", error->message, hint)
                               : g_strdup(error->message);
        porch_tray_model_print_finish(model, op->id, PORCH_TRAY_PRINT_FAILED, message);
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
            !porch_tray_model_is_closing(model)) {
            g_autofree char *primary = g_strdup_printf("Could not add the printer %s", op->what);
            notify(op, "Adding the printer failed", message);
            show_failure(model, "Porch — adding the printer failed", primary, message);
        }
    }
    porch_tray_model_worker_done(model); /* the Op's reference keeps the model till its end */
}

/* Starts lpadmin for @op (which the completion frees) with @argv. */
static void
run_add(Op *op, GStrv argv, GCancellable *cancellable)
{
    porch_tray_model_worker_start(op->model);
    porch_printer_lpadmin_run_async((const char *const *)argv, cancellable, add_done, op);
}

/* Adding @op failed before lpadmin ran. */
static void
fail_now(Op *op, const char *message)
{
    g_autofree char *primary = g_strdup_printf("Could not add the printer %s", op->what);

    porch_tray_model_print_finish(op->model, op->id, PORCH_TRAY_PRINT_FAILED, message);
    show_failure(op->model, "Porch — adding the printer failed", primary, message);
}

guint
porch_tray_printing_add_porch(PorchTrayPrinting *self, const char *host, const char *printer)
{
    g_autoptr(PorchNeighbour) n = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GCancellable) cancellable = NULL;
    g_autofree char *queue = NULL, *ppd = NULL, *uri = NULL, *description = NULL;
    g_auto(GStrv) argv = NULL;
    const char *name;
    Op *op;
    guint id;

    g_return_val_if_fail(host != NULL && printer != NULL, 0);
    n = porch_tray_model_find_neighbour(self->model, host);
    if (n == NULL || !porch_neighbour_is_porch(n))
        return 0;
    /* by display name, resolved over mDNS by the backend each time: the queue follows the
     * neighbour when its address changes (as `porch printer add NAME/PRINTER`) */
    name = porch_neighbour_get_name(n);
    queue = porch_printer_default_queue_name(printer, name);
    cancellable = g_cancellable_new();
    op = op_new(self->model, host, queue, cancellable);
    id = op->id;
    op->printer = g_strdup(printer);
    op->what = g_strdup_printf("%s on %s", printer, name);
    ppd = porch_printer_ppd_file(&error);
    if (ppd == NULL) {
        fail_now(op, error->message);
        op_free(op);
        return id;
    }
    uri = porch_printer_porch_uri(name, 0, printer);
    description = g_strdup_printf("%s on %s", printer, name);
    argv = porch_printer_lpadmin_argv(queue, uri, ppd, description);
    run_add(op, argv, cancellable);
    return id;
}

static const char *
txt_value(char **txt, const char *key)
{
    gsize len = strlen(key);

    for (guint i = 0; txt != NULL && txt[i] != NULL; i++)
        if (strncmp(txt[i], key, len) == 0 && txt[i][len] == '=')
            return txt[i] + len + 1;
    return NULL;
}

char *
porch_tray_ipp_device_uri(const PorchNeighbour *n, const PorchNeighbourService *s)
{
    const char *const *v4 = porch_neighbour_get_ipv4_addresses(n);
    const char *const *v6 = porch_neighbour_get_ipv6_addresses(n);
    const char *scheme, *rp = txt_value(s->txt, "rp");
    g_autofree char *host = NULL, *path = NULL;

    if (strcmp(s->type, "_ipp._tcp") == 0)
        scheme = "ipp";
    else if (strcmp(s->type, "_ipps._tcp") == 0)
        scheme = "ipps";
    else
        return NULL;
    /* An address, not the .local name: lpadmin and CUPS's ipp backend resolve names with the
     * system's resolver, which knows .local names only with nss-mdns. */
    if (v4[0] != NULL) {
        host = g_strdup(v4[0]);
    } else if (v6[0] != NULL) {
        g_autofree char *escaped = g_uri_escape_string(v6[0], ":", FALSE);
        host = g_strdup_printf("[%s]", escaped);
    } else {
        host = g_strdup(porch_neighbour_get_host_name(n));
    }
    path = g_uri_escape_string(rp != NULL ? rp : "", "/!$&'()*+,;=:@", FALSE);
    return g_strdup_printf("%s://%s:%u/%s", scheme, host, (unsigned)s->port, path);
}

guint
porch_tray_printing_add_ipp(PorchTrayPrinting *self, const char *host, const char *service)
{
    g_autoptr(PorchNeighbour) n = NULL;
    g_autoptr(GCancellable) cancellable = NULL;
    const PorchNeighbourService *svc, *found = NULL;
    g_autofree char *uri = NULL, *queue = NULL;
    g_auto(GStrv) argv = NULL;
    guint count = 0;
    Op *op;
    guint id;

    g_return_val_if_fail(host != NULL && service != NULL, 0);
    n = porch_tray_model_find_neighbour(self->model, host);
    if (n == NULL)
        return 0;
    svc = porch_neighbour_get_services(n, &count);
    /* Services sort by type, _ipp._tcp before _ipps._tcp: when a printer offers both, the
     * plain one, whose URI carries an address that the printer's TLS certificate would not
     * name anyway. */
    for (guint i = 0; i < count && found == NULL; i++)
        if (strcmp(svc[i].name, service) == 0 && g_str_has_prefix(svc[i].type, "_ipp"))
            found = &svc[i];
    if (found == NULL || (uri = porch_tray_ipp_device_uri(n, found)) == NULL)
        return 0;
    queue = porch_printer_default_queue_name(service, NULL);
    cancellable = g_cancellable_new();
    op = op_new(self->model, host, queue, cancellable);
    id = op->id;
    op->what = g_strdup(service);
    argv = porch_printer_lpadmin_argv(queue, uri, NULL, service);
    run_add(op, argv, cancellable);
    return id;
}
