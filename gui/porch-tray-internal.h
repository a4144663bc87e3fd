/* porch-tray-internal.h — the parts of porch-tray (library porch_tray_core) that its main()
 * and its tests use. Not a public API.
 *
 *   tray-app.c        PorchTray: the browser, the neighbour model, connecting (trust)
 *   tray-window.c     the window: neighbours, nearby devices, shares, folder browser
 *   tray-transfers.c  fetches in worker threads, the transfers model, notifications
 *   tray-icon.c       the StatusNotifierItem (Ayatana AppIndicator) and its menu
 *   tray-print.c      printing a file on a neighbour's printer, adding printers to CUPS
 *
 * Everything here is called on the main thread (the GTK thread); network I/O happens only in
 * GTask worker threads, and the browser's signals come from the main context (never from
 * inside an Avahi callback). */
#pragma once

#include <gtk/gtk.h>

#include "porch-browse.h"
#include "porch-sftp-client.h"
#include "tray-model.h"

G_BEGIN_DECLS

typedef struct _PorchTray PorchTray;

/* ---- tray-app.c ------------------------------------------------------------------------ */

/* Returns a new tray bound to @app (registered: its "startup" has run), with empty models; it
 * does not browse before porch_tray_start(). Free with porch_tray_free(). */
PorchTray *porch_tray_new(GtkApplication *app);
/* Cancels every transfer (NAME.part files stay for a resume), closes the window, frees. */
void porch_tray_free(PorchTray *tray);
/* Starts browsing. FALSE with @error when avahi-daemon cannot be reached (the browser keeps
 * waiting for it; the window says so). */
gboolean porch_tray_start(PorchTray *tray, GError **error);

GtkApplication *porch_tray_get_application(PorchTray *tray);
/* The neighbour model (owned by the tray). */
GtkListStore *porch_tray_get_neighbour_model(PorchTray *tray);
/* The latest snapshot of the neighbour with host name @host, or NULL (a new reference). */
PorchNeighbour *porch_tray_find_neighbour(PorchTray *tray, const char *host);

/* Replaces the default trust question (a dialog); NULL restores it. */
void porch_tray_set_trust_policy(PorchTray *tray, PorchTrayTrustPolicy policy, gpointer data);
/* Key and known_peers files (NULL: porch_identity_default_file() and
 * porch_known_peers_default_file(), the CLI's). */
void porch_tray_set_files(PorchTray *tray, const char *identity_file, const char *known_peers);
/* How long connecting to a neighbour, and then each reply, may take before the neighbour is
 * given up as unreachable (for contacts started from now on); 0: the client library's
 * default (30 s). */
void porch_tray_set_connect_timeout(PorchTray *tray, int seconds);

/* Connect options for a worker thread: our key is loaded there. The returned struct (free
 * with porch_tray_connect_free()) holds copies and the trust hook that asks on the main
 * thread. */
typedef struct _PorchTrayConnect PorchTrayConnect;
PorchTrayConnect *porch_tray_connect_new(PorchTray *tray);
void porch_tray_connect_free(PorchTrayConnect *c);
/* In a worker thread: connects to @n; NULL with @error. */
PorchClient *porch_tray_connect_run(PorchTrayConnect *c, const PorchNeighbour *n,
                                    GCancellable *cancellable, GError **error);
/* The same for one print command (porch-print-client.h): no SFTP. */
PorchClient *porch_tray_connect_run_print(PorchTrayConnect *c, const PorchNeighbour *n,
                                          GCancellable *cancellable, GError **error);
/* On the main thread, after a contact failed: marks @host unreachable when @error says it
 * could not be reached, and shows a blocking warning when its key changed. */
void porch_tray_contact_failed(PorchTray *tray, const char *host, const GError *error);
/* On the main thread, after a contact succeeded. */
void porch_tray_contact_ok(PorchTray *tray, const char *host);

