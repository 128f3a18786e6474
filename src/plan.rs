//! The plan: every (binary × target), the backend chosen per target and why, and the
//! outputs each will produce. Made from the workspace and probes only; nothing runs.

use anyhow::{Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::apple::FrameworkUse;
use crate::platform::{self, Platform, Target};
use crate::probe::Probes;
use crate::targets::Rustc;
use crate::workspace::{self, CCode, Selection, Workspace};

mod choose;

pub(crate) use choose::{Facts, choose, next_backend};

pub(crate) use crate::config::{Backend, BackendChoice};

pub(crate) const SCHEMA: &str = "cargo-multiarch/plan/v1";

/// How one target will be built.
#[derive(Debug, Clone, Serialize)]
pub struct TargetPlan {
    pub target: Target,
    pub platform: Platform,
    /// None when nothing here can build it; `reason` then says what to install.
    pub backend: Option<Backend>,
    pub reason: String,
    /// Backends to retry with, in order, when the chosen one fails to link or compile C.
    pub fallbacks: Vec<Backend>,
    /// The backend was forced (`--backend`, `backend = "…"`): it never falls back.
    #[serde(skip)]
    pub forced: bool,
    /// Packages in this target's graph that compile C.
    pub c_code: Vec<CCode>,
    /// Libraries of the build machine that `-sys` crates of its graph link, which this
    /// target lacks (no backend brings them): each with the feature that bundles it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system_libs: Vec<crate::workspace::syslib::SystemLib>,
    /// Packages in a macOS target's graph that link an Apple framework (which only the
    /// macOS SDK provides).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<FrameworkUse>,
    /// rust-std is missing and will be installed with rustup before building.
    pub install_rust_std: bool,
    /// The linker cargo is told to use (`rust-lld` for non-host-arch musl), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linker: Option<String>,
    /// `CC_<target>` for cc-rs when the C compiler was found on PATH, as (variable, compiler).
    #[serde(skip)]
    pub c_compiler_env: Option<(String, String)>,
    /// The C compiler cargo-multiarch hands to cc-rs for this target, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cc: Option<String>,
    /// The command that would fix a missing backend, when `backend` is None.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// One binary for one target.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub package: String,
    pub version: String,
    pub binary: String,
    pub target: Target,
    pub platform: Platform,
    pub backend: Option<Backend>,
    pub reason: String,
    /// Paths relative to the out dir.
    pub outputs: Outputs,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outputs {
    pub binary: Utf8PathBuf,
    pub archive: Utf8PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub package: String,
    pub binary: String,
    pub missing_features: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub schema: &'static str,
    pub workspace_root: Utf8PathBuf,
    pub out_dir: Utf8PathBuf,
    pub profile: String,
    pub targets: Vec<TargetPlan>,
    /// The processes `build` runs, in order: every `cargo` and `zig` target that builds
    /// the same binaries shares one `cargo build`.
    pub invocations: Vec<Invocation>,
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
    #[serde(skip)]
    pub workspace: Workspace,
}

/// One process `build` runs, for several targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invocation {
    /// `cargo` (with each target's toolchain), `zigbuild` or `cross`.
    pub program: Backend,
    pub targets: Vec<Target>,
}

/// How much a plan probes: everything (for `plan` and `doctor`, which show every
/// fallback), or only what choosing needs (for building: zig and cross are probed when
/// cargo alone cannot build a target, or when a build fails), or nothing that only
/// building needs (for `package --no-build` and `image`, which take what `build`
/// staged: no dependency resolve, no C-code scan, no zig or cross probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Full,
    Lazy,
    Staged,
}

