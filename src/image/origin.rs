//! Where a URL points, for deciding what may be sent there. Every URL a registry hands
//! us (upload `Location`s, redirects, Bearer `realm`s) is parsed once with
//! `ureq::http::Uri` — the parser ureq connects with — into a [`Url`] whose [`Origin`]
//! is (scheme, host, port with the scheme's default). Credentials are bound to an
//! origin and compared as one, never by a string prefix: `http://reg:5000@evil:6001/`
//! and `http://reg:50001/` both start with `http://reg:5000` and are other origins.

use std::fmt;
use std::net::IpAddr;

use anyhow::{Result, anyhow, bail};
use ureq::http::Uri;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }
}

/// (scheme, host, port): what a credential belongs to. The host is lowercase (IPv6
/// literals keep their brackets) and the port is explicit even when the URL left the
/// scheme's default out, so `https://ghcr.io/` and `https://GHCR.io:443/` are one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// The registry's own origin: `api_host` (`ghcr.io`, `127.0.0.1:5000`) over https,
    /// or plain http with `insecure`.
    pub(super) fn registry(api_host: &str, insecure: bool) -> Result<Self> {
        if api_host.contains(['/', '?', '#', '@', '\\']) {
            bail!("`{api_host}` is not a host with an optional port");
        }
        let scheme = if insecure {
            Scheme::Http
        } else {
            Scheme::Https
        };
        Ok(Url::parse(&format!("{}://{api_host}/", scheme.as_str()))?.origin)
    }

    /// `127.0.0.0/8`, `::1` (also as `::ffff:127.x.y.z`) or `localhost`: traffic that
    /// never leaves the machine. Other names, even ones that resolve to loopback, are
    /// not taken on trust.
    pub(super) fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        if host == "localhost" {
            return true;
        }
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => ip.is_loopback(),
            Ok(IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            Err(_) => false,
        }
    }

    /// `host[:port]`, the port left out when it is the scheme's default.
    pub(super) fn authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority())
    }
}

/// The warning `--insecure` earns for a request to `origin`: plain HTTP to a host that
/// is not loopback, where anyone on the way can read the credentials and the image and
/// change the image. `None` for https and for loopback.
pub(super) fn insecure_warning(origin: &Origin) -> Option<String> {
    (origin.scheme == Scheme::Http && !origin.is_loopback()).then(|| {
        format!(
            "`--insecure` talks plain HTTP to `{}`, which is not a loopback address: the credentials and the image content travel unencrypted",
            origin.authority()
        )
    })
}

/// An absolute http or https URL without user information, parsed once. Requests are
/// built from `uri` itself, so the origin checked is the origin connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Url {
    pub uri: Uri,
    pub origin: Origin,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL. A URL with user information
    /// (`user@host`, `user:password@host`) is refused: its host is not what it seems
    /// to a reader, and ureq would send the user part as Basic credentials.
    pub(super) fn parse(text: &str) -> Result<Self> {
        let refuse = |why: &str| {
            anyhow!(
                "`{}` {why} (hint: fix the URL the registry is configured to announce, or push to another registry)",
                hide_userinfo(text)
            )
        };
        let uri: Uri = text
            .parse()
            .map_err(|e| refuse(&format!("is not a valid URL ({e})")))?;
        let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("https") => Scheme::Https,
            Some("http") => Scheme::Http,
            _ => return Err(refuse("is not an absolute http or https URL")),
        };
        let Some(authority) = uri.authority() else {
            return Err(refuse("has no host"));
        };
        if authority.as_str().contains('@') {
            return Err(refuse(
                "has user information (`…@`) in it, and no credentials are sent to such a URL",
            ));
        }
        let host = authority.host().to_ascii_lowercase();
        if host.is_empty() {
            return Err(refuse("has no host"));
        }
        // After the host: nothing, `:` or `:PORT` (`Uri` takes `:99999` and then has no port).
        let port = match authority.as_str()[authority.host().len()..].strip_prefix(':') {
            None | Some("") => scheme.default_port(),
            Some(port) => port
                .parse()
                .map_err(|_| refuse("has a port that is not a number up to 65535"))?,
        };
        Ok(Self {
            uri,
            origin: Origin { scheme, host, port },
        })
    }

    /// `location` (absolute, `//host/…`, `/path`, `?query` or relative to this URL's
    /// directory) resolved against this URL, as RFC 3986 does it (without removing
    /// `.` and `..` segments, which cannot change the origin).
    pub(super) fn join(&self, location: &str) -> Result<Self> {
        if has_scheme(location) {
            return Self::parse(location);
        }
        if location.starts_with("//") {
            return Self::parse(&format!("{}:{location}", self.origin.scheme.as_str()));
        }
        let authority = self.uri.authority().map_or("", |a| a.as_str());
        let base = format!("{}://{authority}", self.origin.scheme.as_str());
        let path = self.uri.path();
        let joined = if location.starts_with('/') {
            format!("{base}{location}")
        } else if location.starts_with('?') {
            format!("{base}{path}{location}")
        } else {
            let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            format!("{base}{dir}{location}")
        };
        Self::parse(&joined)
    }

    /// This URL with `key=value` (already encoded) added to its query.
    pub(super) fn with_query(&self, pair: &str) -> Result<Self> {
        let sep = if self.uri.query().is_some() { '&' } else { '?' };
        let url = Self::parse(&format!("{self}{sep}{pair}"))?;
        if url.origin != self.origin {
            bail!("`{url}` is not on `{}`", self.origin);
        }
        Ok(url)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.uri.fmt(f)
    }
}

