#!/usr/bin/env bash
# tests/test-package.sh BUILD_DIR SOURCE_DIR VERSION TRAY — the Debian packages' contents.
#
# Makes the packages of BUILD_DIR with cpack into a scratch folder and checks, for each of
# porch-daemon, porch and (TRAY on) porch-tray: its files and their modes against
# tests/data/packages/PACKAGE.files, nothing under /usr/local, the conffiles (every file
# under /etc, and only those), the control fields (name, VERSION, architecture, section,
# Depends from dpkg-shlibdeps, porch-daemon's avahi-daemon and Recommends cups, no GTK in
# porch-daemon's or porch's Depends), compressed man pages, the changelog's version, the
# maintainer scripts, and lintian (errors and warnings, apart from the overrides each
# package carries; docs/packaging.md). Then that cpack refuses a tree not configured for
# /usr. Exit 77 (skipped) when BUILD_DIR is not configured for /usr or not writable (the unit
# tests as nobody).
set -euo pipefail

build=$1 src=$2 version=$3 tray=$4
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
if [ "$prefix" != /usr ]; then
    echo "SKIPPED: $build is configured for $prefix; packages are made from a tree" \
        "configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/dev does)"
    exit 77
fi
# cpack installs each component through the build tree's cmake_install.cmake, which writes
# install_manifest_COMPONENT.txt there
if [ ! -w "$build" ]; then
    echo "SKIPPED: cpack writes its install manifests into $build, which $(id -un) may not write"
    exit 77
fi
for tool in cpack dpkg-deb lintian; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/dev deps)"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/porch-test-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cpack --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }

arch=$(dpkg --print-architecture)
packages=(porch-daemon porch)
case "$tray" in [Oo][Nn] | [Yy][Ee][Ss] | [Tt][Rr][Uu][Ee] | 1) packages+=(porch-tray) ;; esac
made=$(find "$tmp" -maxdepth 1 -name '*.deb' -printf '%f\n' | sort | tr '\n' ' ')
want=$(for p in "${packages[@]}"; do echo "${p}_${version}_$arch.deb"; done | sort | tr '\n' ' ')
[ "$made" = "$want" ] || bad "cpack made '$made', expected '$want'"

