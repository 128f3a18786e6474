//! `--auditable`: each binary carries its dependency list the way `cargo auditable`
//! writes it, so `cargo audit bin`, `syft` and `rust-audit-info` can read it later.
//!
//! The format (cargo-auditable's `auditable-serde`, format revision 1): JSON
//! `{"packages":[{"name","version","source","kind"?,"dependencies"?,"root"?}],"format":1}`
//! — packages sorted, `dependencies` as indices, `kind` omitted for `runtime`,
//! proc-macros and what only build scripts use as `build` — compressed with zlib into
//! a section named `.dep-v0` (not allocated: it is never loaded) of an object file, with
//! a symbol `AUDITABLE_VERSION_INFO` over it. The data is the [`crate::deps`] graph of
//! each (package, target), the same one its SBOM lists.
//!
//! How it gets in, for every backend in one cargo process: cargo runs a wrapper script
//! (`build.rustc-workspace-wrapper`, for the workspace's own crates only) that adds
//! `-C link-arg=<object>` when rustc links a selected binary (`--crate-type bin`, cargo's
//! primary package), choosing the object by `--target` and `CARGO_PKG_NAME`, and the
//! argument that keeps the section (`-u AUDITABLE_VERSION_INFO`, spelled for the
//! linker). Everything lives in `<target dir>/cargo-multiarch/auditable/<hash>/`, named
//! by a hash of its contents, so runs with other lists never overwrite each other's.
//! cargo finds the wrapper by its bare name on `PATH` (that directory first): cargo
//! hashes the wrapper's path into the workspace crates' metadata, and a bare name is
//! the same on every machine and for every selection of targets, so the binaries stay
//! reproducible. `cross` gets its own wrapper with the paths its container sees
//! (`/target/…`).

use std::ffi::OsString;
use std::io::Write as _;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;
use object::write::{Object, StandardSegment, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, FileFlags, SectionFlags, SectionKind, SymbolFlags,
    SymbolKind, SymbolScope, elf,
};
use serde_json::{Value, json};

use crate::deps::TargetGraphs;
use crate::digest::Sha256;
use crate::process::shell_quote;
use crate::sbom::graph::{Graph, Kind, Source};

/// The section cargo-auditable's readers look for.
pub(crate) const SECTION: &str = ".dep-v0";
/// The symbol that keeps the section when the linker collects garbage.
const SYMBOL: &str = "AUDITABLE_VERSION_INFO";
/// The wrapper's name, found on `PATH`: the same whatever the dependency lists (their
/// hash names its directory), so the binaries do not depend on which targets one run
/// builds. cargo relinks a binary whenever what its list says changes (a crate added,
/// removed or of another version is a rebuilt dependency), and finds the new object.
pub(crate) const WRAPPER: &str = "cargo-multiarch-auditable";
/// The wrapper for `cross`, which runs cargo in a container.
const CROSS_WRAPPER: &str = "cross-rustc-wrapper";

/// The wrapper cargo runs for the workspace's crates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wrapper {
    /// Its file name, `cargo-multiarch-auditable`, found on [`Wrapper::path`].
    pub name: String,
    /// `PATH` for cargo: the wrapper's directory, then this process's `PATH`.
    pub path: OsString,
    /// The `cross` wrapper, as its container sees it.
    pub cross_program: String,
}

/// The dependency list of `g` in cargo-auditable's JSON.
pub(crate) fn version_info(g: &Graph) -> String {
    let packages: Vec<Value> = g
        .crates
        .iter()
        .map(|c| {
            let source = match &c.source {
                s if s.is_crates_io() => "crates.io",
                Source::Registry { .. } => "registry",
                Source::Git { .. } => "git",
                Source::Path { .. } => "local",
            };
            let mut p = json!({ "name": c.name, "version": c.version, "source": source });
            if c.kind == Kind::Build {
                p["kind"] = json!("build");
            }
            if !c.dependencies.is_empty() {
                p["dependencies"] = json!(c.dependencies);
            }
            if c.root {
                p["root"] = json!(true);
            }
            p
        })
        .collect();
    // Field order as `auditable-serde` writes it: packages, then format.
    format!(
        "{{\"packages\":{},\"format\":1}}",
        serde_json::to_string(&packages).expect("JSON serialises")
    )
}