/// RFC 3986 `scheme ":"` at the start, before any `/`, `?` or `#`.
fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// `text` for an error message, any user information in its authority replaced by `…`
/// (it may hold a password).
fn hide_userinfo(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    match text[start..end].rfind('@') {
        Some(at) => format!("{}…{}", &text[..start], &text[start + at..]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &str) -> Origin {
        Url::parse(url).unwrap().origin
    }

    #[test]
    fn origins_default_the_port_and_ignore_case() {
        assert_eq!(
            origin("https://GHCR.io/v2/"),
            origin("https://ghcr.io:443/token")
        );
        assert_eq!(origin("HTTP://127.0.0.1/x").port, 80);
        assert_ne!(origin("https://ghcr.io/"), origin("http://ghcr.io:443/"));
        assert_ne!(
            origin("http://127.0.0.1:5000/"),
            origin("http://127.0.0.1:50001/")
        );
        assert_eq!(origin("http://[::1]:5000/").host, "[::1]");
        assert_eq!(origin("http://[::1]/").port, 80);
        assert_eq!(origin("https://ghcr.io:/").port, 443);
        assert_eq!(
            Origin::registry("127.0.0.1:5000", true)
                .unwrap()
                .to_string(),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            Origin::registry("ghcr.io", false).unwrap(),
            origin("https://ghcr.io/v2/")
        );
        for bad in ["ghcr.io?x", "ghcr.io#x", "a\\b", "ghcr.io:99999"] {
            assert!(Origin::registry(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_with_user_information_are_refused_and_not_shown() {
        for bad in [
            "http://127.0.0.1:5000@127.0.0.1:6001/v2/a/blobs/uploads/1",
            "https://registry@evil:6001/token",
            "https://user:hunter2@evil/x",
            "https://a@b@evil/x",
        ] {
            let e = format!("{:#}", Url::parse(bad).unwrap_err());
            assert!(e.contains("has user information (`…@`) in it"), "{e}");
            assert!(!e.contains("hunter2") && !e.contains("registry@"), "{e}");
        }
        assert_eq!(
            hide_userinfo("https://user:hunter2@evil/x@y"),
            "https://…@evil/x@y"
        );
        for bad in [
            "ftp://ghcr.io/x",
            "/v2/x",
            "ghcr.io/x",
            "http:///x",
            "",
            "http://a:99999/",
        ] {
            let e = format!("{:#}", Url::parse(bad).unwrap_err());
            assert!(
                e.starts_with(&format!("`{bad}` ")) && e.ends_with("or push to another registry)"),
                "{e}"
            );
        }
    }

    #[test]
    fn locations_resolve_against_the_request() {
        let post = Url::parse("http://127.0.0.1:5000/v2/a/blobs/uploads/").unwrap();
        let join = |l: &str| post.join(l).unwrap().to_string();
        assert_eq!(
            join("/v2/a/blobs/uploads/u1?_state=x"),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=x"
        );
        assert_eq!(join("u2"), "http://127.0.0.1:5000/v2/a/blobs/uploads/u2");
        assert_eq!(
            join("?_state=y"),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/?_state=y"
        );
        assert_eq!(join("https://s.example/up/1"), "https://s.example/up/1");
        // A network-path reference is another host, not a path on this one.
        let other = post.join("//evil.example:6001/up").unwrap();
        assert_eq!(other.origin.to_string(), "http://evil.example:6001");
        assert!(post.join("//reg@evil.example/up").is_err());
        assert!(post.join("javascript:alert(1)").is_err());
        let put = post
            .join("u1?_state=x")
            .unwrap()
            .with_query("digest=sha256%3Aab")
            .unwrap();
        assert_eq!(
            put.to_string(),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=x&digest=sha256%3Aab"
        );
        assert_eq!(put.origin, post.origin);
    }

    #[test]
    fn insecure_to_non_loopback_host_warns() {
        for quiet in [
            "http://127.0.0.1:5000/",
            "http://127.9.8.7/",
            "http://localhost:5000/",
            "http://LOCALHOST/",
            "http://[::1]:5000/",
            "http://[::ffff:127.0.0.1]/",
            "https://registry.example/",
        ] {
            assert_eq!(insecure_warning(&origin(quiet)), None, "{quiet}");
        }
        for loud in [
            "http://registry.example:5000/",
            "http://10.0.0.5/",
            "http://0.0.0.0:5000/",
            "http://localhost.evil.example/",
            "http://128.0.0.1/",
            "http://[::2]/",
        ] {
            let w = insecure_warning(&origin(loud)).unwrap_or_default();
            let host = origin(loud).authority();
            assert!(
                w.contains(&format!("plain HTTP to `{host}`"))
                    && w.contains("credentials and the image content travel unencrypted"),
                "{loud}: {w}"
            );
        }
    }
}
