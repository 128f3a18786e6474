//! The progress of one backend call, per target: the units cargo reported (each
//! `compiler-artifact`, fresh or not, and each `build-script-executed`) against an
//! estimate from the full resolve, drawn as one bar per target plus one for the host
//! (build scripts and proc-macros, shared by every target) on a terminal.
//!
//! cargo prints no total in its JSON messages (its unit graph is nightly-only), so the
//! total is estimated the way cargo builds its unit graph, from the workspace's full
//! resolve (the activated dependencies of these features) with each edge's platform
//! evaluated for the target: per target, the selected bins, the lib of every package
//! reached through normal dependencies, and one run per build script; for the host,
//! every proc-macro and build dependency (with their own dependencies, build scripts
//! and runs) and the compilation of each build script. A bar never shows more done
//! than its total: the total grows to what was done.
//!
//! A unit is told apart by where cargo put it: `<target-dir>/<triple>/…` for a
//! target's, anywhere else for the host's.

use std::collections::{BTreeSet, HashMap, HashSet};

use camino::Utf8Path;
use cargo_metadata::cargo_platform::Cfg;
use cargo_metadata::{DependencyKind, Message, Metadata, TargetKind};
use indicatif::ProgressBar;

use super::Ctx;
use crate::output::bars::{Bars, Printer};
use crate::plan::TargetPlan;

/// The label of the host's bar.
const HOST: &str = "host";

/// A platform the units are built for: its triple and rustc's cfg for it.
pub(super) struct On<'a> {
    pub triple: &'a str,
    pub cfg: &'a [Cfg],
}

/// The estimated units of a call: one total per target, in order, and the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Estimate {
    pub targets: Vec<u64>,
    pub host: u64,
}

/// Estimates the units of building `roots` (package id, number of selected bins) for
/// each target from the full resolve `metadata` (see the module documentation); None
/// without a resolve.
pub(super) fn estimate(
    metadata: &Metadata,
    host: &On,
    targets: &[(On, Vec<(&str, u64)>)],
) -> Option<Estimate> {
    let g = Graph::new(metadata)?;
    // Host units: (package, 0 lib | 1 build-script compile | 2 build-script run).
    let mut host_units: BTreeSet<(&str, u8)> = BTreeSet::new();
    let mut host_seen: HashSet<&str> = HashSet::new();
    let mut totals = Vec::new();
    for (on, roots) in targets {
        let mut units = 0;
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<&str> = Vec::new();
        for (id, bins) in roots {
            units += bins;
            if let Some(id) = g.id(id) {
                stack.push(id);
            }
        }
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if g.has(id, &[TargetKind::ProcMacro]) {
                g.host_walk(vec![id], host, &mut host_seen, &mut host_units);
                continue;
            }
            if g.has(id, LIB) {
                units += 1;
            }
            if g.has(id, &[TargetKind::CustomBuild]) {
                units += 1; // its run, for this target
                host_units.insert((id, 1));
                let build = g.deps(id, DependencyKind::Build, on);
                g.host_walk(build, host, &mut host_seen, &mut host_units);
            }
            stack.extend(g.deps(id, DependencyKind::Normal, on));
        }
        totals.push(units);
    }
    Some(Estimate {
        targets: totals,
        host: host_units.len() as u64,
    })
}

const LIB: &[TargetKind] = &[
    TargetKind::Lib,
    TargetKind::RLib,
    TargetKind::DyLib,
    TargetKind::CDyLib,
    TargetKind::StaticLib,
    TargetKind::ProcMacro,
];

/// The resolve's nodes and packages by id.
struct Graph<'m> {
    nodes: HashMap<&'m str, &'m cargo_metadata::Node>,
    packages: HashMap<&'m str, &'m cargo_metadata::Package>,
}

impl<'m> Graph<'m> {
    fn new(metadata: &'m Metadata) -> Option<Self> {
        let resolve = metadata.resolve.as_ref()?;
        Some(Self {
            nodes: resolve
                .nodes
                .iter()
                .map(|n| (n.id.repr.as_str(), n))
                .collect(),
            packages: metadata
                .packages
                .iter()
                .map(|p| (p.id.repr.as_str(), p))
                .collect(),
        })
    }

