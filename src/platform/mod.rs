//! Rust targets and OCI platforms (`os/arch[/variant]`), both directions.
//!
//! The out tree mirrors buildx's normalised `TARGETPLATFORM`, so a Dockerfile can
//! `COPY out/${TARGETPLATFORM}/bin/app /app` without any mapping. There is no fixed list
//! of targets: a target's platform is derived from what `rustc --print cfg --target T`
//! prints ([`map`]), and a platform names the best of rustc's own targets that maps back
//! to it ([`Rustc`]). What is read back from files names targets by [`TargetName`] and
//! carries the platform beside it.

use std::fmt;

use anyhow::{Result, bail};
use camino::Utf8PathBuf;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub mod map;
mod name;

pub use name::Name;

/// An OCI platform as buildx normalises it: `linux/amd64`, `linux/arm64`, `linux/arm/v7`,
/// `windows/amd64`, `darwin/arm64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: Name,
    pub arch: Name,
    pub variant: Option<Name>,
}

/// The ELF `e_machine` values the tests and `verify` name.
pub const EM_386: u16 = 3;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
pub const EM_ARM: u16 = 40;
pub const EM_RISCV: u16 = 243;

/// The targets built when neither the command line nor the config names any.
pub const DEFAULT_TARGETS: &[&str] = &["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

/// The target cargo-zigbuild (and cargo-dist) call a macOS fat binary: one file with an
/// `x86_64-apple-darwin` and an `aarch64-apple-darwin` slice.
pub const UNIVERSAL2: &str = "universal2-apple-darwin";
/// The two targets of [`UNIVERSAL2`], in the order of its slices.
pub const UNIVERSAL2_PARTS: [&str; 2] = ["x86_64-apple-darwin", "aarch64-apple-darwin"];

/// How the binaries of a platform are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Elf,
    /// Windows and UEFI: PE/COFF.
    Pe,
    /// Apple's; a universal binary is a fat file of Mach-O slices.
    MachO,
    Wasm,
}

/// The name a target has in the out dir, build records and manifests: a triple (with
/// zig's glibc suffix when asked for), `universal2-apple-darwin`, or a custom target
/// file's stem. Read from untrusted data, it is only checked to be a plain name: what
/// platform it is filed under is recorded beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetName(String);

impl TargetName {
    /// 1 to 128 ASCII letters, digits, `_`, `-` and `.`, not starting with `.` or `-`:
    /// always one plain file name.
    pub fn new(s: &str) -> Result<Self> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with(['.', '-'])
            && !s.contains("..")
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !ok {
            bail!(
                "`{}` is not a target name (hint: a target is a rustc triple such as `x86_64-unknown-linux-musl`)",
                s.escape_debug()
            );
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when zig's glibc version suffix is part of the name (`….2.17`).
    pub fn has_glibc_suffix(&self) -> bool {
        glibc_split(&self.0).is_some()
    }

    pub fn is_musl(&self) -> bool {
        self.0.contains("-musl")
    }
}

impl fmt::Display for TargetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TargetName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TargetName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

impl PartialEq<TargetName> for Target {
    fn eq(&self, other: &TargetName) -> bool {
        self.requested == other.0
    }
}

impl PartialEq<Target> for TargetName {
    fn eq(&self, other: &Target) -> bool {
        self.0 == other.requested
    }
}

/// `x86_64-unknown-linux-gnu.2.17` as (`x86_64-unknown-linux-gnu`, `2.17`): a Linux
/// glibc triple and the glibc version zig links against.
pub fn glibc_split(s: &str) -> Option<(&str, &str)> {
    let (base, version) = s.split_once('.')?;
    let env = base.rsplit('-').next()?;
    (base.contains("-linux-")
        && env.starts_with("gnu")
        && !version.is_empty()
        && version
            .split('.')
            .all(|n| !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit())))
    .then_some((base, version))
}

