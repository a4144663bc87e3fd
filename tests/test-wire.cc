// test-wire.cc — SFTP's fields on the wire (shared/porch-wire.h): what the writers write, the
// readers read back; a reader given too few bytes says so and moves not; lengths and counts
// are bounded by the bytes there are; packets are framed with their length; every request
// layout parses back to what was written, and a request cut anywhere is refused.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <glib.h>
#include <libssh/sftp.h>

extern "C" {
#include "porch-wire.h"
}

namespace
{

using Bytes = std::vector<guint8>;

Bytes
Of(GByteArray *b)
{
    return Bytes(b->data, b->data + b->len);
}

PorchWireReader
ReaderOf(const Bytes &b)
{
    return PorchWireReader{b.data(), b.size()};
}

// ---- integers ---------------------------------------------------------------------------

TEST(Wire, IntegersAreBigEndian)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    porch_wire_put_u8(b, 0xab);
    porch_wire_put_u32(b, 0x01020304u);
    porch_wire_put_u64(b, 0x0102030405060708ull);
    EXPECT_EQ(Of(b), (Bytes{0xab, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Wire, IntegersRoundTrip)
{
    const guint32 u32s[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    const guint64 u64s[] = {0, 1, 0xffffffffull, 0x100000000ull, G_MAXINT64, G_MAXUINT64};
    g_autoptr(GByteArray) b = g_byte_array_new();

    for (guint32 v : u32s)
        porch_wire_put_u32(b, v);
    for (guint64 v : u64s)
        porch_wire_put_u64(b, v);
    for (int v = 0; v < 256; v++)
        porch_wire_put_u8(b, (guint8)v);

    Bytes bytes = Of(b);
    PorchWireReader r = ReaderOf(bytes);
    for (guint32 want : u32s) {
        guint32 got = 0;
        ASSERT_TRUE(porch_wire_get_u32(&r, &got));
        EXPECT_EQ(got, want);
    }
    for (guint64 want : u64s) {
        guint64 got = 0;
        ASSERT_TRUE(porch_wire_get_u64(&r, &got));
        EXPECT_EQ(got, want);
    }
    for (int want = 0; want < 256; want++) {
        guint8 got = 0;
        ASSERT_TRUE(porch_wire_get_u8(&r, &got));
        EXPECT_EQ(got, want);
    }
    EXPECT_EQ(r.left, 0u);
    EXPECT_EQ(r.p, bytes.data() + bytes.size());
}

// A reader short of a field's bytes returns FALSE and stays where it was, for each size.
TEST(Wire, ShortIntegersAreRefusedInPlace)
{
    const Bytes bytes = {1, 2, 3, 4, 5, 6, 7, 8};
    for (size_t have = 0; have < 8; have++) {
        PorchWireReader r = {bytes.data(), have};
        guint8 u8 = 0x55;
        guint32 u32 = 0x55;
        guint64 u64 = 0x55;
        if (have < 1) {
            EXPECT_FALSE(porch_wire_get_u8(&r, &u8));
        }
        if (have < 4) {
            EXPECT_FALSE(porch_wire_get_u32(&r, &u32));
        }
        EXPECT_FALSE(porch_wire_get_u64(&r, &u64)) << have << " bytes";
        EXPECT_EQ(r.p, bytes.data());
        EXPECT_EQ(r.left, have);
        EXPECT_EQ(u8, 0x55);
        EXPECT_EQ(u32, 0x55u);
        EXPECT_EQ(u64, 0x55u) << "nothing is written on failure";
    }
}

// ---- strings ----------------------------------------------------------------------------

TEST(Wire, StringsRoundTripInPlace)
{
    const std::string binary("a\0b\xff", 4);
    g_autoptr(GByteArray) b = g_byte_array_new();
    porch_wire_put_cstring(b, "hello");
    porch_wire_put_string(b, "", 0);
    porch_wire_put_string(b, binary.data(), binary.size());
    EXPECT_EQ(Of(b), (Bytes{0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0,   0,
                            0, 0, 0, 0, 0,   4,   'a', 0,   'b', 0xff}));

    Bytes bytes = Of(b);
    PorchWireReader r = ReaderOf(bytes);
    const guint8 *s = nullptr;
    guint32 len = 0;
    ASSERT_TRUE(porch_wire_get_string(&r, &s, &len));
    EXPECT_EQ(std::string((const char *)s, len), "hello");
    EXPECT_EQ(s, bytes.data() + 4) << "a string is returned where it is, not copied";
    ASSERT_TRUE(porch_wire_get_string(&r, &s, &len));
    EXPECT_EQ(len, 0u);
    ASSERT_TRUE(porch_wire_get_string(&r, &s, &len));
    EXPECT_EQ(std::string((const char *)s, len), binary);
    EXPECT_EQ(r.left, 0u);
}

// A length beyond the bytes that follow, up to 2^32 - 1: refused, the reader unmoved.
TEST(Wire, StringLongerThanWhatFollowsIsRefused)
{
    for (guint32 claimed : {4u, 5u, 100u, 0x7fffffffu, 0xfffffffcu, 0xffffffffu}) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        porch_wire_put_u32(b, claimed);
        g_byte_array_append(b, (const guint8 *)"abc", 3);
        Bytes bytes = Of(b);
        PorchWireReader r = ReaderOf(bytes);
        const guint8 *s = nullptr;
        guint32 len = 7;
        EXPECT_FALSE(porch_wire_get_string(&r, &s, &len)) << claimed;
        EXPECT_EQ(r.left, bytes.size());
        EXPECT_EQ(r.p, bytes.data());
        EXPECT_EQ(len, 7u);
        EXPECT_EQ(porch_wire_get_path(&r, G_MAXUINT32), nullptr);
        EXPECT_EQ(r.left, bytes.size());
    }
    // and one that fits exactly, and a length that is cut short itself
    Bytes exact = {0, 0, 0, 3, 'a', 'b', 'c'};
    PorchWireReader r = ReaderOf(exact);
    const guint8 *s;
    guint32 len;
    EXPECT_TRUE(porch_wire_get_string(&r, &s, &len));
    EXPECT_EQ(r.left, 0u);
    for (size_t have = 0; have < 4; have++) {
        PorchWireReader cut = {exact.data(), have};
        EXPECT_FALSE(porch_wire_get_string(&cut, &s, &len));
        EXPECT_EQ(cut.left, have);
    }
}

TEST(Wire, PathsAreBoundedAndHoldNoNul)
{
    auto path_of = [](const std::string &s, gsize max, size_t *left_after) -> std::string {
        g_autoptr(GByteArray) b = g_byte_array_new();
        porch_wire_put_string(b, s.data(), s.size());
        porch_wire_put_u8(b, 0x42); // what follows is not read
        Bytes bytes = Of(b);
        PorchWireReader r = ReaderOf(bytes);
        g_autofree char *p = porch_wire_get_path(&r, max);
        *left_after = r.left;
        return p != nullptr ? "<" + std::string(p) + ">" : "NULL";
    };
    size_t left = 0;
    EXPECT_EQ(path_of("/Work/a.txt", 64, &left), "</Work/a.txt>");
    EXPECT_EQ(left, 1u);
    EXPECT_EQ(path_of("", 64, &left), "<>");
    EXPECT_EQ(path_of(std::string(64, 'x'), 64, &left), "<" + std::string(64, 'x') + ">");
    EXPECT_EQ(path_of(std::string(65, 'x'), 64, &left), "NULL");
    EXPECT_EQ(left, 4u + 65 + 1) << "a refused path leaves the reader where it was";
    EXPECT_EQ(path_of(std::string("a\0b", 3), 64, &left), "NULL");
    EXPECT_EQ(path_of(std::string("\0", 1), 64, &left), "NULL");
    EXPECT_EQ(path_of(std::string(PORCH_WIRE_MAX_PATH, 'p'), PORCH_WIRE_MAX_PATH, &left),
              "<" + std::string(PORCH_WIRE_MAX_PATH, 'p') + ">");
    EXPECT_EQ(path_of("é/ü", 64, &left), "<é/ü>") << "bytes, not characters";
}

// ---- attributes -------------------------------------------------------------------------

constexpr guint32 kAttrFlags[] = {SSH_FILEXFER_ATTR_SIZE, SSH_FILEXFER_ATTR_UIDGID,
                                  SSH_FILEXFER_ATTR_PERMISSIONS, SSH_FILEXFER_ATTR_ACMODTIME};

PorchWireAttrs
FullAttrs(guint32 flags)
{
    PorchWireAttrs a = {};
    a.flags = flags;
    a.size = 0x0123456789abcdefull;
    a.uid = 1000;
    a.gid = 0xfffffffeu;
    a.permissions = 0100644;
    a.atime = 1700000000;
    a.mtime = 0xffffffffu;
    return a;
}

// Only the fields whose flag is set are written, and read back; the others read as 0.
TEST(Wire, AttrsRoundTripForEveryCombinationOfFlags)
{
    for (guint32 mask = 0; mask < 16; mask++) {
        guint32 flags = 0;
        size_t want_len = 4;
        for (int i = 0; i < 4; i++)
            if (mask & (1u << i)) {
                flags |= kAttrFlags[i];
                want_len += i == 2 ? 4 : 8;
            }
        PorchWireAttrs a = FullAttrs(flags);
        g_autoptr(GByteArray) b = g_byte_array_new();
        porch_wire_put_attrs(b, &a);
        ASSERT_EQ(b->len, want_len) << "flags " << flags;

        Bytes bytes = Of(b);
        PorchWireReader r = ReaderOf(bytes);
        PorchWireAttrs got;
        memset(&got, 0x55, sizeof got);
        ASSERT_TRUE(porch_wire_get_attrs(&r, &got)) << "flags " << flags;
        EXPECT_EQ(r.left, 0u);
        EXPECT_EQ(got.flags, flags);
        EXPECT_EQ(got.size, flags & SSH_FILEXFER_ATTR_SIZE ? a.size : 0);
        EXPECT_EQ(got.uid, flags & SSH_FILEXFER_ATTR_UIDGID ? a.uid : 0);
        EXPECT_EQ(got.gid, flags & SSH_FILEXFER_ATTR_UIDGID ? a.gid : 0);
        EXPECT_EQ(got.permissions, flags & SSH_FILEXFER_ATTR_PERMISSIONS ? a.permissions : 0);
        EXPECT_EQ(got.atime, flags & SSH_FILEXFER_ATTR_ACMODTIME ? a.atime : 0);
        EXPECT_EQ(got.mtime, flags & SSH_FILEXFER_ATTR_ACMODTIME ? a.mtime : 0);

        // cut anywhere: refused, the reader unmoved
        for (size_t have = 0; have < bytes.size(); have++) {
            PorchWireReader cut = {bytes.data(), have};
            EXPECT_FALSE(porch_wire_get_attrs(&cut, &got)) << "flags " << flags << ", " << have;
            EXPECT_EQ(cut.left, have);
        }
    }
}

TEST(Wire, AttrsWriterKeepsToTheFlagsItKnows)
{
    PorchWireAttrs a =
            FullAttrs(SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_EXTENDED | 0x00f00000u);
    g_autoptr(GByteArray) b = g_byte_array_new();
    porch_wire_put_attrs(b, &a);
    EXPECT_EQ(Of(b), (Bytes{0, 0, 0, 4, 0, 0, 0x81, 0xa4})) << "permissions alone";
}

// Extended pairs are read past (each bounded by the packet); the flags read keep to the
// known ones.
TEST(Wire, AttrsSkipExtendedPairs)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    porch_wire_put_u32(b, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_EXTENDED | 0x00100000u);
    porch_wire_put_u64(b, 42);
    porch_wire_put_u32(b, 2);
    porch_wire_put_cstring(b, "name@example.com");
    porch_wire_put_cstring(b, "data");
    porch_wire_put_cstring(b, "");
    porch_wire_put_cstring(b, "");
    porch_wire_put_u8(b, 0x42); // the next field
    Bytes bytes = Of(b);
    PorchWireReader r = ReaderOf(bytes);
    PorchWireAttrs got;
    ASSERT_TRUE(porch_wire_get_attrs(&r, &got));
    EXPECT_EQ(got.flags, (guint32)SSH_FILEXFER_ATTR_SIZE);
    EXPECT_EQ(got.size, 42u);
    ASSERT_EQ(r.left, 1u);
    EXPECT_EQ(*r.p, 0x42);
    for (size_t have = 0; have + 1 < bytes.size(); have++) {
        PorchWireReader cut = {bytes.data(), have};
        EXPECT_FALSE(porch_wire_get_attrs(&cut, &got)) << have;
        EXPECT_EQ(cut.left, have);
    }
}

// A count of extended pairs that the bytes left cannot hold (8 bytes each at least) is
// refused before any pair is read: 2^32 - 1 pairs cost nothing.
TEST(Wire, AttrsExtendedCountBoundedByTheBytes)
{
    for (guint32 count : {2u, 3u, 1000u, 0xffffffffu}) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        porch_wire_put_u32(b, SSH_FILEXFER_ATTR_EXTENDED);
        porch_wire_put_u32(b, count);
        for (int i = 0; i < 2; i++) {
            porch_wire_put_cstring(b, "");
            porch_wire_put_cstring(b, "");
        }
        Bytes bytes = Of(b);
        PorchWireReader r = ReaderOf(bytes);
        PorchWireAttrs got;
        EXPECT_EQ(porch_wire_get_attrs(&r, &got), count == 2) << count;
    }
}

// ---- packets ----------------------------------------------------------------------------

TEST(Wire, PacketsCarryTheirLength)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)"stale", 5);
    porch_wire_begin_packet(b, SSH_FXP_STATUS);
    porch_wire_put_u32(b, 7);
    porch_wire_end_packet(b);
    EXPECT_EQ(Of(b), (Bytes{0, 0, 0, 5, SSH_FXP_STATUS, 0, 0, 0, 7})) << "begun afresh";

    porch_wire_begin_packet(b, SSH_FXP_DATA);
    porch_wire_put_u32(b, 1);
    std::string data(300 * 1024, 'd');
    porch_wire_put_string(b, data.data(), data.size());
    porch_wire_end_packet(b);
    Bytes bytes = Of(b);
    PorchWireReader r = ReaderOf(bytes);
    guint32 len = 0;
    guint8 type = 0;
    ASSERT_TRUE(porch_wire_get_u32(&r, &len));
    EXPECT_EQ(len, bytes.size() - 4);
    ASSERT_TRUE(porch_wire_get_u8(&r, &type));
    EXPECT_EQ(type, SSH_FXP_DATA);
}

