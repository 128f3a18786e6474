//! Registry credentials: explicit ones, or Docker's `config.json` (`auths`,
//! `credHelpers`, `credsStore`) the way `docker login` leaves them.

use std::io::Write as _;
use std::process::Stdio;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use serde_json::Value;

use crate::process::Process;

/// Where credentials for [`push`](super::push) come from. With neither a username
/// nor a password, Docker's config is read: `docker_config`, else
/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Auth {
    pub username: Option<String>,
    pub password: Option<String>,
    pub docker_config: Option<Utf8PathBuf>,
}

/// Without the password: `Options` and anything holding an `Auth` may be printed.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("docker_config", &self.docker_config)
            .finish()
    }
}

/// A username and password (or token) for Basic auth.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The value of an `Authorization: Basic …` header.
    pub(crate) fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            base64_encode(format!("{}:{}", self.username, self.password).as_bytes())
        )
    }

    /// What must never be printed: the password, `user:password` and its base64.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let pair = format!("{}:{}", self.username, self.password);
        vec![base64_encode(pair.as_bytes()), pair, self.password.clone()]
    }
}

/// `text` with every (non-empty) secret replaced by `***`, the longest first so one
/// secret inside another is hidden whole.
pub(super) fn redact(text: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .into_iter()
        .fold(text.to_owned(), |text, s| text.replace(s, "***"))
}

/// How a registry is known to Docker's config and credential helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryKey {
    /// Keys of `auths`/`credHelpers` that match, after normalisation (no scheme, no path).
    pub hosts: Vec<String>,
    /// What `docker-credential-<helper> get` is given on stdin.
    pub server_url: String,
}

impl RegistryKey {
    /// `registry` as written in the reference (`ghcr.io`, `127.0.0.1:5000`, `docker.io`).
    pub(crate) fn new(registry: &str) -> Self {
        if matches!(
            registry,
            "docker.io" | "index.docker.io" | "registry-1.docker.io"
        ) {
            Self {
                hosts: ["index.docker.io", "docker.io", "registry-1.docker.io"]
                    .map(str::to_owned)
                    .to_vec(),
                server_url: "https://index.docker.io/v1/".to_owned(),
            }
        } else {
            Self {
                hosts: vec![registry.to_owned()],
                server_url: registry.to_owned(),
            }
        }
    }

    fn matches(&self, config_key: &str) -> bool {
        let key = config_key
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        let host = key.split('/').next().unwrap_or_default();
        self.hosts.iter().any(|h| h == host)
    }
}

impl Auth {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    #[must_use]
    pub fn default_docker_config() -> Option<Utf8PathBuf> {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
            return Utf8PathBuf::from_path_buf(dir.into())
                .ok()
                .map(|d| d.join("config.json"));
        }
        let home = std::env::var_os("HOME")?;
        Utf8PathBuf::from_path_buf(home.into())
            .ok()
            .map(|h| h.join(".docker/config.json"))
    }

    /// The credentials for `key`, if any are configured.
    pub(crate) fn resolve(&self, key: &RegistryKey) -> Result<Option<Credentials>> {
        self.resolve_with(key, run_helper)
    }

    /// [`Auth::resolve`] with the credential-helper runner given (tests fake it).
    pub(crate) fn resolve_with(
        &self,
        key: &RegistryKey,
        helper: impl Fn(&str, &str) -> Result<Option<Credentials>>,
    ) -> Result<Option<Credentials>> {
        match (&self.username, &self.password) {
            (Some(username), Some(password)) => {
                return Ok(Some(Credentials {
                    username: username.clone(),
                    password: password.clone(),
                }));
            }
            (Some(_), None) => bail!(
                "a registry username was given without a password (hint: pass `--password` too)"
            ),
            (None, Some(_)) => bail!(
                "a registry password was given without a username (hint: pass `--username` too)"
            ),
            (None, None) => {}
        }
        let Some(path) = self
            .docker_config
            .clone()
            .or_else(Self::default_docker_config)
        else {
            return Ok(None);
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.docker_config.is_none() => {
                return Ok(None);
            }
            Err(e) => {
                return Err(e).with_context(|| format!("could not read Docker config `{path}`"));
            }
        };
        from_docker_config(&text, &path, key, helper)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: serde_json::Map<String, Value>,
    #[serde(default)]
    cred_helpers: serde_json::Map<String, Value>,
    #[serde(default)]
    creds_store: Option<String>,
}

