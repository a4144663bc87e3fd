#!/usr/bin/env bash
# packaging/test-install.sh DIR — install Porch's packages on a fresh Debian 12 and use them.
#
# DIR holds porch-daemon_*.deb, porch_*.deb and (if built) porch-tray_*.deb, made by cpack
# from a tree configured for /usr. As root, this script:
#
#  1. makes a fresh Debian 12 root: the base (essential packages and apt, made with mmdebstrap
#     from deb.debian.org) is cached as a tarball in $PORCH_CI_CACHE (default
#     /var/cache/porch-ci) and made again when a week old; the packages apt downloads are
#     cached there too (archives/);
#  2. unpacks it and, in a mount and PID namespace of its own (so that its mounts and every
#     process started in it go when it ends, also on failure), installs porch-daemon and
#     porch with apt-get, which resolves their dependencies from the mirror; service starts
#     are refused (policy-rc.d) and systemd is not PID 1 there, as in a container;
#  3. checks: no GTK came with them, the user porch and /var/lib/porch exist, nothing was
#     enabled or started, `porch --version`, `porchd --check-config` on the default
#     porch.conf;
#  4. in a network namespace of its own (loopback only: nothing listens on this machine's
#     network), starts porchd as its unit does (the unit's ExecStart, capability bounding
#     set and no_new_privs) serving a share of /srv, checks with ps that the launcher runs
#     as root and its network side and file worker as porch, and fetches a file from it with
#     this machine's OpenSSH sftp;
#  5. installs porch-tray (GTK comes now, and systemd, not running) and runs
#     `porch-tray --version`;
#  6. installs porch-daemon again (an upgrade): nothing enabled or started, the
#     administrator's porch.conf kept;
#  7. purges the three packages and checks that nothing of them is left but the shared
#     folder (the users' data) and the user porch (Debian leaves system users);
#  8. deletes the user, installs and purges porch-daemon again: now systemd-sysusers and
#     systemd-tmpfiles make the user and the folder (in 2, useradd and install did).
#
# The root is made under /var/tmp and removed at the end, whatever happened.
set -euo pipefail

CACHE=${PORCH_CI_CACHE:-/var/cache/porch-ci}
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
SUITE=bookworm
SHARE=/srv/shared-test

say() { echo "test-install: $*"; }
fail() { echo "test-install: FAILED: $*" >&2; exit 1; }

