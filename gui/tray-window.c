/* tray-window.c — the Porch window: the neighbours and the devices nearby (live from the
 * neighbour model), the selected one's shares, printers and services, a folder browser for a
 * share (back, up, path bar; sizes and dates), the files the search box finds on the
 * neighbours (tray-search.h), and the transfers. Folder listings run in GTask
 * worker threads over one connection per browsed neighbour; nothing here waits on the
 * network (see tray-window.h). */
#include <handy.h>
#include <string.h>

#include "porch-identity.h"
#include "porch-neighbour-client.h"
#include "tray-connect.h"
#include "tray-remembered.h"
#include "tray-search.h"
#include "tray-transfers.h"
#include "tray-window.h"

enum { FCOL_ICON, FCOL_NAME, FCOL_SIZE_TEXT, FCOL_DATE, FCOL_IS_DIR, FCOL_SIZE, FCOL_COUNT };
enum { SCOL_NAME, SCOL_DETAIL, SCOL_URI, SCOL_PATH, SCOL_COUNT };

/* One SSH connection for browsing a neighbour, used by one worker at a time. */
typedef struct {
    GMutex lock;
    PorchClient *client;
} BrowseConn;

/* The window while it is open: its widgets and what it shows. */
typedef struct {
    PorchTrayWindow *owner;
    GtkWidget *window;
    GtkWidget *state_label;
    /* the frame: header bar, the leaflet of the sidebar and the content, the status pages */
    GtkWidget *header, *leaflet, *sidebar, *content, *back_to_list;
    GtkWidget *search_bar, *search_entry, *search_button, *transfers_button;
    PorchTraySearch *search; /* the files found, a page of the stack */
    char *before_search;     /* the page the search page replaced */
    GtkWidget *empty_page, *why_button, *connect_button, *key_page, *key_detail;
    GtkTreeView *neighbours_view, *devices_view;
    GtkTreeModel *porch_filter, *device_filter;
    GtkWidget *stack;
    /* the neighbour page */
    char *host; /* selected neighbour */
    GtkWidget *title_label, *info_label;
    GtkWidget *shares_box, *printers_box, *services_box;
    GtkListStore *shares, *printers, *services;
    GtkTreeView *shares_view, *printers_view, *services_view;
    GtkWidget *add_ipp_button;
    GtkWidget *send_box; /* "Send Files…", for a neighbour whose TXT says inbox=1 */
    /* the folder page */
    char *browse_host;
    char *browse_path;
    GPtrArray *history; /* earlier paths, for Back */
    GtkWidget *back_button, *up_button, *path_bar, *spinner, *folder_message;
    GtkListStore *files;
    GtkTreeView *files_view;
    guint list_serial;
    guint listing;
    BrowseConn *conn;
    char *conn_host;
    /* transfers: a row each, by id */
    GtkWidget *transfers_list;
    GHashTable *transfer_rows;
    /* what is remembered: the size, and the neighbour to show again when it shows up */
    int width, height;
    gboolean maximized;
    char *restore_host;
} View;

static void
a11y(GtkWidget *w, const char *name)
{
    atk_object_set_name(gtk_widget_get_accessible(w), name);
}

static void
browse_conn_clear(BrowseConn *c)
{
    if (c == NULL)
        return;
    g_clear_pointer(&c->client, porch_client_free);
    g_mutex_clear(&c->lock);
}

static BrowseConn *
browse_conn_ref(BrowseConn *c)
{
    return g_atomic_rc_box_acquire(c);
}

static void
browse_conn_unref(BrowseConn *c)
{
    g_atomic_rc_box_release_full(c, (GDestroyNotify)browse_conn_clear);
}

struct _PorchTrayWindow {
    GObject parent_instance;
    PorchTrayModel *model;
    PorchTrayPrinting *printing;
    PorchTraySharing *sharing;
    PorchTrayRemembered *remembered;
    PorchTraySending *sending; /* may be NULL */
    GSettings *settings;       /* NULL when the schema is not installed: nothing is remembered */
    View *view;                /* while the window is open */
};

G_DEFINE_FINAL_TYPE(PorchTrayWindow, porch_tray_window, G_TYPE_OBJECT)

static char *
format_size(guint64 size)
{
    return g_format_size(size);
}

/* The local date and time of @mtime, "" when unknown. */
static char *
format_date(gint64 mtime)
{
    g_autoptr(GDateTime) t = NULL;

    if (mtime < 0)
        return g_strdup("");
    t = g_date_time_new_from_unix_local(mtime);
    return t != NULL ? g_date_time_format(t, "%Y-%m-%d %H:%M") : g_strdup("");
}

/* ------------------------------------------------------------------------------------------
 * The neighbour page */

static PorchNeighbour *
selected_neighbour(View *w)
{
    return w->host != NULL ? porch_tray_model_find_neighbour(w->owner->model, w->host) : NULL;
}

static void
fill_neighbour_page(View *w)
{
    g_autoptr(PorchNeighbour) n = selected_neighbour(w);
    guint count = 0;
    g_autoptr(GString) info = g_string_new(NULL);
    const char *const *v4, *const *v6;
    gboolean unreachable = FALSE;

    gtk_list_store_clear(w->shares);
    gtk_list_store_clear(w->printers);
    gtk_list_store_clear(w->services);
    if (n == NULL) {
        gtk_label_set_text(GTK_LABEL(w->title_label), w->host != NULL ? "Gone" : "");
        gtk_label_set_text(GTK_LABEL(w->info_label),
                           w->host != NULL ? "This neighbour has left the network." : "");
        gtk_widget_hide(w->shares_box);
        gtk_widget_hide(w->printers_box);
        gtk_widget_hide(w->services_box);
        gtk_widget_hide(w->send_box);
        return;
    }
    unreachable = porch_tray_model_is_unreachable(w->owner->model, w->host);
    gtk_label_set_text(GTK_LABEL(w->title_label), porch_neighbour_get_name(n));
    if (porch_neighbour_is_remembered(n)) {
        /* its host name is its one address */
        g_string_append_printf(info, "%s, remembered by address (not seen on the network)",
                               porch_neighbour_get_host_name(n));
    } else {
        g_string_append(info, porch_neighbour_get_host_name(n));
        v4 = porch_neighbour_get_ipv4_addresses(n);
        v6 = porch_neighbour_get_ipv6_addresses(n);
        for (guint i = 0; v4[i] != NULL; i++)
            g_string_append_printf(info, "  %s", v4[i]);
        for (guint i = 0; v6[i] != NULL; i++)
            g_string_append_printf(info, "  %s", v6[i]);
    }
    if (porch_neighbour_get_fingerprint(n) != NULL)
        g_string_append_printf(info, "\nKey %s", porch_neighbour_get_fingerprint(n));
    if (unreachable)
        g_string_append(info, "\nUnreachable: the last contact failed.");
    gtk_label_set_text(GTK_LABEL(w->info_label), info->str);

    gtk_widget_set_visible(w->send_box, w->owner->sending != NULL && porch_neighbour_is_porch(n) &&
                                                porch_neighbour_has_inbox(n));
    if (porch_neighbour_is_porch(n)) {
        const PorchNeighbourShare *sh = porch_neighbour_get_shares(n, &count);
        for (guint i = 0; i < count; i++)
            gtk_list_store_insert_with_values(w->shares, NULL, -1, SCOL_NAME, sh[i].name,
                                              SCOL_DETAIL, sh[i].guest ? "open to guests" : "",
                                              SCOL_URI, sh[i].uri, SCOL_PATH, sh[i].path, -1);
        const PorchNeighbourPrinter *pr = porch_neighbour_get_printers(n, &count);
        for (guint i = 0; i < count; i++)
            gtk_list_store_insert_with_values(w->printers, NULL, -1, SCOL_NAME, pr[i].name,
                                              SCOL_DETAIL, pr[i].instance, SCOL_URI, NULL,
                                              SCOL_PATH, NULL, -1);
        gtk_widget_show(w->shares_box);
        gtk_widget_set_visible(w->printers_box, count > 0);
    } else {
        gtk_widget_hide(w->shares_box);
        gtk_widget_hide(w->printers_box);
    }
    const PorchNeighbourService *sv = porch_neighbour_get_services(n, &count);
    for (guint i = 0; i < count; i++)
        gtk_list_store_insert_with_values(w->services, NULL, -1, SCOL_NAME, sv[i].name, SCOL_DETAIL,
                                          sv[i].type, SCOL_URI, sv[i].uri, SCOL_PATH, NULL, -1);
    gtk_widget_set_visible(w->services_box, count > 0);
}

/* The empty page says why nothing is shown: the neighbours cannot be seen, there are none yet,
 * or none is selected. */
static void
update_empty_page(View *w)
{
    const char *error = porch_tray_model_get_browse_error(w->owner->model);
    GtkTreeModel *all = GTK_TREE_MODEL(porch_tray_model_get_neighbours(w->owner->model));
    HdyStatusPage *page = HDY_STATUS_PAGE(w->empty_page);

    if (error != NULL) {
        hdy_status_page_set_icon_name(page, "network-error-symbolic");
        hdy_status_page_set_title(page, "Cannot see the neighbours");
        hdy_status_page_set_description(page, error);
        gtk_widget_show(w->why_button);
        gtk_widget_show(w->connect_button);
    } else if (gtk_tree_model_iter_n_children(all, NULL) == 0) {
        hdy_status_page_set_icon_name(page, "network-workgroup-symbolic");
        hdy_status_page_set_title(page, "No neighbours yet");
        hdy_status_page_set_description(page,
                                        "Computers on this network that run Porch show up here "
                                        "by themselves, and so do printers and other devices.");
        gtk_widget_show(w->why_button);
        gtk_widget_show(w->connect_button);
    } else {
        hdy_status_page_set_icon_name(page, "network-workgroup-symbolic");
        hdy_status_page_set_title(page, "Select a neighbour");
        hdy_status_page_set_description(page, "Its shares and printers show here.");
        gtk_widget_hide(w->why_button);
        gtk_widget_hide(w->connect_button);
    }
}

/* The text of the key-changed page about the neighbour named @name; @why says what to do. */
static char *
key_changed_text(const char *name)
{
    return g_strdup_printf("“%s” answered with another key than the one pinned on first "
                           "contact, so Porch refused to talk to it. Either it was reinstalled, "
                           "or another computer is pretending to be it.\n\n"
                           "Ask its owner. If it was reinstalled, remove the old key as said "
                           "below, then open it again to trust its new key. If not, do not "
                           "use it.",
                           name);
}

/* Shows what is known of the selected neighbour: its page, or why it was refused. */
static void
show_selected_page(View *w)
{
    g_autoptr(PorchNeighbour) n = selected_neighbour(w);
    g_autofree char *why =
            w->host != NULL ? porch_tray_model_get_key_changed(w->owner->model, w->host) : NULL;

    if (w->host == NULL) {
        update_empty_page(w);
        gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "empty");
    } else if (why != NULL) {
        g_autofree char *text = key_changed_text(n != NULL ? porch_neighbour_get_name(n) : w->host);
        hdy_status_page_set_description(HDY_STATUS_PAGE(w->key_page), text);
        gtk_label_set_text(GTK_LABEL(w->key_detail), why);
        gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "key-changed");
    } else {
        gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "neighbour");
    }
}

static void
show_neighbour(View *w, const char *host)
{
    if (g_strcmp0(w->host, host) != 0) {
        g_free(w->host);
        w->host = g_strdup(host);
    }
    if (host != NULL) {
        g_clear_pointer(&w->restore_host, g_free);
        if (w->owner->settings != NULL)
            g_settings_set_string(w->owner->settings, "last-neighbour", host);
    }
    fill_neighbour_page(w);
    show_selected_page(w);
    if (host != NULL)
        hdy_leaflet_set_visible_child(HDY_LEAFLET(w->leaflet), w->content);
}

static void
on_selection_changed(GtkTreeSelection *selection, gpointer data)
{
    View *w = data;
    GtkTreeModel *model;
    GtkTreeIter iter;
    g_autofree char *host = NULL;

    if (!gtk_tree_selection_get_selected(selection, &model, &iter))
        return;
    gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_HOST, &host, -1);
    /* one selection across both lists */
    if (gtk_tree_selection_get_tree_view(selection) == w->neighbours_view)
        gtk_tree_selection_unselect_all(gtk_tree_view_get_selection(w->devices_view));
    else
        gtk_tree_selection_unselect_all(gtk_tree_view_get_selection(w->neighbours_view));
    show_neighbour(w, host);
}

