//! The backend calls of a build: one per planned invocation, each run once. Streams
//! cargo's stderr through, reads its JSON messages (the only module that knows
//! `cargo_metadata::Message`), and tells which targets built and why the others
//! failed; a target whose failure another backend can fix is retried once with it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::process::Child;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::Message;

use super::failure::{Collector, Failure, Report, strip_ansi};
use super::{Options, Status, TargetResult, building, describe, progress, spawn_hint};
use crate::backend::{self, Invocation};
use crate::cargo_config::UserConfig;
use crate::output::Color;
use crate::output::Shell;
use crate::output::{Event, Severity};
use crate::plan::{self, Backend, Plan, TargetPlan};
use crate::probe::Probes;
use crate::workspace::syslib::SystemLib;
use crate::zig;

/// The selected binaries a backend call reported, by target triple.
type ArtifactsByTarget = BTreeMap<String, Vec<Artifact>>;

/// A failed call: its error reports and exit status.
type CallFailure = (Vec<Report>, String);

/// What built, by target: the backend that built it and its binaries.
type Built = BTreeMap<String, (Backend, Vec<Artifact>)>;

/// A binary cargo reported for a target.
#[derive(Debug, Clone)]
pub(super) struct Artifact {
    pub package_id: String,
    pub binary: String,
    /// The triple cargo built it for (one half of a universal binary's).
    pub triple: String,
    pub path: Utf8PathBuf,
    /// From the start of the call until cargo reported it.
    pub elapsed: std::time::Duration,
}

pub(super) struct Ctx<'a> {
    /// `--auditable`'s rustc wrapper.
    pub auditable: Option<&'a crate::auditable::Wrapper>,
    /// `--cache sccache`, and the rustc wrapper cargo gets for it.
    pub cache: Option<(&'a crate::cache::Sccache, &'a Utf8Path)>,
    pub target_dir: Utf8PathBuf,
    pub plan: &'a Plan,
    pub probes: &'a Probes,
    pub shell: &'a Shell,
    pub opts: &'a Options,
    pub user: &'a UserConfig,
    pub cargo_home: Option<&'a Utf8Path>,
}

/// How the targets of a build ended: what built, the failures (reported already),
/// and the hints for them.
#[derive(Default)]
pub(super) struct Outcome {
    pub built: Built,
    pub failed: Vec<TargetResult>,
    hints: Vec<String>,
    /// Missing system libraries, each with the targets that lack it.
    system_libs: Vec<(SystemLib, Vec<String>)>,
}

impl Outcome {
    /// What to do about the failures, each said once.
    pub(super) fn hints(&self) -> Vec<String> {
        self.system_libs
            .iter()
            .map(|(s, targets)| s.lacking(targets))
            .chain(self.hints.iter().cloned())
            .collect()
    }
}

