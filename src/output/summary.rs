//! The GitHub Actions step summary: when `GITHUB_STEP_SUMMARY` names a file, the
//! commands in [`SUMMARIZED`] append one markdown section to it when they end — a
//! table of the binaries and archives they staged, wrote or checked (platform, binary,
//! file, size, sha256, backend, time), the images, and the problems — made from the
//! same events `--message-format json` prints. Nothing else is ever written there,
//! and a summary that cannot be written is a warning, never a failure.
//!
//! GitHub renders the summary as markdown with HTML, so every value the tool did not
//! write itself (platforms, names, paths, digests, references, messages, which come
//! from configuration, the command line or an out dir) is shown in a code span that
//! it cannot close ([`code`]): rendered verbatim, never as a link, an image or HTML.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Mutex, PoisonError};

use super::event::{Event, FileEvent, Severity};
use crate::layout::Kind;
use crate::output::Shell;

/// The commands that write a step summary.
pub const SUMMARIZED: &[&str] = &["build", "package", "image", "verify", "merge"];

/// The summary of the running command, when one is written.
static ACTIVE: Mutex<Option<(std::ffi::OsString, Collector)>> = Mutex::new(None);

/// Starts collecting when `GITHUB_STEP_SUMMARY` is set and `command` writes a summary.
pub(super) fn begin(command: &'static str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    if SUMMARIZED.contains(&command) {
        *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((path, Collector::new(command)));
    }
}

pub(super) fn observe(event: Event) {
    if let Some((_, c)) = ACTIVE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_mut()
    {
        c.observe(event);
    }
}

/// Appends the section; a failure to is a warning.
pub(super) fn finish(shell: Shell, success: bool, error: Option<&str>, elapsed_ms: u64) {
    let Some((path, c)) = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner).take() else {
        return;
    };
    let text = c.render(success, error, elapsed_ms);
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        shell.warn(format!(
            "could not append the step summary to `{}` (`GITHUB_STEP_SUMMARY`): {e}",
            path.to_string_lossy()
        ));
    }
}

/// What one command's section shows, gathered from its events.
#[derive(Debug, Clone, Default)]
pub struct Collector {
    command: &'static str,
    /// Binaries and archives, one row per path (a later event for the same path fills
    /// in what an earlier one did not know).
    files: Vec<FileEvent>,
    /// (reference, digest, platforms)
    images: Vec<(String, String, Vec<String>)>,
    pushed: Vec<String>,
    problems: Vec<(Severity, String)>,
}

impl Collector {
    pub fn new(command: &'static str) -> Self {
        Self {
            command,
            ..Self::default()
        }
    }

    pub fn observe(&mut self, event: Event) {
        match event {
            Event::Artifact(mut f) | Event::Packaged(mut f) | Event::Verified(mut f)
                if matches!(
                    f.kind,
                    Kind::Binary | Kind::Archive | Kind::Sbom | Kind::Provenance | Kind::Installer
                ) =>
            {
                match self.files.iter_mut().find(|r| r.path == f.path) {
                    Some(row) => {
                        f.backend = f.backend.or(row.backend.take());
                        f.elapsed_ms = f.elapsed_ms.or(row.elapsed_ms);
                        *row = f;
                    }
                    None => self.files.push(f),
                }
            }
            Event::Image {
                reference,
                digest,
                manifests,
                ..
            } => self.images.push((
                reference,
                digest,
                manifests.into_iter().filter_map(|m| m.platform).collect(),
            )),
            Event::Pushed {
                reference, digest, ..
            } => self.pushed.push(format!("{reference}@{digest}")),
            Event::Problem {
                severity, message, ..
            } => self.problems.push((severity, message)),
            _ => {}
        }
    }

