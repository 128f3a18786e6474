//! Writes the wrapper scripts a `zig` target's linker and `CC_`/`CXX_`/`AR_<triple>`
//! point at, under the target dir: the same bytes on every run, rewritten atomically
//! only when they changed, so cargo's fingerprints never churn.

use anyhow::{Context as _, Result, anyhow};
use camino::{Utf8Path, Utf8PathBuf};

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
        // Rewritten only when changed; a FIFO, a link or a huge file in its place is
        // replaced, never followed or waited on.
        wrote |= crate::fs::write_if_changed(&path, script.as_bytes(), 0o755)?;
    }
    Ok(wrote)
}
