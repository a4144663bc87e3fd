/* tray-transfers.h — fetching a file or folder of a neighbour: each transfer in a GTask worker
 * thread with a connection of its own, verified and resumable as `porch get`; its
 * row and progress are the model's, and a desktop notification says when it ended. */
#pragma once

#include "tray-model.h"

G_BEGIN_DECLS

/* At most this many sources for one large file, the origin among them (as `porch get`). */
#define PORCH_TRAY_MAX_SOURCES 4

/* Starts fetching @remote ("/Share/path", a file or a folder) of @n into @dest_dir (NULL: the
 * XDG Downloads folder), NAME.part until verified. A file of PORCH_MULTIGET_THRESHOLD bytes or
 * more comes from every pinned Porch neighbour that holds the same SHA-256 too (at most
 * PORCH_TRAY_MAX_SOURCES in all); its progress says from how many sources. Returns the transfer's
 * id in @model (> 0); cancel it with porch_tray_model_transfer_cancel(). */
guint porch_tray_transfer_start(PorchTrayModel *model, PorchNeighbour *n, const char *remote,
                                const char *dest_dir);
/* The folder fetches go to by default: the XDG Downloads folder, else ~/Downloads. */
char *porch_tray_default_download_dir(void);

G_END_DECLS
