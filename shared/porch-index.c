/* porch-index.c — the content index in SQLite (see porch-index.h). */
#include "porch-index.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

/* Bump when the schema changes: an index of another version is made again from nothing. */
#define SCHEMA_VERSION 1
/* Written in the database's header, so that a file that merely happens to be SQLite is
 * not taken for an index. */
#define APPLICATION_ID 0x50524348 /* "PRCH" */

struct _PorchIndex {
    sqlite3 *db;
    gboolean writable;
    char *path;
};

G_DEFINE_QUARK(porch - index - error - quark, porch_index_error)

static const char schema[] = "CREATE TABLE files("
                             " share TEXT NOT NULL,"
                             " path TEXT NOT NULL,"
                             " dir TEXT NOT NULL,"
                             " name TEXT NOT NULL,"
                             " size INTEGER NOT NULL,"
                             " mtime_ns INTEGER NOT NULL,"
                             " ctime_ns INTEGER NOT NULL,"
                             " dev INTEGER NOT NULL,"
                             " ino INTEGER NOT NULL,"
                             " sha256 BLOB NOT NULL,"
                             " range_size INTEGER NOT NULL,"
                             " ranges BLOB NOT NULL,"
                             " indexed_at INTEGER NOT NULL,"
                             " PRIMARY KEY(share, path)) WITHOUT ROWID;"
                             "CREATE INDEX files_sha256 ON files(sha256);"
                             "CREATE INDEX files_dir ON files(share, dir);";

void
porch_index_entry_free(PorchIndexEntry *e)
{
    if (e == NULL)
        return;
    g_free(e->share);
    g_free(e->path);
    g_free(e->ranges);
    g_free(e);
}

void
porch_index_entry_set_stat(PorchIndexEntry *e, const struct stat *st)
{
    e->size = (guint64)st->st_size;
    e->mtime_ns = (gint64)st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_mtim.tv_nsec;
    e->ctime_ns = (gint64)st->st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_ctim.tv_nsec;
    e->dev = (guint64)st->st_dev;
    e->ino = (guint64)st->st_ino;
}

gboolean
porch_index_entry_matches(const PorchIndexEntry *e, const struct stat *st)
{
    PorchIndexEntry now = {0};

    porch_index_entry_set_stat(&now, st);
    return now.size == e->size && now.mtime_ns == e->mtime_ns && now.ctime_ns == e->ctime_ns &&
           now.dev == e->dev && now.ino == e->ino;
}

static gboolean
fail(PorchIndex *idx, GError **error, const char *what)
{
    g_set_error(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_FAILED, "Content index %s: %s: %s",
                idx->path, what, sqlite3_errmsg(idx->db));
    return FALSE;
}

static gboolean
exec(PorchIndex *idx, const char *sql, GError **error)
{
    char *msg = NULL;
    if (sqlite3_exec(idx->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        g_set_error(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_FAILED, "Content index %s: %s",
                    idx->path, msg != NULL ? msg : sqlite3_errmsg(idx->db));
        sqlite3_free(msg);
        return FALSE;
    }
    return TRUE;
}

static gint64
pragma_int(PorchIndex *idx, const char *sql, int *ret_rc)
{
    sqlite3_stmt *st = NULL;
    gint64 v = -1;
    int rc = sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    if (ret_rc != NULL)
        *ret_rc = rc;
    return v;
}

/* Is the open database an index of this version that SQLite finds sound? */
static gboolean
usable(PorchIndex *idx)
{
    int rc;
    if (pragma_int(idx, "PRAGMA application_id", &rc) != APPLICATION_ID || rc != SQLITE_OK)
        return FALSE;
    if (pragma_int(idx, "PRAGMA user_version", &rc) != SCHEMA_VERSION || rc != SQLITE_OK)
        return FALSE;
    sqlite3_stmt *st = NULL;
    gboolean ok = FALSE;
    if (sqlite3_prepare_v2(idx->db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        ok = r != NULL && strcmp(r, "ok") == 0;
    }
    sqlite3_finalize(st);
    return ok;
}

/* Is the file there but empty (a new database SQLite has not written yet)? */
static gboolean
fresh(PorchIndex *idx)
{
    int rc;
    return pragma_int(idx, "PRAGMA page_count", &rc) == 0 && rc == SQLITE_OK;
}

static gboolean
create_schema(PorchIndex *idx, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
            "BEGIN; %s PRAGMA application_id = %d; PRAGMA user_version = %d; COMMIT;", schema,
            APPLICATION_ID, SCHEMA_VERSION);
    return exec(idx, sql, error);
}

static void
remove_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *p = g_strconcat(path, suffixes[i], NULL);
        if (g_unlink(p) < 0 && errno != ENOENT)
            g_warning("Content index: cannot remove %s: %s", p, g_strerror(errno));
    }
}

