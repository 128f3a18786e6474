//! One small helper for running external programs.
//!
//! A [`Process`] remembers its program, arguments, environment changes and working
//! directory, and its `Display` prints them as a shell line, so every spawn or exit
//! error says exactly what ran (the idea of cargo-hack's `ProcessBuilder`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    cwd: Option<Utf8PathBuf>,
}

impl Process {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            cwd: None,
        }
    }

    /// `$CARGO` when set (as it is under `cargo multiarch`), else `cargo`.
    pub fn cargo() -> Self {
        Self::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
    }

    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    #[must_use]
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    #[must_use]
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().to_owned(), None));
        self
    }

    #[must_use]
    pub fn cwd(mut self, dir: impl Into<Utf8PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    pub fn program(&self) -> &OsStr {
        &self.program
    }

    pub fn get_args(&self) -> impl Iterator<Item = &OsStr> {
        self.args.iter().map(OsString::as_os_str)
    }

    pub fn get_envs(&self) -> impl Iterator<Item = (&OsStr, Option<&OsStr>)> {
        self.envs.iter().map(|(k, v)| (k.as_os_str(), v.as_deref()))
    }

    pub fn get_cwd(&self) -> Option<&Utf8Path> {
        self.cwd.as_deref()
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for (k, v) in &self.envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Spawns with the given stdout; stderr and stdin are inherited.
    pub fn spawn_with_stdout(&self, stdout: Stdio) -> Result<Child> {
        self.command()
            .stdout(stdout)
            .spawn()
            .with_context(|| format!("could not run `{self}`"))
    }

    /// Runs to completion with inherited stdio; fails on a non-zero exit.
    pub fn run(&self) -> Result<()> {
        let status = self
            .command()
            .status()
            .with_context(|| format!("could not run `{self}`"))?;
        self.check(status)
    }

    /// Runs to completion capturing stdout and stderr; fails on a non-zero exit with
    /// the command line and what it printed on stderr.
    pub fn output(&self) -> Result<Output> {
        let out = self
            .command()
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("could not run `{self}`"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            bail!("`{self}` failed ({}):\n{}", out.status, stderr.trim_end());
        }
        Ok(out)
    }

    /// Fails with the command line when `status` is not success.
    pub fn check(&self, status: ExitStatus) -> Result<()> {
        if status.success() {
            Ok(())
        } else {
            bail!("`{self}` failed ({status})")
        }
    }

    /// Runs capturing output, killing the child after `limit`. Used by probes, which
    /// must be cheap and never hang. `Ok(None)` when it could not start or timed out.
    pub fn probe(&self, limit: Duration) -> Option<Output> {
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        // Drain the pipes on threads so a chatty child cannot block on a full pipe.
        let mut out_pipe = child.stdout.take()?;
        let mut err_pipe = child.stderr.take()?;
        let out_thread = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out_pipe.read_to_end(&mut buf);
            buf
        });
        let err_thread = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err_pipe.read_to_end(&mut buf);
            buf
        });
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() < limit => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        };
        let stdout = out_thread.join().unwrap_or_default();
        let stderr = err_thread.join().unwrap_or_default();
        Some(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Like [`Process::probe`], but only the trimmed stdout of a successful run.
    pub fn probe_stdout(&self, limit: Duration) -> Option<String> {
        let out = self.probe(limit)?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// Quotes a word for a POSIX shell only when it needs it.
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(&b));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = Vec::new();
        if let Some(dir) = &self.cwd {
            words.push(format!("cd {} &&", shell_quote(dir.as_str())));
        }
        for (k, v) in &self.envs {
            let k = k.to_string_lossy();
            match v {
                Some(v) => words.push(format!("{k}={}", shell_quote(&v.to_string_lossy()))),
                None => words.push(format!("env -u {k}")),
            }
        }
        words.push(shell_quote(&self.program.to_string_lossy()));
        words.extend(self.args.iter().map(|a| shell_quote(&a.to_string_lossy())));
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_a_shell_line() {
        let p = Process::new("cargo")
            .args(["build", "--config", r#"target.x.linker="rust-lld""#])
            .env("CARGO_ZIGBUILD_ZIG_PATH", "/opt/zig dir/zig")
            .cwd("/w");
        assert_eq!(
            p.to_string(),
            r#"cd /w && CARGO_ZIGBUILD_ZIG_PATH='/opt/zig dir/zig' cargo build --config 'target.x.linker="rust-lld"'"#
        );
    }

    #[test]
    fn quote_handles_single_quotes_and_empty() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(
            shell_quote("--target=aarch64-unknown-linux-musl"),
            "--target=aarch64-unknown-linux-musl"
        );
    }

    #[test]
    fn probe_times_out_instead_of_hanging() {
        let start = Instant::now();
        assert!(
            Process::new("sleep")
                .arg("5")
                .probe(Duration::from_millis(100))
                .is_none()
        );
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn probe_missing_program_is_none_and_output_names_the_command() {
        assert!(
            Process::new("no-such-program-xyz")
                .probe(Duration::from_secs(1))
                .is_none()
        );
        let err = Process::new("sh")
            .args(["-c", "echo boom >&2; exit 3"])
            .output()
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("`sh -c 'echo boom >&2; exit 3'` failed"),
            "{msg}"
        );
        assert!(msg.contains("boom"), "{msg}");
    }
}
