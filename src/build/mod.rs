//! `cargo multiarch build`: runs the plan's invocations (one `cargo build` for every
//! `cargo` and `zig` target, each with its own toolchain), reads cargo's
//! JSON messages (the only module that knows `cargo_metadata::Message`), stages each
//! binary to `out/<os>/<arch>/bin/` atomically and writes a build record per target.
//! A target that fails to link or compile C is retried once with the next backend.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::Message;

use crate::backend::{self, Invocation};
use crate::cargo_config::{self, UserConfig};
use crate::cli::{BuildArgs, BuildOptions};
use crate::layout;
use crate::outdir::{OutDir, RelPath};
use crate::output::Color;
use crate::output::Shell;
use crate::output::{Event, Severity};
use crate::plan::{self, Backend, Plan, TargetPlan};
use crate::probe::Probes;
use crate::record::{self, BuildRecord};

mod failure;
mod head_start;
mod progress;
mod stage;
mod zig;

use failure::{Failure, strip_ansi};
pub use head_start::HeadStart;

pub use stage::staged_records;
use stage::{stage, staged_table, summary};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub no_install: bool,
    pub keep_going: bool,
    pub strip: bool,
    pub jobs: Option<String>,
    pub target_dir: Option<Utf8PathBuf>,
    /// Link each binary's dependency list into it (`--auditable`, `auditable = true`).
    pub auditable: bool,
}

impl Options {
    pub fn new(plan: &Plan, select: &crate::workspace::Selection, b: &BuildOptions) -> Self {
        Self {
            no_install: b.no_install,
            keep_going: b.keep_going,
            strip: b.strip,
            jobs: b.jobs.clone(),
            auditable: b.auditable || plan.workspace.config.auditable == Some(true),
            // Resolved against the user's directory by the workspace.
            target_dir: select
                .targets
                .target_dir
                .as_ref()
                .map(|_| plan.workspace.target_dir.clone()),
        }
    }
}

/// `cargo multiarch build`: builds and stages every planned target.
pub fn run(args: &BuildArgs, shell: &Shell) -> Result<ExitCode> {
    let head = HeadStart::begin();
    let (plan, probes) = Plan::load(
        &crate::commands::selection(&args.select),
        plan::Detail::Lazy,
    )?;
    let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, shell)?;
    let opts = Options::new(
        &plan,
        &crate::commands::selection(&args.select),
        &args.build,
    );
    build(&plan, &out, &probes, shell, &opts, head)?;
    Ok(ExitCode::SUCCESS)
}

/// What happened to one target.
#[derive(Debug, Clone)]
pub struct TargetResult {
    pub target: String,
    pub platform: String,
    pub backend: Option<Backend>,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Staged(Box<BuildRecord>),
    /// Built, but not staged because another target failed and `--keep-going` was not given.
    NotStaged,
    Failed {
        first_error: String,
    },
}

