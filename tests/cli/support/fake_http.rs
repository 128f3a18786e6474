//! The tests' one fake HTTP server: an HTTP/1.1 stand-in on 127.0.0.1 answering each
//! request with a handler closure (one request per connection, at most 200
//! connections and 60 s, stopped and joined on drop), recording every request.
//! [`registry`] makes it a stand-in registry for `demo/app`: just enough of the
//! distribution API (blob HEAD/POST/PUT, manifest PUT) and a token endpoint for the
//! push tests; the real registry is Debian's `docker-registry` ([`super::Registry`]).
//! [`push_command`] runs `image --push` at it. Nothing here sends traffic anywhere but
//! loopback.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{EPOCH, Run, multiarch, run};

pub const USER: &str = "ci-bot";
/// With colons: only the first one of `user:password` separates the two.
pub const PASSWORD: &str = "pw:Zq81:never-print-me";
pub const TOKEN: &str = "tok-Hh27-never-print-me";

/// `base64(USER:PASSWORD)`, as `printf %s 'ci-bot:pw:Zq81:never-print-me' | base64` gives it.
pub const USER_PASSWORD_BASE64: &str = "Y2ktYm90OnB3OlpxODE6bmV2ZXItcHJpbnQtbWU=";

/// The `Authorization` header of [`USER`] and [`PASSWORD`].
pub fn basic() -> String {
    format!("Basic {USER_PASSWORD_BASE64}")
}

/// `WWW-Authenticate` asking for Basic credentials.
pub fn basic_challenge() -> String {
    r#"Basic realm="stand-in""#.to_owned()
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
    /// The status the handler answered.
    pub status: u16,
}

impl Request {
    pub fn has_basic(&self) -> bool {
        self.authorization.as_deref() == Some(basic().as_str())
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

pub fn reply(status: u16) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: String::new(),
    }
}

/// A registry error body, as the distribution API writes them.
pub fn error(status: u16, code: &str, message: &str) -> Response {
    reply(status).body(format!(
        r#"{{"errors":[{{"code":"{code}","message":"{message}","detail":null}}]}}"#
    ))
}

impl Response {
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }
}

pub type Handler = Box<dyn Fn(&Request) -> Response + Send>;

/// The server; see the module's doc.
pub struct Server {
    pub addr: SocketAddr,
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
    /// A listener on a free loopback port, for a handler that must know its own address.
    pub fn listener() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").unwrap()
    }

    /// Serves `handler` on a fresh loopback port.
    pub fn serve(handler: Handler) -> Self {
        Self::start(Self::listener(), handler)
    }

    pub fn start(listener: TcpListener, handler: Handler) -> Self {
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

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    /// The body of the last manifest PUT to `reference` (a tag or a digest).
    pub fn manifest(&self, reference: &str) -> Option<Vec<u8>> {
        let target = format!("/v2/demo/app/manifests/{reference}");
        self.seen()
            .into_iter()
            .rev()
            .find(|r| r.method == "PUT" && r.target == target && r.status == 201)
            .map(|r| r.body)
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
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let mut request = Request {
        method,
        target,
        authorization,
        body,
        status: 0,
    };
    let response = handler(&request);
    request.status = response.status;
    let head_only = request.method == "HEAD";
    seen.lock().unwrap().push(request);
    let mut head = format!(
        "HTTP/1.1 {} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        response.status,
        response.body.len()
    );
    for (k, v) in &response.headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    let mut out = stream;
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(response.body.as_bytes())?;
    }
    out.flush()
}

