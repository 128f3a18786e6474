//! Base images (`--base REF`): the image our layers go on top of, resolved to one
//! manifest per platform before anything is built, its layers fetched once into a
//! digest-addressed cache and checked on every read.
//!
//! REF is a registry reference (`127.0.0.1:5000/base:1`, `…@sha256:…`), pulled with the
//! same client, credential and origin rules as a push, or a local source named as
//! skopeo names it: `oci:DIR[:TAG]` (an OCI image layout), `oci-archive:FILE[:TAG]`
//! (one as a tar) or `docker-archive:FILE[:NAME:TAG]` (`docker save`'s tar, read by
//! `docker_archive`). Everything read is untrusted: every document and blob is checked
//! against the digest that named it, and reads are bounded.

use std::collections::BTreeSet;
use std::io::Read as _;

use anyhow::{Context as _, Result, anyhow, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use super::credentials::Auth;
use super::reference::Reference;
use super::registry::Client;
use super::{Descriptor, MEDIA_TYPE_LAYER};
use crate::digest::Sha256;
use crate::oci;
use crate::output::Shell;
use crate::platform::Platform;

/// The largest JSON document (index, manifest, config) read from a base.
const MAX_JSON: u64 = crate::limits::MAX_OCI_JSON_BYTES;
/// The largest layer pulled or read (a base is rarely over a few hundred MiB).
const MAX_LAYER: u64 = crate::limits::MAX_BASE_LAYER_BYTES;
/// The annotation naming a base: its reference as given.
pub const BASE_NAME_ANNOTATION: &str = "org.opencontainers.image.base.name";
/// The annotation with the digest of the base's manifest for the platform.
pub const BASE_DIGEST_ANNOTATION: &str = "org.opencontainers.image.base.digest";

/// A base image resolved for our platforms.
#[derive(Debug, Clone)]
pub struct Base {
    /// The reference as given (`org.opencontainers.image.base.name`).
    pub name: String,
    /// `sha256:…` of what the reference resolved to (an index or a manifest).
    pub digest: String,
    /// One per platform asked for, in that order.
    pub platforms: Vec<BasePlatform>,
    /// For a registry base, `(registry, repository)`: where a push to the same
    /// registry can mount its blobs from.
    pub repository: Option<(String, String)>,
}

/// The base's image for one platform.
#[derive(Debug, Clone)]
pub struct BasePlatform {
    pub platform: Platform,
    /// `sha256:…` of the base's manifest for this platform.
    pub manifest_digest: String,
    /// The base's image config (its `config`, `history`, …), parsed.
    pub config: Value,
    /// The layers, bottom first, with where their bytes are (checked when copied).
    pub layers: Vec<(Descriptor, Utf8PathBuf)>,
    /// `rootfs.diff_ids` of the base's config, one per layer.
    pub diff_ids: Vec<String>,
}

impl Base {
    /// The base's image for `platform` (every platform asked for is there).
    pub fn for_platform(&self, platform: &Platform) -> Option<&BasePlatform> {
        self.platforms.iter().find(|p| p.platform == *platform)
    }
}

/// Where REF says the base is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Layout {
        dir: Utf8PathBuf,
        tag: Option<String>,
    },
    Archive {
        file: Utf8PathBuf,
        tag: Option<String>,
    },
    /// `docker save`'s tar (one platform per image).
    DockerArchive {
        file: Utf8PathBuf,
        tag: Option<String>,
    },
    Registry {
        reference: Reference,
        digest: Option<String>,
    },
}

/// `PATH[:TAG]` of `oci:`/`oci-archive:` (a tag holds no `/`).
fn path_and_tag(rest: &str) -> (Utf8PathBuf, Option<String>) {
    match rest.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') && !path.is_empty() => {
            (Utf8PathBuf::from(path), Some(tag.to_owned()))
        }
        _ => (Utf8PathBuf::from(rest), None),
    }
}