// ---- requests ---------------------------------------------------------------------------

// A request as a client sends it, without the length: type, id, then the fields.
struct Request {
    GByteArray *b = g_byte_array_new();
    Request(guint8 type, guint32 id)
    {
        porch_wire_put_u8(b, type);
        porch_wire_put_u32(b, id);
    }
    ~Request()
    {
        g_byte_array_unref(b);
    }
    Request(const Request &) = delete;
    Request &operator=(const Request &) = delete;
    Request &Str(const std::string &s)
    {
        porch_wire_put_string(b, s.data(), s.size());
        return *this;
    }
    Request &U32(guint32 v)
    {
        porch_wire_put_u32(b, v);
        return *this;
    }
    Request &U64(guint64 v)
    {
        porch_wire_put_u64(b, v);
        return *this;
    }
    Request &Attrs(const PorchWireAttrs &a)
    {
        porch_wire_put_attrs(b, &a);
        return *this;
    }
    Bytes Data() const
    {
        return Of(b);
    }
};

// A request parsed, with the packet it points into.
struct Parsed {
    Bytes packet;
    PorchWireRequest q;
    PorchWireParse result;
    explicit Parsed(Bytes bytes) : packet(std::move(bytes))
    {
        result = porch_wire_parse_request(packet.data(), packet.size(), &q);
    }
    ~Parsed()
    {
        porch_wire_request_clear(&q);
    }
    std::string Handle() const
    {
        return std::string((const char *)q.handle, q.handle_len);
    }
};

