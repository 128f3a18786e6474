//! The commands layer: one file per subcommand. Each turns its parsed arguments
//! ([`crate::cli`]) into the options of the stage it runs, runs it, prints what it did,
//! and says how the run ended: an [`Exit`] (see ARCHITECTURE.md, "Layers").

mod completions;
mod doctor;
mod man;
mod merge;
mod plan;
mod sign;
mod verify;

use std::process::ExitCode;

use anyhow::Result;
use camino::{Utf8Path, Utf8PathBuf};

use crate::cli::{Cli, Command, SelectArgs};
use crate::output::Exit;
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
        Command::Build(args) => crate::build::run(&args, &shell),
        Command::Package(args) => crate::package::run(&args, &shell),
        Command::Verify(args) => verify::run(&args, &shell),
        Command::Merge(args) => merge::run(&args, &shell),
        Command::Image(args) => crate::image::run(args, &shell),
        Command::Sign(args) => sign::run(&args, &shell),
        Command::Doctor(args) => doctor::run(&args, &shell),
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
pub(crate) fn selection(s: &SelectArgs) -> Selection {
    let p = &s.packages;
    let f = &s.features;
    let t = &s.targets;
    let m = &s.manifest;
    Selection {
        packages: Packages {
            specs: p.specs.clone(),
            workspace: p.workspace,
            exclude: p.exclude.clone(),
            bins: p.bins.clone(),
        },
        features: Features {
            features: f.features.clone(),
            all_features: f.all_features,
            no_default_features: f.no_default_features,
        },
        targets: Targets {
            targets: t.targets.clone(),
            platforms: t.platforms.clone(),
            backend: t.backend,
            target_dir: t.target_dir.clone(),
        },
        output: Output {
            out_dir: s.output.out.out_dir.clone(),
            profile: s.output.profile.clone(),
        },
        manifest: Manifest {
            manifest_path: m.manifest_path.clone(),
            locked: m.locked,
            offline: m.offline,
            frozen: m.frozen,
        },
    }
}