/// Builds every target of the plan; returns the records of the staged targets, or an
/// error after printing the summary when any target failed.
///
/// Staged state changes only at the end: a kill while cargo runs leaves the previous
/// staging whole; a target that failed (or, without `--keep-going`, every target when
/// one failed) is withdrawn, so nothing stale passes for fresh.
///
/// `head`, from [`HeadStart::begin`] before planning, may already run the first call.
pub fn build(
    plan: &Plan,
    out: &OutDir,
    probes: &Probes,
    shell: &Shell,
    opts: &Options,
    head: Option<HeadStart>,
) -> Result<Vec<BuildRecord>> {
    let ws = &plan.workspace;
    let mut results: Vec<TargetResult> = Vec::new();

    // Nothing here can build these: say what would fix it, before spending time on the others.
    for t in plan.unbuildable() {
        let msg = format!(
            "{}{}",
            t.reason,
            t.fix
                .as_ref()
                .map(|f| format!(" (hint: {f})"))
                .unwrap_or_default()
        );
        if !opts.keep_going {
            bail!("cannot build `{}` ({}): {msg}", t.target, t.platform);
        }
        shell.event(Event::Problem {
            severity: Severity::Error,
            message: format!("cannot build `{}` ({}): {msg}", t.target, t.platform),
            target: Some(t.target.to_string()),
        });
        results.push(TargetResult {
            target: t.target.to_string(),
            platform: t.platform.to_string(),
            backend: None,
            status: Status::Failed { first_error: msg },
        });
    }
    let installed = install_rust_std(plan, probes, *shell, opts.no_install)?;
    // What each binary is made of, recorded with it (and linked into it with `--auditable`).
    let graphs = crate::deps::for_plan(plan, probes)?;
    for t in plan.targets.iter().filter(|t| t.target.spec().is_some()) {
        shell.note(format!(
            "`{}` is a custom target: there is no rust-std to install for it, so cargo builds the standard library itself, which needs a nightly toolchain and `-Zbuild-std` (`[unstable] build-std = [\"std\"]` in `.cargo/config.toml`)",
            t.target
        ));
    }

    let user = UserConfig::load();
    if let Some(t) = plan.targets.first()
        && user.rustflags_key(t.target.triple()).is_none()
    {
        shell.warn(
            "`RUSTFLAGS` is set, so cargo ignores the `--remap-path-prefix` flags cargo-multiarch adds: binaries may embed this machine's paths (hint: add `--remap-path-prefix=$PWD/=` to `RUSTFLAGS`, or unset it)",
        );
    }
    let cargo_home = cargo_config::cargo_home();
    let target_dir = opts
        .target_dir
        .clone()
        .unwrap_or_else(|| ws.target_dir.clone());
    let auditable = if opts.auditable {
        if user.has_workspace_wrapper() {
            bail!(
                "`--auditable` links each binary's dependency list through a rustc workspace wrapper, and one is already set (`build.rustc-workspace-wrapper` or `RUSTC_WORKSPACE_WRAPPER`) (hint: unset it, or drop `--auditable`)"
            );
        }
        if let Some(t) = plan
            .targets
            .iter()
            .find(|t| t.target.rustc_triples().len() > 1)
        {
            bail!(
                "`--auditable` cannot embed a dependency list in `{}`: it is joined from one binary per slice after linking (hint: build its slices as separate targets, e.g. `--target {}`, or drop `--auditable`)",
                t.target,
                t.target.rustc_triples().join(" --target ")
            );
        }
        let (wrapper, wrote) =
            crate::auditable::prepare(&target_dir, Utf8Path::new(backend::CROSS_TARGET), &graphs)?;
        Some((wrapper, wrote))
    } else {
        None
    };
    let ctx = Ctx {
        auditable: auditable.as_ref().map(|(w, _)| w),
        target_dir,
        plan,
        probes,
        shell,
        opts,
        user: &user,
        cargo_home: cargo_home.as_deref(),
        head: RefCell::new(head),
        clean: Cell::new(!installed && !auditable.as_ref().is_some_and(|(_, wrote)| *wrote)),
    };
    let buildable: Vec<&TargetPlan> = plan
        .targets
        .iter()
        .filter(|t| t.backend.is_some())
        .collect();
    let total = buildable.len();
    let mut built: BTreeMap<String, (Backend, Vec<Artifact>)> = BTreeMap::new();
    let mut n = 0;
    let mut hints = Vec::new();
    for call in &plan.invocations {
        let group: Vec<&TargetPlan> = call
            .targets
            .iter()
            .filter_map(|c| buildable.iter().copied().find(|t| &t.target == c))
            .collect();
        for t in &group {
            n += 1;
            let backend = t.backend.expect("buildable");
            shell.status(
                "Building",
                format!(
                    "{} ({}) with {} [{n}/{total}]",
                    t.target,
                    t.platform,
                    describe(backend, t, probes)
                ),
            );
            shell.event(building(t, backend, probes));
        }
        let mut failed = ctx.build_group(call.program, &group, &mut built)?;
        // Retry what a better linker or C toolchain could fix, once, alone, with the
        // next backend.
        if plan.forced.is_none() {
            let mut still = Vec::new();
            for (t, err) in failed.drain(..) {
                let backend = err.backend.expect("a build failure names its backend");
                let next = err
                    .fixable_by_fallback()
                    .then(|| plan::next_backend(t, probes, backend))
                    .flatten();
                match next {
                    Some(next) => {
                        shell.warn(format!(
                            "{} failed for {} ({}); retrying with {next}",
                            backend,
                            t.target,
                            err.first_line()
                        ));
                        shell.status(
                            "Building",
                            format!(
                                "{} ({}) with {}",
                                t.target,
                                t.platform,
                                describe(next, t, probes)
                            ),
                        );
                        shell.event(building(t, next, probes));
                        for (t2, err2) in ctx.build_group(next, &[t], &mut built)? {
                            still.push((t2, err2));
                        }
                    }
                    None => still.push((t, err)),
                }
            }
            failed = still;
        }
        for (t, err) in failed {
            if let Some(h) = err.hint(t, probes) {
                hints.push(h);
            }
            shell.event(Event::Problem {
                severity: Severity::Error,
                message: format!(
                    "{} failed for `{}` ({}): {}",
                    err.backend.map_or("the build", Backend::as_str),
                    t.target,
                    t.platform,
                    err.first_line()
                ),
                target: Some(t.target.to_string()),
            });
            results.push(TargetResult {
                target: t.target.to_string(),
                platform: t.platform.to_string(),
                backend: err.backend,
                status: Status::Failed {
                    first_error: err.first_line(),
                },
            });
        }
    }

    let any_failed = results
        .iter()
        .any(|r| matches!(r.status, Status::Failed { .. }));
    let mut records = Vec::new();
    for t in &buildable {
        let Some((backend, artifacts)) = built.remove(&t.target.to_string()) else {
            continue;
        };
        if any_failed && !opts.keep_going {
            results.push(TargetResult {
                target: t.target.to_string(),
                platform: t.platform.to_string(),
                backend: Some(backend),
                status: Status::NotStaged,
            });
            continue;
        }
        let graphs = graphs
            .iter()
            .find(|g| g.target == t.target)
            .map_or(&[][..], |g| g.graphs.as_slice());
        // The zig that built a zig target is known by now (no probe runs here).
        let zig = matches!(backend, Backend::Zig | Backend::Zigbuild)
            .then(|| probes.zig().map(|z| z.version.clone()))
            .flatten();
        let rec = stage(
            plan,
            out,
            t,
            backend,
            (opts.strip, zig.as_deref()),
            &artifacts,
            graphs,
        )?;
        for b in &rec.binaries {
            let elapsed = artifacts
                .iter()
                .find(|a| a.binary == b.binary)
                .map(|a| a.elapsed);
            shell.event(Event::Artifact(b.event(out, elapsed)));
        }
        results.push(TargetResult {
            target: t.target.to_string(),
            platform: t.platform.to_string(),
            backend: Some(backend),
            status: Status::Staged(Box::new(rec.clone())),
        });
        records.push(rec);
    }
    // Nothing staged earlier for a target this run did not stage may pass for fresh.
    for t in &plan.targets {
        if !records.iter().any(|r: &BuildRecord| r.target == t.target) {
            let planned: Vec<RelPath> = plan
                .entries
                .iter()
                .filter(|e| e.target == t.target)
                .map(|e| layout::binary(t.platform, &e.binary))
                .collect::<Result<_>>()?;
            BuildRecord::withdraw(out, &t.target.name(), &planned)?;
        }
    }
    results.sort_by_key(|r| {
        plan.targets
            .iter()
            .position(|t| t.target.to_string() == r.target)
    });

    if any_failed {
        eprint!("\n{}", summary(&results));
        for h in &hints {
            shell.help(h);
        }
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| matches!(r.status, Status::Failed { .. }))
            .map(|r| r.target.as_str())
            .collect();
        let not_staged = results.iter().any(|r| r.status == Status::NotStaged);
        let hint = if not_staged {
            " (hint: `--keep-going` stages the targets that built)".to_owned()
        } else {
            String::new()
        };
        bail!(
            "build failed for {}{hint}",
            failed
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !shell.quiet {
        eprint!("{}", staged_table(&records, out.shown(), &ws.root));
    }
    Ok(records)
}

/// The selected binaries a backend call reported, by target triple.
type ArtifactsByTarget = BTreeMap<String, Vec<Artifact>>;

/// A binary cargo reported for a target.
#[derive(Debug, Clone)]
struct Artifact {
    package_id: String,
    binary: String,
    /// The triple cargo built it for (one half of a universal binary's).
    triple: String,
    path: Utf8PathBuf,
    /// From the start of the call until cargo reported it.
    elapsed: std::time::Duration,
}

struct Ctx<'a> {
    /// `--auditable`'s rustc wrapper.
    auditable: Option<&'a crate::auditable::Wrapper>,
    target_dir: Utf8PathBuf,
    plan: &'a Plan,
    probes: &'a Probes,
    shell: &'a Shell,
    opts: &'a Options,
    user: &'a UserConfig,
    cargo_home: Option<&'a Utf8Path>,
    /// The head start, for the first call only.
    head: RefCell<Option<HeadStart>>,
    /// Nothing was installed or rewritten that an early call could have missed.
    clean: Cell<bool>,
}

