/* usershares.c — the user shares porchd keeps (usershares.h). */
#define G_LOG_DOMAIN         "porchd"
#define G_LOG_USE_STRUCTURED 1

#include "usershares.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "porch-config.h"
#include "porch-text.h"

char *
porch_user_shares_read(const char *file, uid_t owner, GError **error)
{
    g_autoptr(GString) text = g_string_new("");
    struct stat st;
    char buf[4096];
    gssize n;
    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT)
        return g_strdup("");
    if (fd < 0 || fstat(fd, &st) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", file,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != owner || (st.st_mode & 022) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "%s is not a file of uid %u that only its owner may write: ignored", file,
                    (guint)owner);
        close(fd);
        return NULL;
    }
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        g_string_append_len(text, buf, n);
        /* a thousand user shares take less than a megabyte */
        if (text->len > 4 * 1024 * 1024) {
            errno = EFBIG;
            n = -1;
            break;
        }
    }
    close(fd);
    if (n < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", file,
                    g_strerror(errno));
        return NULL;
    }
    return g_string_free(g_steal_pointer(&text), FALSE);
}

gboolean
porch_user_shares_caller(int sock, uid_t *ret_uid, GError **error)
{
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot tell who is asking: %s", g_strerror(errno));
        return FALSE;
    }
    *ret_uid = cred.uid;
    return TRUE;
}

/* The name of the share or inbox of the section @section, NULL for another section (shares
 * and inboxes share one name space). */
static const char *
resource_of(const char *section)
{
    if (g_str_has_prefix(section, "share "))
        return section + strlen("share ");
    if (g_str_has_prefix(section, "inbox "))
        return section + strlen("inbox ");
    return NULL;
}

/* The section of @kf whose share or inbox name is @name without regard to case; NULL when
 * none. */
static char *
find_section(GKeyFile *kf, const char *name)
{
    g_auto(GStrv) sections = g_key_file_get_groups(kf, NULL);
    g_autofree char *folded = g_utf8_casefold(name, -1);

    for (guint i = 0; sections[i] != NULL; i++) {
        g_autofree char *other = NULL;

        if (resource_of(sections[i]) == NULL)
            continue;
        other = g_utf8_casefold(resource_of(sections[i]), -1);
        if (strcmp(other, folded) == 0)
            return g_strdup(sections[i]);
    }
    return NULL;
}

/* The path of the folder @dir_fd, which must be one that @uid owns and that the path still
 * names. */
static char *
folder_of(int dir_fd, uid_t uid, GError **error)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", dir_fd);
    g_autofree char *path = NULL;
    struct stat st, again;

    if (fstat(dir_fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, "what was given is not a folder");
        return NULL;
    }
    if (st.st_uid != uid) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "the folder belongs to uid %u, not to you: only its owner may share it "
                    "(or an administrator, with --system)",
                    (guint)st.st_uid);
        return NULL;
    }
    path = g_file_read_link(link, NULL);
    if (path == NULL || !g_path_is_absolute(path) || stat(path, &again) != 0 ||
        again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "the folder has no path that leads to it (was it removed or moved?)");
        return NULL;
    }
    return g_steal_pointer(&path);
}

/* Whether @config_file's porch.conf takes the user shares @text, with [share @name] served;
 * else the reason. */
