//! Reproducible `.tar.gz` archives (and `.zip` ones for Windows: [`zip`]), hashed
//! while they are written.
//!
//! The layout depends only on the entries given, never on the machine or the time:
//! entries sorted by path, a directory entry for every parent, uid/gid 0, no user or
//! group names, one mtime for everything, GNU long names past 100 bytes, and a gzip
//! header with no timestamp and no file name. The sha256 and size of both the
//! compressed file and the uncompressed tar (the OCI `diff_id`) are computed in the
//! same pass by counting/hashing writers, so the output is never read back.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

use anyhow::{Context as _, Result, bail, ensure};
use camino::{Utf8Path, Utf8PathBuf};
use flate2::{Compression, GzBuilder};

use crate::digest::{HashWriter, Sha256 as Sha256Hex};

pub mod read;
pub mod zip;

pub use read::list_tar_gz;

/// One entry of an archive read back ([`list_tar_gz`], [`zip::list`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// As stored, without a directory's trailing `/`.
    pub name: String,
    pub dir: bool,
    /// Unix permission bits.
    pub mode: u32,
    pub sha256: Option<Sha256Hex>,
    pub size: u64,
}

/// Buffer size for reading inputs and writing outputs.
const BUF_SIZE: usize = 1 << 20;
/// Mode of the directory entries the archive adds for parent directories.
const DIR_MODE: u32 = 0o755;
/// gzip header OS byte: always "Unix", whatever the host, as `gzip -n` writes it on Linux.
const GZIP_OS_UNIX: u8 = 3;

/// Where an entry's contents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A regular file (symlinks are followed), streamed while the archive is written.
    File(Utf8PathBuf),
    /// Contents held in memory.
    Bytes(Vec<u8>),
}

/// One regular file in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative, `/`-separated path inside the archive, e.g. `app-1.0-x86_64-unknown-linux-musl/app`.
    pub path: String,
    pub source: Source,
    /// Permission bits (`0o755` for binaries, `0o644` for docs); file-type bits are ignored.
    pub mode: u32,
}

/// How to write an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Modification time of every entry, in seconds since the Unix epoch.
    pub mtime: u64,
    /// gzip level, 0 (store) to 9 (best).
    pub level: u32,
}

/// What was written: hex sha256 and size of the `.tar.gz`, and of the uncompressed tar
/// (the OCI layer `diff_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub sha256: Sha256Hex,
    pub size: u64,
    pub tar_sha256: Sha256Hex,
    pub tar_size: u64,
}

/// Writes a reproducible `.tar.gz` of `entries` to `out`, hashing it on the way.
pub fn write_tar_gz<W: Write>(entries: &[Entry], opts: &Options, out: W) -> Result<Written> {
    ensure!(
        opts.level <= 9,
        "gzip level {} is out of range (0-9)",
        opts.level
    );
    let layout = layout(entries)?;

    let gz_out = HashWriter::new(BufWriter::with_capacity(BUF_SIZE, out));
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(GZIP_OS_UNIX)
        .write(gz_out, Compression::new(opts.level));
    let mut tar = tar::Builder::new(HashWriter::new(gz));

    for (path, item) in &layout {
        match item {
            Item::Dir => {
                let mut header = header(tar::EntryType::Directory, DIR_MODE, 0, opts.mtime);
                tar.append_data(&mut header, format!("{path}/"), io::empty())
                    .with_context(|| format!("could not write the directory entry `{path}/`"))?;
            }
            Item::File(entry) => append_file(&mut tar, path, entry, opts.mtime)?,
        }
    }

    let (gz, tar_sha256, tar_size) = tar
        .into_inner()
        .context("could not finish the tar stream")?
        .into_parts();
    let gz_out = gz.finish().context("could not finish the gzip stream")?;
    let (mut buffered, sha256, size) = gz_out.into_parts();
    buffered.flush().context("could not write the archive")?;
    Ok(Written {
        sha256,
        size,
        tar_sha256,
        tar_size,
    })
}

