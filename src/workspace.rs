//! The workspace as `cargo metadata` describes it, reduced to what we build: the
//! selected packages, their binaries, and the configuration.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, NodeDep, PackageId};

use crate::config::Config;
use crate::process::Process;

/// Build-dependencies that mean a build script compiles C (as the backend choice sees it).
pub(crate) const C_BUILD_DEPS: &[&str] = &["cc", "cmake", "bindgen", "pkg-config", "autotools"];

mod select;
mod selection;
pub(crate) mod syslib;

pub(crate) use selection::{Features, Manifest, Output, Packages, Selection, Targets};

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: Utf8PathBuf,
    /// Cargo's target dir as the workspace's own `.cargo/config.toml` sets it.
    pub target_dir: Utf8PathBuf,
    /// The manifest the user pointed at (or the root manifest).
    pub manifest_path: Utf8PathBuf,
    /// Name for workspace-wide artifacts: `archive-name` from config, else the root
    /// package's name, else the root directory's name.
    pub name: String,
    /// The workspace's version: the root package's, else the one most selected packages share.
    pub version: String,
    pub config: Config,
    /// Selected packages, in workspace order.
    pub packages: Vec<Package>,
    /// Binaries left out because their `required-features` are not enabled.
    pub skipped: Vec<SkippedBin>,
    /// Flags passed to every cargo call (`--locked`, `--offline`, `--frozen`).
    pub cargo_flags: Vec<String>,
    /// Feature flags as cargo takes them.
    pub feature_flags: Vec<String>,
    /// The full resolve (every platform, these features), for the per-target C-code scan.
    resolve: Arc<Metadata>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub version: String,
    pub manifest_path: Utf8PathBuf,
    pub dir: Utf8PathBuf,
    pub bins: Vec<String>,
    pub readme: Option<Utf8PathBuf>,
    pub license_file: Option<Utf8PathBuf>,
    pub license: Option<String>,
    pub repository: Option<String>,
    pub config: Config,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedBin {
    pub package: String,
    pub bin: String,
    pub missing_features: Vec<String>,
}

impl Workspace {
    /// Loads the selected packages; with `resolve` false, without the dependency
    /// resolve (`--no-deps`: a third of the time), for commands that need no C-code scan.
    pub fn load(select: &Selection, resolve: bool) -> Result<Self> {
        let manifest_path = locate_manifest(select.manifest.manifest_path.as_deref())?;
        let dir = manifest_path
            .parent()
            .expect("a manifest path has a parent")
            .to_owned();
        let cargo_flags = manifest_flags(&select.manifest);
        let feature_flags = feature_flags(&select.features);
        let target_dir = select
            .targets
            .target_dir
            .as_deref()
            .map(absolute)
            .transpose()?;
        // One resolve for everything: the packages, and every platform's dependency graph
        // (see `c_code_in_process`). In the build's target dir, so cargo's cache of rustc's
        // answers there is shared with the build and no rustc runs.
        let metadata = metadata(
            &manifest_path,
            &dir,
            &cargo_flags,
            &feature_flags,
            None,
            !resolve,
            target_dir.as_deref(),
        )?;
        let root = metadata.workspace_root.clone();

        let (config, pkg_configs) = configs(&metadata)?;

        let selected = select::packages(&metadata, &manifest_path, &select.packages)?;
        let (mut packages, mut skipped) =
            selected_packages(&metadata, selected, &select.features, pkg_configs);
        // `--bin` narrows to the named binaries; each must exist among the selected packages.
        if !select.packages.bins.is_empty() {
            narrow_to_bins(&mut packages, &mut skipped, &select.packages.bins)?;
        }
        packages.retain(|p| !p.bins.is_empty());
        if packages.is_empty() {
            return Err(no_binaries(&metadata, &manifest_path, &skipped));
        }

        let name = config
            .archive_name
            .clone()
            .or_else(|| metadata.root_package().map(|p| p.name.to_string()))
            .unwrap_or_else(|| root.file_name().unwrap_or("workspace").to_owned());
        let version = metadata
            .root_package()
            .map_or_else(|| most_common_version(&packages), |p| p.version.to_string());

        Ok(Self {
            root,
            target_dir: target_dir.unwrap_or(metadata.target_directory.clone()),
            manifest_path,
            name,
            version,
            config,
            packages,
            skipped,
            cargo_flags,
            feature_flags,
            resolve: Arc::new(metadata),
        })
    }

