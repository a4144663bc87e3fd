/* porch-identity.h — Ed25519 keys: a machine's or user's own key, and fingerprints. */
#pragma once

#include <glib.h>
#include <libssh/libssh.h>

G_BEGIN_DECLS

/* Loads the private key at @path; when there is no file there, generates an Ed25519 key
 * and writes it first (OpenSSH format, mode 0600, the folder created 0700). Returns the key
 * (free with ssh_key_free()), or NULL with @error set (G_IO_ERROR) when the file cannot be
 * read, written or parsed. An existing key of another type is used as it is. */
ssh_key porch_identity_load_or_create(const char *path, GError **error);

/* Loads the private key at @path as porch_identity_load_or_create() does, but never writes
 * one: when there is no file there, fails with G_IO_ERROR_NOT_FOUND ("no such key file
 * PATH"). For a key file someone named: a mistyped name must not become a new key. */
ssh_key porch_identity_load(const char *path, GError **error);

/* Returns the SHA-256 fingerprint of @key's public part as "SHA256:" and unpadded base64,
 * the form `ssh-keygen -l` prints; NULL if @key is not usable. Free with g_free(). */
char *porch_key_fingerprint(const ssh_key key);

/* Returns the public key line "TYPE BASE64" of @key, with " @comment" appended when
 * @comment is not NULL; NULL if @key is not usable. Free with g_free(). */
char *porch_key_public_line(const ssh_key key, const char *comment);

/* The user's own key, $XDG_CONFIG_HOME/porch/id_ed25519 (g_get_user_config_dir()), and the
 * file of pinned neighbour host keys beside it, known_peers. Free with g_free(). */
char *porch_identity_default_file(void);
char *porch_known_peers_default_file(void);

G_END_DECLS
