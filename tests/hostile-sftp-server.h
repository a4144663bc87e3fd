// hostile-sftp-server.h — a small SFTP server that misbehaves on purpose: the neighbour a
// client must survive. Built on libssh's server API, it runs in a process of its own, listens
// on 127.0.0.1 only (a port the kernel picks), has a fresh Ed25519 host key, lets in user
// "guest" with auth "none" and serves the "sftp" subsystem from a small tree in memory:
//
//   /Share            a folder (0755)
//   /Share/hello.txt  "hello, porch\n" (0644)
//   /Share/all.txt    "open to all\n" (0777)
//   /Share/ro.txt     "read only\n" (0444)
//   /Share/tree       a folder (0777) holding a.txt (0666) and sub/ (0777) holding b.txt (0644)
//
// The scenario (Hostility) picks what goes wrong; everything else behaves. Uploads land in the
// tree (check-file hashes what was written), and the server writes one line per event to a
// log file: "renamed PATH mode=OOOO" when an upload lands, "setstat PATH mode=OOOO".
//
// The destructor kills the process (SIGKILL) and reaps it, whatever state it is in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <sys/types.h>

namespace porch::test
{

enum class Hostility {
    kNone,                     // a well-behaved server
    kVersionLength,            // VERSION's length header is `value` (e.g. 0xFFFFFFFC)
    kVersionExtensionCut,      // VERSION's last extension pair has a name but no data
    kVersionExtensionOverlong, // an extension name in VERSION claims 0xFFFFFFF0 bytes
    kHugeSize,                 // /Share/big claims `value` bytes; READs get zeros for 24 MiB,
                               // with the right hashes, then EOF
    kEndlessReaddir,           // /Share/many: READDIR never ends, each NAME new entries
    kNameCountExceeds,         // READDIR of /Share/tree: a NAME claiming `value` entries,
                               // holding one
    kAttrsExtendedCount,       // STAT: ATTRS claiming 2^32 - 1 extended pairs, holding one
    kDeepTree,                 // /Share/deep/d/d/d/...: folders without end
    kHostileNames,             // /Share/names: "..", "../x", "a/b", "/abs", "", NUL, escape
                               // sequences, a 300-byte name, and ok.txt
    kDataLonger,               // READ answered with 100 bytes more than asked
    kDataEmpty,                // READ answered with zero bytes of data
    kCheckFileLength,          // check-file answered with `value` bytes of hash
    kReplyToUnsentId,          // STAT answered under an id never sent
    kPacketLength4GiB,         // STAT answered with a packet length of 0xFFFFFFFF
    kTrickleVersion,           // VERSION (claiming 1000 bytes) sent a byte a second
    kTrickleReply,             // STAT's reply (claiming 4096 bytes) sent a byte a second
    kLongStatus,               // STAT answered with a failure whose message is 200 KiB,
                               // an escape sequence first
    kTargetAppears,            // STAT of /Share/hello.txt: no such file (it appears later, so
                               // a RENAME onto it finds it there)
    kDiskFull,                 // every WRITE fails: no space left
};

class HostileSftpServer
{
  public:
    struct Options {
        Hostility hostility = Hostility::kNone;
        uint64_t value = 0;   // the scenario's number, see Hostility
        std::string log_path; // where the events go ("": nowhere)
        // Answers with the extended status codes a client that announces them in its INIT
        // (PORCH_WIRE_EXT_STATUS_CODES, shared/porch-wire.h), as porchd does: "File exists"
        // with SSH_FX_FILE_ALREADY_EXISTS, "No space left on device" with 14. Otherwise, and
        // to other clients, both are SSH_FX_FAILURE with that message.
        bool status_codes = false;
    };

    // Starts the server; nullptr with *error set when it could not.
    static std::unique_ptr<HostileSftpServer> Start(const Options &options, std::string *error);
    ~HostileSftpServer();
    HostileSftpServer(const HostileSftpServer &) = delete;
    HostileSftpServer &operator=(const HostileSftpServer &) = delete;

    uint16_t port() const
    {
        return port_;
    }
    pid_t pid() const
    {
        return pid_;
    }

  private:
    HostileSftpServer(pid_t pid, uint16_t port) : pid_(pid), port_(port)
    {
    }
    pid_t pid_;
    uint16_t port_;
};

} // namespace porch::test