    /// Names of the packages in `target`'s resolved graph (from the selected packages,
    /// through normal and build dependencies) that compile C: a `links` key, or a
    /// build-dependency on `cc`, `cmake`, `bindgen`, `pkg-config` or `autotools`.
    /// The graph is the one cargo resolves for that platform and these features, from
    /// `cargo metadata --filter-platform` (one cargo run per target; see
    /// [`Workspace::c_code_in_process`] for the same answer without one).
    pub fn c_code_packages(&self, triple: &str) -> Result<Vec<CCode>> {
        let metadata = self.resolve_on(triple)?;
        Ok(c_code_in_graph(
            &metadata,
            self.packages.iter().map(|p| p.id.as_str()),
            |_| true,
        ))
    }

    /// The resolve as `cargo metadata --filter-platform <triple>` prints it.
    pub fn resolve_on(&self, triple: &str) -> Result<Metadata> {
        metadata(
            &self.manifest_path,
            &self.root,
            &self.cargo_flags,
            &self.feature_flags,
            Some(triple),
            false,
            None,
        )
    }

    /// What [`Workspace::c_code_packages`] says for `triple`, from the full resolve
    /// and `cfg` (what `rustc --print cfg --target <triple>` prints), with no process.
    ///
    /// `cargo metadata --filter-platform T` prints the same platform-independent
    /// resolve (the same nodes, features and `links`), keeping an edge when any of its
    /// declarations has no platform or one that matches T (`cfg(…)` against T's cfg, a
    /// triple against T's name) — all of them, dev and build included, evaluated for T
    /// (cargo's `dep_platform_activated`). This keeps exactly those edges.
    pub fn c_code_in_process(&self, triple: &str, cfg: &[Cfg]) -> Vec<CCode> {
        c_code_on_platform(
            &self.resolve,
            self.packages.iter().map(|p| p.id.as_str()),
            triple,
            cfg,
        )
    }

    /// The full resolve (without dependencies when loaded without the resolve).
    pub fn resolve(&self) -> &Metadata {
        &self.resolve
    }

