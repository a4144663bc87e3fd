// test-conf-edit.cc — porch.conf edited as an admin edits it (shared/porch-conf-edit.h): every
// byte an edit does not change stays, each edit does what it says and loads, and the file is
// replaced atomically with its mode and owner.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "porch-conf-edit.h"
#include "porch-config.h"
#include "test-util.h"

namespace
{

using porch::test::Exists;
using porch::test::ReadFile;
using porch::test::ShareOwner;
using porch::test::WriteFile;

std::string
Text(const PorchConfEdit *edit)
{
    gsize len = 0;
    g_autofree char *s = porch_conf_edit_to_text(edit, &len);
    return std::string(s, len);
}

class ConfEditTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("conf-edit-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
        share_ = dir_ + "/Photos";
        ASSERT_EQ(g_mkdir(share_.c_str(), 0755), 0);
    }
    void TearDown() override
    {
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }
    // A file with what hand-written files have: a header comment, comments above and inside
    // sections, odd spacing around '=', blank lines, keys in no particular order.
    std::string Commented() const
    {
        return "# porch.conf of the house\n"
               "#   (see porch.conf(5))\n"
               "\n"
               "[porch]\n"
               "name=Den\n"
               "\n"
               "# the family\n"
               "[group family]\n"
               "members =   \n"
               "\n"
               "# Holiday pictures\n"
               "[share  Photos]\n"
               "   # who may look\n"
               "read   =\tguest\n"
               "path = " +
               share_ +
               "\n"
               "comment = Our holidays\n"
               "# write = nobody yet\n"
               "\n"
               "# the end\n";
    }
    // Whether text loads as porch.conf; the error otherwise.
    static ::testing::AssertionResult Loads(const std::string &text)
    {
        g_autoptr(GError) error = nullptr;
        g_autoptr(PorchConfig) c =
                porch_config_load_data(text.data(), (gssize)text.size(), "test.conf", &error);
        if (c == nullptr)
            return ::testing::AssertionFailure() << error->message << "\n" << text;
        return ::testing::AssertionSuccess();
    }
    std::string dir_, share_;
};

// ---- the text as it was ---------------------------------------------------------------------

TEST_F(ConfEditTest, WithoutAnEditEveryByteStays)
{
    std::string commented = Commented();
    std::string crlf;
    for (char c : commented)
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    const std::vector<std::string> texts = {
            "",
            "\n",
            commented,
            crlf,
            "\xEF\xBB\xBF" + commented,
            "[porch]\nname = x", // no line end at the end
            "[porch]\r\nname = x\n\n\n\t\n# mixed ends\r\n",
            "  [porch]  \n  name  =  x  \n",
    };
    for (const std::string &t : texts) {
        g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(t.c_str());
        EXPECT_EQ(Text(edit), t);
    }
    EXPECT_TRUE(Loads(commented));
    EXPECT_TRUE(Loads(crlf));
    EXPECT_TRUE(Loads("\xEF\xBB\xBF" + commented));
}

// ---- keys -----------------------------------------------------------------------------------

TEST_F(ConfEditTest, SetReplacesTheValueOnItsLineAndNothingElse)
{
    std::string before = Commented();
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(before.c_str());
    g_autoptr(GError) error = nullptr;

    // "share Photos" names [share  Photos], as porch.conf reads it
    ASSERT_TRUE(porch_conf_edit_set(edit, "share Photos", "comment", "Summer 2026", &error))
            << error->message;
    ASSERT_TRUE(porch_conf_edit_set(edit, "porch", "name", "Living room", &error))
            << error->message;
    ASSERT_TRUE(porch_conf_edit_set(edit, "share Photos", "read", "@family", &error))
            << error->message;
    std::string expected = before;
    expected.replace(expected.find("comment = Our holidays"), 22, "comment = Summer 2026");
    // no space after '=' was there: none is added; the text before '=' stays
    expected.replace(expected.find("name=Den"), 8, "name=Living room");
    expected.replace(expected.find("read   =\tguest"), 14, "read   = @family");
    EXPECT_EQ(Text(edit), expected);
    EXPECT_TRUE(Loads(Text(edit)));
}

