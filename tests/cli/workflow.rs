//! The CI template executed, not just parsed: `tests/ci/run_workflow.py` runs every
//! step of `docs/ci/github-actions.yml`, and of the `action.yml` it uses, in order,
//! on `cdep` (C code on both targets), with the variables Actions sets. Stand-ins,
//! each on loopback: Debian's `docker-registry` for the remote registry, a static
//! HTTP server for github.com's release downloads (it serves the tool under test as
//! the release asset, so the action's download-and-check step really runs), and a
//! `gh` that records its arguments. Both per-arch jobs run on this `x86_64` host: the
//! arm64 job cross-builds, with zig for its C code.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    Registry, qemu_aarch64, repo, require, require_python, require_zig, scratch, sh, sha256_hex,
};

pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");
/// What `uses:` names in the template: mapped to this checkout.
const ACTION: &str = "cargo-multiarch/cargo-multiarch";

/// The interpreter and what the action calls, under the rule of `require`.
fn tools_present() {
    for tool in ["git", "jq", "curl"] {
        require(tool);
    }
    require_python("yaml");
}

/// `fixture-workspaces/<name>` as a git repository with one commit at a fixed date,
/// tagged `v<its version>`: what actions/checkout fetches.
pub(crate) fn fixture_repo(name: &str, tag: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = repo().join("fixture-workspaces").join(name);
    sh(
        dir.path(),
        &format!(
            "cp -R '{}/.' . && rm -rf target out && git init -q -b main && git add -A && \
             GIT_AUTHOR_DATE=@1700000000 GIT_COMMITTER_DATE=@1700000000 \
             git -c user.name=ci -c user.email=ci@localhost commit -q -m '{name}' && git tag {tag}",
            src.display()
        ),
    );
    dir
}

/// A static HTTP server on loopback standing in for github.com's release downloads:
/// `<root>/<owner>/<repo>/releases/download/<tag>/<asset>`. Killed on drop.
pub(crate) struct ReleaseServer {
    child: Child,
    pub url: String,
    root: tempfile::TempDir,
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ReleaseServer {
    pub fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = ReleaseServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            root,
        };
        let socket: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let start = Instant::now();
        while TcpStream::connect_timeout(&socket, Duration::from_millis(200)).is_err() {
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "the release server exited early"
            );
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the release server did not listen on {socket} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The directory of the release `v<VERSION>` of the action's repository.
    pub fn release_dir(&self) -> PathBuf {
        let dir = self
            .root
            .path()
            .join(ACTION)
            .join("releases/download")
            .join(format!("v{VERSION}"));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The tool under test as the release asset `cargo-multiarch-<v>-<triple>.tar.gz`
    /// (with the top folder `package` gives every archive) and its `.sha256`, as
    /// `package` writes it; `sha256` overrides the checksum written. The binary loses
    /// its debug info (77 MB to 19 MB): only for speed, three jobs download it.
    fn publish_tool(&self, sha256: Option<&str>) {
        let dir = self
            .root
            .path()
            .join(ACTION)
            .join("releases/download")
            .join(format!("v{VERSION}"));
        std::fs::create_dir_all(&dir).unwrap();
        let top = format!("cargo-multiarch-{VERSION}-{}", host_musl_triple());
        sh(
            &dir,
            &format!(
                "rm -rf {top} && mkdir {top} && cp '{bin}' {top}/cargo-multiarch && \
                 {{ strip --strip-debug {top}/cargo-multiarch 2>/dev/null || true; }} && tar -czf {top}.tar.gz {top} && rm -r {top} && sha256sum {top}.tar.gz > {top}.tar.gz.sha256",
                bin = env!("CARGO_BIN_EXE_cargo-multiarch")
            ),
        );
        if let Some(sum) = sha256 {
            std::fs::write(
                dir.join(format!("{top}.tar.gz.sha256")),
                format!("{sum}  {top}.tar.gz\n"),
            )
            .unwrap();
        }
    }
}

/// The musl triple of this machine's architecture: the asset the action asks for.
pub(crate) fn host_musl_triple() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    }
}