/* The model's row of @host changed or went: the page of the selected neighbour follows. */
static void
on_neighbour_changed(PorchTrayModel *model, const char *host, gpointer data)
{
    View *w = PORCH_TRAY_WINDOW(data)->view;
    const char *page;
    g_autofree char *why = NULL;

    if (w == NULL)
        return;
    update_empty_page(w);
    /* the neighbour shown last, back: shown again unless the user chose another meanwhile */
    if (w->host == NULL && g_strcmp0(w->restore_host, host) == 0 &&
        porch_tray_window_select_neighbour(PORCH_TRAY_WINDOW(data), host))
        return;
    if (g_strcmp0(w->host, host) != 0)
        return;
    fill_neighbour_page(w);
    /* a refused key shows at once, and its page goes when a contact succeeds; a folder being
     * browsed stays */
    page = gtk_stack_get_visible_child_name(GTK_STACK(w->stack));
    why = porch_tray_model_get_key_changed(w->owner->model, host);
    if ((g_strcmp0(page, "folder") != 0 && g_strcmp0(page, "search") != 0) || why != NULL)
        show_selected_page(w);
}

/* The state line says why the neighbours cannot be seen, if they cannot. */
static void
show_browse_error(View *w)
{
    const char *error = porch_tray_model_get_browse_error(w->owner->model);

    if (error != NULL) {
        g_autofree char *text = g_strdup_printf("Cannot see the neighbours: %s", error);
        gtk_label_set_text(GTK_LABEL(w->state_label), text);
        gtk_widget_show(w->state_label);
    } else {
        gtk_widget_hide(w->state_label);
    }
    update_empty_page(w);
}

/* The URI of the row selected in @view (SCOL_URI), or NULL. */
static char *
selected_string(GtkTreeView *view, int column)
{
    GtkTreeModel *model;
    GtkTreeIter iter;
    char *s = NULL;

    if (gtk_tree_selection_get_selected(gtk_tree_view_get_selection(view), &model, &iter))
        gtk_tree_model_get(model, &iter, column, &s, -1);
    return s;
}

static void
open_uri(View *w, const char *uri)
{
    g_autoptr(GAppLaunchContext) ctx = NULL;

    if (uri == NULL)
        return;
    ctx = G_APP_LAUNCH_CONTEXT(gdk_display_get_app_launch_context(gdk_display_get_default()));
    g_app_info_launch_default_for_uri_async(uri, ctx, NULL, NULL, NULL);
}

/* What browsing somewhere does to the Back history. */
typedef enum { HISTORY_CLEAR, HISTORY_PUSH, HISTORY_KEEP } History;

static void browse(View *w, const char *host, const char *path, History history);

static void
on_share_browse(GtkWidget *button, gpointer data)
{
    View *w = data;
    g_autofree char *path = selected_string(w->shares_view, SCOL_PATH);

    if (path != NULL && w->host != NULL)
        browse(w, w->host, path, HISTORY_CLEAR);
}

static void
on_share_activated(GtkTreeView *view, GtkTreePath *path, GtkTreeViewColumn *col, gpointer data)
{
    on_share_browse(NULL, data);
}

static void
on_share_open(GtkWidget *button, gpointer data)
{
    View *w = data;
    g_autofree char *uri = selected_string(w->shares_view, SCOL_URI);

    open_uri(w, uri);
}

static void
on_share_fetch(GtkWidget *button, gpointer data)
{
    View *w = data;
    g_autofree char *path = selected_string(w->shares_view, SCOL_PATH);
    g_autoptr(PorchNeighbour) n = selected_neighbour(w);

    if (path != NULL && n != NULL)
        porch_tray_transfer_start(w->owner->model, n, path, NULL);
}

static void
on_service_open(GtkWidget *button, gpointer data)
{
    View *w = data;
    g_autofree char *uri = selected_string(w->services_view, SCOL_URI);

    open_uri(w, uri);
}

static void
on_service_activated(GtkTreeView *view, GtkTreePath *path, GtkTreeViewColumn *col, gpointer data)
{
    on_service_open(NULL, data);
}

/* The printer selected in the printers list, or the only one there; NULL when neither. */
static char *
selected_printer(View *w)
{
    GtkTreeModel *model = GTK_TREE_MODEL(w->printers);
    GtkTreeIter iter;
    char *name = selected_string(w->printers_view, SCOL_NAME);

    if (name == NULL && gtk_tree_model_iter_n_children(model, NULL) == 1 &&
        gtk_tree_model_get_iter_first(model, &iter))
        gtk_tree_model_get(model, &iter, SCOL_NAME, &name, -1);
    return name;
}

static void
on_printer_print(GtkWidget *button, gpointer data)
{
    View *w = data;
    g_autofree char *printer = selected_printer(w);

    if (printer != NULL && w->host != NULL)
        porch_tray_printing_choose(w->owner->printing, w->host, printer);
}

static void
on_send_files(GtkWidget *button, gpointer data)
{
    View *w = data;

    if (w->host != NULL && w->owner->sending != NULL)
        porch_tray_sending_choose(w->owner->sending, w->host);
}

/* Files dropped (text/uri-list) on the neighbour page: sent to the neighbour shown. */
static void
on_page_drop(GtkWidget *widget, GdkDragContext *context, int x, int y, GtkSelectionData *data,
             guint info, guint time, gpointer user_data)
{
    View *w = user_data;
    g_auto(GStrv) uris = gtk_selection_data_get_uris(data);
    guint id = 0;

    if (uris != NULL && w->host != NULL)
        id = porch_tray_window_drop_files(w->owner, w->host, (const char *const *)uris);
    if (context != NULL) /* (a drop made up through the signal, in the tests, has none) */
        gtk_drag_finish(context, id != 0, FALSE, time);
}

/* Files dropped on a row of the neighbour list: sent to that neighbour. */
static void
on_list_drop(GtkWidget *widget, GdkDragContext *context, int x, int y, GtkSelectionData *data,
             guint info, guint time, gpointer user_data)
{
    View *w = user_data;
    GtkTreeView *view = GTK_TREE_VIEW(widget);
    g_auto(GStrv) uris = gtk_selection_data_get_uris(data);
    g_autoptr(GtkTreePath) path = NULL;
    GtkTreeModel *model = gtk_tree_view_get_model(view);
    GtkTreeIter iter;
    g_autofree char *host = NULL;
    guint id = 0;

    if (uris != NULL && gtk_tree_view_get_dest_row_at_pos(view, x, y, &path, NULL) &&
        gtk_tree_model_get_iter(model, &iter, path)) {
        gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_HOST, &host, -1);
        id = porch_tray_window_drop_files(w->owner, host, (const char *const *)uris);
    }
    /* GtkTreeView's own handler is for rows moved within its model: not these */
    g_signal_stop_emission_by_name(widget, "drag-data-received");
    if (context != NULL)
        gtk_drag_finish(context, id != 0, FALSE, time);
}

static void
accept_file_drops(GtkWidget *widget, GCallback received, View *w)
{
    gtk_drag_dest_set(widget, GTK_DEST_DEFAULT_ALL, NULL, 0, GDK_ACTION_COPY);
    gtk_drag_dest_add_uri_targets(widget);
    g_signal_connect(widget, "drag-data-received", received, w);
}

static void
on_printer_add(GtkWidget *button, gpointer data)
{
    View *w = data;
    g_autofree char *printer = selected_printer(w);

    if (printer != NULL && w->host != NULL)
        porch_tray_printing_add_porch(w->owner->printing, w->host, printer);
}

/* TRUE when the selected service is an IPP printer. */
static gboolean
selected_service_is_ipp(View *w)
{
    g_autofree char *type = selected_string(w->services_view, SCOL_DETAIL);

    return type != NULL && g_str_has_prefix(type, "_ipp");
}

static void
on_service_selection(GtkTreeSelection *selection, gpointer data)
{
    View *w = data;

    gtk_widget_set_sensitive(w->add_ipp_button, selected_service_is_ipp(w));
}

static void
on_service_add_printer(GtkWidget *button, gpointer data)
{
    View *w = data;
    g_autofree char *name = selected_string(w->services_view, SCOL_NAME);

    if (name != NULL && w->host != NULL && selected_service_is_ipp(w))
        porch_tray_printing_add_ipp(w->owner->printing, w->host, name);
}

/* ------------------------------------------------------------------------------------------
 * The folder page */

typedef struct {
    PorchTrayWindow *owner; /* a reference */
    guint serial;
    PorchNeighbour *neighbour;
    char *path;
    BrowseConn *conn;
    PorchTrayConnect *connect;
    gboolean connected;
} ListJob;

static void
list_job_free(ListJob *j)
{
    porch_neighbour_unref(j->neighbour);
    g_free(j->path);
    browse_conn_unref(j->conn);
    porch_tray_connect_free(j->connect);
    g_object_unref(j->owner);
    g_free(j);
}

static void
list_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    ListJob *j = data;
    g_autoptr(GError) error = NULL;
    GPtrArray *files = NULL;

    g_mutex_lock(&j->conn->lock);
    for (int attempt = 0; attempt < 2 && files == NULL; attempt++) {
        g_clear_error(&error);
        if (j->conn->client == NULL) {
            j->conn->client = porch_tray_connect_run(j->connect, j->neighbour, cancellable, &error);
            /* what counts is the last contact: a stale connection made again may fail */
            j->connected = j->conn->client != NULL;
        } else {
            j->connected = TRUE;
        }
        if (j->conn->client == NULL)
            break;
        files = porch_client_list(j->conn->client, j->path, cancellable, &error);
        /* a connection that went stale is made again once */
        if (files == NULL &&
            (error->domain == PORCH_CLIENT_ERROR || porch_connect_error_is_unreachable(error)))
            g_clear_pointer(&j->conn->client, porch_client_free);
        else
            break;
    }
    g_mutex_unlock(&j->conn->lock);
    if (files == NULL)
        g_task_return_error(task, g_steal_pointer(&error));
    else
        g_task_return_pointer(task, files, (GDestroyNotify)g_ptr_array_unref);
}

static void
set_path_bar(View *w)
{
    g_auto(GStrv) parts = g_strsplit(w->browse_path + 1, "/", -1);
    g_autoptr(GString) so_far = g_string_new(NULL);
    GList *children = gtk_container_get_children(GTK_CONTAINER(w->path_bar));

    for (GList *l = children; l != NULL; l = l->next)
        gtk_widget_destroy(l->data);
    g_list_free(children);
    for (guint i = 0; parts[i] != NULL; i++) {
        GtkWidget *b;
        g_autofree char *label = NULL;

        if (parts[i][0] == '\0')
            continue;
        g_string_append_c(so_far, '/');
        g_string_append(so_far, parts[i]);
        b = gtk_button_new_with_label(parts[i]);
        g_object_set_data_full(G_OBJECT(b), "porch-path", g_strdup(so_far->str), g_free);
        label = g_strdup_printf("Go to %s", so_far->str);
        a11y(b, label);
        gtk_widget_set_tooltip_text(b, so_far->str);
        gtk_box_pack_start(GTK_BOX(w->path_bar), b, FALSE, FALSE, 0);
        gtk_widget_show(b);
    }
    gtk_widget_set_sensitive(w->back_button, w->history->len > 0);
}

static void on_path_button(GtkWidget *b, gpointer data);

static void
connect_path_buttons(View *w)
{
    GList *children = gtk_container_get_children(GTK_CONTAINER(w->path_bar));

    for (GList *l = children; l != NULL; l = l->next)
        g_signal_connect(l->data, "clicked", G_CALLBACK(on_path_button), w);
    g_list_free(children);
}

