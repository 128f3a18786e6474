//! Image references for pushing: `REGISTRY/NAME[:TAG]`, split the way Docker does.

use anyhow::{Result, bail};

/// `REGISTRY/NAME:TAG`, split the way Docker does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// As written (`ghcr.io`, `127.0.0.1:5000`), or `docker.io`.
    pub registry: String,
    /// Where the API is (`registry-1.docker.io` for Docker Hub).
    pub api_host: String,
    pub name: String,
    /// As written, or `latest`.
    pub tag: String,
    /// Whether a tag was written.
    pub tagged: bool,
}

impl Reference {
    pub fn parse(s: &str) -> Result<Self> {
        let hint = "(hint: write it as `REGISTRY/NAME:TAG`, e.g. `ghcr.io/acme/alpha:0.3.0`)";
        if s.contains("://") {
            bail!("image reference `{s}` must not have a URL scheme {hint}");
        }
        if s.contains('@') {
            bail!("image reference `{s}` names a digest; pushing needs a tag {hint}");
        }
        let (registry, rest) = match s.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), rest)
            }
            _ => ("docker.io".to_owned(), s),
        };
        let (name, tag, tagged) = match rest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag, true),
            _ => (rest, "latest", false),
        };
        let name = if registry == "docker.io" && !name.contains('/') {
            format!("library/{name}")
        } else {
            name.to_owned()
        };
        let name_ok = name.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        });
        if !name_ok {
            bail!(
                "repository name `{name}` in `{s}` must be lowercase letters and digits separated by `.`, `_`, `-` or `/` {hint}"
            );
        }
        if !tag_ok(tag) {
            bail!(
                "tag `{tag}` in `{s}` must be up to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-` {hint}"
            );
        }
        let api_host = if registry == "docker.io" {
            "registry-1.docker.io".to_owned()
        } else {
            registry.clone()
        };
        Ok(Self {
            registry,
            api_host,
            name,
            tag: tag.to_owned(),
            tagged,
        })
    }
}

/// A tag as registries take it: up to 128 letters, digits, `_`, `.` or `-`, not
/// starting with `.` or `-`.
pub(super) fn tag_ok(tag: &str) -> bool {
    tag.len() <= 128
        && !tag.is_empty()
        && tag
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_alphanumeric() || b == b'_' || (i > 0 && b"-.".contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_like_docker() {
        let r = Reference::parse("127.0.0.1:5000/acme/alpha:0.3.0").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.name.as_str(), r.tag.as_str()),
            ("127.0.0.1:5000", "acme/alpha", "0.3.0")
        );
        assert!(r.tagged);
        let r = Reference::parse("localhost/alpha").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.name.as_str(), r.tag.as_str()),
            ("localhost", "alpha", "latest")
        );
        assert!(!r.tagged);
        assert!(tag_ok("1.4.0-linux-arm64") && tag_ok("_x") && tag_ok(&"a".repeat(128)));
        assert!(!tag_ok("") && !tag_ok(".x") && !tag_ok("-x") && !tag_ok(&"a".repeat(129)));
        let r = Reference::parse("alpha:1").unwrap();
        assert_eq!(
            (r.api_host.as_str(), r.name.as_str()),
            ("registry-1.docker.io", "library/alpha")
        );
        for bad in [
            "https://ghcr.io/a:1",
            "ghcr.io/a@sha256:00",
            "ghcr.io/Alpha:1",
            "ghcr.io/a:.x",
            "ghcr.io//a",
        ] {
            let e = Reference::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("(hint: write it as `REGISTRY/NAME:TAG`"),
                "{bad}: {e}"
            );
        }
    }
}
