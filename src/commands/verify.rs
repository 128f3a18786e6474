//! `cargo multiarch verify`.

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::VerifyArgs;
use crate::outdir::OutDir;
use crate::output::{Event, Exit, Failed, Severity, Shell};
use crate::platform;
use crate::verify::{Options, verify};

/// `cargo multiarch verify`: prints each run and problem; fails when there is any.
pub(super) fn run(args: &VerifyArgs, shell: &Shell) -> Result<ExitCode> {
    let out_dir = super::out_dir(args.out.out_dir.as_deref(), args.manifest_path.as_deref())?;
    let opts = Options {
        expect: platform::parse_expect(&args.expect)?,
        run: args.run,
        run_anyway: args.run_anyway,
        run_args: args
            .run_args
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        no_wait: args.lock.no_wait,
        public_key: args
            .public_key
            .as_deref()
            .map(crate::minisign::read_public_key)
            .transpose()?,
        expect_sbom: args.expect_sbom,
    };
    // After the flags are checked: a wrong flag is said first.
    if !out_dir.exists() {
        bail!(
            "`{out_dir}` does not exist: there is nothing to verify (hint: run `cargo multiarch package` first, or pass `--out-dir` naming where it wrote)"
        );
    }
    let (m, report) = verify(&out_dir, &opts, shell)?;
    let out = OutDir::existing(&out_dir)?;
    for note in &report.notes {
        shell.note(note);
    }
    for a in m
        .artifacts
        .iter()
        .filter(|a| report.passed.contains(&a.path))
    {
        shell.event(Event::Verified(a.event(&out, None, None)));
    }
    for run in &report.runs {
        shell.result(run.to_string());
        shell.event(Event::Ran {
            out_dir: out.root().to_string(),
            outcome: run.outcome,
            path: run.path.as_ref().map(ToString::to_string),
            how: run.how.clone(),
            detail: run.detail.clone(),
        });
    }
    for p in &report.problems {
        shell.result(format!("FAILED   {p}"));
        shell.event(Event::Problem {
            severity: Severity::Error,
            message: p.clone(),
            target: None,
        });
    }
    if !report.problems.is_empty() {
        return Err(Failed {
            exit: Exit::VerifyFailed,
            message: format!(
                "`{out_dir}` failed verification: {} problem(s) above",
                report.problems.len()
            ),
        }
        .into());
    }
    shell.status(
        "Verified",
        format!(
            "{} artifacts in `{out_dir}` for {}",
            report.checked,
            report.platforms.join(", ")
        ),
    );
    Ok(ExitCode::SUCCESS)
}
