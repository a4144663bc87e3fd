// test-ciphers.cc — unit tests of the SSH cipher order (shared/porch-ciphers.h): AES-GCM first on a
// CPU with AES instructions, chacha20-poly1305 first without, PORCH_CIPHERS forcing either.
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "porch-ciphers.h"

namespace
{

std::string
First(PorchCipherOrder order, gboolean with_ctr = FALSE)
{
    std::string list = porch_cipher_list(order, with_ctr);
    return list.substr(0, list.find(','));
}

TEST(Ciphers, DetectedOrderFollowsTheCpu)
{
    gboolean invalid = TRUE;
    EXPECT_EQ(First(porch_cipher_order_pick(nullptr, TRUE, &invalid)), "aes128-gcm@openssh.com");
    EXPECT_FALSE(invalid);
    EXPECT_EQ(First(porch_cipher_order_pick(nullptr, FALSE, &invalid)),
              "chacha20-poly1305@openssh.com");
    EXPECT_EQ(First(porch_cipher_order_pick("auto", FALSE, &invalid)),
              "chacha20-poly1305@openssh.com");
    EXPECT_EQ(First(porch_cipher_order_pick("", TRUE, &invalid)), "aes128-gcm@openssh.com");
    EXPECT_FALSE(invalid);
}

TEST(Ciphers, OverrideForcesEitherOrder)
{
    gboolean invalid = TRUE;
    EXPECT_EQ(porch_cipher_order_pick("aes", FALSE, &invalid), PORCH_CIPHER_ORDER_AES);
    EXPECT_FALSE(invalid);
    EXPECT_EQ(porch_cipher_order_pick("chacha20", TRUE, &invalid), PORCH_CIPHER_ORDER_CHACHA);
    EXPECT_FALSE(invalid);
    // an unknown value is reported and ignored: the CPU decides
    EXPECT_EQ(porch_cipher_order_pick("rc4", TRUE, &invalid), PORCH_CIPHER_ORDER_AES);
    EXPECT_TRUE(invalid);
    EXPECT_EQ(porch_cipher_order_pick("AES", FALSE, &invalid), PORCH_CIPHER_ORDER_CHACHA);
    EXPECT_TRUE(invalid);
}

TEST(Ciphers, EnvironmentOverridesTheCpu)
{
    const char *old = g_getenv(PORCH_CIPHERS_ENV);
    std::string saved = old ? old : "";
    g_setenv(PORCH_CIPHERS_ENV, "chacha20", TRUE);
    EXPECT_EQ(porch_cipher_order(), PORCH_CIPHER_ORDER_CHACHA);
    g_setenv(PORCH_CIPHERS_ENV, "aes", TRUE);
    EXPECT_EQ(porch_cipher_order(), PORCH_CIPHER_ORDER_AES);
    g_unsetenv(PORCH_CIPHERS_ENV);
    EXPECT_EQ(porch_cipher_order(),
              porch_cpu_has_aes() ? PORCH_CIPHER_ORDER_AES : PORCH_CIPHER_ORDER_CHACHA);
    if (old)
        g_setenv(PORCH_CIPHERS_ENV, saved.c_str(), TRUE);
}

// The detection agrees with what the kernel says of the CPU in /proc/cpuinfo (x86: the
// "aes" and "pclmulqdq" flags; arm64: "aes" and "pmull" features).
TEST(Ciphers, DetectionAgreesWithProcCpuinfo)
{
    std::ifstream in("/proc/cpuinfo");
    if (!in)
        GTEST_SKIP() << "no /proc/cpuinfo";
    std::string line;
    bool aes = false, clmul = false, seen = false;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) != 0 && line.rfind("Features", 0) != 0)
            continue;
        seen = true;
        line += ' ';
        aes = line.find(" aes ") != std::string::npos;
        clmul = line.find(" pclmulqdq ") != std::string::npos ||
                line.find(" pmull ") != std::string::npos;
        break;
    }
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
    if (!seen)
        GTEST_SKIP() << "/proc/cpuinfo names no CPU flags";
    EXPECT_EQ(bool(porch_cpu_has_aes()), aes && clmul);
#else
    (void)seen;
    (void)aes;
    (void)clmul;
    EXPECT_FALSE(porch_cpu_has_aes());
#endif
}

TEST(Ciphers, ListsNameAeadCiphersAndCtrOnlyWhenAsked)
{
    for (PorchCipherOrder o : {PORCH_CIPHER_ORDER_AES, PORCH_CIPHER_ORDER_CHACHA}) {
        std::string aead = porch_cipher_list(o, FALSE), all = porch_cipher_list(o, TRUE);
        for (const char *c : {"aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                              "chacha20-poly1305@openssh.com"}) {
            EXPECT_NE(aead.find(c), std::string::npos) << c;
            EXPECT_NE(all.find(c), std::string::npos) << c;
        }
        EXPECT_EQ(aead.find("-ctr"), std::string::npos);
        EXPECT_EQ(all, aead + ",aes128-ctr,aes256-ctr");
    }
}

} // namespace
