//! The `[package.metadata.binstall]` table that makes `cargo binstall` fetch our
//! archives: `pkg-url` and `bin-dir` in binstall's template syntax (`{ name }`,
//! `{ version }`, `{ target }`, `{ bin }`, `{ binary-ext }`), `pkg-fmt`, an override
//! per target whose archive another format or name (Windows `.zip`, zig's glibc
//! suffix), and `signing` with the minisign public key, whose `<archive>.sig` binstall
//! fetches beside each archive (`{ url }.sig`, written by `sign`).

use std::fmt::Write as _;

use super::UrlTemplate;
use crate::platform::{Platform, TargetName};

/// What one package's archives are named after.
#[derive(Debug, Clone)]
pub(crate) struct Names<'a> {
    /// The crate's version: binstall's `{ version }` (its `{ name }` is the crate's).
    pub version: &'a str,
    /// The archive set's name and version when they are not the package's (`--archive
    /// per-target`: the workspace's).
    pub set: Option<(&'a str, &'a str)>,
}

/// The URL template in binstall's syntax, ending in `/`: `{version}` is
/// `{ version }`, `{tag}` is `v{ version }`.
fn base(url: &UrlTemplate) -> String {
    let mut s = url
        .as_str()
        .replace("{version}", "{ version }")
        .replace("{tag}", "v{ version }");
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// `<set>-<version>-` in binstall's syntax.
fn stem(names: &Names<'_>) -> String {
    match names.set {
        Some((set, version)) if version == names.version => format!("{set}-{{ version }}-"),
        Some((set, version)) => format!("{set}-{version}-"),
        None => "{ name }-{ version }-".to_owned(),
    }
}

/// The table for `names`' archives of `targets` (the target name the out dir uses,
/// the rustc triple binstall asks for, its platform), downloaded from `url`, signed by
/// `pubkey` (the base64 line of `minisign.pub`) when given.
pub(crate) fn table(
    names: &Names<'_>,
    url: &UrlTemplate,
    targets: &[(TargetName, String, Platform)],
    pubkey: Option<&str>,
) -> String {
    let (base, stem) = (base(url), stem(names));
    let mut s = "[package.metadata.binstall]\n".to_owned();
    let _ = writeln!(s, "pkg-url = \"{base}{stem}{{ target }}.tar.gz\"");
    let _ = writeln!(
        s,
        "bin-dir = \"{stem}{{ target }}/{{ bin }}{{ binary-ext }}\""
    );
    let _ = writeln!(s, "pkg-fmt = \"tgz\"");
    for (name, triple, platform) in targets {
        let windows = platform.archive_ext() == "zip";
        if !windows && name.as_str() == triple {
            continue;
        }
        // binstall asks for the rustc triple; the archive may be named otherwise.
        let target = if name.as_str() == triple {
            "{ target }".to_owned()
        } else {
            name.to_string()
        };
        let _ = writeln!(
            s,
            "\n[package.metadata.binstall.overrides.{triple}]\npkg-url = \"{base}{stem}{target}.{}\"\nbin-dir = \"{stem}{target}/{{ bin }}{{ binary-ext }}\"\npkg-fmt = \"{}\"",
            platform.archive_ext(),
            if windows { "zip" } else { "tgz" }
        );
    }
    if let Some(key) = pubkey {
        let _ = writeln!(
            s,
            "\n[package.metadata.binstall.signing]\nalgorithm = \"minisign\"\npubkey = \"{key}\""
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout;

    /// binstall's rendering (leon): `{ key }` is the key's value; our templates use no
    /// escapes.
    fn render(template: &str, vars: &[(&str, &str)]) -> String {
        let mut out = template.to_owned();
        for (k, v) in vars {
            out = out.replace(&format!("{{ {k} }}"), v);
        }
        assert!(!out.contains('{'), "unrendered key in `{out}`");
        out
    }

    /// binstall's choice for a target: the override's keys, else the table's.
    fn lookup(table: &toml::Value, triple: &str, key: &str) -> String {
        let b = &table["package"]["metadata"]["binstall"];
        b.get("overrides")
            .and_then(|o| o.get(triple))
            .and_then(|o| o.get(key))
            .unwrap_or(&b[key])
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn target(name: &str, triple: &str, platform: &str) -> (TargetName, String, Platform) {
        (
            TargetName::new(name).unwrap(),
            triple.to_owned(),
            Platform::parse(platform).unwrap(),
        )
    }

    #[test]
    fn binstall_renders_our_archive_names_for_every_target() {
        let targets = [
            target(
                "x86_64-unknown-linux-musl",
                "x86_64-unknown-linux-musl",
                "linux/amd64",
            ),
            target(
                "aarch64-unknown-linux-musl",
                "aarch64-unknown-linux-musl",
                "linux/arm64",
            ),
            target(
                "x86_64-unknown-linux-gnu.2.17",
                "x86_64-unknown-linux-gnu",
                "linux/amd64",
            ),
            target(
                "x86_64-pc-windows-gnu",
                "x86_64-pc-windows-gnu",
                "windows/amd64",
            ),
            target(
                "universal2-apple-darwin",
                "universal2-apple-darwin",
                "darwin/universal2",
            ),
        ];
        let url = UrlTemplate::parse("https://github.com/o/r/releases/download/{tag}").unwrap();
        for (names, set) in [
            (
                Names {
                    version: "1.2.0",
                    set: None,
                },
                "app",
            ),
            (
                Names {
                    version: "1.2.0",
                    set: Some(("ws", "1.2.0")),
                },
                "ws",
            ),
        ] {
            let text = table(&names, &url, &targets, Some("RWQkey"));
            let parsed: toml::Value = toml::from_str(&text).unwrap();
            for (name, triple, platform) in &targets {
                let vars = [
                    ("name", "app"),
                    ("version", "1.2.0"),
                    ("target", triple.as_str()),
                    ("bin", "app"),
                    ("binary-ext", platform.exe_suffix()),
                ];
                let top = format!("{set}-1.2.0-{name}");
                let archive = layout::archive(*platform, &top).unwrap();
                assert_eq!(
                    render(&lookup(&parsed, triple, "pkg-url"), &vars),
                    format!(
                        "https://github.com/o/r/releases/download/v1.2.0/{}",
                        archive.file_name()
                    ),
                    "{text}"
                );
                assert_eq!(
                    render(&lookup(&parsed, triple, "bin-dir"), &vars),
                    format!("{top}/app{}", platform.exe_suffix())
                );
                let fmt = lookup(&parsed, triple, "pkg-fmt");
                assert_eq!(
                    fmt,
                    if platform.os == "windows" {
                        "zip"
                    } else {
                        "tgz"
                    }
                );
            }
            let signing = &parsed["package"]["metadata"]["binstall"]["signing"];
            assert_eq!(signing["algorithm"].as_str(), Some("minisign"));
            assert_eq!(signing["pubkey"].as_str(), Some("RWQkey"));
        }
    }
}
