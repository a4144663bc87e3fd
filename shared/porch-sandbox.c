/* porch-sandbox.c — no_new_privs, Landlock and seccomp for porchd's processes.
 *
 * Landlock has no wrapper in Debian 12's glibc and its header knows only ABI 2: the system
 * calls are made with syscall(2) and the rights of later ABIs are defined here. seccomp goes
 * through libseccomp, which turns names into this architecture's numbers. */
#include "porch-sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include "porch-auto.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif

/* The rights a file (not a folder) can be given. */
#define FILE_RIGHTS                                                                                \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |   \
     LANDLOCK_ACCESS_FS_TRUNCATE)
#define READ_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define WRITE_RIGHTS                                                                               \
    (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                               \
     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |  \
     LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)

/* ASan and UBSan builds (PORCH_SANITIZE): at exit, LeakSanitizer stops every thread of the
 * process from a helper it clones (not a thread) with ptrace, after listing /proc/PID/task
 * (with getdents, not getdents64, on x86_64) and reading /proc/self/maps.
 * A sanitizer build lets it, so that the sandboxed processes are leak-checked too; a release
 * build never has these allowances. */
#ifdef PORCH_SANITIZE_BUILD
static const char *const sanitizer_syscalls[] = {"ptrace", "wait4", "waitid", "getdents", NULL};
#define SANITIZED TRUE
#else
static const char *const sanitizer_syscalls[] = {NULL};
#define SANITIZED FALSE
#endif

gboolean
porch_sandbox_no_new_privs(GError **error)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
        return TRUE;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "no_new_privs: %s",
                g_strerror(errno));
    return FALSE;
}

void
porch_sandbox_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int
porch_sandbox_landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

/* Every file system right the kernel's ABI knows (the ones we can refuse). */
static guint64
handled_rights(int abi)
{
    guint64 all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                  LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                  LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                  LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                  LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                  LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                  LANDLOCK_ACCESS_FS_MAKE_SYM;

    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    return all;
}

static gboolean
set_errno_error(GError **error, int e, const char *what)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", what, g_strerror(e));
    return FALSE;
}

gboolean
porch_sandbox_landlock(const PorchSandboxRule *rules, guint n_rules, gboolean *ret_applied,
                       GError **error)
{
    int abi = porch_sandbox_landlock_abi();
    guint64 handled = handled_rights(abi);
    struct landlock_ruleset_attr attr = {.handled_access_fs = handled};
    g_auto(PorchFd) ruleset = -1;

    *ret_applied = FALSE;
    if (abi == 0)
        return TRUE;
    if (!porch_sandbox_no_new_privs(error))
        return FALSE;
    ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0)
        return set_errno_error(error, errno, "landlock_create_ruleset");
    if (SANITIZED) {
        /* LeakSanitizer reads /proc/self (see porch_sandbox_seccomp()) */
        struct landlock_path_beneath_attr proc = {.allowed_access = READ_RIGHTS & handled};
        g_auto(PorchFd) fd = open("/proc", O_PATH | O_CLOEXEC);
        if (fd >= 0) {
            proc.parent_fd = fd;
            syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &proc, 0);
        }
    }
    for (guint i = 0; i < n_rules; i++) {
        struct landlock_path_beneath_attr beneath = {0};
        struct stat st;
        g_auto(PorchFd) opened = -1; /* the rule names a path: opened here */
        int fd = rules[i].fd, e;

        if (fd < 0)
            fd = opened = open(rules[i].path, O_PATH | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0)
            return set_errno_error(error, errno, rules[i].path ? rules[i].path : "a folder");
        if (rules[i].access & PORCH_SANDBOX_READ)
            beneath.allowed_access |= READ_RIGHTS;
        if (rules[i].access & PORCH_SANDBOX_WRITE)
            beneath.allowed_access |= WRITE_RIGHTS;
        beneath.allowed_access &= handled;
        if (!S_ISDIR(st.st_mode))
            beneath.allowed_access &= FILE_RIGHTS;
        beneath.parent_fd = fd;
        e = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) == 0
                    ? 0
                    : errno;
        if (e != 0)
            return set_errno_error(error, e, "landlock_add_rule");
    }
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
        return set_errno_error(error, errno, "landlock_restrict_self");
    *ret_applied = TRUE;
    return TRUE;
}

gboolean
porch_sandbox_seccomp(const char *const *allowed, const char *const *killing,
                      PorchSandboxFlags flags, GError **error)
{
    scmp_filter_ctx ctx;
    int rc = 0;

    if (!porch_sandbox_no_new_privs(error))
        return FALSE;
    ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (ctx == NULL)
        return set_errno_error(error, ENOMEM, "seccomp_init");
    for (guint i = 0; rc == 0 && allowed[i] != NULL; i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue;
        if (strcmp(allowed[i], "clone") == 0 && (flags & PORCH_SANDBOX_THREADS_ONLY) && !SANITIZED)
            /* threads, not processes */
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
        else
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    /* glibc creates threads and spawns with clone3 first, and falls back to clone only when
     * clone3 does not exist */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    for (guint i = 0; rc == 0 && sanitizer_syscalls[i] != NULL; i++)
        if (!g_strv_contains(allowed, sanitizer_syscalls[i]))
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
                                  seccomp_syscall_resolve_name(sanitizer_syscalls[i]), 0);
    for (guint i = 0; rc == 0 && killing != NULL && killing[i] != NULL; i++) {
        int nr = seccomp_syscall_resolve_name(killing[i]);
        if (nr != __NR_SCMP_ERROR && !g_strv_contains(sanitizer_syscalls, killing[i]))
            rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
    }
    /* every thread of the process, not only this one: GLib's, and those a program started
     * before it confined itself (porchd's index thread), would otherwise run unfiltered */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0)
        return set_errno_error(error, -rc, "seccomp");
    return TRUE;
}

