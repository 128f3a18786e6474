//! `image --base`: a real two-platform base, written as an OCI layout by a small Python
//! script of the test's own (not our image code) and pushed to Debian's
//! `docker-registry` with `skopeo copy --all`; our images on it read back with skopeo,
//! unpacked with umoci, the arm64 binary run under qemu; the same from `oci:DIR:TAG`;
//! a base lacking a platform refused before anything is built; a second push uploads
//! nothing; `verify` checks the recorded base.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    EPOCH, Registry, build, edit_manifest, multiarch, private_fixture, qemu_aarch64, require,
    require_python, run, tool, verify,
};

/// Writes an OCI layout at `dir` tagged `1`: per architecture one gzip layer (a file
/// naming the platform, `/etc/os-release`, the musl loader for arm64) and a config with
/// `Env`, `User`, `WorkingDir`, `Labels`, `ExposedPorts` and a history entry.
const BASE_SCRIPT: &str = r#"
import gzip, hashlib, io, json, os, sys, tarfile
out, archs = sys.argv[1], sys.argv[2].split(",")
whiteout = "whiteout" in sys.argv[3:]
single = "single" in sys.argv[3:]
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{h}", "wb").write(data)
    return {"digest": f"sha256:{h}", "size": len(data)}
def layer(arch, top=False):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data=None, link=None, mode=0o644):
            i = tarfile.TarInfo(name); i.mtime = 0; i.mode = mode
            if data is None and link is None:
                i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i); return
            if link is not None:
                i.type = tarfile.SYMTYPE; i.linkname = link; t.addfile(i); return
            i.size = len(data); t.addfile(i, io.BytesIO(data))
        if top:
            add("usr/lib64/.wh.ld-linux-x86-64.so.2", b"")
            return finish(raw)
        for d in ["etc", "lib", "srv", "usr", "usr/share", "usr/lib64"]:
            add(d)
        add("lib64", link="usr/lib64")
        add("etc/os-release", b'ID=testbase\nPRETTY_NAME="Test Base"\n')
        add("usr/share/base-platform", f"linux/{arch}\n".encode())
        if arch == "arm64":
            add("lib/ld-musl-aarch64.so.1", b"\x7fELF not really\n", mode=0o755)
        else:
            add("usr/lib64/ld-linux-x86-64.so.2", b"\x7fELF not really\n", mode=0o755)
    return finish(raw)
def finish(raw):
    tar = raw.getvalue()
    gz = gzip.compress(tar, mtime=0)
    return dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", **blob(gz)), "sha256:" + hashlib.sha256(tar).hexdigest()
manifests = []
for arch in archs:
    pairs = [layer(arch)] + ([layer(arch, top=True)] if whiteout else [])
    config = {"architecture": arch, "os": "linux",
              "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "BASE_VAR=from-base", "LANG=C"],
                         "User": "1000", "WorkingDir": "/srv", "Labels": {"base.label": "yes"},
                         "ExposedPorts": {"8080/tcp": {}}, "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": [d for _, d in pairs]},
              "history": [{"created": "2020-01-01T00:00:00Z", "created_by": "test base"}]}
    c = dict(mediaType="application/vnd.oci.image.config.v1+json", **blob(json.dumps(config, sort_keys=True).encode()))
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c, "layers": [l for l, _ in pairs]}
    d = dict(mediaType="application/vnd.oci.image.manifest.v1+json", **blob(json.dumps(m).encode()))
    d["platform"] = {"architecture": arch, "os": "linux"}
    manifests.append(d)
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
top = dict(manifests[0]) if single else dict(mediaType="application/vnd.oci.image.index.v1+json", **blob(json.dumps(index).encode()))
top.pop("platform", None)
top["annotations"] = {"org.opencontainers.image.ref.name": "1"}
open(f"{out}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [top]}))
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
"#;

/// The base layout for `archs` (`amd64,arm64`) under `dir`; `whiteout` adds a layer
/// that whites out the glibc loader.
fn write_base_with(dir: &Path, archs: &str, whiteout: bool) -> std::path::PathBuf {
    require_python("json");
    let layout = dir.join(format!("base-{}-{whiteout}", archs.replace(',', "-")));
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(BASE_SCRIPT).arg(&layout).arg(archs);
    if whiteout {
        cmd.arg("whiteout");
    }
    tool(&mut cmd);
    layout
}

fn write_base(dir: &Path, archs: &str) -> std::path::PathBuf {
    write_base_with(dir, archs, false)
}

fn skopeo_json(args: &[&str], reference: &str) -> Value {
    serde_json::from_str(&tool(
        Command::new("skopeo")
            .arg("inspect")
            .args(args)
            .arg("--tls-verify=false")
            .arg(reference),
    ))
    .unwrap()
}

/// The base's manifest for `arch`, read from the layout: (digest, first layer digest).
fn base_manifest(layout: &Path, arch: &str) -> (String, String) {
    let raw = skopeo_json(&["--raw"], &format!("oci:{}:1", layout.display()));
    let m = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == arch)
        .unwrap();
    let digest = m["digest"].as_str().unwrap().to_owned();
    let blob = layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    let doc: Value = serde_json::from_slice(&std::fs::read(blob).unwrap()).unwrap();
    (
        digest,
        doc["layers"][0]["digest"].as_str().unwrap().to_owned(),
    )
}

