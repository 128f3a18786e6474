//! Pushing an image of the layout with the OCI distribution API: blobs (HEAD, then
//! POST + monolithic PUT), manifests by digest, then the index by tag. Basic and
//! Bearer (token server) auth, answered on the first `401` and kept for the push.

use std::cell::OnceCell;
use std::fs::{self, File};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use camino::Utf8Path;
use serde_json::Value;

use super::credentials::{Auth, Credentials, RegistryKey};
use super::reference::Reference;
use super::wire::{Challenge, percent_encode, registry_messages, resolve_location};
use super::{Descriptor, ImageResult, oci};
use crate::outdir::OutDir;

/// What [`push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// Digests of the blobs (layers, configs) uploaded.
    pub uploaded: Vec<String>,
    /// Digests of the blobs the registry already had.
    pub skipped: Vec<String>,
    /// The digest of the image index now tagged.
    pub index_digest: String,
}

/// Pushes `image` of the layout at `dir` to `reference` (`REGISTRY/NAME[:TAG]`, tag
/// `latest` by default): every layer and config the registry lacks, each platform
/// manifest by digest, then the image index under the tag, so the tag never points at
/// an incomplete image. `insecure` talks plain HTTP instead of HTTPS.
pub fn push(
    dir: &Utf8Path,
    image: &ImageResult,
    reference: &str,
    auth: &Auth,
    insecure: bool,
) -> Result<PushReport> {
    let target = Reference::parse(reference)?;
    let dir = &OutDir::existing(dir)?;
    let index_bytes = read_document(dir, &image.index)?;
    let mut manifests = Vec::with_capacity(image.manifests.len());
    let mut blobs: Vec<Descriptor> = Vec::new();
    for m in &image.manifests {
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

    let mut client = Client::new(&target, auth, insecure);
    let mut report = PushReport {
        uploaded: Vec::new(),
        skipped: Vec::new(),
        index_digest: image.index.digest.clone(),
    };
    for blob in &blobs {
        if client.blob_exists(&blob.digest)? {
            report.skipped.push(blob.digest.clone());
        } else {
            let path = dir.file(&super::layout::blob_rel(blob.hex())?)?;
            client.upload_blob(blob, &path)?;
            report.uploaded.push(blob.digest.clone());
        }
    }
    for (m, bytes) in &manifests {
        client.put_manifest(&m.digest, &m.media_type, bytes, &m.digest)?;
    }
    client.put_manifest(
        &target.tag,
        &image.index.media_type,
        &index_bytes,
        &image.index.digest,
    )?;
    Ok(report)
}

/// Reads a JSON blob and checks it is exactly the bytes its descriptor names.
fn read_document(dir: &OutDir, d: &Descriptor) -> Result<Vec<u8>> {
    let rel = super::layout::blob_rel(oci::digest_hex(&d.digest)?)?;
    let path = dir.display(&rel);
    let bytes = dir
        .read(&rel, 4 << 20)
        .with_context(|| format!("could not read `{path}` (hint: write the image layout again)"))?;
    if bytes.len() as u64 != d.size || oci::sha256_hex(&bytes) != d.hex() {
        bail!(
            "`{path}` does not match digest `{}` (hint: write the image layout again)",
            d.digest
        );
    }
    Ok(bytes)
}

fn descriptor(v: &Value) -> Result<Descriptor> {
    let media_type = v["mediaType"].as_str().context("no `mediaType`")?;
    let digest = v["digest"].as_str().context("no `digest`")?;
    oci::digest_hex(digest)?;
    let size = v["size"].as_u64().context("no `size`")?;
    Ok(Descriptor::new(media_type, digest.to_owned(), size))
}

enum Body<'a> {
    None,
    Bytes(&'a [u8]),
    File(&'a Utf8Path),
}

struct Reply {
    status: u16,
    location: Option<String>,
    digest: Option<String>,
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

struct Client<'a> {
    agent: ureq::Agent,
    /// `https://host[:port]`
    base: String,
    target: &'a Reference,
    auth: &'a Auth,
    insecure: bool,
    /// Resolved on the first challenge that needs them.
    credentials: OnceCell<Option<Credentials>>,
    /// The `Authorization` value that worked last (Basic, or a cached Bearer token).
    authorization: Option<String>,
}

impl<'a> Client<'a> {
    fn new(target: &'a Reference, auth: &'a Auth, insecure: bool) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .user_agent(concat!("cargo-multiarch/", env!("CARGO_PKG_VERSION")))
            .build();
        let scheme = if insecure { "http" } else { "https" };
        Self {
            agent: ureq::Agent::new_with_config(config),
            base: format!("{scheme}://{}", target.api_host),
            target,
            auth,
            insecure,
            credentials: OnceCell::new(),
            authorization: None,
        }
    }

    fn blob_exists(&mut self, digest: &str) -> Result<bool> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.target.name);
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
        let url = format!("{}/v2/{}/blobs/uploads/", self.base, self.target.name);
        let reply = self.send("POST", &url, None, &Body::Bytes(&[]))?;
        if reply.status != 202 {
            return Err(self.http_error("POST", &url, &reply));
        }
        let location = reply
            .location
            .as_deref()
            .ok_or_else(|| anyhow!("`POST {url}` answered 202 without a `Location` header"))?;
        let upload = resolve_location(&url, location);
        let sep = if upload.contains('?') { '&' } else { '?' };
        let put = format!("{upload}{sep}digest={}", percent_encode(&blob.digest));
        let reply = self.send(
            "PUT",
            &put,
            Some("application/octet-stream"),
            &Body::File(path),
        )?;
        if reply.status != 201 {
            return Err(self.http_error("PUT", &put, &reply));
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
        let url = format!(
            "{}/v2/{}/manifests/{reference}",
            self.base, self.target.name
        );
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

    /// Sends a request, answering up to two `401` challenges; the reply is returned
    /// as is otherwise (callers judge the status).
    fn send(
        &mut self,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: &Body,
    ) -> Result<Reply> {
        let mut answered: Option<String> = None;
        let mut attempts = 0;
        loop {
            let own = url.starts_with(&self.base);
            let authorization = if own {
                self.authorization.clone()
            } else {
                None
            };
            let reply =
                self.send_once(method, url, content_type, body, authorization.as_deref())?;
            attempts += 1;
            if reply.status != 401 || !own || attempts > 2 {
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

    fn send_once(
        &self,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: &Body,
        authorization: Option<&str>,
    ) -> Result<Reply> {
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        if let Some(value) = content_type {
            request = request.header("Content-Type", value);
        }
        let context = || format!("`{method} {url}` failed");
        let result = match body {
            Body::None => self.agent.run(request.body(()).with_context(context)?),
            Body::Bytes(bytes) => self.agent.run(request.body(*bytes).with_context(context)?),
            Body::File(path) => {
                let file = File::open(path).with_context(|| format!("could not open `{path}`"))?;
                self.agent.run(request.body(file).with_context(context)?)
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
        let challenges = response
            .headers()
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let status = response.status().as_u16();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_vec()
                .unwrap_or_default()
        };
        Ok(Reply {
            status,
            location,
            digest,
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
    fn token(&mut self, challenge: &Challenge) -> Result<String> {
        let realm = challenge
            .params
            .get("realm")
            .map(String::as_str)
            .unwrap_or_default();
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            bail!(
                "`{}` asks for a Bearer token from realm `{realm}`, which is not an HTTP URL",
                self.target.registry
            );
        }
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
        let push_scope = format!("repository:{}:pull,push", self.target.name);
        if !scopes.contains(&push_scope) {
            scopes.push(push_scope);
        }
        query.extend(
            scopes
                .iter()
                .map(|s| format!("scope={}", percent_encode(s))),
        );
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", query.join("&"));
        let basic = self.credentials()?.map(|c| c.basic_header());
        let reply = self.send_once("GET", &url, None, &Body::None, basic.as_deref())?;
        if reply.status != 200 {
            return Err(self.http_error("GET", &url, &reply)).with_context(|| {
                format!(
                    "could not get a token for push access to `{}`",
                    self.target.name
                )
            });
        }
        let json: Value = serde_json::from_slice(&reply.body)
            .with_context(|| format!("`GET {url}` did not answer with JSON"))?;
        let token = json["token"]
            .as_str()
            .or_else(|| json["access_token"].as_str())
            .filter(|t| !t.is_empty());
        let token = token.ok_or_else(|| anyhow!("`GET {url}` answered without a `token`"))?;
        Ok(format!("Bearer {token}"))
    }

    /// `` `METHOD URL` failed: STATUS: registry messages (hint: …) ``
    fn http_error(&self, method: &str, url: &str, reply: &Reply) -> anyhow::Error {
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
        let hint = match reply.status {
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
}