/// The developer's home directory of a tool, from its variable or the default below
/// `$HOME`: the runner's environment names it, as GitHub's images set `CARGO_HOME`
/// and `RUSTUP_HOME`.
fn home_dir(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        let home = std::env::var("HOME").expect("HOME");
        format!("{home}/{default}")
    })
}

/// `python3 tests/ci/run_workflow.py WORKFLOW …`: the runner's environment is the
/// developer's toolchains (`CARGO_HOME`, `RUSTUP_HOME`, pyenv) and `PATH`, plus
/// `args`; `HOME`, `RUNNER_TEMP` and the workspace are fresh directories under `root`.
pub(crate) fn run_workflow(
    workflow: &Path,
    fixture: &Path,
    root: &Path,
    cache: &Path,
    args: &[String],
) -> (Output, String) {
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/ci/run_workflow.py"))
        .arg(workflow)
        .arg("--repo")
        .arg(fixture)
        .arg("--root")
        .arg(root)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--action")
        .arg(format!("{ACTION}={}", repo().display()))
        .arg("--env")
        .arg(format!("CARGO_HOME={}", home_dir("CARGO_HOME", ".cargo")))
        .arg("--env")
        .arg(format!(
            "RUSTUP_HOME={}",
            home_dir("RUSTUP_HOME", ".rustup")
        ))
        .args(args)
        .stdin(Stdio::null());
    for var in ["PYENV_ROOT", "PYENV_VERSION", "RUSTUP_TOOLCHAIN"] {
        if let Ok(v) = std::env::var(var) {
            cmd.arg("--env").arg(format!("{var}={v}"));
        }
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// A directory of this run for runner directories. Not under the repository: its
/// `.cargo/config.toml` would apply to every workspace below it. Stable across runs
/// (cargo's fingerprints hold absolute paths, and the cached target dirs are restored
/// to the same place), one per checkout of this repository.
fn runner_root() -> PathBuf {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    scratch().hash(&mut h);
    std::env::temp_dir().join(format!("cargo-multiarch-workflow-{:016x}", h.finish()))
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The digest of the image manifest a tag holds for one platform: the tag's own, or
/// the one manifest of the index under it.
fn platform_manifest_digest(reference: &str) -> String {
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", reference]);
    let v: Value = serde_json::from_str(&raw).unwrap();
    if v["mediaType"] == "application/vnd.oci.image.index.v1+json" {
        let manifests = v["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 1, "{reference}: {raw}");
        manifests[0]["digest"].as_str().unwrap().to_owned()
    } else {
        format!("sha256:{}", sha256_hex(raw.as_bytes()))
    }
}

/// A release run of a workflow on `cdep`, on a tag: a registry, the release server
/// with the tool under test as its asset, a minisign key as the secret, and a `gh`
/// that records its arguments. Each run has its own runner root and cache (`name`).
pub(crate) struct ReleaseRun {
    pub _registry: Registry,
    /// The template's `cache: sccache` with a local backend in place of GitHub's: the
    /// action keeps a backend the job's environment names (a self-hosted runner's
    /// Redis); the sccache server gets a port of its own, stopped at the end.
    pub _stop_sccache: crate::cache::StopSccache,
    pub redis: crate::cache::Redis,
    pub _redis_dir: tempfile::TempDir,
    pub sccache_port: u16,
    pub keys: tempfile::TempDir,
    pub server: ReleaseServer,
    pub bin: tempfile::TempDir,
    pub image: String,
    pub root: PathBuf,
    pub cache: PathBuf,
}

impl ReleaseRun {
    pub fn start(name: &str) -> Self {
        tools_present();
        require("skopeo");
        require("minisign");
        require_zig();
        require("sccache");
        require("redis-server");
        let registry = Registry::start();
        let redis_dir = tempfile::tempdir().unwrap();
        let redis = crate::cache::Redis::start(redis_dir.path());
        let sccache_port = crate::cache::free_port();
        // The release key, as a repository secret holds it (no password: `-W`).
        let keys = tempfile::tempdir().unwrap();
        sh(
            keys.path(),
            "minisign -G -W -p minisign.pub -s minisign.key >/dev/null",
        );
        let server = ReleaseServer::start();
        server.publish_tool(None);
        // A `gh` that records its arguments, checks that the files it is given exist,
        // and knows no release yet (`release view` fails).
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(
            bin.path().join("gh"),
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$GH_LOG\"\nfor a in \"$@\"; do case $a in out/*) test -f \"$a\" || { echo \"gh: no file $a\" >&2; exit 1; };; esac; done\ntest \"$1 $2\" != 'release view'\n",
        )
        .unwrap();
        sh(bin.path(), "chmod +x gh");
        let image = format!("{}/acme/cdep", registry.addr);
        let root = PathBuf::from(format!("{}{name}", runner_root().display()));
        let cache = scratch().join(format!("workflow-cache{name}"));
        ReleaseRun {
            _registry: registry,
            _stop_sccache: crate::cache::StopSccache(sccache_port),
            redis,
            _redis_dir: redis_dir,
            sccache_port,
            keys,
            server,
            bin,
            image,
            root,
            cache,
        }
    }

    pub fn gh_log(&self) -> PathBuf {
        self.bin.path().join("gh.log")
    }

    /// Runs `workflow` on the tag `v<VERSION>` of `fixture`; panics when it fails.
    /// The report's jobs and the log.
    pub fn run(&self, workflow: &Path, fixture: &Path) -> (Vec<Value>, String) {
        let secret_key = std::fs::read_to_string(self.keys.path().join("minisign.key")).unwrap();
        let report = self.bin.path().join("report.json");
        let zig_cache = std::env::var("ZIG_GLOBAL_CACHE_DIR").unwrap_or_else(|_| {
            let base = std::env::var("XDG_CACHE_HOME")
                .unwrap_or_else(|_| format!("{}/.cache", std::env::var("HOME").unwrap()));
            format!("{base}/zig")
        });
        let args: Vec<String> = [
            "--event",
            "push",
            "--ref",
            &format!("refs/tags/v{VERSION}"),
            "--repository",
            "acme/cdep",
            "--server-url",
            &self.server.url,
            "--var",
            &format!("IMAGE={}", self.image),
            "--var",
            "REGISTRY_INSECURE=true",
            "--secret",
            "REGISTRY_USERNAME=ci",
            "--secret",
            "REGISTRY_PASSWORD=not-checked-by-this-registry",
            "--secret",
            &format!("MINISIGN_KEY={}", secret_key.trim_end()),
            // zig's global cache stays this machine's (as on a self-hosted runner): a
            // fresh one costs minutes of building musl for aarch64. The interpreter then
            // notes that the action's zig cache step neither restores nor saves it.
            "--env",
            &format!("ZIG_GLOBAL_CACHE_DIR={zig_cache}"),
            "--env",
            &format!("GH_LOG={}", self.gh_log().display()),
            "--env",
            &format!(
                "SCCACHE_REDIS_ENDPOINT=redis://127.0.0.1:{}",
                self.redis.port
            ),
            "--env",
            &format!("SCCACHE_SERVER_PORT={}", self.sccache_port),
            "--path",
            &format!(
                "{}:{}",
                self.bin.path().display(),
                std::env::var("PATH").unwrap()
            ),
            "--report",
            &report.display().to_string(),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        let started = Instant::now();
        let (out, log) = run_workflow(workflow, fixture, &self.root, &self.cache, &args);
        assert!(out.status.success(), "the workflow failed:\n{log}");
        eprintln!(
            "{log}\nworkflow run: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let jobs = report["jobs"].as_array().unwrap().clone();
        // Every job and every step of the workflow itself ran (the tag path), and no
        // checkout left the job's token in .git/config.
        for job in &jobs {
            assert_eq!(job["result"], "success", "{job}");
            let steps = job["steps"].as_array().unwrap();
            assert!(
                steps
                    .iter()
                    .filter(|s| !s["scope"].as_str().unwrap().contains(" > "))
                    .all(|s| s["result"] == "success"),
                "a workflow step did not run: {job}"
            );
            let config = Path::new(job["workspace"].as_str().unwrap()).join(".git/config");
            let config = std::fs::read_to_string(&config).unwrap();
            assert!(!config.contains("extraheader"), "{}: {config}", job["name"]);
        }
        (jobs, log)
    }

    /// The out tree a job uploaded as `artifact`, unpacked.
    pub fn published(&self, artifact: &str) -> tempfile::TempDir {
        let published = tempfile::tempdir().unwrap();
        sh(
            published.path(),
            &format!(
                "tar -xf '{}'",
                self.root
                    .join("artifacts")
                    .join(artifact)
                    .join("out.tar")
                    .display()
            ),
        );
        published
    }

    /// The published tree verifies (with `expect`), sha256sum agrees, minisign and
    /// `verify --public-key` accept the signatures, the provenance names the image,
    /// and both Linux binaries answer from their C code (arm64 under qemu).
    pub fn check_published(&self, published: &Path, expect: &str) {
        let verify = Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"))
            .args(["multiarch", "verify", "--out-dir"])
            .arg(published)
            .args(["--expect", expect])
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );
        sh(published, "sha256sum --check --strict --quiet SHA256SUMS");
        let public = self.keys.path().join("minisign.pub");
        for file in ["SHA256SUMS", "provenance.intoto.json"] {
            sh(
                published,
                &format!("minisign -Vq -p '{}' -m {file}", public.display()),
            );
        }
        let provenance = std::fs::read_to_string(published.join("provenance.intoto.json")).unwrap();
        assert!(
            provenance.contains("/acme/cdep:0.1.0\""),
            "the provenance names no image: {provenance}"
        );
        let signed = Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"))
            .args(["multiarch", "verify", "--out-dir"])
            .arg(published)
            .arg("--public-key")
            .arg(&public)
            .output()
            .unwrap();
        assert!(
            signed.status.success(),
            "{}{}",
            String::from_utf8_lossy(&signed.stdout),
            String::from_utf8_lossy(&signed.stderr)
        );
        let native = sh(published, "linux/amd64/bin/cdep");
        assert_eq!(native, format!("cdep {VERSION} x86_64\nc says 42\n"));
        let qemu = qemu_aarch64();
        let arm = sh(
            published,
            &format!("'{}' linux/arm64/bin/cdep", qemu.display()),
        );
        assert_eq!(arm, format!("cdep {VERSION} aarch64\nc says 42\n"));
    }

    /// The registry holds the published tree's image under the version and per
    /// platform.
    pub fn check_registry(&self, published: &Path) {
        let image = &self.image;
        let tags: Value = serde_json::from_str(&skopeo(&[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{image}"),
        ]))
        .unwrap();
        let mut tags: Vec<&str> = tags["Tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        tags.sort_unstable();
        let expected = [
            VERSION.to_owned(),
            format!("{VERSION}-linux-amd64"),
            format!("{VERSION}-linux-arm64"),
        ];
        assert_eq!(tags, expected);
        let remote = skopeo(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{image}:{VERSION}"),
        ]);
        let local = skopeo(&[
            "inspect",
            "--raw",
            &format!("oci:{}:{image}:{VERSION}", published.join("oci").display()),
        ]);
        assert_eq!(
            remote, local,
            "the pushed index is not the one in the published out tree"
        );
        let index: Value = serde_json::from_str(&remote).unwrap();
        for (arch, manifest) in ["amd64", "arm64"]
            .iter()
            .zip(index["manifests"].as_array().unwrap())
        {
            assert_eq!(manifest["platform"]["os"], "linux");
            assert_eq!(manifest["platform"]["architecture"], *arch);
            let tag = format!("docker://{image}:{VERSION}-linux-{arch}");
            assert_eq!(
                platform_manifest_digest(&tag),
                manifest["digest"].as_str().unwrap(),
                "{tag} is not the index's {arch} image"
            );
        }
    }

    /// `gh` was asked whether the release exists, created it, and uploaded (with
    /// `--clobber`) exactly the release's assets: each of `archives` (paths below
    /// out/) with its `.sha256` and SBOM, SHA256SUMS, manifest.json, the provenance,
    /// both signatures, and every per-archive `.sig` and installer the tree holds;
    /// nothing of bin/ or oci/.
    pub fn check_release(&self, published: &Path, archives: &[String]) {
        let calls = std::fs::read_to_string(self.gh_log()).unwrap();
        let lines: Vec<&str> = calls.lines().collect();
        let tag = format!("v{VERSION}");
        assert_eq!(
            lines[..2],
            [
                format!("release view {tag} --repo acme/cdep"),
                format!("release create {tag} --repo acme/cdep --title {tag} --generate-notes"),
            ],
            "{calls}"
        );
        assert_eq!(lines.len(), 3, "{calls}");
        let upload = lines[2]
            .strip_prefix(&format!("release upload {tag} --repo acme/cdep --clobber "))
            .unwrap_or_else(|| panic!("{calls}"));
        let mut expected: Vec<String> = [
            "SHA256SUMS",
            "SHA256SUMS.minisig",
            "manifest.json",
            "provenance.intoto.json",
            "provenance.intoto.json.minisig",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        for a in archives {
            expected.extend([a.clone(), format!("{a}.sha256"), format!("{a}.cdx.json")]);
        }
        for extra in sh(
            published,
            "find . -path ./oci -prune -o -path '*/bin' -prune -o -type f \\( -name '*.sig' -o -name '*-installer.*' \\) -print",
        )
        .lines()
        {
            expected.push(extra.trim_start_matches("./").to_owned());
        }
        let mut expected: Vec<String> = expected.iter().map(|f| format!("out/{f}")).collect();
        expected.sort_unstable();
        let got: Vec<&str> = upload.split(' ').collect();
        assert_eq!(got, expected, "{calls}");
    }
}

/// The archive of `cdep` for `triple`, below out/.
pub(crate) fn cdep_archive(dir: &str, triple: &str) -> String {
    format!("{dir}/cdep-{VERSION}-{triple}.tar.gz")
}

#[test]
fn release_workflow_runs_every_step_on_c_code_and_pushes_the_merged_image() {
    let run = ReleaseRun::start("");
    let fixture = fixture_repo("cdep", &format!("v{VERSION}"));
    let (jobs, log) = run.run(&repo().join("docs/ci/github-actions.yml"), fixture.path());
    let names: Vec<&str> = jobs.iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["package linux/amd64", "package linux/arm64", "merge"],
        "{log}"
    );
    let ran = |name: &str| {
        jobs.iter()
            .flat_map(|j| j["steps"].as_array().unwrap())
            .filter(|s| s["name"] == name && s["result"] == "success")
            .count()
    };
    assert_eq!(ran("Publish a GitHub release"), 1);
    assert_eq!(ran("Push the image"), 1);
    assert_eq!(ran("Attest the archives and binaries"), 1);
    // The action set up zig for the arm64 job only, where the plan needs it; the
    // amd64 job's C code compiles with musl-tools' compiler.
    assert_eq!(ran("Install zig"), 1, "{log}");
    assert_eq!(ran("Plan"), 2);
    // `cache: sccache`: installed, on the job's Redis rather than GitHub's cache, and
    // each package job's build reported what it got from the cache.
    assert_eq!(ran("Install sccache"), 2, "{log}");
    assert_eq!(
        ran("Export the cache service's variables for sccache"),
        2,
        "{log}"
    );
    assert!(
        log.contains("sccache stores where `SCCACHE_REDIS_ENDPOINT` says"),
        "{log}"
    );
    assert_eq!(log.matches("Cache sccache: Rust ").count(), 2, "{log}");
    assert!(
        log.contains("aarch64-unknown-linux-musl: zig (C code in cdep"),
        "{log}"
    );
    assert!(
        log.contains("arm64 targets cross-build (zig for C)"),
        "{log}"
    );
    // The target dirs went through actions/cache: saved on a first run, restored after.
    for triple in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"] {
        let key = format!("cargo-multiarch-target-Linux-X64-{triple}-");
        assert!(
            log.lines().any(|l| l.contains(&key)
                && (l.contains("cache saved with key") || l.contains("cache restored from key"))),
            "{triple}: the target dir was neither saved nor restored:\n{log}"
        );
    }
    let published = run.published("out");
    run.check_published(published.path(), "linux/amd64,linux/arm64");
    run.check_registry(published.path());
    run.check_release(
        published.path(),
        &[
            cdep_archive("linux/amd64", "x86_64-unknown-linux-musl"),
            cdep_archive("linux/arm64", "aarch64-unknown-linux-musl"),
        ],
    );
    let _ = std::fs::remove_dir_all(&run.root);
}

/// A workflow of one job that checks out `cdep` and installs only the tool.
pub(crate) const INSTALL_ONLY: &str = r#"
name: install
on: push
jobs:
  install:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: tool
        uses: cargo-multiarch/cargo-multiarch@v0.1.0
        with:
          tool-only: true
          version: ${{ vars.VERSION }}
      - env:
          INSTALLED: ${{ steps.tool.outputs.version }}
        run: |
          test "$(cargo multiarch --version)" = "cargo-multiarch $INSTALLED"
          test "$(command -v cargo-multiarch)" = "$RUNNER_TOOL_CACHE/cargo-multiarch/$INSTALLED-$(uname -m)-unknown-linux-musl/bin/cargo-multiarch"
"#;

#[test]
fn action_installs_the_release_asset_only_when_its_checksum_matches() {
    tools_present();
    let work = tempfile::tempdir().unwrap();
    let workflow = work.path().join("install.yml");
    std::fs::write(&workflow, INSTALL_ONLY).unwrap();
    let fixture = fixture_repo("cdep", &format!("v{VERSION}"));
    let server = ReleaseServer::start();
    let install = |version: &str| {
        run_workflow(
            &workflow,
            fixture.path(),
            &work.path().join("root"),
            &work.path().join("cache"),
            &[
                "--ref".into(),
                format!("refs/tags/v{VERSION}"),
                "--server-url".into(),
                server.url.clone(),
                "--var".into(),
                format!("VERSION={version}"),
            ],
        )
    };

    server.publish_tool(None);
    let (out, log) = install("");
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "Installed cargo-multiarch {VERSION} from cargo-multiarch-{VERSION}-{}.tar.gz (sha256 ",
            host_musl_triple()
        )),
        "{log}"
    );

    // A checksum that does not match: the job fails and installs nothing.
    server.publish_tool(Some(&"0".repeat(64)));
    let (out, log) = install("");
    assert!(!out.status.success(), "{log}");
    assert!(
        log.contains("the download is corrupt or was tampered with"),
        "{log}"
    );
    assert!(!log.contains("Installed cargo-multiarch"), "{log}");

    // A version with no release, other than the action's own: an error with a hint
    // (the action cannot build another version from its checkout).
    let (out, log) = install("9.9.9");
    assert!(!out.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "no release asset cargo-multiarch-9.9.9-{}.tar.gz for cargo-multiarch 9.9.9 (404), and this action's checkout is version {VERSION} (hint: use the action at the tag v9.9.9, or leave `version` empty)",
            host_musl_triple()
        )),
        "{log}"
    );
}

