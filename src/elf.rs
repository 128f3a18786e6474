//! Temporary minimal ELF reader (replaced by the leaf branch's version on merge).
#![allow(clippy::cast_possible_truncation, reason = "temporary")]
use anyhow::{Result, bail};
use camino::Utf8Path;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ElfInfo {
    pub class: u8,
    pub little_endian: bool,
    pub machine: u16,
    pub file_type: u16,
    pub linkage: Linkage,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Linkage {
    Static,
    StaticPie,
    Dynamic {
        interpreter: Option<String>,
        needed: Vec<String>,
    },
}

pub fn read(path: &Utf8Path) -> Result<ElfInfo> {
    parse(&std::fs::read(path)?)
}

pub fn machine_name(m: u16) -> &'static str {
    match m {
        62 => "x86-64",
        183 => "AArch64",
        40 => "ARM",
        243 => "RISC-V",
        _ => "unknown",
    }
}

pub fn parse(b: &[u8]) -> Result<ElfInfo> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" {
        bail!("not an ELF file")
    }
    let c64 = b[4] == 2;
    let u16_ = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_ = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let u64_ = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let file_type = u16_(16);
    let machine = u16_(18);
    let (phoff, phentsize, phnum) = if c64 {
        (u64_(32) as usize, u16_(54) as usize, u16_(56) as usize)
    } else {
        (u32_(28) as usize, u16_(42) as usize, u16_(44) as usize)
    };
    let mut interp = None;
    let mut needed = false;
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        let t = u32_(o);
        let (off, sz) = if c64 {
            (u64_(o + 8) as usize, u64_(o + 32) as usize)
        } else {
            (u32_(o + 4) as usize, u32_(o + 16) as usize)
        };
        if t == 3 {
            interp = Some(
                String::from_utf8_lossy(&b[off..off + sz])
                    .trim_end_matches('\0')
                    .to_owned(),
            );
        }
        if t == 2 {
            let es = if c64 { 16 } else { 8 };
            for j in 0..sz / es {
                let tag = if c64 {
                    u64_(off + j * es)
                } else {
                    u64::from(u32_(off + j * es))
                };
                if tag == 1 {
                    needed = true;
                }
            }
        }
    }
    let linkage = if interp.is_some() || needed {
        Linkage::Dynamic {
            interpreter: interp,
            needed: vec![],
        }
    } else if file_type == 3 {
        Linkage::StaticPie
    } else {
        Linkage::Static
    };
    Ok(ElfInfo {
        class: if c64 { 64 } else { 32 },
        little_endian: true,
        machine,
        file_type,
        linkage,
    })
}
