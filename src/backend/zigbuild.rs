//! `cargo zigbuild`: zig compiles C and links, for the targets the zig wrappers of the
//! shared `cargo build` do not handle (macOS, Windows), or when forced.

use super::Invocation;
use crate::process::Process;

pub(super) fn command(inv: &Invocation) -> Process {
    let mut p = match inv.cargo_zigbuild {
        Some(path) => Process::new(path).arg("zigbuild"),
        None => Process::cargo().arg("zigbuild"),
    };
    p = inv.common_args(p);
    if let Some(zig) = inv.zig_path {
        // cargo-zigbuild does not find a zig that only a Python package provides.
        p = p.env("CARGO_ZIGBUILD_ZIG_PATH", zig);
    }
    inv.remap_args(
        p,
        inv.root.as_str(),
        Some(inv.resolved_target_dir.as_str()),
        inv.cargo_home.map(camino::Utf8Path::as_str),
    )
}