/// zlib, as the readers expect (deterministic at a fixed level).
pub(crate) fn compress(json: &str) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(json.as_bytes()).expect("writing to memory");
    z.finish().expect("writing to memory")
}

fn cfg_value<'a>(cfg: &'a [Cfg], key: &str) -> Option<&'a str> {
    cfg.iter().find_map(|c| match c {
        Cfg::KeyPair(k, v) if k.as_str() == key => Some(v.as_str()),
        _ => None,
    })
}

/// The object format of `triple`'s binaries.
fn format_of(cfg: &[Cfg]) -> BinaryFormat {
    match (cfg_value(cfg, "target_vendor"), cfg_value(cfg, "target_os")) {
        (Some("apple"), _) => BinaryFormat::MachO,
        (_, Some("windows")) => BinaryFormat::Coff,
        _ => BinaryFormat::Elf,
    }
}

/// An object file for `triple` (whose cfg is `cfg`) holding `contents` in `.dep-v0`,
/// as rustc writes its own metadata objects: the target's architecture, endianness and
/// ELF flags (a linker refuses to mix ARM float ABIs or RISC-V ones).
pub(crate) fn object_file(triple: &str, cfg: &[Cfg], contents: &[u8]) -> Result<Vec<u8>> {
    let architecture = architecture_of(triple, cfg)?;
    let endian = match cfg_value(cfg, "target_endian") {
        Some("big") => Endianness::Big,
        _ => Endianness::Little,
    };
    let format = format_of(cfg);
    let mut file = Object::new(format, architecture, endian);
    if format == BinaryFormat::Elf {
        file.flags = FileFlags::Elf {
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            e_flags: elf::FileFlags(elf_flags(triple, cfg, architecture)),
        };
    }
    if format == BinaryFormat::Coff {
        add_feat_00(&mut file, architecture);
    }
    let section = file.add_section(
        file.segment_name(StandardSegment::Data).to_vec(),
        SECTION.as_bytes().to_vec(),
        SectionKind::ReadOnlyData,
    );
    if format == BinaryFormat::Elf {
        // Not `SHF_ALLOC`: the data is read from the file, never loaded.
        file.section_mut(section).flags = SectionFlags::Elf {
            sh_type: elf::SHT_PROGBITS,
            sh_flags: elf::SectionFlags(0),
        };
    }
    let offset = file.append_section_data(section, contents, 1);
    file.add_symbol(Symbol {
        name: SYMBOL.as_bytes().to_vec(),
        value: offset,
        size: contents.len() as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    });
    file.write()
        .with_context(|| format!("cannot write the `--auditable` object file for `{triple}`"))
}

/// The object file architecture of `triple` (whose cfg is `cfg`); an error for one
/// `object` cannot write.
fn architecture_of(triple: &str, cfg: &[Cfg]) -> Result<Architecture> {
    let arch = cfg_value(cfg, "target_arch").unwrap_or("");
    let bits = cfg_value(cfg, "target_pointer_width").unwrap_or("64");
    Ok(match (arch, bits) {
        ("x86_64", "64") => Architecture::X86_64,
        ("x86_64", _) => Architecture::X86_64_X32,
        ("x86", _) => Architecture::I386,
        ("aarch64", "64") => Architecture::Aarch64,
        ("aarch64", _) => Architecture::Aarch64_Ilp32,
        ("arm", _) => Architecture::Arm,
        ("riscv64", _) => Architecture::Riscv64,
        ("riscv32", _) => Architecture::Riscv32,
        ("powerpc64", _) => Architecture::PowerPc64,
        ("powerpc", _) => Architecture::PowerPc,
        ("s390x", _) => Architecture::S390x,
        ("loongarch64", _) => Architecture::LoongArch64,
        ("sparc64", _) => Architecture::Sparc64,
        _ => bail!(
            "`--auditable` cannot embed a dependency list into `{triple}` binaries: no object file for architecture `{arch}` (hint: drop `--auditable` for this target)"
        ),
    })
}

