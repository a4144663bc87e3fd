#!/bin/sh
# check-include-cycles.sh DIR [HEADER=MODULE...] — fails when the modules of DIR include each
# other in a cycle, or when a header of DIR belongs to no module.
#
# A module is a file's name without its extension: tray-window.c and tray-window.h are the
# module tray-window. HEADER=MODULE puts a header of another name into a module (the header
# of tray-app.c is porch-tray-internal.h). Every header must be some module's own: a header
# that several .c files share as their common ground hides their calls to each other. Module
# A depends on module B when a file of A has #include "H" and H, in DIR, is B's header. The
# graph is printed, one "A -> B" a line, then tsort(1) orders it: a loop fails the check, with
# the modules of the loop named.
set -eu

dir=${1:?usage: check-include-cycles.sh DIR [HEADER=MODULE...]}
shift
aliases="$*"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The module of file $1 (a name in DIR).
module_of() {
    for alias in $aliases; do
        if [ "${alias%%=*}" = "$1" ]; then
            echo "${alias#*=}"
            return
        fi
    done
    echo "${1%.*}"
}

status=0
for header in "$dir"/*.h; do
    [ -e "$header" ] || continue
    name=$(basename "$header")
    module=$(module_of "$name")
    if [ ! -e "$dir/$module.c" ]; then
        echo "FAIL: $name is the header of no module (no $module.c; HEADER=MODULE names one)"
        status=1
    fi
done

for file in "$dir"/*.c "$dir"/*.h; do
    [ -e "$file" ] || continue
    from=$(module_of "$(basename "$file")")
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file" |
        while read -r header; do
            [ -e "$dir/$header" ] || continue # outside DIR: not one of its modules
            to=$(module_of "$header")
            [ "$from" = "$to" ] || echo "$from $to"
        done
done | sort -u >"$work/edges"

echo "include graph of $dir (module -> module whose header it includes):"
sed 's/ / -> /' "$work/edges"
if ! tsort "$work/edges" >/dev/null 2>"$work/loops"; then
    echo "FAIL: the modules of $dir include each other in a cycle:"
    cat "$work/loops"
    status=1
fi
[ "$status" -eq 0 ] && echo "no cycles; every header is its module's"
exit "$status"
