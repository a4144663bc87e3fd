// test-least-privilege.cc — who porchd's processes run as, and what they may still do.
//
//   LeastPrivilege  on the test LAN, porchd started as root (the system service): while a
//                   guest session is open, every process holding a TCP socket runs as another
//                   user than root, without capabilities, with no_new_privs and a seccomp
//                   filter; the launcher (root) holds none; a file worker runs as its share's
//                   owner, confined too. The owner's file permissions are the kernel's to
//                   enforce: a root-only file is refused, the owner's own private file served,
//                   an upload lands as the owner's.
//   Landlock        a worker built with a jail that checks nothing (porchd-worker-unchecked)
//                   still cannot reach anything outside its share: Landlock alone holds.
//   StateConfinement  a process confined as a session is (porch_sandbox_confine_to_state()):
//                   it reads the state folder, writes only beneath what it was given to
//                   write (access requests, upload journal, the index's shared memory), and
//                   cannot rewrite running.conf or the host key, nor reach anything outside.
#include <gtest/gtest.h>

#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <functional>
#include <map>
#include <tuple>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "raw-sftp.h"
#include "test-util.h"
#include "testlan.h"

extern "C" {
#include "fd-pass.h"
#include "files.h"
#include "porch-sandbox.h"
}

namespace
{

using porch::test::FX_OK;
using porch::test::FX_PERMISSION_DENIED;
using porch::test::FXF_CREAT;
using porch::test::FXF_READ;
using porch::test::FXF_TRUNC;
using porch::test::FXF_WRITE;
using porch::test::IsIndexer;
using porch::test::Packet;
using porch::test::RawSftp;
using porch::test::ReadFile;
using porch::test::WriteFile;

constexpr int kPort = 4422;

// What /proc says of a process.
struct Proc {
    pid_t pid = 0, ppid = 0;
    std::string comm;
    std::map<std::string, std::string> status; // "Uid" -> "65534\t65534\t65534\t65534"
};

// The fields of a /proc status file (a process's or a thread's); empty when it is gone.
std::map<std::string, std::string>
ReadStatus(const std::string &path)
{
    std::map<std::string, std::string> status;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        size_t colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        std::string v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        status[line.substr(0, colon)] = v;
    }
    return status;
}

Proc
ReadProc(pid_t pid)
{
    Proc p;
    p.pid = pid;
    p.status = ReadStatus("/proc/" + std::to_string(pid) + "/status");
    p.comm = p.status["Name"];
    p.ppid = atoi(p.status["PPid"].c_str());
    return p;
}

// @root and every process descending from it.
std::vector<Proc>
ProcessTree(pid_t root)
{
    std::map<pid_t, Proc> all;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        pid_t pid = atoi(e->d_name);
        if (pid > 0)
            all[pid] = ReadProc(pid);
    }
    if (d)
        closedir(d);
    std::vector<Proc> out;
    std::set<pid_t> in{root};
    for (bool grew = true; grew;) {
        grew = false;
        for (auto &[pid, p] : all)
            if (!in.count(pid) && in.count(p.ppid)) {
                in.insert(pid);
                grew = true;
            }
    }
    for (pid_t pid : in)
        if (all.count(pid))
            out.push_back(all[pid]);
    return out;
}

// The threads of @pid that are not under a seccomp filter or lack no_new_privs ("NAME TID"),
// from /proc/PID/task/TID/status: a filter loaded by one thread holds for the threads
// started after it, and for those already running only when it was synced to them.
std::vector<std::string>
UnconfinedThreads(pid_t pid)
{
    std::vector<std::string> out;
    std::string task = "/proc/" + std::to_string(pid) + "/task";
    DIR *d = opendir(task.c_str());
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        std::map<std::string, std::string> status = ReadStatus(task + "/" + e->d_name + "/status");
        if (!status.empty() && (status["Seccomp"] != "2" || status["NoNewPrivs"] != "1"))
            out.push_back(status["Name"] + " " + e->d_name);
    }
    if (d)
        closedir(d);
    return out;
}

