// test-pending.cc — the table of access requests (shared/porch-pending): its limits per
// address and in all, expiry, and that a key never takes over another key's request.
// Time is given to porch_pending_record() as an argument, so "a week ago" is honest here.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <gio/gio.h>
#include <glib.h>

#include "porch-pending.h"
#include "test-util.h"

namespace
{

constexpr gint64 kDay = 24 * 3600;

class PendingTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("porch-pending-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
        now_ = g_get_real_time() / G_USEC_PER_SEC;
    }
    void TearDown() override
    {
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }
    // Records the request of a made-up key number `n` (its fingerprint "SHA256:key<n>").
    bool Record(int n, const std::string &address, gint64 when, const std::string &name = "",
                GError **error = nullptr)
    {
        std::string fp = "SHA256:key" + std::to_string(n);
        std::string who = name.empty() ? "user" + std::to_string(n) : name;
        std::string line = "ssh-ed25519 AAAA" + std::to_string(n) + " " + who;
        return porch_pending_record(dir_.c_str(), &limits_, who.c_str(), line.c_str(), fp.c_str(),
                                    address.c_str(), when, error);
    }
    // The fingerprints listed, oldest first.
    std::vector<std::string> Listed(gint64 expiry = 0)
    {
        g_autoptr(GPtrArray) list = porch_pending_list(dir_.c_str(), expiry);
        std::vector<std::string> v;
        for (guint i = 0; i < list->len; i++)
            v.push_back(((PorchPendingPeer *)list->pdata[i])->fingerprint);
        return v;
    }
    // Request files on disk, whatever their age.
    int Files()
    {
        g_autoptr(GDir) d = g_dir_open((dir_ + "/pending").c_str(), 0, nullptr);
        int n = 0;
        for (const char *name; d != nullptr && (name = g_dir_read_name(d)) != nullptr;)
            n += g_str_has_suffix(name, ".request");
        return n;
    }

    std::string dir_;
    gint64 now_ = 0;
    PorchPendingLimits limits_ = {64, 4, 7 * kDay};
};

TEST_F(PendingTest, ThrowawayKeysFromOneAddressHoldAtMostItsShare)
{
    // a stranger knocks with 100 throwaway keys, one second apart
    for (int i = 0; i < 100; i++)
        ASSERT_TRUE(Record(i, "10.0.0.66", now_ - 100 + i));
    EXPECT_EQ(Listed(), (std::vector<std::string>{"SHA256:key96", "SHA256:key97", "SHA256:key98",
                                                  "SHA256:key99"}))
            << "the address keeps its newest max-pending-per-address requests";
    // and a neighbour who asks afterwards is recorded all the same
    ASSERT_TRUE(Record(1000, "10.0.0.5", now_));
    EXPECT_EQ(Listed().size(), 5u);
    EXPECT_EQ(Listed().back(), "SHA256:key1000");
}

TEST_F(PendingTest, AKnownKeyIsUpdatedNotCountedTwice)
{
    limits_.max_per_address = 1;
    ASSERT_TRUE(Record(1, "10.0.0.5", now_ - 10));
    ASSERT_TRUE(Record(1, "10.0.0.5", now_));
    g_autoptr(GPtrArray) list = porch_pending_list(dir_.c_str(), 0);
    ASSERT_EQ(list->len, 1u);
    auto *p = (PorchPendingPeer *)list->pdata[0];
    EXPECT_EQ(p->attempts, 2u);
    EXPECT_EQ(p->first_seen, now_ - 10);
    EXPECT_EQ(p->last_seen, now_);
}

TEST_F(PendingTest, AFullTableRefusesWithNoSpaceAfterTheExpiredGo)
{
    limits_.max_total = 3;
    ASSERT_TRUE(Record(1, "10.0.0.1", now_ - 8 * kDay)); // older than pending-expiry
    ASSERT_TRUE(Record(2, "10.0.0.2", now_));
    ASSERT_TRUE(Record(3, "10.0.0.3", now_));
    // the expired one makes room
    ASSERT_TRUE(Record(4, "10.0.0.4", now_));
    EXPECT_EQ(Listed(), (std::vector<std::string>{"SHA256:key2", "SHA256:key3", "SHA256:key4"}));
    EXPECT_EQ(Files(), 3) << "the expired request is removed, not only hidden";

    // full: the next one is refused with a code the session logs a warning for
    g_autoptr(GError) error = nullptr;
    EXPECT_FALSE(Record(5, "10.0.0.5", now_, "", &error));
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) << error->message;
    EXPECT_EQ(Files(), 3);
    // a key already there is still updated
    EXPECT_TRUE(Record(3, "10.0.0.3", now_));
}

TEST_F(PendingTest, ExpiredRequestsAreNotListed)
{
    ASSERT_TRUE(Record(1, "10.0.0.1", now_ - 8 * kDay));
    ASSERT_TRUE(Record(2, "10.0.0.2", now_ - 6 * kDay));
    EXPECT_EQ(Listed(7 * kDay), (std::vector<std::string>{"SHA256:key2"}));
    EXPECT_EQ(Listed(0).size(), 2u) << "0: no expiry";
    // a request that asks again is seen again: expiry counts from the last attempt
    ASSERT_TRUE(Record(2, "10.0.0.2", now_));
    EXPECT_EQ(Listed(7 * kDay), (std::vector<std::string>{"SHA256:key2"}));
}

TEST_F(PendingTest, MaxPendingZeroRecordsNothing)
{
    limits_.max_total = 0;
    g_autoptr(GError) error = nullptr;
    EXPECT_FALSE(Record(1, "10.0.0.1", now_, "", &error));
    ASSERT_NE(error, nullptr);
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE));
    EXPECT_EQ(Files(), 0);
}

TEST_F(PendingTest, ANewKeyNeverTakesOverAName)
{
    ASSERT_TRUE(Record(1, "10.0.0.5", now_ - 10, "bob"));
    // someone else says he is bob too
    ASSERT_TRUE(Record(2, "10.0.0.66", now_, "bob"));
    g_autoptr(GPtrArray) list = porch_pending_list(dir_.c_str(), 0);
    ASSERT_EQ(list->len, 2u);
    auto *first = (PorchPendingPeer *)list->pdata[0];
    EXPECT_STREQ(first->fingerprint, "SHA256:key1");
    EXPECT_STREQ(first->key, "ssh-ed25519 AAAA1 bob");
    EXPECT_STREQ(first->address, "10.0.0.5");
    // and the same key under another name keeps the name it first gave
    ASSERT_TRUE(Record(1, "10.0.0.5", now_, "alice"));
    g_autoptr(GPtrArray) again = porch_pending_list(dir_.c_str(), 0);
    EXPECT_STREQ(((PorchPendingPeer *)again->pdata[0])->name, "bob");
}

TEST_F(PendingTest, AFileThatIsNoRequestIsCleanedUp)
{
    ASSERT_TRUE(Record(1, "10.0.0.1", now_));
    ASSERT_TRUE(
            porch::test::WriteFile(dir_ + "/pending/0123456789abcdef.request", "garbage", 0600));
    EXPECT_EQ(Listed().size(), 1u);
    ASSERT_TRUE(Record(2, "10.0.0.2", now_));
    EXPECT_EQ(Files(), 2);
}

} // namespace
