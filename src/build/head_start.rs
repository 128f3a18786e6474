//! A head start for repeated runs: the cargo call of the last identical run (same
//! directory, same arguments) starts while the workspace is loaded and planned, so a
//! no-op rebuild costs little more than the cargo call itself.
//!
//! Planning still decides. The early call is adopted only when it is exactly the call
//! planning makes (program, arguments, environment changes, directory) and nothing was
//! installed or rewritten before it; otherwise its whole process group is killed before
//! the planned call starts, and it never printed anything (its stderr is held back until
//! it is adopted). What is remembered is read back as untrusted input: only a file the
//! user owns and nobody else can write, naming this run's cargo and its `build`.
//!
//! Only when stderr is not a terminal (CI, make, scripts): the early call runs in a
//! process group of its own, which a terminal's Ctrl-C would not reach.
//! `CARGO_MULTIARCH_HEAD_START=0` turns it off.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader, IsTerminal as _};
use std::sync::mpsc::{self, Receiver};

use camino::{Utf8Path, Utf8PathBuf};
use rustix::process::{Signal, kill_process_group};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::fs::cache;
use crate::process::{Child, Process};

/// A remembered call is a few KiB; anything larger is not ours.
const MAX_BYTES: u64 = 64 * 1024;
/// Remembered calls kept at most (the oldest go first).
const KEEP: usize = 128;

/// The first cargo call of a run, as remembered for the next identical run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Remembered {
    program: String,
    args: Vec<String>,
    env: Vec<(String, Option<String>)>,
    dir: Utf8PathBuf,
}

impl Remembered {
    fn of(process: &Process, dir: &Utf8Path) -> Option<Self> {
        if process.get_cwd().is_some() || !is_cargo_build(process) {
            return None;
        }
        Some(Self {
            program: process.program().to_str()?.to_owned(),
            args: process
                .get_args()
                .map(|a| a.to_str().map(str::to_owned))
                .collect::<Option<_>>()?,
            env: process
                .get_envs()
                .map(|(k, v)| {
                    let v = match v {
                        Some(v) => Some(v.to_str()?.to_owned()),
                        None => None,
                    };
                    Some((k.to_str()?.to_owned(), v))
                })
                .collect::<Option<_>>()?,
            dir: dir.to_owned(),
        })
    }

    /// The call, when it is this run's cargo and its `build` in an existing directory.
    fn process(&self) -> Option<Process> {
        let mut p = Process::new(&self.program).args(&self.args);
        for (k, v) in &self.env {
            p = match v {
                Some(v) => p.env(k, v),
                None => p.env_remove(k),
            };
        }
        (is_cargo_build(&p) && self.dir.is_absolute() && self.dir.is_dir()).then_some(p)
    }
}

/// This run's cargo (`$CARGO` or `cargo`), running `build`.
fn is_cargo_build(p: &Process) -> bool {
    p.program() == Process::cargo().program() && p.get_args().next() == Some(OsStr::new("build"))
}

/// An early call: its child (in a process group of its own) and its stderr lines.
struct Early {
    process: Process,
    dir: Utf8PathBuf,
    child: Option<Child>,
    stderr: Option<Receiver<Vec<u8>>>,
}

impl Drop for Early {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The group's id is the child's pid, not reaped yet, so not reused.
            let _ = kill_process_group(child.group(), Signal::KILL);
            let _ = child.wait();
        }
    }
}

/// The head start of one run: where its call is remembered, and the early call if any.
pub struct HeadStart {
    memo: Utf8PathBuf,
    early: Option<Early>,
}

impl HeadStart {
    /// Starts the remembered call of the last identical run, if there is one; `None`
    /// when head starts are off (a terminal, `CARGO_MULTIARCH_HEAD_START=0`, no cache dir).
    pub fn begin() -> Option<Self> {
        if std::env::var_os("CARGO_MULTIARCH_HEAD_START").is_some_and(|v| v == "0")
            || std::io::stderr().is_terminal()
        {
            return None;
        }
        let dir = cache::dir()?.join("head-start");
        let cwd = std::env::current_dir().ok()?;
        let mut key = cwd.into_os_string().into_encoded_bytes();
        for a in std::env::args_os() {
            key.push(0);
            key.extend_from_slice(a.as_encoded_bytes());
        }
        let memo = dir.join(format!("{}.json", Sha256::of(&key)));
        let early = read(&memo)
            .and_then(|r| Some((r.process()?, r.dir)))
            .and_then(|(process, dir)| start(process, dir));
        Some(Self { memo, early })
    }

    /// The early call, when it is exactly `process` run in `dir` and `clean` (nothing
    /// was installed or rewritten since it started); otherwise it is killed now.
    pub fn adopt(
        &mut self,
        process: &Process,
        dir: &Utf8Path,
        clean: bool,
    ) -> Option<(Child, Receiver<Vec<u8>>)> {
        let mut early = self.early.take()?;
        if !clean || early.process != *process || early.dir != dir {
            return None; // dropped: killed and reaped
        }
        Some((early.child.take()?, early.stderr.take()?))
    }

