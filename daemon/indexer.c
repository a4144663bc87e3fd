/* indexer.c — the content index kept current from a thread of the network side (indexer.h). */
#define G_LOG_DOMAIN "porchd"

#include "indexer.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-pass.h"
#include "files.h"
#include "porch-index.h"
#include "upload-journal.h"

/* A file whose mtime or ctime is this recent is hashed on a later pass (its times might
 * still change within the file system's time granularity without showing it). */
#define SETTLE_SECONDS 2
/* How often the indexers are asked what changed. */
#define POLL_INTERVAL_US (G_USEC_PER_SEC)
/* Records are committed at least this often during a scan. */
#define COMMIT_EVERY 64
/* The figures of `porch status` are read from the database at most this often. */
#define STATS_INTERVAL_US (G_USEC_PER_SEC)
/* After this long with nothing to do, the thread gives back the database pages it cached. */
#define RELEASE_AFTER_US (5 * G_USEC_PER_SEC)
/* An indexer that went away (or could not be started) is started again after
 * RESTART_FIRST_US, then after twice as long each time it goes away again, up to
 * RESTART_MAX_US, whatever happens to other shares' indexers; one that ran for
 * RESTART_STEADY_US before it went away starts the count again. A share whose indexer keeps
 * dying (a crash on one of its files, the owner's processes killed) costs a start every five
 * minutes, not a loop, and one that died once is indexed again within seconds. */
#define RESTART_FIRST_US  (2 * G_USEC_PER_SEC)
#define RESTART_MAX_US    (300 * G_USEC_PER_SEC)
#define RESTART_STEADY_US (600 * G_USEC_PER_SEC)

typedef enum { CMD_ADD, CMD_DROP, CMD_KEEP, CMD_QUIT } CmdKind;

typedef struct {
    CmdKind kind;
    char *name;
    int control; /* CMD_ADD: the indexer's control socket */
    GStrv keep;  /* CMD_KEEP: every configured share */
} Cmd;

typedef struct {
    char *path;
    gboolean recursive;
} Folder;

/* The thread's view of one share. */
typedef struct {
    PorchIndexer *ix;
    char *name;
    int control;
    int conn; /* the PorchFiles connection's socket (owned by files) */
    PorchFiles *files;
    GQueue todo;        /* Folder*: to scan */
    GHashTable *queued; /* paths in todo (not recursive ones) */
    GHashTable *later;  /* folders with files too recent to hash: scanned at later_at */
    gint64 later_at;
    gboolean broken;
} Share;

/* The main thread's account of a share's indexer starts, for the back-off. */
typedef struct {
    gint64 started; /* when its indexer was last started (monotonic) */
    guint restarts; /* starts after it went away, since it last ran for RESTART_STEADY_US */
} Starts;

struct _PorchIndexer {
    /* main thread */
    PorchWorkers *workers;
    GHashTable *signatures; /* share name -> "path\nowner\nuser" it was started for */
    GHashTable *starts;     /* share name -> Starts* */
    GAsyncQueue *queue;
    GThread *thread;
    /* both, under lock */
    GMutex lock;
    PorchIndexerStatus status;
    GHashTable *broken; /* names of shares whose indexer went away -> gint64* when */
    GArray *conns;      /* the sockets the thread may be blocked on, for shutdown() */
    /* the thread */
    PorchIndex *idx;
    GHashTable *shares; /* name -> Share* */
    gint64 next_poll;
    gint64 next_stats;
    gboolean dirty; /* the figures of `porch status` may have changed */
    gint64 busy_at; /* when the database was last used: work() found something, or figures */
    gboolean cache_held;
    gboolean quit;
};

static void
folder_free(Folder *f)
{
    g_free(f->path);
    g_free(f);
}

static void
cmd_free(Cmd *c)
{
    if (c->control >= 0)
        close(c->control);
    g_free(c->name);
    g_strfreev(c->keep);
    g_free(c);
}

static void
share_free(Share *s)
{
    PorchIndexer *ix = s->ix;

    g_mutex_lock(&ix->lock);
    for (guint i = 0; i < ix->conns->len; i++)
        if (g_array_index(ix->conns, int, i) == s->conn) {
            g_array_remove_index_fast(ix->conns, i);
            break;
        }
    g_mutex_unlock(&ix->lock);
    porch_files_free(s->files);
    if (s->control >= 0)
        close(s->control);
    g_queue_clear_full(&s->todo, (GDestroyNotify)folder_free);
    g_hash_table_unref(s->queued);
    g_hash_table_unref(s->later);
    g_free(s->name);
    g_free(s);
}

