
# `cargo multiarch …`: cargo's own completion hands the words from `multiarch` on to the
# completion of `cargo-multiarch` above only with bash-completion >= 2.12. This wrapper
# goes in front of whatever completes `cargo` and does that for any version; every
# other cargo command line goes on, unchanged, to the completion cargo had.
__cargo_multiarch_cargo() {
    local i
    for (( i = 1; i < COMP_CWORD; i++ )); do
        case "${COMP_WORDS[i]}" in
            multiarch)
                local words=(cargo-multiarch "${COMP_WORDS[@]:i+1}") cword=$((COMP_CWORD - i))
                local COMP_WORDS=("${words[@]}") COMP_CWORD=$cword
                _cargo_multiarch cargo-multiarch "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                compopt -o bashdefault -o default 2>/dev/null
                return 0
                ;;
            [-+]*) ;;
            *) break ;;
        esac
    done
    # bash-completion loads cargo's completion on first use, replacing this wrapper:
    # load it now, remember it, and stay in front of it.
    if [[ -z "${__cargo_multiarch_next-}" ]] && declare -F __load_completion >/dev/null \
        && __load_completion cargo; then
        __cargo_multiarch_wrap
    fi
    if [[ -n "${__cargo_multiarch_next-}" ]]; then
        "$__cargo_multiarch_next" "$@"
    fi
}

# Remembers the function that completes `cargo` now, if any, and puts the wrapper in
# front of it. A `complete -C` command for cargo is left alone.
__cargo_multiarch_wrap() {
    local now
    now=$(complete -p cargo 2>/dev/null)
    if [[ -n "$now" && "$now" != *" -F "* ]]; then
        return 0
    fi
    now=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<<"$now")
    if [[ -n "$now" && "$now" != __cargo_multiarch_cargo ]]; then
        __cargo_multiarch_next=$now
    fi
    complete -F __cargo_multiarch_cargo cargo
}
__cargo_multiarch_wrap
