/* tray-remembered.c — the neighbours remembered by address, polled over unicast, and "Connect
 * to address…" (see tray-remembered.h). */
#include <string.h>

#include "porch-neighbours.h"
#include "porch-print-client.h"
#include "tray-connect.h"
#include "tray-remembered.h"

/* The "Connect to address" dialog while it is open. */
typedef struct {
    GtkWidget *dialog, *entry, *spinner, *result, *connect;
    GCancellable *cancellable; /* of the check under way */
    guint serial;              /* of the check under way; 0: none */
} ConnectUi;

struct _PorchTrayRemembered {
    GObject parent_instance;
    PorchTrayModel *model;
    GPtrArray *list;     /* PorchRemembered*: the file's, as the last polls found them */
    GHashTable *polling; /* "ADDR[:PORT]" -> 1 while a poll of it runs */
    GCancellable *cancellable;
    guint interval, timer, reconcile_idle, polls, serial;
    gboolean started;
    ConnectUi *ui;
};

G_DEFINE_FINAL_TYPE(PorchTrayRemembered, porch_tray_remembered, G_TYPE_OBJECT)

enum { PROP_0, PROP_POLLS, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_CONNECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------------------------------
 * The model's rows */

/* The row of @host, when it is one of ours (a remembered neighbour's): its neighbour. */
static PorchNeighbour *
our_row(PorchTrayRemembered *self, const char *host)
{
    PorchNeighbour *n = porch_tray_model_find_neighbour(self->model, host);

    if (n != NULL && !porch_neighbour_is_remembered(n))
        g_clear_pointer(&n, porch_neighbour_unref);
    return n;
}

/* Whether mDNS shows @r: a row of the model seen over mDNS is it. */
static gboolean
seen_over_mdns(PorchTrayRemembered *self, const PorchRemembered *r)
{
    GtkTreeModel *model = GTK_TREE_MODEL(porch_tray_model_get_neighbours(self->model));
    GtkTreeIter iter;

    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        g_autoptr(PorchNeighbour) n = NULL;
        gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_NEIGHBOUR, &n, -1);
        if (n != NULL && porch_remembered_is_seen_as(r, n))
            return TRUE;
    }
    return FALSE;
}

/* Shows @r in the model, unless mDNS shows it (then its row of ours goes). */
static void
show(PorchTrayRemembered *self, const PorchRemembered *r)
{
    g_autoptr(PorchNeighbour) row = our_row(self, r->address);
    g_autoptr(PorchNeighbour) n = NULL;

    if (seen_over_mdns(self, r)) {
        if (row != NULL)
            porch_tray_model_neighbour_gone(self->model, row);
        return;
    }
    if (row == NULL) {
        /* a row of mDNS's under the same host name (the address) is left alone */
        g_autoptr(PorchNeighbour) other = porch_tray_model_find_neighbour(self->model, r->address);
        if (other != NULL)
            return;
    }
    n = porch_remembered_to_neighbour(r);
    if (row == NULL || !porch_neighbour_equal(row, n))
        porch_tray_model_neighbour_seen(self->model, n);
}

static gboolean
reconcile(gpointer data)
{
    PorchTrayRemembered *self = data;

    self->reconcile_idle = 0;
    for (guint i = 0; i < self->list->len; i++)
        show(self, g_ptr_array_index(self->list, i));
    return G_SOURCE_REMOVE;
}

static gboolean
is_ours(PorchTrayRemembered *self, const char *host)
{
    for (guint i = 0; i < self->list->len; i++)
        if (g_strcmp0(((PorchRemembered *)g_ptr_array_index(self->list, i))->address, host) == 0)
            return TRUE;
    return FALSE;
}

/* A row of mDNS's came, changed or went: ours may have to go, or come back. */
static void
on_neighbour_changed(PorchTrayModel *model, const char *host, gpointer data)
{
    PorchTrayRemembered *self = data;

    if (!is_ours(self, host) && self->reconcile_idle == 0 && self->list->len > 0)
        self->reconcile_idle = g_idle_add(reconcile, self);
}

/* The file again: rows of neighbours no longer in it go; those new in it come. */
static void
reload(PorchTrayRemembered *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = porch_neighbours_load(NULL, &error);

    if (list == NULL) {
        g_warning("remembered neighbours: %s", error->message);
        return;
    }
    for (guint i = 0; i < self->list->len; i++) {
        const PorchRemembered *old = g_ptr_array_index(self->list, i);
        gboolean kept = FALSE;
        for (guint j = 0; j < list->len && !kept; j++) {
            const PorchRemembered *r = g_ptr_array_index(list, j);
            kept = g_strcmp0(r->address, old->address) == 0;
        }
        if (!kept) {
            g_autoptr(PorchNeighbour) row = our_row(self, old->address);
            if (row != NULL)
                porch_tray_model_neighbour_gone(self->model, row);
        }
    }
    g_ptr_array_unref(self->list);
    self->list = g_steal_pointer(&list);
    reconcile(self);
}

