//! The crates compiled into one package's binaries for one target: the graph the SBOMs
//! and `--auditable` describe, recorded by `build` in each target's build record (so
//! `package --no-build` describes what was built, not what the workspace says now).
//!
//! Made from the workspace's one full `cargo metadata` resolve as cargo's unit graph
//! would walk it: a crate compiled for the target follows its normal dependencies whose
//! platform (`cfg(…)` or a triple) matches the target; a build script, a proc-macro and
//! everything they use are compiled for the host, so their edges are evaluated against
//! the host's cfg (cargo's `dep_platform_activated(dep, unit.kind)`). What the target's
//! units reach is `runtime` (in the binary); what only host units reach is `build`.
//! Dev-dependencies are never followed. Features are the resolve's (cargo's feature
//! unification over the workspace, as `cargo metadata` and `cargo auditable` see them).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Component, Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;
use cargo_metadata::{DependencyKind, Metadata, NodeDep, PackageId};
use serde::{Deserialize, Serialize};

use crate::cargo_config::UserConfig;
use crate::ccode::{self, target_cfg};
use crate::digest::Sha256;
use crate::manifest::plain_text;
use crate::plan::Plan;
use crate::platform::Target;
use crate::probe::Probes;

mod lock;
pub mod syslib;

pub use lock::Lock;
pub use syslib::SystemLib;

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

/// Build-dependencies that mean a build script compiles C (as the backend choice sees it).
pub const C_BUILD_DEPS: &[&str] = &["cc", "cmake", "bindgen", "pkg-config", "autotools"];

impl Source {
    /// crates.io, under either of its index names.
    pub fn is_crates_io(&self) -> bool {
        matches!(self, Source::Registry { index } if index == "https://github.com/rust-lang/crates.io-index" || index == "sparse+https://index.crates.io/")
    }

    /// From `cargo metadata`'s source id (`registry+…`, `sparse+…`, `git+…#rev`); a
    /// path crate (no source) is named by its directory relative to `root`.
    fn of(source: Option<&str>, manifest_dir: &Utf8Path, root: &Utf8Path) -> Self {
        let Some(repr) = source else {
            return Source::Path {
                path: relative(manifest_dir, root),
            };
        };
        if let Some(url) = repr.strip_prefix("git+") {
            let (url, rev) = url.split_once('#').unwrap_or((url, ""));
            let url = url.split_once('?').map_or(url, |(u, _)| u);
            return Source::Git {
                url: without_userinfo(url),
                rev: rev.to_owned(),
            };
        }
        let index = repr.strip_prefix("registry+").unwrap_or(repr);
        Source::Registry {
            index: without_userinfo(index),
        }
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

/// `https://user:secret@host/x` without `user:secret@`: credentials never reach an SBOM.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// `dir` relative to `root`, `/`-separated (`.` for the root itself, `..` to go up).
fn relative(dir: &Utf8Path, root: &Utf8Path) -> String {
    let a: Vec<Utf8Component> = dir.components().collect();
    let b: Vec<Utf8Component> = root.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len() - common];
    parts.extend(a[common..].iter().map(Utf8Component::as_str));
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// How the edges of the resolve are kept.
#[derive(Debug, Clone, Copy)]
pub enum Edges<'a> {
    /// The full resolve: each edge's platform evaluated against the target's cfg (for
    /// units compiled for the target) or the host's (for build scripts, proc-macros and
    /// what they use).
    Evaluate {
        target: (&'a str, &'a [Cfg]),
        host: (&'a str, &'a [Cfg]),
    },
    /// A resolve `cargo metadata --filter-platform` already filtered (when the user's
    /// configuration may change the cfg rustc prints): every edge it kept.
    Filtered,
}

impl Edges<'_> {
    /// Whether `dep` is a dependency of kind `kind` of a unit compiled for the host
    /// (`host`) or the target.
    fn keeps(&self, dep: &NodeDep, kind: DependencyKind, host: bool) -> bool {
        dep.dep_kinds.iter().any(|k| {
            k.kind == kind
                && match (self, &k.target) {
                    (_, None) | (Edges::Filtered, _) => true,
                    (Edges::Evaluate { target, host: h }, Some(p)) => {
                        let (triple, cfg) = if host { h } else { target };
                        p.matches(triple, cfg)
                    }
                }
        })
    }
}

