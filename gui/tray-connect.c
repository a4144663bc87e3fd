/* tray-connect.c — connecting to a neighbour from a worker thread, the first-contact question
 * asked on the main thread, and what a contact's outcome does (see tray-connect.h). */
#include "porch-identity.h"
#include "porch-neighbour-client.h"
#include "porch-neighbours.h"
#include "tray-connect.h"

struct _PorchTrayConnect {
    GWeakRef model; /* taken on the main thread only */
    GMainContext *context;
    char *identity_file;
    gboolean identity_named; /* set by porch_tray_set_files(): never created here */
    char *known_peers;
    int timeout;
    gboolean pinned_only; /* porch_tray_connect_new_pinned(): nobody is asked to trust a key */
};

PorchTrayConnect *
porch_tray_connect_new(PorchTrayModel *model)
{
    PorchTrayConnect *c = g_new0(PorchTrayConnect, 1);
    const char *identity_file = porch_tray_model_get_identity_file(model);
    const char *known_peers = porch_tray_model_get_known_peers(model);

    g_weak_ref_init(&c->model, model);
    c->context = g_main_context_ref(porch_tray_model_get_context(model));
    c->identity_file =
            identity_file != NULL ? g_strdup(identity_file) : porch_identity_default_file();
    c->identity_named = identity_file != NULL;
    c->known_peers = known_peers != NULL ? g_strdup(known_peers) : porch_known_peers_default_file();
    c->timeout = porch_tray_model_get_connect_timeout(model);
    return c;
}

PorchTrayConnect *
porch_tray_connect_new_pinned(PorchTrayModel *model)
{
    PorchTrayConnect *c = porch_tray_connect_new(model);

    c->pinned_only = TRUE;
    return c;
}

void
porch_tray_connect_free(PorchTrayConnect *c)
{
    if (c == NULL)
        return;
    g_weak_ref_clear(&c->model);
    g_main_context_unref(c->context);
    g_free(c->identity_file);
    g_free(c->known_peers);
    g_free(c);
}

/* ------------------------------------------------------------------------------------------
 * Trust: the worker thread asks, the main thread answers */

typedef struct {
    PorchTrayConnect *c;
    char *pin_name;
    char *fingerprint;
    gboolean advertised;
    GMutex mutex;
    GCond cond;
    gboolean answered;
    gboolean answer;
    /* the main thread's, while a dialog asks */
    GtkWidget *dialog;
    PorchTrayModel *model;
    gulong closing_handler;
} TrustAsk;