# ---- inside the network namespace: porchd as its unit starts it, sftp from outside --------
serve() {
    local root=$1 unit exec_start exec_reload caps bounding porch_uid pid i
    ip link set lo up
    unit="$root/lib/systemd/system/porchd.service"
    exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
    caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
    grep -qx 'NoNewPrivileges=yes' "$unit" || fail "the unit no longer sets NoNewPrivileges=yes"
    # CAP_SETUID CAP_SETGID ... -> -all,+setuid,+setgid,... (setpriv's form)
    bounding="-all"
    for i in $caps; do bounding+=",+$(echo "${i#CAP_}" | tr '[:upper:]' '[:lower:]')"; done
    say "starting, as the unit does: $exec_start (bounding set $caps, no_new_privs)"
    # $exec_start is the unit's command line, split into words as systemd splits it (SC2086)
    # shellcheck disable=SC2086
    chroot "$root" setpriv --bounding-set="$bounding" --inh-caps=-all --no-new-privs \
        $exec_start >"$root/tmp/porchd.log" 2>&1 &
    pid=$!
    for i in $(seq 50); do
        ss -Hltn 'sport = :4422' | grep -q . && break
        kill -0 "$pid" 2>/dev/null || { cat "$root/tmp/porchd.log"; fail "porchd exited"; }
        sleep 0.2
    done
    ss -Hltn 'sport = :4422' | grep -q . || { cat "$root/tmp/porchd.log"; fail "porchd does not listen"; }

    porch_uid=$(chroot "$root" id -u porch)
    local batch="$root/tmp/sftp.batch" got="$root/tmp/fetched.txt"
    printf 'get /Test/hello.txt %s\n' "$got" >"$batch"
    say "sftp from this machine's OpenSSH client over the namespace's loopback"
    sftp -b "$batch" -P 4422 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o BatchMode=yes -o LogLevel=ERROR guest@127.0.0.1 ||
        { cat "$root/tmp/porchd.log"; fail "sftp could not fetch /Test/hello.txt"; }
    cmp "$got" "$root$SHARE/hello.txt" || fail "the fetched file differs"

    say "ps: the launcher as root, the network side and the worker as porch (uid $porch_uid)"
    ps -o pid=,uid=,args= -p "$(pgrep -d, porchd)" | sed 's/^/    /'
    ps -o uid= -p "$pid" | grep -qx ' *0' || fail "the launcher does not run as root"
    pgrep -u "$porch_uid" -f 'porchd --network-side' >/dev/null ||
        fail "no network side running as porch"
    pgrep -u "$porch_uid" -x porchd-worker >/dev/null ||
        fail "no file worker running as porch (the share is root's)"

    # systemctl reload: the unit's ExecReload, with the unit's bounding set, waits for the
    # network side's verdict on the (unchanged, valid) file
    exec_reload=$(sed -n 's/^ExecReload=//p' "$unit")
    say "reloading, as the unit does: $exec_reload"
    # shellcheck disable=SC2086
    chroot "$root" setpriv --bounding-set="$bounding" --inh-caps=-all --no-new-privs \
        $exec_reload || { cat "$root/tmp/porchd.log"; fail "the unit's ExecReload failed"; }

    kill -TERM "$pid"
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then fail "porchd did not stop on SIGTERM"; fi
    wait "$pid" || fail "porchd exited with status $? on SIGTERM"
}

# ---- inside the mount and PID namespace ----------------------------------------------------
in_chroot() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"; }

# Nothing that installing may start runs (pgrep sees this PID namespace only).
no_services() {
    local name
    for name in porchd avahi-daemon cupsd dbus-daemon; do
        if pgrep -x "$name" >/dev/null; then
            ps -eo pid,user,args
            fail "installing started $name"
        fi
    done
}

apt_install() {
    in_chroot apt-get install -y -q --no-install-recommends \
        -o APT::Keep-Downloaded-Packages=true -o Dpkg::Use-Pty=0 "$@"
}

inner() {
    ROOT=$1
    local debs=$2 daemon cli tray=""
    mount -t proc proc "$ROOT/proc"
    mount --rbind /dev "$ROOT/dev"
    mount -t tmpfs tmpfs "$ROOT/run"
    mount -t tmpfs tmpfs "$ROOT/tmp"
    mkdir -p "$CACHE/archives/partial"
    mount --bind "$CACHE/archives" "$ROOT/var/cache/apt/archives"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    # As in a container: no service may start while packages are installed.
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod 755 "$ROOT/usr/sbin/policy-rc.d"
    mkdir "$ROOT/tmp/debs"
    cp "$debs"/porch-daemon_*.deb "$debs"/porch_*.deb "$ROOT/tmp/debs/"
    daemon=$(cd "$ROOT" && echo tmp/debs/porch-daemon_*.deb)
    cli=$(cd "$ROOT" && echo tmp/debs/porch_*.deb)
    if compgen -G "$debs/porch-tray_*.deb" >/dev/null; then
        cp "$debs"/porch-tray_*.deb "$ROOT/tmp/debs/"
        tray=$(cd "$ROOT" && echo tmp/debs/porch-tray_*.deb)
    fi

    say "apt-get update; install porch-daemon and porch (a server: no Recommends)"
    in_chroot apt-get update -q -o Dpkg::Use-Pty=0 >/dev/null
    apt_install "/$daemon" "/$cli"

    say "checks after installation"
    local gtk
    # dpkg-query's ${Field}s are its own, not the shell's (SC2016), here and below
    # shellcheck disable=SC2016
    gtk=$(in_chroot dpkg-query -W -f '${Package}\n' | grep -E '^(libgtk|libgdk)' || true)
    [ -z "$gtk" ] || fail "a server install pulled GTK: $gtk"
    in_chroot getent passwd porch >/dev/null || fail "no user porch"
    [ "$(in_chroot stat -c '%a %U:%G' /var/lib/porch)" = "700 porch:porch" ] ||
        fail "/var/lib/porch is not porch's with mode 0700"
    [ ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/porchd.service" ] ||
        fail "the service was enabled without the administrator asking"
    no_services
    # shellcheck disable=SC2016
    in_chroot dpkg-query -W -f '${Conffiles}\n' porch-daemon | grep -q ' /etc/porch/porch.conf ' ||
        fail "/etc/porch/porch.conf is not a conffile"
    in_chroot porch --version
    in_chroot porchd --check-config

    say "a share of /srv in porch.conf (root's folder: its worker runs as porch)"
    mkdir -p "$ROOT$SHARE"
    echo "fetched over SFTP from a fresh Debian 12 root" >"$ROOT$SHARE/hello.txt"
    printf '\n[share Test]\npath = %s\nread = guest\n' "$SHARE" >>"$ROOT/etc/porch/porch.conf"
    in_chroot porchd --check-config
    unshare --net -- "$0" --serve "$ROOT"

    if [ -n "$tray" ]; then
        say "install porch-tray (GTK comes with it)"
        apt_install "/$tray"
        in_chroot porch-tray --version
        [ -f "$ROOT/usr/share/applications/org.porch.Tray.desktop" ] || fail "no .desktop file"
    fi

    say "an upgrade (the same version again): prerm upgrade, postinst configure with the old"
    apt_install --reinstall "/$daemon"
    no_services
    [ ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/porchd.service" ] ||
        fail "the upgrade enabled the service"
    grep -q '^\[share Test\]' "$ROOT/etc/porch/porch.conf" ||
        fail "the upgrade lost the administrator's change to porch.conf"

    say "purge"
    local pkgs=(porch-daemon porch)
    [ -n "$tray" ] && pkgs+=(porch-tray)
    purge "${pkgs[@]}"
    say "purge left only the shared folder and the user porch"

    # The installation above made the user with useradd: systemd was not there. GTK brought
    # systemd (not running): again, now through systemd-sysusers and systemd-tmpfiles.
    if [ -x "$ROOT/usr/bin/systemd-sysusers" ]; then
        say "again, with systemd-sysusers and systemd-tmpfiles present (systemd not PID 1)"
        in_chroot userdel porch
        apt_install "/$daemon"
        no_services
        in_chroot getent passwd porch | grep -q ':/var/lib/porch:/usr/sbin/nologin$' ||
            fail "systemd-sysusers did not make the user porch"
        [ "$(in_chroot stat -c '%a %U:%G' /var/lib/porch)" = "700 porch:porch" ] ||
            fail "systemd-tmpfiles did not make /var/lib/porch"
        purge porch-daemon
    fi
}

# Purges the packages $@ and checks that nothing of them is left but the shared folder and
# the user porch.
purge() {
    in_chroot apt-get purge -y -q -o Dpkg::Use-Pty=0 "$@"
    # shellcheck disable=SC2016
    if in_chroot dpkg-query -W -f '${Package} ${Status}\n' "$@" 2>/dev/null |
        grep -v 'not-installed$'; then
        fail "packages left after purge"
    fi
    local left
    left=$(cd "$ROOT" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./var/cache/apt \
        -o -path ./tmp -o -path ".$SHARE" \) -prune -o -iname '*porch*' -print)
    [ -z "$left" ] || fail "left after purge: $left"
    [ -f "$ROOT$SHARE/hello.txt" ] || fail "purge removed the shared folder's data"
    in_chroot getent passwd porch >/dev/null || fail "purge removed the user porch"
}

# ---- outside: the cached base, the root, clean-up ------------------------------------------
base_tarball() {
    local tar="$CACHE/$SUITE-apt.tar"
    mkdir -p "$CACHE"
    if [ -f "$tar" ] && [ -z "$(find "$tar" -mtime +7)" ]; then
        echo "$tar"
        return
    fi
    say "making the base root ($SUITE, essential packages and apt) with mmdebstrap" >&2
    mmdebstrap --quiet --variant=apt --format=tar "$SUITE" "$tar.new" \
        "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
        "deb $SECURITY $SUITE-security main" >&2
    mv "$tar.new" "$tar"
    echo "$tar"
}

ROOT=""
NS_PID=""
cleanup() {
    local rc=$?
    if [ -n "$NS_PID" ] && kill -0 "$NS_PID" 2>/dev/null; then
        kill -KILL "$NS_PID" 2>/dev/null || true
        wait "$NS_PID" 2>/dev/null || true
    fi
    if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
        # the mounts lived in the namespace, which is gone; never remove through a mount
        if grep -q " ${ROOT}[/ ]" /proc/self/mountinfo; then
            echo "test-install: $ROOT still has mounts; left in place" >&2
        else
            rm -rf --one-file-system "$ROOT"
        fi
    fi
    exit $rc
}

main() {
    local debs=${1:-} start tar
    if [ -z "$debs" ] || ! compgen -G "$debs/porch-daemon_*.deb" >/dev/null ||
        ! compgen -G "$debs/porch_*.deb" >/dev/null; then
        echo "usage: $0 DIR (holding porch-daemon_*.deb, porch_*.deb, porch-tray_*.deb)" >&2
        exit 2
    fi
    [ "$(id -u)" -eq 0 ] || { echo "test-install: needs root (chroot, namespaces)" >&2; exit 2; }
    debs=$(cd "$debs" && pwd)
    start=$(date +%s)
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    tar=$(base_tarball)
    ROOT=$(mktemp -d /var/tmp/porch-fresh.XXXXXX)
    say "unpacking $tar into $ROOT"
    tar -xf "$tar" -C "$ROOT"
    # --kill-child: the namespace's first process, and so every process in it, dies with us
    unshare --mount --propagation private --pid --fork --mount-proc --kill-child \
        -- "$0" --inner "$ROOT" "$debs" &
    NS_PID=$!
    wait "$NS_PID"
    NS_PID=""
    say "passed in $(($(date +%s) - start)) s"
}

case "${1:-}" in
--inner) inner "$2" "$3" ;;
--serve) serve "$2" ;;
*) main "$@" ;;
esac
