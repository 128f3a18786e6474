//! Push tests against the stand-in server of `fake.rs`: Basic and Bearer auth, error
//! reporting, and the plain-http rules that only the client itself can show (no TLS
//! here); the attacks run end to end in `tests/cli/attack_registry.rs`. The real push, to Debian's `docker-registry`, is tested end to end through
//! `cargo multiarch image --push` in `tests/cli/image.rs`.

use super::fake::{FakeRegistry, Mode, PASSWORD, TOKEN, USER};
use super::support::{fake_spec, temp_dir};
use crate::image::reference::Reference;
use crate::image::registry::Client;
use crate::image::wire::Challenge;
use crate::image::{Auth, ImageResult, push, write_layout};
use crate::output::Color;
use crate::output::Shell;

/// Warnings go to stderr; status lines are not printed.
const SHELL: Shell = Shell {
    color: false,
    quiet: true,
    verbose: 0,
    color_choice: Color::Never,
    json: false,
    progress: false,
};

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
        &SHELL,
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
        format!("sha256:{}", crate::oci::sha256_hex(&index)),
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
        &SHELL,
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
        &SHELL,
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
    let e = push(&dir.join("oci"), &image, &reference, auth, insecure, &SHELL).unwrap_err();
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

/// A registry reached over https whose token realm is plain http: the Basic credentials
/// would cross the network in the clear. Only the token request is made (the stand-in
/// speaks no TLS), through the client the push uses.
#[test]
fn http_bearer_realm_needs_insecure() {
    let server = FakeRegistry::start(Mode::Bearer);
    let target = Reference::parse(&format!("{}/demo/app:v1", server.addr)).unwrap();
    let auth = credentials();
    let challenge = Challenge::parse(&format!(
        r#"Bearer realm="http://{}/token",service="fake""#,
        server.addr
    ));
    let mut client = Client::new(&target, &auth, false, &SHELL).unwrap();
    let e = format!("{:#}", client.token(&challenge).unwrap_err());
    assert!(server.seen().is_empty(), "{:#?}", server.seen());
    let want = format!(
        "asks for a Bearer token from `http://{}/token`, which is plain HTTP: the credentials would travel unencrypted (hint: have the registry announce an https token realm, or push with `--insecure`",
        server.addr
    );
    assert!(e.contains(&want), "{e}");

    // With `--insecure` the same realm gets the credentials, and gives the token.
    let mut client = Client::new(&target, &auth, true, &SHELL).unwrap();
    assert_eq!(client.token(&challenge).unwrap(), format!("Bearer {TOKEN}"));
    assert_eq!(server.seen().len(), 1);
}

/// Without `--insecure`, nothing goes over plain http, wherever the registry points.
#[test]
fn http_location_needs_insecure() {
    let target = Reference::parse("ghcr.io/demo/app:v1").unwrap();
    let auth = credentials();
    let mut client = Client::new(&target, &auth, false, &SHELL).unwrap();
    let url = crate::image::origin::Url::parse("http://127.0.0.1:1/v2/demo/app/blobs/uploads/u1")
        .unwrap();
    let e = format!(
        "{:#}",
        client.allow(&url, "the upload location").unwrap_err()
    );
    assert_eq!(
        e,
        "the upload location goes to `http://127.0.0.1:1/v2/demo/app/blobs/uploads/u1`, which is plain HTTP: nothing is sent unencrypted without `--insecure` (hint: have the registry announce https URLs, or push with `--insecure` on a network you trust)"
    );
    let https = crate::image::origin::Url::parse("https://127.0.0.1:1/x").unwrap();
    client.allow(&https, "the upload location").unwrap();
    let mut client = Client::new(&target, &auth, true, &SHELL).unwrap();
    client.allow(&url, "the upload location").unwrap();
}

#[test]
fn registry_must_be_a_host_and_port() {
    for registry in ["ghcr.io?x", "ghcr.io#x", "127.0.0.1:99999"] {
        let (e, _) = push_error(registry, &credentials(), false);
        assert_eq!(
            e,
            format!(
                "registry `{registry}` is not a host name with an optional port (hint: write the reference as `REGISTRY/NAME:TAG`, e.g. `ghcr.io/acme/alpha:0.3.0`)"
            )
        );
    }
}
