//! Installers (`package --installers`, `merge`) run for real: the archives served flat
//! from a file server on 127.0.0.1, the `.sh` installer run by dash, bash and busybox
//! ash into a temp dir, the installed binary run (the arm64 one under qemu, picked by
//! a stand-in `uname -m`); a swapped or missing archive installs nothing. The `.ps1`
//! cannot run here (no PowerShell in Debian): it is checked by its content. Also the
//! per-archive `.sig` files `sign` writes for cargo-binstall, checked by `minisign -V`,
//! and the `[package.metadata.binstall]` table `package --binstall-metadata` prints.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::{
    EPOCH, edit_manifest, json, multiarch, qemu_aarch64, require, run, shared_fixture,
    shared_target_dir, verify,
};

/// A static file server on 127.0.0.1 serving the files of one directory by name
/// (`GET`/`HEAD /<name>`), one thread per connection, stopped on drop.
pub struct Files {
    pub port: u16,
    pub dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
}

impl Files {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while !st.load(Ordering::SeqCst) && start.elapsed().as_secs() < 600 {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let root = root.clone();
                        std::thread::spawn(move || serve_file(stream, &root));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Self { port, dir, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve_file(stream: std::net::TcpStream, root: &Path) {
    let _ = stream.set_nonblocking(false);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let name = target.trim_start_matches('/');
    let file = (!name.is_empty() && !name.contains('/') && !name.contains(".."))
        .then(|| std::fs::read(root.join(name)).ok())
        .flatten();
    let mut out = stream;
    let _ = match file {
        Some(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            out.write_all(head.as_bytes()).and_then(|()| {
                if method == "HEAD" {
                    Ok(())
                } else {
                    out.write_all(&body)
                }
            })
        }
        None => out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
}

/// `package` of `hello` for `targets` into a fresh out dir, with `args`.
fn package_hello(targets: &[&str], args: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = multiarch(&shared_fixture("hello"));
    cmd.args(["package", "--out-dir"])
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("hello"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", EPOCH);
    for t in targets {
        cmd.args(["--target", t]);
    }
    run(&mut cmd).success();
    out
}

const AMD: &str = "x86_64-unknown-linux-musl";
const ARM: &str = "aarch64-unknown-linux-musl";
const AMD_ARCHIVE: &str = "hello-0.1.0-x86_64-unknown-linux-musl.tar.gz";
const ARM_ARCHIVE: &str = "hello-0.1.0-aarch64-unknown-linux-musl.tar.gz";

/// Every archive of `out`, copied flat into `dir` (a release's files are flat).
fn serve_archives(out: &Path, dir: &Path) {
    let m = json(&out.join("manifest.json"));
    for a in m["artifacts"].as_array().unwrap() {
        if a["kind"] == "archive" {
            let path = out.join(a["path"].as_str().unwrap());
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Runs `shell installer ARGS…` with `path` first on PATH and HOME in `home`.
fn install(
    shell: &[&str],
    installer: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
) -> std::process::Output {
    let mut cmd = Command::new(shell[0]);
    cmd.args(&shell[1..])
        .arg(installer)
        .args(args)
        .env_remove("CARGO_HOME")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[track_caller]
fn succeeded(o: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "the installer failed: {err}");
    err
}

/// The ELF machine of a file (`e_machine`).
fn elf_machine(path: &Path) -> u16 {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..4], b"\x7fELF", "{} is not ELF", path.display());
    u16::from_le_bytes([b[18], b[19]])
}

/// A directory holding a `uname` that answers `-m` with `machine` (and `-s` `Linux`).
fn fake_uname(dir: &Path, machine: &str) -> PathBuf {
    let bin = dir.join("fake-uname");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("uname");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncase \"$1\" in -m) echo {machine} ;; -s) echo Linux ;; *) exec /bin/uname \"$@\" ;; esac\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    bin
}

fn path_with(first: &Path) -> PathBuf {
    PathBuf::from(format!(
        "{}:{}",
        first.display(),
        std::env::var("PATH").unwrap()
    ))
}

#[test]
fn the_installer_served_from_loopback_installs_the_machines_binary_and_refuses_a_swapped_archive() {
    require("dash");
    require("bash");
    require("busybox");
    let files = Files::start();
    let out = package_hello(
        &[AMD, ARM],
        &["--installers", "--download-url", &files.url()],
    );
    verify(out.path(), &[]).success();
    let sh = out.path().join("hello-installer.sh");
    let ps1 = out.path().join("hello-installer.ps1");
    // Listed in the manifest and SHA256SUMS, as release files.
    let sums = std::fs::read_to_string(out.path().join("SHA256SUMS")).unwrap();
    for f in ["hello-installer.sh", "hello-installer.ps1"] {
        assert!(sums.contains(&format!("  {f}\n")), "{sums}");
    }
    let text = std::fs::read_to_string(&sh).unwrap();
    assert!(
        text.contains(&format!("base_url='{}'", files.url())),
        "{text}"
    );
    serve_archives(out.path(), files.dir.path());
    let t = tempfile::tempdir().unwrap();

    // dash, bash and busybox ash: each installs the amd64 binary, which runs.
    for shell in [&["dash"][..], &["bash"], &["busybox", "sh"]] {
        let to = t.path().join(format!("to-{}", shell.join("-")));
        let err = succeeded(&install(shell, &sh, &["--to", to.to_str().unwrap()], &[]));
        assert!(err.contains(&format!("downloading {AMD_ARCHIVE}")), "{err}");
        let bin = to.join("hello");
        assert_eq!(elf_machine(&bin), 62, "x86_64");
        let said = crate::support::tool(Command::new(&bin).arg("--version"));
        assert_eq!(said.trim(), "hello 0.1.0");
        // Only the binary: no staging file left beside it.
        let left: Vec<_> = std::fs::read_dir(&to)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["hello"], "{}", shell.join(" "));
    }

    // As the docs run it: the script piped into the shell, its flags after `-s --`.
    let piped = t.path().join("piped");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat '{}' | bash -s -- --to '{}'",
            sh.display(),
            piped.display()
        ))
        .output()
        .unwrap();
    succeeded(&o);
    assert_eq!(elf_machine(&piped.join("hello")), 62);

    // No --to: `$CARGO_HOME/bin`, else `~/.cargo/bin`.
    let cargo_home = t.path().join("cargo-home");
    succeeded(&install(
        &["dash"],
        &sh,
        &[],
        &[("CARGO_HOME", &cargo_home)],
    ));
    assert!(cargo_home.join("bin/hello").is_file());
    let home = t.path().join("home");
    succeeded(&install(&["dash"], &sh, &[], &[("HOME", &home)]));
    assert!(home.join(".cargo/bin/hello").is_file());
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        1,
        "only ~/.cargo: no profile written"
    );

    // `uname -m` answering aarch64: the arm64 binary, which runs under qemu.
    let fake = fake_uname(t.path(), "aarch64");
    let arm_to = t.path().join("arm");
    let err = succeeded(&install(
        &["dash"],
        &sh,
        &["--to", arm_to.to_str().unwrap()],
        &[("PATH", &path_with(&fake))],
    ));
    assert!(err.contains(&format!("downloading {ARM_ARCHIVE}")), "{err}");
    let arm_bin = arm_to.join("hello");
    assert_eq!(elf_machine(&arm_bin), 183, "aarch64");
    let said = crate::support::tool(Command::new(qemu_aarch64()).arg(&arm_bin));
    assert_eq!(said.trim(), "hello 0.1.0 aarch64");

    // A machine the release has no build for: refused, naming what it has.
    let riscv = fake_uname(&t.path().join("rv"), "riscv64");
    let o = install(
        &["bash"],
        &sh,
        &["--to", "/nonexistent"],
        &[("PATH", &path_with(&riscv))],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("hello 0.1.0 has no build for linux/riscv64 (Linux riscv64); this release has: linux/amd64 linux/arm64"),
        "{err}"
    );

    // The served amd64 archive swapped for the arm64 one: refused, nothing installed.
    let served = files.dir.path().join(AMD_ARCHIVE);
    std::fs::copy(files.dir.path().join(ARM_ARCHIVE), &served).unwrap();
    for shell in ["dash", "bash"] {
        let to = t.path().join(format!("swapped-{shell}"));
        let o = install(&[shell], &sh, &["--to", to.to_str().unwrap()], &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{err}");
        assert!(
            err.contains(&format!("`{AMD_ARCHIVE}` has sha256 "))
                && err.contains("refusing to install it"),
            "{err}"
        );
        assert!(!to.exists(), "nothing installed, not even the directory");
    }
    // An installed binary is never half-replaced: the earlier install is intact.
    let to = t.path().join("to-dash");
    let o = install(&["dash"], &sh, &["--to", to.to_str().unwrap()], &[]);
    assert!(!o.status.success());
    assert_eq!(elf_machine(&to.join("hello")), 62);
    let left: Vec<_> = std::fs::read_dir(&to)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["hello"]);

    // A failed download (404): non-zero, nothing installed.
    std::fs::remove_file(&served).unwrap();
    let to = t.path().join("missing");
    let o = install(&["dash"], &sh, &["--to", to.to_str().unwrap()], &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!("cannot download `{}{AMD_ARCHIVE}`", files.url())),
        "{err}"
    );
    assert!(!to.exists());

