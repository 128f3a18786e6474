//! Reproducible `.zip` archives (what Windows users and every peer ship Windows
//! binaries in), written by hand over flate2's raw deflate: the format is small, and
//! owning every byte is what makes it reproducible. Entries sorted by path with a
//! directory entry for every parent (as the tarballs), one DOS timestamp for all (from
//! the archive mtime, clamped to 1980–2107), Unix permissions in the external
//! attributes (so `unzip` restores `0755` on binaries), UTF-8 names, and no extra
//! fields, comments or data descriptors. No zip64: an entry or archive past 4 GiB is an
//! error.
//!
//! [`list`] reads one back for `verify`, as untrusted input: every offset and size is
//! checked against the file, each entry's local header must agree with its central
//! one, and its CRC-32 is checked while it is hashed.

use std::collections::BTreeMap;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use anyhow::{Context as _, Result, bail, ensure};
use flate2::Crc;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use super::{BUF_SIZE, DIR_MODE, Entry, HashWriter, Item, Options, Source, layout};
use crate::digest::Sha256 as Sha256Hex;
use crate::limits::{self, MAX_CENTRAL_DIRECTORY, shown};

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// Version 2.0 of the format (deflate, directories), as zip writes it: 10 × major + minor.
const NEEDED: u16 = 0x14;
/// "Version made by": Unix (3), 2.0, so the external attributes hold a Unix mode.
const MADE_BY: u16 = (3 << 8) | NEEDED;
/// General purpose flag 11: names are UTF-8.
const UTF8: u16 = 1 << 11;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
/// MS-DOS directory attribute, in the low byte of the external attributes.
const DOS_DIR: u32 = 0x10;

