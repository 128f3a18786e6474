//! The hidden mode the wrapper scripts exec,
//! `cargo-multiarch multiarch __zig <zig> <tool> <zig-target> <mcpu> ARGS…`, which
//! drops or rewrites the arguments `zig cc` rejects and runs zig in its place.
//!
//! The filter follows what cargo-zigbuild learned (its `src/zig.rs`), for the Linux
//! targets the wrappers handle; cargo-zigbuild stays the backend for the others.
//! Everything here but [`exec`] is pure.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;

use camino::Utf8Path;

use super::Tool;

/// The word after `multiarch` that selects the hidden mode. `main` looks for it before
/// clap parses anything, so the compiler's arguments (`--version`, `-v`) reach zig
/// untouched and the mode appears in no help text.
pub const HIDDEN: &str = "__zig";

/// What one argument becomes.
#[derive(Debug, PartialEq, Eq)]
enum Filtered {
    Keep(Vec<String>),
    Skip,
    /// Drop it and the argument after it (`-target x`).
    SkipWithNext,
}

/// The extension of a path argument, as rustc writes it (lowercase).
fn ext(arg: &str) -> Option<&str> {
    Utf8Path::new(arg).extension()
}

/// One argument rustc or cc-rs passes, as `zig cc` for `zig_target` needs it.
fn filter_arg(arg: &str, zig_target: &str) -> Filtered {
    let arch = zig_target.split('-').next().unwrap_or("");
    let musl = zig_target.contains("-musl");
    let keep = |a: &str| Filtered::Keep(vec![a.to_owned()]);
    // zig gets `-target` from the wrapper; cc-rs's clang-style `--target=<rust triple>`
    // and any other `-target` would contradict it.
    if arg == "-target" {
        return Filtered::SkipWithNext;
    }
    if arg.starts_with("--target=") {
        return Filtered::Skip;
    }
    // zig ships libunwind, not libgcc_s.
    if arg == "-lgcc_s" {
        return keep("-lunwind");
    }
    if let Some(entry) = arg.strip_prefix("-e")
        && !entry.is_empty()
        && !arg.starts_with("-export")
    {
        return Filtered::Keep(vec![format!("-Wl,--entry={entry}")]);
    }
    // Linker flags zig's lld driver does not know.
    if arg == "-Wl,--no-undefined-version"
        || arg == "-Wl,-znostart-stop-gc"
        || arg == "-Wl,--fix-cortex-a53-843419"
        || arg.starts_with("-Wl,-plugin-opt")
    {
        return Filtered::Skip;
    }
    if arch == "arm" && ext(arg) == Some("rlib") && arg.contains("libcompiler_builtins-") {
        return Filtered::Skip;
    }
    // zig links musl's own crt objects and libc: rustc's self-contained ones would
    // be linked twice.
    if musl
        && ((ext(arg) == Some("o") && arg.contains("self-contained") && arg.contains("crt"))
            || arg == "-Wl,-melf_i386"
            || arg == "-lc")
    {
        return Filtered::Skip;
    }
    // zig cc takes only -Wp,-MD, -Wp,-MMD and -Wp,-MT.
    if arg.starts_with("-Wp,")
        && !arg.starts_with("-Wp,-MD")
        && !arg.starts_with("-Wp,-MMD")
        && !arg.starts_with("-Wp,-MT")
    {
        return Filtered::Skip;
    }
    if let Some(march) = arg.strip_prefix("-march=") {
        match arch {
            "arm" | "x86" => return Filtered::Skip,
            "riscv64" => return keep("-march=generic_rv64"),
            "aarch64" if march.starts_with("armv") => {
                let features = march.find('+').map_or("", |i| &march[i..]);
                let mut out = vec![format!("-mcpu=generic{features}")];
                if features.contains("+crypto") {
                    out.extend(["-Xassembler".to_owned(), arg.to_owned()]);
                }
                return Filtered::Keep(out);
            }
            _ => {}
        }
    }
    keep(arg)
}

