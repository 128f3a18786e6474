//! The pure half of target ⇄ platform: the OCI platform of a target from what `rustc
//! --print cfg --target T` prints, and the triples to try, best first, for a platform
//! (each one then checked the first way, so the two directions always agree).
//!
//! OCI names follow Go's `GOOS`/`GOARCH` (what buildx, containerd and registries use):
//! `x86` is `386`, `x86_64` `amd64`, `aarch64` `arm64`, `powerpc64` little-endian
//! `ppc64le`, `loongarch64` `loong64`, little-endian MIPS `mipsle`/`mips64le`, macOS
//! `darwin`. 32-bit ARM carries its architecture version as the variant (`arm/v7`),
//! read from the triple's first component, since stable rustc prints no ARM version
//! feature. Anything Go has no name for keeps rustc's own (`riscv32`, `avr`).

use anyhow::{Context as _, Result, bail};
use cargo_metadata::cargo_platform::Cfg;

use super::{Name, Platform};

/// The cfg values the platform depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetCfg {
    pub os: String,
    pub arch: String,
    pub env: String,
    pub abi: String,
    pub endian: String,
    pub pointer_width: String,
}

impl TargetCfg {
    pub fn from_cfg(cfg: &[Cfg]) -> Self {
        let mut t = Self::default();
        for c in cfg {
            if let Cfg::KeyPair(k, v) = c {
                let slot = match k.as_str() {
                    "target_os" => &mut t.os,
                    "target_arch" => &mut t.arch,
                    "target_env" => &mut t.env,
                    "target_abi" => &mut t.abi,
                    "target_endian" => &mut t.endian,
                    "target_pointer_width" => &mut t.pointer_width,
                    _ => continue,
                };
                v.clone_into(slot);
            }
        }
        t
    }

    /// Soft-float 32-bit ARM (`eabi`, not `eabihf`).
    pub fn soft_float(&self) -> bool {
        self.arch == "arm" && !self.abi.ends_with("hf")
    }
}

/// The OCI platform of `triple` (its first component gives the ARM version) whose
/// cfg is `cfg`.
pub fn platform_of(triple: &str, cfg: &TargetCfg) -> Result<Platform> {
    let little = cfg.endian != "big";
    let os = match (cfg.os.as_str(), cfg.env.as_str()) {
        ("macos", _) => "darwin",
        ("wasi", "p1") => "wasip1",
        ("wasi", "p2") => "wasip2",
        ("", _) => bail!("rustc names no `target_os` for `{triple}`"),
        (os, _) => os,
    };
    let first = triple.split('-').next().unwrap_or(triple);
    let mut variant = None;
    let arch = match cfg.arch.as_str() {
        "x86_64" if cfg.pointer_width == "32" => "amd64p32",
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" if !little => "arm64be",
        "aarch64" => "arm64",
        "arm" => {
            variant = arm_version(first);
            if little { "arm" } else { "armbe" }
        }
        "powerpc64" if little => "ppc64le",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc",
        "mips" if little => "mipsle",
        "mips64" if little => "mips64le",
        "mips32r6" if little => "mipsr6le",
        "mips32r6" => "mipsr6",
        "mips64r6" if little => "mips64r6le",
        "loongarch64" => "loong64",
        "loongarch32" => "loong32",
        "wasm32" => "wasm",
        "" => bail!("rustc names no `target_arch` for `{triple}`"),
        arch => arch,
    };
    let name = |s: &str, what: &str| {
        Name::new(s).with_context(|| {
            format!("rustc's `{what}` for `{triple}`, `{s}`, is not a plain lowercase word")
        })
    };
    Ok(Platform {
        os: name(os, "target_os")?,
        arch: name(arch, "target_arch")?,
        variant: variant.map(Name::of),
    })
}

/// The ARM architecture version of a triple's first component: `armv7`, `thumbv7neon`
/// and `armv7a` are `v7`, `arm` (rustc's `ARMv6` triples) and `armv6` `v6`, `armv5te` `v5`.
fn arm_version(first: &str) -> Option<&'static str> {
    let rest = first
        .strip_prefix("thumb")
        .or_else(|| first.strip_prefix("armeb"))
        .or_else(|| first.strip_prefix("arm"))?;
    if rest.is_empty() {
        return Some("v6");
    }
    let digits: String = rest
        .strip_prefix('v')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(match digits.as_str() {
        "4" => "v4",
        "5" => "v5",
        "6" => "v6",
        "7" => "v7",
        "8" => "v8",
        _ => return None,
    })
}

