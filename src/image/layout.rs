//! Writing and verifying the OCI image layout on disk.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;
use serde_json::Value;

use super::{
    Descriptor, ImageResult, ImageSpec, LayoutResult, MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX,
    MEDIA_TYPE_LAYER, MEDIA_TYPE_MANIFEST, REF_NAME_ANNOTATION,
};
use crate::archive::{self, Options};
use crate::oci::{self, check_ref_name, digest_hex};
use crate::outdir::{self, OutDir, RelPath};

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// Indexes may nest; a deeper chain is treated as a loop.
const MAX_DEPTH: usize = crate::limits::MAX_INDEX_DEPTH;
/// The largest JSON document (index, manifest, config, `index.json`) read back.
const MAX_JSON: u64 = crate::limits::MAX_OCI_JSON_BYTES;

fn rel(s: &str) -> RelPath {
    RelPath::new(s).expect("a plain path")
}

/// `blobs/sha256/<hex>`, for a checked hex digest.
pub(super) fn blob_rel(hex: &str) -> Result<RelPath> {
    crate::digest::Sha256::parse(hex)?;
    RelPath::new(&format!("blobs/sha256/{hex}"))
}

/// OCI image index, or its Docker ancestor (a layout copied by other tools may hold it).
fn is_index(media_type: &str) -> bool {
    media_type == MEDIA_TYPE_INDEX
        || media_type == "application/vnd.docker.distribution.manifest.list.v2+json"
}

fn is_manifest(media_type: &str) -> bool {
    media_type == MEDIA_TYPE_MANIFEST
        || media_type == "application/vnd.docker.distribution.manifest.v2+json"
}

