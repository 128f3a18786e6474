//! The backend of one target: ARCHITECTURE.md's order (cargo, zig, cross) over the facts
//! the probes gathered, the reason in words, the fallbacks, and the linker and C
//! compiler cargo is told to use. The facts are gathered once ([`Facts::gather`]);
//! the rules over them are pure, so every rule is tested without a machine.

use super::{Backend, TargetPlan};
use crate::apple::FrameworkUse;
use crate::platform::Target;
use crate::probe::Probes;
use crate::workspace::CCode;
use crate::zig;

/// What the backend choice depends on, gathered from the probes (so the rules can be
/// tested without a machine).
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub is_host: bool,
    /// The host is itself a Windows MSVC target, with Microsoft's linker at hand.
    pub host_msvc: bool,
    /// The target's CPU is the host's (`x86_64` musl on an `x86_64` gnu host): the host `cc` links it.
    pub host_arch: bool,
    pub has_rust_std: bool,
    pub rustup: bool,
    pub c_code: Vec<CCode>,
    /// A C compiler for the target's libc and where it came from.
    pub c_compiler: Option<(String, String)>,
    /// A gcc-style cross linker, for non-host glibc and Windows targets.
    pub cross_linker: Option<String>,
    /// zig is there (on PATH or as the `ziglang` Python package): the wrappers work.
    pub zig_ready: bool,
    /// cargo-zigbuild and zig are there.
    pub zigbuild_ready: bool,
    pub cross_ready: bool,
    /// `cross` is on PATH (it may still lack a container engine).
    pub cross_found: bool,
    /// Apple frameworks the graph links (macOS targets).
    pub frameworks: Vec<FrameworkUse>,
    /// `SDKROOT`: a macOS SDK, for frameworks.
    pub sdkroot: Option<String>,
}

impl Facts {
    /// The facts for `target`; with `slow` false, zig and cross count as absent
    /// without probing for them.
    pub(crate) fn gather(
        target: &Target,
        c_code: Vec<CCode>,
        frameworks: Vec<FrameworkUse>,
        probes: &Probes,
        slow: bool,
    ) -> Self {
        // A library the user pointed the build script at may well be there.
        let c_code = c_code
            .into_iter()
            .map(|mut c| {
                c.system_lib = c.system_lib.filter(|s| !s.configured(target.triple()));
                c
            })
            .collect();
        Self {
            is_host: probes.is_host(target),
            host_msvc: probes.host.ends_with("-windows-msvc"),
            host_arch: probes.host.split('-').next() == target.triple().split('-').next(),
            has_rust_std: probes.has_rust_std(target),
            rustup: probes.rustup.is_some(),
            c_code,
            c_compiler: probes.c_compiler(target).map(|c| (c.command, c.source)),
            cross_linker: probes.cross_linker(target),
            zig_ready: slow && probes.zig_ready(),
            zigbuild_ready: slow && probes.zigbuild_ready(),
            cross_ready: slow && probes.cross_ready(),
            cross_found: slow && probes.cross().is_some(),
            frameworks,
            sdkroot: std::env::var("SDKROOT").ok().filter(|s| !s.is_empty()),
        }
    }
}

/// The backend to retry `t` with after `failed` failed: the next one in the full order
/// (probing zig and cross now, if the plan did not); none for a forced backend.
pub(crate) fn next_backend(t: &TargetPlan, probes: &Probes, failed: Backend) -> Option<Backend> {
    if t.forced {
        return None;
    }
    let facts = Facts::gather(
        &t.target,
        t.c_code.clone(),
        t.frameworks.clone(),
        probes,
        true,
    );
    let full = choose(&t.target, &facts, None);
    let order: Vec<Backend> = full.backend.into_iter().chain(full.fallbacks).collect();
    order.iter().skip_while(|b| **b != failed).nth(1).copied()
}

