// test-hash.cc — SHA-256 as transfers use it: known digests, data fed in pieces, and
// a computation that starts again after each digest (per-block hashes).
#include <gtest/gtest.h>

#include <string>

#include <glib.h>

extern "C" {
#include "porch-hash.h"
}

namespace
{

std::string
Hex(const guint8 *d)
{
    std::string s;
    char b[3];
    for (int i = 0; i < PORCH_SHA256_LEN; i++) {
        g_snprintf(b, sizeof b, "%02x", d[i]);
        s += b;
    }
    return s;
}

TEST(Sha256, KnownDigests)
{
    g_autoptr(PorchSha256) h = porch_sha256_new();
    guint8 d[PORCH_SHA256_LEN];
    porch_sha256_finish(h, d);
    EXPECT_EQ(Hex(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    porch_sha256_update(h, "abc", 3);
    porch_sha256_finish(h, d);
    EXPECT_EQ(Hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            << "and finish() started again from nothing";
}

TEST(Sha256, PiecesGiveTheSameDigestAsGLib)
{
    std::string data(3 * 1024 * 1024 + 17, '\0');
    for (size_t i = 0; i < data.size(); i++)
        data[i] = (char)(i * 2654435761u >> 13);
    g_autoptr(PorchSha256) h = porch_sha256_new();
    for (size_t at = 0; at < data.size(); at += 65521)
        porch_sha256_update(h, data.data() + at, MIN((size_t)65521, data.size() - at));
    guint8 d[PORCH_SHA256_LEN];
    porch_sha256_finish(h, d);
    g_autofree char *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                                        (const guchar *)data.data(), data.size());
    EXPECT_EQ(Hex(d), want);
}

// The protocols' form of a digest: 64 lower-case hex digits, both ways; nothing else parses.
TEST(Sha256, HexBothWays)
{
    guint8 d[PORCH_SHA256_LEN];
    for (guint i = 0; i < PORCH_SHA256_LEN; i++)
        d[i] = (guint8)(i * 37 + 5);
    char hex[PORCH_SHA256_HEX_LEN + 1];
    porch_sha256_to_hex(d, hex);
    EXPECT_EQ(std::string(hex), Hex(d));
    guint8 back[PORCH_SHA256_LEN] = {0};
    ASSERT_TRUE(porch_sha256_from_hex(hex, back));
    EXPECT_EQ(memcmp(back, d, sizeof d), 0);

    std::string upper(hex);
    upper[3] = 'A'; /* a digit only upper case can spell */
    for (const std::string &bad : {std::string(hex).substr(0, 63), std::string(hex) + "0",
                                   std::string(63, '0') + "g", upper, std::string()}) {
        guint8 untouched[PORCH_SHA256_LEN] = {7};
        EXPECT_FALSE(porch_sha256_from_hex(bad.c_str(), untouched)) << bad;
        EXPECT_EQ(untouched[0], 7) << bad;
    }
}

} // namespace
