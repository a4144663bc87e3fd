/* porch-transfer-private.h — what the transfer engine (porch-transfer.c), get
 * (porch-transfer-get.c) and put (porch-transfer-put.c) share: a transfer, its jobs (one per
 * file), their ranges and requests. Not installed, not for the programs. */
#pragma once

#include <sys/types.h>

#include "porch-hash.h"
#include "porch-sftp-client-private.h"

G_BEGIN_DECLS

/* get: pieces with the writer thread at most (8 MiB; porch-transfer-get.c) */
#define WRITER_PIECES 32

typedef struct _Transfer Transfer;

typedef struct {
    guint64 start, len;
    guint64 filled;    /* bytes received (get) or acknowledged (put) */
    guint64 hashed;    /* get: bytes hashed in order as they came */
    guint64 hash_next; /* get: bytes handed to the hash (by the writer thread) in order */
    PorchSha256 *sha;
    guint8 mine[PORCH_SHA256_LEN];
    guint8 server[PORCH_SHA256_LEN];
    gboolean have_mine, have_server, verified;
} Range;

/* get -r: a folder of the tree (porch-transfer-get.c) */
typedef struct _Dir Dir;

typedef enum {
    JOB_WAITING,
    JOB_OPENING,
    JOB_DATA,
    JOB_FINISHING,
    JOB_DONE,
} JobState;

typedef struct {
    Transfer *t;
    JobState state;
    gboolean failed;
    char *remote; /* get: the source; put: the target */
    char *local;  /* get: the target; put: the source */
    char *part;   /* get: local NAME.part; put: the remote temporary file */
    guint64 size;
    gint mode;    /* -1: unknown */
    gint64 mtime; /* -1: unknown */
    int fd;
    int dfd; /* get: NAME.part opened with O_DIRECT for the aligned bulk of a big file, or -1 */
    GByteArray *handle;      /* the remote handle, as an SFTP string */
    gboolean temp_made;      /* put: the remote temporary file exists */
    gboolean check_existing; /* get --resume: verifying a final file already here */
    guint64 resume_at;       /* get --resume: bytes of NAME.part to check */
    guint64 next;            /* the next offset to request or send */
    guint64 from;            /* where the data starts: the first range's start */
    guint64 filled;          /* bytes received (get) or acknowledged (put) from there */
    /* The live ranges (Range), at most MAX_LIVE_RANGES: range number k covers
     * [from + k * RANGE_SIZE, ...) and is ranges[k - range_base]. A range is made when the
     * transfer reaches it and dropped once it and those before it are verified. */
    GArray *ranges;
    guint64 range_base;
    guint refs;   /* requests in flight + pieces + 1 while not done */
    guint pieces; /* get: pieces with the writer thread, which uses fd and dfd */
    Dir *dir;     /* get -r: the folder it lands in (a reference), or NULL */
} Job;

struct _Transfer {
    PorchClient *c;
    gboolean upload;
    PorchTransferFlags flags;
    const PorchTransferCallbacks *cb;
    GCancellable *cancellable;
    PorchProgress p;
    gint64 last_progress;
    GQueue waiting; /* Job* not started */
    GQueue active;  /* Job* started, not done */
    guint reqs;
    guint64 bytes_in_flight;
    GPtrArray *batch; /* get: Job* verified, to be renamed after a syncfs */
    mode_t umask;     /* get: the process's umask */
    /* get -r: the names of the folders listed but not entered yet, along the walk */
    guint64 held_entries, held_bytes;
    guint8 *buf; /* put: what is read from the file */
    gboolean aborted;
    /* get: the writer thread, which writes big files' data and hashes it (Piece) */
    GThread *writer;
    GAsyncQueue *to_write, *written;
    guint pieces_out;
    GPtrArray *spare; /* buffers of pieces done */
};

typedef struct {
    Job *job;
    guint64 offset;
    guint32 len;
    guint64 range; /* the range's number */
} Req;

/* @a + @b, or G_MAXUINT64 when that does not fit */
static inline guint64
add_sat(guint64 a, guint64 b)
{
    return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

/* ---- porch-transfer.c: the engine ---- */

void progress(Transfer *t, Job *j, gboolean force);
void notice(Transfer *t, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void report_failure(Transfer *t, const char *path, const GError *e);
void report_failure_take(Transfer *t, const char *path, GError *e);
GError *local_error(int e, const char *what);
Job *job_new(Transfer *t, const char *remote, const char *local, guint64 size, gint mode,
             gint64 mtime);
void job_unref(Job *j);
void job_end(Job *j);
void send_close(Job *j);
void job_fail(Job *j, const char *path, GError *e);
Req *req_new(Job *j, guint64 offset, guint32 len, guint64 range);
gboolean req_live(Req *r);
void req_done(Req *r);
void ranges_begin(Job *j, guint64 from);
Range *job_range(Job *j, guint64 k);
guint64 range_of(Job *j, guint64 offset);
Range *job_next_range(Job *j);
gboolean ranges_verified(Job *j);
void send_check(Job *j, guint64 start, guint64 len, guint64 range, PorchReplyFunc fn);
gboolean hash_local(int fd, guint64 start, guint64 len, guint8 *digest, GError **error);
gboolean store_handle(Job *j, guint8 type, PorchWireReader *r, const char *path, GError **error);
void file_done(Job *j);
void drop_late_handle(Job *j, guint8 type, PorchWireReader *r);
void schedule(Transfer *t);
gboolean run(Transfer *t, guint waiting, GError **error);
void abandon(Transfer *t);
void transfer_init(Transfer *t, PorchClient *c, gboolean upload, PorchTransferFlags flags,
                   const PorchTransferCallbacks *cb, GCancellable *cancellable);
gboolean transfer_finish(Transfer *t, GError **error, GError *fatal);
char *join_remote(const char *dir, const char *name);

/* ---- porch-transfer-get.c ---- */

void dir_unref(Dir *d);
void flush_batch(Transfer *t);
gboolean pieces_collect(Transfer *t, gboolean wait);
void writer_end(Transfer *t);
void get_start(Job *j);
gboolean get_issue(Job *j);
gboolean get_owns_reply(PorchReplyFunc fn);

/* ---- porch-transfer-put.c ---- */

void put_start(Job *j);
gboolean put_issue(Job *j);
gboolean put_owns_reply(PorchReplyFunc fn);

G_END_DECLS
