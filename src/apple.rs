//! What in a macOS target's dependency graph needs Apple's SDK. zig links pure-Rust
//! macOS binaries with no SDK (they need only libSystem, whose stubs zig ships), but
//! an Apple framework (`CoreFoundation`, `Security`, `IOKit`…) comes only with the
//! macOS SDK. A package links one with `#[link(name = "…", kind = "framework")]` in
//! its library or `cargo:rustc-link-lib=framework=…` from its build script; both are
//! found here by reading the sources of every package of the graph. What a registry or
//! git package links is remembered in the user's cache dir (its sources never change).

use std::collections::BTreeSet;
use std::io::Read as _;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::workspace::GraphPackage;

/// Files read per package at most, and bytes per file.
const MAX_FILES: usize = 4000;
const MAX_FILE_BYTES: u64 = 8 << 20;

/// A package that links an Apple framework.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FrameworkUse {
    pub package: String,
    /// The framework's name, or `?` when a build script computes it.
    pub framework: String,
}

/// The Apple frameworks the packages of `graph` link, sorted; the packages are read
/// in parallel.
pub(crate) fn frameworks(graph: &[GraphPackage]) -> Vec<FrameworkUse> {
    let found: Vec<Vec<FrameworkUse>> = std::thread::scope(|s| {
        let chunks: Vec<&[GraphPackage]> = graph.chunks(graph.len().div_ceil(4).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|p| {
                            package_frameworks(p).into_iter().map(|f| FrameworkUse {
                                package: p.name.clone(),
                                framework: f,
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the framework scan panicked"))
            .collect()
    });
    let set: BTreeSet<FrameworkUse> = found.into_iter().flatten().collect();
    set.into_iter().collect()
}

/// What a package's remembered scan says.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Memo {
    id: String,
    frameworks: Vec<String>,
}

fn memo_path(id: &str) -> Option<Utf8PathBuf> {
    let key = crate::digest::Sha256::of(id.as_bytes());
    Some(
        crate::fs::cache::dir()?
            .join("apple-frameworks-2")
            .join(format!("{key}.json")),
    )
}

/// The frameworks one package links: remembered for a registry or git package.
fn package_frameworks(p: &GraphPackage) -> Vec<String> {
    let memo = (!p.local).then(|| memo_path(&p.id)).flatten();
    if let Some(path) = &memo
        && let Some(bytes) = crate::fs::cache::read_private(path, 64 << 10)
        && let Ok(m) = serde_json::from_slice::<Memo>(&bytes)
        && m.id == p.id
        && m.frameworks.iter().all(|f| plain_framework(f))
    {
        return m.frameworks;
    }
    let mut found = BTreeSet::new();
    let mut files = 0;
    for lib in &p.libs {
        if let Some(dir) = lib.parent() {
            scan_dir(dir, &mut files, &mut |text| {
                found.extend(link_attributes(text));
            });
        }
    }
    for script in &p.build_scripts {
        if let Some(text) = read_text(script) {
            found.extend(build_script_links(&text));
        }
    }
    let frameworks: Vec<String> = found.into_iter().collect();
    if let Some(path) = memo
        && let Ok(json) = serde_json::to_vec(&Memo {
            id: p.id.clone(),
            frameworks: frameworks.clone(),
        })
    {
        crate::fs::cache::write_private(&path, &json);
    }
    frameworks
}

fn plain_framework(f: &str) -> bool {
    f == "?"
        || (!f.is_empty()
            && f.len() <= 64
            && f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// Calls `f` with the text of every `.rs` file below `dir` (not through symlinks), at
/// most [`MAX_FILES`] files counted in `files`.
fn scan_dir(dir: &Utf8Path, files: &mut usize, f: &mut impl FnMut(&str)) {
    let Ok(entries) = dir.read_dir_utf8() else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by(|a, b| a.file_name().cmp(b.file_name()));
    for e in entries {
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            scan_dir(e.path(), files, f);
        } else if kind.is_file() && e.path().extension() == Some("rs") {
            *files += 1;
            if *files > MAX_FILES {
                return;
            }
            if let Some(text) = read_text(e.path()) {
                f(&text);
            }
        }
    }
}

fn read_text(path: &Utf8Path) -> Option<String> {
    let file = crate::fs::open_regular(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Frameworks named by `#[link(name = "X", kind = "framework")]` (or inside a
/// `cfg_attr`), in any order of the two keys. Comments and string literals outside
/// attributes are not code: a doc comment or a test's source text naming a framework
/// links none.
pub(crate) fn link_attributes(text: &str) -> Vec<String> {
    let code = code_only(text);
    let text = code.as_str();
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find("\"framework\"") {
        let at = from + i;
        from = at + 1;
        // `kind = "framework"`: `=` and then `kind` before it, over white space.
        let before = text[..at].trim_end();
        let Some(before) = before.strip_suffix('=') else {
            continue;
        };
        if !before.trim_end().ends_with("kind") {
            continue;
        }
        // The attribute: from the last `link(` before, to the `)` after.
        let start = text[..at].rfind("link(").unwrap_or(at);
        if at - start > 512 {
            continue;
        }
        let end = text[at..].find(')').map_or(bytes.len(), |j| at + j);
        let attr = &text[start..end];
        out.push(attr_name(attr).unwrap_or_else(|| "?".to_owned()));
    }
    out
}

/// `text` with its comments, and its string literals outside attributes (`#[…]`,
/// `#![…]`), blanked to spaces byte for byte: what is left is code and attributes.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut blank = |from: usize, to: usize| out[from..to].fill(b' ');
    let mut attr_depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let end = match (b[i], next) {
            (b'/', Some(b'/')) => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |j| i + j);
                blank(i, end);
                end
            }
            (b'/', Some(b'*')) => {
                let end = block_comment_end(b, i);
                blank(i, end);
                end
            }
            (b'"', _) => {
                let end = string_end(b, i + 1);
                if attr_depth == 0 {
                    blank(i, end);
                }
                end
            }
            (b'r', Some(b'"' | b'#')) if !ident_before || (b[i - 1] == b'b') => {
                match raw_string_end(b, i + 1) {
                    Some(end) => {
                        if attr_depth == 0 {
                            blank(i, end);
                        }
                        end
                    }
                    None => i + 1,
                }
            }
            (b'\'', _) => char_literal_end(text, i).unwrap_or(i + 1),
            (b'#', Some(b'[')) => {
                attr_depth = 1;
                i + 2
            }
            (b'#', Some(b'!')) if b.get(i + 2) == Some(&b'[') => {
                attr_depth = 1;
                i + 3
            }
            (b'[', _) if attr_depth > 0 => {
                attr_depth += 1;
                i + 1
            }
            (b']', _) if attr_depth > 0 => {
                attr_depth -= 1;
                i + 1
            }
            _ => i + 1,
        };
        i = end.max(i + 1);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The end of a (nested) block comment starting at `from` (`/*`).
fn block_comment_end(b: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

/// The end (past the closing quote) of a string whose text starts at `from`.
fn string_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end of a raw string whose hashes (or quote) start at `from`, if it is one.
fn raw_string_end(b: &[u8], from: usize) -> Option<usize> {
    let hashes = b[from..].iter().take_while(|&&c| c == b'#').count();
    if b.get(from + hashes) != Some(&b'"') {
        return None;
    }
    let close: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let body = from + hashes + 1;
    Some(
        b[body..]
            .windows(close.len())
            .position(|w| w == close.as_slice())
            .map_or(b.len(), |j| body + j + close.len()),
    )
}

/// The end of a char literal at `from` (`'x'`, `'\''`, `'é'`), or `None` for a
/// lifetime.
fn char_literal_end(text: &str, from: usize) -> Option<usize> {
    let rest = text.get(from + 1..)?;
    if let Some(escaped) = rest.strip_prefix('\\') {
        let close = escaped.get(1..)?.find('\'')?;
        return Some(from + 2 + 1 + close + 1);
    }
    let c = rest.chars().next()?;
    rest[c.len_utf8()..]
        .starts_with('\'')
        .then(|| from + 1 + c.len_utf8() + 1)
}

/// `name = "X"` inside an attribute.
fn attr_name(attr: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = attr[from..].find("name") {
        let at = from + i;
        from = at + 4;
        let rest = attr[at + 4..].trim_start().strip_prefix('=')?.trim_start();
        let Some(rest) = rest.strip_prefix('"') else {
            continue;
        };
        let name: String = rest.chars().take_while(|c| *c != '"').collect();
        if plain_framework(&name) {
            return Some(name);
        }
    }
    None
}

/// Frameworks a build script asks for: `rustc-link-lib=framework=X` (or `?` when the
/// name is formatted in).
pub(crate) fn build_script_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("framework=") {
        let at = from + i + "framework=".len();
        from = at;
        let name: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.push(if name.is_empty() {
            "?".to_owned()
        } else {
            name
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_attributes_and_build_scripts_name_their_frameworks() {
        let src = r#"
            #[link(name = "CoreFoundation", kind = "framework")]
            extern "C" {}
            #[cfg_attr(target_vendor = "apple", link(kind="framework", name="Security"))]
            extern "C" {}
            #[link(name = "c")]
            extern "C" {}
            const KIND: &str = "framework";
        "#;
        assert_eq!(link_attributes(src), ["CoreFoundation", "Security"]);
        // Not code: comments, and source text in a string (as this file's own tests).
        let not_code = r##"
            //! Link one with `#[link(name = "…", kind = "framework")]`.
            /* #[link(name = "A", kind = "framework")] /* nested */ */
            const SRC: &str = r#"#[link(name = "B", kind = "framework")]"#;
            const ESC: &str = "#[link(name = \"C\", kind = \"framework\")]";
            const Q: char = '"';
            fn f<'a>(x: &'a str) -> &'a str { x }
            #[link(name = "Real", kind = "framework")]
            extern "C" {}
        "##;
        assert_eq!(link_attributes(not_code), ["Real"]);
        let build = r#"
            println!("cargo:rustc-link-lib=framework=IOKit");
            println!("cargo::rustc-link-lib=framework={}", name);
        "#;
        assert_eq!(build_script_links(build), ["IOKit", "?"]);
        assert!(link_attributes("fn main() {}").is_empty());
    }

    #[test]
    fn a_graph_is_scanned_file_by_file() {
        let t = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(t.path()).unwrap();
        std::fs::create_dir_all(root.join("sys/src/inner")).unwrap();
        std::fs::create_dir_all(root.join("pure/src")).unwrap();
        std::fs::write(root.join("sys/src/lib.rs"), "mod inner;").unwrap();
        std::fs::write(
            root.join("sys/src/inner/mod.rs"),
            "#[link(name = \"CoreFoundation\", kind = \"framework\")] extern {}",
        )
        .unwrap();
        std::fs::write(
            root.join("sys/build.rs"),
            "fn main() { println!(\"cargo:rustc-link-lib=framework=Security\"); }",
        )
        .unwrap();
        std::fs::write(root.join("pure/src/lib.rs"), "pub fn f() {}").unwrap();
        let pkg = |name: &str, build: bool| GraphPackage {
            id: format!("path+file://{root}/{name}#0.1.0"),
            name: name.to_owned(),
            local: true,
            libs: vec![root.join(name).join("src/lib.rs")],
            build_scripts: if build {
                vec![root.join(name).join("build.rs")]
            } else {
                vec![]
            },
        };
        let found = frameworks(&[pkg("pure", false), pkg("sys", true)]);
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.package.as_str(), f.framework.as_str()))
            .collect();
        assert_eq!(names, [("sys", "CoreFoundation"), ("sys", "Security")]);
    }
}
