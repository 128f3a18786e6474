//! `cargo multiarch sign`: minisign signatures of an out dir's `SHA256SUMS` and
//! `provenance.intoto.json`, as `<file>.minisig` beside each, which Debian's
//! `minisign -V` verifies; and their check by `verify --public-key`.
//!
//! Signing decides first: the out dir must pass `verify` (hashes, archives, the
//! provenance's subjects), so only a set that checks out is ever signed. Signatures
//! are deterministic (Ed25519, trusted comment without a time), so signing the same
//! files with the same key twice gives the same bytes.

mod minisign;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;
use zeroize::Zeroizing;

pub use minisign::{PublicKey, SecretKey};

use crate::cli::SignArgs;
use crate::manifest::{self, Kind, Manifest};
use crate::outdir::{LockMode, OutDir, RelPath};
use crate::shell::Shell;

/// What signature files end with.
pub const SUFFIX: &str = ".minisig";
/// Where a key's password may come from when `--password-file` is not given.
pub const PASSWORD_ENV: &str = "CARGO_MULTIARCH_SIGN_PASSWORD";
/// The largest key or signature file read.
const MAX_KEY_BYTES: u64 = 64 << 10;

/// `<file>.minisig`, beside `file`.
pub fn signature_rel(file: &RelPath) -> RelPath {
    let name = format!("{}{SUFFIX}", file.file_name());
    match file.parent() {
        Some(dir) => dir.join(&name),
        None => RelPath::new(&name),
    }
    .expect("a plain name with a suffix")
}

/// The files of an out dir that are signed: `SHA256SUMS` (which lists every binary,
/// archive and the provenance) and the provenance, when the manifest lists one.
pub fn signed_files(m: &Manifest) -> Vec<RelPath> {
    let mut files = vec![RelPath::new(manifest::SUMS).expect("a plain name")];
    files.extend(
        m.artifacts
            .iter()
            .filter(|a| a.kind == Kind::Provenance)
            .map(|a| a.path.clone()),
    );
    files
}

/// The trusted comment of a file's signature: its name (so a signature cannot pass
/// for another file's), and `hashed` as minisign writes for prehashed signatures.
fn trusted_comment(file: &RelPath) -> String {
    format!("file:{}\thashed", file.file_name())
}

/// `cargo multiarch sign`: signs what the out dir's manifest lists, after `verify`.
pub fn run(args: &SignArgs, shell: &Shell) -> Result<ExitCode> {
    let out_dir = match &args.out_dir {
        Some(d) => d.clone(),
        None => crate::workspace::default_out_dir(args.manifest_path.as_deref())?,
    };
    if !out_dir.exists() {
        bail!(
            "`{out_dir}` does not exist: there is nothing to sign (hint: run `cargo multiarch package` first, or pass `--out-dir` naming where it wrote)"
        );
    }
    let key = read_secret_key(&args.key, args.password_file.as_deref())?;
    let out = OutDir::existing(&out_dir)?;
    let _lock = out.lock(
        LockMode::Exclusive {
            no_wait: args.lock.no_wait,
        },
        shell,
    )?;
    let (m, report) = crate::verify::verify_dir(&out, &crate::verify::Options::default())?;
    if !report.problems.is_empty() {
        bail!(
            "`{out_dir}` fails verification, so nothing was signed:\n  {}\n(hint: run `cargo multiarch verify --out-dir {out_dir}`, fix what it reports, then sign)",
            report.problems.join("\n  ")
        );
    }
    for file in signed_files(&m) {
        let bytes = out.read(&file, 64 << 20)?;
        let text = key.sign(&bytes, &trusted_comment(&file))?;
        let sig = signature_rel(&file);
        out.write(&sig, text.as_bytes())?;
        shell.status(
            "Signed",
            format!(
                "{} (key {}) -> {}",
                out.display(&file),
                key.public().id(),
                out.display(&sig)
            ),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a minisign secret key; its password (when it is encrypted) comes from
/// `password_file`, else `CARGO_MULTIARCH_SIGN_PASSWORD`, else a prompt on the terminal.
pub fn read_secret_key(path: &Utf8Path, password_file: Option<&Utf8Path>) -> Result<SecretKey> {
    let text = read_small(path, "secret key")?;
    let password = || -> Result<Zeroizing<String>> {
        if let Some(file) = password_file {
            let text = read_small(file, "password file")?;
            let line = text.lines().next().unwrap_or_default();
            return Ok(Zeroizing::new(line.to_owned()));
        }
        if let Ok(p) = std::env::var(PASSWORD_ENV) {
            return Ok(Zeroizing::new(p));
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "`{path}` is encrypted and no password was given (hint: pass `--password-file FILE` or set `{PASSWORD_ENV}`; or make an unencrypted key with `minisign -G -W`)"
            );
        }
        prompt(&format!("Password for `{path}`: "))
    };
    SecretKey::parse(&text, password)
        .with_context(|| format!("cannot use `{path}` as a minisign secret key"))
}

/// Reads a minisign public key file (`minisign.pub`).
pub fn read_public_key(path: &Utf8Path) -> Result<PublicKey> {
    let text = read_small(path, "public key")?;
    PublicKey::parse(&text)
        .with_context(|| format!("cannot use `{path}` as a minisign public key (hint: pass the `.pub` file `minisign -G` wrote)"))
}

fn read_small(path: &Utf8Path, what: &str) -> Result<Zeroizing<String>> {
    let file = crate::outdir::open_regular(path)
        .with_context(|| format!("cannot read the {what} `{path}`"))?;
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_KEY_BYTES), &mut text)
        .with_context(|| format!("cannot read the {what} `{path}` as text"))?;
    Ok(text)
}

/// Reads a line from the terminal without echoing it.
fn prompt(question: &str) -> Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    eprint!("{question}");
    let old = rustix::termios::tcgetattr(&stdin).context("cannot read the terminal's settings")?;
    let mut quiet = old.clone();
    quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
    rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet)
        .context("cannot turn the terminal's echo off")?;
    let mut line = Zeroizing::new(String::new());
    let read = stdin.read_line(&mut line);
    let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &old);
    eprintln!();
    read.context("cannot read the password")?;
    let trimmed = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(trimmed);
    Ok(line)
}

/// `verify --public-key`: each signed file of `m` has a `.minisig` that `key` verifies
/// and whose trusted comment names it. One line per problem.
pub fn check(out: &OutDir, m: &Manifest, key: &PublicKey) -> Vec<String> {
    let mut problems = Vec::new();
    for file in signed_files(m) {
        let sig = signature_rel(&file);
        let result = (|| -> Result<()> {
            if out.kind(&sig)?.is_none() {
                bail!("missing (hint: sign the out dir with `cargo multiarch sign --key KEY`)");
            }
            let text = out.read(&sig, MAX_KEY_BYTES)?;
            let text = std::str::from_utf8(&text).context("it is not text")?;
            let bytes = out.read(&file, 64 << 20)?;
            let comment = key.verify(&bytes, text)?;
            if !comment
                .split('\t')
                .any(|f| f == format!("file:{}", file.file_name()))
            {
                bail!(
                    "its trusted comment `{}` does not name `{}`",
                    comment.escape_debug(),
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
    signed_files(m)
        .iter()
        .map(signature_rel)
        .filter(|s| matches!(out.kind(s), Ok(Some(_))))
        .collect()
}