/// The processes that build `targets`: `cargo` and `zig` targets share one `cargo
/// build` when they build the same binaries (a package configured for fewer targets
/// is not built for more), `zigbuild` targets one `cargo zigbuild`, and `cross` takes
/// one target a call.
pub(crate) fn invocations(targets: &[TargetPlan], entries: &[Entry]) -> Vec<Invocation> {
    let bins = |t: &Target| -> Vec<(&str, &str)> {
        entries
            .iter()
            .filter(|e| &e.target == t)
            .map(|e| (e.package.as_str(), e.binary.as_str()))
            .collect()
    };
    let mut out: Vec<Invocation> = Vec::new();
    for t in targets {
        let Some(program) = t.backend.map(Backend::program) else {
            continue;
        };
        let join = program != Backend::Cross;
        match out
            .iter_mut()
            .find(|i| join && i.program == program && bins(&i.targets[0]) == bins(&t.target))
        {
            Some(i) => i.targets.push(t.target.clone()),
            None => out.push(Invocation {
                program,
                targets: vec![t.target.clone()],
            }),
        }
    }
    out
}

impl Plan {
    /// Loads the workspace and probes the machine at the same time (both wait on
    /// processes), then plans.
    pub fn load(select: &Selection, detail: Detail) -> Result<(Plan, Probes)> {
        let dir = workspace::manifest_dir(select.manifest.manifest_path.as_deref())?;
        let (ws, probes) = std::thread::scope(|s| {
            let probes = s.spawn(|| Probes::run(&dir, detail == Detail::Full));
            let ws = Workspace::load(select, detail != Detail::Staged);
            (ws, probes.join().expect("the probe thread panicked"))
        });
        let plan = Plan::new(select, ws?, &probes, detail)?;
        Ok((plan, probes))
    }

    /// Plans `workspace` for the selected targets: the targets per package, a backend
    /// per target, and an entry per (binary × target).
    pub fn new(
        select: &Selection,
        workspace: Workspace,
        probes: &Probes,
        detail: Detail,
    ) -> Result<Self> {
        let rustc = Rustc::new(&workspace.root, Some(&workspace.target_dir), probes);
        let per_package = targets_per_package(select, &workspace, &rustc)?;
        let mut all: Vec<Target> = Vec::new();
        for t in per_package.iter().flatten() {
            if !all.contains(t) {
                all.push(t.clone());
            }
        }
        platform::check_distinct_platforms(&all)?;
        let forced = forced_backend(select, &workspace);
        let targets = plan_targets(&workspace, &rustc, probes, &all, forced, detail)?;
        let out_dir = workspace::out_dir(
            select.output.out_dir.as_deref(),
            &workspace.root,
            &workspace.config,
        )?;
        let entries = entries(&workspace, &per_package, &targets)?;
        let skipped = workspace
            .skipped
            .iter()
            .map(|s| Skipped {
                package: s.package.clone(),
                binary: s.bin.clone(),
                missing_features: s.missing_features.clone(),
            })
            .collect();
        Ok(Self {
            schema: SCHEMA,
            workspace_root: workspace.root.clone(),
            out_dir,
            profile: select.output.profile().to_owned(),
            invocations: invocations(&targets, &entries),
            targets,
            entries,
            skipped,
            workspace,
        })
    }

    /// Targets that nothing here can build.
    pub fn unbuildable(&self) -> impl Iterator<Item = &TargetPlan> {
        self.targets.iter().filter(|t| t.backend.is_none())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serialises")
    }

