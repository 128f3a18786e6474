//! The checksums of `Cargo.lock`: the sha256 of each registry crate's `.crate` file.
//!
//! Read line by line, as cargo writes the file (`[[package]]` tables of `key = "value"`
//! lines; lock format v1 kept them in `[metadata]` as `"checksum NAME VERSION (SOURCE)"`).
//! Untrusted input: an entry that is not exactly that shape, or whose checksum is not
//! 64 lowercase hex digits, is skipped, so a damaged lock file only loses checksums.

use std::collections::HashMap;
use std::io::Read as _;

use camino::Utf8Path;

use crate::digest::Sha256;

/// The largest lock file read (a large workspace's is a few hundred KiB).
const MAX_BYTES: u64 = 64 << 20;

/// Checksums by (name, version, source id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lock {
    checksums: HashMap<(String, String, String), Sha256>,
}

impl Lock {
    /// The lock file at `path`; empty when it is missing, not a regular file, too large
    /// or not UTF-8.
    pub(crate) fn read(path: &Utf8Path) -> Self {
        let Ok(file) = crate::fs::open_regular(path) else {
            return Self::default();
        };
        let mut text = String::new();
        if file.take(MAX_BYTES + 1).read_to_string(&mut text).is_err()
            || text.len() as u64 > MAX_BYTES
        {
            return Self::default();
        }
        Self::parse(&text)
    }

    pub(crate) fn parse(text: &str) -> Self {
        let mut checksums = HashMap::new();
        let mut table = "";
        let mut entry: HashMap<&str, String> = HashMap::new();
        let flush = |entry: &mut HashMap<&str, String>, checksums: &mut HashMap<_, _>| {
            if let (Some(n), Some(v), Some(s), Some(c)) = (
                entry.get("name"),
                entry.get("version"),
                entry.get("source"),
                entry.get("checksum"),
            ) && let Ok(sha) = Sha256::parse(c)
            {
                checksums.insert((n.clone(), v.clone(), s.clone()), sha);
            }
            entry.clear();
        };
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') && !line.starts_with("[\"") {
                if table == "[[package]]" {
                    flush(&mut entry, &mut checksums);
                }
                table = line;
                continue;
            }
            let Some((key, value)) = line.split_once(" = ") else {
                continue;
            };
            match table {
                "[[package]]" => {
                    if let Some(v) = basic_string(value)
                        && matches!(key, "name" | "version" | "source" | "checksum")
                    {
                        entry.insert(key_name(key), v);
                    }
                }
                "[metadata]" => {
                    // "checksum NAME VERSION (SOURCE)" = "HEX"
                    let (Some(k), Some(v)) = (basic_string(key), basic_string(value)) else {
                        continue;
                    };
                    let mut words = k.splitn(4, ' ');
                    if let (Some("checksum"), Some(n), Some(ver), Some(src)) =
                        (words.next(), words.next(), words.next(), words.next())
                        && let Some(src) = src.strip_prefix('(').and_then(|s| s.strip_suffix(')'))
                        && let Ok(sha) = Sha256::parse(&v)
                    {
                        checksums.insert((n.to_owned(), ver.to_owned(), src.to_owned()), sha);
                    }
                }
                _ => {}
            }
        }
        if table == "[[package]]" {
            flush(&mut entry, &mut checksums);
        }
        Self { checksums }
    }

    /// The checksum of the crate `name` `version` from the source id `source`.
    pub(crate) fn checksum(&self, name: &str, version: &str, source: &str) -> Option<&Sha256> {
        self.checksums
            .get(&(name.to_owned(), version.to_owned(), source.to_owned()))
    }
}

fn key_name(key: &str) -> &'static str {
    match key {
        "name" => "name",
        "version" => "version",
        "source" => "source",
        _ => "checksum",
    }
}

/// A TOML basic string with no escapes (all cargo writes here): `"text"`.
fn basic_string(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains(['"', '\\']) && !inner.chars().any(char::is_control)).then(|| inner.to_owned())
}
