/* porch-conf-edit.c — edits of porch.conf that keep what they do not change.
 *
 * GKeyFile reads porch.conf (porch-config.c) but cannot write it back for this:
 * g_key_file_to_data() rewrites every key line as "key=value", drops the blank lines and
 * spacing an admin chose, and moves comments, so a one-line change would show as a rewrite
 * of the whole file. Here the file is a list of lines, each kept as it was (its own line
 * end included) unless an edit replaces it. GKeyFile still does what it is good at: escaping
 * a value (escape_value()).
 */
#include "porch-conf-edit.h"
#include "porch-auto.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK(porch - conf - edit - error - quark, porch_conf_edit_error)

#define BOM "\xEF\xBB\xBF"

typedef struct {
    char *text;      /* the line without its end */
    const char *eol; /* "\n", "\r\n", or "" for a last line without one */
} Line;

struct _PorchConfEdit {
    gboolean bom;    /* the text starts with a UTF-8 byte order mark, kept */
    GArray *lines;   /* of Line */
    const char *eol; /* the end of a new line: the first line's, else "\n" */
};

typedef enum {
    LINE_BLANK,
    LINE_COMMENT,
    LINE_SECTION,
    LINE_KEY,
    LINE_OTHER, /* what porch_config_load_data() refuses */
} LineKind;

static void
line_clear(gpointer p)
{
    g_free(((Line *)p)->text);
}

static Line *
line_at(const PorchConfEdit *edit, guint i)
{
    return &g_array_index(edit->lines, Line, i);
}

/* The line after its leading blanks. */
static const char *
line_start(const Line *l)
{
    const char *s = l->text;

    while (g_ascii_isspace(*s))
        s++;
    return s;
}

static LineKind
line_kind(const Line *l)
{
    const char *s = line_start(l);

    if (*s == '\0')
        return LINE_BLANK;
    if (*s == '#')
        return LINE_COMMENT;
    if (*s == '[')
        return strchr(s, ']') != NULL ? LINE_SECTION : LINE_OTHER;
    return strchr(s, '=') != NULL ? LINE_KEY : LINE_OTHER;
}

/* The key of a key line, without blanks around it. Free with g_free(). */
static char *
line_key(const Line *l)
{
    const char *s = line_start(l);

    return g_strchomp(g_strndup(s, strchr(s, '=') - s));
}

/* Whether section name @a (as a header writes it) is @b: the same kind word and the same
 * name, whatever the spaces around the name ("share  Photos" is "share Photos"), as
 * porch-config.c's classify_section() reads them. */
static gboolean
section_equal(const char *a, gsize a_len, const char *b)
{
    g_autofree char *x = g_strndup(a, a_len);
    g_autofree char *y = g_strdup(b);
    char *xs = strchr(x, ' ');
    char *ys = strchr(y, ' ');

    if (xs == NULL || ys == NULL)
        return xs == NULL && ys == NULL && strcmp(x, y) == 0;
    *xs = *ys = '\0';
    return strcmp(x, y) == 0 && strcmp(g_strstrip(xs + 1), g_strstrip(ys + 1)) == 0;
}

static gboolean
line_is_section(const Line *l, const char *section)
{
    const char *s;

    if (line_kind(l) != LINE_SECTION)
        return FALSE;
    s = line_start(l) + 1;
    return section_equal(s, strchr(s, ']') - s, section);
}

/* The index of @section's header, -1 when it is not there; *@end: the index after its last
 * line (the next header, or the number of lines). */
static gint
find_section(const PorchConfEdit *edit, const char *section, guint *end)
{
    for (guint i = 0; i < edit->lines->len; i++) {
        if (!line_is_section(line_at(edit, i), section))
            continue;
        *end = i + 1;
        while (*end < edit->lines->len && line_kind(line_at(edit, *end)) != LINE_SECTION)
            (*end)++;
        return (gint)i;
    }
    return -1;
}

/* The index of @key's line in the section at [@start, @end), -1 when there is none. */
static gint
find_key(const PorchConfEdit *edit, guint start, guint end, const char *key)
{
    for (guint i = start; i < end; i++) {
        const Line *l = line_at(edit, i);
        g_autofree char *k = NULL;

        if (line_kind(l) != LINE_KEY)
            continue;
        k = line_key(l);
        if (strcmp(k, key) == 0)
            return (gint)i;
    }
    return -1;
}

