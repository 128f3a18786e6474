//! `image`: the OCI layout from `multi` checked by real third-party clients (skopeo,
//! umoci, oci-image-tool), the arm64 image's binary run under qemu, reproducible
//! digests, `image.tar`, and a push round trip through Debian's `docker-registry`;
//! `image` building what it needs on a fresh clone, and `--no-build`.

use std::process::Command;

use serde_json::Value;

use crate::support::{
    EPOCH, Registry, build, multi_image, multiarch, packaged_image, private_fixture, qemu_aarch64,
    require, run, sha256_hex, shared_fixture, shared_target_dir, tool,
};

#[test]
fn layout_is_accepted_by_skopeo_umoci_and_oci_image_tool_and_runs_under_qemu() {
    require("skopeo");
    require("umoci");
    require("oci-image-tool");
    let (out, digests) = multi_image(&[]);
    let oci = out.path().join("oci");
    assert_eq!(digests.len(), 3, "{digests:?}");
    assert!(digests[0].starts_with("alpha:0.3.0@sha256:"), "{digests:?}");

    let raw: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}:alpha:0.3.0", oci.display())),
    ))
    .unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    let platforms: Vec<String> = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    // Each platform manifest, then its attestation manifest (buildx's layout).
    assert_eq!(
        platforms,
        [
            "linux/amd64",
            "linux/arm64",
            "unknown/unknown",
            "unknown/unknown"
        ]
    );
    for (i, m) in raw["manifests"].as_array().unwrap()[2..].iter().enumerate() {
        assert_eq!(
            m["annotations"]["vnd.docker.reference.type"],
            "attestation-manifest"
        );
        assert_eq!(
            m["annotations"]["vnd.docker.reference.digest"],
            raw["manifests"][i]["digest"]
        );
    }

    let config: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["inspect", "--config", "--override-arch", "arm64"])
            .arg(format!("oci:{}:alpha:0.3.0", oci.display())),
    ))
    .unwrap();
    assert_eq!(config["architecture"], "arm64");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/usr/local/bin/alpha"])
    );
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.version"],
        "0.3.0"
    );
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");

    // The arm64 image, copied out and unpacked by umoci: its binary runs under qemu.
    let work = tempfile::tempdir().unwrap();
    tool(
        Command::new("skopeo")
            .args(["copy", "--override-arch", "arm64"])
            .arg(format!("oci:{}:alpha:0.3.0", oci.display()))
            .arg(format!("oci:{}:arm", work.path().join("arm").display())),
    );
    let bundle = work.path().join("bundle");
    tool(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:arm", work.path().join("arm").display()))
            .arg(&bundle),
    );
    let bin = bundle.join("rootfs/usr/local/bin/alpha");
    let info =
        cargo_multiarch::binary::elf::read(camino::Utf8Path::from_path(&bin).unwrap()).unwrap();
    assert_eq!(info.machine, cargo_multiarch::platform::EM_AARCH64);
    let qemu = qemu_aarch64();
    let text = tool(Command::new(qemu).arg(&bin));
    assert_eq!(text, "alpha 0.3.0 aarch64\nhello from common\n");

    // Every platform of every image copies out completely.
    for name in ["alpha", "alpha-admin", "beta-server"] {
        for arch in ["amd64", "arm64"] {
            let dest = work.path().join(format!("{name}-{arch}"));
            tool(
                Command::new("skopeo")
                    .args(["copy", "--override-arch", arch])
                    .arg(format!("oci:{}:{name}:0.3.0", oci.display()))
                    .arg(format!("dir:{}", dest.display())),
            );
            assert!(dest.join("manifest.json").is_file());
        }
    }

    // Debian's oci-image-tool (1.0.0-rc1) predates the `org.opencontainers.image.ref.name`
    // annotation and nested indexes: it cannot pick one of several images by name ("not
    // unique") and has no `imageLayout` type, and refuses layers of any media type it
    // does not know (the in-toto attestations: `--no-attest`). On a one-image layout,
    // `--type image` validates oci-layout, index.json and the ref.
    run(multiarch(out.path())
        .args([
            "image",
            "--no-build",
            "--bin",
            "alpha",
            "--no-attest",
            "--manifest-path",
        ])
        .arg(shared_fixture("multi").join("Cargo.toml"))
        .arg("--out-dir")
        .arg(out.path())
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let validated = tool(
        Command::new("oci-image-tool")
            .args(["validate", "--type", "image", "--ref", "name=alpha:0.3.0"])
            .arg(&oci),
    );
    assert!(validated.contains("Validation succeeded"), "{validated}");

    // `verify` checks the layout: a flipped byte in a blob is caught.
    run(multiarch(out.path())
        .arg("verify")
        .arg("--out-dir")
        .arg(out.path()))
    .success();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let index = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "oci-index" && a["reference"] == "alpha:0.3.0")
        .unwrap();
    let blob = out.path().join(index["path"].as_str().unwrap());
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let stdout = run(multiarch(out.path())
        .arg("verify")
        .arg("--out-dir")
        .arg(out.path()))
    .failure()
    .stdout();
    assert!(
        stdout.contains(&format!(
            "FAILED   {}: sha256 is ",
            index["path"].as_str().unwrap()
        )),
        "{stdout}"
    );
}