// The inodes of the TCP sockets in the network namespace @pid is in.
std::set<std::string>
TcpInodes(pid_t pid)
{
    std::set<std::string> inodes;
    for (const char *f : {"tcp", "tcp6"}) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + f);
        std::string line;
        std::getline(in, line); // header
        while (std::getline(in, line)) {
            std::istringstream words(line);
            std::string w;
            for (int i = 0; i < 10 && words >> w; i++)
                ;
            if (!w.empty())
                inodes.insert(w);
        }
    }
    return inodes;
}

// Whether @pid holds one of @tcp among its descriptors.
bool
HoldsTcp(pid_t pid, const std::set<std::string> &tcp)
{
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR *d = opendir(dir.c_str());
    bool found = false;
    for (struct dirent *e; d && (e = readdir(d)) && !found;) {
        char target[256] = "";
        ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
        if (n <= 0)
            continue;
        std::string t(target, (size_t)n);
        if (t.rfind("socket:[", 0) == 0 && tcp.count(t.substr(8, t.size() - 9)))
            found = true;
    }
    if (d)
        closedir(d);
    return found;
}

uid_t
NobodyUid()
{
    struct passwd *pw = getpwnam("nobody");
    return pw ? pw->pw_uid : (uid_t)-1;
}

gid_t
NobodyGid()
{
    struct passwd *pw = getpwnam("nobody");
    return pw ? pw->pw_gid : (gid_t)-1;
}

class LeastPrivilege : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        lan_ = porch::test::TestLan::Create(2, &why_, &may_skip_);
        if (!lan_) {
            if (may_skip_)
                GTEST_SKIP() << "test LAN unavailable: " << why_;
            GTEST_FAIL() << "test LAN unavailable: " << why_;
        }
        if (getpwnam("porch") == nullptr)
            GTEST_FAIL() << "no system user porch (scripts/dev deps makes it)";
        dir_ = lan_->host_dir(1);
        // every folder on the way must be searchable by porch and the share's owner
        for (std::string p = dir_; p != "/" && p.size() > 1; p = p.substr(0, p.rfind('/')))
            chmod(p.c_str(), 0755);
        for (const char *d : {"/home", "/drop"})
            ASSERT_EQ(g_mkdir_with_parents((dir_ + d).c_str(), 0755), 0);
        ASSERT_TRUE(WriteFile(dir_ + "/home/own.txt", "the owner's own\n", 0600));
        ASSERT_TRUE(WriteFile(dir_ + "/home/root-only.txt", "root's\n", 0600));
        ASSERT_TRUE(WriteFile(dir_ + "/home/world.txt", "for everyone\n", 0644));
        for (const char *p : {"/home", "/home/own.txt", "/drop"})
            ASSERT_EQ(chown((dir_ + p).c_str(), NobodyUid(), NobodyGid()), 0) << p;
        bob_ = porch::test::MakeKey(lan_->host_dir(2) + "/bob", "bob");
        ASSERT_FALSE(bob_.empty());
        std::string conf =
                "[porch]\nlisten = " + lan_->address(1) + "\nport = " + std::to_string(kPort) +
                "\n[peer bob]\nkey = " + bob_ + "\n[share Home]\npath = " + dir_ +
                "/home\nread = guest;bob\n[share Drop]\npath = " + dir_ + "/drop\nwrite = guest\n";
        ASSERT_TRUE(WriteFile(dir_ + "/porch.conf", conf));
        log_ = dir_ + "/porchd.log";
        launcher_ = lan_->spawn(1,
                                {PORCH_PROGRAM_PORCHD, "--config", dir_ + "/porch.conf",
                                 "--state-dir", dir_ + "/state"},
                                log_);
        ASSERT_GT(launcher_, 0);
        ASSERT_TRUE(porch::test::WaitFor(
                [&] { return ReadFile(log_).find("running") != std::string::npos; }, 10))
                << ReadFile(log_);
    }
    void TearDown() override
    {
        if (HasFailure() && lan_)
            std::cerr << "---- porchd's log ----\n" << ReadFile(log_);
    }
    // Runs fn with a client on host 2: a guest, or bob with his key.
    void OnClient(const std::function<void(RawSftp &)> &fn, bool as_bob = false)
    {
        std::string address = lan_->address(1), key = lan_->host_dir(2) + "/bob";
        ASSERT_TRUE(lan_->in_netns(2, [&] {
            RawSftp c;
            std::string err =
                    as_bob ? c.Connect(address, kPort, "bob", key) : c.Connect(address, kPort);
            if (!err.empty()) {
                ADD_FAILURE() << err;
                return;
            }
            fn(c);
        }));
    }

    std::unique_ptr<porch::test::TestLan> lan_;
    std::string why_, dir_, log_, bob_;
    bool may_skip_ = false;
    pid_t launcher_ = -1;
};

