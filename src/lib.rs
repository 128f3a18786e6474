//! cargo-multiarch: cross-build every binary of a Rust workspace for several Linux
//! platforms, package reproducible archives with a checksum manifest, and assemble a
//! multi-platform OCI image without a Docker daemon.
//!
//! Stages, each reading only what the one before wrote (see DESIGN.md):
//! `cli` → `workspace`/`config` → `platform` → `plan` → `backend` → `build` →
//! `package` → `manifest` → `verify`, `merge`, `image`.

pub mod archive;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod elf;
pub mod plan;
pub mod platform;
pub mod probe;
pub mod process;
pub mod shell;
pub mod workspace;

use std::process::ExitCode;

use anyhow::Result;

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
            let ws = Workspace::load(&args.select)?;
            let probes = Probes::run(&ws.root);
            let plan = Plan::new(&args.select, ws, &probes)?;
            match args.format {
                Format::Json => println!("{}", plan.to_json()),
                Format::Human => print!("{}", plan.to_table()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor(args) => {
            // Outside a workspace, check the tools for the requested (or default) targets.
            let ws = match Workspace::load(&args.select) {
                Ok(ws) => Some(ws),
                Err(e) if args.select.manifest.manifest_path.is_none() => {
                    shell.note(format!("no workspace to plan for ({e:#}); checking tools only"));
                    None
                }
                Err(e) => return Err(e),
            };
            let dir = ws.as_ref().map_or_else(|| camino::Utf8PathBuf::from("."), |w| w.root.clone());
            let probes = Probes::run(&dir);
            let plan = ws.map(|ws| Plan::new(&args.select, ws, &probes)).transpose()?;
            let targets = match &plan {
                Some(p) => p.targets.iter().map(|t| t.target.clone()).collect(),
                None => {
                    let t = platform::resolve(&args.select.targets.targets, &args.select.targets.platforms)?;
                    if t.is_empty() {
                        platform::resolve(&platform::DEFAULT_TARGETS.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(), &[])?
                    } else {
                        t
                    }
                }
            };
            let checks = doctor::checks(&probes, &targets, plan.as_ref());
            Ok(if doctor::report(&shell, &checks)? { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
