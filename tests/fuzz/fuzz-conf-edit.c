/* fuzz-conf-edit.c — porch-conf-edit over any text: the edits `porch share add --system`,
 * `porch allow --system` and `porch peers accept` make to a porch.conf an administrator
 * wrote by hand.
 *
 * Input: the file's text. Unedited, it comes back byte for byte. Then every section it has
 * gets a key set, a list item added and removed, and is removed, and a new section is added:
 * none of it may crash or leave the text not UTF-8 when it was. For a file that loads (what
 * the commands edit: they check it first) a list item added is then there, and removed,
 * gone. */
#include "fuzz-common.h"

#include <string.h>

#include "porch-conf-edit.h"
#include "porch-config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_strndup(data, size);
    g_autoptr(PorchConfEdit) edit = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_auto(GStrv) sections = NULL;
    g_autofree char *out = NULL;
    gboolean utf8 = g_utf8_validate(text, -1, NULL);
    g_autoptr(PorchConfig) valid = NULL;
    gsize len = 0;

    if (strlen(text) != size)
        return 0; /* a NUL inside: the loader refuses such a file before any edit */
    edit = porch_conf_edit_new(text);
    out = porch_conf_edit_to_text(edit, &len);
    FUZZ_CHECK(len == size && memcmp(out, text, size) == 0);
    if (g_key_file_load_from_data(kf, text, size, G_KEY_FILE_NONE, NULL))
        sections = g_key_file_get_groups(kf, NULL);
    valid = porch_config_load_data(text, (gssize)size, "fuzz.conf", NULL);
    for (guint i = 0; sections != NULL && sections[i] != NULL && i < 8; i++) {
        g_autoptr(GError) error = NULL;

        if (!porch_conf_edit_has_section(edit, sections[i]))
            continue;
        porch_conf_edit_set(edit, sections[i], "comment", "set by the fuzzer", NULL);
        if (porch_conf_edit_list_add(edit, sections[i], "read", "zed", &error)) {
            g_autofree char *now = porch_conf_edit_to_text(edit, NULL);
            gboolean removed;

            FUZZ_CHECK(strstr(now, "zed") != NULL);
            removed = porch_conf_edit_list_remove(edit, sections[i], "read", "zed");
            FUZZ_CHECK(valid == NULL || removed);
        }
        if (i % 2 == 1)
            porch_conf_edit_remove_section(edit, sections[i]);
    }
    porch_conf_edit_add_section(edit, "share Fuzzed", "added\nby the fuzzer", NULL);
    porch_conf_edit_set(edit, "share Fuzzed", "path", "/tmp", NULL);
    g_clear_pointer(&out, g_free);
    out = porch_conf_edit_to_text(edit, &len);
    FUZZ_CHECK(out != NULL && strlen(out) == len);
    FUZZ_CHECK(!utf8 || g_utf8_validate(out, -1, NULL));
    /* added, or there already (a header may be written "[share  Fuzzed]") */
    FUZZ_CHECK(porch_conf_edit_has_section(edit, "share Fuzzed"));
    return 0;
}
