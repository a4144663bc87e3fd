/* porch — the command-line client. */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "porch-config.h"

static const struct {
    const char *name;
    const char *usage;
    const char *summary;
} commands[] = {
        {"browse", "[--json] [--timeout SECONDS] [--watch]", "list neighbours and what they share"},
        {"ls", "HOST[/SHARE[/PATH]]", "list a neighbour's shares or a folder"},
        {"get", "[-r] [--resume] HOST/SHARE/PATH [DEST]", "fetch a file or folder, verified"},
        {"put", "[-r] SOURCE HOST/SHARE/PATH", "upload a file or folder"},
        {"print", "HOST/PRINTER FILE [--copies N]", "print on a neighbour's printer"},
        {"jobs", "HOST[/PRINTER]", "list your print jobs"},
        {"cancel", "HOST/PRINTER JOB-ID", "cancel one of your print jobs"},
        {"id", "", "print your public key line and fingerprint"},
        {"peers", "[list|accept NAME]", "who asked the local porchd for access"},
};

static void
usage(FILE *f)
{
    fprintf(f, "Usage: porch COMMAND [ARGUMENTS]\n\nCommands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(f, "  porch %-6s %-40s %s\n", commands[i].name, commands[i].usage,
                commands[i].summary);
    fprintf(f, "\nOptions:\n  -h, --help     show this help\n"
               "  -V, --version  print the version\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("porch %s\n", PORCH_VERSION);
        return 0;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            fprintf(stderr, "porch: '%s' is not available in this version (%s) yet\n", argv[1],
                    PORCH_VERSION);
            return 1;
        }
    }
    fprintf(stderr, "porch: unknown command '%s' (see porch --help)\n", argv[1]);
    return 2;
}