fn from_docker_config(
    text: &str,
    path: &Utf8Path,
    key: &RegistryKey,
    helper: impl Fn(&str, &str) -> Result<Option<Credentials>>,
) -> Result<Option<Credentials>> {
    let config: DockerConfig = serde_json::from_str(text).with_context(|| {
        format!("Docker config `{path}` is not valid JSON (hint: fix or remove it)")
    })?;
    if let Some((_, name)) = config.cred_helpers.iter().find(|(k, _)| key.matches(k))
        && let Some(name) = name.as_str()
    {
        return helper(name, &key.server_url);
    }
    if let Some((config_key, entry)) = config.auths.iter().find(|(k, _)| key.matches(k)) {
        if let Some(auth) = entry
            .get("auth")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
        {
            let decoded = base64_decode(auth)
                .and_then(|b| String::from_utf8(b).ok())
                .with_context(|| format!("`auths.\"{config_key}\".auth` in `{path}` is not base64 of `user:password` (hint: run `docker login` again)"))?;
            let Some((username, password)) = decoded.split_once(':') else {
                bail!(
                    "`auths.\"{config_key}\".auth` in `{path}` is not base64 of `user:password` (hint: run `docker login` again)"
                );
            };
            return Ok(Some(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            }));
        }
        let field = |f: &str| entry.get(f).and_then(Value::as_str).map(str::to_owned);
        if let (Some(username), Some(password)) = (field("username"), field("password")) {
            return Ok(Some(Credentials { username, password }));
        }
    }
    match config.creds_store.as_deref() {
        Some(store) if !store.is_empty() => helper(store, &key.server_url),
        _ => Ok(None),
    }
}

