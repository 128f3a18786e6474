//! Plain `cargo build` for every `cargo` and `zig` target at once, each with its own
//! toolchain: non-host-CPU musl targets link with the bundled `rust-lld`, `zig` targets
//! compile C and link with the zig wrappers under the target dir (which `build` writes).
//! A linker or C compiler the user configured is never overridden.

use super::{Invocation, toml_string};
use crate::plan::Backend;
use crate::process::Process;
use crate::zig::{self, Tool};

pub(super) fn command(inv: &Invocation) -> Process {
    let mut p = inv.common_args(Process::cargo().arg("build"));
    let mut linker_on_path = false;
    for t in &inv.targets {
        let triple = t.target.triple();
        if inv.backend_of(t) == Backend::Zig && zig::zig_target(&t.target).is_some() {
            let path = |tool| zig::wrapper_path(inv.resolved_target_dir, &t.target, tool);
            if !inv.user.has_linker(triple) {
                // With the cache, by a bare name on `PATH`: cargo passes `-C linker` to
                // every crate, and sccache hashes it.
                let linker = if inv.cache.is_some() {
                    linker_on_path = true;
                    zig::linker_name(&t.target)
                } else {
                    path(Tool::Cc).into_string()
                };
                p = p
                    .arg("--config")
                    .arg(format!("target.{triple}.linker={}", toml_string(&linker)));
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
        // With the cache, through its wrapper (which `make` running `$CC` then uses too).
        if let Some(cc) = &t.c_compiler_env {
            let compiler = match inv.cache {
                Some(_) => {
                    crate::cache::cc_wrapper_path(inv.resolved_target_dir, triple).into_string()
                }
                None => cc.1.clone(),
            };
            p = p
                .arg("--config")
                .arg(format!("env.{}={}", cc.0, toml_string(&compiler)));
        }
    }
    if linker_on_path {
        let mut path = std::ffi::OsString::from(zig::linker_dir(inv.resolved_target_dir));
        let rest = match inv.auditable {
            Some(w) => Some(w.path.clone()),
            None => std::env::var_os("PATH").filter(|p| !p.is_empty()),
        };
        if let Some(rest) = rest {
            path.push(":");
            path.push(rest);
        }
        p = p.env("PATH", path);
    }
    inv.remap_args(
        p,
        inv.root.as_str(),
        Some(inv.resolved_target_dir.as_str()),
        inv.cargo_home.map(camino::Utf8Path::as_str),
    )
}