/// Writes a reproducible `.tar.gz` to a path the caller trusts, atomically (a unique
/// temporary name in the same directory, synced and renamed over `dest`). Out-dir
/// files go through [`crate::outdir::OutDir::write_with`] instead.
pub fn write_tar_gz_file(entries: &[Entry], opts: &Options, dest: &Utf8Path) -> Result<Written> {
    crate::fs::write_atomic_at(dest, |file| write_tar_gz(entries, opts, file))
        .with_context(|| format!("could not write `{dest}`"))
}

/// Writes bytes atomically to a path the caller trusts (see [`write_tar_gz_file`]).
pub fn write_atomic(dest: &Utf8Path, bytes: &[u8]) -> Result<()> {
    crate::fs::write_atomic_at(dest, |file| {
        file.write_all(bytes)
            .with_context(|| format!("could not write `{dest}`"))
    })
}

/// What a path in the archive holds.
pub(crate) enum Item<'a> {
    Dir,
    File(&'a Entry),
}

/// Checks the entries and returns every path of the archive, parents included, in the
/// order they are written: byte order, which puts each directory before its children.
pub(crate) fn layout(entries: &[Entry]) -> Result<BTreeMap<&str, Item<'_>>> {
    let mut items = BTreeMap::new();
    for entry in entries {
        check_path(&entry.path)?;
        if items
            .insert(entry.path.as_str(), Item::File(entry))
            .is_some()
        {
            bail!("duplicate archive entry `{}`", entry.path);
        }
    }
    for entry in entries {
        let parents = entry.path.match_indices('/').map(|(i, _)| &entry.path[..i]);
        for parent in parents {
            match items.get(parent) {
                Some(Item::File(_)) => {
                    bail!(
                        "archive entry `{parent}` is a file but also the parent directory of `{}`",
                        entry.path
                    )
                }
                Some(Item::Dir) => {}
                None => {
                    items.insert(parent, Item::Dir);
                }
            }
        }
    }
    Ok(items)
}

/// Accepts only normalized relative paths: no leading `/`, no empty, `.` or `..` components.
fn check_path(path: &str) -> Result<()> {
    ensure!(!path.is_empty(), "an archive entry has an empty path");
    ensure!(
        !path.starts_with('/'),
        "archive entry path `{path}` is absolute; it must be relative"
    );
    ensure!(
        !path.contains('\0'),
        "archive entry path `{path}` contains a NUL byte"
    );
    for component in path.split('/') {
        match component {
            ".." => bail!("archive entry path `{path}` contains a `..` component"),
            "" | "." => bail!("archive entry path `{path}` has an empty or `.` component"),
            _ => {}
        }
    }
    Ok(())
}

/// A GNU header with everything that could vary between machines fixed.
fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode & 0o7777);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    // User and group names stay empty (all zero bytes), as `new_gnu` leaves them.
    header
}

fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    entry: &Entry,
    mtime: u64,
) -> Result<()> {
    match &entry.source {
        Source::Bytes(bytes) => {
            let mut header = header(
                tar::EntryType::Regular,
                entry.mode,
                bytes.len() as u64,
                mtime,
            );
            tar.append_data(&mut header, path, bytes.as_slice())
                .with_context(|| format!("could not write the archive entry `{path}`"))
        }
        Source::File(src) => {
            let file = File::open(src).with_context(|| format!("could not open `{src}`"))?;
            let meta = file
                .metadata()
                .with_context(|| format!("could not read the metadata of `{src}`"))?;
            ensure!(
                meta.is_file(),
                "`{src}` is not a regular file; archives hold regular files only"
            );
            let size = meta.len();
            let mut header = header(tar::EntryType::Regular, entry.mode, size, mtime);
            let data = ExactReader {
                inner: file.take(size),
                remaining: size,
            };
            tar.append_data(&mut header, path, data)
                .with_context(|| format!("could not archive `{src}` as `{path}`"))
        }
    }
}

