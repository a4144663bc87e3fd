/* porch-neighbours.c — neighbours remembered by address (porch-neighbours.h). */
#include "porch-neighbours.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "porch-config.h"
#include "porch-identity.h"
#include "porch-print-client.h"

#define KEY_ADDRESS     "address"
#define KEY_PORT        "port"
#define KEY_NAME        "name"
#define KEY_FINGERPRINT "fingerprint"
#define KEY_SHARES      "shares"
#define KEY_PRINTERS    "printers"

void
porch_remembered_free(PorchRemembered *r)
{
    if (r == NULL)
        return;
    g_free(r->address);
    g_free(r->name);
    g_free(r->fingerprint);
    g_strfreev(r->shares);
    g_strfreev(r->printers);
    g_free(r);
}

char *
porch_neighbours_default_file(void)
{
    return g_build_filename(g_get_user_config_dir(), "porch", "neighbours", NULL);
}

gboolean
porch_neighbours_parse_address(const char *text, char **ret_address, guint16 *ret_port,
                               GError **error)
{
    g_autoptr(GSocketConnectable) parsed = NULL;
    g_autoptr(GInetAddress) ia = NULL;
    const char *host;
    guint16 port;

    g_return_val_if_fail(text != NULL && ret_address != NULL && ret_port != NULL, FALSE);

    /* GIO's parser takes "HOST", "HOST:PORT", "[IPV6]:PORT" and a bare IPv6 address */
    parsed = *text != '\0' && g_utf8_validate(text, -1, NULL)
                     ? g_network_address_parse(text, PORCH_DEFAULT_PORT, NULL)
                     : NULL;
    if (parsed == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "'%s' is not an address: give ADDRESS or ADDRESS:PORT (10.0.0.7, "
                    "10.0.0.7:4423, [fe80::1%%eth0]:4423)",
                    text);
        return FALSE;
    }
    host = g_network_address_get_hostname(G_NETWORK_ADDRESS(parsed));
    port = g_network_address_get_port(G_NETWORK_ADDRESS(parsed));
    if (port == 0 || (!g_hostname_is_ip_address(host) && !g_hostname_is_ascii_encoded(host)) ||
        strpbrk(host, " \t/") != NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "'%s' is not an address: give ADDRESS or ADDRESS:PORT (10.0.0.7, "
                    "10.0.0.7:4423, [fe80::1%%eth0]:4423)",
                    text);
        return FALSE;
    }
    /* an IP address in its usual form, so that one neighbour is one entry; a scope stays */
    ia = strchr(host, '%') == NULL ? g_inet_address_new_from_string(host) : NULL;
    *ret_address = ia != NULL ? g_inet_address_to_string(ia) : g_strdup(host);
    *ret_port = port;
    return TRUE;
}

char *
porch_neighbours_pin_name(const char *address, guint16 port)
{
    if (port == PORCH_DEFAULT_PORT)
        return g_strdup(address);
    if (strchr(address, ':') != NULL)
        return g_strdup_printf("[%s]:%u", address, (unsigned)port);
    return g_strdup_printf("%s:%u", address, (unsigned)port);
}

static GKeyFile *
read_file(const char *file, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *data = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;
    GStatBuf st;

    if (g_stat(file, &st) != 0) {
        int e = errno;
        if (e == ENOENT)
            return g_steal_pointer(&kf);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", file, g_strerror(e));
        return NULL;
    }
    if (st.st_size > PORCH_NEIGHBOURS_MAX_FILE) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is larger than %d bytes", file,
                    PORCH_NEIGHBOURS_MAX_FILE);
        return NULL;
    }
    if (!g_file_get_contents(file, &data, &len, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&kf);
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", file, local->message);
        return NULL;
    }
    return g_steal_pointer(&kf);
}

