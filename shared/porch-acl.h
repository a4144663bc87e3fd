/* porch-acl.h — who may do what: a pure function of a configuration snapshot. */
#pragma once

#include "porch-config.h"

G_BEGIN_DECLS

typedef enum {
    PORCH_ACL_READ,  /* list and fetch (shares) */
    PORCH_ACL_WRITE, /* upload, rename, delete, mkdir (shares); implies READ */
    PORCH_ACL_PRINT, /* submit, list and cancel one's own jobs (printers) */
} PorchAclOp;

typedef enum {
    PORCH_RESOURCE_SHARE,
    PORCH_RESOURCE_PRINTER,
} PorchResourceKind;

/* Returns TRUE when the peer whose key has @fingerprint ("SHA256:...", as
 * PorchPeerKey.fingerprint) may do @op on the share or printer called @resource in
 * @config, FALSE otherwise. @fingerprint NULL means a guest (unauthenticated).
 *
 * The rules: no rule, no access; a peer named in 'write' may also read; '*' means every
 * peer in the file and never a guest; 'guest' means anyone, a peer included. A fingerprint
 * that belongs to no [peer] is allowed nothing (a caller that lets unknown keys in as
 * guests must pass NULL). READ and WRITE apply to shares, PRINT to printers; any other
 * combination, and an unknown resource, is refused. */
gboolean porch_acl_check(const PorchConfig *config, const char *fingerprint, PorchResourceKind kind,
                         const char *resource, PorchAclOp op);

/* The same with @peer already looked up in this same @config (NULL: guest). A session
 * that outlives a reload must look its peer up again by fingerprint in the new snapshot. */
gboolean porch_acl_check_peer(const PorchConfig *config, const PorchPeer *peer,
                              PorchResourceKind kind, const char *resource, PorchAclOp op);

/* Returns the names of the shares @peer (NULL: guest) may read, in file order, hidden ones
 * included (they are served, only not advertised). Free with g_strfreev(). */
GStrv porch_acl_readable_shares(const PorchConfig *config, const PorchPeer *peer);

/* What an inbox does with an offer of files from @peer (NULL: a guest). */
typedef enum {
    PORCH_INBOX_REFUSE, /* named in neither rule: refused before a byte is sent */
    PORCH_INBOX_ASK,    /* in 'ask': the owner accepts or declines */
    PORCH_INBOX_ACCEPT, /* in 'accept': no question */
} PorchInboxVerdict;

/* The verdict of @inbox (a PorchShare with inbox set; anything else refuses) on an offer
 * from @peer, looked up in the same snapshot. 'accept' wins over 'ask'. */
PorchInboxVerdict porch_acl_inbox(const PorchShare *inbox, const PorchPeer *peer);

/* A short lower-case name of @op ("read", "write", "print") for logs. */
const char *porch_acl_op_name(PorchAclOp op);

G_END_DECLS
