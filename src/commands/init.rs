//! `cargo multiarch init`.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;

use crate::cli::InitArgs;
use crate::output::Shell;
use crate::plan::{Detail, Plan};
use crate::workflow::{self, ActionRef, Spec};
use crate::workspace::{Manifest, Selection, Targets};

/// `cargo multiarch init`: the release workflow from the plan, and `out/` in
/// `.gitignore`.
pub(super) fn run(args: &InitArgs, shell: &Shell) -> Result<ExitCode> {
    let action = match &args.action {
        Some(a) => a.clone(),
        None => ActionRef::own(env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_VERSION"))?,
    };
    let select = Selection {
        targets: Targets {
            targets: args.targets.clone(),
            platforms: args.platforms.clone(),
            ..Targets::default()
        },
        manifest: Manifest {
            manifest_path: args.manifest_path.clone(),
            ..Manifest::default()
        },
        ..Selection::default()
    };
    let (plan, _) = Plan::load(&select, Detail::Staged)?;
    let targets: Vec<_> = plan.targets.iter().map(|t| t.target.clone()).collect();
    let spec = Spec::new(&targets, action, env!("CARGO_PKG_VERSION"));
    let text = workflow::release(&spec);
    if args.dry_run {
        std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("could not write to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }
    let root = &plan.workspace.root;
    let path = root.join(workflow::PATH);
    if !args.force && std::fs::symlink_metadata(&path).is_ok() {
        bail!(
            "`{path}` exists already (hint: run `cargo multiarch init --force` to overwrite it, or `cargo multiarch init --dry-run` to print the new one)"
        );
    }
    write(&path, &text)?;
    for leg in &spec.legs {
        let names: Vec<&str> = leg.targets.iter().map(|(t, _)| t.as_str()).collect();
        shell.status(
            "Planned",
            format!("{} on {}: {}", leg.name, leg.runner, names.join(", ")),
        );
    }
    shell.status(
        "Wrote",
        format!("{} (uses {})", workflow::PATH, spec.action.as_str()),
    );
    ignore_out_dir(root, &plan.out_dir, shell)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path` atomically, creating its directory.
fn write(path: &Utf8Path, text: &str) -> Result<()> {
    let dir = path.parent().expect("a file has a parent");
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create `{dir}` (hint: check its permissions)"))?;
    crate::fs::write_atomic_at(path, |f| {
        f.write_all(text.as_bytes())
            .with_context(|| format!("cannot write `{path}` (hint: check its permissions)"))
    })
}

/// Adds the out dir to `.gitignore` at the workspace root (created if missing), unless
/// a line ignores it already or it is outside the workspace.
fn ignore_out_dir(root: &Utf8Path, out_dir: &Utf8Path, shell: &Shell) -> Result<()> {
    let Ok(rel) = out_dir.strip_prefix(root) else {
        shell.note(format!(
            "the out dir `{out_dir}` is outside the workspace: nothing to add to .gitignore"
        ));
        return Ok(());
    };
    let entry = format!("{}/", rel.as_str().trim_end_matches('/'));
    let path = root.join(".gitignore");
    let existing = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot read `{path}` (hint: check its permissions)"
            )));
        }
    };
    match workflow::gitignore_with(&existing, &entry) {
        Some(text) => {
            write(&path, &text)?;
            shell.status("Ignored", format!("{entry} in .gitignore"));
        }
        None => shell.verbose("Fresh", format!("{entry} in .gitignore")),
    }
    Ok(())
}