static GStrv
get_list(GKeyFile *kf, const char *group, const char *key)
{
    GStrv v = g_key_file_get_string_list(kf, group, key, NULL, NULL);
    return v != NULL ? v : g_new0(char *, 1);
}

GPtrArray *
porch_neighbours_load(const char *file, GError **error)
{
    g_autofree char *def = file == NULL ? porch_neighbours_default_file() : NULL;
    g_autoptr(GKeyFile) kf = read_file(file != NULL ? file : def, error);
    g_autoptr(GPtrArray) list = NULL;
    g_auto(GStrv) groups = NULL;

    if (kf == NULL)
        return NULL;
    list = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remembered_free);
    groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i] != NULL && list->len < PORCH_NEIGHBOURS_MAX; i++) {
        g_autofree char *address = g_key_file_get_string(kf, groups[i], KEY_ADDRESS, NULL);
        g_autofree char *name = g_key_file_get_string(kf, groups[i], KEY_NAME, NULL);
        gint port = g_key_file_get_integer(kf, groups[i], KEY_PORT, NULL);
        PorchRemembered *r;

        if (address == NULL || *address == '\0' || port <= 0 || port > 65535)
            continue;
        r = g_new0(PorchRemembered, 1);
        r->address = g_steal_pointer(&address);
        r->port = (guint16)port;
        r->name = name != NULL && *name != '\0' ? g_steal_pointer(&name) : g_strdup(r->address);
        r->fingerprint = g_key_file_get_string(kf, groups[i], KEY_FINGERPRINT, NULL);
        r->shares = get_list(kf, groups[i], KEY_SHARES);
        r->printers = get_list(kf, groups[i], KEY_PRINTERS);
        g_ptr_array_add(list, r);
    }
    return g_steal_pointer(&list);
}

gboolean
porch_neighbours_save(const char *file, GPtrArray *list, GError **error)
{
    g_autofree char *def = file == NULL ? porch_neighbours_default_file() : NULL;
    g_autofree char *dir = NULL;
    g_autofree char *data = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    gsize len;

    if (file == NULL)
        file = def;
    g_key_file_set_comment(kf, NULL, NULL,
                           " Porch neighbours remembered by address (porch neighbours add)", NULL);
    for (guint i = 0; i < list->len; i++) {
        const PorchRemembered *r = g_ptr_array_index(list, i);
        g_autofree char *group = porch_neighbours_pin_name(r->address, r->port);

        g_key_file_set_string(kf, group, KEY_ADDRESS, r->address);
        g_key_file_set_integer(kf, group, KEY_PORT, r->port);
        g_key_file_set_string(kf, group, KEY_NAME, r->name != NULL ? r->name : r->address);
        if (r->fingerprint != NULL)
            g_key_file_set_string(kf, group, KEY_FINGERPRINT, r->fingerprint);
        g_key_file_set_string_list(kf, group, KEY_SHARES, (const char *const *)r->shares,
                                   r->shares != NULL ? g_strv_length(r->shares) : 0);
        g_key_file_set_string_list(kf, group, KEY_PRINTERS, (const char *const *)r->printers,
                                   r->printers != NULL ? g_strv_length(r->printers) : 0);
    }
    data = g_key_file_to_data(kf, &len, NULL);
    dir = g_path_get_dirname(file);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot make %s: %s", dir,
                    g_strerror(e));
        return FALSE;
    }
    /* a new file beside it, then renamed over it */
    return g_file_set_contents_full(file, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                    error);
}

