/* backend.c — porch, the CUPS backend that prints a local queue's jobs on a neighbour's
 * printer (installed as <cups serverbin>/backend/porch, mode 0700: cupsd runs it as root).
 *
 *   porch                                         the device discovery line, for lpinfo -v
 *   porch JOB-ID USER TITLE COPIES OPTIONS [FILE] with DEVICE_URI=porch://HOST[:PORT]/PRINTER
 *
 * HOST is what the porch CLI takes (a display name, URI-escaped; a host name; an IPv4 or a
 * bracketed IPv6 address) and is found the same way (cli/target.c): among the Porch
 * neighbours over mDNS, else with the system's resolver. The backend authenticates with the
 * machine's porchd host key in $PORCH_STATE_DIR (/var/lib/porch by default; porch-state.h),
 * and pins neighbours' keys in that folder's known_peers file without asking. The
 * document (FILE, else standard input; a PDF with porch.ppd) goes to porchd as "print
 * PRINTER --copies COPIES --title TITLE" (shared/porch-print-client.h).
 *
 * It tells cupsd what happens with STATE:, INFO:, ERROR: and DEBUG: lines on stderr, and
 * exits with CUPS_BACKEND_OK; RETRY when the neighbour cannot be reached or its CUPS is not
 * running (the job waits and is tried again); CANCEL when the neighbour refused the job (not
 * allowed, no such printer, CUPS there rejected the document); STOP when the neighbour's host
 * key changed (the queue stops until an administrator looks); FAILED otherwise.
 *
 * It never waits without a bound: finding HOST takes at most RESOLVE_TIMEOUT_S, connecting and
 * each reply at most REPLY_TIMEOUT_S. SIGTERM (a job cancelled here) ends it at once: the
 * connection drops before the document ended, and porchd cancels the job there.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cups/backend.h>
#include <cups/http.h>

#include "porch-cli.h"
#include "porch-config.h"
#include "porch-print-client.h"
#include "porch-state.h"
#include "porch-text.h"

#define RESOLVE_TIMEOUT_S 5.0
#define REPLY_TIMEOUT_S   60

/* "PREFIX: message" on stderr, on one line, with control characters replaced. */
G_GNUC_PRINTF(2, 3)
static void
say(const char *prefix, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *valid = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    valid = porch_text_show(msg, -1, G_MAXSIZE, PORCH_TEXT_ONE_LINE);
    fprintf(stderr, "%s: %s\n", prefix, valid);
    fflush(stderr);
}

/* The target of porch://HOST[:PORT]/PRINTER: NULL having said why. */
static PorchCliTarget *
parse_device_uri(const char *uri, char **ret_printer)
{
    char scheme[32], userpass[256], host[256], resource[1024];
    int port = 0;
    http_uri_status_t st;
    g_autoptr(PorchCliTarget) t = g_new0(PorchCliTarget, 1);
    const char *printer;

    st = httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, sizeof scheme, userpass, sizeof userpass,
                         host, sizeof host, &port, resource, sizeof resource);
    if (st < HTTP_URI_STATUS_OK || strcmp(scheme, "porch") != 0) {
        say("ERROR", "The device URI %s is not porch://HOST/PRINTER (%s)", uri,
            st < HTTP_URI_STATUS_OK ? httpURIStatusString(st) : "another scheme");
        return NULL;
    }
    printer = resource[0] == '/' ? resource + 1 : resource;
    if (host[0] == '\0' || *printer == '\0' || strchr(printer, '/') != NULL ||
        strchr(printer, '?') != NULL || !g_utf8_validate(host, -1, NULL) ||
        !g_utf8_validate(printer, -1, NULL)) {
        say("ERROR", "The device URI %s is not porch://HOST/PRINTER", uri);
        return NULL;
    }
    if (port < 0 || port > 65535) {
        say("ERROR", "The device URI %s has a bad port", uri);
        return NULL;
    }
    t->name = g_strdup(host);
    t->port = (guint16)port;
    if (strchr(host, ':') != NULL)
        t->host = port ? g_strdup_printf("[%s]:%d", host, port) : g_strdup_printf("[%s]", host);
    else
        t->host = port ? g_strdup_printf("%s:%d", host, port) : g_strdup(host);
    t->path = g_strconcat("/", printer, NULL);
    *ret_printer = g_strdup(printer);
    return g_steal_pointer(&t);
}

