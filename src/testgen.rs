//! Generators for the property tests of the parsers of untrusted files (issue 10, "no
//! panics on any input"): hostile strings, JSON documents with any node replaced,
//! removed or duplicated, and the invariants every parsed value must keep.

use camino::Utf8Component;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::Value;

use crate::digest::Sha256;
use crate::layout;
use crate::outdir::RelPath;
use crate::platform::{Platform, TargetName};

/// The configuration of a property: `cases` cases, enough to find the shallow crashes
/// on every run and few enough that the lib suite stays fast. `PROPTEST_CASES` sets
/// another number for a deeper run (`PROPTEST_CASES=20000 cargo test --lib props`);
/// the fuzz targets (`scripts/fuzz`) go deeper still.
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // A failure prints its minimal input, which becomes a plain #[test] beside
        // the fix; no regression files are written into the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// What an attacker would try in a path, a name or a digest.
const NASTY: &[&str] = &[
    "",
    ".",
    "..",
    "/",
    "//",
    "../..",
    "../../x",
    "a/../../x",
    "/etc/passwd",
    "./a",
    "a/",
    "a//b",
    "a\\b",
    "..\\..\\x",
    "C:\\x",
    "C:",
    "\\\\?\\C:\\x",
    "\0",
    "a\0b",
    "\n",
    "\r\n",
    "\t",
    "\u{1b}[2J",
    "\u{7f}",
    "\u{85}",
    "\u{202e}",
    "\u{feff}",
    "\u{fffd}",
    "é",
    "日本語",
    "🦀",
    " ",
    " a ",
    "sha256:",
    "sha256:../../x",
    "linux/amd64",
    "linux/arm64/v8",
    "LINUX/AMD64",
    "x86_64-unknown-linux-musl",
    " x86_64-unknown-linux-musl",
    "x86_64-unknown-linux-gnu.2.17",
    "x86_64-unknown-linux-gnu.",
    "x86_64-unknown-linux-gnu..2",
    "x86_64-unknown-linux-gnu.99999999999999999999999",
    "cargo-multiarch/manifest/v1",
    "cargo-multiarch/build-record/v1",
    "0644",
    "0755",
];

/// JSON numbers (and near-numbers) that break naive parsers.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1.5",
    "1e400",
    "-1e400",
    "1e-400",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "99999999999999999999999999999999999999",
    "0.0",
    "2",
    "2.0",
    "07",
    "0x10",
    "1E2",
    "NaN",
    "Infinity",
    "\"12\"",
    "\"\\ud800\"",
    "\"\\u0000\"",
];

fn nasty_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(NASTY).prop_map(str::to_owned),
        2 => "[a-z0-9._-]{1,12}",
        2 => any::<String>(),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// A string assembled from hostile pieces, sometimes joined like a path, sometimes
/// long (over the 255-byte component and 1024-byte path limits).
pub(crate) fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec(nasty_piece(), 1..5).prop_map(|v| v.concat()),
        3 => (vec(nasty_piece(), 1..6), select(&["/", "\\", "/./", "/../"][..]))
            .prop_map(|(v, sep)| v.join(sep)),
        1 => (select(&["a", "é", "日", "🦀", "a/", "../", "\0"][..]), 120usize..1100)
            .prop_map(|(s, n)| s.repeat(n)),
    ]
}

/// A path component a valid out-dir path may hold: any printable text but `/`, `\`,
/// `.` and `..`, up to 255 bytes.
pub(crate) fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._ -]{1,24}",
        "[^/\\\\\\p{Cc}]{1,12}",
        ("[^/\\\\\\p{Cc}]", 1usize..255).prop_map(|(c, n)| c.repeat(n)),
    ]
    .prop_map(|mut s| {
        while s.len() > 255 {
            s.pop();
        }
        s
    })
    .prop_filter("a normal component", |s| {
        !s.is_empty() && s != "." && s != ".."
    })
}

/// A valid out-dir path of one to four components.
pub(crate) fn rel_path() -> impl Strategy<Value = RelPath> {
    vec(component(), 1..5)
        .prop_filter_map("at most 1024 bytes", |v| RelPath::new(&v.join("/")).ok())
}

pub(crate) fn sha256() -> impl Strategy<Value = Sha256> {
    any::<[u8; 8]>().prop_map(|b| Sha256::of(&b))
}

/// Text a manifest or record holds for a name or version: printable, 1 to 40 chars.
pub(crate) fn plain() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9_-]{1,16}", "[^\\p{Cc}]{1,40}",]
}

