//! What a build settles before its first backend call: the targets nothing here can
//! build, missing rust-std, the notes and warnings about the user's setup, and
//! `--auditable`'s wrapper.

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;

use super::{Options, Status, TargetResult};
use crate::cargo_config::UserConfig;
use crate::deps::TargetGraphs;
use crate::output::Shell;
use crate::output::{Event, Severity};
use crate::plan::Plan;
use crate::probe::Probes;

/// The targets nothing here can build: an error naming the fix, or with
/// `--keep-going` a failed result for each (said before spending time on the others).
pub(super) fn unbuildable(plan: &Plan, shell: Shell, opts: &Options) -> Result<Vec<TargetResult>> {
    let mut results = Vec::new();
    for t in plan.unbuildable() {
        let msg = format!(
            "{}{}",
            t.reason,
            t.fix
                .as_ref()
                .map(|f| format!(" (hint: {f})"))
                .unwrap_or_default()
        );
        if !opts.keep_going {
            bail!("cannot build `{}` ({}): {msg}", t.target, t.platform);
        }
        shell.event(Event::Problem {
            severity: Severity::Error,
            message: format!("cannot build `{}` ({}): {msg}", t.target, t.platform),
            target: Some(t.target.to_string()),
        });
        results.push(TargetResult {
            target: t.target.to_string(),
            platform: t.platform.to_string(),
            backend: None,
            status: Status::Failed { first_error: msg },
        });
    }
    Ok(results)
}

/// Notes and warnings about the setup: custom targets need a nightly `build-std`, and
/// `RUSTFLAGS` makes cargo ignore the path remapping the tool adds.
pub(super) fn warn_about_setup(plan: &Plan, user: &UserConfig, shell: Shell) {
    for t in plan.targets.iter().filter(|t| t.target.spec().is_some()) {
        shell.note(format!(
            "`{}` is a custom target: there is no rust-std to install for it, so cargo builds the standard library itself, which needs a nightly toolchain and `-Zbuild-std` (`[unstable] build-std = [\"std\"]` in `.cargo/config.toml`)",
            t.target
        ));
    }
    if let Some(t) = plan.targets.first()
        && user.rustflags_key(t.target.triple()).is_none()
    {
        shell.warn(
            "`RUSTFLAGS` is set, so cargo ignores the `--remap-path-prefix` flags cargo-multiarch adds: binaries may embed this machine's paths (hint: add `--remap-path-prefix=$PWD/=` to `RUSTFLAGS`, or unset it)",
        );
    }
}

/// A build's use of sccache: which one, the rustc wrapper cargo gets, and the server's
/// statistics before the build.
pub(super) struct CacheRun {
    pub sccache: crate::cache::Sccache,
    pub wrapper: camino::Utf8PathBuf,
    before: Option<crate::cache::Stats>,
}

impl CacheRun {
    /// Prints what this run added to the server's statistics (a status line, or a
    /// `cache` event); a warning when they cannot be read.
    pub(super) fn report(&self, shell: Shell) {
        let Some(before) = &self.before else { return };
        match self.sccache.stats() {
            Ok(after) => {
                let run = after.since(before);
                shell.status("Cache", format!("sccache: {}", run.line()));
                shell.event(Event::Cache {
                    tool: "sccache".to_owned(),
                    rust: run.rust,
                    c: run.c,
                    not_cacheable: run.not_cacheable,
                    unsupported: run.unsupported,
                });
            }
            Err(e) => shell.warn(format!("could not read sccache's statistics: {e:#}")),
        }
    }
}

