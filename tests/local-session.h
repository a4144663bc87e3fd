// local-session.h — a real porchd-session without a network and without root.
//
// porchd hands each accepted connection to a porchd-session process (daemon/session.c: SSH,
// authentication, the SFTP server of daemon/sftp-server.c) with the socket on fd 3 and a control
// socket on fd 4. Here the "connection" is one end of a socketpair, whose other end a client
// takes (porch_client_connect_socket(), shared/porch-sftp-client-private.h), and this process
// stands in for porchd on the control socket (daemon/session.h): it lets every login in, and
// answers each "files SHARE" with a connection to a file worker of that share. The worker is a
// thread of this process running what porchd-worker runs for each connection,
// porch_files_serve_one() with porch_files_new_direct() on the share's folder (daemon/files.h),
// as this process's user and without porchd-worker's sandbox (tests/test-files.cc tests the
// worker program itself).
//
// So everything between the client's engine and the share's files is the real code, and it
// needs no root, no network namespace and no sshd: it runs as any user who can write $TMPDIR.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace porch::test
{

class LocalSession
{
  public:
    // Starts the built porchd-session with config_file (its running configuration) and
    // state_dir (its host key is made there on first use). nullptr with *error when it cannot
    // be started.
    static std::unique_ptr<LocalSession> Start(const std::string &config_file,
                                               const std::string &state_dir, std::string *error);
    // Ends the session if it still runs (Wait() for 10 s, then SIGKILL) and its workers.
    ~LocalSession();
    LocalSession(const LocalSession &) = delete;
    LocalSession &operator=(const LocalSession &) = delete;

    // The client's end of the connection: the caller's to take, once (-1 afterwards).
    int TakeClientSocket();
    // Waits at most seconds for porchd-session to exit (the client gone) and returns its exit
    // status; -1 when it did not exit by itself (it is killed then) or was killed by a signal.
    int Wait(double seconds);
    // What the session asked on its control socket so far, in order: "login guest",
    // "login peer NAME", "files SHARE"; and its transfer notes ("transfer ...",
    // "transfer-end ID"), which get no answer.
    std::vector<std::string> Requests();

  private:
    LocalSession() = default;
    void ServeControl(std::string config_file);

    pid_t pid_ = -1;
    int exit_status_ = -1;
    int client_ = -1;
    int control_ = -1;
    std::thread control_thread_;
    std::mutex mutex_;
    std::vector<std::string> requests_;
    std::vector<std::thread> workers_;
};

} // namespace porch::test
