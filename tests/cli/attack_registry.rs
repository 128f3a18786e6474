//! Attacks on `image --push` from a hostile or misconfigured registry: every test is
//! named after the attack it stops. The tests' fake HTTP server
//! (`support::fake_http`, a handler closure per test) plays the registry and, on a
//! second port, the place credentials must not reach.
//! Nothing here sends traffic anywhere but loopback; the `--insecure` warning for other
//! hosts is tested beside its code (`image::origin`).

use std::net::{SocketAddr, TcpListener};

use crate::support::fake_http::{
    PASSWORD, Request, Server, TOKEN, USER_PASSWORD_BASE64, basic, basic_challenge, push_in,
    registry, reply, sink,
};
use crate::support::{Run, build};

/// `image --push 127.0.0.1:PORT/demo/app:v1` of `hello` (built for real), with the
/// stand-in's credentials, an empty Docker config and no proxy.
fn push(registry: SocketAddr, extra: &[&str]) -> Run {
    let (out, dir) = build("hello", &[]);
    push_in(&dir, out.path(), &format!("{registry}/demo/app:v1"), extra)
}

/// Neither the password, `user:password`, its base64 nor the token in the output.
#[track_caller]
fn assert_no_secret(r: &Run) {
    let text = format!("{}{}", r.stdout(), r.stderr());
    let secrets = [
        PASSWORD.to_owned(),
        USER_PASSWORD_BASE64.to_owned(),
        TOKEN.to_owned(),
    ];
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "`{s}` was printed:\n{text}");
    }
}

#[track_caller]
fn assert_never_authorized(server: &Server) {
    let seen = server.seen();
    assert!(
        seen.iter().all(|r| r.authorization.is_none()),
        "credentials reached {}: {seen:#?}",
        server.addr
    );
}

#[test]
fn location_with_userinfo_gets_no_credentials() {
    // `http://127.0.0.1:P1@127.0.0.1:P2/…` starts with the registry's `http://127.0.0.1:P1`
    // but is user `127.0.0.1`, password `P1` at `127.0.0.1:P2`.
    let other = Server::serve(sink());
    let listener = Server::listener();
    let own = listener.local_addr().unwrap();
    let location = format!(
        "http://{own}@{}/v2/demo/app/blobs/uploads/u1?_state=x",
        other.addr
    );
    let server = Server::start(
        listener,
        registry(basic(), basic_challenge(), move |_| location.clone()),
    );
    let r = push(server.addr, &["--insecure"]);
    assert_never_authorized(&other);
    assert!(other.seen().is_empty(), "{:#?}", other.seen());
    let r = r.failure();
    let err = r.stderr();
    assert!(
        err.contains("has user information (`…@`) in it") && err.contains("(hint:"),
        "{err}"
    );
    assert_no_secret(&r);
}

/// Two free loopback ports where the second's digits start with the first's
/// (`P` and `P0`…`P9`), so `http://127.0.0.1:P9…` starts with `http://127.0.0.1:P`.
fn prefix_ports() -> (TcpListener, TcpListener) {
    let seed = u16::try_from(std::process::id() % 4000).unwrap();
    for i in 0..2000u16 {
        let p = 2000 + (seed + i * 7) % 4500;
        let Ok(a) = TcpListener::bind(("127.0.0.1", p)) else {
            continue;
        };
        for d in 0..10 {
            if let Ok(b) = TcpListener::bind(("127.0.0.1", p * 10 + d)) {
                return (a, b);
            }
        }
    }
    panic!("no two free loopback ports P and P0..P9");
}

#[test]
fn location_on_a_port_sharing_the_prefix_gets_no_credentials() {
    let (own, other) = prefix_ports();
    let other = Server::start(other, sink());
    let location = format!(
        "http://127.0.0.1:{}/v2/demo/app/blobs/uploads/u1?_state=x",
        other.addr.port()
    );
    let server = Server::start(
        own,
        registry(basic(), basic_challenge(), move |_| location.clone()),
    );
    let r = push(server.addr, &["--insecure"]);
    let seen = other.seen();
    assert!(
        seen.iter().any(|r| r.method == "PUT"),
        "the upload went to the other origin, without credentials: {seen:#?}"
    );
    assert_never_authorized(&other);
    // The sink accepts the blobs; the manifests go to the registry itself.
    let r = r.success();
    assert!(!r.stderr().contains("warning"), "{}", r.stderr());
    assert_no_secret(&r);
}

