//! Why a backend call failed, read from the error reports cargo printed, and whether
//! another backend can fix it: only a missing or failing linker or C compiler, never a
//! Rust compile error or a library the machine lacks for the target.

use super::{Backend, Probes, TargetPlan};
use crate::workspace::syslib::{self, SystemLib};

/// Reports kept of one call, and lines of one report: enough to classify and hint.
const MAX_REPORTS: usize = 64;
const MAX_LINES: usize = 400;

/// One error report as cargo printed it: its `error…` line and the lines under it
/// (without colour codes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Report {
    lines: Vec<String>,
}

/// What one report says went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cause {
    /// The linker is missing or failed (not for want of a library).
    Linker,
    /// A build script's C compiler (cc-rs, cmake) is missing or failed.
    CCompiler { package: String },
    /// A library is not there for the target: `-l<name>` not found, or a build script
    /// that looked for one (pkg-config) and gave up.
    MissingLibrary {
        package: Option<String>,
        lib: Option<String>,
    },
    /// Another build script failure.
    BuildScript,
    /// rustc's own error (a compile error), or anything else.
    Rust,
    /// cargo's `could not compile` and rustc's `aborting due to`: nothing new.
    Trailer,
}

/// The libraries every C toolchain brings itself: one missing is the toolchain's fault.
const RUNTIME_LIBS: &[&str] = &[
    "c", "m", "gcc", "gcc_s", "gcc_eh", "unwind", "pthread", "dl", "rt", "util", "stdc++", "c++",
];

/// What cc-rs and cmake print when the C compiler is missing or fails.
const C_TOOL_SIGNS: &[&str] = &[
    "failed to find tool",
    "error occurred in cc-rs",
    "toolexecerror",
    "toolnotfound",
    "error occurred: command",
    "no cmake_c_compiler could be found",
    "no cmake_cxx_compiler could be found",
    "is not able to compile a simple test program",
];

impl Report {
    fn head(&self) -> &str {
        self.lines.first().map_or("", String::as_str)
    }

    fn text(&self) -> String {
        self.lines.join("\n").to_lowercase()
    }

    fn cause(&self) -> Cause {
        let head = self.head();
        let text = self.text();
        if head.starts_with("error: could not compile")
            || head.starts_with("error: aborting due to")
        {
            return Cause::Trailer;
        }
        let script = head
            .strip_prefix("error: failed to run custom build command for `")
            .and_then(|rest| rest.split([' ', '`']).next())
            .map(str::to_owned);
        if let Some(lib) = missing_lib(&text) {
            return Cause::MissingLibrary {
                package: script,
                lib: Some(lib),
            };
        }
        if head.starts_with("error: linking with")
            || head.starts_with("error: linker `")
            || text.contains("rust-lld: error")
        {
            return Cause::Linker;
        }
        let Some(package) = script else {
            return Cause::Rust;
        };
        if C_TOOL_SIGNS.iter().any(|s| text.contains(s)) {
            Cause::CCompiler { package }
        } else if text.contains("pkg-config") || syslib::of_package(&package).is_some() {
            Cause::MissingLibrary {
                package: Some(package),
                lib: None,
            }
        } else {
            Cause::BuildScript
        }
    }

    /// The triples of `call` this report names: a build script's `TARGET`, else every
    /// one it mentions (in a path under the target dir, a `CC_<triple>` variable).
    fn names<'t>(&self, call: &[&'t str]) -> Vec<&'t str> {
        let text = self.lines.join("\n");
        if let Some(i) = text.find("TARGET = Some(") {
            let rest = &text[i + "TARGET = Some(".len()..];
            let triple = rest
                .trim_start_matches('"')
                .split(['"', ')'])
                .next()
                .unwrap_or("");
            if let Some(t) = call.iter().find(|t| **t == triple) {
                return vec![*t];
            }
        }
        call.iter()
            .copied()
            .filter(|t| text.contains(t) || text.contains(&t.replace(['-', '.'], "_")))
            .collect()
    }
}

