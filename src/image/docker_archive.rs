//! A `docker-archive:` base: the tar `docker save` (and `skopeo copy …
//! docker-archive:`) writes, `manifest.json` naming each image's config and layers by
//! path inside it. Every file is stored in the blob cache under its own digest as it
//! is read; the image gets an OCI manifest made from its config and layers (the same
//! archive gives the same bytes, so the same digest).

use std::collections::BTreeMap;
use std::io::Read as _;

use anyhow::{Context as _, Result, anyhow, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use super::base::{BasePlatform, platform_of, read_bounded};
use super::{Descriptor, MEDIA_TYPE_CONFIG, MEDIA_TYPE_LAYER};
use crate::oci;

/// The largest `manifest.json` or config read.
const MAX_JSON: u64 = crate::limits::MAX_OCI_JSON_BYTES;
/// The largest file of the archive stored.
const MAX_FILE: u64 = crate::limits::MAX_BASE_LAYER_BYTES;
/// Symlinks inside the archive followed per lookup, at most.
const MAX_HOPS: usize = 8;
/// An uncompressed tar layer.
const MEDIA_TYPE_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// Reads `file` into `cache`; returns the digest of the OCI manifest made for its image
/// (the one `tag` names in `RepoTags`, or the only one) and that image.
pub(super) fn read(
    file: &Utf8Path,
    tag: Option<&str>,
    cache: &Utf8Path,
) -> Result<(String, BasePlatform)> {
    let Scanned {
        files,
        links,
        manifest,
    } = scan(file, cache)?;
    let manifest = manifest.ok_or_else(|| anyhow!("it has no `manifest.json` (hint: write it with `docker save` or `skopeo copy … docker-archive:FILE`)"))?;
    let image = pick(&manifest, tag)?;
    let find = |path: &str| -> Result<(String, u64)> {
        let mut at = clean(path);
        for _ in 0..MAX_HOPS {
            if let Some(found) = files.get(&at) {
                return Ok(found.clone());
            }
            match links.get(&at) {
                Some(next) => at.clone_from(next),
                None => break,
            }
        }
        bail!("`manifest.json` names `{path}`, which the archive does not hold")
    };
    let (config_hex, config_size) = find(image["Config"].as_str().unwrap_or_default())?;
    let config_bytes = read_bounded(&cache.join(&config_hex), MAX_JSON)?;
    let config: Value = serde_json::from_slice(&config_bytes).context("its config is not JSON")?;
    let platform = platform_of(&config)
        .ok_or_else(|| anyhow!("its config names no platform (`os`, `architecture`)"))?;
    let mut layers = Vec::new();
    for l in image["Layers"].as_array().into_iter().flatten() {
        let (hex, size) = find(l.as_str().unwrap_or_default())?;
        let path = cache.join(&hex);
        let media_type = if is_gzip(&path)? {
            MEDIA_TYPE_LAYER
        } else {
            MEDIA_TYPE_TAR
        };
        layers.push((
            Descriptor::new(media_type, format!("sha256:{hex}"), size),
            path,
        ));
    }
    let diff_ids = super::base::diff_ids(&config);
    if diff_ids.len() != layers.len() {
        bail!(
            "its image has {} layers but {} `diff_ids` in its config",
            layers.len(),
            diff_ids.len()
        );
    }
    let config_desc = Descriptor::new(
        MEDIA_TYPE_CONFIG,
        format!("sha256:{config_hex}"),
        config_size,
    );
    let descriptors: Vec<Descriptor> = layers.iter().map(|(d, _)| d.clone()).collect();
    let made = oci::manifest_json(&config_desc, &descriptors, &BTreeMap::new());
    let digest = oci::describe(super::MEDIA_TYPE_MANIFEST, &made).digest;
    Ok((
        digest.clone(),
        BasePlatform {
            platform,
            manifest_digest: digest,
            config,
            layers,
            diff_ids,
        },
    ))
}

/// What a pass over the archive found.
struct Scanned {
    /// Path in the archive → (hex, size) of a regular file, stored in the cache.
    files: BTreeMap<String, (String, u64)>,
    /// Path in the archive → the path a symlink there points at.
    links: BTreeMap<String, String>,
    manifest: Option<Vec<u8>>,
}

/// Stores every regular file of the archive in `cache`, and notes its symlinks and
/// `manifest.json`.
fn scan(file: &Utf8Path, cache: &Utf8Path) -> Result<Scanned> {
    std::fs::create_dir_all(cache).with_context(|| format!("could not create `{cache}`"))?;
    let mut tar = tar::Archive::new(crate::fs::open_regular(file)?);
    // Path in the archive → (hex, size) of a regular file; → target of a symlink.
    let mut files: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    let mut manifest = None;
    for (n, entry) in tar.entries().context("not a tar archive")?.enumerate() {
        let mut entry = entry.context("not a tar archive")?;
        super::base::refuse_expanding(&entry, n)?;
        let path = clean(&entry.path()?.to_string_lossy());
        match entry.header().entry_type() {
            tar::EntryType::Symlink => {
                let target = entry.link_name()?.unwrap_or_default();
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                let resolved = clean(&format!("{dir}/{}", target.to_string_lossy()));
                links.insert(path, resolved);
            }
            t if t.is_file() => {
                if path == "manifest.json" {
                    let mut bytes = Vec::new();
                    (&mut entry).take(MAX_JSON + 1).read_to_end(&mut bytes)?;
                    manifest = Some(bytes);
                    continue;
                }
                files.insert(path, store(&mut entry, cache)?);
            }
            _ => {}
        }
    }
    Ok(Scanned {
        files,
        links,
        manifest,
    })
}

/// The image of `manifest.json` that `tag` names in its `RepoTags` (the only one
/// when no tag).
fn pick(manifest: &[u8], tag: Option<&str>) -> Result<Value> {
    let manifest: Value =
        serde_json::from_slice(manifest).context("its `manifest.json` is not JSON")?;
    let images: Vec<&Value> = manifest
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let tags = |i: &Value| -> Vec<String> {
        i["RepoTags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect()
    };
    let chosen: Vec<&&Value> = images
        .iter()
        .filter(|i| {
            tag.is_none_or(|t| {
                tags(i)
                    .iter()
                    .any(|r| r == t || r.ends_with(&format!("/{t}")))
            })
        })
        .collect();
    let [image] = chosen.as_slice() else {
        let all: Vec<String> = images.iter().flat_map(|i| tags(i)).collect();
        bail!(
            "it holds {} images for `{}` (hint: name one of its tags after the file: {})",
            chosen.len(),
            tag.unwrap_or("(no tag)"),
            if all.is_empty() {
                "none is tagged".to_owned()
            } else {
                all.join(", ")
            }
        );
    };
    Ok((**image).clone())
}

/// `./a//b` → `a/b`, `a/../b` → `b` (never above the archive's root).
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Stores one file of the archive in the cache under its digest.
fn store(entry: &mut impl std::io::Read, cache: &Utf8Path) -> Result<(String, u64)> {
    let incoming: Utf8PathBuf = cache.join(format!("incoming-{}", std::process::id()));
    let (sha, size) = crate::fs::write_atomic_at(&incoming, |f| {
        let mut hashed = crate::digest::HashWriter::new(f);
        std::io::copy(&mut entry.take(MAX_FILE + 1), &mut hashed)?;
        let (_, sha, size) = hashed.into_parts();
        if size > MAX_FILE {
            bail!("a file of the archive is over {MAX_FILE} bytes");
        }
        Ok((sha, size))
    })?;
    let dest = cache.join(sha.as_str());
    std::fs::rename(&incoming, &dest)
        .with_context(|| format!("could not store `{dest}` in the cache"))?;
    Ok((sha.to_string(), size))
}

fn is_gzip(path: &Utf8Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = crate::fs::open_regular(path)?;
    Ok(f.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b])
}
