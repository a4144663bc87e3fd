// hostile-sftp-server.cc — see hostile-sftp-server.h. The SFTP packets are written by hand
// (not with libssh's sftp server), so that any of them can be wrong.
#include "hostile-sftp-server.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/sftp.h>

#include "porch-wire.h"

namespace porch::test
{
namespace
{

using Options = HostileSftpServer::Options;

constexpr uint32_t kAttrSize = 0x1, kAttrPermissions = 0x4, kAttrTimes = 0x8,
                   kAttrExtended = 0x80000000u;
constexpr uint64_t kHugeServed = 24ull << 20; // kHugeSize: the bytes of /Share/big served
constexpr uint32_t kMtime = 1622548800;       // 2021-06-01

// ---- packets ---------------------------------------------------------------------------------

void
PutU8(std::string &b, uint8_t v)
{
    b.push_back(char(v));
}

void
PutU32(std::string &b, uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        b.push_back(char(v >> shift));
}

void
PutU64(std::string &b, uint64_t v)
{
    PutU32(b, uint32_t(v >> 32));
    PutU32(b, uint32_t(v));
}

void
PutString(std::string &b, const std::string &s)
{
    PutU32(b, uint32_t(s.size()));
    b += s;
}

struct Reader {
    const std::string &b;
    size_t at = 0;
    bool ok = true;

    uint8_t U8()
    {
        if (at + 1 > b.size()) {
            ok = false;
            return 0;
        }
        return uint8_t(b[at++]);
    }
    uint32_t U32()
    {
        uint32_t v = 0;
        if (at + 4 > b.size()) {
            ok = false;
            return 0;
        }
        for (int i = 0; i < 4; i++)
            v = v << 8 | uint8_t(b[at++]);
        return v;
    }
    uint64_t U64()
    {
        uint64_t hi = U32();
        return hi << 32 | U32();
    }
    std::string String()
    {
        uint32_t len = U32();
        if (!ok || at + len > b.size()) {
            ok = false;
            return "";
        }
        std::string s = b.substr(at, len);
        at += len;
        return s;
    }
    // ATTRS: the permissions, or -1
    long Attrs()
    {
        uint32_t flags = U32();
        long mode = -1;
        if (flags & kAttrSize)
            U64();
        if (flags & 0x2) {
            U32();
            U32();
        }
        if (flags & kAttrPermissions)
            mode = long(U32() & 07777);
        if (flags & kAttrTimes) {
            U32();
            U32();
        }
        if (flags & kAttrExtended)
            for (uint32_t n = U32(); ok && n > 0; n--) {
                String();
                String();
            }
        return mode;
    }
};

// ---- the tree --------------------------------------------------------------------------------

struct Node {
    bool dir = false;
    std::string data;
    uint32_t mode = 0644;
    bool claims = false; // claims a size other than its data's:
    uint64_t claimed = 0;
    uint64_t Size() const
    {
        return claims ? claimed : data.size();
    }
};

using Tree = std::map<std::string, Node>;

const std::vector<std::string> &
HostileNames()
{
    static const std::vector<std::string> names = {
            ".",
            "..",
            "../escape",
            "a/b",
            "/abs",
            "",
            std::string("nul\0byte", 8),
            "\x1b[31mred\x1b[0m",
            "bell\x07",
            std::string(300, 'x'),
            "ok.txt",
    };
    return names;
}

Tree
MakeTree(const Options &o)
{
    Tree t;
    auto dir = [&](const std::string &p, uint32_t mode) {
        t[p].dir = true;
        t[p].mode = mode;
    };
    auto file = [&](const std::string &p, const std::string &data, uint32_t mode) {
        t[p].data = data;
        t[p].mode = mode;
    };
    dir("/", 0755);
    dir("/Share", 0755);
    file("/Share/hello.txt", "hello, porch\n", 0644);
    file("/Share/all.txt", "open to all\n", 0777);
    file("/Share/ro.txt", "read only\n", 0444);
    dir("/Share/tree", 0777);
    file("/Share/tree/a.txt", "a\n", 0666);
    dir("/Share/tree/sub", 0777);
    file("/Share/tree/sub/b.txt", "b\n", 0644);
    if (o.hostility == Hostility::kHugeSize) {
        t["/Share/big"].claims = true;
        t["/Share/big"].claimed = o.value;
    }
    if (o.hostility == Hostility::kEndlessReaddir)
        dir("/Share/many", 0755);
    if (o.hostility == Hostility::kHostileNames) {
        dir("/Share/names", 0755);
        for (const std::string &n : HostileNames())
            if (n != "." && n != ".." && !n.empty() && n.find('/') == std::string::npos &&
                n.find('\0') == std::string::npos)
                file("/Share/names/" + n, "ok\n", 0644);
    }
    return t;
}

// /Share/deep and /Share/deep/d/d/...: kDeepTree's endless folders
bool
IsDeep(const Options &o, const std::string &path)
{
    const std::string top = "/Share/deep";

    if (o.hostility != Hostility::kDeepTree || path.compare(0, top.size(), top) != 0)
        return false;
    // then "/d" any number of times
    for (size_t at = top.size(); at < path.size(); at += 2)
        if (path.compare(at, 2, "/d") != 0)
            return false;
    return (path.size() - top.size()) % 2 == 0;
}

std::string
Sha256(const std::string &data)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    guint8 digest[32];
    gsize len = sizeof digest;
    g_checksum_update(sum, reinterpret_cast<const guchar *>(data.data()), gssize(data.size()));
    g_checksum_get_digest(sum, digest, &len);
    g_checksum_free(sum);
    return std::string(reinterpret_cast<char *>(digest), len);
}

void
Log(const Options &o, const std::string &line)
{
    if (o.log_path.empty())
        return;
    int fd = open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    std::string l = line + "\n";
    ssize_t n = write(fd, l.data(), l.size());
    (void)n;
    close(fd);
}

std::string
Octal(uint32_t mode)
{
    char b[16];
    snprintf(b, sizeof b, "%04o", mode & 07777);
    return b;
}

// ---- one SFTP session --------------------------------------------------------------------

class Sftp
{
  public:
    Sftp(ssh_channel chan, const Options &o, Tree &tree) : chan_(chan), o_(o), tree_(tree)
    {
    }

