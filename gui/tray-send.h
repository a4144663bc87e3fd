/* tray-send.h — PorchTraySending: files sent to and from neighbours in the tray (porch send and
 * porch inbox, porch-send.h).
 *
 * Receiving: the offers waiting for the user's answer (porchd's inbox-list, asked every
 * PORCH_TRAY_INBOX_REFRESH_SECONDS through the control socket, as the Sharing window asks for
 * its requests) arrive as desktop notifications "NAME wants to send 3 files (1.2 GB)" with
 * Accept and Decline, whose default action opens a dialog listing the files. Accept and Decline
 * are porchd's inbox-accept and inbox-decline, as `porch inbox accept|decline`. An accepted
 * offer is a transfer of the model ("Receiving 3 files from NAME"): its progress is what has
 * arrived in the inbox folder (the hidden files the data arrives in, and the files that got
 * their names), and when every file is there it is done, with "Open folder". The user's inbox
 * is switched on and off with porch_tray_sending_set_inbox() (the window's menu "Receive
 * Files"): inbox-enable of the Downloads folder's Porch, every neighbour asked first.
 *
 * Sending: porch_tray_sending_send() sends files to a neighbour's default inbox with
 * porch_client_send_files() in a GTask worker (its own connection, as a print), as a transfer
 * of the model whose status says what happens: waiting for the owner, the progress, and the
 * verdict (delivered, declined, refused, no answer in time). "Send Files…" on a neighbour whose
 * TXT says inbox=1 opens a file chooser first; files dropped on a neighbour (text/uri-list) go
 * straight; porch_tray_sending_pick() is the chooser of a neighbour for files given on the
 * command line (`porch-tray --send FILE...`, the file manager's "Send to a neighbour with
 * Porch"). */
#pragma once

#include "tray-model.h"
#include "tray-sharing.h"

G_BEGIN_DECLS

#define PORCH_TRAY_INBOX_REFRESH_SECONDS 3

#define PORCH_TYPE_TRAY_SENDING (porch_tray_sending_get_type())
G_DECLARE_FINAL_TYPE(PorchTraySending, porch_tray_sending, PORCH, TRAY_SENDING, GObject)

PorchTraySending *porch_tray_sending_new(PorchTrayModel *model);
/* How the tray reaches porchd (NULL: porch_ctl_connect()), as for the Sharing window. */
void porch_tray_sending_set_connect(PorchTraySending *self, PorchTrayControlConnect connect,
                                    gpointer data);
/* Starts asking porchd for the offers waiting for the user's answer. */
void porch_tray_sending_start(PorchTraySending *self);
/* Asks porchd now. */
void porch_tray_sending_refresh(PorchTraySending *self);
/* How many answers from porchd the tray has had, for waiting on one. */
guint porch_tray_sending_get_answers(PorchTraySending *self);

/* ---- receiving ---------------------------------------------------------------------------- */

/* The ids of the offers waiting for the user's answer, as porchd listed them last (a new
 * array of guint). */
GArray *porch_tray_sending_get_offers(PorchTraySending *self);
/* The dialog of offer @id (who, how much, the file names, Accept and Decline), as the
 * notification opens it; NULL when there is no such offer. Owned by GTK. */
GtkWindow *porch_tray_sending_show_offer(PorchTraySending *self, guint id);
/* Accepts or declines offer @id (the notification's and the dialog's buttons). An accepted one
 * becomes a transfer of the model once porchd took the answer. */
void porch_tray_sending_answer(PorchTraySending *self, guint id, gboolean accept);
/* The transfer of the model that receives offer @id; 0 while there is none. */
guint porch_tray_sending_get_receiving(PorchTraySending *self, guint id);
/* Whether the user has an inbox on porchd (from its last answer), and its folder (may be
 * NULL). */
gboolean porch_tray_sending_has_inbox(PorchTraySending *self);
/* Enables the user's inbox (the Downloads folder's Porch, every neighbour and guest asked
 * first) or disables it; the outcome is shown in a dialog when porchd refuses. */
void porch_tray_sending_set_inbox(PorchTraySending *self, gboolean enable);

/* ---- sending ------------------------------------------------------------------------------ */

/* Sends the local files (or folders: every file in them) @paths to the default inbox of the
 * Porch neighbour @host. Returns the transfer's id in the model; 0 when @host is not a Porch
 * neighbour (nothing is started). */
guint porch_tray_sending_send(PorchTraySending *self, const char *host, const char *const *paths);
/* The same for the URIs of a drop (text/uri-list): only local files are taken. 0 when none is
 * local or @host is not a Porch neighbour. */
guint porch_tray_sending_send_uris(PorchTraySending *self, const char *host,
                                   const char *const *uris);
/* "Send Files…": a file chooser (several files), then porch_tray_sending_send(). */
void porch_tray_sending_choose(PorchTraySending *self, const char *host);
/* The neighbour chooser for @paths (the neighbours whose TXT says inbox=1, as they come and
 * go), then porch_tray_sending_send(). Owned by GTK. */
GtkWindow *porch_tray_sending_pick(PorchTraySending *self, const char *const *paths);
/* The transfer a neighbour picked in that chooser started, 0 before. */
guint porch_tray_sending_get_picked(PorchTraySending *self);

G_END_DECLS
