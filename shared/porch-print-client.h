/* porch-print-client.h — the client side of Porch's printing: print a document on a
 * neighbour's printer, list this peer's jobs there, cancel one.
 *
 * Each command is an SSH "exec" request on porchd's port, after the usual host key check and
 * authentication (the commands: porch-print-protocol.h): "print PRINTER [--copies N] [--title
 * T]" with the document on its standard input, "jobs [PRINTER]", "cancel PRINTER JOB-ID". porchd
 * runs ONE command per connection, on the connection's only channel, and no SFTP beside it:
 * connect with porch_client_connect_print(), run one command, free the client. A client from
 * porch_client_connect() (SFTP) cannot run them, nor can one that ran a command already.
 *
 * A refusal or failure on the neighbour's side is a PORCH_PRINT_ERROR whose code is the
 * command's exit status and whose message is the line porchd wrote on standard error ("not
 * allowed to print on Office", or CUPS's own text where CUPS refused). The network and this
 * machine's files fail with G_IO_ERROR codes, as for the SFTP client. */
#pragma once

#include <sysexits.h>

#include <gio/gio.h>
#include <glib.h>

#include "porch-print-protocol.h"
#include "porch-sftp-client.h"

G_BEGIN_DECLS

#define PORCH_PRINT_ERROR porch_print_error_quark()
GQuark porch_print_error_quark(void);

/* Errors of the PORCH_PRINT_ERROR domain: the exit statuses of porchd's commands
 * (porch-print-protocol.h), and FAILED for any other status or a reply that makes no sense. */
typedef enum {
    PORCH_PRINT_ERROR_FAILED = 1,                   /* any other failure on the neighbour's side */
    PORCH_PRINT_ERROR_USAGE = EX_USAGE,             /* porchd did not understand the command */
    PORCH_PRINT_ERROR_REJECTED = EX_DATAERR,        /* the document or the job was refused: by
                                                       CUPS, or larger than the neighbour's
                                                       max-print-size */
    PORCH_PRINT_ERROR_NO_SUCH = EX_NOINPUT,         /* no such printer, or no such job of this
                                                       peer */
    PORCH_PRINT_ERROR_UNAVAILABLE = EX_UNAVAILABLE, /* CUPS is not running there, the queue is
                                                       missing or not accepting jobs: try
                                                       again later */
    PORCH_PRINT_ERROR_INCOMPLETE = EX_IOERR,        /* the document did not arrive whole: job
                                                       cancelled */
    PORCH_PRINT_ERROR_NOT_ALLOWED = EX_NOPERM,      /* this peer may not print on that printer */
} PorchPrintError;

/* One job of this peer, as "jobs" lists it. */
typedef struct {
    int id;
    char *printer; /* the printer's name in the neighbour's porch.conf; valid UTF-8 */
    PorchPrintJobState state;
    guint64 size_kb; /* the document's size as CUPS counts it, in KiB */
    gint64 created;  /* Unix time */
    char *title;     /* valid UTF-8, without control characters */
} PorchPrintJob;

void porch_print_job_free(PorchPrintJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchPrintJob, porch_print_job_free)

/* Connects as porch_client_connect() does (host key pinned or checked, our key or guest)
 * but starts no SFTP: the client is for one print, jobs or cancel command. NULL with @error
 * set as for porch_client_connect(). */
PorchClient *porch_client_connect_print(const PorchConnectOptions *options,
                                        GCancellable *cancellable, GError **error);

/* Called while a document is sent: @sent bytes so far of @total (0 when the size is not known
 * beforehand: a pipe). It comes after each chunk and at least every 200 ms while the command
 * waits, so that a caller may cancel @cancellable from it (e.g. on a signal). */
typedef void (*PorchPrintProgressFunc)(guint64 sent, guint64 total, gpointer user_data);

/* Prints what can be read from @fd (until its end; a file or a pipe, not closed here) on
 * @printer, @copies times (1..PORCH_PRINT_MAX_COPIES), as job @title (cut to
 * PORCH_PRINT_MAX_TITLE bytes; NULL: porchd's PORCH_PRINT_DEFAULT_TITLE).
 * The document is streamed in 64 KiB chunks; CUPS prints it only once all of it arrived.
 * Returns TRUE and the job's id in @ret_job_id (may be NULL), or FALSE with @error set:
 * PORCH_PRINT_ERROR for a refusal, G_IO_ERROR_CANCELLED when @cancellable was cancelled
 * before the whole document was sent (the connection is then dropped without an end of file,
 * so the neighbour cancels the job and nothing prints), G_IO_ERROR_TIMED_OUT when the
 * neighbour took no data or did not answer for the client's timeout, another G_IO_ERROR when
 * @fd cannot be read or the connection failed. @progress may be NULL. */
gboolean porch_client_print(PorchClient *client, const char *printer, int fd, guint copies,
                            const char *title, gint *ret_job_id, PorchPrintProgressFunc progress,
                            gpointer progress_data, GCancellable *cancellable, GError **error);

/* Lists this peer's jobs on @printer, or with @printer NULL on every printer it may print on
 * there, oldest first: an array of PorchPrintJob* (free with g_ptr_array_unref()) in
 * @ret_jobs. FALSE with @error set as for porch_client_print(). */
gboolean porch_client_jobs(PorchClient *client, const char *printer, GPtrArray **ret_jobs,
                           GError **error);

/* Cancels job @job_id of this peer on @printer. FALSE with @error set as for
 * porch_client_print(): PORCH_PRINT_ERROR_NO_SUCH when there is no such job of this peer. */