    void Run()
    {
        std::string in;
        std::vector<char> buf(1 << 16);
        for (;;) {
            int n = ssh_channel_read(chan_, buf.data(), uint32_t(buf.size()), 0);
            if (n <= 0)
                return;
            in.append(buf.data(), size_t(n));
            while (in.size() >= 4) {
                Reader r{in};
                uint32_t len = r.U32();
                if (in.size() < 4 + size_t(len))
                    break;
                std::string pkt = in.substr(4, len);
                in.erase(0, 4 + size_t(len));
                if (!Handle(pkt))
                    return;
            }
        }
    }

  private:
    struct Handle_ {
        std::string path;
        bool dir = false;
        int reads = 0;         // READDIRs answered
        uint64_t serial = 0;   // kEndlessReaddir: the next name
        size_t next_entry = 0; // entries of a folder already sent
    };

    bool Write(const std::string &bytes)
    {
        for (size_t at = 0; at < bytes.size();) {
            int n = ssh_channel_write(chan_, bytes.data() + at, uint32_t(bytes.size() - at));
            if (n <= 0)
                return false;
            at += size_t(n);
        }
        return true;
    }

    // A packet of the body's length, or one whose header says `length`.
    bool Send(uint8_t type, const std::string &body, std::optional<uint32_t> length = {})
    {
        std::string p;
        PutU32(p, length.value_or(uint32_t(1 + body.size())));
        PutU8(p, type);
        p += body;
        return Write(p);
    }

