//! The installers of a release: `<set>-installer.sh` (POSIX sh: dash, bash, busybox
//! ash) and `<set>-installer.ps1` (PowerShell), one pair per archive set (a package's
//! archives, or the workspace's with `--archive per-target`). Each carries the name
//! and sha256 of every archive of its set and of every binary inside, and the URL the
//! release's files are downloaded from (flat: `<url><archive file name>`); it picks
//! the archive of the machine it runs on, checks it and installs its binaries.
//!
//! An installer is rendered from the manifest's archives alone, byte for byte the
//! same for the same archives and URL, so `verify` re-renders each one from the URL
//! it names and compares ([`check`]), and `merge` writes them again for every
//! platform of the merged set. The `[package.metadata.binstall]` table matching the
//! same archive names is [`binstall`]'s.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};

use crate::digest::Sha256;
use crate::layout::{self, Kind};
use crate::manifest::{Artifact, Manifest};
use crate::outdir::OutDir;
use crate::platform::Platform;

pub(crate) mod binstall;

const SH: &str = include_str!("installer/installer.sh");
const PS1: &str = include_str!("installer/installer.ps1");
/// The largest installer read back (a real one is a few KiB).
const MAX_BYTES: u64 = crate::limits::MAX_INSTALLER_BYTES;

/// `--download-url`: where a release's files are downloaded from, `{version}` and
/// `{tag}` (`v{version}`) standing for the archive set's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlTemplate(String);

impl UrlTemplate {
    /// Checks a template: `http://` or `https://`, and only characters that need no
    /// quoting in a URL, a shell or PowerShell string (no quote, `$`, backquote,
    /// backslash or space), with `{version}` and `{tag}` the only placeholders.
    pub(crate) fn parse(s: &str) -> Result<Self> {
        let hint =
            "(hint: e.g. `--download-url https://github.com/OWNER/REPO/releases/download/{tag}/`)";
        if !(s.starts_with("https://") || s.starts_with("http://")) {
            bail!(
                "download URL `{}` is not an `https://` or `http://` URL {hint}",
                s.escape_debug()
            );
        }
        let rest = s.replace("{version}", "").replace("{tag}", "");
        if let Some(c) = rest
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~:/?#[]@!&()*+,;=%".contains(*c)))
        {
            bail!(
                "download URL `{}` holds `{}`, which installers do not embed; only `{{version}}` and `{{tag}}` are expanded {hint}",
                s.escape_debug(),
                c.escape_debug()
            );
        }
        Ok(Self(s.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL for an archive set of `version`, ending in `/`.
    pub(crate) fn expand(&self, version: &str) -> String {
        let url = self
            .0
            .replace("{version}", version)
            .replace("{tag}", &format!("v{version}"));
        if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        }
    }
}

/// One archive an installer may pick.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Choice {
    platform: Platform,
    target: String,
    file: String,
    sha256: Sha256,
    /// (path in the archive, sha256) of each binary.
    binaries: Vec<(String, Sha256)>,
}

/// An archive set: its name, version and archives, most wanted first per platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Set {
    pub name: String,
    pub version: String,
    /// The package, for a per-package set.
    package: Option<String>,
    choices: Vec<Choice>,
}

/// A name an installer embeds unquoted: letters, digits and `._+/-`.
fn plain_token(what: &str, s: &str) -> Result<()> {
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+/-".contains(&b))
    {
        bail!(
            "{what} `{}` holds a character an installer cannot carry (only letters, digits and `._+/-`)",
            s.escape_debug()
        );
    }
    Ok(())
}

