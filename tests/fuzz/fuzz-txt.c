/* fuzz-txt.c — a neighbour's DNS-SD record as porch-browse reads it (porch-txt.h).
 *
 * Input, as a resolver result would bring it: one byte choosing the service type, two bytes
 * of port (big-endian), one byte of host name length and that many bytes of host name (the
 * browser keeps the name up to a NUL, made valid UTF-8), then the TXT record in its wire form
 * (RFC 6763: a length byte and that many bytes, again and again; a last string cut short
 * keeps what there is). The record is handed over as avahi-client does, last entry first. */
#include "fuzz-common.h"

#include <string.h>

#include "porch-txt.h"

static const char *const types[] = {
        "_porch._tcp", "_sftp-ssh._tcp", "_porch-print._tcp", "_ipp._tcp",     "_ipps._tcp",
        "_smb._tcp",   "_webdav._tcp",   "_webdavs._tcp",     "_printer._tcp",
};

static const char *const keys[] = {"fp", "path", "u", "rp", "ty", "v", "state", ""};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    AvahiStringList *list = NULL;
    g_autofree char *raw_host = NULL;
    g_autofree char *host = NULL;
    g_autofree char *fp = NULL;
    g_autofree char *uri = NULL;
    g_auto(GStrv) txt = NULL;
    const char *type;
    const char *path;
    gboolean guest = FALSE;
    guint16 port;
    size_t host_len, n = 0;

    if (size < 4)
        return 0;
    type = types[data[0] % G_N_ELEMENTS(types)];
    port = (guint16)(data[1] << 8 | data[2]);
    host_len = MIN(data[3], size - 4);
    raw_host = fuzz_strndup(data + 4, host_len);
    host = g_utf8_make_valid(raw_host, -1);
    data += 4 + host_len;
    size -= 4 + host_len;
    while (size > 0) {
        size_t len = MIN(data[0], size - 1);

        list = avahi_string_list_add_arbitrary(list, data + 1, len);
        data += 1 + len;
        size -= 1 + len;
        n++;
    }

    txt = porch_txt_decode(list);
    FUZZ_CHECK(txt != NULL);
    FUZZ_CHECK(g_strv_length(txt) == MIN(n, PORCH_TXT_MAX_ENTRIES));
    for (guint i = 0; txt[i] != NULL; i++)
        FUZZ_CHECK(g_utf8_validate(txt[i], -1, NULL));

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *value = porch_txt_lookup((const char *const *)txt, keys[i]);
        FUZZ_CHECK(value == NULL || g_utf8_validate(value, -1, NULL));
    }
    fp = porch_txt_fingerprint((const char *const *)txt);
    FUZZ_CHECK(fp == NULL || (g_str_has_prefix(fp, "SHA256:") && fp[7] != '\0'));
    path = porch_txt_share_path((const char *const *)txt, &guest);
    FUZZ_CHECK(path == NULL || (path[0] == '/' && path[strspn(path, "/")] != '\0'));

    uri = porch_txt_service_uri(type, host, port, (const char *const *)txt);
    if (uri != NULL) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GUri) parsed = g_uri_parse(uri, G_URI_FLAGS_NONE, &error);

        /* what a client is given to open must be a URI */
        if (parsed == NULL)
            fprintf(stderr, "not a URI: %s (%s)\n", uri, error->message);
        FUZZ_CHECK(parsed != NULL);
    }
    avahi_string_list_free(list);
    return 0;
}
