// test-index.cc — the content index (shared/porch-index): records kept only while the file
// is the one hashed, check-file answers from whole ranges, a damaged or foreign database
// rebuilt and never trusted, search and lookup by hash with the asker's filter.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include <glib.h>
#include <glib/gstdio.h>

#include "porch-index.h"

namespace
{

constexpr guint32 kRange = PORCH_INDEX_RANGE_SIZE;

class IndexTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        g_autofree char *d = g_dir_make_tmp("porch-index-XXXXXX", nullptr);
        ASSERT_NE(d, nullptr);
        dir_ = d;
        db_ = dir_ + "/index.sqlite";
    }
    void TearDown() override
    {
        const char *argv[] = {"rm", "-rf", dir_.c_str(), nullptr};
        g_spawn_sync(nullptr, (char **)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
                     nullptr, nullptr, nullptr, nullptr);
    }
    // A real file of @size bytes, and its stat.
    struct stat MakeFile(const std::string &name, gsize size)
    {
        std::string p = dir_ + "/" + name;
        std::string data(size, 'x');
        EXPECT_TRUE(g_file_set_contents(p.c_str(), data.data(), (gssize)size, nullptr));
        struct stat st = {};
        EXPECT_EQ(stat(p.c_str(), &st), 0);
        return st;
    }
    // A consistent record for @share/@path of a file like @st; hash bytes are @seed.
    static PorchIndexEntry *Entry(const char *share, const char *path, const struct stat &st,
                                  guint8 seed = 1)
    {
        auto *e = g_new0(PorchIndexEntry, 1);
        e->share = g_strdup(share);
        e->path = g_strdup(path);
        porch_index_entry_set_stat(e, &st);
        memset(e->sha256, seed, sizeof e->sha256);
        e->range_size = kRange;
        e->n_ranges = e->size == 0 ? 0 : (guint)((e->size - 1) / kRange + 1);
        e->ranges = (guint8 *)g_malloc0((gsize)e->n_ranges * PORCH_SHA256_LEN + 1);
        for (guint i = 0; i < e->n_ranges; i++)
            memset(e->ranges + i * PORCH_SHA256_LEN, seed + 1 + i, PORCH_SHA256_LEN);
        return e;
    }
    static struct stat FakeStat(guint64 size, guint64 ino)
    {
        struct stat st = {};
        st.st_size = (off_t)size;
        st.st_ino = ino;
        st.st_dev = 42;
        st.st_mtim.tv_sec = 1000;
        st.st_ctim.tv_sec = 1000;
        return st;
    }
    PorchIndex *Open(bool writable = true, gboolean *rebuilt = nullptr)
    {
        g_autoptr(GError) error = nullptr;
        PorchIndex *idx = porch_index_open(db_.c_str(), writable, rebuilt, &error);
        EXPECT_NE(idx, nullptr) << (error ? error->message : "");
        return idx;
    }
    void Sql(const char *sql)
    {
        sqlite3 *db = nullptr;
        ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
        char *msg = nullptr;
        EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "");
        sqlite3_free(msg);
        sqlite3_close(db);
    }
    static std::vector<std::string> Paths(GPtrArray *a)
    {
        std::vector<std::string> out;
        for (guint i = 0; a != nullptr && i < a->len; i++) {
            auto *e = (PorchIndexEntry *)g_ptr_array_index(a, i);
            out.push_back(std::string(e->share) + "/" + e->path);
        }
        return out;
    }

    std::string dir_;
    std::string db_;
};

