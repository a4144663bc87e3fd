// test-cli-progress.cc — what `porch get` and `porch put` tell while and after they work: the
// progress frames (drawn to a pipe with PORCH_PROGRESS=always), the summary, the free-space
// refusal and the --json result. The real porch command on test-LAN host 2 against a real
// porchd on host 1; the link is slowed with tc where a transfer must last long enough to be
// watched.
//
//   TreeFirstFrameSaysListing          get -r and put -r: "NAME  listing…" first, never
//                                      "files 0/0+"; in every frame the tree's name or a
//                                      file's path (cut from its start in 80 columns: the link
//                                      is slowed so that a cut path is drawn); a summary
//   NameInEveryFrameOfGetAndPut        a file's name in each frame of a get and of a put
//   StalledWhenTheNeighbourStops       porchd's session stopped (SIGSTOP) mid-transfer: frames
//                                      say "0 B/s  stalled" (drawn without reports), and after
//                                      SIGCONT the file arrives whole
//   FailureSummarySaysWhatFailed       a tree with an unreadable file, a session killed
//                                      mid-file: what failed and what arrived, no success line
//   FreeSpaceRefusedBeforeWriting      a file larger than a small tmpfs: refused before a byte
//                                      is written, no file and no .part; a .part counts
//   JsonResultsOfGetAndPut             --json: each file's path, bytes, sha256 (that of the
//                                      file), status and the totals; no frames; errors on stderr
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <json-glib/json-glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "testlan.h"
#include "test-util.h"