/// Where a target comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// One of rustc's own targets.
    Builtin,
    /// A custom target specification, by its absolute path.
    Spec(Utf8PathBuf),
    /// A macOS fat binary made of these targets' binaries.
    Universal(Vec<Target>),
}

/// A target to build, resolved by [`Rustc`]: its name, the triple rustc and cargo know,
/// and the platform its cfg maps to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// The name (see [`TargetName`]): what the user wrote, glibc suffix included, or a
    /// custom target file's stem.
    pub requested: String,
    /// rustc's name: the triple without a glibc suffix, or the custom file's stem.
    triple: String,
    platform: Platform,
    /// `target_env` is `musl`.
    musl: bool,
    origin: Origin,
}

impl Target {
    /// A target from its parts (see [`Rustc`], which derives them from rustc).
    pub fn new(
        requested: String,
        triple: String,
        platform: Platform,
        musl: bool,
        origin: Origin,
    ) -> Self {
        Self {
            requested,
            triple,
            platform,
            musl,
            origin,
        }
    }

    /// The triple rustc knows (without a glibc suffix): what rust-std and cargo's
    /// `target/<triple>/` use.
    pub fn triple(&self) -> &str {
        &self.triple
    }

    pub fn name(&self) -> TargetName {
        TargetName(self.requested.clone())
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// True when the user asked for a glibc version (`.2.17`), which needs zig.
    pub fn has_glibc_suffix(&self) -> bool {
        self.requested != self.triple
    }

    pub fn is_linux(&self) -> bool {
        self.platform.os == "linux"
    }

    pub fn is_musl(&self) -> bool {
        self.musl
    }

    pub fn is_apple(&self) -> bool {
        self.platform.is_apple()
    }

    /// The targets a fat binary is made of (empty for any other target).
    pub fn parts(&self) -> &[Target] {
        match &self.origin {
            Origin::Universal(parts) => parts,
            _ => &[],
        }
    }

    /// The custom target file, for a custom target.
    pub fn spec(&self) -> Option<&camino::Utf8Path> {
        match &self.origin {
            Origin::Spec(p) => Some(p),
            _ => None,
        }
    }

    /// The targets cargo is given for this one (`--target`): the custom file, the two
    /// halves of a universal binary, or the triple.
    pub fn cargo_targets(&self) -> Vec<String> {
        match &self.origin {
            Origin::Builtin => vec![self.triple.clone()],
            Origin::Spec(p) => vec![p.to_string()],
            Origin::Universal(parts) => parts.iter().map(|t| t.triple.clone()).collect(),
        }
    }

    /// The triples whose rust-std a build needs and whose binaries cargo writes under
    /// `target/<triple>/`.
    pub fn rustc_triples(&self) -> Vec<&str> {
        match &self.origin {
            Origin::Universal(parts) => parts.iter().map(Target::triple).collect(),
            _ => vec![self.triple()],
        }
    }

    /// Binary file suffix (`.exe` on Windows).
    pub fn exe_suffix(&self) -> &'static str {
        self.platform.exe_suffix()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.requested)
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.requested)
    }
}

impl Platform {
    /// `os/arch[/variant]` of plain names.
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Option<Self> {
        Some(Self {
            os: Name::new(os)?,
            arch: Name::new(arch)?,
            variant: match variant {
                Some(v) => Some(Name::new(v)?),
                None => None,
            },
        })
    }