TEST_F(LeastPrivilege, NothingThatReadsTheNetworkRunsAsRootOrUnconfined)
{
    OnClient([&](RawSftp &c) {
        // a file open: the session and the share's worker run
        Packet h = c.Open("/Home/world.txt", FXF_READ);
        ASSERT_EQ(h.type, porch::test::FXP_HANDLE);
        // A worker confines itself as it starts, before it reads a request; the indexers
        // start with porchd and may not be there yet (it took longer than the open above
        // once, under ASan in CI).
        EXPECT_TRUE(porch::test::WaitFor(
                [&] {
                    for (const Proc &p : ProcessTree(launcher_))
                        if (p.comm == "porchd-worker" && p.status.count("Seccomp") > 0 &&
                            p.status.at("Seccomp") != "2")
                            return false;
                    return true;
                },
                10))
                << "a worker was not confined 10 s after porchd started it";

        std::vector<Proc> tree = ProcessTree(launcher_);
        std::set<std::string> tcp = TcpInodes(launcher_);
        int with_tcp = 0, sessions = 0, workers = 0, indexers = 0, roots = 0;
        for (const Proc &p : tree) {
            SCOPED_TRACE(p.comm + " " + std::to_string(p.pid));
            uid_t uid = (uid_t)atoi(p.status.at("Uid").c_str());
            if (uid == 0)
                roots++;
            if (p.comm == "porchd-session")
                sessions++;
            if (p.comm == "porchd-worker") {
                /* the content index's, read-only at idle priority, and the file workers */
                if (IsIndexer(p.pid))
                    indexers++;
                else
                    workers++;
                EXPECT_EQ(uid, NobodyUid()) << "a worker runs as its share's owner";
                EXPECT_EQ(p.status.at("Seccomp"), "2");
                EXPECT_EQ(p.status.at("NoNewPrivs"), "1");
                EXPECT_EQ(p.status.at("CapEff"), "0000000000000000");
            }
            if (p.pid != launcher_) {
                EXPECT_EQ(UnconfinedThreads(p.pid), std::vector<std::string>())
                        << "threads without the process's seccomp filter";
            }
            if (!HoldsTcp(p.pid, tcp))
                continue;
            with_tcp++;
            EXPECT_NE(p.pid, launcher_) << "the launcher holds a TCP socket";
            EXPECT_NE(uid, 0u);
            EXPECT_EQ(p.status.at("CapEff"), "0000000000000000");
            EXPECT_EQ(p.status.at("NoNewPrivs"), "1");
            EXPECT_EQ(p.status.at("Seccomp"), "2");
        }
        EXPECT_EQ(roots, 1) << "only the launcher runs as root";
        EXPECT_GE(with_tcp, 2) << "the network side (listening) and the session";
        EXPECT_EQ(sessions, 1);
        EXPECT_EQ(workers, 1);
        EXPECT_EQ(indexers, 2) << "one indexer per share, confined like the workers";
        c.Close(h.get_str());
    });
}

