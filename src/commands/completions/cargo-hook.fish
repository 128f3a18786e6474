
# `cargo multiarch …`: fish's own cargo completion knows no external command's flags;
# this hands the words after `multiarch` to the `cargo-multiarch` completions above.
function __cargo_multiarch_complete
    set -l tokens (commandline -opc)
    set -l at (contains -i -- multiarch $tokens)
    set -l line cargo-multiarch
    if test "$at" -lt (count $tokens)
        set -a line (string escape -- $tokens[(math $at + 1)..-1])
    end
    set -l cur (commandline -ct)
    complete -C "$line $cur"
end
complete -c cargo -n '__fish_seen_subcommand_from multiarch' -f -a '(__cargo_multiarch_complete)'
