/* porch-wire.c — SFTP v3 fields, attributes and requests, read and written in memory.
 *
 * Why not libssh's: libssh 0.10's server reads a request off the channel and parses it in one
 * call (sftp_get_client_message()), after allocating whatever length the client announced (up
 * to 256 MiB), and ends the session on a request type it does not know; its parser cannot be
 * given bytes that did not come from a channel. Porch bounds a request before it buffers it
 * and answers every request, so it frames and parses them itself, here. */
#include "porch-wire.h"

#include <string.h>

gboolean
porch_wire_get_u8(PorchWireReader *r, guint8 *ret)
{
    if (r->left < 1)
        return FALSE;
    *ret = r->p[0];
    r->p++;
    r->left--;
    return TRUE;
}

gboolean
porch_wire_get_u32(PorchWireReader *r, guint32 *ret)
{
    if (r->left < 4)
        return FALSE;
    *ret = (guint32)r->p[0] << 24 | (guint32)r->p[1] << 16 | (guint32)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return TRUE;
}

gboolean
porch_wire_get_u64(PorchWireReader *r, guint64 *ret)
{
    PorchWireReader at = *r;
    guint32 hi, lo;

    if (!porch_wire_get_u32(&at, &hi) || !porch_wire_get_u32(&at, &lo))
        return FALSE;
    *ret = (guint64)hi << 32 | lo;
    *r = at;
    return TRUE;
}

gboolean
porch_wire_get_string(PorchWireReader *r, const guint8 **ret_data, guint32 *ret_len)
{
    PorchWireReader at = *r;
    guint32 n;

    if (!porch_wire_get_u32(&at, &n) || n > at.left)
        return FALSE;
    *ret_data = at.p;
    *ret_len = n;
    r->p = at.p + n;
    r->left = at.left - n;
    return TRUE;
}

char *
porch_wire_get_path(PorchWireReader *r, gsize max)
{
    PorchWireReader at = *r;
    const guint8 *s;
    guint32 n;

    if (!porch_wire_get_string(&at, &s, &n) || n > max || memchr(s, '\0', n) != NULL)
        return NULL;
    *r = at;
    return g_strndup((const char *)s, n);
}

gboolean
porch_wire_get_attrs(PorchWireReader *r, PorchWireAttrs *ret)
{
    PorchWireReader at = *r;
    PorchWireAttrs a = {0};
    guint32 count;

    if (!porch_wire_get_u32(&at, &a.flags))
        return FALSE;
    if ((a.flags & SSH_FILEXFER_ATTR_SIZE) && !porch_wire_get_u64(&at, &a.size))
        return FALSE;
    if ((a.flags & SSH_FILEXFER_ATTR_UIDGID) &&
        (!porch_wire_get_u32(&at, &a.uid) || !porch_wire_get_u32(&at, &a.gid)))
        return FALSE;
    if ((a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) && !porch_wire_get_u32(&at, &a.permissions))
        return FALSE;
    if ((a.flags & SSH_FILEXFER_ATTR_ACMODTIME) &&
        (!porch_wire_get_u32(&at, &a.atime) || !porch_wire_get_u32(&at, &a.mtime)))
        return FALSE;
    if (a.flags & SSH_FILEXFER_ATTR_EXTENDED) {
        if (!porch_wire_get_u32(&at, &count))
            return FALSE;
        /* each pair takes at least 8 bytes: a count beyond that cannot be honest */
        if (count > at.left / 8)
            return FALSE;
        for (guint32 i = 0; i < count; i++) {
            const guint8 *s;
            guint32 n;
            if (!porch_wire_get_string(&at, &s, &n) || !porch_wire_get_string(&at, &s, &n))
                return FALSE;
        }
    }
    a.flags &= SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID | SSH_FILEXFER_ATTR_PERMISSIONS |
               SSH_FILEXFER_ATTR_ACMODTIME;
    *ret = a;
    *r = at;
    return TRUE;
}

void
porch_wire_put_u8(GByteArray *b, guint8 v)
{
    g_byte_array_append(b, &v, 1);
}

