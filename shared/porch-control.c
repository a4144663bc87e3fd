/* porch-control.c — the client's end of porchd's control socket (porch-control.h). */
#include "porch-control.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>

char *
porch_ctl_runtime_dir(gboolean system)
{
    const char *env = g_getenv("PORCH_SYSTEM_RUNTIME_DIR");

    if (system)
        return g_strdup(env != NULL && env[0] != '\0' ? env : PORCH_CTL_SYSTEM_DIR);
    return g_build_filename(g_get_user_runtime_dir(), "porch", NULL);
}

int
porch_ctl_connect_to(gboolean system, GError **error)
{
    g_autofree char *dir = porch_ctl_runtime_dir(system);
    g_autofree char *path = g_build_filename(dir, PORCH_CTL_SOCKET, NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "%s: too long a path", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;

        if (fd >= 0)
            close(fd);
        g_set_error(error, G_IO_ERROR,
                    e == ENOENT || e == ECONNREFUSED ? G_IO_ERROR_NOT_FOUND
                                                     : g_io_error_from_errno(e),
                    "%s: %s", path, g_strerror(e));
        return -1;
    }
    return fd;
}

int
porch_ctl_connect(gboolean *ret_system, GError **error)
{
    g_autoptr(GError) sys_error = NULL;
    g_autoptr(GError) user_error = NULL;
    int fd = porch_ctl_connect_to(TRUE, &sys_error);

    if (fd < 0)
        fd = porch_ctl_connect_to(FALSE, &user_error);
    else if (ret_system != NULL)
        *ret_system = TRUE;
    if (fd >= 0) {
        if (user_error == NULL && sys_error != NULL && ret_system != NULL)
            *ret_system = FALSE;
        return fd;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "no porchd is running: neither the system service (%s) nor yours (%s) "
                "answers; start one with 'sudo systemctl start porchd' or "
                "'systemctl --user start porchd'",
                sys_error->message, user_error->message);
    return -1;
}

JsonObject *
porch_ctl_call(int sock, JsonNode *request, int fd, GError **error)
{
    g_autofree char *text = json_to_string(request, FALSE);
    g_autofree char *buf = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    struct pollfd pfd = {.fd = sock, .events = POLLIN};
    struct msghdr msg = {0};
    struct iovec iov;
    union {
        struct cmsghdr hdr;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    JsonNode *root;
    JsonObject *o;
    gssize n;
    int r;

    if (strlen(text) > PORCH_CTL_REQUEST_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "too long a request");
        return NULL;
    }
    iov = (struct iovec){.iov_base = text, .iov_len = strlen(text)};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        struct cmsghdr *c;

        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (gssize)strlen(text)) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "porchd's control socket: %s",
                    g_strerror(errno));
        return NULL;
    }
    do
        r = poll(&pfd, 1, PORCH_CTL_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "porchd did not answer within %d s",
                    PORCH_CTL_TIMEOUT_MS / 1000);
        return NULL;
    }
    buf = g_malloc(PORCH_CTL_REPLY_MAX + 1);
    n = recv(sock, buf, PORCH_CTL_REPLY_MAX + 1, 0);
    if (n <= 0 || n > PORCH_CTL_REPLY_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "porchd %s",
                    n == 0 ? "closed the connection without an answer" : "answered too much");
        return NULL;
    }
    if (!json_parser_load_from_data(parser, buf, n, NULL) ||
        (root = json_parser_get_root(parser)) == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "porchd's answer is not JSON");
        return NULL;
    }
    o = json_node_get_object(root);
    if (!json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    json_object_get_string_member_with_default(o, "error",
                                                               "porchd refused, saying nothing"));
        return NULL;
    }
    return json_object_ref(o);
}

JsonObject *
porch_ctl_call_op(int sock, const char *op, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) req = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "op");
    json_builder_add_string_value(b, op);
    json_builder_end_object(b);
    req = json_builder_get_root(b);
    return porch_ctl_call(sock, req, -1, error);
}