/* ---- scanning (the thread) ----------------------------------------------------------------- */

static void
enqueue(Share *s, const char *path, gboolean recursive)
{
    Folder *f;

    if (!recursive && g_hash_table_contains(s->queued, path))
        return;
    f = g_new0(Folder, 1);
    f->path = g_strdup(path);
    f->recursive = recursive;
    if (!recursive)
        g_hash_table_add(s->queued, g_strdup(path));
    g_queue_push_tail(&s->todo, f);
}

static char *
join(const char *folder, const char *name)
{
    return folder[0] != '\0' ? g_strconcat(folder, "/", name, NULL) : g_strdup(name);
}

/* The hidden temporary files of uploads (upload-journal.h) are never indexed. */
static gboolean
is_upload_temp(const char *name)
{
    return g_str_has_prefix(name, PORCH_UPLOAD_PREFIX) ||
           g_str_has_prefix(name, PORCH_CLIENT_TEMP_PREFIX);
}

static gboolean
settled(const struct stat *st)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    return st->st_mtim.tv_sec < now - SETTLE_SECONDS && st->st_ctim.tv_sec < now - SETTLE_SECONDS;
}

static void
defer(Share *s, const char *folder)
{
    if (g_hash_table_size(s->later) == 0)
        s->later_at = g_get_monotonic_time() + (SETTLE_SECONDS + 1) * G_USEC_PER_SEC;
    g_hash_table_add(s->later, g_strdup(folder));
}

static void
commit(PorchIndexer *ix, gboolean begin_again)
{
    g_autoptr(GError) error = NULL;

    if (!porch_index_commit(ix->idx, &error))
        g_warning("%s", error->message);
    g_clear_error(&error);
    if (begin_again && !porch_index_begin(ix->idx, &error))
        g_warning("%s", error->message);
}

/* Hashes @path of @s and records it. */
static void
index_file(PorchIndexer *ix, Share *s, const char *folder, const char *path)
{
    g_autoptr(PorchIndexEntry) e = g_new0(PorchIndexEntry, 1);
    g_autoptr(GBytes) ranges = NULL;
    g_autoptr(GError) error = NULL;
    struct stat st;
    gint64 start = g_get_monotonic_time();
    int rc = porch_files_hash(s->files, path, PORCH_INDEX_RANGE_SIZE, &st, e->sha256, &ranges);
    double seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;

    if (rc == -EAGAIN) {
        defer(s, folder); /* it changed while it was read */
        return;
    }
    if (rc == -EIO) {
        s->broken = TRUE;
        return;
    }
    if (rc < 0) {
        /* -EFBIG: too large to index; others: gone, or not a plain file any more */
        g_debug("index %s/%s: %s", s->name, path, g_strerror(-rc));
        return;
    }
    g_mutex_lock(&ix->lock);
    ix->status.hashed_bytes += (guint64)st.st_size;
    ix->status.hash_seconds += seconds;
    g_mutex_unlock(&ix->lock);
    if (!settled(&st)) {
        defer(s, folder);
        return;
    }
    e->share = g_strdup(s->name);
    e->path = g_strdup(path);
    porch_index_entry_set_stat(e, &st);
    e->range_size = PORCH_INDEX_RANGE_SIZE;
    e->n_ranges = (guint)(g_bytes_get_size(ranges) / PORCH_SHA256_LEN);
    e->ranges = g_bytes_unref_to_data(g_steal_pointer(&ranges), &(gsize){0});
    if (!porch_index_put(ix->idx, e, &error))
        g_warning("%s", error->message);
}

/* Lists @folder of @s through its indexer: a GArray of PorchFilesEntry, or NULL with -errno
 * in *ret_errno. */
static GArray *
list_folder(Share *s, const char *folder, int *ret_errno)
{
    g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(PorchFilesEntry));
    guint32 id;
    int rc = porch_files_opendir(s->files, folder, &id);

    if (rc < 0) {
        *ret_errno = rc;
        return NULL;
    }
    while ((rc = porch_files_readdir(s->files, id, entries)) > 0)
        ;
    porch_files_closedir(s->files, id);
    if (rc < 0) {
        porch_files_entries_clear(entries);
        *ret_errno = rc;
        return NULL;
    }
    return g_steal_pointer(&entries);
}

