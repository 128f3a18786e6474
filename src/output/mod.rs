//! What a command reports beside the human status lines of [`Shell`]:
//!
//! - **events** ([`Event`]): with `--message-format json`, one JSON object per line on
//!   stdout (schema `cargo-multiarch/event/v1`, `schema/event-v1.schema.json`), from
//!   `started` to `finished`; human lines stay on stderr. A command reports one with
//!   one call, [`Shell::event`].
//! - **the GitHub step summary** ([`summary`]): when `GITHUB_STEP_SUMMARY` names a
//!   file, `build`, `package`, `image`, `verify` and `merge` append a markdown table
//!   made from the same events.
//! - **progress bars** ([`bars`]): drawn with indicatif when stderr is a terminal and
//!   not `-q`; nothing of indicatif exists otherwise.

pub mod bars;
mod event;
mod exit;
mod shell;
mod summary;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

pub use event::{CacheCounts, Event, FileEvent, ImageManifest, RunOutcome, SCHEMA, Severity};
pub use exit::{Exit, Failed};
pub use shell::{Color, Format, Shell, Style};
pub use summary::{Collector, SUMMARIZED};

/// Runs one command between its `started` and `finished` events (`name` None: a
/// command that reports none), and appends the step summary before `finished`.
pub fn command(
    shell: &Shell,
    name: Option<&'static str>,
    run: impl FnOnce() -> Result<ExitCode>,
) -> Result<ExitCode> {
    let Some(name) = name else { return run() };
    let start = Instant::now();
    summary::begin(name);
    shell.event(Event::Started {
        command: name.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    });
    let result = run();
    let (success, error) = match &result {
        Ok(code) => (*code == ExitCode::SUCCESS, None),
        Err(e) => (false, Some(format!("{e:#}"))),
    };
    let elapsed_ms = millis(start.elapsed());
    summary::finish(*shell, success, error.as_deref(), elapsed_ms);
    shell.event(Event::Finished {
        command: name.to_owned(),
        success,
        elapsed_ms,
        error,
    });
    result
}

/// What [`Shell::event`] does: the JSON line (with `--message-format json`) and the
/// step summary's row (when one is being written).
pub(crate) fn emit(shell: Shell, event: Event) {
    if shell.json {
        let line = event::line(&event);
        // A closed stdout must not panic the tool; the exit status still tells.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
    summary::observe(event);
}

/// Whole milliseconds, saturating.
pub fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub fn human_size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 * 1024 * 1024 + 1024 * 512), "3.5 MiB");
    }
}