static gboolean
check(const char *config_file, const char *text, const char *name, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_auto(GStrv) problems = NULL;
    g_autoptr(PorchConfig) c = NULL;
    const PorchShare *s;

    if (!g_file_get_contents(config_file, &data, &len, error))
        return FALSE;
    c = porch_config_load_merged(data, (gssize)len, config_file, text, "", NULL, &problems, error);
    if (c == NULL)
        return FALSE;
    s = porch_config_lookup_share(c, name);
    if (s != NULL && s->user)
        return TRUE;
    for (guint i = 0; problems[i] != NULL; i++) {
        g_autofree char *section =
                g_strdup_printf("[%s %s]", s != NULL && s->inbox ? "inbox" : "share", name);
        g_autofree char *section2 = g_strdup_printf("[inbox %s]", name);
        const char *p = problems[i];

        /* "': [share NAME] ...: the share is not served" (an empty origin) */
        if (g_str_has_prefix(p, ": "))
            p += 2;
        if (strstr(p, section) != NULL || strstr(p, section2) != NULL ||
            !g_str_has_prefix(p, "[")) {
            g_autofree char *why = g_strdup(p);
            char *tail = g_strrstr(why, ": the share is not served");

            if (tail == NULL)
                tail = g_strrstr(why, ": the inbox is not served");
            if (tail != NULL)
                *tail = '\0';
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s", why);
            return FALSE;
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s refuses the share '%s'",
                config_file, name);
    return FALSE;
}

static gboolean
write_file(const char *file, GKeyFile *kf, GError **error)
{
    g_autofree char *text = g_key_file_to_data(kf, NULL, NULL);

    return g_file_set_contents_full(file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

gboolean
porch_user_shares_put(const char *file, const char *config_file, uid_t caller, int dir_fd,
                      const char *request, char **ret_name, GError **error)
{
    g_autoptr(GKeyFile) req = g_key_file_new();
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) groups = NULL;
    g_auto(GStrv) read = NULL;
    g_auto(GStrv) write = NULL;
    g_autofree char *text = NULL;
    g_autofree char *existing = NULL;
    g_autofree char *path = NULL;
    g_autofree char *comment = NULL;
    g_autofree char *owner = NULL;
    g_autofree char *share = NULL;
    g_autofree char *new_text = NULL;
    const char *name;
    struct passwd *pw;
    g_auto(GStrv) accept = NULL;
    g_auto(GStrv) ask = NULL;
    guint64 max_size = 0;
    gboolean hidden, inbox;

    if (caller == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "root shares folders in porch.conf (porch share add --system): a user "
                    "share is served as its owner, and nothing is ever served as root");
        return FALSE;
    }
    pw = getpwuid(caller);
    if (pw == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "uid %u is no user",
                    (guint)caller);
        return FALSE;
    }
    owner = g_strdup(pw->pw_name);
    if (strlen(request) > PORCH_USER_SHARE_REQUEST_MAX ||
        !g_key_file_load_from_data(req, request, -1, G_KEY_FILE_NONE, NULL) ||
        (groups = g_key_file_get_groups(req, NULL)) == NULL || groups[0] == NULL ||
        groups[1] != NULL || resource_of(groups[0]) == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a malformed request");
        return FALSE;
    }
    inbox = g_str_has_prefix(groups[0], "inbox ");
    name = resource_of(groups[0]);
    if (inbox) {
        g_autofree char *v = g_key_file_get_string(req, groups[0], "max-size", NULL);

        accept = g_key_file_get_string_list(req, groups[0], "accept", NULL, NULL);
        ask = g_key_file_get_string_list(req, groups[0], "ask", NULL, NULL);
        if (v != NULL && !porch_text_to_unsigned(v, 10, 0, G_MAXUINT64, &max_size, NULL)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a malformed request");
            return FALSE;
        }
    }
    read = g_key_file_get_string_list(req, groups[0], "read", NULL, NULL);
    write = g_key_file_get_string_list(req, groups[0], "write", NULL, NULL);
    comment = g_key_file_get_string(req, groups[0], "comment", NULL);
    hidden = g_key_file_get_boolean(req, groups[0], "hidden", NULL);

    text = porch_user_shares_read(file, geteuid(), error);
    if (text == NULL)
        return FALSE;
    if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_KEEP_COMMENTS, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", file, local->message);
        return FALSE;
    }
    existing = find_section(kf, name);
    if (existing != NULL) {
        g_autofree char *was = g_key_file_get_string(kf, existing, "owner", NULL);

        if (g_strcmp0(was, owner) != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "the name '%s' is taken by %s's %s: choose another name (--name)",
                        resource_of(existing), was != NULL ? was : "someone else",
                        g_str_has_prefix(existing, "inbox ") ? "inbox" : "user share");
            return FALSE;
        }
        if (g_str_has_prefix(existing, "inbox ") != inbox) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "'%s' is already your %s: choose another name (--name)",
                        resource_of(existing), inbox ? "user share" : "inbox");
            return FALSE;
        }
        if (dir_fd < 0)
            path = g_key_file_get_string(kf, existing, "path", NULL);
        g_key_file_remove_group(kf, existing, NULL);
    } else if (dir_fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "there is no user share '%s'", name);
        return FALSE;
    }
    if (path == NULL && (path = folder_of(dir_fd, caller, error)) == NULL)
        return FALSE;
    share = inbox ? porch_config_user_inbox_text(name, path, owner, (const char *const *)accept,
                                                 (const char *const *)ask, max_size)
                  : porch_config_user_share_text(name, path, owner, (const char *const *)read,
                                                 (const char *const *)write, comment, hidden);
    if (share == NULL || !g_key_file_load_from_data(req, share, -1, G_KEY_FILE_NONE, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    share == NULL ? "'%s' is not a share name" : "a malformed request", name);
        return FALSE;
    }
    {
        g_auto(GStrv) keys = g_key_file_get_keys(req, groups[0], NULL, NULL);
        for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
            g_autofree char *v = g_key_file_get_value(req, groups[0], keys[i], NULL);
            g_key_file_set_value(kf, groups[0], keys[i], v);
        }
    }
    new_text = g_key_file_to_data(kf, NULL, NULL);
    if (!check(config_file, new_text, name, error))
        return FALSE;
    if (!write_file(file, kf, error))
        return FALSE;
    if (ret_name != NULL)
        *ret_name = g_strdup(name);
    return TRUE;
}