TEST_F(IndexTest, RecordIsUsedOnlyWhileTheFileIsUnchanged)
{
    g_autoptr(PorchIndex) idx = Open();
    struct stat st = MakeFile("a.bin", 1000);
    g_autoptr(PorchIndexEntry) e = Entry("Music", "a.bin", st);
    g_autoptr(GError) error = nullptr;
    ASSERT_TRUE(porch_index_put(idx, e, &error)) << error->message;

    g_autoptr(PorchIndexEntry) got = porch_index_lookup(idx, "Music", "a.bin", &st);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->size, 1000u);
    EXPECT_EQ(memcmp(got->sha256, e->sha256, PORCH_SHA256_LEN), 0);
    ASSERT_EQ(got->n_ranges, 1u);
    EXPECT_EQ(got->ranges[0], 2);
    EXPECT_EQ(porch_index_lookup(idx, "Other", "a.bin", &st), nullptr);

    // Each of size, mtime, ctime, inode and device changing makes the record stale.
    for (int which = 0; which < 5; which++) {
        struct stat changed = st;
        switch (which) {
        case 0:
            changed.st_size++;
            break;
        case 1:
            changed.st_mtim.tv_nsec ^= 1;
            break;
        case 2:
            changed.st_ctim.tv_sec++;
            break;
        case 3:
            changed.st_ino++;
            break;
        case 4:
            changed.st_dev++;
            break;
        }
        EXPECT_EQ(porch_index_lookup(idx, "Music", "a.bin", &changed), nullptr) << which;
    }

    // A real rewrite of the same size changes ctime (and mtime): stale.
    g_usleep(20000);
    struct stat again = MakeFile("a.bin", 1000);
    EXPECT_EQ(porch_index_lookup(idx, "Music", "a.bin", &again), nullptr);
}

TEST_F(IndexTest, CheckFileAnswersOnlyWholeRanges)
{
    struct stat st = FakeStat(2ull * kRange + 100, 7); // three ranges, the last short
    g_autoptr(PorchIndexEntry) e = Entry("S", "big", st, 10);

    g_autoptr(GBytes) whole = porch_index_check_file(e, 0, 0, 0);
    ASSERT_NE(whole, nullptr);
    EXPECT_EQ(g_bytes_get_size(whole), (gsize)PORCH_SHA256_LEN);
    EXPECT_EQ(((const guint8 *)g_bytes_get_data(whole, nullptr))[0], 10);
    g_autoptr(GBytes) whole2 = porch_index_check_file(e, 0, e->size, 0);
    EXPECT_NE(whole2, nullptr);

    g_autoptr(GBytes) all = porch_index_check_file(e, 0, 0, kRange);
    ASSERT_NE(all, nullptr);
    ASSERT_EQ(g_bytes_get_size(all), 3u * PORCH_SHA256_LEN);
    EXPECT_EQ(((const guint8 *)g_bytes_get_data(all, nullptr))[2 * PORCH_SHA256_LEN], 13);

    g_autoptr(GBytes) second = porch_index_check_file(e, kRange, kRange, kRange);
    ASSERT_NE(second, nullptr);
    ASSERT_EQ(g_bytes_get_size(second), (gsize)PORCH_SHA256_LEN);
    EXPECT_EQ(((const guint8 *)g_bytes_get_data(second, nullptr))[0], 12);

    // One range with block 0, as the porch client asks.
    g_autoptr(GBytes) one = porch_index_check_file(e, kRange, kRange, 0);
    ASSERT_NE(one, nullptr);
    EXPECT_EQ(((const guint8 *)g_bytes_get_data(one, nullptr))[0], 12);
    g_autoptr(GBytes) last = porch_index_check_file(e, 2ull * kRange, 0, 0);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(((const guint8 *)g_bytes_get_data(last, nullptr))[0], 13);
    EXPECT_EQ(porch_index_check_file(e, kRange, 2ull * kRange, 0), nullptr); // two ranges
    EXPECT_EQ(porch_index_check_file(e, kRange, 50, 0), nullptr);            // part of one

    g_autoptr(GBytes) tail = porch_index_check_file(e, 2ull * kRange, 100, kRange);
    ASSERT_NE(tail, nullptr);
    EXPECT_EQ(((const guint8 *)g_bytes_get_data(tail, nullptr))[0], 13);

    // Anything else needs the file hashed.
    EXPECT_EQ(porch_index_check_file(e, 1, 0, kRange), nullptr);                // unaligned start
    EXPECT_EQ(porch_index_check_file(e, 0, kRange + 1, kRange), nullptr);       // part of a range
    EXPECT_EQ(porch_index_check_file(e, 0, 0, 4096), nullptr);                  // another block
    EXPECT_EQ(porch_index_check_file(e, 0, 100, 0), nullptr);                   // part of the file
    EXPECT_EQ(porch_index_check_file(e, 3ull * kRange, 0, kRange), nullptr);    // past the end
    EXPECT_EQ(porch_index_check_file(e, kRange, G_MAXUINT64, kRange), nullptr); // overflow
}

