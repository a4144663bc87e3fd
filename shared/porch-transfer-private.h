/* porch-transfer-private.h — what the transfer engine (porch-transfer.c), get
 * (porch-transfer-get.c) and put (porch-transfer-put.c) share: a transfer, its jobs (one per
 * file), their ranges and requests. Not installed, not for the programs. */
#pragma once

#include <sys/types.h>

#include "porch-hash.h"
#include "porch-sftp-client-private.h"
#include "porch-transfer.h"

G_BEGIN_DECLS

/* get: pieces with the writer thread at most (8 MiB; porch-transfer-get.c) */
#define WRITER_PIECES 32

typedef struct _PorchTransfer PorchTransfer;

typedef struct {
    guint64 start, len;
    guint64 filled;    /* bytes received (get) or acknowledged (put) */
    guint64 hashed;    /* get: bytes hashed in order as they came */
    guint64 hash_next; /* get: bytes handed to the hash (by the writer thread) in order */
    PorchSha256 *sha;
    guint8 mine[PORCH_SHA256_LEN];
    guint8 server[PORCH_SHA256_LEN];
    gboolean have_mine, have_server, verified;
} PorchTransferRange;

/* get -r: a folder of the tree (porch-transfer-get.c) */
typedef struct _PorchTransferDir PorchTransferDir;

typedef enum {
    JOB_WAITING,
    JOB_OPENING,
    JOB_DATA,
    JOB_FINISHING,
    JOB_DONE,
} PorchTransferJobState;

typedef struct {
    PorchTransfer *t;
    PorchTransferJobState state;
    gboolean failed;
    char *remote; /* get: the source; put: the target */
    char *local;  /* get: the target; put: the source */
    char *part;   /* get: local NAME.part; put: the remote temporary file */
    guint64 size;
    gint mode;    /* -1: unknown */
    gint64 mtime; /* -1: unknown */
    int fd;
    int dfd; /* get: NAME.part opened with O_DIRECT for the aligned bulk of a big file, or -1 */
    /* get: NAME.part's lock, held on from when fd closes until the file has its final name */
    int lock_fd;
    GByteArray *handle;      /* the remote handle, as an SFTP string */
    gboolean temp_made;      /* put: the remote temporary file exists */
    gboolean check_existing; /* get --resume: verifying a final file already here */
    guint64 resume_at;       /* get --resume: bytes of NAME.part to check */
    guint64 next;            /* the next offset to request or send */
    guint64 from;            /* where the data starts: the first range's start */
    guint64 filled;          /* bytes received (get) or acknowledged (put) from there */
    /* The live ranges (PorchTransferRange), at most MAX_LIVE_RANGES: range number k covers
     * [from + k * RANGE_SIZE, ...) and is ranges[k - range_base]. A range is made when the
     * transfer reaches it and dropped once it and those before it are verified. */
    GArray *ranges;
    guint64 range_base;
    guint refs;            /* requests in flight + pieces + 1 while not done */
    guint pieces;          /* get: pieces with the writer thread, which uses fd and dfd */
    PorchTransferDir *dir; /* get -r: the folder it lands in (a reference), or NULL */
} PorchTransferJob;

struct _PorchTransfer {
    PorchClient *c;
    gboolean upload;
    PorchTransferFlags flags;
    const PorchTransferCallbacks *cb;
    GCancellable *cancellable;
    PorchProgress p;
    char *current; /* p.current's own copy: the job it names may be gone */
    gint64 last_progress;
    GQueue waiting; /* PorchTransferJob* not started */
    GQueue active;  /* PorchTransferJob* started, not done */
    guint reqs;
    guint64 bytes_in_flight;
    GPtrArray *batch; /* get: PorchTransferJob* verified, to be renamed after a syncfs */
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
    PorchTransferJob *job;
    guint64 offset;
    guint32 len;
    guint64 range; /* the range's number */
} PorchTransferReq;

