use std::os::unix::fs::symlink;

use super::*;

fn lock_rel() -> RelPath {
    rel(".multiarch/lock")
}

fn rel(s: &str) -> RelPath {
    RelPath::new(s).unwrap()
}

fn tmp() -> (tempfile::TempDir, OutDir) {
    let t = tempfile::tempdir().unwrap();
    let out = Utf8Path::from_path(t.path()).unwrap().join("out");
    let dir = OutDir::create(&out).unwrap();
    (t, dir)
}

#[test]
fn rel_paths_hold_only_normal_components() {
    for good in [
        "a",
        "linux/amd64/bin/app",
        "oci/blobs/sha256/ab",
        ".multiarch/x.json",
        "a b/c",
    ] {
        assert_eq!(rel(good).as_str(), good);
    }
    for bad in [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a/./b",
        "a//b",
        "a/",
        ".",
        "..",
        "a\\b",
        "a\nb",
        "a\0b",
        "C:\\x",
    ] {
        assert!(RelPath::new(bad).is_err(), "{bad:?} was accepted");
    }
    assert!(RelPath::new(&"a/".repeat(600)).is_err());
    assert!(RelPath::new(&"x".repeat(256)).is_err());
    assert!(serde_json::from_str::<RelPath>(r#""../../etc""#).is_err());
    assert_eq!(rel("a/b").join("c").unwrap(), rel("a/b/c"));
    assert!(rel("a").join("..").is_err());
    assert_eq!(rel("a/b").parent(), Some(rel("a")));
    assert_eq!(rel("a").parent(), None);
}

#[test]
fn temp_names_are_unique_and_recognised() {
    let a = temp_sibling(Utf8Path::new("linux/amd64/bin/app"));
    let b = temp_sibling(Utf8Path::new("linux/amd64/bin/app"));
    assert_ne!(a, b);
    assert_eq!(a.parent(), Some(Utf8Path::new("linux/amd64/bin")));
    assert!(is_temp(a.file_name().unwrap()), "{a}");
    let long = temp_sibling(Utf8Path::new(&"x".repeat(255)));
    let name = long.file_name().unwrap();
    assert!(name.len() <= 255 && is_temp(name), "{long}");
}

/// Found by `temp_names_fit_beside_any_valid_path`: a long name of two-byte characters
/// (as a manifest read by `merge` may give) put the cut inside a character.
#[test]
fn temp_names_of_long_non_ascii_names_are_cut_between_characters() {
    for c in ["¡", "日", "🦀"] {
        let file = c.repeat(255 / c.len());
        let tmp = temp_sibling(Utf8Path::new(&format!("a/{file}")));
        let name = tmp.file_name().unwrap();
        assert!(name.len() <= 255 && is_temp(name), "{tmp}");
    }
}

#[test]
fn a_symlinked_directory_below_the_root_is_never_followed() {
    let (t, out) = tmp();
    let victim = Utf8Path::from_path(t.path()).unwrap().join("victim");
    fs::create_dir(&victim).unwrap();
    fs::write(victim.join("precious"), b"keep").unwrap();
    fs::create_dir_all(out.root().join("oci/blobs")).unwrap();
    symlink(&victim, out.root().join("oci/blobs/sha256")).unwrap();

    let p = rel("oci/blobs/sha256/precious");
    assert!(out.remove(&p).is_err());
    assert!(out.read(&p, 100).is_err());
    assert!(out.write(&p, b"x").is_err());
    assert!(out.list(Some(&rel("oci/blobs/sha256"))).is_err());
    assert!(out.subdir(&rel("oci/blobs/sha256")).is_err());
    assert!(out.create_dirs(&rel("oci/blobs/sha256/more")).is_err());
    assert_eq!(fs::read(victim.join("precious")).unwrap(), b"keep");
    assert_eq!(fs::read_dir(&victim).unwrap().count(), 1);
}

#[test]
fn a_symlinked_file_is_neither_read_nor_written_through() {
    let (t, out) = tmp();
    let victim = Utf8Path::from_path(t.path()).unwrap().join("victim");
    fs::write(&victim, b"secret").unwrap();
    symlink(&victim, out.root().join("link")).unwrap();
    let e = out.read(&rel("link"), 100).unwrap_err();
    assert!(format!("{e:#}").contains("symlink"), "{e:#}");
    assert!(out.hash(&rel("link")).is_err());
    // Writing replaces the link itself, never the file it points at.
    out.write(&rel("link"), b"new").unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"secret");
    assert_eq!(out.read(&rel("link"), 100).unwrap(), b"new");
    // Removing a link removes the link.
    symlink(&victim, out.root().join("link2")).unwrap();
    out.remove(&rel("link2")).unwrap();
    assert!(victim.exists());
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let (_t, out) = tmp();
    let fifo = out.root().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        fifo.as_std_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let e = out.hash(&rel("fifo")).unwrap_err();
    assert!(format!("{e:#}").contains("FIFO"), "{e:#}");
    // Even the low-level open never blocks on one.
    assert!(open_regular(&fifo).is_err());
}

#[test]
fn writes_are_atomic_and_leave_no_temp_files() {
    let (_t, out) = tmp();
    out.write(&rel("a/b/c"), b"one").unwrap();
    out.write(&rel("a/b/c"), b"two").unwrap();
    assert_eq!(out.read(&rel("a/b/c"), 10).unwrap(), b"two");
    let r: Result<()> = out.write_with(&rel("a/b/c"), |f| {
        f.write_all(b"half")?;
        bail!("interrupted")
    });
    assert!(r.is_err());
    assert_eq!(out.read(&rel("a/b/c"), 10).unwrap(), b"two");
    assert_eq!(out.list(Some(&rel("a/b"))).unwrap().len(), 1);
    assert!(out.read(&rel("a/b/c"), 2).is_err(), "size limit");
}

#[test]
fn temp_files_of_dead_runs_are_swept_under_the_lock() {
    let (_t, out) = tmp();
    out.write(&rel("linux/amd64/app.tar.gz"), b"x").unwrap();
    let stale = out
        .root()
        .join("linux/amd64/.app.tar.gz.multiarch-tmp-999999-0");
    fs::write(&stale, b"half").unwrap();
    let lock = out
        .lock(&lock_rel(), LockMode::Exclusive { no_wait: true }, |_| {})
        .unwrap();
    assert!(stale.exists(), "the lock alone removes nothing");
    assert_eq!(out.sweep_temps().unwrap(), 1);
    assert!(!stale.exists());
    assert!(out.root().join("linux/amd64/app.tar.gz").exists());
    drop(lock);
}

#[test]
fn a_second_writer_fails_with_no_wait_and_a_reader_waits_for_none() {
    let (_t, out) = tmp();
    let held = out
        .lock(&lock_rel(), LockMode::Exclusive { no_wait: true }, |_| {})
        .unwrap();
    let e = out
        .lock(&lock_rel(), LockMode::Exclusive { no_wait: true }, |_| {})
        .unwrap_err();
    assert!(format!("{e:#}").contains("holds the lock"), "{e:#}");
    assert!(
        out.lock(&lock_rel(), LockMode::Shared { no_wait: true }, |_| {})
            .is_err()
    );
    drop(held);
    let _a = out
        .lock(&lock_rel(), LockMode::Shared { no_wait: true }, |_| {})
        .unwrap();
    let _b = out
        .lock(&lock_rel(), LockMode::Shared { no_wait: true }, |_| {})
        .unwrap();
}

#[test]
fn copies_are_bytes_never_links() {
    let (t, out) = tmp();
    let src_dir = Utf8Path::from_path(t.path()).unwrap().join("in");
    let input = OutDir::create(&src_dir).unwrap();
    input.write(&rel("x/f"), b"data").unwrap();
    let (sha, size) = out.copy_from(&input, &rel("x/f"), &rel("x/f")).unwrap();
    assert_eq!((sha, size), (Sha256::of(b"data"), 4));
    input.write(&rel("x/f"), b"changed").unwrap();
    assert_eq!(out.read(&rel("x/f"), 100).unwrap(), b"data");
    symlink("/etc/hostname", input.root().join("x/link")).unwrap();
    assert!(
        out.copy_from(&input, &rel("x/link"), &rel("x/link"))
            .is_err()
    );
    assert_eq!(out.kind(&rel("x/link")).unwrap(), None);
}

/// Property tests: any string is a clean path or an error, and no path reaches a file
/// outside the out dir.
mod props {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;
    use crate::testgen::{check_rel, component, config, nasty_string, rel_path};

    /// Names of what `tree` makes, and the pieces of a path that try to leave it.
    const PIECES: &[&str] = &[
        "file", "dir", "link", "dirlink", "abslink", "up", "fifo", "secret", "out", "..", ".", "",
        " ",
    ];

    /// `t/secret`, and an out dir `t/out` holding a file, a directory, a FIFO and
    /// symlinks that lead to `t/secret` or to `t` (relative and absolute).
    fn tree() -> (tempfile::TempDir, OutDir) {
        let (t, out) = tmp();
        let top = Utf8Path::from_path(t.path()).unwrap();
        fs::write(top.join("secret"), b"SECRET").unwrap();
        fs::write(top.join("out/file"), b"ok").unwrap();
        fs::create_dir(top.join("out/dir")).unwrap();
        fs::write(top.join("out/dir/file"), b"ok").unwrap();
        symlink("../secret", top.join("out/link")).unwrap();
        symlink("..", top.join("out/dirlink")).unwrap();
        symlink(top.join("secret"), top.join("out/abslink")).unwrap();
        symlink("../..", top.join("out/dir/up")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            top.join("out/fifo").as_std_path(),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        (t, out)
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn any_string_is_a_clean_rel_path_or_an_error(s in prop_oneof![nasty_string(), any::<String>()]) {
            let parsed = RelPath::new(&s);
            if let Ok(p) = &parsed {
                check_rel(p);
                prop_assert_eq!(p.as_str(), s.as_str());
            }
            let via_serde = serde_json::from_value::<RelPath>(serde_json::Value::String(s.clone()));
            prop_assert_eq!(via_serde.ok(), parsed.ok());
        }

        #[test]
        fn joins_and_parents_stay_clean(p in rel_path(), name in prop_oneof![nasty_string(), component()]) {
            if let Ok(j) = p.join(&name) {
                check_rel(&j);
                prop_assert_eq!(j.as_str(), format!("{p}/{name}"));
                if !name.contains('/') {
                    prop_assert_eq!(j.parent(), Some(p.clone()));
                    prop_assert_eq!(j.file_name(), name.as_str());
                }
            }
            let mut at = Some(p.clone());
            while let Some(q) = at {
                check_rel(&q);
                prop_assert!(!q.file_name().is_empty() && !q.file_name().contains('/'));
                prop_assert!(p.as_str().starts_with(q.as_str()));
                at = q.parent();
            }
        }

        #[test]
        fn temp_names_fit_beside_any_valid_path(p in rel_path()) {
            let tmp = temp_sibling(p.as_path());
            let name = tmp.file_name().unwrap();
            prop_assert!(name.len() <= MAX_COMPONENT && is_temp(name), "{}", tmp);
            let parent = p.parent();
            prop_assert_eq!(
                tmp.parent().filter(|d| !d.as_str().is_empty()),
                parent.as_ref().map(RelPath::as_path)
            );
            check_rel(&RelPath::new(tmp.as_str()).unwrap());
        }

        #[test]
        fn no_path_reads_outside_the_out_dir(
            parts in proptest::collection::vec(select(PIECES), 1..5),
        ) {
            let Ok(p) = RelPath::new(&parts.join("/")) else { return Ok(()) };
            let (_t, out) = tree();
            prop_assert_ne!(out.read(&p, 100).ok(), Some(b"SECRET".to_vec()));
            prop_assert_ne!(out.hash(&p).ok().map(|h| h.0), Some(Sha256::of(b"SECRET")));
            if let Ok(path) = out.file(&p) {
                prop_assert!(path.starts_with(out.root()), "{}", path);
                prop_assert_eq!(path.canonicalize_utf8().unwrap(), path.clone());
            }
            if let Ok(entries) = out.list(Some(&p)) {
                for (child, _) in entries {
                    check_rel(&child);
                    prop_assert_eq!(child.parent(), Some(p.clone()));
                }
            }
            if let Ok(sub) = out.subdir(&p) {
                prop_assert!(sub.root().starts_with(out.root()));
            }
        }
    }
}