gboolean
porch_user_shares_remove(const char *file, uid_t caller, const char *name, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *text = porch_user_shares_read(file, geteuid(), error);
    g_autofree char *section = NULL;
    g_autofree char *owner = NULL;
    struct passwd *pw;

    if (text == NULL)
        return FALSE;
    if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_KEEP_COMMENTS, error))
        return FALSE;
    section = find_section(kf, name);
    if (section == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "there is no user share '%s'", name);
        return FALSE;
    }
    owner = g_key_file_get_string(kf, section, "owner", NULL);
    pw = getpwuid(caller);
    if (caller != 0 && (pw == NULL || g_strcmp0(pw->pw_name, owner) != 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "the user share '%s' is %s's: only they (or root) may remove it",
                    resource_of(section), owner != NULL ? owner : "someone else's");
        return FALSE;
    }
    g_key_file_remove_group(kf, section, NULL);
    return write_file(file, kf, error);
}

/* The owner's user name of @caller; NULL with @error when the uid is no user. */
static char *
owner_name(uid_t caller, GError **error)
{
    struct passwd *pw = getpwuid(caller);

    if (pw == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "uid %u is no user",
                    (guint)caller);
        return NULL;
    }
    return g_strdup(pw->pw_name);
}

/* The section [@kind NAME] of @kf whose NAME is @name: exactly for a peer, without regard to
 * case for a share. */
static char *
find_any(GKeyFile *kf, const char *kind, const char *name)
{
    g_autofree char *section = g_strconcat(kind, " ", name, NULL);

    if (strcmp(kind, "share") == 0)
        return find_section(kf, name);
    return g_key_file_has_group(kf, section) ? g_steal_pointer(&section) : NULL;
}

/* Adds (@add) or removes @who in @key of [@section]; the key goes when it is empty. */
static void
edit_rule(GKeyFile *kf, const char *section, const char *key, const char *who, gboolean add)
{
    g_auto(GStrv) v = g_key_file_get_string_list(kf, section, key, NULL, NULL);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) out = NULL;

    for (guint i = 0; v != NULL && v[i] != NULL; i++)
        if (strcmp(g_strstrip(v[i]), who) != 0 && v[i][0] != '\0')
            g_strv_builder_add(b, v[i]);
    if (add)
        g_strv_builder_add(b, who);
    out = g_strv_builder_end(b);
    if (out[0] == NULL)
        g_key_file_remove_key(kf, section, key, NULL);
    else
        g_key_file_set_string_list(kf, section, key, (const char *const *)out, g_strv_length(out));
}

