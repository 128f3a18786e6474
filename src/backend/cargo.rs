//! Plain `cargo build`; non-host-CPU musl targets link with the bundled `rust-lld`
//! unless the user configured a linker.

use super::{Invocation, toml_string};
use crate::process::Process;

pub fn command(inv: &Invocation) -> Process {
    let mut p = inv.common_args(Process::cargo().arg("build"));
    for t in &inv.targets {
        if let Some(linker) = &t.linker
            && !inv.user.has_linker(t.target.triple())
        {
            p = p.arg("--config").arg(format!(
                "target.{}.linker={}",
                t.target.triple(),
                toml_string(linker)
            ));
        }
        // A C compiler found under a name cc-rs does not look for (`musl-gcc`) is
        // handed to it through cargo's `[env]`, which the user's environment overrides.
        if let Some(cc) = &t.c_compiler_env {
            p = p
                .arg("--config")
                .arg(format!("env.{}={}", cc.0, toml_string(&cc.1)));
        }
    }
    inv.remap_args(
        p,
        inv.root.as_str(),
        Some(inv.resolved_target_dir.as_str()),
        inv.cargo_home.map(camino::Utf8Path::as_str),
    )
}