    /// The markdown section.
    pub fn render(&self, success: bool, error: Option<&str>, elapsed_ms: u64) -> String {
        let mut s = format!(
            "### `cargo multiarch {}` {} in {}\n\n",
            self.command,
            if success {
                "✅ succeeded"
            } else {
                "❌ failed"
            },
            seconds(elapsed_ms)
        );
        if let Some(e) = error {
            let _ = writeln!(s, "> {}\n", code(e));
        }
        if !self.files.is_empty() {
            s.push_str("| Platform | Binary | File | Size | SHA-256 | Backend | Time |\n");
            s.push_str("| --- | --- | --- | ---: | --- | --- | ---: |\n");
            let mut rows: Vec<&FileEvent> = self.files.iter().collect();
            rows.sort_by(|a, b| {
                (a.kind, &a.platform, &a.path).cmp(&(b.kind, &b.platform, &b.path))
            });
            for f in rows {
                let binary = match &f.binary {
                    Some(b) => b.clone(),
                    None => f.binaries.join(", "),
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    f.platform.as_deref().map_or_else(|| "—".to_owned(), cell),
                    cell(&binary),
                    cell(&f.path),
                    crate::output::human_size(f.size),
                    cell(&f.sha256),
                    f.backend.as_deref().map_or_else(|| "—".to_owned(), cell),
                    f.elapsed_ms.map_or_else(|| "—".to_owned(), seconds)
                );
            }
            s.push('\n');
        }
        if !self.images.is_empty() {
            s.push_str("| Image | Digest | Platforms |\n| --- | --- | --- |\n");
            for (reference, digest, platforms) in &self.images {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} |",
                    cell(reference),
                    cell(digest),
                    cell(&platforms.join(", "))
                );
            }
            s.push('\n');
        }
        for p in &self.pushed {
            let _ = writeln!(s, "Pushed {}\n", code(p));
        }
        if !self.problems.is_empty() {
            for (severity, message) in &self.problems {
                let label = match severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                let _ = writeln!(s, "- **{label}**: {}", code(message));
            }
            s.push('\n');
        }
        s
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// `text` as a code span on one line that nothing in it can close: GitHub renders it
/// verbatim (no HTML, link, image, emphasis or autolink). Its fence is a backtick run
/// longer than any in `text` (a span ends only at a run of the same length), and a
/// space pads a text that starts or ends with a backtick or a space (one is stripped
/// from each side). Line breaks become spaces; an empty text is `—`.
fn code(text: &str) -> String {
    let line = text.replace(['\r', '\n'], " ");
    if line.is_empty() {
        return "—".to_owned();
    }
    let longest = line.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if line.starts_with(['`', ' ']) || line.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{line}{pad}{fence}")
}

