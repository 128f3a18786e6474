//! `cargo multiarch merge`.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::MergeArgs;
use crate::output::Shell;

/// `cargo multiarch merge`: joins the inputs and says what the result holds.
pub(super) fn run(args: &MergeArgs, shell: &Shell) -> Result<ExitCode> {
    let opts = crate::merge::Options {
        expect: crate::platform::parse_expect(&args.expect)?,
        no_wait: args.lock.no_wait,
        installers: args.installers.installers,
        download_url: args
            .installers
            .download_url
            .as_deref()
            .map(crate::installer::UrlTemplate::parse)
            .transpose()?,
    };
    let m = crate::merge::merge(&args.inputs, &args.out_dir, &opts, shell)?;
    let platforms: Vec<String> = m.platforms.iter().map(ToString::to_string).collect();
    shell.status(
        "Merged",
        format!(
            "{} inputs into `{}`: {} artifacts for {}",
            args.inputs.len(),
            args.out_dir,
            m.artifacts.len(),
            platforms.join(", ")
        ),
    );
    Ok(ExitCode::SUCCESS)
}