/// The first components of the triples that may be `p`, best first.
fn arch_prefixes(p: &Platform) -> Vec<&str> {
    let v = p.variant.as_deref();
    let list: &[&'static str] = match (p.arch.as_str(), v) {
        ("amd64", _) => &["x86_64"],
        ("386", _) => &["i686", "i586"],
        ("arm64", _) => &["aarch64"],
        ("arm", Some("v7")) => &["armv7", "thumbv7neon", "armv7a"],
        ("arm", Some("v6")) => &["arm", "armv6"],
        ("arm", Some("v5")) => &["armv5te"],
        ("arm", Some("v4")) => &["armv4t"],
        ("arm", Some("v8")) => &["armv8r"],
        ("ppc64le", _) => &["powerpc64le"],
        ("ppc64", _) => &["powerpc64"],
        ("ppc", _) => &["powerpc"],
        ("riscv64", _) => &["riscv64gc", "riscv64a23", "riscv64imac"],
        ("mips64le", _) => &["mips64el"],
        ("mipsle", _) => &["mipsel"],
        ("loong64", _) => &["loongarch64"],
        ("loong32", _) => &["loongarch32"],
        ("sparc64", _) => &["sparc64", "sparcv9"],
        ("wasm", _) => &["wasm32"],
        // Names rustc and Go share (`s390x`, `mips64`): the component is the name.
        (arch, _) => return vec![arch],
    };
    list.to_vec()
}

/// What a platform's OS looks like inside a triple.
fn os_matches(p: &Platform, triple: &str) -> bool {
    let parts: Vec<&str> = triple.split('-').collect();
    let os = p.os.as_str();
    match os {
        "darwin" => triple.ends_with("-apple-darwin"),
        "wasip1" => parts.get(1) == Some(&"wasip1") || parts.contains(&"wasi"),
        "wasip2" => parts.get(1) == Some(&"wasip2"),
        "none" => parts.contains(&"none"),
        _ => parts[1..].contains(&os),
    }
}

/// How good a candidate is, lowest first: (libc or toolchain, the order of its first
/// component, soft-float, vendor, length).
type Rank = (usize, usize, usize, usize, usize);

