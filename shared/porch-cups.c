/* porch-cups.c — see porch-cups.h.
 *
 * Plain IPP requests built here rather than libcups's destination API (cupsCreateDestJob and
 * friends): those act for cupsUser(), a per-thread global, and fetch the whole destination
 * description first; a request of our own names its user and asks only what it needs.
 * libcups still does the transport: chunked Send-Document, reconnecting after a cupsd
 * restart, status-message as cupsLastErrorString().
 */
#define G_LOG_DOMAIN "porch-cups"

#include "porch-cups.h"

#include <string.h>

/* IPP's limit for name attributes (job-name, document-name), in bytes. */
#define IPP_NAME_MAX 255

/* ---- errors ---- */

static int
error_code(ipp_status_t status)
{
    switch (status) {
    case IPP_STATUS_ERROR_NOT_FOUND:
        return G_IO_ERROR_NOT_FOUND;
    case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
        return G_IO_ERROR_CONNECTION_REFUSED;
    case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
    case IPP_STATUS_ERROR_BUSY:
    case IPP_STATUS_ERROR_TEMPORARY:
        return G_IO_ERROR_BUSY;
    case IPP_STATUS_ERROR_FORBIDDEN:
    case IPP_STATUS_ERROR_NOT_AUTHENTICATED:
    case IPP_STATUS_ERROR_NOT_AUTHORIZED:
        return G_IO_ERROR_PERMISSION_DENIED;
    default:
        break;
    }
    if (status >= IPP_STATUS_ERROR_BAD_REQUEST && status < IPP_STATUS_ERROR_INTERNAL)
        return G_IO_ERROR_INVALID_DATA;
    return G_IO_ERROR_FAILED;
}

/* Sets @error to CUPS not being reachable, for @why unless the server is a local socket that
 * is not there: libcups says "Host is down" for that too. */
static void
set_unreachable(GError **error, const char *why)
{
    const char *server = cupsServer();

    if (server[0] == '/' && !g_file_test(server, G_FILE_TEST_EXISTS))
        why = "no such socket, cupsd is not running";
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "CUPS (%s) is not reachable: %s",
                server, why);
}

/* Sets @error from libcups's last error (this thread's), as the request on @http left it. A
 * request that got no answer at all — the socket went, or CUPS stopped answering within the
 * timeout — is "not reachable", whatever status libcups made up for it. */
static gboolean
set_last_error(GError **error, http_t *http)
{
    ipp_status_t status = cupsLastError();
    const char *text = cupsLastErrorString();
    int code = error_code(status);

    if (text == NULL || *text == '\0')
        text = ippErrorString(status);
    if (http != NULL && httpError(http) != 0 &&
        (status == IPP_STATUS_ERROR_INTERNAL || status == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE)) {
        /* libcups's text is then "Success" or the like; the socket's error says more */
        code = G_IO_ERROR_CONNECTION_REFUSED;
        text = g_strerror(httpError(http));
    }
    if (code == G_IO_ERROR_CONNECTION_REFUSED)
        set_unreachable(error, text);
    else
        g_set_error_literal(error, G_IO_ERROR, code, text);
    return FALSE;
}

/* ---- requests ---- */

/* "ipp://localhost/printers/QUEUE", and its resource "/printers/QUEUE" (both escaped). */
static void
printer_uri(const char *queue, char *uri, size_t uri_size, char *resource, size_t resource_size)
{
    char scheme[16], userpass[16], host[256];
    int port;

    httpAssembleURIf(HTTP_URI_CODING_ALL, uri, (int)uri_size, "ipp", NULL, "localhost", 0,
                     "/printers/%s", queue);
    if (resource != NULL)
        httpSeparateURI(HTTP_URI_CODING_NONE, uri, scheme, sizeof scheme, userpass, sizeof userpass,
                        host, sizeof host, &port, resource, (int)resource_size);
}

/* A new request of @op for @user, addressed to @queue's printer-uri (NULL: the server's). */
static ipp_t *
request_new(ipp_op_t op, const char *queue, const char *user)
{
    ipp_t *rq = ippNewRequest(op);
    char uri[HTTP_MAX_URI];

    if (queue != NULL)
        printer_uri(queue, uri, sizeof uri, NULL, 0);
    else
        g_strlcpy(uri, "ipp://localhost/", sizeof uri);
    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, user);
    return rq;
}