impl Ctx<'_> {
    fn invocation<'b>(&'b self, backend: Backend, targets: Vec<&'b TargetPlan>) -> Invocation<'b> {
        let ws = &self.plan.workspace;
        let triples: BTreeSet<String> = targets.iter().map(|t| t.target.to_string()).collect();
        let mut packages = Vec::new();
        let mut bins = Vec::new();
        for e in self
            .plan
            .entries
            .iter()
            .filter(|e| triples.contains(&e.target.to_string()))
        {
            if !packages.contains(&e.package) {
                packages.push(e.package.clone());
            }
            if !bins.contains(&e.binary) {
                bins.push(e.binary.clone());
            }
        }
        let color = match self.shell.color_choice {
            Color::Auto if self.shell.color => "always",
            Color::Auto => "never",
            c => c.as_str(),
        };
        Invocation {
            backend,
            keep_going: targets.len() > 1,
            targets,
            root: &ws.root,
            manifest_path: &ws.manifest_path,
            packages,
            bins,
            feature_flags: &ws.feature_flags,
            cargo_flags: &ws.cargo_flags,
            profile: &self.plan.profile,
            target_dir: self.opts.target_dir.as_deref(),
            resolved_target_dir: &self.target_dir,
            jobs: self.opts.jobs.as_deref(),
            verbose: self.shell.verbose,
            quiet: self.shell.quiet,
            color,
            strip: self.opts.strip,
            cargo_home: self.cargo_home,
            user: self.user,
            // Only the backend in use waits for its probe.
            zig_path: (backend == Backend::Zigbuild)
                .then(|| self.probes.zig_path_env())
                .flatten(),
            cargo_zigbuild: (backend == Backend::Zigbuild)
                .then(|| self.probes.cargo_zigbuild().map(Utf8PathBuf::as_path))
                .flatten(),
            cross: (backend == Backend::Cross)
                .then(|| self.probes.cross().map(Utf8PathBuf::as_path))
                .flatten(),
            auditable: self.auditable,
        }
    }

    /// Builds `targets` in one call of `backend` (see [`Invocation::command`]); fills
    /// `built` with the targets that produced every expected binary and returns the
    /// others with why they failed (naming each one's own backend). A failed call for
    /// several targets is re-run per incomplete target to tell whose error it was
    /// (everything else is fresh by then, so that is quick).
    fn build_group<'b>(
        &self,
        backend: Backend,
        targets: &[&'b TargetPlan],
        built: &mut BTreeMap<String, (Backend, Vec<Artifact>)>,
    ) -> Result<Vec<(&'b TargetPlan, Failure)>> {
        let inv = self.invocation(backend, targets.to_vec());
        let zig_targets: Vec<&TargetPlan> = targets
            .iter()
            .copied()
            .filter(|t| matches!(inv.backend_of(t), Backend::Zig | Backend::Zigbuild))
            .collect();
        self.note_cold_zig(&zig_targets);
        for t in &zig_targets {
            if inv.backend_of(t) == Backend::Zig
                && zig::write_wrappers(&self.target_dir, &t.target, self.probes)?
            {
                self.clean.set(false);
            }
        }
        let (artifacts, failure) = self.run_backend(&inv)?;
        let mut incomplete = Vec::new();
        for t in targets {
            let triple = t.target.triple();
            // A universal binary's artifacts are its halves', joined when staged.
            let got: Vec<Artifact> = t
                .target
                .rustc_triples()
                .iter()
                .flat_map(|tr| artifacts.get(*tr).cloned().unwrap_or_default())
                .collect();
            let expected = self
                .plan
                .entries
                .iter()
                .filter(|e| e.target == t.target)
                .count()
                * t.target.rustc_triples().len();
            let own = inv.backend_of(t);
            if got.len() == expected && (failure.is_none() || targets.len() > 1) {
                if matches!(own, Backend::Zig | Backend::Zigbuild) {
                    mark_zig_warm(self.probes, triple);
                }
                built.insert(t.target.to_string(), (own, got));
            } else {
                incomplete.push(*t);
            }
        }
        let Some(failure) = failure else {
            if incomplete.is_empty() {
                return Ok(Vec::new());
            }
            bail!(
                "`{}` succeeded but did not report every selected binary for {} (hint: run it with `-v` and check the `[[bin]]` sections)",
                inv.command(),
                incomplete
                    .iter()
                    .map(|t| format!("`{}`", t.target))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        if incomplete.len() <= 1 || targets.len() == 1 {
            return Ok(incomplete
                .into_iter()
                .map(|t| {
                    let mut f = failure.clone();
                    f.backend = Some(inv.backend_of(t));
                    (t, f)
                })
                .collect());
        }
        let mut out = Vec::new();
        for t in incomplete {
            self.shell
                .status("Rebuilding", format!("{} alone to see its error", t.target));
            out.extend(self.build_group(backend, &[t], built)?);
        }
        Ok(out)
    }

    /// Runs one backend call: streams cargo's stderr through (keeping what looks like an
    /// error), parses the JSON messages on stdout, and checks the exit status after EOF.
    fn run_backend(&self, inv: &Invocation) -> Result<(ArtifactsByTarget, Option<Failure>)> {
        let cmd = inv.command();
        self.shell.verbose("Running", format!("`{cmd}`"));
        let started = std::time::Instant::now();
        let mut head = self.head.borrow_mut().take();
        let early = head.as_ref().is_some_and(HeadStart::started);
        let adopted = head
            .as_mut()
            .and_then(|h| h.adopt(&cmd, inv.root, self.clean.get()));
        let (mut child, stderr) = if let Some(adopted) = adopted {
            self.shell.verbose(
                "Adopted",
                "the same call, started before planning (a head start from the last identical run)",
            );
            adopted
        } else {
            if early {
                self.shell.verbose(
                    "Discarded",
                    "the last run's call, started before planning: this run plans another",
                );
            }
            let mut child = cmd
                .spawn_piped(inv.root)
                .with_context(|| format!("could not run `{cmd}`{}", spawn_hint(inv.backend)))?;
            if let Some(h) = &head {
                h.remember(&cmd, inv.root);
            }
            let stderr = head_start::lines(child.stderr.take().expect("piped"));
            (child, stderr)
        };
        let mut progress = progress::Tracker::new(self, &inv.targets);
        let printer = progress
            .as_ref()
            .map(progress::Tracker::printer)
            .unwrap_or_default();
        let tee = std::thread::spawn(move || {
            let mut errors = Vec::new();
            for line in stderr {
                printer.line(&line);
                let plain = strip_ansi(&String::from_utf8_lossy(&line));
                let t = plain.trim_start();
                if errors.len() < 50
                    && (t.starts_with("error")
                        || t.contains("rust-lld: error")
                        || t.contains("undefined reference")
                        || t.contains("failed to find tool"))
                {
                    errors.push(t.to_owned());
                }
            }
            errors
        });
        let wanted: BTreeSet<(&str, &str)> = self
            .plan
            .entries
            .iter()
            .filter_map(|e| {
                self.plan
                    .workspace
                    .packages
                    .iter()
                    .find(|p| p.name == e.package)
                    .map(|p| (p.id.as_str(), e.binary.as_str()))
            })
            .collect();
        let triples: Vec<&str> = inv
            .targets
            .iter()
            .flat_map(|t| t.target.rustc_triples())
            .collect();
        let mut artifacts: BTreeMap<String, Vec<Artifact>> = BTreeMap::new();
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        for msg in Message::parse_stream(stdout) {
            let msg = msg.with_context(|| format!("could not read the output of `{cmd}`"))?;
            if let Some(p) = &mut progress {
                p.observe(&msg);
            }
            let Message::CompilerArtifact(a) = msg else {
                continue;
            };
            let Some(exe) = a.executable else { continue };
            let package_id = if inv.backend == Backend::Cross {
                backend::reroot_cross_package_id(&a.package_id.repr, &self.plan.workspace.root)
            } else {
                a.package_id.repr.clone()
            };
            if !a.target.is_bin()
                || !wanted.contains(&(package_id.as_str(), a.target.name.as_str()))
            {
                continue;
            }
            let exe = if inv.backend == Backend::Cross {
                backend::reroot_cross(&exe, &self.plan.workspace.root, &self.target_dir)
            } else {
                exe
            };
            // cargo's layout is `<target-dir>/<triple>/<profile-dir>/<bin>`.
            let triple = exe
                .parent()
                .and_then(Utf8Path::parent)
                .and_then(Utf8Path::file_name)
                .filter(|t| triples.contains(t));
            let Some(triple) = triple.or_else(|| (triples.len() == 1).then(|| triples[0])) else {
                continue;
            };
            artifacts
                .entry(triple.to_owned())
                .or_default()
                .push(Artifact {
                    package_id,
                    binary: a.target.name.clone(),
                    triple: triple.to_owned(),
                    path: exe,
                    elapsed: started.elapsed(),
                });
        }
        let status = child
            .wait()
            .with_context(|| format!("could not wait for `{cmd}`"))?;
        let error_lines = tee.join().unwrap_or_default();
        if let Some(p) = progress {
            p.finish(*self.shell);
        }
        let failure = (!status.success()).then(|| Failure {
            backend: Some(inv.backend),
            error_lines,
            status: status.to_string(),
        });
        Ok((artifacts, failure))
    }

    fn note_cold_zig(&self, targets: &[&TargetPlan]) {
        for t in targets {
            if !zig_marker(self.probes, t.target.triple()).is_some_and(|m| m.exists()) {
                self.shell.note(format!(
                    "zig builds the C library for `{}` into its global cache on its first use (about a minute, once per target and zig version)",
                    t.target
                ));
            }
        }
    }
}

fn describe(backend: Backend, t: &TargetPlan, probes: &Probes) -> String {
    match backend {
        Backend::Cargo => match &t.linker {
            Some(l) => format!("cargo + {l}"),
            None => "cargo".to_owned(),
        },
        Backend::Zig => format!(
            "zig cc (zig {})",
            probes.zig().map_or("?", |z| z.version.as_str())
        ),
        Backend::Zigbuild => format!(
            "cargo-zigbuild (zig {})",
            probes.zig().map_or("?", |z| z.version.as_str())
        ),
        Backend::Cross => format!(
            "cross ({})",
            probes
                .engine()
                .map_or("no container engine", String::as_str)
        ),
    }
}

fn building(t: &TargetPlan, backend: Backend, probes: &Probes) -> Event {
    Event::Building {
        target: t.target.to_string(),
        platform: t.platform.to_string(),
        backend: backend.to_string(),
        toolchain: describe(backend, t, probes),
    }
}

fn spawn_hint(backend: Backend) -> &'static str {
    match backend {
        Backend::Cargo | Backend::Zig => "",
        Backend::Zigbuild => " (hint: run `pip install cargo-zigbuild`)",
        Backend::Cross => " (hint: run `cargo install cross --locked`)",
    }
}

