// test-sftp-status.cc — the status codes of SFTP failures, on both sides of the wire:
//
//   porchd's one errno -> status function (porch_sftp_status_of_errno()), for a stock SFTP v3
//   client and for one that announced the extended codes (PORCH_WIRE_EXT_STATUS_CODES);
//   porchd's SFTP server in this process, told or not told by the INIT, answering an exclusive
//   create and a RENAME onto a name that exists;
//   the INIT Porch's client sends, and porchd's reading of any INIT;
//   the client's one status -> GError function (porch_status_error()), which goes by the code
//   alone, never by the words of the message.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include <gio/gio.h>
#include <glib.h>

#include "porch-config.h"
#include "porch-sftp-client-private.h"
#include "porch-wire.h"
#include "sftp-server.h"
#include "test-util.h"

namespace
{

TEST(SftpStatus, ErrnoForAStockClientIsSftpV3)
{
    EXPECT_EQ(porch_sftp_status_of_errno(0, FALSE), (guint32)SSH_FX_OK);
    EXPECT_EQ(porch_sftp_status_of_errno(ENOENT, FALSE), (guint32)SSH_FX_NO_SUCH_FILE);
    EXPECT_EQ(porch_sftp_status_of_errno(ENOTDIR, FALSE), (guint32)SSH_FX_NO_SUCH_FILE);
    for (int e : {EACCES, EPERM, EXDEV, ELOOP, EROFS})
        EXPECT_EQ(porch_sftp_status_of_errno(e, FALSE), (guint32)SSH_FX_PERMISSION_DENIED) << e;
    EXPECT_EQ(porch_sftp_status_of_errno(EBADF, FALSE), (guint32)SSH_FX_INVALID_HANDLE);
    // what v3 has no code for is FAILURE, its message saying what
    for (int e : {EEXIST, ENOSPC, EDQUOT, EFBIG, EIO, ENOTEMPTY, EISDIR})
        EXPECT_EQ(porch_sftp_status_of_errno(e, FALSE), (guint32)SSH_FX_FAILURE) << e;
}

TEST(SftpStatus, ErrnoForAClientThatKnowsTheExtendedCodes)
{
    EXPECT_EQ(porch_sftp_status_of_errno(EEXIST, TRUE), (guint32)SSH_FX_FILE_ALREADY_EXISTS);
    EXPECT_EQ(porch_sftp_status_of_errno(EEXIST, TRUE), 11u);
    EXPECT_EQ(porch_sftp_status_of_errno(ENOSPC, TRUE),
              (guint32)PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM);
    EXPECT_EQ(porch_sftp_status_of_errno(ENOSPC, TRUE), 14u);
    // the rest as for any client
    for (int e : {0, ENOENT, ENOTDIR, EACCES, EPERM, EXDEV, ELOOP, EROFS, EBADF, EDQUOT, EFBIG, EIO,
                  ENOTEMPTY, EISDIR})
        EXPECT_EQ(porch_sftp_status_of_errno(e, TRUE), porch_sftp_status_of_errno(e, FALSE)) << e;
}

// ---- INIT --------------------------------------------------------------------------------------

std::vector<guint8>
Init(const std::vector<std::pair<std::string, std::string>> &extensions)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    porch_wire_begin_packet(b, SSH_FXP_INIT);
    porch_wire_put_u32(b, 3);
    for (const auto &[name, data] : extensions) {
        porch_wire_put_cstring(b, name.c_str());
        porch_wire_put_cstring(b, data.c_str());
    }
    porch_wire_end_packet(b);
    return std::vector<guint8>(b->data, b->data + b->len);
}

TEST(SftpStatus, PorchsClientAnnouncesTheExtendedCodes)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    porch_wire_put_init(b);
    std::vector<guint8> want = Init({{"status-codes@porch", "1"}});
    EXPECT_EQ(std::vector<guint8>(b->data, b->data + b->len), want);

    guint32 version = 0;
    gboolean codes = FALSE;
    ASSERT_TRUE(porch_wire_parse_init(b->data + 4, b->len - 4, &version, &codes));
    EXPECT_EQ(version, 3u);
    EXPECT_TRUE(codes);
}