/* A request about job @job_id: job-uri instead of printer-uri. */
static ipp_t *
job_request_new(ipp_op_t op, int job_id, const char *user)
{
    ipp_t *rq = ippNewRequest(op);
    g_autofree char *uri = g_strdup_printf("ipp://localhost/jobs/%d", job_id);

    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_URI, "job-uri", NULL, uri);
    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, user);
    return rq;
}

/* The password callback: never a prompt. libcups would otherwise ask on the terminal when CUPS
 * wants authentication, and a daemon has none. */
static const char *
no_password(const char *prompt, http_t *http, const char *method, const char *resource,
            void *user_data)
{
    return NULL;
}

/* Sends @rq (consumed) and returns CUPS's answer, or NULL with @error set when there is none
 * or it is an error. */
static ipp_t *
do_request(http_t *http, ipp_t *rq, const char *resource, GError **error)
{
    ipp_t *rs;

    /* per thread, and a connection may be used by another thread than the one that made it */
    cupsSetPasswordCB2(no_password, NULL);
    rs = cupsDoRequest(http, rq, resource);

    if (rs == NULL || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
        ippDelete(rs);
        set_last_error(error, http);
        return NULL;
    }
    return rs;
}

/* @text as an IPP name value: valid UTF-8, at most IPP_NAME_MAX bytes cut at a character. */
static char *
ipp_name(const char *text)
{
    char *s = g_utf8_make_valid(text, -1);
    size_t cut = IPP_NAME_MAX;

    if (strlen(s) > cut) {
        while (cut > 0 && ((guchar)s[cut] & 0xC0) == 0x80)
            cut--;
        s[cut] = '\0';
    }
    return s;
}

/* The queue's name at the end of a printer URI ("ipp://localhost/printers/Office"). */
static char *
queue_of_uri(const char *uri)
{
    const char *slash = uri ? strrchr(uri, '/') : NULL;
    g_autofree char *escaped = g_strdup(slash ? slash + 1 : "");

    return g_uri_unescape_string(escaped, NULL);
}

/* ---- public ---- */

void
porch_cups_printer_clear(PorchCupsPrinter *printer)
{
    g_clear_pointer(&printer->make_and_model, g_free);
    *printer = (PorchCupsPrinter){0};
}

void
porch_cups_job_free(PorchCupsJob *job)
{
    if (job == NULL)
        return;
    g_free(job->queue);
    g_free(job->title);
    g_free(job);
}

PorchPrintJobState
porch_cups_job_state(ipp_jstate_t state)
{
    switch (state) {
    case IPP_JSTATE_PENDING:
        return PORCH_PRINT_JOB_PENDING;
    case IPP_JSTATE_HELD:
        return PORCH_PRINT_JOB_HELD;
    case IPP_JSTATE_PROCESSING:
        return PORCH_PRINT_JOB_PROCESSING;
    case IPP_JSTATE_STOPPED:
        return PORCH_PRINT_JOB_STOPPED;
    case IPP_JSTATE_CANCELED:
        return PORCH_PRINT_JOB_CANCELED;
    case IPP_JSTATE_ABORTED:
        return PORCH_PRINT_JOB_ABORTED;
    case IPP_JSTATE_COMPLETED:
        return PORCH_PRINT_JOB_COMPLETED;
    }
    return PORCH_PRINT_JOB_PENDING;
}

http_t *
porch_cups_connect(int timeout_ms, GError **error)
{
    http_t *http;

    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (timeout_ms <= 0)
        timeout_ms = PORCH_CUPS_TIMEOUT_MS;
    cupsSetPasswordCB2(no_password, NULL);
    http = httpConnect2(cupsServer(), ippPort(), NULL, AF_UNSPEC, cupsEncryption(), 1, timeout_ms,
                        NULL);
    if (http == NULL) {
        set_unreachable(error, cupsLastErrorString());
        return NULL;
    }
    /* without a callback, a request that gets no answer in time fails instead of waiting */
    httpSetTimeout(http, timeout_ms / 1000.0, NULL, NULL);
    return http;
}