TEST(WireRequest, EveryLayoutRoundTrips)
{
    const PorchWireAttrs attrs = FullAttrs(SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS);
    {
        Parsed p(Request(SSH_FXP_OPEN, 1)
                         .Str("/Work/a.txt")
                         .U32(SSH_FXF_WRITE | SSH_FXF_CREAT)
                         .Attrs(attrs)
                         .Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK);
        EXPECT_EQ(p.q.type, SSH_FXP_OPEN);
        EXPECT_EQ(p.q.id, 1u);
        EXPECT_STREQ(p.q.path, "/Work/a.txt");
        EXPECT_EQ(p.q.pflags, (guint32)(SSH_FXF_WRITE | SSH_FXF_CREAT));
        EXPECT_EQ(p.q.attrs.flags, attrs.flags);
        EXPECT_EQ(p.q.attrs.size, attrs.size);
        EXPECT_EQ(p.q.attrs.permissions, attrs.permissions);
    }
    {
        Parsed p(Request(SSH_FXP_READ, 0xffffffffu).Str("h1").U64(1ull << 40).U32(65536).Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK);
        EXPECT_EQ(p.q.id, 0xffffffffu);
        EXPECT_EQ(p.Handle(), "h1");
        EXPECT_EQ(p.q.handle, p.packet.data() + 1 + 4 + 4) << "a handle stays in the packet";
        EXPECT_EQ(p.q.offset, 1ull << 40);
        EXPECT_EQ(p.q.len, 65536u);
    }
    {
        Parsed p(Request(SSH_FXP_WRITE, 3).Str("h").U64(5).Str("payload").Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK);
        EXPECT_EQ(p.Handle(), "h");
        EXPECT_EQ(p.q.offset, 5u);
        EXPECT_EQ(std::string((const char *)p.q.data, p.q.data_len), "payload");
    }
    for (guint8 type : {SSH_FXP_CLOSE, SSH_FXP_FSTAT, SSH_FXP_READDIR}) {
        Parsed p(Request(type, 4).Str("handle").Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK) << (int)type;
        EXPECT_EQ(p.Handle(), "handle");
    }
    for (guint8 type : {SSH_FXP_LSTAT, SSH_FXP_STAT, SSH_FXP_OPENDIR, SSH_FXP_REMOVE, SSH_FXP_RMDIR,
                        SSH_FXP_REALPATH, SSH_FXP_READLINK}) {
        Parsed p(Request(type, 5).Str("/Work/x").Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK) << (int)type;
        EXPECT_STREQ(p.q.path, "/Work/x");
        EXPECT_EQ(p.q.path2, nullptr);
    }
    for (guint8 type : {SSH_FXP_SETSTAT, SSH_FXP_MKDIR}) {
        Parsed p(Request(type, 6).Str("/Work/d").Attrs(attrs).Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK) << (int)type;
        EXPECT_STREQ(p.q.path, "/Work/d");
        EXPECT_EQ(p.q.attrs.flags, attrs.flags);
    }
    {
        Parsed p(Request(SSH_FXP_FSETSTAT, 7).Str("h").Attrs(attrs).Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK);
        EXPECT_EQ(p.Handle(), "h");
        EXPECT_EQ(p.q.attrs.size, attrs.size);
    }
    for (guint8 type : {SSH_FXP_RENAME, SSH_FXP_SYMLINK}) {
        Parsed p(Request(type, 8).Str("/Work/from").Str("/Work/to").Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK) << (int)type;
        EXPECT_STREQ(p.q.path, "/Work/from");
        EXPECT_STREQ(p.q.path2, "/Work/to");
    }
    {
        Parsed p(Request(SSH_FXP_EXTENDED, 9)
                         .Str("check-file-handle")
                         .Str("h")
                         .Str("sha256")
                         .U64(0)
                         .U64(0)
                         .U32(0)
                         .Data());
        ASSERT_EQ(p.result, PORCH_WIRE_PARSE_OK);
        EXPECT_STREQ(p.q.extended, "check-file-handle");
        EXPECT_EQ(p.q.ext_args.p, p.packet.data() + 1 + 4 + 4 + strlen("check-file-handle"));
        EXPECT_EQ(p.q.ext_args.left, (4 + 1) + (4 + 6) + 8 + 8 + 4u) << "its arguments, unread";
    }
}

