//! The events of `--message-format json`, version 1: what each looks like on the wire
//! is fixed by `schema/event-v1.schema.json` (a test validates every line against it).
//! Adding a field or an event is a compatible change; renaming or removing one needs
//! `event/v2`.

use serde::Serialize;

use crate::layout::Kind;

/// The `schema` of every event line.
pub const SCHEMA: &str = "cargo-multiarch/event/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What `verify --run` did with one binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// It ran and exited 0.
    Ok,
    /// Its platform does not run here.
    Skipped,
    /// Its headers were checked; its platform is never run here (macOS).
    Checked,
    /// Nothing ran: checks failed first.
    NotRun,
}

/// One event; `reason` on the wire is the variant's name in kebab-case.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Event {
    /// The first event of every command.
    Started { command: String, version: String },
    /// `build` starts building a target (again, when a retry uses another backend).
    Building {
        target: String,
        platform: String,
        backend: String,
        /// The toolchain in words: `cargo + rust-lld`, `zig cc (zig 0.13.0)`.
        toolchain: String,
    },
    /// A binary staged in the out dir: built by this run, or (`package --no-build`,
    /// `image`) by an earlier `build`; or copied there by `merge`.
    Artifact(FileEvent),
    /// An archive written by `package` (or copied by `merge`).
    Packaged(FileEvent),
    /// `SHA256SUMS` and `manifest.json` written.
    Manifest {
        out_dir: String,
        path: String,
        sha256sums: String,
        artifacts: usize,
    },
    /// An artifact that passed every check of `verify`.
    Verified(FileEvent),
    /// A binary run by `verify --run` (or none, `not-run`).
    Ran {
        out_dir: String,
        outcome: RunOutcome,
        path: Option<String>,
        /// `native`, or the qemu that ran it.
        how: Option<String>,
        /// The first line it printed, or why it did not run.
        detail: String,
    },
    /// Something wrong: a `verify` check that failed, a target that failed to build
    /// (`error`); or a warning.
    Problem {
        severity: Severity,
        message: String,
        target: Option<String>,
    },
    /// One multi-platform image written into `out/oci`: its index digest (what
    /// `image` prints on stdout in human mode) and one manifest per platform.
    Image {
        out_dir: String,
        reference: String,
        digest: String,
        size: u64,
        manifests: Vec<ImageManifest>,
    },
    /// `out/image.tar` written (`image --archive`).
    ImageArchive(FileEvent),
    /// An image pushed to a registry.
    Pushed {
        reference: String,
        digest: String,
        uploaded: usize,
        skipped: usize,
    },
    /// `merge` joined its inputs into `out_dir`.
    Merged {
        out_dir: String,
        inputs: Vec<String>,
        platforms: Vec<String>,
        artifacts: usize,
    },
    /// One `doctor` check.
    Check {
        name: String,
        ok: bool,
        /// A missing required item stops a selected target from building.
        required: bool,
        detail: String,
        fix: Option<String>,
    },
    /// What a build with `--cache sccache` added to sccache's statistics: hits and
    /// misses of Rust and C/C++ compilations, the calls sccache ran without caching
    /// (by its reason: `crate-type` for binaries, `-` for linking and probes, …), and
    /// those whose compiler it did not recognise.
    Cache {
        tool: String,
        rust: CacheCounts,
        c: CacheCounts,
        not_cacheable: std::collections::BTreeMap<String, u64>,
        unsupported: u64,
    },
    /// The last event of every command; `error` is the message it failed with.
    Finished {
        command: String,
        success: bool,
        elapsed_ms: u64,
        error: Option<String>,
    },
}

/// A file in an out dir: a binary, an archive, an image archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEvent {
    /// The out dir, canonical.
    pub out_dir: String,
    pub kind: Kind,
    /// Relative to the out dir, as in `SHA256SUMS` and `manifest.json`.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub platform: Option<String>,
    pub target: Option<String>,
    pub package: Option<String>,
    pub version: Option<String>,
    /// A binary's name.
    pub binary: Option<String>,
    /// The binaries in an archive (empty for anything else).
    pub binaries: Vec<String>,
    /// What built the binary (or the binaries in the archive), when known.
    pub backend: Option<String>,
    /// For a binary built by this run: from the start of the cargo call that built it
    /// until cargo reported it. For an archive: the time to write it.
    pub elapsed_ms: Option<u64>,
}

/// Hits and misses of one language in an [`Event::Cache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
}

impl CacheCounts {
    /// `hits / (hits + misses)` in percent, or `None` when nothing was cacheable.
    pub fn rate(self) -> Option<f64> {
        let total = self.hits + self.misses;
        #[allow(clippy::cast_precision_loss)]
        (total > 0).then(|| self.hits as f64 * 100.0 / total as f64)
    }
}

/// One platform of an [`Event::Image`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageManifest {
    pub platform: Option<String>,
    pub digest: String,
    pub size: u64,
}

/// The wire form: `{"schema":"cargo-multiarch/event/v1","reason":…,…}` and a newline.
pub(super) fn line(event: &Event) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        schema: &'static str,
        #[serde(flatten)]
        event: &'a Event,
    }
    let mut s = serde_json::to_string(&Line {
        schema: SCHEMA,
        event,
    })
    .expect("events serialise");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_object_with_schema_and_reason_first() {
        let l = line(&Event::Problem {
            severity: Severity::Warning,
            message: "a\nb".into(),
            target: None,
        });
        assert_eq!(
            l,
            "{\"schema\":\"cargo-multiarch/event/v1\",\"reason\":\"problem\",\"severity\":\"warning\",\"message\":\"a\\nb\",\"target\":null}\n"
        );
        let l = line(&Event::ImageArchive(FileEvent {
            out_dir: "/o".into(),
            kind: Kind::ImageArchive,
            path: "image.tar".into(),
            sha256: "0".repeat(64),
            size: 1,
            platform: None,
            target: None,
            package: None,
            version: None,
            binary: None,
            binaries: Vec::new(),
            backend: None,
            elapsed_ms: None,
        }));
        assert!(
            l.starts_with(
                "{\"schema\":\"cargo-multiarch/event/v1\",\"reason\":\"image-archive\",\"out_dir\":\"/o\",\"kind\":\"image-archive\","
            ),
            "{l}"
        );
        assert_eq!(l.matches('\n').count(), 1);
    }
}