/// The backend for one target: ARCHITECTURE.md's order (cargo, zig, cross), or the
/// forced one; a target no backend can build says why and what fixes it.
pub(crate) fn choose(
    target: &Target,
    facts: &Facts,
    forced: Option<(Backend, &str)>,
) -> TargetPlan {
    let mut plan = unchosen(target, facts, forced.is_some());
    let triple = target.triple();
    // MSVC targets link with Microsoft's linker against the Windows SDK: neither zig
    // nor cross provides them, whatever backend is forced.
    if is_msvc(triple) && !facts.host_msvc {
        plan.install_rust_std = false;
        return refused(plan, msvc_refusal(triple));
    }
    if plan.install_rust_std && !facts.rustup {
        return refused(plan, rust_std_refusal(triple));
    }
    if let Some((backend, source)) = forced {
        force(&mut plan, facts, backend, source);
        return plan;
    }
    // A framework without the SDK: no backend here can link it.
    if target.is_apple() && !facts.frameworks.is_empty() && facts.sdkroot.is_none() {
        return refused(plan, framework_refusal(&facts.frameworks));
    }
    let (cargo_ok, why) = cargo_alone(target, facts);
    let order = ready_backends(target, facts, cargo_ok);
    pick(plan, facts, &order, why)
}

/// The plan of `target` before any backend is chosen: what the facts say about its C
/// code, system libraries, frameworks and rust-std.
fn unchosen(target: &Target, facts: &Facts, forced: bool) -> TargetPlan {
    TargetPlan {
        target: target.clone(),
        platform: target.platform(),
        backend: None,
        reason: String::new(),
        fallbacks: Vec::new(),
        forced,
        c_code: facts.c_code.clone(),
        // The host's own libraries serve a host build.
        system_libs: if facts.is_host {
            Vec::new()
        } else {
            facts
                .c_code
                .iter()
                .filter_map(|c| c.system_lib.clone())
                .collect()
        },
        frameworks: facts.frameworks.clone(),
        install_rust_std: !facts.has_rust_std && !facts.is_host && target.spec().is_none(),
        linker: None,
        c_compiler_env: None,
        cc: None,
        fix: None,
    }
}

/// `plan` with no backend, the reason it has none and the fix.
fn refused(mut plan: TargetPlan, (reason, fix): (String, String)) -> TargetPlan {
    plan.reason = reason;
    plan.fix = Some(fix);
    plan
}

/// Why an MSVC target cannot be built here, and what would build it instead.
fn msvc_refusal(triple: &str) -> (String, String) {
    let reason = format!(
        "`{triple}` links with Microsoft's linker against the MSVC libraries and Windows SDK, which no backend here provides (zig and cross cannot link MSVC targets)"
    );
    let xwin = format!(
        "or run `cargo xwin build --target {triple}` on a machine that can download the MSVC SDK"
    );
    let fix = match gnu_twin(triple) {
        Some(gnu) => format!("use `--target {gnu}` instead, which zig links, {xwin}"),
        None => xwin.replacen("or run", "run", 1),
    };
    (reason, fix)
}

/// Why a target whose rust-std is missing cannot be built without rustup, and the fix.
fn rust_std_refusal(triple: &str) -> (String, String) {
    (
        format!("rust-std for `{triple}` is not installed and rustup is not available"),
        format!(
            "install rust-std for {triple} into your toolchain's sysroot (with rustup: `rustup target add {triple}`)"
        ),
    )
}

/// Why a macOS target linking Apple frameworks cannot be built without `SDKROOT`, and the fix.
fn framework_refusal(frameworks: &[FrameworkUse]) -> (String, String) {
    (
        format!(
            "{}, which only the macOS SDK provides, and `SDKROOT` is not set",
            framework_list(frameworks)
        ),
        "set `SDKROOT` to a macOS SDK (a `MacOSX.sdk` directory from Xcode or its Command Line Tools), then build again"
            .to_owned(),
    )
}

/// Sets the forced backend, never falling back.
fn force(plan: &mut TargetPlan, facts: &Facts, backend: Backend, source: &str) {
    // `--backend zig` means zig as the C toolchain: through cargo-zigbuild where
    // the wrappers do not apply.
    let backend = match backend {
        Backend::Zig if zig::zig_target(&plan.target).is_none() => Backend::Zigbuild,
        b => b,
    };
    plan.backend = Some(backend);
    plan.reason = format!("forced by {source}");
    set_toolchain(plan, facts);
}

