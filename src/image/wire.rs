//! Small pieces of the registry HTTP protocol: `WWW-Authenticate` challenges, query
//! encoding and registry error bodies (URLs and origins are in `origin`).

use std::collections::BTreeMap;

use serde_json::Value;

/// `errors[].message` (with `code`) of a registry error body, or its text if short.
pub(super) fn registry_messages(body: &[u8]) -> Vec<String> {
    if let Ok(json) = serde_json::from_slice::<Value>(body)
        && let Some(errors) = json["errors"].as_array()
    {
        return errors
            .iter()
            .map(|e| match (e["message"].as_str(), e["code"].as_str()) {
                (Some(m), Some(c)) => format!("{m} ({c})"),
                (Some(m), None) => m.to_owned(),
                (None, Some(c)) => c.to_owned(),
                (None, None) => e.to_string(),
            })
            .collect();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text.len() > 300 {
        Vec::new()
    } else {
        vec![text.to_owned()]
    }
}

pub(super) fn percent_encode(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes()
        .fold(String::with_capacity(s.len()), |mut out, b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
            out
        })
}

/// A parsed `WWW-Authenticate` value: `Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub(super) fn parse(header: &str) -> Self {
        let header = header.trim();
        let (scheme, mut rest) = header
            .split_once(char::is_whitespace)
            .unwrap_or((header, ""));
        let mut params = BTreeMap::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
            let Some(eq) = rest.find('=') else { break };
            let key = rest[..eq].trim().to_ascii_lowercase();
            rest = &rest[eq + 1..];
            let value = if let Some(quoted) = rest.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next().map(|(_, c)| c)),
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                rest = &quoted[end..];
                value
            } else {
                let end = rest.find(',').unwrap_or(rest.len());
                let value = rest[..end].trim().to_owned();
                rest = &rest[end..];
                value
            };
            params.insert(key, value);
        }
        Self {
            scheme: scheme.to_owned(),
            params,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_quoted_commas() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.params["realm"], "https://auth.example/token");
        assert_eq!(c.params["service"], "registry.example");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
        let c = Challenge::parse(r#"Basic realm="Registry \"x\"", charset=UTF-8"#);
        assert_eq!(
            (
                c.scheme.as_str(),
                c.params["realm"].as_str(),
                c.params["charset"].as_str()
            ),
            ("Basic", "Registry \"x\"", "UTF-8")
        );
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("sha256:ab/c d"), "sha256%3Aab%2Fc%20d");
    }

    #[test]
    fn registry_errors_are_quoted() {
        let body =
            br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{}}]}"#;
        assert_eq!(
            registry_messages(body),
            ["manifest invalid (MANIFEST_INVALID)"]
        );
        assert_eq!(registry_messages(b"upstream down\n"), ["upstream down"]);
        assert!(registry_messages(b"").is_empty());
    }
}
