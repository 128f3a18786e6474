//! External tools for the tests: presence checks that fail the test when a tool is
//! missing, running commands, and real static binaries built with rust-lld.

use std::sync::Mutex;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use super::support::{platform, settings};
use crate::archive::{Entry, Source};
use crate::image::{ImageSpec, PlatformImage};
use crate::process::Process;

/// The string the real test binaries print.
pub(super) const HELLO: &str = "hello from a cargo-multiarch image";

/// A tool the test needs, on PATH. `scripts/setup` (which `scripts/test` runs)
/// installs every one, so a missing tool fails the test, naming the fix.
#[track_caller]
pub(super) fn require(tool: &str) {
    if which::which(tool).is_err() {
        missing(&format!("`{tool}`"));
    }
}

#[track_caller]
pub(super) fn missing(what: &str) -> ! {
    panic!("{what} is not installed (hint: run `scripts/setup`, which `scripts/test` runs)")
}

/// An image whose `usr/local/bin/hello` is a real static musl binary per platform.
pub(super) fn hello_spec(name: &str) -> ImageSpec {
    let mut platforms = Vec::new();
    for (p, triple) in [
        ("linux/amd64", "x86_64-unknown-linux-musl"),
        ("linux/arm64", "aarch64-unknown-linux-musl"),
    ] {
        let binary = hello_binary(triple);
        platforms.push(PlatformImage {
            platform: platform(p),
            files: vec![Entry {
                path: "usr/local/bin/hello".into(),
                source: Source::File(binary),
                mode: 0o755,
            }],
        });
    }
    ImageSpec {
        names: vec![name.into()],
        platforms,
        settings: settings(),
        created: 1_700_000_000,
        level: 6,
        attestations: Vec::new(),
        ..ImageSpec::default()
    }
}

/// Builds (once per checkout) a static binary printing [`HELLO`] for `triple` with
/// rust-lld, under `target/image-tests/`.
fn hello_binary(triple: &str) -> Utf8PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _guard = BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("target/image-tests");
    let dest = dir.join(format!("hello-v1-{triple}"));
    if dest.is_file() {
        return dest;
    }
    let Some(sysroot) = Process::new("rustc")
        .args(["--print", "sysroot"])
        .probe_stdout(Duration::from_secs(30))
    else {
        missing("`rustc`");
    };
    if !Utf8Path::new(&sysroot)
        .join("lib/rustlib")
        .join(triple)
        .is_dir()
    {
        missing(&format!("rust-std for `{triple}`"));
    }
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("hello.rs");
    std::fs::write(&src, format!("fn main() {{ println!(\"{HELLO}\"); }}\n")).unwrap();
    let temp = dir.join(format!(".hello-{triple}-{}", std::process::id()));
    Process::new("rustc")
        .args([
            "--edition",
            "2021",
            "--target",
            triple,
            "-C",
            "linker=rust-lld",
            "-C",
            "opt-level=s",
            "-C",
            "strip=symbols",
            "-o",
        ])
        .arg(&temp)
        .arg(&src)
        .output()
        .unwrap();
    std::fs::rename(&temp, &dest).unwrap();
    dest
}

/// Runs a command that must succeed; returns its stdout.
pub(super) fn run(p: &Process) -> String {
    let out = p.output().unwrap_or_else(|e| panic!("{e:#}"));
    String::from_utf8(out.stdout).expect("utf-8 output")
}
