//! The wrapper scripts a `zig` target's linker and `CC_`/`CXX_`/`AR_<triple>` point at:
//! their names, their text, and writing them under the target dir (the same bytes on
//! every run, rewritten atomically only when they changed, so cargo's fingerprints
//! never churn).

use anyhow::{Result, anyhow};
use camino::{Utf8Path, Utf8PathBuf};

use super::{HIDDEN, Zig};
use crate::platform::Target;
use crate::process::shell_quote;

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

    pub(super) fn parse(s: &str) -> Option<Self> {
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
/// so rewriting it only when it changed never makes cargo rebuild. It names zig's
/// version (sccache hashes a C compiler by its contents, and a zig upgraded in place
/// keeps its path) and tells the hidden mode its own path (which `--cache sccache`
/// hands to sccache as the compiler).
pub fn wrapper_script(
    exe: &Utf8Path,
    (zig, version): (&Utf8Path, &str),
    tool: Tool,
    target: &Target,
) -> String {
    let (zig_target, mcpu) = zig_target(target).unwrap_or_else(|| (target.to_string(), None));
    format!(
        "#!/bin/sh\n# Written by cargo-multiarch: `zig {tool}` (zig {version}) for {target}.\n{var}=$0\nexport {var}\nexec {exe} multiarch {HIDDEN} {zig} {tool} {zig_target} {mcpu} \"$@\"\n",
        var = crate::cache::ZIG_WRAPPER,
        version = version.lines().next().unwrap_or(""),
        tool = tool.as_str(),
        exe = shell_quote(exe.as_str()),
        zig = shell_quote(zig.as_str()),
        zig_target = shell_quote(&zig_target),
        mcpu = mcpu.unwrap_or("-"),
    )
}

/// Writes `target`'s wrappers below `target_dir`, where `backend::cargo` expects them,
/// each running `zig`.
pub fn write_wrappers(target_dir: &Utf8Path, target: &Target, zig: Option<&Zig>) -> Result<()> {
    let zig = zig.ok_or_else(|| {
        anyhow!(
            "zig is needed to build `{target}` but is neither on `PATH` nor importable as `python3 -m ziglang` (hint: run `pip install ziglang`)"
        )
    })?;
    let exe = crate::cache::current_exe()?;
    crate::fs::own_dir(
        target_dir,
        &format!("cargo-multiarch/zig/{}", target.requested),
    )?;
    crate::fs::own_dir(target_dir, "cargo-multiarch/zig/bin")?;
    for tool in Tool::ALL {
        let path = wrapper_path(target_dir, target, tool);
        let script = wrapper_script(&exe, (&zig.path, &zig.version), tool, target);
        // Rewritten only when changed; a FIFO, a link or a huge file in its place is
        // replaced, never followed or waited on.
        crate::fs::write_if_changed(&path, script.as_bytes(), 0o755)?;
        if tool == Tool::Cc {
            // The linker, by a name found on `PATH` ([`linker_name`]).
            let linker = linker_dir(target_dir).join(linker_name(target));
            crate::fs::write_if_changed(&linker, script.as_bytes(), 0o755)?;
        }
    }
    Ok(())
}

/// The directory of the linkers found by name ([`linker_name`]): `PATH` starts with it
/// when cargo runs with `--cache`.
pub fn linker_dir(target_dir: &Utf8Path) -> Utf8PathBuf {
    target_dir.join("cargo-multiarch/zig/bin")
}

/// The linker of a zig target as cargo gets it with `--cache`: a bare name, found on
/// `PATH` ([`linker_dir`]), so `-C linker`, which cargo passes to every crate and
/// sccache hashes, names no target dir.
pub fn linker_name(target: &Target) -> String {
    format!("cargo-multiarch-zig-cc-{}", target.requested)
}