/// Targets and the platforms rustc's cfg maps them to (test data: the product derives
/// these from rustc).
const TARGETS: &[(&str, &str)] = &[
    ("x86_64-unknown-linux-musl", "linux/amd64"),
    ("aarch64-unknown-linux-musl", "linux/arm64"),
    ("x86_64-unknown-linux-gnu", "linux/amd64"),
    ("aarch64-unknown-linux-gnu", "linux/arm64"),
    ("i686-unknown-linux-musl", "linux/386"),
    ("armv7-unknown-linux-musleabihf", "linux/arm/v7"),
    ("riscv64gc-unknown-linux-gnu", "linux/riscv64"),
    ("powerpc64le-unknown-linux-musl", "linux/ppc64le"),
    ("x86_64-pc-windows-gnu", "windows/amd64"),
    ("x86_64-apple-darwin", "darwin/amd64"),
    ("aarch64-apple-darwin", "darwin/arm64"),
    ("universal2-apple-darwin", "darwin/universal2"),
];

pub(crate) fn platform() -> impl Strategy<Value = Platform> {
    select(TARGETS).prop_map(|(_, p)| Platform::parse(p).expect("a platform"))
}

/// A target's name, sometimes with a zig glibc suffix.
pub(crate) fn target() -> impl Strategy<Value = TargetName> {
    target_with_platform().prop_map(|(t, _)| t)
}

/// A target's name and its platform, the name sometimes with a zig glibc suffix.
pub(crate) fn target_with_platform() -> impl Strategy<Value = (TargetName, Platform)> {
    (select(TARGETS), prop::option::of(vec(0u32..40, 1..3))).prop_map(|((t, p), suffix)| {
        let mut s = t.to_owned();
        if let Some(v) = suffix.filter(|_| s.ends_with("-linux-gnu")) {
            for n in v {
                s.push_str(&format!(".{n}"));
            }
        }
        (
            TargetName::new(&s).expect("a plain name"),
            Platform::parse(p).expect("a platform"),
        )
    })
}

/// A JSON document as text, so that it can hold what `serde_json::Value` cannot:
/// numbers past u64, duplicate keys, invalid escapes, any fragment.
#[derive(Debug, Clone)]
pub(crate) enum Json {
    /// Literal text: a number, `true`, a quoted string, or anything at all.
    Raw(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// One change to a document: at the node a path of indices leads to.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Replace(Json),
    Remove,
    Insert(String, Json),
    Duplicate,
}

impl Json {
    pub(crate) fn str(s: &str) -> Self {
        Self::Raw(serde_json::to_string(s).expect("strings serialise"))
    }

    pub(crate) fn from_value(v: &Value) -> Self {
        match v {
            Value::Array(a) => Self::Array(a.iter().map(Self::from_value).collect()),
            Value::Object(o) => Self::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Self::from_value(v)))
                    .collect(),
            ),
            v => Self::Raw(v.to_string()),
        }
    }

    pub(crate) fn render(&self) -> String {
        match self {
            Self::Raw(s) => s.clone(),
            Self::Array(a) => {
                let items: Vec<String> = a.iter().map(Self::render).collect();
                format!("[{}]", items.join(","))
            }
            Self::Object(o) => {
                let items: Vec<String> = o
                    .iter()
                    .map(|(k, v)| format!("{}:{}", Self::str(k).render(), v.render()))
                    .collect();
                format!("{{{}}}", items.join(","))
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Raw(_) => 0,
            Self::Array(a) => a.len(),
            Self::Object(o) => o.len(),
        }
    }

    fn child(&mut self, i: usize) -> &mut Self {
        match self {
            Self::Raw(_) => self,
            Self::Array(a) => &mut a[i],
            Self::Object(o) => &mut o[i].1,
        }
    }

    /// Applies `edit` below the node `path` leads to (the last index picks the child).
    pub(crate) fn edit(&mut self, path: &[Index], edit: Edit) {
        let mut node = self;
        let mut rest = path;
        while rest.len() > 1 && node.len() > 0 {
            let i = rest[0].index(node.len());
            node = node.child(i);
            rest = &rest[1..];
        }
        let i = rest
            .first()
            .filter(|_| node.len() > 0)
            .map(|ix| ix.index(node.len()));
        match edit {
            Edit::Replace(j) => match i {
                Some(i) => *node.child(i) = j,
                None => *node = j,
            },
            Edit::Remove => match (node, i) {
                (Self::Array(a), Some(i)) => {
                    a.remove(i);
                }
                (Self::Object(o), Some(i)) => {
                    o.remove(i);
                }
                _ => {}
            },
            Edit::Insert(k, j) => match node {
                Self::Array(a) => a.push(j),
                Self::Object(o) => o.push((k, j)),
                Self::Raw(_) => *node = j,
            },
            Edit::Duplicate => match (node, i) {
                (Self::Array(a), Some(i)) => a.push(a[i].clone()),
                (Self::Object(o), Some(i)) => o.push(o[i].clone()),
                _ => {}
            },
        }
    }
}