PorchRemembered *
porch_neighbours_find(GPtrArray *list, const char *name)
{
    g_autofree char *valid = g_utf8_make_valid(name, -1);
    g_autofree char *folded = g_utf8_casefold(valid, -1);

    for (guint i = 0; i < list->len; i++) {
        PorchRemembered *r = g_ptr_array_index(list, i);
        if (g_strcmp0(r->name, name) == 0)
            return r;
    }
    for (guint i = 0; i < list->len; i++) {
        PorchRemembered *r = g_ptr_array_index(list, i);
        g_autofree char *f = r->name != NULL ? g_utf8_casefold(r->name, -1) : NULL;
        if (g_strcmp0(f, folded) == 0)
            return r;
    }
    for (guint i = 0; i < list->len; i++) {
        PorchRemembered *r = g_ptr_array_index(list, i);
        g_autofree char *pin = porch_neighbours_pin_name(r->address, r->port);
        if (g_ascii_strcasecmp(pin, name) == 0 || g_ascii_strcasecmp(r->address, name) == 0)
            return r;
    }
    return NULL;
}

PorchRemembered *
porch_neighbours_check(const char *address, guint16 port, const PorchConnectOptions *base,
                       GCancellable *cancellable, GError **error)
{
    g_autofree char *pin = porch_neighbours_pin_name(address, port);
    g_autoptr(PorchClient) client = NULL;
    g_autoptr(PorchHostStatus) status = NULL;
    PorchConnectOptions o = *base;
    PorchRemembered *r;

    o.address = address;
    o.port = port;
    o.pin_name = pin;
    o.expected_fingerprint = NULL;
    client = porch_client_connect_print(&o, cancellable, error);
    if (client == NULL)
        return NULL;
    if (!porch_client_status(client, &status, error))
        return NULL;
    r = g_new0(PorchRemembered, 1);
    r->address = g_strdup(address);
    r->port = port;
    r->name = g_steal_pointer(&status->name);
    r->fingerprint = g_strdup(porch_client_get_host_fingerprint(client));
    r->shares = g_steal_pointer(&status->shares);
    r->printers = g_steal_pointer(&status->printers);
    return r;
}

PorchRemembered *
porch_remembered_copy(const PorchRemembered *r)
{
    PorchRemembered *c = g_new0(PorchRemembered, 1);

    c->address = g_strdup(r->address);
    c->port = r->port;
    c->name = g_strdup(r->name);
    c->fingerprint = g_strdup(r->fingerprint);
    c->shares = r->shares != NULL ? g_strdupv(r->shares) : g_new0(char *, 1);
    c->printers = r->printers != NULL ? g_strdupv(r->printers) : g_new0(char *, 1);
    return c;
}

gboolean
porch_neighbours_add(const char *file, const PorchRemembered *remembered, GError **error)
{
    g_autoptr(GPtrArray) list = porch_neighbours_load(file, error);
    guint i;

    if (list == NULL)
        return FALSE;
    for (i = 0; i < list->len; i++) {
        const PorchRemembered *r = g_ptr_array_index(list, i);
        if (r->port == remembered->port && strcmp(r->address, remembered->address) == 0)
            break;
    }
    if (i < list->len) {
        porch_remembered_free(g_ptr_array_index(list, i));
        g_ptr_array_index(list, i) = porch_remembered_copy(remembered);
    } else if (list->len >= PORCH_NEIGHBOURS_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    "%d neighbours are remembered already; remove one first", PORCH_NEIGHBOURS_MAX);
        return FALSE;
    } else {
        g_ptr_array_add(list, porch_remembered_copy(remembered));
    }
    return porch_neighbours_save(file, list, error);
}

typedef struct {
    PorchRemembered *remembered;
    int timeout;
} Poll;

static void
poll_free(Poll *p)
{
    porch_remembered_free(p->remembered);
    g_free(p);
}

/* A poll asks nothing: a key not pinned yet is refused. */
static gboolean
refuse_unpinned(const char *pin_name, const char *fingerprint, gboolean advertised, gpointer data)
{
    return FALSE;
}