/* The exit status for a connection that failed with @error. */
static int
connect_failed(const PorchCliTarget *t, const GError *error)
{
    if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_CHANGED) ||
        g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_HOST_KEY_MISMATCH)) {
        say("ERROR", "%s: %s", t->host, error->message);
        return CUPS_BACKEND_STOP;
    }
    if (g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_AUTH)) {
        say("ERROR", "%s refused this machine: %s", t->host, error->message);
        return CUPS_BACKEND_CANCEL;
    }
    if (error->domain == G_IO_ERROR &&
        (error->code == G_IO_ERROR_HOST_NOT_FOUND || error->code == G_IO_ERROR_CONNECTION_REFUSED ||
         error->code == G_IO_ERROR_TIMED_OUT || error->code == G_IO_ERROR_CONNECTION_CLOSED ||
         error->code == G_IO_ERROR_HOST_UNREACHABLE ||
         error->code == G_IO_ERROR_NETWORK_UNREACHABLE)) {
        say("ERROR", "Cannot reach %s: %s; will try again", t->host, error->message);
        return CUPS_BACKEND_RETRY;
    }
    say("ERROR", "%s: %s", t->host, error->message);
    return CUPS_BACKEND_FAILED;
}

/* The exit status for a print command that failed with @error. */
static int
print_failed(const PorchCliTarget *t, const char *what, PorchClient *client, const GError *error)
{
    if (error->domain == PORCH_PRINT_ERROR) {
        switch ((PorchPrintError)error->code) {
        case PORCH_PRINT_ERROR_UNAVAILABLE:
            say("ERROR", "%s: %s; will try again", what, error->message);
            return CUPS_BACKEND_RETRY;
        case PORCH_PRINT_ERROR_NOT_ALLOWED:
        case PORCH_PRINT_ERROR_NO_SUCH:
            if (porch_client_is_guest(client)) {
                say("ERROR",
                    "%s refused the job: %s (%s does not know this machine's key and took it "
                    "for a guest; it has been asked for access: its owner can run 'porch peers "
                    "accept %s')",
                    what, error->message, t->host, g_get_host_name());
                return CUPS_BACKEND_CANCEL;
            }
            say("ERROR", "%s refused the job: %s", what, error->message);
            return CUPS_BACKEND_CANCEL;
        case PORCH_PRINT_ERROR_REJECTED:
            say("ERROR", "%s refused the job: %s", what, error->message);
            return CUPS_BACKEND_CANCEL;
        default:
            break;
        }
    }
    say("ERROR", "%s: %s", what, error->message);
    return CUPS_BACKEND_FAILED;
}

typedef struct {
    gint64 last;
} Progress;

static void
on_progress(guint64 sent, guint64 total, gpointer data)
{
    Progress *p = data;
    gint64 now = g_get_monotonic_time();

    if (now - p->last < G_USEC_PER_SEC)
        return;
    p->last = now;
    if (total > 0)
        say("DEBUG", "porch: sent %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes", sent,
            total);
    else
        say("DEBUG", "porch: sent %" G_GUINT64_FORMAT " bytes", sent);
}

