// test-config-risks.cc — the rules porch.conf allows but that share more than meant
// (shared/porch-risk.h), and porchd --check-config saying so while the file stays valid.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "porch-config.h"
#include "porch-risk.h"
#include "test-util.h"

namespace
{

using porch::test::Contains;
using porch::test::GiveToShareOwner;
using porch::test::MakeDirs;

// One risk as "[share NAME] KEY", to compare lists.
std::vector<std::string>
Risks(const std::string &text)
{
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchConfig) c = porch_config_load_data(text.c_str(), -1, "test.conf", &error);
    EXPECT_NE(c, nullptr) << (error ? error->message : "") << "\n" << text;
    std::vector<std::string> out;
    if (c == nullptr)
        return out;
    g_autoptr(GPtrArray) risks = porch_config_risks(c);
    for (guint i = 0; i < risks->len; i++) {
        const PorchRisk *r = (const PorchRisk *)risks->pdata[i];
        EXPECT_NE(r->text[0], '\0');
        EXPECT_NE(r->fix[0], '\0');
        out.push_back(std::string("[share ") + r->share + "] " + r->key);
    }
    return out;
}

// The first risk's text and fix, formatted.
std::string
FirstRisk(const std::string &text)
{
    g_autoptr(PorchConfig) c = porch_config_load_data(text.c_str(), -1, "test.conf", nullptr);
    if (c == nullptr)
        return "(does not load)";
    g_autoptr(GPtrArray) risks = porch_config_risks(c);
    if (risks->len == 0)
        return "(none)";
    g_autofree char *s = porch_risk_format((const PorchRisk *)risks->pdata[0]);
    return s;
}

using List = std::vector<std::string>;

class RisksTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("risks-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
        ASSERT_EQ(g_chmod(dir_.c_str(), 0755), 0);
        ASSERT_TRUE(MakeDirs(dir_ + "/Photos/2026"));
        ASSERT_TRUE(MakeDirs(dir_ + "/Photos2"));
        ASSERT_EQ(symlink((dir_ + "/Photos/2026").c_str(), (dir_ + "/link").c_str()), 0);
    }
    void TearDown() override
    {
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }
    std::string Share(const std::string &name, const std::string &path,
                      const std::string &rules = "read = guest\n") const
    {
        return "[share " + name + "]\npath = " + path + "\n" + rules + "\n";
    }
    std::string dir_;
};

TEST_F(RisksTest, AnOrdinaryFileHasNone)
{
    EXPECT_EQ(Risks(Share("Photos", dir_ + "/Photos") + Share("Other", dir_ + "/Photos2")), List{});
    // a folder inside a home folder is what sharing is for
    EXPECT_EQ(Risks(Share("Pictures", "/home/alice/Pictures")), List{});
    EXPECT_EQ(Risks(Share("Web", "/var/www")), List{});
}

TEST_F(RisksTest, WriteByGuest)
{
    EXPECT_EQ(Risks(Share("Drop", dir_ + "/Photos", "write = guest\n")),
              List{"[share Drop] write"});
    EXPECT_EQ(FirstRisk(Share("Drop", dir_ + "/Photos", "write = guest\n")),
              "[share Drop] write: guest may write: anyone on the network, with no key, can "
              "change or delete the files in " +
                      dir_ +
                      "/Photos; name peers or @groups instead of guest (write = bob; @family), "
                      "or leave write out");
}

TEST_F(RisksTest, WholeHomeFolder)
{
    // /home/NAME (a missing folder is an offline share: the file is valid)
    EXPECT_EQ(Risks(Share("Alice", "/home/alice", "")), List{"[share Alice] path"});
    EXPECT_TRUE(Contains(FirstRisk(Share("Alice", "/home/alice", "")),
                         "shares the whole home folder of alice"));
    // read by guest as well: a second warning, about read
    EXPECT_EQ(Risks(Share("Alice", "/home/alice/", "read = guest\n")),
              (List{"[share Alice] read", "[share Alice] path"}));
    // everyone's
    EXPECT_EQ(Risks(Share("Homes", "/home", "")), List{"[share Homes] path"});
}