TEST_F(IndexTest, InconsistentRecordsAreRefused)
{
    g_autoptr(PorchIndex) idx = Open();
    struct stat st = FakeStat(3ull * kRange, 1);
    const char *bad_paths[] = {"", "/abs", "a/../b", "./a", "a//b", "a/"};
    for (const char *p : bad_paths) {
        g_autoptr(PorchIndexEntry) e = Entry("S", p, st);
        g_autoptr(GError) error = nullptr;
        EXPECT_FALSE(porch_index_put(idx, e, &error)) << p;
        EXPECT_TRUE(g_error_matches(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_INVALID)) << p;
    }
    g_autoptr(PorchIndexEntry) e = Entry("S", "f", st);
    e->n_ranges = 2; // the size needs three
    g_autoptr(GError) error = nullptr;
    EXPECT_FALSE(porch_index_put(idx, e, &error));
    e->n_ranges = 3;
    e->range_size = 16; // below check-file's smallest block
    EXPECT_FALSE(porch_index_put(idx, e, nullptr));
}

TEST_F(IndexTest, DamagedRowIsNeverReturnedAndIsForgotten)
{
    struct stat st = FakeStat(2ull * kRange, 5);
    {
        g_autoptr(PorchIndex) idx = Open();
        g_autoptr(PorchIndexEntry) e = Entry("S", "f", st);
        ASSERT_TRUE(porch_index_put(idx, e, nullptr));
    }
    // Someone cut the range hashes short behind our back.
    Sql("UPDATE files SET ranges = substr(ranges, 1, 32)");
    g_autoptr(PorchIndex) idx = Open();
    EXPECT_EQ(porch_index_lookup(idx, "S", "f", &st), nullptr);
    PorchIndexStats stats;
    ASSERT_TRUE(porch_index_stats(idx, &stats, nullptr));
    EXPECT_EQ(stats.files, 0u);
}

TEST_F(IndexTest, GarbageFileIsRebuiltWritableAndRefusedReadOnly)
{
    std::string junk(8192, '\x5a');
    memcpy(junk.data(), "SQLite format 3", 16); // looks like SQLite at first sight
    ASSERT_TRUE(g_file_set_contents(db_.c_str(), junk.data(), (gssize)junk.size(), nullptr));

    g_autoptr(GError) error = nullptr;
    EXPECT_EQ(porch_index_open(db_.c_str(), FALSE, nullptr, &error), nullptr);
    EXPECT_TRUE(g_error_matches(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_CORRUPT) ||
                g_error_matches(error, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_FAILED))
            << error->message;

    gboolean rebuilt = FALSE;
    g_autoptr(PorchIndex) idx = Open(true, &rebuilt);
    ASSERT_NE(idx, nullptr);
    EXPECT_TRUE(rebuilt);
    struct stat st = FakeStat(10, 1);
    g_autoptr(PorchIndexEntry) e = Entry("S", "f", st);
    EXPECT_TRUE(porch_index_put(idx, e, nullptr));
}

