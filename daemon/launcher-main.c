/* launcher-main.c — porchd-launcher, the system service's launcher as a program of its own.
 *
 *   porchd-launcher PORCHD WORKER CONFIG STATE-DIR RUNTIME-DIR
 *
 * porchd, started as root, replaces itself with this program (the same process: systemd's
 * main PID and the reload file stay right), which runs porch_launcher_run() (launcher.h):
 * it starts PORCHD --network-side as 'porch' and WORKER for each share. It is a program of its
 * own so that the one process that keeps root for as long as the service runs loads only
 * what it uses: porchd links avahi, libcups and SQLite for its network side, whose relocated
 * data cost the launcher about 650 KiB of memory it never used (docs/performance.md). It
 * names itself porchd, as the reload file's check and people reading `ps` expect. */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include <locale.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "launcher.h"

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc != 6 || geteuid() != 0) {
        fprintf(stderr, "porchd-launcher: porchd starts it, as root (see porchd(8))\n");
        return 2;
    }
    prctl(PR_SET_NAME, "porchd");
    return porch_launcher_run(argv[1], argv[3], argv[4], argv[5], argv[2]);
}