fn parse(text: &str) -> Result<Source> {
    if let Some(rest) = text.strip_prefix("oci:") {
        let (dir, tag) = path_and_tag(rest);
        return Ok(Source::Layout { dir, tag });
    }
    if let Some(rest) = text.strip_prefix("oci-archive:") {
        let (file, tag) = path_and_tag(rest);
        return Ok(Source::Archive { file, tag });
    }
    if let Some(rest) = text.strip_prefix("docker-archive:") {
        // `FILE[:NAME:TAG]`: the name (`base:1`) may hold a `:` of its own.
        let (file, tag) = match rest.split_once(':') {
            Some((file, tag)) if !file.is_empty() => (file.into(), Some(tag.to_owned())),
            _ => (rest.into(), None),
        };
        return Ok(Source::DockerArchive { file, tag });
    }
    if text.starts_with("docker-daemon:") {
        bail!(
            "base `{text}`: a Docker daemon is not read here (hint: save the image first, `docker save -o base.tar IMAGE`, then pass `--base docker-archive:base.tar`)"
        );
    }
    let text = text.strip_prefix("docker://").unwrap_or(text);
    let (name, digest) = match text.split_once('@') {
        Some((name, digest)) => {
            oci::digest_hex(digest).with_context(|| {
                format!("base `{text}` names a digest that is not `sha256:` and 64 hex digits (hint: copy the digest as the registry shows it)")
            })?;
            (name, Some(digest.to_owned()))
        }
        None => (text, None),
    };
    let reference = Reference::parse(name).with_context(|| {
        format!("base `{text}` is neither a registry reference nor `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` or `docker-archive:FILE[:NAME:TAG]`")
    })?;
    Ok(Source::Registry { reference, digest })
}

/// Checks REF's form (what `image` decides before anything is built or fetched).
pub(super) fn check(text: &str) -> Result<()> {
    parse(text).map(drop)
}

/// What the base is read through: documents by digest, layers into files.
enum Reader<'a> {
    /// An OCI layout directory: blobs read in place.
    Dir(Utf8PathBuf),
    /// Blobs in the cache (an unpacked archive's, or pulled ones) or fetched with
    /// `client`.
    Cache {
        cache: Utf8PathBuf,
        client: Option<Box<Client<'a>>>,
    },
}

impl Reader<'_> {
    /// Where blob `hex` is (or goes).
    fn path(&self, hex: &str) -> Utf8PathBuf {
        match self {
            Reader::Dir(dir) => dir.join("blobs/sha256").join(hex),
            Reader::Cache { cache, .. } => cache.join(hex),
        }
    }

    /// A document blob, checked against its digest.
    fn document(&mut self, digest: &str) -> Result<Vec<u8>> {
        let hex = oci::digest_hex(digest)?.to_owned();
        if let Reader::Cache {
            client: Some(client),
            ..
        } = self
        {
            let (_, bytes) = client
                .get_manifest(digest)
                .map_err(|e| client.hide_secrets(e))?;
            return checked(bytes, digest, &hex);
        }
        let path = self.path(&hex);
        let bytes = read_bounded(&path, MAX_JSON)?;
        checked(bytes, digest, &hex)
    }

    /// A config blob (a blob, not a manifest, on a registry).
    fn config(&mut self, d: &Descriptor) -> Result<Vec<u8>> {
        if d.size > MAX_JSON {
            bail!("the base's config `{}` is over {MAX_JSON} bytes", d.digest);
        }
        let path = self.layer(d)?;
        read_bounded(&path, MAX_JSON)
    }

    /// The file holding blob `d`, its digest and size checked now (a pulled one is
    /// fetched into the cache first, when the cache lacks it or holds other bytes).
    fn layer(&mut self, d: &Descriptor) -> Result<Utf8PathBuf> {
        let path = self.path(d.hex());
        if blob_ok(&path, d)? {
            return Ok(path);
        }
        let Reader::Cache {
            cache,
            client: Some(client),
        } = self
        else {
            bail!(
                "the base's blob `{}` is missing or corrupt at `{path}` (hint: copy the base again, e.g. with `skopeo copy`)",
                d.digest
            );
        };
        std::fs::create_dir_all(&*cache)
            .with_context(|| format!("could not create the cache dir `{cache}`"))?;
        let file = crate::fs::write_atomic_at(&path, |f| {
            let into = f.try_clone().context("could not open the cache file")?;
            client
                .get_blob(&d.digest, into, d.size.min(MAX_LAYER) + 1)
                .map_err(|e| client.hide_secrets(e))?;
            Ok(())
        });
        file?;
        if !blob_ok(&path, d)? {
            let _ = std::fs::remove_file(&path);
            bail!(
                "the registry sent other bytes for blob `{}` than its digest names",
                d.digest
            );
        }
        Ok(path)
    }
}