/* Inserts a line @text before line @at (the number of lines: at the end). A last line that
 * had no line end gets one: the new line comes after it. */
static void
insert_line(PorchConfEdit *edit, guint at, const char *text)
{
    Line l = {g_strdup(text), edit->eol};

    if (at == edit->lines->len && at > 0 && line_at(edit, at - 1)->eol[0] == '\0')
        line_at(edit, at - 1)->eol = edit->eol;
    g_array_insert_val(edit->lines, at, l);
}

static void
replace_line(PorchConfEdit *edit, guint at, char *text)
{
    Line *l = line_at(edit, at);

    g_free(l->text);
    l->text = text;
}

PorchConfEdit *
porch_conf_edit_new(const char *text)
{
    PorchConfEdit *edit;
    const char *p = text;

    g_return_val_if_fail(text != NULL, NULL);
    edit = g_new0(PorchConfEdit, 1);
    edit->lines = g_array_new(FALSE, FALSE, sizeof(Line));
    g_array_set_clear_func(edit->lines, line_clear);
    edit->eol = "\n";
    if (g_str_has_prefix(p, BOM)) {
        edit->bom = TRUE;
        p += strlen(BOM);
    }
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        Line l;

        if (nl == NULL) {
            l = (Line){g_strdup(p), ""};
            p += strlen(p);
        } else {
            gboolean crlf = nl > p && nl[-1] == '\r';

            l = (Line){g_strndup(p, nl - p - (crlf ? 1 : 0)), crlf ? "\r\n" : "\n"};
            p = nl + 1;
        }
        if (edit->lines->len == 0 && l.eol[0] != '\0')
            edit->eol = l.eol;
        g_array_append_val(edit->lines, l);
    }
    return edit;
}

void
porch_conf_edit_free(PorchConfEdit *edit)
{
    if (edit == NULL)
        return;
    g_array_unref(edit->lines);
    g_free(edit);
}

char *
porch_conf_edit_to_text(const PorchConfEdit *edit, gsize *len)
{
    GString *s = g_string_new(edit->bom ? BOM : "");

    for (guint i = 0; i < edit->lines->len; i++) {
        const Line *l = line_at(edit, i);

        g_string_append(s, l->text);
        g_string_append(s, l->eol);
    }
    if (len != NULL)
        *len = s->len;
    return g_string_free(s, FALSE);
}

gboolean
porch_conf_edit_has_section(const PorchConfEdit *edit, const char *section)
{
    guint end;

    return find_section(edit, section, &end) >= 0;
}

/* ---- checks of what goes into the file ---------------------------------------------- */

static gboolean
has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((guchar)*s < 0x20 || *s == 0x7f)
            return TRUE;
    return FALSE;
}

static gboolean
invalid(GError **error, const char *what, const char *text, const char *why)
{
    g_set_error(error, PORCH_CONF_EDIT_ERROR, PORCH_CONF_EDIT_ERROR_INVALID,
                "%s '%s' cannot be written in porch.conf: %s", what, text, why);
    return FALSE;
}

/* A section name GKeyFile reads back as it is: no brackets, no control characters. */
static gboolean
check_section(const char *section, GError **error)
{
    if (section[0] == '\0' || g_ascii_isspace(section[0]) ||
        g_ascii_isspace(section[strlen(section) - 1]))
        return invalid(error, "the section", section, "it is empty or starts or ends with a space");
    if (!g_utf8_validate(section, -1, NULL) || has_control(section) || strpbrk(section, "[]"))
        return invalid(error, "the section", section,
                       "it holds a bracket, a control character or invalid UTF-8");
    return TRUE;
}

static gboolean
check_key(const char *key, GError **error)
{
    if (key[0] == '\0' || key[0] == '#' || strpbrk(key, "=[] \t") || has_control(key) ||
        !g_utf8_validate(key, -1, NULL))
        return invalid(error, "the key", key,
                       "a key is a word without '=', brackets, spaces or control characters");
    return TRUE;
}

static gboolean
check_item(const char *item, GError **error)
{
    gsize n = strlen(item);

    if (n == 0 || g_ascii_isspace(item[0]) || g_ascii_isspace(item[n - 1]))
        return invalid(error, "the list item", item, "it is empty or starts or ends with a space");
    if (strpbrk(item, ";\\") || has_control(item) || !g_utf8_validate(item, -1, NULL))
        return invalid(error, "the list item", item,
                       "it holds ';', '\\', a control character or invalid UTF-8");
    return TRUE;
}