/* What listing @j found (@files), or why it could not (@error), in the folder page. */
static void
show_listing(View *w, ListJob *j, GPtrArray *files, const GError *error)
{
    w->listing--;
    if (w->listing == 0)
        gtk_spinner_stop(GTK_SPINNER(w->spinner));
    if (j->serial != w->list_serial)
        return; /* the user went elsewhere meanwhile */
    gtk_list_store_clear(w->files);
    if (files == NULL) {
        g_autofree char *text = g_strdup_printf("Cannot list %s: %s", j->path, error->message);
        g_debug("%s", text);
        gtk_label_set_text(GTK_LABEL(w->folder_message), text);
        gtk_widget_show(w->folder_message);
        return;
    }
    gtk_widget_hide(w->folder_message);
    for (int dirs = 1; dirs >= 0; dirs--)
        for (guint i = 0; i < files->len; i++) {
            PorchRemoteFile *f = g_ptr_array_index(files, i);
            gboolean is_dir = f->type == PORCH_REMOTE_DIRECTORY;
            g_autofree char *size = is_dir ? g_strdup("") : format_size(f->size);
            g_autofree char *date = format_date(f->mtime);
            g_autofree char *name = g_utf8_make_valid(f->name, -1);

            if (is_dir != dirs)
                continue;
            g_autofree char *type = is_dir ? g_strdup("inode/directory")
                                           : g_content_type_guess(name, NULL, 0, NULL);
            g_autoptr(GIcon) icon = g_content_type_get_icon(type);

            gtk_list_store_insert_with_values(w->files, NULL, -1, FCOL_ICON, icon, FCOL_NAME, name,
                                              FCOL_SIZE_TEXT, size, FCOL_DATE, date, FCOL_IS_DIR,
                                              is_dir, FCOL_SIZE, f->size, -1);
        }
}

static void
list_done(GObject *source, GAsyncResult *result, gpointer data)
{
    ListJob *j = data;
    PorchTrayModel *model = j->owner->model;
    View *w = j->owner->view;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) files = g_task_propagate_pointer(G_TASK(result), &error);
    const char *host = porch_neighbour_get_host_name(j->neighbour);

    if (files != NULL)
        porch_tray_contact_ok(model, host);
    else if (!j->connected && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        porch_tray_contact_failed(model, host, error);
    if (w != NULL)
        show_listing(w, j, files, error);
    porch_tray_model_worker_done(model);
}

static void
browse(View *w, const char *host_arg, const char *path_arg, History history)
{
    g_autofree char *host = g_strdup(host_arg); /* may point into w */
    g_autofree char *path = g_strdup(path_arg);
    g_autoptr(PorchNeighbour) n = porch_tray_model_find_neighbour(w->owner->model, host);
    g_autoptr(GTask) task = NULL;
    ListJob *j;

    if (n == NULL)
        return;
    if (history == HISTORY_PUSH && w->browse_path != NULL && g_strcmp0(w->browse_host, host) == 0)
        g_ptr_array_add(w->history, g_strdup(w->browse_path));
    else if (history == HISTORY_CLEAR)
        g_ptr_array_set_size(w->history, 0);
    g_free(w->browse_host);
    g_free(w->browse_path);
    w->browse_host = g_strdup(host);
    w->browse_path = g_strdup(path);
    if (w->conn == NULL || g_strcmp0(w->conn_host, host) != 0) {
        g_clear_pointer(&w->conn, browse_conn_unref);
        w->conn = g_atomic_rc_box_new0(BrowseConn);
        g_mutex_init(&w->conn->lock);
        g_free(w->conn_host);
        w->conn_host = g_strdup(host);
    }
    set_path_bar(w);
    connect_path_buttons(w);
    gtk_list_store_clear(w->files);
    gtk_widget_hide(w->folder_message);
    gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "folder");

    j = g_new0(ListJob, 1);
    j->owner = g_object_ref(w->owner);
    j->serial = ++w->list_serial;
    j->neighbour = porch_neighbour_ref(n);
    j->path = g_strdup(path);
    j->conn = browse_conn_ref(w->conn);
    j->connect = porch_tray_connect_new(w->owner->model);
    w->listing++;
    porch_tray_model_worker_start(w->owner->model);
    gtk_spinner_start(GTK_SPINNER(w->spinner));
    task = g_task_new(NULL, NULL, list_done, j);
    g_task_set_task_data(task, j, (GDestroyNotify)list_job_free);
    g_task_set_name(task, "porch-tray list");
    g_task_run_in_thread(task, list_thread);
}

static void
on_path_button(GtkWidget *b, gpointer data)
{
    View *w = data;
    const char *path = g_object_get_data(G_OBJECT(b), "porch-path");

    if (path != NULL && w->browse_host != NULL && g_strcmp0(path, w->browse_path) != 0)
        browse(w, w->browse_host, path, HISTORY_PUSH);
}

static void
on_back(GtkWidget *b, gpointer data)
{
    View *w = data;
    g_autofree char *path = NULL;

    if (w->history->len == 0)
        return;
    path = g_strdup(g_ptr_array_index(w->history, w->history->len - 1));
    g_ptr_array_remove_index(w->history, w->history->len - 1);
    browse(w, w->browse_host, path, HISTORY_KEEP);
}

static void
on_up(GtkWidget *b, gpointer data)
{
    View *w = data;
    g_autofree char *parent = NULL;
    g_autofree char *host = NULL;

    if (w->browse_path == NULL)
        return;
    parent = g_path_get_dirname(w->browse_path);
    if (strcmp(parent, "/") == 0) {
        /* above a share: its neighbour */
        show_neighbour(w, w->browse_host);
        return;
    }
    host = g_strdup(w->browse_host);
    browse(w, host, parent, HISTORY_PUSH);
}

/* The remote path of the folder view's row @iter, and whether it is a folder. */
static char *
row_path(View *w, GtkTreeIter *iter, gboolean *ret_is_dir)
{
    g_autofree char *name = NULL;
    gboolean is_dir = FALSE;

    gtk_tree_model_get(GTK_TREE_MODEL(w->files), iter, FCOL_NAME, &name, FCOL_IS_DIR, &is_dir, -1);
    if (ret_is_dir != NULL)
        *ret_is_dir = is_dir;
    return g_build_path("/", w->browse_path, name, NULL);
}

/* The remote paths of the rows selected in the folder view (none: an empty array). */
static GPtrArray *
selected_file_paths(View *w)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    GList *rows =
            gtk_tree_selection_get_selected_rows(gtk_tree_view_get_selection(w->files_view), NULL);

    for (GList *l = rows; l != NULL; l = l->next) {
        GtkTreeIter iter;
        if (gtk_tree_model_get_iter(GTK_TREE_MODEL(w->files), &iter, l->data))
            g_ptr_array_add(paths, row_path(w, &iter, NULL));
    }
    g_list_free_full(rows, (GDestroyNotify)gtk_tree_path_free);
    return paths;
}

/* Downloads the selected files and folders (nothing selected: the folder shown) into
 * @dest_dir (NULL: Downloads), a transfer each. */
static void
fetch_selected(View *w, const char *dest_dir)
{
    g_autoptr(GPtrArray) paths = selected_file_paths(w);
    g_autoptr(PorchNeighbour) n =
            w->browse_host != NULL
                    ? porch_tray_model_find_neighbour(w->owner->model, w->browse_host)
                    : NULL;

    if (paths->len == 0 && w->browse_path != NULL)
        g_ptr_array_add(paths, g_strdup(w->browse_path));
    for (guint i = 0; n != NULL && i < paths->len; i++)
        porch_tray_transfer_start(w->owner->model, n, g_ptr_array_index(paths, i), dest_dir);
}

static void
on_fetch(GtkWidget *b, gpointer data)
{
    fetch_selected(data, NULL);
}

static void
on_fetch_to_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    View *w = data;

    if (response == GTK_RESPONSE_ACCEPT) {
        g_autofree char *dir = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));
        if (dir != NULL)
            fetch_selected(w, dir);
    }
    g_object_unref(dialog);
}

static void
on_fetch_to(GtkWidget *b, gpointer data)
{
    View *w = data;
    GtkFileChooserNative *d = gtk_file_chooser_native_new(
            "Download into folder", GTK_WINDOW(w->window), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
            "_Download here", "_Cancel");

    g_signal_connect(d, "response", G_CALLBACK(on_fetch_to_response), w);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void
on_folder_open_in_files(GtkWidget *b, gpointer data)
{
    View *w = data;
    g_autoptr(PorchNeighbour) n =
            w->browse_host != NULL
                    ? porch_tray_model_find_neighbour(w->owner->model, w->browse_host)
                    : NULL;
    guint count = 0;
    const PorchNeighbourShare *shares;
    g_autofree char *share = NULL;
    const char *rest;

    if (n == NULL || w->browse_path == NULL)
        return;
    rest = strchr(w->browse_path + 1, '/');
    share = rest != NULL ? g_strndup(w->browse_path, (gsize)(rest - w->browse_path))
                         : g_strdup(w->browse_path);
    shares = porch_neighbour_get_shares(n, &count);
    for (guint i = 0; i < count; i++)
        if (strcmp(shares[i].path, share) == 0) {
            g_autofree char *escaped =
                    rest != NULL ? g_uri_escape_string(rest, "/", FALSE) : g_strdup("");
            g_autofree char *uri = g_strconcat(shares[i].uri, escaped, NULL);
            open_uri(w, uri);
        }
}

/* Double-click or Enter: a folder opens; a file is downloaded, with the rest of the selection. */
static void
on_file_activated(GtkTreeView *view, GtkTreePath *tpath, GtkTreeViewColumn *col, gpointer data)
{
    View *w = data;
    GtkTreeIter iter;
    gboolean is_dir = FALSE;
    g_autofree char *path = NULL;
    g_autofree char *host = g_strdup(w->browse_host);

    if (!gtk_tree_model_get_iter(GTK_TREE_MODEL(w->files), &iter, tpath))
        return;
    path = row_path(w, &iter, &is_dir);
    if (is_dir) {
        browse(w, host, path, HISTORY_PUSH);
        return;
    }
    gtk_tree_selection_select_iter(gtk_tree_view_get_selection(w->files_view), &iter);
    fetch_selected(w, NULL);
}

/* Dragging files out: the X Direct Save protocol (XDS), which Files and the desktop speak.
 * A text/uri-list would only hand them sftp:// addresses to copy themselves, unverified; with
 * XDS the drop target names the file it wants (a URI in the XdndDirectSave0 property of the
 * drag's source window, where drag-begin put the name proposed), and porch-tray fetches the
 * selection there, verified and resumable as every download. */
#define XDS_PROPERTY "XdndDirectSave0"

static void
on_files_drag_begin(GtkWidget *view, GdkDragContext *context, gpointer data)
{
    View *w = data;
    g_autoptr(GPtrArray) paths = selected_file_paths(w);
    g_autofree char *name = NULL;

    if (paths->len == 0)
        return;
    name = g_path_get_basename(g_ptr_array_index(paths, 0));
    gdk_property_change(gdk_drag_context_get_source_window(context),
                        gdk_atom_intern_static_string(XDS_PROPERTY),
                        gdk_atom_intern_static_string("text/plain"), 8, GDK_PROP_MODE_REPLACE,
                        (const guchar *)name, (int)strlen(name));
}

/* Fetches the selection into the local folder of @uri (the file a drop target named). */
static gboolean
drop_to(View *w, const char *uri)
{
    g_autofree char *path = g_filename_from_uri(uri, NULL, NULL);
    g_autofree char *dir = NULL;

    if (path == NULL || w->browse_host == NULL)
        return FALSE; /* not a local folder: the target gets "E" */
    dir = g_path_get_dirname(path);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        return FALSE;
    fetch_selected(w, dir);
    return TRUE;
}

static void
on_files_drag_data_get(GtkWidget *view, GdkDragContext *context, GtkSelectionData *selection,
                       guint info, guint time, gpointer data)
{
    View *w = data;
    GdkAtom xds = gdk_atom_intern_static_string(XDS_PROPERTY);
    guchar *prop = NULL;
    gint length = 0;
    gboolean ok = FALSE;

    if (gtk_selection_data_get_target(selection) != xds)
        return;
    if (gdk_property_get(gdk_drag_context_get_source_window(context), xds,
                         gdk_atom_intern_static_string("text/plain"), 0, 4096, FALSE, NULL, NULL,
                         &length, &prop) &&
        prop != NULL) {
        g_autofree char *uri = g_strndup((const char *)prop, (gsize)length);
        ok = drop_to(w, uri);
    }
    g_free(prop);
    gtk_selection_data_set(selection, xds, 8, (const guchar *)(ok ? "S" : "E"), 1);
}

static void
on_files_drag_end(GtkWidget *view, GdkDragContext *context, gpointer data)
{
    gdk_property_delete(gdk_drag_context_get_source_window(context),
                        gdk_atom_intern_static_string(XDS_PROPERTY));
}

static gboolean
on_files_key(GtkWidget *widget, GdkEventKey *event, gpointer data)
{
    /* Backspace and Alt+Up go up, Alt+Left goes back, as in a file manager */
    if (event->keyval == GDK_KEY_BackSpace ||
        (event->keyval == GDK_KEY_Up && (event->state & GDK_MOD1_MASK))) {
        on_up(NULL, data);
        return TRUE;
    }
    if (event->keyval == GDK_KEY_Left && (event->state & GDK_MOD1_MASK)) {
        on_back(NULL, data);
        return TRUE;
    }
    return FALSE;
}

/* ------------------------------------------------------------------------------------------
 * Transfers */

/* One row of the transfers list: what is fetched, its progress bar, its rate and time left
 * (or how it ended), a cancel button while it runs, "Open folder" when it is done. */
typedef struct {
    guint id;
    GtkWidget *row, *name, *bar, *detail, *cancel, *open;
    char *dest;
} TransferRow;

static void
transfer_row_free(TransferRow *r)
{
    g_free(r->dest);
    g_free(r);
}

static void
on_transfer_cancel(GtkWidget *b, gpointer data)
{
    View *w = data;
    guint id = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(b), "porch-transfer"));

    porch_tray_model_transfer_cancel(w->owner->model, id);
}

