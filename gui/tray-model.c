/* tray-model.c — PorchTrayModel: porch-tray's state, and the signals that tell of its changes
 * (see tray-model.h). */
#include <string.h>

#include "tray-model.h"

typedef struct {
    PorchTrayPrintState state;
    char *message;             /* what a user reads about it */
    char *queue;               /* an added printer's queue */
    GCancellable *cancellable; /* while it runs */
} PrintOp;

struct _PorchTrayModel {
    GObject parent_instance;

    GtkApplication *app;   /* borrowed */
    GMainContext *context; /* the main thread's */
    GtkListStore *neighbours;
    char *browse_error;

    char *identity_file; /* NULL: the default */
    char *known_peers;   /* NULL: the default */
    int connect_timeout; /* seconds; 0: the client library's default */
    PorchTrayTrustPolicy trust_policy;
    gpointer trust_data;

    GtkListStore *transfers;
    GHashTable *running; /* transfer id -> GCancellable, the running ones */
    guint next_transfer;

    GHashTable *prints; /* operation id -> PrintOp */
    guint next_print;

    guint workers;
    gboolean closing;
};

G_DEFINE_FINAL_TYPE(PorchTrayModel, porch_tray_model, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_BROWSE_ERROR,
    PROP_TRANSFERS_RUNNING,
    PROP_WORKERS,
    PROP_CLOSING,
    PROP_IDENTITY_FILE,
    PROP_KNOWN_PEERS,
    PROP_CONNECT_TIMEOUT,
    N_PROPS
};
static GParamSpec *props[N_PROPS];

enum { SIGNAL_NEIGHBOUR_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
print_op_free(PrintOp *op)
{
    g_free(op->message);
    g_free(op->queue);
    g_clear_object(&op->cancellable);
    g_free(op);
}

static void
porch_tray_model_init(PorchTrayModel *self)
{
    self->context = g_main_context_ref_thread_default();
    self->neighbours =
            gtk_list_store_new(PORCH_TRAY_NCOL_COUNT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                               G_TYPE_UINT, G_TYPE_STRING, PORCH_TYPE_NEIGHBOUR, G_TYPE_BOOLEAN,
                               G_TYPE_BOOLEAN, G_TYPE_STRING, G_TYPE_STRING);
    gtk_tree_sortable_set_sort_column_id(GTK_TREE_SORTABLE(self->neighbours), PORCH_TRAY_NCOL_NAME,
                                         GTK_SORT_ASCENDING);
    self->transfers = gtk_list_store_new(PORCH_TRAY_TCOL_COUNT, G_TYPE_UINT, G_TYPE_STRING,
                                         G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING, G_TYPE_STRING,
                                         G_TYPE_STRING, G_TYPE_INT, G_TYPE_UINT64, G_TYPE_UINT64);
    self->running = g_hash_table_new_full(NULL, NULL, NULL, g_object_unref);
    self->next_transfer = 1;
    self->prints = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)print_op_free);
    self->next_print = 1;
}

static void
porch_tray_model_finalize(GObject *object)
{
    PorchTrayModel *self = PORCH_TRAY_MODEL(object);

    g_clear_object(&self->neighbours);
    g_clear_object(&self->transfers);
    g_clear_pointer(&self->running, g_hash_table_unref);
    g_clear_pointer(&self->prints, g_hash_table_unref);
    g_free(self->browse_error);
    g_free(self->identity_file);
    g_free(self->known_peers);
    g_main_context_unref(self->context);
    G_OBJECT_CLASS(porch_tray_model_parent_class)->finalize(object);
}