    // The .ps1 (not run: no PowerShell here) carries no Linux archive and the same URL.
    let ps = std::fs::read_to_string(&ps1).unwrap();
    assert!(ps.contains(&format!("$baseUrl = '{}'", files.url())));
    assert!(
        !ps.contains(AMD_ARCHIVE) && ps.contains("$archives = @(\n\n)"),
        "{ps}"
    );
}

#[test]
fn per_target_archives_get_one_installer_pair_named_after_the_workspace() {
    let files = Files::start();
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&shared_fixture("multi"))
        .args([
            "package",
            "--archive",
            "per-target",
            "--installers",
            "--out-dir",
        ])
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi"))
        .args(["--download-url", &files.url()])
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("-installer."))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(names, ["multi-installer.ps1", "multi-installer.sh"]);
    serve_archives(out.path(), files.dir.path());
    let to = tempfile::tempdir().unwrap();
    succeeded(&install(
        &["dash"],
        &out.path().join("multi-installer.sh"),
        &["--to", to.path().to_str().unwrap()],
        &[],
    ));
    // Every binary of the archive, each of which runs.
    for (bin, says) in [
        ("alpha", "alpha 0.3.0"),
        ("alpha-admin", "alpha-admin 0.3.0"),
        ("beta-server", "beta-server 0.3.0"),
    ] {
        let said = crate::support::tool(Command::new(to.path().join(bin)).arg("--version"));
        assert!(said.starts_with(says), "{bin}: {said}");
    }
}