// A share's worker outlives its sessions for a while, for the next one, and is then let go:
// an idle porchd keeps no worker but its indexers. The next session starts a new one.
TEST_F(LeastPrivilege, IdleShareWorkerIsLetGoAndStartedAgain)
{
    auto file_workers = [&] {
        std::vector<pid_t> pids;
        for (const Proc &p : ProcessTree(launcher_))
            if (p.comm == "porchd-worker" && !IsIndexer(p.pid))
                pids.push_back(p.pid);
        return pids;
    };
    auto read_world = [&] {
        OnClient([&](RawSftp &c) {
            Packet h = c.Open("/Home/world.txt", FXF_READ);
            ASSERT_EQ(h.type, porch::test::FXP_HANDLE);
            std::string handle = h.get_str();
            EXPECT_EQ(c.Read(handle, 0, 100).get_str(), "for everyone\n");
            c.Close(handle);
        });
    };
    read_world();
    std::vector<pid_t> first = file_workers();
    ASSERT_EQ(first.size(), 1u);
    // a session soon after the last one finds the same worker
    g_usleep(2 * G_USEC_PER_SEC);
    read_world();
    EXPECT_EQ(file_workers(), first) << "the worker was not kept for the next session";
    // once its last session is over, the worker goes (porchd keeps it 10 s)
    EXPECT_TRUE(porch::test::WaitFor([&] { return file_workers().empty(); }, 30))
            << "the idle worker was not let go";
    EXPECT_EQ(kill(first[0], 0), -1) << "the worker ended";
    // the next session starts a new worker, and reads as before
    read_world();
    std::vector<pid_t> again = file_workers();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_NE(again[0], first[0]);
}