/* Puts @r (copied) in the list in place of the one at the same address and port. */
static void
list_put(PorchTrayRemembered *self, const PorchRemembered *r)
{
    for (guint i = 0; i < self->list->len; i++) {
        PorchRemembered *old = g_ptr_array_index(self->list, i);
        if (old->port == r->port && g_strcmp0(old->address, r->address) == 0) {
            porch_remembered_free(old);
            g_ptr_array_index(self->list, i) = porch_remembered_copy(r);
            return;
        }
    }
    g_ptr_array_add(self->list, porch_remembered_copy(r));
}

static gboolean
list_has(PorchTrayRemembered *self, const char *address, guint16 port)
{
    for (guint i = 0; i < self->list->len; i++) {
        const PorchRemembered *r = g_ptr_array_index(self->list, i);
        if (r->port == port && g_strcmp0(r->address, address) == 0)
            return TRUE;
    }
    return FALSE;
}

/* ------------------------------------------------------------------------------------------
 * Polls, and the dialog's check: a worker thread each */

typedef struct {
    PorchTrayModel *model; /* counts the worker; outlives a disposed self */
    PorchTrayConnect *connect;
    char *address;
    guint16 port;
    gboolean ask; /* the dialog's: a first contact is asked about */
    guint serial; /* the dialog's check */
    char *polled; /* a poll's key in self->polling */
    PorchRemembered *result;
} Check;

static void
check_free(Check *c)
{
    g_clear_object(&c->model);
    porch_tray_connect_free(c->connect);
    g_free(c->address);
    g_free(c->polled);
    porch_remembered_free(c->result);
    g_free(c);
}

static void
check_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Check *c = data;
    GError *error = NULL;

    c->result =
            porch_tray_connect_check(c->connect, c->address, c->port, c->ask, cancellable, &error);
    if (c->result == NULL)
        g_task_return_error(task, error);
    else
        g_task_return_boolean(task, TRUE);
}

static void
start_check(PorchTrayRemembered *self, Check *c, GCancellable *cancellable,
            GAsyncReadyCallback done)
{
    g_autoptr(GTask) task = g_task_new(self, cancellable, done, NULL);

    c->model = g_object_ref(self->model);
    c->connect = porch_tray_connect_new(self->model);
    g_task_set_task_data(task, c, (GDestroyNotify)check_free);
    g_task_set_name(task, "porch-tray remembered neighbour");
    porch_tray_model_worker_start(self->model);
    g_task_run_in_thread(task, check_thread);
}

static void
poll_done(GObject *source, GAsyncResult *result, gpointer data)
{
    PorchTrayRemembered *self = PORCH_TRAY_REMEMBERED(source);
    Check *c = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    PorchTrayModel *model = c->model;

    g_hash_table_remove(self->polling, c->polled);
    if (self->model == NULL) {
        /* the tray ended while it ran */
    } else if (g_task_propagate_boolean(G_TASK(result), &error)) {
        gboolean changed = FALSE;
        g_autoptr(GError) file_error = NULL;

        /* forgotten meanwhile (porch neighbours remove): not put back */
        if (list_has(self, c->address, c->port)) {
            list_put(self, c->result);
            if (!porch_neighbours_refresh(NULL, c->result, &changed, &file_error))
                g_warning("remembered neighbours: %s", file_error->message);
            show(self, c->result);
            porch_tray_model_set_reachable(model, c->address);
        }
    } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_autoptr(PorchNeighbour) row = our_row(self, c->address);

        g_debug("poll of %s: %s", c->polled, error->message);
        if (row == NULL)
            ; /* mDNS shows it, or it was forgotten: its row is not ours to mark */
        else if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_CHANGED) ||
                 g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH))
            porch_tray_model_set_key_changed(model, c->address, error->message);
        else
            porch_tray_model_set_unreachable(model, c->address, error->message);
    }
    self->polls++;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_POLLS]);
    porch_tray_model_worker_done(model);
}

