//! Just enough ELF to verify binaries: class, byte order, machine, file type, and how
//! the binary is linked (static, static-pie, or dynamic with its interpreter and
//! `DT_NEEDED` libraries).
//!
//! The structures are `object`'s ([`object::elf`] headers, program headers and dynamic
//! entries read through [`object::read::elf`]'s traits, in the file's byte order); this
//! module only decides which byte ranges to read. Only the ELF header, the program
//! headers, `PT_INTERP`, the `PT_DYNAMIC` segment and the needed library names are read,
//! through [`object::ReadCache`] for a file, instead of loading a multi-megabyte binary.
//! Every offset and size comes from the file, so every range is checked against the
//! file's length and a size bound before it is read: truncated or corrupt input is an
//! error, never a panic or a huge allocation.

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;
use object::elf::{self as e, FileHeader32, FileHeader64};
use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _};
use object::{Endianness, ReadCache, ReadRef};

use super::Linkage;
use crate::limits::MAX_LIBRARIES;

/// What [`read`] and [`parse`] learn about an ELF file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ElfInfo {
    /// 32 or 64.
    pub class: u8,
    pub little_endian: bool,
    /// `e_machine`; see [`machine_name`].
    pub machine: u16,
    /// `e_type`: 2 (`ET_EXEC`) or 3 (`ET_DYN`).
    pub file_type: u16,
    pub linkage: Linkage,
}

/// Name of an `e_machine` value, as `readelf` spells it.
#[must_use]
pub fn machine_name(machine: u16) -> &'static str {
    match e::Machine(machine) {
        e::EM_X86_64 => "x86-64",
        e::EM_AARCH64 => "AArch64",
        e::EM_ARM => "ARM",
        e::EM_RISCV => "RISC-V",
        e::EM_386 => "Intel 80386",
        e::EM_MIPS => "MIPS R3000",
        e::EM_PPC => "PowerPC",
        e::EM_PPC64 => "PowerPC64",
        e::EM_S390 => "IBM S/390",
        e::EM_LOONGARCH => "LoongArch",
        _ => "unknown",
    }
}

/// Reads the ELF facts of the file at `path` (a regular file; never through a
/// symlink), reading only the ranges it needs.
pub fn read(path: &Utf8Path) -> Result<ElfInfo> {
    let file = crate::fs::open_regular(path)?;
    let meta = file
        .metadata()
        .with_context(|| format!("could not stat `{path}`"))?;
    let cache = ReadCache::new(file);
    Input {
        data: &cache,
        len: meta.len(),
        name: format!("`{path}`"),
    }
    .run()
}

/// Parses the ELF facts of an in-memory file.
pub fn parse(bytes: &[u8]) -> Result<ElfInfo> {
    Input {
        data: bytes,
        len: bytes.len() as u64,
        name: "the input".into(),
    }
    .run()
}

/// Largest single read: program header tables, `PT_INTERP` and `PT_DYNAMIC` of real
/// binaries are a few KiB at most, so anything bigger is corrupt. This also bounds the
/// number of program headers (at most 1 MiB / 32 bytes) before any is looked at.
const MAX_READ: u64 = crate::limits::MAX_ELF_HEADERS;
/// Longest library name read.
const MAX_NAME: u64 = crate::limits::MAX_NAME;

/// A program header, with the fields this module uses, widened to 64 bits.
struct Segment {
    kind: e::ProgramType,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

struct Input<R> {
    data: R,
    len: u64,
    /// How errors name the input: "`path`" or "the input".
    name: String,
}

impl<'data, R: ReadRef<'data>> Input<R> {
    fn run(&self) -> Result<ElfInfo> {
        let magic = self.bytes("the magic number", 0, self.len.min(4))?;
        if magic != e::ELFMAG {
            let why = if magic.len() < 4 {
                format!("only {} bytes long", magic.len())
            } else {
                let hex: Vec<String> = magic.iter().map(|b| format!("{b:02x}")).collect();
                format!("it starts with {}, not 7f 45 4c 46", hex.join(" "))
            };
            bail!("{} is not an ELF file ({why})", self.name);
        }
        // `e_ident`: the class at 4, the byte order at 5.
        let ident = self.bytes("the ELF identification", 0, 16)?;
        let is64 = match e::FileClass(ident[4]) {
            e::ELFCLASS32 => false,
            e::ELFCLASS64 => true,
            c => {
                let c = c.0;
                return Err(self.corrupt(format!("unknown ELF class {c}, expected 1 or 2")));
            }
        };
        let endian = match e::DataEncoding(ident[5]) {
            e::ELFDATA2LSB => Endianness::Little,
            e::ELFDATA2MSB => Endianness::Big,
            d => {
                let d = d.0;
                return Err(self.corrupt(format!("unknown byte order {d}, expected 1 or 2")));
            }
        };
        if is64 {
            self.elf::<FileHeader64<Endianness>>(endian)
        } else {
            self.elf::<FileHeader32<Endianness>>(endian)
        }
    }