#[test]
fn digests_are_identical_across_runs_and_directories() {
    let (_out1, first) = multi_image(&[]);
    let (_out2, again) = multi_image(&[]);
    assert_eq!(first, again);
    let (_tmp, other) = private_fixture("multi");
    let (_out3, elsewhere) = packaged_image(&other, &shared_target_dir("multi-elsewhere"), &[]);
    assert_eq!(
        first, elsewhere,
        "a build and image in another directory gives other digests"
    );
}

#[test]
fn one_combined_image_with_a_tag_and_an_archive() {
    require("skopeo");
    let (out, digests) = multi_image(&["--combined", "--tag", "acme/multi:1.0", "--archive"]);
    assert_eq!(digests.len(), 1);
    assert!(
        digests[0].starts_with("acme/multi:1.0@sha256:"),
        "{digests:?}"
    );
    // image.tar: an OCI layout plus Docker's manifest.json, for `docker load`.
    let listing = tool(
        Command::new("tar")
            .arg("-tf")
            .arg(out.path().join("image.tar")),
    );
    for name in ["oci-layout", "index.json", "manifest.json", "blobs/sha256/"] {
        assert!(
            listing.lines().any(|l| l == name || l.starts_with(name)),
            "{name} not in:\n{listing}"
        );
    }
    let docker: Value = serde_json::from_str(&tool(
        Command::new("tar")
            .arg("-xOf")
            .arg(out.path().join("image.tar"))
            .arg("manifest.json"),
    ))
    .unwrap();
    assert_eq!(docker[0]["RepoTags"], serde_json::json!(["acme/multi:1.0"]));
    let archive = out.path().join("image.tar");
    let config: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["inspect", "--config"])
            .arg(format!("docker-archive:{}", archive.display())),
    ))
    .unwrap();
    assert_eq!(config["architecture"], "amd64");
    let oci: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci-archive:{}:acme/multi:1.0", archive.display())),
    ))
    .unwrap();
    // Two platforms, each with its attestation manifest.
    assert_eq!(oci["manifests"].as_array().unwrap().len(), 4);
    // Every binary is in the one image.
    let layer_list = tool(Command::new("sh").arg("-c").arg(format!(
        "skopeo copy --override-arch amd64 oci:{oci}:acme/multi:1.0 dir:{d} >/dev/null && for l in $(jq -r '.layers[].digest' {d}/manifest.json | cut -d: -f2); do tar -tzf {d}/$l; done",
        oci = out.path().join("oci").display(),
        d = out.path().join("unpacked").display()
    )));
    assert_eq!(
        layer_list,
        "usr/\nusr/local/\nusr/local/bin/\nusr/local/bin/alpha\nusr/local/bin/alpha-admin\nusr/local/bin/beta-server\n"
    );
    // The manifest records the archive and SHA256SUMS lists it.
    let sums = std::fs::read_to_string(out.path().join("SHA256SUMS")).unwrap();
    assert!(sums.lines().any(|l| l.ends_with("  image.tar")), "{sums}");
}