int
main(int argc, char **argv)
{
    g_autoptr(PorchCliTarget) target = NULL;
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *printer = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *identity = NULL;
    g_autofree char *known = NULL;
    g_autofree char *what = NULL;
    const char *uri = g_getenv("DEVICE_URI");
    const char *env_state = g_getenv("PORCH_STATE_DIR");
    const char *title;
    gint64 copies;
    int fd = STDIN_FILENO, status, job_id = 0;
    Progress progress = {0};
    PorchCliConnectOptions options = {
            .never_ask = TRUE,
            .for_print = TRUE,
            .timeout_seconds = REPLY_TIMEOUT_S,
    };

    setlocale(LC_ALL, "");
    signal(SIGPIPE, SIG_IGN);

    if (argc == 1) {
        /* device discovery (lpinfo -v): a scheme the user completes, not a device found */
        puts("network porch \"Unknown\" \"Porch shared printer\"");
        return CUPS_BACKEND_OK;
    }
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "Usage: %s job-id user title copies options [file]\n", argv[0]);
        return CUPS_BACKEND_FAILED;
    }
    if (uri == NULL && strstr(argv[0], "://") != NULL)
        uri = argv[0];
    if (uri == NULL) {
        say("ERROR", "No device URI (DEVICE_URI) for the porch backend");
        return CUPS_BACKEND_FAILED;
    }
    target = parse_device_uri(uri, &printer);
    if (target == NULL)
        return CUPS_BACKEND_FAILED;
    what = g_strconcat(target->host, "/", printer, NULL);
    if (!porch_text_to_signed(argv[4], 10, 1, PORCH_PRINT_MAX_COPIES, &copies, NULL)) {
        say("ERROR", "%s copies: porch prints 1 to %d at a time", argv[4], PORCH_PRINT_MAX_COPIES);
        return CUPS_BACKEND_FAILED;
    }
    title = argv[3][0] != '\0' ? argv[3] : NULL;

    state_dir = env_state != NULL && *env_state != '\0' ? g_strdup(env_state)
                                                        : porch_state_default_dir(TRUE);
    identity = porch_state_file(state_dir, PORCH_STATE_HOST_KEY);
    known = porch_state_file(state_dir, PORCH_STATE_KNOWN_PEERS);
    /* porchd makes the key; the backend would make one porchd cannot read */
    if (!g_file_test(identity, G_FILE_TEST_IS_REGULAR)) {
        say("ERROR", "No host key at %s: start porchd once (or set PORCH_STATE_DIR)", identity);
        return CUPS_BACKEND_FAILED;
    }
    options.identity_file = identity;
    options.known_peers = known;
    options.user = g_get_host_name();

    if (argc == 7) {
        fd = open(argv[6], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            say("ERROR", "Cannot open the document %s: %s", argv[6], g_strerror(errno));
            return CUPS_BACKEND_FAILED;
        }
    }

    say("STATE", "+connecting-to-device");
    say("INFO", "Looking for %s", target->host);
    status = porch_cli_target_resolve(target, RESOLVE_TIMEOUT_S);
    if (status != PORCH_CLI_EXIT_OK) {
        say("STATE", "-connecting-to-device");
        say("ERROR", "No neighbour %s on the network now; will try again", target->host);
        if (fd != STDIN_FILENO)
            close(fd);
        return CUPS_BACKEND_RETRY;
    }
    say("INFO", "Connecting to %s", target->host);
    say("DEBUG", "porch: %s at %s port %u, identity %s, known peers %s", target->host,
        target->addresses[0], (unsigned)target->connect_port, identity, known);
    status = porch_cli_connect_full(target, &options, &client, NULL, &error);
    say("STATE", "-connecting-to-device");
    if (status != PORCH_CLI_EXIT_OK) {
        if (fd != STDIN_FILENO)
            close(fd);
        return connect_failed(target, error);
    }
    if (porch_client_is_guest(client))
        say("DEBUG", "porch: %s does not know this machine's key: printing as guest", what);

    say("INFO", "Sending the document to %s", what);
    if (!porch_client_print(client, printer, fd, (guint)copies, title, &job_id, on_progress,
                            &progress, NULL, &error)) {
        if (fd != STDIN_FILENO)
            close(fd);
        return print_failed(target, what, client, error);
    }
    if (fd != STDIN_FILENO)
        close(fd);
    say("INFO", "Printing as job %d on %s", job_id, what);
    return CUPS_BACKEND_OK;
}
