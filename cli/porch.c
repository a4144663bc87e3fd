/* porch — the command-line client: dispatches to one file per command group. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "porch-cli.h"

static const struct {
    const char *name;
    const char *usage;
    const char *summary;
    int (*run)(int argc, char **argv); /* NULL: not in this version yet */
} commands[] = {
        {"browse", "[--json] [--timeout SECONDS] [--watch]", "list neighbours and what they share",
         porch_cli_browse},
        {"ls", "[-l [-h]] [--json] HOST[/SHARE[/PATH]]", "list a neighbour's shares or a folder",
         porch_cli_ls},
        {"get", "[-r] [--no-resume] [--force] HOST/SHARE/PATH... [DEST|-]",
         "fetch files or folders, verified", porch_cli_get},
        {"put", "[-r] [--force] [--parents] SOURCE...|- HOST/SHARE/PATH",
         "upload files or folders, verified", porch_cli_put},
        {"rm", "[-r] HOST/SHARE/PATH...", "remove files (-r: folders) from a share", porch_cli_rm},
        {"mkdir", "[-p] HOST/SHARE/PATH...", "make folders on a share", porch_cli_mkdir},
        {"mv", "[-f] HOST/SHARE/OLD... HOST/SHARE/NEW", "rename or move within a share",
         porch_cli_mv},
        {"print", "HOST/PRINTER FILE [--copies N] [--title TITLE]",
         "print a file on a neighbour's printer", porch_cli_print},
        {"jobs", "[--json] HOST[/PRINTER]", "list your print jobs", porch_cli_jobs},
        {"cancel", "HOST/PRINTER JOB-ID", "cancel one of your print jobs", porch_cli_cancel},
        {"printer", "add HOST/PRINTER [--name QUEUE]", "add a neighbour's printer to CUPS",
         porch_cli_printer},
        {"send", "FILE|DIR... HOST[/INBOX]", "send files to a neighbour's inbox", porch_cli_send},
        {"inbox", "enable [DIR] | disable | list | accept ID | decline ID",
         "receive files that neighbours send you", porch_cli_inbox},
        {"id", "[--identity FILE]", "print your public key line and fingerprint", porch_cli_id},
        {"share", "add DIR [--read WHO] [--write WHO] | remove NAME | list [--json]",
         "share a folder of yours, stop sharing it, list the shares", porch_cli_share},
        {"allow", "WHO read|write|print SHARE", "let a neighbour read or write a share",
         porch_cli_allow},
        {"deny", "WHO read|write|print SHARE", "take a right away from a neighbour",
         porch_cli_deny},
        {"status", "[--json]", "what porchd shares, who is connected, transfers under way",
         porch_cli_status},
        {"peers", "[list | accept NAME [--read SHARE] | deny NAME | forget NAME]",
         "who asked the local porchd for access; let them in or not", porch_cli_peers},
        {"doctor", "[--json] [HOST]", "check what keeps neighbours from meeting, and the fix",
         porch_cli_doctor},
        {"neighbours", "add ADDRESS[:PORT] | remove NAME | list [--json]",
         "remember a neighbour mDNS cannot show, by its address", porch_cli_neighbours},
        {"search", "[--json] [--timeout SECONDS] PATTERN",
         "find files by name in what every neighbour shares with you", porch_cli_search},
};

/* Each command on two lines, "  porch NAME USAGE" and its summary beneath, so that the help
 * fits in 80 columns. Shell completion (packaging/completion/) reads the command names from
 * the first of them. */
static void
usage(FILE *f)
{
    fprintf(f, "Usage: porch COMMAND [ARGUMENTS]\n\nCommands:\n");
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(f, "  porch %s %s\n        %s\n", commands[i].name, commands[i].usage,
                commands[i].summary);
    fprintf(f, "\nOptions:\n  -h, --help     show this help\n"
               "  -V, --version  print the version\n"
               "\nEach command has its own help: porch help COMMAND, or porch COMMAND --help.\n");
}

/* `porch help [COMMAND]`: this help, or COMMAND's own (COMMAND --help). */
static int
help(int argc, char **argv)
{
    char *help_argv[] = {NULL, "--help", NULL};

    if (argc < 3) {
        usage(stdout);
        return 0;
    }
    if (argc > 3) {
        fprintf(stderr, "porch help: one command at a time (see porch --help)\n");
        return 2;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[2], commands[i].name) != 0 || commands[i].run == NULL)
            continue;
        g_autofree char *prgname = g_strconcat("porch ", commands[i].name, NULL);
        g_set_prgname(prgname);
        help_argv[0] = argv[2];
        return commands[i].run(2, help_argv);
    }
    fputs("porch help: unknown command '", stderr);
    porch_cli_put_text(stderr, argv[2]);
    fputs("' (see porch --help)\n", stderr);
    return 2;
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0)
        return help(argc, argv);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("porch %s\n", PORCH_VERSION);
        return 0;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (commands[i].run != NULL) {
            g_autofree char *prgname = g_strconcat("porch ", commands[i].name, NULL);
            g_set_prgname(prgname);
            return commands[i].run(argc - 1, argv + 1);
        }
        fprintf(stderr, "porch: '%s' is not available in this version (%s) yet\n", argv[1],
                PORCH_VERSION);
        return 1;
    }
    fprintf(stderr, "porch: unknown command '%s' (see porch --help)\n", argv[1]);
    return 2;
}
