/* tray-window.h — PorchTrayWindow: the Porch window. It shows the model's neighbours and the
 * devices nearby (live), the selected one's shares, printers and services, a folder browser
 * for a share, the files its search box finds on the neighbours (tray-search.h), and the
 * model's transfers. It observes the model (the signal
 * neighbour-changed, the notification of browse-error) and acts through it, the transfers
 * (tray-transfers.h), the printing (tray-print.h), the sharing (tray-sharing.h: its menu's
 * "Sharing" opens that window) and the neighbours remembered by address (tray-remembered.h: its
 * menu's "Connect to Address…", and a button on the page shown while no neighbour is selected;
 * a neighbour so remembered is selected); it calls nothing above it.
 *
 * The GtkWindow is built when first shown and goes when the user closes it; the
 * PorchTrayWindow stays, to show it again. Everything here runs on the main thread. */
#pragma once

#include "tray-model.h"
#include "tray-print.h"
#include "tray-remembered.h"
#include "tray-search.h"
#include "tray-send.h"
#include "tray-sharing.h"

G_BEGIN_DECLS

#define PORCH_TYPE_TRAY_WINDOW (porch_tray_window_get_type())
G_DECLARE_FINAL_TYPE(PorchTrayWindow, porch_tray_window, PORCH, TRAY_WINDOW, GObject)

/* The window of @model's state; "Print a file…" and "Add to this computer" go to @printing,
 * "Sharing" to @sharing, "Connect to Address…" to @remembered. Nothing is shown before
 * porch_tray_window_show(). */
PorchTrayWindow *porch_tray_window_new(PorchTrayModel *model, PorchTrayPrinting *printing,
                                       PorchTraySharing *sharing, PorchTrayRemembered *remembered);

/* Where "Send Files…" on a neighbour, files dropped on a neighbour (text/uri-list: its row
 * or its page) and the menu's "Receive Files" go. */
void porch_tray_window_set_sending(PorchTrayWindow *self, PorchTraySending *sending);
/* What a drop of @uris on the neighbour @host does (porch_tray_sending_send_uris()); returns
 * the transfer's id, 0 when nothing was sent. */
guint porch_tray_window_drop_files(PorchTrayWindow *self, const char *host,
                                   const char *const *uris);

/* Shows (building it if need be) and presents the window; returns it (owned by GTK). */
GtkWindow *porch_tray_window_show(PorchTrayWindow *self);
/* The window, or NULL when it is not open. */
GtkWindow *porch_tray_window_get_window(PorchTrayWindow *self);
/* Destroys the window when it is open. */
void porch_tray_window_close(PorchTrayWindow *self);

/* The window's list of Porch neighbours, of nearby devices, of the selected neighbour's
 * shares, and of the folder being browsed; NULL when the window is not open. */
GtkTreeView *porch_tray_window_get_neighbour_view(PorchTrayWindow *self);
GtkTreeView *porch_tray_window_get_device_view(PorchTrayWindow *self);
GtkTreeView *porch_tray_window_get_share_view(PorchTrayWindow *self);
GtkTreeView *porch_tray_window_get_folder_view(PorchTrayWindow *self);
/* Selects the neighbour @host in the open window; FALSE if it is not open or @host absent. */
gboolean porch_tray_window_select_neighbour(PorchTrayWindow *self, const char *host);
/* "Connect to Address…": the dialog (tray-remembered.h), over the window when it is open;
 * returns it (owned by GTK). */
GtkWindow *porch_tray_window_connect_to_address(PorchTrayWindow *self);
/* Browses @path ("/Share/sub") of neighbour @host, opening the window if need be. */
void porch_tray_window_browse(PorchTrayWindow *self, const char *host, const char *path);
/* The search of the neighbours' files (tray-search.h), NULL when the window is not open; and
 * typing @pattern in the search box, opening the window if need be. */
PorchTraySearch *porch_tray_window_get_search(PorchTrayWindow *self);
void porch_tray_window_search(PorchTrayWindow *self, const char *pattern);
/* TRUE while a folder listing is under way. */
gboolean porch_tray_window_is_listing(PorchTrayWindow *self);
/* What a drop of the folder view's selection does once the drop target named the file it
 * wants (@uri, XDS): fetches the selection into that file's local folder. FALSE when @uri is
 * not in a local folder (or nothing is browsed). */
gboolean porch_tray_window_drop_to(PorchTrayWindow *self, const char *uri);

G_END_DECLS
