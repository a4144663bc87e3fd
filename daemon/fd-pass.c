/* fd-pass.c — one packet and its descriptors over a SOCK_SEQPACKET socket. */
#include "fd-pass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

gboolean
porch_fd_send(int sock, const void *data, gsize len, const int *fds, guint n_fds)
{
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(PORCH_FD_PASS_MAX * sizeof(int))];
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    g_return_val_if_fail(len > 0 && n_fds <= PORCH_FD_PASS_MAX, FALSE);
    memset(&control, 0, sizeof control);
    if (n_fds > 0) {
        struct cmsghdr *c;

        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
    }
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0 && (gsize)n != len)
        errno = EMSGSIZE;
    return n >= 0 && (gsize)n == len;
}

gssize
porch_fd_recv(int sock, void *buf, gsize size, int *fds, guint max_fds, guint *ret_n_fds)
{
    union {
        struct cmsghdr h;
        /* room for more than we take, so that extra ones are seen and closed */
        char buf[CMSG_SPACE(8 * sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = size};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    int error = 0;
    ssize_t n;

    *ret_n_fds = 0;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        gsize count = c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
                              ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int)
                              : 0;
        if (count == 0)
            error = EPROTO;
        for (gsize i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*ret_n_fds < max_fds)
                fds[(*ret_n_fds)++] = fd;
            else {
                close(fd);
                error = EPROTO;
            }
        }
    }
    if (msg.msg_flags & MSG_CTRUNC)
        error = EPROTO;
    if (msg.msg_flags & MSG_TRUNC)
        error = EMSGSIZE;
    if (error != 0) {
        for (guint i = 0; i < *ret_n_fds; i++)
            close(fds[i]);
        *ret_n_fds = 0;
        errno = error;
        return -1;
    }
    return n;
}