    fn elf<Elf: FileHeader<Endian = Endianness>>(&self, endian: Endianness) -> Result<ElfInfo> {
        let size = std::mem::size_of::<Elf>() as u64;
        let header: &Elf = self.pod(self.bytes("the ELF header", 0, size)?)?;
        let file_type = header.e_type(endian);
        let machine = header.e_machine(endian).0;
        let segments = self.segments(header, endian)?;

        let interpreter = match segments.iter().find(|s| s.kind == e::PT_INTERP) {
            Some(s) => {
                let path = self.bytes("the interpreter path (PT_INTERP)", s.offset, s.filesz)?;
                let path = path.split(|&b| b == 0).next().unwrap_or_default();
                Some(String::from_utf8_lossy(path).into_owned())
            }
            None => None,
        };
        let needed = match segments.iter().find(|s| s.kind == e::PT_DYNAMIC) {
            Some(s) => self.needed::<Elf>(endian, s, &segments)?,
            None => Vec::new(),
        };
        let linkage = match file_type {
            _ if interpreter.is_some() || !needed.is_empty() => Linkage::Dynamic {
                interpreter,
                needed,
            },
            e::ET_EXEC => Linkage::Static,
            e::ET_DYN => Linkage::StaticPie,
            t => bail!(
                "{} is an ELF file of type {}, not an executable (2) or shared object (3)",
                self.name,
                t.0
            ),
        };
        Ok(ElfInfo {
            class: if header.is_type_64() { 64 } else { 32 },
            little_endian: endian == Endianness::Little,
            machine,
            file_type: file_type.0,
            linkage,
        })
    }

    fn corrupt(&self, why: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("{} is not a valid ELF file ({why})", self.name)
    }

    /// The `len` bytes at `offset`, or an error naming `what` if they are not all there
    /// or more than [`MAX_READ`].
    fn bytes(&self, what: &str, offset: u64, len: u64) -> Result<&'data [u8]> {
        if len > MAX_READ {
            return Err(self.corrupt(format!("{what} would be {len} bytes long")));
        }
        let end = offset.saturating_add(len);
        if end > self.len {
            bail!(
                "{} is truncated: {what} (bytes {offset}..{end}) lies beyond its end ({} bytes)",
                self.name,
                self.len
            );
        }
        // In range and bounded, so a failure is the file's I/O.
        self.data
            .read_bytes_at(offset, len)
            .map_err(|()| anyhow::anyhow!("could not read {}", self.name))
    }

