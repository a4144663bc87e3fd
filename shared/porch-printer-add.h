/* porch-printer-add.h — making a printer seen on the network a queue of this machine's CUPS,
 * with lpadmin: what `porch printer add` and porch-tray's "Add to this computer" share.
 *
 * Two kinds of queue:
 *   a neighbour's Porch printer  device porch://HOST/PRINTER, served by Porch's backend, with
 *                                Porch's PPD (porch_printer_ppd_file())
 *   a driverless IPP printer     device ipp://HOST:PORT/RP (or ipps://), "-m everywhere":
 *                                lpadmin asks the printer itself over IPP for what it can do
 *
 * lpadmin talks to the CUPS of $CUPS_SERVER (else client.conf, else the local socket), like
 * every CUPS client. Its failures are G_IO_ERRORs whose message is lpadmin's own words:
 *   G_IO_ERROR_PERMISSION_DENIED  CUPS refused: adding a printer takes root or the lpadmin
 *                                 group
 *   G_IO_ERROR_NOT_SUPPORTED      CUPS has no backend for the device URI's scheme (for porch://:
 *                                 Porch's backend is not installed)
 *   G_IO_ERROR_FAILED             anything else (e.g. an IPP printer that did not answer)
 *   G_IO_ERROR_NOT_FOUND          lpadmin or the PPD file is not there
 * Library code: nothing here logs. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TRUE when CUPS takes @name as a queue name: 1..127 printable ASCII characters, none of space,
 * '/', '\\', '?', '\'', '"' or '#'. */
gboolean porch_printer_queue_name_is_valid(const char *name);

/* The default queue name "PRINTER@HOST" ("PRINTER" when @host is NULL), each character CUPS
 * refuses replaced by '_', cut to 127 bytes. Free with g_free(). */
char *porch_printer_default_queue_name(const char *printer, const char *host);

/* porch://HOST[:PORT]/PRINTER, HOST as given (a name, an address; an IPv6 address bracketed),
 * each part URI-escaped; @port 0 for none. Free with g_free(). */
char *porch_printer_porch_uri(const char *host, guint16 port, const char *printer);

/* The PPD of Porch queues: $PORCH_PPD when set, else the installed one. NULL with @error
 * (G_IO_ERROR_NOT_FOUND, naming the file) when it cannot be read. Free with g_free(). */
char *porch_printer_ppd_file(GError **error);

/* lpadmin's arguments for the queue @queue with device @device_uri and description
 * @description: "-P @ppd" when @ppd is given (a Porch queue: no error retries, not shared
 * again), else "-m everywhere" (driverless IPP). Enabled and accepting (-E). Free with
 * g_strfreev(). */
GStrv porch_printer_lpadmin_argv(const char *queue, const char *device_uri, const char *ppd,
                                 const char *description);

/* Runs @argv (from porch_printer_lpadmin_argv()) and waits for it. FALSE with @error as above. */
gboolean porch_printer_lpadmin_run(const char *const *argv, GCancellable *cancellable,
                                   GError **error);

/* The same without waiting: @callback is called in the thread-default main context of the
 * caller once lpadmin exited; porch_printer_lpadmin_run_finish() gives the outcome. Cancelling
 * @cancellable kills lpadmin. */
void porch_printer_lpadmin_run_async(const char *const *argv, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean porch_printer_lpadmin_run_finish(GAsyncResult *result, GError **error);

/* What a user can do about a failure of lpadmin (a static sentence), or NULL. */
const char *porch_printer_lpadmin_hint(const GError *error);

G_END_DECLS