    /// The resolve's own copy of `id`.
    fn id(&self, id: &str) -> Option<&'m str> {
        self.nodes.get_key_value(id).map(|(k, _)| *k)
    }

    /// Whether package `id` has a target of one of `kinds`.
    fn has(&self, id: &str, kinds: &[TargetKind]) -> bool {
        self.packages.get(id).is_some_and(|p| {
            p.targets
                .iter()
                .any(|t| t.kind.iter().any(|k| kinds.contains(k)))
        })
    }

    /// The dependencies of `id` of `kind` that apply on `on`: an edge of the resolve
    /// with a declaration for `on` that is not optional, or optional and turned on by
    /// the package's features (the resolve's edges merge every platform's
    /// declarations, and an optional one on this platform may be off while another
    /// platform's plain one made the edge).
    fn deps(&self, id: &str, kind: DependencyKind, on: &On) -> Vec<&'m str> {
        let (Some(n), Some(p)) = (self.nodes.get(id), self.packages.get(id)) else {
            return Vec::new();
        };
        let on_platform = |target: Option<&cargo_metadata::cargo_platform::Platform>| {
            target.is_none_or(|t| t.matches(on.triple, on.cfg))
        };
        let optional_on = optional_deps_on(p, n);
        n.deps
            .iter()
            .filter(|d| {
                let edge = d
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind == kind && on_platform(k.target.as_ref()));
                let Some(dep) = self.packages.get(d.pkg.repr.as_str()) else {
                    return edge;
                };
                let mut declared = p
                    .dependencies
                    .iter()
                    .filter(|decl| {
                        decl.name == dep.name.as_str()
                            && decl.kind == kind
                            && on_platform(decl.target.as_ref())
                    })
                    .peekable();
                if declared.peek().is_none() {
                    return edge;
                }
                edge && declared.any(|decl| {
                    !decl.optional
                        || optional_on.contains(decl.rename.as_deref().unwrap_or(&decl.name))
                })
            })
            .map(|d| d.pkg.repr.as_str())
            .collect()
    }

    /// Adds the host units of `start` and everything they need.
    fn host_walk(
        &self,
        start: Vec<&'m str>,
        host: &On,
        seen: &mut HashSet<&'m str>,
        units: &mut BTreeSet<(&'m str, u8)>,
    ) {
        let mut stack = start;
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if self.has(id, LIB) {
                units.insert((id, 0));
            }
            if self.has(id, &[TargetKind::CustomBuild]) {
                units.insert((id, 1));
                units.insert((id, 2));
                stack.extend(self.deps(id, DependencyKind::Build, host));
            }
            stack.extend(self.deps(id, DependencyKind::Normal, host));
        }
    }
}

/// The optional dependencies (by their name in the package) that the resolved
/// features of `n` turn on: an implicit feature of that name, `dep:NAME`, or
/// `NAME/feature` in an enabled feature.
fn optional_deps_on<'p>(
    p: &'p cargo_metadata::Package,
    n: &'p cargo_metadata::Node,
) -> HashSet<&'p str> {
    let mut on: HashSet<&str> = n.features.iter().map(AsRef::as_ref).collect();
    for f in &n.features {
        for entry in p.features.get(f.as_ref()).into_iter().flatten() {
            if let Some(dep) = entry.strip_prefix("dep:") {
                on.insert(dep);
            } else if let Some((dep, _)) = entry.split_once('/')
                && !dep.ends_with('?')
            {
                on.insert(dep);
            }
        }
    }
    on
}

/// Which count a unit at `path` belongs to: the index of the triple among the path's
/// components, or `triples.len()` (the host).
pub(super) fn bucket(path: &Utf8Path, triples: &[&str]) -> usize {
    path.components()
        .find_map(|c| triples.iter().position(|t| *t == c.as_str()))
        .unwrap_or(triples.len())
}

/// The count a message adds a unit to (see [`bucket`]) and the crate it names; None
/// for a message that is no unit.
pub(super) fn classify(msg: &Message, triples: &[&str]) -> Option<(usize, String)> {
    match msg {
        Message::CompilerArtifact(a) => {
            if a.target.kind.contains(&TargetKind::CustomBuild) {
                let name = format!("{} (build script)", package_name(&a.package_id.repr));
                return Some((triples.len(), name));
            }
            let i = a
                .filenames
                .first()
                .map_or(triples.len(), |f| bucket(f, triples));
            Some((i, a.target.name.clone()))
        }
        Message::BuildScriptExecuted(b) => Some((
            bucket(&b.out_dir, triples),
            format!("{} (build script)", package_name(&b.package_id.repr)),
        )),
        _ => None,
    }
}

/// The counts of one call, drawn on a terminal.
pub(super) struct Tracker {
    triples: Vec<String>,
    /// What each bar is labelled with: the target's platform (`linux/arm64`).
    labels: Vec<String>,
    /// Done per target, then the host's.
    done: Vec<u64>,
    estimate: Option<Estimate>,
    /// The bars, one per target then the host's (made when its first unit comes, when
    /// none was estimated).
    bars: Option<(Bars, Vec<Option<ProgressBar>>)>,
}