gboolean porch_client_cancel(PorchClient *client, const char *printer, int job_id, GError **error);

/* What a neighbour's "status" command said (porch-print-protocol.h): who it is, to us. */
typedef struct {
    char *name;     /* its display name; valid UTF-8 without control characters */
    GStrv shares;   /* the shares we may read there, as given; never NULL */
    GStrv printers; /* the printers we may print on there; never NULL */
    gint64 time_us; /* its clock when it answered (microseconds since the Unix epoch); 0 when
                       it did not say (a porchd older than the key) */
} PorchHostStatus;

void porch_host_status_free(PorchHostStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchHostStatus, porch_host_status_free)

/* Asks the neighbour who it is ("status", one command per connection as for print): its display
 * name and what this client may see there. The new status in @ret_status, or FALSE with @error
 * set as for porch_client_jobs(): PORCH_PRINT_ERROR_USAGE from a porchd too old to know the
 * command, PORCH_CLIENT_ERROR_PROTOCOL for a reply beyond the bounds of
 * porch_print_parse_status(). */
gboolean porch_client_status(PorchClient *client, PorchHostStatus **ret_status, GError **error);

/* A file a neighbour's "search" found (porch-print-protocol.h). */
typedef struct {
    char *share; /* valid UTF-8 without control characters, at most PORCH_NAME_MAX bytes */
    char *path;  /* beneath the share: the same, at most PORCH_WIRE_MAX_PATH bytes */
    guint64 size;
    char *sha256; /* 64 lower-case hexadecimal digits */
} PorchSearchMatch;

void porch_search_match_free(PorchSearchMatch *match);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchSearchMatch, porch_search_match_free)

/* Runs "search" on the neighbour (one command per connection, as for print): the files it
 * holds that this client may read, whose name matches @pattern, or (@pattern NULL) whose
 * SHA-256 is @sha256 (64 hexadecimal digits). An array of PorchSearchMatch* in
 * @ret_matches, or FALSE with @error set as for porch_client_jobs():
 * PORCH_PRINT_ERROR_UNAVAILABLE when it has no content index, PORCH_PRINT_ERROR_USAGE from a
 * porchd too old to know the command. */
gboolean porch_client_search(PorchClient *client, const char *pattern, const char *sha256,
                             GPtrArray **ret_matches, GError **error);

/* ---- what porchd sends back ----
 *
 * The pure parsers of porchd's replies that the commands above use, exported for the tests
 * and the fuzzer (tests/fuzz/fuzz-print-reply.c). Each reads @len bytes at @data (not
 * NUL-terminated; a NUL byte in them is a malformed reply) and trusts nothing in them. */

/* The most jobs a "jobs" reply may list, and the longest message taken from standard error
 * (bytes; a longer one is cut at a character). */
#define PORCH_PRINT_MAX_JOBS    10000
#define PORCH_PRINT_MAX_MESSAGE 1024

/* The job id in what "print" wrote on standard output: a number 1..G_MAXINT, blanks around it
 * allowed. TRUE with *@ret_job_id set, or FALSE with @error set (PORCH_CLIENT_ERROR_PROTOCOL). */
gboolean porch_print_parse_job_id(const char *data, gsize len, gint *ret_job_id, GError **error);

/* The jobs in what "jobs" wrote on standard output: one line per job, "ID\tPRINTER\tSTATE\t
 * SIZE-KB\tCREATED\tTITLE" (porch-print-protocol.h), empty lines skipped. Returns an array of
 * PorchPrintJob * in the order given (free with g_ptr_array_unref()), or NULL with @error set
 * (PORCH_CLIENT_ERROR_PROTOCOL, naming the line) for a malformed line or more than
 * PORCH_PRINT_MAX_JOBS jobs. */
GPtrArray *porch_print_parse_jobs(const char *data, gsize len, GError **error);

/* The status in what "status" wrote on standard output (porch-print-protocol.h): lines
 * "KEY\tVALUE", unknown keys and empty lines skipped. NULL with @error set
 * (PORCH_CLIENT_ERROR_PROTOCOL) when the first line is not the name, a value is empty, longer
 * than PORCH_NAME_MAX bytes, not valid UTF-8 or holds a control character, or there are more
 * than PORCH_STATUS_MAX_ENTRIES shares and printers. */
PorchHostStatus *porch_print_parse_status(const char *data, gsize len, GError **error);

/* The matches in what "search" wrote on standard output: lines
 * "SHARE\tPATH\tSIZE\tSHA256", empty lines skipped. Returns an array of PorchSearchMatch*, or
 * NULL with @error set (PORCH_CLIENT_ERROR_PROTOCOL, naming the line) for a malformed line
 * (a field missing, empty or too long, a control character, a path that is absolute or has a
 * "." or ".." part, a size that is not a number, a hash that is not 64 hex digits) or more
 * than PORCH_SEARCH_MAX_RESULTS lines. */
GPtrArray *porch_print_parse_search(const char *data, gsize len, GError **error);

/* The error for a command that ended with exit status @status (not 0; -1 when porchd sent
 * none), with what it wrote on standard error: PORCH_PRINT_ERROR, the code the status stands
 * for (PORCH_PRINT_ERROR_FAILED for any other), and as message the first line of standard
 * error (valid UTF-8, control characters as spaces, blanks stripped, at most
 * PORCH_PRINT_MAX_MESSAGE bytes), or a sentence of our own when that line is empty. Never
 * NULL. */
GError *porch_print_status_error(int status, const char *data, gsize len);

G_END_DECLS
