//! `cargo multiarch package`.

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::PackageArgs;
use crate::installer::UrlTemplate;
use crate::output::Shell;
use crate::package::{Options, package};
use crate::plan::Plan;
use crate::record;

/// Builds (unless `--no-build`), then packages.
pub(super) fn run(args: &PackageArgs, shell: &Shell) -> Result<ExitCode> {
    let select = super::selection(&args.select);
    if args.binstall.binstall_metadata {
        let (plan, _) = super::load(&select, true)?;
        print!("{}", binstall_tables(&plan, args)?);
        return Ok(ExitCode::SUCCESS);
    }
    let (plan, probes) = super::load(&select, args.no_build)?;
    let installers = installer_url(&plan, args)?;
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
        installers,
    };
    package(&plan, &out, &records, &probes, shell, &opts)?;
    Ok(ExitCode::SUCCESS)
}

/// `--download-url` (else `download-url`), checked; an error naming the fix when none.
fn download_url(plan: &Plan, args: &PackageArgs) -> Result<UrlTemplate> {
    let config = &plan.workspace.config;
    let Some(url) = args
        .installers
        .download_url
        .as_deref()
        .or(config.download_url.as_deref())
    else {
        let example = plan
            .workspace
            .packages
            .iter()
            .find_map(|p| p.repository.as_deref())
            .filter(|r| r.starts_with("https://github.com/"))
            .map_or_else(
                || "https://github.com/OWNER/REPO/releases/download/{tag}/".to_owned(),
                |r| format!("{}/releases/download/{{tag}}/", r.trim_end_matches('/')),
            );
        bail!(
            "installers need the URL the release's archives are downloaded from (hint: pass `--download-url {example}`, or set `download-url` in `[workspace.metadata.multiarch]`)"
        );
    };
    UrlTemplate::parse(url)
}

/// The installers' URL when they are asked for (`--installers`, `installers = true`).
fn installer_url(plan: &Plan, args: &PackageArgs) -> Result<Option<UrlTemplate>> {
    let wanted = args.installers.installers || plan.workspace.config.installers == Some(true);
    wanted.then(|| download_url(plan, args)).transpose()
}

/// `--binstall-metadata`: each selected package's table, for the archives `package`
/// writes with these flags.
fn binstall_tables(plan: &Plan, args: &PackageArgs) -> Result<String> {
    use crate::installer::binstall::{Names, table};
    let url = download_url(plan, args)?;
    let pubkey = match &args.binstall.public_key {
        Some(path) => Some(crate::minisign::read_public_key(path)?.to_base64()),
        None => None,
    };
    let targets: Vec<_> = plan
        .targets
        .iter()
        .map(|t| (t.target.name(), t.target.triple().to_owned(), t.platform))
        .collect();
    let ws = &plan.workspace;
    let mut text = String::new();
    for p in &ws.packages {
        let names = Names {
            version: &p.version,
            set: (args.archive == crate::package::ArchiveMode::PerTarget)
                .then_some((ws.name.as_str(), ws.version.as_str())),
        };
        text.push_str(&format!(
            "# {}\n{}\n",
            p.manifest_path,
            table(&names, &url, &targets, pubkey.as_deref())
        ));
    }
    Ok(text)
}
