/* fuzz-common.h — what every harness of tests/fuzz shares.
 *
 * fuzz-common.c's LLVMFuzzerInitialize() installs a GLib log writer that drops messages and
 * info, and aborts on a warning, a critical (a g_return_if_fail() that failed) or an error:
 * for libFuzzer each of them is a crash, with its input kept. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

/* Aborts, naming the broken expectation, unless @cond holds: an input for which a documented
 * guarantee does not hold is a bug, like a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A copy of @size bytes of @data with a NUL after them (free with g_free()). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Whether @s is valid UTF-8 without control characters (below 0x20, 0x7f). */
gboolean fuzz_is_printable(const char *s);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