/* Scans one folder of @s: new and changed files are hashed, records of files and folders
 * gone are forgotten, and with @recursive the folders in it are queued. */
static void
scan_folder(PorchIndexer *ix, Share *s, const char *folder, gboolean recursive)
{
    g_autoptr(GArray) entries = NULL;
    g_autoptr(GHashTable) known = NULL;
    g_autoptr(GHashTable) subs = NULL;
    g_autoptr(GError) error = NULL;
    GHashTableIter it;
    gpointer key;
    int err = 0;
    guint since_commit = 0;

    entries = list_folder(s, folder, &err);
    if (entries == NULL) {
        if (err == -EIO) {
            s->broken = TRUE;
        } else if (folder[0] != '\0' &&
                   !porch_index_remove(ix->idx, s->name, folder, &error)) { /* gone */
            g_warning("%s", error->message);
        }
        return;
    }
    known = porch_index_list_folder(ix->idx, s->name, folder, &error);
    subs = known != NULL ? porch_index_subfolders(ix->idx, s->name, folder, &error) : NULL;
    if (subs == NULL) {
        g_warning("%s", error->message);
        porch_files_entries_clear(entries);
        return;
    }
    if (!porch_index_begin(ix->idx, &error)) {
        g_warning("%s", error->message);
        porch_files_entries_clear(entries);
        return;
    }
    for (guint i = 0; i < entries->len && !s->broken && !ix->quit; i++) {
        PorchFilesEntry *en = &g_array_index(entries, PorchFilesEntry, i);
        g_autofree char *path = join(folder, en->name);
        PorchIndexEntry *rec;

        if (S_ISDIR(en->st.st_mode)) {
            /* a folder the index knows nothing beneath is new (or was moved here, or its
             * files came before its watch did): scanned whole */
            gboolean known_below = g_hash_table_remove(subs, en->name);
            if (recursive || !known_below)
                enqueue(s, path, TRUE);
            continue;
        }
        if (!S_ISREG(en->st.st_mode) || is_upload_temp(en->name))
            continue;
        rec = g_hash_table_lookup(known, path);
        if (rec != NULL && porch_index_entry_matches(rec, &en->st)) {
            g_hash_table_remove(known, path);
            continue;
        }
        g_hash_table_remove(known, path);
        if (!settled(&en->st)) {
            defer(s, folder);
            continue;
        }
        index_file(ix, s, folder, path);
        if (++since_commit >= COMMIT_EVERY) {
            commit(ix, TRUE);
            since_commit = 0;
        }
    }
    porch_files_entries_clear(entries);
    ix->dirty = TRUE;
    if (!s->broken && !ix->quit) {
        /* what the folder no longer holds */
        g_hash_table_iter_init(&it, known);
        while (g_hash_table_iter_next(&it, &key, NULL))
            porch_index_remove(ix->idx, s->name, key, NULL);
        g_hash_table_iter_init(&it, subs);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            g_autofree char *gone = join(folder, key);
            porch_index_remove(ix->idx, s->name, gone, NULL);
        }
    }
    commit(ix, FALSE);
}

/* Reads the figures again when something changed, at most every STATS_INTERVAL_US while
 * scanning (an idle porchd never queries its database for them). */
static void
update_stats(PorchIndexer *ix, gboolean busy)
{
    PorchIndexStats st;
    GHashTableIter it;
    gpointer value;
    guint scanning = 0;

    if (!ix->dirty || (busy && g_get_monotonic_time() < ix->next_stats))
        return;
    ix->dirty = FALSE;
    ix->next_stats = g_get_monotonic_time() + STATS_INTERVAL_US;
    g_hash_table_iter_init(&it, ix->shares);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Share *s = value;
        if (!g_queue_is_empty(&s->todo) || g_hash_table_size(s->later) > 0)
            scanning++;
    }
    /* it reads the whole table: pages to give back later (release_when_quiet()) */
    ix->cache_held = TRUE;
    ix->busy_at = g_get_monotonic_time();
    if (!porch_index_stats(ix->idx, &st, NULL))
        return;
    g_mutex_lock(&ix->lock);
    ix->status.files = st.files;
    ix->status.bytes = st.bytes;
    ix->status.db_bytes = st.db_bytes;
    ix->status.shares = g_hash_table_size(ix->shares);
    ix->status.scanning = scanning;
    g_mutex_unlock(&ix->lock);
}