/* A round: the file read again, then a poll of each neighbour not being polled already. */
static gboolean
poll_all(gpointer data)
{
    PorchTrayRemembered *self = data;

    if (porch_tray_model_is_closing(self->model))
        return G_SOURCE_CONTINUE;
    reload(self);
    for (guint i = 0; i < self->list->len; i++) {
        const PorchRemembered *r = g_ptr_array_index(self->list, i);
        g_autofree char *key = porch_neighbours_pin_name(r->address, r->port);
        Check *c;

        if (g_hash_table_contains(self->polling, key))
            continue;
        c = g_new0(Check, 1);
        c->address = g_strdup(r->address);
        c->port = r->port;
        c->polled = g_strdup(key);
        g_hash_table_add(self->polling, g_steal_pointer(&key));
        start_check(self, c, self->cancellable, poll_done);
    }
    return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------------------------
 * "Connect to address…" */

static void
ui_busy(ConnectUi *ui, gboolean busy)
{
    gtk_widget_set_sensitive(ui->entry, !busy);
    gtk_widget_set_sensitive(ui->connect, !busy);
    if (busy)
        gtk_spinner_start(GTK_SPINNER(ui->spinner));
    else
        gtk_spinner_stop(GTK_SPINNER(ui->spinner));
    gtk_widget_set_visible(ui->spinner, busy);
}

static void
ui_say(ConnectUi *ui, const char *markup)
{
    gtk_label_set_markup(GTK_LABEL(ui->result), markup);
    gtk_widget_show(ui->result);
}

/* "Public, Music" or "none". */
static char *
joined(GStrv v)
{
    return v != NULL && v[0] != NULL ? g_strjoinv(", ", v) : g_strdup("none");
}

static void
connect_done(GObject *source, GAsyncResult *result, gpointer data)
{
    PorchTrayRemembered *self = PORCH_TRAY_REMEMBERED(source);
    Check *c = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    ConnectUi *ui = self->ui != NULL && self->ui->serial == c->serial ? self->ui : NULL;
    g_autofree char *where = porch_neighbours_pin_name(c->address, c->port);
    g_autofree char *markup = NULL;

    if (ui != NULL) {
        ui->serial = 0;
        g_clear_object(&ui->cancellable);
        ui_busy(ui, FALSE);
    }
    if (self->model == NULL) {
        /* the tray ended while it ran */
    } else if (!g_task_propagate_boolean(G_TASK(result), &error)) {
        const char *why =
                g_error_matches(error, PORCH_PRINT_ERROR, PORCH_PRINT_ERROR_USAGE)
                        ? "It answered, but its porchd is too old to say who it is by address."
                        : error->message;
        if (ui != NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            markup = g_markup_printf_escaped("<b>Could not connect to %s</b>\n%s\nNothing was "
                                             "remembered.",
                                             where, why);
            ui_say(ui, markup);
            gtk_widget_grab_focus(ui->entry);
        }
    } else {
        const PorchRemembered *r = c->result;
        g_autoptr(GError) file_error = NULL;
        g_autofree char *shares = joined(r->shares);
        g_autofree char *printers = joined(r->printers);

        if (!porch_neighbours_add(NULL, r, &file_error)) {
            markup = g_markup_printf_escaped("<b>“%s” answered at %s</b>, but it could not be "
                                             "remembered: %s",
                                             r->name, where, file_error->message);
        } else {
            list_put(self, r);
            show(self, r);
            porch_tray_model_set_reachable(self->model, r->address);
            markup = g_markup_printf_escaped(
                    "<b>Connected to “%s”</b> at %s\nKey <tt>%s</tt>\nShares: %s\nPrinters: "
                    "%s\n%s",
                    r->name, where, r->fingerprint != NULL ? r->fingerprint : "unknown", shares,
                    printers,
                    seen_over_mdns(self, r)
                            ? "Remembered. It is seen on the network too, and listed as such."
                            : "Remembered: it is in the list of neighbours, and stays there.");
            g_signal_emit(self, signals[SIGNAL_CONNECTED], 0, r->address);
        }
        if (ui != NULL)
            ui_say(ui, markup);
    }
    porch_tray_model_worker_done(c->model);
}

static void
on_connect(PorchTrayRemembered *self)
{
    ConnectUi *ui = self->ui;
    g_autoptr(GError) error = NULL;
    g_autofree char *address = NULL;
    g_autofree char *text = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(ui->entry))));
    guint16 port = 0;
    Check *c;

    if (ui->serial != 0)
        return;
    if (!porch_neighbours_parse_address(text, &address, &port, &error)) {
        g_autofree char *markup =
                g_markup_printf_escaped("<b>Not an address</b>\n%s", error->message);
        ui_say(ui, markup);
        return;
    }
    {
        g_autofree char *where = porch_neighbours_pin_name(address, port);
        g_autofree char *markup = g_markup_printf_escaped("Connecting to %s…", where);
        ui_say(ui, markup);
    }
    ui_busy(ui, TRUE);
    c = g_new0(Check, 1);
    c->address = g_steal_pointer(&address);
    c->port = port;
    c->ask = TRUE;
    c->serial = ui->serial = ++self->serial;
    ui->cancellable = g_cancellable_new();
    start_check(self, c, ui->cancellable, connect_done);
}