static void
porch_tray_model_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    PorchTrayModel *self = PORCH_TRAY_MODEL(object);

    switch (id) {
    case PROP_BROWSE_ERROR:
        g_value_set_string(value, self->browse_error);
        break;
    case PROP_TRANSFERS_RUNNING:
        g_value_set_uint(value, g_hash_table_size(self->running));
        break;
    case PROP_WORKERS:
        g_value_set_uint(value, self->workers);
        break;
    case PROP_CLOSING:
        g_value_set_boolean(value, self->closing);
        break;
    case PROP_IDENTITY_FILE:
        g_value_set_string(value, self->identity_file);
        break;
    case PROP_KNOWN_PEERS:
        g_value_set_string(value, self->known_peers);
        break;
    case PROP_CONNECT_TIMEOUT:
        g_value_set_int(value, self->connect_timeout);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
porch_tray_model_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
    PorchTrayModel *self = PORCH_TRAY_MODEL(object);

    switch (id) {
    case PROP_BROWSE_ERROR:
        porch_tray_model_set_browse_error(self, g_value_get_string(value));
        break;
    case PROP_IDENTITY_FILE:
        porch_tray_model_set_files(self, g_value_get_string(value), self->known_peers);
        break;
    case PROP_KNOWN_PEERS:
        porch_tray_model_set_files(self, self->identity_file, g_value_get_string(value));
        break;
    case PROP_CONNECT_TIMEOUT:
        porch_tray_model_set_connect_timeout(self, g_value_get_int(value));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
porch_tray_model_class_init(PorchTrayModelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
    const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

    object_class->finalize = porch_tray_model_finalize;
    object_class->get_property = porch_tray_model_get_property;
    object_class->set_property = porch_tray_model_set_property;

    props[PROP_BROWSE_ERROR] = g_param_spec_string("browse-error", NULL,
                                                   "Why the neighbours cannot be seen", NULL, rw);
    props[PROP_TRANSFERS_RUNNING] = g_param_spec_uint(
            "transfers-running", NULL, "How many transfers run", 0, G_MAXUINT, 0, ro);
    props[PROP_WORKERS] = g_param_spec_uint("workers", NULL, "Worker tasks not completed yet", 0,
                                            G_MAXUINT, 0, ro);
    props[PROP_CLOSING] = g_param_spec_boolean("closing", NULL, "The tray is closing", FALSE, ro);
    props[PROP_IDENTITY_FILE] = g_param_spec_string("identity-file", NULL,
                                                    "Our key's file (NULL: the default)", NULL, rw);
    props[PROP_KNOWN_PEERS] = g_param_spec_string(
            "known-peers", NULL, "The pinned keys' file (NULL: the default)", NULL, rw);
    props[PROP_CONNECT_TIMEOUT] = g_param_spec_int(
            "connect-timeout", NULL, "Seconds a contact may take (0: default)", 0, G_MAXINT, 0, rw);
    g_object_class_install_properties(object_class, N_PROPS, props);

    signals[SIGNAL_NEIGHBOUR_CHANGED] =
            g_signal_new("neighbour-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                         NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

PorchTrayModel *
porch_tray_model_new(GtkApplication *app)
{
    PorchTrayModel *self = g_object_new(PORCH_TYPE_TRAY_MODEL, NULL);

    self->app = app;
    return self;
}

GtkApplication *
porch_tray_model_get_application(PorchTrayModel *self)
{
    return self->app;
}

GtkWindow *
porch_tray_model_get_dialog_parent(PorchTrayModel *self)
{
    return self->app != NULL ? gtk_application_get_active_window(self->app) : NULL;
}

GMainContext *
porch_tray_model_get_context(PorchTrayModel *self)
{
    return self->context;
}

void
porch_tray_post(GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
    g_autoptr(GSource) source = g_idle_source_new();

    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, func, data, notify);
    g_source_set_static_name(source, "porch-tray worker report");
    g_source_attach(source, context);
}

/* ------------------------------------------------------------------------------------------
 * The neighbours */

static gboolean
find_neighbour_row(PorchTrayModel *self, const char *host, GtkTreeIter *ret_iter)
{
    GtkTreeModel *model = GTK_TREE_MODEL(self->neighbours);
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
set_neighbour_row(PorchTrayModel *self, GtkTreeIter *iter, PorchNeighbour *n)
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

    g_autofree char *key_changed = NULL;

    /* a refused key stays shown until a contact succeeds: a new announcement does not clear it */
    gtk_tree_model_get(GTK_TREE_MODEL(self->neighbours), iter, PORCH_TRAY_NCOL_KEY_CHANGED,
                       &key_changed, -1);
    if (key_changed != NULL) {
        icon = "security-low";
        g_free(detail);
        detail = g_strdup("key changed");
    }
    porch_neighbour_get_shares(n, &shares);
    gtk_list_store_set(self->neighbours, iter, PORCH_TRAY_NCOL_NAME, porch_neighbour_get_name(n),
                       PORCH_TRAY_NCOL_ADDRESS, address, PORCH_TRAY_NCOL_ICON, icon,
                       PORCH_TRAY_NCOL_SHARES, shares, PORCH_TRAY_NCOL_HOST,
                       porch_neighbour_get_host_name(n), PORCH_TRAY_NCOL_NEIGHBOUR, n,
                       PORCH_TRAY_NCOL_IS_PORCH, porch_neighbour_is_porch(n),
                       PORCH_TRAY_NCOL_UNREACHABLE, FALSE, PORCH_TRAY_NCOL_DETAIL, detail, -1);
}

GtkListStore *
porch_tray_model_get_neighbours(PorchTrayModel *self)
{
    return self->neighbours;
}

void
porch_tray_model_neighbour_seen(PorchTrayModel *self, PorchNeighbour *n)
{
    GtkTreeIter iter;

    if (!find_neighbour_row(self, porch_neighbour_get_host_name(n), &iter))
        gtk_list_store_append(self->neighbours, &iter);
    set_neighbour_row(self, &iter, n);
    g_signal_emit(self, signals[SIGNAL_NEIGHBOUR_CHANGED], 0, porch_neighbour_get_host_name(n));
}

void
porch_tray_model_neighbour_gone(PorchTrayModel *self, PorchNeighbour *n)
{
    GtkTreeIter iter;

    if (find_neighbour_row(self, porch_neighbour_get_host_name(n), &iter))
        gtk_list_store_remove(self->neighbours, &iter);
    g_signal_emit(self, signals[SIGNAL_NEIGHBOUR_CHANGED], 0, porch_neighbour_get_host_name(n));
}

PorchNeighbour *
porch_tray_model_find_neighbour(PorchTrayModel *self, const char *host)
{
    GtkTreeIter iter;
    PorchNeighbour *n = NULL;

    if (!find_neighbour_row(self, host, &iter))
        return NULL;
    gtk_tree_model_get(GTK_TREE_MODEL(self->neighbours), &iter, PORCH_TRAY_NCOL_NEIGHBOUR, &n, -1);
    return n;
}

gboolean
porch_tray_model_is_unreachable(PorchTrayModel *self, const char *host)
{
    GtkTreeIter iter;
    gboolean unreachable = FALSE;

    if (find_neighbour_row(self, host, &iter))
        gtk_tree_model_get(GTK_TREE_MODEL(self->neighbours), &iter, PORCH_TRAY_NCOL_UNREACHABLE,
                           &unreachable, -1);
    return unreachable;
}

void
porch_tray_model_set_unreachable(PorchTrayModel *self, const char *host, const char *why)
{
    GtkTreeIter iter;
    g_autofree char *detail = NULL;

    if (!find_neighbour_row(self, host, &iter))
        return;
    detail = g_strdup_printf("unreachable: %s", why);
    gtk_list_store_set(self->neighbours, &iter, PORCH_TRAY_NCOL_UNREACHABLE, TRUE,
                       PORCH_TRAY_NCOL_ICON, "network-offline", PORCH_TRAY_NCOL_DETAIL, detail, -1);
    g_signal_emit(self, signals[SIGNAL_NEIGHBOUR_CHANGED], 0, host);
}

void
porch_tray_model_set_reachable(PorchTrayModel *self, const char *host)
{
    GtkTreeIter iter;
    gboolean unreachable = FALSE;
    g_autoptr(PorchNeighbour) n = NULL;

    if (!find_neighbour_row(self, host, &iter))
        return;
    g_autofree char *key_changed = NULL;

    gtk_tree_model_get(GTK_TREE_MODEL(self->neighbours), &iter, PORCH_TRAY_NCOL_UNREACHABLE,
                       &unreachable, PORCH_TRAY_NCOL_NEIGHBOUR, &n, PORCH_TRAY_NCOL_KEY_CHANGED,
                       &key_changed, -1);
    if ((!unreachable && key_changed == NULL) || n == NULL)
        return;
    gtk_list_store_set(self->neighbours, &iter, PORCH_TRAY_NCOL_KEY_CHANGED, NULL, -1);
    set_neighbour_row(self, &iter, n);
    g_signal_emit(self, signals[SIGNAL_NEIGHBOUR_CHANGED], 0, host);
}

void
porch_tray_model_set_key_changed(PorchTrayModel *self, const char *host, const char *why)
{
    GtkTreeIter iter;

    if (!find_neighbour_row(self, host, &iter))
        return;
    gtk_list_store_set(self->neighbours, &iter, PORCH_TRAY_NCOL_KEY_CHANGED, why,
                       PORCH_TRAY_NCOL_ICON, "security-low", PORCH_TRAY_NCOL_DETAIL, "key changed",
                       -1);
    g_signal_emit(self, signals[SIGNAL_NEIGHBOUR_CHANGED], 0, host);
}

char *
porch_tray_model_get_key_changed(PorchTrayModel *self, const char *host)
{
    GtkTreeIter iter;
    char *why = NULL;

    if (find_neighbour_row(self, host, &iter))
        gtk_tree_model_get(GTK_TREE_MODEL(self->neighbours), &iter, PORCH_TRAY_NCOL_KEY_CHANGED,
                           &why, -1);
    return why;
}

const char *
porch_tray_model_get_browse_error(PorchTrayModel *self)
{
    return self->browse_error;
}

void
porch_tray_model_set_browse_error(PorchTrayModel *self, const char *error)
{
    if (g_strcmp0(self->browse_error, error) == 0)
        return;
    g_free(self->browse_error);
    self->browse_error = g_strdup(error);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BROWSE_ERROR]);
}

/* ------------------------------------------------------------------------------------------
 * The settings of a contact */

const char *
porch_tray_model_get_identity_file(PorchTrayModel *self)
{
    return self->identity_file;
}

const char *
porch_tray_model_get_known_peers(PorchTrayModel *self)
{
    return self->known_peers;
}

void
porch_tray_model_set_files(PorchTrayModel *self, const char *identity_file, const char *known_peers)
{
    g_object_freeze_notify(G_OBJECT(self));
    if (g_strcmp0(self->identity_file, identity_file) != 0) {
        char *old = self->identity_file;
        self->identity_file = g_strdup(identity_file);
        g_free(old);
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_IDENTITY_FILE]);
    }
    if (g_strcmp0(self->known_peers, known_peers) != 0) {
        char *old = self->known_peers;
        self->known_peers = g_strdup(known_peers);
        g_free(old);
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_KNOWN_PEERS]);
    }
    g_object_thaw_notify(G_OBJECT(self));
}