/* clone3 is left out on purpose: its flags cannot be checked by a filter, and glibc falls
 * back to clone when it fails. */
const char *const porch_sandbox_base_syscalls[] = {
        /* memory */
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "mprotect",
        "madvise",
        /* threads, signals, time */
        "clone",
        "futex",
        "set_robust_list",
        "get_robust_list",
        "rseq",
        "set_tid_address",
        "sched_yield",
        "sched_getaffinity",
        /* GLib gives a new thread its creator's scheduling, which it reads and sets */
        "sched_getattr",
        "sched_setattr",
        /* a program's start (ld.so) after an exec, in a process that may exec */
        "arch_prctl",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "sigaltstack",
        "tgkill",
        "restart_syscall",
        "clock_gettime",
        "clock_getres",
        "clock_nanosleep",
        "nanosleep",
        "gettimeofday",
        "time",
        "alarm",
        "getitimer",
        "setitimer",
        "exit",
        "exit_group",
        /* identity and limits */
        "getpid",
        "gettid",
        "getppid",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "getgroups",
        "getresuid",
        "getresgid",
        "prlimit64",
        "getrlimit",
        "uname",
        "sysinfo",
        "getrandom",
        "prctl",
        /* descriptors */
        "read",
        "write",
        "readv",
        "writev",
        "pread64",
        "pwrite64",
        "preadv",
        "pwritev",
        "close",
        "lseek",
        "dup",
        "dup2",
        "dup3",
        "fcntl",
        "ioctl",
        "pipe",
        "pipe2",
        "eventfd2",
        "fstat",
        "fstatfs",
        "fsync",
        "fdatasync",
        "sync_file_range",
        "ftruncate",
        "fadvise64",
        /* waiting */
        "poll",
        "ppoll",
        "select",
        "pselect6",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_wait",
        "epoll_pwait",
        /* sockets it was given (and the local ones it opens: CUPS, D-Bus, Avahi) */
        "socket",
        "socketpair",
        "connect",
        "recvfrom",
        "recvmsg",
        "recvmmsg",
        "sendto",
        "sendmsg",
        "sendmmsg",
        "shutdown",
        "getsockopt",
        "setsockopt",
        "getsockname",
        "getpeername",
        NULL,
};

#define FATAL_SYSCALLS                                                                             \
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", \
            "setns", "unshare", "init_module", "finit_module", "delete_module", "kexec_load",      \
            "kexec_file_load", "bpf", "perf_event_open", "keyctl", "add_key", "request_key",       \
            "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",     \
            "setfsuid", "setfsgid", "capset", "personality", "reboot", "swapon", "swapoff",        \
            "userfaultfd", "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm"

const char *const porch_sandbox_fatal_syscalls[] = {
        "execve", "execveat", "fork", "vfork", FATAL_SYSCALLS, NULL,
};

const char *const porch_sandbox_fatal_syscalls_but_exec[] = {
        FATAL_SYSCALLS,
        NULL,
};

const char *const porch_sandbox_file_syscalls[] = {
        "openat",   "open",      "creat",      "newfstatat", "stat",       "lstat",     "statx",
        "access",   "faccessat", "faccessat2", "getdents64", "getdents",   "mkdir",     "mkdirat",
        "unlink",   "unlinkat",  "rmdir",      "rename",     "renameat",   "renameat2", "link",
        "linkat",   "symlink",   "symlinkat",  "readlink",   "readlinkat", "chmod",     "fchmod",
        "fchmodat", "fchown",    "fchownat",   "utimensat",  "statfs",     "flock",     "umask",
        "getcwd",   "chdir",     "fchdir",     "openat2",    NULL,
};

gboolean
porch_sandbox_confine_to_state(const char *state_dir, const char *const *writable,
                               gboolean *ret_landlocked, GError **error)
{
    g_autoptr(GArray) rules = g_array_new(FALSE, TRUE, sizeof(PorchSandboxRule));
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) allowed = NULL;
    PorchSandboxRule rule = {.path = state_dir, .fd = -1, .access = PORCH_SANDBOX_READ};

    g_return_val_if_fail(state_dir != NULL, FALSE);
    g_return_val_if_fail(ret_landlocked != NULL, FALSE);

    tzset();
    (void)g_random_int();
    g_array_append_val(rules, rule);
    for (guint i = 0; writable != NULL && writable[i] != NULL; i++) {
        char *path = g_build_filename(state_dir, writable[i], NULL);
        struct stat st;

        g_ptr_array_add(paths, path);
        if (lstat(path, &st) != 0)
            continue; /* nothing to write there: it stays read-only, as its parent */
        rule = (PorchSandboxRule){
                .path = path, .fd = -1, .access = PORCH_SANDBOX_READ | PORCH_SANDBOX_WRITE};
        g_array_append_val(rules, rule);
    }
    if (!porch_sandbox_landlock((const PorchSandboxRule *)(void *)rules->data, rules->len,
                                ret_landlocked, error))
        return FALSE;
    g_strv_builder_addv(b, (const char **)porch_sandbox_base_syscalls);
    g_strv_builder_addv(b, (const char **)porch_sandbox_file_syscalls);
    allowed = g_strv_builder_end(b);
    return porch_sandbox_seccomp((const char *const *)allowed, porch_sandbox_fatal_syscalls,
                                 PORCH_SANDBOX_THREADS_ONLY, error);
}