impl Tracker {
    /// The tracker of a call for `targets`: drawing on a terminal, only counting with
    /// `-v` (which prints the counts at the end), None otherwise (nothing to do).
    pub(super) fn new(ctx: &Ctx, targets: &[&TargetPlan]) -> Option<Self> {
        let shell = ctx.shell;
        if !shell.progress && shell.verbose == 0 {
            return None;
        }
        let triples: Vec<String> = targets.iter().map(|t| t.target.to_string()).collect();
        let labels: Vec<String> = targets.iter().map(|t| t.platform.to_string()).collect();
        let estimate = estimate_call(ctx, targets);
        let bars = Bars::new(shell).map(|b| {
            let mut list: Vec<Option<ProgressBar>> = labels
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let bar = b.units("Building", estimate.as_ref().map_or(0, |e| e.targets[i]));
                    bar.set_message(t.clone());
                    Some(bar)
                })
                .collect();
            let host = estimate.as_ref().map_or(0, |e| e.host);
            list.push((host > 0).then(|| {
                let bar = b.units("Building", host);
                bar.set_message(HOST);
                bar
            }));
            (b, list)
        });
        Some(Self {
            done: vec![0; triples.len() + 1],
            triples,
            labels,
            estimate,
            bars,
        })
    }

    /// Where cargo's stderr lines go: above the bars.
    pub(super) fn printer(&self) -> Printer {
        self.bars
            .as_ref()
            .map_or_else(Printer::default, |(b, _)| b.printer())
    }

    /// Counts one of cargo's messages.
    pub(super) fn observe(&mut self, msg: &Message) {
        let triples: Vec<&str> = self.triples.iter().map(String::as_str).collect();
        let Some((i, name)) = classify(msg, &triples) else {
            return;
        };
        self.done[i] += 1;
        let n = self.done[i];
        if let Some((b, bars)) = &mut self.bars {
            let bar = bars[i].get_or_insert_with(|| b.units("Building", 0));
            if bar.length().is_some_and(|l| l < n) {
                bar.set_length(n);
            }
            bar.set_position(n);
            let label = self.labels.get(i).map_or(HOST, String::as_str);
            bar.set_message(format!("{label}: {name}"));
        }
    }

    /// Removes the bars; with `-v`, says how many units each count saw and estimated.
    pub(super) fn finish(mut self, shell: crate::output::Shell) {
        self.clear();
        let counts: Vec<String> = self
            .triples
            .iter()
            .map(String::as_str)
            .chain(["host"])
            .enumerate()
            .map(|(i, label)| {
                let est = self
                    .estimate
                    .as_ref()
                    .map(|e| e.targets.get(i).copied().unwrap_or(e.host));
                format!(
                    "{label}: {} units ({} estimated)",
                    self.done[i],
                    est.map_or_else(|| "none".to_owned(), |n| n.to_string())
                )
            })
            .collect();
        shell.verbose("Progress", counts.join("; "));
    }
}

impl Tracker {
    fn clear(&mut self) {
        if let Some((b, bars)) = self.bars.take() {
            b.clear(&bars.into_iter().flatten().collect::<Vec<_>>());
        }
    }
}

/// Bars left behind by an error are removed all the same.
impl Drop for Tracker {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Package ids and how many of each one's bins are selected.
type Roots<'a> = Vec<(&'a str, u64)>;

/// The estimate for a call's targets, from the workspace's full resolve and rustc's
/// cfg for each target and the host (cached under the target dir).
fn estimate_call(ctx: &Ctx, targets: &[&TargetPlan]) -> Option<Estimate> {
    let ws = &ctx.plan.workspace;
    let dir = ws.manifest_path.parent()?;
    let cache = ctx
        .probes
        .rustc_identity
        .as_deref()
        .map(|id| crate::ccode::Cache::new(&ws.target_dir, id));
    let cfg =
        |triple: &str| crate::ccode::target_cfg(cache.as_ref(), dir, triple).unwrap_or_default();
    let host_cfg = cfg(&ctx.probes.host);
    let per_target: Vec<(String, Vec<Cfg>, Roots)> = targets
        .iter()
        .map(|t| {
            let mut roots: Vec<(&str, u64)> = Vec::new();
            for e in ctx.plan.entries.iter().filter(|e| e.target == t.target) {
                let Some(p) = ws.packages.iter().find(|p| p.name == e.package) else {
                    continue;
                };
                match roots.iter_mut().find(|(id, _)| *id == p.id) {
                    Some((_, n)) => *n += 1,
                    None => roots.push((p.id.as_str(), 1)),
                }
            }
            (t.target.to_string(), cfg(t.target.triple()), roots)
        })
        .collect();
    let on: Vec<(On, Roots)> = per_target
        .iter()
        .map(|(triple, cfg, roots)| (On { triple, cfg }, roots.clone()))
        .collect();
    estimate(
        ws.resolve(),
        &On {
            triple: &ctx.probes.host,
            cfg: &host_cfg,
        },
        &on,
    )
}

/// `name` of a package id (`path+file:///…/name#0.1.0`, `registry+…#name@1.2.3`).
fn package_name(id: &str) -> &str {
    let tail = id.rsplit('#').next().unwrap_or(id);
    match tail.split_once('@') {
        Some((name, _)) => name,
        // `…/name#0.1.0`: the name is the last path segment.
        None => id
            .split('#')
            .next()
            .and_then(|s| s.rsplit('/').next())
            .unwrap_or(tail),
    }
}

#[cfg(test)]
mod tests;
