//! Small glob support: `*` and `?` within one path component, `**` across components.
//! Enough for `-p 'svc-*'` and `include = ["docs/**/*.md"]` without a dependency.

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};

/// Whether `s` matches `pattern` (`*` any run, `?` one character).
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The regular files under `base` matching `pattern` (relative, `/`-separated), as paths
/// relative to `base`, sorted. Hidden entries match only a pattern component that
/// starts with `.`. A pattern may not leave `base`.
pub fn expand(base: &Utf8Path, pattern: &str) -> Result<Vec<Utf8PathBuf>> {
    if pattern.starts_with('/') || pattern.split('/').any(|c| c == "..") {
        bail!("pattern `{pattern}` must be relative and stay inside `{base}`");
    }
    let parts: Vec<&str> = pattern
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let mut out = Vec::new();
    walk(base, Utf8Path::new(""), &parts, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(base: &Utf8Path, rel: &Utf8Path, parts: &[&str], out: &mut Vec<Utf8PathBuf>) -> Result<()> {
    let Some((first, rest)) = parts.split_first() else {
        if base.join(rel).is_file() {
            out.push(rel.to_owned());
        }
        return Ok(());
    };
    if *first == "**" {
        // Zero components, or one more and stay on `**`.
        walk(base, rel, rest, out)?;
        for name in children(&base.join(rel))? {
            if !name.starts_with('.') && base.join(rel).join(&name).is_dir() {
                walk(base, &rel.join(&name), parts, out)?;
            }
        }
        return Ok(());
    }
    if !first.contains(['*', '?']) {
        let next = rel.join(first);
        if base.join(&next).exists() {
            walk(base, &next, rest, out)?;
        }
        return Ok(());
    }
    for name in children(&base.join(rel))? {
        if (name.starts_with('.') && !first.starts_with('.')) || !glob_match(first, &name) {
            continue;
        }
        walk(base, &rel.join(&name), rest, out)?;
    }
    Ok(())
}

fn children(dir: &Utf8Path) -> Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches() {
        assert!(glob_match("svc-*", "svc-api"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a*", "ba"));
        assert!(glob_match("*", ""));
        assert!(glob_match("LICENSE*", "LICENSE-MIT"));
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
            expand(base, "docs/*.md").unwrap(),
            [Utf8PathBuf::from("docs/a.md")]
        );
        assert_eq!(
            expand(base, "**/*.md").unwrap(),
            ["docs/a.md", "docs/sub/b.md", "top.md"].map(Utf8PathBuf::from)
        );
        assert_eq!(
            expand(base, "top.md").unwrap(),
            [Utf8PathBuf::from("top.md")]
        );
        assert!(expand(base, "nothing/*").unwrap().is_empty());
        assert!(expand(base, "../x").is_err());
        assert!(expand(base, "/etc/passwd").is_err());
    }
}
