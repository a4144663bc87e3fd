/* tray-icon.c — the status icon: a StatusNotifierItem through libayatana-appindicator3, whose
 * menu lists the neighbours live (each with its shares and printers), "Connect to Address…",
 * "Open Porch" and "Quit"; its icon changes while a transfer runs.
 *
 * Why Ayatana AppIndicator rather than XApp's status icon: StatusNotifierItem hosts exist on
 * KDE Plasma, GNOME with the AppIndicator extension (Ubuntu's default session), Xfce, MATE,
 * Budgie, LXQt and Cinnamon, and Ayatana is what Debian and Ubuntu ship for all of them; XApp's
 * icon reaches Cinnamon, MATE and Xfce (with its applet) and otherwise falls back to the
 * XEmbed tray that GNOME and Wayland sessions lack. Whether a host is there is asked first
 * (org.kde.StatusNotifierWatcher on the session bus): without one, porch-tray opens its window
 * instead. */
#include <libayatana-appindicator/app-indicator.h>

#include "tray-icon.h"

#define WATCHER "org.kde.StatusNotifierWatcher"

struct _PorchTrayIcon {
    PorchTrayModel *model;
    PorchTrayWindow *window;
    PorchTrayPrinting *printing;
    AppIndicator *indicator;
    GtkWidget *menu;
    guint rebuild_idle;
    GCancellable *cancellable;
    PorchTrayIconFunc done;
    gpointer done_data;
    gboolean present;     /* porch-tray's start: the app is held meanwhile */
    gboolean open_window; /* porch-tray's start's */
    gboolean stopped;     /* porch_tray_icon_stop() ran while a bus call was pending */
};

static void
icon_free(PorchTrayIcon *icon)
{
    g_clear_object(&icon->cancellable);
    g_clear_object(&icon->model);
    g_clear_object(&icon->window);
    g_clear_object(&icon->printing);
    g_free(icon);
}

/* In a bus callback: TRUE (and the icon freed) when the icon was stopped meanwhile. */
static gboolean
stopped(PorchTrayIcon *icon)
{
    if (!icon->stopped)
        return FALSE;
    icon_free(icon);
    return TRUE;
}

static GApplication *
application(PorchTrayIcon *icon)
{
    GtkApplication *app = porch_tray_model_get_application(icon->model);

    return app != NULL ? G_APPLICATION(app) : NULL;
}

static void
on_open(GtkMenuItem *item, gpointer data)
{
    PorchTrayIcon *icon = data;

    porch_tray_window_show(icon->window);
}

static void
on_connect_address(GtkMenuItem *item, gpointer data)
{
    PorchTrayIcon *icon = data;

    porch_tray_window_connect_to_address(icon->window);
}

static void
on_quit(GtkMenuItem *item, gpointer data)
{
    g_application_quit(application(data));
}

static void
on_neighbour_item(GtkMenuItem *item, gpointer data)
{
    PorchTrayIcon *icon = data;
    const char *host = g_object_get_data(G_OBJECT(item), "porch-host");

    porch_tray_window_show(icon->window);
    porch_tray_window_select_neighbour(icon->window, host);
}

static void
on_share_item(GtkMenuItem *item, gpointer data)
{
    PorchTrayIcon *icon = data;

    porch_tray_window_browse(icon->window, g_object_get_data(G_OBJECT(item), "porch-host"),
                             g_object_get_data(G_OBJECT(item), "porch-path"));
}

static void
on_uri_item(GtkMenuItem *item, gpointer data)
{
    g_app_info_launch_default_for_uri_async(g_object_get_data(G_OBJECT(item), "porch-uri"), NULL,
                                            NULL, NULL, NULL);
}

static void
on_print_item(GtkMenuItem *item, gpointer data)
{
    PorchTrayIcon *icon = data;

    porch_tray_printing_choose(icon->printing, g_object_get_data(G_OBJECT(item), "porch-host"),
                               g_object_get_data(G_OBJECT(item), "porch-printer"));
}

static void
on_add_printer_item(GtkMenuItem *item, gpointer data)
{
    PorchTrayIcon *icon = data;

    porch_tray_printing_add_porch(icon->printing, g_object_get_data(G_OBJECT(item), "porch-host"),
                                  g_object_get_data(G_OBJECT(item), "porch-printer"));
}

