use super::*;
use crate::layout;
use crate::platform::Target;

fn quiet() -> Shell {
    Shell::new(None, true, 0)
}

fn x86() -> Target {
    crate::testgen::known("x86_64-unknown-linux-musl")
}

fn record(bins: &[(&str, &[u8])]) -> BuildRecord {
    let t = x86();
    BuildRecord {
        schema: SCHEMA.to_owned(),
        target: t.name(),
        platform: t.platform(),
        backend: "cargo".into(),
        profile: "release".into(),
        binaries: bins
            .iter()
            .map(|(name, bytes)| StagedBinary {
                package: "p".into(),
                version: "1.0.0".into(),
                binary: (*name).to_owned(),
                target: t.name(),
                platform: t.platform(),
                backend: "cargo".into(),
                profile: "release".into(),
                path: layout::binary(t.platform(), name).unwrap(),
                sha256: Sha256::of(bytes),
                size: bytes.len() as u64,
            })
            .collect(),
        dependencies: Vec::new(),
        features: Vec::new(),
        strip: false,
        zig: None,
    }
}

#[test]
fn dependency_graphs_round_trip_and_bad_ones_are_refused() {
    use crate::sbom::graph::{Crate, Graph, Kind, Source};
    let mut r = record(&[("app", b"x")]);
    r.dependencies = vec![Graph {
        package: "p".into(),
        crates: vec![Crate {
            name: "p".into(),
            version: "1.0.0".into(),
            source: Source::Path { path: ".".into() },
            kind: Kind::Runtime,
            root: true,
            proc_macro: false,
            license: Some("MIT".into()),
            checksum: None,
            links: None,
            c_code: Vec::new(),
            dependencies: Vec::new(),
        }],
    }];
    let t = x86();
    let bytes = serde_json::to_vec(&r).unwrap();
    assert_eq!(
        BuildRecord::parse(&bytes, &t.name(), Some(t.platform())).unwrap(),
        r
    );
    let mut twice = r.clone();
    twice.dependencies.push(r.dependencies[0].clone());
    let err = BuildRecord::parse(
        &serde_json::to_vec(&twice).unwrap(),
        &t.name(),
        Some(t.platform()),
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("two dependency graphs of `p`"),
        "{err:#}"
    );
    let mut cyclic = r.clone();
    cyclic.dependencies[0].crates[0].dependencies = vec![0];
    let err = BuildRecord::parse(
        &serde_json::to_vec(&cyclic).unwrap(),
        &t.name(),
        Some(t.platform()),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("out of range"), "{err:#}");
}

fn out() -> (tempfile::TempDir, OutDir) {
    let t = tempfile::tempdir().unwrap();
    let dir = OutDir::create(camino::Utf8Path::from_path(t.path()).unwrap()).unwrap();
    (t, dir)
}

#[test]
fn records_that_point_anywhere_but_their_own_binaries_are_refused() {
    let good = serde_json::to_value(record(&[("app", b"x")])).unwrap();
    let parse = |v: &serde_json::Value| {
        BuildRecord::parse(
            &serde_json::to_vec(v).unwrap(),
            &x86().name(),
            Some(x86().platform()),
        )
    };
    parse(&good).unwrap();
    for (field, value) in [
        ("path", "../../etc/passwd"),
        ("path", "/etc/passwd"),
        ("path", "linux/arm64/bin/app"),
        ("path", "linux/amd64/bin/other"),
        ("platform", "linux/../../../x"),
        ("platform", "linux/arm64"),
        ("target", "aarch64-unknown-linux-musl"),
        ("sha256", "x"),
        ("binary", "a/b"),
        ("package", "\u{1b}[2J"),
    ] {
        let mut v = good.clone();
        v["binaries"][0][field] = value.into();
        assert!(parse(&v).is_err(), "{field} = {value:?} was accepted");
    }
    let mut v = good.clone();
    v["target"] = "aarch64-unknown-linux-musl".into();
    assert!(parse(&v).is_err(), "a record filed under another target");
    let mut v = good;
    v["extra"] = 1.into();
    assert!(parse(&v).is_err(), "unknown fields");
}