#[test]
fn the_installer_falls_back_to_wget_and_openssl() {
    require("wget");
    require("openssl");
    let files = Files::start();
    let out = package_hello(&[AMD], &["--installers", "--download-url", &files.url()]);
    serve_archives(out.path(), files.dir.path());
    // A PATH with only what a minimal system has, plus wget and openssl: no curl,
    // no sha256sum, no shasum.
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in [
        "uname", "mktemp", "tar", "gzip", "cut", "sed", "cp", "chmod", "mv", "mkdir", "rm", "cat",
        "grep", "wget", "openssl", "sysctl",
    ] {
        if let Ok(p) = which::which(tool) {
            std::os::unix::fs::symlink(p, bin.join(tool)).unwrap();
        }
    }
    let to = t.path().join("to");
    let err = succeeded(&install(
        &["/bin/dash"],
        &out.path().join("hello-installer.sh"),
        &["--to", to.to_str().unwrap()],
        &[("PATH", &bin)],
    ));
    assert!(err.contains("installed"), "{err}");
    assert_eq!(elf_machine(&to.join("hello")), 62);
}

#[test]
fn merge_writes_installers_that_know_every_platform() {
    let url = "https://dl.example/releases/download/{tag}/";
    let amd = package_hello(&[AMD], &["--installers", "--download-url", url]);
    let arm = package_hello(&[ARM], &["--installers", "--download-url", url]);
    let both = package_hello(&[AMD, ARM], &["--installers", "--download-url", url]);
    let merged = tempfile::tempdir().unwrap();
    let r = run(multiarch(merged.path())
        .arg("merge")
        .arg(amd.path())
        .arg(arm.path())
        .args(["--message-format", "json"])
        .arg("--out-dir")
        .arg(merged.path().join("out")))
    .success();
    assert!(r.stderr().contains("hello-installer.sh"), "{}", r.stderr());
    // Each installer is a `packaged` event of kind `installer`, as the schema has it.
    let events = crate::events::events(&r.stdout());
    let installers: Vec<&str> = events
        .iter()
        .filter(|e| e["reason"] == "packaged" && e["kind"] == "installer")
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(installers, ["hello-installer.ps1", "hello-installer.sh"]);
    let m = merged.path().join("out");
    let text = std::fs::read_to_string(m.join("hello-installer.sh")).unwrap();
    assert!(
        text.contains(AMD_ARCHIVE) && text.contains(ARM_ARCHIVE),
        "{text}"
    );
    assert!(text.contains("base_url='https://dl.example/releases/download/v0.1.0/'"));
    // Byte for byte what packaging both at once writes.
    for f in ["hello-installer.sh", "hello-installer.ps1"] {
        assert_eq!(
            std::fs::read(m.join(f)).unwrap(),
            std::fs::read(both.path().join(f)).unwrap(),
            "{f}"
        );
    }
    verify(&m, &[]).success();
    validates(&m.join("manifest.json"));

    // Inputs whose installers download from different places: refused, unless told.
    let other = package_hello(
        &[ARM],
        &[
            "--installers",
            "--download-url",
            "https://elsewhere.example/",
        ],
    );
    let err = run(multiarch(merged.path())
        .arg("merge")
        .arg(amd.path())
        .arg(other.path())
        .arg("--out-dir")
        .arg(merged.path().join("out2")))
    .failure()
    .stderr();
    assert!(
        err.contains("the installers of `hello` download from"),
        "{err}"
    );
    run(multiarch(merged.path())
        .arg("merge")
        .arg(amd.path())
        .arg(other.path())
        .args(["--download-url", "https://third.example/{version}"])
        .arg("--out-dir")
        .arg(merged.path().join("out3")))
    .success();
    let text = std::fs::read_to_string(merged.path().join("out3/hello-installer.sh")).unwrap();
    assert!(
        text.contains("base_url='https://third.example/0.1.0/'"),
        "{text}"
    );
}