/* Asks every indexer what changed, and queues it. */
static void
poll_changes(PorchIndexer *ix)
{
    GHashTableIter it;
    gpointer value;
    gint64 now = g_get_monotonic_time();

    g_hash_table_iter_init(&it, ix->shares);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Share *s = value;
        g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func(g_free);
        int rc;

        if (s->broken)
            continue;
        if (g_hash_table_size(s->later) > 0 && now >= s->later_at) {
            GHashTableIter lt;
            gpointer key;
            g_hash_table_iter_init(&lt, s->later);
            while (g_hash_table_iter_next(&lt, &key, NULL))
                enqueue(s, key, FALSE);
            g_hash_table_remove_all(s->later);
        }
        rc = porch_files_changes(s->files, PORCH_FILES_CHANGES_MAX, folders);
        if (rc < 0) {
            s->broken = rc == -EIO;
            if (!s->broken)
                g_debug("index %s: no change notifications: %s", s->name, g_strerror(-rc));
            continue;
        }
        if (rc == 1) {
            g_message("index %s: changes were lost; scanning the share again", s->name);
            enqueue(s, "", TRUE);
        }
        for (guint i = 0; i < folders->len; i++)
            enqueue(s, g_ptr_array_index(folders, i), FALSE);
    }
}

/* One unit of work: one folder of one share. FALSE when there was nothing to do. */
static gboolean
work(PorchIndexer *ix)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, ix->shares);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Share *s = value;
        Folder *f;

        if (s->broken || (f = g_queue_pop_head(&s->todo)) == NULL)
            continue;
        if (!f->recursive)
            g_hash_table_remove(s->queued, f->path);
        scan_folder(ix, s, f->path, f->recursive);
        folder_free(f);
        return TRUE;
    }
    return FALSE;
}

/* Shares whose indexer went away are reported to the main thread (which starts a new one,
 * porch_indexer_restart_due()) and dropped here. */
static void
drop_broken(PorchIndexer *ix)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, ix->shares);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Share *s = value;
        if (!s->broken)
            continue;
        g_warning("index %s: the share's indexer went away", s->name);
        g_mutex_lock(&ix->lock);
        g_hash_table_replace(ix->broken, g_strdup(s->name),
                             g_memdup2(&(gint64){g_get_monotonic_time()}, sizeof(gint64)));
        g_mutex_unlock(&ix->lock);
        g_hash_table_iter_remove(&it);
        ix->dirty = TRUE;
    }
}

static void
handle(PorchIndexer *ix, Cmd *c)
{
    ix->dirty = TRUE;
    switch (c->kind) {
    case CMD_ADD: {
        Share *s = g_new0(Share, 1);
        int pair[2];

        g_hash_table_remove(ix->shares, c->name);
        s->ix = ix;
        s->conn = -1;
        s->name = g_strdup(c->name);
        s->control = c->control;
        c->control = -1;
        s->queued = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        s->later = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
            pair[0] = pair[1] = -1;
        } else if (!porch_fd_send(s->control, "c", 1, &pair[1], 1)) {
            close(pair[0]);
            close(pair[1]);
            pair[0] = pair[1] = -1;
        }
        if (pair[0] < 0) {
            g_warning("index %s: cannot reach its indexer", s->name);
            s->files = porch_files_new_remote(-1);
            s->broken = TRUE;
        } else {
            close(pair[1]);
            s->conn = pair[0];
            s->files = porch_files_new_remote(pair[0]);
            g_mutex_lock(&ix->lock);
            g_array_append_val(ix->conns, s->conn);
            g_mutex_unlock(&ix->lock);
            /* the first call starts the watches, before the scan: nothing is missed */
            porch_files_changes(s->files, 0, NULL);
            enqueue(s, "", TRUE);
        }
        g_hash_table_replace(ix->shares, s->name, s);
        break;
    }
    case CMD_DROP:
        g_hash_table_remove(ix->shares, c->name);
        break;
    case CMD_KEEP: {
        g_autoptr(GError) error = NULL;
        if (!porch_index_keep_shares(ix->idx, (const char *const *)c->keep, &error))
            g_warning("%s", error->message);
        break;
    }
    case CMD_QUIT:
        ix->quit = TRUE;
        break;
    }
    cmd_free(c);
}

/* SQLite keeps the pages this thread read and wrote, up to its cache size (2 MiB), for as
 * long as the connection is open: after a share's first scan that is most of its database,
 * held by an idle porchd for good. Once the thread has had nothing to do for a while, the
 * pages go back to SQLite's allocator, and from it to the system: they were freed into this
 * thread's malloc arena, which glibc keeps until malloc_trim() hands its free pages back.
 * The next change reads what it needs from the kernel's page cache again. */