TEST(SftpStatus, AnInitWithoutTheExtensionIsAStockClient)
{
    struct {
        const char *what;
        std::vector<guint8> init;
        bool codes;
    } cases[] = {
            {"no extension (OpenSSH's sftp)", Init({}), false},
            {"others only", Init({{"a@example.com", "1"}, {"b@example.com", ""}}), false},
            {"among others", Init({{"a@example.com", "1"}, {"status-codes@porch", "1"}}), true},
            {"a name that only starts the same", Init({{"status-codes@porch.x", "1"}}), false},
    };
    for (const auto &c : cases) {
        guint32 version = 0;
        gboolean codes = !c.codes;
        ASSERT_TRUE(porch_wire_parse_init(c.init.data() + 4, c.init.size() - 4, &version, &codes))
                << c.what;
        EXPECT_EQ(version, 3u) << c.what;
        EXPECT_EQ(bool(codes), c.codes) << c.what;
    }
    // a tail that does not parse is ignored, a pair before it counts
    std::vector<guint8> cut = Init({{"status-codes@porch", "1"}, {"next", "x"}});
    cut.resize(cut.size() - 3);
    guint32 version = 0;
    gboolean codes = FALSE;
    ASSERT_TRUE(porch_wire_parse_init(cut.data() + 4, cut.size() - 4, &version, &codes));
    EXPECT_TRUE(codes);
    // no INIT at all
    const guint8 open[] = {SSH_FXP_OPEN, 0, 0, 0, 3};
    EXPECT_FALSE(porch_wire_parse_init(open, sizeof open, &version, &codes));
    EXPECT_FALSE(porch_wire_parse_init(open, 0, &version, &codes));
}

// ---- porchd's server, in this process -----------------------------------------------------

class ServerTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("porch-sftp-status-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
        ASSERT_EQ(g_mkdir_with_parents((dir_ + "/drop").c_str(), 0755), 0);
        ASSERT_EQ(g_mkdir_with_parents((dir_ + "/state").c_str(), 0700), 0);
        ASSERT_TRUE(porch::test::WriteFile(dir_ + "/drop/a.txt", "a\n"));
        ASSERT_TRUE(porch::test::WriteFile(dir_ + "/drop/b.txt", "b\n"));
        std::string conf = "[share Drop]\npath = " + dir_ + "/drop\nwrite = guest\n";
        g_autoptr(GError) error = nullptr;
        config_ = porch_config_load_data(conf.c_str(), -1, "test.conf", &error);
        ASSERT_NE(config_, nullptr) << error->message;
        state_ = dir_ + "/state";
        ctx_ = PorchSftpContext{};
        ctx_.current_config = [](void *data) { return (PorchConfig *)data; };
        ctx_.user_data = config_;
        ctx_.who = "test";
        ctx_.state_dir = state_.c_str();
    }
    void TearDown() override
    {
        if (config_ != nullptr)
            porch_config_unref(config_);
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }

    static gboolean Collect(const guint8 *data, gsize len, gpointer user_data)
    {
        ((std::string *)user_data)->append((const char *)data, len);
        return TRUE;
    }

    // One session: `init`, then `request` (type, id 7, `args`); the status code and message
    // of the reply to the request.
    std::pair<guint32, std::string> Status(const std::vector<guint8> &init, guint8 type,
                                           const std::function<void(GByteArray *)> &args)
    {
        std::string out;
        PorchSftpServer *s = porch_sftp_server_new(&ctx_, Collect, &out);
        g_autoptr(GByteArray) b = g_byte_array_new();
        porch_wire_begin_packet(b, type);
        porch_wire_put_u32(b, 7);
        args(b);
        porch_wire_end_packet(b);
        bool fed = porch_sftp_server_feed(s, init.data(), init.size()) &&
                   porch_sftp_server_feed(s, b->data, b->len);
        porch_sftp_server_free(s);
        EXPECT_TRUE(fed);

        // VERSION, then the reply
        PorchWireReader r = {(const guint8 *)out.data(), out.size()};
        guint32 len = 0, id = 0, code = 0;
        guint8 t = 0;
        const guint8 *msg = nullptr;
        guint32 msg_len = 0;
        if (!porch_wire_get_u32(&r, &len) || len > r.left)
            return {~0u, "no VERSION"};
        r.p += len;
        r.left -= len;
        if (!porch_wire_get_u32(&r, &len) || !porch_wire_get_u8(&r, &t) || t != SSH_FXP_STATUS ||
            !porch_wire_get_u32(&r, &id) || id != 7 || !porch_wire_get_u32(&r, &code) ||
            !porch_wire_get_string(&r, &msg, &msg_len))
            return {~0u, "no STATUS"};
        return {code, std::string((const char *)msg, msg_len)};
    }

    std::string dir_, state_;
    PorchConfig *config_ = nullptr;
    PorchSftpContext ctx_;
};