/* Called when the neighbours or the transfers change (the tray icon listens). */
typedef void (*PorchTrayChangedFunc)(PorchTray *tray, gpointer data);
void porch_tray_set_changed_func(PorchTray *tray, PorchTrayChangedFunc func, gpointer data);
void porch_tray_emit_changed(PorchTray *tray);

/* ---- tray-window.c --------------------------------------------------------------------- */

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
/* Called by tray-app.c when a neighbour row changed or went away. */
void porch_tray_window_neighbour_changed(PorchTray *tray, const char *host);

/* ---- tray-transfers.c ------------------------------------------------------------------ */

/* Starts fetching @remote ("/Share/path", a file or a folder) of @n into @dest_dir (NULL: the
 * XDG Downloads folder), in a worker thread with its own connection: verified and resumable
 * as `porch get --resume` (NAME.part until verified). Returns the transfer's id (> 0). */
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
/* The folder fetches go to by default: the XDG Downloads folder, else ~/Downloads. */
char *porch_tray_default_download_dir(void);

/* ---- tray-print.c ---------------------------------------------------------------------- */

/* What "Print a file…" and "Add to this computer" do, each an operation with an id (> 0) that
 * runs without blocking the main loop (the print in a GTask worker with a connection of its
 * own, lpadmin as an asynchronous GSubprocess). When one ends, a desktop notification says so
 * (when there is a session bus), and a failure is also shown in a dialog titled
 * "Porch — printing failed" (or "Porch — adding the printer failed") with the reason: porchd's
 * or CUPS's own words, lpadmin's stderr. */
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
 * after the service, with device ipp[s]://ADDRESS:PORT/RP (its first IPv4 address, else IPv6,
 * else its host name; RP from TXT rp=). Returns the operation's id, 0 when there is no such
 * service. */
guint porch_tray_add_ipp_printer(PorchTray *tray, const char *host, const char *service);
/* The state of operation @id and what a user reads about it ("job 12 on Office",
 * "Added the printer Office@Alice_s_laptop", or why it failed; free with g_free()), and for
 * an added printer its queue name (free with g_free()); each may be NULL. FALSE when there is
 * no such operation. */
gboolean porch_tray_print_get(PorchTray *tray, guint id, PorchTrayPrintState *ret_state,
                              char **ret_message, char **ret_queue);
/* The device URI an IPP service's queue gets (see porch_tray_add_ipp_printer()); NULL when
 * @s is not an _ipp._tcp/_ipps._tcp service. Free with g_free(). */
char *porch_tray_ipp_device_uri(const PorchNeighbour *n, const PorchNeighbourService *s);

/* ---- tray-icon.c ----------------------------------------------------------------------- */

/* Asks the session bus whether a StatusNotifierItem host is there (asynchronously); when it
 * is, puts the icon up and calls @done(TRUE), else calls @done(FALSE) (no session bus, or no
 * org.kde.StatusNotifierWatcher: GNOME without its extension, a bare X server). */
typedef void (*PorchTrayIconDone)(PorchTray *tray, gboolean shown, gpointer data);
void porch_tray_icon_start(PorchTray *tray, PorchTrayIconDone done, gpointer data);
void porch_tray_icon_stop(PorchTray *tray);
/* porch-tray's start: holds the application while it asks for a tray host as
 * porch_tray_icon_start() does; then, when the icon is up, holds it for as long as the
 * program runs, and opens the window when there is no icon or @open_window; then calls
 * @done (may be NULL). */
void porch_tray_present(PorchTray *tray, gboolean open_window, PorchTrayIconDone done,
                        gpointer data);
/* The icon's menu as the tray host shows it (owned by the indicator; replaced when the
 * neighbours or the transfers change) and its icon name; NULL while no icon is up. */
GtkMenu *porch_tray_icon_get_menu(PorchTray *tray);
const char *porch_tray_icon_get_icon_name(PorchTray *tray);

/* Human-readable size ("1.2 MB") and local date, g_free() them. */
char *porch_tray_format_size(guint64 size);
char *porch_tray_format_date(gint64 mtime);

G_END_DECLS