static void
on_transfer_open_folder(GtkWidget *b, gpointer data)
{
    View *w = data;
    guint id = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(b), "porch-transfer"));
    TransferRow *r = g_hash_table_lookup(w->transfer_rows, GUINT_TO_POINTER(id));
    g_autofree char *dir = NULL;
    g_autoptr(GFile) file = NULL;
    g_autofree char *uri = NULL;

    if (r == NULL || r->dest == NULL)
        return;
    dir = g_path_get_dirname(r->dest);
    file = g_file_new_for_path(dir);
    uri = g_file_get_uri(file);
    open_uri(w, uri);
}

static GtkWidget *
transfer_button(const char *icon, guint id, GCallback cb, View *w)
{
    GtkWidget *b = gtk_button_new_from_icon_name(icon, GTK_ICON_SIZE_BUTTON);

    g_object_set_data(G_OBJECT(b), "porch-transfer", GUINT_TO_POINTER(id));
    g_signal_connect(b, "clicked", cb, w);
    gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
    gtk_widget_set_no_show_all(b, TRUE);
    return b;
}

static TransferRow *
transfer_row_new(View *w, guint id)
{
    TransferRow *r = g_new0(TransferRow, 1);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *text = gtk_box_new(GTK_ORIENTATION_VERTICAL, 3);

    r->id = id;
    r->name = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(r->name), 0);
    gtk_label_set_ellipsize(GTK_LABEL(r->name), PANGO_ELLIPSIZE_MIDDLE);
    r->bar = gtk_progress_bar_new();
    r->detail = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(r->detail), 0);
    gtk_label_set_ellipsize(GTK_LABEL(r->detail), PANGO_ELLIPSIZE_END);
    gtk_style_context_add_class(gtk_widget_get_style_context(r->detail), "dim-label");
    gtk_box_pack_start(GTK_BOX(text), r->name, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(text), r->bar, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(text), r->detail, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), text, TRUE, TRUE, 0);
    r->cancel = transfer_button("process-stop-symbolic", id, G_CALLBACK(on_transfer_cancel), w);
    gtk_widget_set_tooltip_text(r->cancel, "Cancel; starting it again goes on where it stopped");
    r->open = transfer_button("folder-open-symbolic", id, G_CALLBACK(on_transfer_open_folder), w);
    gtk_widget_set_tooltip_text(r->open, "Open folder");
    gtk_box_pack_end(GTK_BOX(box), r->open, FALSE, FALSE, 0);
    gtk_box_pack_end(GTK_BOX(box), r->cancel, FALSE, FALSE, 0);
    g_object_set(box, "margin", 6, NULL);
    r->row = gtk_list_box_row_new();
    gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(r->row), FALSE);
    gtk_container_add(GTK_CONTAINER(r->row), box);
    gtk_widget_show_all(r->row);
    gtk_container_add(GTK_CONTAINER(w->transfers_list), r->row);
    g_hash_table_insert(w->transfer_rows, GUINT_TO_POINTER(id), r);
    return r;
}

/* The row of the transfer at @iter of the transfers model, made or brought up to date. */
static void
update_transfer_row(View *w, GtkTreeModel *model, GtkTreeIter *iter)
{
    guint id = 0;
    int percent = 0, state = 0;
    g_autofree char *name = NULL, *dest = NULL, *rate = NULL, *eta = NULL, *status = NULL;
    g_autofree char *detail = NULL, *cancel = NULL, *open = NULL;
    TransferRow *r;
    gboolean running;

    gtk_tree_model_get(model, iter, PORCH_TRAY_TCOL_ID, &id, PORCH_TRAY_TCOL_NAME, &name,
                       PORCH_TRAY_TCOL_DEST, &dest, PORCH_TRAY_TCOL_PERCENT, &percent,
                       PORCH_TRAY_TCOL_RATE, &rate, PORCH_TRAY_TCOL_ETA, &eta,
                       PORCH_TRAY_TCOL_STATUS, &status, PORCH_TRAY_TCOL_STATE, &state, -1);
    if (id == 0)
        return;
    r = g_hash_table_lookup(w->transfer_rows, GUINT_TO_POINTER(id));
    if (r == NULL)
        r = transfer_row_new(w, id);
    running = state == PORCH_TRAY_TRANSFER_RUNNING;
    gtk_label_set_text(GTK_LABEL(r->name), name != NULL ? name : "");
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(r->bar), CLAMP(percent, 0, 100) / 100.0);
    if (running && rate != NULL && *rate != '\0')
        detail = g_strdup_printf("%s · %s", rate, eta != NULL ? eta : "");
    else
        detail = g_strdup(status != NULL ? status : "");
    gtk_label_set_text(GTK_LABEL(r->detail), detail);
    g_free(r->dest);
    r->dest = g_strdup(dest);
    cancel = g_strdup_printf("Cancel the transfer of %s", name != NULL ? name : "");
    open = g_strdup_printf("Open the folder of %s", name != NULL ? name : "");
    a11y(r->cancel, cancel);
    a11y(r->open, open);
    gtk_widget_set_visible(r->cancel, running);
    gtk_widget_set_visible(r->open, state == PORCH_TRAY_TRANSFER_DONE && dest != NULL);
}

static void
on_transfer_changed(GtkTreeModel *model, GtkTreePath *path, GtkTreeIter *iter, gpointer data)
{
    update_transfer_row(data, model, iter);
}

/* ------------------------------------------------------------------------------------------
 * Building */

static GtkWidget *
scrolled(GtkWidget *child)
{
    GtkWidget *s = gtk_scrolled_window_new(NULL, NULL);

    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(s), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(s), GTK_SHADOW_IN);
    gtk_container_add(GTK_CONTAINER(s), child);
    gtk_widget_set_vexpand(s, TRUE);
    return s;
}

/* A heading label that names @target for keyboard users (mnemonic) and assistive tools. */
static GtkWidget *
heading(const char *mnemonic, GtkWidget *target)
{
    GtkWidget *l = gtk_label_new_with_mnemonic(mnemonic);

    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_mnemonic_widget(GTK_LABEL(l), target);
    gtk_style_context_add_class(gtk_widget_get_style_context(l), "dim-label");
    return l;
}

static GtkWidget *
button(const char *mnemonic, const char *accessible, const char *tooltip, GCallback cb,
       gpointer data)
{
    GtkWidget *b = gtk_button_new_with_mnemonic(mnemonic);

    a11y(b, accessible);
    if (tooltip != NULL)
        gtk_widget_set_tooltip_text(b, tooltip);
    if (cb != NULL)
        g_signal_connect(b, "clicked", cb, data);
    return b;
}

static GtkTreeView *
list_view(GtkTreeModel *model, const char *accessible)
{
    GtkWidget *v = gtk_tree_view_new_with_model(model);

    a11y(v, accessible);
    gtk_tree_view_set_enable_search(GTK_TREE_VIEW(v), TRUE);
    return GTK_TREE_VIEW(v);
}

static void
text_column(GtkTreeView *v, const char *title, int column, gboolean expand)
{
    GtkCellRenderer *r = gtk_cell_renderer_text_new();
    GtkTreeViewColumn *c = gtk_tree_view_column_new_with_attributes(title, r, "text", column, NULL);

    gtk_tree_view_column_set_expand(c, expand);
    gtk_tree_view_column_set_resizable(c, TRUE);
    if (expand)
        g_object_set(r, "ellipsize", PANGO_ELLIPSIZE_END, NULL);
    gtk_tree_view_append_column(v, c);
}

static void
icon_text_column(GtkTreeView *v, const char *title, const char *icon_attribute, int icon_col,
                 int text_col)
{
    GtkTreeViewColumn *c = gtk_tree_view_column_new();
    GtkCellRenderer *icon = gtk_cell_renderer_pixbuf_new();
    GtkCellRenderer *text = gtk_cell_renderer_text_new();

    gtk_tree_view_column_set_title(c, title);
    gtk_tree_view_column_pack_start(c, icon, FALSE);
    gtk_tree_view_column_add_attribute(c, icon, icon_attribute, icon_col);
    gtk_tree_view_column_pack_start(c, text, TRUE);
    gtk_tree_view_column_add_attribute(c, text, "text", text_col);
    gtk_tree_view_column_set_expand(c, TRUE);
    gtk_tree_view_column_set_resizable(c, TRUE);
    gtk_tree_view_append_column(v, c);
}

/* A column of the same icon on every row. */
static void
fixed_icon_column(GtkTreeView *v, const char *icon_name)
{
    GtkCellRenderer *r = gtk_cell_renderer_pixbuf_new();

    g_object_set(r, "icon-name", icon_name, "stock-size", GTK_ICON_SIZE_DND, "xpad", 6, "ypad", 6,
                 NULL);
    gtk_tree_view_append_column(v, gtk_tree_view_column_new_with_attributes("", r, NULL));
}

/* Whether the row's name holds what is typed in the search bar (case aside), or files of its
 * are among those the search found. */
static gboolean
matches_search(View *w, GtkTreeModel *model, GtkTreeIter *iter)
{
    const char *query =
            w->search_entry != NULL ? gtk_entry_get_text(GTK_ENTRY(w->search_entry)) : "";
    g_autofree char *name = NULL, *folded_name = NULL, *folded_query = NULL, *host = NULL;

    if (query[0] == '\0')
        return TRUE;
    gtk_tree_model_get(model, iter, PORCH_TRAY_NCOL_NAME, &name, PORCH_TRAY_NCOL_HOST, &host, -1);
    if (w->search != NULL && porch_tray_search_lists_host(w->search, host))
        return TRUE;
    if (name == NULL)
        return FALSE;
    folded_name = g_utf8_casefold(name, -1);
    folded_query = g_utf8_casefold(query, -1);
    return strstr(folded_name, folded_query) != NULL;
}

static gboolean
porch_visible(GtkTreeModel *model, GtkTreeIter *iter, gpointer data)
{
    gboolean is_porch = FALSE;

    gtk_tree_model_get(model, iter, PORCH_TRAY_NCOL_IS_PORCH, &is_porch, -1);
    return is_porch && matches_search(data, model, iter);
}

static gboolean
device_visible(GtkTreeModel *model, GtkTreeIter *iter, gpointer data)
{
    gboolean is_porch = TRUE;

    gtk_tree_model_get(model, iter, PORCH_TRAY_NCOL_IS_PORCH, &is_porch, -1);
    return !is_porch && matches_search(data, model, iter);
}

static void
refilter(gpointer data)
{
    View *w = data;

    gtk_tree_model_filter_refilter(GTK_TREE_MODEL_FILTER(w->porch_filter));
}

static void
on_search_changed(GtkSearchEntry *entry, gpointer data)
{
    View *w = data;

    gtk_tree_model_filter_refilter(GTK_TREE_MODEL_FILTER(w->porch_filter));
    gtk_tree_model_filter_refilter(GTK_TREE_MODEL_FILTER(w->device_filter));
}