TEST_F(ConfEditTest, SetAddsANewKeyAfterTheSectionsLastKey)
{
    std::string before = Commented();
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(before.c_str());
    g_autoptr(GError) error = nullptr;

    ASSERT_TRUE(porch_conf_edit_set(edit, "share Photos", "hidden", "yes", &error));
    ASSERT_TRUE(porch_conf_edit_set(edit, "porch", "port", "4423", &error));
    std::string expected = before;
    // before the comment lines that follow the last key: they may be the next section's
    expected.insert(expected.find("# write = nobody yet"), "hidden = yes\n");
    expected.insert(expected.find("name=Den\n") + 9, "port = 4423\n");
    EXPECT_EQ(Text(edit), expected);
    EXPECT_TRUE(Loads(Text(edit)));

    // a section without keys: right after its header
    g_autoptr(PorchConfEdit) bare = porch_conf_edit_new("[porch]\n\n# shares\n");
    ASSERT_TRUE(porch_conf_edit_set(bare, "porch", "name", "Den", &error));
    EXPECT_EQ(Text(bare), "[porch]\nname = Den\n\n# shares\n");
}

TEST_F(ConfEditTest, SetEscapesTheValueAsTheLoaderReadsIt)
{
    g_autoptr(PorchConfEdit) edit =
            porch_conf_edit_new(("[share Photos]\npath = " + share_ + "\n").c_str());
    g_autoptr(GError) error = nullptr;
    const char *comment = " two\\three\nfour";

    ASSERT_TRUE(porch_conf_edit_set(edit, "share Photos", "comment", comment, &error));
    std::string text = Text(edit);
    EXPECT_EQ(text, "[share Photos]\npath = " + share_ + "\ncomment = \\stwo\\\\three\\nfour\n");
    g_autoptr(PorchConfig) c = porch_config_load_data(text.c_str(), -1, "t", &error);
    ASSERT_NE(c, nullptr) << error->message;
    // (the loader strips the value: the leading space escaped as \s is the one it keeps out)
    EXPECT_STREQ(porch_config_lookup_share(c, "Photos")->comment, "two\\three\nfour");
}

TEST_F(ConfEditTest, SetRefusesWhatTheFileCannotHoldAndChangesNothing)
{
    std::string before = Commented();
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(before.c_str());
    struct {
        const char *section, *key, *value;
        int code;
    } cases[] = {
            {"share Nope", "read", "bob", PORCH_CONF_EDIT_ERROR_NO_SECTION},
            {"share Photos", "re ad", "bob", PORCH_CONF_EDIT_ERROR_INVALID},
            {"share Photos", "read=", "bob", PORCH_CONF_EDIT_ERROR_INVALID},
            {"share Photos", "", "bob", PORCH_CONF_EDIT_ERROR_INVALID},
            {"share Photos", "#read", "bob", PORCH_CONF_EDIT_ERROR_INVALID},
            {"share [x]", "read", "bob", PORCH_CONF_EDIT_ERROR_INVALID},
            {"share x\n[porch", "read", "bob", PORCH_CONF_EDIT_ERROR_INVALID},
            {"share Photos", "comment", "\xff", PORCH_CONF_EDIT_ERROR_INVALID},
    };
    for (const auto &c : cases) {
        g_autoptr(GError) error = nullptr;
        EXPECT_FALSE(porch_conf_edit_set(edit, c.section, c.key, c.value, &error)) << c.key;
        EXPECT_TRUE(g_error_matches(error, PORCH_CONF_EDIT_ERROR, c.code))
                << c.section << " " << c.key << ": " << (error ? error->message : "");
    }
    EXPECT_EQ(Text(edit), before);
}

TEST_F(ConfEditTest, RemoveKeyTakesItsLineOnly)
{
    std::string before = Commented();
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(before.c_str());

    EXPECT_TRUE(porch_conf_edit_remove_key(edit, "share Photos", "comment"));
    EXPECT_FALSE(porch_conf_edit_remove_key(edit, "share Photos", "comment"));
    EXPECT_FALSE(porch_conf_edit_remove_key(edit, "share Photos", "write")); // only a comment
    EXPECT_FALSE(porch_conf_edit_remove_key(edit, "share Nope", "path"));
    std::string expected = before;
    expected.erase(expected.find("comment = Our holidays\n"), 23);
    EXPECT_EQ(Text(edit), expected);
    EXPECT_TRUE(Loads(Text(edit)));
}

// ---- lists ----------------------------------------------------------------------------------