    /// Every package reachable from the selected ones through normal and build
    /// dependencies on the platform `triple` whose cfg is `cfg` (the graph
    /// [`Workspace::c_code_in_process`] walks), with where its sources are.
    pub fn graph_on_platform(&self, triple: &str, cfg: &[Cfg]) -> Vec<GraphPackage> {
        let Some(resolve) = &self.resolve.resolve else {
            return Vec::new();
        };
        let nodes: HashMap<&PackageId, &cargo_metadata::Node> =
            resolve.nodes.iter().map(|n| (&n.id, n)).collect();
        let mut seen: BTreeSet<&PackageId> = BTreeSet::new();
        let mut stack: Vec<&PackageId> = self
            .packages
            .iter()
            .filter_map(|p| nodes.keys().find(|id| id.repr == p.id).copied())
            .collect();
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(node) = nodes.get(id) else { continue };
            let pkg = &self.resolve[id];
            out.push(GraphPackage {
                id: id.repr.clone(),
                name: pkg.name.to_string(),
                local: pkg.source.is_none(),
                libs: pkg
                    .targets
                    .iter()
                    .filter(|t| t.is_lib() || t.is_proc_macro())
                    .map(|t| t.src_path.clone())
                    .collect(),
                build_scripts: pkg
                    .targets
                    .iter()
                    .filter(|t| t.is_custom_build())
                    .map(|t| t.src_path.clone())
                    .collect(),
            });
            for dep in node
                .deps
                .iter()
                .filter(|d| edge_on_platform(d, triple, cfg))
            {
                if dep
                    .dep_kinds
                    .iter()
                    .any(|k| matches!(k.kind, DependencyKind::Normal | DependencyKind::Build))
                {
                    stack.push(&dep.pkg);
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        out
    }

    pub fn bins(&self) -> impl Iterator<Item = (&Package, &str)> {
        self.packages
            .iter()
            .flat_map(|p| p.bins.iter().map(move |b| (p, b.as_str())))
    }
}

/// The `selected` packages with their configs (from `configs`), each with the binaries
/// `features` enable; then the binaries left out for their `required-features`.
fn selected_packages(
    metadata: &Metadata,
    selected: Vec<PackageId>,
    features: &Features,
    mut configs: HashMap<PackageId, Config>,
) -> (Vec<Package>, Vec<SkippedBin>) {
    let mut packages = Vec::new();
    let mut skipped = Vec::new();
    for id in selected {
        let p = &metadata[&id];
        let enabled = enabled_features(p, features);
        let mut bins = Vec::new();
        for t in p.targets.iter().filter(|t| t.is_bin()) {
            let missing: Vec<String> = t
                .required_features
                .iter()
                .filter(|f| !enabled.contains(f.as_str()))
                .cloned()
                .collect();
            if missing.is_empty() {
                bins.push(t.name.clone());
            } else {
                skipped.push(SkippedBin {
                    package: p.name.to_string(),
                    bin: t.name.clone(),
                    missing_features: missing,
                });
            }
        }
        packages.push(Package {
            id: id.repr.clone(),
            name: p.name.to_string(),
            version: p.version.to_string(),
            manifest_path: p.manifest_path.clone(),
            dir: p
                .manifest_path
                .parent()
                .expect("manifest has a parent")
                .to_owned(),
            bins,
            readme: p.readme(),
            license_file: p.license_file(),
            license: p.license.clone(),
            repository: p.repository.clone(),
            config: configs.remove(&id).unwrap_or_default(),
        });
    }
    (packages, skipped)
}

/// `--bin` (`bins`): keeps only the named binaries (and skipped ones); an error for a
/// name no selected package has, saying which features it needs when it was skipped.
fn narrow_to_bins(
    packages: &mut [Package],
    skipped: &mut Vec<SkippedBin>,
    bins: &[String],
) -> Result<()> {
    for b in bins {
        if !packages.iter().any(|p| p.bins.contains(b)) {
            let available: Vec<String> = packages
                .iter()
                .flat_map(|p| p.bins.iter().cloned())
                .collect();
            let skipped_note = skipped
                .iter()
                .find(|s| &s.bin == b)
                .map(|s| {
                    format!(
                        " (`{b}` needs features {}: pass `--features {}`)",
                        s.missing_features.join(", "),
                        s.missing_features.join(",")
                    )
                })
                .unwrap_or_default();
            let hint = if skipped_note.is_empty() {
                " (hint: pass `--bin` one of the available binaries)"
            } else {
                ""
            };
            bail!(
                "no bin target named `{b}` in the selected packages{skipped_note}; available binaries: {}{hint}",
                if available.is_empty() {
                    "none".to_owned()
                } else {
                    available.join(", ")
                }
            );
        }
    }
    for p in packages {
        p.bins.retain(|b| bins.contains(b));
    }
    skipped.retain(|s| bins.contains(&s.bin));
    Ok(())
}

/// The error when no selected package has a binary to build: the features a skipped
/// one needs, else how to select members with binaries, else how to add one.
fn no_binaries(
    metadata: &Metadata,
    manifest_path: &Utf8Path,
    skipped: &[SkippedBin],
) -> anyhow::Error {
    let names: Vec<String> = metadata
        .workspace_packages()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    let mut msg = format!(
        "no binaries to build in `{manifest_path}`: the selected packages have no `bin` targets"
    );
    if !skipped.is_empty() {
        let s = &skipped[0];
        msg.push_str(&format!(
            " (`{}` needs features {}: pass `--features {}`)",
            s.bin,
            s.missing_features.join(", "),
            s.missing_features.join(",")
        ));
    } else if metadata
        .workspace_packages()
        .iter()
        .any(|p| p.targets.iter().any(cargo_metadata::Target::is_bin))
    {
        msg.push_str(&format!(
            " (hint: select members with binaries via `-p NAME` or `--workspace`; members are {})",
            names.join(", ")
        ));
    } else {
        msg.push_str(" (hint: add `src/main.rs` or a `[[bin]]` section to a package)");
    }
    anyhow::anyhow!(msg)
}

/// The out dir of the workspace at `manifest` (or found from the current directory)
/// without resolving dependencies: `out-dir` from its config, else `out/` at its root.
pub(crate) fn default_out_dir(manifest: Option<&Utf8Path>) -> Result<Utf8PathBuf> {
    let manifest_path = locate_manifest(manifest)?;
    let dir = manifest_path
        .parent()
        .expect("a manifest path has a parent")
        .to_owned();
    let metadata = metadata(&manifest_path, &dir, &[], &[], None, true, None)?;
    let (config, _) = configs(&metadata)?;
    out_dir(None, &metadata.workspace_root, &config)
}

/// The out dir: `given` (`--out-dir`, made absolute), else `out-dir` of the config,
/// else [`layout::DEFAULT_OUT_DIR`], both relative to the workspace root.
pub(crate) fn out_dir(
    given: Option<&Utf8Path>,
    root: &Utf8Path,
    config: &Config,
) -> Result<Utf8PathBuf> {
    Ok(match (given, &config.out_dir) {
        (Some(d), _) => absolute(d)?,
        (None, Some(d)) => root.join(d),
        (None, None) => root.join(crate::layout::DEFAULT_OUT_DIR),
    })
}

/// The workspace-wide config (`[workspace.metadata.multiarch]`, filled in by a root
/// package's own table) and each member's `[package.metadata.multiarch]`. A member
/// other than the root may not set the workspace-wide keys.
fn configs(metadata: &Metadata) -> Result<(Config, HashMap<PackageId, Config>)> {
    let root_manifest = metadata.workspace_root.join("Cargo.toml");
    let mut config = Config::from_metadata(
        &metadata.workspace_metadata,
        &root_manifest,
        "[workspace.metadata.multiarch]",
    )?;
    let root_pkg = metadata.root_package().map(|p| p.id.clone());
    let mut pkg_configs = HashMap::new();
    for id in &metadata.workspace_members {
        let p = &metadata[id];
        let table = "[package.metadata.multiarch]";
        let c = Config::from_metadata(&p.metadata, &p.manifest_path, table)?;
        if Some(id) == root_pkg.as_ref() {
            config = merge_root(config, &c);
        } else if let Some(key) = [
            ("out-dir", c.out_dir.is_some()),
            ("backend", c.backend.is_some()),
            ("archive-name", c.archive_name.is_some()),
            ("sbom", c.sbom.is_some()),
            ("sbom-format", c.sbom_format.is_some()),
            ("auditable", c.auditable.is_some()),
            ("installers", c.installers.is_some()),
            ("download-url", c.download_url.is_some()),
            ("cache", c.cache.is_some()),
        ]
        .into_iter()
        .find_map(|(k, set)| set.then_some(k))
        {
            bail!(
                "`{}`: key `{key}` in `{table}` applies to the whole workspace (hint: move it to `[workspace.metadata.multiarch]` in `{root_manifest}`)",
                p.manifest_path
            );
        }
        pkg_configs.insert(id.clone(), c);
    }
    Ok((config, pkg_configs))
}

/// A package of a target's dependency graph and the entry files of its library and
/// build script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphPackage {
    pub id: String,
    pub name: String,
    /// A path package (a workspace member or a local path dependency): its sources can
    /// change, where a registry or git package's cannot.
    pub local: bool,
    /// The root files of its library (and proc-macro) targets.
    pub libs: Vec<Utf8PathBuf>,
    pub build_scripts: Vec<Utf8PathBuf>,
}

/// Why a package counts as compiling C.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct CCode {
    pub package: String,
    /// `links = "sqlite3"` or `build-dependency cc`.
    pub why: String,
    /// The library of the build machine it links, which a cross build cannot use (see
    /// [`syslib`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_lib: Option<syslib::SystemLib>,
}