/* The search box asks the neighbours for files too: their page shows while it holds text. */
static void
on_search_text(GtkEditable *entry, gpointer data)
{
    View *w = data;
    const char *text = gtk_entry_get_text(GTK_ENTRY(entry));
    const char *page = gtk_stack_get_visible_child_name(GTK_STACK(w->stack));

    porch_tray_search_set_pattern(w->search, text);
    if (text[0] != '\0' && g_strcmp0(page, "search") != 0) {
        g_free(w->before_search);
        w->before_search = g_strdup(page);
        gtk_stack_set_visible_child_name(GTK_STACK(w->stack), "search");
        hdy_leaflet_set_visible_child(HDY_LEAFLET(w->leaflet), w->content);
    } else if (text[0] == '\0' && g_strcmp0(page, "search") == 0) {
        gtk_stack_set_visible_child_name(GTK_STACK(w->stack),
                                         w->before_search != NULL ? w->before_search : "empty");
    }
}

/* A neighbour's row: its name, and under it what it offers ("3 shares · 1 printer"). */
static void
neighbour_text(GtkTreeViewColumn *c, GtkCellRenderer *r, GtkTreeModel *model, GtkTreeIter *iter,
               gpointer data)
{
    g_autofree char *name = NULL, *detail = NULL, *markup = NULL;
    g_autoptr(PorchNeighbour) n = NULL;
    g_autoptr(GString) sub = g_string_new(NULL);

    gtk_tree_model_get(model, iter, PORCH_TRAY_NCOL_NAME, &name, PORCH_TRAY_NCOL_DETAIL, &detail,
                       PORCH_TRAY_NCOL_NEIGHBOUR, &n, -1);
    if (n != NULL && porch_neighbour_is_porch(n)) {
        guint shares = 0, printers = 0;
        porch_neighbour_get_shares(n, &shares);
        porch_neighbour_get_printers(n, &printers);
        g_string_append_printf(sub, "%u share%s", shares, shares == 1 ? "" : "s");
        if (printers > 0)
            g_string_append_printf(sub, " · %u printer%s", printers, printers == 1 ? "" : "s");
    } else if (detail != NULL && !g_str_has_prefix(detail, "unreachable") &&
               g_strcmp0(detail, "key changed") != 0) {
        g_string_append(sub, detail);
    }
    markup = g_markup_printf_escaped("%s\n<small>%s</small>", name != NULL ? name : "", sub->str);
    g_object_set(r, "markup", markup, NULL);
}

/* A neighbour's state badge: online, unreachable, or key changed. */
static void
neighbour_badge(GtkTreeViewColumn *c, GtkCellRenderer *r, GtkTreeModel *model, GtkTreeIter *iter,
                gpointer data)
{
    gboolean unreachable = FALSE;
    g_autofree char *key_changed = NULL;
    const char *markup = "<small>online</small>";

    gtk_tree_model_get(model, iter, PORCH_TRAY_NCOL_UNREACHABLE, &unreachable,
                       PORCH_TRAY_NCOL_KEY_CHANGED, &key_changed, -1);
    /* white on a filled badge, so that it reads as well on a selected (blue) row as on a
     * plain one */
    if (key_changed != NULL)
        markup = "<small><b><span foreground='white' background='#c01c28'> key changed "
                 "</span></b></small>";
    else if (unreachable)
        markup = "<small><span foreground='white' background='#a33900'> unreachable "
                 "</span></small>";
    g_object_set(r, "markup", markup, NULL);
}

static GtkTreeView *
neighbour_list(View *w, GtkTreeModel *filter, const char *accessible)
{
    GtkTreeView *v = list_view(filter, accessible);
    GtkTreeViewColumn *c = gtk_tree_view_column_new();
    GtkCellRenderer *icon = gtk_cell_renderer_pixbuf_new();
    GtkCellRenderer *text = gtk_cell_renderer_text_new();
    GtkCellRenderer *badge = gtk_cell_renderer_text_new();

    g_object_set(icon, "stock-size", GTK_ICON_SIZE_DND, "xpad", 6, "ypad", 6, NULL);
    g_object_set(text, "ellipsize", PANGO_ELLIPSIZE_END, NULL);
    g_object_set(badge, "xalign", 1.0, "xpad", 6, NULL);
    gtk_tree_view_column_pack_start(c, icon, FALSE);
    gtk_tree_view_column_add_attribute(c, icon, "icon-name", PORCH_TRAY_NCOL_ICON);
    gtk_tree_view_column_pack_start(c, text, TRUE);
    gtk_tree_view_column_set_cell_data_func(c, text, neighbour_text, NULL, NULL);
    gtk_tree_view_column_pack_end(c, badge, FALSE);
    gtk_tree_view_column_set_cell_data_func(c, badge, neighbour_badge, NULL, NULL);
    gtk_tree_view_column_set_expand(c, TRUE);
    gtk_tree_view_append_column(v, c);
    gtk_tree_view_set_headers_visible(v, FALSE);
    gtk_tree_view_set_search_column(v, PORCH_TRAY_NCOL_NAME);
    g_signal_connect(gtk_tree_view_get_selection(v), "changed", G_CALLBACK(on_selection_changed),
                     w);
    return v;
}

/* A row of buttons that wraps when the window is narrow. */
static GtkWidget *
button_row(void)
{
    GtkWidget *row = gtk_flow_box_new();

    gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(row), GTK_SELECTION_NONE);
    gtk_flow_box_set_column_spacing(GTK_FLOW_BOX(row), 6);
    gtk_flow_box_set_row_spacing(GTK_FLOW_BOX(row), 6);
    gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(row), 8);
    return row;
}

/* Adds @button to a button_row(); the row's own cell takes no focus, the button does. */
static void
row_add(GtkWidget *row, GtkWidget *button)
{
    GtkWidget *cell = gtk_flow_box_child_new();

    gtk_widget_set_can_focus(cell, FALSE);
    gtk_widget_set_halign(cell, GTK_ALIGN_START);
    gtk_container_add(GTK_CONTAINER(cell), button);
    gtk_container_add(GTK_CONTAINER(row), cell);
}

static GtkWidget *
build_neighbour_page(View *w)
{
    GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *row;

    w->title_label = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(w->title_label), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(w->title_label), "title-1");
    gtk_label_set_ellipsize(GTK_LABEL(w->title_label), PANGO_ELLIPSIZE_END);
    w->info_label = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(w->info_label), 0);
    gtk_label_set_selectable(GTK_LABEL(w->info_label), TRUE);
    gtk_label_set_line_wrap(GTK_LABEL(w->info_label), TRUE);
    gtk_label_set_line_wrap_mode(GTK_LABEL(w->info_label), PANGO_WRAP_WORD_CHAR);
    gtk_label_set_max_width_chars(GTK_LABEL(w->info_label), 60);
    a11y(w->info_label, "Addresses and key fingerprint");
    gtk_box_pack_start(GTK_BOX(page), w->title_label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), w->info_label, FALSE, FALSE, 0);

    /* sending files, where the neighbour takes them (files dropped on the page too) */
    w->send_box = button_row();
    row_add(w->send_box, button("Send _Files…", "Send files to this neighbour",
                                "Choose files to send to this neighbour's inbox (or drop them "
                                "here)",
                                G_CALLBACK(on_send_files), w));
    gtk_widget_set_no_show_all(w->send_box, TRUE);
    gtk_widget_show(gtk_bin_get_child(
            GTK_BIN(gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(w->send_box), 0))));
    gtk_widget_show(GTK_WIDGET(gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(w->send_box), 0)));
    gtk_box_pack_start(GTK_BOX(page), w->send_box, FALSE, FALSE, 0);
    accept_file_drops(page, G_CALLBACK(on_page_drop), w);

    /* shares */
    w->shares = gtk_list_store_new(SCOL_COUNT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                   G_TYPE_STRING);
    w->shares_view = list_view(GTK_TREE_MODEL(w->shares), "Shares");
    fixed_icon_column(w->shares_view, "folder-remote");
    text_column(w->shares_view, "Share", SCOL_NAME, TRUE);
    gtk_tree_view_set_headers_visible(w->shares_view, FALSE);
    text_column(w->shares_view, "", SCOL_DETAIL, FALSE);
    g_signal_connect(w->shares_view, "row-activated", G_CALLBACK(on_share_activated), w);
    w->shares_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    gtk_box_pack_start(GTK_BOX(w->shares_box), heading("_Shares", GTK_WIDGET(w->shares_view)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(w->shares_box), scrolled(GTK_WIDGET(w->shares_view)), TRUE, TRUE, 0);
    row = button_row();
    row_add(row, button("_Browse", "Browse the share", "Browse its folders in Porch",
                        G_CALLBACK(on_share_browse), w));
    row_add(row,
            button("Open in _Files", "Open the share in Files",
                   "Open its sftp:// address in the file manager", G_CALLBACK(on_share_open), w));
    row_add(row, button("Download _all", "Download the whole share",
                        "Download the whole share into Downloads", G_CALLBACK(on_share_fetch), w));
    gtk_box_pack_start(GTK_BOX(w->shares_box), row, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), w->shares_box, TRUE, TRUE, 0);

    /* printers of a Porch host */
    w->printers = gtk_list_store_new(SCOL_COUNT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                     G_TYPE_STRING);
    w->printers_view = list_view(GTK_TREE_MODEL(w->printers), "Printers");
    fixed_icon_column(w->printers_view, "printer");
    text_column(w->printers_view, "Printer", SCOL_NAME, TRUE);
    gtk_tree_view_set_headers_visible(w->printers_view, FALSE);
    w->printers_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    gtk_box_pack_start(GTK_BOX(w->printers_box), heading("_Printers", GTK_WIDGET(w->printers_view)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(w->printers_box), scrolled(GTK_WIDGET(w->printers_view)), TRUE, TRUE,
                       0);
    row = button_row();
    row_add(row, button("Print a _file…", "Print a file on this printer",
                        "Choose a file and print it on the selected printer",
                        G_CALLBACK(on_printer_print), w));
    row_add(row, button("Add to this _computer", "Add this printer to this computer",
                        "Make it a printer of this computer, for every application",
                        G_CALLBACK(on_printer_add), w));
    gtk_box_pack_start(GTK_BOX(w->printers_box), row, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), w->printers_box, TRUE, TRUE, 0);

    /* services: what a device (or a Porch host besides Porch) offers */
    w->services = gtk_list_store_new(SCOL_COUNT, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                     G_TYPE_STRING);
    w->services_view = list_view(GTK_TREE_MODEL(w->services), "Services");
    text_column(w->services_view, "Service", SCOL_NAME, TRUE);
    text_column(w->services_view, "Type", SCOL_DETAIL, FALSE);
    text_column(w->services_view, "Address", SCOL_URI, TRUE);
    g_signal_connect(w->services_view, "row-activated", G_CALLBACK(on_service_activated), w);
    w->services_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    gtk_box_pack_start(GTK_BOX(w->services_box), heading("Ser_vices", GTK_WIDGET(w->services_view)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(w->services_box), scrolled(GTK_WIDGET(w->services_view)), TRUE, TRUE,
                       0);
    row = button_row();
    row_add(row, button("_Open in Files", "Open the service in Files",
                        "Open it with the desktop's default application",
                        G_CALLBACK(on_service_open), w));
    w->add_ipp_button = button("Add to t_his computer", "Add the selected printer to this computer",
                               "Make the selected IPP printer a printer of this computer "
                               "(driverless)",
                               G_CALLBACK(on_service_add_printer), w);
    gtk_widget_set_sensitive(w->add_ipp_button, FALSE);
    g_signal_connect(gtk_tree_view_get_selection(w->services_view), "changed",
                     G_CALLBACK(on_service_selection), w);
    row_add(row, w->add_ipp_button);
    gtk_box_pack_start(GTK_BOX(w->services_box), row, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), w->services_box, TRUE, TRUE, 0);
    return page;
}

