/* porch-index.h — the content index: what each shared file holds, by SHA-256.
 *
 * porchd keeps one SQLite database in its state folder. Per shared file it records the
 * share, the path inside it, the size, mtime, ctime, device and inode the hashes were taken
 * at, the SHA-256 of the whole file and the SHA-256 of each range of range_size bytes (the
 * ranges the porch client verifies a transfer by). A record is only ever used for a file
 * whose (size, mtime, ctime, device, inode) are still the recorded ones: anything else means
 * the file changed and the record is stale (porch_index_lookup() says so by returning NULL).
 *
 * A database that is not ours, of another schema version, or that fails SQLite's
 * quick_check is deleted and made again when it is opened for writing; opened read-only it
 * is refused. Nothing of it is trusted beyond that: every record read back is checked for
 * consistency (hash and range lengths) before it is returned.
 *
 * One PorchIndex is used from one thread at a time. Writers and readers in other processes
 * may use the same file at once (write-ahead log). */
#pragma once

#include <sys/stat.h>

#include <glib.h>

#include "porch-hash.h"

G_BEGIN_DECLS

#define PORCH_INDEX_ERROR (porch_index_error_quark())
GQuark porch_index_error_quark(void);

typedef enum {
    PORCH_INDEX_ERROR_FAILED,  /* SQLite said no (message says why) */
    PORCH_INDEX_ERROR_CORRUPT, /* the file is not a usable index (read-only open) */
    PORCH_INDEX_ERROR_INVALID, /* a record or a pattern the index refuses */
} PorchIndexError;

/* The range size the porch client verifies by (8 MiB). */
#define PORCH_INDEX_RANGE_SIZE (8u * 1024u * 1024u)
/* The longest search pattern, in bytes. */
#define PORCH_INDEX_MAX_PATTERN 256
/* The longest path inside a share that the index records, in bytes. */
#define PORCH_INDEX_MAX_PATH 4096

typedef struct _PorchIndex PorchIndex;

typedef struct {
    char *share;
    char *path; /* inside the share, '/'-separated, no leading '/' */
    guint64 size;
    gint64 mtime_ns;
    gint64 ctime_ns;
    guint64 dev;
    guint64 ino;
    guint8 sha256[PORCH_SHA256_LEN];
    guint32 range_size;
    guint n_ranges;    /* size == 0 ? 0 : ceil(size / range_size) */
    guint8 *ranges;    /* n_ranges * PORCH_SHA256_LEN bytes */
    gint64 indexed_at; /* seconds since the epoch */
} PorchIndexEntry;

void porch_index_entry_free(PorchIndexEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchIndexEntry, porch_index_entry_free)

/* Fills the stat part of @e from @st (size, mtime, ctime, device, inode). */
void porch_index_entry_set_stat(PorchIndexEntry *e, const struct stat *st);
/* Whether @st (size, mtime, ctime, device, inode) is still the file @e was hashed from. */
gboolean porch_index_entry_matches(const PorchIndexEntry *e, const struct stat *st);

/* Opens the index at @path. Writable: creates it if missing, and deletes and makes again a
 * file that is not a usable index of this version (*ret_rebuilt, if not NULL, says so).
 * Read-only: fails with PORCH_INDEX_ERROR_CORRUPT on such a file, and with G_FILE_ERROR_NOENT
 * when there is none. */
PorchIndex *porch_index_open(const char *path, gboolean writable, gboolean *ret_rebuilt,
                             GError **error);
void porch_index_close(PorchIndex *idx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchIndex, porch_index_close)

/* Records @e, replacing any record of the same share and path. Refuses (INVALID) a record
 * whose ranges do not match its size and range size, or whose path is empty, absolute,
 * longer than PORCH_INDEX_MAX_PATH or has a "." or ".." part. */
gboolean porch_index_put(PorchIndex *idx, const PorchIndexEntry *e, GError **error);

