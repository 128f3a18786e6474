//! Writes a fat (universal) Mach-O file from thin ones, as `lipo -create` does: the
//! big-endian `fat_header`, one `fat_arch` per slice (CPU type and subtype copied from
//! the slice's own header), then each slice at an offset aligned to its page size
//! (16 KiB for arm64, 4 KiB otherwise). The output depends only on the slices' bytes.
//!
//! [`check_slices`] checks a fat header read back before any slice is read: at most
//! [`MAX_FAT_SLICES`] slices, each in the file, after the header, and no two sharing a
//! byte, so reading them all reads each byte of the file at most once.

use std::io::{self, Read, Write};

use anyhow::{Context as _, Result, bail, ensure};
use camino::Utf8PathBuf;
use object::ReadRef;

use crate::limits::{self, MAX_FAT_SLICES};

const FAT_MAGIC: u32 = 0xcafe_babe;
const MH_MAGIC_64: u32 = 0xfeed_facf;
const MH_MAGIC: u32 = 0xfeed_face;
const CPU_TYPE_ARM64: u32 = 0x0100_000c;
/// `fat_header` (8 bytes) and each `fat_arch` (20 bytes).
const HEADER: u64 = 8;
const ARCH: u64 = 20;

/// One thin Mach-O to put in.
struct Thin {
    path: Utf8PathBuf,
    cputype: u32,
    cpusubtype: u32,
    size: u64,
    /// log2 of the alignment.
    align: u32,
}

/// Writes the fat file of `slices` (thin little-endian Mach-O executables, in the
/// order given, one per CPU type) to `out`.
pub fn write(slices: &[Utf8PathBuf], out: &mut impl Write) -> Result<()> {
    ensure!(
        !slices.is_empty(),
        "a fat Mach-O file needs at least one slice"
    );
    let mut thins = Vec::new();
    for path in slices {
        let mut f = crate::fs::open_regular(path)?;
        let size = f
            .metadata()
            .with_context(|| format!("could not stat `{path}`"))?
            .len();
        let mut h = [0u8; 12];
        f.read_exact(&mut h)
            .with_context(|| format!("`{path}` is too short for a Mach-O file"))?;
        let word = |i: usize| u32::from_le_bytes(h[i..i + 4].try_into().expect("4 bytes"));
        if !matches!(word(0), MH_MAGIC | MH_MAGIC_64) {
            bail!("`{path}` is not a little-endian thin Mach-O file");
        }
        let cputype = word(4);
        if thins.iter().any(|t: &Thin| t.cputype == cputype) {
            bail!("two slices for CPU type 0x{cputype:08x} (`{path}`)");
        }
        thins.push(Thin {
            path: path.clone(),
            cputype,
            cpusubtype: word(8),
            size,
            align: if cputype == CPU_TYPE_ARM64 { 14 } else { 12 },
        });
    }
    let mut offsets = Vec::new();
    let mut at = HEADER + ARCH * thins.len() as u64;
    for t in &thins {
        let a = 1u64 << t.align;
        at = at.div_ceil(a) * a;
        offsets.push(at);
        at += t.size;
    }
    let u32_of = |v: u64, what: &str| {
        u32::try_from(v).with_context(|| format!("{what} {v} does not fit a 32-bit fat header"))
    };
    let mut header = Vec::new();
    header.extend_from_slice(&FAT_MAGIC.to_be_bytes());
    header.extend_from_slice(&u32_of(thins.len() as u64, "slice count")?.to_be_bytes());
    for (t, off) in thins.iter().zip(&offsets) {
        for v in [
            t.cputype,
            t.cpusubtype,
            u32_of(*off, "offset")?,
            u32_of(t.size, "slice size")?,
            t.align,
        ] {
            header.extend_from_slice(&v.to_be_bytes());
        }
    }
    out.write_all(&header)?;
    let mut written = header.len() as u64;
    for (t, off) in thins.iter().zip(&offsets) {
        io::copy(&mut io::repeat(0).take(off - written), out)?;
        let f = crate::fs::open_regular(&t.path)?;
        let n = io::copy(&mut f.take(t.size), out)
            .with_context(|| format!("could not read `{}`", t.path))?;
        if n != t.size {
            bail!("`{}` shrank while it was being read", t.path);
        }
        written = off + t.size;
    }
    Ok(())
}

/// Checks the 32-bit fat header of `data` (see the module doc); an error naming the
/// limit or the slices at fault.
pub fn check_slices<'a, R: ReadRef<'a>>(data: R) -> Result<()> {
    let be = |b: &[u8], i: usize| {
        u64::from(u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes")))
    };
    let len = data
        .len()
        .map_err(|()| anyhow::anyhow!("its length cannot be read"))?;
    let header = data
        .read_bytes_at(0, HEADER)
        .map_err(|()| anyhow::anyhow!("it is too short for a fat header"))?;
    let count = be(header, 4);
    limits::check_count("fat slices", count, MAX_FAT_SLICES as u64)?;
    let table_end = HEADER + ARCH * count;
    let table = data
        .read_bytes_at(HEADER, ARCH * count)
        .map_err(|()| anyhow::anyhow!("its {count} fat slices do not fit in the file"))?;
    let mut ranges: Vec<(u64, u64)> = table
        .chunks_exact(20)
        .map(|a| (be(a, 8), be(a, 8) + be(a, 12)))
        .collect();
    ranges.sort_unstable();
    let mut end_of_last = table_end;
    for &(start, end) in &ranges {
        ensure!(
            start < end && end <= len,
            "a fat slice (bytes {start}..{end}) is empty or not inside the file ({len} bytes)"
        );
        ensure!(
            start >= end_of_last,
            "fat slices overlap each other or the fat header (one starts at byte {start}, before byte {end_of_last}); each slice must be distinct"
        );
        end_of_last = end;
    }
    Ok(())
}
