// raw-sftp.h — an SFTP v3 client for tests that speaks packets byte by byte over a libssh
// channel: what the OpenSSH client never sends (extensions, malformed, oversized and unknown
// requests), and the replies read back as they are.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <libssh/libssh.h>

namespace porch::test
{

// The protocol's numbers, to import with `using namespace porch::test::sftp_names;`.
namespace sftp_names
{
enum : uint8_t {
    FXP_INIT = 1,
    FXP_VERSION = 2,
    FXP_OPEN = 3,
    FXP_CLOSE = 4,
    FXP_READ = 5,
    FXP_WRITE = 6,
    FXP_SETSTAT = 9,
    FXP_OPENDIR = 11,
    FXP_READDIR = 12,
    FXP_REALPATH = 16,
    FXP_READLINK = 19,
    FXP_STATUS = 101,
    FXP_HANDLE = 102,
    FXP_DATA = 103,
    FXP_NAME = 104,
    FXP_ATTRS = 105,
    FXP_EXTENDED = 200,
    FXP_EXTENDED_REPLY = 201,
};
enum : uint32_t {
    FX_OK = 0,
    FX_EOF = 1,
    FX_NO_SUCH_FILE = 2,
    FX_PERMISSION_DENIED = 3,
    FX_FAILURE = 4,
    FX_BAD_MESSAGE = 5,
    FX_OP_UNSUPPORTED = 8,
    FX_INVALID_HANDLE = 9,
};
constexpr uint32_t FXF_READ = 1, FXF_WRITE = 2, FXF_CREAT = 8, FXF_TRUNC = 0x10;
constexpr uint32_t ATTR_SIZE = 1;
} // namespace sftp_names
using namespace sftp_names;

// An SFTP packet under construction, or one received and being read.
struct Packet {
    uint8_t type = 0;
    std::string body;
    size_t at = 0;