#[test]
fn verify_refuses_an_installer_that_carries_another_archive_hash() {
    let out = package_hello(
        &[AMD],
        &["--installers", "--download-url", "https://dl.example/"],
    );
    let sh = out.path().join("hello-installer.sh");
    let text = std::fs::read_to_string(&sh).unwrap();
    let m = json(&out.path().join("manifest.json"));
    let archive = m["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "archive")
        .unwrap();
    let real = archive["sha256"].as_str().unwrap();
    let forged = text.replace(real, &"0".repeat(64));
    assert_ne!(forged, text);
    std::fs::write(&sh, &forged).unwrap();
    // The manifest and SHA256SUMS made to agree with the forged file: only the
    // installer's own check can notice.
    let (sha, size) = (crate::support::sha256_hex(forged.as_bytes()), forged.len());
    edit_manifest(out.path(), |m| {
        for a in m["artifacts"].as_array_mut().unwrap() {
            if a["path"] == "hello-installer.sh" {
                a["sha256"] = sha.clone().into();
                a["size"] = size.into();
            }
        }
    });
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains(&format!(
            "FAILED   hello-installer.sh: it does not carry archive `{AMD_ARCHIVE}` with sha256 {real} as the manifest lists it"
        )),
        "{stdout}"
    );
}

/// `manifest.json` validates against `schema/manifest-v1.schema.json`.
fn validates(manifest: &Path) {
    crate::support::require_python("jsonschema");
    let schema = crate::support::repo().join("schema/manifest-v1.schema.json");
    let script = format!(
        "import json, jsonschema; jsonschema.Draft202012Validator(json.load(open('{}'))).validate(json.load(open('{}')))",
        schema.display(),
        manifest.display()
    );
    let r = run(Command::new("python3").args(["-c", &script]));
    assert!(r.out.status.success(), "{}", r.stderr());
}

