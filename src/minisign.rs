//! minisign's key and signature formats, written from its specification (the C
//! `minisign` 0.11 and rsign2 read and write the same):
//!
//! - secret key: `untrusted comment: …` then base64 of `"Ed"`, the KDF (`"Sc"` =
//!   scrypt, or two zero bytes when unencrypted: `minisign -G -W`), `"B2"`, a 32-byte
//!   salt, scrypt's opslimit and memlimit (u64 little-endian, libsodium's
//!   `crypto_pwhash_scryptsalsa208sha256` parameters), then — `XOR`ed with the scrypt
//!   stream when encrypted — the 8-byte key ID, the 64-byte Ed25519 secret key (seed
//!   and public key) and a BLAKE2b-256 checksum of `"Ed" || key ID || secret key`;
//! - public key: `untrusted comment: …` then base64 of `"Ed"`, key ID, 32-byte key;
//! - signature (`<file>.minisig`): `untrusted comment: …`, base64 of `"ED"` (the
//!   prehashed algorithm: Ed25519 over the file's BLAKE2b-512), key ID and signature,
//!   `trusted comment: …`, and base64 of the global signature: Ed25519 over the
//!   signature followed by the trusted comment's bytes.
//!
//! Key files and signatures are untrusted input: every length, algorithm and
//! parameter is checked before use, and scrypt parameters asking for more than
//! [`MAX_SCRYPT_MEMORY`] are refused.

use std::fmt;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use blake2::{Blake2b256, Blake2b512, Digest as _};
use camino::Utf8Path;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::layout::{self, Kind};
use crate::manifest::Manifest;
use crate::outdir::{OutDir, RelPath};

const UNTRUSTED: &str = "untrusted comment: ";
const TRUSTED: &str = "trusted comment: ";
const SIG_ALG: &[u8; 2] = b"Ed";
const SIG_ALG_HASHED: &[u8; 2] = b"ED";
const KDF_SCRYPT: &[u8; 2] = b"Sc";
const KDF_NONE: &[u8; 2] = b"\0\0";
const CHK_ALG: &[u8; 2] = b"B2";
const SECRET_KEY_LEN: usize = 2 + 2 + 2 + 32 + 8 + 8 + KEYNUM_SK_LEN;
/// Key ID, secret key and checksum: the part scrypt's stream encrypts.
const KEYNUM_SK_LEN: usize = 8 + 64 + 32;
const PUBLIC_KEY_LEN: usize = 2 + 8 + 32;
const SIGNATURE_LEN: usize = 2 + 8 + 64;
/// scrypt parameters of a key that ask for more memory than this are refused:
/// minisign's own (`OPSLIMIT_SENSITIVE`, `MEMLIMIT_SENSITIVE`) take 1 GiB.
pub const MAX_SCRYPT_MEMORY: u64 = 2 << 30;
/// Longest trusted comment minisign accepts.
const MAX_TRUSTED_COMMENT: usize = 8192 - TRUSTED.len() - 1;

/// A minisign secret key, decrypted.
pub struct SecretKey {
    keynum: [u8; 8],
    key: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", key_id(self.keynum))
    }
}

/// A minisign public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    keynum: [u8; 8],
    key: VerifyingKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", key_id(self.keynum))
    }
}

/// The key ID as minisign prints it: the 8 bytes as a little-endian u64 in upper hex.
fn key_id(keynum: [u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(keynum))
}

/// The base64 line after the `untrusted comment:` line of a key or signature file.
fn payload_line<'a>(text: &'a str, what: &str) -> Result<&'a str> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    if !first.starts_with(UNTRUSTED) {
        bail!("it does not start with `{UNTRUSTED}`, so it is not a minisign {what}");
    }
    Ok(lines.next().unwrap_or_default().trim())
}

fn decode(line: &str, len: usize, what: &str) -> Result<Zeroizing<Vec<u8>>> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(line)
            .with_context(|| format!("its {what} is not base64"))?,
    );
    if bytes.len() != len {
        bail!(
            "its {what} has {} bytes, a minisign {what} has {len}",
            bytes.len()
        );
    }
    Ok(bytes)
}

