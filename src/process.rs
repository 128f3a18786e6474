//! One small helper for running external programs.
//!
//! A [`Process`] remembers its program, arguments, environment changes and working
//! directory, and its `Display` prints them as a shell line, so every spawn or exit
//! error says exactly what ran (the idea of cargo-hack's `ProcessBuilder`).
//!
//! Every child starts through [`spawn`], in a process group of its own that is
//! registered while it runs, so that a signal stops everything the run started
//! ([`group`]).

mod group;

pub use group::{Child, GRACE, settle, spawn, stop_on_signals};

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, kill_process_group, waitid};

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

    /// Spawns with the given stdout; stderr is inherited, stdin closed (the child is in
    /// a process group of its own, where reading the terminal would stop it).
    pub fn spawn_with_stdout(&self, stdout: Stdio) -> Result<Child> {
        spawn(self.command().stdin(Stdio::null()).stdout(stdout))
            .with_context(|| format!("could not run `{self}`"))
    }

    /// Spawns in `dir` with stdin closed and stdout and stderr piped, for a caller
    /// that reads both as they come and adds its own context to an error.
    pub fn spawn_piped(&self, dir: &Utf8Path) -> std::io::Result<Child> {
        spawn(
            self.command()
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
    }

    /// Runs to completion with inherited stdout and stderr, stdin closed (as
    /// [`Process::spawn_with_stdout`]); fails on a non-zero exit.
    pub fn run(&self) -> Result<()> {
        let status = spawn(self.command().stdin(Stdio::null()))
            .and_then(|mut c| c.wait())
            .with_context(|| format!("could not run `{self}`"))?;
        self.check(status)
    }

    /// Runs to completion with stdin closed, capturing stdout and stderr, whatever its
    /// exit status.
    pub fn capture(&self) -> Result<Output> {
        spawn(
            self.command()
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .and_then(Child::wait_with_output)
        .with_context(|| format!("could not run `{self}`"))
    }

    /// Runs to completion capturing stdout and stderr; fails on a non-zero exit with
    /// the command line and what it printed on stderr.
    pub fn output(&self) -> Result<Output> {
        let out = self.capture()?;
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

    /// Runs capturing output, killing it after `limit`. Used by probes, which must be
    /// cheap and never hang. `None` when it could not start or timed out. The run is
    /// [`Process::run_limited`]'s: nothing it starts outlives it.
    pub fn probe(&self, limit: Duration) -> Option<Output> {
        let run = self.run_limited(limit).ok()?;
        match run.ended {
            Ended::Exited(status) => Some(Output {
                status,
                stdout: run.stdout,
                stderr: run.stderr,
            }),
            Ended::TimedOut => None,
        }
    }

    /// Runs with stdin closed, in a process group of its own, keeping at most
    /// [`CAPTURE_LIMIT`] bytes of stdout and of stderr (the rest is read and dropped,
    /// so a chatty child never blocks on a full pipe).
    ///
    /// When the child exits, or at `limit`, the whole group is killed: nothing it
    /// started (a daemon, a `sleep &`) outlives the run. The pipes are then read for at
    /// most [`PIPE_GRACE`] more, never until they close, so a descendant that left the
    /// group still holding them cannot make this wait. Fails only when the program
    /// cannot be started.
    pub fn run_limited(&self, limit: Duration) -> Result<Limited> {
        let mut child = spawn(
            self.command()
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .with_context(|| format!("could not run `{self}`"))?;
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = child.stdout.take() {
            drain(Stream::Out, pipe, tx.clone());
        }
        if let Some(pipe) = child.stderr.take() {
            drain(Stream::Err, pipe, tx);
        }
        // The group's id is the child's pid. The child is reaped only after the group is
        // killed, so the id cannot have been reused by then.
        let group = Pid::from_child(&child);
        let deadline = Instant::now() + limit;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut open = 2;
        let mut ended: Option<(Ended, Instant)> = None;
        loop {
            if ended.is_none() {
                let exited = match waitid(
                    WaitId::Pid(group),
                    WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT,
                ) {
                    Ok(status) => status.is_some(),
                    Err(_) => child.try_wait().ok().flatten().is_some(),
                };
                if exited || Instant::now() >= deadline {
                    // ESRCH: the group is already gone, which is the goal.
                    let _ = kill_process_group(group, Signal::KILL);
                    let status = child
                        .wait()
                        .with_context(|| format!("could not wait for `{self}`"))?;
                    let how = if exited {
                        Ended::Exited(status)
                    } else {
                        Ended::TimedOut
                    };
                    ended = Some((how, Instant::now() + PIPE_GRACE));
                }
            }
            if let Some((how, grace)) = ended
                && (open == 0 || Instant::now() >= grace)
            {
                return Ok(Limited {
                    ended: how,
                    stdout,
                    stderr,
                });
            }
            match rx.recv_timeout(POLL) {
                Ok((stream, Some(chunk))) => {
                    let buf = match stream {
                        Stream::Out => &mut stdout,
                        Stream::Err => &mut stderr,
                    };
                    let room = CAPTURE_LIMIT.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok((_, None)) => open -= 1,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => open = 0,
            }
        }
    }

    /// Like [`Process::probe`], but only the trimmed stdout of a successful run.
    pub fn probe_stdout(&self, limit: Duration) -> Option<String> {
        let out = self.probe(limit)?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// At most this much of each of stdout and stderr is kept by [`Process::run_limited`].
pub const CAPTURE_LIMIT: usize = 64 * 1024;
/// How long [`Process::run_limited`] still reads the pipes once the group is killed.
pub const PIPE_GRACE: Duration = Duration::from_millis(200);
/// How often [`Process::run_limited`] checks whether the child has exited.
const POLL: Duration = Duration::from_millis(5);

/// How a [`Process::run_limited`] run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The child exited by itself (its group was killed after that).
    Exited(ExitStatus),
    /// The limit passed; the child and its group were killed.
    TimedOut,
}

/// What a [`Process::run_limited`] run printed (each at most [`CAPTURE_LIMIT`] bytes)
/// and how it ended.
#[derive(Debug, Clone)]
pub struct Limited {
    pub ended: Ended,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Reads `pipe` on a thread of its own, sending each chunk and then `None` at its end.
/// The thread ends at the pipe's end or when nobody listens any more.
fn drain(
    stream: Stream,
    mut pipe: impl Read + Send + 'static,
    tx: Sender<(Stream, Option<Vec<u8>>)>,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0; 16 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.send((stream, Some(buf[..n].to_vec()))).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send((stream, None));
    });
}

/// `name` on `PATH`, when it is there (and its path is UTF-8).
pub fn which(name: &str) -> Option<Utf8PathBuf> {
    which::which(name)
        .ok()
        .and_then(|p| Utf8PathBuf::try_from(p).ok())
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

    /// Whether `pid` is gone: no such process, or a zombie nobody has reaped yet.
    fn dead(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit(')')
                .next()
                .unwrap()
                .trim_start()
                .starts_with('Z'),
        }
    }

    /// Waits up to a second for `pid` to be [`dead`].
    fn dies(pid: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            if dead(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn sh(script: &str) -> Process {
        Process::new("sh").args(["-c", script])
    }

    #[test]
    fn a_background_grandchild_neither_holds_the_run_nor_outlives_it() {
        let start = Instant::now();
        let run = sh("sleep 30 & echo $!; echo hi")
            .run_limited(Duration::from_secs(20))
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(
            matches!(run.ended, Ended::Exited(s) if s.success()),
            "{run:?}"
        );
        let out = String::from_utf8(run.stdout).unwrap();
        let (pid, rest) = out.split_once('\n').unwrap();
        assert_eq!(rest, "hi\n");
        assert!(dies(pid), "the background `sleep` ({pid}) still runs");
    }

    #[test]
    fn at_the_limit_the_child_is_killed_with_its_children() {
        let start = Instant::now();
        let run = sh("sleep 30 & echo $!; sleep 30")
            .run_limited(Duration::from_millis(300))
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(run.ended, Ended::TimedOut);
        let out = String::from_utf8(run.stdout).unwrap();
        assert!(
            dies(out.trim()),
            "the background `sleep` ({out}) still runs"
        );
    }

    #[test]
    fn a_chatty_child_never_blocks_and_its_output_is_capped() {
        let start = Instant::now();
        let run = sh("head -c 5000000 /dev/zero; head -c 3000000 /dev/zero >&2; echo done")
            .run_limited(Duration::from_secs(20))
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert!(
            matches!(run.ended, Ended::Exited(s) if s.success()),
            "{run:?}"
        );
        assert_eq!(run.stdout.len(), CAPTURE_LIMIT);
        assert_eq!(run.stderr.len(), CAPTURE_LIMIT);
    }

    #[test]
    fn a_pipe_held_outside_the_group_is_waited_for_only_briefly() {
        // `setsid` takes the `sleep` out of the group, so killing the group misses it
        // and it keeps stdout open; the run still returns after the grace period.
        let start = Instant::now();
        let run = sh("setsid sleep 30 & echo $!")
            .run_limited(Duration::from_secs(20))
            .unwrap();
        let took = start.elapsed();
        let out = String::from_utf8(run.stdout.clone()).unwrap();
        let pid = out.trim();
        // The test's own leftover: end it by its id.
        let _ = rustix::process::kill_process(
            Pid::from_raw(pid.parse().unwrap()).unwrap(),
            Signal::KILL,
        );
        assert!(took < Duration::from_secs(2), "{took:?}");
        assert!(
            matches!(run.ended, Ended::Exited(s) if s.success()),
            "{run:?}"
        );
    }

    #[test]
    fn a_missing_program_is_an_error_naming_it() {
        let e = Process::new("no-such-program-xyz")
            .run_limited(Duration::from_secs(1))
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("could not run `no-such-program-xyz`"),
            "{e:#}"
        );
    }
}
