/* print-relay.h — between porchd-session and porchd-print, which runs one exec command (print,
 * jobs, cancel, status or search: print-server.h) for it.
 *
 * Why two processes: only these commands need libcups, and a process that loads it carries
 * its ~600 KiB of relocated library data (libcups, gnutls, krb5, D-Bus, libsystemd, ...) for
 * as long as it lives. Every session lived with it, though few ever print. Now a session asks
 * porchd's network side for a porchd-print ("exec" on its control socket, session.h), which
 * the network side starts with the identity the session logged in with, and relays the
 * channel to it.
 *
 * The connection is a SOCK_SEQPACKET socketpair, porchd-print's end on PORCH_PRINT_RELAY_FD.
 * Each packet is one type byte and its payload, at most PORCH_PRINT_RELAY_MAX bytes:
 *
 *   session -> print   'c' FINGERPRINT '\n' COMMAND-LINE
 *                          first, once: the client's key fingerprint (empty for a guest) and
 *                          the exec request's command line, cut to PORCH_PRINT_MAX_COMMAND + 1
 *                          bytes (porchd-print then refuses it as too long)
 *                      'd' BYTES   what the client sent on its stdin (1 or more bytes)
 *                      'e'         the client sent EOF: its stdin is whole; nothing follows
 *   print -> session   'o' BYTES   for the client's stdout
 *                      'r' BYTES   for its stderr
 *                      'x' STATUS  the exit status, decimal (0..255); the last packet
 *
 * The session's end closing without 'e' (its shutdown(SHUT_WR)) means the client went away
 * before the end of its stdin: a document that did not arrive whole, whose job is cancelled.
 * porchd-print waiting for idle-timeout without a packet gives up the same way. Anything else
 * (an unknown type, a packet too long, a second 'c') is taken, when porchd-print next reads
 * stdin, as the client gone away. porchd-print ending without 'x' is EX_SOFTWARE for the
 * client.
 *
 * Neither side blocks sending while the other may be sending to it: the session sends
 * without blocking and stops reading the channel until its packet fits (the client then
 * waits on SSH's window), and it always reads porchd-print's packets; porchd-print, once it
 * gave 'x', reads and drops what still comes until the session closed its end.
 */
#pragma once

#include <glib.h>
#include <libssh/libssh.h>

G_BEGIN_DECLS

#define PORCH_PRINT_PROGRAM    "porchd-print"
#define PORCH_PRINT_RELAY_FD   3
#define PORCH_PRINT_RELAY_MAX  (64 * 1024)
#define PORCH_PRINT_RELAY_CMD  'c'
#define PORCH_PRINT_RELAY_DATA 'd'
#define PORCH_PRINT_RELAY_EOF  'e'
#define PORCH_PRINT_RELAY_OUT  'o'
#define PORCH_PRINT_RELAY_ERR  'r'
#define PORCH_PRINT_RELAY_EXIT 'x'

/* The longest fingerprint a 'c' packet may name ("SHA256:" and 43 characters of base64 in
 * practice). */
#define PORCH_PRINT_RELAY_MAX_FINGERPRINT 128

/* After an answer that refused a command, what the client may still send of its input is read
 * and dropped: until its EOF, a pause of PORCH_PRINT_DRAIN_QUIET_MS, or PORCH_PRINT_DRAIN_MS
 * in all (print-server.c, porch_print_relay_let_client_stop()). */
#define PORCH_PRINT_DRAIN_MS       2000
#define PORCH_PRINT_DRAIN_QUIET_MS 200

/* porchd-print's reading of the session's first packet, @len bytes at @packet: TRUE with
 * *@ret_fingerprint ("" for a guest) and *@ret_command (both to free) when it is a 'c'
 * packet whose fingerprint is at most PORCH_PRINT_RELAY_MAX_FINGERPRINT printable ASCII
 * characters without spaces, followed by '\n' and a command line without NUL of at most
 * PORCH_PRINT_MAX_COMMAND + 1 bytes; FALSE otherwise. */
gboolean porch_print_relay_parse_command(const char *packet, gsize len, char **ret_fingerprint,
                                         char **ret_command);

/* The session's side: relays @channel (exec accepted, its session in blocking mode) to
 * porchd-print on @fd (taken: closed here) for @command_line, as the client with @fingerprint
 * (NULL: a guest). @eof_received is set by the channel's EOF callback: libssh reports a
 * channel closed without EOF as at end of file too, and only this tells a whole document from
 * one cut off. Returns the command's exit status, for the caller to send. */
int porch_print_relay(ssh_channel channel, int fd, const char *fingerprint,
                      const char *command_line, const gboolean *eof_received, const char *who);

/* One packet from the other side of @fd into @buf (1 + PORCH_PRINT_RELAY_MAX bytes), waiting
 * at most @timeout_ms (-1: for ever): its length; 0 when none came in time; -1 at the end of
 * the connection, on an error, or for a packet too long. */
gssize porch_print_relay_recv(int fd, char *buf, int timeout_ms);

/* For an answer the session gives itself (porchd could not start porchd-print): what the
 * client still sends is read and dropped, until its EOF, a pause or 2 s, so that it is not
 * hung up on mid-document and loses the answer. */
void porch_print_relay_let_client_stop(ssh_channel channel);

G_END_DECLS