/// A stand-in registry for `demo/app` that wants `Authorization: <expected>` (else
/// answers 401 with `challenge`). It keeps the blobs it was sent (a PUT whose digest
/// does not match its body, or that lost the query of the upload `Location` it was
/// given, is refused), answers uploads with `location(n)` (relative or absolute), and
/// accepts manifests. `/token?…` is its token endpoint: it wants [`basic`] and the
/// push scope for `demo/app` of service `stand-in`, and answers [`TOKEN`].
pub fn registry(
    expected: String,
    challenge: String,
    location: impl Fn(u32) -> String + Send + 'static,
) -> Handler {
    let blobs = Mutex::new(BTreeSet::new());
    let uploads = Mutex::new(Vec::<String>::new());
    Box::new(move |r: &Request| {
        if let Some(query) = r.target.strip_prefix("/token?") {
            if !r.has_basic() {
                return error(401, "UNAUTHORIZED", "token server wants basic credentials");
            }
            if !query.contains("scope=repository%3Ademo%2Fapp%3Apull%2Cpush")
                || !query.contains("service=stand-in")
            {
                return error(400, "BAD_REQUEST", "token request lacks the push scope");
            }
            return reply(200).body(format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#));
        }
        if r.authorization.as_deref() != Some(expected.as_str()) {
            return error(401, "UNAUTHORIZED", "authentication required")
                .header("WWW-Authenticate", challenge.clone());
        }
        let path = r.target.split('?').next().unwrap_or_default();
        let Some(rest) = path.strip_prefix("/v2/demo/app/") else {
            return error(404, "NAME_UNKNOWN", "unknown repository");
        };
        match (r.method.as_str(), rest.split_once('/')) {
            ("HEAD", Some(("blobs", digest))) => reply(if blobs.lock().unwrap().contains(digest) {
                200
            } else {
                404
            }),
            ("POST", Some(("blobs", "uploads/"))) => {
                let mut uploads = uploads.lock().unwrap();
                let n = u32::try_from(uploads.len()).unwrap() + 1;
                let to = location(n);
                // As the client must send it back: host-relative.
                let relative = match to.strip_prefix("http://") {
                    Some(rest) => rest[rest.find('/').unwrap_or(rest.len())..].to_owned(),
                    None => to.clone(),
                };
                uploads.push(relative);
                reply(202).header("Location", to)
            }
            ("PUT", Some(("blobs", upload))) if upload.starts_with("uploads/") => {
                let issued = uploads.lock().unwrap().clone();
                if !issued.iter().any(|u| {
                    let sep = if u.contains('?') { '&' } else { '?' };
                    r.target.starts_with(&format!("{u}{sep}digest="))
                }) {
                    return error(400, "BLOB_UPLOAD_INVALID", "upload state lost");
                }
                let digest = r
                    .target
                    .split("digest=")
                    .nth(1)
                    .unwrap_or_default()
                    .replace("%3A", ":");
                if digest != format!("sha256:{}", super::sha256_hex(&r.body)) {
                    return error(
                        400,
                        "DIGEST_INVALID",
                        "provided digest did not match uploaded content",
                    );
                }
                blobs.lock().unwrap().insert(digest);
                reply(201)
            }
            ("PUT", Some(("manifests", _))) => reply(201).header(
                "Docker-Content-Digest",
                format!("sha256:{}", super::sha256_hex(&r.body)),
            ),
            _ => error(404, "UNSUPPORTED", "not in this stand-in"),
        }
    })
}

/// Records requests and answers `201` to anything: the place credentials must not reach.
pub fn sink() -> Handler {
    Box::new(|_| reply(201))
}

/// `image --no-build --push REFERENCE --insecure…` of the out dir `out` (staged from
/// `dir`), with `docker_config` as the Docker config and no proxy; the caller adds
/// credentials and flags. The config's directory lives as long as the command needs.
pub fn push_command(
    dir: &Path,
    out: &Path,
    reference: &str,
    docker_config: &str,
) -> (Command, tempfile::TempDir) {
    let config_dir = tempfile::tempdir().unwrap();
    std::fs::write(config_dir.path().join("config.json"), docker_config).unwrap();
    let mut cmd = multiarch(dir);
    cmd.args(["image", "--no-build", "--push", reference, "--out-dir"])
        .arg(out)
        .env("DOCKER_CONFIG", config_dir.path())
        .env("SOURCE_DATE_EPOCH", EPOCH);
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
    (cmd, config_dir)
}

/// [`push_command`] with [`USER`] and [`PASSWORD`] on the command line, an empty
/// Docker config, and `extra`.
pub fn push_in(dir: &Path, out: &Path, reference: &str, extra: &[&str]) -> Run {
    let (mut cmd, _config) = push_command(dir, out, reference, "{}");
    cmd.args(["--username", USER, "--password", PASSWORD])
        .args(extra);
    run(&mut cmd)
}
