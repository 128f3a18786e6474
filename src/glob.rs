//! The `include` globs of the archives: the `glob` crate's syntax (`*`, `?`, `[ab]`,
//! `[!a]`) within one path component, `**` across components
//! (`include = ["docs/**/*.md"]`), matched by [`glob::Pattern`] and walked by our own
//! walker, which never follows a link (the `glob` crate's would). Package patterns
//! (`-p 'svc-*'`) use the same crate: see `workspace::select`.

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use glob::{MatchOptions, Pattern};

/// How a pattern component matches one name: `*` and `?` never match a `/` (there is
/// none in a name) nor a leading `.`, so hidden entries match only a component that
/// starts with `.` itself.
const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: true,
};

/// One component of an `include` pattern.
enum Part {
    /// `**`: zero or more directories.
    AnyDirs,
    /// A name with `*`, `?` or `[…]`.
    Glob(Pattern),
    /// A plain name, looked up without listing its directory.
    Name(String),
}

impl Part {
    fn parse(pattern: &str, component: &str) -> Result<Self> {
        if component == "**" {
            return Ok(Self::AnyDirs);
        }
        if !component.contains(['*', '?', '[']) {
            return Ok(Self::Name(component.to_owned()));
        }
        Pattern::new(component).map(Self::Glob).map_err(|e| {
            anyhow::anyhow!(
                "pattern `{pattern}` is not a valid glob: {} at `{component}` (hint: `**` stands alone between slashes; write `[[]`, `[]]`, `[*]` or `[?]` for a literal `[`, `]`, `*` or `?`)",
                e.msg
            )
        })
    }
}