/// The ELF `e_flags` of `triple`'s objects: the ARM EABI and float ABI, RISC-V's float
/// ABI and compressed instructions, `LoongArch`'s ABI; 0 elsewhere.
fn elf_flags(triple: &str, cfg: &[Cfg], architecture: Architecture) -> u32 {
    let hard_float =
        cfg_value(cfg, "target_abi").is_some_and(|a| a.ends_with("hf")) || triple.ends_with("hf");
    let linux = cfg_value(cfg, "target_os").is_some_and(|o| o == "linux" || o == "android");
    match architecture {
        Architecture::Arm => {
            elf::EF_ARM_EABI_VER5.0
                | if hard_float {
                    elf::EF_ARM_ABI_FLOAT_HARD
                } else {
                    elf::EF_ARM_ABI_FLOAT_SOFT
                }
        }
        Architecture::Riscv32 | Architecture::Riscv64 => {
            // `gc` (and every Linux riscv target) means compressed and double floats.
            let ext = triple.split('-').next().unwrap_or("");
            let ext = ext.get(7..).unwrap_or("");
            let c = ext.contains('c') || linux;
            let d = ext.contains('d') || ext.contains('g') || linux;
            let f = ext.contains('f');
            let float = if d {
                elf::EF_RISCV_FLOAT_ABI_DOUBLE
            } else if f {
                elf::EF_RISCV_FLOAT_ABI_SINGLE
            } else {
                elf::EF_RISCV_FLOAT_ABI_SOFT
            };
            float.0 | if c { elf::EF_RISCV_RVC.0 } else { 0 }
        }
        Architecture::LoongArch64 => elf::EF_LARCH_OBJABI_V1.0 | elf::EF_LARCH_ABI_DOUBLE_FLOAT.0,
        _ => 0,
    }
}

/// Adds the `@feat.00` symbol lld wants of every input on i686 Windows (SAFESEH), as
/// rustc writes it for its own metadata objects.
fn add_feat_00(file: &mut Object, architecture: Architecture) {
    let mangling = file.mangling();
    file.set_mangling(object::write::Mangling::None);
    file.add_symbol(Symbol {
        name: b"@feat.00".to_vec(),
        value: u64::from(architecture == Architecture::I386),
        size: 0,
        kind: SymbolKind::Data,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Absolute,
        flags: SymbolFlags::None,
    });
    file.set_mangling(mangling);
}

/// How the linker is told to keep the section: the symbol over it is declared
/// undefined (with `--gc-sections`, GNU ld drops an unreferenced section, allocated or
/// not). The wrapper picks the spelling: `-u SYM` for a bare linker (`rust-lld`, any
/// `-C linker=…ld`), `-Wl,-u,SYM` for a C compiler driver, `/INCLUDE:SYM` for MSVC.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Keep {
    Undefined(String),
    MsvcInclude(String),
}

fn keep(triple: &str, cfg: &[Cfg]) -> Keep {
    // The object crate mangles Mach-O and i686 COFF symbols with a leading `_`.
    let mangled = match format_of(cfg) {
        BinaryFormat::MachO => format!("_{SYMBOL}"),
        BinaryFormat::Coff if cfg_value(cfg, "target_arch") == Some("x86") => format!("_{SYMBOL}"),
        _ => SYMBOL.to_owned(),
    };
    if triple.ends_with("-msvc") {
        Keep::MsvcInclude(mangled)
    } else {
        Keep::Undefined(mangled)
    }
}

/// One object to link: for `package`'s binaries on `triple`.
struct Entry {
    triple: String,
    package: String,
    object: Vec<u8>,
    keep: Keep,
}

