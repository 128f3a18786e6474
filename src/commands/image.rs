//! `cargo multiarch image`.

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::ImageArgs;
use crate::image::{Auth, Options, assemble, check_names, resolve_bases};
use crate::output::Shell;
use crate::record;

/// Builds (unless `--no-build`), then assembles (and pushes) the images.
pub(super) fn run(args: ImageArgs, shell: &Shell) -> Result<ExitCode> {
    let select = super::selection(&args.select);
    let (plan, probes) = super::load(&select, args.no_build)?;
    let mut password = args.password;
    if args.password_stdin {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("cannot read the password from standard input")?;
        password = Some(s.trim_end_matches(['\n', '\r']).to_owned());
    }
    let build = super::build_options(&plan, &select, &args.build);
    let opts = Options {
        tags: args.tags,
        platform_tags: args.platform_tags,
        annotations: args.annotations,
        ca_certificates: args.ca_certificates,
        combined: args.combined,
        archive: args.archive,
        no_attest: args.no_attest,
        push: args.push,
        auth: Auth {
            username: args.username,
            password,
            docker_config: None,
        },
        insecure: args.insecure,
        base: args.base,
        level: args.compression,
        probes,
    };
    // Names and push destinations are decided before anything is built.
    check_names(&plan, &opts)?;
    // So is the base, for every platform: a platform it lacks fails here.
    let bases = resolve_bases(&plan, &opts, shell)?;
    let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, shell)?;
    let records = super::records(
        &plan,
        &opts.probes,
        &out,
        &build,
        args.no_build.then_some(
            "run `cargo multiarch build` with the same selection first, or drop `--no-build` to build now",
        ),
        shell,
    )?;
    assemble(&plan, &out, &records, shell, &opts, &bases)?;
    Ok(ExitCode::SUCCESS)
}
