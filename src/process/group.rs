//! Every child a run starts is in a process group of its own, registered here while it
//! runs; on SIGINT, SIGTERM or SIGHUP the run stops them all and exits.
//!
//! [`spawn`] is the one place a child starts: it puts the child in a new process group
//! (so cargo, its rustc and build scripts, qemu, wine, zig and cross are one group per
//! call) and registers the group until the child is reaped ([`Child`] deregisters it
//! when dropped). [`stop_on_signals`] starts a thread that, on the first of those
//! signals, refuses every later spawn, sends SIGTERM to every registered group, waits
//! for them (SIGKILL after [`GRACE`]), and exits with 128 + the signal's number: 130,
//! 143 or 129. What it leaves on disk is old or new, never half-written: files are
//! written by atomic rename and staging is journaled (`record`).
//!
//! A group of its own means a terminal's Ctrl-C reaches this process only, never the
//! child directly: that is why it forwards. A long-lived server meant to outlive the
//! run (the sccache server, `cache::Sccache::start_server`) is spawned outside this
//! registry.

use std::io;
use std::ops::{Deref, DerefMut};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long the groups have to exit after SIGTERM before they get SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);
/// How long the groups have to be gone after SIGKILL before the run exits anyway.
const KILLED: Duration = Duration::from_millis(500);
/// How often the stopping thread checks whether the groups are gone.
const POLL: Duration = Duration::from_millis(20);

/// The process groups this run started and has not reaped, and the signal it is
/// stopping on, if any.
struct Registry {
    groups: Vec<Pid>,
    stopping: Option<i32>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    groups: Vec::new(),
    stopping: None,
});

/// The registry, even when a thread panicked holding it (its data stays consistent:
/// each change is one push, retain or assignment).
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Spawns `cmd` in a process group of its own and registers the group until the
/// returned [`Child`] is dropped. Once a signal has arrived, refuses (the run is
/// stopping). The registry is held across the spawn, so a child is either registered
/// before the stopping thread reads the groups or never started.
pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
    cmd.process_group(0);
    let mut reg = registry();
    if let Some(signal) = reg.stopping {
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            format!("not started: stopping on signal {signal}"),
        ));
    }
    let child = cmd.spawn()?;
    // The group's id is the child's pid.
    let group = Pid::from_child(&child);
    reg.groups.push(group);
    Ok(Child {
        inner: child,
        registered: Registered(group),
    })
}

/// A running child of this run: a [`std::process::Child`] whose process group is
/// registered until this is dropped (after it is reaped, normally).
#[derive(Debug)]
pub struct Child {
    inner: std::process::Child,
    registered: Registered,
}

impl Child {
    /// The id of the child's process group (its pid).
    pub fn group(&self) -> Pid {
        self.registered.0
    }

    /// [`std::process::Child::wait_with_output`], deregistering the group after.
    pub fn wait_with_output(self) -> io::Result<Output> {
        let Self { inner, registered } = self;
        let out = inner.wait_with_output();
        drop(registered);
        out
    }
}

impl Deref for Child {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Child {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// A registered group; dropping it deregisters the group.
#[derive(Debug)]
struct Registered(Pid);

impl Drop for Registered {
    fn drop(&mut self) {
        registry().groups.retain(|g| *g != self.0);
    }
}

/// Starts the thread that stops the run on SIGINT, SIGTERM or SIGHUP (see the module
/// doc). Fails only when the handlers cannot be installed.
pub fn stop_on_signals() -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                stop(signal);
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// When the run is stopping on a signal, waits for the stopping thread to end the
/// process (it exits with the signal's status); otherwise returns at once. The main
/// thread calls it before reporting an error or exiting, so a run that is stopping
/// neither prints the failures the stop caused nor exits with another status.
pub fn settle() {
    if registry().stopping.is_some() {
        loop {
            std::thread::park();
        }
    }
}

/// Refuses later spawns, then [`terminate`]s every registered group.
fn stop(signal: i32) {
    let groups = {
        let mut reg = registry();
        reg.stopping = Some(signal);
        reg.groups.clone()
    };
    terminate(&groups, GRACE);
}

/// Sends SIGTERM to every group of `groups`, waits up to `grace` for them to be gone,
/// then sends SIGKILL to them and waits a little more; whether they are gone.
fn terminate(groups: &[Pid], grace: Duration) -> bool {
    // ESRCH: a group already gone, which is the goal.
    for g in groups {
        let _ = kill_process_group(*g, Signal::TERM);
    }
    if gone(groups, grace) {
        return true;
    }
    for g in groups {
        let _ = kill_process_group(*g, Signal::KILL);
    }
    gone(groups, KILLED)
}

/// Waits up to `limit` for every group of `groups` to have no process left running;
/// whether they are gone.
fn gone(groups: &[Pid], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !groups.iter().any(|g| running(*g)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Whether a process of `group` still runs. A zombie does not: it holds no file, lock
/// or CPU, and it is reaped by whoever waits for it (an orphan's by init, which some
/// containers' init never does). So on Linux this reads `/proc`, where zombies are told
/// apart; elsewhere a zombie that was not reaped yet counts as running.
fn running(group: Pid) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return test_kill_process_group(group).is_ok();
    };
    let group = group.as_raw_nonzero().get();
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .any(|stat| stat_says_running_in(&stat, group))
}

/// Whether a `/proc/<pid>/stat` line is of a process in `group` that is not a zombie:
/// after the command's closing parenthesis come the state, the parent and the group.
fn stat_says_running_in(stat: &str, group: i32) -> bool {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next();
    let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
    pgrp == Some(group) && !matches!(state, Some("Z" | "X" | "x"))
}

#[cfg(test)]
mod tests;