static GtkWidget *
build_folder_page(View *w)
{
    GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    GtkWidget *path_scroller;
    GtkWidget *row = button_row();

    w->back_button = button("_Back", "Back", "Back to the previous folder (Alt+Left)",
                            G_CALLBACK(on_back), w);
    w->up_button =
            button("_Up", "Up one folder", "The folder above (Backspace)", G_CALLBACK(on_up), w);
    w->path_bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(w->path_bar), "linked");
    a11y(w->path_bar, "Path");
    /* a deep path scrolls rather than widening the window */
    path_scroller = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(path_scroller), GTK_POLICY_EXTERNAL,
                                   GTK_POLICY_NEVER);
    gtk_container_add(GTK_CONTAINER(path_scroller), w->path_bar);
    w->spinner = gtk_spinner_new();
    a11y(w->spinner, "Listing the folder");
    gtk_box_pack_start(GTK_BOX(bar), w->back_button, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(bar), w->up_button, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(bar), path_scroller, TRUE, TRUE, 0);
    gtk_box_pack_end(GTK_BOX(bar), w->spinner, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), bar, FALSE, FALSE, 0);

    w->folder_message = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(w->folder_message), 0);
    gtk_label_set_line_wrap(GTK_LABEL(w->folder_message), TRUE);
    /* a long error (paths) must neither widen the window nor fold the leaflet */
    gtk_label_set_line_wrap_mode(GTK_LABEL(w->folder_message), PANGO_WRAP_WORD_CHAR);
    gtk_label_set_max_width_chars(GTK_LABEL(w->folder_message), 60);
    gtk_widget_set_no_show_all(w->folder_message, TRUE);
    gtk_box_pack_start(GTK_BOX(page), w->folder_message, FALSE, FALSE, 0);

    w->files = gtk_list_store_new(FCOL_COUNT, G_TYPE_ICON, G_TYPE_STRING, G_TYPE_STRING,
                                  G_TYPE_STRING, G_TYPE_BOOLEAN, G_TYPE_UINT64);
    w->files_view = list_view(GTK_TREE_MODEL(w->files), "Files in the folder");
    icon_text_column(w->files_view, "Name", "gicon", FCOL_ICON, FCOL_NAME);
    gtk_tree_selection_set_mode(gtk_tree_view_get_selection(w->files_view), GTK_SELECTION_MULTIPLE);
    gtk_tree_view_set_rubber_banding(w->files_view, TRUE);
    text_column(w->files_view, "Size", FCOL_SIZE_TEXT, FALSE);
    text_column(w->files_view, "Modified", FCOL_DATE, FALSE);
    gtk_tree_view_set_search_column(w->files_view, FCOL_NAME);
    g_signal_connect(w->files_view, "row-activated", G_CALLBACK(on_file_activated), w);
    g_signal_connect(w->files_view, "key-press-event", G_CALLBACK(on_files_key), w);
    {
        static const GtkTargetEntry drag_targets[] = {
                {.target = (char *)XDS_PROPERTY, .flags = GTK_TARGET_OTHER_APP}};
        gtk_tree_view_enable_model_drag_source(w->files_view, GDK_BUTTON1_MASK, drag_targets,
                                               G_N_ELEMENTS(drag_targets), GDK_ACTION_COPY);
        g_signal_connect_after(w->files_view, "drag-begin", G_CALLBACK(on_files_drag_begin), w);
        g_signal_connect(w->files_view, "drag-data-get", G_CALLBACK(on_files_drag_data_get), w);
        g_signal_connect(w->files_view, "drag-end", G_CALLBACK(on_files_drag_end), w);
    }
    gtk_box_pack_start(GTK_BOX(page), scrolled(GTK_WIDGET(w->files_view)), TRUE, TRUE, 0);

    row_add(row, button("_Download", "Download into Downloads",
                        "Download the selection (or this folder) into Downloads (Enter)",
                        G_CALLBACK(on_fetch), w));
    row_add(row, button("Download _to…", "Download into a folder you choose", NULL,
                        G_CALLBACK(on_fetch_to), w));
    row_add(row, button("Open in F_iles", "Open this folder in Files",
                        "Open its sftp:// address in the file manager",
                        G_CALLBACK(on_folder_open_in_files), w));
    gtk_box_pack_start(GTK_BOX(page), row, FALSE, FALSE, 0);
    return page;
}

static GtkWidget *
build_transfers(View *w)
{
    GtkTreeModel *model = GTK_TREE_MODEL(porch_tray_model_get_transfers(w->owner->model));
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *placeholder = gtk_label_new("No transfers yet");
    GtkWidget *title = gtk_label_new("Transfers");
    GtkTreeIter iter;

    w->transfer_rows = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)transfer_row_free);
    w->transfers_list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(w->transfers_list), GTK_SELECTION_NONE);
    a11y(w->transfers_list, "Transfers");
    gtk_style_context_add_class(gtk_widget_get_style_context(placeholder), "dim-label");
    g_object_set(placeholder, "margin", 12, NULL);
    gtk_widget_show(placeholder);
    gtk_list_box_set_placeholder(GTK_LIST_BOX(w->transfers_list), placeholder);
    for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
         ok = gtk_tree_model_iter_next(model, &iter))
        update_transfer_row(w, model, &iter);
    g_signal_connect(model, "row-inserted", G_CALLBACK(on_transfer_changed), w);
    g_signal_connect(model, "row-changed", G_CALLBACK(on_transfer_changed), w);

    gtk_label_set_xalign(GTK_LABEL(title), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(title), "heading");
    gtk_box_pack_start(GTK_BOX(box), title, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), scrolled(w->transfers_list), TRUE, TRUE, 0);
    g_object_set(box, "margin", 6, NULL);
    gtk_widget_set_size_request(box, 320, 260);
    gtk_widget_show_all(box);
    return box;
}

/* The window went (closed by the user, or porch_tray_window_close()): what it showed goes. */
static void
on_window_destroy(GtkWidget *window, gpointer data)
{
    PorchTrayWindow *self = data;
    View *w = self->view;

    if (w == NULL)
        return;
    self->view = NULL;
    g_signal_handlers_disconnect_by_data(porch_tray_model_get_transfers(self->model), w);
    g_hash_table_unref(w->transfer_rows);
    if (self->settings != NULL && w->width > 0) {
        g_settings_set_int(self->settings, "window-width", w->width);
        g_settings_set_int(self->settings, "window-height", w->height);
    }
    if (self->settings != NULL)
        g_settings_set_boolean(self->settings, "window-maximized", w->maximized);
    g_free(w->restore_host);
    g_free(w->before_search);
    g_clear_pointer(&w->conn, browse_conn_unref);
    g_free(w->conn_host);
    g_free(w->host);
    g_free(w->browse_host);
    g_free(w->browse_path);
    g_ptr_array_unref(w->history);
    g_object_unref(w->porch_filter);
    g_object_unref(w->device_filter);
    g_object_unref(w->shares);
    g_object_unref(w->printers);
    g_object_unref(w->services);
    g_object_unref(w->files);
    g_free(w);
}

/* ------------------------------------------------------------------------------------------
 * The header bar's menu, and the dialogs it opens */

/* A dialog over the window that says @text under @title (placeholders for what porch-tray
 * cannot do yet: they say where it is done today). */
static GtkWidget *
info_dialog(View *w, const char *title, const char *text)
{
    GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(w->window),
                                          GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                          GTK_MESSAGE_INFO, GTK_BUTTONS_CLOSE, "%s", title);

    gtk_message_dialog_format_secondary_markup(GTK_MESSAGE_DIALOG(d), "%s", text);
    atk_object_set_name(gtk_widget_get_accessible(d), title);
    g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    gtk_widget_show_all(d);
    return d;
}

static void
on_preferences(GSimpleAction *action, GVariant *param, gpointer data)
{
    View *w = data;
    g_autofree char *key = porch_identity_default_file();
    g_autofree char *peers = porch_known_peers_default_file();
    g_autofree char *text = g_markup_printf_escaped(
            "Porch has no preferences of its own yet. It contacts neighbours with your key, "
            "%s, and remembers their keys in %s: the files the <tt>porch</tt> command uses.",
            key, peers);

    info_dialog(w, "Preferences", text);
}

static void
on_sharing(GSimpleAction *action, GVariant *param, gpointer data)
{
    View *w = data;

    porch_tray_sharing_show(w->owner->sharing);
}

static void
on_connect_address(GSimpleAction *action, GVariant *param, gpointer data)
{
    View *w = data;

    porch_tray_remembered_show_connect(w->owner->remembered, GTK_WINDOW(w->window));
}

static void
on_connect_button(GtkWidget *button, gpointer data)
{
    on_connect_address(NULL, NULL, data);
}

static void
on_about(GSimpleAction *action, GVariant *param, gpointer data)
{
    View *w = data;

    gtk_show_about_dialog(GTK_WINDOW(w->window), "program-name", "Porch", "version", PORCH_VERSION,
                          "comments", "Files and printers of the computers around you",
                          "logo-icon-name", "folder-remote", NULL);
}

static void
on_quit(GSimpleAction *action, GVariant *param, gpointer data)
{
    View *w = data;
    GApplication *app = G_APPLICATION(gtk_window_get_application(GTK_WINDOW(w->window)));

    if (app != NULL)
        g_application_quit(app);
    else
        gtk_widget_destroy(w->window);
}

static void
on_search(GSimpleAction *action, GVariant *param, gpointer data)
{
    View *w = data;
    GtkSearchBar *bar = GTK_SEARCH_BAR(w->search_bar);

    gtk_search_bar_set_search_mode(bar, !gtk_search_bar_get_search_mode(bar));
}

/* "Why can't I see a computer?": the checks to make, and what `porch doctor` found when the
 * porch command has it. */
typedef struct {
    GtkWidget *dialog; /* a weak pointer */
    GtkTextBuffer *buffer;
} WhyJob;

static void
why_doctor_done(GObject *source, GAsyncResult *result, gpointer data)
{
    WhyJob *job = data;
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    gboolean ok =
            g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), result, &out, &err, &error);

    /* exit status 2 with nothing on standard output: a porch without `doctor` (usage error) */
    if (job->dialog != NULL && ok &&
        !(g_subprocess_get_if_exited(G_SUBPROCESS(source)) &&
          g_subprocess_get_exit_status(G_SUBPROCESS(source)) == 2 && (out == NULL || !*out))) {
        GtkTextIter end;
        gtk_text_buffer_get_end_iter(job->buffer, &end);
        gtk_text_buffer_insert(job->buffer, &end, "\nWhat porch doctor found here:\n\n", -1);
        gtk_text_buffer_insert(job->buffer, &end, out != NULL ? out : "", -1);
        gtk_text_buffer_insert(job->buffer, &end, err != NULL ? err : "", -1);
    }
    if (job->dialog != NULL)
        g_object_remove_weak_pointer(G_OBJECT(job->dialog), (gpointer *)&job->dialog);
    g_object_unref(job->buffer);
    g_free(job);
}

static const char why_text[] =
        "Porch finds its neighbours by themselves when both computers are on the same network. "
        "When one does not show:\n\n"
        "• Is it on the same network as this computer (the same Wi-Fi or wired network, not a "
        "guest network)? Some routers keep Wi-Fi devices apart (“client isolation”).\n"
        "• Does it run Porch, and is its Porch service (porchd) started? It shows only when it "
        "shares a folder or a printer.\n"
        "• Is Avahi (avahi-daemon) running on both computers? Porch finds neighbours through "
        "it.\n"
        "• Does a firewall on either computer block mDNS (UDP port 5353) or Porch's port?\n";

static void
on_why(GtkWidget *button, gpointer data)
{
    View *w = data;
    GtkWidget *d = gtk_dialog_new_with_buttons("Why can't I see a computer?", GTK_WINDOW(w->window),
                                               GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT |
                                                       GTK_DIALOG_USE_HEADER_BAR,
                                               NULL, NULL);
    GtkWidget *text = gtk_text_view_new();
    GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(text));
    g_autoptr(GSubprocess) doctor = NULL;

    gtk_text_buffer_set_text(buffer, why_text, -1);
    gtk_text_view_set_editable(GTK_TEXT_VIEW(text), FALSE);
    gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(text), GTK_WRAP_WORD);
    gtk_text_view_set_left_margin(GTK_TEXT_VIEW(text), 12);
    gtk_text_view_set_right_margin(GTK_TEXT_VIEW(text), 12);
    gtk_text_view_set_top_margin(GTK_TEXT_VIEW(text), 12);
    a11y(text, "The checks to make");
    gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(d))), scrolled(text));
    gtk_window_set_default_size(GTK_WINDOW(d), 480, 420);
    g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
    gtk_widget_show_all(d);

    doctor = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL,
                              "porch", "doctor", NULL);
    if (doctor != NULL) {
        WhyJob *job = g_new0(WhyJob, 1);
        job->dialog = d;
        g_object_add_weak_pointer(G_OBJECT(d), (gpointer *)&job->dialog);
        job->buffer = g_object_ref(buffer);
        g_subprocess_communicate_utf8_async(doctor, NULL, NULL, why_doctor_done, job);
    }
}