/* @a + @b, or G_MAXUINT64 when that does not fit */
static inline guint64
add_sat(guint64 a, guint64 b)
{
    return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

/* ---- porch-transfer.c: the engine (each function is described where it is defined) ---- */

void porch_transfer_progress(PorchTransfer *t, PorchTransferJob *j, gboolean force);
void porch_transfer_notice(PorchTransfer *t, const char *path, const char *fmt, ...)
        G_GNUC_PRINTF(3, 4);
void porch_transfer_report_failure(PorchTransfer *t, const char *path, const GError *e);
void porch_transfer_report_failure_take(PorchTransfer *t, const char *path, GError *e);
GError *porch_transfer_local_error(int e, const char *what);
PorchTransferJob *porch_transfer_job_new(PorchTransfer *t, const char *remote, const char *local,
                                         guint64 size, gint mode, gint64 mtime);
void porch_transfer_job_unref(PorchTransferJob *j);
void porch_transfer_job_end(PorchTransferJob *j);
void porch_transfer_job_send_close(PorchTransferJob *j);
void porch_transfer_job_fail(PorchTransferJob *j, const char *path, GError *e);
PorchTransferReq *porch_transfer_req_new(PorchTransferJob *j, guint64 offset, guint32 len,
                                         guint64 range);
gboolean porch_transfer_req_live(PorchTransferReq *r);
void porch_transfer_req_done(PorchTransferReq *r);
void porch_transfer_job_ranges_begin(PorchTransferJob *j, guint64 from);
PorchTransferRange *porch_transfer_job_range(PorchTransferJob *j, guint64 k);
guint64 porch_transfer_job_range_of(PorchTransferJob *j, guint64 offset);
PorchTransferRange *porch_transfer_job_next_range(PorchTransferJob *j);
gboolean porch_transfer_job_ranges_verified(PorchTransferJob *j);
gboolean porch_transfer_range_check_reply(PorchTransferReq *q, guint8 type, PorchWireReader *r);
void porch_transfer_job_send_check(PorchTransferJob *j, guint64 start, guint64 len, guint64 range,
                                   PorchReplyFunc fn);
gboolean porch_transfer_hash_local(int fd, guint64 start, guint64 len, guint8 *digest,
                                   GError **error);
gboolean porch_transfer_job_store_handle(PorchTransferJob *j, guint8 type, PorchWireReader *r,
                                         const char *path, GError **error);
void porch_transfer_job_done(PorchTransferJob *j);
void porch_transfer_job_drop_late_handle(PorchTransferJob *j, guint8 type, PorchWireReader *r);
void porch_transfer_schedule(PorchTransfer *t);
gboolean porch_transfer_run(PorchTransfer *t, guint waiting, GError **error);
void porch_transfer_abandon(PorchTransfer *t);
void porch_transfer_init(PorchTransfer *t, PorchClient *c, gboolean upload,
                         PorchTransferFlags flags, const PorchTransferCallbacks *cb,
                         GCancellable *cancellable);
gboolean porch_transfer_finish(PorchTransfer *t, GError **error, GError *fatal);
char *porch_transfer_join_remote(const char *dir, const char *name);

/* ---- porch-transfer-get.c ---- */

void porch_transfer_dir_unref(PorchTransferDir *d);
void porch_transfer_get_flush_batch(PorchTransfer *t);
gboolean porch_transfer_get_pieces_collect(PorchTransfer *t, gboolean wait);
void porch_transfer_get_writer_end(PorchTransfer *t);
void porch_transfer_get_start(PorchTransferJob *j);
gboolean porch_transfer_get_issue(PorchTransferJob *j);
gboolean porch_transfer_get_owns_reply(PorchReplyFunc fn);

/* ---- porch-transfer-put.c ---- */

void porch_transfer_put_start(PorchTransferJob *j);
gboolean porch_transfer_put_issue(PorchTransferJob *j);
gboolean porch_transfer_put_owns_reply(PorchReplyFunc fn);

G_END_DECLS