/// Writes (or rewrites) an OCI image layout at `dir`: `oci-layout`, `blobs/sha256/…`
/// and `index.json` listing each spec's image index once per name
/// (`org.opencontainers.image.ref.name`), then, when the spec asks, each platform's
/// manifest once per platform name. Blobs are written atomically and once each;
/// `index.json` is written last, then blobs it no longer reaches are removed, so a
/// rewritten layout holds exactly what a fresh one would.
///
/// Refuses a non-empty `dir` that is not already an OCI layout.
///
/// Nothing below `dir` is followed if it is a symlink: a layout whose `blobs/sha256`
/// leads elsewhere is refused, never written through or cleaned.
pub fn write_layout(specs: &[ImageSpec], dir: &Utf8Path) -> Result<LayoutResult> {
    check_specs(specs)?;
    let layout = prepare_dir(dir)?;
    layout.create_dirs(&rel("blobs/sha256"))?;
    layout.write(&rel("oci-layout"), OCI_LAYOUT)?;

    let mut writer = BlobWriter {
        layout: &layout,
        written: BTreeSet::new(),
        layers: Vec::new(),
    };
    let mut images = Vec::with_capacity(specs.len());
    let mut listed: Vec<Descriptor> = Vec::new();
    for spec in specs {
        let main = &spec.names[0];
        let opts = Options {
            mtime: spec.created,
            level: spec.level,
        };
        let mut base = Vec::with_capacity(spec.base_layers.len());
        for files in &spec.base_layers {
            base.push(
                writer
                    .layer(files, &opts)
                    .with_context(|| format!("could not write a layer of image `{main}`"))?,
            );
        }
        let mut manifests = Vec::with_capacity(spec.platforms.len());
        let mut base_use = spec.base.as_ref().map(|b| super::BaseUse {
            name: b.name.clone(),
            digest: b.digest.clone(),
            manifests: Vec::new(),
            blobs: b
                .platforms
                .iter()
                .flat_map(|p| &p.layers)
                .map(|(d, _)| d.digest.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            repository: b.repository.clone(),
        });
        for image in &spec.platforms {
            let (manifest, base_digest) = writer.platform_manifest(spec, image, &base, &opts)?;
            if let (Some(digest), Some(u)) = (base_digest, base_use.as_mut()) {
                u.manifests.push(digest);
            }
            manifests.push(manifest);
        }
        let attestations = super::attest::write(spec, &manifests, &mut |media_type, bytes| {
            writer.json(media_type, bytes)
        })?;
        let in_index: Vec<Descriptor> = manifests.iter().chain(&attestations).cloned().collect();
        let index = writer.json(
            MEDIA_TYPE_INDEX,
            &oci::index_json(&in_index, &spec.annotations),
        )?;
        let named = |d: &Descriptor, name: &str| {
            let mut d = d.clone();
            d.annotations
                .insert(REF_NAME_ANNOTATION.to_owned(), name.to_owned());
            d
        };
        listed.extend(spec.names.iter().map(|n| named(&index, n)));
        let mut manifest_names = vec![Vec::new(); manifests.len()];
        if spec.platform_names {
            for name in &spec.names {
                for (m, names) in manifests.iter().zip(&mut manifest_names) {
                    let p = m.platform.expect("set above");
                    let pname = super::platform_name(name, &p);
                    listed.push(named(m, &pname));
                    names.push(pname);
                }
            }
        }
        images.push(ImageResult {
            reference_name: main.clone(),
            names: spec.names.clone(),
            index: named(&index, main),
            manifests,
            manifest_names,
            base_layers: base.into_iter().map(|(d, _)| d).collect(),
            attestations,
            base: base_use,
        });
    }
    layout.write(
        &rel("index.json"),
        &oci::index_json(&listed, &BTreeMap::new()),
    )?;
    writer.remove_unreferenced()?;
    let created = specs.iter().map(|s| s.created).max().unwrap_or(0);
    Ok(LayoutResult { images, created })
}

fn check_specs(specs: &[ImageSpec]) -> Result<()> {
    if specs.is_empty() {
        bail!("no image to write (hint: give at least one image)");
    }
    let mut names = BTreeSet::new();
    for spec in specs {
        let Some(main) = spec.names.first() else {
            bail!("an image has no name (hint: give each image a name)");
        };
        let mut all: Vec<String> = spec.names.clone();
        if spec.platform_names {
            for name in &spec.names {
                all.extend(
                    spec.platforms
                        .iter()
                        .map(|p| super::platform_name(name, &p.platform)),
                );
            }
        }
        for name in &all {
            check_ref_name(name)?;
            if !names.insert(name.clone()) {
                bail!(
                    "image name `{name}` is given twice (hint: give each image and platform a distinct name or tag)"
                );
            }
        }
        if spec.platforms.is_empty() {
            bail!("image `{main}` has no platform (hint: build at least one target first)");
        }
        if spec.level > 9 {
            bail!(
                "gzip level {} for image `{main}` is out of range (hint: use 0 to 9)",
                spec.level
            );
        }
        for key in spec.annotations.keys() {
            if let Some(problem) = crate::config::annotation_key_problem(key) {
                bail!(
                    "annotation key `{}` of image `{main}` {problem}",
                    key.escape_debug()
                );
            }
        }
        let mut seen = BTreeSet::new();
        for p in &spec.platforms {
            if !seen.insert(p.platform) {
                bail!(
                    "image `{main}` lists platform `{}` twice (hint: give each platform once)",
                    p.platform
                );
            }
        }
        let layers = spec
            .base_layers
            .iter()
            .map(|files| ("a base layer".to_owned(), files))
            .chain(
                spec.platforms
                    .iter()
                    .map(|p| (format!("the `{}` image", p.platform), &p.files)),
            );
        for (what, files) in layers {
            for f in files {
                let bad = f.path.is_empty()
                    || f.path.starts_with('/')
                    || f.path
                        .split('/')
                        .any(|c| c.is_empty() || c == "." || c == "..");
                if bad {
                    bail!(
                        "file path `{}` in {what} of `{main}` must be relative to the image root, without `.`, `..` or empty components (hint: write it like `usr/local/bin/app`)",
                        f.path
                    );
                }
            }
        }
    }
    Ok(())
}

/// Creates `dir`, or checks that an existing one is empty or an OCI layout.
fn prepare_dir(dir: &Utf8Path) -> Result<OutDir> {
    let layout = OutDir::create(dir)?;
    if layout.kind(&rel("oci-layout"))? == Some(outdir::Kind::File) {
        return Ok(layout);
    }
    if !layout.list(None)?.is_empty() {
        bail!(
            "`{dir}` is not empty and not an OCI image layout (it has no `oci-layout` file), so it is left alone (hint: remove it or choose another directory)"
        );
    }
    Ok(layout)
}

struct BlobWriter<'a> {
    layout: &'a OutDir,
    /// Hex digests written (or found in place) by this run.
    written: BTreeSet<String>,
    /// The layers written by this run, by their files and options: a layer shared by
    /// several images (the CA certificates) is compressed once.
    layers: Vec<(Vec<archive::Entry>, Options, (Descriptor, String))>,
}