static JsonNode *
strv_node(const char *const *v)
{
    JsonArray *a = json_array_new();
    JsonNode *n = json_node_alloc();

    for (guint i = 0; v != NULL && v[i] != NULL; i++)
        json_array_add_string_element(a, v[i]);
    json_node_init_array(n, a);
    json_array_unref(a); /* the node holds a reference of its own */
    return n;
}

/* Sends @req (taken) with @fd. */
static JsonObject *
call_object(int sock, JsonObject *req, int fd, GError **error)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), req);

    json_object_unref(req);
    return porch_ctl_call(sock, node, fd, error);
}

JsonObject *
porch_ctl_share_add(int sock, int dir_fd, const char *name, const char *const *read,
                    const char *const *write, const char *comment, gboolean hidden, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "share-add");
    json_object_set_string_member(req, "name", name);
    json_object_set_member(req, "read", strv_node(read));
    json_object_set_member(req, "write", strv_node(write));
    json_object_set_string_member(req, "comment", comment != NULL ? comment : "");
    json_object_set_boolean_member(req, "hidden", hidden);
    return call_object(sock, req, dir_fd, error);
}

JsonObject *
porch_ctl_inbox_enable(int sock, int dir_fd, const char *name, const char *const *accept,
                       const char *const *ask, guint64 max_size, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "inbox-enable");
    json_object_set_string_member(req, "name", name);
    json_object_set_member(req, "accept", strv_node(accept));
    json_object_set_member(req, "ask", strv_node(ask));
    json_object_set_int_member(req, "max_size", (gint64)MIN(max_size, (guint64)G_MAXINT64));
    return call_object(sock, req, dir_fd, error);
}

JsonObject *
porch_ctl_inbox_disable(int sock, const char *name, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "inbox-disable");
    json_object_set_string_member(req, "name", name);
    return call_object(sock, req, -1, error);
}

JsonObject *
porch_ctl_inbox_list(int sock, GError **error)
{
    return porch_ctl_call_op(sock, "inbox-list", error);
}

JsonObject *
porch_ctl_inbox_answer(int sock, guint id, gboolean accept, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", accept ? "inbox-accept" : "inbox-decline");
    json_object_set_int_member(req, "id", id);
    return call_object(sock, req, -1, error);
}

JsonObject *
porch_ctl_share_remove(int sock, const char *name, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "share-remove");
    json_object_set_string_member(req, "name", name);
    return call_object(sock, req, -1, error);
}

JsonObject *
porch_ctl_rule(int sock, const char *who, const char *right, const char *share, gboolean allow,
               GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "rule");
    json_object_set_string_member(req, "who", who);
    json_object_set_string_member(req, "right", right);
    json_object_set_string_member(req, "share", share);
    json_object_set_boolean_member(req, "allow", allow);
    return call_object(sock, req, -1, error);
}

JsonObject *
porch_ctl_peers_accept(int sock, const char *which, const char *as, const char *const *read,
                       const char *const *write, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "peers-accept");
    json_object_set_string_member(req, "which", which);
    if (as != NULL)
        json_object_set_string_member(req, "as", as);
    json_object_set_member(req, "read", strv_node(read));
    json_object_set_member(req, "write", strv_node(write));
    return call_object(sock, req, -1, error);
}

JsonObject *
porch_ctl_peers_deny(int sock, const char *which, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "peers-deny");
    json_object_set_string_member(req, "which", which);
    return call_object(sock, req, -1, error);
}

JsonObject *
porch_ctl_peers_forget(int sock, const char *name, GError **error)
{
    JsonObject *req = json_object_new();

    json_object_set_string_member(req, "op", "peers-forget");
    json_object_set_string_member(req, "name", name);
    return call_object(sock, req, -1, error);
}

GStrv
porch_ctl_get_strv(JsonObject *o, const char *member)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;
    JsonArray *a = n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;

    for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);

        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
            g_strv_builder_add(b, json_node_get_string(e));
    }
    return g_strv_builder_end(b);
}
