//! `image` names, annotations and CA certificates: repeatable `--tag`,
//! `--platform-tags`, `--annotation` and the image table's `annotations`, the CA bundle
//! layer, read back with skopeo, umoci and openssl from the layout and from Debian's
//! `docker-registry` after `--push`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    EPOCH, Registry, build, multi_image, multiarch, private_fixture, require, require_python, run,
    sha256_hex, shared_fixture, shared_target_dir, tool,
};

/// The CA bundle of the image at `image` (an `oci:` reference to one platform's
/// manifest), unpacked by umoci: its bytes and mode.
fn ca_bundle(image: &str, work: &Path) -> (Vec<u8>, u32) {
    use std::os::unix::fs::PermissionsExt as _;
    let copy = work.join("copy");
    tool(
        Command::new("skopeo")
            .arg("copy")
            .arg(image)
            .arg(format!("oci:{}:x", copy.display())),
    );
    let bundle = work.join("bundle");
    tool(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:x", copy.display()))
            .arg(&bundle),
    );
    let file = bundle.join("rootfs/etc/ssl/certs/ca-certificates.crt");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o7777;
    (std::fs::read(&file).unwrap(), mode)
}

#[test]
fn tags_platform_tags_annotations_and_ca_certificates_in_the_layout() {
    require("skopeo");
    require("umoci");
    require("openssl");
    let args = [
        "--bin",
        "alpha",
        "--tag",
        "ghcr.io/acme/alpha:1.4.0",
        "--tag",
        "latest",
        "--platform-tags",
        "--annotation",
        "org.example.team=platform",
        "--annotation",
        "org.opencontainers.image.version=1.4.0",
        "--ca-certificates",
        "--archive",
    ];
    let (out, lines) = multi_image(&args);
    let digest = |name: &str| -> String {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name}@")))
            .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
            .to_owned()
    };
    let names: Vec<&str> = lines.iter().map(|l| l.split('@').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "ghcr.io/acme/alpha:1.4.0",
            "ghcr.io/acme/alpha:latest",
            "ghcr.io/acme/alpha:1.4.0-linux-amd64",
            "ghcr.io/acme/alpha:1.4.0-linux-arm64",
            "ghcr.io/acme/alpha:latest-linux-amd64",
            "ghcr.io/acme/alpha:latest-linux-arm64",
        ]
    );
    assert_eq!(
        digest("ghcr.io/acme/alpha:1.4.0"),
        digest("ghcr.io/acme/alpha:latest")
    );
    let oci = out.path().join("oci");
    let inspect_raw = |name: &str| -> (String, Value) {
        let raw = tool(
            Command::new("skopeo")
                .args(["inspect", "--raw"])
                .arg(format!("oci:{}:{name}", oci.display())),
        );
        (
            format!("sha256:{}", sha256_hex(raw.as_bytes())),
            serde_json::from_str(&raw).unwrap(),
        )
    };
    // Every name resolves in the layout, to the index or to its platform's manifest.
    let (d, index) = inspect_raw("ghcr.io/acme/alpha:latest");
    assert_eq!(d, digest("ghcr.io/acme/alpha:latest"));
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let (d, arm) = inspect_raw("ghcr.io/acme/alpha:1.4.0-linux-arm64");
    assert_eq!(d, digest("ghcr.io/acme/alpha:1.4.0-linux-arm64"));
    assert_eq!(
        arm["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(index["manifests"][1]["digest"].as_str().unwrap(), d);
    let config: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["inspect", "--config"])
            .arg(format!(
                "oci:{}:ghcr.io/acme/alpha:latest-linux-arm64",
                oci.display()
            )),
    ))
    .unwrap();
    assert_eq!(config["architecture"], "arm64");
    // Annotations on the index and each manifest: defaults, yours winning.
    for doc in [&index, &arm] {
        let a = &doc["annotations"];
        assert_eq!(a["org.example.team"], "platform", "{doc}");
        assert_eq!(a["org.opencontainers.image.version"], "1.4.0", "{doc}");
        assert_eq!(
            a["org.opencontainers.image.created"], "2023-11-14T22:13:20Z",
            "{doc}"
        );
    }
    // The labels keep their defaults.
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.version"],
        "0.3.0"
    );

    // The CA bundle: its own layer under the binary's, mode 0644, PEM that openssl
    // reads as every certificate of the manifest's record.
    assert_eq!(arm["layers"].as_array().unwrap().len(), 2);
    let work = tempfile::tempdir().unwrap();
    let (bundle, mode) = ca_bundle(
        &format!("oci:{}:ghcr.io/acme/alpha:1.4.0-linux-arm64", oci.display()),
        work.path(),
    );
    assert_eq!(mode, 0o644);
    let pem = work.path().join("ca.pem");
    std::fs::write(&pem, &bundle).unwrap();
    let printed = tool(Command::new("sh").arg("-c").arg(format!(
        "openssl crl2pkcs7 -nocrl -certfile {} | openssl pkcs7 -print_certs -noout",
        pem.display()
    )));
    let certs = printed
        .lines()
        .filter(|l| l.starts_with("subject="))
        .count();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let ca: Vec<&Value> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "ca-certificates")
        .collect();
    assert_eq!(ca.len(), 1, "{manifest}");
    assert_eq!(ca[0]["package"], "webpki-root-certs");
    assert_eq!(ca[0]["version"], "1.0.11");
    assert_eq!(
        ca[0]["path"],
        format!(
            "oci/blobs/sha256/{}",
            arm["layers"][0]["digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:")
        )
    );
    let content = &ca[0]["contents"][0];
    assert_eq!(content["path"], "etc/ssl/certs/ca-certificates.crt");
    assert_eq!(content["mode"], "0644");
    assert_eq!(content["sha256"].as_str().unwrap(), sha256_hex(&bundle));
    assert!(certs > 100, "{certs}: {printed}");
    assert_eq!(
        bundle
            .windows(27)
            .filter(|w| w == b"-----BEGIN CERTIFICATE-----")
            .count(),
        certs
    );
    // `verify` checks the CA layer against its record.
    run(multiarch(out.path())
        .arg("verify")
        .arg("--out-dir")
        .arg(out.path()))
    .success();
    // The manifest, with its `ca-certificates` artifact, follows the schema.
    require_python("jsonschema");
    let schema = crate::support::repo().join("schema/manifest-v1.schema.json");
    tool(Command::new("python3").current_dir(out.path()).arg("-c").arg(format!(
        "import json, jsonschema; jsonschema.Draft202012Validator(json.load(open('{}'))).validate(json.load(open('manifest.json')))",
        schema.display()
    )));
    // image.tar: `docker load` gets every name of the host's platform.
    let docker: Value = serde_json::from_str(&tool(
        Command::new("tar")
            .arg("-xOf")
            .arg(out.path().join("image.tar"))
            .arg("manifest.json"),
    ))
    .unwrap();
    assert_eq!(
        docker[0]["RepoTags"],
        serde_json::json!([
            "ghcr.io/acme/alpha:1.4.0",
            "ghcr.io/acme/alpha:latest",
            "ghcr.io/acme/alpha:1.4.0-linux-amd64",
            "ghcr.io/acme/alpha:latest-linux-amd64"
        ])
    );

    // Byte-identical in another out dir: the same digests, the same bundle.
    let (again, lines_again) = multi_image(&args);
    assert_eq!(lines, lines_again);
    let work2 = tempfile::tempdir().unwrap();
    let (bundle2, _) = ca_bundle(
        &format!(
            "oci:{}:ghcr.io/acme/alpha:1.4.0-linux-amd64",
            again.path().join("oci").display()
        ),
        work2.path(),
    );
    assert!(
        bundle == bundle2,
        "the CA bundle differs between runs or platforms"
    );
}

