use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use rustix::process::getpgid;

use super::*;

fn registered(group: Pid) -> bool {
    registry().groups.contains(&group)
}

/// Spawns `sh -c script` with its stdout piped, and reads the pid it prints first.
fn sh_printing_a_pid(script: &str) -> (Child, Pid) {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]).stdout(Stdio::piped());
    let mut child = spawn(&mut cmd).unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, Pid::from_raw(line.trim().parse().unwrap()).unwrap())
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

#[test]
fn a_child_has_a_group_of_its_own_registered_until_it_is_dropped() {
    let (mut child, grandchild) = sh_printing_a_pid("sleep 30 & echo $!; wait");
    let group = child.group();
    assert_eq!(group, Pid::from_child(&child));
    assert_eq!(getpgid(Some(group)).unwrap(), group, "its own group");
    assert_eq!(
        getpgid(Some(grandchild)).unwrap(),
        group,
        "its children's too"
    );
    assert_ne!(getpgid(None).unwrap(), group);
    assert!(registered(group));
    kill_process_group(group, Signal::KILL).unwrap();
    child.wait().unwrap();
    assert!(registered(group), "registered until dropped");
    drop(child);
    assert!(!registered(group));
}

#[test]
fn wait_with_output_deregisters() {
    let mut cmd = Command::new("echo");
    cmd.arg("hi").stdout(Stdio::piped());
    let child = spawn(&mut cmd).unwrap();
    let group = child.group();
    assert!(registered(group));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.stdout, b"hi\n");
    assert!(!registered(group));
}

#[test]
fn terminate_is_quick_when_the_group_obeys_sigterm() {
    let (mut child, grandchild) = sh_printing_a_pid("sleep 30 & echo $!; wait");
    let group = child.group();
    let start = Instant::now();
    assert!(terminate(&[group], Duration::from_secs(10)));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(!runs(grandchild));
    assert!(!child.wait().unwrap().success());
}

#[test]
fn what_ignores_sigterm_gets_sigkill_after_the_grace() {
    // `trap '' TERM` is inherited by the background `sleep` too.
    let (mut child, grandchild) = sh_printing_a_pid("trap '' TERM; sleep 30 & echo $!; wait");
    let group = child.group();
    let start = Instant::now();
    assert!(terminate(&[group], Duration::from_millis(300)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(!runs(grandchild));
    assert!(!child.wait().unwrap().success());
}

#[test]
fn stat_lines_are_told_apart() {
    let line = "42 (a) b) S 1 7 7 0 -1";
    assert!(stat_says_running_in("42 (cargo) S 1 7 7 0 -1", 7));
    assert!(stat_says_running_in(line, 7));
    assert!(!stat_says_running_in("42 (cargo) Z 1 7 7 0 -1", 7));
    assert!(!stat_says_running_in("42 (cargo) S 1 8 8 0 -1", 7));
    assert!(!stat_says_running_in("garbage", 7));
}
