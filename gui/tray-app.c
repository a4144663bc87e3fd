/* tray-app.c — PorchTray: the browser feeding the model, and the parts of porch-tray made and
 * ended together (see porch-tray-internal.h). The window and the icon observe the model on
 * their own; what is here only forwards. */
#include "porch-config.h"
#include "porch-tray-internal.h"

struct _PorchTray {
    GtkApplication *app; /* borrowed */
    PorchBrowser *browser;
    PorchTrayModel *model;
    PorchTrayPrinting *printing;
    PorchTraySharing *sharing;
    PorchTraySending *sending;
    PorchTrayRemembered *remembered;
    PorchTrayWindow *window;
    PorchTrayIcon *icon; /* from porch_tray_present() on */
    PorchTrayIconDone icon_done;
    gpointer icon_done_data;
};

/* How long porch_tray_free() waits for worker tasks that were cancelled. */
#define WORKERS_TIMEOUT_SECONDS 10

/* ------------------------------------------------------------------------------------------
 * The browser feeds the model. Its signals come from the main context, after the Avahi
 * callbacks returned. */

static void
on_neighbour_added_or_changed(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    PorchTray *tray = data;

    porch_tray_model_neighbour_seen(tray->model, n);
}

static void
on_neighbour_removed(PorchBrowser *browser, PorchNeighbour *n, gpointer data)
{
    PorchTray *tray = data;

    porch_tray_model_neighbour_gone(tray->model, n);
}

static void
on_browser_state(GObject *browser, GParamSpec *pspec, gpointer data)
{
    PorchTray *tray = data;

    if (porch_browser_get_state(tray->browser) == PORCH_BROWSER_RUNNING)
        porch_tray_model_set_browse_error(tray->model, NULL);
    else if (porch_tray_model_get_browse_error(tray->model) == NULL)
        porch_tray_model_set_browse_error(tray->model, "waiting for avahi-daemon (mDNS)");
}

/* ------------------------------------------------------------------------------------------
 * Life */

PorchTray *
porch_tray_new(GtkApplication *app)
{
    PorchTray *tray = g_new0(PorchTray, 1);

    tray->app = app;
    tray->model = porch_tray_model_new(app);
    tray->printing = porch_tray_printing_new(tray->model);
    tray->sharing = porch_tray_sharing_new(tray->model);
    tray->sending = porch_tray_sending_new(tray->model);
    tray->remembered = porch_tray_remembered_new(tray->model);
    tray->window =
            porch_tray_window_new(tray->model, tray->printing, tray->sharing, tray->remembered);
    porch_tray_window_set_sending(tray->window, tray->sending);
    tray->browser = porch_browser_new();
    {
        /* the interfaces this machine's porchd publishes on, when porch.conf names them */
        g_auto(GStrv) interfaces = porch_config_machine_interfaces();
        porch_browser_set_interfaces(tray->browser, (const char *const *)interfaces);
    }
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

    /* the requests for access, from the local porchd (no matter the browser) */
    porch_tray_sharing_start(tray->sharing);
    /* and the offers of files waiting for the user's answer */
    porch_tray_sending_start(tray->sending);
    /* the neighbours remembered by address (no matter avahi-daemon either) */
    porch_tray_remembered_start(tray->remembered);
    if (porch_browser_start(tray->browser, &local))
        return TRUE;
    porch_tray_model_set_browse_error(tray->model, local->message);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

void
porch_tray_free(PorchTray *tray)
{
    if (tray == NULL)
        return;
    g_clear_pointer(&tray->icon, porch_tray_icon_stop);
    /* Workers end promptly once cancelled (a question of theirs answered "no"); their
     * completions need the model, which they hold. */
    porch_tray_model_close(tray->model);
    porch_tray_model_wait_workers(tray->model, WORKERS_TIMEOUT_SECONDS);
    porch_tray_window_close(tray->window);
    g_clear_object(&tray->window);
    g_clear_object(&tray->printing);
    g_clear_object(&tray->sharing);
    g_clear_object(&tray->sending);
    g_clear_object(&tray->remembered);
    g_signal_handlers_disconnect_by_data(tray->browser, tray);
    g_clear_object(&tray->browser);
    g_clear_object(&tray->model);
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
    return porch_tray_model_get_neighbours(tray->model);
}

PorchNeighbour *
porch_tray_find_neighbour(PorchTray *tray, const char *host)
{
    return porch_tray_model_find_neighbour(tray->model, host);
}

void
porch_tray_set_trust_policy(PorchTray *tray, PorchTrayTrustPolicy policy, gpointer data)
{
    porch_tray_model_set_trust_policy(tray->model, policy, data);
}

void
porch_tray_set_files(PorchTray *tray, const char *identity_file, const char *known_peers)
{
    porch_tray_model_set_files(tray->model, identity_file, known_peers);
}

void
porch_tray_set_connect_timeout(PorchTray *tray, int seconds)
{
    porch_tray_model_set_connect_timeout(tray->model, seconds);
}

/* ------------------------------------------------------------------------------------------
 * The window */

GtkWindow *
porch_tray_show_window(PorchTray *tray)
{
    return porch_tray_window_show(tray->window);
}

GtkWindow *
porch_tray_get_window(PorchTray *tray)
{
    return porch_tray_window_get_window(tray->window);
}

GtkTreeView *
porch_tray_get_neighbour_view(PorchTray *tray)
{
    return porch_tray_window_get_neighbour_view(tray->window);
}

GtkTreeView *
porch_tray_get_device_view(PorchTray *tray)
{
    return porch_tray_window_get_device_view(tray->window);
}

gboolean
porch_tray_select_neighbour(PorchTray *tray, const char *host)
{
    return porch_tray_window_select_neighbour(tray->window, host);
}

GtkTreeView *
porch_tray_get_share_view(PorchTray *tray)
{
    return porch_tray_window_get_share_view(tray->window);
}

GtkTreeView *
porch_tray_get_folder_view(PorchTray *tray)
{
    return porch_tray_window_get_folder_view(tray->window);
}

void
porch_tray_browse(PorchTray *tray, const char *host, const char *path)
{
    porch_tray_window_browse(tray->window, host, path);
}

PorchTraySearch *
porch_tray_get_search(PorchTray *tray)
{
    return porch_tray_window_get_search(tray->window);
}

void
porch_tray_search(PorchTray *tray, const char *pattern)
{
    porch_tray_window_search(tray->window, pattern);
}

gboolean
porch_tray_is_listing(PorchTray *tray)
{
    return porch_tray_window_is_listing(tray->window);
}

gboolean
porch_tray_drop_to(PorchTray *tray, const char *uri)
{
    return porch_tray_window_drop_to(tray->window, uri);
}

/* ------------------------------------------------------------------------------------------
 * Transfers */

guint
porch_tray_fetch(PorchTray *tray, PorchNeighbour *n, const char *remote, const char *dest_dir)
{
    return porch_tray_transfer_start(tray->model, n, remote, dest_dir);
}

void
porch_tray_transfer_cancel(PorchTray *tray, guint id)
{
    porch_tray_model_transfer_cancel(tray->model, id);
}

void
porch_tray_transfer_cancel_all(PorchTray *tray)
{
    GtkTreeModel *model = GTK_TREE_MODEL(porch_tray_model_get_transfers(tray->model));
    GtkTreeIter iter;

    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        guint id = 0;
        gtk_tree_model_get(model, &iter, PORCH_TRAY_TCOL_ID, &id, -1);
        porch_tray_model_transfer_cancel(tray->model, id);
    }
}

