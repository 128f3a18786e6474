//! Just enough ELF to verify binaries: class, byte order, machine, file type, and how
//! the binary is linked (static, static-pie, or dynamic with its interpreter and
//! `DT_NEEDED` libraries).
//!
//! Only the ELF header, the program headers, `PT_INTERP`, the `PT_DYNAMIC` segment and
//! the needed library names are read; [`read`] seeks to each of them instead of loading
//! a multi-megabyte binary. Every offset and size comes from the file, so every one is
//! bounds-checked: truncated or corrupt input is an error, never a panic.

use std::io::{Cursor, Read, Seek, SeekFrom};

use anyhow::{Context as _, Result, bail, ensure};
use camino::Utf8Path;

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

/// How a binary gets loaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Linkage {
    /// `ET_EXEC` with no interpreter and no needed libraries.
    Static,
    /// `ET_DYN` with no interpreter and no needed libraries: relocates itself.
    StaticPie,
    /// Has a `PT_INTERP` (the dynamic loader) or `DT_NEEDED` libraries, or both.
    Dynamic {
        interpreter: Option<String>,
        needed: Vec<String>,
    },
}

/// Name of an `e_machine` value, as `readelf` spells it.
#[must_use]
pub fn machine_name(machine: u16) -> &'static str {
    match machine {
        62 => "x86-64",
        183 => "AArch64",
        40 => "ARM",
        243 => "RISC-V",
        3 => "Intel 80386",
        8 => "MIPS R3000",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "IBM S/390",
        258 => "LoongArch",
        _ => "unknown",
    }
}

/// Reads the ELF facts of the file at `path`, seeking to the parts it needs.
pub fn read(path: &Utf8Path) -> Result<ElfInfo> {
    let file = crate::fs::open_regular(path)?;
    let meta = file
        .metadata()
        .with_context(|| format!("could not stat `{path}`"))?;
    let parser = Parser::new(file, meta.len(), format!("`{path}`"));
    // Bounds are checked before every read, so an I/O error here is a real one.
    parser
        .run()
        .map_err(|e| match e.downcast::<std::io::Error>() {
            Ok(io) => anyhow::Error::new(io).context(format!("could not read `{path}`")),
            Err(e) => e,
        })
}

/// Parses the ELF facts of an in-memory file.
pub fn parse(bytes: &[u8]) -> Result<ElfInfo> {
    Parser::new(Cursor::new(bytes), bytes.len() as u64, "the input".into()).run()
}

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
/// Largest single read: program header tables, `PT_INTERP` and `PT_DYNAMIC` of real
/// binaries are a few KiB at most, so anything bigger is corrupt.
const MAX_READ: u64 = 1 << 20;
/// Longest library name read.
const MAX_NAME: u64 = 4096;

/// A program header, with the fields this module uses.
struct Segment {
    kind: u64,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

struct Parser<R> {
    input: R,
    len: u64,
    /// How errors name the input: "`path`" or "the input".
    name: String,
    is64: bool,
    le: bool,
}

impl<R: Read + Seek> Parser<R> {
    fn new(input: R, len: u64, name: String) -> Self {
        Self {
            input,
            len,
            name,
            is64: false,
            le: false,
        }
    }

    fn run(mut self) -> Result<ElfInfo> {
        let magic = self.bytes("the magic number", 0, self.len.min(4))?;
        if magic != MAGIC {
            let why = if magic.len() < 4 {
                format!("only {} bytes long", magic.len())
            } else {
                let hex: Vec<String> = magic.iter().map(|b| format!("{b:02x}")).collect();
                format!("it starts with {}, not 7f 45 4c 46", hex.join(" "))
            };
            bail!("{} is not an ELF file ({why})", self.name);
        }
        let ident = self.bytes("the ELF identification", 0, 16)?;
        self.is64 = match ident[4] {
            1 => false,
            2 => true,
            c => return Err(self.corrupt(format!("unknown ELF class {c}, expected 1 or 2"))),
        };
        self.le = match ident[5] {
            1 => true,
            2 => false,
            d => return Err(self.corrupt(format!("unknown byte order {d}, expected 1 or 2"))),
        };
        let header = self.bytes("the ELF header", 0, if self.is64 { 64 } else { 52 })?;
        let file_type = self.u16(&header, 16);
        let machine = self.u16(&header, 18);
        let [phoff, phentsize, phnum] = if self.is64 {
            [32, 54, 56]
        } else {
            [28, 42, 44]
        };
        let phoff = self.word(&header, phoff);
        let segments = self.segments(
            phoff,
            self.uint(&header, phentsize, 2),
            self.uint(&header, phnum, 2),
        )?;

        let interpreter = match segments.iter().find(|s| s.kind == PT_INTERP) {
            Some(s) => {
                let path = self.bytes("the interpreter path (PT_INTERP)", s.offset, s.filesz)?;
                let path = path.split(|&b| b == 0).next().unwrap_or_default();
                Some(String::from_utf8_lossy(path).into_owned())
            }
            None => None,
        };
        let needed = match segments.iter().find(|s| s.kind == PT_DYNAMIC) {
            Some(s) => self.needed(s, &segments)?,
            None => Vec::new(),
        };
        let linkage = match file_type {
            _ if interpreter.is_some() || !needed.is_empty() => Linkage::Dynamic {
                interpreter,
                needed,
            },
            ET_EXEC => Linkage::Static,
            ET_DYN => Linkage::StaticPie,
            t => bail!(
                "{} is an ELF file of type {t}, not an executable (2) or shared object (3)",
                self.name
            ),
        };
        let class = if self.is64 { 64 } else { 32 };
        Ok(ElfInfo {
            class,
            little_endian: self.le,
            machine,
            file_type,
            linkage,
        })
    }

