//! Status output in cargo's style on stderr: a right-aligned, coloured verb and a
//! message (`   Compiling …`), honouring `--color`, `-q` and `-v`; and the way to the
//! machine-readable output of [`crate::output`]: [`Shell::event`].

use std::io::IsTerminal as _;

use super::{Event, Severity};

/// `--color`: when to colour the status lines (and what cargo gets as `--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    pub fn as_str(self) -> &'static str {
        match self {
            Color::Auto => "auto",
            Color::Always => "always",
            Color::Never => "never",
        }
    }
}

/// `--message-format`: human status lines only, or JSON events on stdout as well.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Shell {
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// What cargo should get as `--color`.
    pub color_choice: Color,
    /// `--message-format json`: events as JSON lines on stdout.
    pub json: bool,
    /// stderr is a terminal and not `-q`: progress bars are drawn.
    pub progress: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Style {
    Ok,
    Warn,
    Error,
    Note,
}

impl Shell {
    /// The shell of `--color`, `-q` and `-v` (given as often as `verbose` says).
    pub fn new(color: Option<Color>, quiet: bool, verbose: u8) -> Self {
        let color_choice =
            color.unwrap_or_else(|| match std::env::var("CARGO_TERM_COLOR").as_deref() {
                Ok("always") => Color::Always,
                Ok("never") => Color::Never,
                _ => Color::Auto,
            });
        let color = match color_choice {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Self {
            color,
            quiet,
            verbose,
            color_choice,
            json: false,
            progress: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// The shell of a command with `--message-format`.
    #[must_use]
    pub fn with_format(self, format: Format) -> Self {
        Self {
            json: format == Format::Json,
            ..self
        }
    }

    /// Reports an event: a JSON line on stdout with `--message-format json`, and a row
    /// of the GitHub step summary when one is written (see [`crate::output`]).
    pub fn event(&self, event: Event) {
        super::emit(*self, event);
    }

    /// A line of a command's result (a `verify` problem, a `doctor` check, an image
    /// digest): on stdout, or on stderr with `--message-format json`, whose events
    /// carry the same facts on stdout.
    pub fn result(&self, line: impl AsRef<str>) {
        if self.json {
            if !self.quiet {
                emit(&format!("{}\n", line.as_ref()));
            }
        } else {
            println!("{}", line.as_ref());
        }
    }

    /// `   Verb message` in green, unless quiet.
    pub fn status(&self, verb: &str, msg: impl AsRef<str>) {
        if !self.quiet {
            self.print(Style::Ok, verb, msg.as_ref());
        }
    }

    /// Printed only with `-v`.
    pub fn verbose(&self, verb: &str, msg: impl AsRef<str>) {
        if self.verbose > 0 && !self.quiet {
            self.print(Style::Note, verb, msg.as_ref());
        }
    }

    /// A warning on stderr, and a `problem` event of severity `warning`.
    pub fn warn(&self, msg: impl AsRef<str>) {
        self.print_prefixed(Style::Warn, "warning", msg.as_ref());
        self.event(Event::Problem {
            severity: Severity::Warning,
            message: msg.as_ref().to_owned(),
            target: None,
        });
    }

    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            self.print_prefixed(Style::Note, "note", msg.as_ref());
        }
    }

    /// A `help:` line, as rustc prints them: what to do about the error that follows.
    pub fn help(&self, msg: impl AsRef<str>) {
        self.print_prefixed(Style::Note, "help", msg.as_ref());
    }

    pub fn error(&self, msg: impl AsRef<str>) {
        self.print_prefixed(Style::Error, "error", msg.as_ref());
    }

    fn paint(self, style: Style, s: &str) -> String {
        if !self.color {
            return s.to_owned();
        }
        let code = match style {
            Style::Ok => "1;32",
            Style::Warn => "1;33",
            Style::Error => "1;31",
            Style::Note => "1;36",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }

    fn print(self, style: Style, verb: &str, msg: &str) {
        emit(&format!(
            "{} {msg}\n",
            self.paint(style, &format!("{verb:>12}"))
        ));
    }

    fn print_prefixed(self, style: Style, prefix: &str, msg: &str) {
        emit(&format!("{}: {msg}\n", self.paint(style, prefix)));
    }
}

/// Writes to stderr, ignoring errors: a closed stderr must not panic the tool.
#[cfg(not(test))]
fn emit(line: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// In unit tests, through `eprint!`, which the test harness captures: the property
/// tests run `recover` on hundreds of broken journals, each warning about it.
#[cfg(test)]
fn emit(line: &str) {
    eprint!("{line}");
}