#[test]
fn a_name_for_several_images_is_refused() {
    let (out, dir) = build("multi", &[]);
    let err = run(multiarch(&dir)
        .args(["image", "--tag", "acme/app:1.0", "--out-dir"])
        .arg(out.path()))
    .failure()
    .stderr();
    assert!(err.contains("`--tag acme/app:1.0` names one image, and 3 would be assembled (alpha:0.3.0, alpha-admin:0.3.0, beta-server:0.3.0) (hint: pick one with `--bin NAME`, pass `--combined`, or give only the tag: `--tag 1.0`)"), "{err}");
}

#[test]
fn push_round_trips_through_a_local_registry() {
    require("skopeo");
    let registry = Registry::start();
    let (out, dir) = build("multi", &[]);
    // No credentials of the developer's: an empty Docker config.
    let docker_config = tempfile::tempdir().unwrap();
    std::fs::write(docker_config.path().join("config.json"), "{}").unwrap();
    let reference = format!("{}/acme/alpha:0.3.0", registry.addr);
    let push = || {
        run(multiarch(&dir)
            .args([
                "image",
                "--no-build",
                "--bin",
                "alpha",
                "--push",
                &reference,
                "--insecure",
                "--out-dir",
            ])
            .arg(out.path())
            .env("DOCKER_CONFIG", docker_config.path())
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success()
    };
    let first = push();
    let digest = first.stdout().trim().rsplit_once('@').unwrap().1.to_owned();
    assert!(
        first.stderr().contains(&format!(
            "Pushed {reference}@{digest} (8 blobs uploaded, 0 already there)"
        )),
        "{}",
        first.stderr()
    );

    let raw = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    assert!(
        raw.status.success(),
        "{}",
        String::from_utf8_lossy(&raw.stderr)
    );
    assert_eq!(
        format!("sha256:{}", sha256_hex(&raw.stdout)),
        digest,
        "the registry serves another index"
    );
    let config: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args([
                "inspect",
                "--config",
                "--tls-verify=false",
                "--override-arch",
                "arm64",
            ])
            .arg(format!("docker://{reference}")),
    ))
    .unwrap();
    assert_eq!(config["architecture"], "arm64");
    registry_serves_the_attestations(&reference, &raw.stdout);

    // A second push finds every blob there and uploads none.
    let second = push();
    assert!(
        second.stderr().contains(&format!(
            "Pushed {reference}@{digest} (0 blobs uploaded, 8 already there)"
        )),
        "{}",
        second.stderr()
    );
}