gboolean
porch_cups_get_printer(http_t *http, const char *queue, PorchCupsPrinter *ret, GError **error)
{
    static const char *const wanted[] = {
            "printer-make-and-model", "color-supported",           "sides-supported",
            "printer-state",          "printer-is-accepting-jobs",
    };
    ipp_t *rq, *rs;
    ipp_attribute_t *a;
    PorchCupsPrinter p = {0};

    g_return_val_if_fail(http != NULL && queue != NULL && ret != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    rq = request_new(IPP_OP_GET_PRINTER_ATTRIBUTES, queue, cupsUser());
    ippAddStrings(rq, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  G_N_ELEMENTS(wanted), NULL, wanted);
    rs = do_request(http, rq, "/", error);
    if (rs == NULL)
        return FALSE;

    a = ippFindAttribute(rs, "printer-make-and-model", IPP_TAG_TEXT);
    p.make_and_model = g_strdup(a ? ippGetString(a, 0, NULL) : "");
    a = ippFindAttribute(rs, "color-supported", IPP_TAG_BOOLEAN);
    p.color = a != NULL && ippGetBoolean(a, 0);
    a = ippFindAttribute(rs, "sides-supported", IPP_TAG_KEYWORD);
    for (int i = 0; a != NULL && i < ippGetCount(a); i++)
        if (g_str_has_prefix(ippGetString(a, i, NULL), "two-sided-"))
            p.duplex = TRUE;
    a = ippFindAttribute(rs, "printer-state", IPP_TAG_ENUM);
    switch (a ? ippGetInteger(a, 0) : IPP_PSTATE_IDLE) {
    case IPP_PSTATE_PROCESSING:
        p.state = PORCH_CUPS_PRINTER_PROCESSING;
        break;
    case IPP_PSTATE_STOPPED:
        p.state = PORCH_CUPS_PRINTER_STOPPED;
        break;
    default:
        p.state = PORCH_CUPS_PRINTER_IDLE;
        break;
    }
    a = ippFindAttribute(rs, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
    p.accepting = a != NULL && ippGetBoolean(a, 0);
    ippDelete(rs);

    /* success */
    *ret = p;
    return TRUE;
}

/* Reads the attributes of one job group of @rs, from @a on, into @job and *@ret_owner;
 * returns the attribute after the group. */
static ipp_attribute_t *
read_job(ipp_t *rs, ipp_attribute_t *a, PorchCupsJob *job, char **ret_owner)
{
    for (; a != NULL && ippGetGroupTag(a) == IPP_TAG_JOB && ippGetName(a) != NULL;
         a = ippNextAttribute(rs)) {
        const char *name = ippGetName(a);
        ipp_tag_t tag = ippGetValueTag(a);
        gboolean text = tag == IPP_TAG_NAME || tag == IPP_TAG_NAMELANG;

        if (strcmp(name, "job-id") == 0 && tag == IPP_TAG_INTEGER)
            job->id = ippGetInteger(a, 0);
        else if (strcmp(name, "job-state") == 0 && tag == IPP_TAG_ENUM)
            job->state = (ipp_jstate_t)ippGetInteger(a, 0);
        else if (strcmp(name, "job-name") == 0 && text) {
            g_free(job->title);
            job->title = g_strdup(ippGetString(a, 0, NULL));
        } else if (strcmp(name, "job-k-octets") == 0 && tag == IPP_TAG_INTEGER)
            job->size_kb = (guint64)MAX(0, ippGetInteger(a, 0));
        else if (strcmp(name, "time-at-creation") == 0 && tag == IPP_TAG_INTEGER)
            job->created = ippGetInteger(a, 0);
        else if (strcmp(name, "job-printer-uri") == 0 && tag == IPP_TAG_URI) {
            g_free(job->queue);
            job->queue = queue_of_uri(ippGetString(a, 0, NULL));
        } else if (strcmp(name, "job-originating-user-name") == 0 && text && ret_owner) {
            g_free(*ret_owner);
            *ret_owner = g_strdup(ippGetString(a, 0, NULL));
        }
    }
    return a;
}

/* A job that cupsd has just unloaded from memory comes in Get-Jobs without its name and
 * creation time (cupsd answers from a cache that only a reload fills); Get-Job-Attributes
 * loads it. */
static void
complete_job(http_t *http, PorchCupsJob *job, const char *user)
{
    static const char *const wanted[] = {"job-name", "time-at-creation"};
    ipp_t *rq = job_request_new(IPP_OP_GET_JOB_ATTRIBUTES, job->id, user);
    ipp_t *rs;
    ipp_attribute_t *a;

    ippAddStrings(rq, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  G_N_ELEMENTS(wanted), NULL, wanted);
    rs = do_request(http, rq, "/", NULL);
    for (a = ippFirstAttribute(rs); a != NULL && ippGetGroupTag(a) != IPP_TAG_JOB;)
        a = ippNextAttribute(rs);
    read_job(rs, a, job, NULL);
    ippDelete(rs);
}

GPtrArray *
porch_cups_get_jobs(http_t *http, const char *queue, const char *user, GError **error)
{
    static const char *const wanted[] = {
            "job-id",
            "job-state",
            "job-name",
            "job-k-octets",
            "time-at-creation",
            "job-printer-uri",
            "job-originating-user-name",
    };
    g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func((GDestroyNotify)porch_cups_job_free);
    ipp_t *rq, *rs;
    ipp_attribute_t *a;

    g_return_val_if_fail(http != NULL && user != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    rq = request_new(IPP_OP_GET_JOBS, queue, user);
    ippAddBoolean(rq, IPP_TAG_OPERATION, "my-jobs", 1);
    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", NULL, "all");
    ippAddStrings(rq, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  G_N_ELEMENTS(wanted), NULL, wanted);
    rs = do_request(http, rq, "/", error);
    if (rs == NULL)
        return NULL;

    /* One job group after the other, separated by an attribute without a name. */
    a = ippFirstAttribute(rs);
    while (a != NULL) {
        g_autoptr(PorchCupsJob) job = NULL;
        g_autofree char *owner = NULL;

        while (a != NULL && ippGetGroupTag(a) != IPP_TAG_JOB)
            a = ippNextAttribute(rs);
        if (a == NULL)
            break;
        job = g_new0(PorchCupsJob, 1);
        job->state = IPP_JSTATE_PENDING;
        a = read_job(rs, a, job, &owner);
        /* my-jobs asks CUPS for this user's jobs; the owner is checked here all the same */
        if (job->id > 0 && job->queue != NULL && g_strcmp0(owner, user) == 0) {
            if (job->title == NULL || job->created == 0)
                complete_job(http, job, user);
            if (job->title == NULL)
                job->title = g_strdup("");
            g_ptr_array_add(jobs, g_steal_pointer(&job));
        }
        if (a != NULL)
            a = ippNextAttribute(rs);
    }
    ippDelete(rs);
    return g_steal_pointer(&jobs);
}

/* Cancel-Job for @user, without any check. */
static gboolean
cancel_job(http_t *http, int job_id, const char *user, GError **error)
{
    ipp_t *rs = do_request(http, job_request_new(IPP_OP_CANCEL_JOB, job_id, user), "/jobs/", error);

    ippDelete(rs);
    return rs != NULL;
}

gboolean
porch_cups_cancel_job(http_t *http, const char *queue, int job_id, const char *user, GError **error)
{
    static const char *const wanted[] = {"job-originating-user-name", "job-printer-uri"};
    g_autoptr(GError) local = NULL;
    g_autofree char *job_queue = NULL;
    ipp_t *rq, *rs;
    ipp_attribute_t *owner, *printer;
    gboolean mine;

    g_return_val_if_fail(http != NULL && queue != NULL && user != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (job_id <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no job %d", job_id);
        return FALSE;
    }
    /* Whose job, on which queue: CUPS's own check could be satisfied by our being root. */
    rq = job_request_new(IPP_OP_GET_JOB_ATTRIBUTES, job_id, user);
    ippAddStrings(rq, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  G_N_ELEMENTS(wanted), NULL, wanted);
    rs = do_request(http, rq, "/", &local);
    if (rs == NULL) {
        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no job %d", job_id);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    owner = ippFindAttribute(rs, "job-originating-user-name", IPP_TAG_NAME);
    printer = ippFindAttribute(rs, "job-printer-uri", IPP_TAG_URI);
    job_queue = printer ? queue_of_uri(ippGetString(printer, 0, NULL)) : NULL;
    mine = owner != NULL && g_strcmp0(ippGetString(owner, 0, NULL), user) == 0 &&
           g_strcmp0(job_queue, queue) == 0;
    ippDelete(rs);
    if (!mine) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no job %d", job_id);
        return FALSE;
    }
    return cancel_job(http, job_id, user, error);
}

/* ---- submission ---- */

struct _PorchCupsSubmission {
    http_t *http;
    char *user;
    char resource[HTTP_MAX_URI]; /* "/printers/QUEUE" */
    int timeout_ms;
    int job_id;
    gboolean sending; /* Send-Document's body is being written */
    gboolean done;    /* CUPS took the job, or it has been cancelled */
};

/* Drops the job: the connection goes with a half-sent document (CUPS sees the request cut
 * off, never its end), and a new one cancels the job. */
static void
abandon(PorchCupsSubmission *sub)
{
    g_autoptr(GError) error = NULL;

    if (sub->done)
        return;
    sub->done = TRUE;
    sub->sending = FALSE;
    g_clear_pointer(&sub->http, httpClose);
    if (sub->job_id <= 0)
        return;
    sub->http = porch_cups_connect(sub->timeout_ms, &error);
    if (sub->http == NULL || !cancel_job(sub->http, sub->job_id, sub->user, &error))
        g_debug("cannot cancel job %d: %s", sub->job_id, error->message);
}

PorchCupsSubmission *
porch_cups_submission_new(const char *queue, const char *user, const char *title, guint copies,
                          int timeout_ms, GError **error)
{
    g_autoptr(PorchCupsSubmission) sub = NULL;
    g_autofree char *name = NULL;
    char uri[HTTP_MAX_URI];
    ipp_t *rq, *rs;
    ipp_attribute_t *a;
    http_status_t status;

    g_return_val_if_fail(queue != NULL && user != NULL && title != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    sub = g_new0(PorchCupsSubmission, 1);
    sub->user = g_strdup(user);
    sub->timeout_ms = timeout_ms;
    printer_uri(queue, uri, sizeof uri, sub->resource, sizeof sub->resource);
    sub->http = porch_cups_connect(timeout_ms, error);
    if (sub->http == NULL)
        return NULL;
    name = ipp_name(title);

    rq = request_new(IPP_OP_CREATE_JOB, queue, user);
    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, name);
    if (copies != 1)
        ippAddInteger(rq, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", (int)copies);
    rs = do_request(sub->http, rq, sub->resource, error);
    if (rs == NULL) {
        sub->done = TRUE; /* no job to cancel */
        return NULL;
    }
    a = ippFindAttribute(rs, "job-id", IPP_TAG_INTEGER);
    sub->job_id = a ? ippGetInteger(a, 0) : 0;
    ippDelete(rs);
    if (sub->job_id <= 0) {
        sub->done = TRUE;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "CUPS created a job without an id");
        return NULL;
    }

    rq = request_new(IPP_OP_SEND_DOCUMENT, queue, user);
    ippAddInteger(rq, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", sub->job_id);
    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_NAME, "document-name", NULL, name);
    ippAddString(rq, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL,
                 CUPS_FORMAT_AUTO);
    ippAddBoolean(rq, IPP_TAG_OPERATION, "last-document", 1);
    status = cupsSendRequest(sub->http, rq, sub->resource, CUPS_LENGTH_VARIABLE);
    ippDelete(rq);
    if (status != HTTP_STATUS_CONTINUE) {
        set_last_error(error, sub->http);
        return NULL; /* the job is cancelled as the submission goes */
    }
    sub->sending = TRUE;
    return g_steal_pointer(&sub);
}

int
porch_cups_submission_get_job_id(const PorchCupsSubmission *submission)
{
    g_return_val_if_fail(submission != NULL, 0);
    return submission->job_id;
}

gboolean
porch_cups_submission_write(PorchCupsSubmission *sub, const void *data, gsize len, GError **error)
{
    http_status_t status;

    g_return_val_if_fail(sub != NULL && (data != NULL || len == 0), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!sub->sending) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the document was ended already");
        return FALSE;
    }
    if (len == 0)
        return TRUE;
    status = cupsWriteRequestData(sub->http, data, len);
    if (status == HTTP_STATUS_CONTINUE)
        return TRUE;
    /* CUPS answered before the end (an error, with its reason), or the connection broke */
    sub->sending = FALSE;
    if (status != HTTP_STATUS_ERROR) {
        ipp_t *rs = cupsGetResponse(sub->http, sub->resource);
        ippDelete(rs);
        if (cupsLastError() > IPP_STATUS_OK_CONFLICTING)
            return set_last_error(error, sub->http);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                "CUPS (%s) stopped taking the document: %s", cupsServer(), cupsLastErrorString());
    return FALSE;
}

gboolean
porch_cups_submission_finish(PorchCupsSubmission *sub, GError **error)
{
    ipp_t *rs;

    g_return_val_if_fail(sub != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (!sub->sending) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the document was ended already");
        return FALSE;
    }
    sub->sending = FALSE;
    /* ends the chunked body, then reads the answer */
    rs = cupsGetResponse(sub->http, sub->resource);
    ippDelete(rs);
    if (rs == NULL || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
        set_last_error(error, sub->http);
        abandon(sub);
        return FALSE;
    }
    sub->done = TRUE;
    return TRUE;
}

void
porch_cups_submission_free(PorchCupsSubmission *sub)
{
    if (sub == NULL)
        return;
    abandon(sub);
    g_clear_pointer(&sub->http, httpClose);
    g_free(sub->user);
    g_free(sub);
}
