/* tray-search.h — PorchTraySearch: the window's search of the neighbours' files. A pattern
 * typed in the window's search box is sent, 300 ms after the last key, to every Porch
 * neighbour of the model (seen or remembered; only those whose keys are pinned are
 * contacted) at once, each in a thread of its own (porch-search.h); the files they answer
 * with (only those this user may read there) are listed as they arrive: name, neighbour,
 * share, folder, size. Download (or activating a row) fetches the selected files as the
 * folder browser does (tray-transfers.h). A new pattern cancels the search under way: its
 * late answers are not shown.
 *
 * The page is a widget of the window (destroyed with it: the search under way is cancelled).
 * Everything here runs on the main thread. */
#pragma once

#include "tray-model.h"

G_BEGIN_DECLS

/* Columns of the results list. */
enum {
    PORCH_TRAY_SCOL_NAME,      /* gchararray: the file's name */
    PORCH_TRAY_SCOL_HOST,      /* gchararray: the neighbour's display name */
    PORCH_TRAY_SCOL_SHARE,     /* gchararray */
    PORCH_TRAY_SCOL_PATH,      /* gchararray: beneath the share */
    PORCH_TRAY_SCOL_FOLDER,    /* gchararray: the path's folder, "" at the share's top */
    PORCH_TRAY_SCOL_SIZE_TEXT, /* gchararray */
    PORCH_TRAY_SCOL_SIZE,      /* guint64 */
    PORCH_TRAY_SCOL_NEIGHBOUR, /* PorchNeighbour (boxed): the one that answered */
    PORCH_TRAY_SCOL_COUNT
};

/* Wait after the last change of the pattern before asking, in milliseconds. */
#define PORCH_TRAY_SEARCH_DELAY_MS 300

typedef struct _PorchTraySearch PorchTraySearch;

/* The search page of @model's neighbours; its widget is porch_tray_search_get_widget()
 * (floating until packed; the PorchTraySearch goes with it). */
PorchTraySearch *porch_tray_search_new(PorchTrayModel *model);
GtkWidget *porch_tray_search_get_widget(PorchTraySearch *self);
/* The pattern typed: a search starts PORCH_TRAY_SEARCH_DELAY_MS later unless another comes;
 * "" cancels the search and clears the list. */
void porch_tray_search_set_pattern(PorchTraySearch *self, const char *pattern);
/* The results list, what the status line says, and whether neighbours are still to answer
 * (or the delay still runs). */
GtkTreeView *porch_tray_search_get_view(PorchTraySearch *self);
const char *porch_tray_search_get_status(PorchTraySearch *self);
gboolean porch_tray_search_is_running(PorchTraySearch *self);
/* Whether a file of the neighbour @host (its host name) is listed. */
gboolean porch_tray_search_lists_host(PorchTraySearch *self, const char *host);
/* @func is called (on the main thread) whenever the list changes; NULL: nothing is. */
void porch_tray_search_set_changed_func(PorchTraySearch *self, GCallback func, gpointer data);
/* Download: fetches the selected files into the default folder; returns the id of the last
 * transfer started (0: none). */
guint porch_tray_search_download_selected(PorchTraySearch *self);

G_END_DECLS