    /// The plan as a table for people.
    pub fn to_table(&self) -> String {
        let mut rows = vec![vec![
            "TARGET".to_owned(),
            "PLATFORM".into(),
            "BACKEND".into(),
            "REASON".into(),
        ]];
        for t in &self.targets {
            let mut reason = t.reason.clone();
            if t.install_rust_std {
                reason.push_str("; rust-std will be installed");
            }
            if let Some(fix) = &t.fix {
                reason.push_str(&format!(" (hint: {fix})"));
            }
            let backend = t.backend.map_or("none", Backend::as_str);
            rows.push(vec![
                t.target.to_string(),
                t.platform.to_string(),
                backend.to_owned(),
                reason,
            ]);
        }
        let mut out = table(&rows);
        for i in &self.invocations {
            let names = i
                .targets
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let what = match (i.program, i.targets.len()) {
                (Backend::Cargo, 1) => "one `cargo build` for".to_owned(),
                (Backend::Cargo, n) => format!("one `cargo build` for all {n} of"),
                (Backend::Zigbuild, _) => "one `cargo zigbuild` for".to_owned(),
                _ => "one `cross build` for".to_owned(),
            };
            out.push_str(&format!("\n{what} {names}"));
            for t in self
                .targets
                .iter()
                .filter(|t| i.targets.contains(&t.target))
            {
                let mut parts = Vec::new();
                if let Some(l) = &t.linker {
                    parts.push(format!("linker `{l}`"));
                }
                if let Some(cc) = &t.cc {
                    parts.push(format!("C compiler `{cc}`"));
                }
                if !parts.is_empty() {
                    out.push_str(&format!("\n  {}: {}", t.target, parts.join(", ")));
                }
            }
        }
        let mut libs: Vec<(&crate::workspace::syslib::SystemLib, Vec<String>)> = Vec::new();
        for t in &self.targets {
            for s in &t.system_libs {
                match libs.iter_mut().find(|(l, _)| *l == s) {
                    Some((_, targets)) => targets.push(t.target.to_string()),
                    None => libs.push((s, vec![t.target.to_string()])),
                }
            }
        }
        for (s, targets) in libs {
            out.push_str(&format!("\nwarning: {}", s.lacking(&targets)));
        }
        out.push_str("\n\n");
        let rel = display_dir(&self.out_dir, &self.workspace_root);
        let mut rows = vec![vec![
            "BINARY".to_owned(),
            "PACKAGE".into(),
            "VERSION".into(),
            "TARGET".into(),
            "OUTPUT".into(),
        ]];
        for e in &self.entries {
            rows.push(vec![
                e.binary.clone(),
                e.package.clone(),
                e.version.clone(),
                e.target.to_string(),
                format!("{rel}/{}", e.outputs.binary),
            ]);
        }
        out.push_str(&table(&rows));
        for s in &self.skipped {
            out.push_str(&format!(
                "\nnote: bin `{}` of `{}` is left out: it requires features {} (pass `--features {}`)",
                s.binary,
                s.package,
                s.missing_features.join(", "),
                s.missing_features.iter().map(|f| format!("{}/{f}", s.package)).collect::<Vec<_>>().join(",")
            ));
        }
        if !self.skipped.is_empty() {
            out.push('\n');
        }
        out
    }
}

/// The targets of each package, in `workspace.packages` order: the command line's, else
/// the package's config, else the workspace's (resolved only when a package needs it).
fn targets_per_package(
    select: &Selection,
    workspace: &Workspace,
    rustc: &Rustc,
) -> Result<Vec<Vec<Target>>> {
    let cli_targets = rustc.resolve(&select.targets.targets, &select.targets.platforms)?;
    // A custom target file named in a config is relative to the workspace root.
    let in_root = |list: &[String]| -> Vec<String> {
        list.iter()
            .flat_map(|s| s.split(','))
            .map(|t| {
                let t = t.trim();
                if Utf8Path::new(t).extension() == Some("json") && Utf8Path::new(t).is_relative() {
                    workspace.root.join(t).into_string()
                } else {
                    t.to_owned()
                }
            })
            .collect()
    };
    let ws_targets = std::cell::OnceCell::new();
    let ws_targets = || -> Result<Vec<Target>> {
        if let Some(t) = ws_targets.get() {
            return Ok(Vec::clone(t));
        }
        let t = match &workspace.config.targets {
            Some(list) => rustc.resolve_config(&in_root(list))?,
            None => rustc.defaults()?,
        };
        Ok(ws_targets.get_or_init(|| t).clone())
    };
    let mut per_package = Vec::new();
    for p in &workspace.packages {
        let targets = if !cli_targets.is_empty() {
            cli_targets.clone()
        } else if let Some(list) = &p.config.targets {
            rustc.resolve_config(&in_root(list))?
        } else {
            ws_targets()?
        };
        per_package.push(targets);
    }
    Ok(per_package)
}

/// The backend forced by `--backend`, else by `backend` in the config, with where it
/// was forced (for the reason); none when the choice is `auto`.
fn forced_backend(select: &Selection, workspace: &Workspace) -> Option<(Backend, &'static str)> {
    let forced_source = if select.targets.backend.is_some() {
        "--backend"
    } else {
        "`backend` in [metadata.multiarch]"
    };
    select
        .targets
        .backend
        .or(workspace.config.backend)
        .and_then(BackendChoice::forced)
        .map(|b| (b, forced_source))
}

