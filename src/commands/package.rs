//! `cargo multiarch package`.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::PackageArgs;
use crate::output::Shell;
use crate::package::{Options, package};
use crate::record;

/// Builds (unless `--no-build`), then packages.
pub(super) fn run(args: &PackageArgs, shell: &Shell) -> Result<ExitCode> {
    let select = super::selection(&args.select);
    let (plan, probes) = super::load(&select, args.no_build)?;
    let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, shell)?;
    let records = super::records(
        &plan,
        &probes,
        &out,
        &super::build_options(&plan, &select, &args.build),
        args.no_build
            .then_some("run `cargo multiarch build` first, or drop `--no-build`"),
        shell,
    )?;
    let config = &plan.workspace.config;
    let sbom = match (args.no_sbom, args.sbom_format, config.sbom) {
        (false, Some(f), _) => Some(f),
        (true, _, _) | (false, None, Some(false)) => None,
        (false, None, _) => Some(config.sbom_format.unwrap_or_default()),
    };
    let opts = Options {
        mode: args.archive,
        level: args.compression,
        sbom,
    };
    package(&plan, &out, &records, &probes, shell, opts)?;
    Ok(ExitCode::SUCCESS)
}