field() { dpkg-deb -f "$deb" "$1"; }
for p in "${packages[@]}"; do
    deb="$tmp/${p}_${version}_$arch.deb"
    [ -f "$deb" ] || continue
    echo "== $p"
    ctl="$tmp/$p.control"
    dpkg-deb -e "$deb" "$ctl"

    # files (not folders) with their modes
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $1, substr($6, 2)}' >"$tmp/$p.files"
    diff -u "$src/tests/data/packages/$p.files" "$tmp/$p.files" ||
        bad "$p: its files differ from tests/data/packages/$p.files (above: - expected, + made)"
    if dpkg-deb -c "$deb" | grep -q '\./usr/local'; then bad "$p: installs under /usr/local"; fi

    # conffiles: exactly the files under /etc
    awk '$2 ~ /^\/etc\// {print $2}' "$tmp/$p.files" | sort >"$tmp/$p.etc"
    if [ -f "$ctl/conffiles" ]; then sort "$ctl/conffiles" >"$tmp/$p.conffiles"; else
        : >"$tmp/$p.conffiles"; fi
    diff -u "$tmp/$p.etc" "$tmp/$p.conffiles" || bad "$p: conffiles are not its files under /etc"

    # control fields
    [ "$(field Package)" = "$p" ] || bad "$p: Package is $(field Package)"
    [ "$(field Version)" = "$version" ] || bad "$p: Version $(field Version), project $version"
    [ "$(field Architecture)" = "$arch" ] || bad "$p: Architecture $(field Architecture)"
    [ "$(field Section)" = net ] || bad "$p: Section $(field Section)"
    [ "$(field Priority)" = optional ] || bad "$p: Priority $(field Priority)"
    [ -n "$(field Maintainer)" ] || bad "$p: no Maintainer"
    [ "$(field Description | wc -l)" -ge 3 ] || bad "$p: no long description"
    depends=$(field Depends)
    echo "Depends: $depends"
    # dpkg-shlibdeps made them: libc6 with a version, as every program links it
    echo "$depends" | grep -Eq '(^|, )libc6 \(>= [0-9.]+\)' || bad "$p: Depends not from shlibdeps"
    case "$p" in
    porch-daemon)
        echo "$depends" | grep -Eq '(^|, )avahi-daemon(,|$| )' || bad "$p: no Depends avahi-daemon"
        [ "$(field Recommends)" = cups ] || bad "$p: Recommends '$(field Recommends)', not cups"
        ;;
    porch-tray)
        echo "$depends" | grep -q 'libgtk-3-0' || bad "$p: GTK missing from Depends"
        # the metainfo's newest release is this version
        dpkg-deb --fsys-tarfile "$deb" |
            tar -xOf - ./usr/share/metainfo/org.porch.Tray.metainfo.xml |
            grep -m1 '<release ' | grep -q "version=\"$version\"" ||
            bad "$p: the metainfo's first <release> is not $version"
        ;;
    esac
    if [ "$p" != porch-tray ] && echo "$depends" | grep -Eq 'gtk|gdk|ayatana|libx11'; then
        bad "$p: a desktop library in Depends (a server install would pull it)"
    fi

    # man pages compressed (gzip -9n), the changelog's version
    while read -r page; do
        dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ".$page" | gzip -t ||
            bad "$p: $page is not gzip"
    done < <(awk '$2 ~ /^\/usr\/share\/man\// {print $2}' "$tmp/$p.files")
    if grep -E '^[^ ]+ /usr/share/man/.*[^z]$' "$tmp/$p.files"; then bad "$p: man page not compressed"; fi
    first=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/share/doc/$p/changelog.gz" |
        gzip -dc | head -n 1)
    case "$first" in "porch ($version) "*) ;; *) bad "$p: changelog starts '$first'" ;; esac

    # maintainer scripts: porch-daemon's, executable, valid sh
    for s in preinst postinst prerm postrm; do
        [ -f "$ctl/$s" ] || continue
        [ "$(stat -c %a "$ctl/$s")" = 755 ] || bad "$p: $s is not mode 0755"
        sh -n "$ctl/$s" || bad "$p: $s is not valid sh"
    done
    if [ "$p" = porch-daemon ]; then
        for s in postinst prerm postrm; do [ -f "$ctl/$s" ] || bad "$p: no $s"; done
    fi
done

echo "== lintian"
lrc=0
lintian --fail-on error,warning "$tmp"/*.deb >"$tmp/lintian.log" 2>&1 || lrc=$?
# as root lintian says it would rather not run so; that line is not a finding
grep -v 'running with root privileges' "$tmp/lintian.log" || true
[ "$lrc" -eq 0 ] || bad "lintian: errors or warnings beyond the packages' overrides (above)"

echo "== cpack refuses a tree configured for another prefix"
sed 's|^set(CPACK_PORCH_INSTALL_PREFIX "/usr")|set(CPACK_PORCH_INSTALL_PREFIX "/usr/local")|' \
    "$build/CPackConfig.cmake" >"$tmp/CPackConfig-local.cmake"
grep -q 'CPACK_PORCH_INSTALL_PREFIX "/usr/local"' "$tmp/CPackConfig-local.cmake" ||
    bad "CPackConfig.cmake does not carry CPACK_PORCH_INSTALL_PREFIX"
if cpack --config "$tmp/CPackConfig-local.cmake" -B "$tmp/local" >"$tmp/local.log" 2>&1; then
    bad "cpack made packages from a tree configured for /usr/local"
elif ! grep -q 'DCMAKE_INSTALL_PREFIX=/usr' "$tmp/local.log"; then
    cat "$tmp/local.log"
    bad "cpack failed for another reason than the prefix"
fi

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "every check passed"
