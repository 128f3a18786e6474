//! `cargo multiarch plan`.

use std::process::ExitCode;

use anyhow::Result;
use camino::Utf8PathBuf;

use crate::cli::PlanArgs;
use crate::output::Format;
use crate::plan::{Detail, Plan};
use crate::probe::Probes;
use crate::targets::Rustc;
use crate::workspace;

/// `cargo multiarch plan`: what would be built, how, and where it lands.
pub(super) fn run(args: &PlanArgs) -> Result<ExitCode> {
    if args.list_targets {
        return list_targets(args);
    }
    let (plan, _) = Plan::load(&super::selection(&args.select), Detail::Full)?;
    match args.message_format {
        Format::Json => println!("{}", plan.to_json()),
        Format::Human => print!("{}", plan.to_table()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo multiarch plan --list-targets`: rustc's targets, one a line, those whose
/// rust-std is installed (or the host's) marked; as JSON, one array of
/// `{"target", "rust_std"}`. Asks the rustc the workspace (or the current directory)
/// uses.
fn list_targets(args: &PlanArgs) -> Result<ExitCode> {
    let dir = match workspace::manifest_dir(args.select.manifest.manifest_path.as_deref()) {
        Ok(dir) => dir,
        Err(e) if args.select.manifest.manifest_path.is_some() => return Err(e),
        Err(_) => Utf8PathBuf::from("."),
    };
    let probes = Probes::run(&dir, false);
    let rustc = Rustc::new(&dir, None, &probes);
    let installed = |t: &str| t == probes.host || probes.installed_targets.iter().any(|i| i == t);
    let list = rustc.target_list()?;
    let mut out = String::new();
    match args.message_format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = list
                .iter()
                .map(|t| serde_json::json!({ "target": t, "rust_std": installed(t) }))
                .collect();
            out = format!("{}\n", serde_json::Value::Array(rows));
        }
        Format::Human => {
            for t in list {
                out.push_str(t);
                if installed(t) {
                    out.push_str("  (rust-std installed)");
                }
                out.push('\n');
            }
        }
    }
    // `| head` closing the pipe early is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("could not write to stdout"))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
