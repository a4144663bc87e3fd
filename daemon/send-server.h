/* send-server.h — the "send" command of porchd-session: files sent to an inbox over an SSH
 * "exec" channel (porch-send.h has the exchange).
 *
 * The session reads the manifest, makes the offer to porchd's network side over its control
 * socket (session.h) and waits for the verdict, which the network side gives at once (the
 * inbox's 'accept' rule, a refusal) or when the inbox's owner answered. Meanwhile it watches
 * the channel: a sender that goes away withdraws its offer. Once accepted, it asks for the
 * inbox's file worker (which porchd gives to this session only, for that inbox), and each
 * file's data goes to a hidden file in the inbox folder named after the offer's key
 * (porch_send_temp_name()), hashed as it arrives; when the whole file is there and its
 * SHA-256 matches the manifest's, it is synced and renamed, without replacing anything, to
 * its sanitised name (porch_send_sanitise_name(), then "name (2).ext"...). A hidden file
 * that is already there is the start of an interrupted send of the same files: its bytes are
 * hashed and the sender goes on after them. */
#pragma once

#include <glib.h>
#include <libssh/libssh.h>

#include "files.h"
#include "porch-config.h"

G_BEGIN_DECLS

typedef struct {
    PorchConfig *(*current_config)(void *user_data);
    void *user_data;
    const char *peer;    /* the [peer]'s name; NULL for a guest */
    const char *address; /* the client's address */
    const char *who;     /* for log lines */
    int control;         /* the control socket to porchd (session.h) */
    /* a connection to the file worker of @share (porchd decides) */
    PorchFiles *(*files_for)(void *user_data, const PorchShare *share, GError **error);
    const gboolean *eof_received;
} PorchSendServerContext;

/* Runs the send command @command_line ("send" or "send INBOX") on @channel (@session in
 * blocking mode). Returns the exit status for the client (PorchSendExit). */
int porch_send_server_serve(ssh_session session, ssh_channel channel, const char *command_line,
                            const PorchSendServerContext *ctx);

G_END_DECLS
