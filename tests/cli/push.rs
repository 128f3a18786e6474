//! `image --push` against the tests' fake HTTP server playing a registry
//! (`support::fake_http`): Basic and Bearer auth, credentials from the command line or
//! a Docker config, relative and absolute upload locations, and how failures are
//! reported. The attacks are in `attack_registry.rs`; the push to a real registry
//! (Debian's `docker-registry`) in `image.rs`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::fake_http::{
    PASSWORD, Request, Server, TOKEN, USER, USER_PASSWORD_BASE64, basic, basic_challenge, error,
    push_command, push_in, registry,
};
use crate::support::{Run, build, run};

/// `hello`, built once, and its out dir.
fn hello() -> (tempfile::TempDir, PathBuf) {
    build("hello", &[])
}

/// A Basic-auth stand-in whose upload locations are host-relative.
fn basic_registry() -> Server {
    Server::serve(registry(basic(), basic_challenge(), |n| {
        format!("/v2/demo/app/blobs/uploads/u{n}?_state=abc")
    }))
}

/// A Bearer stand-in whose token endpoint is its own `/token`, and whose upload
/// locations are absolute URLs.
fn bearer_registry() -> Server {
    let listener = Server::listener();
    let own = listener.local_addr().unwrap();
    Server::start(
        listener,
        registry(
            format!("Bearer {TOKEN}"),
            format!(
                r#"Bearer realm="http://{own}/token",service="stand-in",scope="repository:demo/app:pull""#
            ),
            move |n| format!("http://{own}/v2/demo/app/blobs/uploads/u{n}?_state=abc"),
        ),
    )
}

/// The events of a `--message-format json` run.
fn events(r: &Run) -> Vec<Value> {
    r.stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn event<'a>(events: &'a [Value], reason: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["reason"] == reason)
        .unwrap_or_else(|| panic!("no `{reason}` event in {events:#?}"))
}

/// `image --push ADDR/demo/app:v1 --insecure` with the stand-in's credentials, as JSON events.
fn push_json(dir: &Path, out: &Path, addr: SocketAddr) -> Vec<Value> {
    events(
        &push_in(
            dir,
            out,
            &format!("{addr}/demo/app:v1"),
            &["--insecure", "--message-format", "json"],
        )
        .success(),
    )
}

#[test]
fn push_answers_basic_auth_and_follows_relative_locations() {
    let server = basic_registry();
    let (out, dir) = hello();
    let ev = push_json(&dir, out.path(), server.addr);
    let pushed = event(&ev, "pushed");
    let uploaded = pushed["uploaded"].as_u64().unwrap();
    assert!(uploaded >= 4, "{pushed}");
    assert_eq!(pushed["skipped"], 0);
    let seen = server.seen();
    assert_eq!(
        (seen[0].status, seen[0].authorization.as_deref()),
        (401, None),
        "{seen:#?}"
    );
    assert!(seen[1..].iter().all(Request::has_basic), "{seen:#?}");
    assert_eq!(
        seen.iter().filter(|s| s.status == 401).count(),
        1,
        "credentials are sent up front once known"
    );
    // Each blob went to the relative location it was given, its state kept.
    let puts: Vec<&Request> = seen
        .iter()
        .filter(|s| s.method == "PUT" && s.target.contains("/blobs/uploads/"))
        .collect();
    assert_eq!(puts.len() as u64, uploaded);
    assert!(
        puts.iter()
            .all(|p| p.status == 201 && p.target.contains("?_state=abc&digest=sha256%3A")),
        "{puts:#?}"
    );
    // Manifests by digest, then the index by tag, last.
    let last = seen.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("PUT", "/v2/demo/app/manifests/v1")
    );
    let image = event(&ev, "image");
    for m in image["manifests"].as_array().unwrap() {
        assert!(
            server.manifest(m["digest"].as_str().unwrap()).is_some(),
            "{m} not pushed"
        );
    }
    let index = server.manifest("v1").unwrap();
    assert_eq!(
        format!("sha256:{}", crate::support::sha256_hex(&index)),
        pushed["digest"].as_str().unwrap()
    );
    assert_eq!(pushed["digest"], image["digest"]);

    // The same credentials from a Docker config (`auths.<host>.auth`): every blob is
    // there now.
    let config = format!(
        r#"{{"auths":{{"http://{}":{{"auth":"{USER_PASSWORD_BASE64}"}}}}}}"#,
        server.addr
    );
    let reference = format!("{}/demo/app:v1", server.addr);
    let (mut cmd, _config) = push_command(&dir, out.path(), &reference, &config);
    let again = run(cmd.args(["--insecure", "--message-format", "json"])).success();
    let again = events(&again);
    let pushed = event(&again, "pushed");
    assert_eq!(pushed["uploaded"], 0);
    assert_eq!(pushed["skipped"].as_u64(), Some(uploaded));
}