int
porch_tray_model_get_connect_timeout(PorchTrayModel *self)
{
    return self->connect_timeout;
}

void
porch_tray_model_set_connect_timeout(PorchTrayModel *self, int seconds)
{
    seconds = MAX(seconds, 0);
    if (self->connect_timeout == seconds)
        return;
    self->connect_timeout = seconds;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CONNECT_TIMEOUT]);
}

void
porch_tray_model_set_trust_policy(PorchTrayModel *self, PorchTrayTrustPolicy policy, gpointer data)
{
    self->trust_policy = policy;
    self->trust_data = data;
}

PorchTrayTrustPolicy
porch_tray_model_get_trust_policy(PorchTrayModel *self, gpointer *ret_data)
{
    *ret_data = self->trust_data;
    return self->trust_policy;
}

/* ------------------------------------------------------------------------------------------
 * The transfers */

static gboolean
find_transfer_row(PorchTrayModel *self, guint id, GtkTreeIter *ret_iter)
{
    GtkTreeModel *model = GTK_TREE_MODEL(self->transfers);
    GtkTreeIter iter;

    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        guint row_id = 0;
        gtk_tree_model_get(model, &iter, PORCH_TRAY_TCOL_ID, &row_id, -1);
        if (row_id == id) {
            *ret_iter = iter;
            return TRUE;
        }
    }
    return FALSE;
}