/// The image manifest for `arch` of the image index `reference` names (`docker://…`
/// by digest from the registry, `oci:DIR:NAME` from the layout's blobs).
fn platform_manifest(reference: &str, arch: &str) -> Value {
    let index = skopeo_json(&["--raw"], reference);
    let digest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == arch)
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    if let Some(docker) = reference.strip_prefix("docker://") {
        let repo = docker.rsplit_once(':').unwrap().0;
        skopeo_json(&["--raw"], &format!("docker://{repo}@{digest}"))
    } else {
        let dir = reference
            .strip_prefix("oci:")
            .unwrap()
            .split_once(':')
            .unwrap()
            .0;
        let blob = Path::new(dir)
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        serde_json::from_slice(&std::fs::read(blob).unwrap()).unwrap()
    }
}

/// `image --no-build --bin alpha` of a `multi` build in `out` with `args`, cache in
/// `cache`.
fn image(dir: &Path, out: &Path, cache: &Path, args: &[&str]) -> crate::support::Run {
    let docker_config = cache.join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    std::fs::write(docker_config.join("config.json"), "{}").unwrap();
    run(multiarch(dir)
        .args(["image", "--no-build", "--bin", "alpha"])
        .args(args)
        .arg("--out-dir")
        .arg(out)
        .env("XDG_CACHE_HOME", cache)
        .env("DOCKER_CONFIG", &docker_config)
        .env("SOURCE_DATE_EPOCH", EPOCH))
}

/// Checks the pushed or written image `reference` (skopeo transport form) for arm64:
/// the base's layer first, the base's `Env` and ours, the annotations, and the binary
/// running under qemu after umoci unpacks it.
fn check_arm64_image(reference: &str, base_name: &str, base_layout: &Path) {
    let (base_digest, base_layer) = base_manifest(base_layout, "arm64");
    let manifest = platform_manifest(reference, "arm64");
    assert_eq!(
        manifest["layers"][0]["digest"],
        base_layer.as_str(),
        "{manifest}"
    );
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        2,
        "{manifest}"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.name"],
        base_name
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.digest"],
        base_digest.as_str()
    );
    let config = skopeo_json(&["--config", "--override-arch", "arm64"], reference);
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(env.contains(&"BASE_VAR=from-base"), "{env:?}");
    assert!(
        env.contains(&"PATH=/usr/local/bin:/usr/bin:/bin"),
        "{env:?}"
    );
    assert_eq!(config["config"]["User"], "1000");
    assert_eq!(config["config"]["WorkingDir"], "/srv");
    assert_eq!(config["config"]["Labels"]["base.label"], "yes");
    assert!(config["config"]["ExposedPorts"]["8080/tcp"].is_object());
    assert_eq!(
        config["config"]["Entrypoint"][0], "/usr/local/bin/alpha",
        "{config}"
    );
    assert!(
        config["config"].get("Cmd").is_none(),
        "the base's Cmd is ours: none"
    );
    let history = config["history"].as_array().unwrap();
    assert_eq!(history[0]["created_by"], "test base");
    assert_eq!(history.last().unwrap()["created_by"], "cargo-multiarch");

    let work = tempfile::tempdir().unwrap();
    tool(
        Command::new("skopeo")
            .args(["copy", "--src-tls-verify=false", "--override-arch", "arm64"])
            .arg(reference)
            .arg(format!("oci:{}:arm", work.path().join("arm").display())),
    );
    let bundle = work.path().join("bundle");
    tool(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:arm", work.path().join("arm").display()))
            .arg(&bundle),
    );
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read_to_string(rootfs.join("usr/share/base-platform")).unwrap(),
        "linux/arm64\n"
    );
    assert!(rootfs.join("etc/os-release").is_file());
    let text = tool(Command::new(qemu_aarch64()).arg(rootfs.join("usr/local/bin/alpha")));
    assert_eq!(text, "alpha 0.3.0 aarch64\nhello from common\n");
}