/// [`code`] inside a table cell: `|` would end the cell even inside a code span, so it
/// is escaped (`\|`, which GitHub turns back into `|` inside the span).
fn cell(text: &str) -> String {
    code(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(path: &str, backend: Option<&str>, elapsed_ms: Option<u64>) -> FileEvent {
        FileEvent {
            out_dir: "/w/out".into(),
            kind: Kind::Binary,
            path: path.into(),
            sha256: "ab".repeat(32),
            size: 1536,
            platform: Some("linux/arm64".into()),
            target: Some("aarch64-unknown-linux-musl".into()),
            package: Some("alpha".into()),
            version: Some("0.3.0".into()),
            binary: Some("alpha".into()),
            binaries: Vec::new(),
            backend: backend.map(str::to_owned),
            elapsed_ms,
        }
    }

    #[test]
    fn the_table_has_a_row_per_file_with_what_the_events_said() {
        let mut c = Collector::new("package");
        c.observe(Event::Artifact(binary(
            "linux/arm64/bin/alpha",
            Some("zig"),
            Some(2500),
        )));
        // Seen again (verify after build): what was known stays.
        c.observe(Event::Verified(binary("linux/arm64/bin/alpha", None, None)));
        let mut archive = binary(
            "linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz",
            Some("zig"),
            Some(40),
        );
        archive.kind = Kind::Archive;
        archive.binary = None;
        archive.binaries = vec!["alpha".into(), "alpha-admin".into()];
        c.observe(Event::Packaged(archive));
        c.observe(Event::Problem {
            severity: Severity::Warning,
            message: "a | b\nc".into(),
            target: None,
        });
        let s = c.render(true, None, 12_345);
        let hash = "ab".repeat(32);
        assert_eq!(
            s,
            format!(
                "### `cargo multiarch package` ✅ succeeded in 12.3 s\n\n\
                 | Platform | Binary | File | Size | SHA-256 | Backend | Time |\n\
                 | --- | --- | --- | ---: | --- | --- | ---: |\n\
                 | `linux/arm64` | `alpha` | `linux/arm64/bin/alpha` | 1.5 KiB | `{hash}` | `zig` | 2.5 s |\n\
                 | `linux/arm64` | `alpha, alpha-admin` | `linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz` | 1.5 KiB | `{hash}` | `zig` | 0.0 s |\n\n\
                 - **warning**: `a | b c`\n\n"
            )
        );
    }

    #[test]
    fn a_failure_says_why_and_oci_blobs_are_not_rows() {
        let mut c = Collector::new("verify");
        let mut blob = binary("oci/blobs/sha256/00", None, None);
        blob.kind = Kind::OciIndex;
        c.observe(Event::Verified(blob));
        c.observe(Event::Image {
            out_dir: "/w/out".into(),
            reference: "alpha:0.3.0".into(),
            digest: format!("sha256:{}", "cd".repeat(32)),
            size: 10,
            manifests: vec![super::super::ImageManifest {
                platform: Some("linux/amd64".into()),
                digest: String::new(),
                size: 1,
            }],
        });
        let s = c.render(
            false,
            Some("`out` failed verification: 1 problem(s) above"),
            10,
        );
        assert!(
            s.starts_with(
                "### `cargo multiarch verify` ❌ failed in 0.0 s\n\n> `` `out` failed verification: 1 problem(s) above ``\n"
            ),
            "{s}"
        );
        assert!(!s.contains("oci/blobs"), "{s}");
        assert!(s.contains("| `alpha:0.3.0` | `sha256:cdcd"), "{s}");
        assert!(s.contains("| `linux/amd64` |\n"), "{s}");
    }

    /// The text of `markdown` outside its code spans (`CommonMark`: a span opens at a
    /// backtick run and closes at the next run of the same length).
    fn outside_code_spans(markdown: &str) -> String {
        let mut out = String::new();
        let mut rest = markdown;
        while let Some(start) = rest.find('`') {
            out.push_str(&rest[..start]);
            let run = rest[start..].len() - rest[start..].trim_start_matches('`').len();
            let after = &rest[start + run..];
            let fence = "`".repeat(run);
            // The closing run: `run` backticks neither preceded nor followed by one.
            let close = after
                .match_indices(&fence)
                .find(|(i, _)| !after[..*i].ends_with('`') && !after[i + run..].starts_with('`'));
            if let Some((i, _)) = close {
                rest = &after[i + run..];
            } else {
                out.push_str(&fence);
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn code_spans_cannot_be_closed_by_their_text() {
        for text in [
            "plain",
            "`",
            "a`b",
            "``x``",
            "` leading and trailing `",
            " spaced ",
            "x ```` y ` z",
            "<img src=x onerror=alert(1)>[a](https://evil.example)",
        ] {
            let span = code(text);
            assert_eq!(outside_code_spans(&span), "", "{text:?} → {span}");
            // What GitHub shows: the fence and one padding space on each side go.
            let run = span.len() - span.trim_start_matches('`').len();
            let inner = &span[run..span.len() - run];
            let shown = if inner.starts_with(' ') && inner.ends_with(' ') && inner.trim() != "" {
                &inner[1..inner.len() - 1]
            } else {
                inner
            };
            assert_eq!(shown, text, "{span}");
        }
        assert_eq!(code("a\r\nb"), "`a  b`");
        assert_eq!(code(""), "—");
        assert_eq!(cell("a|b`c"), "``a\\|b`c``");
    }

    #[test]
    fn values_from_outside_never_become_markup() {
        let evil =
            "<img src=https://evil.example/x.png>[click](https://evil.example) **b** `x` | y";
        let mut c = Collector::new("image");
        let mut f = binary(evil, Some(evil), None);
        f.platform = Some(evil.into());
        f.binary = Some(evil.into());
        f.sha256 = evil.into();
        c.observe(Event::Artifact(f));
        c.observe(Event::Image {
            out_dir: "/w/out".into(),
            reference: evil.into(),
            digest: evil.into(),
            size: 1,
            manifests: vec![super::super::ImageManifest {
                platform: Some(evil.into()),
                digest: String::new(),
                size: 1,
            }],
        });
        c.observe(Event::Pushed {
            reference: evil.into(),
            digest: evil.into(),
            uploaded: 1,
            skipped: 0,
        });
        c.observe(Event::Problem {
            severity: Severity::Error,
            message: evil.into(),
            target: None,
        });
        let s = c.render(false, Some(evil), 1);
        let bare = outside_code_spans(&s);
        for markup in ["<", "[", "](", "http", "**b**"] {
            assert!(
                !bare.contains(markup),
                "{markup:?} outside a code span:\n{bare}\n---\n{s}"
            );
        }
        // Each table row still has its 7 (or 3) cells: no `|` of the value split one.
        for row in s.lines().filter(|l| l.starts_with('|')) {
            let cells = row.replace("\\|", "").matches('|').count() - 1;
            assert!(cells == 7 || cells == 3, "{row}");
        }
    }
}