static gboolean
no_section(GError **error, const char *section)
{
    g_set_error(error, PORCH_CONF_EDIT_ERROR, PORCH_CONF_EDIT_ERROR_NO_SECTION,
                "porch.conf has no [%s] section", section);
    return FALSE;
}

/* @value as GKeyFile writes a string (and reads it back): a leading space as \s, a
 * backslash doubled, line ends as \n and \r. Free with g_free(). */
static char *
escape_value(const char *value)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();

    g_key_file_set_string(kf, "x", "k", value);
    return g_key_file_get_value(kf, "x", "k", NULL);
}

/* ---- keys ---------------------------------------------------------------------------- */

/* Sets @key's line in the section at [@start, @end) to the raw (escaped) @raw, or adds one. */
static void
set_raw(PorchConfEdit *edit, guint start, guint end, const char *key, const char *raw)
{
    gint at = find_key(edit, start + 1, end, key);

    if (at >= 0) {
        const char *text = line_at(edit, (guint)at)->text;
        const char *eq = strchr(text, '=');
        gboolean space = g_ascii_isspace(eq[1]);

        replace_line(edit, (guint)at,
                     g_strdup_printf("%.*s%s%s", (int)(eq + 1 - text), text,
                                     space && raw[0] != '\0' ? " " : "", raw));
        return;
    }
    /* after the last key line, else the header */
    at = (gint)start;
    for (guint i = start + 1; i < end; i++)
        if (line_kind(line_at(edit, i)) == LINE_KEY)
            at = (gint)i;
    {
        g_autofree char *line = g_strdup_printf("%s = %s", key, raw);
        insert_line(edit, (guint)at + 1, line);
    }
}

gboolean
porch_conf_edit_set(PorchConfEdit *edit, const char *section, const char *key, const char *value,
                    GError **error)
{
    g_autofree char *raw = NULL;
    guint end = 0;
    gint start;

    g_return_val_if_fail(edit != NULL && section != NULL && key != NULL && value != NULL, FALSE);
    if (!check_section(section, error) || !check_key(key, error))
        return FALSE;
    if (!g_utf8_validate(value, -1, NULL))
        return invalid(error, "the value of", key, "it is not valid UTF-8");
    start = find_section(edit, section, &end);
    if (start < 0)
        return no_section(error, section);
    raw = escape_value(value);
    set_raw(edit, (guint)start, end, key, raw);
    return TRUE;
}

gboolean
porch_conf_edit_remove_key(PorchConfEdit *edit, const char *section, const char *key)
{
    guint end = 0;
    gint start, at;

    g_return_val_if_fail(edit != NULL && section != NULL && key != NULL, FALSE);
    start = find_section(edit, section, &end);
    if (start < 0)
        return FALSE;
    at = find_key(edit, (guint)start + 1, end, key);
    if (at < 0)
        return FALSE;
    g_array_remove_index(edit->lines, (guint)at);
    return TRUE;
}

/* ---- lists --------------------------------------------------------------------------- */

/* A list as written: its items (raw, without blanks around them), whether "; " separates
 * them, and whether a ';' ends it (GKeyFile writes lists so). */
typedef struct {
    GPtrArray *items;
    gboolean spaced;
    gboolean trailing;
} RawList;

static void
raw_list_clear(RawList *list)
{
    g_clear_pointer(&list->items, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RawList, raw_list_clear)

/* Splits the value of key line @l at each ';' that no backslash escapes, as GKeyFile's
 * g_key_file_get_string_list() does; the items stay as written. */
static void
raw_list_read(const Line *l, RawList *list)
{
    g_autofree char *v = g_strstrip(g_strdup(strchr(l->text, '=') + 1));
    GString *item = g_string_new(NULL);

    list->items = g_ptr_array_new_with_free_func(g_free);
    list->spaced = strstr(v, "; ") != NULL;
    list->trailing = FALSE;
    for (const char *p = v;; p++) {
        if (*p == '\\' && p[1] != '\0') {
            g_string_append_c(item, *p++);
            g_string_append_c(item, *p);
            continue;
        }
        if (*p != ';' && *p != '\0') {
            g_string_append_c(item, *p);
            continue;
        }
        g_strstrip(item->str);
        if (item->str[0] != '\0')
            g_ptr_array_add(list->items, g_strdup(item->str));
        g_string_truncate(item, 0);
        if (*p == '\0')
            break;
        /* a ';' that ends the value */
        list->trailing = p[1] == '\0';
    }
    g_string_free(item, TRUE);
}

static char *
raw_list_join(const RawList *list)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < list->items->len; i++) {
        if (i > 0)
            g_string_append(s, list->spaced ? "; " : ";");
        g_string_append(s, list->items->pdata[i]);
    }
    if (list->trailing)
        g_string_append_c(s, ';');
    return g_string_free(s, FALSE);
}

