//! Progress bars, in cargo's style (`    Building [=====>   ] 12/40 …`), drawn with
//! indicatif on stderr only when it is a terminal and not `-q` ([`Shell::progress`]);
//! every constructor returns `None` (or a no-op) otherwise, so a run in CI or a pipe
//! constructs nothing of indicatif.

use std::io::Write as _;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::output::Shell;

/// Several bars drawn together (one per target of a build).
pub struct Bars {
    multi: MultiProgress,
    color: bool,
}

impl Bars {
    /// The bars of one run, or None when stderr is not a terminal or `-q` was given.
    pub fn new(shell: &Shell) -> Option<Self> {
        shell.progress.then(|| Self {
            multi: MultiProgress::new(),
            color: shell.color,
        })
    }

    /// A bar counting units: `{verb} [====>   ] pos/len {message}`.
    pub fn units(&self, verb: &str, len: u64) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(style(self.color, "{pos}/{len}"));
        bar.set_prefix(verb.to_owned());
        bar
    }

    /// Where lines go while the bars are drawn: above them.
    pub fn printer(&self) -> Printer {
        Printer {
            multi: Some(self.multi.clone()),
        }
    }

    /// Draws every bar's last state once, then removes them all from the terminal.
    pub fn clear(&self, bars: &[ProgressBar]) {
        for b in bars {
            b.finish();
        }
        let _ = self.multi.clear();
    }
}

/// Writes lines to stderr, above the bars when there are any.
#[derive(Clone, Default)]
pub struct Printer {
    multi: Option<MultiProgress>,
}

impl Printer {
    pub fn line(&self, bytes: &[u8]) {
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(bytes);
            let _ = err.write_all(b"\n");
        };
        match &self.multi {
            Some(m) => m.suspend(write),
            None => write(),
        }
    }
}

/// A bar counting bytes (`{verb} [====>  ] 1.2 MiB/3.4 MiB {message}`), or nothing.
pub struct ByteBar(Option<ProgressBar>);

impl ByteBar {
    pub fn new(shell: &Shell, verb: &str, total: u64, message: &str) -> Self {
        Self(shell.progress.then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(style(shell.color, "{bytes}/{total_bytes}"));
            bar.set_prefix(verb.to_owned());
            bar.set_message(message.to_owned());
            bar
        }))
    }

    /// No bar.
    pub fn none() -> Self {
        Self(None)
    }

    pub fn position(&self) -> u64 {
        self.0.as_ref().map_or(0, ProgressBar::position)
    }

    pub fn set_position(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.set_position(n);
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    /// `read`, counting what is read from it on the bar.
    pub fn reader<R: std::io::Read>(&self, read: R) -> Counted<R> {
        Counted {
            read,
            bar: self.0.clone(),
        }
    }

    pub fn clear(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Drop for ByteBar {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A reader whose bytes move a [`ByteBar`].
pub struct Counted<R> {
    read: R,
    bar: Option<ProgressBar>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.read.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

fn style(color: bool, counts: &str) -> ProgressStyle {
    let prefix = if color {
        "{prefix:>12.cyan.bold}"
    } else {
        "{prefix:>12}"
    };
    ProgressStyle::with_template(&format!("{prefix} [{{bar:27}}] {counts} {{wide_msg}}"))
        .expect("a valid template")
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_the_terminal_nothing_is_drawn_and_bytes_still_flow() {
        let shell = Shell {
            color: false,
            quiet: false,
            verbose: 0,
            color_choice: crate::output::Color::Never,
            json: false,
            progress: false,
        };
        assert!(Bars::new(&shell).is_none());
        let bar = ByteBar::new(&shell, "Pushing", 3, "x");
        let mut read = bar.reader(&b"abc"[..]);
        let mut out = Vec::new();
        std::io::copy(&mut read, &mut out).unwrap();
        assert_eq!(out, b"abc");
        assert_eq!(bar.position(), 0);
    }

    #[test]
    fn a_counted_reader_moves_its_bar() {
        let bar = ByteBar(Some(ProgressBar::hidden()));
        bar.0.as_ref().unwrap().set_length(5);
        let mut out = Vec::new();
        std::io::copy(&mut bar.reader(&b"hello"[..]), &mut out).unwrap();
        assert_eq!(bar.position(), 5);
        bar.set_position(2);
        bar.inc(1);
        assert_eq!(bar.position(), 3);
    }
}