/// The pushed index lists one attestation manifest per platform manifest; skopeo
/// reads each back from the registry, and `skopeo copy --all` brings the statements
/// along: provenance about exactly that platform manifest.
fn registry_serves_the_attestations(reference: &str, index: &[u8]) {
    let index: Value = serde_json::from_slice(index).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{index}");
    let repo = reference.rsplit_once(':').unwrap().0;
    for (i, a) in entries[2..].iter().enumerate() {
        assert_eq!(a["platform"]["os"], "unknown");
        assert_eq!(
            a["annotations"]["vnd.docker.reference.type"],
            "attestation-manifest"
        );
        let subject = entries[i]["digest"].as_str().unwrap();
        assert_eq!(a["annotations"]["vnd.docker.reference.digest"], subject);
        let manifest: Value = serde_json::from_str(&tool(
            Command::new("skopeo")
                .args(["inspect", "--raw", "--tls-verify=false"])
                .arg(format!("docker://{repo}@{}", a["digest"].as_str().unwrap())),
        ))
        .unwrap();
        let layer = &manifest["layers"][0];
        assert_eq!(layer["mediaType"], "application/vnd.in-toto+json");
        assert_eq!(
            layer["annotations"]["in-toto.io/predicate-type"],
            "https://slsa.dev/provenance/v1"
        );
    }
    let copy = tempfile::tempdir().unwrap();
    let dest = copy.path().join("oci");
    tool(
        Command::new("skopeo")
            .args(["copy", "--all", "--src-tls-verify=false"])
            .arg(format!("docker://{reference}"))
            .arg(format!("oci:{}:copied", dest.display())),
    );
    let blob = |digest: &str| -> Value {
        let hex = digest.strip_prefix("sha256:").unwrap();
        serde_json::from_slice(&std::fs::read(dest.join("blobs/sha256").join(hex)).unwrap())
            .unwrap()
    };
    for (i, a) in entries[2..].iter().enumerate() {
        let manifest = blob(a["digest"].as_str().unwrap());
        let statement = blob(manifest["layers"][0]["digest"].as_str().unwrap());
        assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(
            format!(
                "sha256:{}",
                statement["subject"][0]["digest"]["sha256"]
                    .as_str()
                    .unwrap()
            ),
            entries[i]["digest"].as_str().unwrap()
        );
        let definition = &statement["predicate"]["buildDefinition"];
        // Built by `build` alone (no `package`): the image's own account of it.
        let build = &definition["externalParameters"]["builds"][0];
        assert_eq!(build["bins"], serde_json::json!(["alpha"]));
        assert_eq!(build["command"][2], "build");
        assert_eq!(
            definition["internalParameters"]["sourceDateEpoch"],
            1_700_000_000
        );
    }
}

#[test]
fn image_table_shapes_the_image() {
    require("skopeo");
    let (out, dir) = build("configured", &[]);
    let r = run(multiarch(&dir)
        .args(["image", "--no-build", "--out-dir"])
        .arg(out.path())
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    assert!(
        r.stdout().starts_with("acme/configured:0.2.0@sha256:"),
        "{}",
        r.stdout()
    );
    let image = format!(
        "oci:{}:acme/configured:0.2.0",
        out.path().join("oci").display()
    );
    let config: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["inspect", "--config", "--override-arch", "arm64"])
            .arg(&image),
    ))
    .unwrap();
    let c = &config["config"];
    assert_eq!(config["architecture"], "arm64");
    assert_eq!(c["Entrypoint"], serde_json::json!(["/app/configured"]));
    assert_eq!(c["Cmd"], serde_json::json!(["--version"]));
    assert_eq!(c["User"], "65534:65534");
    assert_eq!(c["WorkingDir"], "/app");
    assert_eq!(
        c["Labels"]["org.opencontainers.image.description"],
        "configured fixture"
    );
    assert_eq!(c["Labels"]["org.opencontainers.image.version"], "0.2.0");
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"RUST_LOG=info") && env.iter().any(|e| e.starts_with("PATH=")),
        "{env:?}"
    );
    let unpacked = out.path().join("unpacked");
    tool(
        Command::new("skopeo")
            .args(["copy", "--override-arch", "arm64"])
            .arg(&image)
            .arg(format!("dir:{}", unpacked.display())),
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(unpacked.join("manifest.json")).unwrap()).unwrap();
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    let listing = tool(Command::new("tar").arg("-tvzf").arg(unpacked.join(layer)));
    assert!(
        listing.contains("-rwxr-xr-x 0/0") && listing.contains(" app/configured\n"),
        "{listing}"
    );
    assert!(
        listing.contains("-rw-r--r-- 0/0") && listing.contains(" etc/configured/notes.txt\n"),
        "{listing}"
    );
}

