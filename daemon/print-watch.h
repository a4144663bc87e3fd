/* print-watch.h — porchd's eye on the CUPS queues of its printers.
 *
 * Every PORCH_PRINT_WATCH_SECONDS, and at once after each porch_print_watch_apply(), the queue
 * of every [printer] is asked for its description and state (Get-Printer-Attributes, about a
 * millisecond each on CUPS's socket) in a worker thread, so that a CUPS that hangs never holds
 * up porchd's main loop. What comes back goes to the publisher: a printer whose queue
 * answers is advertised with its state (TXT updated when it changes); one whose queue is
 * missing, or every printer while CUPS is not reachable, is withdrawn until that changes.
 * Each such change is logged once, as a warning when a printer becomes unavailable; files
 * are served all the while.
 */
#pragma once

#include <glib.h>

#include "porch-config.h"
#include "porch-publish.h"

G_BEGIN_DECLS

#define PORCH_PRINT_WATCH_SECONDS 5
/* How long one round waits for CUPS to accept and to answer each request. */
#define PORCH_PRINT_WATCH_TIMEOUT_MS 3000

typedef struct _PorchPrintWatch PorchPrintWatch;

/* Returns a watch that tells @publisher (a reference is kept) about the printers; it polls
 * nothing before porch_print_watch_apply(). Runs on the thread-default main context. */
PorchPrintWatch *porch_print_watch_new(PorchPublisher *publisher);

/* Watches the printers of @config from now on (a reference is kept) and polls at once. A
 * configuration without printers polls nothing and does not contact CUPS. */
void porch_print_watch_apply(PorchPrintWatch *watch, PorchConfig *config);

/* Stops watching and frees @watch; a round still running in its thread is left to end on
 * its own and its results are dropped. NULL is ignored. */
void porch_print_watch_free(PorchPrintWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchPrintWatch, porch_print_watch_free)

G_END_DECLS
