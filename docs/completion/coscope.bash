# SPDX-License-Identifier: MIT
# bash completion for coscope(1): subcommands, their options, trace files
# (*.db) where a trace is expected, and process ids for ps, tree, attach and
# dump.  Installed by `make install` into $(bashcompdir)/coscope.
_coscope()
{
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmds="run report sql export info tui ps tree attach dump"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
        return
    fi
    cmd=${COMP_WORDS[1]}
    # After `coscope run ... --`, complete the program and its arguments.
    local i
    for ((i = 2; i < COMP_CWORD; i++)); do
        if [ "${COMP_WORDS[i]}" = "--" ] && [ "$cmd" = run ]; then
            if [ $((i + 1)) -eq "$COMP_CWORD" ]; then
                COMPREPLY=($(compgen -c -- "$cur") $(compgen -f -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return
        fi
    done
    case "$prev" in
    -o|--output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -f|--format) [ "$cmd" = export ] && { COMPREPLY=($(compgen -W "chrome perfetto" -- "$cur")); return; } ;;
    --slow-ms|--top|--for|--signal|--sustain-ms|--fail-rate|--queue-min|-p|--param) return ;;
    esac
    local opts=""
    case "$cmd" in
    run) opts="-o --output -f --force --slow-ms --drop --tui --sustain-ms --fail-rate --queue-min --help --" ;;
    report) opts="--fail-on-warnings --top --help" ;;
    sql) opts="--csv --json -p --param --help" ;;
    export) opts="-f --format -o --output --help" ;;
    info) opts="--help" ;;
    tui) opts="--no-mouse --help" ;;
    ps|tree) opts="--json --no-pause --timing --help" ;;
    attach) opts="-o --output -f --force --for --tui --signal --timing --help" ;;
    dump) opts="-o --output --help" ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    case "$cmd" in
    report|sql|export|info|tui)
        # Trace files and directories to walk into.
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -X '!*.db' -- "$cur") $(compgen -d -- "$cur")) ;;
    ps|tree|attach|dump)
        COMPREPLY=($(compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$cur")) ;;
    run)
        COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
    esac
}
complete -F _coscope coscope