#[test]
fn annotations_and_ca_certificates_from_the_image_table() {
    let (tmp, dir) = private_fixture("multi");
    let manifest = dir.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str("\n[workspace.metadata.multiarch.image]\nca-certificates = true\nannotations = { \"org.example.z\" = \"from config\", \"org.example.a\" = \"from config\" }\n");
    std::fs::write(&manifest, toml).unwrap();
    // Staged from the shared build: only the image is made here.
    let out = tmp.path().join("out");
    run(multiarch(&shared_fixture("multi"))
        .args(["build", "--bin", "alpha", "--out-dir"])
        .arg(&out)
        .arg("--target-dir")
        .arg(shared_target_dir("multi")))
    .success();
    let r = run(multiarch(&dir)
        .args([
            "image",
            "--no-build",
            "--bin",
            "alpha",
            "--annotation",
            "org.example.a=from the command line",
            "--out-dir",
        ])
        .arg(&out)
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    assert!(r.stderr().contains("CA certificates)"), "{}", r.stderr());
    let digest = r
        .stdout()
        .trim()
        .rsplit_once("@sha256:")
        .unwrap()
        .1
        .to_owned();
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("oci/blobs/sha256").join(&digest)).unwrap())
            .unwrap();
    assert_eq!(
        index["annotations"]["org.example.a"],
        "from the command line"
    );
    assert_eq!(index["annotations"]["org.example.z"], "from config");
    let m = &index["manifests"][0]["digest"].as_str().unwrap()["sha256:".len()..];
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("oci/blobs/sha256").join(m)).unwrap())
            .unwrap();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);
    assert_eq!(manifest["annotations"], index["annotations"]);

    // A bad key in the config names the file and the key.
    let mut toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    toml = toml.replace("\"org.example.z\"", "\"org example\"");
    std::fs::write(dir.join("Cargo.toml"), toml).unwrap();
    let e = run(multiarch(&dir)
        .args(["image", "--no-build", "--out-dir"])
        .arg(&out))
    .failure()
    .stderr();
    assert!(
        e.contains("key `annotations` in `[workspace.metadata.multiarch].image` has key `org example`, which holds whitespace"),
        "{e}"
    );
}

