/* fuzz-sftp-reply.c — what a server sends the porch client, read by the client's parsers
 * (shared/porch-sftp-client-private.h): VERSION, NAME, ATTRS, STATUS, DATA and check-file
 * replies.
 *
 * Input: a first byte that picks the reply (its low bits) and, for the parsers that take one,
 * the packet type given with it (the second byte); the rest is the reply's bytes. NAME replies
 * are read one after another into one listing, as a READDIR loop does, until one is refused,
 * and what they promise is checked: every kept name is a file name, the counts add up. */
#include "fuzz-common.h"

#include <string.h>

#include <libssh/sftp.h>

#include "porch-hash.h"
#include "porch-sftp-client-private.h"

static void
names(PorchWireReader *r)
{
    PorchListing listing = {0};
    g_autoptr(GError) error = NULL;

    listing.files = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
    listing.refused = g_ptr_array_new_with_free_func((GDestroyNotify)porch_remote_file_free);
    while (r->left > 0 && porch_parse_names(r, &listing, &error))
        ;
    FUZZ_CHECK(r->left == 0 || error != NULL);
    FUZZ_CHECK(listing.files->len + listing.refused->len <= listing.entries);
    for (guint i = 0; i < listing.files->len; i++) {
        const PorchRemoteFile *f = g_ptr_array_index(listing.files, i);
        FUZZ_CHECK(f->name != NULL && f->name[0] != '\0' && strchr(f->name, '/') == NULL);
        FUZZ_CHECK(strcmp(f->name, ".") != 0 && strcmp(f->name, "..") != 0);
    }
    for (guint i = 0; i < listing.refused->len; i++)
        FUZZ_CHECK(fuzz_is_printable(
                ((PorchRemoteFile *)g_ptr_array_index(listing.refused, i))->name));
    porch_listing_clear(&listing);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    PorchWireReader r;
    guint8 which, type;

    if (size < 2)
        return 0;
    which = data[0] % 6;
    type = data[1];
    r.p = data + 2;
    r.left = size - 2;
    switch (which) {
    case 0: {
        PorchServerInfo info;
        if (porch_parse_version(r.p, r.left, &info, &error))
            FUZZ_CHECK(info.version == 3);
        else
            FUZZ_CHECK(error != NULL && fuzz_is_printable(error->message));
        break;
    }
    case 1:
        names(&r);
        break;
    case 2: {
        PorchRemoteFile f = {0};
        if (porch_get_attrs(&r, &f))
            FUZZ_CHECK(f.mode <= 07777);
        break;
    }
    case 3:
        if (!porch_reply_status_ok(type, &r, "/Share/file", &error))
            FUZZ_CHECK(error != NULL && g_utf8_validate(error->message, -1, NULL));
        break;
    case 4: {
        guint8 digest[PORCH_SHA256_LEN];
        if (!porch_parse_check_file(type, &r, digest, "/Share/file", &error))
            FUZZ_CHECK(error != NULL);
        break;
    }
    case 5: {
        /* a DATA reply, as the transfer reads it: a string within what was left */
        const guint8 *d;
        guint32 n;
        gsize before = r.left;
        if (porch_wire_get_string(&r, &d, &n))
            FUZZ_CHECK((gsize)n + 4 <= before && d + n <= data + size);
        break;
    }
    }
    return 0;
}
