/* files.h — the file operations of one share, done as the share's owner.
 *
 * A session never opens a shared file by path itself: it asks the share's file worker
 * (porchd-worker, running as the share's owner, Landlocked beneath the share's root), which
 * resolves the path beneath the root through the jail, does the operation with the owner's
 * rights, and hands back descriptors of what it opened. Reads and writes then are pread() and
 * pwrite() on those descriptors, in the session.
 *
 * A PorchFiles is either such a connection to a worker (porch_files_new_remote()) or the
 * operations done in this very process (porch_files_new_direct(): what the worker itself
 * runs, and what tests and fuzzers use). Both behave the same; every call returns 0 (or a
 * descriptor, or a count) on success and -errno on failure. What is created belongs to
 * whoever does the operations: the worker's user, the share's owner; nothing is ever given
 * away with chown.
 *
 * The protocol, on a SOCK_SEQPACKET socket: one message per request, one per reply, in turn.
 * A request is the operation (uint32) and its arguments, in SFTP's encoding (shared/
 * porch-wire.h: uint32, uint64, strings); a descriptor argument travels alongside
 * (SCM_RIGHTS). A reply is the result (int32: >= 0, or -errno) and what the operation returns,
 * with up to two descriptors alongside. Messages are at most PORCH_FILES_MAX_MESSAGE bytes;
 * anything else (a short or malformed message, a descriptor where none belongs) ends the
 * connection. The worker keeps nothing per connection but its open listings (at most
 * PORCH_FILES_MAX_LISTINGS).
 */
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <glib.h>

#include "porch-wire.h"

G_BEGIN_DECLS

#define PORCH_FILES_MAX_MESSAGE  (64 * 1024)
#define PORCH_FILES_MAX_LISTINGS 1024
/* What one porch_files_readdir() returns at most. */
#define PORCH_FILES_READDIR_MAX 100

typedef struct _PorchFiles PorchFiles;

/* The operations on the share whose root is @root (an absolute path), in this process.
 * NULL with @error when the root cannot be opened. */
PorchFiles *porch_files_new_direct(const char *root, GError **error);
/* A connection to a worker on @fd (a SOCK_SEQPACKET socket; the PorchFiles owns it). */
PorchFiles *porch_files_new_remote(int fd);
void porch_files_free(PorchFiles *files);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchFiles, porch_files_free)

/* Opens @rel beneath the root (porch_jail_open()'s flags and rules). Returns a descriptor. */
int porch_files_open(PorchFiles *files, const char *rel, int oflags, mode_t mode, guint jail_flags);
/* Opens sent ahead: a session that has several requests to open files for reading at hand
 * sends the opens to the worker back to back (at most PORCH_FILES_MAX_AHEAD), and the
 * worker answers them without waiting for the session in between: one round trip for the
 * lot rather than one each (on a VM, a round trip between two processes costs ~70 us).
 * porch_files_open_ahead() sends an open of @rel with @oflags (O_RDONLY, O_DIRECTORY at
 * most; a remote PorchFiles only, else nothing is sent) tagged @tag;
 * porch_files_open_take() returns its result (a descriptor, or -errno), or G_MININT when
 * nothing was sent ahead with @tag; porch_files_drop_ahead() closes what was not taken. Any
 * other call first receives what is still due. */
#define PORCH_FILES_MAX_AHEAD 64
void porch_files_open_ahead(PorchFiles *files, const char *rel, int oflags, guint32 tag);
int porch_files_open_take(PorchFiles *files, guint32 tag);
void porch_files_drop_ahead(PorchFiles *files);

/* stat(2) of @rel (PORCH_JAIL_NOFOLLOW: lstat). */
int porch_files_stat(PorchFiles *files, const char *rel, struct stat *ret_st, guint jail_flags);
int porch_files_mkdir(PorchFiles *files, const char *rel, mode_t mode);
/* Removes @rel, which must not be a folder (-EISDIR). */
int porch_files_remove(PorchFiles *files, const char *rel);
int porch_files_rmdir(PorchFiles *files, const char *rel);
/* Renames @from to @to; without @replace, an existing @to is -EEXIST. */
int porch_files_rename(PorchFiles *files, const char *from, const char *to, gboolean replace);
/* Makes the link @rel pointing to @target (checked by the caller). */
int porch_files_symlink(PorchFiles *files, const char *target, const char *rel);
/* The target of the link @rel, as it is (the caller decides what to show). */
int porch_files_readlink(PorchFiles *files, const char *rel, char **ret_target);
/* Applies @a (size, permissions, times) to @rel; never to the share's root (-EPERM), and no
 * growth by more than the free space (-ENOSPC). */
int porch_files_setstat(PorchFiles *files, const char *rel, const PorchWireAttrs *a);
/* The same on @fd, a file this connection opened. */
int porch_files_fsetstat(PorchFiles *files, int fd, const PorchWireAttrs *a);
/* An upload that replaces @rel: the data goes to @temp, a new file beside it (created with
 * @access, the old file's mode if there is one, else @mode; the name must not exist), which
 * porch_files_commit() renames over @rel. Returns the new file's descriptor, its folder's
 * (*ret_parent_fd, O_PATH) and @rel's last name (*ret_name). When @rel is a symlink, returns
 * 0, sets *ret_in_place and opens nothing: the caller writes through it with
 * porch_files_open(). Without @create, a missing @rel is -ENOENT; a folder -EISDIR; anything
 * but a regular file -EACCES. */
