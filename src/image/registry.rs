//! Pushing an image of the layout with the OCI distribution API: blobs (HEAD, then
//! POST + monolithic PUT), manifests (platforms', then attestations') by digest, then
//! the index by tag. Basic and
//! Bearer (token server) auth, answered on the first `401` and kept for the push.
//!
//! Who gets what (every URL compared as an [`Origin`], see [`super::origin`]):
//! - The registry's origin is `https://API_HOST`, or `http://API_HOST` with
//!   `--insecure`. Its Basic credentials and its Bearer token go to that origin only.
//! - An upload `Location` or a redirect resolves against the URL it answered (a
//!   relative one stays on its origin). On another origin it is followed without any
//!   `Authorization` header, and a `401` from there is not answered. A URL with user
//!   information (`user@host`) is refused.
//! - A Bearer `realm` may be another host (`auth.docker.io` for Docker Hub, as Docker
//!   does); it gets the user's Basic credentials, and only over https — plain http
//!   needs `--insecure` like the registry itself.
//! - Plain http anywhere needs `--insecure`; with it, every host that is not loopback
//!   earns one warning that credentials and content travel unencrypted.
//! - Secrets (password, `user:password`, its base64, tokens) are redacted from every
//!   error, even when a registry quotes them back.

use std::cell::{OnceCell, RefCell};
use std::fs::{self, File};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use camino::Utf8Path;
use serde_json::Value;

use super::credentials::{Auth, Credentials, RegistryKey, redact};
use super::origin::{Origin, Scheme, Url, insecure_warning};
use super::reference::Reference;
use super::wire::{Challenge, percent_encode, registry_messages};
use super::{Descriptor, ImageResult, PushTo};
use crate::oci;
use crate::outdir::OutDir;
use crate::output::Shell;
use crate::output::bars::ByteBar;

mod pull;

/// Redirects followed per request, at most.
const MAX_REDIRECTS: usize = 5;
/// The largest JSON reply read (a manifest, an index, a config, an error).
const MAX_REPLY: u64 = 4 << 20;
/// What a pull accepts for a manifest: OCI's and Docker's, indexes and images.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// What [`push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// Digests of the blobs (layers, configs) uploaded.
    pub uploaded: Vec<String>,
    /// Digests of the blobs the registry already had.
    pub skipped: Vec<String>,
    /// Digests of the base's blobs mounted from its repository on the same registry.
    pub mounted: Vec<String>,
    /// The digest of the image index now tagged.
    pub index_digest: String,
}

/// Pushes `image` of the layout at `dir` to `reference` (`REGISTRY/NAME[:TAG]`, tag
/// `latest` by default): every layer and config the registry lacks, each platform
/// manifest by digest, then the image index under the tag, so the tag never points at
/// an incomplete image. `insecure` talks plain HTTP instead of HTTPS (warning through
/// `shell` when the host is not loopback). Credentials go only where the module
/// documentation says, and no secret is ever part of the error.
pub fn push(
    dir: &Utf8Path,
    image: &ImageResult,
    reference: &str,
    auth: &Auth,
    insecure: bool,
    shell: &Shell,
) -> Result<PushReport> {
    let target = Reference::parse(reference)?;
    let to = PushTo {
        repository: format!("{}/{}", target.registry, target.name),
        tags: vec![(target.tag.clone(), None)],
        reference: target,
    };
    push_tags(dir, image, &to, auth, insecure, shell)
}

