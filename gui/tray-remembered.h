/* tray-remembered.h — PorchTrayRemembered: the neighbours remembered by address, in the tray.
 *
 * mDNS cannot show a neighbour on another subnet, or on a network that drops multicast. Those
 * the user remembered by address — with "Connect to address…" here, or `porch neighbours add`:
 * the same file, $XDG_CONFIG_HOME/porch/neighbours (porch-neighbours.h) — are put in the
 * model's neighbour list like those seen over mDNS, under their display name, with their
 * shares and printers (the row's host is the address), unless mDNS shows them too (the same
 * host key or display name: porch_remembered_is_seen_as()), and survive restarts.
 *
 * Each is polled over unicast every PORCH_TRAY_REMEMBERED_POLL_SECONDS: a connection of its own
 * (its key checked against the pin made when it was remembered; a key not pinned is refused,
 * never asked about in a poll) runs its porchd's "status" command (porch_neighbours_check()),
 * in a GTask worker thread. An answer refreshes the row (and the file, when it says something
 * new); no answer marks the row unreachable, a changed key marks it so. The file is read again
 * at each round: neighbours added or removed with the porch command come and go.
 *
 * "Connect to address…" is a dialog: ADDRESS[:PORT], checked as `porch neighbours add` checks
 * it (porch_neighbours_check(), in a worker thread; a first contact is asked about as for any
 * neighbour), then the verdict — its name, host key and shares, or why not — and, when it
 * answered, remembered.
 *
 * It observes the model (neighbour-changed, closing) and acts on it and through tray-connect.h.
 * Everything here runs on the main thread. */
#pragma once

#include "tray-model.h"

G_BEGIN_DECLS

#define PORCH_TRAY_REMEMBERED_POLL_SECONDS 60

#define PORCH_TYPE_TRAY_REMEMBERED (porch_tray_remembered_get_type())
G_DECLARE_FINAL_TYPE(PorchTrayRemembered, porch_tray_remembered, PORCH, TRAY_REMEMBERED, GObject)

/* Signals:
 *   "connected" (const char *host): "Connect to address…" remembered a neighbour; @host is its
 *       row's (the window selects it).
 * Properties: "polls" (uint, notified): how many polls have been answered or failed. */
PorchTrayRemembered *porch_tray_remembered_new(PorchTrayModel *model);

/* Reads the file, puts its neighbours in the model, and polls them now and then every
 * PORCH_TRAY_REMEMBERED_POLL_SECONDS (or the interval set below). */
void porch_tray_remembered_start(PorchTrayRemembered *self);
/* Polls every @seconds from now on (> 0). */
void porch_tray_remembered_set_poll_interval(PorchTrayRemembered *self, guint seconds);
guint porch_tray_remembered_get_polls(PorchTrayRemembered *self);

/* Shows (making it if need be) the "Connect to address" dialog over @parent (may be NULL);
 * returns it (owned by GTK). */
GtkWindow *porch_tray_remembered_show_connect(PorchTrayRemembered *self, GtkWindow *parent);

G_END_DECLS