impl Ctx<'_> {
    /// Runs every planned invocation over `buildable`; each failure is reported once.
    pub(super) fn build_all(&self, buildable: &[&TargetPlan]) -> Result<Outcome> {
        let mut outcome = Outcome::default();
        let total = buildable.len();
        let mut n = 0;
        for call in &self.plan.invocations {
            let group: Vec<&TargetPlan> = call
                .targets
                .iter()
                .filter_map(|c| buildable.iter().copied().find(|t| &t.target == c))
                .collect();
            for t in &group {
                n += 1;
                let backend = t.backend.expect("buildable");
                self.announce(t, backend, &format!(" [{n}/{total}]"));
            }
            let failed = self.build_group(call.program, &group, &mut outcome.built)?;
            for (t, err) in failed {
                let err = self.fall_back(t, err, &mut outcome.built)?;
                if let Some(err) = err {
                    self.report(t, &err, &mut outcome);
                }
            }
        }
        Ok(outcome)
    }

    fn announce(&self, t: &TargetPlan, backend: Backend, count: &str) {
        self.shell.status(
            "Building",
            format!(
                "{} ({}) with {}{count}",
                t.target,
                t.platform,
                describe(backend, t, self.probes)
            ),
        );
        self.shell.event(building(t, backend, self.probes));
    }

    /// Retries `t` once, alone, with the next backend when its failure is one that
    /// backend can fix (a linker or C compiler); the failure that stands, if any.
    fn fall_back(
        &self,
        t: &TargetPlan,
        err: Failure,
        built: &mut Built,
    ) -> Result<Option<Failure>> {
        let next = err
            .fixable_by_fallback(t)
            .then(|| plan::next_backend(t, self.probes, err.backend))
            .flatten();
        let Some(next) = next else {
            return Ok(Some(err));
        };
        self.shell.warn(format!(
            "{} failed for {} ({}); retrying with {next}",
            err.backend,
            t.target,
            err.first_line()
        ));
        self.announce(t, next, "");
        Ok(self
            .build_group(next, &[t], built)?
            .into_iter()
            .next()
            .map(|(_, e)| e))
    }

    fn report(&self, t: &TargetPlan, err: &Failure, outcome: &mut Outcome) {
        if let Some(s) = err.system_lib(t) {
            let target = t.target.to_string();
            match outcome.system_libs.iter_mut().find(|(l, _)| *l == s) {
                Some((_, targets)) => targets.push(target),
                None => outcome.system_libs.push((s, vec![target])),
            }
        } else if let Some(h) = err.hint(t, self.probes)
            && !outcome.hints.contains(&h)
        {
            outcome.hints.push(h);
        }
        self.shell.event(Event::Problem {
            severity: Severity::Error,
            message: format!(
                "{} failed for `{}` ({}): {}",
                err.backend,
                t.target,
                t.platform,
                err.first_line()
            ),
            target: Some(t.target.to_string()),
        });
        outcome.failed.push(TargetResult {
            target: t.target.to_string(),
            platform: t.platform.to_string(),
            backend: Some(err.backend),
            status: Status::Failed {
                first_error: err.first_line(),
            },
        });
    }

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
            cache: self.cache,
        }
    }

    /// Builds `targets` in one call of `backend` (see [`Invocation::command`]), once;
    /// fills `built` with the targets that produced every expected binary and returns
    /// the others with why they failed (naming each one's own backend), told apart by
    /// the reports that name each target.
    fn build_group<'b>(
        &self,
        backend: Backend,
        targets: &[&'b TargetPlan],
        built: &mut Built,
    ) -> Result<Vec<(&'b TargetPlan, Failure)>> {
        let inv = self.invocation(backend, targets.to_vec());
        let zig_targets: Vec<&TargetPlan> = targets
            .iter()
            .copied()
            .filter(|t| matches!(inv.backend_of(t), Backend::Zig | Backend::Zigbuild))
            .collect();
        self.note_cold_zig(&zig_targets);
        for t in zig_targets
            .iter()
            .filter(|t| inv.backend_of(t) == Backend::Zig)
        {
            zig::write_wrappers(&self.target_dir, &t.target, self.probes.zig())?;
        }
        if self.cache.is_some() && inv.backend != Backend::Cross {
            for t in targets
                .iter()
                .filter(|t| inv.backend_of(t) == Backend::Cargo)
            {
                if let Some((_, cc)) = &t.c_compiler_env {
                    crate::cache::write_cc_wrapper(&self.target_dir, t.target.triple(), cc)?;
                }
            }
        }
        let (artifacts, failure) = self.run_backend(&inv)?;
        let call: Vec<&str> = targets
            .iter()
            .flat_map(|t| t.target.rustc_triples())
            .collect();
        let mut failed = Vec::new();
        for t in targets {
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
                    zig::mark_warm(self.probes.zig(), t.target.triple());
                }
                built.insert(t.target.to_string(), (own, got));
            } else if let Some((reports, status)) = &failure {
                let triples = t.target.rustc_triples();
                failed.push((*t, Failure::of(own, reports, status, &triples, &call)));
            } else {
                bail!(
                    "`{}` succeeded but did not report every selected binary for `{}` (hint: run it with `-v` and check the `[[bin]]` sections)",
                    inv.command(),
                    t.target
                );
            }
        }
        Ok(failed)
    }

    /// Runs one backend call: streams cargo's stderr through (splitting it into error
    /// reports), parses the JSON messages on stdout, and checks the exit status after
    /// EOF. The failure is the call's reports and exit status.
    fn run_backend(&self, inv: &Invocation) -> Result<(ArtifactsByTarget, Option<CallFailure>)> {
        let cmd = inv.command();
        self.shell.verbose("Running", format!("`{cmd}`"));
        let started = std::time::Instant::now();
        let mut child = cmd
            .spawn_piped(inv.root)
            .with_context(|| format!("could not run `{cmd}`{}", spawn_hint(inv.backend)))?;
        let mut progress = progress::Tracker::new(self, &inv.targets);
        let printer = progress
            .as_ref()
            .map(progress::Tracker::printer)
            .unwrap_or_default();
        let stderr = child.stderr.take().expect("piped");
        let tee = std::thread::spawn(move || {
            let mut reports = Collector::default();
            for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
                printer.line(&line);
                reports.line(&strip_ansi(&String::from_utf8_lossy(&line)));
            }
            reports.finish()
        });
        let artifacts = self.read_messages(inv, &mut child, &mut progress, started);
        let status = child
            .wait()
            .with_context(|| format!("could not wait for `{cmd}`"))?;
        let reports = tee.join().unwrap_or_default();
        if let Some(p) = progress {
            p.finish(*self.shell);
        }
        let artifacts =
            artifacts.with_context(|| format!("could not read the output of `{cmd}`"))?;
        Ok((
            artifacts,
            (!status.success()).then(|| (reports, status.to_string())),
        ))
    }

    /// The selected binaries among cargo's JSON messages on `child`'s stdout (feeding
    /// each message to the progress display).
    fn read_messages(
        &self,
        inv: &Invocation,
        child: &mut Child,
        progress: &mut Option<progress::Tracker>,
        started: std::time::Instant,
    ) -> Result<ArtifactsByTarget> {
        let ws = &self.plan.workspace;
        let wanted: BTreeSet<(&str, &str)> = self
            .plan
            .entries
            .iter()
            .filter_map(|e| {
                ws.packages
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
        let cross = inv.backend == Backend::Cross;
        let mut artifacts = ArtifactsByTarget::new();
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        for msg in Message::parse_stream(stdout) {
            let msg = msg?;
            if let Some(p) = progress {
                p.observe(&msg);
            }
            let Message::CompilerArtifact(a) = msg else {
                continue;
            };
            let Some(exe) = a.executable else { continue };
            let package_id = if cross {
                backend::reroot_cross_package_id(&a.package_id.repr, &ws.root)
            } else {
                a.package_id.repr.clone()
            };
            if !a.target.is_bin()
                || !wanted.contains(&(package_id.as_str(), a.target.name.as_str()))
            {
                continue;
            }
            let exe = if cross {
                backend::reroot_cross(&exe, &ws.root, &self.target_dir)
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
        Ok(artifacts)
    }

    fn note_cold_zig(&self, targets: &[&TargetPlan]) {
        for t in targets {
            if !zig::is_warm(self.probes.zig(), t.target.triple()) {
                self.shell.note(format!(
                    "zig builds the C library for `{}` into its global cache on its first use (about a minute, once per target and zig version)",
                    t.target
                ));
            }
        }
    }
}
