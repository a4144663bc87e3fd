/* porch-acl.c — the access decision. Groups and '*' were expanded when the snapshot was
 * loaded, so a decision is a few hash look-ups and never touches the disk. */
#include "porch-acl.h"

static gboolean
rule_allows(const PorchRule *rule, const PorchPeer *peer)
{
    if (rule->guest)
        return TRUE;
    return peer != NULL && g_hash_table_contains(rule->peers, peer->name);
}

gboolean
porch_acl_check_peer(const PorchConfig *config, const PorchPeer *peer, PorchResourceKind kind,
                     const char *resource, PorchAclOp op)
{
    g_return_val_if_fail(config != NULL, FALSE);

    if (resource == NULL)
        return FALSE;
    if (kind == PORCH_RESOURCE_SHARE) {
        const PorchShare *s = porch_config_lookup_share(config, resource);

        if (s == NULL)
            return FALSE;
        switch (op) {
        case PORCH_ACL_READ:
            return rule_allows(&s->read, peer) || rule_allows(&s->write, peer);
        case PORCH_ACL_WRITE:
            return rule_allows(&s->write, peer);
        case PORCH_ACL_PRINT:
            return FALSE;
        }
    } else if (kind == PORCH_RESOURCE_PRINTER) {
        const PorchPrinter *p = porch_config_lookup_printer(config, resource);

        return p != NULL && op == PORCH_ACL_PRINT && rule_allows(&p->print, peer);
    }
    return FALSE;
}

gboolean
porch_acl_check(const PorchConfig *config, const char *fingerprint, PorchResourceKind kind,
                const char *resource, PorchAclOp op)
{
    const PorchPeer *peer = NULL;

    g_return_val_if_fail(config != NULL, FALSE);

    if (fingerprint != NULL) {
        peer = porch_config_lookup_peer_by_fingerprint(config, fingerprint);
        if (peer == NULL)
            return FALSE;
    }
    return porch_acl_check_peer(config, peer, kind, resource, op);
}

GStrv
porch_acl_readable_shares(const PorchConfig *config, const PorchPeer *peer)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    g_return_val_if_fail(config != NULL, NULL);

    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *s = porch_config_get_share(config, i);

        if (porch_acl_check_peer(config, peer, PORCH_RESOURCE_SHARE, s->name, PORCH_ACL_READ))
            g_strv_builder_add(b, s->name);
    }
    return g_strv_builder_end(b);
}

const char *
porch_acl_op_name(PorchAclOp op)
{
    switch (op) {
    case PORCH_ACL_READ:
        return "read";
    case PORCH_ACL_WRITE:
        return "write";
    case PORCH_ACL_PRINT:
        return "print";
    }
    return "unknown";
}

PorchInboxVerdict
porch_acl_inbox(const PorchShare *inbox, const PorchPeer *peer)
{
    if (inbox == NULL || !inbox->inbox)
        return PORCH_INBOX_REFUSE;
    if (rule_allows(&inbox->accept, peer))
        return PORCH_INBOX_ACCEPT;
    if (rule_allows(&inbox->ask, peer))
        return PORCH_INBOX_ASK;
    return PORCH_INBOX_REFUSE;
}