// The kernel enforces the owner's permissions: what the owner cannot read, no peer gets.
TEST_F(LeastPrivilege, TheSharesOwnerRightsAreTheKernels)
{
    for (bool bob : {false, true}) {
        SCOPED_TRACE(bob ? "bob" : "guest");
        OnClient(
                [&](RawSftp &c) {
                    EXPECT_EQ(RawSftp::Status(c.Open("/Home/root-only.txt", FXF_READ)),
                              FX_PERMISSION_DENIED)
                            << "a root-only file";
                    Packet h = c.Open("/Home/own.txt", FXF_READ);
                    ASSERT_EQ(h.type, porch::test::FXP_HANDLE) << "the owner's private file";
                    std::string handle = h.get_str();
                    EXPECT_EQ(c.Read(handle, 0, 100).get_str(), "the owner's own\n");
                    c.Close(handle);
                },
                bob);
    }
    OnClient([&](RawSftp &c) {
        Packet h = c.Open("/Drop/up.txt", FXF_WRITE | FXF_CREAT | FXF_TRUNC);
        ASSERT_EQ(h.type, porch::test::FXP_HANDLE);
        std::string handle = h.get_str();
        EXPECT_EQ(RawSftp::Status(c.Write(handle, 0, "uploaded\n")), FX_OK);
        EXPECT_EQ(RawSftp::Status(c.Close(handle)), FX_OK);
    });
    struct stat st;
    ASSERT_EQ(stat((dir_ + "/drop/up.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, NobodyUid()) << "an upload lands as the share owner's";
    EXPECT_EQ(ReadFile(dir_ + "/drop/up.txt"), "uploaded\n");
}

// ---- Landlock alone ---------------------------------------------------------------------

class Landlock : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        if (porch_sandbox_landlock_abi() == 0)
            GTEST_SKIP() << "this kernel has no Landlock (or it is not enabled)";
        g_autofree char *base = g_dir_make_tmp("porch-landlock-XXXXXX", nullptr);
        ASSERT_NE(base, nullptr);
        base_ = base;
        root_ = base_ + "/share";
        ASSERT_EQ(chmod(base_.c_str(), 0755), 0);
        for (const char *d : {"/share/sub", "/outside/dir"})
            ASSERT_EQ(g_mkdir_with_parents((base_ + d).c_str(), 0755), 0);
        ASSERT_TRUE(WriteFile(root_ + "/a.txt", "inside\n"));
        ASSERT_TRUE(WriteFile(base_ + "/outside/secret", "TOP SECRET\n"));
        for (const auto &[link, target] : std::vector<std::pair<std::string, std::string>>{
                     {"abs", "/etc"},
                     {"abs-secret", base_ + "/outside/secret"},
                     {"6dots", "../../.."},
                     {"rel-secret", "../outside/secret"},
                     {"out-dir", "../outside/dir"},
                     {"sub/up", "../../outside"}})
            ASSERT_EQ(symlink(target.c_str(), (root_ + "/" + link).c_str()), 0) << link;
        if (geteuid() == 0) {
            owner_ = NobodyUid();
            group_ = NobodyGid();
            // the owner could reach everything outside by its permissions: only Landlock
            // stands in the way
            std::string cmd = "chown -R nobody:" + std::to_string(group_) + " " + base_;
            ASSERT_EQ(system(cmd.c_str()), 0);
        } else {
            owner_ = geteuid();
            group_ = getegid();
        }
        files_.reset(StartWorker(PORCH_PROGRAM_PORCHD_WORKER_UNCHECKED));
        ASSERT_NE(files_, nullptr);
    }
    void TearDown() override
    {
        files_.reset();
        if (worker_ > 0) {
            int status;
            kill(worker_, SIGKILL);
            waitpid(worker_, &status, 0);
        }
        std::error_code ec;
        std::filesystem::remove_all(base_, ec);
    }
    PorchFiles *StartWorker(const std::string &program)
    {
        int ctl[2], cli[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) != 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cli) != 0)
            return nullptr;
        worker_ = fork();
        if (worker_ == 0) {
            dup2(ctl[1], 3);
            if (geteuid() == 0 &&
                (setgroups(0, nullptr) != 0 || setresgid(group_, group_, group_) != 0 ||
                 setresuid(owner_, owner_, owner_) != 0))
                _exit(127);
            execl(program.c_str(), program.c_str(), "--root", root_.c_str(), "--write", nullptr);
            _exit(127);
        }
        close(ctl[1]);
        bool sent = porch_fd_send(ctl[0], "c", 1, &cli[1], 1);
        control_ = ctl[0];
        close(cli[1]);
        if (!sent) {
            close(cli[0]);
            return nullptr;
        }
        return porch_files_new_remote(cli[0]);
    }

    std::string base_, root_;
    uid_t owner_ = 0;
    gid_t group_ = 0;
    pid_t worker_ = -1;
    int control_ = -1;
    std::unique_ptr<PorchFiles, void (*)(PorchFiles *)> files_{nullptr, porch_files_free};
};

TEST_F(Landlock, HoldsWhereTheJailChecksNothing)
{
    PorchFiles *f = files_.get();
    // the jail really checks nothing in this build: out and back in is allowed
    int fd = porch_files_open(f, "../share/a.txt", O_RDONLY, 0, 0);
    EXPECT_GE(fd, 0) << "the unchecked jail refused a path the kernel resolves inside";
    if (fd >= 0)
        close(fd);

    // test-jail's escapes, read and written: the kernel follows them, Landlock refuses
    for (const char *path :
         {"..", "../outside/secret", "sub/../../outside/secret", "/etc/passwd", "abs/passwd",
          "abs-secret", "6dots/etc/passwd", "rel-secret", "out-dir", "sub/up/secret"}) {
        SCOPED_TRACE(path);
        int r = porch_files_open(f, path, O_RDONLY, 0, 0);
        EXPECT_LT(r, 0) << "read outside the share";
        if (r >= 0)
            close(r);
        EXPECT_EQ(r, -EACCES);
    }
    for (const char *path :
         {"../outside/new", "out-dir/new", "6dots/tmp/porch-landlock-new", "sub/up/new"}) {
        SCOPED_TRACE(path);
        int r = porch_files_open(f, path, O_WRONLY | O_CREAT, 0644, 0);
        EXPECT_LT(r, 0) << "created outside the share";
        if (r >= 0)
            close(r);
    }
    EXPECT_LT(porch_files_mkdir(f, "../outside/newdir", 0755), 0);
    EXPECT_LT(porch_files_rename(f, "a.txt", "../outside/moved", TRUE), 0);
    EXPECT_LT(porch_files_remove(f, "../outside/secret"), 0);
    EXPECT_EQ(ReadFile(base_ + "/outside/secret"), "TOP SECRET\n");
    EXPECT_FALSE(porch::test::Exists(base_ + "/outside/new"));
    EXPECT_FALSE(porch::test::Exists(base_ + "/outside/newdir"));
    EXPECT_FALSE(porch::test::Exists(base_ + "/outside/moved"));
    EXPECT_EQ(ReadFile(root_ + "/a.txt"), "inside\n");
}

} // namespace