/// An upload `Location` on another origin that answers with its own challenge, whose
/// realm is itself: the challenge is not answered, so neither the Basic credentials
/// nor the registry's token reach it.
#[test]
fn challenge_from_another_origin_is_not_answered() {
    let other_listener = Server::listener();
    let realm = format!("http://{}/token", other_listener.local_addr().unwrap());
    let other = Server::start(
        other_listener,
        Box::new(move |_| {
            reply(401).header(
                "WWW-Authenticate",
                format!(r#"Bearer realm="{realm}",service="phish""#),
            )
        }),
    );
    let to = other.addr;
    let server = Server::serve(registry(basic(), basic_challenge(), move |n| {
        format!("http://{to}/v2/demo/app/blobs/uploads/u{n}")
    }));
    let r = push(server.addr, &["--insecure"]).failure();
    assert_never_authorized(&other);
    assert!(
        other.seen().iter().all(|r| !r.target.starts_with("/token")),
        "{:#?}",
        other.seen()
    );
    let err = r.stderr();
    let want = format!(
        "failed: 401 Unauthorized (hint: the request ended at `http://{to}`, and the credentials go to `http://{}` only: configure the registry",
        server.addr
    );
    assert!(err.contains(&want), "{err}");
    assert_no_secret(&r);
}

/// A redirect on the registry's own origin keeps the credentials (a relative
/// `Location`); the next one, to another origin, gets none.
#[test]
fn redirect_to_another_origin_gets_no_credentials() {
    let other = Server::serve(Box::new(|_| reply(404)));
    let to = other.addr;
    let inner = registry(basic(), basic_challenge(), |n| {
        format!("/v2/demo/app/blobs/uploads/u{n}?_state=x")
    });
    let server = Server::serve(Box::new(move |r: &Request| {
        let authorized = r.authorization.as_deref() == Some(basic().as_str());
        match r.target.strip_prefix("/moved") {
            Some(rest) if authorized => reply(307).header("Location", format!("http://{to}{rest}")),
            _ if r.method == "HEAD" && authorized => {
                reply(307).header("Location", format!("/moved{}", r.target))
            }
            _ => inner(r),
        }
    }));
    let r = push(server.addr, &["--insecure"]);
    let moved: Vec<_> = server
        .seen()
        .into_iter()
        .filter(|r| r.target.starts_with("/moved"))
        .collect();
    assert!(
        !moved.is_empty() && moved.iter().all(Request::has_basic),
        "the same-origin redirect lost the credentials: {moved:#?}"
    );
    let seen = other.seen();
    assert!(seen.iter().any(|r| r.method == "HEAD"), "{seen:#?}");
    assert_never_authorized(&other);
    let r = r.success();
    assert!(!r.stderr().contains("warning"), "{}", r.stderr());
    assert_no_secret(&r);
}

#[test]
fn bearer_realm_with_userinfo_gets_no_credentials() {
    let other = Server::serve(sink());
    let listener = Server::listener();
    let own = listener.local_addr().unwrap();
    let challenge = format!(
        r#"Bearer realm="http://{own}@{}/token",service="stand-in""#,
        other.addr
    );
    let server = Server::start(
        listener,
        registry(format!("Bearer {TOKEN}"), challenge, |n| {
            format!("/v2/demo/app/blobs/uploads/u{n}")
        }),
    );
    let r = push(server.addr, &["--insecure"]);
    assert_never_authorized(&other);
    assert!(other.seen().is_empty(), "{:#?}", other.seen());
    let r = r.failure();
    let err = r.stderr();
    assert!(err.contains("has user information (`…@`) in it"), "{err}");
    assert_no_secret(&r);
}

/// A registry (or a proxy in front of it) that quotes the request's `Authorization`
/// header in its error body: the error is printed, the secret is not.
#[test]
fn secrets_never_printed_at_vv() {
    // HEAD replies have no body: the blob is missing, and the upload's POST is quoted.
    let echo = |r: &Request| {
        if r.method == "HEAD" {
            return reply(404);
        }
        reply(400).body(format!(
            r#"{{"errors":[{{"code":"DENIED","message":"bad request with Authorization: {}"}}]}}"#,
            r.authorization.as_deref().unwrap_or_default()
        ))
    };

    // Basic: the registry quotes `Basic base64(user:password)`.
    let server = Server::serve(Box::new(move |r: &Request| {
        if r.authorization.as_deref() == Some(basic().as_str()) {
            echo(r)
        } else {
            reply(401).header("WWW-Authenticate", basic_challenge())
        }
    }));
    let r = push(server.addr, &["--insecure", "-vv"]).failure();
    assert!(
        r.stderr()
            .contains("bad request with Authorization: Basic ***"),
        "{}",
        r.stderr()
    );
    assert_no_secret(&r);

    // Bearer: the token server quotes the Basic credentials on a second call, the
    // registry quotes the token.
    let listener = Server::listener();
    let own = listener.local_addr().unwrap();
    let server = Server::start(
        listener,
        Box::new(move |r: &Request| {
            if r.target.starts_with("/token") {
                return if r.authorization.as_deref() == Some(basic().as_str()) {
                    reply(200).body(format!(r#"{{"token":"{TOKEN}"}}"#))
                } else {
                    reply(401)
                };
            }
            if r.authorization.as_deref() == Some(format!("Bearer {TOKEN}").as_str()) {
                echo(r)
            } else {
                reply(401).header(
                    "WWW-Authenticate",
                    format!(r#"Bearer realm="http://{own}/token",service="stand-in""#),
                )
            }
        }),
    );
    let r = push(server.addr, &["--insecure", "-vv"]).failure();
    assert!(
        r.stderr()
            .contains("bad request with Authorization: Bearer ***"),
        "{}",
        r.stderr()
    );
    assert_no_secret(&r);
}
