/* tray-private.h — the PorchTray structure, shared by the files of porch_tray_core. */
#pragma once

#include "porch-tray-internal.h"

typedef struct _PorchTrayWindow PorchTrayWindow;
typedef struct _PorchTrayIcon PorchTrayIcon;
typedef struct _PorchTrayPrint PorchTrayPrint;

struct _PorchTray {
    GtkApplication *app;   /* borrowed */
    GMainContext *context; /* the main thread's, where workers report */
    PorchBrowser *browser;
    GtkListStore *neighbours;
    GtkListStore *transfers;
    GHashTable *jobs; /* transfer id -> TransferJob (tray-transfers.c), running ones */
    guint next_id;
    PorchTrayTrustPolicy trust_policy;
    gpointer trust_data;
    char *identity_file; /* NULL: the default */
    char *known_peers;   /* NULL: the default */
    int connect_timeout; /* seconds; 0: the client library's default */
    char *browse_error;  /* why the neighbours cannot be seen, or NULL */
    PorchTrayWindow *window;
    PorchTrayIcon *icon;
    PorchTrayPrint *print; /* tray-print.c: printing and adding printers; NULL until used */
    PorchTrayChangedFunc changed;
    gpointer changed_data;
    GPtrArray *asks;  /* TrustAsk: first-contact questions waiting for an answer */
    guint pending;    /* worker tasks whose completion has not run yet */
    gboolean closing; /* porch_tray_free() is under way */
};

/* Runs @func(@data) in the main thread's context, from any thread, always later (never at
 * once in the calling thread, as g_main_context_invoke() would when no one holds the
 * context); @notify frees @data afterwards. */
void porch_tray_run_on_main(GMainContext *context, GSourceFunc func, gpointer data,
                            GDestroyNotify notify);

/* tray-window.c: frees the window state (the window is destroyed). */
void porch_tray_window_destroy(PorchTray *tray);
/* tray-window.c: the window's state says avahi-daemon cannot be reached, or can again. */
void porch_tray_window_browse_state(PorchTray *tray);
/* tray-transfers.c: frees what is left of the transfers (after cancelling them all). */
void porch_tray_transfers_dispose(PorchTray *tray);
/* tray-print.c: cancels what runs (a print, lpadmin), then frees what is left. */
void porch_tray_print_cancel_all(PorchTray *tray);
void porch_tray_print_dispose(PorchTray *tray);
