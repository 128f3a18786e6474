//! Issue 10: an out dir, a build record, an OCI layout or a merge input written by an
//! attacker (or left by a killed run, or written by a second run at the same time)
//! can neither make the tool write or delete outside the out dir nor execute anything
//! unverified. Each test is named after the attack it stops.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    EPOCH, edit_manifest, json, multiarch, private_fixture, run, shared_fixture, shared_target_dir,
};

const X86: &str = "x86_64-unknown-linux-musl";

/// `cargo multiarch ARGS --out-dir OUT` on the shared `hello` fixture.
fn hello(out: &Path, args: &[&str]) -> Command {
    let mut c = multiarch(&shared_fixture("hello"));
    c.args(args)
        .arg("--out-dir")
        .arg(out)
        .arg("--target-dir")
        .arg(shared_target_dir("hello"))
        .env("SOURCE_DATE_EPOCH", EPOCH);
    c
}

/// A packaged `hello` (both platforms) in a fresh out dir.
fn packaged() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    run(&mut hello(out.path(), &["package"])).success();
    out
}

fn verify(out: &Path, args: &[&str]) -> crate::support::Run {
    run(multiarch(&shared_fixture("hello"))
        .arg("verify")
        .arg("--out-dir")
        .arg(out)
        .args(args))
}

/// A script that, if anything ever runs it, leaves `marker` behind.
/// A trap script in its own temp dir: `(dir, marker, script)`; running it creates `marker`.
fn evil() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let evil = dir.path().join("evil");
    trap(&evil, &marker);
    (dir, marker, evil)
}

