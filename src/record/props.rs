//! Property tests: any bytes are a record (or journal) of the expected target whose
//! binaries sit exactly at `<platform>/bin/<binary>`, or an error; never a panic.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::layout;
use crate::platform::TargetName;
use crate::testgen::{
    check_platform, check_rel, check_sha, check_target, config, damaged, json_any, mutated,
    nasty_string, plain, sha256, target_with_platform,
};

/// A binary name that makes a valid path: printable, no `/` or `\`, not `.`/`..`.
fn binary_name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z][a-z0-9_-]{0,15}", "[^/\\\\\\p{Cc}]{1,12}"]
        .prop_filter("a normal component", |s| s != "." && s != "..")
}

fn record_of(target: TargetName, platform: Platform) -> impl Strategy<Value = BuildRecord> {
    (
        plain(),
        plain(),
        vec(
            (plain(), plain(), binary_name(), sha256(), any::<u64>()),
            0..4,
        ),
    )
        .prop_map(move |(backend, profile, bins)| {
            let binaries = bins
                .into_iter()
                .map(|(package, version, binary, sha256, size)| StagedBinary {
                    path: layout::binary(platform, &binary).expect("a valid name"),
                    package,
                    version,
                    binary,
                    target: target.clone(),
                    platform,
                    backend: backend.clone(),
                    profile: profile.clone(),
                    sha256,
                    size,
                })
                .collect();
            BuildRecord {
                schema: SCHEMA.to_owned(),
                target: target.clone(),
                platform,
                backend,
                profile,
                binaries,
                dependencies: Vec::new(),
                features: vec!["--features=a,b".to_owned()],
                strip: true,
                zig: Some("0.15.1".to_owned()),
            }
        })
}

fn record() -> impl Strategy<Value = BuildRecord> {
    target_with_platform().prop_flat_map(|(t, p)| record_of(t, p))
}

/// What the temporary files of [`journal`]'s binaries hold.
const NEW_BINARY: &[u8] = b"new binary";

/// A journal as `Journal::commit` writes it: one move per binary from a temporary
/// name beside it (whose bytes, [`NEW_BINARY`], the record hashes), and old binaries
/// of the same platform to remove.
fn journal() -> impl Strategy<Value = Journal> {
    (record(), vec(binary_name(), 0..3)).prop_map(|(mut record, old)| {
        let bin = layout::bin_dir(record.platform);
        for b in &mut record.binaries {
            b.sha256 = Sha256::of(NEW_BINARY);
            b.size = NEW_BINARY.len() as u64;
        }
        Journal {
            moves: record
                .binaries
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let tmp = format!(".t{i}.multiarch-tmp-0-{i}");
                    (bin.join(&tmp).unwrap(), b.path.clone())
                })
                .collect(),
            remove: old.iter().map(|n| bin.join(n).unwrap()).collect(),
            record,
        }
    })
}

/// What every record that parses as `target`'s holds.
fn check_parsed(r: &BuildRecord, target: &TargetName) {
    assert_eq!(r.schema, SCHEMA);
    assert_eq!(&r.target, target);
    check_target(&r.target);
    check_platform(r.platform);
    for b in &r.binaries {
        assert_eq!((&b.target, b.platform), (&r.target, r.platform));
        let want = format!("{}/bin/{}{}", r.platform, b.binary, r.platform.exe_suffix());
        assert_eq!(b.path.as_str(), want);
        check_rel(&b.path);
        check_sha(&b.sha256);
        for s in [&b.package, &b.version, &b.binary, &b.backend, &b.profile] {
            plain_text("field", s).unwrap();
        }
    }
    let again =
        BuildRecord::parse(&serde_json::to_vec(r).unwrap(), target, Some(r.platform)).unwrap();
    assert_eq!(&again, r);
}

