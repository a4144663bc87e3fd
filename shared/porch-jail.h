/* porch-jail.h — resolve an untrusted path beneath a share root through file descriptors.
 *
 * A PorchJail holds an O_PATH descriptor of a share's root directory. Every path a client
 * sends is resolved from that descriptor, component by component, by the kernel
 * (openat2() with RESOLVE_BENEATH) or, on kernels without openat2(), by a walk modelled on
 * systemd's chase(). No path is ever checked by comparing strings.
 *
 * A path that leaves the root — "..", an absolute path, a symlink whose target is absolute
 * or climbs above the root, however many hops it takes — is refused with -EXDEV in both
 * modes. A PorchJail is immutable and may be used from several threads at once.
 */
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PorchJail PorchJail;

/* Opens @root, the absolute path of an existing directory, as a jail. Returns a new jail
 * (free with porch_jail_free()), or NULL with @error set in G_IO_ERROR: the code is
 * g_io_error_from_errno() of open(2)'s errno (G_IO_ERROR_NOT_FOUND, _NOT_DIRECTORY, ...),
 * or G_IO_ERROR_INVALID_ARGUMENT for a relative @root; the message names @root.
 * With PORCH_JAIL_FALLBACK=1 in the environment the jail never uses openat2() (for tests
 * of the fallback walk). */
PorchJail *porch_jail_new(const char *root, GError **error);

/* Closes the root descriptor and frees @jail. NULL is ignored. */
void porch_jail_free(PorchJail *jail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchJail, porch_jail_free)

/* The O_PATH|O_DIRECTORY descriptor of the root; it belongs to @jail. */
int porch_jail_get_root_fd(const PorchJail *jail);

/* TRUE when @jail resolves with openat2(RESOLVE_BENEATH); FALSE when the kernel lacks it
 * (ENOSYS, or EPERM from a seccomp filter) or PORCH_JAIL_FALLBACK=1 was set when @jail was
 * created. */
gboolean porch_jail_uses_openat2(const PorchJail *jail);

/* Do not follow a symlink in the last component (lstat/O_NOFOLLOW semantics). A trailing
 * "/" still follows it, as in the kernel. */
#define PORCH_JAIL_NOFOLLOW (1u << 0)

/* Opens @relpath beneath the root of @jail.
 *
 * @relpath is untrusted. It is relative to the root; "" and "." are the root itself. An
 * absolute @relpath ("/etc/passwd", "//x") is refused with -EXDEV, never reinterpreted.
 * Every component, and every symlink met on the way, must resolve beneath the root:
 * ".." above the root and absolute symlink targets give -EXDEV, more than 40 symlinks
 * -ELOOP; a path of PATH_MAX bytes or more, or a component above NAME_MAX, -ENAMETOOLONG
 * (so does, without openat2(), a directory more than 256 levels below the root).
 *
 * @flags: O_RDONLY, O_WRONLY or O_RDWR, with any of O_CREAT, O_EXCL, O_TRUNC, O_APPEND,
 * O_DIRECTORY; or O_PATH with at most O_DIRECTORY. O_CLOEXEC and O_NOCTTY are always
 * added (passing them is harmless). Any other flag gives -EINVAL (ask for O_NOFOLLOW with
 * PORCH_JAIL_NOFOLLOW). @mode is used only when a file is created.
 *
 * @jail_flags: 0 or PORCH_JAIL_NOFOLLOW. With it, a symlink as last component yields, with
 * O_PATH, a descriptor of the link itself; any other open of a link gives -ELOOP.
 *
 * Only regular files and directories are ever opened for I/O: a FIFO, socket or device
 * node gives -EACCES without having been opened (so a FIFO cannot block the caller).
 * Without O_CREAT the object is first opened O_PATH, checked with fstat() and then
 * reopened, the same inode, with @flags.
 * With O_CREAT a new regular file is first tried with O_CREAT|O_EXCL; when the name
 * exists (-EEXIST) and O_EXCL was not asked for, the existing object is opened as
 * without O_CREAT (O_TRUNC kept). A symlink as last component is therefore never
 * followed to create its target: a dangling one gives -ENOENT (or -EXDEV when it points
 * outside), and O_CREAT|O_EXCL on any symlink gives -EEXIST.
 *
 * Returns a new descriptor (the caller closes it), or -errno. */
int porch_jail_open(const PorchJail *jail, const char *relpath, int flags, mode_t mode,
                    guint jail_flags);

/* stat(2) of @relpath resolved as by porch_jail_open() (with PORCH_JAIL_NOFOLLOW: lstat
 * semantics). Works on FIFOs, sockets and devices too: nothing is opened for I/O.
 * Returns 0 and fills *ret_st, or -errno and leaves *ret_st alone. */
int porch_jail_stat(const PorchJail *jail, const char *relpath, struct stat *ret_st,
                    guint jail_flags);

/* Opens, O_PATH|O_DIRECTORY, the directory that holds the last component of @relpath,
 * resolved beneath the root as by porch_jail_open() (symlinks on the way are followed),
 * for the *at() calls that act on a name: mkdirat, unlinkat, renameat2, symlinkat,
 * readlinkat, fchownat (with AT_SYMLINK_NOFOLLOW), ... The name itself is not looked at.
 *
 * A trailing "/" or "/." is ignored. The root has no parent in the jail: "", ".", "./"
 * give -EPERM. A last component ".." ("..", "a/..") gives -EINVAL; a last component above
 * NAME_MAX -ENAMETOOLONG; an absolute @relpath -EXDEV.
 *
 * Returns a new descriptor (the caller closes it) and sets *ret_name to the last
 * component (one name: no '/', never "", "." or ".."; free with g_free()); or returns
 * -errno and leaves *ret_name alone. */
int porch_jail_open_parent(const PorchJail *jail, const char *relpath, char **ret_name);

/* Returns TRUE if a symlink at @link_relpath (relative to the root) with contents @target
 * would, read lexically, stay inside the root: @target is relative, not empty, shorter than
 * PATH_MAX, and its ".." components never climb above the root counting from the link's
 * directory. Returns FALSE otherwise, and for a @link_relpath that is absolute, climbs
 * above the root itself, or ends in no name ("", ".", "..").
 *
 * Used to refuse client-created symlinks that point outside. It is hygiene, not the
 * guarantee: a symlinked directory in @link_relpath or @target can make the physical
 * location differ from the lexical one, and porch_jail_open() refuses whatever does leave
 * the root when the link is followed. */
gboolean porch_jail_symlink_target_inside(const char *link_relpath, const char *target);

G_END_DECLS
