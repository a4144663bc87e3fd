/* fuzz-send-manifest.c — the manifest a sender writes at the start of porchd's send command
 * (porch_send_manifest_parse(), shared/porch-send.c), and what porchd makes of each name.
 *
 * Input: the bytes of the manifest. One that parses must give what porch-send.h promises (at
 * least one file, at most PORCH_SEND_MAX_FILES, names of UTF-8 within PORCH_SEND_NAME_MAX,
 * sizes that add up) and format back to a manifest that parses to the same files; each name,
 * made safe, must stay inside the inbox (no '/', no leading '.', no control character), and so
 * must its clash names. One that does not parse must give an error whose message is one
 * printable line. */
#include "fuzz-common.h"

#include <string.h>

#include <gio/gio.h>

#include "porch-send.h"

static void
check_name(const char *name)
{
    FUZZ_CHECK(name != NULL && name[0] != '\0' && name[0] != '.');
    FUZZ_CHECK(strlen(name) <= PORCH_SEND_NAME_MAX);
    FUZZ_CHECK(strchr(name, '/') == NULL);
    FUZZ_CHECK(g_utf8_validate(name, -1, NULL));
    for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p))
        FUZZ_CHECK(!g_unichar_iscntrl(g_utf8_get_char(p)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) files = porch_send_manifest_parse((const char *)data, size, &error);
    g_autoptr(GArray) again = NULL;
    g_autofree char *text = NULL;
    guint64 total = 0;

    if (files == NULL) {
        FUZZ_CHECK(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
        FUZZ_CHECK(fuzz_is_printable(error->message));
        return 0;
    }
    FUZZ_CHECK(files->len >= 1 && files->len <= PORCH_SEND_MAX_FILES);
    for (guint i = 0; i < files->len; i++) {
        const PorchSendFile *f = &g_array_index(files, PorchSendFile, i);
        g_autofree char *clean = porch_send_sanitise_name(f->name);
        g_autofree char *clash = porch_send_clash_name(clean, 2 + i % 998);

        FUZZ_CHECK(g_utf8_validate(f->name, -1, NULL));
        FUZZ_CHECK(strlen(f->name) >= 1 && strlen(f->name) <= PORCH_SEND_NAME_MAX);
        FUZZ_CHECK(f->size <= (guint64)G_MAXINT64 - total);
        total += f->size;
        check_name(clean);
        check_name(clash);
    }
    text = porch_send_manifest_format(files);
    again = porch_send_manifest_parse(text, strlen(text), NULL);
    FUZZ_CHECK(again != NULL && again->len == files->len);
    for (guint i = 0; i < files->len; i++) {
        const PorchSendFile *a = &g_array_index(files, PorchSendFile, i);
        const PorchSendFile *b = &g_array_index(again, PorchSendFile, i);

        FUZZ_CHECK(strcmp(a->name, b->name) == 0 && a->size == b->size &&
                   memcmp(a->sha256, b->sha256, PORCH_SHA256_LEN) == 0);
    }
    return 0;
}
