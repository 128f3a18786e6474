//! Push tests: Debian's `docker-registry` for the real thing, and the stand-in server
//! of `fake.rs` for Basic and Bearer auth and error reporting.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::external::{require, run};
use super::fake::{FakeRegistry, Mode, PASSWORD, TOKEN, USER};
use super::support::{fake_spec, temp_dir};
use crate::image::{Auth, ImageResult, push, write_layout};
use crate::process::Process;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Debian's `docker-registry` serving a temp dir on a free loopback port; killed on drop.
pub struct Registry {
    child: Child,
    pub addr: String,
    _dir: TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    pub fn start() -> Option<Self> {
        if !require("docker-registry") {
            return None;
        }
        let (dir, path) = temp_dir();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = path.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {path}/data\nhttp:\n  addr: {addr}\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(path.join("registry.log")).unwrap();
        let process = Process::new("docker-registry").arg("serve").arg(&config);
        let child = process
            .command()
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut registry = Registry {
            child,
            addr: addr.clone(),
            _dir: dir,
        };
        let socket: SocketAddr = addr.parse().unwrap();
        let start = Instant::now();
        while TcpStream::connect_timeout(&socket, Duration::from_millis(200)).is_err() {
            let log = std::fs::read_to_string(path.join("registry.log")).unwrap_or_default();
            assert!(
                registry.child.try_wait().unwrap().is_none(),
                "`{process}` exited early:\n{log}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "`{process}` did not listen on {addr} within 20 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }
}

fn credentials() -> Auth {
    Auth {
        username: Some(USER.into()),
        password: Some(PASSWORD.into()),
        docker_config: None,
    }
}

/// Keeps tests away from the developer's own `~/.docker/config.json`.
fn no_credentials(dir: &camino::Utf8Path) -> Auth {
    let config = dir.join("empty-docker-config.json");
    std::fs::write(&config, "{}").unwrap();
    Auth {
        docker_config: Some(config),
        ..Auth::default()
    }
}

#[test]
fn push_to_docker_registry_then_skip_everything_the_second_time() {
    if !require("skopeo") {
        return;
    }
    let Some(registry) = Registry::start() else {
        return;
    };
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir.join("oci")).unwrap();
    let image = &result.images[0];
    let reference = format!("{}/acme/alpha:0.3.0", registry.addr);
    let auth = no_credentials(&dir);

    let first = push(&dir.join("oci"), image, &reference, &auth, true).unwrap();
    assert_eq!(
        first.uploaded.len(),
        4,
        "two layers and two configs: {first:?}"
    );
    assert!(first.skipped.is_empty());
    assert_eq!(first.index_digest, image.index.digest);

    let raw = Process::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"));
    let raw = run(&raw);
    assert_eq!(
        format!("sha256:{}", crate::image::oci::sha256_hex(raw.as_bytes())),
        image.index.digest
    );
    // And the registry serves each platform's image completely.
    let config = run(&Process::new("skopeo")
        .args([
            "inspect",
            "--config",
            "--tls-verify=false",
            "--override-arch",
            "arm64",
        ])
        .arg(format!("docker://{reference}")));
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["architecture"], "arm64");

    let second = push(&dir.join("oci"), image, &reference, &auth, true).unwrap();
    assert!(second.uploaded.is_empty(), "{second:?}");
    assert_eq!(second.skipped.len(), 4);
}

#[test]
fn push_answers_basic_auth_and_follows_relative_locations() {
    let server = FakeRegistry::start(Mode::Basic);
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir.join("oci")).unwrap();
    let image = &result.images[0];
    let report = push(
        &dir.join("oci"),
        image,
        &format!("{}/demo/app:v1", server.addr),
        &credentials(),
        true,
    )
    .unwrap();
    assert_eq!(report.uploaded.len(), 4);
    let seen = server.seen();
    assert_eq!(
        (seen[0].status, seen[0].authorization.as_deref()),
        (401, None),
        "{seen:#?}"
    );
    assert!(
        seen[1..].iter().all(|s| s
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))),
        "{seen:#?}"
    );
    assert_eq!(
        seen.iter().filter(|s| s.status == 401).count(),
        1,
        "credentials are sent up front once known"
    );
    // Manifests by digest, then the index by tag, last.
    let last = seen.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("PUT", "/v2/demo/app/manifests/v1")
    );
    for m in &image.manifests {
        assert!(server.manifest(&m.digest).is_some());
    }
    let index = server.manifest("v1").unwrap();
    assert_eq!(
        format!("sha256:{}", crate::image::oci::sha256_hex(&index)),
        image.index.digest
    );

    // The same credentials from a Docker config (`auths.<host>.auth`).
    let config = dir.join("config.json");
    let auth = crate::image::credentials::base64_encode(format!("{USER}:{PASSWORD}").as_bytes());
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"http://{}":{{"auth":"{auth}"}}}}}}"#,
            server.addr
        ),
    )
    .unwrap();
    let auth = Auth {
        docker_config: Some(config),
        ..Auth::default()
    };
    let again = push(
        &dir.join("oci"),
        image,
        &format!("{}/demo/app:v1", server.addr),
        &auth,
        true,
    )
    .unwrap();
    assert_eq!(again.skipped.len(), 4);
}