#[test]
fn a_staging_interrupted_after_its_journal_is_finished_by_the_next_run() {
    let (_t, out) = out();
    let old = record(&[("app", b"old"), ("gone", b"old2")]);
    for b in &old.binaries {
        out.write(&b.path, if b.binary == "app" { b"old" } else { b"old2" })
            .unwrap();
    }
    old.write(&out).unwrap();
    // The new staging wrote its temporary file and journal, renamed nothing, and died.
    let new = record(&[("app", b"new")]);
    let dest = new.binaries[0].path.clone();
    let (tmp, ()) = out
        .write_temp(&dest, |f| Ok(std::io::Write::write_all(f, b"new")?))
        .unwrap();
    let journal = Journal {
        record: new.clone(),
        moves: vec![(tmp, dest.clone())],
        remove: vec![old.binaries[1].path.clone()],
    };
    out.write(
        &layout::journal(&x86().name()),
        &serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    // Until recovery the previous state is whole.
    assert_eq!(
        BuildRecord::read(&out, &x86().name(), None).unwrap(),
        Some(old.clone())
    );
    recover(&out, &quiet()).unwrap();
    assert_eq!(
        BuildRecord::read(&out, &x86().name(), None).unwrap(),
        Some(new)
    );
    assert_eq!(out.read(&dest, 10).unwrap(), b"new");
    assert_eq!(out.kind(&old.binaries[1].path).unwrap(), None);
    assert_eq!(out.kind(&layout::journal(&x86().name())).unwrap(), None);
}

#[test]
fn a_journal_whose_files_are_gone_or_tampered_withdraws_the_target() {
    let (_t, out) = out();
    let old = record(&[("app", b"old")]);
    out.write(&old.binaries[0].path, b"old").unwrap();
    old.write(&out).unwrap();
    let new = record(&[("app", b"new")]);
    let dest = new.binaries[0].path.clone();
    let journal = Journal {
        record: new,
        moves: vec![(
            RelPath::new("linux/amd64/bin/.app.multiarch-tmp-1-1").unwrap(),
            dest,
        )],
        remove: vec![],
    };
    out.write(
        &layout::journal(&x86().name()),
        &serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    recover(&out, &quiet()).unwrap();
    assert_eq!(BuildRecord::read(&out, &x86().name(), None).unwrap(), None);
    assert_eq!(out.kind(&layout::journal(&x86().name())).unwrap(), None);

    // A journal that would move a file outside its binaries' directory is refused.
    let mut v = serde_json::to_value(&journal).unwrap();
    v["moves"][0][0] = "manifest.json".into();
    assert!(Journal::parse(&serde_json::to_vec(&v).unwrap(), &x86().name()).is_err());
    let mut v = serde_json::to_value(&journal).unwrap();
    v["remove"] = serde_json::json!(["manifest.json"]);
    assert!(Journal::parse(&serde_json::to_vec(&v).unwrap(), &x86().name()).is_err());
}

/// A journal of a staging that wrote `new` at a temporary name beside `app`, renamed
/// nothing yet and died, over a previous staging of `old`; the temporary file's name.
fn interrupted(out: &OutDir, old: &[u8], new: &[u8]) -> (BuildRecord, BuildRecord, RelPath) {
    let old_rec = record(&[("app", old)]);
    out.write(&old_rec.binaries[0].path, old).unwrap();
    old_rec.write(out).unwrap();
    let new_rec = record(&[("app", new)]);
    let dest = new_rec.binaries[0].path.clone();
    let (tmp, ()) = out
        .write_temp(&dest, |f| Ok(std::io::Write::write_all(f, new)?))
        .unwrap();
    let journal = Journal {
        record: new_rec.clone(),
        moves: vec![(tmp.clone(), dest)],
        remove: vec![],
    };
    out.write(
        &layout::journal(&x86().name()),
        &serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    (old_rec, new_rec, tmp)
}

#[test]
fn a_temporary_file_tampered_with_is_never_renamed_into_place() {
    // Other bytes of the same size, and other bytes of another size.
    for evil in [&b"EVIL"[..], &b"evil binary"[..]] {
        let (_t, out) = out();
        let (old, _, tmp) = interrupted(&out, b"old", b"good");
        out.write(&tmp, evil).unwrap();
        recover(&out, &quiet()).unwrap();
        // Nothing was renamed: the previous staging is kept whole, the rest removed.
        assert_eq!(out.read(&old.binaries[0].path, 64).unwrap(), b"old");
        assert_eq!(
            BuildRecord::read(&out, &x86().name(), None).unwrap(),
            Some(old)
        );
        assert_eq!(out.kind(&tmp).unwrap(), None);
        assert_eq!(out.kind(&layout::journal(&x86().name())).unwrap(), None);
    }
}

#[test]
fn a_tampered_temporary_file_after_a_partial_rename_withdraws_the_target() {
    let (_t, out) = out();
    let old = record(&[("app", b"old"), ("two", b"old2")]);
    out.write(&old.binaries[0].path, b"old").unwrap();
    out.write(&old.binaries[1].path, b"old2").unwrap();
    old.write(&out).unwrap();
    let new = record(&[("app", b"new"), ("two", b"new2")]);
    let mut moves = Vec::new();
    for (b, bytes) in new.binaries.iter().zip([&b"new"[..], b"new2"]) {
        let (tmp, ()) = out
            .write_temp(&b.path, |f| Ok(std::io::Write::write_all(f, bytes)?))
            .unwrap();
        moves.push((tmp, b.path.clone()));
    }
    let journal = Journal {
        record: new,
        moves: moves.clone(),
        remove: vec![],
    };
    out.write(
        &layout::journal(&x86().name()),
        &serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    // The first rename happened; then the second temporary file was replaced.
    out.rename(&moves[0].0, &moves[0].1).unwrap();
    out.write(&moves[1].0, b"EVIL").unwrap();
    recover(&out, &quiet()).unwrap();
    assert_eq!(BuildRecord::read(&out, &x86().name(), None).unwrap(), None);
    assert_eq!(
        out.kind(&moves[1].1).unwrap(),
        None,
        "the old binary went with its record"
    );
    assert_eq!(out.kind(&moves[1].0).unwrap(), None);
    assert_eq!(out.kind(&layout::journal(&x86().name())).unwrap(), None);
}

#[test]
fn a_journal_may_move_only_temporary_files() {
    let (_t, out) = out();
    let (_, new, tmp) = interrupted(&out, b"old", b"new");
    let journal = Journal {
        record: new,
        moves: vec![(tmp, RelPath::new("linux/amd64/bin/app").unwrap())],
        remove: vec![],
    };
    let mut v = serde_json::to_value(&journal).unwrap();
    Journal::parse(&serde_json::to_vec(&v).unwrap(), &x86().name()).unwrap();
    v["moves"][0][0] = "linux/amd64/bin/other".into();
    let err = Journal::parse(&serde_json::to_vec(&v).unwrap(), &x86().name()).unwrap_err();
    assert!(
        format!("{err:#}").contains("not a temporary file"),
        "{err:#}"
    );
}
