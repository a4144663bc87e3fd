/* tray-search.c — the window's search of the neighbours' files (see tray-search.h). */
#include <string.h>

#include "porch-print-protocol.h"
#include "porch-search.h"
#include "tray-connect.h"
#include "tray-search.h"
#include "tray-transfers.h"

struct _PorchTraySearch {
    PorchTrayModel *model;
    GtkWidget *box, *status, *download;
    GtkListStore *store;
    GtkTreeView *view;
    char *pattern;     /* to ask once the delay is over */
    guint timer;       /* the delay */
    GCancellable *run; /* the search under way, NULL when none */
    guint pending;     /* neighbours still to answer */
    guint asked, found, failed;
    GHashTable *hosts; /* host names of the neighbours whose files are listed */
    void (*changed)(gpointer data);
    gpointer changed_data;
};

static void
changed(PorchTraySearch *self)
{
    if (self->changed != NULL)
        self->changed(self->changed_data);
}

/* One search's share of the threads: freed when the last has ended (porch-search.h), which
 * may be after the page went (its answers are then not delivered). */
typedef struct {
    PorchTraySearch *self; /* valid while the search is not cancelled */
    PorchTrayModel *model;
    PorchTrayConnect *connect;
} Run;

static void
run_free(gpointer data)
{
    Run *run = data;

    porch_tray_connect_free(run->connect);
    porch_tray_model_worker_done(run->model);
    g_object_unref(run->model);
    g_free(run);
}

/* In a thread of the search: the run's connection rules (pinned keys only). */
static PorchClient *
connect_pinned(const PorchNeighbour *n, gboolean for_print, gpointer data,
               GCancellable *cancellable, GError **error)
{
    Run *run = data;

    return porch_tray_connect_search(n, for_print, run->connect, cancellable, error);
}

static void
set_status(PorchTraySearch *self)
{
    g_autoptr(GString) s = g_string_new(NULL);

    if (self->pattern == NULL) {
        /* nothing asked */
    } else if (self->timer != 0) {
        g_string_assign(s, "Searching…");
    } else if (self->asked == 0) {
        g_string_assign(s, "No neighbour running Porch to search");
    } else {
        if (self->found == 0 && self->pending == 0)
            g_string_append(s, "Nothing found");
        else
            g_string_append_printf(s, "%u file%s found", self->found, self->found == 1 ? "" : "s");
        if (self->pending > 0)
            g_string_append_printf(s, " · waiting for %u of %u neighbour%s", self->pending,
                                   self->asked, self->asked == 1 ? "" : "s");
        else
            g_string_append_printf(s, " on %u neighbour%s", self->asked,
                                   self->asked == 1 ? "" : "s");
        if (self->failed > 0)
            g_string_append_printf(s, " (%u could not be asked)", self->failed);
    }
    gtk_label_set_text(GTK_LABEL(self->status), s->str);
}

static void
on_answer(const PorchNeighbour *n, GPtrArray *matches, const GError *error, gpointer data)
{
    Run *run = data;
    PorchTraySearch *self = run->self;

    self->pending--;
    if (matches == NULL) {
        self->failed++;
        g_debug("search: %s: %s", porch_neighbour_get_name(n), error->message);
    }
    for (guint i = 0; matches != NULL && i < matches->len; i++) {
        const PorchSearchMatch *m = g_ptr_array_index(matches, i);
        g_autofree char *name = g_path_get_basename(m->path);
        g_autofree char *folder = g_path_get_dirname(m->path);
        g_autofree char *size = g_format_size(m->size);
        GtkTreeIter iter;

        gtk_list_store_insert_with_values(
                self->store, &iter, -1, PORCH_TRAY_SCOL_NAME, name, PORCH_TRAY_SCOL_HOST,
                porch_neighbour_get_name(n), PORCH_TRAY_SCOL_SHARE, m->share, PORCH_TRAY_SCOL_PATH,
                m->path, PORCH_TRAY_SCOL_FOLDER, strcmp(folder, ".") == 0 ? "" : folder,
                PORCH_TRAY_SCOL_SIZE_TEXT, size, PORCH_TRAY_SCOL_SIZE, m->size,
                PORCH_TRAY_SCOL_NEIGHBOUR, n, -1);
        self->found++;
    }
    if (matches != NULL && matches->len > 0) {
        g_hash_table_add(self->hosts, g_strdup(porch_neighbour_get_host_name(n)));
        changed(self);
    }
    set_status(self);
}

static void
on_done(gpointer data)
{
    Run *run = data;

    g_clear_object(&run->self->run);
    set_status(run->self);
}