/// [`push`] under every tag of `to`, in its order: blobs and manifests once, then each
/// platform manifest tag and each index tag.
pub fn push_tags(
    dir: &Utf8Path,
    image: &ImageResult,
    to: &PushTo,
    auth: &Auth,
    insecure: bool,
    shell: &Shell,
) -> Result<PushReport> {
    let target = &to.reference;
    let dir = &OutDir::existing(dir)?;
    let index_bytes = read_document(dir, &image.index)?;
    let mut manifests = Vec::with_capacity(image.manifests.len());
    let mut blobs: Vec<Descriptor> = Vec::new();
    // The attestation manifests go after the platform manifests, as in the index.
    for m in image.manifests.iter().chain(&image.attestations) {
        let bytes = read_document(dir, m)?;
        let doc: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("manifest `{}` is not valid JSON", m.digest))?;
        let layers = doc["layers"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for d in layers.iter().chain([&doc["config"]]) {
            let d = descriptor(d)
                .with_context(|| format!("manifest `{}` holds a bad descriptor", m.digest))?;
            if !blobs.iter().any(|b| b.digest == d.digest) {
                blobs.push(d);
            }
        }
        manifests.push((m, bytes));
    }
    if let Some((tag, _)) = to
        .tags
        .iter()
        .find(|(_, what)| what.is_some_and(|i| i >= manifests.len()))
    {
        bail!("tag `{tag}` names a platform the image does not have");
    }

    let mut client = Client::new(target, auth, insecure, shell)?;
    let mount_from = mount_from(image, target);
    if let Some(from) = mount_from {
        client.scopes.push(format!("repository:{from}:pull"));
    }
    // Every blob's bytes, those the registry has counted as they are found there.
    client.progress = ByteBar::new(
        shell,
        "Pushing",
        blobs.iter().map(|b| b.size).sum(),
        &to.repository,
    );
    let mut upload = || -> Result<PushReport> {
        let mut report = PushReport {
            uploaded: Vec::new(),
            skipped: Vec::new(),
            mounted: Vec::new(),
            index_digest: image.index.digest.clone(),
        };
        for blob in &blobs {
            if client.blob_exists(&blob.digest)? {
                report.skipped.push(blob.digest.clone());
            } else if let Some(from) = mount_from
                && image
                    .base
                    .as_ref()
                    .is_some_and(|b| b.blobs.contains(&blob.digest))
                && client.mount_blob(&blob.digest, from)?
            {
                report.mounted.push(blob.digest.clone());
            } else {
                let path = dir.file(&crate::layout::oci_blob(blob.hex())?)?;
                client.upload_blob(blob, &path)?;
                report.uploaded.push(blob.digest.clone());
            }
            client.progress.inc(blob.size);
        }
        for (m, bytes) in &manifests {
            client.put_manifest(&m.digest, &m.media_type, bytes, &m.digest)?;
        }
        for (tag, what) in &to.tags {
            match what {
                Some(i) => {
                    let (m, bytes) = &manifests[*i];
                    client.put_manifest(tag, &m.media_type, bytes, &m.digest)?;
                }
                None => client.put_manifest(
                    tag,
                    &image.index.media_type,
                    &index_bytes,
                    &image.index.digest,
                )?,
            }
        }
        Ok(report)
    };
    let result = upload();
    result.map_err(|e| client.redact(e))
}

/// The repository the base's blobs can be mounted from: the base's, when it is on the
/// registry pushed to (and is another repository).
fn mount_from<'a>(image: &'a ImageResult, target: &Reference) -> Option<&'a str> {
    image
        .base
        .as_ref()
        .and_then(|b| b.repository.as_ref())
        .filter(|(registry, name)| *registry == target.registry && *name != target.name)
        .map(|(_, name)| name.as_str())
}

/// Reads a JSON blob and checks it is exactly the bytes its descriptor names.
fn read_document(dir: &OutDir, d: &Descriptor) -> Result<Vec<u8>> {
    let rel = crate::layout::oci_blob(oci::digest_hex(&d.digest)?)?;
    let path = dir.display(&rel);
    let bytes = dir
        .read(&rel, crate::limits::MAX_OCI_JSON_BYTES)
        .with_context(|| format!("could not read `{path}` (hint: write the image layout again)"))?;
    if bytes.len() as u64 != d.size || oci::sha256_hex(&bytes) != d.hex() {
        bail!(
            "`{path}` does not match digest `{}` (hint: write the image layout again)",
            d.digest
        );
    }
    Ok(bytes)
}

pub(super) fn descriptor(v: &Value) -> Result<Descriptor> {
    let media_type = v["mediaType"].as_str().context("no `mediaType`")?;
    let digest = v["digest"].as_str().context("no `digest`")?;
    oci::digest_hex(digest)?;
    let size = v["size"].as_u64().context("no `size`")?;
    Ok(Descriptor::new(media_type, digest.to_owned(), size))
}

