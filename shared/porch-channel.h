/* porch-channel.h — reading an SSH channel with a time limit, alike with libssh 0.10 and 0.11.
 *
 * When nothing arrived within the time, ssh_channel_read_timeout() returns 0 in libssh 0.10
 * (Debian 12's), as it does at the end of the data, and SSH_AGAIN in libssh 0.11 (Debian
 * 13's). Porch's readers take 0 for "nothing now" and then ask ssh_channel_is_eof() which of
 * the two it was; SSH_AGAIN they would take for a broken connection (the session for an
 * error instead of an idle client, the client for "connection lost" at its first quiet
 * moment). They all read through this, which returns what 0.10 returns. */
#pragma once

#include <glib.h>
#include <libssh/libssh.h>

G_BEGIN_DECLS

/* ssh_channel_read_timeout(), with SSH_AGAIN (nothing within @timeout_ms) returned as 0. */
static inline int
porch_channel_read_timeout(ssh_channel channel, void *dest, guint32 count, int is_stderr,
                           int timeout_ms)
{
    int n = ssh_channel_read_timeout(channel, dest, count, is_stderr, timeout_ms);

    return n == SSH_AGAIN ? 0 : n;
}

G_END_DECLS
