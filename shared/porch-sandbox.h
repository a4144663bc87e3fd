/* porch-sandbox.h — what a process of porchd may still do once it has set up: no new
 * privileges, Landlock (where on the file system), seccomp (which system calls).
 *
 * Each call applies to the calling thread and every thread and process it starts later, for
 * good; call them before starting threads. They are the kernel's; this module only builds
 * the rules.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a Landlock rule allows beneath a folder. */
typedef enum {
    PORCH_SANDBOX_READ = 1 << 0,  /* read files, list folders */
    PORCH_SANDBOX_WRITE = 1 << 1, /* write, truncate, create, remove, rename, link */
} PorchSandboxAccess;

typedef struct {
    const char *path; /* a folder (or file); used when fd is -1 */
    int fd;           /* an open (O_PATH is enough) descriptor of it, or -1 */
    PorchSandboxAccess access;
} PorchSandboxRule;

/* prctl(PR_SET_NO_NEW_PRIVS): no exec of this process or its children gains privileges
 * (set-id programs, file capabilities). FALSE with @error when refused. */
gboolean porch_sandbox_no_new_privs(GError **error);

/* Raises the soft limit of open descriptors to the hard one: a worker serves many sessions,
 * the network side many connections. */
void porch_sandbox_raise_nofile(void);

/* The Landlock ABI of the running kernel: 0 when it has none, or it is disabled. */
int porch_sandbox_landlock_abi(void);

/* Restricts the file system to @rules: everything Landlock can refuse is refused except, beneath
 * each rule's folder, what it allows. Needs no_new_privs (set here). Without Landlock in the
 * kernel nothing is restricted: returns TRUE and *ret_applied FALSE (the caller says so, once).
 * FALSE with @error when Landlock is there but the rules could not be applied. */
gboolean porch_sandbox_landlock(const PorchSandboxRule *rules, guint n_rules, gboolean *ret_applied,
                                GError **error);

typedef enum {
    PORCH_SANDBOX_THREADS_ONLY = 1 << 0, /* clone only for threads: no new processes */
} PorchSandboxFlags;

/* Allows only the system calls named in @allowed (a NULL-terminated list; names this kernel's
 * architecture does not have are skipped): any other fails with EPERM, except those in
 * @killing (may be NULL), which end the process (SIGSYS): calls that only an attacker
 * would make (execve, ptrace, ...), and clone3, which fails with ENOSYS so that glibc uses
 * clone (whose flags a filter can check). Needs no_new_privs (set here). The filter and
 * no_new_privs apply to every thread of the process (TSYNC), those already running too.
 * FALSE with @error when the filter cannot be loaded. */
gboolean porch_sandbox_seccomp(const char *const *allowed, const char *const *killing,
                               PorchSandboxFlags flags, GError **error);

/* The system calls every Porch process makes (memory, signals, time, descriptors, polling,
 * sockets it was given, threads of GLib), for porch_sandbox_seccomp(). */
extern const char *const porch_sandbox_base_syscalls[];
/* Those that no Porch process makes once sandboxed, and that only a subverted one would try:
 * program execution, tracing, kernel and namespace changes, privilege changes. */
extern const char *const porch_sandbox_fatal_syscalls[];
/* The same without execve and fork: for porchd's network side, which starts sessions. */
extern const char *const porch_sandbox_fatal_syscalls_but_exec[];
/* Path-based file system calls (open, stat, create, rename, remove, list); Landlock, where
 * it is applied, says where. */
extern const char *const porch_sandbox_file_syscalls[];

/* The confinement of a process that serves one connection and touches no file outside
 * @state_dir (a session, porchd-print), before it reads a byte from the network: what later
 * calls would read from elsewhere (the time zone, GLib's random seed) is read first; then
 * Landlock allows reading beneath @state_dir, and writing only beneath those of @writable
 * (names in @state_dir, NULL-terminated; one that does not exist is left out) that exist
 * now (*ret_landlocked: whether this kernel applied it), and seccomp the base and file system
 * calls, with no new processes. FALSE with @error when either could not be applied. */
gboolean porch_sandbox_confine_to_state(const char *state_dir, const char *const *writable,
                                        gboolean *ret_landlocked, GError **error);

G_END_DECLS
