//! zig, in one place: where it is ([`find`]), the wrapper scripts a `zig` target's
//! linker and `CC_`/`CXX_`/`AR_<triple>` point at inside a shared `cargo build`
//! ([`write_wrappers`]), the hidden mode they exec ([`exec`]), and which targets' C
//! library zig has already built into its cache. The `zigbuild` backend's command is
//! `backend`'s; it finds zig here.

mod cc;
mod discover;
mod wrappers;

use camino::Utf8PathBuf;

pub use cc::{HIDDEN, compiler_args, exec, filter_args};
pub use discover::{Zig, find};
pub use wrappers::{
    Tool, linker_dir, linker_name, wrapper_path, wrapper_script, write_wrappers, zig_target,
};

/// zig has built `triple`'s C library into its global cache: the marker the tool
/// writes after a zig build of it succeeds.
fn warm_marker(zig: &Zig, triple: &str) -> Option<Utf8PathBuf> {
    Some(
        crate::fs::cache::dir()?
            .join("zig-warm")
            // zig's version is what it printed: one plain path component, never more.
            .join(
                Some(zig.version.replace(['/', '\\'], "_"))
                    .filter(|v| !matches!(v.as_str(), "" | "." | ".."))?,
            )
            .join(triple),
    )
}

/// Whether zig built `triple`'s C library before (so a build does not wait a minute
/// for it).
pub fn is_warm(zig: Option<&Zig>, triple: &str) -> bool {
    zig.and_then(|z| warm_marker(z, triple))
        .is_some_and(|m| m.exists())
}

/// Remembers that zig has built `triple`'s C library.
pub fn mark_warm(zig: Option<&Zig>, triple: &str) {
    if let Some(m) = zig.and_then(|z| warm_marker(z, triple))
        && !m.exists()
    {
        // Atomic, private, never through a link planted in the cache dir.
        crate::fs::cache::write_private(&m, b"");
    }
}

#[cfg(test)]
mod tests;
