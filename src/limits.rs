//! The one limits policy every reader of untrusted bytes follows: archives (tar, its
//! gzip, zip), binaries (ELF, PE, Mach-O), the JSON of manifests, records, provenance,
//! SBOMs and OCI layouts, and minisign keys and signatures. Each limit is a named
//! constant here, far above what a real release holds and far below what would hurt
//! the machine; docs/security.md has the table.
//!
//! The work a file can cause is proportional to its size: an archive's entries may
//! make the tool read and hash at most [`MAX_EXPANSION`] × its size plus
//! [`EXPANSION_SLACK`] bytes ([`Budget`]), entries may not overlap, counts and names
//! are bounded before anything they describe is read, and a name printed in a problem
//! line is cut to [`MAX_SHOWN`] characters ([`shown`]). A violation is an error that
//! names the limit; the caller adds the file.

use std::fmt::Write as _;

use anyhow::{Result, ensure};

/// Entries in one archive (zip's own limit without zip64).
pub const MAX_ENTRIES: u64 = 65_535;
/// Bytes of a GNU long name or long link (`././@LongLink`) or a PAX header's records,
/// checked in the tar header before they are read (a path of Linux is at most 4096).
pub const MAX_LONG_NAME: u64 = 4096;
/// Bytes of all the entry names of one archive together (a zip's are in its central
/// directory, bounded below).
pub const MAX_NAMES_BYTES: u64 = 16 << 20;
/// Bytes of a zip archive's central directory (a real one is ~100 bytes per entry).
pub const MAX_CENTRAL_DIRECTORY: u64 = 16 << 20;
/// How many times its own size an archive may make the tool read: deflate's largest
/// ratio (1032:1), so a real archive never comes near it, while overlapping entries,
/// which could read the same bytes once per entry, are refused.
pub const MAX_EXPANSION: u64 = 1032;
/// What [`MAX_EXPANSION`] allows on top, for small archives of empty files.
pub const EXPANSION_SLACK: u64 = 1 << 20;
/// Slices of a fat Mach-O file (a real one has two or three).
pub const MAX_FAT_SLICES: usize = 16;
/// Bytes of headers read from an ELF file to learn its linkage.
pub const MAX_ELF_HEADERS: u64 = 1 << 20;
/// Libraries one binary (or one slice of a fat one) loads: a real one loads a few
/// dozen. Checked before their names are read, as many may name the same bytes.
pub const MAX_LIBRARIES: usize = 1024;
/// Bytes of one string read from a binary (an interpreter or library name).
pub const MAX_NAME: u64 = 4096;
/// JSON nesting: `serde_json`'s own recursion limit, on by default (the crate is built
/// without its `unbounded_depth` feature; a test checks it): documents nest fewer
/// levels than this.
pub const MAX_JSON_DEPTH: usize = 128;
/// `manifest.json`, `SHA256SUMS`, and a signed file read to check its signature.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// A build record or journal, and the provenance.
pub const MAX_RECORD_BYTES: u64 = 16 << 20;
/// An OCI layout's `index.json`, `oci-layout`, or a manifest, index or config blob.
pub const MAX_OCI_JSON_BYTES: u64 = 4 << 20;
/// An SBOM or attestation predicate read back.
pub const MAX_SBOM_BYTES: u64 = 64 << 20;
/// An installer script read back (`<set>-installer.sh`, `.ps1`).
pub const MAX_INSTALLER_BYTES: u64 = 1 << 20;
/// One layer or file of a base image (`--base`), pulled or read from an archive.
pub const MAX_BASE_LAYER_BYTES: u64 = 8 << 30;
/// A minisign key, signature or password file.
pub const MAX_KEY_BYTES: u64 = 64 << 10;
/// An archive's `.sha256` sidecar.
pub const MAX_SIDECAR_BYTES: u64 = 4096;
/// Bytes of a path read from untrusted data (`outdir::RelPath`), and of one component.
pub const MAX_PATH: usize = 1024;
pub const MAX_COMPONENT: usize = 255;
/// OCI indexes nested in one another; a deeper chain is taken for a loop.
pub const MAX_INDEX_DEPTH: usize = 8;
/// Characters of an untrusted name printed in a problem line.
pub const MAX_SHOWN: usize = 200;

