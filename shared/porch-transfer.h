/* porch-transfer.h — fetching (get) and uploading (put) files and trees on a connection of
 * porch-sftp-client.h: every byte checked against the SHA-256 the server computes (the
 * "check-file" extension), many requests and many files in flight.
 *
 * A transfer uses its PorchClient alone until it returns, in the calling thread. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "porch-sftp-client.h"

G_BEGIN_DECLS

typedef enum {
    PORCH_TRANSFER_RECURSIVE = 1 << 0, /* folders and everything beneath */
    PORCH_TRANSFER_RESUME = 1 << 1,    /* get: continue from a matching NAME.part */
    PORCH_TRANSFER_FORCE = 1 << 2,     /* replace existing files */
} PorchTransferFlags;

typedef struct {
    guint64 total_bytes; /* grows while a tree is being listed */
    guint64 done_bytes;
    guint total_files;
    guint done_files;
    guint failed_files;
    gboolean listing_done; /* totals are final */
    /* the file that advanced last (remote path for get, local for put); NULL before the first
     * file starts. Valid during the callback only. */
    const char *current;
    guint64 current_size;
    guint64 current_done;
} PorchProgress;

typedef struct {
    /* called often (at most every 50 ms, and when a file ends) */
    void (*progress)(const PorchProgress *progress, gpointer user_data);
    /* one file or folder failed; the transfer goes on with the others */
    void (*failed)(const char *path, const GError *error, gpointer user_data);
    /* something was skipped or noticed, e.g. a symlink in a tree, a .part discarded */
    void (*notice)(const char *path, const char *message, gpointer user_data);
    /* a file arrived verified under its final name (get: @local; put: @remote), or was found
     * already here and identical: @size bytes. May be NULL. */
    void (*done)(const char *remote, const char *local, guint64 size, gpointer user_data);
    gpointer user_data;
} PorchTransferCallbacks;

/* Fetches @remote (a file, or with PORCH_TRANSFER_RECURSIVE a folder) to @local: into
 * @local when that is an existing folder, else as @local. Each file is written to
 * NAME.part and renamed only when the server's SHA-256 of it matched what was received;
 * modification times are kept, and modes as the process's umask lets them, a file always
 * writable by its owner (u+w) and a folder always u+rwx. A file whose size, with the files in
 * flight, exceeds the free space of the destination's file system fails before it starts
 * (G_IO_ERROR_NO_SPACE); so do a size no file can have (above G_MAXINT64), a name longer than
 * NAME_MAX or holding '/', and folders deeper than PORCH_GET_MAX_DEPTH (PORCH_CLIENT_ERROR_LIMIT
 * or G_IO_ERROR_INVALID_FILENAME), each a failure of its own path.
 * TRUE only when every file arrived. Every failure of a path (the top one included) is
 * told to @callbacks->failed, and then the result is FALSE with PORCH_CLIENT_ERROR_FILES_FAILED
 * ("N of M files failed"); a failure of the whole transfer (connection lost, cancelled:
 * G_IO_ERROR_CANCELLED, NAME.part files are kept for a resume) is only in @error. */
gboolean porch_transfer_get(PorchClient *client, const char *remote, const char *local,
                            PorchTransferFlags flags, const PorchTransferCallbacks *callbacks,
                            GCancellable *cancellable, GError **error);

/* Uploads @local (a file, or a folder with PORCH_TRANSFER_RECURSIVE) to @remote: into it when
 * it is an existing folder, else as it. Each file goes to a temporary name in its folder
 * (PORCH_WIRE_PUT_TEMP_PREFIX, porch-wire.h) and is renamed over the target only when the
 * server's SHA-256 of it matched what was sent. A new file or folder gets the local one's
 * permissions, always writable by its owner (u+w; a folder u+rwx); a file that
 * PORCH_TRANSFER_FORCE replaces keeps the mode it had. */
gboolean porch_transfer_put(PorchClient *client, const char *local, const char *remote,
                            PorchTransferFlags flags, const PorchTransferCallbacks *callbacks,
                            GCancellable *cancellable, GError **error);

G_END_DECLS