/* ------------------------------------------------------------------------------------------
 * Building the frame */

static void
update_back_to_list(View *w)
{
    HdyLeaflet *l = HDY_LEAFLET(w->leaflet);

    gboolean on_content =
            hdy_leaflet_get_folded(l) && hdy_leaflet_get_visible_child(l) == w->content;

    gtk_widget_set_visible(w->back_to_list, on_content);
    /* the search is of the neighbours: narrow, it makes room for the back button */
    gtk_widget_set_visible(w->search_button, !on_content);
}

static void
on_leaflet_notify(GObject *leaflet, GParamSpec *pspec, gpointer data)
{
    update_back_to_list(data);
}

static void
on_back_to_list(GtkWidget *b, gpointer data)
{
    View *w = data;

    hdy_leaflet_set_visible_child(HDY_LEAFLET(w->leaflet), w->sidebar);
}

/* "Receive Files": the user's inbox on porchd, on or off. */
static void
on_receive(GSimpleAction *action, GVariant *value, gpointer data)
{
    View *w = data;

    g_simple_action_set_state(action, value);
    porch_tray_sending_set_inbox(w->owner->sending, g_variant_get_boolean(value));
}

/* The menu opens: "Receive Files" says what porchd said last. */
static void
on_menu_shown(GObject *button, GParamSpec *pspec, gpointer data)
{
    View *w = data;
    GActionMap *group = g_object_get_data(button, "porch-actions");
    GAction *receive = g_action_map_lookup_action(group, "receive");

    if (w->owner->sending != NULL && gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(button)))
        g_simple_action_set_state(
                G_SIMPLE_ACTION(receive),
                g_variant_new_boolean(porch_tray_sending_has_inbox(w->owner->sending)));
}

static GtkWidget *
header_button(const char *icon, const char *accessible, const char *tooltip)
{
    GtkWidget *b = gtk_button_new_from_icon_name(icon, GTK_ICON_SIZE_BUTTON);

    a11y(b, accessible);
    gtk_widget_set_tooltip_text(b, tooltip);
    return b;
}

static GtkWidget *
build_header(View *w, GtkApplication *app)
{
    static const GActionEntry actions[] = {
            {.name = "preferences", .activate = on_preferences},
            {.name = "sharing", .activate = on_sharing},
            {.name = "connect", .activate = on_connect_address},
            {.name = "about", .activate = on_about},
            {.name = "quit", .activate = on_quit},
            {.name = "search", .activate = on_search},
            {.name = "receive", .state = "false", .change_state = on_receive},
    };
    g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new();
    g_autoptr(GMenu) menu = g_menu_new();
    g_autoptr(GMenu) section = g_menu_new();
    GtkWidget *menu_button = gtk_menu_button_new();
    GtkWidget *popover;

    g_action_map_add_action_entries(G_ACTION_MAP(group), actions, G_N_ELEMENTS(actions), w);
    gtk_widget_insert_action_group(w->window, "porch", G_ACTION_GROUP(group));

    w->header = hdy_header_bar_new();
    hdy_header_bar_set_title(HDY_HEADER_BAR(w->header), "Porch");
    hdy_header_bar_set_show_close_button(HDY_HEADER_BAR(w->header), TRUE);

    w->back_to_list = header_button("go-previous-symbolic", "Back to the neighbours",
                                    "Back to the neighbours");
    g_signal_connect(w->back_to_list, "clicked", G_CALLBACK(on_back_to_list), w);
    gtk_widget_set_no_show_all(w->back_to_list, TRUE);
    hdy_header_bar_pack_start(HDY_HEADER_BAR(w->header), w->back_to_list);

    w->search_button = gtk_toggle_button_new();
    gtk_container_add(GTK_CONTAINER(w->search_button),
                      gtk_image_new_from_icon_name("system-search-symbolic", GTK_ICON_SIZE_BUTTON));
    a11y(w->search_button, "Search");
    gtk_widget_set_tooltip_text(w->search_button, "Search (Ctrl+F)");
    hdy_header_bar_pack_start(HDY_HEADER_BAR(w->header), w->search_button);

    g_menu_append(section, "_Preferences", "porch.preferences");
    g_menu_append(section, "_Connect to Address…", "porch.connect");
    g_menu_append(section, "_Sharing", "porch.sharing");
    if (w->owner->sending != NULL)
        g_menu_append(section, "_Receive Files", "porch.receive");
    g_menu_append_section(menu, NULL, G_MENU_MODEL(section));
    g_clear_object(&section);
    section = g_menu_new();
    g_menu_append(section, "_About Porch", "porch.about");
    g_menu_append(section, "_Quit", "porch.quit");
    g_menu_append_section(menu, NULL, G_MENU_MODEL(section));
    gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(menu_button), G_MENU_MODEL(menu));
    gtk_button_set_image(GTK_BUTTON(menu_button),
                         gtk_image_new_from_icon_name("open-menu-symbolic", GTK_ICON_SIZE_BUTTON));
    a11y(menu_button, "Main menu");
    gtk_widget_set_tooltip_text(menu_button, "Main menu");
    hdy_header_bar_pack_end(HDY_HEADER_BAR(w->header), menu_button);
    g_object_set_data(G_OBJECT(menu_button), "porch-actions", group);
    g_signal_connect(menu_button, "notify::active", G_CALLBACK(on_menu_shown), w);

    w->transfers_button = gtk_menu_button_new();
    gtk_button_set_image(
            GTK_BUTTON(w->transfers_button),
            gtk_image_new_from_icon_name("folder-download-symbolic", GTK_ICON_SIZE_BUTTON));
    a11y(w->transfers_button, "Transfers");
    gtk_widget_set_tooltip_text(w->transfers_button, "Transfers");
    popover = gtk_popover_new(w->transfers_button);
    gtk_container_add(GTK_CONTAINER(popover), build_transfers(w));
    gtk_menu_button_set_popover(GTK_MENU_BUTTON(w->transfers_button), popover);
    hdy_header_bar_pack_end(HDY_HEADER_BAR(w->header), w->transfers_button);

    if (app != NULL) {
        static const char *const search_keys[] = {"<Control>f", NULL};
        gtk_application_set_accels_for_action(app, "porch.search", search_keys);
    }
    return w->header;
}

/* GtkSearchBar's own close button has no name: it gets one for assistive tools. */
static void
name_close_button(GtkWidget *widget, gpointer data)
{
    if (GTK_IS_BUTTON(widget) && atk_object_get_name(gtk_widget_get_accessible(widget)) == NULL)
        a11y(widget, "Close the search");
    else if (GTK_IS_CONTAINER(widget))
        gtk_container_forall(GTK_CONTAINER(widget), name_close_button, NULL);
}