GtkListStore *
porch_tray_model_get_transfers(PorchTrayModel *self)
{
    return self->transfers;
}

guint
porch_tray_model_transfer_add(PorchTrayModel *self, const char *title, const char *dest,
                              GCancellable *cancellable)
{
    guint id = self->next_transfer++;

    gtk_list_store_insert_with_values(
            self->transfers, NULL, -1, PORCH_TRAY_TCOL_ID, id, PORCH_TRAY_TCOL_NAME, title,
            PORCH_TRAY_TCOL_DEST, dest, PORCH_TRAY_TCOL_PERCENT, 0, PORCH_TRAY_TCOL_RATE, "",
            PORCH_TRAY_TCOL_ETA, "", PORCH_TRAY_TCOL_STATUS, "Connecting…", PORCH_TRAY_TCOL_STATE,
            PORCH_TRAY_TRANSFER_RUNNING, PORCH_TRAY_TCOL_DONE, (guint64)0, PORCH_TRAY_TCOL_TOTAL,
            (guint64)0, -1);
    g_hash_table_insert(self->running, GUINT_TO_POINTER(id), g_object_ref(cancellable));
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TRANSFERS_RUNNING]);
    return id;
}

gboolean
porch_tray_model_transfer_is_running(PorchTrayModel *self, guint id)
{
    return g_hash_table_contains(self->running, GUINT_TO_POINTER(id));
}