// A person's home as passwd has it, wherever it is.
TEST_F(RisksTest, WholeHomeFolderOfAPasswdEntry)
{
    std::string home, user;
    setpwent();
    for (struct passwd *pw; (pw = getpwent()) != nullptr;) {
        if (pw->pw_uid >= 1000 && pw->pw_uid != 65534 && pw->pw_dir[0] == '/' &&
            strcmp(pw->pw_dir, "/") != 0) {
            home = pw->pw_dir;
            user = pw->pw_name;
            break;
        }
    }
    endpwent();
    if (home.empty())
        GTEST_SKIP() << "this system has no person's account (uid 1000 or more) in passwd";
    EXPECT_EQ(Risks(Share("Home", home, "")), List{"[share Home] path"});
    EXPECT_TRUE(Contains(FirstRisk(Share("Home", home, "")), "whole home folder of " + user))
            << FirstRisk(Share("Home", home, ""));
}

TEST_F(RisksTest, RootAndSystemFolders)
{
    EXPECT_EQ(Risks(Share("All", "/", "")), List{"[share All] path"});
    EXPECT_TRUE(Contains(FirstRisk(Share("All", "/", "")), "shares the whole file system"));
    for (const char *p : {"/etc", "/usr", "/var", "/boot", "/proc", "/sys", "/dev", "/etc/ssh"}) {
        EXPECT_EQ(Risks(Share("Sys", p, "")), List{"[share Sys] path"}) << p;
        EXPECT_TRUE(Contains(FirstRisk(Share("Sys", p, "")), "inside the system folder")) << p;
    }
    // root's home is a system folder; read by guest is said too
    EXPECT_EQ(Risks(Share("Root", "/root", "read = guest\n")),
              (List{"[share Root] read", "[share Root] path"}));
}

TEST_F(RisksTest, AShareInsideAnother)
{
    std::string outer = Share("Photos", dir_ + "/Photos");
    EXPECT_EQ(Risks(outer + Share("Year", dir_ + "/Photos/2026")), List{"[share Year] path"});
    EXPECT_TRUE(Contains(FirstRisk(outer + Share("Year", dir_ + "/Photos/2026")),
                         "[share Year] path: " + dir_ + "/Photos/2026 is inside [share Photos]"));
    // in either order
    EXPECT_EQ(Risks(Share("Year", dir_ + "/Photos/2026") + outer), List{"[share Photos] path"});
    EXPECT_TRUE(Contains(FirstRisk(Share("Year", dir_ + "/Photos/2026") + outer),
                         "holds [share Year]"));
    // through a symbolic link, and the same folder twice
    EXPECT_EQ(Risks(outer + Share("Link", dir_ + "/link")), List{"[share Link] path"});
    EXPECT_EQ(Risks(Share("A", dir_ + "/Photos") + Share("B", dir_ + "/Photos/")),
              List{"[share B] path"});
    EXPECT_TRUE(Contains(FirstRisk(Share("A", dir_ + "/Photos") + Share("B", dir_ + "/Photos/")),
                         "the same folder as [share A]"));
    // a share of / is said once, not once more for each share it holds
    EXPECT_EQ(Risks(Share("All", "/", "") + outer), List{"[share All] path"});
    // a name that starts the same is not inside
    EXPECT_EQ(Risks(outer + Share("Other", dir_ + "/Photos2")), List{});
}

// porchd --check-config prints each risk as a warning, and the file is still OK.
TEST_F(RisksTest, CheckConfigWarnsAndSaysOk)
{
    std::string drop = dir_ + "/Photos2";
    // root's porchd serves a root-owned folder as 'porch', who may not write in it
    if (geteuid() == 0) {
        ASSERT_TRUE(GiveToShareOwner(drop));
    }
    std::string conf = dir_ + "/porch.conf";
    std::string text = "[porch]\n\n" + Share("Photos", dir_ + "/Photos") +
                       Share("Year", dir_ + "/Photos/2026") +
                       Share("Drop", drop, "read = guest\nwrite = guest\n");
    ASSERT_TRUE(g_file_set_contents(conf.c_str(), text.c_str(), -1, nullptr));
    const char *argv[] = {PORCH_PROGRAM_PORCHD, "--check-config", "--config", conf.c_str(),
                          nullptr};
    g_autofree char *out = nullptr;
    g_autofree char *err = nullptr;
    int status = -1;
    ASSERT_TRUE(g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_DEFAULT, nullptr, nullptr,
                             &out, &err, &status, nullptr));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
    EXPECT_STREQ(out, "OK\n");
    EXPECT_TRUE(Contains(err, "porchd: warning: [share Year] path: " + dir_ +
                                      "/Photos/2026 is inside [share Photos] (" + dir_ +
                                      "/Photos): "))
            << err;
    EXPECT_TRUE(Contains(err, "porchd: warning: [share Drop] write: guest may write: anyone on "
                              "the network"))
            << err;
}

} // namespace
