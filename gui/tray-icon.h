/* tray-icon.h — PorchTrayIcon: the status icon (a StatusNotifierItem through Ayatana
 * AppIndicator). Its menu lists the model's neighbours, each with its shares and printers,
 * then "Connect to Address…", "Open Porch" and "Quit"; its icon changes while a transfer runs.
 * It observes the model (the signal neighbour-changed, the notification of transfers-running)
 * and acts through the window (tray-window.h) and the printing (tray-print.h). Everything here
 * runs on the main thread. */
#pragma once

#include "tray-model.h"
#include "tray-print.h"
#include "tray-window.h"

G_BEGIN_DECLS

typedef struct _PorchTrayIcon PorchTrayIcon;

/* Called once it is known whether the icon is up (@shown). */
typedef void (*PorchTrayIconFunc)(gboolean shown, gpointer data);

/* An icon for @model, not up yet (it keeps references to the three). */
PorchTrayIcon *porch_tray_icon_new(PorchTrayModel *model, PorchTrayWindow *window,
                                   PorchTrayPrinting *printing);
/* Asks the session bus whether a StatusNotifierItem host is there (asynchronously); when it
 * is, puts the icon up; then calls @done (may be NULL). With @present, porch-tray's start: the
 * application is held while the question is open, then, when the icon is up, for as long as
 * the program runs; the window opens when there is no icon or @open_window. Once only. */
void porch_tray_icon_start(PorchTrayIcon *icon, gboolean present, gboolean open_window,
                           PorchTrayIconFunc done, gpointer data);
/* Takes the icon down and frees it (a pending bus call's completion does, later; @done is not
 * called then). */
void porch_tray_icon_stop(PorchTrayIcon *icon);

/* The menu as the tray host shows it (owned by the indicator; replaced when the neighbours or
 * the transfers change) and the icon's name; NULL while the icon is not up. */
GtkMenu *porch_tray_icon_get_menu(PorchTrayIcon *icon);
const char *porch_tray_icon_get_icon_name(PorchTrayIcon *icon);

G_END_DECLS
