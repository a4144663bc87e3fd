/* fuzz-print-command.c — the command line of porchd's exec channel
 * (porch_print_server_parse(), daemon/print-server.c).
 *
 * Input: the line as the client sent it (libssh hands it over as a C string: up to a NUL). A
 * line that parses must give what print-server.h promises; one that does not must give an error for
 * the client whose message is one printable line (it is also logged). */
#include "fuzz-common.h"

#include <string.h>

#include <gio/gio.h>

#include "print-server.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *line = fuzz_strndup(data, size);
    g_autoptr(GError) error = NULL;
    PorchPrintServerCommand cmd;

    if (!porch_print_server_parse(line, &cmd, &error)) {
        FUZZ_CHECK(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
        FUZZ_CHECK(fuzz_is_printable(error->message));
        return 0;
    }
    FUZZ_CHECK(error == NULL);
    switch (cmd.verb) {
    case PORCH_PRINT_SERVER_PRINT:
        FUZZ_CHECK(cmd.printer != NULL);
        FUZZ_CHECK(cmd.copies >= 1 && cmd.copies <= PORCH_PRINT_MAX_COPIES);
        FUZZ_CHECK(cmd.title == NULL || *cmd.title != '\0');
        break;
    case PORCH_PRINT_SERVER_JOBS:
        FUZZ_CHECK(cmd.title == NULL);
        break;
    case PORCH_PRINT_SERVER_CANCEL:
        FUZZ_CHECK(cmd.printer != NULL);
        FUZZ_CHECK(cmd.job_id >= 1);
        break;
    case PORCH_PRINT_SERVER_STATUS:
        FUZZ_CHECK(cmd.printer == NULL && cmd.title == NULL);
        break;
    case PORCH_PRINT_SERVER_SEARCH:
        /* a pattern or a hash, never both, each within its bounds */
        FUZZ_CHECK(cmd.printer == NULL && cmd.title == NULL);
        FUZZ_CHECK((cmd.pattern == NULL) != (cmd.sha256 == NULL));
        FUZZ_CHECK(cmd.pattern == NULL ||
                   (*cmd.pattern != '\0' && strlen(cmd.pattern) <= PORCH_SEARCH_MAX_PATTERN &&
                    g_utf8_validate(cmd.pattern, -1, NULL)));
        FUZZ_CHECK(cmd.sha256 == NULL ||
                   (strlen(cmd.sha256) == 64 && strspn(cmd.sha256, "0123456789abcdef") == 64));
        break;
    default:
        FUZZ_CHECK(!"a verb print-server.h does not have");
    }
    porch_print_server_command_clear(&cmd);
    FUZZ_CHECK(cmd.printer == NULL && cmd.title == NULL && cmd.pattern == NULL &&
               cmd.sha256 == NULL);
    return 0;
}