namespace
{

// avahi-browse -p's name, its \DDD (decimal) escapes undone.
std::string
Unescape(const std::string &s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && isdigit(s[i + 1]) && isdigit(s[i + 2]) &&
            isdigit(s[i + 3])) {
            out.push_back((char)std::stoi(s.substr(i + 1, 3)));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// A session's confinement, in a child process: its exit status is 0, or the number of the
// first check (below) that did not go as it should.
TEST(StateConfinement, ASessionWritesOnlyWhatItWasGiven)
{
    if (porch_sandbox_landlock_abi() == 0)
        GTEST_SKIP() << "this kernel has no Landlock (or it is not enabled)";
    g_autofree char *base = g_dir_make_tmp("porch-state-XXXXXX", nullptr);
    ASSERT_NE(base, nullptr);
    const std::string state = std::string(base) + "/state", outside = std::string(base) + "/out";
    ASSERT_EQ(g_mkdir_with_parents((state + "/pending").c_str(), 0700), 0);
    ASSERT_EQ(g_mkdir_with_parents(outside.c_str(), 0700), 0);
    ASSERT_TRUE(WriteFile(state + "/running.conf", "[porch]\nname = Here\n"));
    ASSERT_TRUE(WriteFile(state + "/index.sqlite-shm", "shm"));

    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const char *const writable[] = {"pending", "uploads", "index.sqlite-shm", nullptr};
        gboolean landlocked = FALSE;
        if (!porch_sandbox_confine_to_state(state.c_str(), writable, &landlocked, nullptr) ||
            !landlocked)
            _exit(255);
        auto opens = [](const std::string &path, int flags) {
            int fd = open(path.c_str(), flags | O_CLOEXEC, 0600);
            if (fd >= 0)
                close(fd);
            return fd >= 0;
        };
        const bool checks[] = {
                opens(state + "/running.conf", O_RDONLY),            // 1: read: yes
                !opens(state + "/running.conf", O_WRONLY | O_TRUNC), // 2: rewrite: no
                !opens(state + "/new-file", O_WRONLY | O_CREAT),     // 3: add beside: no
                rename((state + "/running.conf").c_str(), (state + "/x").c_str()) != 0, // 4
                opens(state + "/pending/request", O_WRONLY | O_CREAT), // 5: given: yes
                opens(state + "/index.sqlite-shm", O_RDWR),            // 6: given file: yes
                mkdir((state + "/uploads").c_str(), 0700) != 0,        // 7: missing stays so
                !opens(outside + "/x", O_WRONLY | O_CREAT),            // 8: outside: no
                !opens("/etc/hostname", O_RDONLY),                     // 9: nor elsewhere
        };
        for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
            if (!checks[i])
                _exit(int(i) + 1);
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0)
            << "check " << WEXITSTATUS(status) << " failed (255: the confinement itself)";
    EXPECT_EQ(ReadFile(state + "/running.conf"), "[porch]\nname = Here\n");
    EXPECT_TRUE(std::filesystem::exists(state + "/pending/request"));
    EXPECT_FALSE(std::filesystem::exists(state + "/new-file"));
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
}

// The per-user service beside the system service on one machine: each publishes its own name
// and port, and each serves its own shares.
TEST(PerUser, SystemAndUserServicesShareAHost)
{
    PORCH_REQUIRE_LAN(lan, 2);
    std::string d = lan->host_dir(1);
    for (std::string p = d; p != "/" && p.size() > 1; p = p.substr(0, p.rfind('/')))
        chmod(p.c_str(), 0755);
    std::string home = d + "/home", conf_dir = home + "/.config/porch";
    ASSERT_EQ(g_mkdir_with_parents((d + "/sys").c_str(), 0755), 0);
    ASSERT_EQ(g_mkdir_with_parents((d + "/mine").c_str(), 0755), 0);
    ASSERT_EQ(g_mkdir_with_parents(conf_dir.c_str(), 0755), 0);
    ASSERT_TRUE(WriteFile(d + "/sys/s.txt", "from the system service\n"));
    ASSERT_TRUE(WriteFile(d + "/mine/m.txt", "from nobody's own porchd\n"));
    ASSERT_TRUE(WriteFile(d + "/system.conf", "[porch]\nlisten = " + lan->address(1) +
                                                      "\n[share Sys]\npath = " + d +
                                                      "/sys\nread = guest\n"));
    ASSERT_TRUE(WriteFile(conf_dir + "/porch.conf", "[porch]\nlisten = " + lan->address(1) +
                                                            "\n[share Mine]\npath = " + d +
                                                            "/mine\nread = guest\n"));
    std::string cmd = "chown -R nobody:" + std::to_string(NobodyGid()) + " " + home + " " + d +
                      "/sys " + d + "/mine";
    ASSERT_EQ(system(cmd.c_str()), 0);

    std::string sys_log = d + "/system.log", user_log = d + "/user.log";
    ASSERT_GT(lan->spawn(1,
                         {PORCH_PROGRAM_PORCHD, "--config", d + "/system.conf", "--state-dir",
                          d + "/state"},
                         sys_log),
              0);
    ASSERT_TRUE(porch::test::WaitFor(
            [&] { return ReadFile(sys_log).find("running") != std::string::npos; }, 10))
            << ReadFile(sys_log);
    ASSERT_GT(lan->spawn(1,
                         {"setpriv", "--reuid=nobody", "--regid=" + std::to_string(NobodyGid()),
                          "--clear-groups", "env", "HOME=" + home,
                          "XDG_CONFIG_HOME=" + home + "/.config",
                          "XDG_STATE_HOME=" + home + "/.local/state", "USER=nobody",
                          PORCH_PROGRAM_PORCHD},
                         user_log),
              0);
    ASSERT_TRUE(porch::test::WaitFor(
            [&] { return ReadFile(user_log).find("running") != std::string::npos; }, 10))
            << ReadFile(user_log);
    EXPECT_NE(ReadFile(user_log).find("port 4422 is taken"), std::string::npos)
            << ReadFile(user_log);

    // both published, each with its own name and port
    std::map<std::string, std::string> port_of; // share instance -> port
    ASSERT_TRUE(porch::test::WaitFor(
            [&] {
                auto r = lan->run(2, {"avahi-browse", "-rpt", "_sftp-ssh._tcp"}, 10);
                std::istringstream lines(r.out);
                for (std::string line; std::getline(lines, line);) {
                    std::vector<std::string> f;
                    std::istringstream fields(line);
                    for (std::string x; std::getline(fields, x, ';');)
                        f.push_back(x);
                    if (f.size() >= 9 && f[0] == "=" && f[2] == "IPv4")
                        port_of[Unescape(f[3])] = f[8];
                }
                return port_of.size() >= 2;
            },
            15));
    std::string sys_port, user_port;
    for (const auto &[name, port] : port_of) {
        if (name.rfind("Sys on ", 0) == 0)
            sys_port = port;
        if (name.rfind("Mine on nobody on ", 0) == 0)
            user_port = port;
    }
    ASSERT_EQ(sys_port, "4422") << "the system service's share";
    ASSERT_FALSE(user_port.empty()) << "the per-user service's share, by its own name";
    EXPECT_NE(user_port, sys_port);

    // and both serve
    for (const auto &[port, path, want] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
                 {sys_port, "/Sys/s.txt", "from the system service\n"},
                 {user_port, "/Mine/m.txt", "from nobody's own porchd\n"}}) {
        std::string got = lan->host_dir(2) + "/got-" + port;
        std::string batch = lan->host_dir(2) + "/batch-" + port;
        ASSERT_TRUE(WriteFile(batch, "get " + path + " " + got + "\n"));
        auto r = lan->run(2,
                          {"sftp", "-b", batch, "-P", port, "-o", "StrictHostKeyChecking=no", "-o",
                           "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                           "guest@" + lan->address(1)},
                          20);
        EXPECT_TRUE(r.ok()) << r.describe();
        EXPECT_EQ(ReadFile(got), want) << "port " << port;
    }
}

} // namespace