/// The C code reachable from `roots` in the full resolve `metadata` on the platform
/// `triple` whose cfg is `cfg` (see [`Workspace::c_code_in_process`]).
pub(crate) fn c_code_on_platform<'a>(
    metadata: &Metadata,
    roots: impl Iterator<Item = &'a str>,
    triple: &str,
    cfg: &[Cfg],
) -> Vec<CCode> {
    c_code_in_graph(metadata, roots, |dep| edge_on_platform(dep, triple, cfg))
}

/// The C code reachable from `roots` in `metadata` as cargo printed it (for
/// `metadata --filter-platform`, already filtered).
#[cfg(test)]
pub(crate) fn c_code_filtered<'a>(
    metadata: &Metadata,
    roots: impl Iterator<Item = &'a str>,
) -> Vec<CCode> {
    c_code_in_graph(metadata, roots, |_| true)
}

/// Whether `cargo metadata --filter-platform <triple>` keeps the edge `dep`.
fn edge_on_platform(dep: &NodeDep, triple: &str, cfg: &[Cfg]) -> bool {
    dep.dep_kinds
        .iter()
        .any(|k| k.target.as_ref().is_none_or(|p| p.matches(triple, cfg)))
}

/// The C code reachable from `roots` through normal and build dependencies, over the
/// edges `keep` lets through.
fn c_code_in_graph<'a>(
    metadata: &Metadata,
    roots: impl Iterator<Item = &'a str>,
    keep: impl Fn(&NodeDep) -> bool,
) -> Vec<CCode> {
    let Some(resolve) = &metadata.resolve else {
        return Vec::new();
    };
    let nodes: HashMap<&PackageId, &cargo_metadata::Node> =
        resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let mut seen: BTreeSet<&PackageId> = BTreeSet::new();
    let mut stack: Vec<&PackageId> = roots
        .filter_map(|r| nodes.keys().find(|id| id.repr == r).copied())
        .collect();
    let mut found = BTreeSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(node) = nodes.get(id) else { continue };
        let pkg = &metadata[id];
        if let Some(links) = &pkg.links {
            let features: Vec<String> = node.features.iter().map(ToString::to_string).collect();
            found.insert(CCode {
                package: pkg.name.to_string(),
                why: format!("links = \"{links}\""),
                system_lib: syslib::unbundled(&pkg.name, &features),
            });
        }
        for dep in node.deps.iter().filter(|d| keep(d)) {
            let kinds = &dep.dep_kinds;
            let is_build = kinds.iter().any(|k| k.kind == DependencyKind::Build);
            let used = kinds
                .iter()
                .any(|k| matches!(k.kind, DependencyKind::Normal | DependencyKind::Build));
            if !used {
                continue;
            }
            let dep_name = metadata[&dep.pkg].name.to_string();
            if is_build && C_BUILD_DEPS.contains(&dep_name.as_str()) {
                found.insert(CCode {
                    package: pkg.name.to_string(),
                    why: format!("build-dependency `{dep_name}`"),
                    system_lib: None,
                });
            }
            stack.push(&dep.pkg);
        }
    }
    found.into_iter().collect()
}