static void
release_when_quiet(PorchIndexer *ix, gboolean busy)
{
    gint64 now = g_get_monotonic_time();

    if (busy) {
        ix->busy_at = now;
        ix->cache_held = TRUE;
        return;
    }
    if (!ix->cache_held || now - ix->busy_at < RELEASE_AFTER_US)
        return;
    ix->cache_held = FALSE;
    gsize freed = porch_index_release_memory(ix->idx);
    malloc_trim(0);
    g_debug("index: %" G_GSIZE_FORMAT " bytes of cached pages given back", freed);
}

static gpointer
run(gpointer data)
{
    PorchIndexer *ix = data;

    while (!ix->quit) {
        gboolean busy = work(ix);
        Cmd *c;

        drop_broken(ix);
        if (g_get_monotonic_time() >= ix->next_poll) {
            poll_changes(ix);
            ix->next_poll = g_get_monotonic_time() + POLL_INTERVAL_US;
        }
        update_stats(ix, busy);
        release_when_quiet(ix, busy);
        c = busy ? g_async_queue_try_pop(ix->queue)
                 : g_async_queue_timeout_pop(ix->queue, POLL_INTERVAL_US);
        while (c != NULL && !ix->quit) {
            handle(ix, c);
            c = g_async_queue_try_pop(ix->queue);
        }
        if (c != NULL)
            cmd_free(c);
    }
    return NULL;
}

/* ---- the main thread ----------------------------------------------------------------------- */

static void
send_cmd(PorchIndexer *ix, CmdKind kind, const char *name, int control, GStrv keep)
{
    Cmd *c = g_new0(Cmd, 1);

    c->kind = kind;
    c->name = g_strdup(name);
    c->control = control;
    c->keep = keep;
    g_async_queue_push(ix->queue, c);
}

PorchIndexer *
porch_indexer_new(const char *state_dir, PorchWorkers *workers, GError **error)
{
    g_autofree char *path = g_build_filename(state_dir, PORCH_INDEX_FILE, NULL);
    PorchIndex *idx = porch_index_open(path, TRUE, NULL, error);
    PorchIndexer *ix;

    if (idx == NULL)
        return NULL;
    ix = g_new0(PorchIndexer, 1);
    ix->idx = idx;
    ix->workers = workers;
    ix->signatures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ix->broken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ix->starts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ix->conns = g_array_new(FALSE, FALSE, sizeof(int));
    ix->shares = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)share_free);
    ix->queue = g_async_queue_new_full((GDestroyNotify)cmd_free);
    g_mutex_init(&ix->lock);
    ix->dirty = TRUE;
    update_stats(ix, FALSE);
    ix->thread = g_thread_new("porch-indexer", run, ix);
    return ix;
}

void
porch_indexer_free(PorchIndexer *ix)
{
    if (ix == NULL)
        return;
    send_cmd(ix, CMD_QUIT, NULL, -1, NULL);
    /* a thread waiting for a hash of a big file is woken by its connection's end */
    g_mutex_lock(&ix->lock);
    for (guint i = 0; i < ix->conns->len; i++)
        shutdown(g_array_index(ix->conns, int, i), SHUT_RDWR);
    g_mutex_unlock(&ix->lock);
    g_thread_join(ix->thread);
    g_hash_table_unref(ix->shares);
    g_async_queue_unref(ix->queue);
    porch_index_close(ix->idx);
    g_hash_table_unref(ix->signatures);
    g_hash_table_unref(ix->starts);
    g_hash_table_unref(ix->broken);
    g_array_unref(ix->conns);
    g_mutex_clear(&ix->lock);
    g_free(ix);
}

static char *
signature(const PorchShare *share)
{
    return g_strdup_printf("%s\n%s\n%d", share->path, share->owner ? share->owner : "",
                           share->user ? 1 : 0);
}

/* The back-off before starting again the indexer of a share that went away with @st. */
static gint64
restart_delay(const Starts *st)
{
    return st == NULL ? RESTART_FIRST_US
                      : MIN(RESTART_MAX_US, RESTART_FIRST_US << MIN(st->restarts, 8u));
}

/* @name's account of starts, made when missing. */
static Starts *
starts_of(PorchIndexer *ix, const char *name)
{
    Starts *st = g_hash_table_lookup(ix->starts, name);

    if (st == NULL) {
        st = g_new0(Starts, 1);
        g_hash_table_insert(ix->starts, g_strdup(name), st);
    }
    return st;
}

