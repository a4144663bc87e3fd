// test-gvfs.cc — GNOME Files' backend (gvfs, which drives the OpenSSH client) against porchd,
// headless: on test-LAN host 2, a private session bus, gvfsd, and `gio` mounting, listing,
// fetching and uploading as a user of Files would, porchd on host 1.
#include <gtest/gtest.h>

#include <string>

#include <glib.h>

#include "testlan.h"
#include "test-util.h"

namespace
{

using porch::test::ReadFile;

TEST(Gvfs, GnomeFilesMountsListsFetchesAndUploads)
{
    PORCH_REQUIRE_TOOLS("gio", "dbus-run-session", "/usr/libexec/gvfsd", "/usr/libexec/gvfsd-sftp");
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    ASSERT_EQ(g_mkdir_with_parents((d + "/photos").c_str(), 0755), 0);
    ASSERT_EQ(g_mkdir_with_parents((d + "/drop").c_str(), 0755), 0);
    ASSERT_TRUE(g_file_set_contents((d + "/photos/Beach Day.txt").c_str(), "sand and sea\n", -1,
                                    nullptr));
    // porchd serves a folder as its owner, and root's as 'porch', who may write nothing in
    // them: the shares are an unprivileged user's, as a Files user's folders would be
    ASSERT_TRUE(porch::test::GiveToShareOwner(d + "/photos") &&
                porch::test::GiveToShareOwner(d + "/drop"));
    std::string conf = "[porch]\nlisten = " + lan->address(1) + "\n[share Photos]\npath = " + d +
                       "/photos\nread = guest\n" + "[share Drop]\npath = " + d +
                       "/drop\nwrite = guest\n";
    ASSERT_TRUE(g_file_set_contents((d + "/porch.conf").c_str(), conf.c_str(), -1, nullptr));
    std::string log = d + "/porchd.log";
    pid_t porchd = lan->spawn(
            1, {PORCH_PROGRAM_PORCHD, "--config", d + "/porch.conf", "--state-dir", d + "/state"},
            log);
    ASSERT_GT(porchd, 0);
    for (int i = 0; i < 250 && ReadFile(log).find("running") == std::string::npos; i++)
        g_usleep(20000);
    ASSERT_NE(ReadFile(log).find("running"), std::string::npos) << ReadFile(log);

    // What Files does: mount the share (answering its first-contact question with "Log In
    // Anyway"), list it, copy a file out, copy one in.
    std::string c = lan->host_dir(2);
    std::string uri = "sftp://guest@" + lan->address(1) + ":4422";
    std::string script = "GVFS_DEBUG=1 /usr/libexec/gvfsd --no-fuse 2>" + c +
                         "/gvfsd.log & gvfsd=$!\n"
                         "sleep 1\n"
                         "echo 1 | gio mount " +
                         uri +
                         "/Photos >/dev/null; echo \"mount=$?\"\n"
                         "gio list " +
                         uri +
                         "/Photos; echo \"list=$?\"\n"
                         "gio copy '" +
                         uri + "/Photos/Beach Day.txt' " + c +
                         "/fetched.txt; echo \"copy=$?\"\n"
                         "echo 1 | gio mount " +
                         uri +
                         "/Drop >/dev/null 2>&1\n"
                         "printf 'from files\\n' > " +
                         c +
                         "/up.txt\n"
                         "gio copy " +
                         c + "/up.txt " + uri +
                         "/Drop/up.txt; echo \"upload=$?\"\n"
                         "gio copy " +
                         c + "/up.txt " + uri +
                         "/Photos/no.txt; echo \"refused=$?\"\n"
                         "gio mount -u " +
                         uri + "/Photos; kill $gvfsd\n";
    ASSERT_TRUE(g_file_set_contents((c + "/files.sh").c_str(), script.c_str(), -1, nullptr));
    // ssh, which gvfs runs, keeps known hosts in the home of the passwd entry: a tmpfs over it
    // in a mount namespace of this run's own keeps the machine's home untouched.
    auto r = lan->run(2,
                      {"unshare", "-m", "--propagation", "private", "sh", "-c",
                       "home=$(getent passwd $(id -u) | cut -d: -f6) && "
                       "mount -t tmpfs -o mode=0700 tmpfs \"$home\" && "
                       "exec dbus-run-session -- bash " +
                               c + "/files.sh"},
                      60);
    EXPECT_NE(r.out.find("mount=0"), std::string::npos)
            << r.out << r.err << "\ngvfsd:\n"
            << ReadFile(c + "/gvfsd.log") << "\nporchd:\n"
            << ReadFile(log);
    EXPECT_NE(r.out.find("Beach Day.txt\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("list=0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("copy=0"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(ReadFile(c + "/fetched.txt"), "sand and sea\n");
    EXPECT_NE(r.out.find("upload=0"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(ReadFile(d + "/drop/up.txt"), "from files\n");
    // Guests may not write into Photos: Files reports a failure and nothing is written.
    EXPECT_EQ(r.out.find("refused=0"), std::string::npos) << r.out;
    EXPECT_FALSE(g_file_test((d + "/photos/no.txt").c_str(), G_FILE_TEST_EXISTS));
    EXPECT_NE(ReadFile(log).find("refused open /Photos/no.txt"), std::string::npos)
            << ReadFile(log);
}

} // namespace