/// The regular files under `base` matching `pattern` (relative, `/`-separated), as paths
/// relative to `base`, sorted. Hidden entries match only a pattern component that
/// starts with `.`. A pattern may not leave `base`, and must be a valid glob.
///
/// Whatever the pattern, the walk:
/// - never follows a symlink to a directory, so `docs/up -> ..` is neither a loop nor a
///   way out of `base`, for `**`, `*` and literal components alike;
/// - never enters a directory of `skip` (the workspace's target dir and the out dir:
///   build output, not documentation, and often a minute of walking);
/// - returns a symlink to a regular file only when that file resolves inside `base`
///   and outside `skip`, under the link's own name (the archive holds the file's
///   bytes); a symlink leading anywhere else is left out as if it were not there.
pub(crate) fn expand(
    base: &Utf8Path,
    pattern: &str,
    skip: &[&Utf8Path],
) -> Result<Vec<Utf8PathBuf>> {
    if pattern.starts_with('/') || pattern.split('/').any(|c| c == "..") {
        bail!("pattern `{pattern}` must be relative and stay inside `{base}`");
    }
    let parts: Vec<Part> = pattern
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(|c| Part::parse(pattern, c))
        .collect::<Result<_>>()?;
    // Walking the resolved base means every directory reached is its own real path,
    // since no symlinked directory is ever entered.
    let Ok(root) = base.canonicalize_utf8() else {
        return Ok(Vec::new());
    };
    let walker = Walker {
        root,
        skip: skip
            .iter()
            .map(|d| d.canonicalize_utf8().unwrap_or_else(|_| (*d).to_owned()))
            .collect(),
    };
    let mut out = Vec::new();
    walker.walk(Utf8Path::new(""), &parts, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

struct Walker {
    root: Utf8PathBuf,
    skip: Vec<Utf8PathBuf>,
}

impl Walker {
    fn walk(&self, rel: &Utf8Path, parts: &[Part], out: &mut Vec<Utf8PathBuf>) -> Result<()> {
        let Some((first, rest)) = parts.split_first() else {
            if self.is_file(rel) {
                out.push(rel.to_owned());
            }
            return Ok(());
        };
        let names = match first {
            Part::AnyDirs => {
                // Zero components, or one more and stay on `**`.
                self.walk(rel, rest, out)?;
                for name in self.children(rel)? {
                    let next = rel.join(&name);
                    if !name.starts_with('.') && self.is_dir(&next) {
                        self.walk(&next, parts, out)?;
                    }
                }
                return Ok(());
            }
            Part::Glob(p) => self
                .children(rel)?
                .into_iter()
                .filter(|n| p.matches_with(n, MATCH))
                .collect(),
            Part::Name(n) => vec![n.clone()],
        };
        for name in names {
            let next = rel.join(&name);
            if rest.is_empty() || self.is_dir(&next) {
                self.walk(&next, rest, out)?;
            }
        }
        Ok(())
    }

    /// A real directory (not a symlink to one) outside the skipped ones.
    fn is_dir(&self, rel: &Utf8Path) -> bool {
        let path = self.root.join(rel);
        path.symlink_metadata().is_ok_and(|m| m.is_dir()) && !self.skip.contains(&path)
    }

    /// A regular file, or a symlink to one that resolves inside the root and outside
    /// the skipped directories.
    fn is_file(&self, rel: &Utf8Path) -> bool {
        let path = self.root.join(rel);
        let Ok(meta) = path.symlink_metadata() else {
            return false;
        };
        if meta.is_file() {
            return true;
        }
        if !meta.is_symlink() {
            return false;
        }
        path.canonicalize_utf8().is_ok_and(|target| {
            target.is_file()
                && target.starts_with(&self.root)
                && !self.skip.iter().any(|d| target.starts_with(d))
        })
    }

    /// The sorted names in a directory that [`Walker::is_dir`] let in (or the root).
    fn children(&self, rel: &Utf8Path) -> Result<Vec<String>> {
        let dir = self.root.join(rel);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        for e in dir
            .read_dir_utf8()
            .with_context(|| format!("cannot read `{dir}`"))?
        {
            names.push(
                e.with_context(|| format!("cannot read `{dir}`"))?
                    .file_name()
                    .to_owned(),
            );
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_match_with_the_glob_crates_syntax() {
        let m = |p: &str, name: &str| match Part::parse(p, p).unwrap() {
            Part::Glob(g) => g.matches_with(name, MATCH),
            Part::Name(n) => n == name,
            Part::AnyDirs => panic!("{p}"),
        };
        assert!(m("svc-*", "svc-api"));
        assert!(m("a?c", "abc"));
        assert!(!m("a*", "ba"));
        assert!(m("*", ""));
        assert!(m("LICENSE*", "LICENSE-MIT"));
        // Classes, negated classes and escaped metacharacters.
        assert!(m("LICENSE-[AM]*", "LICENSE-MIT") && !m("LICENSE-[!AM]*", "LICENSE-MIT"));
        assert!(m("[[]1].txt", "[1].txt") && m("why[?].md", "why?.md"));
        assert!(!m("why[?].md", "whyX.md"));
        // A leading dot only matches a literal one.
        assert!(!m("*", ".env") && !m("?env", ".env") && !m("[.]env", ".env"));
        assert!(m(".*", ".env"));
        for bad in ["a[b", "a**b"] {
            let e = Part::parse(&format!("docs/{bad}"), bad)
                .err()
                .unwrap()
                .to_string();
            assert!(
                e.starts_with(&format!("pattern `docs/{bad}` is not a valid glob: ")),
                "{e}"
            );
            assert!(e.contains(&format!("at `{bad}` (hint: ")), "{e}");
        }
    }

    #[test]
    fn expands_star_and_double_star() {
        let tmp = tempfile::tempdir().unwrap();
        let base = Utf8Path::from_path(tmp.path()).unwrap();
        for f in [
            "docs/a.md",
            "docs/sub/b.md",
            "docs/c.txt",
            ".hidden/x.md",
            "top.md",
        ] {
            std::fs::create_dir_all(base.join(f).parent().unwrap()).unwrap();
            std::fs::write(base.join(f), f).unwrap();
        }
        assert_eq!(
            expand(base, "docs/*.md", &[]).unwrap(),
            [Utf8PathBuf::from("docs/a.md")]
        );
        assert_eq!(
            expand(base, "**/*.md", &[]).unwrap(),
            ["docs/a.md", "docs/sub/b.md", "top.md"].map(Utf8PathBuf::from)
        );
        assert_eq!(
            expand(base, "top.md", &[]).unwrap(),
            [Utf8PathBuf::from("top.md")]
        );
        assert!(expand(base, "nothing/*", &[]).unwrap().is_empty());
        assert!(expand(base, "../x", &[]).is_err());
        assert!(expand(base, "/etc/passwd", &[]).is_err());
    }

    /// A workspace-like tree: docs, a symlink loop, links out of the base, and the
    /// target and out dirs full of matching files.
    fn hostile_tree() -> (tempfile::TempDir, Utf8PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let top = Utf8Path::from_path(tmp.path()).unwrap().to_owned();
        let base = top.join("ws");
        for f in [
            "docs/a.md",
            "docs/sub/b.md",
            "target/release/build/x.md",
            "out/linux/amd64/y.md",
            "top.md",
        ] {
            std::fs::create_dir_all(base.join(f).parent().unwrap()).unwrap();
            std::fs::write(base.join(f), f).unwrap();
        }
        std::fs::create_dir(top.join("outside")).unwrap();
        std::fs::write(top.join("outside/secret.md"), "secret").unwrap();
        let link = |to: &str, at: &str| std::os::unix::fs::symlink(to, base.join(at)).unwrap();
        link("..", "docs/up");
        link("../docs", "docs/sub/loop");
        link("../../outside", "docs/away");
        link("../../outside/secret.md", "docs/leak.md");
        link("a.md", "docs/alias.md");
        link("../target/release/build/x.md", "docs/built.md");
        link("missing.md", "docs/dangling.md");
        (tmp, base)
    }

    #[test]
    fn never_follows_symlinked_dirs_nor_enters_target_and_out() {
        let (_tmp, base) = hostile_tree();
        let (target, out) = (base.join("target"), base.join("out"));
        let skip = [target.as_path(), out.as_path()];
        assert_eq!(
            expand(&base, "**/*.md", &skip).unwrap(),
            ["docs/a.md", "docs/alias.md", "docs/sub/b.md", "top.md"].map(Utf8PathBuf::from)
        );
        // Literal components and `*` do not go through a symlinked dir either.
        assert!(expand(&base, "docs/up/top.md", &skip).unwrap().is_empty());
        assert!(expand(&base, "docs/*/secret.md", &skip).unwrap().is_empty());
        assert!(expand(&base, "docs/leak.md", &skip).unwrap().is_empty());
        assert!(expand(&base, "docs/built.md", &skip).unwrap().is_empty());
        // Nor into the skipped dirs, even when named.
        assert!(expand(&base, "target/**/*.md", &skip).unwrap().is_empty());
        assert!(
            expand(&base, "out/linux/amd64/y.md", &skip)
                .unwrap()
                .is_empty()
        );
        // Without `skip` they are ordinary dirs; the links still lead nowhere.
        assert_eq!(
            expand(&base, "**/x.md", &[]).unwrap(),
            [Utf8PathBuf::from("target/release/build/x.md")]
        );
        // Skipped dirs are compared resolved: a path through a symlinked base still counts.
        let via = base.parent().unwrap().join("via");
        std::os::unix::fs::symlink(&base, &via).unwrap();
        let target_via = via.join("target");
        assert!(
            expand(&via, "target/**/*.md", &[target_via.as_path()])
                .unwrap()
                .is_empty()
        );
    }
}