/// `--cache sccache` (or the user's `RUSTC_WRAPPER=sccache`): the server started and
/// its statistics read. `cross` targets are built without it (said once).
pub(super) fn cache(
    plan: &Plan,
    user: &UserConfig,
    opts: &Options,
    target_dir: &Utf8Path,
    shell: Shell,
) -> Result<Option<CacheRun>> {
    let Some(sccache) = crate::cache::resolve(opts.cache, user, &plan.workspace.root)? else {
        return Ok(None);
    };
    if sccache.users_wrapper && opts.auditable {
        bail!(
            "`--auditable` with `RUSTC_WRAPPER` (or `build.rustc-wrapper`) set to sccache: cargo would run sccache on the auditable wrapper, which sccache cannot use as rustc (hint: unset it and pass `--cache sccache`, which runs both)"
        );
    }
    if plan
        .targets
        .iter()
        .any(|t| t.backend == Some(crate::plan::Backend::Cross))
    {
        shell.note(
            "`cross` targets build without sccache: cross runs cargo in its container, where the tool's sccache is not",
        );
    }
    let wrapper = if opts.auditable {
        crate::cache::write_dispatcher(target_dir, &sccache.program, crate::auditable::WRAPPER)?
    } else {
        sccache.program.clone()
    };
    sccache.start_server()?;
    let before = match sccache.stats() {
        Ok(s) => Some(s),
        Err(e) => {
            shell.warn(format!("could not read sccache's statistics: {e:#}"));
            None
        }
    };
    Ok(Some(CacheRun {
        sccache,
        wrapper,
        before,
    }))
}

/// `--auditable`'s rustc wrapper under `target_dir`, when asked for and possible.
pub(super) fn auditable(
    plan: &Plan,
    user: &UserConfig,
    target_dir: &Utf8Path,
    graphs: &[TargetGraphs],
) -> Result<crate::auditable::Wrapper> {
    if user.has_workspace_wrapper() {
        bail!(
            "`--auditable` links each binary's dependency list through a rustc workspace wrapper, and one is already set (`build.rustc-workspace-wrapper` or `RUSTC_WORKSPACE_WRAPPER`) (hint: unset it, or drop `--auditable`)"
        );
    }
    if let Some(t) = plan
        .targets
        .iter()
        .find(|t| t.target.rustc_triples().len() > 1)
    {
        bail!(
            "`--auditable` cannot embed a dependency list in `{}`: it is joined from one binary per slice after linking (hint: build its slices as separate targets, e.g. `--target {}`, or drop `--auditable`)",
            t.target,
            t.target.rustc_triples().join(" --target ")
        );
    }
    let (wrapper, _) = crate::auditable::prepare(
        target_dir,
        camino::Utf8Path::new(crate::backend::CROSS_TARGET),
        graphs,
    )?;
    Ok(wrapper)
}

/// Installs missing rust-std (or names the command, with `--no-install`).
pub(super) fn install_rust_std(
    plan: &Plan,
    probes: &Probes,
    shell: Shell,
    no_install: bool,
) -> Result<()> {
    let mut missing: Vec<&str> = Vec::new();
    for t in plan
        .targets
        .iter()
        .filter(|t| t.install_rust_std && t.backend.is_some())
    {
        for triple in t.target.rustc_triples() {
            if !probes.installed_targets.iter().any(|i| i == triple) && !missing.contains(&triple) {
                missing.push(triple);
            }
        }
    }
    for triple in missing {
        let cmd = probes.rustup_add_command(triple);
        if no_install {
            bail!("rust-std for `{triple}` is not installed (hint: run `{cmd}`)");
        }
        shell.status("Installing", format!("rust-std for {triple} (`{cmd}`)"));
        let mut p = crate::process::Process::new("rustup").args(["target", "add"]);
        if let Some(tc) = &probes.toolchain {
            p = p.args(["--toolchain", tc]);
        }
        // Its stdout to stderr: stdout is for `--message-format json`.
        let p = p.arg(triple).cwd(plan.workspace.root.clone());
        let status = p
            .spawn_with_stdout(std::io::stderr().into())
            .and_then(|mut c| {
                c.wait()
                    .with_context(|| format!("could not wait for `{p}`"))
            })
            .context("could not install rust-std")?;
        p.check(status).context("could not install rust-std")?;
    }
    Ok(())
}
