/* session.h — what porchd and porchd-session agree on. */
#pragma once

/* The accepted socket is handed to porchd-session as this descriptor. */
#define PORCH_SESSION_FD 3
/* porchd-session's exit status when the client never authenticated. */
#define PORCH_SESSION_EXIT_AUTH 3
/* ...and when it did, but porchd said no (the session limits): not a failed login. */
#define PORCH_SESSION_EXIT_REFUSED 4
#define PORCH_SESSION_PROGRAM      "porchd-session"
#define PORCH_WORKER_PROGRAM       "porchd-worker"
#define PORCH_LAUNCHER_PROGRAM     "porchd-launcher"

/* The SSH identification porchd-session sends: "SSH-2.0-" and this, no library version. */
#define PORCH_SSH_SOFTWARE "Porch"

/* ---- The control socket ---------------------------------------------------------------
 *
 * porchd keeps one end of a socketpair(AF_UNIX, SOCK_SEQPACKET) per session; the session
 * gets the other as PORCH_SESSION_CONTROL_FD. porchd learns from it who is logged in, so
 * that it can count peers and guests; a session asks it before it lets a client in.
 *
 * Each message is one packet of 1..PORCH_CONTROL_MAX bytes of printable ASCII (0x20-0x7e; a
 * transfer note's path is UTF-8),
 * without a line end or NUL:
 *
 *   session -> porchd   "login peer NAME"   NAME, the [peer]'s name, authenticated by its key
 *                       "login guest"       the client logged in as guest
 *   porchd -> session   "ok"                go on: the session is counted as logged in
 *                       "refused TEXT"      do not: TEXT says why, for the client
 *   session -> porchd   "files SHARE"       once logged in: a connection to the file worker
 *                                           of SHARE (daemon/files.h), which porchd gives
 *                                           only for a share the peer may read
 *   porchd -> session   "ok"                with the connection (SCM_RIGHTS)
 *                       "refused TEXT"
 *
 *   session -> porchd   "transfer ID get|put SIZE DONE SHARE/PATH"
 *                                           a file open for reading (get) or writing (put):
 *                                           its size and the bytes moved so far, said when
 *                                           it opens and at most once a second after; no
 *                                           answer (for `porch status`). PATH is UTF-8, cut
 *                                           to fit the packet
 *                       "transfer-end ID"   that file was closed
 *
 *   session -> porchd   "offer-name NAME"   a send (porch-send.h): one of the offer's names,
 *                                           sanitised, percent-encoded; at most
 *                                           PORCH_OFFERS_MAX_NAMES before each offer
 *                       "offer KEY COUNT TOTAL [INBOX]"
 *                                           the offer: its key (64 hex digits), how many
 *                                           files, their bytes, the inbox (none: the default)
 *   porchd -> session   "refused N TEXT"    not taken: N is the send's exit status
 *                       "accepted INBOX"    go on: "files INBOX" is granted to this session
 *                       "wait ID OWNER INBOX"
 *                                           the owner is asked; "accepted INBOX" or "refused N
 *                                           TEXT" follows when they answer or the offer
 *                                           expires (PORCH_SEND_OFFER_TIMEOUT_S)
 *   session -> porchd   "offer-withdraw"    the sender went away: the offer goes
 *
 *   session -> porchd   "exec"              once logged in, for an exec command other than
 *                                           send: a connection to a porchd-print started
 *                                           for this session's peer or guest and address
 *                                           (print-relay.h); at most once per session
 *   porchd -> session   "ok"                with the connection (SCM_RIGHTS)
 *                       "refused TEXT"
 *
 * A session sends one login request, right when authentication succeeded, and waits at
 * most PORCH_CONTROL_TIMEOUT_MS for the answer; no answer, the end of the socket or
 * anything else is a refusal. porchd answers from its counts (porch.conf(5), LIMITS):
 * logged-in sessions at most max-sessions, of them guests at most max-guest-sessions.
 * Anything else from a session (a second login, "files" before the login or more than
 * PORCH_CONTROL_MAX_FILES of them, an unknown or too long packet) makes
 * porchd log it, close its end and end that session: a session cannot confuse porchd's
 * counts, nor make it read more than PORCH_CONTROL_MAX + 1 bytes at a time. */
#define PORCH_SESSION_CONTROL_FD     4
#define PORCH_CONTROL_MAX            256
#define PORCH_CONTROL_TIMEOUT_MS     5000
#define PORCH_CONTROL_LOGIN_PEER     "login peer "
#define PORCH_CONTROL_LOGIN_GUEST    "login guest"
#define PORCH_CONTROL_OK             "ok"
#define PORCH_CONTROL_REFUSED        "refused "
#define PORCH_CONTROL_FILES          "files "
#define PORCH_CONTROL_TRANSFER       "transfer "
#define PORCH_CONTROL_TRANSFER_END   "transfer-end "
#define PORCH_CONTROL_OFFER_NAME     "offer-name "
#define PORCH_CONTROL_OFFER          "offer "
#define PORCH_CONTROL_OFFER_WITHDRAW "offer-withdraw"
#define PORCH_CONTROL_OFFER_ACCEPTED "accepted "
#define PORCH_CONTROL_OFFER_WAIT     "wait "
#define PORCH_CONTROL_EXEC           "exec"
/* Transfers a session may have said are under way at once. */
#define PORCH_CONTROL_MAX_TRANSFERS 64
/* "files" requests a session may make (a connection per share it uses, so far fewer). */
#define PORCH_CONTROL_MAX_FILES 256

/* Modern algorithms only: AEAD, or CTR with encrypt-then-MAC (the ciphers, in the order that
 * suits the CPU: porch-ciphers.h); SHA-2 signatures. */
#define PORCH_SSH_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define PORCH_SSH_PUBKEY_TYPES                                                                     \
    "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"              \
    "ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