#[test]
fn push_sends_every_tag_and_platform_tag_with_annotations() {
    require("skopeo");
    let registry = Registry::start();
    let (out, dir) = build("multi", &[]);
    let docker_config = tempfile::tempdir().unwrap();
    std::fs::write(docker_config.path().join("config.json"), "{}").unwrap();
    let push = |args: &[&str]| {
        run(multiarch(&dir)
            .args([
                "image",
                "--no-build",
                "--bin",
                "alpha",
                "--insecure",
                "--out-dir",
            ])
            .arg(out.path())
            .args(args)
            .env("DOCKER_CONFIG", docker_config.path())
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success()
    };
    let repo = format!("{}/acme/alpha", registry.addr);
    let tag = format!("{repo}:1.4.0");
    // `--push` alone: every name to the registry it names.
    let r = push(&[
        "--tag",
        &tag,
        "--tag",
        "latest",
        "--platform-tags",
        "--annotation",
        "org.example.team=platform",
        "--push",
    ]);
    let stdout = r.stdout();
    let digest = |name: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}@")))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
            .to_owned()
    };
    assert!(
        r.stderr().contains(&format!(
            "Pushed {tag}@{} (8 blobs uploaded, 0 already there)",
            digest(&tag)
        )),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr()
            .contains(&format!("Tagged {repo}:latest-linux-arm64@")),
        "{}",
        r.stderr()
    );
    let listed: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["list-tags", "--tls-verify=false"])
            .arg(format!("docker://{repo}")),
    ))
    .unwrap();
    let mut tags: Vec<&str> = listed["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort_unstable();
    assert_eq!(
        tags,
        [
            "1.4.0",
            "1.4.0-linux-amd64",
            "1.4.0-linux-arm64",
            "latest",
            "latest-linux-amd64",
            "latest-linux-arm64"
        ]
    );
    for name in ["1.4.0", "latest", "1.4.0-linux-arm64", "latest-linux-amd64"] {
        let reference = format!("{repo}:{name}");
        let raw = tool(
            Command::new("skopeo")
                .args(["inspect", "--raw", "--tls-verify=false"])
                .arg(format!("docker://{reference}")),
        );
        assert_eq!(
            format!("sha256:{}", sha256_hex(raw.as_bytes())),
            digest(&reference),
            "{reference}"
        );
        let doc: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(
            doc["annotations"]["org.example.team"], "platform",
            "{reference}"
        );
    }
    let config: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["inspect", "--config", "--tls-verify=false"])
            .arg(format!("docker://{repo}:1.4.0-linux-arm64")),
    ))
    .unwrap();
    assert_eq!(config["architecture"], "arm64");

    // `--push REGISTRY/NAME`: the image's tags, in another repository; nothing new to upload.
    let other = format!("{}/mirror/alpha", registry.addr);
    let r = push(&["--tag", "2.0", "--tag", "stable", "--push", &other]);
    assert!(
        r.stderr().contains(&format!("Pushed {other}:2.0@")),
        "{}",
        r.stderr()
    );
    let listed: Value = serde_json::from_str(&tool(
        Command::new("skopeo")
            .args(["list-tags", "--tls-verify=false"])
            .arg(format!("docker://{other}")),
    ))
    .unwrap();
    assert_eq!(listed["Tags"], serde_json::json!(["2.0", "stable"]));

    // A name with no registry is never sent to Docker Hub's official images.
    let e = run(multiarch(&dir)
        .args([
            "image",
            "--no-build",
            "--bin",
            "alpha",
            "--push",
            "--out-dir",
        ])
        .arg(out.path()))
    .failure()
    .stderr();
    assert!(
        e.contains("`--push` would send `alpha:0.3.0` to Docker Hub's official images"),
        "{e}"
    );
}