#[test]
fn images_go_on_a_registry_base_and_push_mounts_then_skips_its_blobs() {
    require("skopeo");
    require("umoci");
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let layout = write_base(work.path(), "amd64,arm64");
    let base = format!("{}/base:1", registry.addr);
    tool(
        Command::new("skopeo")
            .args(["copy", "--all", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:1", layout.display()))
            .arg(format!("docker://{base}")),
    );
    let (out, dir) = build("multi", &[]);
    let cache = work.path().join("cache");
    let reference = format!("{}/acme/alpha:1", registry.addr);
    let push = || {
        image(
            &dir,
            out.path(),
            &cache,
            &["--base", &base, "--insecure", "--push", &reference],
        )
        .success()
    };
    let first = push();
    let err = first.stderr();
    // The two base layers are mounted from `base`, not uploaded.
    assert!(err.contains("2 mounted from the base"), "{err}");
    check_arm64_image(&format!("docker://{reference}"), &base, &layout);

    // Each base blob is in the cache, under its digest.
    let (_, base_layer) = base_manifest(&layout, "arm64");
    let cached = cache
        .join("cargo-multiarch/blobs/sha256")
        .join(base_layer.trim_start_matches("sha256:"));
    assert!(cached.is_file(), "{}", cached.display());

    // `out/oci` holds the whole image, base layers included, and verify accepts it.
    let oci_blob = out
        .path()
        .join("oci/blobs/sha256")
        .join(base_layer.trim_start_matches("sha256:"));
    assert!(oci_blob.is_file());
    let m: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let recorded: Vec<&Value> = m["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "oci-manifest")
        .collect();
    assert_eq!(recorded.len(), 2);
    for a in &recorded {
        assert_eq!(a["base"]["name"], base.as_str(), "{a}");
    }
    let provenance: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("provenance.intoto.json")).unwrap())
            .unwrap();
    let deps = provenance["predicate"]["buildDefinition"]["resolvedDependencies"].to_string();
    assert!(deps.contains(&base), "{deps}");
    verify(out.path(), &[]).success();

    // Pinned by the digest recorded, with a corrupt cached blob: it is fetched again.
    let resolved = recorded[0]["base"]["resolved"].as_str().unwrap().to_owned();
    std::fs::write(&cached, b"corrupt").unwrap();
    let pinned = format!("{}/base@{resolved}", registry.addr);
    let other = tempfile::tempdir().unwrap();
    for entry in ["linux", ".multiarch"] {
        tool(
            Command::new("cp")
                .arg("-a")
                .arg(out.path().join(entry))
                .arg(other.path()),
        );
    }
    image(
        &dir,
        other.path(),
        &cache,
        &["--base", &pinned, "--insecure"],
    )
    .success();
    assert_eq!(
        cargo_multiarch::digest::sha256_file(camino::Utf8Path::from_path(&cached).unwrap())
            .unwrap()
            .0
            .oci(),
        base_layer
    );
    let m: Value =
        serde_json::from_slice(&std::fs::read(other.path().join("manifest.json")).unwrap())
            .unwrap();
    assert!(
        m.to_string()
            .contains(&format!("\"resolved\":\"{resolved}\"")),
        "{m}"
    );
    verify(other.path(), &[]).success();

    // A second push finds every blob there: nothing is uploaded.
    let second = push();
    assert!(
        second.stderr().contains("(0 blobs uploaded, "),
        "{}",
        second.stderr()
    );

    // A base digest recorded otherwise than the manifests name it is refused.
    edit_manifest(out.path(), |m| {
        for a in m["artifacts"].as_array_mut().unwrap() {
            if a["kind"] == "oci-manifest" {
                a["base"]["digest"] = Value::String(format!("sha256:{}", "0".repeat(64)));
            }
        }
    });
    let failed = verify(out.path(), &[]).failure();
    let text = format!("{}{}", failed.stdout(), failed.stderr());
    assert!(
        text.contains(&format!("the image manifest names base `{base}`")),
        "{text}"
    );
}

#[test]
fn images_go_on_a_local_oci_layout_and_are_reproducible() {
    require("skopeo");
    require("umoci");
    let work = tempfile::tempdir().unwrap();
    let layout = write_base(work.path(), "amd64,arm64");
    let base = format!("oci:{}:1", layout.display());
    let (out, dir) = build("multi", &[]);
    let cache = work.path().join("cache");
    let first = image(&dir, out.path(), &cache, &["--base", &base]).success();
    let oci = out.path().join("oci");
    check_arm64_image(
        &format!("oci:{}:alpha:0.3.0", oci.display()),
        &base,
        &layout,
    );
    verify(out.path(), &[]).success();
    // The manifest, with `base` on its `oci-manifest` artifacts, follows the schema.
    require_python("jsonschema");
    let schema = crate::support::repo().join("schema/manifest-v1.schema.json");
    tool(Command::new("python3").current_dir(out.path()).arg("-c").arg(format!(
        "import json, jsonschema; m = json.load(open('manifest.json')); assert any('base' in a for a in m['artifacts']); jsonschema.Draft202012Validator(json.load(open('{}'))).validate(m)",
        schema.display()
    )));

    // The same base and binaries in another out dir: the same digests.
    let other = tempfile::tempdir().unwrap();
    for entry in ["linux", ".multiarch"] {
        tool(
            Command::new("cp")
                .arg("-a")
                .arg(out.path().join(entry))
                .arg(other.path()),
        );
    }
    let second = image(&dir, other.path(), &cache, &["--base", &base]).success();
    assert_eq!(first.stdout(), second.stdout());

    // A base layer in `out/oci/` is checked like ours: a changed byte is named.
    let (_, base_layer) = base_manifest(&layout, "arm64");
    let blob = oci
        .join("blobs/sha256")
        .join(base_layer.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let failed = verify(out.path(), &[]).failure();
    let text = format!("{}{}", failed.stdout(), failed.stderr());
    assert!(
        text.contains(&format!("blob `{base_layer}` has sha256")),
        "{text}"
    );

    // The same base as an OCI archive (`tar` of the layout).
    let archive = work.path().join("base.tar");
    tool(
        Command::new("tar")
            .arg("-C")
            .arg(&layout)
            .arg("-cf")
            .arg(&archive)
            .arg("."),
    );
    let base = format!("oci-archive:{}:1", archive.display());
    image(&dir, other.path(), &cache, &["--base", &base]).success();
    let manifest = platform_manifest(
        &format!("oci:{}:alpha:0.3.0", other.path().join("oci").display()),
        "arm64",
    );
    assert_eq!(
        manifest["layers"][0]["digest"],
        base_manifest(&layout, "arm64").1.as_str()
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.name"],
        base.as_str()
    );
    verify(other.path(), &[]).success();
}

#[test]
fn a_base_without_a_platform_is_refused_before_anything_is_built() {
    let work = tempfile::tempdir().unwrap();
    let layout = write_base(work.path(), "amd64");
    let base = format!("oci:{}:1", layout.display());
    let (out, dir) = build("multi", &[]);
    std::fs::remove_dir_all(out.path().join("linux")).unwrap();
    // `--no-build` would fail on the missing binaries, after the base: the base fails first.
    let err = image(
        &dir,
        out.path(),
        &work.path().join("cache"),
        &["--base", &base],
    )
    .failure()
    .stderr();
    assert!(
        err.contains(&format!(
            "base `{base}` has no `linux/arm64` image; it has linux/amd64"
        )),
        "{err}"
    );
    assert!(!out.path().join("oci").exists());
}

#[test]
fn a_dynamic_binary_needs_a_base_with_its_interpreter() {
    let work = tempfile::tempdir().unwrap();
    let (out, dir) = build("multi", &["--target", "x86_64-unknown-linux-gnu"]);
    let cache = work.path().join("cache");
    let gnu = ["--target", "x86_64-unknown-linux-gnu"];
    let err = image(&dir, out.path(), &cache, &gnu).failure().stderr();
    assert!(
        err.contains("`alpha` for linux/amd64 is dynamically linked (its interpreter is `/lib64/ld-linux-x86-64.so.2`), so it cannot run in image `alpha:0.3.0` from scratch (hint: put it on a base with its C library, e.g. `--base"),
        "{err}"
    );
    // On a base whose `/lib64` links to `usr/lib64`, where the loader is: accepted.
    let good = write_base(work.path(), "amd64");
    let base = format!("oci:{}:1", good.display());
    image(&dir, out.path(), &cache, &[gnu[0], gnu[1], "--base", &base]).success();
    // A layer on top whites the loader out: refused, naming it.
    let bad = write_base_with(work.path(), "amd64", true);
    let base = format!("oci:{}:1", bad.display());
    let err = image(&dir, out.path(), &cache, &[gnu[0], gnu[1], "--base", &base])
        .failure()
        .stderr();
    assert!(
        err.contains(&format!("`alpha` for linux/amd64 needs the ELF interpreter `/lib64/ld-linux-x86-64.so.2`, which base `{base}` does not have for linux/amd64")),
        "{err}"
    );
}

#[test]
fn a_single_platform_base_serves_only_its_platform() {
    let work = tempfile::tempdir().unwrap();
    require_python("json");
    let layout = work.path().join("single");
    tool(
        Command::new("python3")
            .arg("-c")
            .arg(BASE_SCRIPT)
            .arg(&layout)
            .arg("amd64")
            .arg("single"),
    );
    let base = format!("oci:{}:1", layout.display());
    let (out, dir) = build("multi", &[]);
    let cache = work.path().join("cache");
    let err = image(&dir, out.path(), &cache, &["--base", &base])
        .failure()
        .stderr();
    assert!(
        err.contains(&format!(
            "base `{base}` has no `linux/arm64` image; it has linux/amd64"
        )),
        "{err}"
    );
    let musl = ["--target", "x86_64-unknown-linux-musl", "--base", &base];
    image(&dir, out.path(), &cache, &musl).success();
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("oci/index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let blob = |d: &str| -> Value {
        serde_json::from_slice(
            &std::fs::read(
                out.path()
                    .join("oci/blobs/sha256")
                    .join(d.trim_start_matches("sha256:")),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let ours = blob(digest);
    let manifest = blob(ours["manifests"][0]["digest"].as_str().unwrap());
    let raw: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.digest"],
        raw["manifests"][0]["digest"]
    );
    verify(out.path(), &[]).success();
}

#[test]
fn a_docker_archive_base_is_read_for_its_one_platform() {
    require("skopeo");
    require("umoci");
    let work = tempfile::tempdir().unwrap();
    let layout = write_base(work.path(), "amd64,arm64");
    let archive = work.path().join("docker.tar");
    tool(
        Command::new("skopeo")
            .args(["copy", "--override-arch", "arm64"])
            .arg(format!("oci:{}:1", layout.display()))
            .arg(format!("docker-archive:{}:base:1", archive.display())),
    );
    let base = format!("docker-archive:{}:base:1", archive.display());
    let (out, dir) = build("multi", &[]);
    let cache = work.path().join("cache");
    let err = image(&dir, out.path(), &cache, &["--base", &base])
        .failure()
        .stderr();
    assert!(
        err.contains(&format!(
            "base `{base}` has no `linux/amd64` image; it has linux/arm64"
        )),
        "{err}"
    );
    let arm = ["--target", "aarch64-unknown-linux-musl", "--base", &base];
    image(&dir, out.path(), &cache, &arm).success();
    let reference = format!("oci:{}:alpha:0.3.0", out.path().join("oci").display());
    let manifest = platform_manifest(&reference, "arm64");
    // Docker's layers are plain tars: the layer's digest is the base's diff ID.
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.name"],
        base.as_str()
    );
    let config = skopeo_json(&["--config", "--override-arch", "arm64"], &reference);
    assert!(
        config["config"]["Env"]
            .to_string()
            .contains("BASE_VAR=from-base"),
        "{config}"
    );
    verify(out.path(), &[]).success();
    tool(
        Command::new("skopeo")
            .args(["copy", "--override-arch", "arm64"])
            .arg(&reference)
            .arg(format!("oci:{}:arm", work.path().join("arm").display())),
    );
    let bundle = work.path().join("bundle");
    tool(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:arm", work.path().join("arm").display()))
            .arg(&bundle),
    );
    let text = tool(Command::new(qemu_aarch64()).arg(bundle.join("rootfs/usr/local/bin/alpha")));
    assert_eq!(text, "alpha 0.3.0 aarch64\nhello from common\n");
    assert!(bundle.join("rootfs/lib/ld-musl-aarch64.so.1").is_file());
}

#[test]
fn a_configured_base_path_is_relative_to_its_table() {
    let (_tmp, ws) = private_fixture("multi");
    write_base(&ws, "amd64,arm64");
    let mut toml = std::fs::read_to_string(ws.join("Cargo.toml")).unwrap();
    toml.push_str(
        "\n[workspace.metadata.multiarch.image]\nbase = \"oci:base-amd64-arm64-false:1\"\n",
    );
    std::fs::write(ws.join("Cargo.toml"), toml).unwrap();
    let (out, _) = build("multi", &[]);
    let work = tempfile::tempdir().unwrap();
    // Run from a subdirectory: the path is the workspace table's, not the shell's.
    let run_in = ws.join("crates");
    image(&run_in, out.path(), &work.path().join("cache"), &[]).success();
    let m: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert!(
        m.to_string()
            .contains("\"name\":\"oci:base-amd64-arm64-false:1\""),
        "{m}"
    );
}