enum Body<'a> {
    None,
    Bytes(&'a [u8]),
    /// A file, its bytes counted on the push's bar while they are sent (and taken
    /// back after: `push` counts each blob once, whole).
    File(&'a Utf8Path),
}

struct Reply {
    /// Where the reply came from, after any redirect.
    url: Url,
    status: u16,
    location: Option<String>,
    digest: Option<String>,
    content_type: Option<String>,
    challenges: Vec<String>,
    body: Vec<u8>,
}

impl Reply {
    /// The challenge to answer: Bearer if offered, else the first.
    fn challenge(&self) -> Option<&str> {
        let bearer = self
            .challenges
            .iter()
            .find(|c| c.trim_start().to_ascii_lowercase().starts_with("bearer"));
        bearer.or(self.challenges.first()).map(String::as_str)
    }
}

/// An `Authorization` value and the one origin it may be sent to.
#[derive(Clone)]
struct Credential {
    origin: Origin,
    value: String,
}

pub(super) struct Client<'a> {
    agent: ureq::Agent,
    /// The registry's own origin: the only one its credentials and token go to.
    origin: Origin,
    target: &'a Reference,
    auth: &'a Auth,
    insecure: bool,
    shell: &'a Shell,
    /// Resolved on the first challenge that needs them.
    credentials: OnceCell<Option<Credentials>>,
    /// The `Authorization` value that worked last (Basic, or a cached Bearer token),
    /// for the registry's origin.
    authorization: Option<String>,
    /// Origins already warned about (`--insecure` to a host that is not loopback).
    warned: Vec<Origin>,
    /// Every secret seen so far, redacted from errors.
    secrets: Vec<String>,
    /// The bytes pushed so far, on a terminal.
    progress: ByteBar,
    /// What a token asks for on the target repository: `pull,push`, or `pull`.
    actions: &'static str,
    /// Further scopes a token asks for (another repository to mount from).
    scopes: Vec<String>,
    /// Where the body of a `200` reply to a `GET` goes, at most so many bytes, instead
    /// of memory (a blob being pulled).
    download: RefCell<Option<(File, u64)>>,
}