/// Reads exactly `remaining` bytes, failing if the file shrinks while it is archived
/// (the size in the tar header has already been written by then).
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being archived",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::digest::sha256_file;
    use std::process::Command;

    use tar::EntryType::{Directory, Regular};

    use super::*;

    const MTIME: u64 = 1_700_000_000;
    const OPTS: Options = Options {
        mtime: MTIME,
        level: 6,
    };

    fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        (dir, path)
    }

    fn bytes(path: &str, data: &[u8], mode: u32) -> Entry {
        let source = Source::Bytes(data.to_vec());
        Entry {
            path: path.to_owned(),
            source,
            mode,
        }
    }

    /// Package-like entries, deliberately unsorted, one of them read from a file in `dir`.
    fn sample(dir: &Utf8Path) -> Vec<Entry> {
        let license = dir.join("LICENSE");
        fs::write(&license, "MIT\n").unwrap();
        let source = Source::File(license);
        vec![
            bytes("app-1.0/bin/app", b"\x7fELF not really", 0o755),
            bytes("app-1.0/README.md", b"# app\n", 0o644),
            Entry {
                path: "app-1.0/LICENSE".to_owned(),
                source,
                mode: 0o644,
            },
        ]
    }

    /// Runs a shell line in UTC and the C locale; returns its stdout.
    fn sh(script: &str) -> String {
        let mut cmd = Command::new("sh");
        let out = cmd
            .args(["-c", script])
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "`{script}` failed: {err}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn first_word(s: &str) -> &str {
        s.split_whitespace().next().unwrap()
    }

    fn to_vec(entries: &[Entry], opts: &Options) -> (Vec<u8>, Written) {
        let mut out = Vec::new();
        let written = write_tar_gz(entries, opts, &mut out).unwrap();
        (out, written)
    }

    fn error(entries: &[Entry]) -> String {
        format!(
            "{:#}",
            write_tar_gz(entries, &OPTS, io::sink()).unwrap_err()
        )
    }

    #[test]
    fn gnu_tar_lists_sorted_entries_with_fixed_owners_modes_and_mtime() {
        let (_tmp, dir) = tempdir();
        let dest = dir.join("app.tar.gz");
        write_tar_gz_file(&sample(&dir), &OPTS, &dest).unwrap();
        let expected = [
            "drwxr-xr-x 0/0 0 2023-11-14 22:13:20 app-1.0/",
            "-rw-r--r-- 0/0 4 2023-11-14 22:13:20 app-1.0/LICENSE",
            "-rw-r--r-- 0/0 6 2023-11-14 22:13:20 app-1.0/README.md",
            "drwxr-xr-x 0/0 0 2023-11-14 22:13:20 app-1.0/bin/",
            "-rwxr-xr-x 0/0 15 2023-11-14 22:13:20 app-1.0/bin/app",
        ];
        // Without `--numeric-owner` too: GNU tar shows numbers when the names are empty.
        for flags in ["--numeric-owner -tvzf", "-tvzf"] {
            let listing = sh(&format!("tar --full-time {flags} '{dest}'"));
            let rows: Vec<String> = listing
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            assert_eq!(rows, expected, "{listing}");
        }
        sh(&format!(
            "cd '{dir}' && mkdir x && tar -xzf '{dest}' -C x && cmp x/app-1.0/LICENSE LICENSE"
        ));
    }

    #[test]
    fn headers_have_no_names_and_one_mtime() {
        let (_tmp, dir) = tempdir();
        let (out, _) = to_vec(&sample(&dir), &OPTS);
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(out.as_slice()));
        let mut kinds = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            let ids = (h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap());
            assert_eq!(ids, (0, 0, MTIME));
            assert_eq!(h.username_bytes(), Some(&b""[..]));
            assert_eq!(h.groupname_bytes(), Some(&b""[..]));
            kinds.push((h.entry_type(), h.mode().unwrap()));
        }
        let (dir, doc, bin) = ((Directory, 0o755), (Regular, 0o644), (Regular, 0o755));
        assert_eq!(kinds, [dir, doc, doc, dir, bin]);
    }

    #[test]
    fn gzip_header_has_no_mtime_and_no_name() {
        let (_tmp, dir) = tempdir();
        let dest = dir.join("app.tar.gz");
        write_tar_gz_file(&sample(&dir), &OPTS, &dest).unwrap();
        let out = fs::read(&dest).unwrap();
        // Deflate, no flags (so no FNAME, FCOMMENT or FEXTRA), mtime 0, OS byte fixed.
        let fixed = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, out[8], GZIP_OS_UNIX];
        assert_eq!(out[..10], fixed);
        // With no stored name, `gzip -lvN` shows the file's own name minus `.gz`.
        let listing = sh(&format!("gzip -lvN '{dest}'"));
        let name = listing
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .last()
            .unwrap();
        assert_eq!(name, dest.as_str().trim_end_matches(".gz"), "{listing}");
    }

    #[test]
    fn hashes_and_sizes_match_sha256sum_and_gzip() {
        let (_tmp, dir) = tempdir();
        let dest = dir.join("app.tar.gz");
        let w = write_tar_gz_file(&sample(&dir), &OPTS, &dest).unwrap();
        assert_eq!(
            first_word(&sh(&format!("sha256sum '{dest}'"))),
            w.sha256.as_str()
        );
        assert_eq!(w.size, fs::metadata(&dest).unwrap().len());
        let tar = |cmd: &str| first_word(&sh(&format!("gzip -dc '{dest}' | {cmd}"))).to_owned();
        assert_eq!(tar("sha256sum"), w.tar_sha256.as_str());
        assert_eq!(tar("wc -c"), w.tar_size.to_string());
        assert_eq!(w.tar_size % 512, 0);
        assert_eq!(sha256_file(&dest).unwrap(), (w.sha256, w.size));
    }

    #[test]
    fn same_inputs_give_identical_bytes() {
        let (_tmp, dir) = tempdir();
        let (a, wa) = to_vec(&sample(&dir), &OPTS);
        let (b, wb) = to_vec(&sample(&dir), &OPTS);
        assert_eq!((&a, &wa), (&b, &wb));
        // The same contents from another directory, in another order, or from memory.
        let (_tmp2, other) = tempdir();
        let mut moved = sample(&other);
        moved.reverse();
        assert_eq!(to_vec(&moved, &OPTS).0, a);
        let mut in_memory = sample(&dir);
        in_memory[2].source = Source::Bytes(b"MIT\n".to_vec());
        assert_eq!(to_vec(&in_memory, &OPTS).0, a);
        let dest = dir.join("x.tar.gz");
        assert_eq!(write_tar_gz_file(&sample(&dir), &OPTS, &dest).unwrap(), wa);
        assert_eq!(fs::read(&dest).unwrap(), a);
        // Other options do change the output.
        assert_ne!(to_vec(&sample(&dir), &Options { mtime: 1, level: 6 }).0, a);
    }

    #[test]
    fn long_paths_use_gnu_long_names_deterministically() {
        let parent = format!("app-1.0/{}/", "d".repeat(90));
        let long = format!("{parent}{}", "f".repeat(120));
        let entries = [bytes(&long, b"x", 0o644)];
        let (a, _) = to_vec(&entries, &OPTS);
        assert_eq!(a, to_vec(&entries, &OPTS).0);
        let (_tmp, dir) = tempdir();
        let dest = dir.join("long.tar.gz");
        fs::write(&dest, &a).unwrap();
        let listing = sh(&format!("tar -tzf '{dest}'"));
        let paths: Vec<_> = listing.lines().collect();
        assert_eq!(paths, ["app-1.0/", &parent, &long]);
    }

    #[test]
    fn levels_zero_and_nine_work() {
        let entries = [bytes("a/b", &[7; 10_000], 0o644)];
        let (stored, _) = to_vec(&entries, &Options { mtime: 0, level: 0 });
        let (best, _) = to_vec(&entries, &Options { mtime: 0, level: 9 });
        let sizes = (stored.len(), best.len());
        assert!(sizes.0 > 10_000 && sizes.1 < 1_000, "{sizes:?}");
    }

    #[test]
    fn bad_paths_are_errors_naming_the_path() {
        let file = |path: &str| bytes(path, b"", 0o644);
        let dup = error(&[file("a/x"), file("a/y"), file("a/x")]);
        assert_eq!(dup, "duplicate archive entry `a/x`");
        let up = error(&[file("a/../b")]);
        assert_eq!(up, "archive entry path `a/../b` contains a `..` component");
        assert!(error(&[file("..")]).contains("`..`"));
        let abs = error(&[file("/etc/x")]);
        assert_eq!(
            abs,
            "archive entry path `/etc/x` is absolute; it must be relative"
        );
        for bad in ["a//b", "./a", "a/"] {
            let msg = format!("archive entry path `{bad}` has an empty or `.` component");
            assert_eq!(error(&[file(bad)]), msg);
        }
        assert_eq!(error(&[file("")]), "an archive entry has an empty path");
        let clash = error(&[file("a/b"), file("a")]);
        assert_eq!(
            clash,
            "archive entry `a` is a file but also the parent directory of `a/b`"
        );
        let level = write_tar_gz(
            &[],
            &Options {
                mtime: 0,
                level: 10,
            },
            io::sink(),
        )
        .unwrap_err();
        assert_eq!(level.to_string(), "gzip level 10 is out of range (0-9)");
    }

    #[test]
    fn bad_sources_are_errors_naming_the_file() {
        let (_tmp, dir) = tempdir();
        let from = |src: Utf8PathBuf| Entry {
            path: "a".into(),
            source: Source::File(src),
            mode: 0,
        };
        let missing = error(&[from(dir.join("nope"))]);
        assert!(missing.starts_with(&format!("could not open `{dir}/nope`: ")));
        let not_file = error(&[from(dir.clone())]);
        assert!(not_file.starts_with(&format!("`{dir}` is not a regular file")));
    }

    #[test]
    fn atomic_writes_replace_dest_and_leave_no_temp_files() {
        let (_tmp, dir) = tempdir();
        let dest = dir.join("app.tar.gz");
        fs::write(&dest, "old").unwrap();
        let err = write_tar_gz_file(&[bytes("/abs", b"", 0o644)], &OPTS, &dest).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.starts_with(&format!(
            "could not write `{dest}`: archive entry path `/abs`"
        )));
        assert_eq!(fs::read_to_string(&dest).unwrap(), "old");
        write_tar_gz_file(&sample(&dir), &OPTS, &dest).unwrap();
        let sums = dir.join("SHA256SUMS");
        write_atomic(&sums, b"sums\n").unwrap();
        write_atomic(&sums, b"new sums\n").unwrap();
        assert_eq!(fs::read_to_string(&sums).unwrap(), "new sums\n");
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["LICENSE", "SHA256SUMS", "app.tar.gz"]);
        let err = write_atomic(&dir.join("no/dir/file"), b"").unwrap_err();
        let pid = std::process::id();
        let expected = format!("cannot create `{dir}/no/dir/.file.multiarch-tmp-{pid}-");
        assert!(err.to_string().starts_with(&expected), "{err}");
    }

    #[test]
    fn sha256_file_matches_known_vectors() {
        let (_tmp, dir) = tempdir();
        fs::write(dir.join("abc"), "abc").unwrap();
        fs::write(dir.join("empty"), "").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            sha256_file(&dir.join("abc")).unwrap(),
            (Sha256Hex::parse(abc).unwrap(), 3)
        );
        assert_eq!(
            sha256_file(&dir.join("empty")).unwrap(),
            (Sha256Hex::parse(empty).unwrap(), 0)
        );
        // More than one buffer's worth.
        let big: Vec<u8> = (0..=u8::MAX).cycle().take(BUF_SIZE * 2 + 17).collect();
        fs::write(dir.join("big"), &big).unwrap();
        let expected = (Sha256Hex::of(&big), big.len() as u64);
        assert_eq!(sha256_file(&dir.join("big")).unwrap(), expected);
        let err = sha256_file(&dir.join("nope")).unwrap_err();
        assert_eq!(err.to_string(), format!("could not open `{dir}/nope`"));
    }
}
