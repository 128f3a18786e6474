//! `cargo multiarch sign`: minisign signatures of an out dir's `SHA256SUMS` and
//! `provenance.intoto.json`, as `<file>.minisig` beside each, and of each archive, as
//! `<archive>.sig` beside it (where cargo-binstall looks), which Debian's
//! `minisign -V` verifies (the format and what is signed: [`crate::minisign`]).
//! `SHA256SUMS` lists every file of the release, the OCI layout's `index.json` and
//! image blobs included, so its signature covers the whole release.
//!
//! Signing decides first: the out dir must pass `verify` (hashes, archives, the
//! provenance's subjects, an `oci/` holding nothing the manifest does not list), so
//! only a set that checks out is ever signed. Signatures are deterministic (Ed25519,
//! trusted comment without a time), so signing the same
//! files with the same key twice gives the same bytes.

use std::io::IsTerminal as _;

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;
use zeroize::Zeroizing;

use crate::minisign::{SecretKey, read_small, signatures, trusted_comment};

use crate::outdir::{LockMode, OutDir};
use crate::output::{Exit, Failed, Shell};

/// Where a key's password may come from when `--password-file` is not given.
pub(crate) const PASSWORD_ENV: &str = "CARGO_MULTIARCH_SIGN_PASSWORD";

/// Signs every file a release's signatures cover ([`signatures`]) in `out_dir`, with
/// `key`, after the out dir passes `verify` (under its exclusive lock).
pub(crate) fn sign(
    out_dir: &Utf8Path,
    key: &SecretKey,
    no_wait: bool,
    shell: &Shell,
) -> Result<()> {
    let out = OutDir::existing(out_dir)?;
    let _lock = crate::record::lock(&out, LockMode::Exclusive { no_wait }, shell)?;
    let (m, report) = crate::verify::verify_dir(&out, &crate::verify::Options::default())?;
    if !report.problems.is_empty() {
        return Err(Failed {
            exit: Exit::VerifyFailed,
            message: format!("`{out_dir}` fails verification, so nothing was signed:\n  {}\n(hint: run `cargo multiarch verify --out-dir {out_dir}`, fix what it reports, then sign)",
            report.problems.join("\n  ")),
        }
        .into());
    }
    for (file, sig) in signatures(&m) {
        let text = key.sign_reader(out.open(&file)?, &trusted_comment(&file))?;
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
    Ok(())
}

/// Reads a minisign secret key; its password (when it is encrypted) comes from
/// `password_file`, else `CARGO_MULTIARCH_SIGN_PASSWORD`, else a prompt on the terminal.
pub(crate) fn read_secret_key(
    path: &Utf8Path,
    password_file: Option<&Utf8Path>,
) -> Result<SecretKey> {
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
