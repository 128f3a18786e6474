//! `cargo multiarch build`: runs the plan's invocations (one `cargo build` for every
//! `cargo` and `zig` target, each with its own toolchain) once each ([`call`]), stages
//! each binary to `out/<os>/<arch>/bin/` atomically and writes a build record per
//! target. A target whose linker or C compiler failed is retried once with the next
//! backend; any other failure is reported once, with its fix.

use anyhow::Result;
use camino::Utf8PathBuf;

use crate::cargo_config::{self, UserConfig};
use crate::deps::TargetGraphs;
use crate::outdir::{OutDir, RelPath};
use crate::output::Shell;
use crate::output::{Event, Exit, Failed};
use crate::plan::{Backend, Plan, TargetPlan};
use crate::probe::Probes;
use crate::record::BuildRecord;

mod call;
mod failure;
mod prepare;
mod progress;
mod stage;

use call::{Artifact, Ctx};
pub(crate) use stage::staged_records;
use stage::{stage, staged_table, summary};

#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub no_install: bool,
    pub keep_going: bool,
    pub strip: bool,
    pub jobs: Option<String>,
    pub target_dir: Option<Utf8PathBuf>,
    /// Link each binary's dependency list into it (`--auditable`, `auditable = true`).
    pub auditable: bool,
    /// `--cache`, else `cache = "…"`; unset: sccache when `RUSTC_WRAPPER` names it.
    pub cache: Option<crate::config::Cache>,
}

/// What happened to one target.
#[derive(Debug, Clone)]
pub(crate) struct TargetResult {
    pub target: String,
    pub platform: String,
    pub backend: Option<Backend>,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
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
pub(crate) fn build(
    plan: &Plan,
    out: &OutDir,
    probes: &Probes,
    shell: &Shell,
    opts: &Options,
) -> Result<Vec<BuildRecord>> {
    let ws = &plan.workspace;
    let mut results = prepare::unbuildable(plan, *shell, opts)?;
    prepare::install_rust_std(plan, probes, *shell, opts.no_install)?;
    // What each binary is made of, recorded with it (and linked into it with `--auditable`).
    let graphs = crate::deps::for_plan(plan, probes)?;
    let user = UserConfig::load();
    prepare::warn_about_setup(plan, &user, *shell);
    let cargo_home = cargo_config::cargo_home();
    let target_dir = opts
        .target_dir
        .clone()
        .unwrap_or_else(|| ws.target_dir.clone());
    let auditable = opts
        .auditable
        .then(|| prepare::auditable(plan, &user, &target_dir, &graphs))
        .transpose()?;
    let cache = prepare::cache(plan, &user, opts, &target_dir, *shell)?;
    let ctx = Ctx {
        auditable: auditable.as_ref(),
        cache: cache.as_ref().map(|c| (&c.sccache, c.wrapper.as_path())),
        target_dir,
        plan,
        probes,
        shell,
        opts,
        user: &user,
        cargo_home: cargo_home.as_deref(),
    };
    let buildable: Vec<&TargetPlan> = plan
        .targets
        .iter()
        .filter(|t| t.backend.is_some())
        .collect();
    let outcome = ctx.build_all(&buildable)?;
    if let Some(c) = &cache {
        c.report(*shell);
    }
    let hints = outcome.hints();
    results.extend(outcome.failed);
    let any_failed = !results.is_empty();
    let mut built = outcome.built;
    let mut to_stage = Vec::new();
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
        } else {
            to_stage.push((*t, backend, artifacts));
        }
    }
    let records = stage_all(&ctx, out, &to_stage, &graphs)?;
    for ((t, backend, _), rec) in to_stage.iter().zip(&records) {
        results.push(TargetResult {
            target: t.target.to_string(),
            platform: t.platform.to_string(),
            backend: Some(*backend),
            status: Status::Staged(Box::new(rec.clone())),
        });
    }
    withdraw_unstaged(plan, out, &records)?;
    results.sort_by_key(|r| {
        plan.targets
            .iter()
            .position(|t| t.target.to_string() == r.target)
    });
    if any_failed {
        return Err(fail(&results, &hints, *shell));
    }
    if !shell.quiet {
        eprint!("{}", staged_table(&records, out.shown(), &ws.root));
    }
    Ok(records)
}

/// Stages what each target built, the targets side by side (each copies, hashes and
/// syncs its own binaries, or only compares them on a no-op), then reports each staged
/// binary in plan order.
fn stage_all(
    ctx: &Ctx,
    out: &OutDir,
    to_stage: &[(&TargetPlan, Backend, Vec<Artifact>)],
    graphs: &[TargetGraphs],
) -> Result<Vec<BuildRecord>> {
    let records: Vec<Result<BuildRecord>> = std::thread::scope(|s| {
        let handles: Vec<_> = to_stage
            .iter()
            .map(|(t, backend, artifacts)| {
                s.spawn(move || stage_target(ctx, out, t, (*backend, artifacts), graphs))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a staging thread panicked"))
            .collect()
    });
    let records = records.into_iter().collect::<Result<Vec<_>>>()?;
    for ((_, _, artifacts), rec) in to_stage.iter().zip(&records) {
        for b in &rec.binaries {
            let elapsed = artifacts
                .iter()
                .find(|a| a.binary == b.binary)
                .map(|a| a.elapsed);
            ctx.shell.event(Event::Artifact(b.event(out, elapsed)));
        }
    }
    Ok(records)
}

/// Stages what `t` built.
fn stage_target(
    ctx: &Ctx,
    out: &OutDir,
    t: &TargetPlan,
    (backend, artifacts): (Backend, &[Artifact]),
    graphs: &[TargetGraphs],
) -> Result<BuildRecord> {
    let graphs = graphs
        .iter()
        .find(|g| g.target == t.target)
        .map_or(&[][..], |g| g.graphs.as_slice());
    // The zig that built a zig target is known by now (no probe runs here).
    let zig = matches!(backend, Backend::Zig | Backend::Zigbuild)
        .then(|| ctx.probes.zig().map(|z| z.version.clone()))
        .flatten();
    stage(
        ctx.plan,
        out,
        t,
        backend,
        (ctx.opts.strip, zig.as_deref()),
        artifacts,
        graphs,
    )
}

/// Nothing staged earlier for a target this run did not stage may pass for fresh.
fn withdraw_unstaged(plan: &Plan, out: &OutDir, records: &[BuildRecord]) -> Result<()> {
    for t in &plan.targets {
        if !records.iter().any(|r| r.target == t.target) {
            let planned: Vec<RelPath> = plan
                .entries
                .iter()
                .filter(|e| e.target == t.target)
                .map(|e| crate::layout::binary(t.platform, &e.binary))
                .collect::<Result<_>>()?;
            BuildRecord::withdraw(out, &t.target.name(), &planned)?;
        }
    }
    Ok(())
}

/// Prints the summary and the hints; the error naming the failed targets.
fn fail(results: &[TargetResult], hints: &[String], shell: Shell) -> anyhow::Error {
    eprint!("\n{}", summary(results));
    for h in hints {
        shell.help(h);
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.status, Status::Failed { .. }))
        .map(|r| format!("`{}`", r.target))
        .collect();
    let hint = if results.iter().any(|r| r.status == Status::NotStaged) {
        " (hint: `--keep-going` stages the targets that built)"
    } else {
        ""
    };
    Failed {
        exit: Exit::BuildFailed,
        message: format!("build failed for {}{hint}", failed.join(", ")),
    }
    .into()
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
