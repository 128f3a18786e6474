//! `completions` and `man`: the scripts run in the real shells, completing
//! `cargo multiarch …` through cargo's own completion; the man pages render with man-db.

use std::path::Path;
use std::process::Command;

use crate::support::{multiarch, repo, require, run};

/// `cargo multiarch completions SHELL`, written to `dir/name`.
fn script(shell: &str, dir: &Path, name: &str) -> std::path::PathBuf {
    let out = run(multiarch(&repo()).args(["completions", shell]))
        .success()
        .stdout();
    assert!(!out.contains("__zig"), "the hidden zig mode shows:\n{out}");
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

fn shell(program: &str, script: &str) -> String {
    let r = run(Command::new(program)
        .arg("-c")
        .arg(script)
        .env("HOME", std::env::temp_dir()))
    .success();
    r.stdout()
}

#[test]
fn bash_completes_cargo_multiarch_and_leaves_the_rest_of_cargo_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let file = script("bash", tmp.path(), "cargo-multiarch.bash");
    run(Command::new("bash").arg("-n").arg(&file)).success();
    run(Command::new("bash")
        .arg("--posix")
        .arg("-c")
        .arg(format!("source {}", file.display())))
    .success();
    // A completion for `cargo` already there (as rustup's or Debian's would be): the
    // script goes in front of it and hands it every line that is not `cargo multiarch`.
    let out = shell(
        "bash",
        &format!(
            r#"
_cargo() {{ COMPREPLY=(cargo-own "$2"); }}
complete -F _cargo cargo
source {file}
complete -p cargo-multiarch
complete -p cargo
t() {{
    COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMPREPLY=()
    local f; f=$(complete -p "$1" | sed 's/.* -F \([^ ]*\) .*/\1/')
    "$f" "$1" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
    echo "$* => ${{COMPREPLY[*]}}"
}}
t cargo multiarch pa
t cargo multiarch build --pla
t cargo multiarch build --backend ''
t cargo +stable -v multiarch completions ''
t cargo multiarch verify --run-a
t cargo bu
t cargo-multiarch ma
source {file}
t cargo bu
"#,
            file = file.display()
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with(" cargo-multiarch"), "{out}");
    assert_eq!(
        lines[1], "complete -F __cargo_multiarch_cargo cargo",
        "{out}"
    );
    assert_eq!(
        &lines[2..],
        [
            "cargo multiarch pa => package",
            "cargo multiarch build --pla => --platform",
            "cargo multiarch build --backend  => auto cargo zig zigbuild cross",
            "cargo +stable -v multiarch completions  => -v -q -h --verbose --quiet --color --help bash elvish fish powershell zsh",
            "cargo multiarch verify --run-a => --run-anyway --run-args",
            "cargo bu => cargo-own bu",
            "cargo-multiarch ma => man",
            // Sourced twice, it still hands on to cargo's own, not to itself.
            "cargo bu => cargo-own bu",
        ],
        "{out}"
    );
}

#[test]
fn zsh_completes_cargo_multiarch_through_cargos_own_completion() {
    require("zsh");
    let tmp = tempfile::tempdir().unwrap();
    let fpath = tmp.path().join("functions");
    std::fs::create_dir(&fpath).unwrap();
    let file = script("zsh", &fpath, "_cargo-multiarch");
    run(Command::new("zsh").arg("-n").arg(&file)).success();
    // rustup's `_cargo` calls `_cargo-<subcommand>` when one is defined: drive a real
    // interactive zsh through it (zpty) when the toolchain ships it, else the script alone.
    let sysroot = run(Command::new("rustc").args(["--print", "sysroot"]))
        .success()
        .stdout();
    let cargo_fn = Path::new(sysroot.trim()).join("share/zsh/site-functions/_cargo");
    let line = if cargo_fn.is_file() {
        std::fs::copy(&cargo_fn, fpath.join("_cargo")).unwrap();
        "cargo multiarch"
    } else {
        eprintln!(
            "note: no `_cargo` in the toolchain ({}); completing `cargo-multiarch` alone",
            cargo_fn.display()
        );
        "cargo-multiarch"
    };
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let typed = |words: &str| -> String {
        let drive = format!(
            r#"
zmodload zsh/zpty
zpty -b z 'env -i PATH="$PATH" HOME={home} TERM=dumb zsh -f -i'
zpty -w z 'PS1="> "; fpath=({fpath} $fpath); autoload -U compinit; compinit -u -D; setopt nobeep'
zpty -w -n z $'{line} {words}\t'
sleep 2
zpty -w -n z $'\C-u echo END-OF-TEST\n'
out=""
for i in 1 2 3 4 5 6 7 8 9 10; do
  while zpty -r -t z chunk; do out+="$chunk"; done
  [[ $out == *END-OF-TEST*END-OF-TEST* ]] && break
  sleep 0.5
done
zpty -d z
print -r -- "$out"
"#,
            home = home.display(),
            fpath = fpath.display(),
        );
        shell("zsh", &drive).replace('\r', "")
    };
    let out = typed("pac");
    assert!(out.contains(&format!("{line} package ")), "{out}");
    let out = typed("build --keep-g");
    assert!(
        out.contains(&format!("{line} build --keep-going ")),
        "{out}"
    );
}

#[test]
fn fish_completes_cargo_multiarch_next_to_its_own_cargo_completion() {
    require("fish");
    let tmp = tempfile::tempdir().unwrap();
    let file = script("fish", tmp.path(), "cargo-multiarch.fish");
    run(Command::new("fish").arg("-n").arg(&file)).success();
    let out = shell(
        "fish",
        &format!(
            "source {file}
complete -C 'cargo multiarch pa'
complete -C 'cargo multiarch build --pla'
complete -C 'cargo multiarch build --backend '
complete -C 'cargo multiarch verify --run-a'",
            file = file.display()
        ),
    );
    let first: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(
        first,
        [
            "package",
            "--platform",
            "auto",
            "cargo",
            "cross",
            "zig",
            "zigbuild",
            "--run-anyway",
            "--run-args"
        ],
        "{out}"
    );
}

#[test]
fn powershell_and_elvish_complete_cargo_itself() {
    for (sh, register) in [
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'cargo'",
        ),
        ("elvish", "set edit:completion:arg-completer[cargo]"),
    ] {
        let out = run(multiarch(&repo()).args(["completions", sh]))
            .success()
            .stdout();
        assert!(out.contains(register), "{sh}:\n{out}");
        assert!(out.contains("cargo;multiarch;package"), "{sh}:\n{out}");
    }
}