static gboolean
open_db(PorchIndex *idx, GError **error)
{
    int flags = SQLITE_OPEN_NOMUTEX |
                (idx->writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    if (sqlite3_open_v2(idx->path, &idx->db, flags, NULL) != SQLITE_OK)
        return fail(idx, error, "cannot open it");
    /* Readers wait a little for a writer instead of failing at once. */
    sqlite3_busy_timeout(idx->db, 2000);
    sqlite3_extended_result_codes(idx->db, 1);
    return TRUE;
}

PorchIndex *
porch_index_open(const char *path, gboolean writable, gboolean *ret_rebuilt, GError **error)
{
    g_autoptr(PorchIndex) idx = g_new0(PorchIndex, 1);
    idx->path = g_strdup(path);
    idx->writable = writable;
    if (ret_rebuilt != NULL)
        *ret_rebuilt = FALSE;

    if (!writable && !g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "Content index %s: there is none",
                    path);
        return NULL;
    }
    if (!open_db(idx, error))
        return NULL;
    if (writable && fresh(idx))
        return create_schema(idx, error) &&
                               exec(idx, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                                    error)
                       ? g_steal_pointer(&idx)
                       : NULL;
    if (usable(idx)) {
        if (writable && !exec(idx, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", error))
            return NULL;
        return g_steal_pointer(&idx);
    }
    if (!writable) {
        g_set_error(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_CORRUPT,
                    "Content index %s is damaged or of another version", path);
        return NULL;
    }
    /* Not a sound index of this version: never trusted, made again from nothing. */
    g_message("Content index %s is damaged or of another version: building it again", path);
    sqlite3_close(idx->db);
    idx->db = NULL;
    remove_files(path);
    if (!open_db(idx, error) || !create_schema(idx, error) ||
        !exec(idx, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", error))
        return NULL;
    if (ret_rebuilt != NULL)
        *ret_rebuilt = TRUE;
    return g_steal_pointer(&idx);
}

void
porch_index_close(PorchIndex *idx)
{
    if (idx == NULL)
        return;
    if (idx->db != NULL)
        sqlite3_close(idx->db);
    g_free(idx->path);
    g_free(idx);
}

static guint
ranges_for(guint64 size, guint32 range_size)
{
    if (size == 0 || range_size == 0)
        return 0;
    return (guint)((size - 1) / range_size + 1);
}

static gboolean
path_ok(const char *path)
{
    if (path == NULL || path[0] == '\0' || path[0] == '/' || strlen(path) > PORCH_INDEX_MAX_PATH ||
        !g_utf8_validate(path, -1, NULL))
        return FALSE;
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    for (char **p = parts; *p != NULL; p++)
        if ((*p)[0] == '\0' || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
            return FALSE;
    return TRUE;
}

static gboolean
entry_consistent(const PorchIndexEntry *e)
{
    /* A range smaller than check-file's smallest block is never what a client asks for. */
    return e->range_size >= 256 && e->n_ranges == ranges_for(e->size, e->range_size) &&
           e->size <= (guint64)G_MAXINT64 && (e->n_ranges == 0 || e->ranges != NULL);
}

gboolean
porch_index_put(PorchIndex *idx, const PorchIndexEntry *e, GError **error)
{
    if (e->share == NULL || e->share[0] == '\0' || !path_ok(e->path) || !entry_consistent(e)) {
        g_set_error(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_INVALID,
                    "Content index: refusing an inconsistent record for %s/%s",
                    e->share != NULL ? e->share : "", e->path != NULL ? e->path : "");
        return FALSE;
    }
    const char *slash = strrchr(e->path, '/');
    const char *name = slash != NULL ? slash + 1 : e->path;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(idx->db,
                           "INSERT OR REPLACE INTO files(share, path, name, size, mtime_ns, "
                           "ctime_ns, dev, ino, sha256, range_size, ranges, indexed_at, dir) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(idx, error, "cannot record a file");
    sqlite3_bind_text(st, 1, e->share, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)e->size);
    sqlite3_bind_int64(st, 5, e->mtime_ns);
    sqlite3_bind_int64(st, 6, e->ctime_ns);
    /* Device and inode numbers are stored as SQLite's signed 64-bit integers, bit for bit. */
    sqlite3_bind_int64(st, 7, (sqlite3_int64)e->dev);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)e->ino);
    sqlite3_bind_blob(st, 9, e->sha256, PORCH_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, e->range_size);
    /* A zero-length blob, not NULL, for an empty file: the column is NOT NULL. */
    sqlite3_bind_zeroblob(st, 11, 0);
    if (e->n_ranges > 0)
        sqlite3_bind_blob64(st, 11, e->ranges, (sqlite3_uint64)e->n_ranges * PORCH_SHA256_LEN,
                            SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, e->indexed_at != 0 ? e->indexed_at : g_get_real_time() / 1000000);
    sqlite3_bind_text(st, 13, e->path, slash != NULL ? (int)(slash - e->path) : 0, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(idx, error, "cannot record a file");
    return TRUE;
}

gboolean
porch_index_remove(PorchIndex *idx, const char *share, const char *path, GError **error)
{
    sqlite3_stmt *st = NULL;
    /* @path and "path/..." lie in [path, path + "0"] ('/' sorts just before '0'): a range of
     * the primary key, filtered to those two, instead of a scan of the share */
    if (sqlite3_prepare_v2(idx->db,
                           "DELETE FROM files WHERE share = ?1 AND path >= ?2 AND "
                           "path <= ?2 || '0' AND (path = ?2 OR "
                           "substr(path, 1, length(?2) + 1) = ?2 || '/')",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(idx, error, "cannot forget a file");
    sqlite3_bind_text(st, 1, share, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || fail(idx, error, "cannot forget a file");
}

gboolean
porch_index_forget_share(PorchIndex *idx, const char *share, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(idx->db, "DELETE FROM files WHERE share = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return fail(idx, error, "cannot forget a share");
    sqlite3_bind_text(st, 1, share, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || fail(idx, error, "cannot forget a share");
}

gboolean
porch_index_keep_shares(PorchIndex *idx, const char *const *keep, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(idx->db, "SELECT DISTINCT share FROM files", -1, &st, NULL) != SQLITE_OK)
        return fail(idx, error, "cannot list the shares");
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (s != NULL && (keep == NULL || !g_strv_contains(keep, s)))
            g_ptr_array_add(gone, g_strdup(s));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(idx, error, "cannot list the shares");
    for (guint i = 0; i < gone->len; i++)
        if (!porch_index_forget_share(idx, g_ptr_array_index(gone, i), error))
            return FALSE;
    return TRUE;
}

#define ENTRY_COLUMNS                                                                              \
    "share, path, size, mtime_ns, ctime_ns, dev, ino, sha256, range_size, ranges, indexed_at"

/* The entry of the current row (columns ENTRY_COLUMNS), or NULL if it is inconsistent. */
static PorchIndexEntry *
row_entry(sqlite3_stmt *st, gboolean with_ranges)
{
    g_autoptr(PorchIndexEntry) e = g_new0(PorchIndexEntry, 1);
    const char *share = (const char *)sqlite3_column_text(st, 0);
    const char *path = (const char *)sqlite3_column_text(st, 1);
    if (share == NULL || path == NULL)
        return NULL;
    e->share = g_strdup(share);
    e->path = g_strdup(path);
    sqlite3_int64 size = sqlite3_column_int64(st, 2);
    if (size < 0)
        return NULL;
    e->size = (guint64)size;
    e->mtime_ns = sqlite3_column_int64(st, 3);
    e->ctime_ns = sqlite3_column_int64(st, 4);
    e->dev = (guint64)sqlite3_column_int64(st, 5);
    e->ino = (guint64)sqlite3_column_int64(st, 6);
    if (sqlite3_column_bytes(st, 7) != PORCH_SHA256_LEN)
        return NULL;
    memcpy(e->sha256, sqlite3_column_blob(st, 7), PORCH_SHA256_LEN);
    sqlite3_int64 rs = sqlite3_column_int64(st, 8);
    if (rs < 256 || rs > G_MAXUINT32)
        return NULL;
    e->range_size = (guint32)rs;
    e->n_ranges = ranges_for(e->size, e->range_size);
    if ((guint64)sqlite3_column_bytes(st, 9) != (guint64)e->n_ranges * PORCH_SHA256_LEN)
        return NULL;
    if (with_ranges && e->n_ranges > 0)
        e->ranges = g_memdup2(sqlite3_column_blob(st, 9), (gsize)e->n_ranges * PORCH_SHA256_LEN);
    e->indexed_at = sqlite3_column_int64(st, 10);
    return g_steal_pointer(&e);
}

PorchIndexEntry *
porch_index_lookup(PorchIndex *idx, const char *share, const char *path, const struct stat *st)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(idx->db,
                           "SELECT " ENTRY_COLUMNS " FROM files WHERE share = ? AND path = ?", -1,
                           &q, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(q, 1, share, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
    PorchIndexEntry *e = NULL;
    gboolean bad = FALSE;
    if (sqlite3_step(q) == SQLITE_ROW) {
        e = row_entry(q, TRUE);
        bad = e == NULL;
    }
    sqlite3_finalize(q);
    if (bad && idx->writable)
        porch_index_remove(idx, share, path, NULL);
    if (e == NULL)
        return NULL;
    if (!porch_index_entry_matches(e, st)) {
        porch_index_entry_free(e);
        return NULL;
    }
    return e;
}

static GHashTable *
list_where(PorchIndex *idx, const char *sql, const char *share, const char *dir, GError **error)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(idx->db, sql, -1, &q, NULL) != SQLITE_OK) {
        fail(idx, error, "cannot list a share");
        return NULL;
    }
    sqlite3_bind_text(q, 1, share, -1, SQLITE_STATIC);
    if (dir != NULL)
        sqlite3_bind_text(q, 2, dir, -1, SQLITE_STATIC);
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify)porch_index_entry_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        PorchIndexEntry *e = row_entry(q, FALSE);
        if (e != NULL)
            g_hash_table_replace(t, e->path, e);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        g_hash_table_unref(t);
        fail(idx, error, "cannot list a share");
        return NULL;
    }
    return t;
}

GHashTable *
porch_index_list_share(PorchIndex *idx, const char *share, GError **error)
{
    return list_where(idx, "SELECT " ENTRY_COLUMNS " FROM files WHERE share = ?", share, NULL,
                      error);
}

GHashTable *
porch_index_list_folder(PorchIndex *idx, const char *share, const char *dir, GError **error)
{
    return list_where(idx, "SELECT " ENTRY_COLUMNS " FROM files WHERE share = ?1 AND dir = ?2",
                      share, dir, error);
}

GHashTable *
porch_index_subfolders(PorchIndex *idx, const char *share, const char *dir, GError **error)
{
    sqlite3_stmt *q = NULL;
    gsize skip = dir[0] != '\0' ? strlen(dir) + 1 : 0;
    /* the folders beneath @dir: "dir/..." (['dir/', 'dir0'), a range of the (share, dir)
     * index: '/' sorts just before '0'), or every non-empty one for the root */
    if (sqlite3_prepare_v2(idx->db,
                           dir[0] == '\0'
                                   ? "SELECT DISTINCT dir FROM files WHERE share = ?1 AND dir > ?2"
                                   : "SELECT DISTINCT dir FROM files WHERE share = ?1 AND "
                                     "dir >= ?2 || '/' AND dir < ?2 || '0'",
                           -1, &q, NULL) != SQLITE_OK) {
        fail(idx, error, "cannot list a share");
        return NULL;
    }
    sqlite3_bind_text(q, 1, share, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, dir, -1, SQLITE_STATIC);
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(q, 0);
        if (d == NULL || strlen(d) <= skip)
            continue;
        const char *rest = d + skip;
        const char *slash = strchr(rest, '/');
        g_hash_table_add(t,
                         slash != NULL ? g_strndup(rest, (gsize)(slash - rest)) : g_strdup(rest));
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        g_hash_table_unref(t);
        fail(idx, error, "cannot list a share");
        return NULL;
    }
    return t;
}

GBytes *
porch_index_check_file(const PorchIndexEntry *e, guint64 start, guint64 length, guint32 block)
{
    if (block == 0) {
        guint64 end = length == 0 ? e->size : start + length;
        if (start == 0 && end == e->size)
            return g_bytes_new(e->sha256, PORCH_SHA256_LEN);
        /* one range, as the porch client asks for them */
        if (end < start || end > e->size || start % e->range_size != 0 || start >= e->size ||
            (end - start != e->range_size && end != e->size) || end - start > e->range_size)
            return NULL;
        return g_bytes_new(e->ranges + (start / e->range_size) * PORCH_SHA256_LEN,
                           PORCH_SHA256_LEN);
    }
    if (block != e->range_size || start % e->range_size != 0 || start >= e->size)
        return NULL;
    guint64 end = length == 0 ? e->size : start + length;
    if (end < start || end > e->size)
        return NULL;
    if (end != e->size && end % e->range_size != 0)
        return NULL;
    guint64 first = start / e->range_size;
    guint64 last = end == e->size ? e->n_ranges : end / e->range_size;
    if (last > e->n_ranges || last <= first)
        return NULL;
    return g_bytes_new(e->ranges + first * PORCH_SHA256_LEN,
                       (gsize)(last - first) * PORCH_SHA256_LEN);
}

static gboolean
has_wildcard(const char *s)
{
    return strpbrk(s, "*?") != NULL;
}

/* SQLite calls this for each name: does it match the search pattern (a GPatternSpec of the
 * case-folded pattern)? GLib's glob matching is used rather than SQLite's GLOB, which is
 * case-sensitive and knows no Unicode case folding. */
static void
match_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    GPatternSpec *spec = sqlite3_user_data(ctx);
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    if (name == NULL || !g_utf8_validate(name, -1, NULL)) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    g_autofree char *folded = g_utf8_casefold(name, -1);
    sqlite3_result_int(ctx, g_pattern_spec_match_string(spec, folded) ? 1 : 0);
}

static GPtrArray *
query_entries(PorchIndex *idx, sqlite3_stmt *q, guint limit, gboolean with_ranges,
              PorchIndexFilter filter, gpointer user_data, GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)porch_index_entry_free);
    int rc;
    while (out->len < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        PorchIndexEntry *e = row_entry(q, with_ranges);
        if (e == NULL)
            continue;
        if (filter != NULL && !filter(e->share, e->path, user_data)) {
            porch_index_entry_free(e);
            continue;
        }
        g_ptr_array_add(out, e);
    }
    if (out->len < limit && rc != SQLITE_DONE) {
        g_ptr_array_unref(out);
        fail(idx, error, "cannot search");
        return NULL;
    }
    return out;
}

GPtrArray *
porch_index_search(PorchIndex *idx, const char *pattern, guint limit, PorchIndexFilter filter,
                   gpointer user_data, GError **error)
{
    if (pattern == NULL || pattern[0] == '\0' || strlen(pattern) > PORCH_INDEX_MAX_PATTERN ||
        !g_utf8_validate(pattern, -1, NULL)) {
        g_set_error(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_INVALID,
                    "A search pattern is 1 to %d bytes of UTF-8", PORCH_INDEX_MAX_PATTERN);
        return NULL;
    }
    g_autofree char *folded = g_utf8_casefold(pattern, -1);
    g_autofree char *glob =
            has_wildcard(folded) ? g_strdup(folded) : g_strconcat("*", folded, "*", NULL);
    GPatternSpec *spec = g_pattern_spec_new(glob);
    /* The function is registered per search with its own pattern, and dropped after. */
    if (sqlite3_create_function_v2(idx->db, "porch_match", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   spec, match_fn, NULL, NULL,
                                   (void (*)(void *))g_pattern_spec_free) != SQLITE_OK) {
        g_pattern_spec_free(spec);
        fail(idx, error, "cannot search");
        return NULL;
    }
    sqlite3_stmt *q = NULL;
    GPtrArray *out = NULL;
    if (sqlite3_prepare_v2(idx->db,
                           "SELECT " ENTRY_COLUMNS
                           " FROM files WHERE porch_match(name) ORDER BY share, path",
                           -1, &q, NULL) == SQLITE_OK)
        out = query_entries(idx, q, limit, FALSE, filter, user_data, error);
    else
        fail(idx, error, "cannot search");
    sqlite3_finalize(q);
    sqlite3_create_function_v2(idx->db, "porch_match", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL,
                               NULL);
    return out;
}

GPtrArray *
porch_index_find_sha256(PorchIndex *idx, const guint8 *sha256, guint limit, PorchIndexFilter filter,
                        gpointer user_data, GError **error)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(idx->db,
                           "SELECT " ENTRY_COLUMNS " FROM files WHERE sha256 = ? ORDER BY share, "
                           "path",
                           -1, &q, NULL) != SQLITE_OK) {
        fail(idx, error, "cannot search");
        return NULL;
    }
    sqlite3_bind_blob(q, 1, sha256, PORCH_SHA256_LEN, SQLITE_STATIC);
    GPtrArray *out = query_entries(idx, q, limit, TRUE, filter, user_data, error);
    sqlite3_finalize(q);
    return out;
}

