/* porch-control.h — porchd's control socket, seen from both ends.
 *
 * A running porchd listens on a Unix socket (SOCK_SEQPACKET) named PORCH_CTL_SOCKET in its
 * runtime folder: /run/porch for the system service, $XDG_RUNTIME_DIR/porch for a user's.
 * Local programs (`porch share`, `allow`, `deny`, `status`, `peers`; porch-tray) send it
 * requests and it answers each with its verdict. It is a Unix socket rather than D-Bus with
 * polkit because the one thing a request needs to be judged is who sent it, which the kernel
 * tells porchd for a Unix socket (SO_PEERCRED) without a second daemon, and because a request
 * that shares a folder carries the folder itself as an open descriptor (SCM_RIGHTS), so that
 * what the user named is exactly what porchd checks.
 *
 * One request is one packet: a JSON object of at most PORCH_CTL_REQUEST_MAX bytes, with "op"
 * and the op's members, and at most one descriptor. The answer is one packet: a JSON object
 * with "ok" (boolean), "error" (a sentence for the user, when not ok), "warnings" (an array of
 * sentences, possibly empty) and the op's members. A client may send several requests on one
 * connection, one at a time. A packet that is not such an object ends the connection.
 *
 *   status                   anyone: "daemon" {"system", "name", "port", "fingerprint",
 *                            "config", "pid"}, "shares" [{"name", "path", "owner" (or null),
 *                            "user" (a user share), "online", "hidden", "comment", "read",
 *                            "write" (arrays of principals)}], "printers" [{"name", "queue",
 *                            "hidden", "print"}], "sessions" [{"peer", "guest", "address",
 *                            "pid", "since"}], "transfers" [...], "problems" [sentences],
 *                            "peers" and "groups" (the names of porch.conf's [peer] and
 *                            [group] sections: what a rule may name, besides guest and *),
 *                            "user_peers" [{"name", "owner"}] (which of those peers a user
 *                            accepted, with peers-accept: only that user's shares may name it)
 *   share-add                a user share of the folder passed as the descriptor: "name",
 *                            "read", "write" (arrays), "comment", "hidden"; only its owner
 *   share-remove "name"      a user share: its owner, or root
 *   rule "who" "right" "share" "allow"
 *                            adds (allow true) or removes WHO from the read or write rule of a
 *                            user share of the caller's
 *   reload                   anyone: porchd reads porch.conf and the user shares again;
 *                            ok, or the reason the file was refused (the old one stays)
 *   peers                    the requests for access: "peers" [{"name", "fingerprint", "key",
 *                            "address", "first_seen", "last_seen", "attempts"}]
 *   peers-accept "which" "as" "read" "write"
 *                            an ordinary user lets the request WHICH (its name or fingerprint)
 *                            in as the peer AS (default: the name it gave) with read or write
 *                            on user shares of theirs (arrays, one at least); porchd keeps that
 *                            peer with the user shares. Answers "name", "fingerprint", "address"
 *   peers-deny "which"       turns a request away for good: root, or the per-user porchd's
 *                            own user, only. Answers "name", "fingerprint", "address"
 *   peers-forget "name"      a peer accepted with peers-accept: the user who accepted it, or
 *                            root; it is taken out of every user share's rules
 *   inbox-enable             an inbox of the folder passed as the descriptor, the caller's
 *                            (porch-send.h): "name", "accept", "ask" (arrays of principals),
 *                            "max_size" (bytes, 0: none); only the folder's owner. Answers
 *                            "name", "path", "default" (it is the host's default inbox)
 *   inbox-disable "name"     an inbox the caller enabled: its owner, or root
 *   inbox-list               the caller's inboxes ("inboxes" [{"name", "path", "owner", "user",
 *                            "online", "default", "accept", "ask", "max_size"}]) and the offers
 *                            waiting for them ("offers" [{"id", "inbox", "owner", "sender",
 *                            "address", "names" (the first 16), "count", "total" (bytes),
 *                            "since", "expires" (Unix times)}]); root (and the per-user
 *                            porchd's own user) sees every inbox's
 *   inbox-accept "id"        the owner of an offer's inbox (or root) lets it in, or declines it
 *   inbox-decline "id"
 * status also has "inboxes", every inbox as inbox-list gives them; "shares" leaves them out.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define PORCH_CTL_SOCKET      "control"
#define PORCH_CTL_REQUEST_MAX (64 * 1024)
#define PORCH_CTL_REPLY_MAX   (1024 * 1024)
/* How long a client waits for an answer (a user share's change goes through the launcher,
 * which may wait PORCH_LAUNCHER_TIMEOUT_MS itself). */