namespace
{

using porch::test::Contains;
using porch::test::Exists;
using porch::test::GiveToShareOwner;
using porch::test::Leftovers;
using porch::test::MakeDirs;
using porch::test::MakeKey;
using porch::test::MakeRandomFile;
using porch::test::PorchdSessions;
using porch::test::ReadFile;
using porch::test::RunResult;
using porch::test::Sha256File;
using porch::test::TestLan;
using porch::test::WaitFor;
using porch::test::WriteFile;

constexpr const char *kPorch = PORCH_PROGRAM_PORCH_CLI;
constexpr const char *kPorchd = PORCH_PROGRAM_PORCHD;

// What porch wrote on stderr, cut into progress frames and the other lines. A frame is
// "\rTEXT\033[K"; a line porch prints while a frame is up comes after "\r\033[K".
struct Stderr {
    std::vector<std::string> frames;
    std::string text; // everything but the frames
};

Stderr
Parse(const std::string &err)
{
    static const std::string kClear = "\033[K";
    Stderr s;
    size_t at = 0;
    while (at < err.size()) {
        size_t cr = err.find('\r', at);
        std::string piece = err.substr(at, cr == std::string::npos ? std::string::npos : cr - at);
        at = cr == std::string::npos ? err.size() : cr + 1;
        if (piece.rfind(kClear, 0) == 0) {
            s.text += piece.substr(kClear.size());
        } else if (piece.size() >= kClear.size() &&
                   piece.compare(piece.size() - kClear.size(), kClear.size(), kClear) == 0) {
            s.frames.push_back(piece.substr(0, piece.size() - kClear.size()));
        } else {
            s.text += piece;
        }
    }
    return s;
}

std::string
Show(const std::vector<std::string> &frames)
{
    std::string s;
    for (const std::string &f : frames)
        s += "  [" + f + "]\n";
    return s;
}

class ProgressTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        PORCH_REQUIRE_TOOLS("ssh-keygen", "tc", "unshare", "sh", "head");
        std::string why_not;
        bool may_skip = false;
        lan_ = TestLan::Create(2, &why_not, &may_skip);
        if (!lan_) {
            if (may_skip)
                GTEST_SKIP() << "test LAN unavailable: " << why_not;
            GTEST_FAIL() << "test LAN unavailable: " << why_not;
        }
        umask(022);
        const std::string h1 = lan_->host_dir(1), h2 = lan_->host_dir(2);
        work_ = h1 + "/work";
        local_ = h2 + "/local";
        xdg_ = h2 + "/xdg";
        ASSERT_TRUE(MakeDirs(work_) && MakeDirs(local_) && MakeDirs(xdg_ + "/porch", 0700));
        std::string key = MakeKey(xdg_ + "/porch/id_ed25519", "me@host2");
        ASSERT_FALSE(key.empty());
        std::string conf = "[porch]\nname = Progress\nlisten = " + lan_->address(1) +
                           "\n\n[peer me]\nkey = " + key + "\n\n[share Work]\npath = " + work_ +
                           "\nwrite = me\n";
        ASSERT_TRUE(WriteFile(h1 + "/porch.conf", conf));
        ASSERT_TRUE(GiveToShareOwner(work_));
        std::string log = h1 + "/porchd.log";
        porchd_ = lan_->spawn(
                1, {kPorchd, "--config", h1 + "/porch.conf", "--state-dir", h1 + "/state"}, log);
        ASSERT_GT(porchd_, 0);
        ASSERT_TRUE(WaitFor([&] { return Contains(ReadFile(log), " running: "); }, 15))
                << ReadFile(log);
    }

    // argv that runs porch with args on host 2, progress frames drawn to the pipe.
    std::vector<std::string> PorchArgv(const std::vector<std::string> &args) const
    {
        std::vector<std::string> argv = {"env",
                                         "LANG=C.UTF-8",
                                         "LC_ALL=C.UTF-8",
                                         "XDG_CONFIG_HOME=" + xdg_,
                                         "PORCH_PROGRESS=always",
                                         kPorch};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    RunResult Porch(const std::vector<std::string> &args, double timeout = 120)
    {
        return lan_->run(2, PorchArgv(args), timeout);
    }

    std::string Remote(const std::string &path) const
    {
        return lan_->address(1) + "/Work/" + path;
    }

    // Slows what host `host` sends to about 40 Mbit/s (5 MB/s).
    void Throttle(int host)
    {
        RunResult r = lan_->run(host, {"tc", "qdisc", "replace", "dev", "eth0", "root", "tbf",
                                       "rate", "40mbit", "burst", "64kb", "latency", "400ms"});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    std::unique_ptr<TestLan> lan_;
    pid_t porchd_ = -1;
    std::string work_, local_, xdg_;
};

// Every frame of `frames` holds `name`.
::testing::AssertionResult
NameInEveryFrame(const std::vector<std::string> &frames, const std::string &name)
{
    if (frames.empty())
        return ::testing::AssertionFailure() << "no frame at all";
    for (const std::string &f : frames)
        if (!Contains(f, name))
            return ::testing::AssertionFailure() << "a frame without " << name << ":\n"
                                                 << Show(frames);
    return ::testing::AssertionSuccess();
}

// Every frame of `frames` begins with the name of the tree or of a file in it, as one of
// `paths` or as the end of one after "…" (the line cuts a name from its start when the
// terminal is narrow: "…bum/2024/beach.jpg" in 80 columns), and that end holds the file's
// own name.
::testing::AssertionResult
TreePathInEveryFrame(const std::vector<std::string> &frames, const std::vector<std::string> &paths)
{
    static const std::string kCut = "…";
    if (frames.empty())
        return ::testing::AssertionFailure() << "no frame at all";
    for (const std::string &f : frames) {
        const std::string name = f.substr(0, f.find("  "));
        bool ok = false;
        for (const std::string &path : paths) {
            const std::string base = path.substr(path.rfind('/') + 1);
            if (name == path) {
                ok = true;
            } else if (name.rfind(kCut, 0) == 0) {
                const std::string tail = name.substr(kCut.size());
                ok = tail.size() >= base.size() && tail.size() < path.size() &&
                     path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
            }
            if (ok)
                break;
        }
        if (!ok)
            return ::testing::AssertionFailure()
                   << "a frame that names no path of the tree: [" << f << "]\n"
                   << Show(frames);
    }
    return ::testing::AssertionSuccess();
}

TEST_F(ProgressTest, TreeFirstFrameSaysListing)
{
    const std::string tree = work_ + "/Album";
    ASSERT_TRUE(MakeDirs(tree + "/2024"));
    ASSERT_FALSE(MakeRandomFile(tree + "/2024/beach.jpg", 3 << 20, 1).empty());
    ASSERT_FALSE(MakeRandomFile(tree + "/cover.jpg", 1 << 20, 2).empty());
    ASSERT_TRUE(GiveToShareOwner(tree));

    Throttle(1); // 4 MiB take about a second: frames of each file, cut ones among them
    std::vector<std::string> args = {"get", "-r", Remote("Album"), local_};
    RunResult r = Porch(args);
    ASSERT_TRUE(r.ok()) << r.describe();
    Stderr s = Parse(r.err);
    ASSERT_FALSE(s.frames.empty()) << r.err;
    EXPECT_EQ(s.frames.front(), "Album  listing…") << Show(s.frames);
    EXPECT_TRUE(
            TreePathInEveryFrame(s.frames, {"Album", "Album/cover.jpg", "Album/2024/beach.jpg"}));
    for (const std::string &f : s.frames)
        EXPECT_FALSE(Contains(f, "files 0/0+") || Contains(f, "0 B / 0 B+")) << Show(s.frames);
    EXPECT_TRUE(Contains(s.text, "2 files, 4.0 MiB in ")) << s.text;
    EXPECT_EQ(Sha256File(local_ + "/Album/2024/beach.jpg"), Sha256File(tree + "/2024/beach.jpg"));

    // put -r of the same tree as a new folder
    Throttle(2);
    args = {"put", "-r", local_ + "/Album", Remote("Copy")};
    r = Porch(args);
    ASSERT_TRUE(r.ok()) << r.describe();
    s = Parse(r.err);
    ASSERT_FALSE(s.frames.empty()) << r.err;
    EXPECT_EQ(s.frames.front(), "Album  listing…") << Show(s.frames);
    EXPECT_TRUE(
            TreePathInEveryFrame(s.frames, {"Album", "Album/cover.jpg", "Album/2024/beach.jpg"}));
    EXPECT_TRUE(Contains(s.text, "2 files, 4.0 MiB in ")) << s.text;
    EXPECT_EQ(Sha256File(work_ + "/Copy/cover.jpg"), Sha256File(tree + "/cover.jpg"));
}

TEST_F(ProgressTest, NameInEveryFrameOfGetAndPut)
{
    ASSERT_FALSE(MakeRandomFile(work_ + "/report-2024.pdf", 12 << 20, 3).empty());
    ASSERT_TRUE(GiveToShareOwner(work_ + "/report-2024.pdf"));
    Throttle(1);
    RunResult r = Porch({"get", Remote("report-2024.pdf"), local_});
    ASSERT_TRUE(r.ok()) << r.describe();
    Stderr s = Parse(r.err);
    EXPECT_GE(s.frames.size(), 5u) << "12 MiB at 5 MB/s should take a few frames\n"
                                   << Show(s.frames);
    EXPECT_TRUE(NameInEveryFrame(s.frames, "report-2024.pdf"));
    // the rate is measured over a short window: once it is, frames show it and a time left
    bool rate = false;
    for (const std::string &f : s.frames)
        rate = rate || (Contains(f, "MiB/s  ETA 0:0") || Contains(f, "KiB/s  ETA 0:0"));
    EXPECT_TRUE(rate) << Show(s.frames);
    EXPECT_TRUE(Contains(s.text, "12.0 MiB in ")) << s.text;

    Throttle(2);
    ASSERT_FALSE(MakeRandomFile(local_ + "/upload-me.iso", 12 << 20, 4).empty());
    r = Porch({"put", local_ + "/upload-me.iso", Remote("")});
    ASSERT_TRUE(r.ok()) << r.describe();
    s = Parse(r.err);
    EXPECT_GE(s.frames.size(), 5u) << Show(s.frames);
    EXPECT_TRUE(NameInEveryFrame(s.frames, "upload-me.iso"));
    EXPECT_EQ(Sha256File(work_ + "/upload-me.iso"), Sha256File(local_ + "/upload-me.iso"));
}

TEST_F(ProgressTest, StalledWhenTheNeighbourStops)
{
    const std::string want = MakeRandomFile(work_ + "/stall.bin", 40 << 20, 5);
    ASSERT_FALSE(want.empty());
    ASSERT_TRUE(GiveToShareOwner(work_ + "/stall.bin"));
    Throttle(1);
    const std::string log = lan_->host_dir(2) + "/stall.log";
    pid_t porch = lan_->spawn(2, PorchArgv({"get", Remote("stall.bin"), local_}), log);
    ASSERT_GT(porch, 0);

    // Once frames show a rate, the session stops answering: no byte comes, no report either
    ASSERT_TRUE(WaitFor(
            [&] {
                for (const std::string &f : Parse(ReadFile(log)).frames)
                    if (Contains(f, "MiB/s  ETA"))
                        return true;
                return false;
            },
            30))
            << Show(Parse(ReadFile(log)).frames);
    std::vector<pid_t> sessions = PorchdSessions(porchd_);
    ASSERT_EQ(sessions.size(), 1u);
    ASSERT_EQ(kill(sessions[0], SIGSTOP), 0);
    size_t before = Parse(ReadFile(log)).frames.size();
    bool stalled = WaitFor(
            [&] {
                std::vector<std::string> frames = Parse(ReadFile(log)).frames;
                return frames.size() > before && Contains(frames.back(), "stall.bin") &&
                       Contains(frames.back(), "  0 B/s  stalled");
            },
            10);
    // frames go on while it is stopped: drawn on a timer, not on reports
    size_t during = Parse(ReadFile(log)).frames.size();
    sleep(1);
    size_t later = Parse(ReadFile(log)).frames.size();
    kill(sessions[0], SIGCONT);
    EXPECT_TRUE(stalled) << Show(Parse(ReadFile(log)).frames);
    EXPECT_GE(later, during + 5) << "frames should be redrawn about 10 times a second";

    ASSERT_TRUE(WaitFor([&] { return !lan_->running(porch); }, 60));
    EXPECT_EQ(lan_->stop(porch), 0) << ReadFile(log);
    Stderr s = Parse(ReadFile(log));
    EXPECT_TRUE(NameInEveryFrame(s.frames, "stall.bin"));
    // after it went on, the rate came back and "stalled" went
    EXPECT_FALSE(Contains(s.frames.back(), "stalled")) << Show(s.frames);
    EXPECT_TRUE(Contains(s.text, "40.0 MiB in ")) << s.text;
    EXPECT_EQ(Sha256File(local_ + "/stall.bin"), want);
}

TEST_F(ProgressTest, FailureSummarySaysWhatFailed)
{
    // (a) a tree where one file cannot be read by the share's owner
    const std::string tree = work_ + "/Mixed";
    ASSERT_TRUE(MakeDirs(tree));
    ASSERT_FALSE(MakeRandomFile(tree + "/a.bin", 1 << 20, 6).empty());
    ASSERT_FALSE(MakeRandomFile(tree + "/b.bin", 1 << 20, 7).empty());
    ASSERT_TRUE(WriteFile(tree + "/secret.txt", "no\n", 0000));
    ASSERT_TRUE(GiveToShareOwner(tree));
    RunResult r = Porch({"get", "-r", Remote("Mixed"), local_});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    Stderr s = Parse(r.err);
    EXPECT_TRUE(Contains(s.text, "secret.txt: ")) << s.text;
    EXPECT_TRUE(Contains(s.text, "porch: 1 of 3 files failed; 2 arrived (2.0 MiB of ")) << s.text;
    EXPECT_FALSE(Contains(s.text, " in ")) << "no success-style summary:\n" << s.text;

    // (b) the connection ends in the middle of a file
    ASSERT_FALSE(MakeRandomFile(work_ + "/cut.bin", 40 << 20, 8).empty());
    ASSERT_TRUE(GiveToShareOwner(work_ + "/cut.bin"));
    Throttle(1);
    const std::string log = lan_->host_dir(2) + "/cut.log";
    pid_t porch = lan_->spawn(2, PorchArgv({"get", Remote("cut.bin"), local_}), log);
    ASSERT_GT(porch, 0);
    ASSERT_TRUE(WaitFor(
            [&] {
                for (const std::string &f : Parse(ReadFile(log)).frames)
                    if (Contains(f, " MiB / 40.0 MiB"))
                        return true;
                return false;
            },
            30))
            << ReadFile(log);
    std::vector<pid_t> sessions = PorchdSessions(porchd_);
    ASSERT_EQ(sessions.size(), 1u);
    kill(sessions[0], SIGKILL);
    ASSERT_TRUE(WaitFor([&] { return !lan_->running(porch); }, 60));
    EXPECT_EQ(lan_->stop(porch), 1) << ReadFile(log);
    s = Parse(ReadFile(log));
    EXPECT_TRUE(Contains(s.text, "porch: cut.bin not fetched (")) << s.text;
    EXPECT_TRUE(Contains(s.text, " of 40.0 MiB had arrived)\n")) << s.text;
    EXPECT_FALSE(Contains(s.text, " in ")) << "no success-style summary:\n" << s.text;
    EXPECT_FALSE(Exists(local_ + "/cut.bin"));
}

TEST_F(ProgressTest, FreeSpaceRefusedBeforeWriting)
{
    const std::string src = work_ + "/disk.img";
    const std::string want = MakeRandomFile(src, 6 << 20, 9);
    ASSERT_FALSE(want.empty());
    ASSERT_TRUE(GiveToShareOwner(src));
    const std::string tiny = local_ + "/tiny";
    ASSERT_TRUE(MakeDirs(tiny));

    // In a mount namespace of its own, an 8 MiB tmpfs on tiny holding a FILLER of MiB and
    // the first PART MiB of the file as disk.img.part; then porch get into it, and what is
    // left there ("name size" per line) with the SHA-256 of disk.img if it arrived.
    auto get_into_tmpfs = [&](int filler, int part) {
        std::vector<std::string> argv = {
                "env",
                "FILLER=" + std::to_string(filler),
                "PART=" + std::to_string(part),
                "SRC=" + src,
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                "d=$1; shift; mount -t tmpfs -o size=8m porch-tiny \"$d\" || exit 99; "
                "[ \"$FILLER\" = 0 ] || head -c \"${FILLER}M\" /dev/zero >\"$d/filler\"; "
                "[ \"$PART\" = 0 ] || head -c \"${PART}M\" \"$SRC\" >\"$d/disk.img.part\"; "
                "\"$@\"; rc=$?; cd \"$d\" && for f in *; do echo \"left: $f $(stat -c %s "
                "\"$f\")\"; "
                "done; [ -f disk.img ] && sha256sum disk.img; exit $rc",
                "sh",
                tiny};
        for (const std::string &a : PorchArgv({"get", Remote("disk.img"), tiny}))
            argv.push_back(a);
        return lan_->run(2, argv, 60);
    };

    // 6 MiB into 5 MiB free: refused at once, nothing written, the sizes named
    RunResult r = get_into_tmpfs(3, 0);
    EXPECT_EQ(r.exit_status, 1) << r.describe() << "\n" << r.out;
    EXPECT_TRUE(Contains(r.err, "disk.img: needs 6.0 MiB, 5.0 MiB free on " + tiny)) << r.err;
    EXPECT_EQ(r.out, "left: filler 3145728\n") << "no file and no .part";
    EXPECT_FALSE(Contains(Parse(r.err).text, " in ")) << r.err;

    // a .part of 2 MiB counts: 4 MiB are needed, 3 MiB free; the .part is left as it was
    r = get_into_tmpfs(3, 2);
    EXPECT_EQ(r.exit_status, 1) << r.describe() << "\n" << r.out;
    EXPECT_TRUE(Contains(r.err, "disk.img: needs 4.0 MiB, 3.0 MiB free on " + tiny)) << r.err;
    EXPECT_EQ(r.out, "left: disk.img.part 2097152\nleft: filler 3145728\n");

    // without the filler, the rest of it fits: resumed, and whole
    r = get_into_tmpfs(0, 4);
    EXPECT_EQ(r.exit_status, 0) << r.describe() << "\n" << r.out;
    EXPECT_TRUE(Contains(r.err, "resuming at 4.0 MiB")) << r.err;
    EXPECT_TRUE(Contains(r.out, "left: disk.img 6291456\n" + want + "  disk.img\n")) << r.out;
}

// The parsed JSON of porch's stdout; asserts it is one object.
JsonNode *
ParseJson(const std::string &out)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = nullptr;
    if (!json_parser_load_from_data(parser, out.c_str(), -1, &error)) {
        ADD_FAILURE() << "not JSON: " << error->message << "\n" << out;
        return nullptr;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        ADD_FAILURE() << "not an object:\n" << out;
        return nullptr;
    }
    return json_node_copy(root);
}