void
porch_wire_put_u32(GByteArray *b, guint32 v)
{
    guint8 x[4] = {v >> 24, v >> 16, v >> 8, v};
    g_byte_array_append(b, x, 4);
}

void
porch_wire_put_u64(GByteArray *b, guint64 v)
{
    porch_wire_put_u32(b, (guint32)(v >> 32));
    porch_wire_put_u32(b, (guint32)v);
}

void
porch_wire_put_string(GByteArray *b, const void *data, gsize len)
{
    g_return_if_fail(len <= G_MAXUINT32);
    porch_wire_put_u32(b, (guint32)len);
    g_byte_array_append(b, data, (guint)len);
}

void
porch_wire_put_cstring(GByteArray *b, const char *s)
{
    porch_wire_put_string(b, s, strlen(s));
}

void
porch_wire_put_attrs(GByteArray *b, const PorchWireAttrs *a)
{
    guint32 flags = a->flags & (SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |
                                SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME);

    porch_wire_put_u32(b, flags);
    if (flags & SSH_FILEXFER_ATTR_SIZE)
        porch_wire_put_u64(b, a->size);
    if (flags & SSH_FILEXFER_ATTR_UIDGID) {
        porch_wire_put_u32(b, a->uid);
        porch_wire_put_u32(b, a->gid);
    }
    if (flags & SSH_FILEXFER_ATTR_PERMISSIONS)
        porch_wire_put_u32(b, a->permissions);
    if (flags & SSH_FILEXFER_ATTR_ACMODTIME) {
        porch_wire_put_u32(b, a->atime);
        porch_wire_put_u32(b, a->mtime);
    }
}

void
porch_wire_begin_packet(GByteArray *b, guint8 type)
{
    g_byte_array_set_size(b, 0);
    porch_wire_put_u32(b, 0);
    porch_wire_put_u8(b, type);
}

void
porch_wire_end_packet(GByteArray *b)
{
    guint32 len = b->len - 4;

    g_return_if_fail(b->len >= 5);
    b->data[0] = (guint8)(len >> 24);
    b->data[1] = (guint8)(len >> 16);
    b->data[2] = (guint8)(len >> 8);
    b->data[3] = (guint8)len;
}

/* ---- the version exchange ------------------------------------------------------------ */

void
porch_wire_put_init(GByteArray *b)
{
    porch_wire_begin_packet(b, SSH_FXP_INIT);
    porch_wire_put_u32(b, PORCH_WIRE_VERSION);
    porch_wire_put_cstring(b, PORCH_WIRE_EXT_STATUS_CODES);
    porch_wire_put_cstring(b, PORCH_WIRE_EXT_STATUS_CODES_VERSION);
    porch_wire_end_packet(b);
}

gboolean
porch_wire_parse_init(const guint8 *packet, gsize len, guint32 *ret_version,
                      gboolean *ret_status_codes)
{
    PorchWireReader r = {packet, len};
    const guint8 *name, *data;
    guint32 name_len, data_len;
    guint8 type;

    *ret_status_codes = FALSE;
    if (!porch_wire_get_u8(&r, &type) || type != SSH_FXP_INIT ||
        !porch_wire_get_u32(&r, ret_version))
        return FALSE;
    while (porch_wire_get_string(&r, &name, &name_len) &&
           porch_wire_get_string(&r, &data, &data_len))
        if (name_len == strlen(PORCH_WIRE_EXT_STATUS_CODES) &&
            memcmp(name, PORCH_WIRE_EXT_STATUS_CODES, name_len) == 0)
            *ret_status_codes = TRUE;
    return TRUE;
}

/* ---- requests ------------------------------------------------------------------------ */

/* What each request type carries after its id, in order. */
typedef enum {
    F_END = 0,
    F_PATH,   /* into path, then path2 */
    F_HANDLE, /* a string, kept in place */
    F_PFLAGS,
    F_ATTRS,
    F_OFFSET,
    F_LEN,
    F_DATA,
    F_EXTENDED, /* the name, then the rest are its arguments */
} Field;

