//! Backends turn one build request into one `Command`; they run nothing themselves.
//!
//! One `cargo build` takes every `cargo` and `zig` target (host build scripts and
//! proc-macros then compile once, and cargo schedules the targets together), each with
//! its own linker and C toolchain; `zigbuild` takes several `--target`s in one
//! `cargo zigbuild`; `cross` takes one.

mod cargo;
mod cross;
mod zigbuild;

use camino::{Utf8Path, Utf8PathBuf};

use crate::auditable::Wrapper;
use crate::cache::Sccache;
use crate::cargo_config::UserConfig;
use crate::plan::{Backend, TargetPlan};
use crate::process::Process;

/// Everything a backend needs to build the selected binaries for some targets.
#[derive(Debug, Clone)]
pub(crate) struct Invocation<'a> {
    pub backend: Backend,
    pub targets: Vec<&'a TargetPlan>,
    pub root: &'a Utf8Path,
    pub manifest_path: &'a Utf8Path,
    pub packages: Vec<String>,
    pub bins: Vec<String>,
    pub feature_flags: &'a [String],
    /// `--locked`, `--offline`, `--frozen`.
    pub cargo_flags: &'a [String],
    pub profile: &'a str,
    pub target_dir: Option<&'a Utf8Path>,
    /// The target dir cargo will use (from `--target-dir` or the workspace's config), remapped out of binaries.
    pub resolved_target_dir: &'a Utf8Path,
    pub jobs: Option<&'a str>,
    pub verbose: u8,
    pub quiet: bool,
    /// `--color` for cargo.
    pub color: &'a str,
    pub strip: bool,
    pub keep_going: bool,
    /// Cargo home on this machine (remapped out of binaries).
    pub cargo_home: Option<&'a Utf8Path>,
    pub user: &'a UserConfig,
    /// `CARGO_ZIGBUILD_ZIG_PATH` for a zig that only Python provides.
    pub zig_path: Option<&'a Utf8Path>,
    pub cargo_zigbuild: Option<&'a Utf8Path>,
    pub cross: Option<&'a Utf8Path>,
    /// `--auditable`: the rustc wrapper that links each binary's dependency list.
    pub auditable: Option<&'a Wrapper>,
    /// `--cache sccache`, and the rustc wrapper to pass for it (sccache, or with
    /// `--auditable` the script that leaves the workspace's crates to that wrapper).
    pub cache: Option<(&'a Sccache, &'a Utf8Path)>,
}

