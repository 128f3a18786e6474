//! Attacks on `image --push` from a hostile or misconfigured registry: every test is
//! named after the attack it stops. A small stand-in server on 127.0.0.1 (a handler
//! closure per test, one request per connection, bounded in connections and time)
//! plays the registry and, on a second port, the place credentials must not reach.
//! Nothing here sends traffic anywhere but loopback; the `--insecure` warning for other
//! hosts is tested beside its code (`image::origin`).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::{Run, multiarch, run};

const USER: &str = "ci-bot";
const PASSWORD: &str = "pw-Zq81-never-print-me";
const TOKEN: &str = "tok-Hh27-never-print-me";

/// `base64(USER:PASSWORD)`, as `printf %s ci-bot:pw-Zq81-never-print-me | base64` gives it.
const USER_PASSWORD_BASE64: &str = "Y2ktYm90OnB3LVpxODEtbmV2ZXItcHJpbnQtbWU=";

fn basic() -> String {
    format!("Basic {USER_PASSWORD_BASE64}")
}

#[derive(Debug, Clone)]
struct Request {
    method: String,
    target: String,
    authorization: Option<String>,
}

struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn reply(status: u16) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: String::new(),
    }
}

impl Request {
    fn has_basic(&self) -> bool {
        self.authorization.as_deref() == Some(basic().as_str())
    }
}

impl Response {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }
}

type Handler = Box<dyn Fn(&Request) -> Response + Send>;

/// An HTTP/1.1 stand-in on 127.0.0.1: one request per connection, at most 200
/// connections and 60 s, stopped and joined on drop; it records every request.
struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Server {
    fn listener() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").unwrap()
    }

    fn start(listener: TcpListener, handler: Handler) -> Self {
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut served = 0;
            while !st.load(Ordering::SeqCst)
                && served < 200
                && start.elapsed() < Duration::from_secs(60)
            {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        let _ = serve(stream, &handler, &s);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Request>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let (mut authorization, mut len) = (None, 0);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "authorization" => authorization = Some(v.trim().to_owned()),
                "content-length" => len = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    std::io::copy(&mut reader.by_ref().take(len), &mut std::io::sink())?;
    let request = Request {
        method,
        target,
        authorization,
    };
    let response = handler(&request);
    seen.lock().unwrap().push(request.clone());
    let mut head = format!(
        "HTTP/1.1 {} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        response.status,
        response.body.len()
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = stream;
    out.write_all(head.as_bytes())?;
    if request.method != "HEAD" {
        out.write_all(response.body.as_bytes())?;
    }
    out.flush()
}

/// A registry for `demo/app` that wants `Authorization: <expected>` (else answers
/// 401 with `challenge`), lacks every blob, answers uploads with `location(n)` and
/// accepts manifests. `token` answers `/token` requests when given.
fn registry(
    expected: String,
    challenge: String,
    location: impl Fn(u32) -> String + Send + 'static,
) -> Handler {
    let uploads = Mutex::new(0);
    Box::new(move |r: &Request| {
        if r.authorization.as_deref() != Some(expected.as_str()) {
            return reply(401)
                .header("WWW-Authenticate", challenge.clone())
                .body(
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                );
        }
        let path = r.target.split('?').next().unwrap_or_default();
        match (r.method.as_str(), path) {
            ("HEAD", p) if p.starts_with("/v2/demo/app/blobs/") => reply(404),
            ("POST", "/v2/demo/app/blobs/uploads/") => {
                let mut n = uploads.lock().unwrap();
                *n += 1;
                reply(202).header("Location", location(*n))
            }
            ("PUT", p) if p.starts_with("/v2/demo/app/blobs/uploads/") => reply(201),
            ("PUT", p) if p.starts_with("/v2/demo/app/manifests/") => reply(201),
            _ => reply(404),
        }
    })
}

/// Records requests and answers `201` to anything: the place credentials must not reach.
fn sink() -> Handler {
    Box::new(|_| reply(201))
}

/// `image --push 127.0.0.1:PORT/demo/app:v1` of `hello` (built for real), with the
/// credentials above, an empty Docker config and no proxy.
fn push(registry: SocketAddr, extra: &[&str]) -> Run {
    let (out, dir) = crate::build::build("hello", &[]);
    push_in(&dir, out.path(), &format!("{registry}/demo/app:v1"), extra)
}

fn push_in(dir: &Path, out: &Path, reference: &str, extra: &[&str]) -> Run {
    let docker_config = tempfile::tempdir().unwrap();
    std::fs::write(docker_config.path().join("config.json"), "{}").unwrap();
    let mut cmd = multiarch(dir);
    cmd.args([
        "image",
        "--no-build",
        "--push",
        reference,
        "--username",
        USER,
        "--password",
        PASSWORD,
    ])
    .args(extra)
    .arg("--out-dir")
    .arg(out)
    .env("DOCKER_CONFIG", docker_config.path())
    .env("SOURCE_DATE_EPOCH", "1700000000");
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    run(&mut cmd)
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

fn basic_challenge() -> String {
    r#"Basic realm="stand-in""#.to_owned()
}

#[test]
fn location_with_userinfo_gets_no_credentials() {
    // `http://127.0.0.1:P1@127.0.0.1:P2/…` starts with the registry's `http://127.0.0.1:P1`
    // but is user `127.0.0.1`, password `P1` at `127.0.0.1:P2`.
    let other = Server::start(Server::listener(), sink());
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
    let server = Server::start(
        Server::listener(),
        registry(basic(), basic_challenge(), move |n| {
            format!("http://{to}/v2/demo/app/blobs/uploads/u{n}")
        }),
    );
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
    let other = Server::start(Server::listener(), Box::new(|_| reply(404)));
    let to = other.addr;
    let inner = registry(basic(), basic_challenge(), |n| {
        format!("/v2/demo/app/blobs/uploads/u{n}?_state=x")
    });
    let server = Server::start(
        Server::listener(),
        Box::new(move |r: &Request| {
            let authorized = r.authorization.as_deref() == Some(basic().as_str());
            match r.target.strip_prefix("/moved") {
                Some(rest) if authorized => {
                    reply(307).header("Location", format!("http://{to}{rest}"))
                }
                _ if r.method == "HEAD" && authorized => {
                    reply(307).header("Location", format!("/moved{}", r.target))
                }
                _ => inner(r),
            }
        }),
    );
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
    let other = Server::start(Server::listener(), sink());
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
    let server = Server::start(
        Server::listener(),
        Box::new(move |r: &Request| {
            if r.authorization.as_deref() == Some(basic().as_str()) {
                echo(r)
            } else {
                reply(401).header("WWW-Authenticate", basic_challenge())
            }
        }),
    );
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