#[test]
fn image_on_a_fresh_clone_builds_and_writes_the_image_in_one_command() {
    // A fresh clone: no out dir, no target dir, nothing staged.
    let (_tmp, dir) = private_fixture("multi");
    assert!(!dir.join("out").exists() && !dir.join("target").exists());
    let r = run(multiarch(&dir).arg("image").env("SOURCE_DATE_EPOCH", EPOCH)).success();
    let lines: Vec<String> = r.stdout().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{}", r.stderr());
    assert!(
        r.stderr()
            .contains("Image alpha:0.3.0 (linux/amd64, linux/arm64)"),
        "{}",
        r.stderr()
    );
    let out = dir.join("out");
    for f in [
        "oci/index.json",
        "linux/amd64/bin/alpha",
        "linux/arm64/bin/beta-server",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "no out/{f}");
    }
    run(multiarch(&dir).args(["verify", "--expect", "linux/amd64,linux/arm64"])).success();
    // The same image as `build` then `image --no-build`, elsewhere. (After `package`
    // the image would differ, rightly: it then carries the archives' SBOMs as
    // attestations, which a bare `image` has none of.)
    let two = tempfile::tempdir().unwrap();
    let multi = shared_fixture("multi");
    for args in [&["build"][..], &["image", "--no-build"]] {
        let r = run(multiarch(&multi)
            .args(args)
            .arg("--out-dir")
            .arg(two.path())
            .arg("--target-dir")
            .arg(shared_target_dir("multi"))
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success();
        if args[0] == "image" {
            let two_steps: Vec<String> = r.stdout().lines().map(str::to_owned).collect();
            assert_eq!(lines, two_steps);
        }
    }
    // A second run builds nothing new and writes the same image.
    let again = run(multiarch(&dir).arg("image").env("SOURCE_DATE_EPOCH", EPOCH)).success();
    assert_eq!(again.stdout(), r.stdout());
}

#[test]
fn image_no_build_with_nothing_staged_names_the_fix() {
    let out = tempfile::tempdir().unwrap();
    let r = run(multiarch(&shared_fixture("multi"))
        .args(["image", "--no-build", "--out-dir"])
        .arg(out.path()))
    .failure();
    let err = r.stderr();
    assert!(
        err.contains("no build record for `x86_64-unknown-linux-musl`")
            && err.contains("(hint: run `cargo multiarch build` with the same selection first, or drop `--no-build` to build now)"),
        "{err}"
    );
    assert!(!out.path().join("oci").exists());
}

#[test]
fn image_of_binaries_built_since_package_writes_the_manifest_afresh() {
    let dir = shared_fixture("hello");
    let out = tempfile::tempdir().unwrap();
    let cmd = |args: &[&str]| {
        let mut c = multiarch(&dir);
        c.args(args)
            .arg("--out-dir")
            .arg(out.path())
            .arg("--target-dir")
            .arg(shared_target_dir("hello"))
            .env("SOURCE_DATE_EPOCH", EPOCH);
        c
    };
    run(&mut cmd(&["package", "--profile", "dev"])).success();
    // `image` builds the release binaries: the manifest's binaries and archives are
    // not what is staged any more, so it is started afresh, never left lying.
    let r = run(&mut cmd(&["image"])).success();
    assert!(
        r.stderr().contains("lists other binaries than the ones staged now, so it is written afresh, without the archives (hint: run `cargo multiarch package` to list them again)"),
        "{}",
        r.stderr()
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let kinds: Vec<&str> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.contains(&"archive") && kinds.contains(&"oci-index"),
        "{kinds:?}"
    );
    run(multiarch(&dir)
        .arg("verify")
        .arg("--out-dir")
        .arg(out.path()))
    .success();
    // Packaging again lists the archives, and keeps the image.
    run(&mut cmd(&["package", "--no-build"])).success();
    let r = run(&mut cmd(&["image", "--no-build"])).success();
    assert!(!r.stderr().contains("afresh"), "{}", r.stderr());
}