/* Forgets @path in @share, and everything beneath it when it is a folder. */
gboolean porch_index_remove(PorchIndex *idx, const char *share, const char *path, GError **error);

/* Forgets every record of @share. */
gboolean porch_index_forget_share(PorchIndex *idx, const char *share, GError **error);

/* Forgets the records of every share not in @keep (NULL-terminated). */
gboolean porch_index_keep_shares(PorchIndex *idx, const char *const *keep, GError **error);

/* The record of @share/@path if the file described by @st is still the one that was
 * hashed; NULL if there is none, it is stale, or it is inconsistent (then it is forgotten
 * when the index is writable). */
PorchIndexEntry *porch_index_lookup(PorchIndex *idx, const char *share, const char *path,
                                    const struct stat *st);

/* Every record of @share as (path -> stat fields) for a rescan: a GHashTable of path (char*)
 * to PorchIndexEntry* without hashes (ranges NULL). */
GHashTable *porch_index_list_share(PorchIndex *idx, const char *share, GError **error);

/* The same for the files directly in the folder @dir of @share ("" for its root). */
GHashTable *porch_index_list_folder(PorchIndex *idx, const char *share, const char *dir,
                                    GError **error);

/* The names of the folders directly in @dir ("" for the root) under which @share has
 * records, however deep: a set (GHashTable of char*). */
GHashTable *porch_index_subfolders(PorchIndex *idx, const char *share, const char *dir,
                                   GError **error);

/* The hashes a check-file request for (@start, @length, @block) on @e would answer, when
 * the record holds them: the whole file's (start 0, length 0 or the size, block 0); one range
 * (block 0, start on a range boundary, length one range or to the end of the file: what the
 * porch client asks); or whole ranges (block == range_size, start on a range boundary, length
 * a multiple of the range size or reaching the end of the file; 0 means to the end). Returns
 * a GBytes of 32-byte hashes, or NULL when the request needs hashing. */
GBytes *porch_index_check_file(const PorchIndexEntry *e, guint64 start, guint64 length,
                               guint32 block);

/* Decides whether a share/path may be shown to the one asking. */
typedef gboolean (*PorchIndexFilter)(const char *share, const char *path, gpointer user_data);

/* Files whose name (the last part of the path) matches @pattern, case-insensitively: a glob
 * when it has '*' or '?', else a part of the name. At most @limit, each allowed by @filter
 * (NULL: all). An empty pattern or one longer than PORCH_INDEX_MAX_PATTERN is INVALID.
 * Returns a GPtrArray of PorchIndexEntry (without ranges). */
GPtrArray *porch_index_search(PorchIndex *idx, const char *pattern, guint limit,
                              PorchIndexFilter filter, gpointer user_data, GError **error);

/* Files whose whole-file SHA-256 is @sha256, allowed by @filter, at most @limit; entries
 * with their ranges. */
GPtrArray *porch_index_find_sha256(PorchIndex *idx, const guint8 *sha256, guint limit,
                                   PorchIndexFilter filter, gpointer user_data, GError **error);

typedef struct {
    guint64 files;    /* records */
    guint64 bytes;    /* the sum of their sizes */
    guint64 db_bytes; /* the database's own size */
} PorchIndexStats;

gboolean porch_index_stats(PorchIndex *idx, PorchIndexStats *ret, GError **error);

/* Gives back the pages SQLite keeps cached for this connection (up to its cache size, 2 MiB,
 * and as much as the database for a smaller one), for a long-lived connection that has gone
 * quiet. Returns the bytes freed, by SQLite's count for the whole process (exact where this is
 * the one connection). The next query reads its pages again. */
gsize porch_index_release_memory(PorchIndex *idx);

/* Groups writes: between begin and commit, puts and removes are one transaction (much
 * faster for many records). */
gboolean porch_index_begin(PorchIndex *idx, GError **error);
gboolean porch_index_commit(PorchIndex *idx, GError **error);

G_END_DECLS
