//! zig as one target's C toolchain inside a shared `cargo build`: the names of the
//! wrapper scripts `target.<T>.linker` and `CC_<T>`/`CXX_<T>`/`AR_<T>` point at, their
//! text, and the hidden mode they exec,
//! `cargo-multiarch multiarch __zig <zig> <tool> <zig-target> <mcpu> ARGS…`, which
//! drops or rewrites the arguments `zig cc` rejects and runs zig in its place.
//!
//! The filter follows what cargo-zigbuild learned (its `src/zig.rs`), for the Linux
//! targets the wrappers handle; cargo-zigbuild stays the backend for the others.
//! Everything here but [`exec`] is pure.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;

use camino::{Utf8Path, Utf8PathBuf};

use crate::platform::Target;
use crate::process::shell_quote;

/// The word after `multiarch` that selects the hidden mode. `main` looks for it before
/// clap parses anything, so the compiler's arguments (`--version`, `-v`) reach zig
/// untouched and the mode appears in no help text.
pub const HIDDEN: &str = "__zig";

/// A wrapper the tool writes per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Cc,
    Cxx,
    Ar,
}

impl Tool {
    pub const ALL: [Tool; 3] = [Tool::Cc, Tool::Cxx, Tool::Ar];

    /// zig's subcommand, and the wrapper's file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Cc => "cc",
            Tool::Cxx => "c++",
            Tool::Ar => "ar",
        }
    }

    /// The variable cc-rs reads for this tool, for `triple` (`CC_aarch64_unknown_linux_musl`).
    pub fn env_var(self, triple: &str) -> String {
        let prefix = match self {
            Tool::Cc => "CC",
            Tool::Cxx => "CXX",
            Tool::Ar => "AR",
        };
        format!("{prefix}_{}", triple.replace(['-', '.'], "_"))
    }

    fn parse(s: &str) -> Option<Self> {
        Tool::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// zig's `-target` and `-mcpu` for a Rust target the wrappers handle: Linux, musl or
/// glibc (a `.2.17`-style glibc version suffix is zig's own syntax). `None` for the
/// others (macOS, Windows), which cargo-zigbuild builds.
pub fn zig_target(target: &Target) -> Option<(String, Option<&'static str>)> {
    if !target.is_linux() {
        return None;
    }
    let triple = target.triple();
    let mut parts = triple.split('-');
    let arch = parts.next()?;
    let env = parts.next_back()?;
    if !(env.starts_with("musl") || env.starts_with("gnu")) {
        return None;
    }
    let (zig_arch, mcpu) = match arch {
        "armv7" => ("arm", Some("generic+v7a+vfp3-d32+thumb2-neon")),
        "arm" => ("arm", Some("generic+v6+strict_align")),
        "i686" => ("x86", Some("pentium4")),
        "i586" => ("x86", Some("pentium")),
        "riscv64gc" => ("riscv64", Some("generic_rv64+m+a+f+d+c")),
        "aarch64" | "x86_64" | "powerpc64le" | "s390x" => (arch, None),
        _ => return None,
    };
    let suffix = target.requested.strip_prefix(triple).unwrap_or("");
    Some((format!("{zig_arch}-linux-{env}{suffix}"), mcpu))
}

/// `<target-dir>/cargo-multiarch/zig/<target>/<tool>`: where the wrapper for `tool`
/// lives. Named by the target as requested, so a new glibc suffix is a new linker path
/// (which cargo sees, and relinks).
pub fn wrapper_path(target_dir: &Utf8Path, target: &Target, tool: Tool) -> Utf8PathBuf {
    target_dir
        .join("cargo-multiarch/zig")
        .join(&target.requested)
        .join(tool.as_str())
}

/// The wrapper script: the same bytes for the same tool, zig and target on every run,
/// so rewriting it only when it changed never makes cargo rebuild.
pub fn wrapper_script(exe: &Utf8Path, zig: &Utf8Path, tool: Tool, target: &Target) -> String {
    let (zig_target, mcpu) = zig_target(target).unwrap_or_else(|| (target.to_string(), None));
    format!(
        "#!/bin/sh\n# Written by cargo-multiarch: `zig {tool}` for {target}.\nexec {exe} multiarch {HIDDEN} {zig} {tool} {zig_target} {mcpu} \"$@\"\n",
        tool = tool.as_str(),
        exe = shell_quote(exe.as_str()),
        zig = shell_quote(zig.as_str()),
        zig_target = shell_quote(&zig_target),
        mcpu = mcpu.unwrap_or("-"),
    )
}

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

#[cfg(test)]
mod tests;
