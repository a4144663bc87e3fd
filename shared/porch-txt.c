/* porch-txt.c — see porch-txt.h. */
#include "porch-txt.h"

#include <string.h>

char **
porch_txt_decode(AvahiStringList *txt)
{
    GPtrArray *a = g_ptr_array_new();
    guint n = avahi_string_list_length(txt);
    AvahiStringList *l = txt;

    /* Avahi's list runs from the last advertised entry to the first: skip the ones beyond
     * PORCH_TXT_MAX_ENTRIES, then collect the rest backwards. */
    for (guint skip = n > PORCH_TXT_MAX_ENTRIES ? n - PORCH_TXT_MAX_ENTRIES : 0; skip > 0; skip--)
        l = avahi_string_list_get_next(l);
    g_ptr_array_set_size(a, MIN(n, PORCH_TXT_MAX_ENTRIES) + 1);
    for (guint i = MIN(n, PORCH_TXT_MAX_ENTRIES); l != NULL && i > 0;
         l = avahi_string_list_get_next(l))
        g_ptr_array_index(a, --i) = g_utf8_make_valid((const char *)avahi_string_list_get_text(l),
                                                      (gssize)avahi_string_list_get_size(l));
    return (char **)g_ptr_array_free(a, FALSE);
}

const char *
porch_txt_lookup(const char *const *txt, const char *key)
{
    size_t klen;

    g_return_val_if_fail(key != NULL, NULL);
    klen = strlen(key);
    for (; txt != NULL && *txt != NULL; txt++) {
        const char *eq = strchr(*txt, '=');
        size_t len = eq != NULL ? (size_t)(eq - *txt) : strlen(*txt);
        if (len == klen && g_ascii_strncasecmp(*txt, key, klen) == 0)
            return eq != NULL ? eq + 1 : "";
    }
    return NULL;
}

char *
porch_txt_fingerprint(const char *const *txt)
{
    const char *fp = porch_txt_lookup(txt, "fp");

    return fp != NULL && *fp != '\0' ? g_strconcat("SHA256:", fp, NULL) : NULL;
}

const char *
porch_txt_share_path(const char *const *txt, gboolean *ret_guest)
{
    const char *path = porch_txt_lookup(txt, "path");
    const char *u = porch_txt_lookup(txt, "u");

    if (ret_guest != NULL)
        *ret_guest = u != NULL && strcmp(u, "guest") == 0;
    if (path == NULL || path[0] != '/' || path[strspn(path, "/")] == '\0')
        return NULL;
    return path;
}

char *
porch_txt_service_uri(const char *type, const char *host, guint16 port, const char *const *txt)
{
    const char *scheme = NULL;
    const char *user = NULL;
    const char *path;
    g_autofree char *p = NULL;
    char *uri;
    int uport = port != 0 ? port : -1;

    g_return_val_if_fail(type != NULL && host != NULL, NULL);

    if (strcmp(type, "_ipp._tcp") == 0 || strcmp(type, "_ipps._tcp") == 0) {
        const char *rp = porch_txt_lookup(txt, "rp");
        scheme = type[4] == 's' ? "ipps" : "ipp";
        p = g_strconcat("/", rp != NULL ? rp : "", NULL);
    } else if (strcmp(type, "_smb._tcp") == 0) {
        scheme = "smb";
        p = g_strdup("/");
        if (port == 445)
            uport = -1;
    } else {
        if (strcmp(type, "_sftp-ssh._tcp") == 0)
            scheme = "sftp";
        else if (strcmp(type, "_webdav._tcp") == 0)
            scheme = "dav";
        else if (strcmp(type, "_webdavs._tcp") == 0)
            scheme = "davs";
        else
            return NULL;
        user = porch_txt_lookup(txt, "u");
        /* a ':' would make the rest a password in the URI */
        if (user != NULL && strchr(user, ':') != NULL)
            user = NULL;
        path = porch_txt_lookup(txt, "path");
        if (path == NULL)
            path = "";
        p = path[0] == '/' ? g_strdup(path) : g_strconcat("/", path, NULL);
    }
    uri = g_uri_join(G_URI_FLAGS_NONE, scheme, user != NULL && *user != '\0' ? user : NULL, host,
                     uport, p, NULL, NULL);
    /* the host name comes from the network too: one that no URI can hold (GLib refuses it as
     * an internationalized name, a control character, ...) gives none */
    if (uri != NULL && !g_uri_is_valid(uri, G_URI_FLAGS_NONE, NULL))
        g_clear_pointer(&uri, g_free);
    return uri;
}
