/* porch-cli.h — the command groups of `porch`, one file each (cli/browse.c, ...). */
#pragma once

#include <stdio.h>

#include <glib.h>

G_BEGIN_DECLS

/* `porch browse [--json] [--timeout SECONDS] [--watch]` (cli/browse.c). @argv[0] is
 * "browse". Returns the exit status: 0 on success, 1 when avahi-daemon cannot be reached,
 * 2 for a usage error. */
int porch_cli_browse(int argc, char **argv);

/* Writes @s to @f with every control or formatting character (C0, DEL, C1, bidirectional
 * overrides) replaced by '?': names that came from the network must not drive the
 * terminal. @s must be valid UTF-8. */
void porch_cli_put_safe(FILE *f, const char *s);

G_END_DECLS
