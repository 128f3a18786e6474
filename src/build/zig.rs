//! Writes the wrapper scripts a `zig` target's linker and `CC_`/`CXX_`/`AR_<triple>`
//! point at, under the target dir: the same bytes on every run, rewritten atomically
//! only when they changed, so cargo's fingerprints never churn.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;

use anyhow::{Context as _, Result, anyhow};
use camino::{Utf8Path, Utf8PathBuf};

use crate::outdir::write_atomic_at;
use crate::platform::Target;
use crate::probe::Probes;
use crate::zigcc::{self, Tool};

/// Writes `target`'s wrappers below `target_dir`, where `backend::cargo` expects them;
/// true when any was (re)written.
pub(super) fn write_wrappers(
    target_dir: &Utf8Path,
    target: &Target,
    probes: &Probes,
) -> Result<bool> {
    let mut wrote = false;
    let zig = probes.zig().ok_or_else(|| {
        anyhow!(
            "zig is needed to build `{target}` but is neither on `PATH` nor importable as `python3 -m ziglang` (hint: run `pip install ziglang`)"
        )
    })?;
    let exe = std::env::current_exe()
        .context("cannot find the path of the running cargo-multiarch")
        .and_then(|p| {
            Utf8PathBuf::try_from(p)
                .map_err(|e| anyhow!("the path of cargo-multiarch is not UTF-8: {e} (hint: install it under a UTF-8 path)"))
        })?;
    for tool in Tool::ALL {
        let path = zigcc::wrapper_path(target_dir, target, tool);
        let script = zigcc::wrapper_script(&exe, &zig.path, tool, target);
        // What is there now, read without following a symlink and at most a little more
        // than the script: anything else (a FIFO, a link, a huge file) is rewritten.
        let current = crate::outdir::open_regular(&path).ok().and_then(|f| {
            let executable = f
                .metadata()
                .is_ok_and(|m| m.permissions().mode() & 0o111 == 0o111);
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(f, script.len() as u64 + 1),
                &mut bytes,
            )
            .ok()?;
            executable.then_some(bytes)
        });
        if current.as_deref() == Some(script.as_bytes()) {
            continue;
        }
        let dir = path.parent().expect("a wrapper path has a parent");
        std::fs::create_dir_all(dir).with_context(|| {
            format!("cannot create `{dir}` (hint: check the target dir's permissions)")
        })?;
        write_atomic_at(&path, |f| {
            f.write_all(script.as_bytes())
                .with_context(|| format!("cannot write `{path}`"))?;
            f.set_permissions(std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot make `{path}` executable"))
        })?;
        wrote = true;
    }
    Ok(wrote)
}