GtkListStore *
porch_tray_get_transfer_model(PorchTray *tray)
{
    return porch_tray_model_get_transfers(tray->model);
}

gboolean
porch_tray_transfer_get(PorchTray *tray, guint id, PorchTrayTransferState *ret_state,
                        char **ret_dest, char **ret_status, guint64 *ret_done)
{
    return porch_tray_model_transfer_get(tray->model, id, ret_state, ret_dest, ret_status,
                                         ret_done);
}

guint
porch_tray_transfers_running(PorchTray *tray)
{
    return porch_tray_model_get_transfers_running(tray->model);
}

/* ------------------------------------------------------------------------------------------
 * Printing */

void
porch_tray_print_choose(PorchTray *tray, const char *host, const char *printer)
{
    porch_tray_printing_choose(tray->printing, host, printer);
}

guint
porch_tray_print_file(PorchTray *tray, const char *host, const char *printer, const char *path)
{
    return porch_tray_printing_print_file(tray->printing, host, printer, path);
}

guint
porch_tray_add_porch_printer(PorchTray *tray, const char *host, const char *printer)
{
    return porch_tray_printing_add_porch(tray->printing, host, printer);
}

guint
porch_tray_add_ipp_printer(PorchTray *tray, const char *host, const char *service)
{
    return porch_tray_printing_add_ipp(tray->printing, host, service);
}

gboolean
porch_tray_print_get(PorchTray *tray, guint id, PorchTrayPrintState *ret_state, char **ret_message,
                     char **ret_queue)
{
    return porch_tray_model_print_get(tray->model, id, ret_state, ret_message, ret_queue);
}

/* ------------------------------------------------------------------------------------------
 * The icon */

static void
on_icon_done(gboolean shown, gpointer data)
{
    PorchTray *tray = data;

    if (tray->icon_done != NULL)
        tray->icon_done(tray, shown, tray->icon_done_data);
}

void
porch_tray_present(PorchTray *tray, gboolean open_window, PorchTrayIconDone done, gpointer data)
{
    g_return_if_fail(tray->icon == NULL);
    tray->icon_done = done;
    tray->icon_done_data = data;
    tray->icon = porch_tray_icon_new(tray->model, tray->window, tray->printing);
    porch_tray_icon_start(tray->icon, TRUE, open_window, on_icon_done, tray);
}

PorchTrayIcon *
porch_tray_get_icon(PorchTray *tray)
{
    return tray->icon;
}

/* ------------------------------------------------------------------------------------------
 * Sharing */

GtkWindow *
porch_tray_show_sharing(PorchTray *tray)
{
    return porch_tray_sharing_show(tray->sharing);
}

PorchTraySharing *
porch_tray_get_sharing(PorchTray *tray)
{
    return tray->sharing;
}

void
porch_tray_set_control_connect(PorchTray *tray, PorchTrayControlConnect connect, gpointer data,
                               const char *user)
{
    porch_tray_sharing_set_connect(tray->sharing, connect, data, user);
    porch_tray_sending_set_connect(tray->sending, connect, data);
}

PorchTraySending *
porch_tray_get_sending(PorchTray *tray)
{
    return tray->sending;
}

/* ------------------------------------------------------------------------------------------
 * Neighbours remembered by address */

GtkWindow *
porch_tray_show_connect(PorchTray *tray)
{
    return porch_tray_window_connect_to_address(tray->window);
}

void
porch_tray_set_poll_interval(PorchTray *tray, guint seconds)
{
    porch_tray_remembered_set_poll_interval(tray->remembered, seconds);
}

guint
porch_tray_get_polls(PorchTray *tray)
{
    return porch_tray_remembered_get_polls(tray->remembered);
}
