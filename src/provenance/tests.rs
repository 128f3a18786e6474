use super::*;
use crate::layout;
use crate::manifest::{Git, Tool};
use crate::record::{BuildRecord, SCHEMA as RECORD_SCHEMA, StagedBinary};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn record(triple: &str, backend: &str) -> BuildRecord {
    let t = crate::testgen::known(triple);
    let bin = |name: &str, package: &str| StagedBinary {
        package: package.into(),
        version: "0.3.0".into(),
        binary: name.into(),
        target: t.name(),
        platform: t.platform(),
        backend: backend.into(),
        profile: "release".into(),
        path: layout::binary(t.platform(), name).unwrap(),
        sha256: Sha256::of(format!("{name} {triple}").as_bytes()),
        size: 3,
    };
    BuildRecord {
        schema: RECORD_SCHEMA.to_owned(),
        target: t.name(),
        platform: t.platform(),
        backend: backend.into(),
        profile: "release".into(),
        binaries: vec![bin("alpha", "alpha"), bin("beta-server", "beta")],
        features: vec!["--no-default-features".into(), "--features=tls,json".into()],
        strip: true,
        zig: None,
        dependencies: Vec::new(),
    }
}

fn toolchain() -> Toolchain {
    Toolchain {
        rustc: Some("rustc 1.89.0 (29483883e 2025-08-04)".into()),
        host: "x86_64-unknown-linux-gnu".into(),
        zig: Some("0.15.1".into()),
    }
}

fn git() -> Git {
    Git {
        commit: COMMIT.into(),
        dirty: false,
    }
}

fn predicate(records: &[BuildRecord]) -> Predicate {
    describe(
        records,
        Some(&PackageParams {
            archive: "per-package",
            compression: 6,
        }),
        1_700_000_000,
        Some(&git()),
        Some(Sha256::of(b"lock")),
        &toolchain(),
    )
}

/// A manifest of the records' binaries.
fn manifest(records: &[BuildRecord]) -> Manifest {
    let mut artifacts = Vec::new();
    for r in records {
        for b in &r.binaries {
            artifacts.push(Artifact {
                target: Some(b.target.clone()),
                platform: Some(b.platform),
                ..Artifact::new(Kind::Binary, b.path.clone(), b.sha256.clone(), b.size)
            });
        }
    }
    let mut index = Artifact::new(
        Kind::OciIndex,
        RelPath::new(&format!("oci/blobs/sha256/{}", "b".repeat(64))).unwrap(),
        Sha256::parse(&"b".repeat(64)).unwrap(),
        10,
    );
    index.reference = Some("alpha:0.3.0".into());
    artifacts.push(index);
    Manifest {
        schema: crate::manifest::SCHEMA.into(),
        tool: Tool {
            name: "cargo-multiarch".into(),
            version: "0.1.0".into(),
        },
        source_date_epoch: 1_700_000_000,
        git: Some(git()),
        platforms: records.iter().map(|r| r.platform).collect(),
        artifacts,
    }
}

