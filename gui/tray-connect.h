/* tray-connect.h — contacting a neighbour from a worker thread: our key and the pinned keys as
 * the model's settings say, the first-contact question asked on the main thread (the model's
 * trust policy, else a dialog), and what a contact's outcome does to the model (an unreachable
 * neighbour is marked so; a changed key is refused with a blocking warning). */
#pragma once

#include "porch-neighbours.h"
#include "porch-sftp-client.h"
#include "tray-model.h"

G_BEGIN_DECLS

/* Connect options for a worker thread, made on the main thread from @model's settings (copies,
 * and the trust hook that asks on the main thread). Free with porch_tray_connect_free(), on
 * any thread. */
typedef struct _PorchTrayConnect PorchTrayConnect;
PorchTrayConnect *porch_tray_connect_new(PorchTrayModel *model);
/* The same for asking several neighbours at once (a search, the other sources of a fetch):
 * only neighbours whose keys are pinned are contacted; nobody is asked to trust one. */
PorchTrayConnect *porch_tray_connect_new_pinned(PorchTrayModel *model);
void porch_tray_connect_free(PorchTrayConnect *c);
/* In a worker thread: connects to @n; NULL with @error. */
PorchClient *porch_tray_connect_run(PorchTrayConnect *c, const PorchNeighbour *n,
                                    GCancellable *cancellable, GError **error);
/* The same for one print command (porch-print-client.h): no SFTP. */
PorchClient *porch_tray_connect_run_print(PorchTrayConnect *c, const PorchNeighbour *n,
                                          GCancellable *cancellable, GError **error);
/* A PorchSearchConnectFunc (porch-search.h) with @c, a PorchTrayConnect, as its data. */
PorchClient *porch_tray_connect_search(const PorchNeighbour *n, gboolean for_print, gpointer c,
                                       GCancellable *cancellable, GError **error);

/* In a worker thread: connects to @address at @port and asks who it is
 * (porch_neighbours_check(), as `porch neighbours add`). With @ask, a key not pinned yet is
 * asked about as for any first contact; without (a poll), it is refused. NULL with @error. */
PorchRemembered *porch_tray_connect_check(PorchTrayConnect *c, const char *address, guint16 port,
                                          gboolean ask, GCancellable *cancellable, GError **error);

/* On the main thread, after a contact failed: marks @host unreachable when @error says it
 * could not be reached, and shows a blocking warning when its key changed. */
void porch_tray_contact_failed(PorchTrayModel *model, const char *host, const GError *error);
/* On the main thread, after a contact succeeded. */
void porch_tray_contact_ok(PorchTrayModel *model, const char *host);

G_END_DECLS
