//! The CA certificate bundle an image may carry (`ca-certificates = true`,
//! `--ca-certificates`): Mozilla's root certificates as the `webpki-root-certs` crate
//! holds them (DER, compiled in), written as one PEM file in the crate's order. The
//! crate is pinned with `=` in Cargo.toml and its checksum is in Cargo.lock, so every
//! machine makes the same bytes, with no network and nothing read from the host.

use crate::archive::{Entry, Source};
use crate::digest::Sha256;

/// Where the bundle goes in the image (Debian's, Alpine's and Go's first choice).
pub(super) const PATH: &str = "etc/ssl/certs/ca-certificates.crt";
/// The crate the certificates come from.
pub(super) const SOURCE: &str = "webpki-root-certs";
/// Its version, as pinned in Cargo.toml (a test checks it against Cargo.lock).
pub(super) const VERSION: &str = "1.0.11";

/// The bundle: one PEM block per certificate, base64 in lines of 64 characters.
pub(super) fn bundle() -> Vec<u8> {
    let mut pem = String::new();
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let text = super::credentials::base64_encode(der.as_ref());
        for line in text.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}

/// How many certificates the bundle holds.
pub(super) fn count() -> usize {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.len()
}

/// The bundle as the single file of a layer: mode 0644.
pub(super) fn layer() -> (Vec<Entry>, Sha256, u64) {
    let bytes = bundle();
    let sha256 = Sha256::of(&bytes);
    let size = bytes.len() as u64;
    let entry = Entry {
        path: PATH.to_owned(),
        source: Source::Bytes(bytes),
        mode: 0o644,
    };
    (vec![entry], sha256, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_every_certificate_as_pem_and_never_changes_unnoticed() {
        let pem = String::from_utf8(bundle()).unwrap();
        let blocks: Vec<&str> = pem
            .split("-----END CERTIFICATE-----\n")
            .filter(|b| !b.is_empty())
            .collect();
        assert_eq!(blocks.len(), count());
        assert!(count() > 100, "{}", count());
        for (block, der) in blocks.iter().zip(webpki_root_certs::TLS_SERVER_ROOT_CERTS) {
            let body = block.strip_prefix("-----BEGIN CERTIFICATE-----\n").unwrap();
            assert!(body.lines().all(|l| l.len() <= 64));
            let decoded = crate::image::credentials::base64_decode(&body.replace('\n', ""));
            assert_eq!(decoded.as_deref(), Some(der.as_ref()));
        }
        // A new crate version changes these: update VERSION (and this digest) with it.
        assert_eq!(
            Sha256::of(pem.as_bytes()).as_str(),
            "448ea15f2d597b3b3124dcb16064c8f31acf1371ef71696b8ed98a5df4800048"
        );
    }

    #[test]
    fn the_version_is_the_one_cargo_lock_pins() {
        let lock = include_str!("../../Cargo.lock");
        let pinned = lock
            .split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{SOURCE}\"")))
            .expect("webpki-root-certs is in Cargo.lock");
        assert!(
            pinned.contains(&format!("version = \"{VERSION}\"")),
            "{pinned}"
        );
        let toml = include_str!("../../Cargo.toml");
        assert!(
            toml.contains(&format!("{SOURCE} = \"={VERSION}\"")),
            "Cargo.toml must pin `{SOURCE} = \"={VERSION}\"`"
        );
    }
}