    bool Reply(uint8_t type, uint32_t id, const std::string &payload)
    {
        std::string b;
        PutU32(b, id);
        b += payload;
        return Send(type, b);
    }

    bool Status(uint32_t id, uint32_t code, const std::string &message)
    {
        std::string b;
        PutU32(b, code);
        PutString(b, message);
        PutString(b, "en");
        return Reply(SSH_FXP_STATUS, id, b);
    }

    // The bytes of a packet, one a second, for as long as the client reads them.
    bool Trickle(const std::string &bytes)
    {
        for (char c : bytes) {
            if (!Write(std::string(1, c)))
                return false;
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
        return true;
    }

    static std::string Attrs(const Node &n)
    {
        std::string b;
        PutU32(b, kAttrSize | kAttrPermissions | kAttrTimes);
        PutU64(b, n.Size());
        PutU32(b, (n.dir ? S_IFDIR : S_IFREG) | n.mode);
        PutU32(b, kMtime);
        PutU32(b, kMtime);
        return b;
    }

    static void PutEntry(std::string &b, const std::string &name, const Node &n)
    {
        PutString(b, name);
        PutString(b, name);
        b += Attrs(n);
    }

    // The node at path, or nullptr
    const Node *Find(const std::string &path)
    {
        static const Node deep_dir = [] {
            Node n;
            n.dir = true;
            n.mode = 0755;
            return n;
        }();
        if (IsDeep(o_, path))
            return &deep_dir;
        auto it = tree_.find(path);
        return it == tree_.end() ? nullptr : &it->second;
    }

    std::string NewHandle(const std::string &path, bool dir)
    {
        std::string h = std::to_string(++handle_serial_);
        handles_[h] = Handle_{path, dir};
        return h;
    }

    bool Version()
    {
        std::string b;
        PutU32(b, 3);
        PutString(b, "posix-rename@openssh.com");
        PutString(b, "1");
        PutString(b, "fsync@openssh.com");
        PutString(b, "1");
        PutString(b, "check-file-handle");
        PutString(b, "sha256");
        switch (o_.hostility) {
        case Hostility::kVersionLength:
            return Send(SSH_FXP_VERSION, b, uint32_t(o_.value));
        case Hostility::kVersionExtensionCut:
            PutString(b, "limits@openssh.com"); // and no data
            return Send(SSH_FXP_VERSION, b);
        case Hostility::kVersionExtensionOverlong:
            PutU32(b, 0xFFFFFFF0u);
            b += "abc";
            return Send(SSH_FXP_VERSION, b);
        case Hostility::kTrickleVersion: {
            std::string p;
            PutU32(p, 1000);
            PutU8(p, SSH_FXP_VERSION);
            p += b;
            p.resize(4 + 1000, '\0');
            return Trickle(p);
        }
        default:
            return Send(SSH_FXP_VERSION, b);
        }
    }

    bool Stat(uint32_t id, const Node *n)
    {
        if (n == nullptr)
            return Status(id, SSH_FX_NO_SUCH_FILE, "No such file");
        switch (o_.hostility) {
        case Hostility::kLongStatus:
            return Status(id, SSH_FX_FAILURE, "\x1b[2J" + std::string(200 << 10, 'A'));
        case Hostility::kReplyToUnsentId:
            return Reply(SSH_FXP_ATTRS, id + 0x1000, Attrs(*n));
        case Hostility::kPacketLength4GiB: {
            std::string p;
            PutU32(p, 0xFFFFFFFFu);
            PutU8(p, SSH_FXP_ATTRS);
            PutU32(p, id);
            p += std::string(64, 'z');
            return Write(p);
        }
        case Hostility::kAttrsExtendedCount: {
            std::string b;
            PutU32(b, kAttrPermissions | kAttrExtended);
            PutU32(b, (n->dir ? S_IFDIR : S_IFREG) | n->mode);
            PutU32(b, 0xFFFFFFFFu);
            PutString(b, "name@example.com");
            PutString(b, "data");
            return Reply(SSH_FXP_ATTRS, id, b);
        }
        case Hostility::kTrickleReply: {
            std::string p;
            PutU32(p, 4096);
            PutU8(p, SSH_FXP_ATTRS);
            PutU32(p, id);
            p += Attrs(*n);
            p.resize(4 + 4096, '\0');
            return Trickle(p);
        }
        default:
            return Reply(SSH_FXP_ATTRS, id, Attrs(*n));
        }
    }

    bool ReadDir(uint32_t id, Handle_ &h)
    {
        std::string b;
        const size_t max = 200 * 1024;
        uint32_t count = 0;

        h.reads++;
        if (o_.hostility == Hostility::kEndlessReaddir && h.path == "/Share/many") {
            Node f;
            f.data = "x";
            for (; count < 4000; count++) {
                char name[32];
                snprintf(name, sizeof name, "f%010llu", (unsigned long long)h.serial++);
                PutEntry(b, name, f);
            }
        } else if (o_.hostility == Hostility::kNameCountExceeds && h.path == "/Share/tree") {
            PutEntry(b, "a.txt", tree_["/Share/tree/a.txt"]);
            std::string p;
            PutU32(p, uint32_t(o_.value));
            return Reply(SSH_FXP_NAME, id, p + b);
        } else if (IsDeep(o_, h.path)) {
            if (h.reads == 1) {
                PutEntry(b, "d", *Find(h.path + "/d"));
                count = 1;
            }
        } else if (o_.hostility == Hostility::kHostileNames && h.path == "/Share/names") {
            if (h.reads == 1) {
                Node dot;
                dot.dir = true;
                dot.mode = 0755;
                Node file;
                file.data = "ok\n";
                for (const std::string &n : HostileNames()) {
                    PutEntry(b, n, n == "." || n == ".." ? dot : file);
                    count++;
                }
            }
        } else {
            std::string prefix = h.path == "/" ? "/" : h.path + "/";
            size_t i = 0;
            for (auto it = tree_.lower_bound(prefix); it != tree_.end(); ++it) {
                if (it->first.compare(0, prefix.size(), prefix) != 0)
                    break;
                std::string name = it->first.substr(prefix.size());
                if (name.empty() || name.find('/') != std::string::npos)
                    continue;
                if (i++ < h.next_entry)
                    continue;
                if (b.size() > max)
                    break;
                PutEntry(b, name, it->second);
                count++;
                h.next_entry++;
            }
        }
        if (count == 0)
            return Status(id, SSH_FX_EOF, "End of folder");
        std::string p;
        PutU32(p, count);
        return Reply(SSH_FXP_NAME, id, p + b);
    }

    bool Read(uint32_t id, const Handle_ &h, uint64_t offset, uint32_t len)
    {
        const Node *n = Find(h.path);
        std::string data;

        if (n == nullptr)
            return Status(id, SSH_FX_FAILURE, "Gone");
        if (o_.hostility == Hostility::kHugeSize && h.path == "/Share/big") {
            if (offset >= kHugeServed || offset >= n->Size())
                return Status(id, SSH_FX_EOF, "End of file");
            data.assign(size_t(std::min<uint64_t>(len, kHugeServed - offset)), '\0');
        } else {
            if (offset >= n->data.size())
                return Status(id, SSH_FX_EOF, "End of file");
            data = n->data.substr(size_t(offset), len);
        }
        if (o_.hostility == Hostility::kDataLonger)
            data += std::string(100, 'X');
        if (o_.hostility == Hostility::kDataEmpty)
            data.clear();
        std::string b;
        PutString(b, data);
        return Reply(SSH_FXP_DATA, id, b);
    }

    bool CheckFile(uint32_t id, Reader &r)
    {
        std::string handle = r.String();
        r.String(); // the algorithms asked for
        uint64_t offset = r.U64(), len = r.U64();
        auto it = handles_.find(handle);
        if (!r.ok || it == handles_.end())
            return Status(id, SSH_FX_FAILURE, "Bad handle");
        const Node *n = Find(it->second.path);
        std::string data;
        if (n == nullptr)
            return Status(id, SSH_FX_FAILURE, "Gone");
        if (o_.hostility == Hostility::kHugeSize && it->second.path == "/Share/big") {
            if (offset + len > kHugeServed)
                return Status(id, SSH_FX_FAILURE, "Not served");
            data.assign(size_t(len), '\0');
        } else {
            if (len == 0)
                len = n->data.size() - std::min<uint64_t>(offset, n->data.size());
            data = n->data.substr(size_t(std::min<uint64_t>(offset, n->data.size())), size_t(len));
        }
        std::string hash = Sha256(data);
        if (o_.hostility == Hostility::kCheckFileLength) {
            std::string wrong;
            while (wrong.size() < o_.value)
                wrong += hash;
            hash = wrong.substr(0, size_t(o_.value));
        }
        std::string b;
        PutString(b, "check-file");
        PutString(b, "sha256");
        b += hash;
        return Reply(SSH_FXP_EXTENDED_REPLY, id, b);
    }

    // A failure for EEXIST or ENOSPC: the extended code to a client that asked for it.
    bool Exists(uint32_t id)
    {
        return Status(id, codes_ ? SSH_FX_FILE_ALREADY_EXISTS : SSH_FX_FAILURE, "File exists");
    }
    bool NoSpace(uint32_t id)
    {
        return Status(id, codes_ ? PORCH_WIRE_FX_NO_SPACE_ON_FILESYSTEM : SSH_FX_FAILURE,
                      "No space left on device");
    }

    bool Open(uint32_t id, const std::string &path, uint32_t pflags, long mode)
    {
        auto it = tree_.find(path);
        if (pflags & SSH_FXF_CREAT) {
            if (it != tree_.end() && (pflags & SSH_FXF_EXCL))
                return Exists(id);
            Node &n = tree_[path];
            if (it == tree_.end())
                n.mode = mode >= 0 ? uint32_t(mode) : 0644;
            if (pflags & SSH_FXF_TRUNC)
                n.data.clear();
        } else if (Find(path) == nullptr) {
            return Status(id, SSH_FX_NO_SUCH_FILE, "No such file");
        }
        std::string b;
        PutString(b, NewHandle(path, false));
        return Reply(SSH_FXP_HANDLE, id, b);
    }

    bool Rename(uint32_t id, const std::string &from, const std::string &to, bool replace)
    {
        auto it = tree_.find(from);
        if (it == tree_.end())
            return Status(id, SSH_FX_NO_SUCH_FILE, "No such file");
        if (!replace && tree_.count(to))
            return Exists(id);
        Node n = it->second;
        tree_.erase(it);
        tree_[to] = n;
        Log(o_, "renamed " + to + " mode=" + Octal(n.mode));
        return Status(id, SSH_FX_OK, "OK");
    }

    bool Handle(const std::string &pkt)
    {
        Reader r{pkt};
        uint8_t type = r.U8();
        uint32_t id = 0;

        if (type == SSH_FXP_INIT) {
            r.U32(); // the version
            while (r.ok && r.at < pkt.size()) {
                std::string name = r.String();
                r.String();
                if (r.ok && name == PORCH_WIRE_EXT_STATUS_CODES)
                    codes_ = o_.status_codes;
            }
            return Version();
        }
        id = r.U32();
        if (!r.ok)
            return false;
        switch (type) {
        case SSH_FXP_STAT:
        case SSH_FXP_LSTAT: {
            std::string path = r.String();
            if (o_.hostility == Hostility::kTargetAppears && path == "/Share/hello.txt")
                return Status(id, SSH_FX_NO_SUCH_FILE, "No such file");
            return Stat(id, Find(path));
        }
        case SSH_FXP_FSTAT: {
            auto it = handles_.find(r.String());
            return it == handles_.end() ? Status(id, SSH_FX_FAILURE, "Bad handle")
                                        : Stat(id, Find(it->second.path));
        }
        case SSH_FXP_OPENDIR: {
            std::string path = r.String();
            const Node *n = Find(path);
            if (n == nullptr || !n->dir)
                return Status(id, SSH_FX_NO_SUCH_FILE, "No such folder");
            std::string b;
            PutString(b, NewHandle(path, true));
            return Reply(SSH_FXP_HANDLE, id, b);
        }
        case SSH_FXP_READDIR: {
            auto it = handles_.find(r.String());
            return it == handles_.end() ? Status(id, SSH_FX_FAILURE, "Bad handle")
                                        : ReadDir(id, it->second);
        }
        case SSH_FXP_OPEN: {
            std::string path = r.String();
            uint32_t pflags = r.U32();
            long mode = r.Attrs();
            return Open(id, path, pflags, mode);
        }
        case SSH_FXP_READ: {
            auto it = handles_.find(r.String());
            uint64_t offset = r.U64();
            uint32_t len = r.U32();
            return it == handles_.end() ? Status(id, SSH_FX_FAILURE, "Bad handle")
                                        : Read(id, it->second, offset, len);
        }
        case SSH_FXP_WRITE: {
            auto it = handles_.find(r.String());
            uint64_t offset = r.U64();
            std::string data = r.String();
            if (it == handles_.end() || !tree_.count(it->second.path))
                return Status(id, SSH_FX_FAILURE, "Bad handle");
            if (o_.hostility == Hostility::kDiskFull)
                return NoSpace(id);
            std::string &d = tree_[it->second.path].data;
            if (d.size() < offset + data.size())
                d.resize(size_t(offset + data.size()));
            d.replace(size_t(offset), data.size(), data);
            return Status(id, SSH_FX_OK, "OK");
        }
        case SSH_FXP_FSETSTAT:
        case SSH_FXP_SETSTAT: {
            std::string path = r.String();
            if (type == SSH_FXP_FSETSTAT) {
                auto it = handles_.find(path);
                path = it == handles_.end() ? "" : it->second.path;
            }
            long mode = r.Attrs();
            if (!tree_.count(path))
                return Status(id, SSH_FX_NO_SUCH_FILE, "No such file");
            if (mode >= 0) {
                tree_[path].mode = uint32_t(mode);
                Log(o_, "setstat " + path + " mode=" + Octal(uint32_t(mode)));
            }
            return Status(id, SSH_FX_OK, "OK");
        }
        case SSH_FXP_CLOSE:
            handles_.erase(r.String());
            return Status(id, SSH_FX_OK, "OK");
        case SSH_FXP_REMOVE:
            tree_.erase(r.String());
            return Status(id, SSH_FX_OK, "OK");
        case SSH_FXP_MKDIR: {
            std::string path = r.String();
            long mode = r.Attrs();
            if (tree_.count(path))
                return Exists(id);
            tree_[path].dir = true;
            tree_[path].mode = mode >= 0 ? uint32_t(mode) : 0755;
            return Status(id, SSH_FX_OK, "OK");
        }
        case SSH_FXP_RENAME: {
            std::string from = r.String(), to = r.String();
            return Rename(id, from, to, false);
        }
        case SSH_FXP_EXTENDED: {
            std::string name = r.String();
            if (name == "check-file-handle")
                return CheckFile(id, r);
            if (name == "posix-rename@openssh.com") {
                std::string from = r.String(), to = r.String();
                return Rename(id, from, to, true);
            }
            if (name == "fsync@openssh.com")
                return Status(id, SSH_FX_OK, "OK");
            return Status(id, SSH_FX_OP_UNSUPPORTED, "Unsupported");
        }
        default:
            return Status(id, SSH_FX_OP_UNSUPPORTED, "Unsupported");
        }
    }

    ssh_channel chan_;
    const Options &o_;
    Tree &tree_;
    std::map<std::string, Handle_> handles_;
    uint64_t handle_serial_ = 0;
    bool codes_ = false; // the extended status codes: asked for, and offered (Options)
};

// ---- the server process ----------------------------------------------------------------------

// Logs in "guest" with "none" and opens the sftp subsystem, then serves it.
void
Serve(ssh_session session, const Options &o, Tree &tree)
{
    ssh_channel chan = nullptr;
    bool authenticated = false, sftp = false;

    // what a failure offers (libssh sends no failure that offers nothing); "none" from guest
    // is let in all the same, as porchd does
    ssh_set_auth_methods(session, SSH_AUTH_METHOD_PUBLICKEY);
    if (ssh_handle_key_exchange(session) != SSH_OK)
        return;
    while (!sftp) {
        ssh_message m = ssh_message_get(session);
        if (m == nullptr)
            break;
        int type = ssh_message_type(m), subtype = ssh_message_subtype(m);
        if (type == SSH_REQUEST_AUTH && subtype == SSH_AUTH_METHOD_NONE &&
            strcmp(ssh_message_auth_user(m), "guest") == 0) {
            ssh_message_auth_reply_success(m, 0);
            authenticated = true;
        } else if (authenticated && type == SSH_REQUEST_CHANNEL_OPEN &&
                   subtype == SSH_CHANNEL_SESSION && chan == nullptr) {
            chan = ssh_message_channel_request_open_reply_accept(m);
        } else if (chan != nullptr && type == SSH_REQUEST_CHANNEL &&
                   subtype == SSH_CHANNEL_REQUEST_SUBSYSTEM &&
                   strcmp(ssh_message_channel_request_subsystem(m), "sftp") == 0) {
            ssh_message_channel_request_reply_success(m);
            sftp = true;
        } else {
            ssh_message_reply_default(m);
        }
        ssh_message_free(m);
    }
    if (sftp)
        Sftp(chan, o, tree).Run();
    if (chan != nullptr) {
        ssh_channel_send_eof(chan);
        ssh_channel_close(chan);
        ssh_channel_free(chan);
    }
}

[[noreturn]] void
ServerMain(const Options &o, int listen_fd)
{
    ssh_key key = nullptr;
    ssh_bind bind;
    int no = 0;
    Tree tree = MakeTree(o);

    if (ssh_init() != SSH_OK || ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
        _exit(2);
    bind = ssh_bind_new();
    if (bind == nullptr || ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
        ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != 0)
        _exit(2);
    for (;;) {
        int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC), one = 1;
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            _exit(3);
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ssh_session session = ssh_new();
        if (ssh_bind_accept_fd(bind, session, fd) == SSH_OK)
            Serve(session, o, tree);
        else
            close(fd);
        ssh_disconnect(session);
        ssh_free(session);
    }
}

} // namespace

std::unique_ptr<HostileSftpServer>
HostileSftpServer::Start(const Options &options, std::string *error)
{
    struct sockaddr_in addr = {};
    socklen_t addr_len = sizeof addr;
    pid_t parent = getpid(), pid;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    // loopback only: never another address of this machine
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd < 0 || bind(fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) != 0 ||
        listen(fd, 8) != 0 ||
        getsockname(fd, reinterpret_cast<struct sockaddr *>(&addr), &addr_len) != 0) {
        *error = std::string("cannot listen on 127.0.0.1: ") + strerror(errno);
        if (fd >= 0)
            close(fd);
        return nullptr;
    }
    pid = fork();
    if (pid < 0) {
        *error = std::string("fork: ") + strerror(errno);
        close(fd);
        return nullptr;
    }
    if (pid == 0) {
        // dies with the test, however it ends
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        ServerMain(options, fd);
    }
    close(fd); // the server process has it
    return std::unique_ptr<HostileSftpServer>(new HostileSftpServer(pid, ntohs(addr.sin_port)));
}

HostileSftpServer::~HostileSftpServer()
{
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR)
            ;
    }
}

} // namespace porch::test