impl SecretKey {
    /// Parses a secret key file's text; `password` is asked for only when the key is
    /// encrypted.
    pub fn parse(text: &str, password: impl FnOnce() -> Result<Zeroizing<String>>) -> Result<Self> {
        let b = decode(
            payload_line(text, "secret key")?,
            SECRET_KEY_LEN,
            "secret key",
        )?;
        if &b[0..2] != SIG_ALG {
            bail!("its signature algorithm is not Ed25519 (`Ed`)");
        }
        if &b[4..6] != CHK_ALG {
            bail!("its checksum algorithm is not BLAKE2b (`B2`)");
        }
        let salt = &b[6..38];
        let opslimit = u64::from_le_bytes(b[38..46].try_into().expect("8 bytes"));
        let memlimit = u64::from_le_bytes(b[46..54].try_into().expect("8 bytes"));
        let mut keynum_sk = Zeroizing::new([0u8; KEYNUM_SK_LEN]);
        keynum_sk.copy_from_slice(&b[54..]);
        let encrypted = match <&[u8; 2]>::try_from(&b[2..4]).expect("2 bytes") {
            KDF_SCRYPT => true,
            KDF_NONE => false,
            _ => bail!("its key derivation function is neither scrypt (`Sc`) nor none"),
        };
        if encrypted {
            let password = password()?;
            let stream = scrypt_stream(password.as_bytes(), salt, opslimit, memlimit)?;
            for (byte, s) in keynum_sk.iter_mut().zip(stream.iter()) {
                *byte ^= s;
            }
        }
        let keynum: [u8; 8] = keynum_sk[..8].try_into().expect("8 bytes");
        let sk: Zeroizing<[u8; 64]> =
            Zeroizing::new(keynum_sk[8..72].try_into().expect("64 bytes"));
        let chk = &keynum_sk[72..];
        // `minisign -G -W` leaves an unencrypted key's checksum zero; any other is checked.
        if encrypted || chk.iter().any(|&c| c != 0) {
            let mut h = Blake2b256::new();
            h.update(SIG_ALG);
            h.update(keynum);
            h.update(&sk[..]);
            if h.finalize().as_slice() != chk {
                if encrypted {
                    bail!("wrong password for this key (its checksum does not match)");
                }
                bail!("its checksum does not match its contents: the key is damaged");
            }
        }
        let key = SigningKey::from_keypair_bytes(&sk).map_err(|_| {
            anyhow::anyhow!("its public half does not match its secret half: the key is damaged")
        })?;
        Ok(Self { keynum, key })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            keynum: self.keynum,
            key: self.key.verifying_key(),
        }
    }

    /// The `.minisig` text signing `message` (prehashed, `ED`) with `trusted_comment`.
    pub fn sign(&self, message: &[u8], trusted_comment: &str) -> Result<String> {
        self.sign_prehashed(&Blake2b512::digest(message), trusted_comment)
    }

    /// [`SecretKey::sign`] of everything `reader` gives, read once in blocks (an
    /// archive need not fit in memory).
    pub fn sign_reader(&self, reader: impl std::io::Read, trusted_comment: &str) -> Result<String> {
        self.sign_prehashed(&blake2b_reader(reader)?, trusted_comment)
    }

    fn sign_prehashed(&self, prehash: &[u8], trusted_comment: &str) -> Result<String> {
        if trusted_comment.contains(['\n', '\r']) || trusted_comment.len() > MAX_TRUSTED_COMMENT {
            bail!("a trusted comment is one line of at most {MAX_TRUSTED_COMMENT} bytes");
        }
        let sig = self.key.sign(prehash);
        let mut sig_struct = Vec::with_capacity(SIGNATURE_LEN);
        sig_struct.extend_from_slice(SIG_ALG_HASHED);
        sig_struct.extend_from_slice(&self.keynum);
        sig_struct.extend_from_slice(&sig.to_bytes());
        let mut global = sig.to_bytes().to_vec();
        global.extend_from_slice(trusted_comment.as_bytes());
        let global = self.key.sign(&global);
        Ok(format!(
            "{UNTRUSTED}signature from cargo-multiarch secret key {}\n{}\n{TRUSTED}{trusted_comment}\n{}\n",
            key_id(self.keynum),
            STANDARD.encode(&sig_struct),
            STANDARD.encode(global.to_bytes())
        ))
    }
}