gsize
porch_index_release_memory(PorchIndex *idx)
{
    sqlite3_int64 before = sqlite3_memory_used();

    sqlite3_db_release_memory(idx->db);
    return (gsize)MAX(before - sqlite3_memory_used(), 0);
}

gboolean
porch_index_stats(PorchIndex *idx, PorchIndexStats *ret, GError **error)
{
    memset(ret, 0, sizeof *ret);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(idx->db, "SELECT count(*), coalesce(sum(size), 0) FROM files", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return fail(idx, error, "cannot count");
    }
    ret->files = (guint64)sqlite3_column_int64(q, 0);
    ret->bytes = (guint64)sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    int rc1, rc2;
    gint64 pages = pragma_int(idx, "PRAGMA page_count", &rc1);
    gint64 page_size = pragma_int(idx, "PRAGMA page_size", &rc2);
    if (rc1 == SQLITE_OK && rc2 == SQLITE_OK && pages > 0 && page_size > 0)
        ret->db_bytes = (guint64)pages * (guint64)page_size;
    return TRUE;
}

gboolean
porch_index_begin(PorchIndex *idx, GError **error)
{
    return exec(idx, "BEGIN IMMEDIATE", error);
}

gboolean
porch_index_commit(PorchIndex *idx, GError **error)
{
    return exec(idx, "COMMIT", error);
}