/// Among `list` (rustc's targets), the triples that may run on `p`, best first: for
/// Linux the musl ones, then glibc; for Windows the MinGW (`gnu`) ones, which zig
/// links, then `gnullvm`, then MSVC; hard-float before soft-float; the `unknown`/`pc`
/// vendor before others; then the shortest. The caller keeps the first whose cfg maps
/// back to `p`.
pub fn candidates<'a>(p: &Platform, list: &'a [String]) -> Vec<&'a str> {
    let prefixes = arch_prefixes(p);
    let mut found: Vec<(Rank, &str)> = list
        .iter()
        .map(String::as_str)
        .filter_map(|t| {
            let first = t.split('-').next()?;
            let prefix = prefixes.iter().position(|x| *x == first)?;
            if !os_matches(p, t) {
                return None;
            }
            let env = t.rsplit('-').next().unwrap_or("");
            let env_rank = match p.os.as_str() {
                "linux" if env.starts_with("musl") => 0,
                "linux" if env.starts_with("gnu") => 1,
                "windows" if env == "gnu" => 0,
                "windows" if env == "gnullvm" => 1,
                "windows" if env == "msvc" => 2,
                "linux" | "windows" => 3,
                _ => 0,
            };
            let soft = usize::from(p.arch == "arm" && !env.ends_with("hf"));
            let vendor = t.split('-').nth(1).unwrap_or("");
            let vendor_rank = usize::from(!matches!(vendor, "unknown" | "pc" | "apple"));
            Some(((env_rank, prefix, soft, vendor_rank, t.len()), t))
        })
        .collect();
    found.sort_unstable();
    found.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(os: &str, arch: &str, env: &str, abi: &str, endian: &str, width: &str) -> TargetCfg {
        TargetCfg {
            os: os.into(),
            arch: arch.into(),
            env: env.into(),
            abi: abi.into(),
            endian: endian.into(),
            pointer_width: width.into(),
        }
    }

    #[test]
    fn arm_versions_come_from_the_first_component() {
        for (first, want) in [
            ("arm", Some("v6")),
            ("armv6", Some("v6")),
            ("armv5te", Some("v5")),
            ("armv7", Some("v7")),
            ("armv7a", Some("v7")),
            ("thumbv7neon", Some("v7")),
            ("thumbv7em", Some("v7")),
            ("armebv7r", Some("v7")),
            ("armv4t", Some("v4")),
            ("armv8r", Some("v8")),
            ("aarch64", None),
        ] {
            assert_eq!(arm_version(first), want, "{first}");
        }
    }

    #[test]
    fn cfg_maps_to_go_names() {
        let le = |os, arch, env| cfg(os, arch, env, "", "little", "64");
        let cases = [
            (
                "x86_64-unknown-linux-musl",
                le("linux", "x86_64", "musl"),
                "linux/amd64",
            ),
            (
                "x86_64-unknown-linux-gnux32",
                cfg("linux", "x86_64", "gnu", "x32", "little", "32"),
                "linux/amd64p32",
            ),
            (
                "i686-unknown-linux-musl",
                cfg("linux", "x86", "musl", "", "little", "32"),
                "linux/386",
            ),
            (
                "aarch64-apple-darwin",
                le("macos", "aarch64", ""),
                "darwin/arm64",
            ),
            (
                "x86_64-pc-windows-gnu",
                le("windows", "x86_64", "gnu"),
                "windows/amd64",
            ),
            (
                "armv7-unknown-linux-musleabihf",
                cfg("linux", "arm", "musl", "eabihf", "little", "32"),
                "linux/arm/v7",
            ),
            (
                "arm-unknown-linux-gnueabi",
                cfg("linux", "arm", "gnu", "eabi", "little", "32"),
                "linux/arm/v6",
            ),
            (
                "powerpc64le-unknown-linux-musl",
                le("linux", "powerpc64", "musl"),
                "linux/ppc64le",
            ),
            (
                "powerpc64-unknown-linux-gnu",
                cfg("linux", "powerpc64", "gnu", "", "big", "64"),
                "linux/ppc64",
            ),
            (
                "s390x-unknown-linux-gnu",
                cfg("linux", "s390x", "gnu", "", "big", "64"),
                "linux/s390x",
            ),
            (
                "mips64el-unknown-linux-muslabi64",
                le("linux", "mips64", "musl"),
                "linux/mips64le",
            ),
            (
                "loongarch64-unknown-linux-musl",
                le("linux", "loongarch64", "musl"),
                "linux/loong64",
            ),
            (
                "riscv64gc-unknown-linux-gnu",
                le("linux", "riscv64", "gnu"),
                "linux/riscv64",
            ),
            (
                "wasm32-wasip1",
                cfg("wasi", "wasm32", "p1", "", "little", "32"),
                "wasip1/wasm",
            ),
        ];
        for (triple, c, want) in cases {
            assert_eq!(
                platform_of(triple, &c).unwrap().to_string(),
                want,
                "{triple}"
            );
        }
        let e = platform_of("x", &cfg("", "x86", "", "", "little", "32")).unwrap_err();
        assert_eq!(e.to_string(), "rustc names no `target_os` for `x`");
        let e = platform_of("x", &le("Linux", "x86_64", "")).unwrap_err();
        assert!(e.to_string().contains("not a plain lowercase word"), "{e}");
    }

    #[test]
    fn candidates_prefer_musl_then_gnu_hard_float_and_mingw() {
        let list: Vec<String> = [
            "x86_64-unknown-linux-gnu",
            "x86_64-unknown-linux-gnux32",
            "x86_64-unknown-linux-musl",
            "x86_64-unikraft-linux-musl",
            "x86_64-unknown-linux-ohos",
            "x86_64h-apple-darwin",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-pc-windows-gnullvm",
            "x86_64-pc-windows-gnu",
            "x86_64-uwp-windows-gnu",
            "i586-unknown-linux-musl",
            "i686-unknown-linux-gnu",
            "i686-unknown-linux-musl",
            "armv7-unknown-linux-gnueabihf",
            "armv7-unknown-linux-musleabi",
            "armv7-unknown-linux-musleabihf",
            "thumbv7neon-unknown-linux-musleabihf",
            "arm-unknown-linux-gnueabi",
            "arm-unknown-linux-musleabihf",
            "s390x-unknown-linux-gnu",
            "s390x-unknown-linux-musl",
        ]
        .map(str::to_owned)
        .to_vec();
        let first = |p: &str| {
            candidates(&Platform::parse(p).unwrap(), &list)
                .first()
                .copied()
        };
        assert_eq!(
            candidates(&Platform::parse("linux/amd64").unwrap(), &list),
            [
                "x86_64-unknown-linux-musl",
                "x86_64-unikraft-linux-musl",
                "x86_64-unknown-linux-gnu",
                "x86_64-unknown-linux-gnux32",
                "x86_64-unknown-linux-ohos"
            ]
        );
        assert_eq!(first("linux/386"), Some("i686-unknown-linux-musl"));
        assert_eq!(
            first("linux/arm/v7"),
            Some("armv7-unknown-linux-musleabihf")
        );
        assert_eq!(first("linux/arm/v6"), Some("arm-unknown-linux-musleabihf"));
        assert_eq!(first("linux/s390x"), Some("s390x-unknown-linux-musl"));
        assert_eq!(first("windows/amd64"), Some("x86_64-pc-windows-gnu"));
        assert_eq!(first("darwin/amd64"), Some("x86_64-apple-darwin"));
        assert_eq!(first("linux/riscv64"), None);
    }
}