    /// Parses `os/arch[/variant]` the way buildx (containerd's `platforms.Normalize`)
    /// accepts it: `linux/arm64/v8` and `linux/aarch64` are `linux/arm64`, `linux/x86_64`
    /// and `linux/amd64/v1` `linux/amd64`, `linux/i386` `linux/386`, `linux/armhf` and
    /// `linux/arm` `linux/arm/v7`, `linux/armel` `linux/arm/v6`, `macos/…` `darwin/…`.
    /// Any plain names are a platform; whether rustc has a target for it is
    /// [`Rustc::for_platform`]'s question.
    pub fn parse(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => bail!(
                "platform `{}` is not of the form `os/arch[/variant]` (hint: e.g. `linux/arm64`, `linux/arm/v7` or `windows/amd64`)",
                s.escape_debug()
            ),
        };
        let os = if os == "macos" { "darwin" } else { os };
        let variant = variant.map(|v| {
            if v.len() == 1 && v.bytes().all(|b| b.is_ascii_digit()) {
                format!("v{v}")
            } else {
                v.to_owned()
            }
        });
        let (arch, variant) = match (arch, variant.as_deref()) {
            ("x86_64" | "x86-64" | "amd64", Some("v1") | None) => ("amd64", None),
            ("x86_64" | "x86-64", v) => ("amd64", v),
            ("i386" | "x86" | "i686", v) => ("386", v),
            ("aarch64" | "arm64", Some("v8") | None) => ("arm64", None),
            ("aarch64", v) => ("arm64", v),
            ("armhf" | "arm" | "armv7" | "armv7l", None) => ("arm", Some("v7")),
            ("armel" | "armv6" | "armv6l", None) => ("arm", Some("v6")),
            ("ppc64el", v) => ("ppc64le", v),
            ("loongarch64", v) => ("loong64", v),
            ("mips64el", v) => ("mips64le", v),
            ("mipsel", v) => ("mipsle", v),
            (a, v) => (a, v),
        };
        Self::new(os, arch, variant).ok_or_else(|| {
            anyhow::anyhow!(
                "platform `{}` is not of the form `os/arch[/variant]` with lowercase names (hint: e.g. `linux/arm64`, `linux/arm/v7` or `windows/amd64`)",
                s.escape_debug()
            )
        })
    }

    /// The platform this process runs on (OS and CPU; no variant), None for a CPU
    /// with no name here.
    pub fn host() -> Option<Self> {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            os => os,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "loongarch64" => "loong64",
            a @ ("arm" | "riscv64" | "s390x") => a,
            _ => return None,
        };
        Self::new(os, arch, None)
    }

    /// The path below the out dir: `linux/amd64`, `linux/arm/v7`.
    pub fn dir(self) -> String {
        self.to_string()
    }

    /// Apple's operating systems, whose binaries are Mach-O.
    pub fn is_apple(self) -> bool {
        matches!(
            self.os.as_str(),
            "darwin" | "ios" | "tvos" | "watchos" | "visionos"
        )
    }

    /// How its binaries are stored.
    pub fn format(self) -> Format {
        if self.is_apple() {
            Format::MachO
        } else if matches!(self.os.as_str(), "windows" | "uefi") {
            Format::Pe
        } else if matches!(self.arch.as_str(), "wasm" | "wasm64") {
            Format::Wasm
        } else {
            Format::Elf
        }
    }

    /// The suffix rustc gives its executables: `.exe` on Windows, `.efi` for UEFI,
    /// `.wasm` for WebAssembly.
    pub fn exe_suffix(self) -> &'static str {
        match (self.os.as_str(), self.format()) {
            ("uefi", _) => ".efi",
            (_, Format::Pe) => ".exe",
            (_, Format::Wasm) => ".wasm",
            _ => "",
        }
    }

    /// Archives for Windows are `.zip`, as Windows users (and every peer) expect;
    /// `.tar.gz` everywhere else.
    pub fn archive_ext(self) -> &'static str {
        if self.os == "windows" {
            "zip"
        } else {
            "tar.gz"
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Read from untrusted data (manifests, build records, OCI descriptors' `os/arch`
/// aside): a platform in its normal form (`linux/arm64`, never `linux/aarch64`), which
/// is also the directory it is filed under.
impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match Self::parse(&s) {
            Ok(p) if p.to_string() == s => Ok(p),
            Ok(p) => Err(serde::de::Error::custom(format!(
                "platform `{}` is not in its normal form `{p}`",
                s.escape_debug()
            ))),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
    }
}

/// `--expect` (repeatable, comma lists): `None` when not given; an empty value or item
/// is an error, never "expect nothing".
pub fn parse_expect(list: &[String]) -> Result<Option<Vec<Platform>>> {
    if list.is_empty() {
        return Ok(None);
    }
    split_flag("--expect", "linux/amd64,linux/arm64", list)?
        .iter()
        .map(|p| Platform::parse(p))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The items of a repeatable comma-list flag (`--platform a,b --platform c`), trimmed.
/// A value that is empty (`--platform=`) or holds an empty item (`--platform a,`) is an
/// error naming `flag`; `example` is a good value for the hint.
pub fn split_flag(flag: &str, example: &str, values: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for value in values {
        let items: Vec<&str> = value.split(',').map(str::trim).collect();
        if items.iter().all(|i| i.is_empty()) {
            bail!(
                "`{flag}` was given an empty value, which names nothing (hint: name at least one, e.g. `{flag} {example}`, or leave `{flag}` out for the default)"
            );
        }
        if items.iter().any(|i| i.is_empty()) {
            let kept: Vec<&str> = items.iter().copied().filter(|i| !i.is_empty()).collect();
            bail!(
                "`{flag}` value `{value}` has an empty item (hint: drop the stray comma: `{flag} {}`)",
                kept.join(",")
            );
        }
        out.extend(items.into_iter().map(str::to_owned));
    }
    Ok(out)
}

pub fn check_distinct_platforms(targets: &[Target]) -> Result<()> {
    for (i, a) in targets.iter().enumerate() {
        if let Some(b) = targets[i + 1..]
            .iter()
            .find(|b| b.platform() == a.platform())
        {
            bail!(
                "targets `{a}` and `{b}` both map to platform `{}`, so both would be written to `out/{}/` (hint: build them in separate runs with distinct `--out-dir`s)",
                a.platform(),
                a.platform().dir()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// Property tests: any string is a platform, which round-trips through its printed
/// form, or an error; any string is a target name or an error.
#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;
    use crate::testgen::{check_platform, config, nasty_string};

    /// Pieces of platforms as people and tools write them, right and wrong.
    const PLATFORM_PIECES: &[&str] = &[
        "linux", "LINUX", "Linux", "darwin", "macos", "windows", "amd64", "x86_64", "x86-64",
        "aarch64", "arm64", "ARM64", "arm", "armv7", "armhf", "armel", "v7", "v8", "v6", "7",
        "riscv64", "s390x", "i386", "", " ", "\t", "é", "..", "\0", "ı", "K",
    ];

    fn platform_like() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(select(PLATFORM_PIECES), 1..5),
            select(&["/", "//", "\\", "-"][..]),
            select(&["", " ", "\n", "/"][..]),
        )
            .prop_map(|(parts, sep, pad)| format!("{pad}{}{pad}", parts.join(sep)))
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn any_string_is_a_platform_or_an_error(
            s in prop_oneof![platform_like(), nasty_string(), any::<String>()],
        ) {
            if let Ok(p) = Platform::parse(&s) {
                check_platform(p);
            }
            // Read back from a file, only the normal form is accepted.
            if let Ok(p) = serde_json::from_value::<Platform>(serde_json::Value::String(s.clone())) {
                check_platform(p);
                prop_assert_eq!(p.to_string(), s);
            }
        }

        #[test]
        fn any_string_is_a_target_name_or_an_error(
            s in prop_oneof![nasty_string(), any::<String>(), "[a-z0-9_.-]{1,20}"],
        ) {
            if let Ok(n) = TargetName::new(&s) {
                prop_assert_eq!(n.as_str(), s.as_str());
                let rel = crate::outdir::RelPath::new(&format!(".multiarch/{n}.json"));
                prop_assert!(rel.is_ok());
            }
            if let Ok(n) = serde_json::from_value::<TargetName>(serde_json::Value::String(s.clone())) {
                prop_assert_eq!(n.as_str(), s.as_str());
            }
        }
    }
}