fn checked(bytes: Vec<u8>, digest: &str, hex: &str) -> Result<Vec<u8>> {
    if oci::sha256_hex(&bytes) != hex {
        bail!(
            "the base's document `{digest}` does not match its digest (hint: copy the base again)"
        );
    }
    Ok(bytes)
}

pub(super) fn read_bounded(path: &Utf8Path, max: u64) -> Result<Vec<u8>> {
    let file = crate::fs::open_regular(path).with_context(|| format!("could not read `{path}`"))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("could not read `{path}`"))?;
    if bytes.len() as u64 > max {
        bail!("`{path}` is over {max} bytes");
    }
    Ok(bytes)
}

/// Whether `path` is a regular file with `d`'s size and digest.
pub(super) fn blob_ok(path: &Utf8Path, d: &Descriptor) -> Result<bool> {
    let Ok(file) = crate::fs::open_regular(path) else {
        return Ok(false);
    };
    if file.metadata().map(|m| m.len()).ok() != Some(d.size) {
        return Ok(false);
    }
    let (sha, size) = crate::digest::sha256_reader(&mut file.take(d.size + 1))
        .with_context(|| format!("could not read `{path}`"))?;
    Ok(size == d.size && sha.as_str() == d.hex())
}

/// The cache of base blobs, `<cache dir>/blobs/sha256/`.
fn cache_dir() -> Result<Utf8PathBuf> {
    crate::fs::cache::dir()
        .map(|d| d.join("blobs/sha256"))
        .ok_or_else(|| anyhow!("no cache dir for the base's blobs (hint: set `XDG_CACHE_HOME` or `HOME` to an absolute path)"))
}

/// Resolves `text` (a local path in it relative to `relative_to`) for `platforms`: an error naming the base's platforms when it lacks
/// one, then every layer fetched (or found in the cache) and checked.
pub(super) fn resolve(
    text: &str,
    relative_to: &Utf8Path,
    platforms: &[Platform],
    auth: &Auth,
    insecure: bool,
    shell: &Shell,
) -> Result<Base> {
    let source = match parse(text)? {
        Source::Layout { dir, tag } => Source::Layout {
            dir: relative_to.join(dir),
            tag,
        },
        Source::Archive { file, tag } => Source::Archive {
            file: relative_to.join(file),
            tag,
        },
        Source::DockerArchive { file, tag } => Source::DockerArchive {
            file: relative_to.join(file),
            tag,
        },
        registry @ Source::Registry { .. } => registry,
    };
    if let Source::DockerArchive { file, tag } = &source {
        let cache = cache_dir()?;
        let (digest, platform) = super::docker_archive::read(file, tag.as_deref(), &cache)
            .with_context(|| format!("could not read base `{text}`"))?;
        if let Some(p) = platforms.iter().find(|p| **p != platform.platform) {
            bail!(
                "base `{text}` has no `{p}` image; it has {} (hint: choose a base with every platform built, or select only these platforms, e.g. `--platform {}`)",
                platform.platform,
                platform.platform
            );
        }
        return Ok(Base {
            name: text.to_owned(),
            digest,
            platforms: vec![platform],
            repository: None,
        });
    }
    // `--username`/`--password` are the push destination's: a base on another registry
    // never gets them; a base's credentials come from the Docker config.
    let pull_auth = Auth {
        username: None,
        password: None,
        docker_config: auth.docker_config.clone(),
    };
    let (mut reader, top, repository) = match &source {
        Source::Layout { dir, tag } => {
            let index = read_bounded(&dir.join("index.json"), MAX_JSON)
                .with_context(|| format!("base `{text}` is not an OCI image layout"))?;
            let top = pick(text, &index, tag.as_deref())?;
            (Reader::Dir(dir.clone()), top, None)
        }
        Source::Archive { file, tag } => {
            let cache = cache_dir()?;
            let index = unpack_archive(file, &cache)
                .with_context(|| format!("could not read base `{text}`"))?;
            let top = pick(text, &index, tag.as_deref())?;
            (
                Reader::Cache {
                    cache,
                    client: None,
                },
                top,
                None,
            )
        }
        Source::DockerArchive { .. } => unreachable!("read above"),
        Source::Registry { reference, digest } => {
            let mut client = Client::for_pull(reference, &pull_auth, insecure, shell)?;
            let at = digest.as_deref().unwrap_or(&reference.tag);
            let (media_type, bytes) = client
                .get_manifest(at)
                .map_err(|e| client.hide_secrets(e))
                .with_context(|| format!("could not pull base `{text}`"))?;
            let top = oci::describe(&media_type, &bytes);
            if let Some(d) = digest
                && *d != top.digest
            {
                bail!(
                    "the registry sent base `{text}` with digest `{}`",
                    top.digest
                );
            }
            let repository = (reference.registry.clone(), reference.name.clone());
            let cache = cache_dir()?;
            let client = Some(Box::new(client));
            (Reader::Cache { cache, client }, top, Some(repository))
        }
    };
    let resolved = resolve_platforms(text, &mut reader, &top, platforms)?;
    Ok(Base {
        name: text.to_owned(),
        digest: top.digest,
        platforms: resolved,
        repository,
    })
}

