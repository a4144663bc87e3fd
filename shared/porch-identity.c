/* porch-identity.c — own keys and fingerprints, through libssh's pki API. */
#include "porch-identity.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "porch-auto.h"

char *
porch_key_fingerprint(const ssh_key key)
{
    unsigned char *hash = NULL;
    size_t len = 0;
    char *b64, *eq;

    if (key == NULL || ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0)
        return NULL;
    b64 = g_base64_encode(hash, len);
    ssh_clean_pubkey_hash(&hash);
    eq = strchr(b64, '=');
    if (eq != NULL)
        *eq = '\0';
    eq = g_strconcat("SHA256:", b64, NULL);
    g_free(b64);
    return eq;
}

char *
porch_key_public_line(const ssh_key key, const char *comment)
{
    char *b64 = NULL;
    char *line;

    if (key == NULL || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
        return NULL;
    line = g_strjoin(" ", ssh_key_type_to_char(ssh_key_type(key)), b64, comment, NULL);
    ssh_string_free_char(b64);
    return line;
}

static ssh_key
create_key(const char *path, GError **error)
{
    g_auto(ssh_key) key = NULL;
    char *b64 = NULL;
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GError) local = NULL;
    ssh_key result = NULL;

    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", dir, g_strerror(e));
        return NULL;
    }
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot generate a key", path);
        return NULL;
    }
    if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot encode the key", path);
        goto out;
    }
    /* Written 0600 from the start (a temporary file renamed into place), never readable by
     * others even for a moment, whatever the umask. */
    if (!g_file_set_contents_full(path, b64, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", local->message);
        goto out;
    }
    /* success */
    result = g_steal_pointer(&key);
out:
    /* the private key's text: wiped before it is freed */
    if (b64 != NULL) {
        explicit_bzero(b64, strlen(b64));
        ssh_string_free_char(b64);
    }
    return result;
}

ssh_key
porch_identity_load_or_create(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return create_key(path, error);
    return porch_identity_load(path, error);
}

ssh_key
porch_identity_load(const char *path, GError **error)
{
    ssh_key key = NULL;

    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    /* libssh says only "error" for a missing file: tell that case apart */
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such key file %s", path);
        return NULL;
    }
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not a readable private key without passphrase", path);
        return NULL;
    }
    return key;
}

char *
porch_identity_default_file(void)
{
    return g_build_filename(g_get_user_config_dir(), "porch", "id_ed25519", NULL);
}

char *
porch_known_peers_default_file(void)
{
    return g_build_filename(g_get_user_config_dir(), "porch", "known_peers", NULL);
}