    Packet &u8(uint8_t v)
    {
        body.push_back((char)v);
        return *this;
    }
    Packet &u32(uint32_t v)
    {
        for (int i = 3; i >= 0; i--)
            body.push_back((char)(v >> (8 * i)));
        return *this;
    }
    Packet &u64(uint64_t v)
    {
        return u32((uint32_t)(v >> 32)).u32((uint32_t)v);
    }
    Packet &str(const std::string &s)
    {
        u32((uint32_t)s.size());
        body += s;
        return *this;
    }
    uint32_t get_u32()
    {
        uint32_t v = 0;
        for (int i = 0; i < 4 && at < body.size(); i++)
            v = v << 8 | (uint8_t)body[at++];
        return v;
    }
    uint64_t get_u64()
    {
        uint64_t hi = get_u32();
        return hi << 32 | get_u32();
    }
    std::string get_str()
    {
        uint32_t n = get_u32();
        std::string s = body.substr(at, n);
        at += n;
        return s;
    }
    std::string rest()
    {
        std::string s = body.substr(at);
        at = body.size();
        return s;
    }
};

// A minimal SFTP v3 client over a libssh channel, as guest (or with a key).
class RawSftp
{
  public:
    ~RawSftp()
    {
        if (channel_) {
            ssh_channel_close(channel_);
            ssh_channel_free(channel_);
        }
        if (session_) {
            ssh_disconnect(session_);
            ssh_free(session_);
        }
    }
    // Connects, authenticates (as guest, or with the private key file `key` as `user`), opens
    // the sftp subsystem and exchanges versions. Returns "" or what went wrong.
    std::string Connect(const std::string &host, int port = 4422, const std::string &user = "guest",
                        const std::string &key = "")
    {
        session_ = ssh_new();
        ssh_options_set(session_, SSH_OPTIONS_HOST, host.c_str());
        ssh_options_set(session_, SSH_OPTIONS_PORT, &port);
        ssh_options_set(session_, SSH_OPTIONS_USER, user.c_str());
        if (ssh_connect(session_) != SSH_OK)
            return std::string("connect: ") + ssh_get_error(session_);
        if (key.empty()) {
            if (ssh_userauth_none(session_, nullptr) != SSH_AUTH_SUCCESS)
                return "guest login refused";
        } else {
            ssh_key k = nullptr;
            if (ssh_pki_import_privkey_file(key.c_str(), nullptr, nullptr, nullptr, &k) != SSH_OK)
                return "cannot read " + key;
            int rc = ssh_userauth_publickey(session_, nullptr, k);
            ssh_key_free(k);
            if (rc != SSH_AUTH_SUCCESS)
                return "key login refused";
        }
        channel_ = ssh_channel_new(session_);
        if (ssh_channel_open_session(channel_) != SSH_OK ||
            ssh_channel_request_subsystem(channel_, "sftp") != SSH_OK)
            return "no sftp subsystem";
        Packet init;
        init.type = FXP_INIT;
        init.u32(3);
        Send(init);
        Packet v = Receive();
        if (v.type != FXP_VERSION)
            return "no VERSION reply";
        version = v.get_u32();
        while (v.at < v.body.size()) {
            std::string name = v.get_str();
            extensions[name] = v.get_str();
        }
        return "";
    }
    // Writes `bytes` on the channel as they are. False if the channel refused them.
    bool SendRaw(const std::string &bytes)
    {
        size_t at = 0;
        while (at < bytes.size()) {
            int n = ssh_channel_write(channel_, bytes.data() + at,
                                      (uint32_t)std::min<size_t>(bytes.size() - at, 1 << 20));
            if (n <= 0)
                return false;
            at += (size_t)n;
        }
        return true;
    }
    // A packet as it goes on the wire: length, type, body.
    static std::string Wire(const Packet &p)
    {
        std::string wire;
        uint32_t len = (uint32_t)p.body.size() + 1;
        for (int i = 3; i >= 0; i--)
            wire.push_back((char)(len >> (8 * i)));
        wire.push_back((char)p.type);
        wire += p.body;
        return wire;
    }
    void Send(const Packet &p)
    {
        ASSERT_TRUE(SendRaw(Wire(p)));
    }
    // The next packet; type 0 when none came within timeout_ms or the channel closed.
    Packet Receive(int timeout_ms = 10000)
    {
        Packet p;
        std::string head = ReadExact(5, timeout_ms);
        if (head.size() < 5)
            return p;
        uint32_t len = (uint8_t)head[0] << 24 | (uint8_t)head[1] << 16 | (uint8_t)head[2] << 8 |
                       (uint8_t)head[3];
        p.type = (uint8_t)head[4];
        p.body = ReadExact(len - 1, timeout_ms);
        return p;
    }
    // A request of `type` with the next id and `args`; returns its reply, id checked.
    Packet Request(uint8_t type, const Packet &args)
    {
        Packet p;
        p.type = type;
        p.u32(++id_);
        p.body += args.body;
        Send(p);
        return Reply();
    }
    // Sends an extended request `name` with `args` and returns the reply, id checked.
    Packet Extended(const std::string &name, const Packet &args)
    {
        Packet p = Packet().str(name);
        p.body += args.body;
        return Request(FXP_EXTENDED, p);
    }
    Packet Open(const std::string &path, uint32_t flags)
    {
        return Request(FXP_OPEN, Packet().str(path).u32(flags).u32(0));
    }
    Packet Close(const std::string &handle)
    {
        return Request(FXP_CLOSE, Packet().str(handle));
    }
    Packet Write(const std::string &handle, uint64_t offset, const std::string &data)
    {
        return Request(FXP_WRITE, Packet().str(handle).u64(offset).str(data));
    }
    Packet Read(const std::string &handle, uint64_t offset, uint32_t len)
    {
        return Request(FXP_READ, Packet().str(handle).u64(offset).u32(len));
    }
    // The status code of a STATUS reply (-1 for another type).
    static int64_t Status(Packet p)
    {
        return p.type == FXP_STATUS ? p.get_u32() : -1;
    }
    // The id the next request gets, and the one the last got.
    uint32_t next_id()
    {
        return ++id_;
    }
    bool open() const
    {
        return channel_ && ssh_channel_is_open(channel_) && !ssh_channel_is_eof(channel_);
    }

    uint32_t version = 0;
    std::map<std::string, std::string> extensions;

  private:
    Packet Reply()
    {
        Packet r = Receive();
        uint32_t id = r.get_u32();
        EXPECT_EQ(id, id_) << "reply to another request";
        return r;
    }
    std::string ReadExact(size_t n, int timeout_ms)
    {
        std::string s(n, '\0');
        size_t got = 0;
        while (got < n) {
            int r = ssh_channel_read_timeout(channel_, &s[got], (uint32_t)(n - got), 0, timeout_ms);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        s.resize(got);
        return s;
    }
    ssh_session session_ = nullptr;
    ssh_channel channel_ = nullptr;
    uint32_t id_ = 0;
};

} // namespace porch::test
