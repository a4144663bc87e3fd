/* porch-conf-edit.h — porch.conf changed the way an admin changes it by hand.
 *
 * The commands that edit porch.conf (`porch peers accept`, the --system edits) change the
 * lines they mean to change and keep every other byte of the file: comments, blank lines,
 * the spacing around '=', the order of keys and of sections, the line ends (a file written
 * with CRLF line ends keeps them, and new lines get them too), a UTF-8 byte order mark, and
 * a last line without a line end (it gets one only when a line is added after it).
 *
 * A PorchConfEdit holds the text as lines; each edit changes whole lines; the result is
 * porch_conf_edit_to_text(). Sections are named as in the file, without the brackets:
 * "porch", "peer bob", "share Photos" (the spaces between the kind and the name do not
 * matter, as for porch_config_load_data()).
 *
 * The editor knows the syntax, not the rules: it does not check that a share's path exists
 * or that a principal names a [peer]. Start from text that porch_config_load_data() loads,
 * and load the result with it before writing it (porch_conf_write_atomic()): a caller that
 * writes what does not load leaves porchd with a file it refuses at the next reload.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PORCH_CONF_EDIT_ERROR (porch_conf_edit_error_quark())
GQuark porch_conf_edit_error_quark(void);

typedef enum {
    PORCH_CONF_EDIT_ERROR_NO_SECTION, /* the section to change is not in the file */
    PORCH_CONF_EDIT_ERROR_EXISTS,     /* the section to add is there already */
    PORCH_CONF_EDIT_ERROR_INVALID,    /* a section, key, value or list item porch.conf cannot
                                       * hold (a line end in a name, ';' in an item, ...) */
} PorchConfEditError;

typedef struct _PorchConfEdit PorchConfEdit;

/* The lines of @text (NUL-terminated; as read from porch.conf). Free with
 * porch_conf_edit_free(). */
PorchConfEdit *porch_conf_edit_new(const char *text);
void porch_conf_edit_free(PorchConfEdit *edit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchConfEdit, porch_conf_edit_free)

/* The text as it is now (free with g_free()); @len (may be NULL) gets its length. With no
 * edit made it is @text, byte for byte. */
char *porch_conf_edit_to_text(const PorchConfEdit *edit, gsize *len);

/* Whether the file has @section. */
gboolean porch_conf_edit_has_section(const PorchConfEdit *edit, const char *section);

/* Sets @key of @section to @value (UTF-8; escaped as GKeyFile escapes a string: a leading
 * space, '\\', line ends). An existing line keeps the text before its '=' and, if there was
 * one, one space after it; a new line "KEY = VALUE" goes after the section's last key line
 * (after its header when it has none). FALSE with @error set (PORCH_CONF_EDIT_ERROR) when
 * the section is not there or a name or the value cannot be written. */
gboolean porch_conf_edit_set(PorchConfEdit *edit, const char *section, const char *key,
                             const char *value, GError **error);

/* Removes the line of @key in @section. Returns whether there was one. */
gboolean porch_conf_edit_remove_key(PorchConfEdit *edit, const char *section, const char *key);

/* The ';'-separated lists (read, write, print, members): adds @item after the others,
 * separated as the list separates them ("a; b" or "a;b"), unless it is there already (then
 * nothing changes and TRUE is returned); a list that is not there is set to @item. An item
 * holds no ';', '\\' or control character and no space at either end. FALSE with @error set
 * otherwise, or when the section is not there. */
gboolean porch_conf_edit_list_add(PorchConfEdit *edit, const char *section, const char *key,
                                  const char *item, GError **error);

/* Removes @item from the list (the key, when it was the last item). Returns whether it was
 * in the list. */
gboolean porch_conf_edit_list_remove(PorchConfEdit *edit, const char *section, const char *key,
                                     const char *item);

/* Appends "[@section]" at the end of the file, after one blank line, with @comment (NULL:
 * none; each of its lines becomes a "# " line) right above the header. Its keys follow with
 * porch_conf_edit_set(). FALSE with @error set when the section is there already or its name
 * cannot be written. */
gboolean porch_conf_edit_add_section(PorchConfEdit *edit, const char *section, const char *comment,
                                     GError **error);

/* Removes @section: its header, its key lines and what stands between them, and the comment
 * lines right above the header when a blank line sets them apart from what comes before
 * (they are the section's then). Comment lines after its last key stay: they may well
 * introduce the next section. Returns whether the section was there. */
gboolean porch_conf_edit_remove_section(PorchConfEdit *edit, const char *section);

/* Replaces @file with @len bytes of @text (-1: NUL-terminated), so that a reader sees the
 * old file or the new one, never a part, and a crash leaves one of them: a temporary file
 * in the same folder with the mode and owner of @file (0644 and the caller's when there was
 * none), written, synced, renamed over @file, and the folder synced. When anything fails the
 * old file stays as it was, and no temporary file is left. A symbolic link is refused (see
 * porch-conf-edit.c): resolve it first to write the file it points to. FALSE with @error set
 * (G_IO_ERROR) otherwise. */
gboolean porch_conf_write_atomic(const char *file, const char *text, gssize len, GError **error);

G_END_DECLS
