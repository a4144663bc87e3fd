/* tray-model.h — PorchTrayModel, the state of porch-tray: the neighbours seen, the transfers
 * and their progress, the print operations, why the neighbours cannot be seen, the settings of
 * a contact, and the worker tasks under way. It is the bottom of porch_tray_core: it calls no
 * other part of it. The window and the icon observe it (its signals and property
 * notifications); the transfers and the printing act on it (its methods).
 *
 * Everything here runs on the main thread (the thread whose default main context was current
 * when the model was made), except porch_tray_post(). */
#pragma once

#include <gtk/gtk.h>

#include "porch-browse.h"

G_BEGIN_DECLS

/* Columns of the neighbour model (a GtkListStore, one row per host, sorted by name). */
enum {
    PORCH_TRAY_NCOL_NAME,        /* gchararray: display name */
    PORCH_TRAY_NCOL_ADDRESS,     /* gchararray: first address, or the host name */
    PORCH_TRAY_NCOL_ICON,        /* gchararray: icon name (computer, printer, offline) */
    PORCH_TRAY_NCOL_SHARES,      /* guint: number of shares */
    PORCH_TRAY_NCOL_HOST,        /* gchararray: host name, the row's key */
    PORCH_TRAY_NCOL_NEIGHBOUR,   /* PorchNeighbour (boxed): latest snapshot */
    PORCH_TRAY_NCOL_IS_PORCH,    /* gboolean: runs Porch */
    PORCH_TRAY_NCOL_UNREACHABLE, /* gboolean: a contact failed since it was last seen */
    PORCH_TRAY_NCOL_DETAIL,      /* gchararray: "2 shares, 1 printer" or "unreachable" */
    PORCH_TRAY_NCOL_KEY_CHANGED, /* gchararray: why its key was refused (NULL: it was not) */
    PORCH_TRAY_NCOL_COUNT
};

/* Columns of the transfers model (a GtkListStore, newest last). */
enum {
    PORCH_TRAY_TCOL_ID,      /* guint */
    PORCH_TRAY_TCOL_NAME,    /* gchararray: what is fetched ("Photos/x.jpg on Alice") */
    PORCH_TRAY_TCOL_DEST,    /* gchararray: the local path it goes to */
    PORCH_TRAY_TCOL_PERCENT, /* gint: 0..100 */
    PORCH_TRAY_TCOL_RATE,    /* gchararray: "12.3 MB/s" */
    PORCH_TRAY_TCOL_ETA,     /* gchararray: "0:42 left" */
    PORCH_TRAY_TCOL_STATUS,  /* gchararray: what a user reads */
    PORCH_TRAY_TCOL_STATE,   /* gint: PorchTrayTransferState */
    PORCH_TRAY_TCOL_DONE,    /* guint64: bytes done */
    PORCH_TRAY_TCOL_TOTAL,   /* guint64: bytes in all */
    PORCH_TRAY_TCOL_COUNT
};

typedef enum {
    PORCH_TRAY_TRANSFER_RUNNING,
    PORCH_TRAY_TRANSFER_DONE,
    PORCH_TRAY_TRANSFER_FAILED,
    PORCH_TRAY_TRANSFER_CANCELLED,
} PorchTrayTransferState;

/* The state of a print operation: printing a file, or adding a printer to this computer. */
typedef enum {
    PORCH_TRAY_PRINT_RUNNING,
    PORCH_TRAY_PRINT_DONE,
    PORCH_TRAY_PRINT_FAILED,
} PorchTrayPrintState;

/* Asked on the main thread on first contact with a neighbour whose key is not pinned yet;
 * return TRUE to trust and pin it. */
typedef gboolean (*PorchTrayTrustPolicy)(const char *pin_name, const char *fingerprint,
                                         gboolean advertised, gpointer user_data);

#define PORCH_TYPE_TRAY_MODEL (porch_tray_model_get_type())
G_DECLARE_FINAL_TYPE(PorchTrayModel, porch_tray_model, PORCH, TRAY_MODEL, GObject)

/* A new model, empty, of @app (may be NULL; borrowed: the application outlives the tray).
 *
 * Signals:
 *   "neighbour-changed" (const char *host): the row of @host was added, changed (a new
 *       snapshot, or marked unreachable or reachable again) or removed.
 * Properties (each notified when it changes):
 *   "browse-error" (string, NULL when the neighbours can be seen), "transfers-running" (uint),
 *   "workers" (uint), "closing" (boolean), "identity-file", "known-peers" (strings, NULL: the
 *   defaults), "connect-timeout" (int, seconds; 0: the client library's default). */
PorchTrayModel *porch_tray_model_new(GtkApplication *app);

GtkApplication *porch_tray_model_get_application(PorchTrayModel *self);
/* The window dialogs go over: the application's active window, or NULL. */
GtkWindow *porch_tray_model_get_dialog_parent(PorchTrayModel *self);
/* The main thread's context, where worker threads report (porch_tray_post()). */
GMainContext *porch_tray_model_get_context(PorchTrayModel *self);

/* From any thread: runs @func(@data) in @context later, at default priority (never at once
 * in the calling thread, as g_main_context_invoke() does when no thread holds @context: the
 * tests iterate the main context themselves, so between two iterations nobody holds it);
 * @notify frees @data afterwards. */
void porch_tray_post(GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify);

/* ---- the neighbours ---------------------------------------------------------------------- */

