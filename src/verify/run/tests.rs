use super::*;
use crate::digest::Sha256;
use crate::layout::Kind;
use crate::outdir::RelPath;

/// One amd64 "binary" at `linux/amd64/bin/app`.
fn one_binary() -> Artifact {
    let mut a = Artifact::new(
        Kind::Binary,
        RelPath::new("linux/amd64/bin/app").unwrap(),
        Sha256::of(b""),
        0,
    );
    a.target = Some(crate::platform::TargetName::new("x86_64-unknown-linux-musl").unwrap());
    a.platform = Some(Platform::parse("linux/amd64").unwrap());
    a
}

#[test]
fn run_returns_promptly_when_the_binary_leaves_a_daemon_holding_its_output() {
    if std::env::consts::ARCH != "x86_64" {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(tmp.path()).unwrap();
    let app = root.join("linux/amd64/bin/app");
    std::fs::create_dir_all(app.parent().unwrap()).unwrap();
    std::fs::write(&app, "#!/bin/sh\nsleep 5 &\necho \"app 1.0 $!\"\n").unwrap();
    std::fs::set_permissions(&app, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut r = Report::default();
    let start = std::time::Instant::now();
    let out = OutDir::existing(root).unwrap();
    run_binaries(&out, &[&one_binary()], &["--version".to_owned()], &mut r);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.runs.len(), 1, "{:?}", r.runs);
    let line = &r.runs[0].to_string();
    assert!(
        line.starts_with("ok       linux/amd64/bin/app  (native): app 1.0 "),
        "{line}"
    );
    // The daemon went with it.
    let pid = line.rsplit(' ').next().unwrap();
    let start = std::time::Instant::now();
    while std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.rsplit(')').next().unwrap().trim_start().starts_with('Z'))
    {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "`sleep` {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn each_platform_runs_natively_under_qemu_or_wine_or_is_only_checked() {
    let p = |s: &str| Platform::parse(s).unwrap();
    let host = Some(p("linux/amd64"));
    assert_eq!(how(p("linux/amd64"), host, false), How::Native);
    match how(p("linux/386"), host, false) {
        How::Qemu(q) => assert!(q.as_str().contains("qemu-i386"), "{q}"),
        How::Cannot(why) => assert!(why.contains("`qemu-i386` is not installed"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(how(p("windows/amd64"), host, true), How::Wine);
    let How::Checked(why) = how(p("windows/amd64"), host, false) else {
        panic!()
    };
    assert!(why.contains("wine, which is not installed"), "{why}");
    for mac in ["darwin/arm64", "darwin/universal2"] {
        assert_eq!(
            how(p(mac), host, true),
            How::Checked("macOS binaries are checked, not run".into())
        );
    }
    assert!(matches!(
        how(p("windows/arm64"), host, true),
        How::Checked(_)
    ));
    // On an arm64 Linux host, amd64 is the one qemu runs.
    let arm = Some(p("linux/arm64"));
    assert_eq!(how(p("linux/arm64"), arm, false), How::Native);
    assert!(matches!(
        how(p("linux/amd64"), arm, false),
        How::Qemu(_) | How::Cannot(_)
    ));
}

#[test]
fn the_forwarder_dll_is_a_pe32_plus_amd64_dll_exporting_process_prng() {
    let dll = bcryptprimitives_forwarder();
    assert_eq!(dll.len(), 0x400);
    let bin = crate::binary::parse(&dll).unwrap();
    assert_eq!(bin.format, Format::Pe);
    assert_eq!(bin.slices[0].arch, "amd64");
    let pe = object::read::pe::PeFile64::parse(&*dll).unwrap();
    let exports = pe.export_table().unwrap().unwrap().exports().unwrap();
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].name, Some(&b"ProcessPrng"[..]));
    assert!(
        matches!(
            exports[0].target,
            object::read::pe::ExportTarget::ForwardByName(b"advapi32", b"SystemFunction036")
        ),
        "{:?}",
        exports[0].target
    );
    // `file` agrees, when it is here.
    if let Ok(out) = std::process::Command::new("file")
        .arg("-")
        .stdin_bytes(&dll)
    {
        assert!(out.contains("PE32+ executable (DLL)"), "{out}");
    }
}

/// `Command` with bytes on stdin, for `file -`.
trait StdinBytes {
    fn stdin_bytes(&mut self, bytes: &[u8]) -> std::io::Result<String>;
}

impl StdinBytes for std::process::Command {
    fn stdin_bytes(&mut self, bytes: &[u8]) -> std::io::Result<String> {
        use std::io::Write as _;
        let mut child = self
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        child.stdin.take().unwrap().write_all(bytes)?;
        let out = child.wait_with_output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

#[test]
fn prefixes_of_dead_runs_are_swept_and_nothing_else() {
    let t = tempfile::tempdir().unwrap();
    let base = Utf8Path::from_path(t.path()).unwrap();
    let dead = base.join(format!("{PREFIX_NAME}999999999-1"));
    let alive = base.join(format!("{PREFIX_NAME}{}-1", std::process::id()));
    let other = base.join("cargo-multiarch-wine-x-1");
    let target = base.join("keep");
    for d in [&dead, &alive, &other, &target] {
        std::fs::create_dir_all(d.join("drive_c")).unwrap();
    }
    let link = base.join(format!("{PREFIX_NAME}999999998-1"));
    std::os::unix::fs::symlink(&target, &link).unwrap();
    sweep_stale_prefixes(base);
    assert!(!dead.exists());
    assert!(alive.is_dir() && other.is_dir());
    assert!(target.join("drive_c").is_dir(), "a link is never followed");
    assert!(link.symlink_metadata().is_ok());
}