TEST_F(ConfEditTest, ListAddKeepsTheListsOwnSeparatorAndNoDuplicate)
{
    g_autoptr(PorchConfEdit) edit =
            porch_conf_edit_new("[share A]\nread = bob\nwrite=bob;carol\nprint = x; y;\n");
    g_autoptr(GError) error = nullptr;

    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share A", "read", "@family", &error));
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share A", "write", "dave", &error));
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share A", "print", "z", &error));
    std::string once = Text(edit);
    EXPECT_EQ(once, "[share A]\nread = bob; @family\nwrite=bob;carol;dave\nprint = x; y; z;\n");
    // there already: nothing changes
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share A", "read", "bob", &error));
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share A", "write", "carol", &error));
    EXPECT_EQ(Text(edit), once);
    // a list that is not there
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share A", "members", "bob", &error));
    EXPECT_EQ(Text(edit), once + "members = bob\n");

    for (const char *bad : {"", " bob", "bob ", "a;b", "a\\b", "a\nb"}) {
        g_autoptr(GError) e = nullptr;
        EXPECT_FALSE(porch_conf_edit_list_add(edit, "share A", "read", bad, &e)) << bad;
        EXPECT_TRUE(g_error_matches(e, PORCH_CONF_EDIT_ERROR, PORCH_CONF_EDIT_ERROR_INVALID));
    }
    g_autoptr(GError) e = nullptr;
    EXPECT_FALSE(porch_conf_edit_list_add(edit, "share B", "read", "bob", &e));
    EXPECT_TRUE(g_error_matches(e, PORCH_CONF_EDIT_ERROR, PORCH_CONF_EDIT_ERROR_NO_SECTION));
    EXPECT_EQ(Text(edit), once + "members = bob\n");
}

TEST_F(ConfEditTest, ListRemoveTakesTheItemAndTheKeyWithTheLastOne)
{
    g_autoptr(PorchConfEdit) edit =
            porch_conf_edit_new("[share A]\nread = bob; @family; carol\nwrite = bob\n# end\n");

    EXPECT_TRUE(porch_conf_edit_list_remove(edit, "share A", "read", "@family"));
    EXPECT_EQ(Text(edit), "[share A]\nread = bob; carol\nwrite = bob\n# end\n");
    EXPECT_FALSE(porch_conf_edit_list_remove(edit, "share A", "read", "dave"));
    EXPECT_FALSE(porch_conf_edit_list_remove(edit, "share A", "print", "bob"));
    EXPECT_FALSE(porch_conf_edit_list_remove(edit, "share B", "read", "bob"));
    EXPECT_TRUE(porch_conf_edit_list_remove(edit, "share A", "write", "bob"));
    EXPECT_EQ(Text(edit), "[share A]\nread = bob; carol\n# end\n");
}

TEST_F(ConfEditTest, GrantAndRevokeOnARealFileLoadEachTime)
{
    std::string before = Commented() +
                         "\n[peer bob]\nkey = " + porch::test::MakeKey(dir_ + "/bob", "bob") + "\n";
    ASSERT_TRUE(Loads(before));
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(before.c_str());
    g_autoptr(GError) error = nullptr;

    ASSERT_TRUE(porch_conf_edit_list_add(edit, "group family", "members", "bob", &error));
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share Photos", "write", "@family", &error));
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share Photos", "read", "bob", &error));
    std::string text = Text(edit);
    ASSERT_TRUE(Loads(text));
    g_autoptr(PorchConfig) c = porch_config_load_data(text.c_str(), -1, "t", &error);
    const PorchShare *s = porch_config_lookup_share(c, "Photos");
    EXPECT_TRUE(g_hash_table_contains(s->write.peers, "bob"));
    EXPECT_TRUE(s->read.guest);

    EXPECT_TRUE(porch_conf_edit_list_remove(edit, "share Photos", "write", "@family"));
    EXPECT_TRUE(porch_conf_edit_list_remove(edit, "share Photos", "read", "bob"));
    EXPECT_TRUE(porch_conf_edit_list_remove(edit, "group family", "members", "bob"));
    // back to what it was, but for the group's key line, which held no one, and the space
    // after read's '=' (one space, where a tab was)
    std::string expected = before;
    expected.erase(expected.find("members =   \n"), 13);
    expected.replace(expected.find("read   =\tguest"), 14, "read   = guest");
    EXPECT_EQ(Text(edit), expected);
    EXPECT_TRUE(Loads(Text(edit)));
}

// ---- sections -------------------------------------------------------------------------------

TEST_F(ConfEditTest, AddSectionAppendsAfterOneBlankLine)
{
    std::string before = Commented();
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(before.c_str());
    g_autoptr(GError) error = nullptr;

    ASSERT_TRUE(porch_conf_edit_add_section(edit, "share Music", "Added by a test.\n\nTwo lines.",
                                            &error))
            << error->message;
    ASSERT_TRUE(porch_conf_edit_set(edit, "share Music", "path", share_.c_str(), &error));
    ASSERT_TRUE(porch_conf_edit_set(edit, "share Music", "read", "guest", &error));
    EXPECT_EQ(Text(edit), before + "\n# Added by a test.\n#\n# Two lines.\n[share Music]\npath = " +
                                  share_ + "\nread = guest\n");
    EXPECT_TRUE(Loads(Text(edit)));

    // there already, whatever the spaces
    g_autoptr(GError) e = nullptr;
    EXPECT_FALSE(porch_conf_edit_add_section(edit, "share Photos", nullptr, &e));
    EXPECT_TRUE(g_error_matches(e, PORCH_CONF_EDIT_ERROR, PORCH_CONF_EDIT_ERROR_EXISTS));
    EXPECT_TRUE(porch_conf_edit_has_section(edit, "share   Photos"));
    EXPECT_FALSE(porch_conf_edit_has_section(edit, "share Photo"));
}