static void
cancel(PorchTraySearch *self)
{
    if (self->run != NULL)
        g_cancellable_cancel(self->run);
    g_clear_object(&self->run);
    g_clear_handle_id(&self->timer, g_source_remove);
    self->pending = self->asked = self->found = self->failed = 0;
    gtk_list_store_clear(self->store);
    g_hash_table_remove_all(self->hosts);
    changed(self);
}

/* The delay is over: every Porch neighbour of the model is asked. */
static gboolean
on_delay(gpointer data)
{
    PorchTraySearch *self = data;
    GtkTreeModel *list = GTK_TREE_MODEL(porch_tray_model_get_neighbours(self->model));
    g_autoptr(GPtrArray) all =
            g_ptr_array_new_with_free_func((GDestroyNotify)porch_neighbour_unref);
    Run *run = g_new0(Run, 1);
    PorchSearchCallbacks cb = {connect_pinned, on_answer, on_done, run, run_free};
    GtkTreeIter iter;

    self->timer = 0;
    for (gboolean ok = gtk_tree_model_get_iter_first(list, &iter); ok;
         ok = gtk_tree_model_iter_next(list, &iter)) {
        PorchNeighbour *n = NULL;
        gtk_tree_model_get(list, &iter, PORCH_TRAY_NCOL_NEIGHBOUR, &n, -1);
        if (n != NULL)
            g_ptr_array_add(all, n);
    }
    run->self = self;
    run->model = g_object_ref(self->model);
    run->connect = porch_tray_connect_new_pinned(self->model);
    self->run = g_cancellable_new();
    porch_tray_model_worker_start(self->model);
    self->asked = self->pending = porch_search_start(all, self->pattern, NULL, &cb, self->run);
    set_status(self);
    return G_SOURCE_REMOVE;
}

void
porch_tray_search_set_pattern(PorchTraySearch *self, const char *pattern)
{
    if (g_strcmp0(pattern, self->pattern) == 0 && (self->run != NULL || self->timer != 0))
        return;
    cancel(self);
    g_clear_pointer(&self->pattern, g_free);
    if (pattern == NULL || pattern[0] == '\0') {
        gtk_label_set_text(GTK_LABEL(self->status), "");
        return;
    }
    if (strlen(pattern) > PORCH_SEARCH_MAX_PATTERN || !g_utf8_validate(pattern, -1, NULL)) {
        g_autofree char *msg =
                g_strdup_printf("Too long to search: at most %d bytes", PORCH_SEARCH_MAX_PATTERN);
        gtk_label_set_text(GTK_LABEL(self->status), msg);
        return;
    }
    self->pattern = g_strdup(pattern);
    self->timer = g_timeout_add(PORCH_TRAY_SEARCH_DELAY_MS, on_delay, self);
    set_status(self);
}

guint
porch_tray_search_download_selected(PorchTraySearch *self)
{
    GtkTreeModel *model = NULL;
    GList *rows =
            gtk_tree_selection_get_selected_rows(gtk_tree_view_get_selection(self->view), &model);
    guint id = 0;

    for (GList *l = rows; l != NULL; l = l->next) {
        GtkTreeIter iter;
        g_autoptr(PorchNeighbour) n = NULL;
        g_autofree char *share = NULL, *path = NULL, *remote = NULL;

        if (!gtk_tree_model_get_iter(model, &iter, l->data))
            continue;
        gtk_tree_model_get(model, &iter, PORCH_TRAY_SCOL_NEIGHBOUR, &n, PORCH_TRAY_SCOL_SHARE,
                           &share, PORCH_TRAY_SCOL_PATH, &path, -1);
        remote = g_strdup_printf("/%s/%s", share, path);
        id = porch_tray_transfer_start(self->model, n, remote, NULL);
    }
    g_list_free_full(rows, (GDestroyNotify)gtk_tree_path_free);
    return id;
}

static void
on_download(GtkButton *button, gpointer data)
{
    porch_tray_search_download_selected(data);
}

static void
on_row_activated(GtkTreeView *view, GtkTreePath *path, GtkTreeViewColumn *column, gpointer data)
{
    porch_tray_search_download_selected(data);
}

static void
on_selection(GtkTreeSelection *selection, gpointer data)
{
    PorchTraySearch *self = data;

    gtk_widget_set_sensitive(self->download, gtk_tree_selection_count_selected_rows(selection) > 0);
}

static void
on_destroy(GtkWidget *box, gpointer data)
{
    PorchTraySearch *self = data;

    self->changed = NULL;
    cancel(self);
    g_free(self->pattern);
    g_hash_table_unref(self->hosts);
    g_object_unref(self->store);
    g_object_unref(self->model);
    g_free(self);
}

