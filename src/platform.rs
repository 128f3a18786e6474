//! Rust target triples and OCI platforms (`os/arch[/variant]`), both directions.
//!
//! The out tree mirrors buildx's normalised `TARGETPLATFORM`, so a Dockerfile can
//! `COPY out/${TARGETPLATFORM}/bin/app /app` without any mapping.

use std::fmt;

use anyhow::{Result, bail};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An OCI platform as buildx normalises it: `linux/amd64`, `linux/arm64`, `linux/arm/v7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: &'static str,
    pub arch: &'static str,
    pub variant: Option<&'static str>,
}

/// What we know about a supported target triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetInfo {
    pub triple: &'static str,
    pub platform: Platform,
    /// The ELF `e_machine` its binaries carry (None for non-ELF targets).
    pub elf_machine: Option<u16>,
    /// Binary file suffix (`.exe` on Windows).
    pub exe_suffix: &'static str,
}

const fn p(os: &'static str, arch: &'static str, variant: Option<&'static str>) -> Platform {
    Platform { os, arch, variant }
}

pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
pub const EM_ARM: u16 = 40;
pub const EM_RISCV: u16 = 243;

/// The supported targets, default targets first (DESIGN.md, "Platforms").
pub const TARGETS: &[TargetInfo] = &[
    t(
        "x86_64-unknown-linux-musl",
        p("linux", "amd64", None),
        Some(EM_X86_64),
        "",
    ),
    t(
        "aarch64-unknown-linux-musl",
        p("linux", "arm64", None),
        Some(EM_AARCH64),
        "",
    ),
    t(
        "x86_64-unknown-linux-gnu",
        p("linux", "amd64", None),
        Some(EM_X86_64),
        "",
    ),
    t(
        "aarch64-unknown-linux-gnu",
        p("linux", "arm64", None),
        Some(EM_AARCH64),
        "",
    ),
    t(
        "armv7-unknown-linux-musleabihf",
        p("linux", "arm", Some("v7")),
        Some(EM_ARM),
        "",
    ),
    t(
        "riscv64gc-unknown-linux-gnu",
        p("linux", "riscv64", None),
        Some(EM_RISCV),
        "",
    ),
    t(
        "x86_64-pc-windows-gnu",
        p("windows", "amd64", None),
        None,
        ".exe",
    ),
    t("x86_64-apple-darwin", p("darwin", "amd64", None), None, ""),
    t("aarch64-apple-darwin", p("darwin", "arm64", None), None, ""),
];

const fn t(
    triple: &'static str,
    platform: Platform,
    elf_machine: Option<u16>,
    exe_suffix: &'static str,
) -> TargetInfo {
    TargetInfo {
        triple,
        platform,
        elf_machine,
        exe_suffix,
    }
}

/// The targets built when neither the command line nor the config names any.
pub const DEFAULT_TARGETS: &[&str] = &["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

/// A target the user asked for: a known triple, possibly with zig's glibc suffix
/// (`x86_64-unknown-linux-gnu.2.17`), which only the zig backend understands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// What the user wrote, passed to the backend as is.
    pub requested: String,
    pub info: &'static TargetInfo,
}

impl Target {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some(info) = TARGETS.iter().find(|i| i.triple == s) {
            return Ok(Self {
                requested: s.to_owned(),
                info,
            });
        }
        // zig's glibc version suffix, e.g. x86_64-unknown-linux-gnu.2.17
        if let Some((base, suffix)) = s.split_once('.')
            && base.ends_with("-linux-gnu")
            && !suffix.is_empty()
            && suffix
                .split('.')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            && let Some(info) = TARGETS.iter().find(|i| i.triple == base)
        {
            return Ok(Self {
                requested: s.to_owned(),
                info,
            });
        }
        bail!(
            "unknown target `{s}`; supported targets: {} (a `-linux-gnu` triple may carry a glibc version for zig, e.g. `x86_64-unknown-linux-gnu.2.17`)",
            TARGETS
                .iter()
                .map(|i| i.triple)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The triple rustc knows (without a glibc suffix): what rust-std and cargo's
    /// `target/<triple>/` use.
    pub fn triple(&self) -> &'static str {
        self.info.triple
    }

    pub fn platform(&self) -> Platform {
        self.info.platform
    }

    /// True when the user asked for a glibc version (`.2.17`), which needs zig.
    pub fn has_glibc_suffix(&self) -> bool {
        self.requested != self.info.triple
    }

    pub fn is_linux(&self) -> bool {
        self.info.platform.os == "linux"
    }

    pub fn is_musl(&self) -> bool {
        self.info.triple.contains("-musl")
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

/// Read from untrusted data (manifests, build records): a known target, exactly as
/// this tool writes it.
impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match Self::parse(&s) {
            Ok(t) if t.requested == s => Ok(t),
            Ok(_) => Err(serde::de::Error::custom(format!(
                "target `{}` has surrounding white space",
                s.escape_debug()
            ))),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
    }
}

impl Platform {
    /// Parses `os/arch[/variant]` the way buildx accepts it: `linux/arm64/v8` and
    /// `linux/aarch64` normalise to `linux/arm64`, `linux/x86_64` to `linux/amd64`.
    pub fn parse(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => bail!(
                "platform `{s}` is not of the form `os/arch[/variant]`; supported platforms: {}",
                supported_platforms()
            ),
        };
        let os = if os == "macos" { "darwin" } else { os };
        let (arch, variant) = match (arch, variant) {
            ("x86_64" | "x86-64", v) => ("amd64", v),
            ("aarch64", v) => ("arm64", v),
            ("arm64", Some("v8")) => ("arm64", None),
            ("armv7" | "armhf" | "arm", None) => ("arm", Some("v7")),
            (a, v) => (a, v),
        };
        TARGETS
            .iter()
            .map(|i| i.platform)
            .find(|pl| pl.os == os && pl.arch == arch && pl.variant == variant)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown platform `{s}`; supported platforms: {}",
                    supported_platforms()
                )
            })
    }

    /// The default triple for a platform: the first in the table, so musl for Linux.
    pub fn default_target(self) -> Target {
        let info = TARGETS
            .iter()
            .find(|i| i.platform == self)
            .expect("every platform comes from TARGETS");
        Target {
            requested: info.triple.to_owned(),
            info,
        }
    }

    /// The path below the out dir: `linux/amd64`, `linux/arm/v7`.
    pub fn dir(self) -> String {
        self.to_string()
    }

    /// The same, as a checked out-dir path.
    pub fn rel_dir(self) -> crate::outdir::RelPath {
        crate::outdir::RelPath::new(&self.to_string()).expect("platform names are plain paths")
    }
}

fn supported_platforms() -> String {
    let mut seen: Vec<String> = Vec::new();
    for i in TARGETS {
        let s = i.platform.to_string();
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.join(", ")
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
/// aside): a known platform in its normal form (`linux/arm64`, never `linux/aarch64`),
/// which is also the directory it is filed under.
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

/// [`DEFAULT_TARGETS`] as targets.
pub fn default_targets() -> Vec<Target> {
    DEFAULT_TARGETS
        .iter()
        .map(|t| Target::parse(t).expect("default targets are in the table"))
        .collect()
}

/// Resolves the `--target` and `--platform` flags (each may be repeated and hold a
/// comma list) into targets, in the order given, without duplicates. An empty value or
/// an empty item is an error naming the flag: it never means "the defaults". Two
/// targets mapping to one platform is an error, since both would write to the same
/// `out/<os>/<arch>/`.
pub fn resolve(targets: &[String], platforms: &[String]) -> Result<Vec<Target>> {
    let mut out: Vec<Target> = Vec::new();
    for t in split_flag("--target", "x86_64-unknown-linux-musl", targets)? {
        let t = Target::parse(&t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    for pl in split_flag("--platform", "linux/amd64,linux/arm64", platforms)? {
        let t = Platform::parse(&pl)?.default_target();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    check_distinct_platforms(&out)?;
    Ok(out)
}

/// The targets a `targets` list from the config names (its items are checked
/// non-empty when the config is read), in order, without duplicates.
pub fn resolve_config(list: &[String]) -> Result<Vec<Target>> {
    let mut out: Vec<Target> = Vec::new();
    for item in list.iter().flat_map(|s| s.split(',')) {
        let t = Target::parse(item)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    check_distinct_platforms(&out)?;
    Ok(out)
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
mod tests {
    use super::*;

    #[test]
    fn every_triple_maps_to_its_platform_and_back() {
        let cases = [
            ("x86_64-unknown-linux-musl", "linux/amd64"),
            ("aarch64-unknown-linux-musl", "linux/arm64"),
            ("x86_64-unknown-linux-gnu", "linux/amd64"),
            ("aarch64-unknown-linux-gnu", "linux/arm64"),
            ("armv7-unknown-linux-musleabihf", "linux/arm/v7"),
            ("riscv64gc-unknown-linux-gnu", "linux/riscv64"),
            ("x86_64-pc-windows-gnu", "windows/amd64"),
            ("x86_64-apple-darwin", "darwin/amd64"),
            ("aarch64-apple-darwin", "darwin/arm64"),
        ];
        for (triple, platform) in cases {
            let t = Target::parse(triple).unwrap();
            assert_eq!(t.platform().to_string(), platform, "{triple}");
            assert_eq!(Platform::parse(platform).unwrap(), t.platform());
        }
        // A platform alone means the first (musl for Linux) triple.
        for (platform, triple) in [
            ("linux/amd64", "x86_64-unknown-linux-musl"),
            ("linux/arm64", "aarch64-unknown-linux-musl"),
            ("linux/arm/v7", "armv7-unknown-linux-musleabihf"),
            ("linux/riscv64", "riscv64gc-unknown-linux-gnu"),
            ("windows/amd64", "x86_64-pc-windows-gnu"),
            ("darwin/arm64", "aarch64-apple-darwin"),
        ] {
            assert_eq!(
                Platform::parse(platform).unwrap().default_target().triple(),
                triple
            );
        }
    }

    #[test]
    fn platforms_normalise_like_buildx() {
        for (given, want) in [
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/x86_64", "linux/amd64"),
            ("LINUX/AMD64", "linux/amd64"),
            ("linux/arm", "linux/arm/v7"),
        ] {
            assert_eq!(Platform::parse(given).unwrap().to_string(), want, "{given}");
        }
    }

    #[test]
    fn glibc_suffix_is_kept_for_zig() {
        let t = Target::parse("x86_64-unknown-linux-gnu.2.17").unwrap();
        assert_eq!(t.triple(), "x86_64-unknown-linux-gnu");
        assert_eq!(t.to_string(), "x86_64-unknown-linux-gnu.2.17");
        assert!(t.has_glibc_suffix());
        assert!(Target::parse("x86_64-unknown-linux-musl.1.2").is_err());
    }

    #[test]
    fn unknown_target_and_platform_list_supported_ones() {
        let e = Target::parse("mips-unknown-linux-musl")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown target `mips-unknown-linux-musl`"),
            "{e}"
        );
        assert!(e.contains("aarch64-unknown-linux-musl"), "{e}");
        let e = Platform::parse("linux/s390x").unwrap_err().to_string();
        assert!(e.contains("unknown platform `linux/s390x`"), "{e}");
        assert!(e.contains("linux/arm/v7"), "{e}");
    }

    #[test]
    fn resolve_splits_commas_dedups_and_rejects_one_platform_twice() {
        let got = resolve(
            &["aarch64-unknown-linux-musl,x86_64-unknown-linux-musl".into()],
            &["linux/arm64".into()],
        )
        .unwrap();
        let triples: Vec<_> = got.iter().map(Target::triple).collect();
        assert_eq!(
            triples,
            ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"]
        );
        let e = resolve(
            &[
                "x86_64-unknown-linux-musl".into(),
                "x86_64-unknown-linux-gnu".into(),
            ],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("both map to platform `linux/amd64`"), "{e}");
    }

    #[test]
    fn empty_flag_values_and_items_are_errors_naming_the_flag() {
        for (targets, platforms, want) in [
            (
                vec![String::new()],
                vec![],
                "`--target` was given an empty value",
            ),
            (
                vec![],
                vec![" , ".to_owned()],
                "`--platform` was given an empty value",
            ),
            (
                vec![],
                vec!["linux/amd64,".to_owned()],
                "`--platform` value `linux/amd64,` has an empty item (hint: drop the stray comma: `--platform linux/amd64`)",
            ),
            (
                vec!["x86_64-unknown-linux-musl,,aarch64-unknown-linux-musl".to_owned()],
                vec![],
                "`--target` value `x86_64-unknown-linux-musl,,aarch64-unknown-linux-musl` has an empty item",
            ),
        ] {
            let e = resolve(&targets, &platforms).unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}");
            assert!(e.ends_with(')') && e.contains("(hint: "), "{e}");
        }
        // No flag at all is no error: the caller falls back to the config or the defaults.
        assert!(resolve(&[], &[]).unwrap().is_empty());
    }
}

/// Property tests: any string is a known platform or target, which round-trips
/// through its printed form, or an error.
#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;
    use crate::testgen::{check_platform, check_target, config, nasty_string};

    /// Pieces of platforms as people and tools write them, right and wrong.
    const PLATFORM_PIECES: &[&str] = &[
        "linux", "LINUX", "Linux", "darwin", "macos", "windows", "amd64", "x86_64", "x86-64",
        "aarch64", "arm64", "ARM64", "arm", "armv7", "armhf", "v7", "v8", "v6", "riscv64", "s390x",
        "", " ", "\t", "é", "..", "\0", "ı", "K",
    ];

    fn platform_like() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(select(PLATFORM_PIECES), 1..5),
            select(&["/", "//", "\\", "-"][..]),
            select(&["", " ", "\n", "/"][..]),
        )
            .prop_map(|(parts, sep, pad)| format!("{pad}{}{pad}", parts.join(sep)))
    }

    fn target_like() -> impl Strategy<Value = String> {
        (
            select(TARGETS).prop_map(|i| i.triple),
            proptest::collection::vec(
                prop_oneof![
                    "[0-9]{1,3}",
                    Just("99999999999999999999999".to_owned()),
                    Just(String::new()),
                    nasty_string()
                ],
                0..4,
            ),
            select(&["", " ", "\n", "\u{a0}"][..]),
        )
            .prop_map(|(triple, suffix, pad)| {
                let mut s = format!("{pad}{triple}");
                for n in suffix {
                    s.push('.');
                    s.push_str(&n);
                }
                s.push_str(pad);
                s
            })
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn any_string_is_a_known_platform_or_an_error(
            s in prop_oneof![platform_like(), nasty_string(), any::<String>()],
        ) {
            if let Ok(p) = Platform::parse(&s) {
                check_platform(p);
                check_target(&p.default_target());
                prop_assert_eq!(p.default_target().platform(), p);
            }
            // Read back from a file, only the normal form is accepted.
            if let Ok(p) = serde_json::from_value::<Platform>(serde_json::Value::String(s.clone())) {
                check_platform(p);
                prop_assert_eq!(p.to_string(), s);
            }
        }

        #[test]
        fn any_string_is_a_known_target_or_an_error(
            s in prop_oneof![target_like(), nasty_string(), any::<String>()],
        ) {
            if let Ok(t) = Target::parse(&s) {
                check_target(&t);
                check_platform(t.platform());
                prop_assert_eq!(t.to_string(), s.trim());
                prop_assert_eq!(t.has_glibc_suffix(), t.requested != t.triple());
            }
            // Read back from a file, only the exact form is accepted.
            if let Ok(t) = serde_json::from_value::<Target>(serde_json::Value::String(s.clone())) {
                check_target(&t);
                prop_assert_eq!(t.to_string(), s);
            }
        }

        #[test]
        fn platform_and_target_lists_resolve_or_fail(
            targets in proptest::collection::vec(prop_oneof![target_like(), nasty_string()], 0..3),
            platforms in proptest::collection::vec(prop_oneof![platform_like(), nasty_string()], 0..3),
        ) {
            if let Ok(resolved) = resolve(&targets, &platforms) {
                for t in &resolved {
                    check_target(t);
                }
                check_distinct_platforms(&resolved).unwrap();
            }
        }
    }
}