/// The graph of the package `root` (a package id) in `metadata`, whose workspace root
/// is `ws_root`, with checksums from `lock`.
pub fn graph(
    metadata: &Metadata,
    root: &str,
    edges: Edges,
    ws_root: &Utf8Path,
    lock: &Lock,
) -> Result<Graph> {
    let resolve = metadata
        .resolve
        .as_ref()
        .context("`cargo metadata` printed no dependency resolve")?;
    let nodes: HashMap<&PackageId, &cargo_metadata::Node> =
        resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let root_id = nodes
        .keys()
        .find(|id| id.repr == root)
        .copied()
        .with_context(|| format!("package `{root}` is not in the dependency resolve"))?;
    let is_proc_macro = |id: &PackageId| {
        metadata[id]
            .targets
            .iter()
            .any(cargo_metadata::Target::is_proc_macro)
    };

    // Units as (package, compiled for the host), walked from the root's target unit.
    let mut seen: BTreeSet<(&PackageId, bool)> = BTreeSet::new();
    let mut stack = vec![(root_id, false)];
    let mut used: BTreeMap<&PackageId, Kind> = BTreeMap::new();
    let mut edges_of: BTreeMap<&PackageId, BTreeSet<&PackageId>> = BTreeMap::new();
    let mut c_code: BTreeMap<&PackageId, BTreeSet<String>> = BTreeMap::new();
    while let Some((id, host)) = stack.pop() {
        if !seen.insert((id, host)) {
            continue;
        }
        let kind = if host { Kind::Build } else { Kind::Runtime };
        let k = used.entry(id).or_insert(kind);
        *k = (*k).max(kind);
        let Some(node) = nodes.get(id) else { continue };
        for dep in &node.deps {
            let normal = edges.keeps(dep, DependencyKind::Normal, host);
            // A build script is compiled for the host, whatever its package is for.
            let build = edges.keeps(dep, DependencyKind::Build, true);
            if normal {
                stack.push((&dep.pkg, host || is_proc_macro(&dep.pkg)));
            }
            if build {
                stack.push((&dep.pkg, true));
                let name = metadata[&dep.pkg].name.as_str();
                if C_BUILD_DEPS.contains(&name) {
                    c_code
                        .entry(id)
                        .or_default()
                        .insert(format!("build-dependency `{name}`"));
                }
            }
            if normal || build {
                edges_of.entry(id).or_default().insert(&dep.pkg);
            }
        }
    }

    let mut crates: Vec<(&PackageId, Crate)> = Vec::new();
    for (id, kind) in &used {
        let p = &metadata[*id];
        let dir = p.manifest_path.parent().unwrap_or(ws_root);
        let source_repr = p.source.as_ref().map(|s| s.repr.as_str());
        let mut why: Vec<String> = c_code.remove(id).unwrap_or_default().into_iter().collect();
        if let Some(l) = &p.links {
            why.insert(0, format!("links = \"{l}\""));
        }
        crates.push((
            id,
            Crate {
                name: p.name.to_string(),
                version: p.version.to_string(),
                source: Source::of(source_repr, dir, ws_root),
                kind: *kind,
                root: *id == root_id,
                proc_macro: is_proc_macro(id),
                license: p.license.as_deref().map(normalize_license),
                checksum: source_repr
                    .and_then(|s| lock.checksum(&p.name, &p.version.to_string(), s))
                    .cloned(),
                links: p.links.clone(),
                c_code: why,
                dependencies: Vec::new(),
            },
        ));
    }
    crates.sort_by(|(_, a), (_, b)| {
        (&a.name, &a.version, &a.source).cmp(&(&b.name, &b.version, &b.source))
    });
    let index: HashMap<&PackageId, usize> = crates
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let mut out: Vec<Crate> = Vec::with_capacity(crates.len());
    for (id, mut c) in crates {
        c.dependencies = edges_of
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|d| index.get(d).copied())
            .collect();
        c.dependencies.sort_unstable();
        out.push(c);
    }
    let g = Graph {
        package: metadata[root_id].name.to_string(),
        crates: out,
    };
    g.check()
        .with_context(|| format!("the dependency graph of `{}`", g.package))?;
    Ok(g)
}

