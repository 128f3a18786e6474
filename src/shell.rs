//! Status output in cargo's style on stderr: a right-aligned, coloured verb and a
//! message (`   Compiling …`), honouring `--color`, `-q` and `-v`.

use std::io::IsTerminal as _;

use crate::cli::{Color, GlobalArgs};

#[derive(Debug, Clone, Copy)]
pub struct Shell {
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// What cargo should get as `--color`.
    pub color_choice: Color,
}

#[derive(Debug, Clone, Copy)]
pub enum Style {
    Ok,
    Warn,
    Error,
    Note,
}

impl Shell {
    pub fn new(g: &GlobalArgs) -> Self {
        let color_choice =
            g.color
                .unwrap_or_else(|| match std::env::var("CARGO_TERM_COLOR").as_deref() {
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
            quiet: g.quiet,
            verbose: g.verbose,
            color_choice,
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

    pub fn warn(&self, msg: impl AsRef<str>) {
        self.print_prefixed(Style::Warn, "warning", msg.as_ref());
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
