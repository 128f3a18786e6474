//! Why a backend call failed, read from what it printed on stderr, and whether another
//! backend may do better.

use super::{Backend, Probes, TargetPlan};

/// Why a build failed, from what the backend printed.
#[derive(Debug, Clone, Default)]
pub(super) struct Failure {
    pub backend: Option<Backend>,
    pub error_lines: Vec<String>,
    pub status: String,
}

impl Failure {
    pub fn first_line(&self) -> String {
        let errors = || self.error_lines.iter().filter(|l| l.starts_with("error"));
        // cargo's own "could not compile" trailer says less than the error before it.
        errors()
            .find(|l| !l.starts_with("error: could not compile"))
            .or_else(|| errors().next())
            .or_else(|| self.error_lines.first())
            .cloned()
            .unwrap_or_else(|| format!("exited with {}", self.status))
    }

    /// What to do about it, when another backend would help.
    pub fn hint(&self, t: &TargetPlan, probes: &Probes) -> Option<String> {
        if !self.fixable_by_fallback()
            || matches!(self.backend, Some(Backend::Zig | Backend::Zigbuild))
        {
            return None;
        }
        let needs = if t.c_code.is_empty() {
            "a linker that this backend lacks".to_owned()
        } else {
            format!(
                "a C compiler for its libc ({} compiles C)",
                t.c_code
                    .iter()
                    .map(|c| format!("`{}`", c.package))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Some(if probes.zig_ready() {
            format!(
                "`{}` needs {needs}: build it with zig (`--backend zig`, or leave out `--backend` and cargo-multiarch picks zig itself)",
                t.target
            )
        } else {
            format!(
                "`{}` needs {needs}: install zig with `pip install cargo-zigbuild`, then build with `--backend zig`",
                t.target
            )
        })
    }

    /// A link failure or a C build failure, which another linker or C toolchain may fix;
    /// not a Rust compile error, which no backend fixes.
    pub fn fixable_by_fallback(&self) -> bool {
        const SIGNS: &[&str] = &[
            "linking with",
            "rust-lld: error",
            "ld: error",
            "undefined reference",
            "could not find native static library",
            "failed to run custom build command",
            "failed to find tool",
            "error occurred in cc-rs",
            "toolexecerror",
        ];
        let text = self.error_lines.join("\n").to_lowercase();
        SIGNS.iter().any(|s| text.contains(s))
    }
}

/// A line of terminal output without its colour codes.
pub(super) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_that_another_backend_may_fix() {
        let f = |lines: &[&str]| Failure {
            backend: None,
            error_lines: lines.iter().map(|s| (*s).to_owned()).collect(),
            status: "exit status: 101".into(),
        };
        assert!(
            f(&["error: linking with `rust-lld` failed: exit status: 1"]).fixable_by_fallback()
        );
        assert!(
            f(&["error: failed to run custom build command for `cdep v0.1.0`"])
                .fixable_by_fallback()
        );
        assert!(!f(&["error: onlyamd does not support aarch64"]).fixable_by_fallback());
        assert!(!f(&["error[E0425]: cannot find value `x` in this scope"]).fixable_by_fallback());
        assert_eq!(f(&[]).first_line(), "exited with exit status: 101");
    }

    #[test]
    fn ansi_is_stripped() {
        assert_eq!(strip_ansi("\x1b[1m\x1b[31merror\x1b[0m: x"), "error: x");
    }
}