TEST_F(ConfEditTest, AddSectionToFilesThatEndOddly)
{
    struct {
        std::string before, after;
    } cases[] = {
            {"", "[porch]\nname = x\n"},
            {"[share A]\npath = /a\n\n", "[share A]\npath = /a\n\n[porch]\nname = x\n"},
            // the last line gets its line end: a line follows it now
            {"[share A]\npath = /a", "[share A]\npath = /a\n\n[porch]\nname = x\n"},
            // a file of CRLF lines gets CRLF lines
            {"[share A]\r\npath = /a\r\n", "[share A]\r\npath = /a\r\n\r\n[porch]\r\nname = x\r\n"},
            {"\xEF\xBB\xBF[share A]\npath = /a\n",
             "\xEF\xBB\xBF[share A]\npath = /a\n\n[porch]\nname = x\n"},
    };
    for (const auto &c : cases) {
        g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(c.before.c_str());
        g_autoptr(GError) error = nullptr;
        ASSERT_TRUE(porch_conf_edit_add_section(edit, "porch", nullptr, &error));
        ASSERT_TRUE(porch_conf_edit_set(edit, "porch", "name", "x", &error));
        EXPECT_EQ(Text(edit), c.after);
    }
}

TEST_F(ConfEditTest, EditsKeepCrlfAndTheByteOrderMark)
{
    std::string lf =
            "\xEF\xBB\xBF# from Notepad\n[porch]\nname = Den\n\n[share Photos]\npath = " + share_ +
            "\n";
    std::string crlf;
    for (char c : lf)
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(crlf.c_str());
    g_autoptr(GError) error = nullptr;

    ASSERT_TRUE(porch_conf_edit_set(edit, "porch", "name", "Office", &error));
    ASSERT_TRUE(porch_conf_edit_list_add(edit, "share Photos", "read", "guest", &error));
    std::string expected = crlf;
    expected.replace(expected.find("name = Den"), 10, "name = Office");
    expected += "read = guest\r\n";
    EXPECT_EQ(Text(edit), expected);
    EXPECT_TRUE(Loads(Text(edit)));
}

TEST_F(ConfEditTest, RemoveSectionTakesItsOwnCommentsAndLeavesTheOthers)
{
    std::string before = Commented() + "\n# Music\n[share Music]\npath = " + share_ + "\n";
    g_autoptr(PorchConfEdit) edit = porch_conf_edit_new(before.c_str());

    // in the middle: its comment (a blank line above it) goes; the comment after its last
    // key, and the lines of the next section, stay
    ASSERT_TRUE(porch_conf_edit_remove_section(edit, "share Photos"));
    std::string expected = "# porch.conf of the house\n"
                           "#   (see porch.conf(5))\n"
                           "\n"
                           "[porch]\n"
                           "name=Den\n"
                           "\n"
                           "# the family\n"
                           "[group family]\n"
                           "members =   \n"
                           "\n"
                           "# write = nobody yet\n"
                           "\n"
                           "# the end\n"
                           "\n"
                           "# Music\n"
                           "[share Music]\n"
                           "path = " +
                           share_ + "\n";
    EXPECT_EQ(Text(edit), expected);
    EXPECT_TRUE(Loads(Text(edit)));
    EXPECT_FALSE(porch_conf_edit_remove_section(edit, "share Photos"));

    // at the end: no blank line is left behind
    ASSERT_TRUE(porch_conf_edit_remove_section(edit, "share Music"));
    expected.erase(expected.find("\n# Music\n"));
    EXPECT_EQ(Text(edit), expected);

    // the first section: the file's own comment at the top is no section's
    ASSERT_TRUE(porch_conf_edit_remove_section(edit, "porch"));
    EXPECT_EQ(Text(edit).rfind("# porch.conf of the house\n#   (see porch.conf(5))\n\n# the "
                               "family\n[group family]\n",
                               0),
              0u)
            << Text(edit);
}