// Cut anywhere, a request is refused: without an id when not even that is whole (nothing to
// answer), else as malformed, with its type and id (to answer with a status).
TEST(WireRequest, CutAnywhereIsRefused)
{
    const std::vector<Bytes> requests = {
            Request(SSH_FXP_OPEN, 42).Str("/a").U32(SSH_FXF_READ).Attrs(FullAttrs(0)).Data(),
            Request(SSH_FXP_READ, 42).Str("h").U64(0).U32(10).Data(),
            Request(SSH_FXP_WRITE, 42).Str("h").U64(0).Str("data").Data(),
            Request(SSH_FXP_RENAME, 42).Str("/a").Str("/b").Data(),
            Request(SSH_FXP_SETSTAT, 42)
                    .Str("/a")
                    .Attrs(FullAttrs(SSH_FILEXFER_ATTR_ACMODTIME))
                    .Data(),
            Request(SSH_FXP_EXTENDED, 42).Str("limits@openssh.com").Data(),
    };
    for (const Bytes &whole : requests) {
        for (size_t have = 0; have < whole.size(); have++) {
            Parsed p(Bytes(whole.begin(), whole.begin() + have));
            if (have < 5) {
                EXPECT_EQ(p.result, PORCH_WIRE_PARSE_NO_ID) << have;
                continue;
            }
            EXPECT_EQ(p.result, PORCH_WIRE_PARSE_MALFORMED)
                    << "type " << (int)whole[0] << ", " << have << " of " << whole.size();
            EXPECT_EQ(p.q.type, whole[0]);
            EXPECT_EQ(p.q.id, 42u);
        }
    }
}