TEST_F(ProgressTest, JsonResultsOfGetAndPut)
{
    const std::string tree = work_ + "/Set";
    ASSERT_TRUE(MakeDirs(tree + "/sub"));
    const std::string sha_one = MakeRandomFile(tree + "/one.bin", 3 << 20, 10);
    const std::string sha_two = MakeRandomFile(tree + "/sub/two.bin", 12345, 11);
    ASSERT_TRUE(WriteFile(tree + "/locked.txt", "no\n", 0000));
    ASSERT_TRUE(GiveToShareOwner(tree));

    RunResult r = Porch({"get", "-r", "--json", Remote("Set"), local_});
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_TRUE(Parse(r.err).frames.empty()) << "no progress with --json:\n" << r.err;
    EXPECT_TRUE(Contains(r.err, "locked.txt: ")) << "errors stay on stderr:\n" << r.err;
    g_autoptr(JsonNode) root = ParseJson(r.out);
    ASSERT_NE(root, nullptr);
    JsonObject *o = json_node_get_object(root);
    EXPECT_STREQ(json_object_get_string_member(o, "status"), "failed");
    JsonArray *files = json_object_get_array_member(o, "files");
    ASSERT_NE(files, nullptr);
    ASSERT_EQ(json_array_get_length(files), 3u) << r.out;
    std::map<std::string, JsonObject *> by_path;
    for (guint i = 0; i < json_array_get_length(files); i++) {
        JsonObject *f = json_array_get_object_element(files, i);
        by_path[json_object_get_string_member(f, "path")] = f;
    }
    for (const auto &[rel, sha, size] : std::vector<std::tuple<std::string, std::string, gint64>>{
                 {"one.bin", sha_one, 3 << 20}, {"sub/two.bin", sha_two, 12345}}) {
        const std::string path = local_ + "/Set/" + rel;
        ASSERT_TRUE(by_path.count(path)) << path << "\n" << r.out;
        JsonObject *f = by_path[path];
        EXPECT_STREQ(json_object_get_string_member(f, "status"), "ok");
        EXPECT_EQ(json_object_get_int_member(f, "bytes"), size);
        EXPECT_EQ(json_object_get_string_member(f, "sha256"), sha);
        EXPECT_EQ(Sha256File(path), sha);
        EXPECT_EQ(json_object_get_string_member(f, "source"), Remote("Set/" + rel));
    }
    const std::string locked = Remote("Set/locked.txt");
    ASSERT_TRUE(by_path.count(locked)) << r.out;
    EXPECT_STREQ(json_object_get_string_member(by_path[locked], "status"), "failed");
    EXPECT_TRUE(json_object_has_member(by_path[locked], "error"));
    JsonObject *totals = json_object_get_object_member(o, "totals");
    ASSERT_NE(totals, nullptr);
    EXPECT_EQ(json_object_get_int_member(totals, "files"), 2);
    EXPECT_EQ(json_object_get_int_member(totals, "failed"), 1);
    EXPECT_EQ(json_object_get_int_member(totals, "bytes"), (3 << 20) + 12345);

    // put --json of one file
    r = Porch({"put", "--json", local_ + "/Set/one.bin", Remote("uploaded.bin")});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.err, "") << "nothing on stderr with --json when all went well";
    g_autoptr(JsonNode) put_root = ParseJson(r.out);
    ASSERT_NE(put_root, nullptr);
    o = json_node_get_object(put_root);
    EXPECT_STREQ(json_object_get_string_member(o, "status"), "ok");
    files = json_object_get_array_member(o, "files");
    ASSERT_EQ(json_array_get_length(files), 1u) << r.out;
    JsonObject *f = json_array_get_object_element(files, 0);
    EXPECT_EQ(json_object_get_string_member(f, "path"), Remote("uploaded.bin"));
    EXPECT_EQ(json_object_get_string_member(f, "source"), local_ + "/Set/one.bin");
    EXPECT_EQ(json_object_get_int_member(f, "bytes"), 3 << 20);
    EXPECT_EQ(json_object_get_string_member(f, "sha256"), sha_one);
    EXPECT_EQ(Sha256File(work_ + "/uploaded.bin"), sha_one);
    EXPECT_EQ(json_object_get_int_member(json_object_get_object_member(o, "totals"), "files"), 1);
}

} // namespace