/// The archive sets of `m`, by name: every archive with its target, platform and
/// version, grouped by the name its file starts with.
pub(crate) fn sets(m: &Manifest) -> Result<BTreeMap<String, Set>> {
    let mut sets: BTreeMap<String, Set> = BTreeMap::new();
    for a in m.artifacts.iter().filter(|a| a.kind == Kind::Archive) {
        let (Some(target), Some(platform), Some(version)) = (&a.target, a.platform, &a.version)
        else {
            bail!("archive `{}` has no target, platform or version", a.path);
        };
        let Some(name) = layout::archive_set(&a.path, version, target.as_str()) else {
            bail!(
                "archive `{}` is not named `<name>-{version}-{target}.<ext>`",
                a.path
            );
        };
        let choice = Choice {
            platform,
            target: target.to_string(),
            file: a.path.file_name().to_owned(),
            sha256: a.sha256.clone(),
            binaries: a
                .contents
                .iter()
                .filter(|c| c.binary.is_some())
                .map(|c| (c.path.to_string(), c.sha256.clone()))
                .collect(),
        };
        plain_token("archive", &choice.file)?;
        plain_token("target", &choice.target)?;
        for (path, _) in &choice.binaries {
            plain_token("binary path", path)?;
        }
        let set = sets.entry(name.to_owned()).or_insert_with(|| Set {
            name: name.to_owned(),
            version: version.clone(),
            package: a.package.clone(),
            choices: Vec::new(),
        });
        if &set.version != version {
            bail!(
                "archive set `{name}` holds version {version} and version {} (hint: build every archive of a release from the same commit)",
                set.version
            );
        }
        set.choices.push(choice);
    }
    for set in sets.values_mut() {
        plain_token("archive set name", &set.name)?;
        plain_token("version", &set.version)?;
        // musl builds are static and run on any Linux: they come first.
        set.choices.sort_by(|a, b| {
            (a.platform, !a.target.contains("musl"), &a.target).cmp(&(
                b.platform,
                !b.target.contains("musl"),
                &b.target,
            ))
        });
    }
    Ok(sets)
}

fn fill(template: &str, set: &Set, base_url: &str, archives: &str) -> String {
    template
        .replace("@ARCHIVES@", archives)
        .replace("@APP@", &set.name)
        .replace("@VERSION@", &set.version)
        .replace("@TOOL_VERSION@", env!("CARGO_PKG_VERSION"))
        .replace("@BASE_URL@", base_url)
}

/// One line of the sh installer's table: `platform target archive sha256 path=sha256…`.
fn sh_line(c: &Choice) -> String {
    let mut line = format!("{} {} {} {}", c.platform, c.target, c.file, c.sha256);
    for (path, sha) in &c.binaries {
        line.push_str(&format!(" {path}={sha}"));
    }
    line
}

/// One entry of the PowerShell installer's table.
fn ps1_entry(c: &Choice) -> String {
    let binaries: Vec<String> = c
        .binaries
        .iter()
        .map(|(path, sha)| format!("@{{ Path = '{path}'; Sha256 = '{sha}' }}"))
        .collect();
    format!(
        "    @{{ Platform = '{}'; Target = '{}'; File = '{}'; Sha256 = '{}'; Binaries = @({}) }}",
        c.platform,
        c.target,
        c.file,
        c.sha256,
        binaries.join(", ")
    )
}

fn is_windows(c: &Choice) -> bool {
    c.platform.os == "windows"
}

/// The `.sh` installer of `set`, downloading from `base_url` (expanded, ending in `/`).
pub(crate) fn render_sh(set: &Set, base_url: &str) -> String {
    let lines: Vec<String> = set
        .choices
        .iter()
        .filter(|c| !is_windows(c))
        .map(sh_line)
        .collect();
    fill(SH, set, base_url, &lines.join("\n"))
}

/// The `.ps1` installer of `set`: its Windows archives.
pub(crate) fn render_ps1(set: &Set, base_url: &str) -> String {
    let entries: Vec<String> = set
        .choices
        .iter()
        .filter(|c| is_windows(c))
        .map(ps1_entry)
        .collect();
    fill(PS1, set, base_url, &entries.join("\n"))
}

/// The URL an installer's text downloads from, as it was rendered; `None` when it names
/// none, or one `package` could not have written.
pub(crate) fn base_url(text: &str, sh: bool) -> Option<&str> {
    let prefix = if sh { "base_url='" } else { "$baseUrl = '" };
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|l| l.strip_suffix('\''))
        // Read back from a file someone else may have written: only a URL `package`
        // itself would embed (no quote, `$`, backquote, space…) is taken, so neither
        // `verify` nor `merge` ever re-renders a crafted one into a script.
        .filter(|u| UrlTemplate::parse(u).is_ok())
}