impl PublicKey {
    /// Parses a public key file's text (`minisign.pub`), or the base64 line alone.
    pub fn parse(text: &str) -> Result<Self> {
        let line = if text.trim_start().starts_with(UNTRUSTED) {
            payload_line(text, "public key")?
        } else {
            text.trim()
        };
        let b = decode(line, PUBLIC_KEY_LEN, "public key")?;
        if &b[0..2] != SIG_ALG {
            bail!("its signature algorithm is not Ed25519 (`Ed`)");
        }
        let keynum: [u8; 8] = b[2..10].try_into().expect("8 bytes");
        let key = VerifyingKey::from_bytes(&b[10..].try_into().expect("32 bytes"))
            .map_err(|_| anyhow::anyhow!("it is not a valid Ed25519 public key"))?;
        Ok(Self { keynum, key })
    }

    /// minisign's key ID (`B4ADCDFAEF78EA77`).
    pub fn id(&self) -> String {
        key_id(self.keynum)
    }

    /// The key as `minisign.pub`'s second line (`RW…`): what binstall's `pubkey` takes.
    pub fn to_base64(&self) -> String {
        let mut b = Vec::with_capacity(PUBLIC_KEY_LEN);
        b.extend_from_slice(SIG_ALG);
        b.extend_from_slice(&self.keynum);
        b.extend_from_slice(self.key.as_bytes());
        STANDARD.encode(b)
    }

    /// Checks a `.minisig` text against `message`; returns its trusted comment.
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<String> {
        self.verify_with(Message::Bytes(message), signature)
    }

    /// [`PublicKey::verify`] of everything `reader` gives, read in blocks; only a
    /// prehashed (`ED`) signature, the kind minisign and `sign` write, can be checked so.
    pub fn verify_reader(&self, reader: impl std::io::Read, signature: &str) -> Result<String> {
        self.verify_with(Message::Reader(Box::new(reader)), signature)
    }

    fn verify_with(&self, message: Message<'_>, signature: &str) -> Result<String> {
        let mut lines = signature.lines();
        if !lines.next().is_some_and(|l| l.starts_with(UNTRUSTED)) {
            bail!("it does not start with `{UNTRUSTED}`, so it is not a minisign signature");
        }
        let sig_struct = decode(
            lines.next().unwrap_or_default().trim(),
            SIGNATURE_LEN,
            "signature",
        )?;
        let Some(comment) = lines.next().and_then(|l| l.strip_prefix(TRUSTED)) else {
            bail!("its third line does not start with `{TRUSTED}`");
        };
        let global = decode(
            lines.next().unwrap_or_default().trim(),
            64,
            "global signature",
        )?;
        let keynum: [u8; 8] = sig_struct[2..10].try_into().expect("8 bytes");
        if keynum != self.keynum {
            bail!(
                "it was made with key {}, not with this public key ({})",
                key_id(keynum),
                self.id()
            );
        }
        let sig = Signature::from_bytes(&sig_struct[10..].try_into().expect("64 bytes"));
        let prehashed;
        let signed: &[u8] = match (
            <&[u8; 2]>::try_from(&sig_struct[0..2]).expect("2 bytes"),
            message,
        ) {
            (SIG_ALG_HASHED, Message::Bytes(m)) => {
                prehashed = Blake2b512::digest(m).to_vec();
                prehashed.as_slice()
            }
            (SIG_ALG_HASHED, Message::Reader(r)) => {
                prehashed = blake2b_reader(r)?;
                prehashed.as_slice()
            }
            (SIG_ALG, Message::Bytes(m)) => m,
            (SIG_ALG, Message::Reader(_)) => {
                bail!("it is a legacy (`Ed`) signature, which is checked on prehashed files only")
            }
            _ => bail!("its signature algorithm is neither `ED` nor `Ed`"),
        };
        self.key
            .verify_strict(signed, &sig)
            .map_err(|_| anyhow::anyhow!("the signature does not match the file"))?;
        let mut both = sig.to_bytes().to_vec();
        both.extend_from_slice(comment.as_bytes());
        let global = Signature::from_bytes(&global[..].try_into().expect("64 bytes"));
        self.key
            .verify_strict(&both, &global)
            .map_err(|_| anyhow::anyhow!("the trusted comment's signature does not match"))?;
        Ok(comment.to_owned())
    }
}

