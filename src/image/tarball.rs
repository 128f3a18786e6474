//! One tar holding the OCI layout plus Docker's `manifest.json`, so OCI tools
//! (`oci-archive:`) and classic `docker load` (`docker-archive:`) both take it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;
use serde::Serialize;
use serde_json::Value;

use super::{LayoutResult, layout};
use crate::oci;
use crate::outdir::{OutDir, RelPath};
use crate::platform::Platform;

/// One image in Docker's `manifest.json` (the `docker save` format).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerImage {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

/// Writes `dest`: a tar of the layout at `dir` (`oci-layout`, `index.json`, every blob
/// `index.json` reaches) plus a Docker `manifest.json` and `repositories` naming each
/// image's `host_platform` manifest, so `docker load` takes it. Reproducible: entries
/// sorted, mode 0644/0755, uid/gid 0 with no names, mtime `layout.created`. The layout
/// is verified first, and `dest` is written under a temporary name and renamed.
pub fn write_archive(
    dir: &Utf8Path,
    layout: &LayoutResult,
    host_platform: Platform,
    dest: &Utf8Path,
) -> Result<()> {
    let checked = layout::check(dir)?;
    if !checked.problems.is_empty() {
        bail!(
            "the image layout at `{dir}` is inconsistent, so no archive was written:\n  {}\n(hint: write the layout again)",
            checked.problems.join("\n  ")
        );
    }
    let dir = OutDir::existing(dir)?;
    let (manifest_json, repositories) = docker_files(&dir, layout, host_platform)?;

    // (path in the tar, file on disk or bytes); directories are added in between.
    let mut files: BTreeMap<String, Content> = BTreeMap::new();
    for name in ["oci-layout", "index.json"] {
        let path = dir.file(&RelPath::new(name)?)?;
        files.insert(name.into(), Content::File(path));
    }
    for hex in &checked.reached {
        let rel = crate::layout::oci_blob(hex)?;
        files.insert(rel.to_string(), Content::File(dir.file(&rel)?));
    }
    files.insert("manifest.json".into(), Content::Bytes(manifest_json));
    files.insert("repositories".into(), Content::Bytes(repositories));

    crate::fs::write_atomic_at(dest, |out| write_tar(&files, layout.created, out))
        .with_context(|| format!("could not write `{dest}`"))
}

enum Content {
    File(camino::Utf8PathBuf),
    Bytes(Vec<u8>),
}

/// `manifest.json` and `repositories`, as `docker save` writes them for an OCI layout.
fn docker_files(dir: &OutDir, layout: &LayoutResult, host: Platform) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut images = Vec::with_capacity(layout.images.len());
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for image in &layout.images {
        let Some(manifest) = image.manifests.iter().find(|m| m.platform == Some(host)) else {
            let have: Vec<String> = image
                .manifests
                .iter()
                .filter_map(|m| m.platform)
                .map(|p| p.to_string())
                .collect();
            bail!(
                "image `{}` has no `{host}` manifest (it has {}), so `docker load` on this host could not use the archive (hint: include the `{host}` platform)",
                image.reference_name,
                have.join(", ")
            );
        };
        let path = crate::layout::oci_blob(manifest.hex())?;
        let bytes = dir.read(&path, crate::limits::MAX_OCI_JSON_BYTES)?;
        let doc: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("`{path}` is not valid JSON"))?;
        let blob_path = |d: &Value| -> Result<String> {
            let digest = d.get("digest").and_then(Value::as_str).unwrap_or_default();
            Ok(format!("blobs/sha256/{}", oci::digest_hex(digest)?))
        };
        let config = blob_path(&doc["config"])?;
        let layers: Vec<String> = match doc["layers"].as_array() {
            Some(list) => list.iter().map(blob_path).collect::<Result<_>>()?,
            None => Vec::new(),
        };
        // Docker loads the host's platform under every name of the image, and under
        // that platform's own names.
        let position = image.manifests.iter().position(|m| m == manifest);
        let own = position.and_then(|i| image.manifest_names.get(i));
        let mut repo_tags = Vec::new();
        for name in image.names.iter().chain(own.into_iter().flatten()) {
            let (repo, tag) = docker_repo_tag(name);
            if let Some(top) = layers.last() {
                let hex = top.trim_start_matches("blobs/sha256/").to_owned();
                repositories
                    .entry(repo.clone())
                    .or_default()
                    .insert(tag.clone(), hex);
            }
            repo_tags.push(format!("{repo}:{tag}"));
        }
        images.push(DockerImage {
            config,
            repo_tags,
            layers,
        });
    }
    let manifest_json =
        serde_json::to_vec(&images).context("could not serialise `manifest.json`")?;
    let repositories =
        serde_json::to_vec(&repositories).context("could not serialise `repositories`")?;
    Ok((manifest_json, repositories))
}

/// `alpha:0.3.0` → (`alpha`, `0.3.0`); a name without a tag gets `latest`.
fn docker_repo_tag(reference: &str) -> (String, String) {
    let name_end = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[name_end..].rfind(':') {
        Some(i) => (
            reference[..name_end + i].to_owned(),
            reference[name_end + i + 1..].to_owned(),
        ),
        None => (reference.to_owned(), "latest".to_owned()),
    }
}

fn write_tar(files: &BTreeMap<String, Content>, mtime: u64, out: &mut File) -> Result<()> {
    let mut tar = tar::Builder::new(BufWriter::new(out));
    let mut dirs_done: Vec<String> = Vec::new();
    for (path, content) in files {
        // Parent directories first ("blobs/" sorts before "blobs/sha256/…").
        let mut prefix = String::new();
        for component in path
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            prefix.push_str(component);
            prefix.push('/');
            if !dirs_done.contains(&prefix) {
                let mut h = header(mtime, 0o755, 0);
                h.set_entry_type(tar::EntryType::Directory);
                h.set_cksum();
                tar.append_data(&mut h, &prefix, std::io::empty())?;
                dirs_done.push(prefix.clone());
            }
        }
        match content {
            Content::Bytes(bytes) => {
                let mut h = header(mtime, 0o644, bytes.len() as u64);
                tar.append_data(&mut h, path, bytes.as_slice())?;
            }
            Content::File(file) => {
                let f = crate::fs::open_regular(file)?;
                let len = f
                    .metadata()
                    .with_context(|| format!("could not stat `{file}`"))?
                    .len();
                let mut h = header(mtime, 0o644, len);
                tar.append_data(&mut h, path, f)
                    .with_context(|| format!("could not add `{file}`"))?;
            }
        }
    }
    let mut out = tar.into_inner()?;
    out.flush()?;
    Ok(())
}

fn header(mtime: u64, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_mtime(mtime);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h
}

#[cfg(test)]
mod tests {
    use super::docker_repo_tag;

    #[test]
    fn repo_and_tag_split_after_the_last_slash() {
        let split = |s: &str| {
            let (r, t) = docker_repo_tag(s);
            format!("{r} {t}")
        };
        assert_eq!(split("alpha:0.3.0"), "alpha 0.3.0");
        assert_eq!(split("alpha"), "alpha latest");
        assert_eq!(
            split("localhost:5000/acme/alpha"),
            "localhost:5000/acme/alpha latest"
        );
        assert_eq!(
            split("localhost:5000/acme/alpha:1"),
            "localhost:5000/acme/alpha 1"
        );
    }
}