impl Invocation<'_> {
    /// The process: `backend` is the call's. `Cargo` is one `cargo build` where each
    /// target keeps the toolchain of its plan (`zig` targets get the zig wrappers);
    /// `Zig` is the same `cargo build` with the zig wrappers for every target (a
    /// retry); `Zigbuild` is `cargo zigbuild`; `Cross` is `cross build`.
    pub(crate) fn command(&self) -> Process {
        match self.backend {
            Backend::Cargo | Backend::Zig => cargo::command(self),
            Backend::Zigbuild => zigbuild::command(self),
            Backend::Cross => cross::command(self),
        }
    }

    /// The backend `t` is built with in this call.
    pub(crate) fn backend_of(&self, t: &TargetPlan) -> Backend {
        match (self.backend, t.backend) {
            (Backend::Cargo, Some(Backend::Zig)) => Backend::Zig,
            (call, _) => call,
        }
    }

    /// Arguments every backend passes after its `build` word: selection, features,
    /// profile, targets, output format and cargo's own flags. Every value is joined to
    /// its flag (`--bin=NAME`), so a value starting with `-` (a bin named `-dash`,
    /// `--jobs=-1`) reaches cargo as that flag's value, never as a flag of its own.
    fn common_args(&self, p: Process) -> Process {
        let mut p = p
            .arg("--message-format=json-render-diagnostics")
            .arg(format!("--manifest-path={}", self.manifest_path))
            .args(self.packages.iter().map(|name| format!("--package={name}")))
            .args(self.bins.iter().map(|b| format!("--bin={b}")))
            .args(self.target_args())
            .arg(format!("--profile={}", self.profile))
            .args(self.feature_flags)
            .args(self.cargo_flags)
            .arg(format!("--color={}", self.color));
        if let Some(dir) = self.target_dir {
            p = p.arg(format!("--target-dir={dir}"));
        }
        if let Some(j) = self.jobs {
            p = p.arg(format!("--jobs={j}"));
        }
        if self.verbose > 0 {
            p = p.arg(format!("-{}", "v".repeat(usize::from(self.verbose))));
        }
        if self.quiet {
            p = p.arg("--quiet");
        }
        if self.keep_going {
            p = p.arg("--keep-going");
        }
        if self.strip {
            p = p
                .arg("--config")
                .arg(format!("profile.{}.strip=true", self.profile));
        }
        if let Some(w) = self.auditable {
            // By its bare name on `PATH` (so its path, which cargo hashes into the
            // workspace crates, is the same on every machine); in a `cross` container,
            // by the path the container sees.
            let program = if self.backend == Backend::Cross {
                w.cross_program.as_str()
            } else {
                p = p.env("PATH", &w.path);
                w.name.as_str()
            };
            p = p.arg("--config").arg(format!(
                "build.rustc-workspace-wrapper={}",
                toml_string(program)
            ));
        }
        if let Some((sccache, wrapper)) = self.cache
            && self.backend != Backend::Cross
        {
            p = cache_args(p, sccache, wrapper);
        }
        p
    }

    /// `--target=…` for each target, once each: cargo itself knows no glibc suffix (the
    /// zig wrappers carry it, cargo-zigbuild takes it); a universal binary is built as
    /// its two halves (and joined when staged); a custom target is given by its file.
    fn target_args(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.targets {
            let names = if self.backend.program() != Backend::Cargo
                && t.target.parts().is_empty()
                && t.target.spec().is_none()
            {
                vec![t.target.to_string()]
            } else {
                t.target.cargo_targets()
            };
            for n in names {
                let arg = format!("--target={n}");
                if !out.contains(&arg) {
                    out.push(arg);
                }
            }
        }
        out
    }

    /// `--config <rustflags key>=[…]` with `--remap-path-prefix` for the workspace root,
    /// the target dir and the cargo home as this backend sees them, so no path of the
    /// build machine ends up in a binary. Added to the user's flags, never replacing them.
    fn remap_args(
        &self,
        mut p: Process,
        root: &str,
        target_dir: Option<&str>,
        cargo_home: Option<&str>,
    ) -> Process {
        let mut flags = vec![format!(
            "--remap-path-prefix={}/=",
            root.trim_end_matches('/')
        )];
        if let Some(t) = target_dir {
            flags.push(format!(
                "--remap-path-prefix={}=/target",
                t.trim_end_matches('/')
            ));
        }
        if let Some(h) = cargo_home {
            flags.push(format!(
                "--remap-path-prefix={}=/cargo",
                h.trim_end_matches('/')
            ));
        }
        // With the rustc shim, the remappings go around sccache's key (see
        // `crate::cache`): the shim adds them, in this order, to the same crates.
        if let Some((Sccache { shim: Some(_), .. }, _)) = self.cache
            && self.backend != Backend::Cross
        {
            if self
                .targets
                .iter()
                .flat_map(|t| t.target.rustc_triples())
                .any(|triple| self.user.rustflags_key(triple).is_some())
            {
                p = p.env(crate::cache::SHIM_TARGET_ARGS, flags.join("\n"));
            }
            return p;
        }
        let list = flags
            .iter()
            .map(|f| toml_string(f))
            .collect::<Vec<_>>()
            .join(", ");
        let mut keys: Vec<String> = Vec::new();
        for key in self
            .targets
            .iter()
            .flat_map(|t| t.target.rustc_triples())
            .filter_map(|triple| self.user.rustflags_key(triple))
        {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in keys {
            p = p.arg("--config").arg(format!("{key}=[{list}]"));
        }
        p
    }
}

/// `--cache sccache`'s settings for cargo: sccache as the rustc wrapper (unless the
/// user's is sccache), this executable as rustc (the shim), and sccache for the zig
/// wrappers. sccache's own configuration (`SCCACHE_*`) passes through untouched.
fn cache_args(mut p: Process, sccache: &Sccache, wrapper: &Utf8Path) -> Process {
    if !sccache.users_wrapper {
        p = p.arg("--config").arg(format!(
            "build.rustc-wrapper={}",
            toml_string(wrapper.as_str())
        ));
    }
    if let Some((exe, rustc)) = &sccache.shim {
        p = p
            .arg("--config")
            .arg(format!("build.rustc={}", toml_string(exe.as_str())))
            .env(crate::cache::SHIM_RUSTC, rustc);
    }
    p.env(crate::cache::ZIG_SCCACHE, &sccache.program)
}

/// A TOML basic string.
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Where cross mounts the host's directories inside its container.
pub(crate) const CROSS_PROJECT: &str = "/project";
pub(crate) const CROSS_TARGET: &str = "/target";
pub(crate) const CROSS_CARGO_HOME: &str = "/cargo";

/// Maps a path cross reports from inside its container back to the host.
pub(crate) fn reroot_cross(path: &Utf8Path, root: &Utf8Path, target_dir: &Utf8Path) -> Utf8PathBuf {
    if let Ok(rest) = path.strip_prefix(CROSS_TARGET) {
        return target_dir.join(rest);
    }
    if let Ok(rest) = path.strip_prefix(CROSS_PROJECT) {
        return root.join(rest);
    }
    path.to_owned()
}

/// Maps a package id cross reports (`path+file:///project/crates/a#0.1.0`) back to
/// the host's (`path+file:///home/me/ws/crates/a#0.1.0`); other ids are unchanged.
pub(crate) fn reroot_cross_package_id(id: &str, root: &Utf8Path) -> String {
    let prefix = format!("path+file://{CROSS_PROJECT}");
    match id.strip_prefix(&prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '#', '?']) => {
            format!("path+file://{root}{rest}")
        }
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests;
