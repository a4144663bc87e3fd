/* porch-print-protocol.h — what porchd's print commands and their clients agree on: the
 * commands and options, their limits, the job states, the exit statuses.
 *
 * A client (porch-print-client.c, for `porch print`, `porch jobs`, `porch cancel`, the CUPS
 * backend and the tray) runs ONE command per connection, as an SSH "exec" request on porchd's
 * port. porchd (daemon/print-server.c) splits the command line as a shell would, without a
 * shell (g_shell_parse_argv()); the client quotes each argument for that (g_shell_quote()):
 *
 *   print PRINTER [--copies N] [--title TITLE]   stdin: the document;  stdout: "JOB-ID\n"
 *   jobs [PRINTER]                               stdout: one line per job of this peer
 *   cancel PRINTER JOB-ID
 *   status                                       stdout: who this host is, to the asker
 *   search PATTERN | search --sha256 HEX         stdout: files the asker may read (below)
 *
 * "status" (no SFTP, no printer involved) is how a client learns what a neighbour it reaches
 * by address, without mDNS, would have advertised: lines "KEY\tVALUE\n", first
 * "name\tDISPLAY NAME" (the name porchd publishes its _porch._tcp service under, before any
 * collision rename), then "share\tNAME" for each share the asker may read and "printer\tNAME"
 * for each printer it may print on (hidden and offline ones left out, as in the SFTP root
 * listing), and "time\tMICROSECONDS" (its clock: microseconds since the Unix epoch, decimal
 * digits, at most PORCH_STATUS_MAX_TIME_DIGITS) for `porch doctor HOST` to compare with ours.
 * Every value is at most PORCH_NAME_MAX bytes of UTF-8 without control characters;
 * at most PORCH_STATUS_MAX_ENTRIES shares and printers together. A client takes at most
 * PORCH_STATUS_MAX_REPLY bytes and ignores keys it does not know.
 *
 * "search" looks in the host's content index: for the files whose name matches PATTERN (a
 * glob with '*' or '?', else a part of the name; case does not matter; 1 to
 * PORCH_SEARCH_MAX_PATTERN bytes), or whose SHA-256 is HEX (64 hexadecimal digits), in the
 * shares the asker may read (hidden ones included, offline ones not), it answers one line per
 * file, "SHARE\tPATH\tSIZE\tSHA256\n" (PATH beneath the share, SHA256 in lower-case hex), at
 * most PORCH_SEARCH_MAX_RESULTS of them; files whose name holds a control character are left
 * out. EX_UNAVAILABLE when the host has no content index yet. A client takes at most
 * PORCH_SEARCH_MAX_REPLY bytes.
 *
 * A line of "jobs" is PORCH_PRINT_JOB_FIELDS fields separated by tabs:
 * "ID\tPRINTER\tSTATE\tSIZE-KB\tCREATED\tTITLE\n", STATE one of the job states below by its
 * name, CREATED Unix time, TITLE without tabs, line breaks or other control characters.
 *
 * The command's exit status is one of sysexits.h's: 0, or EX_USAGE (64) bad command or
 * arguments, EX_DATAERR (65) CUPS refused the document or job, or the document is larger
 * than the printer's max-print-size, EX_NOINPUT (66) no such printer or no such job of this
 * peer, EX_UNAVAILABLE (69) CUPS is not running, the queue is missing or not accepting jobs,
 * EX_IOERR (74) the document did not arrive whole, EX_NOPERM (77) not allowed; with one line
 * on stderr saying why. The client's PorchPrintError codes are these statuses.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The commands, and the options of "print". */
#define PORCH_PRINT_CMD_PRINT   "print"
#define PORCH_PRINT_CMD_JOBS    "jobs"
#define PORCH_PRINT_CMD_CANCEL  "cancel"
#define PORCH_PRINT_CMD_STATUS  "status"
#define PORCH_PRINT_CMD_SEARCH  "search"
#define PORCH_SEARCH_OPT_SHA256 "--sha256"
/* "search": the longest pattern, the most files one answer lists, its largest size. */
#define PORCH_SEARCH_MAX_PATTERN 256
#define PORCH_SEARCH_MAX_RESULTS 200
#define PORCH_SEARCH_MAX_REPLY   (PORCH_SEARCH_MAX_RESULTS * (4096 + 512))
/* The keys of the lines of "status" (above). */
#define PORCH_STATUS_KEY_NAME        "name"
#define PORCH_STATUS_KEY_SHARE       "share"
#define PORCH_STATUS_KEY_PRINTER     "printer"
#define PORCH_STATUS_KEY_TIME        "time"
#define PORCH_STATUS_MAX_TIME_DIGITS 18
/* The most shares and printers together a "status" reply lists, and its largest size. */
#define PORCH_STATUS_MAX_ENTRIES 1024
#define PORCH_STATUS_MAX_REPLY   (96 * 1024)
#define PORCH_PRINT_OPT_COPIES   "--copies"
#define PORCH_PRINT_OPT_TITLE    "--title"

/* The longest command line porchd accepts, in bytes. */
#define PORCH_PRINT_MAX_COMMAND 4096
/* The most copies one job may ask for (at least 1). */
#define PORCH_PRINT_MAX_COPIES 999
/* The longest title a client sends, in bytes (it cuts a longer one at a character). */
#define PORCH_PRINT_MAX_TITLE 1024
/* The title of a job whose client gave none. */
#define PORCH_PRINT_DEFAULT_TITLE "porch print"
/* The fields of a line of "jobs". */
#define PORCH_PRINT_JOB_FIELDS 6

/* A job's state, as "jobs" names it (CUPS's IPP job-state keywords). */
typedef enum {
    PORCH_PRINT_JOB_UNKNOWN, /* a state this version does not know */
    PORCH_PRINT_JOB_PENDING,
    PORCH_PRINT_JOB_HELD,
    PORCH_PRINT_JOB_PROCESSING,
    PORCH_PRINT_JOB_STOPPED,
    PORCH_PRINT_JOB_CANCELED,
    PORCH_PRINT_JOB_ABORTED,
    PORCH_PRINT_JOB_COMPLETED,
} PorchPrintJobState;

/* "pending", "held", "processing", "stopped", "canceled", "aborted", "completed"; "unknown"
 * for PORCH_PRINT_JOB_UNKNOWN or a value that is no state. A static string. */
const char *porch_print_job_state_to_string(PorchPrintJobState state);
/* The state named @name; PORCH_PRINT_JOB_UNKNOWN for any other text. */
PorchPrintJobState porch_print_job_state_from_string(const char *name);

G_END_DECLS