gboolean
porch_user_shares_accept_peer(const char *file, const char *config_file, uid_t caller,
                              const char *request, GError **error)
{
    g_autoptr(GKeyFile) req = g_key_file_new();
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_auto(GStrv) groups = NULL;
    g_auto(GStrv) read = NULL;
    g_auto(GStrv) write = NULL;
    g_autofree char *owner = NULL;
    g_autofree char *key = NULL;
    g_autofree char *text = NULL;
    g_autofree char *new_text = NULL;
    g_autofree char *existing = NULL;
    g_autoptr(PorchConfig) c = NULL;
    g_autofree char *data = NULL;
    g_auto(GStrv) problems = NULL;
    const char *name;
    gsize len = 0;

    if (caller == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "root accepts peers into porch.conf (porch peers accept, as root, edits it)");
        return FALSE;
    }
    if ((owner = owner_name(caller, error)) == NULL)
        return FALSE;
    if (strlen(request) > PORCH_USER_SHARE_REQUEST_MAX ||
        !g_key_file_load_from_data(req, request, -1, G_KEY_FILE_NONE, NULL) ||
        (groups = g_key_file_get_groups(req, NULL)) == NULL || groups[0] == NULL ||
        groups[1] != NULL || !g_str_has_prefix(groups[0], "peer ") ||
        (key = g_key_file_get_string(req, groups[0], "key", NULL)) == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a malformed request");
        return FALSE;
    }
    name = groups[0] + strlen("peer ");
    read = g_key_file_get_string_list(req, groups[0], "grant-read", NULL, NULL);
    write = g_key_file_get_string_list(req, groups[0], "grant-write", NULL, NULL);
    if ((read == NULL || read[0] == NULL) && (write == NULL || write[0] == NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "name the user shares of yours it may read or write (--read SHARE, "
                    "--write SHARE)");
        return FALSE;
    }
    text = porch_user_shares_read(file, geteuid(), error);
    if (text == NULL || !g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_KEEP_COMMENTS, error))
        return FALSE;
    existing = find_any(kf, "peer", name);
    if (existing != NULL) {
        g_autofree char *was = g_key_file_get_string(kf, existing, "owner", NULL);

        if (g_strcmp0(was, owner) != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "%s accepted a peer called '%s' already: choose another name (--as)",
                        was != NULL ? was : "someone", name);
            return FALSE;
        }
    }
    g_key_file_set_string(kf, groups[0], "key", key);
    g_key_file_set_string(kf, groups[0], "owner", owner);
    for (int w = 0; w < 2; w++) {
        GStrv list = w ? write : read;

        for (guint i = 0; list != NULL && list[i] != NULL; i++) {
            g_autofree char *share = find_any(kf, "share", g_strstrip(list[i]));
            g_autofree char *share_owner =
                    share != NULL ? g_key_file_get_string(kf, share, "owner", NULL) : NULL;

            if (share == NULL || !g_str_has_prefix(share, "share ") ||
                g_strcmp0(share_owner, owner) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "'%s' is no user share of yours: you may let a peer into your own "
                            "shares only (porch share list shows them)",
                            list[i]);
                return FALSE;
            }
            edit_rule(kf, share, w ? "write" : "read", name, TRUE);
        }
    }
    new_text = g_key_file_to_data(kf, NULL, NULL);
    /* porch.conf must take it: the name and the key are not the administrator's peers' */
    if (!g_file_get_contents(config_file, &data, &len, error))
        return FALSE;
    c = porch_config_load_merged(data, (gssize)len, config_file, new_text, "", NULL, &problems,
                                 error);
    if (c == NULL)
        return FALSE;
    for (guint i = 0; problems[i] != NULL; i++) {
        if (strstr(problems[i], groups[0]) != NULL || strstr(problems[i], name) != NULL) {
            const char *p = g_str_has_prefix(problems[i], ": ") ? problems[i] + 2 : problems[i];
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s", p);
            return FALSE;
        }
    }
    if (porch_config_lookup_peer(c, name) == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s refuses the peer '%s'",
                    config_file, name);
        return FALSE;
    }
    return write_file(file, kf, error);
}

gboolean
porch_user_shares_forget_peer(const char *file, uid_t caller, const char *name, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *text = porch_user_shares_read(file, geteuid(), error);
    g_autofree char *section = NULL;
    g_autofree char *owner = NULL;
    g_autofree char *mine = NULL;
    g_auto(GStrv) groups = NULL;

    if (text == NULL || !g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_KEEP_COMMENTS, error))
        return FALSE;
    section = find_any(kf, "peer", name);
    if (section == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no user accepted a peer called '%s'",
                    name);
        return FALSE;
    }
    owner = g_key_file_get_string(kf, section, "owner", NULL);
    mine = caller == 0 ? g_strdup(owner) : owner_name(caller, error);
    if (mine == NULL)
        return FALSE;
    if (g_strcmp0(mine, owner) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "the peer '%s' was accepted by %s: only they (or root) may forget it", name,
                    owner != NULL ? owner : "someone else");
        return FALSE;
    }
    g_key_file_remove_group(kf, section, NULL);
    groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i] != NULL; i++) {
        if (g_str_has_prefix(groups[i], "share ")) {
            edit_rule(kf, groups[i], "read", name, FALSE);
            edit_rule(kf, groups[i], "write", name, FALSE);
        } else if (g_str_has_prefix(groups[i], "inbox ")) {
            edit_rule(kf, groups[i], "accept", name, FALSE);
            edit_rule(kf, groups[i], "ask", name, FALSE);
        }
    }
    return write_file(file, kf, error);
}
