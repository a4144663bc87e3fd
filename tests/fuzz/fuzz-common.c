/* fuzz-common.c — see fuzz-common.h. */
#include "fuzz-common.h"

#include <string.h>

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
        g_log_writer_standard_streams(level, fields, n_fields, user_data);
        abort();
    }
    return G_LOG_WRITER_HANDLED;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_log_set_writer_func(writer, NULL, NULL);
    return 0;
}

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = g_malloc(size + 1);

    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

gboolean
fuzz_is_printable(const char *s)
{
    if (!g_utf8_validate(s, -1, NULL))
        return FALSE;
    for (; *s != '\0'; s++)
        if ((guchar)*s < 0x20 || *s == 0x7f)
            return FALSE;
    return TRUE;
}