/* Notes that @name's indexer was started; @again: after it went away or failed to start. */
static void
count_start(PorchIndexer *ix, const char *name, gboolean again)
{
    Starts *st = starts_of(ix, name);

    st->restarts = again ? st->restarts + 1 : 0;
    st->started = g_get_monotonic_time();
    if (again)
        g_message("index %s: the share's indexer is started again (%u %s after it went away)", name,
                  st->restarts, st->restarts == 1 ? "time" : "times");
}

/* Puts @name among the shares whose indexer is to be started again, as gone at @went (main
 * thread; the index thread adds those it sees go). */
static void
mark_broken(PorchIndexer *ix, const char *name, gint64 went)
{
    g_mutex_lock(&ix->lock);
    g_hash_table_replace(ix->broken, g_strdup(name), g_memdup2(&went, sizeof went));
    g_mutex_unlock(&ix->lock);
}

gboolean
porch_indexer_restart_due(PorchIndexer *ix)
{
    gint64 now = g_get_monotonic_time();
    gboolean due = FALSE;
    GHashTableIter it;
    gpointer key, value;

    g_mutex_lock(&ix->lock);
    g_hash_table_iter_init(&it, ix->broken);
    while (!due && g_hash_table_iter_next(&it, &key, &value)) {
        gint64 went = *(const gint64 *)value;
        Starts *st = g_hash_table_lookup(ix->starts, key);

        /* it ran long enough: what made it go away is no loop */
        if (st != NULL && went - st->started >= RESTART_STEADY_US)
            st->restarts = 0;
        due = now - went >= restart_delay(st);
    }
    g_mutex_unlock(&ix->lock);
    return due;
}

void
porch_indexer_apply(PorchIndexer *ix, PorchConfig *config)
{
    g_autoptr(GStrvBuilder) keep = g_strv_builder_new();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) broken = NULL;
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer key;

    g_mutex_lock(&ix->lock);
    broken = g_steal_pointer(&ix->broken);
    ix->broken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_mutex_unlock(&ix->lock);

    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *share = porch_config_get_share(config, i);
        g_autofree char *sig = signature(share);
        const char *had = g_hash_table_lookup(ix->signatures, share->name);
        const gint64 *went = g_hash_table_lookup(broken, share->name);
        gboolean changed = had != NULL && strcmp(had, sig) != 0;
        g_autoptr(GError) error = NULL;
        int control;

        /* an inbox is no share: what arrives there is its owner's, and nobody reads it */
        if (share->inbox)
            continue;
        g_strv_builder_add(keep, share->name);
        if (share->offline)
            continue;
        g_hash_table_add(seen, share->name);
        if (went == NULL && had != NULL && !changed)
            continue; /* running as configured */
        /* gone, or failed to start: again once its back-off is over (or its share changed) */
        if (went != NULL && !changed &&
            now - *went < restart_delay(g_hash_table_lookup(ix->starts, share->name))) {
            mark_broken(ix, share->name, *went);
            continue;
        }
        control = porch_workers_start_indexer(ix->workers, share, &error);
        if (control < 0) {
            Starts *st = starts_of(ix, share->name);

            g_warning("%s (tried again later)", error->message);
            g_hash_table_remove(ix->signatures, share->name);
            st->restarts++;
            st->started = now;
            mark_broken(ix, share->name, now);
            continue;
        }
        count_start(ix, share->name, went != NULL);
        send_cmd(ix, CMD_ADD, share->name, control, NULL);
        g_hash_table_replace(ix->signatures, g_strdup(share->name), g_steal_pointer(&sig));
    }
    /* shares gone or offline: their indexers are let go (records of offline shares stay) */
    g_hash_table_iter_init(&it, ix->signatures);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (g_hash_table_contains(seen, key))
            continue;
        send_cmd(ix, CMD_DROP, key, -1, NULL);
        g_hash_table_iter_remove(&it);
    }
    g_hash_table_iter_init(&it, ix->starts);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(seen, key))
            g_hash_table_iter_remove(&it);
    send_cmd(ix, CMD_KEEP, NULL, -1, g_strv_builder_end(keep));
}

void
porch_indexer_get_status(PorchIndexer *ix, PorchIndexerStatus *ret)
{
    g_mutex_lock(&ix->lock);
    *ret = ix->status;
    g_mutex_unlock(&ix->lock);
}