/// A job whose `target-dir` input comes from a variable, and a last step, run in any
/// case, that says whether a variable of the attacker's landed in its environment.
const INJECT: &str = r#"
name: inject
on: push
jobs:
  inject:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: cargo-multiarch/cargo-multiarch@v0.1.0
        with:
          cache: false
          targets: x86_64-unknown-linux-gnu
          target-dir: ${{ vars.TARGET_DIR }}
      - if: always()
        run: echo "injected=${CARGO_MULTIARCH_INJECTED:-no}"
"#;

/// Issue 21, finding 9: a line break in an input would write a variable of its own
/// into `$GITHUB_ENV` (the `target-dir` input is written as `CARGO_TARGET_DIR=…`). The
/// action refuses such an input before writing anything.
#[test]
fn action_refuses_an_input_with_a_line_break_before_it_reaches_github_env() {
    tools_present();
    let work = tempfile::tempdir().unwrap();
    let workflow = work.path().join("inject.yml");
    std::fs::write(&workflow, INJECT).unwrap();
    let fixture = fixture_repo("cdep", &format!("v{VERSION}"));
    let server = ReleaseServer::start();
    server.publish_tool(None);
    let (out, log) = run_workflow(
        &workflow,
        fixture.path(),
        &work.path().join("root"),
        &work.path().join("cache"),
        &[
            "--ref".into(),
            format!("refs/tags/v{VERSION}"),
            "--server-url".into(),
            server.url.clone(),
            "--var".into(),
            "TARGET_DIR=t\nCARGO_MULTIARCH_INJECTED=yes".into(),
        ],
    );
    assert!(log.contains("injected=no"), "{log}");
    assert!(!log.contains("injected=yes"), "{log}");
    assert!(!out.status.success(), "{log}");
    assert!(
        log.contains("input `target-dir` contains a line break (hint: give it on one line)"),
        "{log}"
    );
    assert!(
        !log.contains("Installed cargo-multiarch"),
        "refused first: {log}"
    );
}