/// What a signature is checked against: bytes in memory, or a file read in blocks.
enum Message<'a> {
    Bytes(&'a [u8]),
    Reader(Box<dyn std::io::Read + 'a>),
}

/// BLAKE2b-512 of everything `reader` gives: what a prehashed signature signs.
fn blake2b_reader(mut reader: impl std::io::Read) -> Result<Vec<u8>> {
    let mut h = Blake2b512::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = reader
            .read(&mut buf)
            .context("cannot read the signed file")?;
        if n == 0 {
            return Ok(h.finalize().to_vec());
        }
        h.update(&buf[..n]);
    }
}

/// libsodium's `crypto_pwhash_scryptsalsa208sha256` (scrypt with N, r, p picked from
/// opslimit and memlimit as libsodium's `pickparams` does): the stream minisign
/// XORs the key ID, secret key and checksum with.
fn scrypt_stream(
    password: &[u8],
    salt: &[u8],
    opslimit: u64,
    memlimit: u64,
) -> Result<Zeroizing<[u8; KEYNUM_SK_LEN]>> {
    let (log_n, r, p) = pick_params(opslimit, memlimit);
    let memory = (128u64 * u64::from(r)) << log_n;
    if memory > MAX_SCRYPT_MEMORY || p > 16 {
        bail!(
            "its scrypt parameters (N = 2^{log_n}, r = {r}, p = {p}) ask for more than {} GiB or 16 passes, more than minisign itself uses (hint: re-encrypt it with `minisign -C`)",
            MAX_SCRYPT_MEMORY >> 30
        );
    }
    let params = scrypt::Params::new(log_n, r, p)
        .map_err(|_| anyhow::anyhow!("its scrypt parameters are invalid"))?;
    let mut out = Zeroizing::new([0u8; KEYNUM_SK_LEN]);
    scrypt::scrypt(password, salt, &params, &mut out[..])
        .map_err(|_| anyhow::anyhow!("scrypt failed"))?;
    Ok(out)
}

/// libsodium's `pickparams`: scrypt's log2(N), r and p for an opslimit and memlimit.
fn pick_params(opslimit: u64, memlimit: u64) -> (u8, u32, u32) {
    let opslimit = opslimit.max(32_768);
    let r: u32 = 8;
    let first_log_n = |max_n: u64| (1u8..63).find(|&n| (1u64 << n) > max_n / 2).unwrap_or(63);
    if opslimit < memlimit / 32 {
        let log_n = first_log_n(opslimit / (u64::from(r) * 4));
        (log_n, r, 1)
    } else {
        let log_n = first_log_n(memlimit / (u64::from(r) * 128));
        let max_rp = ((opslimit / 4) >> log_n).min(0x3fff_ffff);
        let p = u32::try_from(max_rp).expect("at most 0x3fffffff") / r;
        (log_n, r, p)
    }
}

// --- The release's signatures ----------------------------------------------------

/// The largest key or signature file read.
const MAX_KEY_BYTES: u64 = crate::limits::MAX_KEY_BYTES;

