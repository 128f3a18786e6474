//! Reading a `.tar.gz` back, as untrusted input, within [`crate::limits`]: every byte
//! the gzip stream gives passes through [`Walk`], which follows the 512-byte tar
//! headers itself before the `tar` crate sees them. The `tar` crate reads a GNU long
//! name (`././@LongLink`) whole into memory, however large its header says it is, so
//! the walk refuses one over [`MAX_LONG_NAME`] bytes first; it also refuses PAX and
//! GNU sparse headers (which would change where the next header is, and which no
//! archive this tool writes holds), more than [`MAX_ENTRIES`] entries or
//! [`MAX_NAMES_BYTES`] of names, and more decompressed bytes than the archive's
//! [`Budget`].

use std::io::{self, Read};

use anyhow::{Result, bail};

use super::Listed;
use crate::limits::{self, Budget, MAX_ENTRIES, MAX_LONG_NAME, MAX_NAMES_BYTES};

/// tar's block size: every header is one block, every entry's data a whole number.
const BLOCK: usize = 512;

/// Every entry of the `.tar.gz` `file` of `file_size` bytes, files hashed: names
/// without a directory's trailing `/`, in the archive's order. Only regular files
/// and directories are accepted.
pub fn list_tar_gz<R: Read>(file: R, file_size: u64) -> Result<Vec<Listed>> {
    let walk = Walk::new(flate2::read::GzDecoder::new(file), file_size);
    let mut tar = tar::Archive::new(walk);
    let mut out = Vec::new();
    let mut names = 0u64;
    for entry in tar.entries()? {
        let mut entry = entry?;
        limits::check_count("entries", out.len() as u64 + 1, MAX_ENTRIES)?;
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode()? & 0o7777;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        names += name.len() as u64;
        if names > MAX_NAMES_BYTES {
            bail!(
                "its entry names take more than {MAX_NAMES_BYTES} bytes, the limit for one archive"
            );
        }
        let (dir, sha256, size) = if kind.is_dir() {
            (true, None, 0)
        } else if kind.is_file() {
            let (sha, size) = crate::digest::sha256_reader(&mut entry)?;
            (false, Some(sha), size)
        } else {
            bail!(
                "`{}` is a {kind:?} entry; archives hold regular files and directories only",
                limits::shown(&name)
            );
        };
        out.push(Listed {
            name: name.trim_end_matches('/').to_owned(),
            dir,
            mode,
            sha256,
            size,
        });
    }
    Ok(out)
}

/// A tar stream passed through unchanged, its headers checked on the way (see the
/// module doc). The `tar` crate reads a stream that cannot seek in order, skipping
/// data by reading it, so every header goes through [`Walk::check`] before it.
pub struct Walk<R> {
    inner: R,
    /// The header being passed on: `filled` bytes of it read, `served` given out.
    header: [u8; BLOCK],
    filled: usize,
    served: usize,
    /// Bytes of the current entry's data, padded to whole blocks, still to pass on.
    data_left: u64,
    budget: Budget,
}

impl<R: Read> Walk<R> {
    /// A walk of `inner`, the tar stream of an archive of `file_size` bytes.
    pub fn new(inner: R, file_size: u64) -> Self {
        Self {
            inner,
            header: [0; BLOCK],
            filled: 0,
            served: 0,
            data_left: 0,
            budget: Budget::for_archive(file_size),
        }
    }