static void
on_add_ipp_item(GtkMenuItem *item, gpointer data)
{
    PorchTrayIcon *icon = data;

    porch_tray_printing_add_ipp(icon->printing, g_object_get_data(G_OBJECT(item), "porch-host"),
                                g_object_get_data(G_OBJECT(item), "porch-printer"));
}

/* The host and printer (or IPP service) a printer item acts on. */
static void
set_printer_data(GtkWidget *i, const char *host, const char *printer)
{
    g_object_set_data_full(G_OBJECT(i), "porch-host", g_strdup(host), g_free);
    g_object_set_data_full(G_OBJECT(i), "porch-printer", g_strdup(printer), g_free);
}

static GtkWidget *
item(GtkWidget *menu, const char *label, GCallback cb, gpointer data)
{
    GtkWidget *i = gtk_menu_item_new_with_label(label);

    if (cb != NULL)
        g_signal_connect(i, "activate", cb, data);
    else
        gtk_widget_set_sensitive(i, FALSE);
    gtk_menu_shell_append(GTK_MENU_SHELL(menu), i);
    return i;
}

/* Whether services[k] is an IPP printer that needs an "Add … to this computer" entry: the
 * first _ipp._tcp or _ipps._tcp service of its name. A printer that offers both has one entry
 * (porch_tray_printing_add_ipp() chooses between them by name), as the window has one button. */
static gboolean
is_ipp_printer(const PorchNeighbourService *services, guint k)
{
    if (!g_str_has_prefix(services[k].type, "_ipp"))
        return FALSE;
    for (guint j = 0; j < k; j++)
        if (g_str_has_prefix(services[j].type, "_ipp") &&
            g_str_equal(services[j].name, services[k].name))
            return FALSE;
    return TRUE;
}

static GtkWidget *
neighbour_menu(PorchTrayIcon *icon, PorchNeighbour *n)
{
    GtkWidget *sub = gtk_menu_new();
    const char *host = porch_neighbour_get_host_name(n);
    guint count = 0;
    GtkWidget *i = item(sub, "Show in Porch", G_CALLBACK(on_neighbour_item), icon);

    g_object_set_data_full(G_OBJECT(i), "porch-host", g_strdup(host), g_free);
    gtk_menu_shell_append(GTK_MENU_SHELL(sub), gtk_separator_menu_item_new());
    const PorchNeighbourShare *shares = porch_neighbour_get_shares(n, &count);
    for (guint k = 0; k < count; k++) {
        i = item(sub, shares[k].name, G_CALLBACK(on_share_item), icon);
        g_object_set_data_full(G_OBJECT(i), "porch-host", g_strdup(host), g_free);
        g_object_set_data_full(G_OBJECT(i), "porch-path", g_strdup(shares[k].path), g_free);
    }
    const PorchNeighbourPrinter *printers = porch_neighbour_get_printers(n, &count);
    for (guint k = 0; k < count; k++) {
        g_autofree char *label = g_strdup_printf("Printer %s", printers[k].name);
        GtkWidget *psub = gtk_menu_new();

        i = item(psub, "Print a file…", G_CALLBACK(on_print_item), icon);
        set_printer_data(i, host, printers[k].name);
        i = item(psub, "Add to this computer", G_CALLBACK(on_add_printer_item), icon);
        set_printer_data(i, host, printers[k].name);
        i = item(sub, label, NULL, NULL);
        gtk_widget_set_sensitive(i, TRUE);
        gtk_menu_item_set_submenu(GTK_MENU_ITEM(i), psub);
    }
    const PorchNeighbourService *services = porch_neighbour_get_services(n, &count);
    for (guint k = 0; k < count; k++) {
        g_autofree char *label = g_strdup_printf("%s (%s)", services[k].name, services[k].type);
        i = item(sub, label, G_CALLBACK(on_uri_item), icon);
        g_object_set_data_full(G_OBJECT(i), "porch-uri", g_strdup(services[k].uri), g_free);
        if (is_ipp_printer(services, k)) {
            g_autofree char *add = g_strdup_printf("Add %s to this computer", services[k].name);
            i = item(sub, add, G_CALLBACK(on_add_ipp_item), icon);
            set_printer_data(i, host, services[k].name);
        }
    }
    return sub;
}