static void
text_column(PorchTraySearch *self, const char *title, int column, gboolean expand)
{
    GtkCellRenderer *r = gtk_cell_renderer_text_new();
    GtkTreeViewColumn *c = gtk_tree_view_column_new_with_attributes(title, r, "text", column, NULL);

    g_object_set(r, "ellipsize", expand ? PANGO_ELLIPSIZE_MIDDLE : PANGO_ELLIPSIZE_END, NULL);
    gtk_tree_view_column_set_resizable(c, TRUE);
    gtk_tree_view_column_set_expand(c, expand);
    gtk_tree_view_column_set_sort_column_id(
            c, column == PORCH_TRAY_SCOL_SIZE_TEXT ? PORCH_TRAY_SCOL_SIZE : column);
    gtk_tree_view_append_column(self->view, c);
}

PorchTraySearch *
porch_tray_search_new(PorchTrayModel *model)
{
    PorchTraySearch *self = g_new0(PorchTraySearch, 1);
    GtkWidget *heading = gtk_label_new(NULL);
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    GtkWidget *scroller = gtk_scrolled_window_new(NULL, NULL);
    GtkTreeSelection *selection;

    self->model = g_object_ref(model);
    self->hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->store = gtk_list_store_new(PORCH_TRAY_SCOL_COUNT, G_TYPE_STRING, G_TYPE_STRING,
                                     G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                     G_TYPE_UINT64, PORCH_TYPE_NEIGHBOUR);
    self->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);

    gtk_label_set_markup(GTK_LABEL(heading), "<b>Files found on the neighbours</b>");
    gtk_label_set_xalign(GTK_LABEL(heading), 0);
    self->status = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(self->status), 0);
    gtk_label_set_ellipsize(GTK_LABEL(self->status), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(self->status, TRUE);
    atk_object_set_name(gtk_widget_get_accessible(self->status), "Search status");
    self->download = gtk_button_new_with_mnemonic("_Download");
    gtk_widget_set_tooltip_text(self->download, "Fetch the selected files, verified, into "
                                                "the Downloads folder");
    gtk_widget_set_sensitive(self->download, FALSE);
    g_signal_connect(self->download, "clicked", G_CALLBACK(on_download), self);
    gtk_box_pack_start(GTK_BOX(bar), self->status, TRUE, TRUE, 0);
    gtk_box_pack_end(GTK_BOX(bar), self->download, FALSE, FALSE, 0);

    self->view = GTK_TREE_VIEW(gtk_tree_view_new_with_model(GTK_TREE_MODEL(self->store)));
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->view)), "Files found");
    text_column(self, "Name", PORCH_TRAY_SCOL_NAME, TRUE);
    text_column(self, "Neighbour", PORCH_TRAY_SCOL_HOST, FALSE);
    text_column(self, "Share", PORCH_TRAY_SCOL_SHARE, FALSE);
    text_column(self, "Folder", PORCH_TRAY_SCOL_FOLDER, FALSE);
    text_column(self, "Size", PORCH_TRAY_SCOL_SIZE_TEXT, FALSE);
    selection = gtk_tree_view_get_selection(self->view);
    gtk_tree_selection_set_mode(selection, GTK_SELECTION_MULTIPLE);
    g_signal_connect(selection, "changed", G_CALLBACK(on_selection), self);
    g_signal_connect(self->view, "row-activated", G_CALLBACK(on_row_activated), self);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(scroller), GTK_SHADOW_IN);
    gtk_container_add(GTK_CONTAINER(scroller), GTK_WIDGET(self->view));
    gtk_widget_set_vexpand(scroller, TRUE);

    gtk_box_pack_start(GTK_BOX(self->box), heading, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(self->box), bar, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(self->box), scroller, TRUE, TRUE, 0);
    g_signal_connect(self->box, "destroy", G_CALLBACK(on_destroy), self);
    return self;
}

GtkWidget *
porch_tray_search_get_widget(PorchTraySearch *self)
{
    return self->box;
}

GtkTreeView *
porch_tray_search_get_view(PorchTraySearch *self)
{
    return self->view;
}

const char *
porch_tray_search_get_status(PorchTraySearch *self)
{
    return gtk_label_get_text(GTK_LABEL(self->status));
}

gboolean
porch_tray_search_is_running(PorchTraySearch *self)
{
    return self->timer != 0 || self->run != NULL;
}

gboolean
porch_tray_search_lists_host(PorchTraySearch *self, const char *host)
{
    return host != NULL && g_hash_table_contains(self->hosts, host);
}

void
porch_tray_search_set_changed_func(PorchTraySearch *self, GCallback func, gpointer data)
{
    self->changed = (void (*)(gpointer))func;
    self->changed_data = data;
}