/// The files of an out dir that are signed: `SHA256SUMS`, which lists every file of
/// the release with its hash ([`Manifest::release_files`]: binaries, archives and
/// their `.sha256`, SBOMs, the provenance, `image.tar`, `oci/index.json` and the image
/// blobs, which name every other blob by digest), so its one signature covers them all;
/// and the provenance, when the manifest lists one, for those who fetch it alone.
pub fn signed_files(m: &Manifest) -> Vec<RelPath> {
    let mut files = vec![RelPath::new(layout::SUMS).expect("a plain name")];
    files.extend(
        m.artifacts
            .iter()
            .filter(|a| a.kind == Kind::Provenance)
            .map(|a| a.path.clone()),
    );
    files
}

/// Every signature a signed release has, as (signed file, signature file): each file
/// of [`signed_files`] with its `<file>.minisig`, and each archive with its own
/// `<archive>.sig`, which cargo-binstall fetches beside it (`{ url }.sig`).
pub fn signatures(m: &Manifest) -> Vec<(RelPath, RelPath)> {
    let mut pairs: Vec<(RelPath, RelPath)> = signed_files(m)
        .into_iter()
        .map(|f| {
            let sig = layout::signature(&f);
            (f, sig)
        })
        .collect();
    pairs.extend(
        m.artifacts
            .iter()
            .filter(|a| a.kind == Kind::Archive)
            .map(|a| (a.path.clone(), layout::archive_signature(&a.path))),
    );
    pairs
}

/// The trusted comment of a file's signature: its name (so a signature cannot pass
/// for another file's), and `hashed` as minisign writes for prehashed signatures.
pub fn trusted_comment(file: &RelPath) -> String {
    format!("file:{}\thashed", file.file_name())
}

/// Reads a minisign public key file (`minisign.pub`).
pub fn read_public_key(path: &Utf8Path) -> Result<PublicKey> {
    let text = read_small(path, "public key")?;
    PublicKey::parse(&text)
        .with_context(|| format!("cannot use `{path}` as a minisign public key (hint: pass the `.pub` file `minisign -G` wrote)"))
}

/// A key or password file: a regular file (never through a link), at most
/// [`MAX_KEY_BYTES`].
pub fn read_small(path: &Utf8Path, what: &str) -> Result<Zeroizing<String>> {
    let file = crate::fs::open_regular(path)
        .with_context(|| format!("cannot read the {what} `{path}`"))?;
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_KEY_BYTES + 1), &mut text)
        .with_context(|| format!("cannot read the {what} `{path}` as text"))?;
    if text.len() as u64 > MAX_KEY_BYTES {
        bail!(
            "the {what} `{path}` is larger than {MAX_KEY_BYTES} bytes, the limit for a key file; refusing to read it"
        );
    }
    Ok(text)
}

/// `verify --public-key`: each signed file of `m` has its signature ([`signatures`])
/// that `key` verifies and whose trusted comment names it. One line per problem.
pub fn check(out: &OutDir, m: &Manifest, key: &PublicKey) -> Vec<String> {
    let mut problems = Vec::new();
    for (file, sig) in signatures(m) {
        let result = (|| -> Result<()> {
            if out.kind(&sig)?.is_none() {
                bail!("missing (hint: sign the out dir with `cargo multiarch sign --key KEY`)");
            }
            let text = out.read(&sig, MAX_KEY_BYTES)?;
            let text = std::str::from_utf8(&text).context("it is not text")?;
            let comment = key.verify_reader(out.open(&file)?, text)?;
            if !comment
                .split('\t')
                .any(|f| f == format!("file:{}", file.file_name()))
            {
                bail!(
                    "its trusted comment `{}` does not name `{}`",
                    crate::limits::shown(&comment),
                    file.file_name()
                );
            }
            Ok(())
        })();
        if let Err(e) = result {
            problems.push(format!("{sig}: {e:#}"));
        }
    }
    problems
}

/// The signature files present in `out` for `m`, for a note when no key is given.
pub fn present(out: &OutDir, m: &Manifest) -> Vec<RelPath> {
    signatures(m)
        .into_iter()
        .map(|(_, sig)| sig)
        .filter(|s| matches!(out.kind(s), Ok(Some(_))))
        .collect()
}

#[cfg(test)]
mod tests;