static gboolean
rebuild(gpointer data)
{
    PorchTrayIcon *icon = data;
    GtkWidget *menu = gtk_menu_new();
    GtkTreeModel *model = GTK_TREE_MODEL(porch_tray_model_get_neighbours(icon->model));
    GtkTreeIter iter;
    gboolean any = FALSE;

    icon->rebuild_idle = 0;
    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter)) {
        g_autoptr(PorchNeighbour) n = NULL;
        g_autofree char *name = NULL;
        gboolean unreachable = FALSE;
        GtkWidget *i;

        gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_NEIGHBOUR, &n, PORCH_TRAY_NCOL_NAME, &name,
                           PORCH_TRAY_NCOL_UNREACHABLE, &unreachable, -1);
        if (unreachable) {
            g_autofree char *label = g_strdup_printf("%s (unreachable)", name);
            i = item(menu, label, NULL, NULL);
            gtk_widget_set_sensitive(i, TRUE);
        } else {
            i = item(menu, name, NULL, NULL);
            gtk_widget_set_sensitive(i, TRUE);
        }
        gtk_menu_item_set_submenu(GTK_MENU_ITEM(i), neighbour_menu(icon, n));
        any = TRUE;
    }
    if (!any)
        item(menu, "No neighbours found yet", NULL, NULL);
    gtk_menu_shell_append(GTK_MENU_SHELL(menu), gtk_separator_menu_item_new());
    item(menu, "Connect to Address…", G_CALLBACK(on_connect_address), icon);
    item(menu, "Open Porch", G_CALLBACK(on_open), icon);
    item(menu, "Quit", G_CALLBACK(on_quit), icon);
    gtk_widget_show_all(menu);
    app_indicator_set_menu(icon->indicator, GTK_MENU(menu));
    icon->menu = menu;

    if (porch_tray_model_get_transfers_running(icon->model) > 0)
        app_indicator_set_icon_full(icon->indicator, "folder-download", "Porch: fetching");
    else
        app_indicator_set_icon_full(icon->indicator, "folder-remote", "Porch");
    return G_SOURCE_REMOVE;
}

/* The neighbours or the transfers changed: the menu and the icon follow, shortly. */
static void
schedule_rebuild(PorchTrayIcon *icon)
{
    if (icon->rebuild_idle == 0)
        icon->rebuild_idle = g_timeout_add(100, rebuild, icon);
}

static void
on_neighbour_changed(PorchTrayModel *model, const char *host, gpointer data)
{
    schedule_rebuild(data);
}

static void
on_transfers_running(PorchTrayModel *model, GParamSpec *pspec, gpointer data)
{
    schedule_rebuild(data);
}

static void
on_connection_changed(AppIndicator *indicator, gboolean connected, gpointer data)
{
    PorchTrayIcon *icon = data;

    /* the tray host went away: the window is the way in */
    if (!connected && porch_tray_window_get_window(icon->window) == NULL)
        porch_tray_window_show(icon->window);
}

static void
show_icon(PorchTrayIcon *icon)
{
    icon->indicator =
            app_indicator_new("porch-tray", "folder-remote", APP_INDICATOR_CATEGORY_COMMUNICATIONS);
    app_indicator_set_title(icon->indicator, "Porch");
    app_indicator_set_status(icon->indicator, APP_INDICATOR_STATUS_ACTIVE);
    g_signal_connect(icon->indicator, "connection-changed", G_CALLBACK(on_connection_changed),
                     icon);
    rebuild(icon);
    g_signal_connect(icon->model, "neighbour-changed", G_CALLBACK(on_neighbour_changed), icon);
    g_signal_connect(icon->model, "notify::transfers-running", G_CALLBACK(on_transfers_running),
                     icon);
}