gboolean
porch_conf_edit_list_add(PorchConfEdit *edit, const char *section, const char *key,
                         const char *item, GError **error)
{
    g_auto(RawList) list = {NULL};
    g_autofree char *raw = NULL;
    guint end = 0;
    gint start, at;

    g_return_val_if_fail(edit != NULL && section != NULL && key != NULL && item != NULL, FALSE);
    if (!check_section(section, error) || !check_key(key, error) || !check_item(item, error))
        return FALSE;
    start = find_section(edit, section, &end);
    if (start < 0)
        return no_section(error, section);
    at = find_key(edit, (guint)start + 1, end, key);
    if (at < 0) {
        set_raw(edit, (guint)start, end, key, item);
        return TRUE;
    }
    raw_list_read(line_at(edit, (guint)at), &list);
    for (guint i = 0; i < list.items->len; i++)
        if (strcmp(list.items->pdata[i], item) == 0)
            return TRUE;
    /* one item, so no separator to follow: "a; b", which reads best */
    if (list.items->len == 1)
        list.spaced = TRUE;
    g_ptr_array_add(list.items, g_strdup(item));
    raw = raw_list_join(&list);
    set_raw(edit, (guint)start, end, key, raw);
    return TRUE;
}

gboolean
porch_conf_edit_list_remove(PorchConfEdit *edit, const char *section, const char *key,
                            const char *item)
{
    g_auto(RawList) list = {NULL};
    g_autofree char *raw = NULL;
    gboolean found = FALSE;
    guint end = 0;
    gint start, at;

    g_return_val_if_fail(edit != NULL && section != NULL && key != NULL && item != NULL, FALSE);
    start = find_section(edit, section, &end);
    if (start < 0)
        return FALSE;
    at = find_key(edit, (guint)start + 1, end, key);
    if (at < 0)
        return FALSE;
    raw_list_read(line_at(edit, (guint)at), &list);
    for (guint i = list.items->len; i-- > 0;) {
        if (strcmp(list.items->pdata[i], item) == 0) {
            g_ptr_array_remove_index(list.items, i);
            found = TRUE;
        }
    }
    if (!found)
        return FALSE;
    if (list.items->len == 0) {
        g_array_remove_index(edit->lines, (guint)at);
        return TRUE;
    }
    raw = raw_list_join(&list);
    set_raw(edit, (guint)start, end, key, raw);
    return TRUE;
}

/* ---- sections ------------------------------------------------------------------------ */

gboolean
porch_conf_edit_add_section(PorchConfEdit *edit, const char *section, const char *comment,
                            GError **error)
{
    guint n, end = 0;

    g_return_val_if_fail(edit != NULL && section != NULL, FALSE);
    if (!check_section(section, error))
        return FALSE;
    if (comment != NULL && (!g_utf8_validate(comment, -1, NULL) || strchr(comment, '\r')))
        return invalid(error, "the comment", comment, "it is not valid UTF-8 text");
    if (find_section(edit, section, &end) >= 0) {
        g_set_error(error, PORCH_CONF_EDIT_ERROR, PORCH_CONF_EDIT_ERROR_EXISTS,
                    "porch.conf has a [%s] section already", section);
        return FALSE;
    }
    n = edit->lines->len;
    if (n > 0 && line_kind(line_at(edit, n - 1)) != LINE_BLANK)
        insert_line(edit, edit->lines->len, "");
    if (comment != NULL) {
        g_auto(GStrv) lines = g_strsplit(comment, "\n", -1);

        for (guint i = 0; lines[i] != NULL; i++) {
            g_autofree char *line = g_strconcat("# ", lines[i], NULL);
            insert_line(edit, edit->lines->len, g_strchomp(line));
        }
    }
    {
        g_autofree char *header = g_strdup_printf("[%s]", section);
        insert_line(edit, edit->lines->len, header);
    }
    return TRUE;
}