static void
poll_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Poll *p = data;
    g_autofree char *key_file = porch_identity_default_file();
    ssh_key key =
            g_file_test(key_file, G_FILE_TEST_EXISTS) ? porch_identity_load(key_file, NULL) : NULL;
    PorchConnectOptions o = {
            .identity = key,
            .trust = refuse_unpinned,
            .timeout_seconds = p->timeout,
            .connect_timeout_seconds = p->timeout,
    };
    GError *error = NULL;
    PorchRemembered *r = porch_neighbours_check(p->remembered->address, p->remembered->port, &o,
                                                cancellable, &error);

    if (key != NULL)
        ssh_key_free(key);
    if (r != NULL)
        g_task_return_pointer(task, r, (GDestroyNotify)porch_remembered_free);
    else
        g_task_return_error(task, error);
}

void
porch_neighbours_poll_async(const PorchRemembered *remembered, int timeout_seconds,
                            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, data);
    Poll *p = g_new0(Poll, 1);

    p->remembered = porch_remembered_copy(remembered);
    p->timeout = timeout_seconds;
    g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
    g_task_set_name(task, "porch remembered neighbour poll");
    g_task_run_in_thread(task, poll_thread);
}

PorchRemembered *
porch_neighbours_poll_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

static gboolean
strv_equal0(char **a, char **b)
{
    static char *none[] = {NULL};
    return g_strv_equal((const char *const *)(a != NULL ? a : none),
                        (const char *const *)(b != NULL ? b : none));
}

gboolean
porch_remembered_equal(const PorchRemembered *a, const PorchRemembered *b)
{
    return a->port == b->port && g_strcmp0(a->address, b->address) == 0 &&
           g_strcmp0(a->name, b->name) == 0 && g_strcmp0(a->fingerprint, b->fingerprint) == 0 &&
           strv_equal0(a->shares, b->shares) && strv_equal0(a->printers, b->printers);
}

gboolean
porch_neighbours_refresh(const char *file, const PorchRemembered *fresh, gboolean *ret_changed,
                         GError **error)
{
    g_autoptr(GPtrArray) list = porch_neighbours_load(file, error);

    if (ret_changed != NULL)
        *ret_changed = FALSE;
    if (list == NULL)
        return FALSE;
    for (guint i = 0; i < list->len; i++) {
        PorchRemembered *r = g_ptr_array_index(list, i);
        if (r->port != fresh->port || strcmp(r->address, fresh->address) != 0)
            continue;
        if (porch_remembered_equal(r, fresh))
            return TRUE;
        porch_remembered_free(r);
        g_ptr_array_index(list, i) = porch_remembered_copy(fresh);
        if (ret_changed != NULL)
            *ret_changed = TRUE;
        return porch_neighbours_save(file, list, error);
    }
    return TRUE;
}

PorchRemembered *
porch_neighbours_remove(const char *file, const char *name, GError **error)
{
    g_autoptr(GPtrArray) list = porch_neighbours_load(file, error);
    PorchRemembered *r;
    guint index;

    if (list == NULL)
        return NULL;
    r = porch_neighbours_find(list, name);
    if (r == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no remembered neighbour '%s'", name);
        return NULL;
    }
    g_ptr_array_find(list, r, &index);
    r = g_ptr_array_steal_index(list, index);
    if (!porch_neighbours_save(file, list, error)) {
        porch_remembered_free(r);
        return NULL;
    }
    return r;
}

gboolean
porch_remembered_is_seen_as(const PorchRemembered *r, const PorchNeighbour *n)
{
    return porch_neighbour_is_porch(n) && !porch_neighbour_is_remembered(n) &&
           ((r->fingerprint != NULL &&
             g_strcmp0(porch_neighbour_get_fingerprint(n), r->fingerprint) == 0) ||
            g_strcmp0(porch_neighbour_get_name(n), r->name) == 0);
}

PorchNeighbour *
porch_remembered_to_neighbour(const PorchRemembered *r)
{
    return porch_neighbour_new_remembered(r->name != NULL ? r->name : r->address, r->address,
                                          r->port, r->fingerprint, (const char *const *)r->shares,
                                          (const char *const *)r->printers);
}