#[test]
fn targets_built_alike_share_one_build_with_its_command() {
    let p = predicate(&[
        record("x86_64-unknown-linux-musl", "cargo"),
        record("aarch64-unknown-linux-musl", "zig"),
    ]);
    let d = &p.build_definition;
    assert_eq!(d.build_type, BUILD_TYPE);
    let [b] = d.external_parameters.builds.as_slice() else {
        panic!("{:?}", d.external_parameters.builds)
    };
    assert_eq!(
        b.command.join(" "),
        "cargo multiarch package --target aarch64-unknown-linux-musl --target x86_64-unknown-linux-musl --profile release --no-default-features --features=json,tls --strip -p alpha -p beta --bin alpha --bin beta-server --archive per-package --compression 6"
    );
    assert_eq!(
        b.platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["linux/amd64", "linux/arm64"]
    );
    let backends: Vec<String> = d
        .internal_parameters
        .targets
        .iter()
        .map(|t| format!("{} {}", t.target, t.backend))
        .collect();
    assert_eq!(
        backends,
        [
            "aarch64-unknown-linux-musl zig",
            "x86_64-unknown-linux-musl cargo"
        ]
    );
    let deps: Vec<String> = d
        .resolved_dependencies
        .iter()
        .map(|r| format!("{} {:?} {:?}", r.name, r.uri, r.digest))
        .collect();
    assert_eq!(deps.len(), 4, "{deps:?}");
    assert!(
        deps[0].starts_with("Cargo.lock None {\"sha256\""),
        "{deps:?}"
    );
    assert!(
        deps[1].contains(&format!("git None {{\"gitCommit\": \"{COMMIT}\"}}")),
        "{deps:?}"
    );
    assert_eq!(deps[2], "rustc Some(\"pkg:generic/rustc@1.89.0\") {}");
    assert_eq!(deps[3], "zig Some(\"pkg:generic/zig@0.15.1\") {}");
    assert_eq!(
        p.run_details.builder.version["cargo-multiarch"],
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn targets_built_differently_keep_their_own_build() {
    let mut arm = record("aarch64-unknown-linux-musl", "cargo");
    arm.strip = false;
    let p = predicate(&[record("x86_64-unknown-linux-musl", "cargo"), arm]);
    let builds = &p.build_definition.external_parameters.builds;
    assert_eq!(builds.len(), 2);
    assert!(!builds[0].strip && builds[1].strip);
    assert!(!builds[0].command.contains(&"--strip".to_owned()));
}

#[test]
fn merging_two_machines_gives_what_one_machine_describes() {
    let amd = [record("x86_64-unknown-linux-musl", "cargo")];
    let arm = [record("aarch64-unknown-linux-musl", "zig")];
    let one = predicate(&[amd[0].clone(), arm[0].clone()]);
    let merged = combine(&[&predicate(&arm), &predicate(&amd)]).unwrap();
    assert_eq!(merged, one);
    // A target built twice with different backends, or another source date, is refused.
    let mut other = predicate(&[record("x86_64-unknown-linux-musl", "zig")]);
    let err = combine(&[&predicate(&amd), &other]).unwrap_err();
    assert!(
        format!("{err:#}").contains("built with `cargo` and with `zig`"),
        "{err:#}"
    );
    other = predicate(&arm);
    other.build_definition.internal_parameters.source_date_epoch = 1;
    assert!(combine(&[&predicate(&amd), &other]).is_err());
}

#[test]
fn statements_round_trip_and_check_against_their_manifest() {
    let records = [record("x86_64-unknown-linux-musl", "cargo")];
    let m = manifest(&records);
    let s = Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject: expected_subjects(&m),
        predicate_type: PREDICATE_TYPE.into(),
        predicate: predicate(&records),
    };
    let bytes = s.to_bytes();
    let again = Statement::parse(&bytes).unwrap();
    assert_eq!(again, s);
    assert_eq!(again.to_bytes(), bytes, "not byte-stable");
    assert!(check_against(&again, &m).is_empty());
    let names: Vec<&str> = s.subject.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "alpha:0.3.0",
            "linux/amd64/bin/alpha",
            "linux/amd64/bin/beta-server"
        ]
    );

    // A binary that changed, one the statement does not know, one it invents.
    let mut changed = m.clone();
    changed.artifacts[0].sha256 = Sha256::of(b"other");
    let problems = check_against(&s, &changed);
    assert!(
        problems[0].contains("subject `linux/amd64/bin/alpha` has sha256"),
        "{problems:?}"
    );
    let mut fewer = s.clone();
    fewer.subject.remove(1);
    fewer.subject.push(Subject {
        name: "linux/amd64/bin/evil".into(),
        digest: DigestSet {
            sha256: Sha256::of(b"evil"),
        },
    });
    let problems = check_against(&fewer, &m);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("`linux/amd64/bin/alpha`")
            && problems[0].contains("is not among its subjects")
    );
    assert!(problems[1].contains("`linux/amd64/bin/evil` is not in the manifest"));
    // Another commit, another date, a target nobody built.
    let mut lying = s.clone();
    lying
        .predicate
        .build_definition
        .internal_parameters
        .source_date_epoch = 5;
    lying.predicate.build_definition.external_parameters.builds[0].targets =
        vec![crate::testgen::known("aarch64-unknown-linux-musl").name()];
    let problems = check_against(&lying, &m).join("\n");
    assert!(problems.contains("source date 5"), "{problems}");
    assert!(
        problems
            .contains("target `x86_64-unknown-linux-musl` of `linux/amd64/bin/alpha` is missing"),
        "{problems}"
    );
}

