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

use anyhow::{Context as _, Result};
use camino::{Utf8Component, Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;
use cargo_metadata::{DependencyKind, Metadata, NodeDep, PackageId};

use crate::cargo_config::UserConfig;
use crate::ccode::{self, target_cfg};
use crate::plan::Plan;
use crate::platform::Target;
use crate::probe::Probes;
use crate::sbom::graph::{Crate, Graph, Kind, Source, union};
use crate::workspace::C_BUILD_DEPS;

mod lock;

pub(crate) use lock::Lock;

impl Source {
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
pub(crate) enum Edges<'a> {
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
pub(crate) fn graph(
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
    let Walk {
        used,
        edges_of,
        mut c_code,
    } = walk(metadata, &nodes, root_id, edges);
    let mut crates: Vec<(&PackageId, Crate)> = used
        .iter()
        .map(|(id, kind)| {
            let why = c_code.remove(id).unwrap_or_default();
            (
                *id,
                described(metadata, id, *kind, *id == root_id, why, ws_root, lock),
            )
        })
        .collect();
    crates.sort_by(|(_, a), (_, b)| {
        (&a.name, &a.version, &a.source).cmp(&(&b.name, &b.version, &b.source))
    });
    let g = Graph {
        package: metadata[root_id].name.to_string(),
        crates: linked(crates, &edges_of),
    };
    g.check()
        .with_context(|| format!("the dependency graph of `{}`", g.package))?;
    Ok(g)
}

/// What a walk of the unit graph reached.
struct Walk<'a> {
    /// Each package reached, `Runtime` when a unit compiled for the target reaches it.
    used: BTreeMap<&'a PackageId, Kind>,
    /// Each package's dependencies followed.
    edges_of: BTreeMap<&'a PackageId, BTreeSet<&'a PackageId>>,
    /// Why a package compiles C code, when a build-dependency says so.
    c_code: BTreeMap<&'a PackageId, BTreeSet<String>>,
}

/// Walks the units as (package, compiled for the host) from `root_id`'s target unit,
/// following the dependencies `edges` keeps (see the module doc).
fn walk<'a>(
    metadata: &'a Metadata,
    nodes: &HashMap<&'a PackageId, &'a cargo_metadata::Node>,
    root_id: &'a PackageId,
    edges: Edges,
) -> Walk<'a> {
    let mut seen: BTreeSet<(&PackageId, bool)> = BTreeSet::new();
    let mut stack = vec![(root_id, false)];
    let mut w = Walk {
        used: BTreeMap::new(),
        edges_of: BTreeMap::new(),
        c_code: BTreeMap::new(),
    };
    while let Some((id, host)) = stack.pop() {
        if !seen.insert((id, host)) {
            continue;
        }
        let kind = if host { Kind::Build } else { Kind::Runtime };
        let k = w.used.entry(id).or_insert(kind);
        *k = (*k).max(kind);
        let Some(node) = nodes.get(id) else { continue };
        for dep in &node.deps {
            let normal = edges.keeps(dep, DependencyKind::Normal, host);
            // A build script is compiled for the host, whatever its package is for.
            let build = edges.keeps(dep, DependencyKind::Build, true);
            if normal {
                stack.push((&dep.pkg, host || is_proc_macro(metadata, &dep.pkg)));
            }
            if build {
                stack.push((&dep.pkg, true));
                let name = metadata[&dep.pkg].name.as_str();
                if C_BUILD_DEPS.contains(&name) {
                    w.c_code
                        .entry(id)
                        .or_default()
                        .insert(format!("build-dependency `{name}`"));
                }
            }
            if normal || build {
                w.edges_of.entry(id).or_default().insert(&dep.pkg);
            }
        }
    }
    w
}

/// Whether the package `id` is a proc-macro (so compiled for the host).
fn is_proc_macro(metadata: &Metadata, id: &PackageId) -> bool {
    metadata[id]
        .targets
        .iter()
        .any(cargo_metadata::Target::is_proc_macro)
}

/// The crate `id` as the graph describes it (without its dependencies yet); `why` says
/// why it compiles C code (its `links` goes first).
fn described(
    metadata: &Metadata,
    id: &PackageId,
    kind: Kind,
    root: bool,
    why: BTreeSet<String>,
    ws_root: &Utf8Path,
    lock: &Lock,
) -> Crate {
    let p = &metadata[id];
    let dir = p.manifest_path.parent().unwrap_or(ws_root);
    let source_repr = p.source.as_ref().map(|s| s.repr.as_str());
    let mut why: Vec<String> = why.into_iter().collect();
    if let Some(l) = &p.links {
        why.insert(0, format!("links = \"{l}\""));
    }
    Crate {
        name: p.name.to_string(),
        version: p.version.to_string(),
        source: Source::of(source_repr, dir, ws_root),
        kind,
        root,
        proc_macro: is_proc_macro(metadata, id),
        license: p.license.as_deref().map(normalize_license),
        checksum: source_repr
            .and_then(|s| lock.checksum(&p.name, &p.version.to_string(), s))
            .cloned(),
        links: p.links.clone(),
        c_code: why,
        dependencies: Vec::new(),
    }
}

/// The crates in their order, each with its dependencies of `edges_of` as sorted
/// indexes into that order.
fn linked<'a>(
    crates: Vec<(&'a PackageId, Crate)>,
    edges_of: &BTreeMap<&'a PackageId, BTreeSet<&'a PackageId>>,
) -> Vec<Crate> {
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
    out
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

/// The graphs of one target's packages, and the cfg rustc prints for it.
#[derive(Debug, Clone)]
pub(crate) struct TargetGraphs {
    pub target: Target,
    pub cfg: Vec<Cfg>,
    /// One per package the plan builds for this target, in plan order.
    pub graphs: Vec<Graph>,
}

/// The graph of every (package, target) the plan builds, from the workspace's resolve
/// and rustc's cfg for each target and the host (cached: see [`crate::ccode`]). When the
/// user's configuration may change that cfg (rustflags, another rustc), cargo's own
/// `metadata --filter-platform` per target decides the edges instead.
pub(crate) fn for_plan(plan: &Plan, probes: &Probes) -> Result<Vec<TargetGraphs>> {
    let ws = &plan.workspace;
    let (dir, cache) = ccode::cfg_source(ws, probes);
    let exact_cargo = UserConfig::load().may_change_target_cfg();
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
pub(crate) fn read_lock(ws_root: &Utf8Path) -> Lock {
    let path: Utf8PathBuf = ws_root.join("Cargo.lock");
    Lock::read(&path)
}

#[cfg(test)]
mod tests;