fn check_journal(j: &Journal, target: &TargetName) {
    check_parsed(&j.record, target);
    assert_eq!(j.moves.len(), j.record.binaries.len());
    let bin = layout::bin_dir(j.record.platform);
    for ((tmp, dest), b) in j.moves.iter().zip(&j.record.binaries) {
        check_rel(tmp);
        assert_eq!(dest, &b.path);
        assert_eq!(tmp.parent().as_ref(), Some(&bin));
    }
    for p in &j.remove {
        check_rel(p);
        assert_eq!(p.parent().as_ref(), Some(&bin));
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256), (t, p) in target_with_platform()) {
        if let Ok(r) = BuildRecord::parse(&bytes, &t, Some(p)) {
            prop_assert_eq!(r.platform, p);
            check_parsed(&r, &t);
        }
        if let Ok(j) = Journal::parse(&bytes, &t) {
            check_journal(&j, &t);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(json in json_any(), (t, p) in target_with_platform()) {
        let text = json.render();
        if let Ok(r) = BuildRecord::parse(text.as_bytes(), &t, Some(p)) {
            check_parsed(&r, &t);
        }
        if let Ok(j) = Journal::parse(text.as_bytes(), &t) {
            check_journal(&j, &t);
        }
    }

    #[test]
    fn valid_records_and_journals_round_trip(j in journal()) {
        let t = j.record.target.clone();
        check_journal(&j, &t);
        let r = BuildRecord::parse(&serde_json::to_vec(&j.record).unwrap(), &t, None).unwrap();
        prop_assert_eq!(&r, &j.record);
        let back = Journal::parse(&serde_json::to_vec(&j).unwrap(), &t).unwrap();
        prop_assert_eq!((back.record, back.moves, back.remove), (j.record, j.moves, j.remove));
    }

    #[test]
    fn records_with_any_field_replaced_never_panic(
        (r, text) in record().prop_flat_map(|r| {
            let doc = serde_json::to_value(&r).unwrap();
            (Just(r), mutated(doc))
        }),
        (other, p) in target_with_platform(),
    ) {
        for (t, p) in [(&r.target, Some(r.platform)), (&other, Some(p)), (&other, None)] {
            if let Ok(parsed) = BuildRecord::parse(text.as_bytes(), t, p) {
                check_parsed(&parsed, t);
            }
        }
    }

    #[test]
    fn journals_with_any_field_replaced_never_panic(
        (j, text) in journal().prop_flat_map(|j| {
            let doc = serde_json::to_value(&j).unwrap();
            (Just(j.record.target), mutated(doc))
        }),
    ) {
        if let Ok(parsed) = Journal::parse(text.as_bytes(), &j) {
            check_journal(&parsed, &j);
        }
    }

    #[test]
    fn damaged_records_never_panic(
        (t, bytes) in record().prop_flat_map(|r| {
            let text = serde_json::to_string(&r).unwrap();
            (Just(r.target), damaged(text))
        }),
    ) {
        if let Ok(r) = BuildRecord::parse(&bytes, &t, None) {
            check_parsed(&r, &t);
        }
    }
}

/// Every file below `dir`, with its bytes (symlinks as their targets).
fn snapshot(dir: &Utf8Path) -> BTreeMap<Utf8PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in d.read_dir_utf8().unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().to_owned();
            if t.is_dir() {
                stack.push(e.path().to_owned());
            } else if t.is_symlink() {
                let to = std::fs::read_link(e.path()).unwrap();
                out.insert(rel, to.into_os_string().into_encoded_bytes());
            } else {
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

proptest! {
    // Each case builds a small out dir on disk.
    #![proptest_config(config(64))]

    /// A journal left in `.multiarch/` is untrusted too: finishing or dropping it
    /// never panics and only ever touches `<platform>/bin/` and `.multiarch/`.
    #[test]
    fn recovering_any_journal_stays_in_bin_and_records(
        (j, exact, text) in journal().prop_flat_map(|j| {
            let doc = serde_json::to_value(&j).unwrap();
            let exact = serde_json::to_string(&j).unwrap();
            (Just(j), Just(exact.clone()), prop_oneof![Just(exact), mutated(doc), nasty_string()])
        }),
        temps_written in any::<bool>(),
    ) {
        let t = tempfile::tempdir().unwrap();
        let top = Utf8Path::from_path(t.path()).unwrap();
        std::fs::write(top.join("secret"), b"SECRET").unwrap();
        let out = OutDir::create(&top.join("out")).unwrap();
        let platform = layout::platform_dir(j.record.platform);
        out.write(&platform.join("app.tar.gz").unwrap(), b"archive").unwrap();
        out.write(&RelPath::new("manifest.json").unwrap(), b"{}").unwrap();
        std::os::unix::fs::symlink("../../../../secret", out.root().join("escape")).unwrap();
        if temps_written {
            for (tmp, _) in &j.moves {
                out.write(tmp, NEW_BINARY).unwrap();
            }
        }
        for p in &j.remove {
            out.write(p, b"old binary").unwrap();
        }
        out.write(&layout::journal(&j.record.target), text.as_bytes()).unwrap();
        let before = snapshot(top);
        let shell = Shell::new(None, true, 0);
        let _ = recover(&out, &shell);
        let after = snapshot(top);
        let bin = format!("out/{platform}/bin/");
        let touched = |p: &Utf8Path| p.as_str().starts_with(&bin) || p.as_str().starts_with("out/.multiarch/");
        for (p, bytes) in &before {
            if !touched(p) {
                prop_assert_eq!(after.get(p), Some(bytes), "{} changed", p);
            }
        }
        for p in after.keys() {
            prop_assert!(touched(p) || before.contains_key(p), "{} appeared", p);
        }
        prop_assert!(out.kind(&layout::journal(&j.record.target)).unwrap().is_none(), "the journal is gone");
        if text == exact && temps_written {
            // An intact journal whose files are all there is finished.
            let r = BuildRecord::read(&out, &j.record.target, Some(j.record.platform)).unwrap();
            prop_assert_eq!(r.as_ref(), Some(&j.record));
            for b in &j.record.binaries {
                prop_assert_eq!(out.read(&b.path, 100).unwrap(), NEW_BINARY.to_vec());
            }
        }
    }
}

/// The seeds of the `record` fuzz target (`fuzz/corpus/record/`), through the same
/// checks on stable: `valid.json` and `glibc-suffix.json` parse as their own
/// target's, the others fail.
#[test]
fn fuzz_seeds_are_what_their_names_say() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/record");
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let t = TargetName::new(doc["target"].as_str().unwrap()).unwrap();
        let parsed = BuildRecord::parse(&bytes, &t, None);
        let name = path.file_name().unwrap().to_str().unwrap();
        if matches!(name, "valid.json" | "glibc-suffix.json") {
            check_parsed(&parsed.unwrap(), &t);
        } else {
            assert!(parsed.is_err(), "{name} parsed");
        }
        seen += 1;
    }
    assert!(seen > 3, "the seeds are in {dir}");
}