/// The entry of a layout's `index.json` that `tag` names (the only one when no tag).
fn pick(text: &str, index: &[u8], tag: Option<&str>) -> Result<Descriptor> {
    let index: Value = serde_json::from_slice(index)
        .with_context(|| format!("the `index.json` of base `{text}` is not JSON"))?;
    let entries: Vec<&Value> = index["manifests"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let name = |e: &Value| {
        e["annotations"][super::REF_NAME_ANNOTATION]
            .as_str()
            .map(str::to_owned)
    };
    let chosen: Vec<&&Value> = entries
        .iter()
        .filter(|e| tag.is_none_or(|t| name(e).as_deref() == Some(t)))
        .collect();
    let [one] = chosen.as_slice() else {
        let names: Vec<String> = entries.iter().filter_map(|e| name(e)).collect();
        bail!(
            "base `{text}` {} (hint: name one of its images: {})",
            if chosen.is_empty() {
                "names no image of its layout"
            } else {
                "holds several images"
            },
            if names.is_empty() {
                "none is named".to_owned()
            } else {
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    };
    super::registry::descriptor(one).with_context(|| format!("base `{text}` lists a bad image"))
}

/// Unpacks the blobs of an OCI archive into the cache (each checked against its
/// name); returns its `index.json`.
fn unpack_archive(file: &Utf8Path, cache: &Utf8Path) -> Result<Vec<u8>> {
    std::fs::create_dir_all(cache).with_context(|| format!("could not create `{cache}`"))?;
    let f = crate::fs::open_regular(file)?;
    let mut tar = tar::Archive::new(f);
    let mut index = None;
    for (n, entry) in tar.entries().context("not a tar archive")?.enumerate() {
        let mut entry = entry.context("not a tar archive")?;
        refuse_expanding(&entry, n)?;
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        if path == "index.json" {
            let mut bytes = Vec::new();
            (&mut entry).take(MAX_JSON + 1).read_to_end(&mut bytes)?;
            index = Some(bytes);
        } else if let Some(hex) = path.strip_prefix("blobs/sha256/")
            && Sha256::parse(hex).is_ok()
        {
            let d = Descriptor::new(MEDIA_TYPE_LAYER, format!("sha256:{hex}"), entry.size());
            let dest = cache.join(hex);
            if blob_ok(&dest, &d)? {
                continue;
            }
            crate::fs::write_atomic_at(&dest, |f| {
                std::io::copy(&mut (&mut entry).take(MAX_LAYER), f)?;
                Ok(())
            })?;
            if !blob_ok(&dest, &d)? {
                let _ = std::fs::remove_file(&dest);
                bail!("`{path}` does not match its digest");
            }
        }
    }
    index.ok_or_else(|| {
        anyhow!("it has no `index.json` (hint: write it with `skopeo copy … oci-archive:FILE`)")
    })
}

/// OCI image index, or Docker's manifest list.
fn is_index(media_type: &str) -> bool {
    media_type == super::MEDIA_TYPE_INDEX
        || media_type == "application/vnd.docker.distribution.manifest.list.v2+json"
}

/// The platform a descriptor or config names, if ours knows it.
pub(super) fn platform_of(v: &Value) -> Option<Platform> {
    let os = v["os"].as_str()?;
    let arch = v["architecture"].as_str()?;
    // `arm64/v8` is plain `arm64`.
    let variant = v["variant"]
        .as_str()
        .filter(|x| !(arch == "arm64" && *x == "v8"));
    Platform::new(os, arch, variant)
}

/// Each of `platforms`' manifest in the base; the error names the base's platforms.
fn resolve_platforms(
    text: &str,
    reader: &mut Reader,
    top: &Descriptor,
    platforms: &[Platform],
) -> Result<Vec<BasePlatform>> {
    let top_bytes = reader.document(&top.digest)?;
    let top_doc: Value =
        serde_json::from_slice(&top_bytes).with_context(|| format!("base `{text}` is not JSON"))?;
    let media_type = top_doc["mediaType"].as_str().unwrap_or(&top.media_type);
    // (platform, manifest digest) of each image the base has.
    let mut offered: Vec<(Option<Platform>, String, Option<Value>)> = Vec::new();
    if is_index(media_type) || top_doc["manifests"].is_array() {
        for m in top_doc["manifests"].as_array().into_iter().flatten() {
            let Some(digest) = m["digest"].as_str() else {
                continue;
            };
            offered.push((platform_of(&m["platform"]), digest.to_owned(), None));
        }
    } else {
        let image = read_image(reader, &top.digest, &top_bytes)?;
        let platform = platform_of(&image.1);
        offered.push((platform, top.digest.clone(), Some(image.1.clone())));
    }
    let mut resolved = Vec::with_capacity(platforms.len());
    for p in platforms {
        let Some((_, digest, _)) = offered.iter().find(|(o, _, _)| o.as_ref() == Some(p)) else {
            let mut has: Vec<String> = offered
                .iter()
                .filter_map(|(o, _, _)| o.map(|o| o.to_string()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if has.is_empty() {
                has.push("none that is known".to_owned());
            }
            bail!(
                "base `{text}` has no `{p}` image; it has {} (hint: choose a base with every platform built, or select only these platforms, e.g. `--platform {}`)",
                has.join(", "),
                has.join(",")
            );
        };
        let bytes = reader.document(digest)?;
        let (layers, config) = read_image(reader, digest, &bytes)?;
        let diff_ids = diff_ids(&config);
        if diff_ids.len() != layers.len() {
            bail!(
                "base `{text}`'s `{p}` image has {} layers but {} `diff_ids` in its config",
                layers.len(),
                diff_ids.len()
            );
        }
        let mut fetched = Vec::with_capacity(layers.len());
        for d in layers {
            let path = reader
                .layer(&d)
                .with_context(|| format!("could not fetch a layer of base `{text}`"))?;
            fetched.push((d, path));
        }
        resolved.push(BasePlatform {
            platform: *p,
            manifest_digest: digest.clone(),
            config,
            layers: fetched,
            diff_ids,
        });
    }
    Ok(resolved)
}

/// An image manifest's layers (Docker's gzip layer type read as OCI's: the same
/// bytes) and its parsed config.
fn read_image(reader: &mut Reader, digest: &str, bytes: &[u8]) -> Result<(Vec<Descriptor>, Value)> {
    let doc: Value = serde_json::from_slice(bytes)
        .with_context(|| format!("the base's manifest `{digest}` is not JSON"))?;
    let config = super::registry::descriptor(&doc["config"])
        .with_context(|| format!("the base's manifest `{digest}` has no config"))?;
    let mut layers = Vec::new();
    for l in doc["layers"].as_array().into_iter().flatten() {
        let mut d = super::registry::descriptor(l)
            .with_context(|| format!("the base's manifest `{digest}` holds a bad layer"))?;
        match d.media_type.as_str() {
            "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
                MEDIA_TYPE_LAYER.clone_into(&mut d.media_type);
            }
            t if t.contains("foreign") || t.contains("nondistributable") => bail!(
                "the base's manifest `{digest}` has a non-distributable layer (`{t}`), which cannot be copied (hint: choose a base without foreign layers)"
            ),
            _ => {}
        }
        layers.push(d);
    }
    let config_bytes = reader.config(&config)?;
    let config: Value = serde_json::from_slice(&config_bytes)
        .with_context(|| format!("the base's config `{}` is not JSON", config.digest))?;
    Ok((layers, config))
}

/// An image config's `rootfs.diff_ids` (the uncompressed layers' digests), in order; a
/// value that is not a string is left out (callers compare the count with the layers).
pub(super) fn diff_ids(config: &serde_json::Value) -> Vec<String> {
    config["rootfs"]["diff_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect()
}

/// What a tar of a base (`oci-archive:`, `docker-archive:`) may not hold: more entries
/// than the limits policy allows, or a GNU sparse entry, which the `tar` crate would
/// expand into gigabytes of zeros from a few bytes.
pub(super) fn refuse_expanding<R: std::io::Read>(entry: &tar::Entry<R>, n: usize) -> Result<()> {
    crate::limits::check_count("entries", n as u64 + 1, crate::limits::MAX_ENTRIES)?;
    if entry.header().entry_type().is_gnu_sparse() {
        bail!("it holds a GNU sparse entry, which a base image never needs");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_as_skopeo_names_them() {
        assert_eq!(
            parse("oci:/tmp/base:1").unwrap(),
            Source::Layout {
                dir: "/tmp/base".into(),
                tag: Some("1".to_owned())
            }
        );
        assert_eq!(
            parse("oci:rel/dir").unwrap(),
            Source::Layout {
                dir: "rel/dir".into(),
                tag: None
            }
        );
        assert_eq!(
            parse("oci-archive:b.tar:v2").unwrap(),
            Source::Archive {
                file: "b.tar".into(),
                tag: Some("v2".to_owned())
            }
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        let Source::Registry {
            reference,
            digest: d,
        } = parse(&format!("127.0.0.1:5000/base:1@{digest}")).unwrap()
        else {
            panic!("a registry reference");
        };
        assert_eq!(reference.registry, "127.0.0.1:5000");
        assert_eq!(reference.name, "base");
        assert_eq!(d.as_deref(), Some(digest.as_str()));
        assert_eq!(
            parse("docker-archive:x.tar:base:1").unwrap(),
            Source::DockerArchive {
                file: "x.tar".into(),
                tag: Some("base:1".to_owned())
            }
        );
        let e = parse("docker-daemon:x:1").unwrap_err().to_string();
        assert!(e.contains("docker save -o base.tar"), "{e}");
        let e = format!("{:#}", parse("reg.io/base@sha256:zz").unwrap_err());
        assert!(e.contains("names a digest that is not"), "{e}");
    }

    #[test]
    fn arm64_v8_is_arm64_and_unknown_platforms_are_none() {
        let p = |v: Value| platform_of(&v).map(|p| p.to_string());
        assert_eq!(
            p(serde_json::json!({"os":"linux","architecture":"arm64","variant":"v8"})).as_deref(),
            Some("linux/arm64")
        );
        assert_eq!(
            p(serde_json::json!({"os":"linux","architecture":"arm","variant":"v7"})).as_deref(),
            Some("linux/arm/v7")
        );
        assert_eq!(p(serde_json::json!({"os":"linux"})), None);
    }

    proptest::proptest! {
        #![proptest_config(crate::testgen::config(256))]

        /// Any reference text, `index.json` and platform object are read or refused,
        /// never a panic.
        #[test]
        fn any_reference_index_and_platform_are_answered(
            text in ".{0,40}",
            index in crate::testgen::json_any(),
        ) {
            let _ = parse(&text);
            let bytes = index.render().into_bytes();
            let _ = pick("x", &bytes, None);
            let _ = pick("x", &bytes, Some("1"));
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                let _ = platform_of(&v);
            }
        }
    }
}
