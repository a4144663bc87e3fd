/* tray-sharing.h — PorchTraySharing: what this computer shares, in the tray. The Sharing window
 * shows what the running porchd (the system service, else the user's own, found as the porch
 * command finds it: porch_ctl_connect()) shares: each share online or offline, whose it is and
 * who may read and write it, the access requests, the neighbours connected now and the
 * transfers under way; or, when no porchd runs, why, and how to start one. "Share a folder…"
 * (a folder chooser, then who may read and who may write, picked from porchd's peers and
 * groups, guests and every peer) makes a user share; a user share of one's own can be changed
 * (porchd's allow and deny requests) or removed. Every change is porchd's to judge: its refusal
 * is shown with its reason, and its warnings too.
 *
 * Requests for access (porchd's "peers") arrive as desktop notifications, with "Allow…" (a
 * dialog over the Sharing window: the key, the new peer's name and which of the user's own user
 * shares it may read or write; then porchd's peers-accept) and "Deny" (porchd's peers-deny,
 * which only root may send to the system service: the tray hides the request for this run
 * either way, and says so). The peers the user accepted are listed with "Forget"
 * (peers-forget).
 *
 * All of it goes through the control socket's requests of shared/porch-control.h, the porch
 * command's; each exchange runs in a GTask worker thread (they block), never on the main loop.
 * While the window is shown it is refreshed every PORCH_TRAY_SHARING_REFRESH_SECONDS; the
 * requests are looked at as often from porch_tray_sharing_start() on. */
#pragma once

#include "tray-model.h"

G_BEGIN_DECLS

#define PORCH_TRAY_SHARING_REFRESH_SECONDS 3

#define PORCH_TYPE_TRAY_SHARING (porch_tray_sharing_get_type())
G_DECLARE_FINAL_TYPE(PorchTraySharing, porch_tray_sharing, PORCH, TRAY_SHARING, GObject)

/* How the tray reaches porchd: porch_ctl_connect() unless replaced (tests, which connect as
 * another user). Called in a worker thread. */
typedef int (*PorchTrayControlConnect)(gboolean *ret_system, GError **error, gpointer data);

PorchTraySharing *porch_tray_sharing_new(PorchTrayModel *model);
/* Starts looking for requests for access (and notifying of new ones). */
void porch_tray_sharing_start(PorchTraySharing *self);
/* @user: the user @connect connects as, whose user shares are "yours" (NULL: this process's). */
void porch_tray_sharing_set_connect(PorchTraySharing *self, PorchTrayControlConnect connect,
                                    gpointer data, const char *user);

/* Shows (making it if need be) and presents the Sharing window; returns it (owned by GTK). */
GtkWindow *porch_tray_sharing_show(PorchTraySharing *self);
/* The window, or NULL when it is not open. */
GtkWindow *porch_tray_sharing_get_window(PorchTraySharing *self);
/* Asks porchd now (the window's state when it is open, and the requests). */
void porch_tray_sharing_refresh(PorchTraySharing *self);
/* TRUE while an exchange with porchd runs. */
gboolean porch_tray_sharing_is_busy(PorchTraySharing *self);
/* How many answers from porchd the tray has had (refreshes and changes), for waiting on one. */
guint porch_tray_sharing_get_answers(PorchTraySharing *self);

/* "Share a folder…": the folder chooser; on a folder, porch_tray_sharing_share_folder(). */
void porch_tray_sharing_choose_folder(PorchTraySharing *self);
/* The step after the chooser: the dialog "Share NAME" for @path (who may read, who may write,
 * the name), and on "Share" the share-add request with the folder opened. */
GtkWindow *porch_tray_sharing_share_folder(PorchTraySharing *self, const char *path);

/* The requests for access the tray knows of (not denied here): "NAME FINGERPRINT" each. */
GStrv porch_tray_sharing_get_requests(PorchTraySharing *self);
/* A request's "Allow…" (opens the Sharing window and the request's dialog, returned; NULL when
 * it waits for porchd's first answer, or there is no such request) and "Deny" (the tray hides
 * it, and asks porchd to turn it away), as the notification's buttons do. */
GtkWindow *porch_tray_sharing_allow(PorchTraySharing *self, const char *fingerprint);
void porch_tray_sharing_deny(PorchTraySharing *self, const char *fingerprint);

G_END_DECLS