    fn corrupt(&self, why: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("{} is not a valid ELF file ({why})", self.name)
    }

    /// Reads `len` bytes at `offset`, or fails naming `what` if they are not all there.
    fn bytes(&mut self, what: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        if len > MAX_READ {
            return Err(self.corrupt(format!("{what} would be {len} bytes long")));
        }
        let end = offset.saturating_add(len);
        ensure!(
            end <= self.len,
            "{} is truncated: {what} (bytes {offset}..{end}) lies beyond its end ({} bytes)",
            self.name,
            self.len
        );
        let mut buf = vec![0; usize::try_from(len)?];
        self.input.seek(SeekFrom::Start(offset))?;
        self.input.read_exact(&mut buf)?;
        Ok(buf)
    }

    /// Unsigned integer of `size` bytes at `at`, in the file's byte order. Every caller
    /// passes a buffer read with a length that covers the field.
    fn uint(&self, buf: &[u8], at: usize, size: usize) -> u64 {
        let field = &buf[at..at + size];
        let fold = |v: u64, b: &u8| v << 8 | u64::from(*b);
        if self.le {
            field.iter().rev().fold(0, fold)
        } else {
            field.iter().fold(0, fold)
        }
    }

    fn u16(&self, buf: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(if self.le {
            [buf[at], buf[at + 1]]
        } else {
            [buf[at + 1], buf[at]]
        })
    }

    /// An address, offset or size: 8 bytes in ELF64, 4 in ELF32.
    fn word(&self, buf: &[u8], at: usize) -> u64 {
        self.uint(buf, at, if self.is64 { 8 } else { 4 })
    }

    fn segments(&mut self, phoff: u64, phentsize: u64, phnum: u64) -> Result<Vec<Segment>> {
        if phnum == 0 {
            return Ok(Vec::new());
        }
        let min = if self.is64 { 56 } else { 32 };
        if phentsize < min {
            return Err(self.corrupt(format!("program headers of {phentsize} bytes, not {min}")));
        }
        let table = self.bytes("the program headers", phoff, phentsize * phnum)?;
        let [offset, vaddr, filesz] = if self.is64 { [8, 16, 32] } else { [4, 8, 16] };
        let segment = |ph: &[u8]| Segment {
            kind: self.uint(ph, 0, 4),
            offset: self.word(ph, offset),
            vaddr: self.word(ph, vaddr),
            filesz: self.word(ph, filesz),
        };
        Ok(table
            .chunks_exact(usize::try_from(phentsize)?)
            .map(segment)
            .collect())
    }

    /// Names of the `DT_NEEDED` libraries, looked up in the dynamic string table.
    fn needed(&mut self, dynamic: &Segment, segments: &[Segment]) -> Result<Vec<String>> {
        let table = self.bytes(
            "the dynamic segment (PT_DYNAMIC)",
            dynamic.offset,
            dynamic.filesz,
        )?;
        let (mut needed, mut strtab, mut strsz) = (Vec::new(), None, None);
        let step = if self.is64 { 16 } else { 8 };
        for entry in table.chunks_exact(step) {
            match (self.word(entry, 0), self.word(entry, step / 2)) {
                (DT_NULL, _) => break,
                (DT_NEEDED, name) => needed.push(name),
                (DT_STRTAB, addr) => strtab = Some(addr),
                (DT_STRSZ, size) => strsz = Some(size),
                _ => {}
            }
        }
        if needed.is_empty() {
            return Ok(Vec::new());
        }
        let addr = strtab.ok_or_else(|| self.corrupt("DT_NEEDED entries but no DT_STRTAB"))?;
        // DT_STRTAB is a virtual address; the PT_LOAD segment holding it gives its offset.
        let base = segments.iter().find_map(|s| {
            let delta = addr.checked_sub(s.vaddr)?;
            (s.kind == PT_LOAD && delta < s.filesz)
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
    fn string(&mut self, base: u64, at: u64, strsz: Option<u64>) -> Result<String> {
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

    const MACHINE: u16 = 0x1234;

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