/// Bytes an archive of `file_size` bytes may make the tool read and hash.
pub fn expansion_budget(file_size: u64) -> u64 {
    file_size
        .saturating_mul(MAX_EXPANSION)
        .saturating_add(EXPANSION_SLACK)
}

/// A count of things read from untrusted bytes, checked before they are read.
pub fn check_count(what: &str, count: u64, max: u64) -> Result<()> {
    ensure!(
        count <= max,
        "it has {count} {what}, more than the limit of {max}"
    );
    Ok(())
}

/// The bytes an archive may still make the tool read ([`expansion_budget`]).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    limit: u64,
    used: u64,
}

impl Budget {
    /// The budget of an archive of `file_size` bytes.
    pub fn for_archive(file_size: u64) -> Self {
        Self {
            limit: expansion_budget(file_size),
            used: 0,
        }
    }

    /// Takes `n` bytes from the budget, or fails naming the limit.
    pub fn charge(&mut self, n: u64) -> Result<()> {
        self.used = self.used.saturating_add(n);
        ensure!(
            self.used <= self.limit,
            "its entries hold more than {} bytes, the limit for its size ({MAX_EXPANSION} × its size + {EXPANSION_SLACK})",
            self.limit
        );
        Ok(())
    }
}

/// `name` as a problem line shows it: escaped (no control characters or newlines),
/// and cut to [`MAX_SHOWN`] characters with an ellipsis and its full length.
pub fn shown(name: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for c in name.chars() {
        for e in c.escape_debug() {
            if chars == MAX_SHOWN {
                let _ = write!(out, "…({} bytes)", name.len());
                return out;
            }
            out.push(e);
            chars += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_escapes_and_cuts_long_names() {
        assert_eq!(shown("a/b c"), "a/b c");
        assert_eq!(shown("a\nb"), "a\\nb");
        let long = "x".repeat(1 << 20);
        let s = shown(&long);
        assert_eq!(s, format!("{}…(1048576 bytes)", "x".repeat(MAX_SHOWN)));
        let escapes = "\n".repeat(MAX_SHOWN);
        assert_eq!(
            shown(&escapes).chars().take_while(|&c| c != '…').count(),
            MAX_SHOWN
        );
    }

    #[test]
    fn budget_is_proportional_to_the_file() {
        let mut b = Budget::for_archive(1000);
        b.charge(1000 * MAX_EXPANSION).unwrap();
        b.charge(EXPANSION_SLACK).unwrap();
        let err = b.charge(1).unwrap_err().to_string();
        assert!(
            err.contains("more than 2080576 bytes, the limit for its size"),
            "{err}"
        );
        let mut huge = Budget::for_archive(u64::MAX);
        huge.charge(u64::MAX).unwrap();
    }

    #[test]
    fn counts_name_the_limit() {
        check_count("entries", MAX_ENTRIES, MAX_ENTRIES).unwrap();
        let err = check_count("entries", MAX_ENTRIES + 1, MAX_ENTRIES).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it has 65536 entries, more than the limit of 65535"
        );
    }

    /// `serde_json` refuses JSON nested [`MAX_JSON_DEPTH`] deep or more (no stack overflow
    /// from a manifest of `[[[[…`), in typed and untyped parses alike.
    #[test]
    fn json_nesting_is_bounded() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        serde_json::from_str::<serde_json::Value>(&nested(MAX_JSON_DEPTH - 1)).unwrap();
        for deep in [MAX_JSON_DEPTH, 100_000] {
            let err = serde_json::from_str::<serde_json::Value>(&nested(deep)).unwrap_err();
            assert!(
                err.to_string().contains("recursion limit exceeded"),
                "{err}"
            );
        }
        let deep = format!("{{\"schema\":{}}}", nested(100_000));
        let err = crate::manifest::Manifest::parse(deep.as_bytes()).unwrap_err();
        assert!(
            format!("{err:#}").contains("recursion limit exceeded"),
            "{err:#}"
        );
    }
}
