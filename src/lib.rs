//! cargo-multiarch: cross-build every binary of a Rust workspace for several Linux
//! platforms, package reproducible archives with a checksum manifest, and assemble a
//! multi-platform OCI image without a Docker daemon.
//!
//! Stages, each reading only what the one before wrote (see DESIGN.md):
//! `cli` → `workspace`/`config` → `platform` → `plan` → `backend` → `build` →
//! `package` → `manifest` → `verify`, `merge`, `image`.

pub mod archive;
pub mod backend;
pub mod build;
pub mod cargo_config;
pub mod cli;
pub mod config;
pub mod digest;
pub mod doctor;
pub mod elf;
pub mod glob;
pub mod image;
pub mod manifest;
pub mod merge;
pub mod outdir;
pub mod package;
pub mod plan;
pub mod platform;
pub mod probe;
pub mod process;
pub mod record;
pub mod shell;
pub mod source;
pub mod verify;
pub mod workspace;

#[cfg(test)]
mod testgen;

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::{Cli, Command, Format};
use crate::plan::Plan;
use crate::probe::Probes;
use crate::shell::Shell;
use crate::workspace::Workspace;

/// Runs one command; the error, if any, is for `main` to print.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let shell = Shell::new(&cli.global);
    match cli.command {
        Command::Plan(args) => {
            let (plan, _) = planned(&args.select, plan::Detail::Full)?;
            match args.format {
                Format::Json => println!("{}", plan.to_json()),
                Format::Human => print!("{}", plan.to_table()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Build(args) => {
            let (plan, probes) = planned(&args.select, plan::Detail::Lazy)?;
            let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, &shell)?;
            build::run(
                &plan,
                &out,
                &probes,
                &shell,
                &build_options(&plan, &args.select, &args.build),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Package(args) => {
            let (plan, probes) = planned(&args.select, plan::Detail::Lazy)?;
            let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, &shell)?;
            let records = if args.no_build {
                record::BuildRecord::for_plan(
                    &plan,
                    &out,
                    "run `cargo multiarch build` first, or drop `--no-build`",
                )?
            } else {
                build::run(
                    &plan,
                    &out,
                    &probes,
                    &shell,
                    &build_options(&plan, &args.select, &args.build),
                )?
            };
            let mode = match args.archive {
                cli::ArchiveLayout::PerPackage => package::ArchiveMode::PerPackage,
                cli::ArchiveLayout::PerTarget => package::ArchiveMode::PerTarget,
            };
            package::run(
                &plan,
                &out,
                &records,
                &shell,
                package::Options {
                    mode,
                    level: args.compression,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify(args) => {
            let out_dir = match args.out_dir {
                Some(d) => d,
                None => workspace::default_out_dir(args.manifest_path.as_deref())?,
            };
            let expect = parse_platforms(&args.expect)?;
            let opts = verify::Options {
                expect,
                run: args.run,
                run_anyway: args.run_anyway,
                run_args: args
                    .run_args
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                no_wait: args.lock.no_wait,
            };
            let (_, report) = verify::verify(&out_dir, &opts, &shell)?;
            for line in &report.runs {
                println!("{line}");
            }
            for p in &report.problems {
                println!("FAILED   {p}");
            }
            if report.problems.is_empty() {
                shell.status(
                    "Verified",
                    format!(
                        "{} artifacts in `{out_dir}` for {}",
                        report.checked,
                        report.platforms.join(", ")
                    ),
                );
                Ok(ExitCode::SUCCESS)
            } else {
                anyhow::bail!(
                    "`{out_dir}` failed verification: {} problem(s) above",
                    report.problems.len()
                )
            }
        }
        Command::Merge(args) => {
            let opts = merge::Options {
                expect: parse_platforms(&args.expect)?,
                no_wait: args.lock.no_wait,
            };
            let m = merge::merge(&args.inputs, &args.out_dir, &opts, &shell)?;
            shell.status(
                "Merged",
                format!(
                    "{} inputs into `{}`: {} artifacts for {}",
                    args.inputs.len(),
                    args.out_dir,
                    m.artifacts.len(),
                    m.platforms
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Image(args) => {
            let (plan, _) = planned(&args.select, plan::Detail::Lazy)?;
            let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, &shell)?;
            let records = record::BuildRecord::for_plan(
                &plan,
                &out,
                "run `cargo multiarch build` with the same selection first",
            )?;
            let mut password = args.password;
            if args.password_stdin {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .context("cannot read the password from standard input")?;
                password = Some(s.trim_end_matches(['\n', '\r']).to_owned());
            }
            let opts = image::Options {
                tag: args.tag,
                combined: args.combined,
                archive: args.archive,
                push: args.push,
                auth: image::Auth {
                    username: args.username,
                    password,
                    docker_config: None,
                },
                insecure: args.insecure,
                level: args.compression,
            };
            image::run(&plan, &out, &records, &shell, &opts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor(args) => {
            // Outside a workspace, check the tools for the requested (or default) targets.
            let ws = match Workspace::load(&args.select) {
                Ok(ws) => Some(ws),
                Err(e) if args.select.manifest.manifest_path.is_none() => {
                    shell.note(format!(
                        "no workspace to plan for ({e:#}); checking tools only"
                    ));
                    None
                }
                Err(e) => return Err(e),
            };
            let dir = ws
                .as_ref()
                .map_or_else(|| camino::Utf8PathBuf::from("."), |w| w.root.clone());
            let probes = Probes::run(&dir, true);
            let plan = ws
                .map(|ws| Plan::new(&args.select, ws, &probes, plan::Detail::Full))
                .transpose()?;
            let targets = if let Some(p) = &plan {
                p.targets.iter().map(|t| t.target.clone()).collect()
            } else {
                let t = platform::resolve(
                    &args.select.targets.targets,
                    &args.select.targets.platforms,
                )?;
                if t.is_empty() {
                    platform::default_targets()
                } else {
                    t
                }
            };
            let checks = doctor::checks(&probes, &targets, plan.as_ref());
            Ok(if doctor::report(&shell, &checks)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn build_options(plan: &Plan, select: &cli::SelectArgs, b: &cli::BuildOptions) -> build::Options {
    build::Options {
        no_install: b.no_install,
        keep_going: b.keep_going,
        strip: b.strip,
        jobs: select.targets.jobs.clone(),
        // Resolved against the user's directory by the workspace.
        target_dir: select
            .targets
            .target_dir
            .as_ref()
            .map(|_| plan.workspace.target_dir.clone()),
    }
}

/// `--expect` (repeatable, comma lists): `None` when not given; an empty value or item
/// is an error, never "expect nothing".
fn parse_platforms(list: &[String]) -> Result<Option<Vec<platform::Platform>>> {
    if list.is_empty() {
        return Ok(None);
    }
    platform::split_flag("--expect", "linux/amd64,linux/arm64", list)?
        .iter()
        .map(|p| platform::Platform::parse(p))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The workspace, the probes and the plan made from them.
fn planned(select: &cli::SelectArgs, detail: plan::Detail) -> Result<(Plan, Probes)> {
    let (ws, probes) = load(select, detail)?;
    let plan = Plan::new(select, ws, &probes, detail)?;
    Ok((plan, probes))
}

/// Loads the workspace and probes the machine at the same time: both wait on processes.
fn load(select: &cli::SelectArgs, detail: plan::Detail) -> Result<(Workspace, Probes)> {
    let dir = workspace::manifest_dir(select.manifest.manifest_path.as_deref())?;
    std::thread::scope(|s| {
        let probes = s.spawn(|| Probes::run(&dir, detail == plan::Detail::Full));
        let ws = Workspace::load(select);
        let probes = probes.join().expect("the probe thread panicked");
        Ok((ws?, probes))
    })
}
