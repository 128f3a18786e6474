//! A signal to the tool alone stops everything the run started (issue 21, finding 2):
//! cargo and its build scripts are in process groups of their own, which a terminal's
//! Ctrl-C or `kill` of the tool never reaches; the tool forwards, waits, and exits
//! 128 + the signal's number.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::support::{multiarch, private_fixture, run};

const TARGET: &str = "x86_64-unknown-linux-musl";

/// A `build.rs` that writes its pid beside the manifest, then sleeps a minute.
const SLOW_BUILD_RS: &str = r#"fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    std::fs::write(format!("{dir}/build.pid.tmp"), std::process::id().to_string()).unwrap();
    std::fs::rename(format!("{dir}/build.pid.tmp"), format!("{dir}/build.pid")).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(60));
}
"#;

/// A run of the tool in a temp workspace, and what it started; dropping it kills, by
/// pid, whatever of it is still running (so a failing test leaves nothing behind).
struct Slow {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    tool: Child,
}

impl Drop for Slow {
    fn drop(&mut self) {
        let _ = self.tool.kill();
        let _ = self.tool.wait();
        for pid in running_in(&self.dir) {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
}

/// A `build.rs` that does nothing.
const QUICK_BUILD_RS: &str = "fn main() { println!(\"cargo:rerun-if-changed=build.rs\"); }\n";

/// `hello` with the slow `build.rs`, its `build` started and its build script running.
fn slow_build() -> Slow {
    let (tmp, dir) = private_fixture("hello");
    slow_build_in(tmp, dir, &[])
}

/// [`slow_build`] in a prepared `dir`, with `args` after `build --target`.
fn slow_build_in(tmp: tempfile::TempDir, dir: PathBuf, args: &[&str]) -> Slow {
    std::fs::write(dir.join("build.rs"), SLOW_BUILD_RS).unwrap();
    let log = std::fs::File::create(dir.join("tool.log")).unwrap();
    let tool = multiarch(&dir)
        .args(["build", "--target", TARGET])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let slow = Slow {
        _tmp: tmp,
        dir,
        tool,
    };
    let start = Instant::now();
    while !slow.dir.join("build.pid").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the build script never started:\n{}",
            slow.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    slow
}

impl Slow {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tool.log")).unwrap_or_default()
    }

    fn build_script(&self) -> Pid {
        let pid = std::fs::read_to_string(self.dir.join("build.pid")).unwrap();
        Pid::from_raw(pid.trim().parse().unwrap()).unwrap()
    }

    /// Sends `signal` to the tool's pid alone; its exit status within 5 s.
    fn signal(&mut self, signal: Signal) -> ExitStatus {
        let script = self.build_script();
        assert!(runs(script), "the build script runs before the signal");
        kill_process(Pid::from_child(&self.tool), signal).unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = self.tool.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the tool still runs 5 s after {signal:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Within 5 s, nothing of the build runs: not the build script, and no process
    /// whose command line or working directory is in the temp workspace.
    fn assert_nothing_left(&self) {
        let script = self.build_script();
        let start = Instant::now();
        loop {
            let left = running_in(&self.dir);
            if left.is_empty() && !runs(script) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "5 s after the tool exited, the build script ({script:?}, running: {}) and {} still run:\n{}",
                runs(script),
                left.iter()
                    .map(|p| cmdline(*p))
                    .collect::<Vec<_>>()
                    .join("\n"),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Whether `pid` runs (exists and is no zombie).
fn runs(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero())).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap()
            .trim_start()
            .starts_with('Z')
    })
}

fn cmdline(pid: Pid) -> String {
    std::fs::read(format!("/proc/{}/cmdline", pid.as_raw_nonzero()))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default()
}

/// The running processes whose command line or working directory names `dir`.
fn running_in(dir: &Path) -> Vec<Pid> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(Pid::from_raw)
        .filter(|pid| *pid != rustix::process::getpid())
        .filter(|pid| {
            let cwd = std::fs::read_link(format!("/proc/{}/cwd", pid.as_raw_nonzero()));
            runs(*pid) && (cmdline(*pid).contains(&needle) || cwd.is_ok_and(|c| c.starts_with(dir)))
        })
        .collect()
}

#[test]
fn sigterm_stops_the_build_and_the_next_run_does_not_wait() {
    let mut slow = slow_build();
    let status = slow.signal(Signal::TERM);
    assert_eq!(status.code(), Some(143), "{status}:\n{}", slow.log());
    slow.assert_nothing_left();

    // cargo's lock on the target dir went with it: the next run starts at once.
    std::fs::write(slow.dir.join("build.rs"), QUICK_BUILD_RS).unwrap();
    let next = run(multiarch(&slow.dir)
        .args(["build", "--no-wait", "--target", TARGET])
        .stdin(Stdio::null()))
    .success();
    assert!(
        !next.stderr().contains("Blocking waiting for file lock"),
        "{}",
        next.stderr()
    );
}

#[test]
fn sigint_stops_the_build_and_exits_130() {
    let mut slow = slow_build();
    let status = slow.signal(Signal::INT);
    assert_eq!(status.code(), Some(130), "{status}:\n{}", slow.log());
    slow.assert_nothing_left();
}

#[test]
fn sighup_stops_the_build_and_exits_129() {
    let mut slow = slow_build();
    let status = slow.signal(Signal::HUP);
    assert_eq!(status.code(), Some(129), "{status}:\n{}", slow.log());
    slow.assert_nothing_left();
}

/// The unit of a signal's stop is the process group, so one the tool did not start is
/// left alone: a sibling `sleep` in the test's own group outlives the stop.
#[test]
fn what_the_run_did_not_start_is_left_alone() {
    let mut bystander = Command::new("sleep").arg("60").spawn().unwrap();
    let mut slow = slow_build();
    assert_eq!(slow.signal(Signal::TERM).code(), Some(143));
    let alive = bystander.try_wait().unwrap().is_none();
    let _ = bystander.kill();
    let _ = bystander.wait();
    assert!(alive, "the tool's stop killed a process it did not start");
}
