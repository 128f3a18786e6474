//! The plain-http rules of the push client that only the client itself can show (no
//! TLS in the tests). The pushes themselves (Basic and Bearer auth, error reporting)
//! run end to end through `cargo multiarch image --push` against the tests' fake HTTP
//! server in `tests/cli/push.rs`, the attacks in `tests/cli/attack_registry.rs`, and
//! the push to Debian's `docker-registry` in `tests/cli/image.rs`.

use crate::image::Auth;
use crate::image::reference::Reference;
use crate::image::registry::Client;
use crate::image::wire::Challenge;
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
        username: Some("ci-bot".into()),
        password: Some("s3cret:with:colons".into()),
        docker_config: None,
    }
}

/// A registry reached over https whose token realm is plain http: the Basic credentials
/// would cross the network in the clear, so the client refuses before any request (the
/// realm is a port nothing listens on: an attempt would be a different error). That
/// with `--insecure` such a realm gets the credentials and gives the token is tested
/// through `image --push` against the tests' fake server (`tests/cli/push.rs`).
#[test]
fn http_bearer_realm_needs_insecure() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let target = Reference::parse(&format!("{closed}/demo/app:v1")).unwrap();
    let auth = credentials();
    let challenge = Challenge::parse(&format!(
        r#"Bearer realm="http://{closed}/token",service="stand-in""#
    ));
    let mut client = Client::new(&target, &auth, false, &SHELL).unwrap();
    let e = format!("{:#}", client.token(&challenge).unwrap_err());
    let want = format!(
        "asks for a Bearer token from `http://{closed}/token`, which is plain HTTP: the credentials would travel unencrypted (hint: have the registry announce an https token realm, or push with `--insecure`"
    );
    assert!(e.contains(&want), "{e}");
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