TEST(WireRequest, UnknownTypesTrailingBytesAndBadNames)
{
    {
        // SFTP v3 has no such request: unsupported, with its id
        Parsed p(Request(SSH_FXP_STATUS, 11).U32(0).Data());
        EXPECT_EQ(p.result, PORCH_WIRE_PARSE_UNSUPPORTED);
        EXPECT_EQ(p.q.id, 11u);
        Parsed q(Request(0xff, 12).Data());
        EXPECT_EQ(q.result, PORCH_WIRE_PARSE_UNSUPPORTED);
    }
    {
        // requests may grow: what follows the fields is left alone
        Parsed p(Request(SSH_FXP_STAT, 13).Str("/a").U32(SSH_FILEXFER_ATTR_SIZE).Data());
        EXPECT_EQ(p.result, PORCH_WIRE_PARSE_OK);
        EXPECT_STREQ(p.q.path, "/a");
    }
    {
        // a path holding a NUL, an extended name beyond 256 bytes
        Parsed p(Request(SSH_FXP_STAT, 14).Str(std::string("/a\0b", 4)).Data());
        EXPECT_EQ(p.result, PORCH_WIRE_PARSE_MALFORMED);
        Parsed q(Request(SSH_FXP_EXTENDED, 15).Str(std::string(257, 'x')).Data());
        EXPECT_EQ(q.result, PORCH_WIRE_PARSE_MALFORMED);
        Parsed r(Request(SSH_FXP_EXTENDED, 16).Str(std::string(256, 'x')).Data());
        EXPECT_EQ(r.result, PORCH_WIRE_PARSE_OK);
    }
    {
        // a path beyond PORCH_WIRE_MAX_PATH is the server's to refuse, saying so
        Parsed p(
                Request(SSH_FXP_OPENDIR, 17).Str(std::string(PORCH_WIRE_MAX_PATH + 1, 'p')).Data());
        EXPECT_EQ(p.result, PORCH_WIRE_PARSE_OK);
        EXPECT_EQ(strlen(p.q.path), PORCH_WIRE_MAX_PATH + 1u);
    }
}

} // namespace
