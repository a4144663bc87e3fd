// local-session.cc — a real porchd-session on a socketpair (local-session.h).
#include "local-session.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

extern "C" {
#include "fd-pass.h"
#include "files.h"
#include "porch-config.h"
#include "session.h"
}

namespace porch::test
{

namespace
{

// What porchd-worker does with each connection it is given (daemon/worker.c), until the
// session closes it.
void
ServeFiles(std::string root, int fd)
{
    g_autoptr(GError) error = nullptr;
    g_autoptr(PorchFiles) direct = porch_files_new_direct(root.c_str(), &error);

    if (direct == nullptr)
        g_printerr("local-session: no files for %s: %s\n", root.c_str(), error->message);
    else
        while (porch_files_serve_one(direct, fd)) {
        }
    close(fd);
}

bool
StartsWith(const std::string &s, const char *prefix)
{
    return s.compare(0, strlen(prefix), prefix) == 0;
}

} // namespace

std::unique_ptr<LocalSession>
LocalSession::Start(const std::string &config_file, const std::string &state_dir,
                    std::string *error)
{
    std::unique_ptr<LocalSession> s(new LocalSession());
    const std::string program = PORCH_PROGRAM_PORCHD_SESSION;
    const char *argv[] = {program.c_str(),   "--config",  config_file.c_str(), "--state-dir",
                          state_dir.c_str(), "--address", "local-session",     nullptr};
    int conn[2], control[2];
    g_autoptr(GError) e = nullptr;
    GPid pid = 0;

    // as in porchd: a peer that went away is an error to handle, not a signal
    signal(SIGPIPE, SIG_IGN);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, conn) != 0) {
        *error = std::string("socketpair: ") + strerror(errno);
        return nullptr;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) != 0) {
        *error = std::string("socketpair: ") + strerror(errno);
        close(conn[0]);
        close(conn[1]);
        return nullptr;
    }
    s->client_ = conn[0];
    s->control_ = control[0];
    {
        const int source_fds[] = {conn[1], control[1]};
        const int target_fds[] = {PORCH_SESSION_FD, PORCH_SESSION_CONTROL_FD};
        gboolean ok = g_spawn_async_with_pipes_and_fds(
                nullptr, argv, nullptr, G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, -1, -1, -1,
                source_fds, target_fds, G_N_ELEMENTS(source_fds), &pid, nullptr, nullptr, nullptr,
                &e);
        close(conn[1]);
        close(control[1]);
        if (!ok) {
            *error = std::string("cannot start ") + program + ": " + e->message;
            return nullptr; // the destructor closes our ends
        }
    }
    s->pid_ = pid;
    s->control_thread_ = std::thread(&LocalSession::ServeControl, s.get(), config_file);
    return s;
}

// porchd's side of the control socket (daemon/session.h), until the session closes it.
void
LocalSession::ServeControl(std::string config_file)
{
    std::map<std::string, std::string> shares;
    {
        g_autoptr(GError) e = nullptr;
        PorchConfig *config = porch_config_load_file(config_file.c_str(), &e);
        if (config == nullptr) {
            g_printerr("local-session: %s\n", e->message);
        } else {
            for (guint i = 0; i < porch_config_get_n_shares(config); i++) {
                const PorchShare *share = porch_config_get_share(config, i);
                shares[share->name] = share->path;
            }
            porch_config_unref(config);
        }
    }
    for (;;) {
        char buf[PORCH_CONTROL_MAX + 1];
        int fds[PORCH_FD_PASS_MAX];
        guint n_fds = 0;
        gssize n = porch_fd_recv(control_, buf, sizeof buf - 1, fds, PORCH_FD_PASS_MAX, &n_fds);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (guint i = 0; i < n_fds; i++)
            close(fds[i]);
        std::string request(buf, (size_t)n);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            requests_.push_back(request);
        }
        // a transfer note is one-way, as porchd takes it: an answer would be read by the
        // session as the answer to its next request
        if (StartsWith(request, PORCH_CONTROL_TRANSFER) ||
            StartsWith(request, PORCH_CONTROL_TRANSFER_END))
            continue;
        std::string answer = PORCH_CONTROL_REFUSED "not a request of a session";
        int worker[2] = {-1, -1};
        if (StartsWith(request, PORCH_CONTROL_LOGIN_PEER) || request == PORCH_CONTROL_LOGIN_GUEST) {
            answer = PORCH_CONTROL_OK;
        } else if (StartsWith(request, PORCH_CONTROL_FILES)) {
            auto share = shares.find(request.substr(strlen(PORCH_CONTROL_FILES)));
            if (share == shares.end()) {
                answer = PORCH_CONTROL_REFUSED "no such share";
            } else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, worker) != 0) {
                answer = PORCH_CONTROL_REFUSED "socketpair failed";
            } else {
                answer = PORCH_CONTROL_OK;
                std::lock_guard<std::mutex> lock(mutex_);
                workers_.emplace_back(ServeFiles, share->second, worker[0]);
            }
        }
        porch_fd_send(control_, answer.data(), answer.size(), worker[1] >= 0 ? &worker[1] : nullptr,
                      worker[1] >= 0 ? 1 : 0);
        if (worker[1] >= 0)
            close(worker[1]);
    }
}

LocalSession::~LocalSession()
{
    // a connection no client took ends here, and so does the session
    if (client_ >= 0)
        close(client_);
    if (pid_ > 0)
        Wait(10);
    if (control_thread_.joinable())
        control_thread_.join();
    for (std::thread &t : workers_)
        t.join();
    if (control_ >= 0)
        close(control_);
}

int
LocalSession::TakeClientSocket()
{
    int fd = client_;
    client_ = -1;
    return fd;
}

int
LocalSession::Wait(double seconds)
{
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;

    while (pid_ > 0) {
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            pid_ = -1;
        } else if (r < 0 && errno != EINTR) {
            pid_ = -1;
        } else if (std::chrono::steady_clock::now() > end) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            pid_ = -1;
            exit_status_ = -1;
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    return exit_status_;
}

std::vector<std::string>
LocalSession::Requests()
{
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
}

} // namespace porch::test