/* The neighbour model (owned by the model; see PORCH_TRAY_NCOL_*). */
GtkListStore *porch_tray_model_get_neighbours(PorchTrayModel *self);
/* A neighbour was seen or changed (@n: its latest snapshot), or went away. */
void porch_tray_model_neighbour_seen(PorchTrayModel *self, PorchNeighbour *n);
void porch_tray_model_neighbour_gone(PorchTrayModel *self, PorchNeighbour *n);
/* The latest snapshot of the neighbour with host name @host, or NULL (a new reference). */
PorchNeighbour *porch_tray_model_find_neighbour(PorchTrayModel *self, const char *host);
/* Whether a contact with @host failed since it was last seen. */
gboolean porch_tray_model_is_unreachable(PorchTrayModel *self, const char *host);
/* A contact with @host could not reach it (@why: the error's message). */
void porch_tray_model_set_unreachable(PorchTrayModel *self, const char *host, const char *why);
/* A contact with @host succeeded: a row marked unreachable shows its snapshot again. */
void porch_tray_model_set_reachable(PorchTrayModel *self, const char *host);
/* A contact with @host was refused because its key is not the pinned one (@why: the error's
 * message, which says what to do). The mark stays until the neighbour is seen again with a
 * new snapshot or a contact succeeds. */
void porch_tray_model_set_key_changed(PorchTrayModel *self, const char *host, const char *why);
/* Why @host's key was refused (a new string), or NULL when it was not. */
char *porch_tray_model_get_key_changed(PorchTrayModel *self, const char *host);

/* Why the neighbours cannot be seen (NULL: they can). */
const char *porch_tray_model_get_browse_error(PorchTrayModel *self);
void porch_tray_model_set_browse_error(PorchTrayModel *self, const char *error);

/* ---- the settings of a contact ----------------------------------------------------------- */

const char *porch_tray_model_get_identity_file(PorchTrayModel *self);
const char *porch_tray_model_get_known_peers(PorchTrayModel *self);
void porch_tray_model_set_files(PorchTrayModel *self, const char *identity_file,
                                const char *known_peers);
int porch_tray_model_get_connect_timeout(PorchTrayModel *self);
void porch_tray_model_set_connect_timeout(PorchTrayModel *self, int seconds);
/* How first contacts are answered; NULL: a dialog asks the user. */
void porch_tray_model_set_trust_policy(PorchTrayModel *self, PorchTrayTrustPolicy policy,
                                       gpointer data);
PorchTrayTrustPolicy porch_tray_model_get_trust_policy(PorchTrayModel *self, gpointer *ret_data);

/* ---- the transfers ----------------------------------------------------------------------- */

/* The transfers model (owned by the model; see PORCH_TRAY_TCOL_*). */
GtkListStore *porch_tray_model_get_transfers(PorchTrayModel *self);
/* A new running transfer of @title into @dest, "Connecting…", cancelled through
 * @cancellable; returns its id (> 0). */
guint porch_tray_model_transfer_add(PorchTrayModel *self, const char *title, const char *dest,
                                    GCancellable *cancellable);
/* Whether transfer @id runs. */
gboolean porch_tray_model_transfer_is_running(PorchTrayModel *self, guint id);
/* The progress of running transfer @id; @rate and @eta may be "". */
void porch_tray_model_transfer_progress(PorchTrayModel *self, guint id, int percent,
                                        const char *rate, const char *eta, const char *status,
                                        guint64 done, guint64 total);
/* Transfer @id ended in @state (not RUNNING), @status says how. */
void porch_tray_model_transfer_finish(PorchTrayModel *self, guint id, PorchTrayTransferState state,
                                      const char *status);
/* Cancels running transfer @id (nothing when it does not run). */
void porch_tray_model_transfer_cancel(PorchTrayModel *self, guint id);
/* As porch_tray_transfer_get() (porch-tray-internal.h). */
gboolean porch_tray_model_transfer_get(PorchTrayModel *self, guint id,
                                       PorchTrayTransferState *ret_state, char **ret_dest,
                                       char **ret_status, guint64 *ret_done);
guint porch_tray_model_get_transfers_running(PorchTrayModel *self);

/* ---- the print operations ---------------------------------------------------------------- */

/* A new running print operation (@queue: the queue an added printer gets, or NULL), cancelled
 * through @cancellable (may be NULL); returns its id (> 0). Operations are kept, numbered from
 * 1, for the model's life. */
guint porch_tray_model_print_add(PorchTrayModel *self, const char *queue,
                                 GCancellable *cancellable);
/* Operation @id ended in @state, @message says how. */
void porch_tray_model_print_finish(PorchTrayModel *self, guint id, PorchTrayPrintState state,
                                   const char *message);
/* As porch_tray_print_get() (porch-tray-internal.h). */
gboolean porch_tray_model_print_get(PorchTrayModel *self, guint id, PorchTrayPrintState *ret_state,
                                    char **ret_message, char **ret_queue);

/* ---- worker tasks, and the end ----------------------------------------------------------- */

/* Every task that reports to the main thread (a GTask worker thread, an asynchronous lpadmin)
 * is counted: porch_tray_model_worker_start() when it starts, porch_tray_model_worker_done()
 * as the last thing its completion does (on the main thread): the model may end with it, when
 * porch_tray_model_wait_workers() gave up waiting for it. */
void porch_tray_model_worker_start(PorchTrayModel *self);
void porch_tray_model_worker_done(PorchTrayModel *self);
guint porch_tray_model_get_workers(PorchTrayModel *self);

/* The tray is closing: cancels every running transfer and print operation, and says so
 * ("closing" turns TRUE: pending first-contact questions are answered "no"). */
void porch_tray_model_close(PorchTrayModel *self);
gboolean porch_tray_model_is_closing(PorchTrayModel *self);
/* Runs the model's main context until the last worker has completed ("workers" notified as
 * 0), at most @timeout_seconds. TRUE when none is left. When some are, the model keeps a
 * reference of its own until they are done, for their completions to find it. */
gboolean porch_tray_model_wait_workers(PorchTrayModel *self, guint timeout_seconds);

G_END_DECLS
