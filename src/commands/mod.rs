//! The commands layer: one file per subcommand. Each turns its parsed arguments
//! ([`crate::cli`]) into the options of the stage it runs, runs it, prints what it did,
//! and says how the run ended: an [`Exit`] (see ARCHITECTURE.md, "Layers").

mod build;
mod completions;
mod doctor;
mod image;
mod init;
mod man;
mod merge;
mod package;
mod plan;
mod sign;
mod verify;

use std::process::ExitCode;

use anyhow::Result;
use camino::{Utf8Path, Utf8PathBuf};

use crate::cli::{BuildOptions, Cli, Command, SelectArgs};
use crate::outdir::OutDir;
use crate::output::Exit;
use crate::output::Shell;
use crate::plan::{Detail, Plan};
use crate::probe::Probes;
use crate::record::BuildRecord;
use crate::workspace::{Features, Manifest, Output, Packages, Selection, Targets};

/// Runs one command; the error, if any, is for `main` to print (its exit status is
/// [`Exit::of`] it).
pub fn run(cli: Cli) -> Result<Exit> {
    let reporting = cli.command.reporting();
    let shell = cli
        .global
        .shell()
        .with_format(reporting.map_or_else(Default::default, |r| r.1));
    let code = crate::output::command(&shell, reporting.map(|r| r.0), || match cli.command {
        Command::Plan(args) => plan::run(&args),
        Command::Build(args) => build::run(&args, &shell),
        Command::Package(args) => package::run(&args, &shell),
        Command::Verify(args) => verify::run(&args, &shell),
        Command::Merge(args) => merge::run(&args, &shell),
        Command::Image(args) => image::run(args, &shell),
        Command::Sign(args) => sign::run(&args, &shell),
        Command::Doctor(args) => doctor::run(&args, &shell),
        Command::Init(args) => init::run(&args, &shell),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args, &shell),
    })?;
    Ok(if code == ExitCode::SUCCESS {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// The out dir a command reads: `--out-dir`, else the workspace's (`out-dir` in its
/// config, else `out/` at its root) found from `--manifest-path` or the current dir.
fn out_dir(given: Option<&Utf8Path>, manifest_path: Option<&Utf8Path>) -> Result<Utf8PathBuf> {
    match given {
        Some(d) => Ok(d.to_owned()),
        None => crate::workspace::default_out_dir(manifest_path),
    }
}

/// The selection flags as the stages take them.
pub(crate) fn selection(args: &SelectArgs) -> Selection {
    let (pkgs, feats, tgts, man) = (
        &args.packages,
        &args.features,
        &args.targets,
        &args.manifest,
    );
    Selection {
        packages: Packages {
            specs: pkgs.specs.clone(),
            workspace: pkgs.workspace,
            exclude: pkgs.exclude.clone(),
            bins: pkgs.bins.clone(),
        },
        features: Features {
            features: feats.features.clone(),
            all_features: feats.all_features,
            no_default_features: feats.no_default_features,
        },
        targets: Targets {
            targets: tgts.targets.clone(),
            platforms: tgts.platforms.clone(),
            backend: tgts.backend,
            target_dir: tgts.target_dir.clone(),
        },
        output: Output {
            out_dir: args.output.out.out_dir.clone(),
            profile: args.output.profile.clone(),
        },
        manifest: Manifest {
            manifest_path: man.manifest_path.clone(),
            locked: man.locked,
            offline: man.offline,
            frozen: man.frozen,
        },
    }
}

/// The plan of `select`; for a command that builds nothing (`--no-build`), without the
/// dependency resolve and backend choice that only building needs.
fn load(select: &Selection, no_build: bool) -> Result<(Plan, Probes)> {
    Plan::load(
        select,
        if no_build {
            Detail::Staged
        } else {
            Detail::Lazy
        },
    )
}

/// `build`'s options from its flags and the workspace's config.
fn build_options(plan: &Plan, select: &Selection, b: &BuildOptions) -> crate::build::Options {
    crate::build::Options {
        no_install: b.no_install,
        keep_going: b.keep_going,
        strip: b.strip,
        jobs: b.jobs.clone(),
        auditable: b.auditable || plan.workspace.config.auditable == Some(true),
        cache: b.cache.or(plan.workspace.config.cache),
        // Resolved against the user's directory by the workspace.
        target_dir: select
            .targets
            .target_dir
            .as_ref()
            .map(|_| plan.workspace.target_dir.clone()),
    }
}

/// The build records to package or put in images: what an earlier `build` staged when
/// `staged` says so (its text is the hint when one is missing), else what building now
/// stages.
fn records(
    plan: &Plan,
    probes: &Probes,
    out: &OutDir,
    build: &crate::build::Options,
    staged: Option<&str>,
    shell: &Shell,
) -> Result<Vec<BuildRecord>> {
    match staged {
        Some(hint) => {
            let records = crate::build::staged_records(plan, out, hint)?;
            crate::package::staged_events(shell, out, &records);
            Ok(records)
        }
        None => crate::build::build(plan, out, probes, shell, build),
    }
}
