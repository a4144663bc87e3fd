/* porch-text.h — text from the network or from a file, made safe to show: in a log line, in a
 * message, on a terminal, in a file of ours. The one place that decides what is safe.
 *
 * Every program and module takes such text through porch_text_show(); what it may hold
 * afterwards depends on where it goes, so the caller names the style:
 *
 *   PORCH_TEXT_ESCAPE    logs and error messages of porchd, libporch and porch.conf: nothing is
 *                        lost, "\x1b" says what the byte was. Valid UTF-8.
 *   PORCH_TEXT_C_STRING  logs and messages in plain ASCII, escaped as C writes strings
 *                        (g_strescape()): "\n", "\033", "\303\251", '"' as "\"". porchd's
 *                        print commands (daemon/print-server.c).
 *   PORCH_TEXT_ONE_LINE  one line of text for a person, from a peer (a print job's title, a
 *                        refusal) or for CUPS: each ASCII control character (below 0x20, and
 *                        0x7f) becomes a space. Valid UTF-8.
 *   PORCH_TEXT_TERMINAL  what porch writes on a terminal: each control, format, line- or
 *                        paragraph-separator character (C0 and C1 controls, U+200E, U+2028, …)
 *                        becomes '?', so that text cannot move the cursor or reorder a line.
 *                        Valid UTF-8.
 *   PORCH_TEXT_ASCII     printable ASCII: each other byte becomes '?'. What porchd tells a
 *                        client whose login it refused.
 *   PORCH_TEXT_WORD      one word of printable ASCII: each other byte, a space too, is left
 *                        out. An address written into a comment of porch.conf.
 *
 * Where a style says valid UTF-8, an invalid sequence (and, for text with a length, a NUL
 * byte) becomes U+FFFD.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    PORCH_TEXT_ESCAPE,
    PORCH_TEXT_C_STRING,
    PORCH_TEXT_ONE_LINE,
    PORCH_TEXT_TERMINAL,
    PORCH_TEXT_ASCII,
    PORCH_TEXT_WORD,
} PorchTextStyle;

/* Returns @text (@len bytes, or up to its NUL when @len is -1) in @style, shown to at most
 * @max bytes (G_MAXSIZE: all of it). How @max cuts:
 *   PORCH_TEXT_ESCAPE                         the first @max bytes of @text are shown, then
 *                                             "…" when there were more;
 *   PORCH_TEXT_ONE_LINE, PORCH_TEXT_TERMINAL  the text is cut at a character, to at most
 *                                             @max bytes;
 *   the others                                the first @max bytes of @text are shown (the
 *                                             text ends at a NUL as well).
 * With @len 0 the result is "" (@text may then be NULL); otherwise a NULL @text gives
 * "(null)". Free with g_free(). */
char *porch_text_show(const char *text, gssize len, gsize max, PorchTextStyle style);

/* Whether @c is a control, format (bidirectional marks and isolates, zero-width characters),
 * line- or paragraph-separator character: one that can move a terminal's cursor, start a new
 * line or reorder what follows it. */
gboolean porch_text_unsafe_char(gunichar c);

/* porch_text_show() in PORCH_TEXT_ESCAPE: "\n", "\t", "\r", "\\", "\x1b", "\u2028". */
char *porch_text_escape(const char *text, gssize len, gsize max);

/* g_ascii_string_to_unsigned() and g_ascii_string_to_signed(), safe in any thread.
 *
 * Why not GLib's own (2.74): it sets errno to 0, calls g_ascii_strtoull(), and calls the number
 * malformed when errno is then set. The first g_ascii_strto*() call in a process makes GLib's
 * C locale under g_once_init_enter(); a second thread that arrives meanwhile waits on a futex,
 * which leaves errno at EAGAIN, and GLib then refuses a good number ("“10” is not an unsigned
 * number": `porch search` lost a whole answer when two neighbours answered at once). These
 * make that locale once, before any thread may wait for it, then call GLib's. */
gboolean porch_text_to_unsigned(const char *str, guint base, guint64 min, guint64 max,
                                guint64 *out_num, GError **error);
gboolean porch_text_to_signed(const char *str, guint base, gint64 min, gint64 max, gint64 *out_num,
                              GError **error);

G_END_DECLS