namespace
{

// porchd --check-config names each share whose owner (the user its worker runs as) cannot read
// the folder, or write it where a rule gives write, with the fix.
TEST(CheckConfig, NamesASharesOwnerWhoCannotReadOrWrite)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root, to check another user's rights";
    if (getpwnam("porch") == nullptr)
        GTEST_FAIL() << "no system user porch (scripts/dev deps makes it)";
    g_autofree char *base = g_dir_make_tmp("porch-check-XXXXXX", nullptr);
    ASSERT_NE(base, nullptr);
    std::string d = base;
    ASSERT_EQ(chmod(d.c_str(), 0755), 0);
    for (const char *p : {"/root-private", "/root-public", "/nobodys"})
        ASSERT_EQ(g_mkdir_with_parents((d + p).c_str(), 0755), 0);
    ASSERT_EQ(chmod((d + "/root-private").c_str(), 0700), 0);
    ASSERT_EQ(chown((d + "/nobodys").c_str(), NobodyUid(), NobodyGid()), 0);
    auto check = [&](const std::string &conf) {
        EXPECT_TRUE(WriteFile(d + "/porch.conf", conf));
        return porch::test::TestLan::run_local(
                {PORCH_PROGRAM_PORCHD, "--check-config", "--config", d + "/porch.conf"});
    };