/// A key pair made by `minisign -G -W` in `dir`.
fn keypair(dir: &Path) {
    require("minisign");
    let ok = Command::new("minisign")
        .args(["-G", "-W", "-p"])
        .arg(dir.join("k.pub"))
        .arg("-s")
        .arg(dir.join("k.key"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "minisign -G failed");
}

#[test]
fn sign_writes_a_minisign_signature_per_archive_for_binstall() {
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path());
    let out = package_hello(
        &[AMD, ARM],
        &["--installers", "--download-url", "https://dl.example/"],
    );
    run(multiarch(out.path())
        .args(["sign", "--key"])
        .arg(keys.path().join("k.key"))
        .arg("--out-dir")
        .arg(out.path()))
    .success();
    for (dir, name) in [("linux/amd64", AMD_ARCHIVE), ("linux/arm64", ARM_ARCHIVE)] {
        let archive = out.path().join(dir).join(name);
        let said = run(Command::new("minisign")
            .args(["-V", "-p"])
            .arg(keys.path().join("k.pub"))
            .arg("-m")
            .arg(&archive)
            .arg("-x")
            .arg(out.path().join(dir).join(format!("{name}.sig"))))
        .success()
        .stdout();
        assert!(
            said.contains(&format!("Trusted comment: file:{name}\thashed")),
            "{said}"
        );
    }
    let public = keys.path().join("k.pub");
    let with_key = || {
        run(multiarch(out.path())
            .arg("verify")
            .arg("--out-dir")
            .arg(out.path())
            .arg("--public-key")
            .arg(&public))
    };
    with_key().success();
    // One archive's signature swapped for the other's: verify and minisign refuse.
    let amd_sig = out.path().join(format!("linux/amd64/{AMD_ARCHIVE}.sig"));
    std::fs::copy(
        out.path().join(format!("linux/arm64/{ARM_ARCHIVE}.sig")),
        &amd_sig,
    )
    .unwrap();
    let stdout = with_key().failure().stdout();
    assert!(
        stdout.contains(&format!(
            "FAILED   linux/amd64/{AMD_ARCHIVE}.sig: the signature does not match the file"
        )),
        "{stdout}"
    );
    std::fs::remove_file(&amd_sig).unwrap();
    let stdout = with_key().failure().stdout();
    assert!(
        stdout.contains(&format!("FAILED   linux/amd64/{AMD_ARCHIVE}.sig: missing")),
        "{stdout}"
    );

    // Packaged again the same: the archives are the same bytes, their `.sig` stays;
    // at another compression level they change, and their `.sig` goes.
    let arm_sig = out.path().join(format!("linux/arm64/{ARM_ARCHIVE}.sig"));
    let again = |level: &str| {
        run(multiarch(&shared_fixture("hello"))
            .args(["package", "--no-build", "--compression", level, "--out-dir"])
            .arg(out.path())
            .args(["--target", AMD, "--target", ARM])
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success();
    };
    again("default");
    assert!(arm_sig.is_file());
    again("1");
    assert!(!arm_sig.exists(), "a stale signature is removed");
}

#[test]
fn binstall_metadata_names_our_archives_and_the_signing_key() {
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path());
    let stdout = run(multiarch(&shared_fixture("hello"))
        .args([
            "package",
            "--binstall-metadata",
            "--download-url",
            "https://github.com/o/hello/releases/download/{tag}/",
            "--target",
            AMD,
            "--target",
            "x86_64-pc-windows-gnu",
            "--public-key",
        ])
        .arg(keys.path().join("k.pub")))
    .success()
    .stdout();
    let table: toml::Value = toml::from_str(&stdout).unwrap();
    let b = &table["package"]["metadata"]["binstall"];
    assert_eq!(
        b["pkg-url"].as_str(),
        Some(
            "https://github.com/o/hello/releases/download/v{ version }/{ name }-{ version }-{ target }.tar.gz"
        )
    );
    assert_eq!(
        b["bin-dir"].as_str(),
        Some("{ name }-{ version }-{ target }/{ bin }{ binary-ext }")
    );
    let win = &b["overrides"]["x86_64-pc-windows-gnu"];
    assert_eq!(win["pkg-fmt"].as_str(), Some("zip"));
    assert!(win["pkg-url"].as_str().unwrap().ends_with("{ target }.zip"));
    let pubkey = std::fs::read_to_string(keys.path().join("k.pub")).unwrap();
    assert_eq!(b["signing"]["algorithm"].as_str(), Some("minisign"));
    assert_eq!(b["signing"]["pubkey"].as_str(), pubkey.lines().nth(1));
}