/// Installs missing rust-std; true when it installed any.
fn install_rust_std(plan: &Plan, probes: &Probes, shell: Shell, no_install: bool) -> Result<bool> {
    let mut installed = false;
    let mut missing: Vec<&str> = Vec::new();
    for t in plan
        .targets
        .iter()
        .filter(|t| t.install_rust_std && t.backend.is_some())
    {
        for triple in t.target.rustc_triples() {
            if !probes.installed_targets.iter().any(|i| i == triple) && !missing.contains(&triple) {
                missing.push(triple);
            }
        }
    }
    for triple in missing {
        let cmd = probes.rustup_add_command(triple);
        if no_install {
            bail!("rust-std for `{triple}` is not installed (hint: run `{cmd}`)");
        }
        shell.status("Installing", format!("rust-std for {triple} (`{cmd}`)"));
        let mut p = crate::process::Process::new("rustup").args(["target", "add"]);
        if let Some(tc) = &probes.toolchain {
            p = p.args(["--toolchain", tc]);
        }
        // Its stdout to stderr: stdout is for `--message-format json`.
        let p = p.arg(triple).cwd(plan.workspace.root.clone());
        let status = p
            .spawn_with_stdout(std::io::stderr().into())
            .and_then(|mut c| {
                c.wait()
                    .with_context(|| format!("could not wait for `{p}`"))
            })
            .context("could not install rust-std")?;
        p.check(status).context("could not install rust-std")?;
        installed = true;
    }
    Ok(installed)
}

/// zig has built `triple`'s C library into its cache (we mark it after a zig build succeeds).
fn zig_marker(probes: &Probes, triple: &str) -> Option<Utf8PathBuf> {
    let zig = probes.zig()?;
    Some(
        crate::fs::cache::dir()?
            .join("zig-warm")
            .join(&zig.version)
            .join(triple),
    )
}

fn mark_zig_warm(probes: &Probes, triple: &str) {
    if let Some(m) = zig_marker(probes, triple) {
        let _ = m.parent().map(std::fs::create_dir_all);
        let _ = std::fs::write(m, b"");
    }
}