static void
on_response(GtkDialog *dialog, int response, gpointer data)
{
    PorchTrayRemembered *self = data;

    if (response == GTK_RESPONSE_ACCEPT)
        on_connect(self);
    else
        gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void
on_entry_activate(GtkEntry *entry, gpointer data)
{
    on_connect(data);
}

static void
on_dialog_destroy(GtkWidget *dialog, gpointer data)
{
    PorchTrayRemembered *self = data;
    ConnectUi *ui = self->ui;

    if (ui == NULL || ui->dialog != dialog)
        return;
    /* a check under way is given up; its completion finds no dialog */
    if (ui->cancellable != NULL)
        g_cancellable_cancel(ui->cancellable);
    g_clear_object(&ui->cancellable);
    g_free(ui);
    self->ui = NULL;
}

static void
a11y(GtkWidget *w, const char *name)
{
    atk_object_set_name(gtk_widget_get_accessible(w), name);
}

GtkWindow *
porch_tray_remembered_show_connect(PorchTrayRemembered *self, GtkWindow *parent)
{
    ConnectUi *ui;
    GtkWidget *box, *intro, *status;

    if (self->ui != NULL) {
        gtk_window_present(GTK_WINDOW(self->ui->dialog));
        return GTK_WINDOW(self->ui->dialog);
    }
    ui = self->ui = g_new0(ConnectUi, 1);
    ui->dialog = gtk_dialog_new_with_buttons(
            "Connect to address", parent,
            GTK_DIALOG_DESTROY_WITH_PARENT | GTK_DIALOG_USE_HEADER_BAR, "_Close",
            GTK_RESPONSE_CANCEL, "C_onnect", GTK_RESPONSE_ACCEPT, NULL);
    ui->connect = gtk_dialog_get_widget_for_response(GTK_DIALOG(ui->dialog), GTK_RESPONSE_ACCEPT);
    gtk_style_context_add_class(gtk_widget_get_style_context(ui->connect), "suggested-action");
    a11y(ui->connect, "Connect");
    gtk_dialog_set_default_response(GTK_DIALOG(ui->dialog), GTK_RESPONSE_ACCEPT);
    gtk_window_set_default_size(GTK_WINDOW(ui->dialog), 460, -1);

    box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    g_object_set(box, "margin", 18, NULL);
    intro = gtk_label_new("A computer running Porch that does not show by itself — on another "
                          "network, or behind a router that blocks discovery — can be reached "
                          "by its address. Porch asks it who it is and remembers it.");
    gtk_label_set_line_wrap(GTK_LABEL(intro), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(intro), 50);
    gtk_label_set_xalign(GTK_LABEL(intro), 0);
    gtk_container_add(GTK_CONTAINER(box), intro);

    ui->entry = gtk_entry_new();
    gtk_entry_set_placeholder_text(GTK_ENTRY(ui->entry), "10.0.0.7 or 10.0.0.7:4423");
    gtk_entry_set_input_purpose(GTK_ENTRY(ui->entry), GTK_INPUT_PURPOSE_URL);
    gtk_entry_set_max_length(GTK_ENTRY(ui->entry), 300);
    a11y(ui->entry, "Address");
    gtk_widget_set_tooltip_text(ui->entry, "ADDRESS or ADDRESS:PORT; an IPv6 address with its "
                                           "port in brackets: [fe80::1%eth0]:4423");
    g_signal_connect(ui->entry, "activate", G_CALLBACK(on_entry_activate), self);
    gtk_container_add(GTK_CONTAINER(box), ui->entry);

    status = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    ui->spinner = gtk_spinner_new();
    gtk_widget_set_valign(ui->spinner, GTK_ALIGN_START);
    gtk_widget_set_no_show_all(ui->spinner, TRUE);
    gtk_container_add(GTK_CONTAINER(status), ui->spinner);
    ui->result = gtk_label_new("");
    gtk_label_set_line_wrap(GTK_LABEL(ui->result), TRUE);
    gtk_label_set_line_wrap_mode(GTK_LABEL(ui->result), PANGO_WRAP_WORD_CHAR);
    gtk_label_set_max_width_chars(GTK_LABEL(ui->result), 50);
    gtk_label_set_selectable(GTK_LABEL(ui->result), TRUE);
    gtk_label_set_xalign(GTK_LABEL(ui->result), 0);
    gtk_widget_set_can_focus(ui->result, FALSE);
    gtk_widget_set_hexpand(ui->result, TRUE);
    gtk_widget_set_no_show_all(ui->result, TRUE);
    a11y(ui->result, "Result");
    gtk_container_add(GTK_CONTAINER(status), ui->result);
    gtk_container_add(GTK_CONTAINER(box), status);

    gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(ui->dialog))), box);
    g_signal_connect(ui->dialog, "response", G_CALLBACK(on_response), self);
    g_signal_connect(ui->dialog, "destroy", G_CALLBACK(on_dialog_destroy), self);
    gtk_widget_show_all(ui->dialog);
    gtk_widget_grab_focus(ui->entry);
    return GTK_WINDOW(ui->dialog);
}