TEST_F(IndexTest, ForeignOrOldDatabaseIsRebuilt)
{
    // Another program's SQLite database at our path: never taken for an index.
    Sql("CREATE TABLE files(x); INSERT INTO files VALUES(1);");
    gboolean rebuilt = FALSE;
    {
        g_autoptr(PorchIndex) idx = Open(true, &rebuilt);
        EXPECT_TRUE(rebuilt);
        struct stat st = FakeStat(10, 1);
        g_autoptr(PorchIndexEntry) e = Entry("S", "f", st);
        ASSERT_TRUE(porch_index_put(idx, e, nullptr));
    }
    {
        g_autoptr(PorchIndex) idx = Open(true, &rebuilt);
        EXPECT_FALSE(rebuilt); // ours, sound: kept
        PorchIndexStats stats;
        ASSERT_TRUE(porch_index_stats(idx, &stats, nullptr));
        EXPECT_EQ(stats.files, 1u);
        EXPECT_EQ(stats.bytes, 10u);
        EXPECT_GT(stats.db_bytes, 0u);
    }
    // An index of another schema version.
    Sql("PRAGMA user_version = 99");
    g_autoptr(PorchIndex) idx = Open(true, &rebuilt);
    EXPECT_TRUE(rebuilt);
    PorchIndexStats stats;
    ASSERT_TRUE(porch_index_stats(idx, &stats, nullptr));
    EXPECT_EQ(stats.files, 0u);
}

TEST_F(IndexTest, ReadOnlyOpenNeedsAnIndex)
{
    g_autoptr(GError) error = nullptr;
    EXPECT_EQ(porch_index_open(db_.c_str(), FALSE, nullptr, &error), nullptr);
    EXPECT_TRUE(g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT));
}

TEST_F(IndexTest, ReaderSeesWhatTheWriterCommits)
{
    g_autoptr(PorchIndex) w = Open();
    g_autoptr(PorchIndex) r = Open(false);
    struct stat st = FakeStat(100, 9);
    ASSERT_TRUE(porch_index_begin(w, nullptr));
    for (int i = 0; i < 100; i++) {
        std::string p = "dir/f" + std::to_string(i);
        g_autoptr(PorchIndexEntry) e = Entry("S", p.c_str(), st);
        ASSERT_TRUE(porch_index_put(w, e, nullptr));
    }
    EXPECT_EQ(porch_index_lookup(r, "S", "dir/f7", &st), nullptr); // not committed yet
    ASSERT_TRUE(porch_index_commit(w, nullptr));
    g_autoptr(PorchIndexEntry) got = porch_index_lookup(r, "S", "dir/f7", &st);
    EXPECT_NE(got, nullptr);
}

// A quiet writer gives back the pages it cached (porchd's index thread does once it has had
// nothing to do for a while), and reads them again when asked.
TEST_F(IndexTest, ReleasedCacheIsGivenBackAndReadAgain)
{
    g_autoptr(PorchIndex) w = Open();
    struct stat st = FakeStat(3 * (guint64)kRange, 9);
    ASSERT_TRUE(porch_index_begin(w, nullptr));
    for (int i = 0; i < 2000; i++) {
        std::string p = "dir/f" + std::to_string(i);
        g_autoptr(PorchIndexEntry) e = Entry("S", p.c_str(), st);
        ASSERT_TRUE(porch_index_put(w, e, nullptr));
    }
    ASSERT_TRUE(porch_index_commit(w, nullptr));
    sqlite3_int64 held = sqlite3_memory_used();
    gsize freed = porch_index_release_memory(w);
    // 2000 records with their range hashes fill far more than 256 KiB of pages
    EXPECT_GT(freed, 256u * 1024) << "SQLite held " << held << " bytes";
    EXPECT_LT(sqlite3_memory_used(), held - (sqlite3_int64)freed / 2);
    EXPECT_EQ(porch_index_release_memory(w), 0u) << "nothing is left to give back";
    g_autoptr(PorchIndexEntry) got = porch_index_lookup(w, "S", "dir/f1999", &st);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->n_ranges, 3u);
    PorchIndexStats stats;
    ASSERT_TRUE(porch_index_stats(w, &stats, nullptr));
    EXPECT_EQ(stats.files, 2000u);
}