/// Any scalar JSON value, hostile strings and numbers first.
pub(crate) fn json_leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        4 => nasty_string().prop_map(|s| Json::str(&s)),
        3 => select(NUMBERS).prop_map(|s| Json::Raw(s.to_owned())),
        1 => any::<u64>().prop_map(|n| Json::Raw(n.to_string())),
        1 => any::<i64>().prop_map(|n| Json::Raw(n.to_string())),
        1 => any::<f64>().prop_map(|n| Json::Raw(n.to_string())),
        1 => select(&["true", "false", "null", "{}", "[]", "\"\""][..])
            .prop_map(|s| Json::Raw(s.to_owned())),
    ]
}

/// Arrays or objects nested up to 400 deep: past `serde_json`'s recursion limit.
fn json_deep() -> impl Strategy<Value = Json> {
    prop_oneof![
        (1usize..400).prop_map(|n| Json::Raw(format!("{}{}", "[".repeat(n), "]".repeat(n)))),
        (1usize..300).prop_map(|n| Json::Raw(format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)))),
    ]
}

/// Any JSON value: leaves, arrays and objects nested a few levels.
pub(crate) fn json_any() -> impl Strategy<Value = Json> {
    json_leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Json::Array),
            vec((nasty_string(), inner), 0..6).prop_map(Json::Object),
        ]
    })
}

/// Any one edit.
pub(crate) fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => nasty_string().prop_map(|s| Edit::Replace(Json::str(&s))),
        3 => json_leaf().prop_map(Edit::Replace),
        3 => json_any().prop_map(Edit::Replace),
        1 => json_deep().prop_map(Edit::Replace),
        2 => Just(Edit::Remove),
        1 => (prop_oneof![nasty_string(), select(&["schema", "path", "sha256", "size", "target", "platform", "binaries", "artifacts", "mediaType", "digest", "manifests"][..]).prop_map(str::to_owned)], json_any())
            .prop_map(|(k, j)| Edit::Insert(k, j)),
        1 => Just(Edit::Duplicate),
    ]
}

/// `doc` with one to four edits anywhere in it, as JSON text.
pub(crate) fn mutated(doc: Value) -> impl Strategy<Value = String> {
    vec((vec(any::<Index>(), 1..6), edit()), 1..5).prop_map(move |edits| {
        let mut j = Json::from_value(&doc);
        for (path, e) in edits {
            j.edit(&path, e);
        }
        j.render()
    })
}

/// `text` with a few bytes flipped, inserted or cut off: near-valid bytes, often not
/// UTF-8.
pub(crate) fn damaged(text: String) -> impl Strategy<Value = Vec<u8>> {
    vec((any::<Index>(), any::<u8>(), 0u8..3), 1..4).prop_map(move |edits| {
        let mut b = text.clone().into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(b.len() + 1);
            match op {
                0 => b.truncate(i),
                1 => b.insert(i, byte),
                _ if i < b.len() => b[i] = byte,
                _ => b.push(byte),
            }
        }
        b
    })
}

/// Every `RelPath` is relative, has only normal components, no control characters or
/// backslashes, and parses back to itself.
pub(crate) fn check_rel(p: &RelPath) {
    let s = p.as_str();
    assert!(
        !s.is_empty() && !s.starts_with('/') && s.len() <= 1024,
        "{s:?}"
    );
    assert!(!s.chars().any(|c| c.is_control() || c == '\\'), "{s:?}");
    assert!(
        p.as_path()
            .components()
            .all(|c| matches!(c, Utf8Component::Normal(_))),
        "{s:?}"
    );
    assert!(
        s.split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && c.len() <= 255),
        "{s:?}"
    );
    assert_eq!(&RelPath::new(s).expect("a RelPath parses back"), p);
}

/// Every `Sha256` is 64 lowercase hex digits and parses back to itself.
pub(crate) fn check_sha(d: &Sha256) {
    let s = d.as_str();
    assert_eq!(s.len(), 64, "{s:?}");
    assert!(
        s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{s:?}"
    );
    assert_eq!(&Sha256::parse(s).expect("a Sha256 parses back"), d);
}

/// A platform prints in its normal form, which parses back to it.
pub(crate) fn check_platform(p: Platform) {
    let s = p.to_string();
    assert_eq!(
        Platform::parse(&s).expect("a platform parses back"),
        p,
        "{s}"
    );
    check_rel(&layout::platform_dir(p));
}

/// A target name prints as it was written, which parses back to it, and is one plain
/// file name.
pub(crate) fn check_target(t: &TargetName) {
    let s = t.to_string();
    assert_eq!(
        &TargetName::new(&s).expect("a target parses back"),
        t,
        "{s}"
    );
    check_rel(&crate::outdir::RelPath::new(&s).expect("a plain name"));
}

/// Writes `text` at `dir/rel`, creating the directories on the way (test workspaces).
pub(crate) fn write_file(dir: &camino::Utf8Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A target resolved by the real rustc, once per process and triple (tests only).
pub(crate) fn known(s: &str) -> crate::platform::Target {
    crate::targets::Rustc::for_tests()
        .target(s)
        .unwrap_or_else(|e| panic!("{e:#}"))
}