/// Runs `docker-credential-<name> get` with the server URL on stdin.
fn run_helper(name: &str, server_url: &str) -> Result<Option<Credentials>> {
    helper_get(
        &Process::new(format!("docker-credential-{name}")).arg("get"),
        server_url,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperReply {
    username: String,
    secret: String,
}

pub(crate) fn helper_get(process: &Process, server_url: &str) -> Result<Option<Credentials>> {
    let mut child = crate::process::spawn(
        process
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .with_context(|| format!("could not run credential helper `{process}` (hint: install it, or remove it from the Docker config)"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits early closes its stdin; its exit status tells why.
        let _ = stdin.write_all(server_url.as_bytes());
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("could not run `{process}`"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        if stdout.contains("credentials not found")
            || String::from_utf8_lossy(&out.stderr).contains("credentials not found")
        {
            return Ok(None);
        }
        bail!(
            "credential helper `{process}` failed ({}) for `{server_url}`: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let reply: HelperReply = serde_json::from_str(&stdout)
        .with_context(|| format!("credential helper `{process}` printed something other than `{{\"Username\",\"Secret\"}}` JSON"))?;
    Ok(Some(Credentials {
        username: reply.username,
        password: reply.secret,
    }))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(super) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional; `None` on any other character.
pub(super) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)?;
        acc = acc << 6 | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(acc >> bits & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_known_values() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("user:pa ss", "dXNlcjpwYSBzcw=="),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64_decode("Zm8").unwrap(), b"fo");
        assert!(base64_decode("Zm9v!").is_none());
    }

    #[test]
    fn secrets_are_redacted_and_not_debug_printed() {
        let c = Credentials {
            username: "bot".into(),
            password: "pa:ss".into(),
        };
        let header = c.basic_header();
        let text = format!("got `{header}` for bot:pa:ss, password pa:ss");
        assert_eq!(
            redact(&text, &c.secrets()),
            "got `Basic ***` for ***, password ***"
        );
        assert_eq!(redact("x", &[String::new()]), "x");
        let auth = Auth {
            username: Some("bot".into()),
            password: Some("pa:ss".into()),
            docker_config: None,
        };
        let debug = format!("{auth:?} {c:?}");
        assert!(!debug.contains("pa:ss") && debug.contains("bot"), "{debug}");
    }

    fn with_config(json: &str, registry: &str) -> Result<Option<Credentials>> {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().join("config.json")).unwrap();
        std::fs::write(&path, json).unwrap();
        let auth = Auth {
            docker_config: Some(path),
            ..Auth::default()
        };
        auth.resolve_with(&RegistryKey::new(registry), |helper, url| {
            Ok(Some(Credentials {
                username: format!("{helper}-user"),
                password: url.to_owned(),
            }))
        })
    }

    #[test]
    fn docker_config_auths_helpers_and_store() {
        let auths = r#"{"auths":{"https://ghcr.io/v2/":{"auth":"dXNlcjpwYTpzcw=="},"https://index.docker.io/v1/":{"auth":"aHViOmh1Yg=="}}}"#;
        let c = with_config(auths, "ghcr.io").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("user", "pa:ss")
        );
        let c = with_config(auths, "docker.io").unwrap().unwrap();
        assert_eq!(c.username, "hub");
        assert!(with_config(auths, "quay.io").unwrap().is_none());

        let helpers =
            r#"{"auths":{"ghcr.io":{}},"credHelpers":{"ghcr.io":"gh"},"credsStore":"desktop"}"#;
        let c = with_config(helpers, "ghcr.io").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("gh-user", "ghcr.io")
        );
        let c = with_config(helpers, "docker.io").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("desktop-user", "https://index.docker.io/v1/")
        );

        let e = with_config(
            r#"{"auths":{"ghcr.io":{"auth":"bm9jb2xvbg=="}}}"#,
            "ghcr.io",
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("is not base64 of `user:password`"),
            "{e:#}"
        );
    }

    #[test]
    fn explicit_credentials_win_and_must_come_in_pairs() {
        let key = RegistryKey::new("ghcr.io");
        let auth = Auth {
            username: Some("u".into()),
            password: Some("p".into()),
            docker_config: None,
        };
        assert_eq!(
            auth.resolve(&key).unwrap().unwrap().basic_header(),
            "Basic dTpw"
        );
        let auth = Auth {
            username: Some("u".into()),
            ..Auth::default()
        };
        assert!(
            auth.resolve(&key)
                .unwrap_err()
                .to_string()
                .contains("without a password")
        );
        // An explicitly named config that does not exist is an error, not "no credentials".
        let auth = Auth {
            docker_config: Some("/nonexistent/config.json".into()),
            ..Auth::default()
        };
        assert!(auth.resolve(&key).is_err());
    }

    #[test]
    fn credential_helper_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("docker-credential-fake");
        std::fs::write(
            &script,
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread url\ncase \"$url\" in\n  ghcr.io) echo '{\"ServerURL\":\"ghcr.io\",\"Username\":\"bot\",\"Secret\":\"s3cret\"}' ;;\n  *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let p = Process::new(&script).arg("get");
        let c = helper_get(&p, "ghcr.io").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("bot", "s3cret")
        );
        assert!(helper_get(&p, "quay.io").unwrap().is_none());
        let e = helper_get(
            &Process::new("docker-credential-no-such-helper-xyz").arg("get"),
            "x",
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains(
                "could not run credential helper `docker-credential-no-such-helper-xyz get`"
            ),
            "{e:#}"
        );
    }
}
