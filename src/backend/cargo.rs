//! Plain `cargo build` for every `cargo` and `zig` target at once, each with its own
//! toolchain: non-host-CPU musl targets link with the bundled `rust-lld`, `zig` targets
//! compile C and link with the zig wrappers under the target dir (which `build` writes).
//! A linker or C compiler the user configured is never overridden.

use super::{Invocation, toml_string};
use crate::plan::Backend;
use crate::process::Process;
use crate::zig::{self, Tool};

pub fn command(inv: &Invocation) -> Process {
    let mut p = inv.common_args(Process::cargo().arg("build"));
    for t in &inv.targets {
        let triple = t.target.triple();
        if inv.backend_of(t) == Backend::Zig && zig::zig_target(&t.target).is_some() {
            let path = |tool| zig::wrapper_path(inv.resolved_target_dir, &t.target, tool);
            if !inv.user.has_linker(triple) {
                p = p.arg("--config").arg(format!(
                    "target.{triple}.linker={}",
                    toml_string(path(Tool::Cc).as_str())
                ));
            }
            // cc-rs reads `CC_<triple>` before `TARGET_CC` and `CC`; the user's own
            // `CC_<triple>` (either spelling) wins.
            for tool in Tool::ALL {
                if !inv.user.has_tool_env(tool.env_var(triple).as_str(), triple) {
                    p = p.env(tool.env_var(triple), path(tool));
                }
            }
            continue;
        }
        if let Some(linker) = &t.linker
            && !inv.user.has_linker(triple)
        {
            p = p
                .arg("--config")
                .arg(format!("target.{triple}.linker={}", toml_string(linker)));
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
