//! The dependency graph of one package's binaries on one target, as `build` records it
//! (see `crate::deps` for how it is made) and the SBOMs and `--auditable` describe it.
//! Read back from build records, so [`Graph::check`] checks every field.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::manifest::plain_text;

/// The dependency graph of one package's binaries on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    /// The package whose binaries these are: the one crate with `root`.
    pub package: String,
    /// Sorted by (name, version, source), each once; `dependencies` index this list.
    pub crates: Vec<Crate>,
}

/// One crate of a graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crate {
    pub name: String,
    pub version: String,
    pub source: Source,
    /// `runtime`: compiled into the binary; `build`: only compiled for the host to build
    /// it (a build-dependency, a proc-macro, or what only those use).
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub root: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub proc_macro: bool,
    /// The `license` expression of its Cargo.toml (`/` written as ` OR `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The sha256 of its `.crate` file, from Cargo.lock (registry crates only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Sha256>,
    /// The native library its build script builds or links (`links = "…"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<String>,
    /// Why its build script compiles C, if it does: `links = "z"`, ``build-dependency `cc` ``.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub c_code: Vec<String>,
    /// Indices (into [`Graph::crates`]) of what it depends on in this graph, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Ordered weakest first: a crate reached both ways is `runtime`.
    Build,
    Runtime,
}

/// Where a crate comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Source {
    /// A registry by its index: `https://github.com/rust-lang/crates.io-index`,
    /// `sparse+https://index.crates.io/`.
    Registry { index: String },
    /// A git repository (no credentials, no query) at a commit.
    Git { url: String, rev: String },
    /// A path crate, relative to the workspace root (`crates/common`, `../shared`).
    Path { path: String },
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `skip_serializing_if` passes a reference"
)]
fn is_false(b: &bool) -> bool {
    !b
}

impl Source {
    /// crates.io, under either of its index names.
    pub fn is_crates_io(&self) -> bool {
        matches!(self, Source::Registry { index } if index == "https://github.com/rust-lang/crates.io-index" || index == "sparse+https://index.crates.io/")
    }

    /// A short text for people and properties: `crates.io`, `registry+<index>`,
    /// `git+<url>#<rev>`, `path+<dir>`.
    pub fn describe(&self) -> String {
        match self {
            _ if self.is_crates_io() => "crates.io".to_owned(),
            Source::Registry { index } => format!("registry+{index}"),
            Source::Git { url, rev } => format!("git+{url}#{rev}"),
            Source::Path { path } => format!("path+{path}"),
        }
    }
}

impl Graph {
    /// The root crate (the package whose binaries these are).
    pub fn root(&self) -> &Crate {
        self.crates
            .iter()
            .find(|c| c.root)
            .expect("a checked graph has a root")
    }

    /// Checks a graph read back (from a build record): every field's form, sorted
    /// unique crates, one root named after the package, indices in range and no cycle.
    pub fn check(&self) -> Result<()> {
        plain_text("package", &self.package)?;
        let roots: Vec<&Crate> = self.crates.iter().filter(|c| c.root).collect();
        match roots.as_slice() {
            [r] if r.name == self.package && r.kind == Kind::Runtime => {}
            _ => bail!(
                "it needs exactly one root crate, the runtime crate `{}`",
                self.package
            ),
        }
        for pair in self.crates.windows(2) {
            let key = |c: &Crate| (c.name.clone(), c.version.clone(), c.source.clone());
            if key(&pair[0]) >= key(&pair[1]) {
                bail!(
                    "its crates are not sorted and unique at `{}` {}",
                    pair[1].name.escape_debug(),
                    pair[1].version.escape_debug()
                );
            }
        }
        for (i, c) in self.crates.iter().enumerate() {
            check_crate(c).with_context(|| format!("crate `{}`", c.name.escape_debug()))?;
            if c.dependencies.windows(2).any(|w| w[0] >= w[1])
                || c.dependencies
                    .iter()
                    .any(|&d| d >= self.crates.len() || d == i)
            {
                bail!(
                    "crate `{}` has dependencies out of order or out of range",
                    c.name
                );
            }
        }
        // Kahn's algorithm: a graph with a cycle never empties.
        let mut indegree = vec![0usize; self.crates.len()];
        for c in &self.crates {
            for &d in &c.dependencies {
                indegree[d] += 1;
            }
        }
        let mut ready: Vec<usize> = (0..indegree.len()).filter(|&i| indegree[i] == 0).collect();
        let mut done = 0;
        while let Some(i) = ready.pop() {
            done += 1;
            for &d in &self.crates[i].dependencies {
                indegree[d] -= 1;
                if indegree[d] == 0 {
                    ready.push(d);
                }
            }
        }
        if done != self.crates.len() {
            bail!("its dependencies form a cycle");
        }
        Ok(())
    }
}

fn check_crate(c: &Crate) -> Result<()> {
    if c.name.is_empty()
        || c.name.len() > 64
        || !c
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("`{}` is not a crate name", c.name.escape_debug());
    }
    if !is_semver(&c.version) {
        bail!(
            "version `{}` is not a semver version",
            c.version.escape_debug()
        );
    }
    match &c.source {
        Source::Registry { index } => plain_text("source index", index)?,
        Source::Git { url, rev } => {
            plain_text("source url", url)?;
            if !rev.is_empty() {
                plain_text("source rev", rev)?;
            }
        }
        Source::Path { path } => plain_text("source path", path)?,
    }
    for (field, v) in [("license", &c.license), ("links", &c.links)] {
        if let Some(v) = v {
            plain_text(field, v)?;
        }
    }
    for w in &c.c_code {
        plain_text("c_code", w)?;
    }
    Ok(())
}

/// `MAJOR.MINOR.PATCH`, optionally `-pre` and `+build` of `[0-9A-Za-z.-]`.
pub(crate) fn is_semver(v: &str) -> bool {
    let (core, rest) = v.find(['-', '+']).map_or((v, ""), |i| (&v[..i], &v[i..]));
    let nums: Vec<&str> = core.split('.').collect();
    nums.len() == 3
        && nums
            .iter()
            .all(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
        && rest.len() <= 256
        && rest
            .bytes()
            .skip(1)
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

/// The graphs of several packages as one (for an archive holding them all): each
/// crate once, `runtime` if any graph has it so, its dependencies the union; roots
/// stay roots. Not a [`Graph`] (which has one root); sorted like one.
pub fn union(graphs: &[&Graph]) -> Vec<Crate> {
    type Key = (String, String, Source);
    let key = |c: &Crate| -> Key { (c.name.clone(), c.version.clone(), c.source.clone()) };
    let mut all: BTreeMap<Key, (Crate, BTreeSet<Key>)> = BTreeMap::new();
    for g in graphs {
        for c in &g.crates {
            let deps: BTreeSet<Key> = c.dependencies.iter().map(|&d| key(&g.crates[d])).collect();
            match all.get_mut(&key(c)) {
                Some((seen, d)) => {
                    seen.kind = seen.kind.max(c.kind);
                    seen.root |= c.root;
                    d.extend(deps);
                }
                None => {
                    all.insert(key(c), (c.clone(), deps));
                }
            }
        }
    }
    let keys: Vec<Key> = all.keys().cloned().collect();
    all.into_values()
        .map(|(mut c, deps)| {
            c.dependencies = deps
                .iter()
                .filter_map(|k| keys.binary_search(k).ok())
                .collect();
            c
        })
        .collect()
}