/// A [`TargetPlan`] per target of `all`: its C code and Apple frameworks (unless
/// `detail` is `Staged`), then the backend, probing zig and cross only when `detail`
/// asks for every fallback or cargo alone cannot build it.
fn plan_targets(
    workspace: &Workspace,
    rustc: &Rustc,
    probes: &Probes,
    all: &[Target],
    forced: Option<(Backend, &str)>,
    detail: Detail,
) -> Result<Vec<TargetPlan>> {
    let c_code = if detail == Detail::Staged {
        all.iter().map(|_| Ok(Vec::new())).collect()
    } else {
        crate::ccode::per_target(workspace, probes, all)
    };
    let mut targets = Vec::new();
    for (t, c) in all.iter().zip(c_code) {
        let c = c?;
        let f = if detail == Detail::Staged || !t.is_apple() {
            Vec::new()
        } else {
            apple_frameworks(workspace, rustc, t)?
        };
        let cheap = choose(
            t,
            &Facts::gather(t, c.clone(), f.clone(), probes, false),
            forced,
        );
        targets.push(
            if detail != Detail::Full && cheap.backend.is_some() || detail == Detail::Staged {
                cheap
            } else {
                choose(t, &Facts::gather(t, c, f, probes, true), forced)
            },
        );
    }
    Ok(targets)
}

/// An [`Entry`] per (package binary × its target), with the paths it will produce;
/// an error when there is none.
fn entries(
    workspace: &Workspace,
    per_package: &[Vec<Target>],
    targets: &[TargetPlan],
) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (p, targets_of) in workspace.packages.iter().zip(per_package) {
        for bin in &p.bins {
            for t in targets_of {
                let tp = targets
                    .iter()
                    .find(|tp| &tp.target == t)
                    .expect("every target is planned");
                let dir = Utf8PathBuf::from(t.platform().dir());
                entries.push(Entry {
                    package: p.name.clone(),
                    version: p.version.clone(),
                    binary: bin.clone(),
                    target: t.clone(),
                    platform: t.platform(),
                    backend: tp.backend,
                    reason: tp.reason.clone(),
                    outputs: Outputs {
                        binary: dir.join("bin").join(format!("{bin}{}", t.exe_suffix())),
                        archive: dir.join(format!(
                            "{}-{}-{}.{}",
                            p.name,
                            p.version,
                            t,
                            t.platform().archive_ext()
                        )),
                    },
                });
            }
        }
    }
    // Unreachable from the command line (an empty selection or target list is an
    // error where it is read), and kept so: an empty plan must never build and
    // package nothing as if it were a release.
    if entries.is_empty() {
        bail!(
            "nothing to build in `{}`: no binary × target pair was selected (hint: check `--target`/`--platform`, `targets` in the config and the package selection)",
            workspace.manifest_path
        );
    }
    Ok(entries)
}

/// The Apple frameworks linked in a macOS target's graph (both halves' for a universal
/// binary).
fn apple_frameworks(ws: &Workspace, rustc: &Rustc, t: &Target) -> Result<Vec<FrameworkUse>> {
    let mut graph: Vec<workspace::GraphPackage> = Vec::new();
    for triple in t.rustc_triples() {
        let cfg = rustc.cfg_list(triple)?;
        for p in ws.graph_on_platform(triple, &cfg) {
            if !graph.iter().any(|g| g.id == p.id) {
                graph.push(p);
            }
        }
    }
    Ok(crate::apple::frameworks(&graph))
}

/// `--out-dir`, else `out-dir` from config (relative to the workspace root), else `out/`.
/// A path as a user would type it: relative to the workspace root when inside it.
pub(crate) fn display_dir(dir: &Utf8Path, root: &Utf8Path) -> String {
    dir.strip_prefix(root).map_or_else(
        |_| dir.to_string(),
        |r| {
            if r.as_str().is_empty() {
                ".".into()
            } else {
                r.to_string()
            }
        },
    )
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