impl BlobWriter<'_> {
    /// Writes a JSON document as a blob (skipped when an identical one is in place).
    fn json(&mut self, media_type: &str, bytes: &[u8]) -> Result<Descriptor> {
        let desc = oci::describe(media_type, bytes);
        let path = blob_rel(desc.hex())?;
        let in_place = self.written.contains(desc.hex())
            || self
                .layout
                .read(&path, bytes.len() as u64)
                .is_ok_and(|existing| existing == bytes);
        if !in_place {
            self.layout.write(&path, bytes)?;
        }
        self.written.insert(desc.hex().to_owned());
        Ok(desc)
    }

    /// Writes the reproducible tar.gz of `files` as a blob; returns its descriptor and
    /// its diff ID (the digest of the uncompressed tar).
    fn layer(&mut self, files: &[archive::Entry], opts: &Options) -> Result<(Descriptor, String)> {
        if let Some((_, _, done)) = self
            .layers
            .iter()
            .find(|(f, o, _)| f.as_slice() == files && o == opts)
        {
            return Ok(done.clone());
        }
        let (temp, written) = self.layout.write_temp(&rel("blobs/sha256/layer"), |file| {
            archive::write_tar_gz(files, opts, file)
        })?;
        let path = blob_rel(written.sha256.as_str())?;
        if let Err(e) = self.layout.rename(&temp, &path) {
            let _ = self.layout.remove(&temp);
            return Err(e);
        }
        self.written.insert(written.sha256.to_string());
        let desc = Descriptor::new(
            MEDIA_TYPE_LAYER,
            format!("sha256:{}", written.sha256),
            written.size,
        );
        let done = (desc, format!("sha256:{}", written.tar_sha256));
        self.layers.push((files.to_vec(), *opts, done.clone()));
        Ok(done)
    }

    /// Writes one platform's layer, config and manifest (on the spec's base, if any,
    /// whose layers are copied in first); returns the manifest and the digest of the
    /// base's manifest it is on.
    fn platform_manifest(
        &mut self,
        spec: &ImageSpec,
        image: &super::PlatformImage,
        shared: &[(Descriptor, String)],
        opts: &Options,
    ) -> Result<(Descriptor, Option<String>)> {
        let main = &spec.names[0];
        let own = self.layer(&image.files, opts).with_context(|| {
            format!(
                "could not write the `{}` layer of image `{main}`",
                image.platform
            )
        })?;
        let on = match &spec.base {
            Some(b) => Some(b.for_platform(&image.platform).with_context(|| {
                format!(
                    "base `{}` has no `{}` image (hint: choose a base with that platform)",
                    b.name, image.platform
                )
            })?),
            None => None,
        };
        let mut below: Vec<(Descriptor, String)> = Vec::new();
        if let Some(bp) = on {
            for ((d, path), diff_id) in bp.layers.iter().zip(&bp.diff_ids) {
                self.copy_blob(d, path).with_context(|| {
                    format!("could not copy a layer of base `{}`", bp.manifest_digest)
                })?;
                below.push((d.clone(), diff_id.clone()));
            }
        }
        let (layers, diff_ids): (Vec<Descriptor>, Vec<String>) = below
            .into_iter()
            .chain(shared.iter().cloned())
            .chain([own])
            .unzip();
        let config_bytes = match on {
            Some(bp) => oci::config_json_on(
                &bp.config,
                &image.platform,
                &spec.settings,
                spec.created,
                &diff_ids,
            ),
            None => oci::config_json(&image.platform, &spec.settings, spec.created, &diff_ids),
        };
        let config = self.json(MEDIA_TYPE_CONFIG, &config_bytes)?;
        let mut annotations = spec.annotations.clone();
        if let (Some(bp), Some(b)) = (on, &spec.base) {
            annotations.insert(super::BASE_NAME_ANNOTATION.to_owned(), b.name.clone());
            annotations.insert(
                super::BASE_DIGEST_ANNOTATION.to_owned(),
                bp.manifest_digest.clone(),
            );
        }
        let mut manifest = self.json(
            MEDIA_TYPE_MANIFEST,
            &oci::manifest_json(&config, &layers, &annotations),
        )?;
        manifest.platform = Some(image.platform);
        Ok((manifest, on.map(|bp| bp.manifest_digest.clone())))
    }

    /// Copies a base's blob from `from` (its size and digest checked as it is copied),
    /// unless the layout holds it already.
    fn copy_blob(&mut self, d: &Descriptor, from: &Utf8Path) -> Result<()> {
        let path = blob_rel(d.hex())?;
        if self.written.contains(d.hex())
            || self
                .layout
                .hash(&path)
                .is_ok_and(|(sha, size)| size == d.size && sha.as_str() == d.hex())
        {
            self.written.insert(d.hex().to_owned());
            return Ok(());
        }
        let mut src = crate::fs::open_regular(from)?;
        let (temp, (sha, size)) = self.layout.write_temp(&rel("blobs/sha256/base"), |file| {
            let mut hashed = crate::digest::HashWriter::new(file);
            std::io::copy(&mut std::io::Read::take(&mut src, d.size + 1), &mut hashed)
                .with_context(|| format!("could not copy `{from}`"))?;
            let (_, sha, size) = hashed.into_parts();
            Ok((sha, size))
        })?;
        if size != d.size || sha.as_str() != d.hex() {
            let _ = self.layout.remove(&temp);
            bail!(
                "`{from}` is not blob `{}` any more (hint: remove it from the cache and run again)",
                d.digest
            );
        }
        if let Err(e) = self.layout.rename(&temp, &path) {
            let _ = self.layout.remove(&temp);
            return Err(e);
        }
        self.written.insert(d.hex().to_owned());
        Ok(())
    }

    /// Removes what is in `blobs/sha256/` but was not written by this run: blobs of
    /// an earlier run's images and temporary files of an interrupted one.
    fn remove_unreferenced(&self) -> Result<()> {
        for (path, kind) in self.layout.list(Some(&rel("blobs/sha256")))? {
            let keep = self.written.contains(path.file_name());
            if !keep && matches!(kind, outdir::Kind::File | outdir::Kind::Symlink) {
                self.layout.remove(&path)?;
            }
        }
        Ok(())
    }
}