/// The directory of the Cargo.toml cargo would use (see [`locate_manifest`]).
pub(crate) fn manifest_dir(given: Option<&Utf8Path>) -> Result<Utf8PathBuf> {
    let manifest = locate_manifest(given)?;
    Ok(manifest
        .parent()
        .expect("a manifest path has a parent")
        .to_owned())
}

/// The Cargo.toml to use: `--manifest-path`, else the nearest one from the current
/// directory up, as cargo finds it.
fn locate_manifest(given: Option<&Utf8Path>) -> Result<Utf8PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let cwd = Utf8PathBuf::try_from(cwd).context("the current directory is not valid UTF-8")?;
    if let Some(p) = given {
        let p = if p.is_absolute() {
            p.to_owned()
        } else {
            cwd.join(p)
        };
        if p.file_name() != Some("Cargo.toml") {
            bail!("the manifest path `{p}` must end in `Cargo.toml`");
        }
        if !p.is_file() {
            bail!(
                "manifest path `{p}` does not exist (hint: pass `--manifest-path path/to/Cargo.toml`)"
            );
        }
        return Ok(normalize(&p));
    }
    for dir in cwd.ancestors() {
        let candidate = dir.join("Cargo.toml");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "could not find `Cargo.toml` in `{cwd}` or any parent directory (hint: run inside a Rust workspace or pass `--manifest-path path/to/Cargo.toml`)"
    )
}

/// `p` against the current directory (cargo runs in the workspace root, so a relative
/// `--target-dir` given by the user must be resolved where the user typed it).
pub(crate) fn absolute(p: &Utf8Path) -> Result<Utf8PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_owned());
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let cwd = Utf8PathBuf::try_from(cwd).context("the current directory is not valid UTF-8")?;
    Ok(normalize(&cwd.join(p)))
}