#define PORCH_CTL_TIMEOUT_MS 30000
/* The system service's runtime folder, unless $PORCH_SYSTEM_RUNTIME_DIR names another (for
 * tests, and installations that keep it elsewhere). */
#define PORCH_CTL_SYSTEM_DIR "/run/porch"

/* The runtime folder of the system service (@system) or of this user's porchd. Free with
 * g_free(). */
char *porch_ctl_runtime_dir(gboolean system);

/* Connects to the running porchd: the system service's when it runs, else this user's.
 * Returns the socket (the caller's), with *@ret_system saying which; -1 with @error
 * (G_IO_ERROR_NOT_FOUND, naming both places) when neither answers. */
int porch_ctl_connect(gboolean *ret_system, GError **error);

/* Connects to the porchd of @system (no fallback). */
int porch_ctl_connect_to(gboolean system, GError **error);

/* Sends @request (an object; with @fd as its descriptor, -1: none) and returns the answer's
 * object (json_object_unref() it). When the answer says not ok, returns NULL with @error
 * (G_IO_ERROR_FAILED) holding porchd's "error"; a malformed answer or none within
 * PORCH_CTL_TIMEOUT_MS is G_IO_ERROR_INVALID_DATA or G_IO_ERROR_TIMED_OUT. */
JsonObject *porch_ctl_call(int sock, JsonNode *request, int fd, GError **error);

/* porch_ctl_call() with a request of just {"op": @op}. */
JsonObject *porch_ctl_call_op(int sock, const char *op, GError **error);

/* The requests that change sharing, as `porch share`, `allow` and `deny` and porch-tray send
 * them; each returns porchd's answer as porch_ctl_call() does. share-add: a user share of the
 * folder @dir_fd (open, O_DIRECTORY) named @name, with who may read and write (NULL: nobody). */
JsonObject *porch_ctl_share_add(int sock, int dir_fd, const char *name, const char *const *read,
                                const char *const *write, const char *comment, gboolean hidden,
                                GError **error);
JsonObject *porch_ctl_share_remove(int sock, const char *name, GError **error);
/* rule: adds (@allow) or removes @who to or from the @right ("read" or "write") rule of the
 * user share @share. */
JsonObject *porch_ctl_rule(int sock, const char *who, const char *right, const char *share,
                           gboolean allow, GError **error);

/* The requests about requests for access, as `porch peers accept|deny|forget` and porch-tray
 * send them. peers-accept: the request @which (a name or fingerprint) as the peer @as (NULL:
 * the name it gave), with read on the user shares @read and write on @write (NULL: none). */
JsonObject *porch_ctl_peers_accept(int sock, const char *which, const char *as,
                                   const char *const *read, const char *const *write,
                                   GError **error);
JsonObject *porch_ctl_peers_deny(int sock, const char *which, GError **error);
JsonObject *porch_ctl_peers_forget(int sock, const char *name, GError **error);

/* The requests about inboxes, as `porch inbox` and porch-tray send them. inbox-enable: an
 * inbox of the folder @dir_fd named @name, with who may send without a question (@accept)
 * and who after one (@ask) (NULL: nobody), at most @max_size bytes an offer (0: no limit).
 * inbox-list's answer has the offers waiting for the caller's answer; inbox-accept and
 * inbox-decline answer offer @id. */
JsonObject *porch_ctl_inbox_enable(int sock, int dir_fd, const char *name,
                                   const char *const *accept, const char *const *ask,
                                   guint64 max_size, GError **error);
JsonObject *porch_ctl_inbox_disable(int sock, const char *name, GError **error);
JsonObject *porch_ctl_inbox_list(int sock, GError **error);
JsonObject *porch_ctl_inbox_answer(int sock, guint id, gboolean accept, GError **error);

/* The strings of the array @member of @o (an answer's "read", "warnings"...); empty when it is
 * absent or not an array; elements that are not strings are left out. Free with g_strfreev(). */
GStrv porch_ctl_get_strv(JsonObject *o, const char *member);

G_END_DECLS