/// Checks that every blob reachable from `index.json` (indexes, manifests, configs,
/// layers, recursively) exists inside `dir` with the digest and size its descriptor
/// names, and that the attestations are about the manifests they annotate. Returns
/// one line per problem; empty means the layout is sound.
pub fn verify_layout(dir: &Utf8Path) -> Result<Vec<String>> {
    Ok(walk_layout(dir)?.problems)
}

/// [`verify_layout`], with what the walk reached and the names `index.json` gives:
/// what `verify` compares with the manifest.
pub fn walk_layout(dir: &Utf8Path) -> Result<Checked> {
    let mut checked = check(dir)?;
    checked
        .problems
        .extend(super::attest::check(&OutDir::existing(dir)?));
    Ok(checked)
}

/// The result of walking a layout from `index.json`.
#[derive(Debug)]
pub struct Checked {
    pub problems: Vec<String>,
    /// Hex digests of every blob reached (sound or not).
    pub reached: BTreeSet<String>,
    /// Each entry of `index.json`, in its order.
    pub refs: Vec<Ref>,
}

/// One entry of `index.json`: the name it gives its image, if any
/// (`org.opencontainers.image.ref.name`), and the digest it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub name: Option<String>,
    /// `sha256:<hex>`, as written (checked by the walk).
    pub digest: String,
}

/// The entries of a parsed `index.json` that are descriptors with a digest.
fn refs_of(index: &Value) -> Vec<Ref> {
    let Some(Value::Array(list)) = index.get("manifests") else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|d| {
            let digest = d.get("digest")?.as_str()?.to_owned();
            let name = d
                .get("annotations")
                .and_then(|a| a.get(REF_NAME_ANNOTATION))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some(Ref { name, digest })
        })
        .collect()
}

pub(super) fn check(dir: &Utf8Path) -> Result<Checked> {
    if !dir.is_dir() {
        bail!("`{dir}` is not a directory (hint: write the image layout first)");
    }
    let mut walk = Walk {
        layout: OutDir::existing(dir)?,
        problems: Vec::new(),
        seen: BTreeSet::new(),
    };
    match walk.layout.read(&rel("oci-layout"), MAX_JSON) {
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) if v.get("imageLayoutVersion").is_some_and(Value::is_string) => {}
            _ => walk.problem(
                "`oci-layout` is not a JSON object with an `imageLayoutVersion` string".to_owned(),
            ),
        },
        Err(e) => walk.problem(format!("`oci-layout` could not be read: {e:#}")),
    }
    let mut refs = Vec::new();
    match walk.layout.read(&rel("index.json"), MAX_JSON) {
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(index) => {
                walk.children("`index.json`", &index, MEDIA_TYPE_INDEX, 0);
                refs = refs_of(&index);
            }
            Err(e) => walk.problem(format!("`index.json` is not valid JSON: {e}")),
        },
        Err(e) => walk.problem(format!("`index.json` could not be read: {e:#}")),
    }
    let reached = walk.seen;
    Ok(Checked {
        problems: walk.problems,
        reached,
        refs,
    })
}

