/* porch-text.h — text from the network, made safe to show: in a log line or on a terminal. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns a copy of @text (@len bytes, or up to its NUL when @len is -1) that is valid UTF-8
 * and holds no control, format or line-separator character: each becomes an escape ("\n",
 * "\t", "\x1b", "\u2028"), so that a name cannot start a new log line or move a terminal's
 * cursor. Invalid UTF-8 becomes U+FFFD. At most @max bytes of @text are shown, then "…".
 * NULL gives "(null)". Free with g_free(). */
char *porch_text_escape(const char *text, gssize len, gsize max);

G_END_DECLS
