/* session.h — what porchd and porchd-session agree on. */
#pragma once

/* The accepted socket is handed to porchd-session as this descriptor. */
#define PORCH_SESSION_FD 3
/* porchd-session's exit status when the client never authenticated. */
#define PORCH_SESSION_EXIT_AUTH 3
/* In the state directory: the host key, and the configuration porchd validated last. */
#define PORCH_HOST_KEY_FILE   "ssh_host_ed25519_key"
#define PORCH_RUNNING_CONFIG  "running.conf"
#define PORCH_SESSION_PROGRAM "porchd-session"
/* In the state directory while porchd runs: its process id, "PID\n", so that
 * `porch peers accept` can make it reload (cli/peers.c checks /proc/PID/comm first). */
#define PORCH_PID_FILE "porchd.pid"

/* Modern algorithms only: AEAD, or CTR with encrypt-then-MAC; SHA-2 signatures. */
#define PORCH_SSH_CIPHERS                                                                          \
    "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,"      \
    "aes256-ctr"
#define PORCH_SSH_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define PORCH_SSH_PUBKEY_TYPES                                                                     \
    "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"              \
    "ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
