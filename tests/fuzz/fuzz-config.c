/* fuzz-config.c — porch.conf as porch_config_load_data() reads it.
 *
 * Input: the file's bytes. A file that loads is walked whole — every accessor, every limit,
 * every look-up and the ACL for each peer and for a guest on each share and printer — and what
 * porch-config.h promises about it is checked. Share paths must exist: the corpus and the
 * dictionary use "/" and "/tmp". */
#include "fuzz-common.h"

#include <string.h>

#include "porch-acl.h"
#include "porch-config.h"

static void
check_rule(const PorchRule *rule)
{
    FUZZ_CHECK(rule->principals != NULL);
    FUZZ_CHECK(rule->peers != NULL);
}

static void
walk(const PorchConfig *config)
{
    const char *const *listen = porch_config_get_listen(config);
    guint n_peers = porch_config_get_n_peers(config);

    FUZZ_CHECK(porch_config_get_name(config) != NULL);
    FUZZ_CHECK(porch_config_get_port(config) >= 1);
    for (guint i = 0; listen != NULL && listen[i] != NULL; i++)
        FUZZ_CHECK(*listen[i] != '\0');
    FUZZ_CHECK(porch_config_get_max_sessions(config) >= 1);
    for (PorchLimit l = 0; l < PORCH_N_LIMITS; l++) {
        (void)porch_config_get_limit(config, l);
        FUZZ_CHECK(porch_config_limit_key(l) != NULL);
    }

    for (guint i = 0; i < n_peers; i++) {
        const PorchPeer *peer = porch_config_get_peer(config, i);
        gboolean ed25519 = FALSE;

        FUZZ_CHECK(peer->n_keys >= 1);
        for (guint k = 0; k < peer->n_keys; k++) {
            FUZZ_CHECK(g_str_has_prefix(peer->keys[k].fingerprint, "SHA256:"));
            FUZZ_CHECK(peer->keys[k].comment != NULL);
            ed25519 |= strcmp(peer->keys[k].type, "ssh-ed25519") == 0;
            FUZZ_CHECK(porch_config_lookup_peer_by_fingerprint(config, peer->keys[k].fingerprint) ==
                       peer);
        }
        FUZZ_CHECK(ed25519);
        FUZZ_CHECK(porch_config_lookup_peer(config, peer->name) == peer);
    }
    for (guint i = 0; i < porch_config_get_n_groups(config); i++) {
        const PorchGroup *group = porch_config_get_group(config, i);

        FUZZ_CHECK(group->members != NULL);
        FUZZ_CHECK(porch_config_lookup_group(config, group->name) == group);
    }
    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *share = porch_config_get_share(config, i);

        FUZZ_CHECK(g_path_is_absolute(share->path));
        FUZZ_CHECK(share->comment != NULL);
        FUZZ_CHECK(strlen(share->name) <= PORCH_NAME_MAX);
        check_rule(&share->read);
        check_rule(&share->write);
        FUZZ_CHECK(porch_config_lookup_share(config, share->name) == share);
        /* a guest, then each peer: write implies read */
        for (guint p = 0; p <= n_peers; p++) {
            const PorchPeer *peer = p < n_peers ? porch_config_get_peer(config, p) : NULL;
            gboolean read = porch_acl_check_peer(config, peer, PORCH_RESOURCE_SHARE, share->name,
                                                 PORCH_ACL_READ);
            gboolean write = porch_acl_check_peer(config, peer, PORCH_RESOURCE_SHARE, share->name,
                                                  PORCH_ACL_WRITE);
            FUZZ_CHECK(!write || read);
        }
    }
    for (guint i = 0; i < porch_config_get_n_printers(config); i++) {
        const PorchPrinter *printer = porch_config_get_printer(config, i);

        FUZZ_CHECK(printer->queue != NULL && *printer->queue != '\0');
        FUZZ_CHECK(strlen(printer->name) <= PORCH_NAME_MAX);
        check_rule(&printer->print);
        FUZZ_CHECK(porch_config_lookup_printer(config, printer->name) == printer);
        for (guint p = 0; p <= n_peers; p++) {
            const PorchPeer *peer = p < n_peers ? porch_config_get_peer(config, p) : NULL;
            (void)porch_acl_check_peer(config, peer, PORCH_RESOURCE_PRINTER, printer->name,
                                       PORCH_ACL_PRINT);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    PorchConfig *config;

    config = porch_config_load_data((const char *)data, (gssize)size, "fuzz.conf", &error);
    if (config == NULL) {
        /* one, in our domain, safe to show: the file's text in it (GKeyFile's own messages
         * quote it too) is escaped */
        FUZZ_CHECK(error != NULL && error->domain == PORCH_CONFIG_ERROR && error->message != NULL);
        FUZZ_CHECK(fuzz_is_printable(error->message));
        return 0;
    }
    FUZZ_CHECK(error == NULL);
    walk(config);
    porch_config_unref(config);
    return 0;
}