    /// Reads the next header block whole (or what is left before the end).
    fn next_header(&mut self) -> io::Result<()> {
        self.filled = 0;
        self.served = 0;
        while self.filled < BLOCK {
            match self.inner.read(&mut self.header[self.filled..]) {
                Ok(0) => break,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.charge(self.filled)?;
        if self.filled == BLOCK {
            self.data_left = check(&self.header).map_err(io::Error::other)?;
        }
        Ok(())
    }

    fn charge(&mut self, n: usize) -> io::Result<()> {
        self.budget.charge(n as u64).map_err(io::Error::other)
    }
}

/// The bytes of data (padded to whole blocks) that follow the header `block`, once
/// it passes the walk's checks.
fn check(block: &[u8; BLOCK]) -> Result<u64> {
    if block.iter().all(|&b| b == 0) {
        return Ok(0);
    }
    let header = tar::Header::from_byte_slice(block);
    let size = header
        .entry_size()
        .map_err(|e| anyhow::anyhow!("a tar header has an unreadable size: {e}"))?;
    let kind = header.entry_type();
    if kind.is_gnu_longname() || kind.is_gnu_longlink() {
        if size > MAX_LONG_NAME {
            bail!(
                "a GNU long name of {size} bytes, more than the limit of {MAX_LONG_NAME}; refusing to read it"
            );
        }
    } else if kind.is_pax_local_extensions() || kind.is_pax_global_extensions() {
        bail!("a PAX header; archives written by cargo-multiarch have none");
    } else if kind.is_gnu_sparse() {
        bail!("a GNU sparse entry; archives written by cargo-multiarch have none");
    }
    size.checked_next_multiple_of(BLOCK as u64)
        .ok_or_else(|| anyhow::anyhow!("a tar header has a size of {size} bytes"))
}

impl<R: Read> Read for Walk<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.served == self.filled {
            if self.data_left > 0 {
                let want = usize::try_from(self.data_left).unwrap_or(usize::MAX);
                let len = want.min(buf.len());
                let n = self.inner.read(&mut buf[..len])?;
                self.data_left -= n as u64;
                self.charge(n)?;
                return Ok(n);
            }
            self.next_header()?;
        }
        let n = (self.filled - self.served).min(buf.len());
        buf[..n].copy_from_slice(&self.header[self.served..self.served + n]);
        self.served += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar.gz of `blocks`, gzipped.
    fn gz(tar: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        std::io::Write::write_all(&mut e, tar).unwrap();
        e.finish().unwrap()
    }

    fn header(kind: tar::EntryType, name: &str, size: u64) -> Vec<u8> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    fn padded(data: &[u8]) -> Vec<u8> {
        let mut v = data.to_vec();
        v.resize(data.len().next_multiple_of(BLOCK), 0);
        v
    }

    fn list(tar: &[u8]) -> Result<Vec<Listed>> {
        let bytes = gz(tar);
        list_tar_gz(bytes.as_slice(), bytes.len() as u64)
    }

    #[test]
    fn lists_what_write_tar_gz_wrote() {
        let long = format!("a/{}", "n".repeat(300));
        let entries = [super::super::Entry {
            path: long.clone(),
            source: super::super::Source::Bytes(b"hi".to_vec()),
            mode: 0o755,
        }];
        let opts = super::super::Options { mtime: 0, level: 6 };
        let mut bytes = Vec::new();
        super::super::write_tar_gz(&entries, &opts, &mut bytes).unwrap();
        let listed = list_tar_gz(bytes.as_slice(), bytes.len() as u64).unwrap();
        let names: Vec<(&str, bool, u32)> = listed
            .iter()
            .map(|l| (l.name.as_str(), l.dir, l.mode))
            .collect();
        assert_eq!(names, [("a", true, 0o755), (long.as_str(), false, 0o755)]);
        assert_eq!(listed[1].sha256, Some(crate::digest::Sha256::of(b"hi")));
        assert_eq!(listed[1].size, 2);
    }

    #[test]
    fn a_long_name_over_the_limit_is_refused_before_it_is_read() {
        let name = vec![b'x'; 1 << 20];
        let mut tar = header(
            tar::EntryType::GNULongName,
            "././@LongLink",
            name.len() as u64,
        );
        tar.extend(padded(&name));
        tar.extend(header(tar::EntryType::Regular, "f", 0));
        tar.extend([0; 2 * BLOCK]);
        let err = format!("{:#}", list(&tar).unwrap_err());
        assert!(
            err.contains("a GNU long name of 1048576 bytes, more than the limit of 4096"),
            "{err}"
        );
        // At the limit it is read, and the entry has that name.
        let name = "y".repeat(4096);
        let mut tar = header(tar::EntryType::GNULongName, "././@LongLink", 4096);
        tar.extend(padded(name.as_bytes()));
        tar.extend(header(tar::EntryType::Regular, "f", 0));
        tar.extend([0; 2 * BLOCK]);
        assert_eq!(list(&tar).unwrap()[0].name, name);
    }

    #[test]
    fn names_are_bounded_in_total() {
        // 4200 entries with 4000-byte long names: 16.8 MB of names, over the limit.
        let mut tar = Vec::new();
        for i in 0..4200 {
            let name = format!("{i:04}{}", "n".repeat(3996));
            tar.extend(header(tar::EntryType::GNULongName, "././@LongLink", 4000));
            tar.extend(padded(name.as_bytes()));
            tar.extend(header(tar::EntryType::Directory, "d", 0));
        }
        tar.extend([0; 2 * BLOCK]);
        let err = format!("{:#}", list(&tar).unwrap_err());
        assert!(
            err.contains(
                "its entry names take more than 16777216 bytes, the limit for one archive"
            ),
            "{err}"
        );
    }

    #[test]
    fn pax_sparse_and_links_are_refused_naming_what() {
        for (kind, what) in [
            (tar::EntryType::XHeader, "a PAX header"),
            (tar::EntryType::XGlobalHeader, "a PAX header"),
            (tar::EntryType::GNUSparse, "a GNU sparse entry"),
        ] {
            let mut tar = header(kind, "p", 0);
            tar.extend([0; 2 * BLOCK]);
            let err = format!("{:#}", list(&tar).unwrap_err());
            assert!(err.contains(what), "{err}");
        }
        let mut tar = header(tar::EntryType::Symlink, "l", 0);
        tar.extend([0; 2 * BLOCK]);
        let err = format!("{:#}", list(&tar).unwrap_err());
        assert!(err.contains("`l` is a Symlink entry"), "{err}");
    }

    #[test]
    fn bytes_read_are_bounded_by_the_archive_size() {
        // A 2 MiB entry in what claims to be a 1-byte archive: more than 1032 + 1 MiB.
        let size = 2 << 20;
        let mut tar = header(tar::EntryType::Regular, "zeros", size);
        tar.resize(tar.len() + usize::try_from(size).unwrap(), 0);
        tar.extend([0; 2 * BLOCK]);
        let mut walk = Walk::new(tar.as_slice(), 1);
        let err = io::copy(&mut walk, &mut io::sink())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("more than 1049608 bytes, the limit for its size"),
            "{err}"
        );
        // The same stream from a 2 KiB archive fits.
        let mut walk = Walk::new(tar.as_slice(), 2048);
        assert_eq!(
            io::copy(&mut walk, &mut io::sink()).unwrap(),
            tar.len() as u64
        );
    }
}
