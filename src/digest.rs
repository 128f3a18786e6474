//! A sha256 digest as 64 lowercase hex digits: the only form a hash read from a
//! manifest, a build record, a sidecar or an OCI descriptor can take once parsed, so
//! nothing downstream re-validates or slices hash strings.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};

use anyhow::Context as _;
use camino::Utf8Path;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256(String);

impl Sha256 {
    /// Parses 64 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self> {
        if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            bail!(
                "`{}` is not a sha256 digest (64 lowercase hex digits)",
                s.escape_debug()
            );
        }
        Ok(Self(s.to_owned()))
    }

    /// Parses an OCI digest, `sha256:<64 hex>`.
    pub fn parse_oci(s: &str) -> Result<Self> {
        match s.strip_prefix("sha256:") {
            Some(hex) => Self::parse(hex),
            None => bail!(
                "digest `{}` is not of the form `sha256:<64 hex digits>`",
                s.escape_debug()
            ),
        }
    }

    /// The digest of a finished hasher.
    pub fn from_hasher(hasher: sha2::Sha256) -> Self {
        Self(hex(&hasher.finalize()))
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex(&sha2::Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `sha256:<hex>`, as OCI descriptors write it.
    pub fn oci(&self) -> String {
        format!("sha256:{}", self.0)
    }
}

/// Lowercase hex of any bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

impl TryFrom<String> for Sha256 {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<Sha256> for String {
    fn from(d: Sha256) -> Self {
        d.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.0)
    }
}

impl PartialEq<str> for Sha256 {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Bytes read at a time when hashing a file or a reader.
const HASH_BUF: usize = 1 << 20;

/// Hashes a file in a streaming way: (hex sha256, size).
pub fn sha256_file(path: &Utf8Path) -> Result<(Sha256, u64)> {
    let file = File::open(path).with_context(|| format!("could not open `{path}`"))?;
    let mut hashed = HashWriter::new(io::sink());
    // `io::copy` reads straight into a `BufReader`'s buffer, so this reads 1 MiB at a time.
    io::copy(&mut BufReader::with_capacity(HASH_BUF, file), &mut hashed)
        .with_context(|| format!("could not read `{path}`"))?;
    let (_, sha256, size) = hashed.into_parts();
    Ok((sha256, size))
}

/// Hashes everything a reader yields: (hex sha256, size).
pub fn sha256_reader(reader: &mut impl Read) -> io::Result<(Sha256, u64)> {
    let mut hashed = HashWriter::new(io::sink());
    io::copy(&mut BufReader::with_capacity(HASH_BUF, reader), &mut hashed)?;
    let (_, sha256, size) = hashed.into_parts();
    Ok((sha256, size))
}

/// Passes writes through to `inner`, hashing and counting the bytes accepted.
pub struct HashWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
    count: u64,
}

impl<W> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: sha2::Sha256::new(),
            count: 0,
        }
    }

    /// The inner writer, the hex sha256 and the byte count.
    pub fn into_parts(self) -> (W, Sha256, u64) {
        (self.inner, Sha256::from_hasher(self.hasher), self.count)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_lowercase_hex_digits_parse() {
        let good = "a".repeat(64);
        assert_eq!(Sha256::parse(&good).unwrap().as_str(), good);
        for bad in [
            "",
            "x",
            &"A".repeat(64),
            &"a".repeat(63),
            &"a".repeat(65),
            &format!("{}é", "a".repeat(62)),
        ] {
            assert!(Sha256::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Sha256>(r#""x""#).is_err());
        assert_eq!(
            Sha256::parse_oci(&format!("sha256:{good}"))
                .unwrap()
                .as_str(),
            good
        );
        assert!(Sha256::parse_oci(&good).is_err());
        assert!(Sha256::parse_oci(&format!("sha512:{good}")).is_err());
    }

    #[test]
    fn of_matches_sha256sum() {
        assert_eq!(
            Sha256::of(b"").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

/// Property tests: any string parses to a well-formed digest or to an error.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::testgen::{check_sha, config, nasty_string};

    /// Near-misses of a digest: the right length give or take, wrong case, wrong
    /// prefix.
    fn near_digest() -> impl Strategy<Value = String> {
        (
            prop::sample::select(&["", "sha256:", "SHA256:", "sha512:", "sha256:sha256:"][..]),
            "[0-9a-fA-Fg/. ]{60,68}",
        )
            .prop_map(|(pre, hex)| format!("{pre}{hex}"))
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn any_string_parses_to_64_lowercase_hex_or_an_error(
            s in prop_oneof![nasty_string(), near_digest(), any::<String>()],
        ) {
            if let Ok(d) = Sha256::parse(&s) {
                check_sha(&d);
                prop_assert_eq!(d.as_str(), s.as_str());
            }
            if let Ok(d) = Sha256::parse_oci(&s) {
                check_sha(&d);
                prop_assert_eq!(d.oci(), s.clone());
            }
            let via_serde = serde_json::from_value::<Sha256>(serde_json::Value::String(s.clone()));
            prop_assert_eq!(via_serde.ok(), Sha256::parse(&s).ok());
        }

        #[test]
        fn every_digest_round_trips(bytes in any::<Vec<u8>>()) {
            let d = Sha256::of(&bytes);
            check_sha(&d);
            prop_assert_eq!(Sha256::parse_oci(&d.oci()).unwrap(), d.clone());
            let json = serde_json::to_string(&d).unwrap();
            prop_assert_eq!(serde_json::from_str::<Sha256>(&json).unwrap(), d);
        }
    }
}