TEST_F(ConfEditTest, RemoveSectionLeavesACommentThatTouchesTheSectionAbove)
{
    g_autoptr(PorchConfEdit) edit =
            porch_conf_edit_new("[porch]\nname = x\n# about B, or about porch?\n[share B]\npath "
                                "= /b\n\n[share C]\npath = /c\n");

    ASSERT_TRUE(porch_conf_edit_remove_section(edit, "share B"));
    EXPECT_EQ(Text(edit),
              "[porch]\nname = x\n# about B, or about porch?\n\n[share C]\npath = /c\n");
}

// ---- writing --------------------------------------------------------------------------------

TEST_F(ConfEditTest, WriteAtomicReplacesTheFileWithItsMode)
{
    std::string file = dir_ + "/porch.conf";
    ASSERT_TRUE(WriteFile(file, "old\n", 0640));
    g_autoptr(GError) error = nullptr;

    ASSERT_TRUE(porch_conf_write_atomic(file.c_str(), "new\n", -1, &error)) << error->message;
    EXPECT_EQ(ReadFile(file), "new\n");
    struct stat st;
    ASSERT_EQ(stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    // no temporary file is left beside it
    g_autoptr(GDir) d = g_dir_open(dir_.c_str(), 0, nullptr);
    std::vector<std::string> names;
    for (const char *n; (n = g_dir_read_name(d)) != nullptr;)
        names.push_back(n);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"Photos", "porch.conf"}));

    // a new file
    std::string fresh = dir_ + "/fresh.conf";
    ASSERT_TRUE(porch_conf_write_atomic(fresh.c_str(), "[porch]\n", -1, &error));
    ASSERT_EQ(stat(fresh.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(ReadFile(fresh), "[porch]\n");
}

TEST_F(ConfEditTest, WriteAtomicAsRootKeepsTheOwner)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root: only root may give a file to another user";
    std::string file = dir_ + "/porch.conf";
    ASSERT_TRUE(WriteFile(file, "old\n", 0600));
    ASSERT_EQ(chown(file.c_str(), ShareOwner().uid, ShareOwner().gid), 0);
    g_autoptr(GError) error = nullptr;

    ASSERT_TRUE(porch_conf_write_atomic(file.c_str(), "new\n", -1, &error)) << error->message;
    struct stat st;
    ASSERT_EQ(stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ShareOwner().uid);
    EXPECT_EQ(st.st_gid, ShareOwner().gid);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(ReadFile(file), "new\n");
}

// A write that fails half-way (here: the file size limit, which binds root too) leaves the
// old file as it was, and nothing beside it.
TEST_F(ConfEditTest, AFailedWriteLeavesTheOriginal)
{
    std::string file = dir_ + "/porch.conf";
    ASSERT_TRUE(WriteFile(file, "old\n", 0644));
    std::string big(64 * 1024, 'x');
    struct rlimit saved;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit small = {4096, saved.rlim_max};
    auto old_handler = signal(SIGXFSZ, SIG_IGN);
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    g_autoptr(GError) error = nullptr;
    gboolean ok = porch_conf_write_atomic(file.c_str(), big.c_str(), -1, &error);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);

    EXPECT_FALSE(ok);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(std::string(error->message).find("cannot write " + file), std::string::npos)
            << error->message;
    EXPECT_EQ(ReadFile(file), "old\n");
    g_autoptr(GDir) d = g_dir_open(dir_.c_str(), 0, nullptr);
    for (const char *n; (n = g_dir_read_name(d)) != nullptr;)
        EXPECT_TRUE(std::string(n) == "Photos" || std::string(n) == "porch.conf") << n;

    // and into a folder that is not there: nothing is created
    g_autoptr(GError) e = nullptr;
    EXPECT_FALSE(porch_conf_write_atomic((dir_ + "/no/porch.conf").c_str(), "x", -1, &e));
    EXPECT_TRUE(g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) << e->message;
    EXPECT_FALSE(Exists(dir_ + "/no"));
}

TEST_F(ConfEditTest, WriteAtomicRefusesASymbolicLink)
{
    std::string real = dir_ + "/real.conf";
    std::string link = dir_ + "/porch.conf";
    ASSERT_TRUE(WriteFile(real, "old\n"));
    ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
    g_autoptr(GError) error = nullptr;

    EXPECT_FALSE(porch_conf_write_atomic(link.c_str(), "new\n", -1, &error));
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE));
    EXPECT_NE(std::string(error->message).find("symbolic link"), std::string::npos);
    EXPECT_EQ(ReadFile(real), "old\n");
    struct stat st;
    ASSERT_EQ(lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
}

} // namespace
