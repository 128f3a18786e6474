//! `cross build`: one target per call, in a container; paths inside it are
//! `/project` (the workspace), `/target` and `/cargo`.

use super::{CROSS_CARGO_HOME, CROSS_PROJECT, CROSS_TARGET, Invocation};
use crate::process::Process;

pub(super) fn command(inv: &Invocation) -> Process {
    debug_assert_eq!(inv.targets.len(), 1, "cross builds one target per call");
    let p = match inv.cross {
        Some(path) => Process::new(path),
        None => Process::new("cross"),
    };
    let p = inv.common_args(p.arg("build"));
    inv.remap_args(p, CROSS_PROJECT, Some(CROSS_TARGET), Some(CROSS_CARGO_HOME))
}
