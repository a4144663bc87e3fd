/* porch-text.c — text from the network, made safe to show. */
#include "porch-text.h"

#include <string.h>

char *
porch_text_escape(const char *text, gssize len, gsize max)
{
    g_autofree char *valid = NULL;
    GString *out;
    gsize n;

    if (text == NULL)
        return g_strdup("(null)");
    n = len < 0 ? strlen(text) : (gsize)len;
    valid = g_utf8_make_valid(text, (gssize)MIN(n, max));
    out = g_string_sized_new(strlen(valid) + 8);
    for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        GUnicodeType t = g_unichar_type(c);

        if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c == '\\')
            g_string_append(out, "\\\\");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else if (g_unichar_iscntrl(c) || t == G_UNICODE_FORMAT || t == G_UNICODE_LINE_SEPARATOR ||
                 t == G_UNICODE_PARAGRAPH_SEPARATOR)
            g_string_append_printf(out, "\\u%04x", c);
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
    }
    if (n > max)
        g_string_append(out, "…");
    return g_string_free(out, FALSE);
}