fn trap(path: &Path, marker: &Path) {
    std::fs::write(
        path,
        format!("#!/bin/sh\ntouch '{}'\necho pwned\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn sha256(path: &Path) -> (String, u64) {
    let bytes = std::fs::read(path).unwrap();
    (
        cargo_multiarch::digest::Sha256::of(&bytes).to_string(),
        bytes.len() as u64,
    )
}

#[test]
fn verify_run_never_executes_a_binary_whose_hash_does_not_match() {
    let out = packaged();
    let marker = out.path().join("ran");
    trap(&out.path().join("linux/amd64/bin/hello"), &marker);
    let r = verify(out.path(), &["--run"]).failure();
    assert!(
        r.stdout().contains("linux/amd64/bin/hello: sha256 is"),
        "{}",
        r.stdout()
    );
    assert!(
        r.stdout().contains("no binary was started"),
        "{}",
        r.stdout()
    );
    assert!(
        !marker.exists(),
        "verify --run executed a binary that failed its checks"
    );
    // Even --run-anyway runs only what passed its own checks: the arm64 binary.
    let r = verify(out.path(), &["--run", "--run-anyway"]).failure();
    assert!(!marker.exists());
    crate::support::require("qemu-aarch64");
    assert!(
        r.stdout().contains("ok       linux/arm64/bin/hello"),
        "{}",
        r.stdout()
    );
}

#[test]
fn verify_run_never_executes_a_binary_named_by_an_absolute_or_dotdot_path() {
    let out = packaged();
    let (_evil_dir, marker, evil) = evil();
    let (sha, size) = sha256(&evil);
    for path in [evil.display().to_string(), "../evil".to_owned()] {
        std::fs::copy(&evil, out.path().parent().unwrap().join("evil")).ok();
        edit_manifest(out.path(), |m| {
            let a = m["artifacts"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|a| a["kind"] == "binary")
                .unwrap();
            a["path"] = path.clone().into();
            a["sha256"] = sha.clone().into();
            a["size"] = size.into();
        });
        let r = verify(out.path(), &["--run", "--run-anyway"]).failure();
        assert!(
            r.stderr().contains("is not a valid manifest"),
            "{}",
            r.stderr()
        );
        assert!(!marker.exists(), "ran `{path}`");
    }
}

#[test]
fn verify_run_never_follows_a_symlink_out_of_the_out_dir() {
    let out = packaged();
    let (_evil_dir, marker, evil) = evil();
    let (sha, size) = sha256(&evil);
    let bin = out.path().join("linux/amd64/bin/hello");
    std::fs::remove_file(&bin).unwrap();
    symlink(&evil, &bin).unwrap();
    // The manifest is made to agree with what the link leads to.
    edit_manifest(out.path(), |m| {
        for a in m["artifacts"].as_array_mut().unwrap() {
            if a["path"] == "linux/amd64/bin/hello" {
                a["sha256"] = sha.clone().into();
                a["size"] = size.into();
            }
        }
    });
    let r = verify(out.path(), &["--run"]).failure();
    assert!(r.stdout().contains("is a symlink"), "{}", r.stdout());
    assert!(!marker.exists());
}

#[test]
fn a_malformed_sha256_in_the_manifest_is_an_error_not_a_panic() {
    let out = packaged();
    for bad in ["x", "", "ZZZZ", &"a".repeat(65)] {
        edit_manifest(out.path(), |m| {
            m["artifacts"][0]["sha256"] = bad.into();
        });
        let r = verify(out.path(), &[]).failure();
        assert_eq!(r.out.status.code(), Some(1), "{}", r.stderr());
        assert!(
            r.stderr().contains("is not a sha256 digest"),
            "{}",
            r.stderr()
        );
    }
}

#[test]
fn a_fifo_in_place_of_an_artifact_does_not_hang_verify() {
    let out = packaged();
    let archive = out
        .path()
        .join(format!("linux/amd64/hello-0.1.0-{X86}.tar.gz"));
    std::fs::remove_file(&archive).unwrap();
    let ok = Command::new("mkfifo").arg(&archive).status().unwrap();
    assert!(ok.success());
    let start = Instant::now();
    let mut child = multiarch(&shared_fixture("hello"))
        .arg("verify")
        .arg("--out-dir")
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("verify hung on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("is a FIFO, socket or device"), "{stdout}");
}

#[test]
fn a_manifest_with_no_artifacts_is_refused() {
    let out = packaged();
    edit_manifest(out.path(), |m| m["artifacts"] = serde_json::json!([]));
    let r = verify(out.path(), &[]).failure();
    assert!(
        r.stderr().contains("it lists no artifacts"),
        "{}",
        r.stderr()
    );
}

/// Repacks an archive of `out` with the binary's mode 0777 (and, with `link`, a
/// symlink entry added), then makes the manifest, SHA256SUMS and the sidecar agree
/// with the new bytes, so only the entry check can see it.
fn repack(out: &Path, rel: &str, link: bool) {
    let archive = out.join(rel);
    let script = format!(
        r#"
import tarfile, io, sys
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
with tarfile.open(dst, "w:gz") as t:
    for m, data in members:
        if m.isfile() and m.name.endswith("/hello"):
            m.mode = 0o777
        t.addfile(m, io.BytesIO(data) if data is not None else None)
    if {link}:
        l = tarfile.TarInfo("hello-0.1.0-{X86}/evil")
        l.type = tarfile.SYMTYPE
        l.linkname = "/etc/passwd"
        t.addfile(l)
"#,
        link = if link { "True" } else { "False" }
    );
    let tampered = out.join("tampered.tar.gz");
    let ok = Command::new("python3")
        .args(["-c", &script])
        .arg(&archive)
        .arg(&tampered)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::rename(&tampered, &archive).unwrap();
    let (sha, size) = sha256(&archive);
    edit_manifest(out, |m| {
        for a in m["artifacts"].as_array_mut().unwrap() {
            if a["path"] == rel {
                a["sha256"] = sha.clone().into();
                a["size"] = size.into();
            }
        }
    });
    let name = rel.rsplit('/').next().unwrap();
    std::fs::write(
        out.join(format!("{rel}.sha256")),
        format!("{sha}  {name}\n"),
    )
    .unwrap();
}

#[test]
fn verify_compares_archive_entry_modes_and_types_with_the_manifest() {
    let rel = format!("linux/amd64/hello-0.1.0-{X86}.tar.gz");
    let out = packaged();
    repack(out.path(), &rel, true);
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains("Symlink entry; archives hold regular files and directories only"),
        "{stdout}"
    );
    let out = packaged();
    repack(out.path(), &rel, false);
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains(&format!(
            "FAILED   {rel}: `hello-0.1.0-{X86}/hello` has mode 0777, the manifest says 0755"
        )),
        "{stdout}"
    );
}

#[test]
fn verify_checks_every_sidecar() {
    let out = packaged();
    let side = out
        .path()
        .join("linux/arm64/hello-0.1.0-aarch64-unknown-linux-musl.tar.gz.sha256");
    std::fs::write(&side, format!("{}  x.tar.gz\n", "0".repeat(64))).unwrap();
    let stdout = verify(out.path(), &[]).exit(4).stdout();
    assert!(
        stdout.contains(".tar.gz.sha256: does not hold the archive's sha256"),
        "{stdout}"
    );
    std::fs::remove_file(&side).unwrap();
    symlink("/etc/hostname", &side).unwrap();
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(stdout.contains(".tar.gz.sha256: `"), "{stdout}");
    assert!(stdout.contains("is a symlink"), "{stdout}");
}

/// A build record naming a file outside the out dir.
fn tamper_record(out: &Path, f: impl FnOnce(&mut Value)) {
    let p = out.join(format!(".multiarch/{X86}.json"));
    let mut r = json(&p);
    f(&mut r);
    std::fs::write(&p, serde_json::to_vec_pretty(&r).unwrap()).unwrap();
}

#[test]
fn build_never_deletes_what_a_tampered_record_names() {
    let out = packaged();
    let victim_dir = tempfile::tempdir().unwrap();
    let victim = victim_dir.path().join("precious");
    std::fs::write(&victim, "keep me").unwrap();
    tamper_record(out.path(), |r| {
        r["binaries"][0]["path"] = victim.to_str().unwrap().into();
    });
    run(&mut hello(out.path(), &["build"])).success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    tamper_record(out.path(), |r| {
        r["binaries"][0]["path"] = "../../../../../../../../tmp/precious".into();
    });
    run(&mut hello(
        out.path(),
        &["build", "--platform", "linux/arm64"],
    ))
    .success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
}

#[test]
fn a_record_whose_platform_leaves_the_out_dir_cannot_redirect_package() {
    let top = tempfile::tempdir().unwrap();
    let out = top.path().join("a/b/out");
    run(&mut hello(&out, &["package"])).success();
    tamper_record(&out, |r| {
        r["platform"] = "linux/../../../x".into();
        r["binaries"][0]["platform"] = "linux/../../../x".into();
    });
    let r = run(&mut hello(&out, &["package", "--no-build"])).failure();
    assert!(
        r.stderr().contains("is not a valid build record"),
        "{}",
        r.stderr()
    );
    let beside: Vec<_> = std::fs::read_dir(top.path().join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["b"], "package wrote outside the out dir");
    // A record for one target that claims another's binaries is refused as well.
    let out = packaged();
    tamper_record(out.path(), |r| {
        r["binaries"][0]["path"] = "linux/arm64/bin/hello".into();
    });
    let r = run(&mut hello(out.path(), &["package", "--no-build"])).failure();
    assert!(
        r.stderr()
            .contains("a `x86_64-unknown-linux-musl` binary is staged at `linux/amd64/bin/hello`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn merge_refuses_an_input_whose_record_leaves_the_out_dir() {
    let out = packaged();
    let merged = tempfile::tempdir().unwrap();
    tamper_record(out.path(), |r| {
        r["binaries"][0]["path"] = "../../etc/passwd".into();
    });
    let r = run(multiarch(&shared_fixture("hello"))
        .arg("merge")
        .arg(out.path())
        .arg("--out-dir")
        .arg(merged.path().join("m")))
    .failure();
    assert!(
        r.stderr().contains("is not a valid build record"),
        "{}",
        r.stderr()
    );
    assert!(!merged.path().join("m/manifest.json").exists());
}

#[test]
fn merge_never_copies_a_symlink_and_never_trusts_a_sidecar() {
    let out = packaged();
    let merged = tempfile::tempdir().unwrap();
    let side = out
        .path()
        .join(format!("linux/amd64/hello-0.1.0-{X86}.tar.gz.sha256"));
    std::fs::remove_file(&side).unwrap();
    symlink("../../nowhere", &side).unwrap();
    let r = run(multiarch(&shared_fixture("hello"))
        .arg("merge")
        .arg(out.path())
        .arg("--out-dir")
        .arg(merged.path()))
    .failure();
    assert!(r.stderr().contains("fails verification"), "{}", r.stderr());
    let found = Command::new("find")
        .arg(merged.path())
        .args(["-type", "l"])
        .output()
        .unwrap();
    assert!(found.stdout.is_empty(), "a symlink in the merged dir");

    // A sound input merges, and its output is a copy (not a link) that verifies.
    let out = packaged();
    let dest = merged.path().join("ok");
    run(multiarch(&shared_fixture("hello"))
        .arg("merge")
        .arg(out.path())
        .arg("--out-dir")
        .arg(&dest))
    .success();
    let a = std::fs::metadata(out.path().join("linux/amd64/bin/hello")).unwrap();
    let b = std::fs::metadata(dest.join("linux/amd64/bin/hello")).unwrap();
    assert_ne!(a.ino(), b.ino(), "merge hard-linked an input file");
    verify(&dest, &[]).success();
}

#[test]
fn image_never_deletes_through_a_symlinked_blobs_dir() {
    let out = tempfile::tempdir().unwrap();
    run(&mut hello(out.path(), &["build"])).success();
    let victim_dir = tempfile::tempdir().unwrap();
    let victim = victim_dir.path().join("precious");
    std::fs::write(&victim, "keep me").unwrap();
    std::fs::create_dir_all(out.path().join("oci/blobs")).unwrap();
    std::fs::write(
        out.path().join("oci/oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    symlink(victim_dir.path(), out.path().join("oci/blobs/sha256")).unwrap();
    let r = run(&mut hello(out.path(), &["image", "--no-build"])).failure();
    assert!(r.stderr().contains("refusing"), "{}", r.stderr());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(victim_dir.path()).unwrap().count(), 1);
}

#[test]
fn image_refuses_a_staged_binary_replaced_after_build() {
    let out = tempfile::tempdir().unwrap();
    run(&mut hello(out.path(), &["build"])).success();
    let bin = out.path().join("linux/arm64/bin/hello");
    let mut bytes = std::fs::read(&bin).unwrap();
    bytes.extend_from_slice(b"backdoor");
    std::fs::write(&bin, bytes).unwrap();
    let r = run(&mut hello(out.path(), &["image", "--no-build"])).failure();
    assert!(
        r.stderr().contains("changed since it was built"),
        "{}",
        r.stderr()
    );
    assert!(!out.path().join("oci/index.json").exists());
    // Without `--no-build`, `image` builds: the damaged staging is redone and the image
    // holds the binary cargo built, not the replaced one.
    run(&mut hello(out.path(), &["image"])).success();
    let staged = std::fs::read(&bin).unwrap();
    assert!(!staged.ends_with(b"backdoor"));
    verify(out.path(), &[]).success();
}

#[test]
fn a_killed_package_leaves_no_temp_files_for_ever() {
    let out = packaged();
    // What a run killed while writing leaves behind.
    let stale = [
        out.path().join(format!(
            "linux/amd64/.hello-0.1.0-{X86}.tar.gz.multiarch-tmp-4194303-0"
        )),
        out.path().join(".manifest.json.multiarch-tmp-4194303-7"),
        out.path()
            .join("linux/arm64/bin/.hello.multiarch-tmp-4194303-2"),
    ];
    for s in &stale {
        std::fs::write(s, "half").unwrap();
    }
    let r = run(&mut hello(out.path(), &["package", "--no-build"])).success();
    assert!(
        r.stderr().contains("removed 3 temporary file(s)"),
        "{}",
        r.stderr()
    );
    for s in &stale {
        assert!(!s.exists(), "{} left behind", s.display());
    }
    verify(out.path(), &[]).success();
}

#[test]
fn a_killed_build_keeps_the_previous_staging_whole() {
    let out = packaged();
    let before = std::fs::read(out.path().join("linux/amd64/bin/hello")).unwrap();
    let record = std::fs::read(out.path().join(format!(".multiarch/{X86}.json"))).unwrap();
    // A cargo that hangs in the build, as a long build would, until the run is killed.
    let bin = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let fake = bin.path().join("cargo");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nif [ \"$1\" = build ]; then sleep 60; fi\nexec '{cargo}' \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = hello(out.path(), &["build"])
        .env("CARGO", &fake)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = Command::new("pkill").args(["-f", "sleep 60"]).status();
    assert_eq!(
        std::fs::read(out.path().join("linux/amd64/bin/hello")).unwrap(),
        before
    );
    assert_eq!(
        std::fs::read(out.path().join(format!(".multiarch/{X86}.json"))).unwrap(),
        record
    );
    verify(out.path(), &[]).success();
    run(&mut hello(out.path(), &["package", "--no-build"])).success();
}

#[test]
fn a_second_run_waits_for_the_out_dir_lock_or_fails_with_no_wait() {
    let out = packaged();
    // Another process holds the lock (flock(1) takes the same OS lock).
    let mut holder = Command::new("flock")
        .arg(out.path().join(".multiarch/lock"))
        .args(["sleep", "4"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let r = run(&mut hello(
        out.path(),
        &["package", "--no-build", "--no-wait"],
    ))
    .exit(5);
    assert!(
        r.stderr().contains("holds the lock on out dir"),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("--no-wait"), "{}", r.stderr());
    let start = Instant::now();
    let r = run(&mut hello(out.path(), &["package", "--no-build"])).success();
    assert!(
        r.stderr().contains("Blocking waiting for lock on out dir"),
        "{}",
        r.stderr()
    );
    assert!(start.elapsed() > Duration::from_secs(2), "it did not wait");
    holder.wait().unwrap();
}

#[test]
fn two_runs_at_once_leave_a_set_that_verifies() {
    let out = packaged();
    let spawn = |args: &[&str]| {
        hello(out.path(), args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    for _ in 0..3 {
        let runs = [
            spawn(&["package", "--no-build"]),
            spawn(&["package", "--no-build", "--platform", "linux/amd64"]),
            spawn(&["image", "--no-build", "--tag", "a"]),
            spawn(&["image", "--no-build", "--tag", "b", "--archive"]),
        ];
        for r in runs {
            let o = r.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        // Whichever ran last, the manifest, SHA256SUMS and the image layout agree with
        // each other and with the files.
        verify(out.path(), &[]).success();
    }
}

/// Issue 21, finding 10: a journal left in `.multiarch/` names the temporary file to
/// rename into place; recovery hashes it against the journal first, so a file put
/// there by someone else never becomes the staged binary.
#[test]
fn journal_recovery_never_renames_a_tampered_temporary_file_into_place() {
    let out = packaged();
    let bin = out.path().join("linux/amd64/bin");
    let before = std::fs::read(bin.join("hello")).unwrap();
    let record_path = out.path().join(format!(".multiarch/{X86}.json"));
    let record = json(&record_path);
    // What a staging killed before its renames leaves, but with other bytes at the
    // temporary name than the journal's record says.
    let tmp = ".hello.multiarch-tmp-1-1";
    std::fs::write(bin.join(tmp), b"#!/bin/sh\necho evil\n").unwrap();
    let journal = serde_json::json!({
        "record": record,
        "moves": [[format!("linux/amd64/bin/{tmp}"), "linux/amd64/bin/hello"]],
        "remove": [],
    });
    std::fs::write(
        out.path().join(format!(".multiarch/{X86}.json.pending")),
        serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    let r = run(&mut hello(out.path(), &["package", "--no-build"])).success();
    assert!(
        r.stderr()
            .contains("temporary files do not match its sha256 and sizes"),
        "{}",
        r.stderr()
    );
    assert_eq!(std::fs::read(bin.join("hello")).unwrap(), before);
    assert!(!bin.join(tmp).exists());
    assert!(
        !out.path()
            .join(format!(".multiarch/{X86}.json.pending"))
            .exists()
    );
    verify(out.path(), &[]).success();
}

/// Issue 21, finding 7: the zig wrapper dir below the target dir is never followed
/// through a link: `cc`, `c++` and `ar` (mode 0755, which cargo and a `PATH` would run)
/// are not written where a symlink in its place points; the build stops naming it.
#[test]
fn zig_wrappers_are_never_written_through_a_symlinked_dir() {
    let (tmp, dir) = private_fixture("hello");
    let target_dir = tmp.path().join("target");
    let zig_dir = target_dir.join("cargo-multiarch/zig");
    std::fs::create_dir_all(&zig_dir).unwrap();
    let elsewhere = tmp.path().join("on-path");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, zig_dir.join("aarch64-unknown-linux-musl")).unwrap();
    let r = run(multiarch(&dir)
        .args([
            "build",
            "--backend",
            "zig",
            "--target",
            "aarch64-unknown-linux-musl",
        ])
        .arg("--target-dir")
        .arg(&target_dir))
    .exit(1);
    assert!(
        r.stderr().contains("is a symbolic link") && r.stderr().contains("hint: remove"),
        "{}",
        r.stderr()
    );
    let written: Vec<_> = std::fs::read_dir(&elsewhere).unwrap().collect();
    assert!(written.is_empty(), "wrote through the link: {written:?}");
}
