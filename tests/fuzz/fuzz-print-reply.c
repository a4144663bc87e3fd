/* fuzz-print-reply.c — what porchd sends back to porch print, jobs and cancel, as the client
 * reads it (porch-print-client.h's parsers).
 *
 * Input: one byte choosing the reply (modulo 5: print's standard output, jobs' standard
 * output, a failed command's standard error, status's or search's standard output), one byte of
 * exit status for the failed command (255: none, -1), then the bytes porchd wrote. What the parsers
 * return must keep their promises: text that is safe to show, the bounds of porch-print-client.h.
 */
#include "fuzz-common.h"

#include <string.h>

#include "porch-config.h"
#include "porch-print-client.h"
#include "porch-print-protocol.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    const char *text;
    int status;

    if (size < 2)
        return 0;
    status = data[1] == 255 ? -1 : data[1];
    text = (const char *)data + 2;
    size -= 2;

    switch (data[0] % 5) {
    case 0: {
        gint id = 0;

        if (porch_print_parse_job_id(text, size, &id, &error))
            FUZZ_CHECK(id >= 1);
        else
            FUZZ_CHECK(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL));
        break;
    }
    case 1: {
        g_autoptr(GPtrArray) jobs = porch_print_parse_jobs(text, size, &error);

        if (jobs == NULL) {
            FUZZ_CHECK(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL));
            break;
        }
        FUZZ_CHECK(jobs->len <= PORCH_PRINT_MAX_JOBS);
        for (guint i = 0; i < jobs->len; i++) {
            const PorchPrintJob *job = g_ptr_array_index(jobs, i);

            FUZZ_CHECK(job->id >= 1);
            FUZZ_CHECK(*job->printer != '\0' && fuzz_is_printable(job->printer));
            FUZZ_CHECK(fuzz_is_printable(job->title));
            FUZZ_CHECK(strcmp(porch_print_job_state_to_string(job->state), "") != 0);
        }
        break;
    }
    case 3: {
        g_autoptr(PorchHostStatus) st = porch_print_parse_status(text, size, &error);

        if (st == NULL) {
            FUZZ_CHECK(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL));
            break;
        }
        FUZZ_CHECK(*st->name != '\0' && fuzz_is_printable(st->name));
        FUZZ_CHECK(strlen(st->name) <= PORCH_NAME_MAX);
        FUZZ_CHECK(st->shares != NULL && st->printers != NULL);
        FUZZ_CHECK(g_strv_length(st->shares) + g_strv_length(st->printers) <=
                   PORCH_STATUS_MAX_ENTRIES);
        for (guint i = 0; st->shares[i] != NULL; i++)
            FUZZ_CHECK(*st->shares[i] != '\0' && fuzz_is_printable(st->shares[i]));
        for (guint i = 0; st->printers[i] != NULL; i++)
            FUZZ_CHECK(*st->printers[i] != '\0' && fuzz_is_printable(st->printers[i]));
        break;
    }
    case 4: {
        g_autoptr(GPtrArray) found = porch_print_parse_search(text, size, &error);

        if (found == NULL) {
            FUZZ_CHECK(g_error_matches(error, PORCH_CLIENT_ERROR, PORCH_CLIENT_ERROR_PROTOCOL));
            break;
        }
        FUZZ_CHECK(found->len <= PORCH_SEARCH_MAX_RESULTS);
        for (guint i = 0; i < found->len; i++) {
            const PorchSearchMatch *m = g_ptr_array_index(found, i);

            FUZZ_CHECK(*m->share != '\0' && fuzz_is_printable(m->share));
            FUZZ_CHECK(*m->path != '\0' && m->path[0] != '/' && fuzz_is_printable(m->path));
            {
                g_auto(GStrv) parts = g_strsplit(m->path, "/", -1);
                for (guint j = 0; parts[j] != NULL; j++)
                    FUZZ_CHECK(*parts[j] != '\0' && strcmp(parts[j], ".") != 0 &&
                               strcmp(parts[j], "..") != 0);
            }
            FUZZ_CHECK(m->size <= (guint64)G_MAXINT64);
            FUZZ_CHECK(strlen(m->sha256) == 64);
        }
        break;
    }
    default: {
        GError *e = porch_print_status_error(status, text, size);

        FUZZ_CHECK(e != NULL && e->domain == PORCH_PRINT_ERROR);
        FUZZ_CHECK(*e->message != '\0' && fuzz_is_printable(e->message));
        FUZZ_CHECK(strlen(e->message) <= PORCH_PRINT_MAX_MESSAGE);
        g_error_free(e);
        break;
    }
    }
    return 0;
}
