/* porch-tray-internal.h — PorchTray (tray-app.c): porch-tray (library porch_tray_core) put
 * together, as its main() and its tests use it. Not a public API. The layers, each file with
 * its own header, each calling only those below it:
 *
 *   tray-app.c        PorchTray: the browser feeding the model, and the parts below made and
 *                     ended together
 *   tray-icon.c       PorchTrayIcon: the StatusNotifierItem (Ayatana AppIndicator), its menu
 *   tray-window.c     PorchTrayWindow: neighbours, nearby devices, shares, folder browser,
 *                     transfers
 *   tray-search.c     PorchTraySearch: the window's search of the neighbours' files
 *   tray-print.c      PorchTrayPrinting: printing a file on a neighbour's printer, adding
 *                     printers to CUPS
 *   tray-sharing.c    PorchTraySharing: what this computer's porchd shares (the Sharing
 *                     window), requests for access as notifications
 *   tray-send.c       PorchTraySending: files sent to neighbours' inboxes, and offers of
 *                     files to this user's inbox as notifications
 *   tray-transfers.c  fetches in worker threads, notifications
 *   tray-remembered.c PorchTrayRemembered: neighbours remembered by address, polled over
 *                     unicast, and "Connect to address…"
 *   tray-connect.c    contacting a neighbour from a worker thread (trust asked on the main
 *                     thread), and what a contact's outcome does
 *   tray-model.c      PorchTrayModel: the state (neighbours, transfers, print operations,
 *                     settings, worker tasks) and the signals that tell of its changes
 *
 * The window and the icon observe the model (its signals and notifications); nothing below
 * them calls them. Every worker task is counted by the model (porch_tray_model_worker_start()
 * and _done()), and porch_tray_free() waits for the last one on its notification.
 *
 * Everything here is called on the main thread (the GTK thread); network I/O happens only in
 * GTask worker threads, and the browser's signals come from the main context (never from
 * inside an Avahi callback). */
#pragma once

#include <gtk/gtk.h>

#include "porch-browse.h"
#include "porch-sftp-client.h"
#include "tray-icon.h"
#include "tray-model.h"
#include "tray-print.h"
#include "tray-remembered.h"
#include "tray-send.h"
#include "tray-sharing.h"
#include "tray-transfers.h"
#include "tray-window.h"

G_BEGIN_DECLS

typedef struct _PorchTray PorchTray;

/* ---- tray-app.c ------------------------------------------------------------------------ */

/* Returns a new tray bound to @app (registered: its "startup" has run), with empty models; it
 * does not browse before porch_tray_start(). Free with porch_tray_free(). */
PorchTray *porch_tray_new(GtkApplication *app);
/* Cancels every transfer (NAME.part files stay for a resume), closes the window, frees. */
void porch_tray_free(PorchTray *tray);
/* Starts browsing, and looking for requests for access to this computer's porchd. FALSE with
 * @error when avahi-daemon cannot be reached (the browser keeps waiting for it; the window says
 * so). */
gboolean porch_tray_start(PorchTray *tray, GError **error);

GtkApplication *porch_tray_get_application(PorchTray *tray);
/* The neighbour model (owned by the tray). */
GtkListStore *porch_tray_get_neighbour_model(PorchTray *tray);
/* The latest snapshot of the neighbour with host name @host, or NULL (a new reference). */
PorchNeighbour *porch_tray_find_neighbour(PorchTray *tray, const char *host);

/* Replaces the default trust question (a dialog); NULL restores it. */
void porch_tray_set_trust_policy(PorchTray *tray, PorchTrayTrustPolicy policy, gpointer data);
/* Key and known_peers files (NULL: porch_identity_default_file() and
 * porch_known_peers_default_file(), the CLI's). The default key is made on first use; a key
 * file named here is only read (missing, the tray connects as guest). */
void porch_tray_set_files(PorchTray *tray, const char *identity_file, const char *known_peers);
/* How long connecting to a neighbour, and then each reply, may take before the neighbour is
 * given up as unreachable (for contacts started from now on); 0: the client library's
 * default (30 s). */
void porch_tray_set_connect_timeout(PorchTray *tray, int seconds);

/* ---- the window (tray-window.h) -------------------------------------------------------- */

/* Shows (creating it if need be) and presents the window; returns it (owned by GTK). */
GtkWindow *porch_tray_show_window(PorchTray *tray);
/* The window, or NULL when it is not open. */
GtkWindow *porch_tray_get_window(PorchTray *tray);
/* The window's list of Porch neighbours and its list of nearby devices; NULL without window. */
GtkTreeView *porch_tray_get_neighbour_view(PorchTray *tray);
GtkTreeView *porch_tray_get_device_view(PorchTray *tray);
/* Selects the neighbour @host in the window (shows its shares and printers); FALSE if absent. */
gboolean porch_tray_select_neighbour(PorchTray *tray, const char *host);
/* The list of the selected neighbour's shares, and of the folder being browsed (columns:
 * name, size text, date text, is-folder, size). */
GtkTreeView *porch_tray_get_share_view(PorchTray *tray);
GtkTreeView *porch_tray_get_folder_view(PorchTray *tray);
/* Browses @path ("/Share/sub") of neighbour @host in the window, as opening a share does. */
void porch_tray_browse(PorchTray *tray, const char *host, const char *path);
/* TRUE while a folder listing is under way. */
gboolean porch_tray_is_listing(PorchTray *tray);
/* Types @pattern in the window's search box (opening the window if need be): the neighbours'
 * files that match are listed (tray-search.h); the search, NULL without window. */
void porch_tray_search(PorchTray *tray, const char *pattern);
PorchTraySearch *porch_tray_get_search(PorchTray *tray);
/* Drags of the folder view's selection out (to Files, the desktop) fetch it, verified, into
 * the folder the drop target names (XDS); this is that step, for @uri the target named. */