/// Whether plain cargo can build `target`, and why (not), in words.
fn cargo_alone(target: &Target, facts: &Facts) -> (bool, String) {
    let triple = target.triple();
    if let Some(spec) = target.spec() {
        (
            true,
            format!(
                "custom target `{spec}`: no rust-std can be installed for it, so cargo must build the standard library (nightly `-Zbuild-std`, e.g. `[unstable] build-std = [\"std\"]` in `.cargo/config.toml`)"
            ),
        )
    } else if target.has_glibc_suffix() {
        (
            false,
            format!(
                "glibc version `{}` needs zig",
                target.requested.trim_start_matches(triple)
            ),
        )
    } else if facts.is_host {
        (true, "host target".to_owned())
    } else if target.is_apple() {
        (
            false,
            if facts.frameworks.is_empty() {
                "no Apple framework in the dependency graph, so zig links it without a macOS SDK"
                    .to_owned()
            } else {
                format!(
                    "{}; the macOS SDK comes from `SDKROOT`",
                    framework_list(&facts.frameworks)
                )
            },
        )
    } else if target.is_musl() {
        cargo_alone_musl(triple, facts)
    } else {
        cargo_alone_cross_linker(triple, facts)
    }
}

/// Whether cargo builds a (non-host) musl target: rust-lld or the host `cc` links it,
/// but C code needs a musl C compiler.
fn cargo_alone_musl(triple: &str, facts: &Facts) -> (bool, String) {
    let links = if facts.host_arch {
        "the host `cc`"
    } else {
        "rust-lld"
    };
    match (&facts.c_code.is_empty(), &facts.c_compiler) {
        (true, _) => (
            true,
            format!("no C code in the dependency graph; links with {links}"),
        ),
        (false, Some((cc, source))) => (
            true,
            format!(
                "C code in {}; C compiler `{cc}` (from {source})",
                c_list(&facts.c_code)
            ),
        ),
        (false, None) => (
            false,
            format!(
                "C code in {} and no musl C compiler for `{triple}`",
                c_list(&facts.c_code)
            ),
        ),
    }
}

/// Whether cargo builds a non-host glibc or Windows target: it needs a cross linker,
/// and a C compiler for C code.
fn cargo_alone_cross_linker(triple: &str, facts: &Facts) -> (bool, String) {
    match (
        &facts.cross_linker,
        facts.c_code.is_empty(),
        &facts.c_compiler,
    ) {
        (None, _, _) => (false, format!("no linker for `{triple}`")),
        (Some(l), true, _) => (
            true,
            format!("no C code in the dependency graph; links with `{l}`"),
        ),
        (Some(l), false, Some((cc, _))) => (
            true,
            format!(
                "C code in {}; C compiler `{cc}`, links with `{l}`",
                c_list(&facts.c_code)
            ),
        ),
        (Some(_), false, None) => (
            false,
            format!(
                "C code in {} and no C compiler for `{triple}`",
                c_list(&facts.c_code)
            ),
        ),
    }
}