    auto good = check("[share Mine]\npath = " + d +
                      "/nobodys\nwrite = guest\n[share Pub]\npath = " + d +
                      "/root-public\nread = guest\n");
    EXPECT_TRUE(good.ok()) << good.describe();
    EXPECT_EQ(good.out, "OK\n");

    auto unreadable =
            check("[porch]\n\n[share Private]\npath = " + d + "/root-private\nread = guest\n");
    EXPECT_EQ(unreadable.exit_status, 1);
    EXPECT_NE(unreadable.err.find(d + "/porch.conf:4: [share Private] path: " + d +
                                  "/root-private is served as porch"),
              std::string::npos)
            << unreadable.err;
    EXPECT_NE(unreadable.err.find("cannot read it"), std::string::npos) << unreadable.err;

    auto unwritable =
            check("[share Pub]\npath = " + d + "/root-public\nowner = nobody\nwrite = guest\n");
    EXPECT_EQ(unwritable.exit_status, 1);
    EXPECT_NE(unwritable.err.find("[share Pub] path: " + d +
                                  "/root-public is served as nobody, who cannot write in it"),
              std::string::npos)
            << unwritable.err;

    auto nobody = check("[share Pub]\npath = " + d + "/root-public\nowner = nosuchuser\n");
    EXPECT_EQ(nobody.exit_status, 1);
    EXPECT_NE(nobody.err.find(":3: [share Pub] owner: there is no user nosuchuser"),
              std::string::npos)
            << nobody.err;
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
}

} // namespace