void
porch_tray_model_transfer_progress(PorchTrayModel *self, guint id, int percent, const char *rate,
                                   const char *eta, const char *status, guint64 done, guint64 total)
{
    GtkTreeIter iter;

    if (!porch_tray_model_transfer_is_running(self, id) || !find_transfer_row(self, id, &iter))
        return;
    gtk_list_store_set(self->transfers, &iter, PORCH_TRAY_TCOL_PERCENT, CLAMP(percent, 0, 100),
                       PORCH_TRAY_TCOL_RATE, rate, PORCH_TRAY_TCOL_ETA, eta, PORCH_TRAY_TCOL_STATUS,
                       status, PORCH_TRAY_TCOL_DONE, done, PORCH_TRAY_TCOL_TOTAL, total, -1);
}

void
porch_tray_model_transfer_finish(PorchTrayModel *self, guint id, PorchTrayTransferState state,
                                 const char *status)
{
    GtkTreeIter iter;

    g_return_if_fail(state != PORCH_TRAY_TRANSFER_RUNNING);
    if (find_transfer_row(self, id, &iter))
        gtk_list_store_set(self->transfers, &iter, PORCH_TRAY_TCOL_STATE, state,
                           PORCH_TRAY_TCOL_STATUS, status, PORCH_TRAY_TCOL_RATE, "",
                           PORCH_TRAY_TCOL_ETA, "", PORCH_TRAY_TCOL_PERCENT,
                           state == PORCH_TRAY_TRANSFER_DONE ? 100 : 0, -1);
    if (g_hash_table_remove(self->running, GUINT_TO_POINTER(id)))
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_TRANSFERS_RUNNING]);
}

void
porch_tray_model_transfer_cancel(PorchTrayModel *self, guint id)
{
    GCancellable *cancellable = g_hash_table_lookup(self->running, GUINT_TO_POINTER(id));

    if (cancellable != NULL)
        g_cancellable_cancel(cancellable);
}

gboolean
porch_tray_model_transfer_get(PorchTrayModel *self, guint id, PorchTrayTransferState *ret_state,
                              char **ret_dest, char **ret_status, guint64 *ret_done)
{
    GtkTreeIter iter;
    int state = 0;
    char *dest = NULL, *status = NULL;
    guint64 done = 0;

    if (!find_transfer_row(self, id, &iter))
        return FALSE;
    gtk_tree_model_get(GTK_TREE_MODEL(self->transfers), &iter, PORCH_TRAY_TCOL_STATE, &state,
                       PORCH_TRAY_TCOL_DEST, &dest, PORCH_TRAY_TCOL_STATUS, &status,
                       PORCH_TRAY_TCOL_DONE, &done, -1);
    if (ret_state != NULL)
        *ret_state = (PorchTrayTransferState)state;
    if (ret_dest != NULL)
        *ret_dest = dest;
    else
        g_free(dest);
    if (ret_status != NULL)
        *ret_status = status;
    else
        g_free(status);
    if (ret_done != NULL)
        *ret_done = done;
    return TRUE;
}

guint
porch_tray_model_get_transfers_running(PorchTrayModel *self)
{
    return g_hash_table_size(self->running);
}

/* ------------------------------------------------------------------------------------------
 * The print operations */

guint
porch_tray_model_print_add(PorchTrayModel *self, const char *queue, GCancellable *cancellable)
{
    PrintOp *op = g_new0(PrintOp, 1);
    guint id = self->next_print++;

    op->state = PORCH_TRAY_PRINT_RUNNING;
    op->queue = g_strdup(queue);
    op->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
    g_hash_table_insert(self->prints, GUINT_TO_POINTER(id), op);
    return id;
}