/* On the main thread: the worker waiting in ask_from_worker() goes on (and frees @ask). */
static void
answer_ask(TrustAsk *ask, gboolean answer)
{
    if (ask->dialog != NULL) {
        GtkWidget *d = g_steal_pointer(&ask->dialog);
        gtk_widget_destroy(d);
    }
    if (ask->model != NULL) {
        g_clear_signal_handler(&ask->closing_handler, ask->model);
        g_clear_object(&ask->model);
    }
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

/* The tray closes while the dialog asks: "no". */
static void
on_closing(PorchTrayModel *model, GParamSpec *pspec, gpointer data)
{
    answer_ask(data, FALSE);
}

static gboolean
ask_on_main(gpointer data)
{
    TrustAsk *ask = data;
    g_autoptr(PorchTrayModel) model = g_weak_ref_get(&ask->c->model);
    PorchTrayTrustPolicy policy;
    gpointer policy_data;
    GtkWidget *d;

    if (model == NULL || porch_tray_model_is_closing(model)) {
        answer_ask(ask, FALSE);
        return G_SOURCE_REMOVE;
    }
    policy = porch_tray_model_get_trust_policy(model, &policy_data);
    if (policy != NULL) {
        answer_ask(ask, policy(ask->pin_name, ask->fingerprint, ask->advertised, policy_data));
        return G_SOURCE_REMOVE;
    }
    d = gtk_message_dialog_new(porch_tray_model_get_dialog_parent(model),
                               GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
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
    ask->model = g_object_ref(model);
    ask->closing_handler = g_signal_connect(model, "notify::closing", G_CALLBACK(on_closing), ask);
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
            .c = c,
            .pin_name = g_strdup(pin_name),
            .fingerprint = g_strdup(fingerprint),
            .advertised = advertised,
    };
    gboolean answer;

    g_mutex_init(&ask.mutex);
    g_cond_init(&ask.cond);
    porch_tray_post(c->context, ask_on_main, &ask, NULL);
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

/* A PorchTrustFunc for polls and searches: a key not pinned yet is refused, without asking. */
static gboolean
refuse_unpinned(const char *pin_name, const char *fingerprint, gboolean advertised, gpointer data)
{
    return FALSE;
}

/* The user's key. The default one is made on first use, as the CLI makes it, and the log
 * says where (the tray has no terminal to tell); a file named by porch_tray_set_files() is
 * only read: only `porch id` makes a key at a path someone chose. */
static ssh_key
load_key(PorchTrayConnect *c, GError **error)
{
    /* workers connect at once: one of them makes the key, the others read it */
    static GMutex creating;
    g_autoptr(GMutexLocker) locker = NULL;
    gboolean existed;
    ssh_key key;

    if (c->identity_named)
        return porch_identity_load(c->identity_file, error);
    locker = g_mutex_locker_new(&creating);
    existed = g_file_test(c->identity_file, G_FILE_TEST_EXISTS);
    key = porch_identity_load_or_create(c->identity_file, error);
    if (key != NULL && !existed)
        g_message("made a new key for this user in %s; `porch id` shows it", c->identity_file);
    return key;
}

static PorchClient *
connect_run(PorchTrayConnect *c, const PorchNeighbour *n, gboolean for_print,
            GCancellable *cancellable, GError **error)
{
    g_autoptr(GError) key_error = NULL;
    ssh_key key = load_key(c, &key_error);
    PorchConnectOptions options = {
            .known_peers = c->known_peers,
            .identity = key,
            .trust = c->pinned_only ? refuse_unpinned : ask_from_worker,
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

PorchRemembered *
porch_tray_connect_check(PorchTrayConnect *c, const char *address, guint16 port, gboolean ask,
                         GCancellable *cancellable, GError **error)
{
    g_autoptr(GError) key_error = NULL;
    ssh_key key = load_key(c, &key_error);
    PorchConnectOptions options = {
            .known_peers = c->known_peers,
            .identity = key,
            .trust = ask ? ask_from_worker : refuse_unpinned,
            .trust_data = c,
            .timeout_seconds = c->timeout,
    };
    PorchRemembered *r;

    if (key == NULL)
        g_debug("no key of our own (%s): connecting as guest", key_error->message);
    r = porch_neighbours_check(address, port, &options, cancellable, error);
    if (key != NULL)
        ssh_key_free(key);
    return r;
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

PorchClient *
porch_tray_connect_search(const PorchNeighbour *n, gboolean for_print, gpointer c,
                          GCancellable *cancellable, GError **error)
{
    return connect_run(c, n, for_print, cancellable, error);
}

/* ------------------------------------------------------------------------------------------
 * After a contact */

static void
on_key_warning_response(GtkDialog *dialog, int response, gpointer data)
{
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

void
porch_tray_contact_failed(PorchTrayModel *model, const char *host, const GError *error)
{
    if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_CHANGED) ||
        g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH)) {
        g_autoptr(PorchNeighbour) n = porch_tray_model_find_neighbour(model, host);
        GtkWidget *d;

        porch_tray_model_set_key_changed(model, host, error->message);
        d = gtk_message_dialog_new(porch_tray_model_get_dialog_parent(model),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                   "Refused: “%s” is not who it was",
                                   n != NULL ? porch_neighbour_get_name(n) : host);
        gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", error->message);
        gtk_window_set_title(GTK_WINDOW(d), "Porch — key changed");
        atk_object_set_name(gtk_widget_get_accessible(d), "Warning: a neighbour's key changed");
        g_signal_connect(d, "response", G_CALLBACK(on_key_warning_response), NULL);
        gtk_widget_show_all(d);
        return;
    }
    if (porch_connect_error_is_unreachable(error))
        porch_tray_model_set_unreachable(model, host, error->message);
}

void
porch_tray_contact_ok(PorchTrayModel *model, const char *host)
{
    porch_tray_model_set_reachable(model, host);
}
