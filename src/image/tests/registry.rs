//! Push tests against the stand-in server of `fake.rs`: Basic and Bearer auth and error
//! reporting. The real push, to Debian's `docker-registry`, is tested end to end through
//! `cargo multiarch image --push` in `tests/cli/image.rs`.

use super::fake::{FakeRegistry, Mode, PASSWORD, TOKEN, USER};
use super::support::{fake_spec, temp_dir};
use crate::image::{Auth, ImageResult, push, write_layout};

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