gboolean porch_tray_drop_to(PorchTray *tray, const char *uri);

/* ---- transfers (tray-transfers.h) ------------------------------------------------------- */

/* Starts fetching @remote ("/Share/path", a file or a folder) of @n into @dest_dir (NULL: the
 * XDG Downloads folder), in a worker thread with its own connection: verified and resumable
 * as `porch get` (NAME.part until verified). Returns the transfer's id (> 0). */
guint porch_tray_fetch(PorchTray *tray, PorchNeighbour *n, const char *remote,
                       const char *dest_dir);
/* Cancels a running transfer (its NAME.part stays for a resume). */
void porch_tray_transfer_cancel(PorchTray *tray, guint id);
void porch_tray_transfer_cancel_all(PorchTray *tray);
/* The transfers model (owned by the tray). */
GtkListStore *porch_tray_get_transfer_model(PorchTray *tray);
/* State of transfer @id, its local destination (may be NULL) and its error message (may be
 * NULL; owned by the model's copy: free with g_free()). FALSE when there is no such id. */
gboolean porch_tray_transfer_get(PorchTray *tray, guint id, PorchTrayTransferState *ret_state,
                                 char **ret_dest, char **ret_status, guint64 *ret_done);
/* How many transfers run. */
guint porch_tray_transfers_running(PorchTray *tray);

/* ---- printing (tray-print.h) ------------------------------------------------------------ */

/* "Print a file…" on printer @printer of the Porch neighbour @host: a file chooser, then
 * porch_tray_print_file() with the chosen file. */
void porch_tray_print_choose(PorchTray *tray, const char *host, const char *printer);
/* Prints the local file @path on printer @printer of the Porch neighbour @host (as
 * `porch print`: one copy, titled after the file). Returns the operation's id; 0 when @host is
 * not a Porch neighbour in the model (nothing is started). */
guint porch_tray_print_file(PorchTray *tray, const char *host, const char *printer,
                            const char *path);
/* "Add to this computer" for printer @printer of the Porch neighbour @host: the CUPS queue
 * PRINTER@NAME (NAME: the neighbour's display name) with device porch://NAME/PRINTER and
 * Porch's PPD, as `porch printer add NAME/PRINTER` makes it. Returns the operation's id, 0
 * when @host is not a Porch neighbour. */
guint porch_tray_add_porch_printer(PorchTray *tray, const char *host, const char *printer);
/* "Add to this computer" for the IPP printer @service (the instance name of an _ipp._tcp or
 * _ipps._tcp service) of the device @host: a driverless queue (lpadmin -m everywhere) named
 * after the service, with device ipp[s]://ADDRESS:PORT/RP (see porch_tray_ipp_device_uri()).
 * Returns the operation's id, 0 when there is no such service. */
guint porch_tray_add_ipp_printer(PorchTray *tray, const char *host, const char *service);
/* The state of operation @id and what a user reads about it ("job 12 on Office",
 * "Added the printer Office@Alice_s_laptop", or why it failed; free with g_free()), and for
 * an added printer its queue name (free with g_free()); each may be NULL. FALSE when there is
 * no such operation. */
gboolean porch_tray_print_get(PorchTray *tray, guint id, PorchTrayPrintState *ret_state,
                              char **ret_message, char **ret_queue);

/* ---- sharing (tray-sharing.h) ---------------------------------------------------------- */

/* Shows the Sharing window (the window menu's "Sharing"); returns it (owned by GTK). */
GtkWindow *porch_tray_show_sharing(PorchTray *tray);
/* The sharing part (owned by the tray): the folder chooser's next step, the requests. */
PorchTraySharing *porch_tray_get_sharing(PorchTray *tray);
/* How the tray reaches porchd (NULL: porch_ctl_connect(), as the porch command), and as
 * which @user (NULL: this process's); for the Sharing window and the inbox alike. */
void porch_tray_set_control_connect(PorchTray *tray, PorchTrayControlConnect connect, gpointer data,
                                    const char *user);

/* ---- sending files (tray-send.h) -------------------------------------------------------- */

/* Sending to neighbours and the offers of files to this user's inbox (owned by the tray). */
PorchTraySending *porch_tray_get_sending(PorchTray *tray);

/* ---- neighbours remembered by address (tray-remembered.h) ------------------------------- */

/* "Connect to Address…" (the window's menu, the icon's): the dialog; returns it (owned by GTK). */
GtkWindow *porch_tray_show_connect(PorchTray *tray);
/* Polls the remembered neighbours every @seconds (default PORCH_TRAY_REMEMBERED_POLL_SECONDS). */
void porch_tray_set_poll_interval(PorchTray *tray, guint seconds);
/* How many polls have been answered or failed. */
guint porch_tray_get_polls(PorchTray *tray);

/* ---- the icon (tray-icon.h) ------------------------------------------------------------- */

/* porch-tray's start: holds the application while it asks the session bus whether a
 * StatusNotifierItem host is there (no session bus, or no org.kde.StatusNotifierWatcher: GNOME
 * without its extension, a bare X server); when there is one, puts the icon up and holds the
 * application for as long as the program runs; opens the window when there is no icon or
 * @open_window; then calls @done (may be NULL). Once only. */
typedef void (*PorchTrayIconDone)(PorchTray *tray, gboolean shown, gpointer data);
void porch_tray_present(PorchTray *tray, gboolean open_window, PorchTrayIconDone done,
                        gpointer data);
/* The icon (see tray-icon.h): NULL before porch_tray_present(). */
PorchTrayIcon *porch_tray_get_icon(PorchTray *tray);

G_END_DECLS