    /// Whether a call was started early (adopted or not).
    pub fn started(&self) -> bool {
        self.early.is_some()
    }

    /// Remembers `process` for the next identical run (only a cargo `build`); a memo
    /// that cannot be written only costs the next run its head start.
    pub fn remember(&self, process: &Process, dir: &Utf8Path) {
        let Some(r) = Remembered::of(process, dir) else {
            return;
        };
        let Ok(json) = serde_json::to_vec(&r) else {
            return;
        };
        cache::write_private(&self.memo, &json);
        let Some(parent) = self.memo.parent() else {
            return;
        };
        cache::prune(parent, KEEP);
    }
}

/// The remembered call in `memo`: a private file of the user's (see
/// [`cache::read_private`]), well-formed; anything else is no memo.
fn read(memo: &Utf8Path) -> Option<Remembered> {
    serde_json::from_slice(&cache::read_private(memo, MAX_BYTES)?).ok()
}

/// Starts `process` in `dir`, in a process group of its own, stdin closed, its stdout
/// piped (unread until adopted) and its stderr held back line by line.
fn start(process: Process, dir: Utf8PathBuf) -> Option<Early> {
    let mut child = process.spawn_piped(&dir).ok()?;
    let stderr = lines(child.stderr.take()?);
    Some(Early {
        process,
        dir,
        child: Some(child),
        stderr: Some(stderr),
    })
}

/// Reads `pipe` line by line on a thread of its own; the channel closes at its end.
pub fn lines(pipe: impl std::io::Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cargo_build() -> Process {
        Process::cargo()
            .arg("build")
            .arg("--bin=a")
            .env("CC_x", "/w/cc")
    }

    #[test]
    fn only_this_runs_cargo_build_is_remembered_or_started() {
        let dir = Utf8PathBuf::from("/");
        let r = Remembered::of(&cargo_build(), &dir).unwrap();
        assert_eq!(r.process(), Some(cargo_build()));
        assert!(Remembered::of(&Process::cargo().arg("zigbuild"), &dir).is_none());
        assert!(Remembered::of(&Process::new("cross").arg("build"), &dir).is_none());
        for (program, args) in [
            ("sh", vec!["-c", "touch /tmp/x"]),
            (
                Process::cargo().program().to_str().unwrap(),
                vec!["install", "x"],
            ),
            (Process::cargo().program().to_str().unwrap(), vec![]),
        ] {
            let r = Remembered {
                program: program.to_owned(),
                args: args.into_iter().map(str::to_owned).collect(),
                env: Vec::new(),
                dir: dir.clone(),
            };
            assert!(r.process().is_none(), "{r:?}");
        }
        let mut r = Remembered::of(&cargo_build(), &dir).unwrap();
        r.dir = "relative".into();
        assert!(r.process().is_none());
    }

    #[test]
    fn a_memo_is_read_only_when_it_is_ours_private_small_and_well_formed() {
        use std::os::unix::fs::PermissionsExt as _;
        let t = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(t.path()).unwrap();
        let memo = root.join("m.json");
        let good = serde_json::to_vec(&Remembered::of(&cargo_build(), root).unwrap()).unwrap();
        std::fs::write(&memo, &good).unwrap();
        std::fs::set_permissions(&memo, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&memo).is_some());
        std::fs::set_permissions(&memo, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(read(&memo).is_none(), "world-writable");
        std::fs::set_permissions(&memo, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = root.join("l.json");
        std::os::unix::fs::symlink(&memo, &link).unwrap();
        assert!(read(&link).is_none(), "a symlink");
        std::fs::write(
            &memo,
            br#"{"program":"cargo","args":["build"],"env":[],"dir":"/","x":1}"#,
        )
        .unwrap();
        assert!(read(&memo).is_none(), "an unknown field");
        std::fs::write(&memo, vec![b' '; 70 * 1024]).unwrap();
        assert!(read(&memo).is_none(), "too large");
    }

    #[test]
    fn an_early_call_that_planning_does_not_make_is_killed() {
        let t = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::from_path_buf(t.path().to_owned()).unwrap();
        // A stand-in that would leave a marker if it lived 2 s.
        let marker = dir.join("lived");
        let p = Process::new("sh")
            .arg("-c")
            .arg(format!("sleep 2; touch '{marker}'"));
        let mut h = HeadStart {
            memo: dir.join("m.json"),
            early: start(p.clone(), dir.clone()),
        };
        assert!(h.started());
        assert!(h.adopt(&p.clone().arg("other"), &dir, true).is_none());
        std::thread::sleep(std::time::Duration::from_millis(2500));
        assert!(!marker.exists());
        // The same call, clean: adopted.
        let mut h = HeadStart {
            memo: dir.join("m.json"),
            early: start(Process::new("true"), dir.clone()),
        };
        let (mut child, _) = h.adopt(&Process::new("true"), &dir, true).unwrap();
        assert!(child.wait().unwrap().success());
        // The same call after something was rewritten: not adopted.
        let mut h = HeadStart {
            memo: dir.join("m.json"),
            early: start(Process::new("true"), dir.clone()),
        };
        assert!(h.adopt(&Process::new("true"), &dir, false).is_none());
    }
}