/// The arguments for `zig <cc|c++>`: the wrapper's target and CPU first, then the
/// caller's, filtered.
pub fn compiler_args(zig_target: &str, mcpu: Option<&str>, args: &[String]) -> Vec<String> {
    let mut out = vec![
        "-target".to_owned(),
        zig_target.to_owned(),
        // zig enables UBSan without optimisation, whose runtime the Rust link lacks.
        "-fno-sanitize=all".to_owned(),
    ];
    if let Some(cpu) = mcpu {
        out.push(format!("-mcpu={cpu}"));
    }
    out.extend(filter_args(args.iter().map(String::as_str), zig_target));
    out
}

/// Filters a list of arguments (the command line, or a linker response file's lines).
pub fn filter_args<'a>(args: impl IntoIterator<Item = &'a str>, zig_target: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for arg in args {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        match filter_arg(arg, zig_target) {
            Filtered::Keep(v) => out.extend(v),
            Filtered::Skip => {}
            Filtered::SkipWithNext => skip_next = true,
        }
    }
    out
}

/// The hidden mode: `ARGS` are `<zig> <tool> <zig-target> <mcpu|-> <the caller's…>`.
/// Replaces this process with zig; returns only when that fails.
pub fn exec(args: &[OsString]) -> anyhow::Error {
    use anyhow::{Context as _, anyhow};
    let result = (|| -> anyhow::Result<std::convert::Infallible> {
        let [zig, tool, zig_target, mcpu, rest @ ..] = args else {
            return Err(anyhow!(
                "`multiarch {HIDDEN}` needs <zig> <tool> <zig-target> <mcpu> ARGS (hint: it is run by the wrapper scripts cargo-multiarch writes; rerun `cargo multiarch build`)"
            ));
        };
        let text = |s: &OsString| {
            s.to_str().map(str::to_owned).ok_or_else(|| {
                anyhow!(
                    "non-UTF-8 argument `{}` (hint: use UTF-8 paths)",
                    s.to_string_lossy()
                )
            })
        };
        let tool = text(tool)?;
        let tool = Tool::parse(&tool)
            .ok_or_else(|| anyhow!("unknown zig tool `{tool}` (hint: one of `cc`, `c++`, `ar`)"))?;
        let zig_target = text(zig_target)?;
        let mcpu = text(mcpu)?;
        let mut cmd = std::process::Command::new(zig);
        cmd.arg(tool.as_str());
        if tool == Tool::Ar {
            cmd.args(rest);
        } else {
            let rest: Vec<String> = rest.iter().map(text).collect::<anyhow::Result<_>>()?;
            // `--cache sccache`: a compilation not from sccache (`configure` and `make`
            // with `CC`) goes to sccache, with this wrapper as its compiler.
            if let Some((sccache, wrapper)) = crate::cache::zig_through_sccache(&rest) {
                let err = std::process::Command::new(&sccache)
                    .arg(&wrapper)
                    .args(&rest)
                    .exec();
                return Err(err)
                    .with_context(|| format!("could not run `{}`", sccache.to_string_lossy()));
            }
            for arg in &rest {
                if let Some(file) = arg.strip_prefix('@')
                    && arg.ends_with("linker-arguments")
                {
                    rewrite_response_file(Utf8Path::new(file), &zig_target)?;
                }
            }
            let mcpu = (mcpu != "-").then_some(mcpu.as_str());
            cmd.args(compiler_args(&zig_target, mcpu, &rest));
        }
        Err(cmd.exec()).with_context(|| format!("could not run `{}`", zig.to_string_lossy()))
    })();
    match result {
        Err(e) => e,
        Ok(never) => match never {},
    }
}

/// rustc passes a long link line in `@…/linker-arguments`, one argument a line: the
/// same filter applies to it, in place.
fn rewrite_response_file(file: &Utf8Path, zig_target: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read rustc's linker arguments `{file}`"))?;
    let filtered = filter_args(text.split('\n'), zig_target).join("\n");
    std::fs::write(file, filtered)
        .with_context(|| format!("cannot rewrite rustc's linker arguments `{file}`"))
}