/// Writes the objects and wrappers for every graph of `targets` under `target_dir`
/// (cargo's target dir on this machine; `cross_target_dir` is where cross mounts it
/// inside its container); returns the wrapper, and whether anything was written
/// (nothing is when the same lists were prepared before).
pub(crate) fn prepare(
    target_dir: &Utf8Path,
    cross_target_dir: &Utf8Path,
    targets: &[TargetGraphs],
) -> Result<(Wrapper, bool)> {
    let mut entries = Vec::new();
    for t in targets {
        let triple = t.target.triple();
        for g in &t.graphs {
            let object = object_file(triple, &t.cfg, &compress(&version_info(g)))?;
            entries.push(Entry {
                triple: triple.to_owned(),
                package: g.package.clone(),
                object,
                keep: keep(triple, &t.cfg),
            });
        }
    }
    let mut key = String::from("cargo-multiarch auditable v1\n");
    for e in &entries {
        key.push_str(&format!(
            "{} {} {} {:?}\n",
            e.triple,
            e.package,
            Sha256::of(&e.object),
            e.keep
        ));
    }
    let hash = Sha256::of(key.as_bytes()).as_str()[..16].to_owned();
    let rel = format!("cargo-multiarch/auditable/{hash}");
    let dir = crate::fs::own_dir(target_dir, &rel)?;
    let name = WRAPPER.to_owned();
    let mut wrote = false;
    for e in &entries {
        crate::fs::own_dir(&dir, &e.triple)?;
        let path = object_path(&dir, e);
        wrote |= crate::fs::write_if_changed(&path, &e.object, 0o644)?;
    }
    let host = script(&entries, |e| object_path(&dir, e));
    wrote |= crate::fs::write_if_changed(&dir.join(&name), host.as_bytes(), 0o755)?;
    let container_dir = cross_target_dir.join(&rel);
    let cross = script(&entries, |e| object_path(&container_dir, e));
    wrote |= crate::fs::write_if_changed(&dir.join(CROSS_WRAPPER), cross.as_bytes(), 0o755)?;

    let mut path = OsString::from(dir.as_os_str());
    if let Some(old) = std::env::var_os("PATH").filter(|p| !p.is_empty()) {
        path.push(":");
        path.push(old);
    }
    Ok((
        Wrapper {
            name,
            path,
            cross_program: container_dir.join(CROSS_WRAPPER).into_string(),
        },
        wrote,
    ))
}

fn object_path(dir: &Utf8Path, e: &Entry) -> Utf8PathBuf {
    dir.join(&e.triple).join(format!("{}.o", e.package))
}

/// The wrapper script: `<wrapper> <rustc> ARGS…` runs rustc, adding the object (found
/// by `object`) and the argument that keeps it when rustc links a selected binary.
fn script(entries: &[Entry], object: impl Fn(&Entry) -> Utf8PathBuf) -> String {
    let mut cases = String::new();
    for e in entries {
        let (var, value) = match &e.keep {
            Keep::Undefined(sym) => ("sym", sym),
            Keep::MsvcInclude(sym) => ("include", sym),
        };
        cases.push_str(&format!(
            "    {}) obj={} {var}={} ;;\n",
            shell_quote(&format!("{}/{}", e.triple, e.package)),
            shell_quote(object(e).as_str()),
            shell_quote(value),
        ));
    }
    format!(
        r#"#!/bin/sh
# Written by cargo-multiarch for `--auditable`. cargo runs it as `<this> <rustc> ARGS...`
# for the workspace's own crates; when rustc links a selected binary, its dependency
# list (a `.dep-v0` section, as `cargo auditable` writes it) is linked in.
rustc=$1
shift
bin=
target=
bare=
prev=
for arg in "$@"; do
  case $prev in
    --crate-type) [ "$arg" = bin ] && bin=1 ;;
    --target) target=$arg ;;
    -C) case $arg in linker=*ld) bare=1 ;; esac ;;
  esac
  case $arg in
    --crate-type=bin) bin=1 ;;
    --target=*) target=${{arg#--target=}} ;;
    -Clinker=*ld) bare=1 ;;
  esac
  prev=$arg
done
obj=
sym=
include=
if [ -n "$bin" ] && [ -n "$CARGO_PRIMARY_PACKAGE" ]; then
  case "$target/$CARGO_PKG_NAME" in
{cases}  esac
fi
if [ -z "$obj" ]; then
  exec "$rustc" "$@"
elif [ -n "$include" ]; then
  exec "$rustc" "$@" "-Clink-arg=$obj" "-Clink-arg=/INCLUDE:$include"
elif [ -n "$bare" ]; then
  exec "$rustc" "$@" "-Clink-arg=$obj" -Clink-arg=-u "-Clink-arg=$sym"
else
  exec "$rustc" "$@" "-Clink-arg=$obj" "-Clink-arg=-Wl,-u,$sym"
fi
"#
    )
}

#[cfg(test)]
mod tests;