    /// `bytes` as one of `object`'s ELF structures (which need no alignment).
    fn pod<T: object::Pod>(&self, bytes: &'data [u8]) -> Result<&'data T> {
        object::pod::from_bytes(bytes)
            .map(|(t, _)| t)
            .map_err(|()| self.corrupt(format!("{} bytes is too short", bytes.len())))
    }

    fn segments<Elf: FileHeader<Endian = Endianness>>(
        &self,
        header: &Elf,
        endian: Endianness,
    ) -> Result<Vec<Segment>> {
        let phnum = u64::from(header.e_phnum(endian));
        if phnum == 0 {
            return Ok(Vec::new());
        }
        let phentsize = u64::from(header.e_phentsize(endian));
        let min = std::mem::size_of::<Elf::ProgramHeader>() as u64;
        if phentsize < min {
            return Err(self.corrupt(format!("program headers of {phentsize} bytes, not {min}")));
        }
        // At most 65535 × 65535 bytes, refused by `bytes` above 1 MiB before any is read.
        let table = self.bytes(
            "the program headers",
            header.e_phoff(endian).into(),
            phentsize * phnum,
        )?;
        table
            .chunks_exact(usize::try_from(phentsize)?)
            .map(|ph| {
                let ph: &Elf::ProgramHeader = self.pod(ph)?;
                Ok(Segment {
                    kind: ph.p_type(endian),
                    offset: ph.p_offset(endian).into(),
                    vaddr: ph.p_vaddr(endian).into(),
                    filesz: ph.p_filesz(endian).into(),
                })
            })
            .collect()
    }

    /// Names of the `DT_NEEDED` libraries, looked up in the dynamic string table.
    fn needed<Elf: FileHeader<Endian = Endianness>>(
        &self,
        endian: Endianness,
        dynamic: &Segment,
        segments: &[Segment],
    ) -> Result<Vec<String>> {
        let table = self.bytes(
            "the dynamic segment (PT_DYNAMIC)",
            dynamic.offset,
            dynamic.filesz,
        )?;
        let count = table.len() / std::mem::size_of::<Elf::Dyn>();
        let entries: &[Elf::Dyn] = object::pod::slice_from_bytes(table, count)
            .map_err(|()| self.corrupt("unreadable dynamic segment"))?
            .0;
        let (mut needed, mut strtab, mut strsz) = (Vec::new(), None, None);
        for entry in entries {
            let value: u64 = entry.d_val(endian).into();
            match entry.d_tag(endian) {
                e::DT_NULL => break,
                e::DT_NEEDED => needed.push(value),
                e::DT_STRTAB => strtab = Some(value),
                e::DT_STRSZ => strsz = Some(value),
                _ => {}
            }
        }
        if needed.is_empty() {
            return Ok(Vec::new());
        }
        if needed.len() > MAX_LIBRARIES {
            return Err(self.corrupt(format!(
                "{} DT_NEEDED entries, more than the limit of {MAX_LIBRARIES}",
                needed.len()
            )));
        }
        let addr = strtab.ok_or_else(|| self.corrupt("DT_NEEDED entries but no DT_STRTAB"))?;
        // DT_STRTAB is a virtual address; the PT_LOAD segment holding it gives its offset.
        let base = segments.iter().find_map(|s| {
            let delta = addr.checked_sub(s.vaddr)?;
            (s.kind == e::PT_LOAD && delta < s.filesz)
                .then(|| s.offset.checked_add(delta))
                .flatten()
        });
        let base =
            base.ok_or_else(|| self.corrupt(format!("DT_STRTAB {addr:#x} is in no PT_LOAD")))?;
        needed
            .into_iter()
            .map(|at| self.string(base, at, strsz))
            .collect()
    }

    /// The NUL-terminated string at `at` in the string table at file offset `base`.
    fn string(&self, base: u64, at: u64, strsz: Option<u64>) -> Result<String> {
        let limit = strsz.map_or(MAX_NAME, |size| size.saturating_sub(at).min(MAX_NAME));
        let start = base.saturating_add(at);
        // Names are short: read what is there, up to `limit`, in one go.
        let bytes = self.bytes(
            "a DT_NEEDED name",
            start,
            self.len.saturating_sub(start).min(limit),
        )?;
        match bytes.iter().position(|&b| b == 0) {
            Some(end) => Ok(String::from_utf8_lossy(&bytes[..end]).into_owned()),
            None => Err(self.corrupt(format!("the DT_NEEDED name at offset {start} has no NUL"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use camino::Utf8PathBuf;

    use super::*;
    use crate::binary::Linkage;

    const MACHINE: u16 = 0x1234;
    const MAGIC: &[u8; 4] = b"\x7fELF";
    const ET_EXEC: u16 = 2;
    const ET_DYN: u16 = 3;
    const PT_LOAD: u64 = 1;
    const PT_DYNAMIC: u64 = 2;
    const PT_INTERP: u64 = 3;
    const DT_NULL: u64 = 0;
    const DT_NEEDED: u64 = 1;
    const DT_STRTAB: u64 = 5;
    const DT_STRSZ: u64 = 10;

    /// A minimal ELF: header, program headers (`PT_INTERP`, `PT_DYNAMIC` when asked, then
    /// one `PT_LOAD` mapping the whole file at 0x400000), the interpreter, a string table
    /// and the dynamic entries (`DT_NEEDED`…, `DT_STRTAB`, `DT_STRSZ`, `DT_NULL`).
    fn synth(is64: bool, le: bool, e_type: u16, interp: Option<&str>, needed: &[&str]) -> Vec<u8> {
        const BASE: u64 = 0x40_0000;
        let (w, eh, ph) = if is64 { (8, 64, 56) } else { (4, 52, 32) };
        let put = |out: &mut Vec<u8>, values: &[u64], sizes: &[usize]| {
            for (v, &n) in values.iter().zip(sizes) {
                let b = &v.to_le_bytes()[..n];
                out.extend(if le {
                    b.to_vec()
                } else {
                    b.iter().rev().copied().collect()
                });
            }
        };
        let nseg = u64::from(interp.is_some()) + u64::from(!needed.is_empty()) + 1;
        let start = eh + nseg * ph;
        let mut data = interp
            .map(|i| format!("{i}\0").into_bytes())
            .unwrap_or_default();
        let mut segs = Vec::new(); // (p_type, offset, filesz)
        if !data.is_empty() {
            segs.push((PT_INTERP, start, data.len() as u64));
        }
        let strtab = start + data.len() as u64;
        let (mut names, mut dynamic) = (vec![0], Vec::new());
        for name in needed {
            put(&mut dynamic, &[DT_NEEDED, names.len() as u64], &[w, w]);
            names.extend(format!("{name}\0").bytes());
        }
        let tail = [
            DT_STRTAB,
            BASE + strtab,
            DT_STRSZ,
            names.len() as u64,
            DT_NULL,
            0,
        ];
        put(&mut dynamic, &tail, &[w; 6]);
        if !needed.is_empty() {
            data.extend(&names);
            segs.push((PT_DYNAMIC, start + data.len() as u64, dynamic.len() as u64));
            data.extend(&dynamic);
        }
        segs.push((PT_LOAD, 0, start + data.len() as u64));
        let mut out = MAGIC.to_vec();
        out.extend([if is64 { 2 } else { 1 }, if le { 1 } else { 2 }, 1]);
        out.resize(16, 0);
        let header = [
            e_type.into(),
            MACHINE.into(),
            1,
            0,
            eh,
            0,
            0,
            eh,
            ph,
            nseg,
            0,
            0,
            0,
        ];
        put(&mut out, &header, &[2, 2, 4, w, w, w, 4, 2, 2, 2, 2, 2, 2]);
        for (kind, off, size) in segs {
            let (vaddr, flags, align) = (BASE + off, 5, 8);
            if is64 {
                let fields = [kind, flags, off, vaddr, vaddr, size, size, align];
                put(&mut out, &fields, &[4, 4, 8, 8, 8, 8, 8, 8]);
            } else {
                let fields = [kind, off, vaddr, vaddr, size, size, flags, align];
                put(&mut out, &fields, &[4; 8]);
            }
        }
        out.extend(&data);
        out
    }

    fn dynamic(interpreter: Option<&str>, needed: &[&str]) -> Linkage {
        let needed = needed.iter().map(|&n| n.to_owned()).collect();
        Linkage::Dynamic {
            interpreter: interpreter.map(str::to_owned),
            needed,
        }
    }

    fn err(bytes: &[u8]) -> String {
        format!("{:#}", parse(bytes).unwrap_err())
    }

    #[test]
    fn system_binary_is_dynamic_with_its_loader_and_libc() {
        let path = Utf8Path::new("/bin/ls");
        let info = read(path).unwrap();
        assert_eq!(
            (info.class, info.little_endian, info.machine),
            (64, true, 62)
        );
        let Linkage::Dynamic {
            interpreter,
            needed,
        } = &info.linkage
        else {
            panic!("{info:?}")
        };
        assert_eq!(interpreter.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"));
        assert!(needed.iter().any(|n| n == "libc.so.6"), "{needed:?}");
        assert_eq!(parse(&std::fs::read(path).unwrap()).unwrap(), info);
    }

    #[test]
    fn musl_binaries_from_rustc_are_static() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::try_from(tmp.path().to_path_buf()).unwrap();
        std::fs::write(dir.join("main.rs"), "fn main() { println!(\"hi\"); }\n").unwrap();
        let build = |target: &str, flag: &str| {
            let out = dir.join(target);
            let mut rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()));
            rustc.args([
                "--target",
                target,
                "-C",
                flag,
                "-o",
                out.as_str(),
                dir.join("main.rs").as_str(),
            ]);
            assert!(rustc.status().unwrap().success(), "{rustc:?}");
            read(&out).unwrap()
        };
        // rustc makes x86_64 musl binaries static-pie; rust-lld links aarch64 ones as ET_EXEC.
        let amd64 = build("x86_64-unknown-linux-musl", "target-feature=+crt-static");
        assert_eq!(
            (amd64.machine, amd64.file_type, amd64.linkage),
            (62, ET_DYN, Linkage::StaticPie)
        );
        let arm64 = build("aarch64-unknown-linux-musl", "linker=rust-lld");
        assert_eq!(
            (arm64.machine, arm64.file_type, arm64.linkage),
            (183, ET_EXEC, Linkage::Static)
        );
        assert_eq!(
            (
                arm64.class,
                arm64.little_endian,
                machine_name(arm64.machine)
            ),
            (64, true, "AArch64")
        );
    }

    #[test]
    fn hand_made_elves_of_every_class_and_byte_order() {
        for (is64, le) in [(false, false), (false, true), (true, false), (true, true)] {
            let class = if is64 { 64 } else { 32 };
            let info = |linkage, file_type| ElfInfo {
                class,
                little_endian: le,
                machine: MACHINE,
                file_type,
                linkage,
            };
            let libs = ["libc.so", "libm.so.6"];
            let dyn_elf = synth(is64, le, ET_DYN, Some("/lib/ld-musl-mips.so.1"), &libs);
            assert_eq!(
                parse(&dyn_elf).unwrap(),
                info(dynamic(Some("/lib/ld-musl-mips.so.1"), &libs), ET_DYN)
            );
            let lib = synth(is64, le, ET_DYN, None, &libs[..1]);
            assert_eq!(
                parse(&lib).unwrap(),
                info(dynamic(None, &libs[..1]), ET_DYN)
            );
            assert_eq!(
                parse(&synth(is64, le, ET_EXEC, None, &[])).unwrap(),
                info(Linkage::Static, ET_EXEC)
            );
            assert_eq!(
                parse(&synth(is64, le, ET_DYN, None, &[])).unwrap(),
                info(Linkage::StaticPie, ET_DYN)
            );
        }
    }

    /// More `DT_NEEDED` entries than the limit are refused before any name is read
    /// (many may name the same bytes: each would be read and kept).
    #[test]
    fn needed_libraries_are_bounded() {
        let names: Vec<String> = (0..=MAX_LIBRARIES).map(|i| format!("l{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let at_limit = synth(true, true, ET_DYN, None, &names[..MAX_LIBRARIES]);
        assert!(parse(&at_limit).is_ok());
        let err = parse(&synth(true, true, ET_DYN, None, &names)).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("(1025 DT_NEEDED entries, more than the limit of 1024)"),
            "{err}"
        );
    }

    #[test]
    fn non_elf_and_non_executables_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let script = Utf8PathBuf::try_from(tmp.path().join("run.sh")).unwrap();
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let msg = read(&script).unwrap_err().to_string();
        let why = "it starts with 23 21 2f 62, not 7f 45 4c 46";
        assert_eq!(msg, format!("`{script}` is not an ELF file ({why})"));
        assert_eq!(
            err(b"\x7fEL"),
            "the input is not an ELF file (only 3 bytes long)"
        );
        let class = err(b"\x7fELF\x03\x01\x01\0\0\0\0\0\0\0\0\0");
        assert_eq!(
            class,
            "the input is not a valid ELF file (unknown ELF class 3, expected 1 or 2)"
        );
        let object = err(&synth(true, true, 1, None, &[]));
        let why = "not an executable (2) or shared object (3)";
        assert_eq!(object, format!("the input is an ELF file of type 1, {why}"));
        let missing = script.with_file_name("nope");
        let msg = read(&missing).unwrap_err().to_string();
        assert_eq!(msg, format!("cannot open `{missing}`"));
    }

    #[test]
    fn truncated_or_random_input_is_an_error_not_a_panic() {
        let elf = synth(false, false, ET_DYN, Some("/lib/ld.so.1"), &["libc.so"]);
        for n in 0..elf.len() {
            assert!(parse(&elf[..n]).is_err(), "prefix {n}");
        }
        let msg = err(&elf[..elf.len() - 1]);
        let why = "the dynamic segment (PT_DYNAMIC) (bytes";
        assert!(
            msg.starts_with(&format!("the input is truncated: {why}")),
            "{msg}"
        );
        let ls = std::fs::read("/bin/ls").unwrap();
        (0..=ls.len()).for_each(|n| drop(parse(&ls[..n])));
        // Random bytes, and random byte flips in a valid file.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let mut bytes: Vec<u8> = (0..next() % 300).map(|_| next().to_le_bytes()[0]).collect();
            drop(parse(&bytes));
            bytes.splice(..bytes.len().min(6), *b"\x7fELF\x02\x01");
            drop(parse(&bytes));
            let mut mutated = elf.clone();
            for _ in 0..=next() % 4 {
                let at = usize::try_from(next() % elf.len() as u64).unwrap();
                mutated[at] = next().to_le_bytes()[0];
            }
            drop(parse(&mutated));
        }
    }

    #[test]
    fn absurd_header_counts_are_refused_before_reading() {
        // 65535 program headers of 56 bytes: 3.5 MiB claimed by a 300-byte file.
        let mut elf = synth(true, true, ET_DYN, Some("/lib/ld.so.1"), &["libc.so"]);
        elf[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(
            err(&elf),
            "the input is not a valid ELF file (the program headers would be 3669960 bytes long)"
        );
        // Entries too short for the class, and a table past the end.
        let mut short = synth(false, false, ET_EXEC, None, &[]);
        short[42..44].copy_from_slice(&16u16.to_be_bytes());
        assert_eq!(
            err(&short),
            "the input is not a valid ELF file (program headers of 16 bytes, not 32)"
        );
        let mut far = synth(true, true, ET_EXEC, None, &[]);
        far[32..40].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(
            err(&far)
                .starts_with("the input is truncated: the program headers (bytes 1099511627776.."),
            "{}",
            err(&far)
        );
        // Longer entries than the class needs are read at their own stride.
        let mut wide = synth(true, true, ET_EXEC, None, &[]);
        wide[54..56].copy_from_slice(&64u16.to_le_bytes());
        wide.extend([0; 8]);
        assert_eq!(parse(&wide).unwrap().linkage, Linkage::Static);
    }

    #[test]
    fn machine_names_and_linkage_json() {
        let names = [62, 183, 40, 243, 3, 999].map(machine_name);
        assert_eq!(
            names,
            [
                "x86-64",
                "AArch64",
                "ARM",
                "RISC-V",
                "Intel 80386",
                "unknown"
            ]
        );
        let linkage = dynamic(Some("/lib/ld-musl-x86_64.so.1"), &["libc.so"]);
        let json = serde_json::to_string(&linkage).unwrap();
        let expected =
            r#"{"kind":"dynamic","interpreter":"/lib/ld-musl-x86_64.so.1","needed":["libc.so"]}"#;
        assert_eq!(json, expected);
        assert_eq!(serde_json::from_str::<Linkage>(&json).unwrap(), linkage);
        let pie = serde_json::to_string(&Linkage::StaticPie).unwrap();
        assert_eq!(pie, r#"{"kind":"static-pie"}"#);
        assert_eq!(
            serde_json::to_string(&Linkage::Static).unwrap(),
            r#"{"kind":"static"}"#
        );
    }
}
