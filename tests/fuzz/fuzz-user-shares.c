/* fuzz-user-shares.c — the user shares (and the peers users accepted) as
 * porch_config_load_merged() reads them with a valid porch.conf.
 *
 * Input: the user shares' text (a local user's requests wrote it, through porchd; a file
 * another user could not write, but its reader must not trust its form). Whatever it holds,
 * the load never fails (porch.conf is valid), what it leaves out is said in plain words, what
 * it serves is marked, and porch.conf's text followed by the accepted text loads alone to the
 * same shares — what porchd's sessions read. */
#include "fuzz-common.h"

#include <string.h>

#include "porch-config.h"

static const char base[] =
        "[porch]\nmax-user-shares = 4\n"
        "[peer bob]\nkey = ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIGm2Hq6LzF0n9e0J7iGqgkTtr/l5N0BCM6VdCgTcwpXi bob\n"
        "[group family]\nmembers = bob\n"
        "[share Pub]\npath = /tmp\nread = *\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *user = fuzz_strndup(data, size);
    g_autofree char *accepted = NULL;
    g_auto(GStrv) problems = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PorchConfig) config = NULL;
    g_autoptr(PorchConfig) again = NULL;
    g_autofree char *all = NULL;
    guint users = 0;

    config = porch_config_load_merged(base, -1, "porch.conf", user, "usershares.conf", &accepted,
                                      &problems, &error);
    FUZZ_CHECK(config != NULL && error == NULL);
    FUZZ_CHECK(accepted != NULL && problems != NULL);
    for (guint i = 0; problems[i] != NULL; i++)
        FUZZ_CHECK(fuzz_is_printable(problems[i]));
    for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
        const PorchShare *s = porch_config_get_share(config, i);

        if (!s->user)
            continue;
        users++;
        /* a user share is served as its owner, never root */
        FUZZ_CHECK(s->owner != NULL && strcmp(s->owner, "root") != 0);
    }
    FUZZ_CHECK(users <= 4);
    FUZZ_CHECK(!porch_config_lookup_share(config, "Pub")->user);
    /* '*' of porch.conf is its own peers only */
    FUZZ_CHECK(g_hash_table_size(porch_config_lookup_share(config, "Pub")->read.peers) == 1);
    all = g_strconcat(base, accepted, NULL);
    again = porch_config_load_data(all, -1, "snapshot", &error);
    FUZZ_CHECK(again != NULL);
    FUZZ_CHECK(porch_config_get_n_shares(again) == porch_config_get_n_shares(config));
    FUZZ_CHECK(porch_config_get_n_peers(again) == porch_config_get_n_peers(config));
    return 0;
}
