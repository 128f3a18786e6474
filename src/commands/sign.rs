//! `cargo multiarch sign`.

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::SignArgs;
use crate::output::Shell;
use crate::sign::{read_secret_key, sign};

/// Signs what the out dir's manifest lists, after `verify`.
pub(super) fn run(args: &SignArgs, shell: &Shell) -> Result<ExitCode> {
    let out_dir = super::out_dir(args.out.out_dir.as_deref(), args.manifest_path.as_deref())?;
    if !out_dir.exists() {
        bail!(
            "`{out_dir}` does not exist: there is nothing to sign (hint: run `cargo multiarch package` first, or pass `--out-dir` naming where it wrote)"
        );
    }
    let key = read_secret_key(&args.key, args.password_file.as_deref())?;
    sign(&out_dir, &key, args.lock.no_wait, shell)?;
    Ok(ExitCode::SUCCESS)
}