gboolean
porch_conf_edit_remove_section(PorchConfEdit *edit, const char *section)
{
    guint end = 0, first, last;
    gint start;

    g_return_val_if_fail(edit != NULL && section != NULL, FALSE);
    start = find_section(edit, section, &end);
    if (start < 0)
        return FALSE;
    /* its own lines: the header to the last key line */
    last = (guint)start;
    for (guint i = (guint)start + 1; i < end; i++)
        if (line_kind(line_at(edit, i)) == LINE_KEY)
            last = i;
    /* the comments right above the header are its own when a blank line (not the start
     * of the file: that may be the file's own comment) is above them */
    first = (guint)start;
    while (first > 0 && line_kind(line_at(edit, first - 1)) == LINE_COMMENT)
        first--;
    if (first == 0 || line_kind(line_at(edit, first - 1)) != LINE_BLANK)
        first = (guint)start;
    /* no two blank lines where it was, nor one at the end */
    if (first > 0 && line_kind(line_at(edit, first - 1)) == LINE_BLANK &&
        (last + 1 == edit->lines->len || line_kind(line_at(edit, last + 1)) == LINE_BLANK))
        first--;
    g_array_remove_range(edit->lines, first, last + 1 - first);
    return TRUE;
}

/* ---- writing ------------------------------------------------------------------------- */

static gboolean
io_error(GError **error, int e, const char *file, const char *what)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot %s %s: %s", what, file,
                g_strerror(e));
    return FALSE;
}

/* A symbolic link at @file is refused rather than followed or replaced. Replaced, it would
 * become a regular file: the admin's link (to a file kept elsewhere, in a configuration
 * checkout say) would be gone without a word and the file it named left unchanged. Followed,
 * it would let whoever may change the link choose which file root rewrites. A caller that
 * means the file the link names resolves the link itself and passes that file (`porch peers
 * accept` does: porchd reads porch.conf through the link). */
gboolean
porch_conf_write_atomic(const char *file, const char *text, gssize len, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *base = NULL;
    g_autofree char *tmp = NULL;
    g_auto(PorchFd) dfd = -1;
    g_auto(PorchFd) fd = -1;
    gboolean exists = FALSE;
    struct stat st, now;
    gsize done = 0;
    int e;

    g_return_val_if_fail(file != NULL && text != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (len < 0)
        len = (gssize)strlen(text);
    if (lstat(file, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                        "cannot write %s: it is a symbolic link (write the file it points to)",
                        file);
            return FALSE;
        }
        if (!S_ISREG(st.st_mode)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                        "cannot write %s: it is not a regular file", file);
            return FALSE;
        }
        exists = TRUE;
    } else if (errno != ENOENT) {
        return io_error(error, errno, file, "write");
    }

    dir = g_path_get_dirname(file);
    base = g_path_get_basename(file);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return io_error(error, errno, dir, "open the folder");
    tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_error(error, errno, tmp, "create");

    while (done < (gsize)len) {
        ssize_t n = write(fd, text + done, (gsize)len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO;
            goto fail_write;
        }
        done += (gsize)n;
    }
    /* the owner first: chown(2) may clear set-id bits that fchmod() then restores */
    if (exists && fstat(fd, &now) == 0 && (now.st_uid != st.st_uid || now.st_gid != st.st_gid) &&
        fchown(fd, st.st_uid, st.st_gid) != 0) {
        e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot write %s as its owner (uid %u, gid %u) has it: %s", file,
                    (unsigned)st.st_uid, (unsigned)st.st_gid, g_strerror(e));
        goto fail;
    }
    if (fchmod(fd, exists ? st.st_mode & 07777 : 0644) != 0 || fsync(fd) != 0) {
        e = errno;
        goto fail_write;
    }
    if (close(g_steal_fd(&fd)) != 0) {
        e = errno;
        goto fail_write;
    }
    if (rename(tmp, file) != 0) {
        e = errno;
        goto fail_write;
    }
    /* the rename itself on disk: without it a crash may bring the old file back. The new
     * file is in place by now, so a failure here is no failure of the write. */
    if (fsync(dfd) != 0)
        g_warning("cannot sync the folder %s after replacing %s: %s", dir, file, g_strerror(errno));
    return TRUE;

fail_write:
    io_error(error, e, file, "write");
fail:
    g_unlink(tmp);
    return FALSE;
}