#[test]
fn push_fetches_one_bearer_token_and_reuses_it() {
    let server = FakeRegistry::start(Mode::Bearer);
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir.join("oci")).unwrap();
    let report = push(
        &dir.join("oci"),
        &result.images[0],
        &format!("{}/demo/app:v1", server.addr),
        &credentials(),
        true,
    )
    .unwrap();
    assert_eq!(report.uploaded.len(), 4);
    let seen = server.seen();
    let tokens: Vec<_> = seen
        .iter()
        .filter(|s| s.target.starts_with("/token"))
        .collect();
    assert_eq!(tokens.len(), 1, "{seen:#?}");
    assert_eq!(tokens[0].status, 200);
    let bearer = format!("Bearer {TOKEN}");
    let registry: Vec<_> = seen
        .iter()
        .filter(|s| s.target.starts_with("/v2/"))
        .collect();
    assert!(
        registry[1..]
            .iter()
            .all(|s| s.authorization.as_deref() == Some(bearer.as_str())),
        "{seen:#?}"
    );
    assert!(registry.iter().any(|s| {
        s.method == "PUT"
            && s.target
                .contains("/blobs/uploads/u1?_state=abc&digest=sha256%3A")
    }));
}

/// Pushes the sample image to `REGISTRY/demo/app:v1` and returns the error, formatted.
fn push_error(registry: &str, auth: &Auth, insecure: bool) -> (String, ImageResult) {
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir.join("oci")).unwrap();
    let image = result.images[0].clone();
    let reference = format!("{registry}/demo/app:v1");
    let e = push(&dir.join("oci"), &image, &reference, auth, insecure).unwrap_err();
    (format!("{e:#}"), image)
}

#[test]
fn push_errors_name_method_url_status_and_registry_message() {
    let server = FakeRegistry::start(Mode::RejectManifests);
    let (e, image) = push_error(&server.addr, &credentials(), true);
    let want = format!(
        "`PUT http://{}/v2/demo/app/manifests/{}` failed: 400 Bad Request: manifest invalid (MANIFEST_INVALID)",
        server.addr, image.manifests[0].digest
    );
    assert_eq!(e, want);

    // Nothing listens: the error names the URL and suggests plain HTTP when it was HTTPS.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (e, _) = push_error(&closed.to_string(), &credentials(), false);
    let want = format!("could not reach `https://{closed}/v2/demo/app/blobs/sha256:");
    assert!(e.starts_with(&want), "{e}");
    let hint = "(hint: for a registry that only speaks plain HTTP, push with `--insecure`)";
    assert!(e.contains(hint), "{e}");
}

#[test]
fn rejected_or_missing_credentials_are_reported_with_a_hint() {
    let wrong = Auth {
        password: Some("wrong".into()),
        ..credentials()
    };
    let server = FakeRegistry::start(Mode::Basic);
    let (e, _) = push_error(&server.addr, &wrong, true);
    let want = format!("`HEAD http://{}/v2/demo/app/blobs/sha256:", server.addr);
    assert!(e.starts_with(&want), "{e}");
    assert!(
        e.contains("failed: 401 Unauthorized (hint: check the credentials"),
        "{e}"
    );

    let (_t, dir) = temp_dir();
    let (e, _) = push_error(&server.addr, &no_credentials(&dir), true);
    assert!(
        e.contains("asks for a username and password and none were found (hint:"),
        "{e}"
    );

    let server = FakeRegistry::start(Mode::Bearer);
    let (e, _) = push_error(&server.addr, &wrong, true);
    assert!(
        e.contains("could not get a token for push access to `demo/app`"),
        "{e}"
    );
    let want = "/token?service=fake&scope=repository%3Ademo%2Fapp%3Apull\
                &scope=repository%3Ademo%2Fapp%3Apull%2Cpush` failed: 401 Unauthorized: \
                token server wants basic credentials (UNAUTHORIZED)";
    assert!(e.contains(want), "{e}");
}