static void
finish(PorchTrayIcon *icon, gboolean shown)
{
    GApplication *app = application(icon);

    if (icon->present) {
        if (shown && app != NULL)
            g_application_hold(app); /* the icon keeps the program running */
        if (!shown || icon->open_window)
            porch_tray_window_show(icon->window);
    }
    if (icon->done != NULL)
        icon->done(shown, icon->done_data);
    if (icon->present && app != NULL)
        g_application_release(app); /* held while the question was open */
}

static void
on_name_has_owner(GObject *source, GAsyncResult *result, gpointer data)
{
    PorchTrayIcon *icon = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
            g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    gboolean owned = FALSE;

    if (stopped(icon))
        return;
    if (reply != NULL)
        g_variant_get(reply, "(b)", &owned);
    g_clear_object(&icon->cancellable);
    if (owned)
        show_icon(icon);
    else
        g_debug("no StatusNotifierItem host (%s)", error != NULL ? error->message : "no watcher");
    finish(icon, owned);
}

static void
on_bus(GObject *source, GAsyncResult *result, gpointer data)
{
    PorchTrayIcon *icon = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) bus = g_bus_get_finish(result, &error);

    if (stopped(icon))
        return;
    if (bus == NULL) {
        g_debug("no session bus: %s", error->message);
        g_clear_object(&icon->cancellable);
        finish(icon, FALSE);
        return;
    }
    g_dbus_connection_call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "NameHasOwner", g_variant_new("(s)", WATCHER),
                           G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000, icon->cancellable,
                           on_name_has_owner, icon);
}

PorchTrayIcon *
porch_tray_icon_new(PorchTrayModel *model, PorchTrayWindow *window, PorchTrayPrinting *printing)
{
    PorchTrayIcon *icon = g_new0(PorchTrayIcon, 1);

    icon->model = g_object_ref(model);
    icon->window = g_object_ref(window);
    icon->printing = g_object_ref(printing);
    return icon;
}

void
porch_tray_icon_start(PorchTrayIcon *icon, gboolean present, gboolean open_window,
                      PorchTrayIconFunc done, gpointer data)
{
    g_autofree char *bus_socket = g_build_filename(g_get_user_runtime_dir(), "bus", NULL);

    g_return_if_fail(icon->cancellable == NULL && icon->indicator == NULL);
    icon->done = done;
    icon->done_data = data;
    icon->present = present;
    icon->open_window = open_window;
    if (present && application(icon) != NULL)
        g_application_hold(application(icon));
    /* Only ask when a session bus address is known: GLib would otherwise try to autolaunch
     * one (dbus-launch) on an X display. */
    if (g_getenv("DBUS_SESSION_BUS_ADDRESS") == NULL &&
        !g_file_test(bus_socket, G_FILE_TEST_EXISTS)) {
        finish(icon, FALSE);
        return;
    }
    icon->cancellable = g_cancellable_new();
    g_bus_get(G_BUS_TYPE_SESSION, icon->cancellable, on_bus, icon);
}

GtkMenu *
porch_tray_icon_get_menu(PorchTrayIcon *icon)
{
    return icon != NULL && icon->menu != NULL ? GTK_MENU(icon->menu) : NULL;
}

const char *
porch_tray_icon_get_icon_name(PorchTrayIcon *icon)
{
    return icon != NULL && icon->indicator != NULL ? app_indicator_get_icon(icon->indicator) : NULL;
}

void
porch_tray_icon_stop(PorchTrayIcon *icon)
{
    if (icon == NULL)
        return;
    if (icon->rebuild_idle != 0)
        g_source_remove(icon->rebuild_idle);
    g_signal_handlers_disconnect_by_data(icon->model, icon);
    if (icon->indicator != NULL) {
        app_indicator_set_status(icon->indicator, APP_INDICATOR_STATUS_PASSIVE);
        g_clear_object(&icon->indicator);
    }
    if (icon->cancellable != NULL) {
        /* a bus call is pending: its callback frees the icon. The start's hold ends now,
         * while the application is surely there. */
        if (icon->present && application(icon) != NULL)
            g_application_release(application(icon));
        icon->present = FALSE;
        icon->stopped = TRUE;
        g_cancellable_cancel(icon->cancellable);
        return;
    }
    icon_free(icon);
}