/// cargo's old `MIT/Apache-2.0` is the SPDX expression `MIT OR Apache-2.0`.
fn normalize_license(s: &str) -> String {
    if s.contains('/') {
        s.split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" OR ")
    } else {
        s.trim().to_owned()
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
fn is_semver(v: &str) -> bool {
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

/// The graphs of one target's packages, and the cfg rustc prints for it.
#[derive(Debug, Clone)]
pub struct TargetGraphs {
    pub target: Target,
    pub cfg: Vec<Cfg>,
    /// One per package the plan builds for this target, in plan order.
    pub graphs: Vec<Graph>,
}

/// The graph of every (package, target) the plan builds, from the workspace's resolve
/// and rustc's cfg for each target and the host (cached: see [`crate::ccode`]). When the
/// user's configuration may change that cfg (rustflags, another rustc), cargo's own
/// `metadata --filter-platform` per target decides the edges instead.
pub fn for_plan(plan: &Plan, probes: &Probes) -> Result<Vec<TargetGraphs>> {
    let ws = &plan.workspace;
    let (dir, cache) = ccode::cfg_source(ws, probes);
    let exact_cargo = UserConfig::load(&ws.root).may_change_target_cfg();
    let lock = read_lock(&ws.root);
    let host_cfg = target_cfg(cache.as_ref(), dir, &probes.host)?;
    let mut out = Vec::new();
    for t in plan.targets.iter().filter(|t| t.backend.is_some()) {
        // A universal binary holds one slice per rustc target: its graph is the union.
        let mut per_slice: Vec<(Vec<Cfg>, Vec<Graph>)> = Vec::new();
        for triple in t.target.rustc_triples() {
            let cfg = target_cfg(cache.as_ref(), dir, triple)?;
            let filtered = if exact_cargo {
                Some(ws.resolve_on(triple)?)
            } else {
                None
            };
            let (metadata, edges) = match &filtered {
                Some(m) => (m, Edges::Filtered),
                None => (
                    ws.resolve(),
                    Edges::Evaluate {
                        target: (triple, &cfg),
                        host: (&probes.host, &host_cfg),
                    },
                ),
            };
            let mut graphs: Vec<Graph> = Vec::new();
            for e in plan.entries.iter().filter(|e| e.target == t.target) {
                if graphs.iter().any(|g| g.package == e.package) {
                    continue;
                }
                let pkg = ws
                    .packages
                    .iter()
                    .find(|p| p.name == e.package)
                    .expect("entries come from packages");
                graphs.push(graph(metadata, &pkg.id, edges, &ws.root, &lock)?);
            }
            per_slice.push((cfg, graphs));
        }
        let mut slices = per_slice.into_iter();
        let (cfg, mut graphs) = slices.next().expect("a target has a rustc target");
        for (_, other) in slices {
            for (g, o) in graphs.iter_mut().zip(&other) {
                g.crates = union(&[&*g, o]);
            }
        }
        out.push(TargetGraphs {
            target: t.target.clone(),
            cfg,
            graphs,
        });
    }
    Ok(out)
}

/// The lock file of a workspace, for checksums: missing or unreadable means none.
pub fn read_lock(ws_root: &Utf8Path) -> Lock {
    let path: Utf8PathBuf = ws_root.join("Cargo.lock");
    Lock::read(&path)
}

#[cfg(test)]
mod tests;
