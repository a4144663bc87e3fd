/* fuzz-sftp-server.c — porchd's SFTP server fed any byte stream, as a logged-in guest would
 * send it: framing (lengths, oversized packets), request parsing (porch-wire.c), the gate and
 * the handlers, against real files in a scratch folder. Replies are dropped.
 *
 * The scratch folder has a share guests may read (files, a folder, links inside and outside),
 * one they may write (emptied before each input) and a hidden one. Each input is one session:
 * an INIT is fed first, so that the input is requests; its first byte picks where the stream
 * is cut in two, so that requests also arrive split across reads. */

#include "fuzz-common.h"

#include <ftw.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "porch-config.h"
#include "porch-state.h"
#include "sftp-server.h"

static PorchConfig *config;
static char *root_dir, *state_dir, *drop_dir, *uploads_dir;

static PorchConfig *
current_config(void *user_data)
{
    (void)user_data;
    return config;
}

static gboolean
drop_reply(const guint8 *data, gsize len, gpointer user_data)
{
    (void)data;
    (void)len;
    (void)user_data;
    return TRUE;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

static int
remove_any(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* At exit: the scratch folder goes. */
static void
remove_scratch(void)
{
    if (root_dir != NULL)
        nftw(root_dir, remove_any, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_file_set_contents(path, text, -1, NULL);
}

/* The scratch folder and the configuration, made at the first input. */
static void
setup(void)
{
    g_autofree char *root = g_dir_make_tmp("porch-fuzz-sftp-XXXXXX", NULL);
    g_autofree char *files = g_build_filename(root, "files", NULL);
    g_autofree char *sub = g_build_filename(files, "sub", NULL);
    g_autofree char *hidden = g_build_filename(root, "hidden", NULL);
    g_autofree char *text = NULL;
    g_autofree char *link = NULL;
    g_autoptr(GError) error = NULL;

    root_dir = g_strdup(root);
    atexit(remove_scratch);
    state_dir = g_build_filename(root, "state", NULL);
    drop_dir = g_build_filename(root, "drop", NULL);
    uploads_dir = porch_state_file(state_dir, PORCH_STATE_UPLOADS);
    g_mkdir_with_parents(sub, 0755);
    g_mkdir_with_parents(hidden, 0755);
    g_mkdir_with_parents(drop_dir, 0755);
    g_mkdir_with_parents(state_dir, 0700);
    write_file(files, "a.txt", "hello, fuzzer\n");
    write_file(sub, "b.txt", "in a folder\n");
    write_file(hidden, "h.txt", "hidden\n");
    write_file(root, "outside.txt", "outside\n");
    link = g_build_filename(sub, "up", NULL);
    symlink("../a.txt", link);
    g_free(link);
    link = g_build_filename(sub, "out", NULL);
    symlink("../../outside.txt", link);
    text = g_strdup_printf("[porch]\nmax-handles = 16\n"
                           "[share Files]\npath = %s\nread = guest\n"
                           "[share Drop]\npath = %s\nwrite = guest\n"
                           "[share Hidden]\npath = %s\nread = guest\nhidden = true\n",
                           files, drop_dir, hidden);
    config = porch_config_load_data(text, -1, "fuzz.conf", &error);
    if (config == NULL) {
        fprintf(stderr, "fuzz-sftp-server: %s\n", error->message);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const guint8 init[] = {0, 0, 0, 5, 1 /* SSH_FXP_INIT */, 0, 0, 0, 3};
    PorchSftpContext ctx = {
            .current_config = current_config,
            .fingerprint = NULL, /* a guest */
            .who = "fuzz",
            .state_dir = state_dir,
    };
    PorchSftpServer *s;
    size_t cut;

    if (config == NULL)
        setup();
    nftw(drop_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(uploads_dir, remove_entry, 4, FTW_DEPTH | FTW_PHYS);
    s = porch_sftp_server_new(&ctx, drop_reply, NULL);
    cut = size > 0 ? data[0] % (size + 1) : 0;
    if (porch_sftp_server_feed(s, init, sizeof init) && porch_sftp_server_feed(s, data, cut))
        porch_sftp_server_feed(s, data + cut, size - cut);
    porch_sftp_server_free(s);
    return 0;
}