/// Removes `.` and `..` components without touching the file system's links.
fn normalize(p: &Utf8Path) -> Utf8PathBuf {
    let mut out = Utf8PathBuf::new();
    for c in p.components() {
        match c {
            camino::Utf8Component::CurDir => {}
            camino::Utf8Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

fn manifest_flags(m: &Manifest) -> Vec<String> {
    let mut flags = Vec::new();
    if m.locked {
        flags.push("--locked".to_owned());
    }
    if m.offline {
        flags.push("--offline".to_owned());
    }
    if m.frozen {
        flags.push("--frozen".to_owned());
    }
    flags
}

pub(crate) fn feature_flags(f: &Features) -> Vec<String> {
    let mut flags = Vec::new();
    if f.all_features {
        flags.push("--all-features".to_owned());
    }
    if f.no_default_features {
        flags.push("--no-default-features".to_owned());
    }
    let list = requested_features(f);
    if !list.is_empty() {
        // One word, so a list starting with `-` is still the flag's value.
        flags.push(format!("--features={}", list.join(",")));
    }
    flags
}

fn requested_features(f: &Features) -> Vec<String> {
    f.features
        .iter()
        .flat_map(|s| s.split([',', ' ']))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Runs `cargo metadata` in the workspace directory (so the workspace's own
/// `.cargo/config.toml` and `rust-toolchain.toml` apply, as they do for cargo itself),
/// with `target_dir` as its target dir when given.
fn metadata(
    manifest: &Utf8Path,
    cwd: &Utf8Path,
    cargo_flags: &[String],
    feature_flags: &[String],
    filter_platform: Option<&str>,
    no_deps: bool,
    target_dir: Option<&Utf8Path>,
) -> Result<Metadata> {
    let mut p = Process::cargo()
        .args(["metadata", "--format-version=1"])
        .arg(format!("--manifest-path={manifest}"))
        .args(cargo_flags)
        .args(feature_flags)
        .cwd(cwd);
    if let Some(dir) = target_dir {
        p = p.env("CARGO_TARGET_DIR", dir);
    }
    if no_deps {
        p = p.arg("--no-deps");
    }
    if let Some(t) = filter_platform {
        p = p.arg(format!("--filter-platform={t}"));
    }
    let out = p.output().context("could not read the workspace")?;
    let stdout =
        String::from_utf8(out.stdout).with_context(|| format!("`{p}` printed invalid UTF-8"))?;
    MetadataCommand::parse(stdout).with_context(|| format!("could not parse the output of `{p}`"))
}

/// The features enabled on a package by the flags, closed over its feature table.
fn enabled_features(p: &cargo_metadata::Package, f: &Features) -> BTreeSet<String> {
    if f.all_features {
        return p.features.keys().cloned().collect();
    }
    let mut todo: Vec<String> = Vec::new();
    if !f.no_default_features && p.features.contains_key("default") {
        todo.push("default".to_owned());
    }
    for req in requested_features(f) {
        match req.split_once('/') {
            Some((pkg, feat)) if pkg == p.name.as_str() => todo.push(feat.to_owned()),
            Some(_) => {}
            None => todo.push(req),
        }
    }
    let mut enabled = BTreeSet::new();
    while let Some(feat) = todo.pop() {
        if !enabled.insert(feat.clone()) {
            continue;
        }
        for item in p.features.get(&feat).into_iter().flatten() {
            // `dep:x` enables a dependency, not a feature; `x/y` and `x?/y` name a
            // dependency's feature and, without `?`, also the implicit feature `x`.
            if item.starts_with("dep:") {
                continue;
            }
            let name = match item.split_once('/') {
                Some((dep, _)) if dep.ends_with('?') => continue,
                Some((dep, _)) => dep,
                None => item.as_str(),
            };
            if p.features.contains_key(name) {
                todo.push(name.to_owned());
            }
        }
    }
    enabled
}

fn merge_root(ws: Config, pkg: &Config) -> Config {
    Config {
        targets: ws.targets.or_else(|| pkg.targets.clone()),
        out_dir: ws.out_dir.or_else(|| pkg.out_dir.clone()),
        backend: ws.backend.or(pkg.backend),
        include: if ws.include.is_empty() {
            pkg.include.clone()
        } else {
            ws.include
        },
        archive_name: ws.archive_name.or_else(|| pkg.archive_name.clone()),
        sbom: ws.sbom.or(pkg.sbom),
        sbom_format: ws.sbom_format.or(pkg.sbom_format),
        auditable: ws.auditable.or(pkg.auditable),
        installers: ws.installers.or(pkg.installers),
        download_url: ws.download_url.or_else(|| pkg.download_url.clone()),
        cache: ws.cache.or(pkg.cache),
        image: if ws.image == crate::config::ImageConfig::default() {
            pkg.image.clone()
        } else {
            ws.image
        },
    }
}

fn most_common_version(packages: &[Package]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in packages {
        *counts.entry(p.version.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or_else(|| "0.0.0".to_owned(), |(v, _)| v.to_owned())
}
