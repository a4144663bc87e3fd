/* fuzz-print-relay.c — the first packet a session sends porchd-print
 * (porch_print_relay_parse_command(), daemon/print-relay.c).
 *
 * Input: the packet as porchd-print receives it. One that parses must give a fingerprint
 * and a command line within the bounds print-relay.h promises; the command line then goes
 * to porch_print_server_parse(), as porchd-print gives it. */
#include "fuzz-common.h"

#include <string.h>

#include <gio/gio.h>

#include "porch-print-protocol.h"
#include "print-relay.h"
#include "print-server.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *fingerprint = NULL;
    g_autofree char *command = NULL;
    g_autoptr(GError) error = NULL;
    PorchPrintServerCommand cmd;

    if (!porch_print_relay_parse_command((const char *)data, size, &fingerprint, &command))
        return 0;
    FUZZ_CHECK(size >= 2 && data[0] == PORCH_PRINT_RELAY_CMD);
    FUZZ_CHECK(strlen(fingerprint) <= PORCH_PRINT_RELAY_MAX_FINGERPRINT);
    FUZZ_CHECK(strpbrk(fingerprint, " \n\t") == NULL && fuzz_is_printable(fingerprint));
    FUZZ_CHECK(strlen(command) <= PORCH_PRINT_MAX_COMMAND + 1);
    FUZZ_CHECK(2 + strlen(fingerprint) + strlen(command) == size);
    if (porch_print_server_parse(command, &cmd, &error))
        porch_print_server_command_clear(&cmd);
    else
        FUZZ_CHECK(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
    return 0;
}
