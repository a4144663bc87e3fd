/* indexer.h — keeps the content index (shared/porch-index.h) of every share current.
 *
 * The network side owns the database (STATE/index.sqlite) and writes it from one thread of
 * its own, so that the main loop never waits for the disk or for a hash. It never reads a
 * shared file: each share has an indexer, porchd-worker --index, started like the share's
 * file worker (by the launcher, as the share's owner), which lists folders, hashes files (the
 * SHA-256 of the whole file and of each PORCH_INDEX_RANGE_SIZE range) and watches the share
 * with inotify, at idle CPU and I/O priority, read-only, in its own sandbox.
 *
 * A share is scanned in full when it is first seen (or its folder or owner changed): each
 * file whose (size, mtime, ctime, device, inode) differ from its record, or that has none, is
 * hashed; records of files gone are forgotten. After that only the folders inotify reports
 * are scanned again, within about a second; when changes were lost (a full inotify queue, a
 * folder moved, too many folders) the share is scanned in full again. A file changed in the
 * last two seconds is left for a later pass: its times could still change without showing
 * it. Sessions read the database themselves (read-only) and use a record only while the file
 * they opened has the recorded stat. */
#pragma once

#include <glib.h>

#include "porch-config.h"
#include "workers.h"

G_BEGIN_DECLS

typedef struct _PorchIndexer PorchIndexer;

/* The database's name in the state folder. */
#define PORCH_INDEX_FILE "index.sqlite"

/* Opens (or makes, or rebuilds) STATE/index.sqlite and starts the indexing thread. NULL with
 * @error when the database cannot be had at all. */
PorchIndexer *porch_indexer_new(const char *state_dir, PorchWorkers *workers, GError **error);
/* Stops the thread (an unfinished scan is left for the next start) and frees @indexer. */
void porch_indexer_free(PorchIndexer *indexer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchIndexer, porch_indexer_free)

/* The shares to index: called at start and after each reload or share going offline or
 * online (main thread). New shares, and shares whose folder or owner changed, get an
 * indexer; the records of shares no longer configured are forgotten. */
void porch_indexer_apply(PorchIndexer *indexer, PorchConfig *config);

/* Whether a share's indexer went away (it crashed, or was killed) and its back-off is over:
 * the caller then calls porch_indexer_apply() with the configuration in force, which starts
 * it again. The back-off doubles from 2 s to 5 min while it keeps going away (main thread). */
gboolean porch_indexer_restart_due(PorchIndexer *indexer);

typedef struct {
    guint64 files;        /* records in the database */
    guint64 bytes;        /* the sum of their sizes */
    guint64 db_bytes;     /* the database's size */
    guint64 hashed_bytes; /* hashed since porchd started */
    double hash_seconds;  /* the time spent hashing them */
    guint shares;         /* shares with an indexer */
    guint scanning;       /* of which: not fully scanned yet, or with changes waiting */
} PorchIndexerStatus;

/* A consistent copy of the figures (any thread). */
void porch_indexer_get_status(PorchIndexer *indexer, PorchIndexerStatus *ret);

G_END_DECLS