int porch_files_replace(PorchFiles *files, const char *rel, const char *temp, int access,
                        mode_t mode, gboolean create, int *ret_parent_fd, char **ret_name,
                        gboolean *ret_in_place);
/* Renames @temp in @parent_fd (from porch_files_replace()) to @name; or removes it. */
int porch_files_commit(PorchFiles *files, int parent_fd, const char *temp, const char *name);
int porch_files_discard(PorchFiles *files, int parent_fd, const char *temp);
/* Removes the file @name in the folder @dir_rel (a leftover upload). */
int porch_files_unlink_in(PorchFiles *files, const char *dir_rel, const char *name);

/* Listings: open one (returns its id), read up to PORCH_FILES_READDIR_MAX entries at a time
 * ("." and ".." left out; 0 entries: the end), close it. */
typedef struct {
    char *name;
    struct stat st;
} PorchFilesEntry;
int porch_files_opendir(PorchFiles *files, const char *rel, guint32 *ret_id);
/* Appends the entries to @entries (a GArray of PorchFilesEntry, which the caller frees with
 * porch_files_entries_clear()) and returns how many. */
int porch_files_readdir(PorchFiles *files, guint32 id, GArray *entries);
int porch_files_closedir(PorchFiles *files, guint32 id);
/* The bytes free for an unprivileged user on the file system of the folder @rel (statvfs's
 * f_bavail blocks of f_frsize bytes): 0, or -errno. */
int porch_files_free_space(PorchFiles *files, const char *rel, guint64 *ret_avail);
void porch_files_entries_clear(GArray *entries);

/* ---- the content index's operations (daemon/indexer.h) ----
 * Served only by a worker started to index (porchd-worker --index: read-only, at idle
 * priority, its own process so that hashing never delays a session's request); any other
 * worker refuses them (-EPERM). A direct PorchFiles allows them once
 * porch_files_set_indexer() said so. */
void porch_files_set_indexer(PorchFiles *files, gboolean indexer);

/* A remote PorchFiles whose worker has not answered within @ms (sending or receiving) is
 * broken: the call returns -EIO, as when the worker is gone. For a caller that must not wait
 * for a worker stuck on its file system (porchd's network side). */
void porch_files_set_timeout(PorchFiles *files, guint ms);

/* Makes a direct PorchFiles an inbox's (porchd-worker --inbox): it then does only what a send
 * needs (daemon/send-server.c), and answers -EPERM to anything else. A send's hidden files
 * (PORCH_SEND_TEMP_PREFIX, in the inbox's folder itself) may be made, written, read back,
 * stat'ed, removed and renamed to a new name (a plain name, not hidden, never over a file);
 * the folder's free space may be asked, and the folder listed, its hidden send files alone
 * showing; the folder itself is never opened for the client. The files that arrived before are
 * neither read, changed, removed nor listed: a session that reads the network cannot touch what its
 * inbox's owner already received. */
void porch_files_set_inbox(PorchFiles *files, gboolean inbox);

/* The most range hashes one porch_files_hash() returns: a larger file is -EFBIG (it is not
 * indexed, and is hashed when a client asks, as without an index). */
#define PORCH_FILES_HASH_MAX_RANGES 2000

/* Hashes the regular file @rel (not through a symbolic link): *ret_st is its stat, taken
 * before and checked after (a file that changed while it was read is -EAGAIN), @ret_sha256
 * (PORCH_SHA256_LEN bytes) the SHA-256 of all of it, and *ret_ranges the SHA-256 of each
 * @range_size bytes (a GBytes of 32-byte hashes). */
int porch_files_hash(PorchFiles *files, const char *rel, guint32 range_size, struct stat *ret_st,
                     guint8 *ret_sha256, GBytes **ret_ranges);

/* What changed in the share since the last call (inotify): the folders (paths beneath the
 * root, "" for the root) in which a name was created, removed, moved or written, at most
 * @max of them, appended to @folders (a GPtrArray of char*). The first call starts
 * watching and reports nothing. Returns 0, or 1 when changes were lost (too many folders
 * or events, or no watch could be added): then the whole share must be scanned again. */
#define PORCH_FILES_CHANGES_MAX 200
int porch_files_changes(PorchFiles *files, guint max, GPtrArray *folders);

/* Whether @fd may grow to @new_size: a file grows by a hole (a sparse region) no larger than
 * the free space of its file system, so that one SETSTAT or one WRITE far past the end cannot
 * make an 8 TiB file that every backup then reads; and never past what off_t holds. 0, or
 * EFBIG, ENOSPC or fstat's errno. Needs no path: a session asks it of its own descriptors. */
int porch_files_growth_allowed(int fd, guint64 new_size);

/* The worker's side: reads one request from @fd, does it with @direct and replies. FALSE when
 * the connection is over (closed by the other side, or broken: a malformed request). */
gboolean porch_files_serve_one(PorchFiles *direct, int fd);

G_END_DECLS
