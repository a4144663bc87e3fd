/* tray-app.c — PorchTray: the browser, the neighbour model it feeds, and connecting to a
 * neighbour from a worker thread (the first-contact question asked on the main thread). */
#include <string.h>

#include "porch-identity.h"
#include "porch-neighbour-client.h"
#include "tray-private.h"

/* ------------------------------------------------------------------------------------------
 * The neighbour model */

static gboolean
find_row(GtkListStore *store, const char *host, GtkTreeIter *ret_iter)
{
    GtkTreeModel *model = GTK_TREE_MODEL(store);
    GtkTreeIter iter;

    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        g_autofree char *h = NULL;
        gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_HOST, &h, -1);
        if (g_strcmp0(h, host) == 0) {
            *ret_iter = iter;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
has_printer_service(const PorchNeighbour *n)
{
    guint count = 0;
    const PorchNeighbourService *s = porch_neighbour_get_services(n, &count);

    for (guint i = 0; i < count; i++)
        if (g_str_has_prefix(s[i].type, "_ipp"))
            return TRUE;
    return FALSE;
}

static const char *
service_kind(const char *type)
{
    if (g_str_has_prefix(type, "_ipp"))
        return "printer";
    if (strcmp(type, "_smb._tcp") == 0)
        return "Windows share";
    if (strcmp(type, "_sftp-ssh._tcp") == 0)
        return "SFTP";
    if (g_str_has_prefix(type, "_webdav"))
        return "WebDAV";
    return type;
}

/* "2 shares, 1 printer"; for a device: "printer, Windows share". */
static char *
describe(const PorchNeighbour *n)
{
    g_autoptr(GString) s = g_string_new(NULL);
    guint shares = 0, printers = 0, services = 0;
    const PorchNeighbourService *svc;

    porch_neighbour_get_shares(n, &shares);
    porch_neighbour_get_printers(n, &printers);
    svc = porch_neighbour_get_services(n, &services);
    if (porch_neighbour_is_porch(n)) {
        g_string_append_printf(s, "%u share%s", shares, shares == 1 ? "" : "s");
        if (printers > 0)
            g_string_append_printf(s, ", %u printer%s", printers, printers == 1 ? "" : "s");
        return g_string_free(g_steal_pointer(&s), FALSE);
    }
    for (guint i = 0; i < services; i++) {
        const char *kind = service_kind(svc[i].type);
        if (strstr(s->str, kind) != NULL)
            continue;
        if (s->len > 0)
            g_string_append(s, ", ");
        g_string_append(s, kind);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void
set_row(PorchTray *tray, GtkTreeIter *iter, PorchNeighbour *n)
{
    const char *const *v4 = porch_neighbour_get_ipv4_addresses(n);
    const char *const *v6 = porch_neighbour_get_ipv6_addresses(n);
    const char *address = v4[0] != NULL   ? v4[0]
                          : v6[0] != NULL ? v6[0]
                                          : porch_neighbour_get_host_name(n);
    g_autofree char *detail = describe(n);
    guint shares = 0;
    const char *icon = porch_neighbour_is_porch(n) ? "computer"
                       : has_printer_service(n)    ? "printer"
                                                   : "network-server";

    porch_neighbour_get_shares(n, &shares);
    gtk_list_store_set(tray->neighbours, iter, PORCH_TRAY_NCOL_NAME, porch_neighbour_get_name(n),
                       PORCH_TRAY_NCOL_ADDRESS, address, PORCH_TRAY_NCOL_ICON, icon,
                       PORCH_TRAY_NCOL_SHARES, shares, PORCH_TRAY_NCOL_HOST,
                       porch_neighbour_get_host_name(n), PORCH_TRAY_NCOL_NEIGHBOUR, n,
                       PORCH_TRAY_NCOL_IS_PORCH, porch_neighbour_is_porch(n),
                       PORCH_TRAY_NCOL_UNREACHABLE, FALSE, PORCH_TRAY_NCOL_DETAIL, detail, -1);
}

/* The browser's signals come from the main context, after the Avahi callbacks returned. */
static void
on_neighbour_added_or_changed(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    PorchTray *tray = data;
    GtkTreeIter iter;

    if (!find_row(tray->neighbours, porch_neighbour_get_host_name(n), &iter))
        gtk_list_store_append(tray->neighbours, &iter);
    set_row(tray, &iter, n);
    porch_tray_window_neighbour_changed(tray, porch_neighbour_get_host_name(n));
    porch_tray_emit_changed(tray);
}

static void
on_neighbour_removed(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    PorchTray *tray = data;
    GtkTreeIter iter;

    if (find_row(tray->neighbours, porch_neighbour_get_host_name(n), &iter))
        gtk_list_store_remove(tray->neighbours, &iter);
    porch_tray_window_neighbour_changed(tray, porch_neighbour_get_host_name(n));
    porch_tray_emit_changed(tray);
}

static void
on_browser_state(GObject *browser, GParamSpec *pspec, gpointer data)
{
    PorchTray *tray = data;

    if (porch_browser_get_state(tray->browser) == PORCH_BROWSER_RUNNING)
        g_clear_pointer(&tray->browse_error, g_free);
    else if (tray->browse_error == NULL)
        tray->browse_error = g_strdup("waiting for avahi-daemon (mDNS)");
    porch_tray_window_browse_state(tray);
}

PorchNeighbour *
porch_tray_find_neighbour(PorchTray *tray, const char *host)
{
    GtkTreeIter iter;
    PorchNeighbour *n = NULL;

    if (!find_row(tray->neighbours, host, &iter))
        return NULL;
    gtk_tree_model_get(GTK_TREE_MODEL(tray->neighbours), &iter, PORCH_TRAY_NCOL_NEIGHBOUR, &n, -1);
    return n;
}

/* ------------------------------------------------------------------------------------------
 * Life */

PorchTray *
porch_tray_new(GtkApplication *app)
{
    PorchTray *tray = g_new0(PorchTray, 1);

    tray->app = app;
    tray->context = g_main_context_ref_thread_default();
    tray->browser = porch_browser_new();
    tray->neighbours = gtk_list_store_new(
            PORCH_TRAY_NCOL_COUNT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT,
            G_TYPE_STRING, PORCH_TYPE_NEIGHBOUR, G_TYPE_BOOLEAN, G_TYPE_BOOLEAN, G_TYPE_STRING);
    gtk_tree_sortable_set_sort_column_id(GTK_TREE_SORTABLE(tray->neighbours), PORCH_TRAY_NCOL_NAME,
                                         GTK_SORT_ASCENDING);
    tray->transfers = gtk_list_store_new(PORCH_TRAY_TCOL_COUNT, G_TYPE_UINT, G_TYPE_STRING,
                                         G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING, G_TYPE_STRING,
                                         G_TYPE_STRING, G_TYPE_INT, G_TYPE_UINT64, G_TYPE_UINT64);
    tray->jobs = g_hash_table_new(NULL, NULL);
    tray->asks = g_ptr_array_new();
    tray->next_id = 1;
    g_signal_connect(tray->browser, "neighbour-added", G_CALLBACK(on_neighbour_added_or_changed),
                     tray);
    g_signal_connect(tray->browser, "neighbour-changed", G_CALLBACK(on_neighbour_added_or_changed),
                     tray);
    g_signal_connect(tray->browser, "neighbour-removed", G_CALLBACK(on_neighbour_removed), tray);
    g_signal_connect(tray->browser, "notify::state", G_CALLBACK(on_browser_state), tray);
    return tray;
}

gboolean
porch_tray_start(PorchTray *tray, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (porch_browser_start(tray->browser, &local))
        return TRUE;
    g_free(tray->browse_error);
    tray->browse_error = g_strdup(local->message);
    porch_tray_window_browse_state(tray);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

typedef struct {
    char *pin_name;
    char *fingerprint;
    gboolean advertised;
    GMutex mutex;
    GCond cond;
    gboolean answered;
    gboolean answer;
    GtkWidget *dialog;
    PorchTray *tray;
} TrustAsk;

static void answer_ask(TrustAsk *ask, gboolean answer);

void
porch_tray_free(PorchTray *tray)
{
    gint64 deadline;

    if (tray == NULL)
        return;
    porch_tray_icon_stop(tray);
    porch_tray_transfer_cancel_all(tray);
    porch_tray_print_cancel_all(tray);
    /* Workers end promptly once cancelled (a question of theirs answered "no"); their
     * completions refer to the tray. */
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    tray->closing = TRUE;
    for (;;) {
        while (tray->asks->len > 0)
            answer_ask(g_ptr_array_index(tray->asks, 0), FALSE);
        if (tray->pending == 0 || g_get_monotonic_time() > deadline)
            break;
        g_main_context_iteration(tray->context, FALSE);
        g_usleep(2000);
    }
    porch_tray_window_destroy(tray);
    porch_tray_transfers_dispose(tray);
    porch_tray_print_dispose(tray);
    g_signal_handlers_disconnect_by_data(tray->browser, tray);
    g_clear_object(&tray->browser);
    g_clear_object(&tray->neighbours);
    g_clear_object(&tray->transfers);
    g_clear_pointer(&tray->jobs, g_hash_table_unref);
    g_clear_pointer(&tray->asks, g_ptr_array_unref);
    g_free(tray->identity_file);
    g_free(tray->known_peers);
    g_free(tray->browse_error);
    g_main_context_unref(tray->context);
    g_free(tray);
}

GtkApplication *
porch_tray_get_application(PorchTray *tray)
{
    return tray->app;
}

GtkListStore *
porch_tray_get_neighbour_model(PorchTray *tray)
{
    return tray->neighbours;
}

void
porch_tray_set_trust_policy(PorchTray *tray, PorchTrayTrustPolicy policy, gpointer data)
{
    tray->trust_policy = policy;
    tray->trust_data = data;
}

void
porch_tray_set_files(PorchTray *tray, const char *identity_file, const char *known_peers)
{
    g_free(tray->identity_file);
    g_free(tray->known_peers);
    tray->identity_file = g_strdup(identity_file);
    tray->known_peers = g_strdup(known_peers);
}

void
porch_tray_set_connect_timeout(PorchTray *tray, int seconds)
{
    tray->connect_timeout = MAX(seconds, 0);
}

void
porch_tray_set_changed_func(PorchTray *tray, PorchTrayChangedFunc func, gpointer data)
{
    tray->changed = func;
    tray->changed_data = data;
}

void
porch_tray_emit_changed(PorchTray *tray)
{
    if (tray->changed != NULL)
        tray->changed(tray, tray->changed_data);
}

void
porch_tray_run_on_main(GMainContext *context, GSourceFunc func, gpointer data,
                       GDestroyNotify notify)
{
    GSource *source = g_idle_source_new();

    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, func, data, notify);
    g_source_set_static_name(source, "porch-tray worker report");
    g_source_attach(source, context);
    g_source_unref(source);
}

/* ------------------------------------------------------------------------------------------
 * Trust: the worker thread asks, the main thread answers */

struct _PorchTrayConnect {
    PorchTray *tray; /* touched on the main thread only */
    GMainContext *context;
    char *identity_file;
    char *known_peers;
    int timeout;
};

PorchTrayConnect *
porch_tray_connect_new(PorchTray *tray)
{
    PorchTrayConnect *c = g_new0(PorchTrayConnect, 1);

    c->tray = tray;
    c->context = g_main_context_ref(tray->context);
    c->identity_file = tray->identity_file != NULL ? g_strdup(tray->identity_file)
                                                   : porch_identity_default_file();
    c->known_peers = tray->known_peers != NULL ? g_strdup(tray->known_peers)
                                               : porch_known_peers_default_file();
    c->timeout = tray->connect_timeout;
    return c;
}

void
porch_tray_connect_free(PorchTrayConnect *c)
{
    if (c == NULL)
        return;
    g_main_context_unref(c->context);
    g_free(c->identity_file);
    g_free(c->known_peers);
    g_free(c);
}

/* On the main thread: the worker waiting in ask_from_worker() goes on. */
static void
answer_ask(TrustAsk *ask, gboolean answer)
{
    if (ask->dialog != NULL) {
        GtkWidget *d = g_steal_pointer(&ask->dialog);
        gtk_widget_destroy(d);
    }
    g_ptr_array_remove(ask->tray->asks, ask);
    g_mutex_lock(&ask->mutex);
    ask->answer = answer;
    ask->answered = TRUE;
    g_cond_signal(&ask->cond);
    g_mutex_unlock(&ask->mutex);
}

static void
on_trust_response(GtkDialog *dialog, int response, gpointer data)
{
    TrustAsk *ask = data;

    answer_ask(ask, response == GTK_RESPONSE_ACCEPT);
}

static gboolean
ask_on_main(gpointer data)
{
    TrustAsk *ask = data;
    PorchTray *tray = ask->tray;
    GtkWindow *parent;
    GtkWidget *d;

    g_ptr_array_add(tray->asks, ask);
    if (tray->closing) {
        answer_ask(ask, FALSE);
        return G_SOURCE_REMOVE;
    }
    if (tray->trust_policy != NULL) {
        answer_ask(ask, tray->trust_policy(ask->pin_name, ask->fingerprint, ask->advertised,
                                           tray->trust_data));
        return G_SOURCE_REMOVE;
    }
    parent = porch_tray_get_window(tray);
    d = gtk_message_dialog_new(parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                               GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "First contact with “%s”",
                               ask->pin_name);
    gtk_message_dialog_format_secondary_markup(
            GTK_MESSAGE_DIALOG(d),
            "Its key fingerprint is\n\n<tt>%s</tt>\n\n%s\n\nTrust it and remember its key? "
            "Porch will then refuse this neighbour if its key ever changes.",
            ask->fingerprint,
            ask->advertised ? "It matches what the neighbour advertises on the network."
                            : "It is not advertised on the network: compare it with what its "
                              "owner sees (<tt>porch id</tt> on that computer).");
    gtk_dialog_add_buttons(GTK_DIALOG(d), "_Cancel", GTK_RESPONSE_CANCEL, "_Trust",
                           GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_CANCEL);
    gtk_window_set_title(GTK_WINDOW(d), "Porch — trust a neighbour");
    atk_object_set_name(gtk_widget_get_accessible(d), "Trust a neighbour's key");
    ask->dialog = d;
    g_signal_connect(d, "response", G_CALLBACK(on_trust_response), ask);
    gtk_widget_show_all(d);
    return G_SOURCE_REMOVE;
}

/* In the worker thread (a PorchTrustFunc): blocks until the main thread answered. */
static gboolean
ask_from_worker(const char *pin_name, const char *fingerprint, gboolean advertised, gpointer data)
{
    PorchTrayConnect *c = data;
    TrustAsk ask = {
            .pin_name = g_strdup(pin_name),
            .fingerprint = g_strdup(fingerprint),
            .advertised = advertised,
            .tray = c->tray,
    };
    gboolean answer;

    g_mutex_init(&ask.mutex);
    g_cond_init(&ask.cond);
    porch_tray_run_on_main(c->context, ask_on_main, &ask, NULL);
    g_mutex_lock(&ask.mutex);
    while (!ask.answered)
        g_cond_wait(&ask.cond, &ask.mutex);
    answer = ask.answer;
    g_mutex_unlock(&ask.mutex);
    g_mutex_clear(&ask.mutex);
    g_cond_clear(&ask.cond);
    g_free(ask.pin_name);
    g_free(ask.fingerprint);
    return answer;
}

static PorchClient *
connect_run(PorchTrayConnect *c, const PorchNeighbour *n, gboolean for_print,
            GCancellable *cancellable, GError **error)
{
    g_autoptr(GError) key_error = NULL;
    ssh_key key = porch_identity_load_or_create(c->identity_file, &key_error);
    PorchConnectOptions options = {
            .known_peers = c->known_peers,
            .identity = key,
            .trust = ask_from_worker,
            .trust_data = c,
            .timeout_seconds = c->timeout,
    };
    PorchClient *client;

    if (key == NULL)
        g_debug("no key of our own (%s): connecting as guest", key_error->message);
    client = for_print ? porch_neighbour_connect_print(n, &options, cancellable, error)
                       : porch_neighbour_connect(n, &options, cancellable, error);
    if (key != NULL)
        ssh_key_free(key);
    return client;
}

PorchClient *
porch_tray_connect_run(PorchTrayConnect *c, const PorchNeighbour *n, GCancellable *cancellable,
                       GError **error)
{
    return connect_run(c, n, FALSE, cancellable, error);
}

PorchClient *
porch_tray_connect_run_print(PorchTrayConnect *c, const PorchNeighbour *n,
                             GCancellable *cancellable, GError **error)
{
    return connect_run(c, n, TRUE, cancellable, error);
}

/* ------------------------------------------------------------------------------------------
 * After a contact */

static void
on_key_warning_response(GtkDialog *dialog, int response, gpointer data)
{
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

void
porch_tray_contact_failed(PorchTray *tray, const char *host, const GError *error)
{
    GtkTreeIter iter;

    if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_CHANGED) ||
        g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH)) {
        g_autoptr(PorchNeighbour) n = porch_tray_find_neighbour(tray, host);
        GtkWidget *d = gtk_message_dialog_new(
                porch_tray_get_window(tray), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "Refused: “%s” is not who it was",
                n != NULL ? porch_neighbour_get_name(n) : host);
        gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", error->message);
        gtk_window_set_title(GTK_WINDOW(d), "Porch — key changed");
        atk_object_set_name(gtk_widget_get_accessible(d), "Warning: a neighbour's key changed");
        g_signal_connect(d, "response", G_CALLBACK(on_key_warning_response), NULL);
        gtk_widget_show_all(d);
        return;
    }
    if (!porch_connect_error_is_unreachable(error) || !find_row(tray->neighbours, host, &iter))
        return;
    {
        g_autofree char *detail = g_strdup_printf("unreachable: %s", error->message);
        gtk_list_store_set(tray->neighbours, &iter, PORCH_TRAY_NCOL_UNREACHABLE, TRUE,
                           PORCH_TRAY_NCOL_ICON, "network-offline", PORCH_TRAY_NCOL_DETAIL, detail,
                           -1);
    }
    porch_tray_window_neighbour_changed(tray, host);
    porch_tray_emit_changed(tray);
}

void
porch_tray_contact_ok(PorchTray *tray, const char *host)
{
    GtkTreeIter iter;
    gboolean unreachable = FALSE;
    g_autoptr(PorchNeighbour) n = NULL;

    if (!find_row(tray->neighbours, host, &iter))
        return;
    gtk_tree_model_get(GTK_TREE_MODEL(tray->neighbours), &iter, PORCH_TRAY_NCOL_UNREACHABLE,
                       &unreachable, PORCH_TRAY_NCOL_NEIGHBOUR, &n, -1);
    if (unreachable && n != NULL) {
        set_row(tray, &iter, n);
        porch_tray_window_neighbour_changed(tray, host);
    }
}

/* ------------------------------------------------------------------------------------------
 * Formatting */

char *
porch_tray_format_size(guint64 size)
{
    return g_format_size(size);
}

char *
porch_tray_format_date(gint64 mtime)
{
    g_autoptr(GDateTime) t = NULL;

    if (mtime < 0)
        return g_strdup("");
    t = g_date_time_new_from_unix_local(mtime);
    return t != NULL ? g_date_time_format(t, "%Y-%m-%d %H:%M") : g_strdup("");
}