TEST_F(ServerTest, AnExistingNameIsFailureUnlessTheClientAskedForMore)
{
    auto open_excl = [](GByteArray *b) {
        porch_wire_put_cstring(b, "/Drop/a.txt");
        porch_wire_put_u32(b, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_EXCL);
        porch_wire_put_u32(b, 0);
    };
    auto rename_onto = [](GByteArray *b) {
        porch_wire_put_cstring(b, "/Drop/b.txt");
        porch_wire_put_cstring(b, "/Drop/a.txt");
    };
    std::vector<guint8> stock = Init({}), porch = Init({{"status-codes@porch", "1"}});

    auto [code, message] = Status(stock, SSH_FXP_OPEN, open_excl);
    EXPECT_EQ(code, (guint32)SSH_FX_FAILURE);
    EXPECT_EQ(message, g_strerror(EEXIST));
    auto [code2, message2] = Status(porch, SSH_FXP_OPEN, open_excl);
    EXPECT_EQ(code2, (guint32)SSH_FX_FILE_ALREADY_EXISTS);
    EXPECT_EQ(message2, message) << "the same words for both";

    auto [code3, message3] = Status(stock, SSH_FXP_RENAME, rename_onto);
    EXPECT_EQ(code3, (guint32)SSH_FX_FAILURE);
    EXPECT_EQ(message3, "The new name exists already");
    auto [code4, message4] = Status(porch, SSH_FXP_RENAME, rename_onto);
    EXPECT_EQ(code4, (guint32)SSH_FX_FILE_ALREADY_EXISTS);
    EXPECT_EQ(message4, message3);

    EXPECT_EQ(porch::test::ReadFile(dir_ + "/drop/a.txt"), "a\n");
    EXPECT_EQ(porch::test::ReadFile(dir_ + "/drop/b.txt"), "b\n");
}

// ---- the client --------------------------------------------------------------------------------

struct Classified {
    GQuark domain;
    int code;
    std::string message;
};

Classified
Classify(guint32 code, const char *message)
{
    g_autoptr(GError) e = porch_status_error(code, message, "/Share/f");
    return {e->domain, e->code, e->message};
}

TEST(SftpStatus, TheClientGoesByTheCode)
{
    struct {
        guint32 code;
        const char *message;
        int want;
        const char *says;
    } cases[] = {
            {SSH_FX_NO_SUCH_FILE, "No such file", G_IO_ERROR_NOT_FOUND, "No such file or folder"},
            {SSH_FX_PERMISSION_DENIED, "nope", G_IO_ERROR_PERMISSION_DENIED, "Permission denied"},
            {SSH_FX_OP_UNSUPPORTED, "Not supported", G_IO_ERROR_NOT_SUPPORTED, "Not supported"},
            {SSH_FX_OP_UNSUPPORTED, "", G_IO_ERROR_NOT_SUPPORTED, "Not supported"},
            {SSH_FX_CONNECTION_LOST, nullptr, G_IO_ERROR_CONNECTION_CLOSED, "Connection lost"},
            {SSH_FX_NO_CONNECTION, nullptr, G_IO_ERROR_CONNECTION_CLOSED, "Connection lost"},
            {SSH_FX_EOF, "", G_IO_ERROR_FAILED, "Unexpected end of file"},
            {SSH_FX_FAILURE, "Failure", G_IO_ERROR_FAILED, "Failure"},
            {SSH_FX_FAILURE, nullptr, G_IO_ERROR_FAILED, "Failed"},
            {SSH_FX_BAD_MESSAGE, "Bad message", G_IO_ERROR_FAILED, "Bad message"},
            // the extended codes: porchd's words, else ours
            {SSH_FX_FILE_ALREADY_EXISTS, "File exists", G_IO_ERROR_EXISTS, "File exists"},
            {SSH_FX_FILE_ALREADY_EXISTS, "", G_IO_ERROR_EXISTS, "Exists already"},
            {PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM, "No space left on the server's disk",
             G_IO_ERROR_NO_SPACE, "No space left on the server's disk"},
            {PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM, nullptr, G_IO_ERROR_NO_SPACE,
             "No space left on the server's disk"},
            // FAILURE is FAILURE whatever its words: the message is for people
            {SSH_FX_FAILURE, "File exists", G_IO_ERROR_FAILED, "File exists"},
            {SSH_FX_FAILURE, "No space left on device", G_IO_ERROR_FAILED,
             "No space left on device"},
            {99, "Something new", G_IO_ERROR_FAILED, "Something new"},
    };
    for (const auto &c : cases) {
        Classified got = Classify(c.code, c.message);
        EXPECT_EQ(got.domain, G_IO_ERROR) << c.code;
        EXPECT_EQ(got.code, c.want) << c.code << " " << (c.message ? c.message : "(null)");
        EXPECT_EQ(got.message, c.says) << c.code;
    }
}

} // namespace
