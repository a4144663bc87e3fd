/* porch-cups.h — the little of CUPS that Porch needs, spoken over IPP with libcups.
 *
 * Every call names the CUPS user it acts for (requesting-user-name, "bob@porch") instead of
 * using libcups's per-thread cupsUser(), so that one process can act for several users and
 * nothing depends on what another call set before. The CUPS server is libcups's
 * cupsServer(): $CUPS_SERVER, else client.conf, else the local socket.
 *
 * Errors are GIOErrors, one code per situation a caller must tell apart:
 *   G_IO_ERROR_CONNECTION_REFUSED  CUPS is not running or not reachable (or stopped answering)
 *   G_IO_ERROR_NOT_FOUND           no such queue; for jobs: no such job of that user
 *   G_IO_ERROR_BUSY                the queue is not accepting jobs, or CUPS is busy
 *   G_IO_ERROR_INVALID_DATA        CUPS refused what was sent (document format, attributes)
 *   G_IO_ERROR_PERMISSION_DENIED   CUPS's policy refused the operation
 *   G_IO_ERROR_FAILED              anything else CUPS reports as its own failure
 * The message is CUPS's own text where CUPS answered (status-message), e.g. "Unsupported
 * document-format \"application/x-foo\".".
 *
 * Nothing here logs or keeps global state; an http_t may be used by one thread at a time.
 */
#pragma once

#include <cups/cups.h>
#include <gio/gio.h>

#include "porch-print-protocol.h"

G_BEGIN_DECLS

/* How long porch_cups_connect() waits for CUPS to accept, and each request for an answer,
 * unless told otherwise. */
#define PORCH_CUPS_TIMEOUT_MS 5000

typedef enum {
    PORCH_CUPS_PRINTER_IDLE,
    PORCH_CUPS_PRINTER_PROCESSING,
    PORCH_CUPS_PRINTER_STOPPED,
} PorchCupsPrinterState;

/* What CUPS says about one queue. */
typedef struct {
    char *make_and_model; /* printer-make-and-model; "" when CUPS has none (a raw queue) */
    gboolean color;       /* color-supported */
    gboolean duplex;      /* sides-supported offers a two-sided-* value */
    PorchCupsPrinterState state;
    gboolean accepting; /* printer-is-accepting-jobs */
} PorchCupsPrinter;

/* Frees what @printer holds and zeroes it. */
void porch_cups_printer_clear(PorchCupsPrinter *printer);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PorchCupsPrinter, porch_cups_printer_clear)

/* One job, as porch_cups_get_jobs() lists it. */
typedef struct {
    int id;
    char *queue; /* the queue it was sent to */
    ipp_jstate_t state;
    guint64 size_kb; /* job-k-octets */
    gint64 created;  /* time-at-creation, Unix time */
    char *title;     /* job-name; "" when there is none */
} PorchCupsJob;

void porch_cups_job_free(PorchCupsJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchCupsJob, porch_cups_job_free)

/* @state as porchd's "jobs" names it (its IPP keyword: porch_print_job_state_to_string()). */
PorchPrintJobState porch_cups_job_state(ipp_jstate_t state);

/* Connects to CUPS, waiting at most @timeout_ms for the connection and then for each answer
 * (0: PORCH_CUPS_TIMEOUT_MS). Returns a new connection (close with httpClose()), or NULL with
 * @error set (G_IO_ERROR_CONNECTION_REFUSED, the message naming the server). */
http_t *porch_cups_connect(int timeout_ms, GError **error);

/* Asks CUPS about @queue (Get-Printer-Attributes). On success fills *@ret (clear it with
 * porch_cups_printer_clear()) and returns TRUE; otherwise returns FALSE with @error set:
 * G_IO_ERROR_NOT_FOUND when CUPS has no such queue, G_IO_ERROR_CONNECTION_REFUSED when
 * CUPS is not there. */
gboolean porch_cups_get_printer(http_t *http, const char *queue, PorchCupsPrinter *ret,
                                GError **error);

/* Lists the jobs of @user ("bob@porch") on @queue, or on every queue when @queue is NULL:
 * pending, held, processing and stopped ones and those CUPS still remembers, oldest first.
 * CUPS is asked for this user's jobs only, and jobs of anyone else are dropped here all the
 * same. Returns an array of PorchCupsJob * (free with g_ptr_array_unref()), or NULL with
 * @error set. */
GPtrArray *porch_cups_get_jobs(http_t *http, const char *queue, const char *user, GError **error);

/* Cancels job @job_id of @user on @queue. The job's owner and queue are checked first
 * (Get-Job-Attributes): a job that does not exist, belongs to someone else or was sent to
 * another queue is G_IO_ERROR_NOT_FOUND, and nothing is cancelled. A job that has ended
 * already is refused by CUPS (G_IO_ERROR_INVALID_DATA, "Job #12 is already completed - can't
 * cancel."). Returns TRUE when CUPS cancelled it. */
gboolean porch_cups_cancel_job(http_t *http, const char *queue, int job_id, const char *user,
                               GError **error);

/* ---- submitting one document ---- */

/* A job being submitted: its own connection, a created job and a document being streamed. */
typedef struct _PorchCupsSubmission PorchCupsSubmission;

/* Connects (@timeout_ms as for porch_cups_connect()), creates a job on @queue for @user
 * (Create-Job with job-name @title and @copies) and starts its one document (Send-Document,
 * format detected by CUPS, length unknown: sent in chunks). Returns the submission, or NULL
 * with @error set: G_IO_ERROR_CONNECTION_REFUSED, G_IO_ERROR_NOT_FOUND (no such queue),
 * G_IO_ERROR_BUSY (not accepting jobs), G_IO_ERROR_INVALID_DATA (e.g. copies refused). */
PorchCupsSubmission *porch_cups_submission_new(const char *queue, const char *user,
                                               const char *title, guint copies, int timeout_ms,
                                               GError **error);

/* The job's id, known from porch_cups_submission_new() on. */
int porch_cups_submission_get_job_id(const PorchCupsSubmission *submission);

/* Streams @len bytes of the document to CUPS. FALSE with @error set when CUPS stopped
 * taking it (it may have answered early with its reason); then only
 * porch_cups_submission_free() is left to call. */
gboolean porch_cups_submission_write(PorchCupsSubmission *submission, const void *data, gsize len,
                                     GError **error);

/* Ends the document and waits for CUPS's verdict. TRUE when CUPS took the job; FALSE with
 * @error set (CUPS's text) when it refused the document, in which case the job has been
 * cancelled. Either way the submission is done: free it. */
gboolean porch_cups_submission_finish(PorchCupsSubmission *submission, GError **error);

/* Frees @submission. One that was not finished successfully is abandoned so that nothing of
 * it prints: the half-sent request is dropped with its connection (CUPS never sees the end
 * of the document), and the job is cancelled over a new connection. NULL is ignored. */
void porch_cups_submission_free(PorchCupsSubmission *submission);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchCupsSubmission, porch_cups_submission_free)

G_END_DECLS
