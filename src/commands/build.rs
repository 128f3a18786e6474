//! `cargo multiarch build`.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::BuildArgs;
use crate::output::Shell;
use crate::record;

/// Builds and stages every planned target.
pub(super) fn run(args: &BuildArgs, shell: &Shell) -> Result<ExitCode> {
    let select = super::selection(&args.select);
    let (plan, probes) = super::load(&select, false)?;
    let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, shell)?;
    let opts = super::build_options(&plan, &select, &args.build);
    crate::build::build(&plan, &out, &probes, shell, &opts)?;
    Ok(ExitCode::SUCCESS)
}