/// cargo-binstall itself, installing from the loopback server with our table, our
/// archives and their `.sig`: it installs a binary that runs, and refuses an archive
/// whose bytes are not the signed ones. Ignored by default: cargo-binstall is not in
/// `scripts/setup` (it takes 36 min to build here, and its current release needs rustc
/// 1.96.1, newer than this machine's stable: `cargo +nightly install --locked
/// cargo-binstall`); run it with `cargo test --test cli -- --ignored binstall` where
/// `cargo-binstall` is on PATH.
#[test]
#[ignore = "needs cargo-binstall on PATH (not in scripts/setup: a 36 min build here)"]
fn cargo_binstall_installs_a_signed_archive_from_loopback_and_refuses_a_tampered_one() {
    require("cargo-binstall");
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path());
    let files = Files::start();
    let out = package_hello(&[AMD], &["--download-url", &files.url()]);
    run(multiarch(out.path())
        .args(["sign", "--key"])
        .arg(keys.path().join("k.key"))
        .arg("--out-dir")
        .arg(out.path()))
    .success();
    let archive = out.path().join("linux/amd64").join(AMD_ARCHIVE);
    std::fs::copy(&archive, files.dir.path().join(AMD_ARCHIVE)).unwrap();
    std::fs::copy(
        out.path().join(format!("linux/amd64/{AMD_ARCHIVE}.sig")),
        files.dir.path().join(format!("{AMD_ARCHIVE}.sig")),
    )
    .unwrap();

    // The crate's manifest with the table `--binstall-metadata` prints.
    let (_tmp, crate_dir) = crate::support::private_fixture("hello");
    let table = run(multiarch(&crate_dir)
        .args(["package", "--binstall-metadata", "--target", AMD])
        .args(["--download-url", &files.url(), "--public-key"])
        .arg(keys.path().join("k.pub")))
    .success()
    .stdout();
    let manifest = crate_dir.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text = text.replace("\n[workspace]", &format!("\n{table}\n[workspace]"));
    std::fs::write(&manifest, text).unwrap();

    let t = tempfile::tempdir().unwrap();
    let binstall = |to: &Path| {
        run(Command::new("cargo-binstall")
            .args(["--manifest-path"])
            .arg(&crate_dir)
            .args([
                "--no-confirm",
                "--strategies",
                "crate-meta-data",
                "--only-signed",
                "--no-track",
                "--disable-telemetry",
                "--no-discover-github-token",
                "--allow-insecure-http",
                "--targets",
                AMD,
                "--install-path",
            ])
            .arg(to)
            .arg("hello")
            .env("HOME", t.path())
            .env("CARGO_HOME", t.path().join("cargo")))
    };
    let to = t.path().join("bin");
    let r = binstall(&to).success();
    assert!(
        r.stderr().contains("Verified signature") || r.stdout().contains("Verified signature"),
        "{}{}",
        r.stdout(),
        r.stderr()
    );
    let said = crate::support::tool(Command::new(to.join("hello")).arg("--version"));
    assert_eq!(said.trim(), "hello 0.1.0");

    // The served archive replaced by other bytes of the same content (another
    // compression level): a valid archive, but not the signed one.
    let other = package_hello(&[AMD], &["--compression", "1"]);
    let tampered = std::fs::read(other.path().join("linux/amd64").join(AMD_ARCHIVE)).unwrap();
    assert_ne!(tampered, std::fs::read(&archive).unwrap());
    std::fs::write(files.dir.path().join(AMD_ARCHIVE), tampered).unwrap();
    let to = t.path().join("bin2");
    let r = binstall(&to).failure();
    let said = format!("{}{}", r.stdout(), r.stderr());
    assert!(said.to_lowercase().contains("signature"), "{said}");
    assert!(!to.join("hello").exists(), "nothing installed: {said}");
}