/* ------------------------------------------------------------------------------------------
 * PorchTrayRemembered */

static void
on_closing(PorchTrayModel *model, GParamSpec *pspec, gpointer data)
{
    PorchTrayRemembered *self = data;

    if (!porch_tray_model_is_closing(model))
        return;
    g_cancellable_cancel(self->cancellable);
    if (self->ui != NULL)
        gtk_widget_destroy(self->ui->dialog);
}

static void
porch_tray_remembered_init(PorchTrayRemembered *self)
{
    self->list = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remembered_free);
    self->polling = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->cancellable = g_cancellable_new();
    self->interval = PORCH_TRAY_REMEMBERED_POLL_SECONDS;
}

static void
porch_tray_remembered_dispose(GObject *object)
{
    PorchTrayRemembered *self = PORCH_TRAY_REMEMBERED(object);

    g_cancellable_cancel(self->cancellable);
    g_clear_handle_id(&self->timer, g_source_remove);
    g_clear_handle_id(&self->reconcile_idle, g_source_remove);
    if (self->ui != NULL)
        gtk_widget_destroy(self->ui->dialog);
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_clear_object(&self->model);
    G_OBJECT_CLASS(porch_tray_remembered_parent_class)->dispose(object);
}

static void
porch_tray_remembered_finalize(GObject *object)
{
    PorchTrayRemembered *self = PORCH_TRAY_REMEMBERED(object);

    g_ptr_array_unref(self->list);
    g_hash_table_unref(self->polling);
    g_object_unref(self->cancellable);
    G_OBJECT_CLASS(porch_tray_remembered_parent_class)->finalize(object);
}

static void
porch_tray_remembered_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    PorchTrayRemembered *self = PORCH_TRAY_REMEMBERED(object);

    if (id == PROP_POLLS)
        g_value_set_uint(value, self->polls);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void
porch_tray_remembered_class_init(PorchTrayRememberedClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = porch_tray_remembered_dispose;
    object_class->finalize = porch_tray_remembered_finalize;
    object_class->get_property = porch_tray_remembered_get_property;
    props[PROP_POLLS] = g_param_spec_uint("polls", NULL, "Polls answered or failed", 0, G_MAXUINT,
                                          0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);
    signals[SIGNAL_CONNECTED] =
            g_signal_new("connected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                         NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

PorchTrayRemembered *
porch_tray_remembered_new(PorchTrayModel *model)
{
    PorchTrayRemembered *self = g_object_new(PORCH_TYPE_TRAY_REMEMBERED, NULL);

    self->model = g_object_ref(model);
    g_signal_connect(model, "neighbour-changed", G_CALLBACK(on_neighbour_changed), self);
    g_signal_connect(model, "notify::closing", G_CALLBACK(on_closing), self);
    return self;
}

void
porch_tray_remembered_start(PorchTrayRemembered *self)
{
    if (self->started)
        return;
    self->started = TRUE;
    poll_all(self);
    self->timer = g_timeout_add_seconds(self->interval, poll_all, self);
}

void
porch_tray_remembered_set_poll_interval(PorchTrayRemembered *self, guint seconds)
{
    g_return_if_fail(seconds > 0);
    self->interval = seconds;
    if (self->timer != 0) {
        g_source_remove(self->timer);
        self->timer = g_timeout_add_seconds(self->interval, poll_all, self);
    }
}

guint
porch_tray_remembered_get_polls(PorchTrayRemembered *self)
{
    return self->polls;
}
