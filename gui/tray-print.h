/* tray-print.h — PorchTrayPrinting: "Print a file…" on a neighbour's Porch printer and "Add to
 * this computer" for a Porch printer or an IPP printer nearby, each an operation of the model
 * (porch_tray_model_print_get()) that runs without blocking the main loop: the print in a GTask
 * worker with a connection of its own, lpadmin as an asynchronous GSubprocess. When one ends, a
 * desktop notification says so (when there is a session bus), and a failure is also shown in a
 * dialog titled "Porch — printing failed" (or "Porch — adding the printer failed") with the
 * reason: porchd's or CUPS's own words, lpadmin's stderr. Its dialogs (the file chooser, the
 * failures) go when it is disposed. */
#pragma once

#include "tray-model.h"

G_BEGIN_DECLS

#define PORCH_TYPE_TRAY_PRINTING (porch_tray_printing_get_type())
G_DECLARE_FINAL_TYPE(PorchTrayPrinting, porch_tray_printing, PORCH, TRAY_PRINTING, GObject)

PorchTrayPrinting *porch_tray_printing_new(PorchTrayModel *model);

/* A file chooser, then porch_tray_printing_print_file() with the chosen file. */
void porch_tray_printing_choose(PorchTrayPrinting *self, const char *host, const char *printer);
/* Prints the local file @path on printer @printer of the Porch neighbour @host (as
 * `porch print`: one copy, titled after the file). Returns the operation's id; 0 when @host is
 * not a Porch neighbour in the model (nothing is started). */
guint porch_tray_printing_print_file(PorchTrayPrinting *self, const char *host, const char *printer,
                                     const char *path);
/* The CUPS queue PRINTER@NAME for printer @printer of the Porch neighbour @host, as
 * `porch printer add NAME/PRINTER` makes it; 0 when @host is not a Porch neighbour. */
guint porch_tray_printing_add_porch(PorchTrayPrinting *self, const char *host, const char *printer);
/* A driverless queue (lpadmin -m everywhere) for the IPP printer @service of the device @host;
 * 0 when there is no such service. */
guint porch_tray_printing_add_ipp(PorchTrayPrinting *self, const char *host, const char *service);

/* The device URI an IPP service's queue gets: ipp[s]://ADDRESS:PORT/RP (its first IPv4
 * address, else IPv6, else its host name; RP from TXT rp=); NULL when @s is not an
 * _ipp._tcp/_ipps._tcp service. Free with g_free(). */
char *porch_tray_ipp_device_uri(const PorchNeighbour *n, const PorchNeighbourService *s);

G_END_DECLS