/// Writes a reproducible `.zip` of `entries` to `out`; its sha256 and size.
pub fn write_zip<W: Write>(entries: &[Entry], opts: &Options, out: W) -> Result<(Sha256Hex, u64)> {
    ensure!(
        opts.level <= 9,
        "deflate level {} is out of range (0-9)",
        opts.level
    );
    let items = layout(entries)?;
    let (clock, day) = dos_time(opts.mtime);
    let mut w = HashWriter::new(BufWriter::with_capacity(BUF_SIZE, out));
    let mut offset: u64 = 0;
    let mut central = Vec::new();
    for (path, item) in &items {
        let (name, mode, method, stored, crc, size) = match item {
            Item::Dir => (
                format!("{path}/"),
                S_IFDIR | DIR_MODE,
                STORED,
                Vec::new(),
                0,
                0,
            ),
            Item::File(e) => {
                let (stored, crc, size) = compress(e, opts.level)?;
                let method = if opts.level == 0 { STORED } else { DEFLATED };
                (
                    path.to_string(),
                    S_IFREG | (e.mode & 0o7777),
                    method,
                    stored,
                    crc,
                    size,
                )
            }
        };
        let name_len = u16::try_from(name.len())
            .with_context(|| format!("archive entry `{name}` has too long a name"))?;
        let csize = u32_of(stored.len() as u64, &name)?;
        let usize_ = u32_of(size, &name)?;
        let local_offset = u32_of(offset, &name)?;
        let mut local = Vec::with_capacity(30 + name.len());
        put32(&mut local, LOCAL);
        for v in [NEEDED, UTF8, method, clock, day] {
            put16(&mut local, v);
        }
        for v in [crc, csize, usize_] {
            put32(&mut local, v);
        }
        put16(&mut local, name_len);
        put16(&mut local, 0);
        local.extend_from_slice(name.as_bytes());
        w.write_all(&local)?;
        w.write_all(&stored)?;
        offset += (local.len() + stored.len()) as u64;

        put32(&mut central, CENTRAL);
        for v in [MADE_BY, NEEDED, UTF8, method, clock, day] {
            put16(&mut central, v);
        }
        for v in [crc, csize, usize_] {
            put32(&mut central, v);
        }
        for v in [name_len, 0, 0, 0, 0] {
            put16(&mut central, v);
        }
        let dos = if matches!(item, Item::Dir) {
            DOS_DIR
        } else {
            0
        };
        put32(&mut central, (mode << 16) | dos);
        put32(&mut central, local_offset);
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(items.len()).context("an archive of more than 65535 entries")?;
    let cd_offset = u32_of(offset, "the central directory")?;
    let cd_size = u32_of(central.len() as u64, "the central directory")?;
    w.write_all(&central)?;
    let mut end = Vec::with_capacity(22);
    put32(&mut end, END);
    for v in [0, 0, count, count] {
        put16(&mut end, v);
    }
    put32(&mut end, cd_size);
    put32(&mut end, cd_offset);
    put16(&mut end, 0);
    w.write_all(&end)?;
    let (mut inner, sha256, size) = w.into_parts();
    inner.flush().context("could not write the archive")?;
    Ok((sha256, size))
}

fn u32_of(v: u64, what: &str) -> Result<u32> {
    u32::try_from(v).with_context(|| {
        format!("`{what}` is past 4 GiB, which zip archives without zip64 cannot hold")
    })
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// An entry's data as stored (deflated unless `level` is 0), its CRC-32 and size.
fn compress(e: &Entry, level: u32) -> Result<(Vec<u8>, u32, u64)> {
    let mut src: Box<dyn Read> = match &e.source {
        Source::Bytes(b) => Box::new(b.as_slice()),
        Source::File(p) => {
            let f = std::fs::File::open(p).with_context(|| format!("could not open `{p}`"))?;
            ensure!(
                f.metadata().is_ok_and(|m| m.is_file()),
                "`{p}` is not a regular file; archives hold regular files only"
            );
            Box::new(BufReader::with_capacity(BUF_SIZE, f))
        }
    };
    let mut crc = Crc::new();
    let mut size = 0u64;
    let mut buf = vec![0; 1 << 16];
    let mut out: Box<dyn CompressSink> = if level == 0 {
        Box::new(Vec::new())
    } else {
        Box::new(DeflateEncoder::new(
            Vec::new(),
            flate2::Compression::new(level),
        ))
    };
    loop {
        let n = src
            .read(&mut buf)
            .with_context(|| format!("could not read the source of `{}`", e.path))?;
        if n == 0 {
            break;
        }
        crc.update(&buf[..n]);
        size += n as u64;
        out.write_all(&buf[..n])?;
    }
    Ok((out.finish()?, crc.sum(), size))
}

/// A writer that yields its bytes when done: a `Vec` (stored) or a deflate stream.
trait CompressSink: Write {
    fn finish(self: Box<Self>) -> io::Result<Vec<u8>>;
}

impl CompressSink for Vec<u8> {
    fn finish(self: Box<Self>) -> io::Result<Vec<u8>> {
        Ok(*self)
    }
}

impl CompressSink for DeflateEncoder<Vec<u8>> {
    fn finish(self: Box<Self>) -> io::Result<Vec<u8>> {
        DeflateEncoder::finish(*self)
    }
}

/// MS-DOS time and date of `secs` since the epoch, in UTC, clamped to what they hold
/// (1980-01-01 to 2107-12-31).
fn dos_time(secs: u64) -> (u16, u16) {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(i64::MAX / 2) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if year < 1980 {
        return (0, dos_date(1980, 1, 1));
    }
    if year > 2107 {
        return (dos_clock(23, 59, 58), dos_date(2107, 12, 31));
    }
    (
        dos_clock(rem / 3600, rem % 3600 / 60, rem % 60),
        dos_date(year, month, day),
    )
}

/// Hours, minutes and seconds (in 2-second steps) as a DOS time.
fn dos_clock(hours: u64, minutes: u64, seconds: u64) -> u16 {
    u16::try_from((hours << 11) | (minutes << 5) | (seconds / 2)).expect("a time of day")
}

/// A date from 1980 to 2107 as a DOS date.
fn dos_date(year: i64, month: i64, day: i64) -> u16 {
    u16::try_from(((year - 1980) << 9) | (month << 5) | day).expect("a date from 1980 to 2107")
}

pub use super::Listed;

/// Every entry of the zip archive `r`, hashed (see the module doc): no two entries'
/// headers and data overlap, none reaches into the central directory, and all of them
/// hold at most [`limits::expansion_budget`] bytes, checked before each is read.
pub fn list<R: Read + Seek>(mut file: R) -> Result<Vec<Listed>> {
    let (cd, count, cd_offset) = central_directory(&mut file)?;
    let len = file.seek(SeekFrom::End(0))?;
    let mut extent = Extent {
        cd_offset,
        spans: BTreeMap::new(),
        budget: limits::Budget::for_archive(len),
    };
    let mut out = Vec::new();
    let mut pos = 0usize;
    for _ in 0..count {
        let entry = CentralEntry::parse(&cd, pos)?;
        pos = entry.next;
        out.push(entry.read(&mut file, &mut extent)?);
    }
    Ok(out)
}

/// Where the entries read so far lie in the file, and what they may still hold.
struct Extent {
    /// Offset of the central directory: every entry ends before it.
    cd_offset: u64,
    /// Start → end of each entry read, from its local header to the end of its data.
    spans: BTreeMap<u64, u64>,
    budget: limits::Budget,
}

impl Extent {
    /// Claims `start..end` of the file for one entry of `size` bytes uncompressed: an
    /// error if another entry has any of those bytes or the budget is spent.
    fn claim(&mut self, start: u64, end: u64, size: u64) -> Result<()> {
        let before = self.spans.range(..=start).next_back();
        let after = self.spans.range(start..).next();
        if let Some((&s, &e)) = before
            .filter(|(_, e)| **e > start)
            .or(after.filter(|(s, _)| **s < end))
        {
            bail!(
                "its bytes {start}..{end} overlap those of another entry ({s}..{e}); zip entries may not overlap"
            );
        }
        self.budget.charge(size)?;
        self.spans.insert(start, end);
        Ok(())
    }
}

/// The central directory of `file`, found from its end record: its bytes, its number
/// of entries and its offset (where the entries' data must end).
fn central_directory<R: Read + Seek>(file: &mut R) -> Result<(Vec<u8>, u16, u64)> {
    let len = file.seek(SeekFrom::End(0))?;
    ensure!(
        len >= 22,
        "it is {len} bytes long, too short for a zip archive"
    );
    // The end record is in the last 22 + 65535 bytes (a comment may follow it).
    let tail_len = len.min(22 + 65_535);
    let mut tail = vec![0; usize::try_from(tail_len).expect("small")];
    file.seek(SeekFrom::Start(len - tail_len))?;
    file.read_exact(&mut tail)?;
    let at = (0..=tail.len() - 22)
        .rev()
        .find(|&i| le32(&tail, i) == END)
        .context("it has no end of central directory record")?;
    let end = &tail[at..];
    let count = le16(end, 10);
    ensure!(
        le16(end, 4) == 0 && le16(end, 6) == 0 && le16(end, 8) == count,
        "it spans several disks"
    );
    let cd_size = u64::from(le32(end, 12));
    let cd_offset = u64::from(le32(end, 16));
    ensure!(
        cd_size <= MAX_CENTRAL_DIRECTORY,
        "its central directory is {cd_size} bytes, more than the limit of {MAX_CENTRAL_DIRECTORY}"
    );
    ensure!(
        cd_offset + cd_size <= len - tail_len + at as u64,
        "its central directory ({cd_size} bytes at {cd_offset}) is not inside the file"
    );
    let mut cd = vec![0; usize::try_from(cd_size).expect("checked")];
    file.seek(SeekFrom::Start(cd_offset))?;
    file.read_exact(&mut cd)?;
    Ok((cd, count, cd_offset))
}

/// One entry of the central directory, as its record there says.
struct CentralEntry<'a> {
    method: u16,
    crc: u32,
    /// Compressed size.
    csize: u64,
    /// Uncompressed size.
    usize_: u64,
    /// The name's bytes, and as text.
    raw: &'a [u8],
    name: String,
    /// The Unix mode (file type and permission bits).
    mode: u32,
    dir: bool,
    /// Offset of its local header.
    local: u64,
    /// Offset in the central directory of the next record.
    next: usize,
}

impl<'a> CentralEntry<'a> {
    /// The record at `pos` of the central directory `cd`; an error unless it is whole,
    /// named in UTF-8, and a regular file or directory with Unix permissions.
    fn parse(cd: &'a [u8], pos: usize) -> Result<Self> {
        ensure!(
            pos + 46 <= cd.len() && le32(cd, pos) == CENTRAL,
            "its central directory is cut short"
        );
        let made_by = le16(cd, pos + 4);
        let method = le16(cd, pos + 10);
        let crc = le32(cd, pos + 16);
        let csize = u64::from(le32(cd, pos + 20));
        let usize_ = u64::from(le32(cd, pos + 24));
        let (name_len, extra_len, comment_len) = (
            usize::from(le16(cd, pos + 28)),
            usize::from(le16(cd, pos + 30)),
            usize::from(le16(cd, pos + 32)),
        );
        let attrs = le32(cd, pos + 38);
        let local = u64::from(le32(cd, pos + 42));
        ensure!(
            pos + 46 + name_len + extra_len + comment_len <= cd.len(),
            "its central directory is cut short"
        );
        let raw = &cd[pos + 46..pos + 46 + name_len];
        let name = std::str::from_utf8(raw)
            .map_err(|_| {
                anyhow::anyhow!(
                    "an entry name is not UTF-8: `{}`",
                    shown(&String::from_utf8_lossy(raw))
                )
            })?
            .to_owned();
        let next = pos + 46 + name_len + extra_len + comment_len;
        ensure!(
            made_by >> 8 == 3,
            "`{}` has no Unix permissions (made by host {})",
            shown(&name),
            made_by >> 8
        );
        let mode = attrs >> 16;
        let dir = name.ends_with('/');
        ensure!(
            (mode & 0o170_000) == if dir { S_IFDIR } else { S_IFREG },
            "`{}` is neither a regular file nor a directory (mode {mode:o})",
            shown(&name)
        );
        Ok(Self {
            method,
            crc,
            csize,
            usize_,
            raw,
            name,
            mode,
            dir,
            local,
            next,
        })
    }

    /// The entry as listed: its local header checked against this record, its data
    /// (before `cd_offset`) read, checked against its size and CRC, and hashed.
    fn read<R: Read + Seek>(self, mut file: &mut R, extent: &mut Extent) -> Result<Listed> {
        let Self {
            method,
            crc,
            csize,
            usize_,
            raw,
            name,
            mode,
            dir,
            local,
            next: _,
        } = self;
        let cd_offset = extent.cd_offset;
        // The local header must name the same entry, and the data must be in the file.
        let mut lh = [0u8; 30];
        ensure!(
            local + 30 <= cd_offset,
            "`{}` has its data outside the file",
            shown(&name)
        );
        file.seek(SeekFrom::Start(local))?;
        file.read_exact(&mut lh)?;
        let (ln, lx) = (u64::from(le16(&lh, 26)), u64::from(le16(&lh, 28)));
        let data = local + 30 + ln + lx;
        ensure!(
            le32(&lh, 0) == LOCAL
                && le16(&lh, 8) == method
                && le32(&lh, 14) == crc
                && u64::from(le32(&lh, 18)) == csize
                && u64::from(le32(&lh, 22)) == usize_
                && ln == raw.len() as u64
                && data + csize <= cd_offset,
            "the local header of `{}` does not match its central directory entry",
            shown(&name)
        );
        let mut lname = vec![0; raw.len()];
        file.read_exact(&mut lname)?;
        ensure!(
            lname == raw,
            "the local header of `{}` names another entry",
            shown(&name)
        );
        extent
            .claim(local, data + csize, usize_)
            .with_context(|| format!("`{}`", shown(&name)))?;
        file.seek(SeekFrom::Start(data))?;
        let stored = (&mut file).take(csize);
        let mut reader: Box<dyn Read + '_> = match method {
            STORED => Box::new(stored),
            DEFLATED => Box::new(DeflateDecoder::new(stored)),
            other => bail!("`{}` uses compression method {other}", shown(&name)),
        };
        let mut check = CrcReader {
            inner: &mut reader,
            crc: Crc::new(),
        };
        let (sha256, size) = crate::digest::sha256_reader(&mut (&mut check).take(usize_ + 1))
            .with_context(|| format!("cannot read `{}`", shown(&name)))?;
        ensure!(
            size == usize_ && check.crc.sum() == crc,
            "`{}` does not hold the {usize_} bytes (CRC-32 {crc:08x}) its header says",
            shown(&name)
        );
        Ok(Listed {
            name: name.trim_end_matches('/').to_owned(),
            dir,
            mode: mode & 0o7777,
            sha256: (!dir).then_some(sha256),
            size,
        })
    }
}

struct CrcReader<R> {
    inner: R,
    crc: Crc,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

fn le16(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn le32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

#[cfg(test)]
mod tests;