#[test]
fn push_fetches_one_bearer_token_and_reuses_it() {
    let server = bearer_registry();
    let (out, dir) = hello();
    let ev = push_json(&dir, out.path(), server.addr);
    let pushed = event(&ev, "pushed");
    assert!(pushed["uploaded"].as_u64().unwrap() >= 4, "{pushed}");
    let seen = server.seen();
    let tokens: Vec<_> = seen
        .iter()
        .filter(|s| s.target.starts_with("/token"))
        .collect();
    assert_eq!(tokens.len(), 1, "{seen:#?}");
    assert_eq!(tokens[0].status, 200);
    assert!(tokens[0].has_basic(), "{seen:#?}");
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
    // The absolute upload location, its state kept.
    assert!(
        registry.iter().any(|s| {
            s.method == "PUT"
                && s.status == 201
                && s.target
                    .contains("/blobs/uploads/u1?_state=abc&digest=sha256%3A")
        }),
        "{seen:#?}"
    );
}

/// `image --push ADDR/demo/app:v1 ARGS…` of `hello` (with the stand-in's credentials
/// unless `credentials` is false, and an empty Docker config): its stderr, failing.
fn push_error(addr: &str, credentials: bool, args: &[&str]) -> String {
    let (out, dir) = hello();
    let reference = format!("{addr}/demo/app:v1");
    let (mut cmd, _config) = push_command(&dir, out.path(), &reference, "{}");
    if credentials {
        cmd.args(["--username", USER, "--password", PASSWORD]);
    }
    run(cmd.args(args)).failure().stderr()
}

#[test]
fn push_errors_name_method_url_status_and_registry_message() {
    let inner = registry(basic(), basic_challenge(), |n| {
        format!("/v2/demo/app/blobs/uploads/u{n}?_state=abc")
    });
    let server = Server::serve(Box::new(move |r: &Request| {
        if r.method == "PUT" && r.target.starts_with("/v2/demo/app/manifests/") && r.has_basic() {
            error(400, "MANIFEST_INVALID", "manifest invalid")
        } else {
            inner(r)
        }
    }));
    let e = push_error(&server.addr.to_string(), true, &["--insecure"]);
    let rejected = server
        .seen()
        .into_iter()
        .find(|r| r.method == "PUT" && r.status == 400)
        .unwrap();
    assert!(
        rejected
            .target
            .starts_with("/v2/demo/app/manifests/sha256:"),
        "{rejected:?}"
    );
    let want = format!(
        "`PUT http://{}{}` failed: 400 Bad Request: manifest invalid (MANIFEST_INVALID)",
        server.addr, rejected.target
    );
    assert!(e.contains(&want), "{e}");

    // Nothing listens: the error names the URL and suggests plain HTTP when it was HTTPS.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = push_error(&closed.to_string(), true, &[]);
    let want = format!("could not reach `https://{closed}/v2/demo/app/blobs/sha256:");
    assert!(e.contains(&want), "{e}");
    let hint = "(hint: for a registry that only speaks plain HTTP, push with `--insecure`)";
    assert!(e.contains(hint), "{e}");
}

#[test]
fn rejected_or_missing_credentials_are_reported_with_a_hint() {
    let wrong = ["--insecure", "--username", USER, "--password", "wrong"];
    let server = basic_registry();
    let addr = server.addr.to_string();
    let e = push_error(&addr, false, &wrong);
    let want = format!("`HEAD http://{addr}/v2/demo/app/blobs/sha256:");
    assert!(e.contains(&want), "{e}");
    assert!(
        e.contains("failed: 401 Unauthorized (hint: check the credentials"),
        "{e}"
    );

    // No credentials anywhere (an empty Docker config).
    let e = push_error(&addr, false, &["--insecure"]);
    assert!(
        e.contains("asks for a username and password and none were found (hint:"),
        "{e}"
    );

    let server = bearer_registry();
    let e = push_error(&server.addr.to_string(), false, &wrong);
    assert!(
        e.contains("could not get a token for push access to `demo/app`"),
        "{e}"
    );
    let want = "/token?service=stand-in&scope=repository%3Ademo%2Fapp%3Apull\
                &scope=repository%3Ademo%2Fapp%3Apull%2Cpush` failed: 401 Unauthorized: \
                token server wants basic credentials (UNAUTHORIZED)";
    assert!(e.contains(want), "{e}");
}

#[test]
fn registry_must_be_a_host_and_port() {
    for registry in ["ghcr.io?x", "ghcr.io#x", "127.0.0.1:99999"] {
        let e = push_error(registry, true, &[]);
        assert!(
            e.contains(&format!(
                "registry `{registry}` is not a host name with an optional port (hint: write the reference as `REGISTRY/NAME:TAG`, e.g. `ghcr.io/acme/alpha:0.3.0`)"
            )),
            "{e}"
        );
    }
}