#[test]
fn foreign_or_malformed_statements_are_refused() {
    let records = [record("x86_64-unknown-linux-musl", "cargo")];
    let good = serde_json::to_value(Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject: expected_subjects(&manifest(&records)),
        predicate_type: PREDICATE_TYPE.into(),
        predicate: predicate(&records),
    })
    .unwrap();
    let refused = |edit: &dyn Fn(&mut serde_json::Value), why: &str| {
        let mut v = good.clone();
        edit(&mut v);
        let err = Statement::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains(why), "{why}: {err:#}");
    };
    refused(
        &|v| v["_type"] = "https://in-toto.io/Statement/v0.1".into(),
        "`_type`",
    );
    refused(
        &|v| v["predicateType"] = "https://slsa.dev/provenance/v0.2".into(),
        "`predicateType`",
    );
    refused(
        &|v| v["predicate"]["buildDefinition"]["buildType"] = "https://example.com".into(),
        "`buildType`",
    );
    refused(
        &|v| v["subject"][0]["digest"]["sha256"] = "../etc".into(),
        "sha256",
    );
    refused(
        &|v| v["subject"][1]["name"] = "a\u{1b}[2Jb".into(),
        "control",
    );
    refused(
        &|v| {
            v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"] =
                serde_json::json!({"md5": "00"});
        },
        "only `sha256` and `gitCommit`",
    );
    refused(&|v| v["predicate"]["extra"] = 1.into(), "unknown field");
    refused(
        &|v| v["subject"][1] = v["subject"][0].clone(),
        "listed twice",
    );
}

#[test]
fn the_image_predicate_leaves_the_archive_settings_out() {
    let p = predicate(&[record("x86_64-unknown-linux-musl", "cargo")]);
    let image = p.for_image();
    let b = &image.build_definition.external_parameters.builds[0];
    assert!(b.archive.is_none() && b.compression.is_none());
    assert_eq!(b.command[2], "build");
    // Packaged with other settings, the same binaries give the same image predicate.
    let mut other = p.clone();
    other.build_definition.external_parameters.builds[0].compression = Some(9);
    assert_eq!(other.for_image(), image);
}

/// Property tests: any bytes parse to a checked statement or to an error.
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::testgen::{config, damaged, json_any, mutated};

    fn good() -> serde_json::Value {
        let records = [record("x86_64-unknown-linux-musl", "cargo")];
        serde_json::to_value(Statement {
            statement_type: STATEMENT_TYPE.into(),
            subject: expected_subjects(&manifest(&records)),
            predicate_type: PREDICATE_TYPE.into(),
            predicate: predicate(&records),
        })
        .unwrap()
    }

    fn check_parsed(s: &Statement) {
        assert_eq!(s.statement_type, STATEMENT_TYPE);
        s.predicate.check().unwrap();
        assert_eq!(Statement::parse(&s.to_bytes()).unwrap(), *s);
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn arbitrary_json_never_panics(json in json_any()) {
            if let Ok(s) = Statement::parse(json.render().as_bytes()) {
                check_parsed(&s);
            }
        }

        #[test]
        fn statements_with_any_field_replaced_never_panic(text in mutated(good())) {
            if let Ok(s) = Statement::parse(text.as_bytes()) {
                check_parsed(&s);
            }
        }

        #[test]
        fn damaged_statements_never_panic(bytes in damaged(good().to_string())) {
            if let Ok(s) = Statement::parse(&bytes) {
                check_parsed(&s);
            }
        }
    }
}
