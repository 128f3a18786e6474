//! What a binary is built for, read from its headers: the format (ELF, PE, Mach-O, a
//! fat Mach-O of several slices, WebAssembly), the architecture and bitness of each
//! slice, and how it is linked. All through the `object` crate, which reads only the
//! ranges it needs ([`object::ReadCache`]) and bounds-checks every offset the file gives:
//! corrupt input is an error, never a panic. ELF's linkage (interpreter, `DT_NEEDED`)
//! is read by [`elf`], which picks the ranges and bounds them before reading.

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;
use object::macho::{self, CPU_TYPE_ARM64, CPU_TYPE_X86_64};
use object::pe;
use object::read::macho::{FatArch as _, LoadCommandVariant, MachHeader, MachOFatFile32};
use object::read::pe::{ImageNtHeaders, PeFile32, PeFile64};
use object::{FileKind, LittleEndian, ReadCache, ReadRef};

use crate::limits::{self, MAX_LIBRARIES};
use crate::platform::{Format, Platform};

pub mod elf;
pub mod fat;

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

/// What [`read`] learns about a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binary {
    pub format: Format,
    /// One for a thin binary; one per architecture for a fat Mach-O.
    pub slices: Vec<Slice>,
    pub linkage: Linkage,
}

/// One architecture a binary holds code for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// The OCI name of the architecture (`amd64`, `arm64`, `386`), or `unknown`.
    pub arch: &'static str,
    pub bits: u8,
    /// The machine as the format names it, for messages (`x86-64`, `PE AMD64`).
    pub machine: String,
}

impl Binary {
    /// Says in words what it is: `an ELF64 x86-64 binary`, `a PE32+ AMD64 binary`,
    /// `a fat Mach-O binary (Mach-O x86_64, Mach-O arm64)`.
    pub fn describe(&self) -> String {
        let machines: Vec<&str> = self.slices.iter().map(|s| s.machine.as_str()).collect();
        match machines.as_slice() {
            [one] => format!("{} {one} binary", article(one)),
            many => format!("a fat Mach-O binary ({})", many.join(", ")),
        }
    }

