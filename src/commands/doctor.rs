//! `cargo multiarch doctor`: one line per check, ok or missing, with the exact command
//! that fixes what is missing. Exit 0 when the selected targets can be built.

use std::process::ExitCode;

use anyhow::Result;
use camino::Utf8PathBuf;

use crate::cli::DoctorArgs;
use crate::output::Event;
use crate::output::Shell;
use crate::plan::{Backend, Detail, Plan};
use crate::platform::{Platform, Target};
use crate::probe::Probes;
use crate::targets::Rustc;
use crate::workspace::Workspace;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Check {
    pub name: String,
    pub ok: bool,
    /// What was found, or what is missing.
    pub detail: String,
    /// The command that fixes it (for a missing item).
    pub fix: Option<String>,
    /// Whether a missing item stops a selected target from building.
    pub required: bool,
}

/// `cargo multiarch doctor`: checks the tools for the plan (or, outside a workspace,
/// for the requested or default targets); fails when any check does.
pub(super) fn run(args: &DoctorArgs, shell: &Shell) -> Result<ExitCode> {
    let select = super::selection(&args.select());
    let ws = match Workspace::load(&select, true) {
        Ok(ws) => Some(ws),
        Err(e) if select.manifest.manifest_path.is_none() => {
            shell.note(format!(
                "no workspace to plan for ({e:#}); checking tools only"
            ));
            None
        }
        Err(e) => return Err(e),
    };
    let dir = ws
        .as_ref()
        .map_or_else(|| Utf8PathBuf::from("."), |w| w.root.clone());
    let probes = Probes::run(&dir, true);
    let plan = ws
        .map(|ws| Plan::new(&select, ws, &probes, Detail::Full))
        .transpose()?;
    let targets = if let Some(p) = &plan {
        p.targets.iter().map(|t| t.target.clone()).collect()
    } else {
        let rustc = Rustc::new(&dir, None, &probes);
        let t = rustc.resolve(&select.targets.targets, &select.targets.platforms)?;
        if t.is_empty() { rustc.defaults()? } else { t }
    };
    let checks = checks(&probes, &targets, plan.as_ref());
    Ok(if report(shell, &checks) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every check for the given targets; `plan` (when a workspace was found) tells which
/// backend each target needs, so only what that needs is required.
pub(super) fn checks(probes: &Probes, targets: &[Target], plan: Option<&Plan>) -> Vec<Check> {
    let mut out = rust_checks(probes);
    for t in targets {
        out.extend(target_checks(probes, t, plan));
    }
    out.extend(backend_tool_checks(probes, targets, plan));
    out.extend(runner_checks(probes, targets));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// rustc (required) and rustup (which installs a missing rust-std).
fn rust_checks(probes: &Probes) -> Vec<Check> {
    let rustc = probes.rustc_version().map(str::to_owned);
    vec![
        Check {
            name: "rustc".into(),
            ok: rustc.is_some(),
            detail: rustc.map_or_else(
                || "not found".into(),
                |v| format!("{v} (host {})", probes.host),
            ),
            fix: Some(
                "curl https://sh.rustup.rs -sSf | sh   # or your distribution's rustup".into(),
            ),
            required: true,
        },
        Check {
            name: "rustup".into(),
            ok: probes.rustup.is_some(),
            detail: probes.rustup.as_ref().map_or_else(
                || "not found: missing rust-std cannot be installed automatically".into(),
                |p| {
                    format!(
                        "{p}, toolchain {}",
                        probes
                            .toolchain
                            .as_deref()
                            .unwrap_or("(not a rustup toolchain)")
                    )
                },
            ),
            fix: Some("curl https://sh.rustup.rs -sSf | sh".into()),
            required: false,
        },
    ]
}

/// One target's checks: its rust-std, the plan's backend and system libraries, and a
/// musl C compiler.
fn target_checks(probes: &Probes, t: &Target, plan: Option<&Plan>) -> Vec<Check> {
    let triple = t.triple();
    let mut out = Vec::new();
    // A custom target has no rust-std (cargo builds std); a universal binary needs
    // both halves'.
    for part in t.rustc_triples().into_iter().filter(|_| t.spec().is_none()) {
        let std_ok = probes.installed_targets.iter().any(|i| i == part) || probes.is_host(t);
        out.push(Check {
            name: format!("rust-std {part}"),
            ok: std_ok,
            detail: if std_ok {
                "installed".into()
            } else {
                "not installed (build installs it unless --no-install)".into()
            },
            fix: Some(probes.rustup_add_command(part)),
            required: probes.rustup.is_none(),
        });
    }
    if let Some(tp) = plan.and_then(|p| p.targets.iter().find(|tp| &tp.target == t)) {
        out.push(Check {
            name: format!("backend {triple}"),
            ok: tp.backend.is_some(),
            detail: format!(
                "{}: {}",
                tp.backend.map_or("none", Backend::as_str),
                tp.reason
            ),
            fix: tp.fix.clone(),
            required: true,
        });
        out.extend(system_lib_checks(tp));
    }
    if t.is_musl() && !probes.is_host(t) {
        out.push(musl_c_compiler_check(probes, t));
    }
    out
}

/// A C compiler for a non-host musl target (a musl `gcc`, or zig): optional, only
/// crates that compile C need one.
fn musl_c_compiler_check(probes: &Probes, t: &Target) -> Check {
    let triple = t.triple();
    let cc = probes.c_compiler(t);
    Check {
        name: format!("C compiler {triple}"),
        ok: cc.is_some() || probes.zig_ready(),
        detail: cc.map_or_else(
            || {
                if probes.zig_ready() {
                    "zig (crates that compile C build with `zig cc`)".into()
                } else {
                    "none: crates that compile C cannot be built".into()
                }
            },
            |c| format!("`{}` (from {})", c.command, c.source),
        ),
        fix: Some(if triple.starts_with("x86_64") {
            "sudo apt-get install musl-tools   # or: pip install cargo-zigbuild".into()
        } else {
            "pip install cargo-zigbuild   # zig is the C compiler for every target".into()
        }),
        required: false,
    }
}

/// zig, cargo-zigbuild, cross and a container engine, each required when the plan
/// chose a backend that needs it.
fn backend_tool_checks(probes: &Probes, targets: &[Target], plan: Option<&Plan>) -> Vec<Check> {
    let backend_of = |t: &Target| {
        plan.and_then(|p| p.targets.iter().find(|tp| &tp.target == t))
            .and_then(|tp| tp.backend)
    };
    let zigbuild_needed = targets
        .iter()
        .any(|t| backend_of(t) == Some(Backend::Zigbuild));
    let zig_needed = zigbuild_needed || targets.iter().any(|t| backend_of(t) == Some(Backend::Zig));
    let cross_needed = targets
        .iter()
        .any(|t| backend_of(t) == Some(Backend::Cross));
    vec![
        Check {
            name: "zig".into(),
            ok: probes.zig().is_some(),
            detail: probes.zig().map_or_else(
                || "not found on PATH nor as `python3 -m ziglang`".into(),
                |z| {
                    format!(
                        "{} ({}{})",
                        z.version,
                        z.path,
                        if z.from_python {
                            ", from the ziglang Python package"
                        } else {
                            ""
                        }
                    )
                },
            ),
            fix: Some("pip install ziglang".into()),
            required: zig_needed,
        },
        Check {
            name: "cargo-zigbuild".into(),
            ok: probes.cargo_zigbuild().is_some(),
            detail: probes
                .cargo_zigbuild()
                .map_or_else(|| "not found on PATH".into(), ToString::to_string),
            fix: Some("pip install cargo-zigbuild".into()),
            required: zigbuild_needed,
        },
        Check {
            name: "cross".into(),
            ok: probes.cross().is_some(),
            detail: probes.cross().map_or_else(
                || "not found on PATH (only needed without zig)".into(),
                ToString::to_string,
            ),
            fix: Some("cargo install cross --locked".into()),
            required: cross_needed,
        },
        Check {
            name: "container engine".into(),
            ok: probes.engine().is_some(),
            detail: probes.engine().map_or_else(
                || "no docker or podman daemon answers (only cross needs one)".into(),
                |e| format!("`{e} info` answers"),
            ),
            fix: Some("start docker (`sudo systemctl start docker`) or install podman".into()),
            required: cross_needed,
        },
    ]
}

/// What `verify --run` runs foreign binaries with (optional): qemu-user per foreign
/// Linux architecture, wine for Windows amd64.
fn runner_checks(probes: &Probes, targets: &[Target]) -> Vec<Check> {
    let mut out = Vec::new();
    for t in targets
        .iter()
        .filter(|t| t.is_linux() && Some(t.platform().arch) != Platform::host().map(|h| h.arch))
    {
        let Some(arch) = crate::probe::qemu_arch(t.platform()) else {
            continue;
        };
        let q = probes.qemu_for(t);
        out.push(Check {
            name: format!("qemu-{arch}"),
            ok: q.is_some(),
            detail: q.map_or_else(
                || {
                    format!(
                        "not found: `verify --run` cannot run {} binaries here",
                        t.platform()
                    )
                },
                ToString::to_string,
            ),
            fix: Some("sudo apt-get install qemu-user".into()),
            required: false,
        });
    }
    if targets
        .iter()
        .any(|t| t.platform().os == "windows" && t.platform().arch == "amd64")
    {
        out.push(wine_check());
    }
    out
}

/// wine (optional): `verify --run` runs Windows binaries with it.
fn wine_check() -> Check {
    let wine = ["wine64", "wine"]
        .into_iter()
        .find_map(crate::probe::which)
        .or_else(|| {
            let p = Utf8PathBuf::from("/usr/lib/wine/wine64");
            p.is_file().then_some(p)
        });
    Check {
        name: "wine".into(),
        ok: wine.is_some(),
        detail: wine.map_or_else(
            || "not found: `verify --run` checks Windows binaries but cannot run them".into(),
            |w| w.to_string(),
        ),
        fix: Some("sudo apt-get install wine64 wine".into()),
        required: false,
    }
}

/// A failing check for each library of the build machine a `-sys` crate of `tp`'s
/// graph links, which the target lacks: the build would fail, whatever the backend.
fn system_lib_checks(tp: &crate::plan::TargetPlan) -> impl Iterator<Item = Check> + '_ {
    tp.system_libs.iter().map(move |s| Check {
        name: format!("{} {}", s.package, tp.target),
        ok: false,
        detail: format!(
            "links the system's {}, which this machine lacks for `{}` and no backend brings",
            s.library, tp.target
        ),
        fix: Some(s.fix.clone()),
        required: true,
    })
}

/// Prints the checks; returns whether every required one passed.
pub(super) fn report(shell: &Shell, checks: &[Check]) -> bool {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut all_ok = true;
    for c in checks {
        let mark = if c.ok {
            "ok"
        } else if c.required {
            "MISSING"
        } else {
            "missing"
        };
        let mut line = format!("{mark:<7}  {:<width$}  {}", c.name, c.detail);
        if !c.ok
            && let Some(fix) = &c.fix
        {
            line.push_str(&format!("\n{:<7}  {:<width$}  fix: {fix}", "", ""));
        }
        shell.result(line);
        shell.event(Event::Check {
            name: c.name.clone(),
            ok: c.ok,
            required: c.required,
            detail: c.detail.clone(),
            fix: c.fix.clone(),
        });
        if !c.ok && c.required {
            all_ok = false;
        }
    }
    if all_ok {
        shell.status("Ready", "every selected target can be built");
    } else {
        shell.error("some selected targets cannot be built; run the `fix:` commands above");
    }
    all_ok
}