static GtkWidget *
build_search_bar(View *w)
{
    w->search_bar = gtk_search_bar_new();
    w->search_entry = gtk_search_entry_new();
    a11y(w->search_entry, "Search the neighbours");
    gtk_entry_set_placeholder_text(GTK_ENTRY(w->search_entry), "Search neighbours and files");
    gtk_container_add(GTK_CONTAINER(w->search_bar), w->search_entry);
    gtk_search_bar_connect_entry(GTK_SEARCH_BAR(w->search_bar), GTK_ENTRY(w->search_entry));
    gtk_container_forall(GTK_CONTAINER(w->search_bar), name_close_button, NULL);
    g_object_bind_property(w->search_button, "active", w->search_bar, "search-mode-enabled",
                           G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
    return w->search_bar;
}

static GtkWidget *
build_empty_page(View *w)
{
    w->empty_page = hdy_status_page_new();
    w->why_button = gtk_button_new_with_mnemonic("_Why can't I see a computer?");
    a11y(w->why_button, "Why can't I see a computer?");
    gtk_widget_set_halign(w->why_button, GTK_ALIGN_CENTER);
    gtk_style_context_add_class(gtk_widget_get_style_context(w->why_button), "pill");
    g_signal_connect(w->why_button, "clicked", G_CALLBACK(on_why), w);
    gtk_widget_set_no_show_all(w->why_button, TRUE);
    /* mDNS cannot show a neighbour on another network: reach it by its address */
    w->connect_button = gtk_button_new_with_mnemonic("_Connect to Address…");
    a11y(w->connect_button, "Connect to address…");
    gtk_widget_set_halign(w->connect_button, GTK_ALIGN_CENTER);
    gtk_style_context_add_class(gtk_widget_get_style_context(w->connect_button), "pill");
    g_signal_connect(w->connect_button, "clicked", G_CALLBACK(on_connect_button), w);
    gtk_widget_set_no_show_all(w->connect_button, TRUE);
    {
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
        gtk_container_add(GTK_CONTAINER(box), w->why_button);
        gtk_container_add(GTK_CONTAINER(box), w->connect_button);
        gtk_container_add(GTK_CONTAINER(w->empty_page), box);
    }
    return w->empty_page;
}

static GtkWidget *
build_key_page(View *w)
{
    w->key_page = hdy_status_page_new();
    hdy_status_page_set_icon_name(HDY_STATUS_PAGE(w->key_page), "security-low-symbolic");
    hdy_status_page_set_title(HDY_STATUS_PAGE(w->key_page), "Key changed");
    /* the refusal names the known_peers file and line: selectable, wrapped anywhere */
    w->key_detail = gtk_label_new("");
    gtk_label_set_line_wrap(GTK_LABEL(w->key_detail), TRUE);
    gtk_label_set_line_wrap_mode(GTK_LABEL(w->key_detail), PANGO_WRAP_WORD_CHAR);
    gtk_label_set_selectable(GTK_LABEL(w->key_detail), TRUE);
    gtk_label_set_justify(GTK_LABEL(w->key_detail), GTK_JUSTIFY_CENTER);
    gtk_label_set_max_width_chars(GTK_LABEL(w->key_detail), 60);
    gtk_widget_set_can_focus(w->key_detail, FALSE);
    a11y(w->key_detail, "What to do");
    gtk_container_add(GTK_CONTAINER(w->key_page), w->key_detail);
    return w->key_page;
}

static GtkWidget *
padded(GtkWidget *child)
{
    g_object_set(child, "margin", 12, NULL);
    return child;
}

/* The size to remember: the window's while it is neither maximized nor full screen. */
static void
on_window_size(GtkWidget *window, GdkRectangle *allocation, gpointer data)
{
    View *w = data;

    if (!w->maximized)
        gtk_window_get_size(GTK_WINDOW(window), &w->width, &w->height);
}

static gboolean
on_window_state(GtkWidget *window, GdkEventWindowState *event, gpointer data)
{
    View *w = data;

    w->maximized = (event->new_window_state &
                    (GDK_WINDOW_STATE_MAXIMIZED | GDK_WINDOW_STATE_FULLSCREEN)) != 0;
    return FALSE;
}

/* A page that scrolls as a whole when the window is too short for its lists and buttons. */
static GtkWidget *
page_scroller(GtkWidget *page)
{
    GtkWidget *s = gtk_scrolled_window_new(NULL, NULL);

    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(s), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_container_add(GTK_CONTAINER(s), page);
    return s;
}

static View *
build_window(PorchTrayWindow *self)
{
    GtkApplication *app = porch_tray_model_get_application(self->model);
    View *w = g_new0(View, 1);
    GtkWidget *outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *lists = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *separator = gtk_separator_new(GTK_ORIENTATION_VERTICAL);

    hdy_init();
    /* dark when the desktop prefers it (GNOME's color-scheme, through the portal) */
    hdy_style_manager_set_color_scheme(hdy_style_manager_get_default(),
                                       HDY_COLOR_SCHEME_PREFER_LIGHT);
    w->owner = self;
    w->history = g_ptr_array_new_with_free_func(g_free);
    w->window = app != NULL ? gtk_application_window_new(app) : gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_title(GTK_WINDOW(w->window), "Porch");
    if (self->settings != NULL) {
        gtk_window_set_default_size(GTK_WINDOW(w->window),
                                    g_settings_get_int(self->settings, "window-width"),
                                    g_settings_get_int(self->settings, "window-height"));
        if (g_settings_get_boolean(self->settings, "window-maximized"))
            gtk_window_maximize(GTK_WINDOW(w->window));
        w->restore_host = g_settings_get_string(self->settings, "last-neighbour");
        if (w->restore_host[0] == '\0')
            g_clear_pointer(&w->restore_host, g_free);
    } else {
        gtk_window_set_default_size(GTK_WINDOW(w->window), 900, 600);
    }
    g_signal_connect(w->window, "size-allocate", G_CALLBACK(on_window_size), w);
    g_signal_connect(w->window, "window-state-event", G_CALLBACK(on_window_state), w);
    gtk_widget_set_size_request(w->window, 360, 400);
    gtk_window_set_icon_name(GTK_WINDOW(w->window), "folder-remote");
    a11y(w->window, "Porch — neighbours and their shares");
    gtk_window_set_titlebar(GTK_WINDOW(w->window), build_header(w, app));

    gtk_box_pack_start(GTK_BOX(outer), build_search_bar(w), FALSE, FALSE, 0);
    w->state_label = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(w->state_label), 0);
    gtk_label_set_line_wrap(GTK_LABEL(w->state_label), TRUE);
    gtk_widget_set_no_show_all(w->state_label, TRUE);
    a11y(w->state_label, "Network status");
    gtk_box_pack_start(GTK_BOX(outer), padded(w->state_label), FALSE, FALSE, 0);

    /* the sidebar: the Porch neighbours, and the other devices nearby */
    w->porch_filter = gtk_tree_model_filter_new(
            GTK_TREE_MODEL(porch_tray_model_get_neighbours(self->model)), NULL);
    gtk_tree_model_filter_set_visible_func(GTK_TREE_MODEL_FILTER(w->porch_filter), porch_visible, w,
                                           NULL);
    w->device_filter = gtk_tree_model_filter_new(
            GTK_TREE_MODEL(porch_tray_model_get_neighbours(self->model)), NULL);
    gtk_tree_model_filter_set_visible_func(GTK_TREE_MODEL_FILTER(w->device_filter), device_visible,
                                           w, NULL);
    g_signal_connect(w->search_entry, "search-changed", G_CALLBACK(on_search_changed), w);
    g_signal_connect(w->search_entry, "changed", G_CALLBACK(on_search_text), w);
    w->neighbours_view = neighbour_list(w, w->porch_filter, "Neighbours running Porch");
    w->devices_view = neighbour_list(w, w->device_filter, "Other devices nearby");
    accept_file_drops(GTK_WIDGET(w->neighbours_view), G_CALLBACK(on_list_drop), w);
    gtk_box_pack_start(GTK_BOX(lists), heading("_Neighbours", GTK_WIDGET(w->neighbours_view)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(lists), scrolled(GTK_WIDGET(w->neighbours_view)), TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(lists), heading("Nearby _devices", GTK_WIDGET(w->devices_view)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(lists), scrolled(GTK_WIDGET(w->devices_view)), TRUE, TRUE, 0);
    w->sidebar = padded(lists);
    gtk_widget_set_size_request(w->sidebar, 300, -1);
    gtk_widget_set_hexpand(w->sidebar, FALSE);

    /* the content: what is shown of the selected neighbour */
    w->stack = gtk_stack_new();
    gtk_stack_add_named(GTK_STACK(w->stack), build_empty_page(w), "empty");
    gtk_stack_add_named(GTK_STACK(w->stack), build_key_page(w), "key-changed");
    gtk_stack_add_named(GTK_STACK(w->stack), page_scroller(padded(build_neighbour_page(w))),
                        "neighbour");
    gtk_stack_add_named(GTK_STACK(w->stack), padded(build_folder_page(w)), "folder");
    w->search = porch_tray_search_new(self->model);
    porch_tray_search_set_changed_func(w->search, G_CALLBACK(refilter), w);
    gtk_stack_add_named(GTK_STACK(w->stack), padded(porch_tray_search_get_widget(w->search)),
                        "search");
    w->content = w->stack;
    gtk_widget_set_hexpand(w->content, TRUE);
    gtk_widget_set_size_request(w->content, 300, -1);

    w->leaflet = hdy_leaflet_new();
    hdy_leaflet_set_can_swipe_back(HDY_LEAFLET(w->leaflet), TRUE);
    gtk_container_add(GTK_CONTAINER(w->leaflet), w->sidebar);
    gtk_container_add(GTK_CONTAINER(w->leaflet), separator);
    gtk_container_child_set(GTK_CONTAINER(w->leaflet), separator, "navigatable", FALSE, NULL);
    gtk_container_add(GTK_CONTAINER(w->leaflet), w->content);
    g_signal_connect(w->leaflet, "notify::folded", G_CALLBACK(on_leaflet_notify), w);
    g_signal_connect(w->leaflet, "notify::visible-child", G_CALLBACK(on_leaflet_notify), w);
    gtk_box_pack_start(GTK_BOX(outer), w->leaflet, TRUE, TRUE, 0);

    gtk_container_add(GTK_CONTAINER(w->window), outer);
    g_signal_connect(w->window, "destroy", G_CALLBACK(on_window_destroy), self);
    return w;
}

/* ------------------------------------------------------------------------------------------
 * PorchTrayWindow */

static void
on_browse_error(PorchTrayModel *model, GParamSpec *pspec, gpointer data)
{
    PorchTrayWindow *self = data;

    if (self->view != NULL)
        show_browse_error(self->view);
}

static void
porch_tray_window_init(PorchTrayWindow *self)
{
}

static void
porch_tray_window_dispose(GObject *object)
{
    PorchTrayWindow *self = PORCH_TRAY_WINDOW(object);

    porch_tray_window_close(self);
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_clear_object(&self->printing);
    g_clear_object(&self->sharing);
    g_clear_object(&self->sending);
    if (self->remembered != NULL)
        g_signal_handlers_disconnect_by_data(self->remembered, self);
    g_clear_object(&self->remembered);
    g_clear_object(&self->settings);
    g_clear_object(&self->model);
    G_OBJECT_CLASS(porch_tray_window_parent_class)->dispose(object);
}

static void
porch_tray_window_class_init(PorchTrayWindowClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = porch_tray_window_dispose;
}

/* Connect to address… remembered a neighbour: it is shown. */
static void
on_connected(PorchTrayRemembered *remembered, const char *host, gpointer data)
{
    porch_tray_window_select_neighbour(PORCH_TRAY_WINDOW(data), host);
}

PorchTrayWindow *
porch_tray_window_new(PorchTrayModel *model, PorchTrayPrinting *printing, PorchTraySharing *sharing,
                      PorchTrayRemembered *remembered)
{
    PorchTrayWindow *self = g_object_new(PORCH_TYPE_TRAY_WINDOW, NULL);

    GSettingsSchemaSource *source = g_settings_schema_source_get_default();
    g_autoptr(GSettingsSchema) schema =
            source != NULL ? g_settings_schema_source_lookup(source, "org.porch.Tray", TRUE) : NULL;

    self->model = g_object_ref(model);
    self->printing = g_object_ref(printing);
    self->sharing = g_object_ref(sharing);
    self->remembered = g_object_ref(remembered);
    g_signal_connect(remembered, "connected", G_CALLBACK(on_connected), self);
    if (schema != NULL)
        self->settings = g_settings_new_full(schema, NULL, NULL);
    else
        g_debug("the GSettings schema org.porch.Tray is not installed: nothing is remembered");
    g_signal_connect(model, "neighbour-changed", G_CALLBACK(on_neighbour_changed), self);
    g_signal_connect(model, "notify::browse-error", G_CALLBACK(on_browse_error), self);
    return self;
}

GtkWindow *
porch_tray_window_show(PorchTrayWindow *self)
{
    if (self->view == NULL) {
        self->view = build_window(self);
        gtk_widget_show_all(self->view->window);
        gtk_stack_set_visible_child_name(GTK_STACK(self->view->stack), "empty");
        show_browse_error(self->view);
        update_back_to_list(self->view);
        if (self->view->restore_host != NULL)
            porch_tray_window_select_neighbour(self, self->view->restore_host);
        gtk_widget_grab_focus(GTK_WIDGET(self->view->neighbours_view));
    }
    gtk_window_present(GTK_WINDOW(self->view->window));
    return GTK_WINDOW(self->view->window);
}

GtkWindow *
porch_tray_window_get_window(PorchTrayWindow *self)
{
    return self->view != NULL ? GTK_WINDOW(self->view->window) : NULL;
}

void
porch_tray_window_close(PorchTrayWindow *self)
{
    if (self->view == NULL)
        return;
    /* GTK 3 warns (a NULL object referenced) when a window goes with its popover open */
    gtk_widget_hide(
            GTK_WIDGET(gtk_menu_button_get_popover(GTK_MENU_BUTTON(self->view->transfers_button))));
    gtk_widget_destroy(self->view->window);
}

GtkTreeView *
porch_tray_window_get_neighbour_view(PorchTrayWindow *self)
{
    return self->view != NULL ? self->view->neighbours_view : NULL;
}

GtkTreeView *
porch_tray_window_get_device_view(PorchTrayWindow *self)
{
    return self->view != NULL ? self->view->devices_view : NULL;
}

GtkTreeView *
porch_tray_window_get_share_view(PorchTrayWindow *self)
{
    return self->view != NULL ? self->view->shares_view : NULL;
}

GtkTreeView *
porch_tray_window_get_folder_view(PorchTrayWindow *self)
{
    return self->view != NULL ? self->view->files_view : NULL;
}

gboolean
porch_tray_window_select_neighbour(PorchTrayWindow *self, const char *host)
{
    View *w = self->view;

    if (w == NULL)
        return FALSE;
    for (int k = 0; k < 2; k++) {
        GtkTreeView *view = k == 0 ? w->neighbours_view : w->devices_view;
        GtkTreeModel *model = gtk_tree_view_get_model(view);
        GtkTreeIter iter;

        for (gboolean ok = gtk_tree_model_get_iter_first(model, &iter); ok;
             ok = gtk_tree_model_iter_next(model, &iter)) {
            g_autofree char *h = NULL;
            gtk_tree_model_get(model, &iter, PORCH_TRAY_NCOL_HOST, &h, -1);
            if (g_strcmp0(h, host) == 0) {
                gtk_tree_selection_select_iter(gtk_tree_view_get_selection(view), &iter);
                return TRUE;
            }
        }
    }
    return FALSE;
}

GtkWindow *
porch_tray_window_connect_to_address(PorchTrayWindow *self)
{
    GtkWindow *parent = porch_tray_window_get_window(self);

    return porch_tray_remembered_show_connect(self->remembered, parent);
}

void
porch_tray_window_browse(PorchTrayWindow *self, const char *host, const char *path)
{
    if (self->view == NULL)
        porch_tray_window_show(self);
    browse(self->view, host, path, HISTORY_CLEAR);
}

gboolean
porch_tray_window_drop_to(PorchTrayWindow *self, const char *uri)
{
    return self->view != NULL && drop_to(self->view, uri);
}

PorchTraySearch *
porch_tray_window_get_search(PorchTrayWindow *self)
{
    return self->view != NULL ? self->view->search : NULL;
}

void
porch_tray_window_search(PorchTrayWindow *self, const char *pattern)
{
    if (self->view == NULL)
        porch_tray_window_show(self);
    gtk_search_bar_set_search_mode(GTK_SEARCH_BAR(self->view->search_bar), TRUE);
    gtk_entry_set_text(GTK_ENTRY(self->view->search_entry), pattern);
}

gboolean
porch_tray_window_is_listing(PorchTrayWindow *self)
{
    return self->view != NULL && self->view->listing > 0;
}

void
porch_tray_window_set_sending(PorchTrayWindow *self, PorchTraySending *sending)
{
    g_set_object(&self->sending, sending);
}

guint
porch_tray_window_drop_files(PorchTrayWindow *self, const char *host, const char *const *uris)
{
    if (self->sending == NULL || host == NULL)
        return 0;
    return porch_tray_sending_send_uris(self->sending, host, uris);
}