struct Walk {
    layout: OutDir,
    problems: Vec<String>,
    /// Hex digests of the blobs checked so far, so each is hashed once.
    seen: BTreeSet<String>,
}

impl Walk {
    fn problem(&mut self, line: String) {
        self.problems.push(line);
    }

    /// Follows the descriptors a document of `media_type` holds.
    fn children(&mut self, what: &str, doc: &Value, media_type: &str, depth: usize) {
        if doc.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
            self.problem(format!("{what} does not have `schemaVersion` 2"));
        }
        if let Some(declared) = doc.get("mediaType").and_then(Value::as_str)
            && declared != media_type
        {
            self.problem(format!(
                "{what} declares media type `{declared}` but is referenced as `{media_type}`"
            ));
        }
        let fields: &[&str] = if is_index(media_type) {
            &["manifests"]
        } else {
            &["config", "layers"]
        };
        for field in fields {
            match doc.get(field) {
                Some(Value::Array(list)) => {
                    for (i, d) in list.iter().enumerate() {
                        self.descriptor(&format!("{what} `{field}[{i}]`"), d, depth);
                    }
                }
                Some(d @ Value::Object(_)) if *field == "config" => {
                    self.descriptor(&format!("{what} `config`"), d, depth);
                }
                _ => self.problem(format!("{what} has no `{field}`")),
            }
        }
    }

    fn descriptor(&mut self, what: &str, d: &Value, depth: usize) {
        let (Some(media_type), Some(digest), Some(size)) = (
            d.get("mediaType").and_then(Value::as_str),
            d.get("digest").and_then(Value::as_str),
            d.get("size").and_then(Value::as_u64),
        ) else {
            return self.problem(format!(
                "{what} is not a descriptor with `mediaType`, `digest` and `size`"
            ));
        };
        let hex = match digest_hex(digest) {
            Ok(hex) => hex.to_owned(),
            Err(e) => return self.problem(format!("{what}: {e}")),
        };
        let nested = is_index(media_type) || is_manifest(media_type);
        if depth >= MAX_DEPTH && nested {
            return self.problem(format!(
                "{what} nests indexes more than {MAX_DEPTH} deep (a loop?)"
            ));
        }
        if self.seen.contains(&hex) {
            return; // already checked (and walked) from another descriptor
        }
        let path = match blob_rel(&hex) {
            Ok(p) => p,
            Err(e) => return self.problem(format!("{what}: {e:#}")),
        };
        let sound = self.blob(what, &path, digest, &hex, size);
        self.seen.insert(hex);
        if sound && nested {
            match self
                .layout
                .read(&path, MAX_JSON)
                .and_then(|b| Ok(serde_json::from_slice::<Value>(&b)?))
            {
                Ok(doc) => self.children(
                    &format!("`{media_type}` blob `{digest}`"),
                    &doc,
                    media_type,
                    depth + 1,
                ),
                Err(e) => self.problem(format!("{what}: blob `{digest}` is not valid JSON: {e}")),
            }
        }
    }

    /// Checks one blob file; true when it is a regular file inside the layout (no
    /// symlink on the way) with the right size and hash.
    fn blob(&mut self, what: &str, path: &RelPath, digest: &str, hex: &str, size: u64) -> bool {
        match self.layout.kind(path) {
            Ok(None) => {
                self.problem(format!(
                    "{what}: blob `{digest}` is missing (no `{}`)",
                    self.layout.display(path)
                ));
                return false;
            }
            Ok(Some(outdir::Kind::Symlink)) => {
                self.problem(format!(
                    "{what}: blob `{digest}` is a symlink, which could lead outside the layout; refusing to follow it"
                ));
                return false;
            }
            _ => {}
        }
        match self.layout.hash(path) {
            Ok((actual, actual_size)) => {
                if actual_size != size {
                    self.problem(format!("{what}: blob `{digest}` has {actual_size} bytes, its descriptor says {size}"));
                    false
                } else if actual != *hex {
                    self.problem(format!(
                        "{what}: blob `{digest}` has sha256 `{actual}`, so its content is corrupt"
                    ));
                    false
                } else {
                    true
                }
            }
            Err(e) => {
                self.problem(format!("{what}: blob `{digest}` could not be read: {e:#}"));
                false
            }
        }
    }
}
