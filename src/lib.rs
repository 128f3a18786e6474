//! cargo-multiarch: cross-build every binary of a Rust workspace for several Linux
//! platforms, package reproducible archives with a checksum manifest, and assemble a
//! multi-platform OCI image without a Docker daemon.
//!
//! Stages, each reading only what the one before wrote (see DESIGN.md):
//! `cli` → `workspace`/`config` → `platform` → `plan` → `backend` → `build` →
//! `package` → `manifest` → `verify`, `merge`, `image`.

pub mod apple;
pub mod archive;
pub mod auditable;
pub mod backend;
pub mod binary;
pub mod build;
pub mod cache;
pub mod cargo_config;
pub mod ccode;
pub mod cli;
pub mod completions;
pub mod config;
pub mod deps;
pub mod digest;
pub mod doctor;
pub mod elf;
pub mod glob;
pub mod image;
pub mod man;
pub mod manifest;
pub mod merge;
pub mod outdir;
pub mod output;
pub mod package;
pub mod plan;
pub mod platform;
pub mod probe;
pub mod process;
pub mod provenance;
pub mod record;
pub mod sbom;
pub mod shell;
pub mod sign;
pub mod source;
pub mod verify;
pub mod workspace;
pub mod zig;

#[cfg(test)]
mod testgen;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::shell::Shell;

/// Runs one command; the error, if any, is for `main` to print.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let reporting = cli.command.reporting();
    let shell =
        Shell::new(&cli.global).with_format(reporting.map_or_else(Default::default, |r| r.1));
    output::command(&shell, reporting.map(|r| r.0), || match cli.command {
        Command::Plan(args) => plan::run(&args),
        Command::Build(args) => build::run(&args, &shell),
        Command::Package(args) => package::run(&args, &shell),
        Command::Verify(args) => verify::run(&args, &shell),
        Command::Merge(args) => merge::run(&args, &shell),
        Command::Image(args) => image::run(args, &shell),
        Command::Sign(args) => sign::run(&args, &shell),
        Command::Doctor(args) => doctor::run(&args, &shell),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args, &shell),
    })
}
