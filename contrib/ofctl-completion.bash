# bash completion for goko's ofctl.
#
# Install: copy to /usr/share/bash-completion/completions/ofctl (or
# /etc/bash_completion.d/ofctl), or source it from ~/.bashrc:
#     . /path/to/goko/contrib/ofctl-completion.bash
#
# Completes commands, options, bridge names (the *.mgmt sockets in the run
# directory: --run-dir, $GOKO_RUN_DIR or /run/goko), mod-port actions,
# update-map flags, "filter" subcommands and file names where a command
# takes a file.

_ofctl_commands="show dump-desc dump-tables dump-table-features dump-ports dump-ports-desc mod-port packet-out monitor probe dump-flows dump-aggregate add-flow add-flows mod-flows del-flows replace-flows diff-flows add-group add-groups mod-group del-groups dump-groups dump-group-stats dump-group-features add-meter mod-meter del-meters dump-meters meter-stats meter-features load-filter-prog unload-filter-prog dump-filter-progs dump-map update-map delete-map-entry filter trace dump-megaflows pmd-stats-show set-log-level help"

_ofctl_options="--run-dir --strict --no-stats --json --hex --readd --prog --flags --packet --pcap --sort --rsort --timeout -t -O --protocols --help -h --version -V"

_ofctl_bridges() {
    local dir=${GOKO_RUN_DIR:-/run/goko} i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case ${COMP_WORDS[i]} in
        --run-dir) dir=${COMP_WORDS[i+1]} ;;
        --run-dir=*) dir=${COMP_WORDS[i]#--run-dir=} ;;
        esac
    done
    local f
    for f in "$dir"/*.mgmt; do
        [[ -e $f ]] && f=${f##*/} && echo "${f%.mgmt}"
    done
}

_ofctl() {
    local cur prev cmd i argn=0
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    # Find the command and the index of the current argument after it.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        --run-dir|-t|--timeout|-O|--protocols|--prog|--flags|--packet|--pcap) ((i++)) ;;
        -*) ;;
        *)
            if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; else ((argn++)); fi
            ;;
        esac
    done

    case $prev in
    --run-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --flags) COMPREPLY=($(compgen -W "any noexist exist" -- "$cur")); return ;;
    -O|--protocols) COMPREPLY=($(compgen -W "OpenFlow13" -- "$cur")); return ;;
    --pcap) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -t|--timeout|--prog|--packet) return ;;
    esac
    if [[ $cur == --sort=* || $cur == --rsort=* ]]; then
        local opt=${cur%%=*}
        COMPREPLY=($(compgen -P "$opt=" -W "priority in_port dl_src dl_dst dl_type dl_vlan nw_src nw_dst nw_proto nw_tos tp_src tp_dst ipv6_src ipv6_dst metadata tun_id tun_src tun_dst filter_prog ct_reply" -- "${cur#*=}"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$_ofctl_options" -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$_ofctl_commands" -- "$cur"))
        return
    fi
    case $cmd in
    help)
        ((argn == 0)) && COMPREPLY=($(compgen -W "$_ofctl_commands" -- "$cur"))
        return ;;
    filter)
        if ((argn == 0)); then
            COMPREPLY=($(compgen -W "run verify conformance" -- "$cur"))
        else
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return ;;
    diff-flows)
        COMPREPLY=($(compgen -W "$(_ofctl_bridges)" -- "$cur") $(compgen -f -- "$cur"))
        return ;;
    esac
    if ((argn == 0)); then
        COMPREPLY=($(compgen -W "$(_ofctl_bridges) tcp: unix:" -- "$cur"))
        [[ $cur == unix:* ]] && COMPREPLY=($(compgen -P unix: -f -- "${cur#unix:}"))
        return
    fi
    case $cmd:$argn in
    add-flows:1|add-groups:1|replace-flows:1|load-filter-prog:2)
        COMPREPLY=($(compgen -f -- "$cur")) ;;
    set-log-level:1)
        COMPREPLY=($(compgen -W "debug info warn error" -- "$cur")) ;;
    mod-port:2)
        COMPREPLY=($(compgen -W "up down receive no-receive forward no-forward packet-in no-packet-in flood no-flood stp no-stp receive-stp no-receive-stp" -- "$cur")) ;;
    esac
}

complete -o default -F _ofctl ofctl