TEST_F(IndexTest, RemoveTakesAFolderAndOnlyIt)
{
    g_autoptr(PorchIndex) idx = Open();
    struct stat st = FakeStat(1, 1);
    const char *paths[] = {"a_b/x", "a_b/y/z", "a_b", "aXb/x", "A_b/x", "a_b2/x", "a%b/x"};
    for (const char *p : paths) {
        g_autoptr(PorchIndexEntry) e = Entry("S", p, st);
        ASSERT_TRUE(porch_index_put(idx, e, nullptr));
    }
    g_autoptr(PorchIndexEntry) other = Entry("T", "a_b/x", st);
    ASSERT_TRUE(porch_index_put(idx, other, nullptr));
    ASSERT_TRUE(porch_index_remove(idx, "S", "a_b", nullptr));

    g_autoptr(GHashTable) left = porch_index_list_share(idx, "S", nullptr);
    ASSERT_NE(left, nullptr);
    EXPECT_EQ(g_hash_table_size(left), 4u);
    for (const char *p : {"aXb/x", "A_b/x", "a_b2/x", "a%b/x"})
        EXPECT_TRUE(g_hash_table_contains(left, p)) << p;
    g_autoptr(PorchIndexEntry) still = porch_index_lookup(idx, "T", "a_b/x", &st);
    EXPECT_NE(still, nullptr);

    const char *keep[] = {"S", nullptr};
    ASSERT_TRUE(porch_index_keep_shares(idx, keep, nullptr));
    EXPECT_EQ(porch_index_lookup(idx, "T", "a_b/x", &st), nullptr);
    ASSERT_TRUE(porch_index_forget_share(idx, "S", nullptr));
    PorchIndexStats stats;
    ASSERT_TRUE(porch_index_stats(idx, &stats, nullptr));
    EXPECT_EQ(stats.files, 0u);
}

gboolean
NotPrivate(const char *share, const char *, gpointer)
{
    return strcmp(share, "Private") != 0;
}

TEST_F(IndexTest, SearchMatchesNamesCaseInsensitivelyThroughTheFilter)
{
    g_autoptr(PorchIndex) idx = Open();
    struct stat st = FakeStat(5, 1);
    const char *files[][2] = {{"Music", "Holiday/Beach.JPG"},
                              {"Music", "holiday/notes.txt"},
                              {"Private", "beach.jpg"},
                              {"Photos", "Été/plage BEACH.png"},
                              {"Photos", "Été/Ébauche.txt"}};
    for (auto &f : files) {
        g_autoptr(PorchIndexEntry) e = Entry(f[0], f[1], st);
        ASSERT_TRUE(porch_index_put(idx, e, nullptr));
    }
    g_autoptr(GError) error = nullptr;
    // Part of a name, any case; folder names are not matched.
    g_autoptr(GPtrArray) a = porch_index_search(idx, "beach", 10, NotPrivate, nullptr, &error);
    ASSERT_NE(a, nullptr) << error->message;
    EXPECT_EQ(Paths(a),
              (std::vector<std::string>{"Music/Holiday/Beach.JPG", "Photos/Été/plage BEACH.png"}));
    g_autoptr(GPtrArray) holiday =
            porch_index_search(idx, "holiday", 10, nullptr, nullptr, nullptr);
    EXPECT_EQ(holiday->len, 0u);
    // A glob; Unicode case folding.
    g_autoptr(GPtrArray) g = porch_index_search(idx, "*.jpg", 10, nullptr, nullptr, nullptr);
    EXPECT_EQ(Paths(g), (std::vector<std::string>{"Music/Holiday/Beach.JPG", "Private/beach.jpg"}));
    g_autoptr(GPtrArray) u = porch_index_search(idx, "ÉBAUCHE", 10, nullptr, nullptr, nullptr);
    EXPECT_EQ(Paths(u), (std::vector<std::string>{"Photos/Été/Ébauche.txt"}));
    // At most the limit.
    g_autoptr(GPtrArray) one = porch_index_search(idx, "*", 1, nullptr, nullptr, nullptr);
    EXPECT_EQ(one->len, 1u);
    // Bounded patterns.
    std::string longp(PORCH_INDEX_MAX_PATTERN + 1, 'a');
    g_autoptr(GError) e1 = nullptr;
    EXPECT_EQ(porch_index_search(idx, longp.c_str(), 10, nullptr, nullptr, &e1), nullptr);
    EXPECT_TRUE(g_error_matches(e1, PORCH_INDEX_ERROR, PORCH_INDEX_ERROR_INVALID));
    EXPECT_EQ(porch_index_search(idx, "", 10, nullptr, nullptr, nullptr), nullptr);
    EXPECT_EQ(porch_index_search(idx, "\xff", 10, nullptr, nullptr, nullptr), nullptr);
}

