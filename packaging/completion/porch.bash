# bash completion for porch(1)
#
# Completes:
#   - the commands, as `porch --help` lists them ("  porch NAME ...");
#   - each command's long options, as `porch COMMAND --help` lists them;
#   - HOST/SHARE arguments: the neighbours `porch browse --json` sees and their shares (their
#     printers for print, jobs, cancel and printer add), the answer kept for
#     PORCH_COMPLETE_TTL seconds (default 10) in $XDG_RUNTIME_DIR/porch-complete-browse.json
#     (else /tmp/porch-complete-browse-UID.json), so that each Tab does not browse again;
#   - local files for local arguments (put's SOURCE, get's DEST, print's FILE, --identity).
# Browsing is bounded: `porch browse --timeout 1`, under timeout(1) when there is one. Paths
# inside a share are not completed: that would log in to the neighbour (and pin its key on
# first contact) on a Tab.
#
# COMPREPLY=($(compgen ...)) splits compgen's lines into words, as meant: commands, options
# and the names compgen -f prints are one a line (IFS is a newline where names may hold
# spaces).
# shellcheck shell=bash disable=SC2207

# The porch to ask: the one being completed when it is a path, else the one in PATH.
_porch_program()
{
    local p=${COMP_WORDS[0]:-porch}
    p=${p/#\~/$HOME}
    if [[ $p == */* && -x $p ]]; then
        printf '%s\n' "$p"
    else
        printf 'porch\n'
    fi
}

_porch_commands()
{
    "$1" --help 2>/dev/null | sed -n 's/^  porch \([a-z][a-z0-9-]*\).*/\1/p'
}

# The long options of command $2: the first --option of each line that starts with one.
_porch_options()
{
    "$1" "$2" --help 2>/dev/null |
        sed -n 's/^  \(-[^ ,]*, \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p'
}

# The word being completed as the shell will hand it to porch: a leading quote and
# backslashes removed (enough to match it against names).
_porch_dequote()
{
    local w=$1 out="" i c quote=""
    for ((i = 0; i < ${#w}; i++)); do
        c=${w:i:1}
        if [[ -n $quote ]]; then
            if [[ $c == "$quote" ]]; then
                quote=""
            elif [[ $quote == '"' && $c == "\\" ]]; then
                ((i++))
                out+=${w:i:1}
            else
                out+=$c
            fi
        elif [[ $c == "'" || $c == '"' ]]; then
            quote=$c
        elif [[ $c == "\\" ]]; then
            ((i++))
            out+=${w:i:1}
        else
            out+=$c
        fi
    done
    printf '%s' "$out"
}

# The cache of `porch browse --json`, fresh or renewed; its path on stdout, nothing when there
# is none to read.
_porch_browse_cache()
{
    local dir=${XDG_RUNTIME_DIR:-} file now mtime tmp ttl=${PORCH_COMPLETE_TTL:-10}
    if [[ -n $dir && -d $dir && -O $dir ]]; then
        file=$dir/porch-complete-browse.json
    else
        dir=/tmp
        file=$dir/porch-complete-browse-$EUID.json
    fi
    # someone else's file (or a link) in a shared folder is never read
    if [[ -e $file || -L $file ]] && { [[ -L $file ]] || [[ ! -O $file ]]; }; then
        return 0
    fi
    printf -v now '%(%s)T' -1
    mtime=$(stat -c %Y -- "$file" 2>/dev/null) || mtime=0
    if ((now - mtime < ttl && now >= mtime)); then
        printf '%s\n' "$file"
        return 0
    fi
    tmp=$(mktemp "$dir/.porch-complete-browse.XXXXXX" 2>/dev/null) || return 0
    if command -v timeout >/dev/null; then
        timeout 3 "$1" browse --json --timeout 1 >"$tmp" 2>/dev/null
    else
        "$1" browse --json --timeout 1 >"$tmp" 2>/dev/null
    fi
    if [[ -s $tmp ]] && mv -f -- "$tmp" "$file"; then
        printf '%s\n' "$file"
    else
        rm -f -- "$tmp"
    fi
}

# The Porch neighbours in a `porch browse --json` answer (one neighbour object a line, as
# porch(1) documents it), one line each: "N<TAB>NAME", then "S<TAB>NAME<TAB>SHARE" for each
# share and "P<TAB>NAME<TAB>PRINTER" for each printer. Control characters become '?'.
_porch_neighbours()
{
    awk '
    function unescape(s,    out, i, c, n) {
        out = ""
        n = length(s)
        for (i = 1; i <= n; i++) {
            c = substr(s, i, 1)
            if (c != "\\") { out = out c; continue }
            c = substr(s, ++i, 1)
            if (c == "u") { out = out "?"; i += 4 }
            else if (c == "\"" || c == "\\" || c == "/") out = out c
            else out = out "?"
        }
        return out
    }
    {
        line = $0; n = length(line); depth = 0; key = ""; top = ""; name = ""; porch = 0
        ns = 0; np = 0
        for (i = 1; i <= n; i++) {
            c = substr(line, i, 1)
            if (c == "\"") {
                s = ""
                for (j = i + 1; j <= n; j++) {
                    d = substr(line, j, 1)
                    if (d == "\\") { s = s d substr(line, j + 1, 1); j++; continue }
                    if (d == "\"") break
                    s = s d
                }
                i = j
                str = unescape(s)
                if (substr(line, i + 1, 1) == ":") {
                    key = str
                    if (depth == 1) top = key
                    i++
                } else if (key == "name" && depth == 1) {
                    name = str
                } else if (key == "name" && depth == 3 && top == "shares") {
                    share[++ns] = str
                } else if (key == "name" && depth == 3 && top == "printers") {
                    printer[++np] = str
                }
            } else if (c == "{" || c == "[") {
                depth++
            } else if (c == "}" || c == "]") {
                depth--
            } else if (c == "t" && depth == 1 && key == "porch" && substr(line, i, 4) == "true") {
                porch = 1
            }
        }
        if (name == "" || !porch) next
        print "N\t" name
        for (k = 1; k <= ns; k++) print "S\t" name "\t" share[k]
        for (k = 1; k <= np; k++) print "P\t" name "\t" printer[k]
    }' "$1"
}

# Adds to COMPREPLY the remote names that start with $2 (dequoted): "HOST/" for a neighbour,
# "HOST/SHARE/" ($3 = S) or "HOST/PRINTER" ($3 = P) once the word holds HOST/.
_porch_remote()
{
    local porch=$1 word=$2 kind=$3 cache host kind_ name item
    cache=$(_porch_browse_cache "$porch")
    [[ -n $cache ]] || return 0
    compopt -o filenames -o nospace 2>/dev/null
    if [[ $word != */* ]]; then
        while IFS=$'\t' read -r kind_ name item; do
            [[ $kind_ == N && $name == "$word"* ]] && COMPREPLY+=("$name/")
        done < <(_porch_neighbours "$cache")
        return 0
    fi
    host=${word%%/*}
    [[ ${word#*/} == */* ]] && return 0 # a path inside a share
    while IFS=$'\t' read -r kind_ name item; do
        [[ $kind_ == "$kind" && ${name,,} == "${host,,}" ]] || continue
        if [[ $kind == S ]]; then
            [[ "$host/$item/" == "$word"* ]] && COMPREPLY+=("$host/$item/")
        else
            [[ "$host/$item" == "$word"* ]] && COMPREPLY+=("$host/$item")
        fi
    done < <(_porch_neighbours "$cache")
}

_porch_files()
{
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY+=($(compgen -f -- "$1"))
}

_porch()
{
    local cur prev porch cmd word i n_args=0 arg_index=0
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]:-}
    porch=$(_porch_program)

    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "$(_porch_commands "$porch") help --help --version" -- "$cur"))
        return 0
    fi
    cmd=${COMP_WORDS[1]}

    # an option's value: "--identity FILE" or "--identity=FILE" (bash splits at '=')
    [[ $prev == = ]] && prev=${COMP_WORDS[COMP_CWORD - 2]:-}
    case $prev in
    --identity | -i | --config | -c)
        _porch_files "$cur"
        return 0
        ;;
    --timeout | -t | --connect-timeout | --copies | --title | --name | --as | --state-dir | \
        --read | --write | --comment)
        return 0
        ;;
    esac
    [[ $cur == = ]] && cur=""

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_porch_options "$porch" "$cmd")" -- "$cur"))
        return 0
    fi

    # which argument this is, options and their values left out
    for ((i = 2; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
        --identity | -i | --config | -c | --timeout | -t | --connect-timeout | --copies | \
            --title | --name | --as | --state-dir | --read | --write | --comment | --accept | \
            --ask | --max-size)
            ((i++))
            ;;
        =) ((i++)) ;;
        -*) ;;
        *) ((n_args++)) ;;
        esac
    done
    arg_index=$((n_args + 1))
    word=$(_porch_dequote "$cur")

    case $cmd in
    help)
        if ((arg_index == 1)); then
            COMPREPLY=($(compgen -W "$(_porch_commands "$porch")" -- "$cur"))
        fi
        ;;
    browse | id | status | search) ;;
    share)
        if ((arg_index == 1)); then
            COMPREPLY=($(compgen -W "add remove list" -- "$cur"))
        elif ((arg_index == 2)) && [[ ${COMP_WORDS[2]} == add ]]; then
            COMPREPLY=($(compgen -d -- "$cur"))
        fi
        ;;
    allow | deny)
        ((arg_index == 2)) && COMPREPLY=($(compgen -W "read write print" -- "$cur"))
        ;;
    neighbours)
        ((arg_index == 1)) && COMPREPLY=($(compgen -W "add remove list" -- "$cur"))
        ;;
    inbox)
        if ((arg_index == 1)); then
            COMPREPLY=($(compgen -W "enable disable list accept decline" -- "$cur"))
        elif ((arg_index == 2)) && [[ ${COMP_WORDS[2]} == enable ]]; then
            COMPREPLY=($(compgen -d -- "$cur"))
        fi
        ;;
    send)
        # FILE|DIR... then HOST[/INBOX]
        _porch_files "$cur"
        ;;
    peers)
        ((arg_index == 1)) && COMPREPLY=($(compgen -W "list accept deny forget" -- "$cur"))
        ;;
    print)
        if ((arg_index == 1)); then
            _porch_remote "$porch" "$word" P
        else
            _porch_files "$cur"
        fi
        ;;
    jobs | cancel)
        ((arg_index == 1)) && _porch_remote "$porch" "$word" P
        ;;
    printer)
        if ((arg_index == 1)); then
            COMPREPLY=($(compgen -W "add" -- "$cur"))
        elif ((arg_index == 2)); then
            _porch_remote "$porch" "$word" P
        fi
        ;;
    put)
        # SOURCE... then HOST/SHARE/PATH: a word that starts with a neighbour's name is remote
        if ((arg_index == 1)); then
            _porch_files "$cur"
        else
            _porch_remote "$porch" "$word" S
            _porch_files "$cur"
        fi
        ;;
    get)
        # HOST/SHARE/PATH... then DEST
        _porch_remote "$porch" "$word" S
        ((arg_index > 1)) && _porch_files "$cur"
        ;;
    *)
        # ls and every other command: its arguments are HOST/SHARE/PATH
        _porch_remote "$porch" "$word" S
        ;;
    esac
    return 0
}

complete -F _porch porch