impl<'a> Client<'a> {
    pub(super) fn new(
        target: &'a Reference,
        auth: &'a Auth,
        insecure: bool,
        shell: &'a Shell,
    ) -> Result<Self> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are followed by `exchange`, which knows whose credentials go where.
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .user_agent(concat!("cargo-multiarch/", env!("CARGO_PKG_VERSION")))
            .build();
        let origin = Origin::registry(&target.api_host, insecure).map_err(|_| {
            anyhow!(
                "registry `{}` is not a host name with an optional port (hint: write the reference as `REGISTRY/NAME:TAG`, e.g. `ghcr.io/acme/alpha:0.3.0`)",
                target.registry
            )
        })?;
        let mut client = Self {
            agent: ureq::Agent::new_with_config(config),
            origin: origin.clone(),
            target,
            auth,
            insecure,
            shell,
            credentials: OnceCell::new(),
            authorization: None,
            warned: Vec::new(),
            secrets: auth.password.iter().cloned().collect(),
            progress: ByteBar::none(),
            actions: "pull,push",
            scopes: Vec::new(),
            download: RefCell::new(None),
        };
        client.warn_if_insecure(&origin);
        Ok(client)
    }

    /// `PATH` (`/v2/…`) on the registry's origin.
    fn url(&self, path: &str) -> Result<Url> {
        Url::parse(&format!("{}{path}", self.origin))
    }

    fn blob_exists(&mut self, digest: &str) -> Result<bool> {
        let url = self.url(&format!("/v2/{}/blobs/{digest}", self.target.name))?;
        let reply = self.send("HEAD", &url, None, &Body::None)?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.http_error("HEAD", &url, &reply)),
        }
    }

    fn upload_blob(&mut self, blob: &Descriptor, path: &Utf8Path) -> Result<()> {
        let len = fs::metadata(path)
            .with_context(|| {
                format!("could not read `{path}` (hint: write the image layout again)")
            })?
            .len();
        if len != blob.size {
            bail!(
                "`{path}` has {len} bytes but its descriptor says {} (hint: write the image layout again)",
                blob.size
            );
        }
        let url = self.url(&format!("/v2/{}/blobs/uploads/", self.target.name))?;
        let reply = self.send("POST", &url, None, &Body::Bytes(&[]))?;
        if reply.status != 202 {
            return Err(self.http_error("POST", &url, &reply));
        }
        let location = reply
            .location
            .as_deref()
            .ok_or_else(|| anyhow!("`POST {url}` answered 202 without a `Location` header"))?;
        let upload = reply
            .url
            .join(location)
            .and_then(|u| u.with_query(&format!("digest={}", percent_encode(&blob.digest))))
            .with_context(|| format!("the upload location from `POST {url}` cannot be used"))?;
        self.allow(&upload, &format!("the upload location from `POST {url}`"))?;
        let reply = self.send(
            "PUT",
            &upload,
            Some("application/octet-stream"),
            &Body::File(path),
        )?;
        if reply.status != 201 {
            return Err(self.http_error("PUT", &upload, &reply));
        }
        Ok(())
    }

    fn put_manifest(
        &mut self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
        digest: &str,
    ) -> Result<()> {
        let url = self.url(&format!("/v2/{}/manifests/{reference}", self.target.name))?;
        let reply = self.send("PUT", &url, Some(media_type), &Body::Bytes(bytes))?;
        if !(200..300).contains(&reply.status) {
            return Err(self.http_error("PUT", &url, &reply));
        }
        if let Some(got) = &reply.digest
            && got != digest
        {
            bail!(
                "`PUT {url}` stored digest `{got}`, not `{digest}`: the registry changed the manifest"
            );
        }
        Ok(())
    }

    /// Sends a request with the registry's `Authorization` (to its origin only),
    /// answering up to two `401` challenges of the registry's own origin; the reply is
    /// returned as is otherwise (callers judge the status).
    fn send(
        &mut self,
        method: &str,
        url: &Url,
        content_type: Option<&str>,
        body: &Body,
    ) -> Result<Reply> {
        let mut answered: Option<String> = None;
        let mut attempts = 0;
        loop {
            let credential = self.authorization.clone().map(|value| Credential {
                origin: self.origin.clone(),
                value,
            });
            let reply = self.exchange(method, url, content_type, body, credential.as_ref())?;
            attempts += 1;
            // A challenge from another origin is never answered: its realm could be
            // anyone's, and the answer would carry the user's credentials there.
            if reply.status != 401 || reply.url.origin != self.origin || attempts > 2 {
                return Ok(reply);
            }
            let Some(challenge) = reply.challenge().map(str::to_owned) else {
                return Ok(reply);
            };
            if answered.as_deref() == Some(challenge.as_str()) {
                return Ok(reply); // the answer was not accepted: let the caller report the 401
            }
            self.authorization = Some(self.authorize(&challenge)?);
            answered = Some(challenge);
        }
    }

    /// One request, following up to [`MAX_REDIRECTS`] redirects: `307`/`308` for any
    /// method, `301`/`302`/`303` for `GET` and `HEAD` (others get the reply as is).
    /// `credential` goes with each hop whose origin is its own, and with no other.
    fn exchange(
        &mut self,
        method: &str,
        url: &Url,
        content_type: Option<&str>,
        body: &Body,
        credential: Option<&Credential>,
    ) -> Result<Reply> {
        let mut url = url.clone();
        let mut hops = 0;
        loop {
            let authorization = credential
                .filter(|c| c.origin == url.origin)
                .map(|c| c.value.as_str());
            let reply = self.send_once(method, url, content_type, body, authorization)?;
            let follow = match reply.status {
                307 | 308 => true,
                301..=303 => matches!(method, "GET" | "HEAD"),
                _ => false,
            };
            let Some(location) = reply.location.as_deref().filter(|_| follow) else {
                return Ok(reply);
            };
            let from = &reply.url;
            if hops == MAX_REDIRECTS {
                bail!(
                    "`{method} {from}` was redirected more than {MAX_REDIRECTS} times (hint: check the registry's configuration)"
                );
            }
            hops += 1;
            let next = from.join(location).with_context(|| {
                format!("the redirect from `{method} {from}` cannot be followed")
            })?;
            self.allow(&next, &format!("the redirect from `{method} {from}`"))?;
            url = next;
        }
    }

    /// Whether a request may go to `url`: https always, plain http only with
    /// `--insecure` (warning once per origin that is not loopback). `what` names where
    /// the URL came from in the error.
    pub(super) fn allow(&mut self, url: &Url, what: &str) -> Result<()> {
        if url.origin.scheme == Scheme::Https {
            return Ok(());
        }
        if !self.insecure {
            bail!(
                "{what} goes to `{url}`, which is plain HTTP: nothing is sent unencrypted without `--insecure` (hint: have the registry announce https URLs, or push with `--insecure` on a network you trust)"
            );
        }
        self.warn_if_insecure(&url.origin);
        Ok(())
    }

    fn warn_if_insecure(&mut self, origin: &Origin) {
        if self.warned.contains(origin) {
            return;
        }
        if let Some(warning) = insecure_warning(origin) {
            self.shell.warn(warning);
        }
        self.warned.push(origin.clone());
    }

    fn send_once(
        &self,
        method: &str,
        url: Url,
        content_type: Option<&str>,
        body: &Body,
        authorization: Option<&str>,
    ) -> Result<Reply> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(url.uri.clone());
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        if let Some(value) = content_type {
            request = request.header("Content-Type", value);
        }
        if method == "GET" {
            request = request.header("Accept", ACCEPT);
        }
        let context = || format!("`{method} {url}` failed");
        let result = match body {
            Body::None => self.agent.run(request.body(()).with_context(context)?),
            Body::Bytes(bytes) => self.agent.run(request.body(*bytes).with_context(context)?),
            Body::File(path) => {
                let file = File::open(path).with_context(|| format!("could not open `{path}`"))?;
                let len = file
                    .metadata()
                    .with_context(|| format!("could not read `{path}`"))?
                    .len();
                // The bytes move the push's bar as they are read; the length is given,
                // so the upload is one monolithic PUT, not chunked.
                let start = self.progress.position();
                let body = ureq::SendBody::from_owned_reader(self.progress.reader(file));
                let result = self.agent.run(
                    request
                        .header("Content-Length", len)
                        .body(body)
                        .with_context(context)?,
                );
                self.progress.set_position(start);
                result
            }
        };
        let mut response = result.map_err(|e| {
            let hint = if self.insecure {
                String::new()
            } else {
                " (hint: for a registry that only speaks plain HTTP, push with `--insecure`)"
                    .to_owned()
            };
            anyhow!("could not reach `{url}` for `{method}`: {e}{hint}")
        })?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header("location");
        let digest = header("docker-content-digest");
        let reply_type = header("content-type");
        let challenges = response
            .headers()
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let status = response.status().as_u16();
        let download = (method == "GET" && status == 200)
            .then(|| self.download.borrow_mut().take())
            .flatten();
        let body = if let Some((mut file, max)) = download {
            let mut reader = response.body_mut().with_config().limit(max).reader();
            std::io::copy(&mut reader, &mut file)
                .with_context(|| format!("could not read the body of `{method} {url}`"))?;
            Vec::new()
        } else if method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_REPLY)
                .read_to_vec()
                .unwrap_or_default()
        };
        Ok(Reply {
            url,
            status,
            location,
            digest,
            content_type: reply_type,
            challenges,
            body,
        })
    }

    fn credentials(&mut self) -> Result<Option<Credentials>> {
        if let Some(known) = self.credentials.get() {
            return Ok(known.clone());
        }
        let resolved = self
            .auth
            .resolve(&RegistryKey::new(&self.target.registry))?;
        if let Some(c) = &resolved {
            self.secrets.extend(c.secrets());
        }
        Ok(self.credentials.get_or_init(|| resolved).clone())
    }

    /// The `Authorization` value answering a `WWW-Authenticate` challenge.
    fn authorize(&mut self, challenge: &str) -> Result<String> {
        let registry = self.target.registry.clone();
        let parsed = Challenge::parse(challenge);
        match parsed.scheme.to_ascii_lowercase().as_str() {
            "basic" => match self.credentials()? {
                Some(c) => Ok(c.basic_header()),
                None => bail!(
                    "`{registry}` asks for a username and password and none were found (hint: pass `--username` and `--password`, or run `docker login {registry}`)"
                ),
            },
            "bearer" => self.token(&parsed),
            other => bail!(
                "`{registry}` asks for `{other}` authentication; only Basic and Bearer are supported"
            ),
        }
    }

    /// Gets a Bearer token from the challenge's realm, for the challenge's scope and
    /// push access to the target repository.
    ///
    /// The realm may be another host than the registry (Docker Hub's is
    /// `auth.docker.io`), and it gets the user's Basic credentials, as Docker sends
    /// them — but only over https, or plain http with `--insecure`, and never to a
    /// realm with user information. Redirects from the realm keep the credentials only
    /// on the realm's own origin. The token is then sent to the registry's origin only.
    pub(super) fn token(&mut self, challenge: &Challenge) -> Result<String> {
        let registry = self.target.registry.clone();
        let text = challenge
            .params
            .get("realm")
            .map(String::as_str)
            .unwrap_or_default();
        // The context leaves the realm's text out: the parse error shows it, with any
        // user information hidden.
        let realm = Url::parse(text).with_context(|| {
            format!("`{registry}` asks for a Bearer token from a realm that cannot be used")
        })?;
        if realm.origin.scheme == Scheme::Http && !self.insecure {
            bail!(
                "`{registry}` asks for a Bearer token from `{realm}`, which is plain HTTP: the credentials would travel unencrypted (hint: have the registry announce an https token realm, or push with `--insecure` on a network you trust)"
            );
        }
        self.warn_if_insecure(&realm.origin);
        let mut query: Vec<String> = Vec::new();
        if let Some(service) = challenge.params.get("service") {
            query.push(format!("service={}", percent_encode(service)));
        }
        let mut scopes: Vec<String> = challenge
            .params
            .get("scope")
            .map(|s| {
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let own_scope = format!("repository:{}:{}", self.target.name, self.actions);
        for scope in std::iter::once(own_scope).chain(self.scopes.iter().cloned()) {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        query.extend(
            scopes
                .iter()
                .map(|s| format!("scope={}", percent_encode(s))),
        );
        let url = realm.with_query(&query.join("&"))?;
        let basic = self.credentials()?.map(|c| Credential {
            origin: realm.origin.clone(),
            value: c.basic_header(),
        });
        let reply = self.exchange("GET", &url, None, &Body::None, basic.as_ref())?;
        if reply.status != 200 {
            return Err(self.http_error_for("GET", &url, &reply, &realm.origin)).with_context(
                || {
                    format!(
                        "could not get a token for {} access to `{}`",
                        if self.actions == "pull" {
                            "pull"
                        } else {
                            "push"
                        },
                        self.target.name
                    )
                },
            );
        }
        let json: Value = serde_json::from_slice(&reply.body)
            .with_context(|| format!("`GET {url}` did not answer with JSON"))?;
        let token = json["token"]
            .as_str()
            .or_else(|| json["access_token"].as_str())
            .filter(|t| !t.is_empty());
        let token = token.ok_or_else(|| anyhow!("`GET {url}` answered without a `token`"))?;
        self.secrets.push(token.to_owned());
        Ok(format!("Bearer {token}"))
    }

    /// `` `METHOD URL` failed: STATUS: registry messages (hint: …) `` for a request
    /// with the registry's credentials.
    fn http_error(&self, method: &str, url: &Url, reply: &Reply) -> anyhow::Error {
        self.http_error_for(method, url, reply, &self.origin)
    }

    /// [`Client::http_error`] for a request whose credentials belong to `owner`.
    fn http_error_for(
        &self,
        method: &str,
        url: &Url,
        reply: &Reply,
        owner: &Origin,
    ) -> anyhow::Error {
        let reason = ureq::http::StatusCode::from_u16(reply.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let mut msg = format!("`{method} {url}` failed: {} {reason}", reply.status);
        let messages = registry_messages(&reply.body);
        if !messages.is_empty() {
            msg.push_str(": ");
            msg.push_str(&messages.join("; "));
        }
        let registry = &self.target.registry;
        let ended = &reply.url.origin;
        let hint = match reply.status {
            401 | 403 if ended != owner => format!(
                " (hint: the request ended at `{ended}`, and the credentials go to `{owner}` only: configure the registry to keep uploads and redirects on its own origin)"
            ),
            401 => format!(
                " (hint: check the credentials: `--username`/`--password`, or `docker login {registry}`)"
            ),
            403 => format!(
                " (hint: the credentials may lack push access to `{}`)",
                self.target.name
            ),
            _ => String::new(),
        };
        msg.push_str(&hint);
        anyhow!(msg)
    }

    /// `e` with every secret known to this push replaced by `***` (the chain is kept
    /// when there is nothing to hide).
    fn redact(&self, e: anyhow::Error) -> anyhow::Error {
        let text = format!("{e:#}");
        let clean = redact(&text, &self.secrets);
        if clean == text { e } else { anyhow!(clean) }
    }
}