/// Writes the installers of each set of `m` that `urls` gives a base URL (expanded,
/// ending in `/`) and lists them in `m`, in place of any it listed before.
pub(crate) fn write(out: &OutDir, m: &mut Manifest, urls: &BTreeMap<String, String>) -> Result<()> {
    m.artifacts.retain(|a| a.kind != Kind::Installer);
    let sets = sets(m)?;
    for (name, url) in urls {
        let Some(set) = sets.get(name) else {
            bail!("no archive set `{name}` to write an installer for");
        };
        let [sh, ps1] = layout::installers(name)?;
        for (path, text, exec) in [
            (sh, render_sh(set, url), true),
            (ps1, render_ps1(set, url), false),
        ] {
            out.write(&path, text.as_bytes())?;
            if exec {
                out.set_executable(&path)?;
            }
            m.artifacts.push(Artifact {
                package: set.package.clone(),
                version: Some(set.version.clone()),
                ..Artifact::new(
                    Kind::Installer,
                    path,
                    Sha256::of(text.as_bytes()),
                    text.len() as u64,
                )
            });
        }
    }
    m.artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(())
}

/// The base URL of each archive set's installers listed in `m` (as read from the
/// `.sh` one), for `merge` to write them again; an error when an installer names none.
pub(crate) fn listed_urls(out: &OutDir, m: &Manifest) -> Result<BTreeMap<String, String>> {
    let mut urls = BTreeMap::new();
    for a in m.artifacts.iter().filter(|a| a.kind == Kind::Installer) {
        let Some((set, true)) = layout::installer_set(a.path.as_str()) else {
            continue;
        };
        let text = out.read(&a.path, MAX_BYTES)?;
        let text = String::from_utf8(text).with_context(|| format!("`{}` is not text", a.path))?;
        let Some(url) = base_url(&text, true) else {
            bail!("`{}` names no `base_url`", a.path);
        };
        urls.insert(set.to_owned(), url.to_owned());
    }
    Ok(urls)
}

/// `verify`: each installer `m` lists is named after one of its archive sets, and
/// carries exactly that set's archives (names, sha256s, binaries) as `m` lists them:
/// it is what rendering them with the URL it names gives. One line per problem.
pub(crate) fn check(out: &OutDir, m: &Manifest, passed: &[&Artifact]) -> Vec<String> {
    let installers: Vec<&Artifact> = m
        .artifacts
        .iter()
        // Only an installer whose hash checked out is read (a failed one is reported).
        .filter(|a| a.kind == Kind::Installer && passed.iter().any(|p| p.path == a.path))
        .collect();
    if installers.is_empty() {
        return Vec::new();
    }
    let sets = match sets(m) {
        Ok(s) => s,
        Err(e) => return vec![format!("installers: {e:#}")],
    };
    let mut problems = Vec::new();
    for a in installers {
        if let Err(e) = check_one(out, a, &sets) {
            problems.push(format!("{}: {e:#}", a.path));
        }
    }
    problems
}

fn check_one(out: &OutDir, a: &Artifact, sets: &BTreeMap<String, Set>) -> Result<()> {
    let Some((name, sh)) = layout::installer_set(a.path.as_str()) else {
        bail!("an installer is named `<set>-installer.sh` or `.ps1`, at the out dir's top");
    };
    let Some(set) = sets.get(name) else {
        bail!(
            "an installer of no archive set this manifest lists (hint: re-run `cargo multiarch package --installers`)"
        );
    };
    let text = String::from_utf8(a.read_checked(out, MAX_BYTES)?).context("it is not text")?;
    let Some(url) = base_url(&text, sh) else {
        bail!("it names no download URL");
    };
    let want = if sh {
        render_sh(set, url)
    } else {
        render_ps1(set, url)
    };
    if text == want {
        return Ok(());
    }
    // Say which archive differs, when one does.
    for c in set.choices.iter().filter(|c| is_windows(c) != sh) {
        let wanted = if sh { sh_line(c) } else { ps1_entry(c) };
        if !text.lines().any(|l| l == wanted) {
            let named = text.lines().find(|l| l.contains(&c.file));
            bail!(
                "it does not carry archive `{}` with sha256 {} as the manifest lists it{} (hint: re-run `cargo multiarch package --installers`)",
                c.file,
                c.sha256,
                named.map_or_else(String::new, |l| format!(
                    ": it has `{}`",
                    crate::limits::shown(l.trim())
                ))
            );
        }
    }
    bail!(
        "it is not the installer the manifest's archives give (hint: re-run `cargo multiarch package --installers`)"
    )
}

#[cfg(test)]
mod tests;
