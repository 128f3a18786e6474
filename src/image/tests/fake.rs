//! A stand-in registry for the auth tests: a few dozen lines on `std::net::TcpListener`
//! serving just enough of the distribution API (blob HEAD/POST/PUT, manifest PUT) and a
//! token endpoint, on 127.0.0.1 only, one request per connection, stopping by itself.
//! It is not a registry; the real push test uses Debian's `docker-registry`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::image::credentials::base64_encode;
use crate::oci::sha256_hex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `WWW-Authenticate: Basic`; upload `Location`s are host-relative.
    Basic,
    /// `WWW-Authenticate: Bearer` with a token endpoint on the same server that wants
    /// Basic credentials; upload `Location`s are absolute URLs.
    Bearer,
    /// Like `Basic`, but every manifest PUT fails with a registry error body.
    RejectManifests,
}

pub const USER: &str = "ci-bot";
pub const PASSWORD: &str = "s3cret:with:colons";
pub const TOKEN: &str = "tok-123";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct State {
    blobs: BTreeSet<String>,
    manifests: BTreeMap<String, Vec<u8>>,
    uploads: u32,
    seen: Vec<Seen>,
}

pub struct FakeRegistry {
    pub addr: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl FakeRegistry {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, a) = (state.clone(), stop.clone(), addr.clone());
        let thread = std::thread::spawn(move || {
            // Bounded: at most 500 connections and 60 s, whatever the test does.
            let start = Instant::now();
            let mut served = 0;
            while !st.load(Ordering::SeqCst)
                && served < 500
                && start.elapsed() < Duration::from_secs(60)
            {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        let _ = serve(stream, mode, &a, &s);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn manifest(&self, reference: &str) -> Option<Vec<u8>> {
        self.state.lock().unwrap().manifests.get(reference).cloned()
    }
}

fn basic() -> String {
    format!(
        "Basic {}",
        base64_encode(format!("{USER}:{PASSWORD}").as_bytes())
    )
}

fn serve(stream: TcpStream, mode: Mode, addr: &str, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let authorization = headers.get("authorization").cloned();

    let (status, extra, reply) = respond(
        mode,
        addr,
        &method,
        &target,
        authorization.as_deref(),
        &body,
        state,
    );
    state.lock().unwrap().seen.push(Seen {
        method: method.clone(),
        target,
        authorization,
        status,
    });
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        reply.len()
    );
    for (k, v) in extra {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if method != "HEAD" {
        out.write_all(&reply)?;
    }
    out.flush()
}

type Response = (u16, Vec<(&'static str, String)>, Vec<u8>);

fn respond(
    mode: Mode,
    addr: &str,
    method: &str,
    target: &str,
    authorization: Option<&str>,
    body: &[u8],
    state: &Mutex<State>,
) -> Response {
    let error = |status: u16, code: &str, message: &str| -> Response {
        (
            status,
            vec![],
            format!(r#"{{"errors":[{{"code":"{code}","message":"{message}","detail":null}}]}}"#)
                .into_bytes(),
        )
    };
    if let Some(query) = target.strip_prefix("/token?") {
        if authorization != Some(basic().as_str()) {
            return error(401, "UNAUTHORIZED", "token server wants basic credentials");
        }
        if !query.contains("scope=repository%3Ademo%2Fapp%3Apull%2Cpush")
            || !query.contains("service=fake")
        {
            return error(400, "BAD_REQUEST", "token request lacks the push scope");
        }
        return (
            200,
            vec![],
            format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#).into_bytes(),
        );
    }
    let (expected, challenge) = match mode {
        Mode::Basic | Mode::RejectManifests => {
            (basic(), r#"Basic realm="fake registry""#.to_owned())
        }
        Mode::Bearer => (
            format!("Bearer {TOKEN}"),
            format!(
                r#"Bearer realm="http://{addr}/token",service="fake",scope="repository:demo/app:pull""#
            ),
        ),
    };
    if authorization != Some(expected.as_str()) {
        let (s, _, b) = error(401, "UNAUTHORIZED", "authentication required");
        return (s, vec![("WWW-Authenticate", challenge)], b);
    }
    let mut st = state.lock().unwrap();
    let path = target.split('?').next().unwrap_or(target);
    let Some(rest) = path.strip_prefix("/v2/demo/app/") else {
        return error(404, "NAME_UNKNOWN", "unknown repository");
    };
    match (method, rest.split_once('/')) {
        ("HEAD", Some(("blobs", digest))) => (
            if st.blobs.contains(digest) { 200 } else { 404 },
            vec![],
            vec![],
        ),
        ("POST", Some(("blobs", "uploads/"))) => {
            st.uploads += 1;
            let relative = format!("/v2/demo/app/blobs/uploads/u{}?_state=abc", st.uploads);
            let location = if mode == Mode::Bearer {
                format!("http://{addr}{relative}")
            } else {
                relative
            };
            (202, vec![("Location", location)], vec![])
        }
        ("PUT", Some(("blobs", upload))) if upload.starts_with("uploads/u") => {
            let digest = target
                .split("digest=")
                .nth(1)
                .unwrap_or("")
                .replace("%3A", ":");
            if !target.contains("_state=abc&digest=") {
                return error(400, "BLOB_UPLOAD_INVALID", "upload state lost");
            }
            if digest != format!("sha256:{}", sha256_hex(body)) {
                return error(
                    400,
                    "DIGEST_INVALID",
                    "provided digest did not match uploaded content",
                );
            }
            st.blobs.insert(digest);
            (201, vec![], vec![])
        }
        ("PUT", Some(("manifests", reference))) => {
            if mode == Mode::RejectManifests {
                return error(400, "MANIFEST_INVALID", "manifest invalid");
            }
            let digest = format!("sha256:{}", sha256_hex(body));
            st.manifests.insert(reference.to_owned(), body.to_vec());
            (201, vec![("Docker-Content-Digest", digest)], vec![])
        }
        _ => error(404, "UNSUPPORTED", "not in this stand-in"),
    }
}