/// `a (why), b (why)`: the packages that compile C.
fn c_list(c_code: &[CCode]) -> String {
    c_code
        .iter()
        .map(|c| format!("{} ({})", c.package, c.why))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The backends ready to build `target`, best first: cargo (when it can alone), zig or
/// cargo-zigbuild, cross.
fn ready_backends(target: &Target, facts: &Facts, cargo_ok: bool) -> Vec<Backend> {
    let mut order = Vec::new();
    if cargo_ok {
        order.push(Backend::Cargo);
    }
    if facts.zig_ready && zig::zig_target(target).is_some() {
        order.push(Backend::Zig);
    } else if facts.zigbuild_ready {
        order.push(Backend::Zigbuild);
    }
    // cross has no images for Apple targets.
    if facts.cross_ready && !target.is_apple() {
        order.push(Backend::Cross);
    }
    order
}

/// The first of `order` with the others as fallbacks and the reason; with none ready,
/// what is missing and the fix.
fn pick(mut plan: TargetPlan, facts: &Facts, order: &[Backend], why: String) -> TargetPlan {
    let Some(b) = order.first().copied() else {
        let wrappers = zig::zig_target(&plan.target).is_some();
        let (missing, fix) = missing_tools(facts, wrappers, plan.target.is_apple());
        return refused(plan, (format!("{why}; {missing}"), fix));
    };
    plan.backend = Some(b);
    plan.reason = match b {
        Backend::Cargo => why,
        Backend::Zig => format!("{why}; zig compiles C and links"),
        Backend::Zigbuild => format!("{why}; zig compiles C and links, through cargo-zigbuild"),
        Backend::Cross => format!("{why}; zig not found, so cross (in a docker/podman container)"),
    };
    plan.fallbacks = order[1..].to_vec();
    set_toolchain(&mut plan, facts);
    plan
}

/// A Windows target of the MSVC ABI (`*-pc-windows-msvc`, `*-uwp-windows-msvc`, …).
fn is_msvc(triple: &str) -> bool {
    triple.ends_with("-windows-msvc")
}

/// The GNU-ABI target zig builds for the same Windows machine as an MSVC one:
/// `<arch>-<vendor>-windows-gnu` for x86, `aarch64-pc-windows-gnullvm` for Arm.
pub(super) fn gnu_twin(msvc: &str) -> Option<String> {
    let (arch, rest) = msvc.split_once('-')?;
    let vendor = rest.strip_suffix("-windows-msvc")?;
    match arch {
        "x86_64" => Some(format!("x86_64-{vendor}-windows-gnu")),
        "i686" | "i586" => Some(format!("i686-{vendor}-windows-gnu")),
        "aarch64" | "arm64ec" => Some("aarch64-pc-windows-gnullvm".to_owned()),
        _ => None,
    }
}

/// `` `a` links Apple framework `X` `` (and how many more).
fn framework_list(f: &[FrameworkUse]) -> String {
    let first = &f[0];
    let what = if first.framework == "?" {
        format!("`{}` links an Apple framework", first.package)
    } else {
        format!(
            "`{}` links Apple framework `{}`",
            first.package, first.framework
        )
    };
    match f.len() {
        1 => what,
        n => format!("{what} (and {} more)", n - 1),
    }
}

/// What is missing for a target no backend here can build, said exactly (never
/// claiming a tool is missing when it is there), and the command that fixes it.
fn missing_tools(facts: &Facts, wrappers: bool, apple: bool) -> (String, String) {
    let zig_fix =
        "pip install cargo-zigbuild   # brings cargo-zigbuild and zig (the ziglang package)";
    let cross = if apple {
        String::new()
    } else if facts.cross_found {
        ", and `cross` has no container engine (docker or podman) to run in".to_owned()
    } else {
        ", nor is `cross`".to_owned()
    };
    if wrappers {
        // zig alone would do (its wrappers), as would cross.
        return (format!("zig is not installed{cross}"), zig_fix.to_owned());
    }
    if facts.zig_ready {
        (
            format!(
                "zig is installed, but cargo-zigbuild, which links this target with it, is not{cross}"
            ),
            "pip install cargo-zigbuild".to_owned(),
        )
    } else {
        (
            format!("neither zig nor cargo-zigbuild is installed{cross}"),
            zig_fix.to_owned(),
        )
    }
}

/// The linker and C compiler cargo is told to use for the chosen backend.
fn set_toolchain(plan: &mut TargetPlan, facts: &Facts) {
    let target = &plan.target;
    match plan.backend {
        // A custom target's file names its own linker.
        Some(Backend::Cargo) if target.spec().is_some() => {}
        Some(Backend::Cargo) => {
            if target.is_musl() && !facts.is_host && !facts.host_arch {
                plan.linker = Some("rust-lld".to_owned());
            }
            if let (false, false, Some((cc, source))) =
                (facts.is_host, facts.c_code.is_empty(), &facts.c_compiler)
                && source == "PATH"
            {
                plan.c_compiler_env = Some((
                    format!("CC_{}", target.triple().replace('-', "_")),
                    cc.clone(),
                ));
                plan.cc = Some(cc.clone());
            }
        }
        Some(Backend::Zig) => {
            if let Some((zig_target, _)) = zig::zig_target(target) {
                let zig_cc = format!("zig cc -target {zig_target}");
                plan.linker = Some(zig_cc.clone());
                plan.cc = Some(zig_cc);
            }
        }
        _ => {}
    }
}