#[test]
fn man_pages_render_with_every_command() {
    require("man");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let r = run(multiarch(&repo()).args(["man", "--out-dir"]).arg(&dir)).success();
    assert!(
        r.stderr().contains("Wrote 12 man pages to"),
        "{}",
        r.stderr()
    );
    let commands = [
        "plan",
        "build",
        "package",
        "verify",
        "merge",
        "image",
        "init",
        "doctor",
        "completions",
        "man",
    ];
    let render = |page: &Path| -> String {
        let text = run(Command::new("man")
            .arg("-l")
            .arg(page)
            .env("MANWIDTH", "100")
            .env_remove("MAN_KEEP_FORMATTING")
            .env_remove("MANPAGER")
            .env_remove("PAGER"))
        .success()
        .stdout();
        // Bold and underline as overstrikes (`c\bc`, `_\bc`), when man keeps them: the
        // last character of each.
        let mut plain = String::new();
        for c in text.chars() {
            if c == '\u{8}' {
                plain.pop();
            } else {
                plain.push(c);
            }
        }
        // Justified lines: one space between words, as in the source.
        plain.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let root = render(&dir.join("cargo-multiarch.1"));
    assert!(
        root.contains("SYNOPSIS cargo multiarch [-v|--verbose]"),
        "{root}"
    );
    for cmd in commands {
        assert!(
            root.contains(&format!("cargo-multiarch-{cmd}(1)")),
            "no {cmd}:\n{root}"
        );
        let page = render(&dir.join(format!("cargo-multiarch-{cmd}.1")));
        assert!(page.contains(&format!("cargo multiarch {cmd}")), "{page}");
        assert!(!page.contains("__zig"), "{page}");
    }
    let build = render(&dir.join("cargo-multiarch-build.1"));
    assert!(
        build.contains("--keep-going")
            && build.contains("cargo multiarch build --platform linux/arm64 --keep-going"),
        "{build}"
    );
    // Without --out-dir: one page on stdout, the same bytes as the file.
    let one = run(multiarch(&repo()).args(["man", "verify"])).success();
    assert_eq!(
        one.out.stdout,
        std::fs::read(dir.join("cargo-multiarch-verify.1")).unwrap()
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 12, "{names:?}");
}
