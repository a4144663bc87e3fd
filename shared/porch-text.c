/* porch-text.c — text from the network or from a file, made safe to show (see porch-text.h). */
#include "porch-text.h"

#include <string.h>

/* A control, format, line- or paragraph-separator character: one that can move a terminal's
 * cursor, start a new line or reorder what follows it. */
gboolean
porch_text_unsafe_char(gunichar c)
{
    GUnicodeType t = g_unichar_type(c);

    return g_unichar_iscntrl(c) || t == G_UNICODE_FORMAT || t == G_UNICODE_LINE_SEPARATOR ||
           t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

/* PORCH_TEXT_ESCAPE: @n bytes at @text, the first @max of them shown. */
static char *
escape(const char *text, gsize n, gsize max)
{
    g_autofree char *valid = g_utf8_make_valid(text, (gssize)MIN(n, max));
    GString *out = g_string_sized_new(strlen(valid) + 8);

    for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

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
        else if (porch_text_unsafe_char(c))
            g_string_append_printf(out, "\\u%04x", c);
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
    }
    if (n > max)
        g_string_append(out, "…");
    return g_string_free(out, FALSE);
}

/* PORCH_TEXT_ONE_LINE and PORCH_TEXT_TERMINAL: valid UTF-8, cut at a character to at most @max
 * bytes, then the characters the style does not show replaced. */
static char *
replace_chars(const char *text, gsize n, gsize max, PorchTextStyle style)
{
    g_autofree char *valid = g_utf8_make_valid(text, (gssize)n);
    const char *end = valid;
    GString *out;

    while (*end != '\0') {
        const char *next = g_utf8_next_char(end);
        if ((gsize)(next - valid) > max)
            break;
        end = next;
    }
    out = g_string_sized_new((gsize)(end - valid));
    for (const char *p = valid; p < end; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (style == PORCH_TEXT_ONE_LINE && (c < 0x20 || c == 0x7f))
            g_string_append_c(out, ' ');
        else if (style == PORCH_TEXT_TERMINAL && porch_text_unsafe_char(c))
            g_string_append_c(out, '?');
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
    }
    return g_string_free(out, FALSE);
}

/* PORCH_TEXT_ASCII and PORCH_TEXT_WORD: byte by byte, of the first @max bytes. */
static char *
replace_bytes(const char *text, gsize n, gsize max, PorchTextStyle style)
{
    g_autofree char *cut = g_strndup(text, MIN(n, max));
    GString *out = g_string_sized_new(strlen(cut));

    for (const char *p = cut; *p != '\0'; p++) {
        if (style == PORCH_TEXT_ASCII)
            g_string_append_c(out, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
        else if (g_ascii_isgraph(*p))
            g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

char *
porch_text_show(const char *text, gssize len, gsize max, PorchTextStyle style)
{
    gsize n;

    if (len == 0)
        return g_strdup("");
    if (text == NULL)
        return g_strdup("(null)");
    n = len < 0 ? strlen(text) : (gsize)len;
    switch (style) {
    case PORCH_TEXT_ESCAPE:
        return escape(text, n, max);
    case PORCH_TEXT_C_STRING: {
        g_autofree char *cut = g_strndup(text, MIN(n, max));
        return g_strescape(cut, NULL);
    }
    case PORCH_TEXT_ONE_LINE:
    case PORCH_TEXT_TERMINAL:
        return replace_chars(text, n, max, style);
    case PORCH_TEXT_ASCII:
    case PORCH_TEXT_WORD:
        return replace_bytes(text, n, max, style);
    }
    g_return_val_if_reached(g_strdup(""));
}

char *
porch_text_escape(const char *text, gssize len, gsize max)
{
    return porch_text_show(text, len, max, PORCH_TEXT_ESCAPE);
}

/* GLib's C locale made by one thread, with no other waiting for it (porch-text.h). */
static void
ready_c_locale(void)
{
    static gsize ready;

    if (g_once_init_enter(&ready)) {
        (void)g_ascii_strtoull("0", NULL, 10);
        g_once_init_leave(&ready, 1);
    }
}

gboolean
porch_text_to_unsigned(const char *str, guint base, guint64 min, guint64 max, guint64 *out_num,
                       GError **error)
{
    ready_c_locale();
    return g_ascii_string_to_unsigned(str, base, min, max, out_num, error);
}

gboolean
porch_text_to_signed(const char *str, guint base, gint64 min, gint64 max, gint64 *out_num,
                     GError **error)
{
    ready_c_locale();
    return g_ascii_string_to_signed(str, base, min, max, out_num, error);
}