/// A local composite action, committed in the repository the workflow checks out.
const LOCAL_ACTION: &str = r#"
name: greet
inputs:
  who:
    required: true
  greeting:
    default: hello
outputs:
  said:
    value: ${{ steps.say.outputs.said }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      env:
        WHO: ${{ inputs.who }}
      run: echo "said=${{ inputs.greeting }} $WHO from $(basename "$GITHUB_ACTION_PATH")" >> "$GITHUB_OUTPUT"
"#;

/// Runs the interpreter on a workflow given as text, on `cdep`'s repository with
/// [`LOCAL_ACTION`] at `.github/actions/greet`.
fn interpret(yaml: &str, extra: &[String]) -> (Output, String, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let workflow = work.path().join("wf.yml");
    std::fs::write(&workflow, yaml).unwrap();
    let fixture = fixture_repo("cdep", "v1.2.3");
    let action = fixture.path().join(".github/actions/greet");
    std::fs::create_dir_all(&action).unwrap();
    std::fs::write(action.join("action.yml"), LOCAL_ACTION).unwrap();
    sh(
        fixture.path(),
        "git add -A && git -c user.name=ci -c user.email=ci@localhost commit -q -m action && git tag -f v1.2.3 >/dev/null",
    );
    let mut args = vec!["--ref".to_owned(), "refs/tags/v1.2.3".to_owned()];
    args.extend_from_slice(extra);
    let (out, log) = run_workflow(
        &workflow,
        fixture.path(),
        &work.path().join("root"),
        &work.path().join("cache"),
        &args,
    );
    (out, log, work)
}

#[test]
fn interpreter_carries_env_path_outputs_matrix_and_failures_as_actions_does() {
    require("git");
    require_python("yaml");
    let results = tempfile::NamedTempFile::new().unwrap();
    let yaml = r#"
name: semantics
on:
  push:
    tags: ["v*"]
env:
  WF: wf
jobs:
  first:
    name: first ${{ matrix.n }}
    strategy:
      matrix:
        include:
          - n: one
          - n: two
    runs-on: ubuntu-latest
    env:
      JOB: job-${{ matrix.n }}
    steps:
      - uses: actions/checkout@v4
      - id: out
        run: |
          echo "FROM_ENV=set-by-${{ matrix.n }}" >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\necho on-path\n' > "$RUNNER_TEMP/bin/mytool"
          chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          { echo "word=hello"; echo "multi<<EOF"; echo "a"; echo "b"; echo "EOF"; } >> "$GITHUB_OUTPUT"
      - id: greet
        uses: ./.github/actions/greet
        with:
          who: ${{ matrix.n }}
      - name: Use them
        shell: bash
        env:
          GREETED: ${{ steps.greet.outputs.said }}
          WORD: ${{ steps.out.outputs.word }}
          MULTI: ${{ steps.out.outputs.multi }}
          SAME: ${{ env.JOB == format('job-{0}', matrix.n) && 'yes' || 'no' }}
        run: echo "$WF $JOB $FROM_ENV $WORD $(mytool) ${MULTI//$'\n'/+} $SAME $GITHUB_REF_TYPE $GITHUB_REF_NAME, $GREETED" >> "$RESULTS"
      - name: pipefail under shell bash
        if: matrix.n == 'two'
        shell: bash
        run: false | true
      - if: failure()
        run: echo "failure seen in ${{ matrix.n }}" >> "$RESULTS"
      - if: startsWith(github.ref, 'refs/heads/')
        run: echo "never on a tag" >> "$RESULTS"
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: echo "second ran" >> "$RESULTS"
"#;
    let (out, log, _work) = interpret(
        yaml,
        &[
            "--env".into(),
            format!("RESULTS={}", results.path().display()),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{log}");
    let text = std::fs::read_to_string(results.path()).unwrap();
    assert_eq!(
        text,
        "wf job-one set-by-one hello on-path a+b yes tag v1.2.3, hello one from greet\n\
         wf job-two set-by-two hello on-path a+b yes tag v1.2.3, hello two from greet\n\
         failure seen in two\n",
        "{log}"
    );
    assert!(
        log.contains("job second: skipped (a needed job did not succeed)"),
        "{log}"
    );
}

#[test]
fn interpreter_fails_on_what_it_does_not_model() {
    require("git");
    require_python("yaml");
    let job = |steps: &str| {
        format!("name: t\non: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n{steps}")
    };
    for (steps, message) in [
        (
            "      - uses: actions/setup-node@v4\n",
            "`uses: actions/setup-node@v4`",
        ),
        (
            "      - uses: actions/cache@v3\n        with:\n          path: x\n          key: k\n",
            "`uses: actions/cache@v3`",
        ),
        (
            "      - run: echo ${{ toJSON(github) }}\n",
            "the function `toJSON` is not supported",
        ),
        (
            "      - run: echo '${{ github.event.head_commit.message }}'\n",
            "`github.event.head_commit` is not modelled",
        ),
        (
            "      - run: echo ${{ github.ref < 'b' }}\n",
            "`<` is not supported",
        ),
        (
            "      - run: Write-Output hi\n        shell: pwsh\n",
            "shell `pwsh`",
        ),
        (
            "      - run: echo hi\n        continue-on-error: true\n",
            "`continue-on-error`",
        ),
    ] {
        let (out, log, _work) = interpret(&job(steps), &[]);
        assert_eq!(out.status.code(), Some(3), "{steps}\n{log}");
        assert!(
            log.contains("run_workflow: unsupported: ") && log.contains(message),
            "{steps}\n{log}"
        );
    }
    // A step skipped by its `if:` is still parsed by bash.
    let (out, log, _work) = interpret(&job("      - if: false\n        run: 'if then fi'\n"), &[]);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("is not valid bash"), "{log}");
}