static const struct {
    guint8 type;
    Field fields[4];
} layouts[] = {
        {SSH_FXP_OPEN, {F_PATH, F_PFLAGS, F_ATTRS}},
        {SSH_FXP_CLOSE, {F_HANDLE}},
        {SSH_FXP_READ, {F_HANDLE, F_OFFSET, F_LEN}},
        {SSH_FXP_WRITE, {F_HANDLE, F_OFFSET, F_DATA}},
        {SSH_FXP_LSTAT, {F_PATH}},
        {SSH_FXP_FSTAT, {F_HANDLE}},
        {SSH_FXP_SETSTAT, {F_PATH, F_ATTRS}},
        {SSH_FXP_FSETSTAT, {F_HANDLE, F_ATTRS}},
        {SSH_FXP_OPENDIR, {F_PATH}},
        {SSH_FXP_READDIR, {F_HANDLE}},
        {SSH_FXP_REMOVE, {F_PATH}},
        {SSH_FXP_MKDIR, {F_PATH, F_ATTRS}},
        {SSH_FXP_RMDIR, {F_PATH}},
        {SSH_FXP_REALPATH, {F_PATH}},
        {SSH_FXP_STAT, {F_PATH}},
        {SSH_FXP_RENAME, {F_PATH, F_PATH}},
        {SSH_FXP_READLINK, {F_PATH}},
        {SSH_FXP_SYMLINK, {F_PATH, F_PATH}},
        {SSH_FXP_EXTENDED, {F_EXTENDED}},
};

/* The longest extended request name we read (OpenSSH's are about 25 bytes). */
#define MAX_EXTENDED_NAME 256

static gboolean
parse_field(PorchWireReader *r, Field f, PorchWireRequest *req)
{
    const guint8 *s;
    guint32 n;

    switch (f) {
    case F_PATH:
        /* bounded by the packet only: the server refuses what is over PORCH_WIRE_MAX_PATH
         * itself, saying so */
        if (req->path == NULL)
            return (req->path = porch_wire_get_path(r, G_MAXUINT32)) != NULL;
        return (req->path2 = porch_wire_get_path(r, G_MAXUINT32)) != NULL;
    case F_HANDLE:
        if (!porch_wire_get_string(r, &s, &n))
            return FALSE;
        req->handle = s;
        req->handle_len = n;
        return TRUE;
    case F_PFLAGS:
        return porch_wire_get_u32(r, &req->pflags);
    case F_ATTRS:
        return porch_wire_get_attrs(r, &req->attrs);
    case F_OFFSET:
        return porch_wire_get_u64(r, &req->offset);
    case F_LEN:
        return porch_wire_get_u32(r, &req->len);
    case F_DATA:
        if (!porch_wire_get_string(r, &s, &n))
            return FALSE;
        req->data = s;
        req->data_len = n;
        return TRUE;
    case F_EXTENDED:
        if ((req->extended = porch_wire_get_path(r, MAX_EXTENDED_NAME)) == NULL)
            return FALSE;
        req->ext_args = *r;
        r->p += r->left;
        r->left = 0;
        return TRUE;
    case F_END:
        break;
    }
    return TRUE;
}

PorchWireParse
porch_wire_parse_request(const guint8 *packet, gsize len, PorchWireRequest *ret)
{
    PorchWireReader r = {packet, len};

    *ret = (PorchWireRequest){0};
    if (!porch_wire_get_u8(&r, &ret->type) || !porch_wire_get_u32(&r, &ret->id))
        return PORCH_WIRE_PARSE_NO_ID;
    for (guint i = 0; i < G_N_ELEMENTS(layouts); i++) {
        if (layouts[i].type != ret->type)
            continue;
        for (guint f = 0; f < G_N_ELEMENTS(layouts[i].fields) && layouts[i].fields[f] != F_END; f++)
            if (!parse_field(&r, layouts[i].fields[f], ret))
                return PORCH_WIRE_PARSE_MALFORMED;
        return PORCH_WIRE_PARSE_OK;
    }
    return PORCH_WIRE_PARSE_UNSUPPORTED;
}

void
porch_wire_request_clear(PorchWireRequest *req)
{
    g_clear_pointer(&req->path, g_free);
    g_clear_pointer(&req->path2, g_free);
    g_clear_pointer(&req->extended, g_free);
}