/// `-l<name>` a linker, or the library rustc could not find, when it is not the C
/// runtime's own.
fn missing_lib(text: &str) -> Option<String> {
    for sign in [
        "cannot find -l",
        "unable to find library -l",
        "could not find native static library `",
    ] {
        for (i, _) in text.match_indices(sign) {
            let name: String = text[i + sign.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'))
                .collect();
            if !name.is_empty() && !RUNTIME_LIBS.contains(&name.as_str()) {
                return Some(name);
            }
        }
    }
    None
}

/// Splits what cargo printed on stderr into error reports, as it comes.
#[derive(Debug, Default)]
pub(super) struct Collector {
    reports: Vec<Report>,
    open: bool,
}

impl Collector {
    /// One line of stderr, without colour codes: an `error…` line opens a report, a
    /// `warning…` line closes it, any other line belongs to the open one.
    pub(super) fn line(&mut self, plain: &str) {
        if plain.starts_with("error") {
            self.open = self.reports.len() < MAX_REPORTS;
            if self.open {
                self.reports.push(Report {
                    lines: vec![plain.to_owned()],
                });
            }
        } else if plain.starts_with("warning") {
            self.open = false;
        } else if self.open
            && let Some(r) = self.reports.last_mut()
            && r.lines.len() < MAX_LINES
        {
            r.lines.push(plain.to_owned());
        }
    }

    pub(super) fn finish(self) -> Vec<Report> {
        self.reports
    }
}

/// Why a build failed for one target, from what the backend printed.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub backend: Backend,
    /// The reports about this target (those naming it or no target of the call).
    pub reports: Vec<Report>,
    /// No report is about this target: `reports` are the other targets' (which say
    /// more than none, but no fallback is chosen on them).
    borrowed: bool,
    pub status: String,
}

impl Failure {
    /// The failure of `triples` (one target's) in a call for `call`: the reports that
    /// name them, and those that name no target of the call (a shared crate's).
    pub(super) fn of(
        backend: Backend,
        reports: &[Report],
        status: &str,
        triples: &[&str],
        call: &[&str],
    ) -> Self {
        let mine: Vec<Report> = reports
            .iter()
            .filter(|r| {
                let named = r.names(call);
                named.is_empty() || named.iter().any(|t| triples.contains(t))
            })
            .cloned()
            .collect();
        Self {
            backend,
            borrowed: mine.is_empty() && !reports.is_empty(),
            reports: if mine.is_empty() {
                reports.to_vec()
            } else {
                mine
            },
            status: status.to_owned(),
        }
    }

    fn causes(&self) -> Vec<Cause> {
        self.reports
            .iter()
            .map(Report::cause)
            .filter(|c| *c != Cause::Trailer)
            .collect()
    }

    pub(super) fn first_line(&self) -> String {
        let heads = || self.reports.iter().map(Report::head);
        // cargo's own "could not compile" trailer says less than the error before it.
        heads()
            .find(|h| !h.starts_with("error: could not compile"))
            .or_else(|| heads().next())
            .map_or_else(|| format!("exited with {}", self.status), str::to_owned)
    }

    /// A missing or failing linker or C compiler, which another backend's may fix; not
    /// a Rust compile error, which no backend fixes, nor a library the target lacks
    /// (`t`'s planned system libraries included), which none brings.
    pub(super) fn fixable_by_fallback(&self, t: &TargetPlan) -> bool {
        let causes = self.causes();
        !self.borrowed
            && !causes.is_empty()
            && causes.iter().all(|c| match c {
                Cause::Linker => true,
                Cause::CCompiler { package } => {
                    !t.system_libs.iter().any(|s| &s.package == package)
                }
                _ => false,
            })
    }

    /// The system library behind the failure, if one is: a known `-sys` crate's build
    /// script failed, or its `-l` name was not found.
    pub(super) fn system_lib(&self, t: &TargetPlan) -> Option<SystemLib> {
        self.causes().into_iter().find_map(|c| match c {
            Cause::MissingLibrary { package, lib } => package
                .as_deref()
                .and_then(syslib::of_package)
                .or_else(|| lib.as_deref().and_then(syslib::of_link_name)),
            Cause::CCompiler { package } => {
                t.system_libs.iter().find(|s| s.package == package).cloned()
            }
            _ => None,
        })
    }

    /// What to do about it when zig would help (a missing system library is
    /// [`Failure::system_lib`]'s).
    pub(super) fn hint(&self, t: &TargetPlan, probes: &Probes) -> Option<String> {
        if self.system_lib(t).is_some()
            || !self.fixable_by_fallback(t)
            || matches!(self.backend, Backend::Zig | Backend::Zigbuild)
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
mod tests;
