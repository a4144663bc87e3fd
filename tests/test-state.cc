// test-state.cc — porchd's state folder (shared/porch-state): the pid file, finding the porchd
// it names, and waiting for the running-config file of the reload handshake.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "porch-state.h"
#include "test-util.h"

namespace
{

using porch::test::ReadFile;

class StateTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("porch-state-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
    }
    void TearDown() override
    {
        if (child_ > 0) {
            kill(child_, SIGKILL);
            waitpid(child_, nullptr, 0);
        }
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }
    // A child process that calls itself `comm` (what /proc/PID/comm shows) and waits.
    pid_t Child(const char *comm)
    {
        int ready[2];
        if (pipe(ready) != 0)
            return -1;
        child_ = fork();
        if (child_ == 0) {
            prctl(PR_SET_NAME, comm);
            (void)!write(ready[1], "x", 1);
            pause();
            _exit(0);
        }
        char c;
        close(ready[1]);
        (void)!read(ready[0], &c, 1);
        close(ready[0]);
        return child_;
    }
    std::string File(const char *name)
    {
        return dir_ + "/" + name;
    }
    std::string Find()
    {
        g_autofree char *why = nullptr;
        pid_t pid = porch_state_find_porchd(dir_.c_str(), &why);
        return pid != 0 ? std::to_string(pid) : std::string("0: ") + why;
    }

    std::string dir_;
    pid_t child_ = -1;
};

TEST(State, DefaultFolders)
{
    g_autofree char *system = porch_state_default_dir(TRUE);
    g_autofree char *user = porch_state_default_dir(FALSE);
    g_autofree char *mine = g_build_filename(g_get_user_state_dir(), "porch", nullptr);
    EXPECT_STREQ(system, "/var/lib/porch");
    EXPECT_STREQ(user, mine);
    g_autofree char *key = porch_state_file("/var/lib/porch", PORCH_STATE_HOST_KEY);
    EXPECT_STREQ(key, "/var/lib/porch/ssh_host_ed25519_key");
}

TEST_F(StateTest, ThePidFileHoldsThePidAndGoesOnlyWithIt)
{
    g_autoptr(GError) error = nullptr;
    g_autofree char *path = porch_state_write_pid(dir_.c_str(), 4242, &error);
    ASSERT_NE(path, nullptr) << error->message;
    EXPECT_EQ(std::string(path), File(PORCH_STATE_PID_FILE));
    EXPECT_EQ(ReadFile(path), "4242\n");

    // a porchd started since wrote its own: the old one's stop leaves it
    EXPECT_TRUE(porch_state_remove_pid(path, 17));
    EXPECT_EQ(ReadFile(path), "4242\n");
    EXPECT_TRUE(porch_state_remove_pid(path, 4242));
    EXPECT_FALSE(g_file_test(path, G_FILE_TEST_EXISTS));
    EXPECT_TRUE(porch_state_remove_pid(path, 4242)) << "nothing to remove is no failure";
    EXPECT_TRUE(porch_state_remove_pid(nullptr, 4242));
}

TEST_F(StateTest, PorchdIsFoundOnlyWhenThePidFileNamesAPorchd)
{
    EXPECT_EQ(Find(), "0: no " + File(PORCH_STATE_PID_FILE));

    ASSERT_TRUE(g_file_set_contents(File(PORCH_STATE_PID_FILE).c_str(), "porchd\n", -1, nullptr));
    EXPECT_EQ(Find(), "0: " + File(PORCH_STATE_PID_FILE) + " holds no process id");

    // a pid that another program has now is never taken for porchd
    pid_t other = Child("sleep");
    ASSERT_GT(other, 0);
    g_free(porch_state_write_pid(dir_.c_str(), other, nullptr));
    EXPECT_EQ(Find(), "0: " + File(PORCH_STATE_PID_FILE) + " names process " +
                              std::to_string(other) + ", which is not porchd");
    kill(child_, SIGKILL);
    waitpid(child_, nullptr, 0);

    pid_t porchd = Child("porchd");
    ASSERT_GT(porchd, 0);
    g_free(porch_state_write_pid(dir_.c_str(), porchd, nullptr));
    EXPECT_EQ(Find(), std::to_string(porchd));
}

TEST_F(StateTest, WaitingForTheRunningConfigurationSeesExactlyItsBytes)
{
    const std::string conf = "[porch]\nname = x\n";
    std::string running = File(PORCH_STATE_RUNNING_CONFIG);

    EXPECT_FALSE(porch_state_wait_running(dir_.c_str(), conf.data(), conf.size(), 100))
            << "no file yet";
    ASSERT_TRUE(g_file_set_contents(running.c_str(), "[porch]\nname = x\n\n", -1, nullptr));
    EXPECT_FALSE(porch_state_wait_running(dir_.c_str(), conf.data(), conf.size(), 100))
            << "one byte more is another configuration";
    ASSERT_TRUE(g_file_set_contents(running.c_str(), conf.c_str(), -1, nullptr));
    EXPECT_TRUE(porch_state_wait_running(dir_.c_str(), conf.data(), conf.size(), 0));
}

} // namespace