    /// What is wrong with it as a `p` binary: its format or architectures, or a library
    /// it loads that `p`'s OS does not ship. Empty when nothing is. `who` names what
    /// needs it in the message (`` `aarch64-unknown-linux-musl` (linux/arm64) ``).
    pub fn problems(&self, p: Platform, who: &str) -> Vec<String> {
        let mut out = Vec::new();
        let want: Vec<&str> = if p.is_apple() && p.arch == "universal2" {
            vec!["amd64", "arm64"]
        } else {
            vec![p.arch.as_str()]
        };
        let got: Vec<&str> = self.slices.iter().map(|s| s.arch).collect();
        if self.format != p.format() || got != want {
            out.push(format!(
                "is {}, but {who} needs {}",
                self.describe(),
                expected(p)
            ));
            return out;
        }
        if let Linkage::Dynamic { needed, .. } = &self.linkage {
            for lib in needed {
                if let Some(why) = foreign_library(p, lib) {
                    out.push(format!("loads `{lib}`, {why}"));
                }
            }
        }
        out
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['E', 'a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// What a binary for `p` is, in [`Binary::describe`]'s words.
fn expected(p: Platform) -> String {
    let arch = p.arch.as_str();
    match p.format() {
        Format::Elf => match elf_machine(arch) {
            Some((machine, class)) => format!("ELF{class} {}", elf::machine_name(machine)),
            None => format!("an ELF binary for `{arch}`"),
        },
        Format::Pe => match arch {
            "amd64" => "PE32+ AMD64".into(),
            "386" => "PE32 I386".into(),
            "arm64" => "PE32+ ARM64".into(),
            _ => format!("a PE binary for `{arch}`"),
        },
        Format::MachO => match arch {
            "amd64" => "Mach-O x86_64".into(),
            "arm64" => "Mach-O arm64".into(),
            "universal2" => "a fat Mach-O binary with x86_64 and arm64 slices".into(),
            _ => format!("a Mach-O binary for `{arch}`"),
        },
        Format::Wasm => "WebAssembly".into(),
    }
}

/// The ELF `e_machine` and class of an OCI architecture.
pub fn elf_machine(arch: &str) -> Option<(u16, u8)> {
    Some(match arch {
        "amd64" => (62, 64),
        "amd64p32" => (62, 32),
        "386" => (3, 32),
        "arm64" | "arm64be" => (183, 64),
        "arm" | "armbe" => (40, 32),
        "riscv64" => (243, 64),
        "riscv32" => (243, 32),
        "ppc64le" | "ppc64" => (21, 64),
        "ppc" => (20, 32),
        "s390x" => (22, 64),
        "mips64le" | "mips64" => (8, 64),
        "mipsle" | "mips" => (8, 32),
        "loong64" => (258, 64),
        _ => return None,
    })
}

/// Why a library a `p` binary loads is not part of `p`'s OS, if it is not.
fn foreign_library(p: Platform, lib: &str) -> Option<&'static str> {
    match p.format() {
        Format::Pe => {
            let l = lib.to_ascii_lowercase();
            // MinGW's runtime (`libgcc_s_seh-1.dll`, `libwinpthread-1.dll`, `libstdc++-6.dll`)
            // and MSVC's redistributable are not part of Windows.
            (l.starts_with("lib") || l.starts_with("vcruntime") || l.starts_with("msvcp"))
                .then_some("which Windows does not ship: the `.exe` does not start unless it is installed beside it")
        }
        Format::MachO => (!lib.starts_with("/usr/lib/") && !lib.starts_with("/System/Library/"))
            .then_some("which macOS does not ship: the binary does not start on a Mac without it"),
        Format::Elf | Format::Wasm => None,
    }
}

/// Reads the headers of the file at `path` (a regular file; never through a symlink).
pub fn read(path: &Utf8Path) -> Result<Binary> {
    let file = crate::fs::open_regular(path)?;
    let mut magic = [0u8; 4];
    let n = std::io::Read::read(&mut (&file), &mut magic)
        .with_context(|| format!("could not read `{path}`"))?;
    match &magic[..n] {
        b"\x7fELF" => Ok(from_elf(&elf::read(path)?)),
        b"\0asm" => Ok(Binary {
            format: Format::Wasm,
            slices: vec![Slice {
                arch: "wasm",
                bits: 32,
                machine: "WebAssembly".into(),
            }],
            linkage: Linkage::Static,
        }),
        _ => {
            let cache = ReadCache::new(file);
            not_elf(&cache).with_context(|| format!("`{path}` is not a binary this tool reads"))
        }
    }
}

/// Parses the headers of an in-memory binary (for tests and fuzzing).
pub fn parse(bytes: &[u8]) -> Result<Binary> {
    if bytes.starts_with(b"\x7fELF") {
        return Ok(from_elf(&elf::parse(bytes)?));
    }
    not_elf(bytes)
}

fn from_elf(e: &elf::ElfInfo) -> Binary {
    let arch = match (e.machine, e.class, e.little_endian) {
        (62, 64, _) => "amd64",
        (62, 32, _) => "amd64p32",
        (3, 32, _) => "386",
        (183, 64, true) => "arm64",
        (183, 64, false) => "arm64be",
        (40, 32, true) => "arm",
        (40, 32, false) => "armbe",
        (243, 64, _) => "riscv64",
        (243, 32, _) => "riscv32",
        (21, 64, true) => "ppc64le",
        (21, 64, false) => "ppc64",
        (20, 32, _) => "ppc",
        (22, 64, _) => "s390x",
        (8, 64, true) => "mips64le",
        (8, 64, false) => "mips64",
        (8, 32, true) => "mipsle",
        (8, 32, false) => "mips",
        (258, 64, _) => "loong64",
        _ => "unknown",
    };
    Binary {
        format: Format::Elf,
        slices: vec![Slice {
            arch,
            bits: e.class,
            machine: format!("ELF{} {}", e.class, elf::machine_name(e.machine)),
        }],
        linkage: e.linkage.clone(),
    }
}

fn not_elf<'a, R: ReadRef<'a>>(data: R) -> Result<Binary> {
    match FileKind::parse(data)? {
        FileKind::Pe32 => pe_file(&PeFile32::parse(data)?, 32),
        FileKind::Pe64 => pe_file(&PeFile64::parse(data)?, 64),
        FileKind::MachO64 => {
            let (slice, linkage) = macho_slice::<macho::MachHeader64<LittleEndian>, R>(data)?;
            Ok(Binary {
                format: Format::MachO,
                slices: vec![slice],
                linkage,
            })
        }
        FileKind::MachO32 => {
            let (slice, linkage) = macho_slice::<macho::MachHeader32<LittleEndian>, R>(data)?;
            Ok(Binary {
                format: Format::MachO,
                slices: vec![slice],
                linkage,
            })
        }
        FileKind::MachOFat32 => {
            fat::check_slices(data)?;
            let fat = MachOFatFile32::parse(data)?;
            let mut slices = Vec::new();
            let mut all_needed: Vec<String> = Vec::new();
            let mut dyld = None;
            for arch in fat.arches() {
                let bytes = arch.data(data)?;
                let (slice, linkage) = match FileKind::parse(bytes)? {
                    FileKind::MachO64 => {
                        macho_slice::<macho::MachHeader64<LittleEndian>, _>(bytes)?
                    }
                    FileKind::MachO32 => {
                        macho_slice::<macho::MachHeader32<LittleEndian>, _>(bytes)?
                    }
                    k => bail!("a slice of the fat file is {k:?}, not Mach-O"),
                };
                slices.push(slice);
                if let Linkage::Dynamic {
                    interpreter,
                    needed,
                } = linkage
                {
                    dyld = dyld.or(interpreter);
                    for n in needed {
                        if !all_needed.contains(&n) {
                            all_needed.push(n);
                        }
                    }
                }
            }
            if slices.is_empty() {
                bail!("a fat Mach-O file with no slice");
            }
            Ok(Binary {
                format: Format::MachO,
                slices,
                linkage: Linkage::Dynamic {
                    interpreter: dyld,
                    needed: all_needed,
                },
            })
        }
        k => bail!("it is {k:?}, not an ELF, PE or Mach-O executable"),
    }
}

/// A PE file: machine, bitness and the DLLs it imports (in the import table's order).
fn pe_file<'a, Pe: ImageNtHeaders, R: ReadRef<'a>>(
    f: &object::read::pe::PeFile<'a, Pe, R>,
    bits: u8,
) -> Result<Binary> {
    let machine = f.nt_headers().file_header().machine.get(LittleEndian);
    let (arch, name) = match (machine, bits) {
        (pe::IMAGE_FILE_MACHINE_AMD64, 64) => ("amd64", "AMD64"),
        (pe::IMAGE_FILE_MACHINE_I386, 32) => ("386", "I386"),
        (pe::IMAGE_FILE_MACHINE_ARM64, 64) => ("arm64", "ARM64"),
        (pe::IMAGE_FILE_MACHINE_ARMNT, 32) => ("arm", "ARMNT"),
        _ => ("unknown", "unknown machine"),
    };
    let mut needed = Vec::new();
    if let Some(table) = f.import_table()? {
        let mut descriptors = table.descriptors()?;
        while let Some(d) = descriptors.next()? {
            limits::check_count(
                "imported DLLs",
                needed.len() as u64 + 1,
                MAX_LIBRARIES as u64,
            )?;
            let name = table.name(d.name.get(LittleEndian))?;
            needed.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(Binary {
        format: Format::Pe,
        slices: vec![Slice {
            arch,
            bits,
            machine: format!(
                "{} {name} (0x{machine:04x})",
                if bits == 64 { "PE32+" } else { "PE32" }
            ),
        }],
        linkage: Linkage::Dynamic {
            interpreter: None,
            needed,
        },
    })
}

/// A thin Mach-O: CPU, bitness, the dynamic linker and the dylibs it loads.
fn macho_slice<'a, Mach: MachHeader<Endian = LittleEndian>, R: ReadRef<'a>>(
    data: R,
) -> Result<(Slice, Linkage)> {
    let header = Mach::parse(data, 0)?;
    let endian = header.endian()?;
    let cpu = header.cputype(endian);
    let bits = if header.is_type_64() { 64 } else { 32 };
    let (arch, name) = match cpu {
        CPU_TYPE_X86_64 => ("amd64", "x86_64"),
        CPU_TYPE_ARM64 => ("arm64", "arm64"),
        macho::CPU_TYPE_X86 => ("386", "i386"),
        macho::CPU_TYPE_ARM64_32 => ("arm64_32", "arm64_32"),
        _ => ("unknown", "unknown CPU"),
    };
    let mut interpreter = None;
    let mut needed = Vec::new();
    let mut commands = header.load_commands(endian, data, 0)?;
    while let Some(c) = commands.next()? {
        match c.variant()? {
            LoadCommandVariant::Dylib(d) => {
                limits::check_count("libraries", needed.len() as u64 + 1, MAX_LIBRARIES as u64)?;
                let s = c.string(endian, d.dylib.name)?;
                needed.push(String::from_utf8_lossy(s).into_owned());
            }
            LoadCommandVariant::LoadDylinker(d) => {
                let s = c.string(endian, d.name)?;
                interpreter = Some(String::from_utf8_lossy(s).into_owned());
            }
            _ => {}
        }
    }
    Ok((
        Slice {
            arch,
            bits,
            machine: format!("Mach-O {name}"),
        },
        Linkage::Dynamic {
            interpreter,
            needed,
        },
    ))
}

#[cfg(test)]
mod tests;