TEST_F(IndexTest, FindBySha256WithRanges)
{
    g_autoptr(PorchIndex) idx = Open();
    struct stat st = FakeStat(kRange + 1, 1);
    g_autoptr(PorchIndexEntry) a = Entry("A", "copy1", st, 50);
    g_autoptr(PorchIndexEntry) b = Entry("Private", "copy2", st, 50);
    g_autoptr(PorchIndexEntry) c = Entry("A", "other", st, 60);
    for (auto *e : {a, b, c})
        ASSERT_TRUE(porch_index_put(idx, e, nullptr));
    g_autoptr(GPtrArray) found =
            porch_index_find_sha256(idx, a->sha256, 10, NotPrivate, nullptr, nullptr);
    ASSERT_NE(found, nullptr);
    ASSERT_EQ(Paths(found), (std::vector<std::string>{"A/copy1"}));
    auto *e = (PorchIndexEntry *)g_ptr_array_index(found, 0);
    ASSERT_EQ(e->n_ranges, 2u);
    ASSERT_NE(e->ranges, nullptr);
    EXPECT_EQ(e->ranges[PORCH_SHA256_LEN], 52);
}

} // namespace

namespace
{

TEST_F(IndexTest, FoldersListTheirFilesAndTheFoldersBeneath)
{
    g_autoptr(PorchIndex) idx = Open();
    struct stat st = FakeStat(1, 1);
    for (const char *p : {"top.txt", "a/one", "a/b/two", "a/b/c/three", "d/four", "a_x/five"}) {
        g_autoptr(PorchIndexEntry) e = Entry("S", p, st);
        ASSERT_TRUE(porch_index_put(idx, e, nullptr));
    }
    g_autoptr(GHashTable) root = porch_index_list_folder(idx, "S", "", nullptr);
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(g_hash_table_size(root), 1u);
    EXPECT_TRUE(g_hash_table_contains(root, "top.txt"));
    g_autoptr(GHashTable) a = porch_index_list_folder(idx, "S", "a", nullptr);
    EXPECT_EQ(g_hash_table_size(a), 1u);
    EXPECT_TRUE(g_hash_table_contains(a, "a/one"));

    g_autoptr(GHashTable) under_root = porch_index_subfolders(idx, "S", "", nullptr);
    ASSERT_NE(under_root, nullptr);
    EXPECT_EQ(g_hash_table_size(under_root), 3u);
    for (const char *n : {"a", "d", "a_x"})
        EXPECT_TRUE(g_hash_table_contains(under_root, n)) << n;
    g_autoptr(GHashTable) under_a = porch_index_subfolders(idx, "S", "a", nullptr);
    EXPECT_EQ(g_hash_table_size(under_a), 1u);
    EXPECT_TRUE(g_hash_table_contains(under_a, "b"));
    g_autoptr(GHashTable) under_c = porch_index_subfolders(idx, "S", "a/b/c", nullptr);
    EXPECT_EQ(g_hash_table_size(under_c), 0u);
}

} // namespace