void
porch_tray_model_print_finish(PorchTrayModel *self, guint id, PorchTrayPrintState state,
                              const char *message)
{
    PrintOp *op = g_hash_table_lookup(self->prints, GUINT_TO_POINTER(id));

    g_return_if_fail(op != NULL && state != PORCH_TRAY_PRINT_RUNNING);
    op->state = state;
    g_free(op->message);
    op->message = g_strdup(message);
    g_clear_object(&op->cancellable);
}

gboolean
porch_tray_model_print_get(PorchTrayModel *self, guint id, PorchTrayPrintState *ret_state,
                           char **ret_message, char **ret_queue)
{
    PrintOp *op = g_hash_table_lookup(self->prints, GUINT_TO_POINTER(id));

    if (op == NULL)
        return FALSE;
    if (ret_state != NULL)
        *ret_state = op->state;
    if (ret_message != NULL)
        *ret_message = g_strdup(op->message);
    if (ret_queue != NULL)
        *ret_queue = g_strdup(op->queue);
    return TRUE;
}

/* ------------------------------------------------------------------------------------------
 * Worker tasks, and the end */

void
porch_tray_model_worker_start(PorchTrayModel *self)
{
    self->workers++;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_WORKERS]);
}

void
porch_tray_model_worker_done(PorchTrayModel *self)
{
    g_return_if_fail(self->workers > 0);
    self->workers--;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_WORKERS]);
}

guint
porch_tray_model_get_workers(PorchTrayModel *self)
{
    return self->workers;
}

void
porch_tray_model_close(PorchTrayModel *self)
{
    GHashTableIter it;
    gpointer value;

    if (self->closing)
        return;
    self->closing = TRUE;
    g_hash_table_iter_init(&it, self->running);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_cancellable_cancel(value);
    g_hash_table_iter_init(&it, self->prints);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_cancellable_cancel(((PrintOp *)value)->cancellable); /* NULL: it ended */
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_CLOSING]);
}

gboolean
porch_tray_model_is_closing(PorchTrayModel *self)
{
    return self->closing;
}

typedef struct {
    GMainLoop *loop;
    gboolean timed_out;
} Wait;

static void
on_workers_for_wait(PorchTrayModel *self, GParamSpec *pspec, gpointer data)
{
    Wait *wait = data;

    if (self->workers == 0)
        g_main_loop_quit(wait->loop);
}

static gboolean
on_wait_timeout(gpointer data)
{
    Wait *wait = data;

    wait->timed_out = TRUE;
    g_main_loop_quit(wait->loop);
    return G_SOURCE_REMOVE;
}

/* After a wait that timed out: the last worker's completion drops the model's own reference. */
static void
on_workers_for_release(PorchTrayModel *self, GParamSpec *pspec, gpointer data)
{
    if (self->workers > 0)
        return;
    g_signal_handlers_disconnect_by_func(self, on_workers_for_release, data);
    g_object_unref(self);
}

gboolean
porch_tray_model_wait_workers(PorchTrayModel *self, guint timeout_seconds)
{
    Wait wait = {0};
    g_autoptr(GSource) timeout = NULL;
    gulong handler;

    if (self->workers == 0)
        return TRUE;
    wait.loop = g_main_loop_new(self->context, FALSE);
    handler = g_signal_connect(self, "notify::workers", G_CALLBACK(on_workers_for_wait), &wait);
    /* not g_timeout_source_new_seconds(): its first tick is rounded to the next whole second
     * of a shared schedule and may come up to a second early */
    timeout = g_timeout_source_new(timeout_seconds * 1000);
    g_source_set_callback(timeout, on_wait_timeout, &wait, NULL);
    g_source_set_static_name(timeout, "porch-tray waiting for its workers");
    g_source_attach(timeout, self->context);
    g_main_loop_run(wait.loop);
    g_source_destroy(timeout);
    g_signal_handler_disconnect(self, handler);
    g_main_loop_unref(wait.loop);
    if (self->workers == 0)
        return TRUE;
    g_debug("%u worker task(s) did not end in %u s", self->workers, timeout_seconds);
    g_object_ref(self);
    g_signal_connect(self, "notify::workers", G_CALLBACK(on_workers_for_release), NULL);
    return FALSE;
}
