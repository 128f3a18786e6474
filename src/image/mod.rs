//! Multi-platform OCI images from staged binaries, with no container daemon.
//!
//! [`write_layout`] turns one [`ImageSpec`] per image name into an OCI image layout
//! (`oci-layout`, `index.json`, `blobs/sha256/…`): per platform one reproducible gzip
//! layer (scratch base), a config and a manifest, then an image index over the
//! platforms, listed in `index.json` under `org.opencontainers.image.ref.name`.
//! Every JSON document is serialised from fixed-order structs with no timestamp but
//! `created`, so identical inputs give identical digests in any directory.
//!
//! [`verify_layout`] re-hashes everything `index.json` reaches, [`write_archive`] wraps
//! the layout in one tar that both OCI tools and classic `docker load` accept, and
//! [`push`] uploads an image with the OCI distribution API. Each image carries its
//! provenance (and SBOMs) as buildx-style attestation manifests (`attest`).

mod attest;
mod base;
mod certs;
mod command;
mod credentials;
mod docker_archive;
mod layout;
mod naming;
mod origin;
mod reference;
mod registry;
mod rootfs;
mod tarball;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::archive::Entry;
use crate::platform::Platform;

pub use attest::{Attestation, AttestationInput};
pub use base::{BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION, Base, BasePlatform};
pub use command::{Bases, Options, assemble, check_names, resolve_bases};
pub use credentials::Auth;
pub use layout::{Checked, Ref, verify_layout, walk_layout, write_layout};
pub use naming::PushTo;
pub use registry::{PushReport, push, push_tags};
pub use tarball::write_archive;

pub use crate::oci::{
    CREATED_BY, DEFAULT_PATH, Descriptor, MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_LAYER,
    MEDIA_TYPE_MANIFEST, REF_NAME_ANNOTATION, Settings,
};

/// One multi-platform image: an image index over one manifest per platform.
#[derive(Debug, Default)]
pub struct ImageSpec {
    /// The image's names in `index.json` (`org.opencontainers.image.ref.name`), e.g.
    /// `alpha:0.3.0`; the first is its main name. At least one.
    pub names: Vec<String>,
    /// Also name each platform's manifest in `index.json`, [`platform_name`] of each name.
    pub platform_names: bool,
    pub platforms: Vec<PlatformImage>,
    /// Layers under every platform's own, bottom first (the CA certificates), written
    /// once however many platforms and images share them.
    pub base_layers: Vec<Vec<Entry>>,
    pub settings: Settings,
    /// `annotations` of the image index and of each image manifest.
    pub annotations: BTreeMap<String, String>,
    /// `SOURCE_DATE_EPOCH` seconds: `created` in config and history, and file mtimes.
    pub created: u64,
    /// gzip level (0–9) for the layers.
    pub level: u32,
    /// In-toto statements attached to each platform manifest (buildx-style).
    pub attestations: Vec<Attestation>,
    /// The image every platform's layers go on top of (else scratch); it has each
    /// platform of `platforms`.
    pub base: Option<Base>,
}

/// The name of one platform's image: `<name>-<os>-<arch>[-<variant>]`
/// (`alpha:1.0-linux-arm64`), as the buildpacks lifecycle tags its per-arch images.
#[must_use]
pub fn platform_name(name: &str, platform: &Platform) -> String {
    format!("{name}-{}", platform.to_string().replace('/', "-"))
}

/// The files of one platform's own layer (on top of the spec's `base_layers`); paths
/// are inside the root filesystem, relative and `/`-separated (`usr/local/bin/alpha`).
pub struct PlatformImage {
    pub platform: Platform,
    pub files: Vec<Entry>,
}

impl std::fmt::Debug for PlatformImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: Vec<String> = self
            .files
            .iter()
            .map(|e| format!("{} ({:o})", e.path, e.mode))
            .collect();
        f.debug_struct("PlatformImage")
            .field("platform", &self.platform)
            .field("files", &files)
            .finish()
    }
}

/// What [`write_layout`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutResult {
    /// One per [`ImageSpec`], in the same order.
    pub images: Vec<ImageResult>,
    /// The latest `created` of the specs: the mtime [`write_archive`] gives its entries.
    pub created: u64,
}

/// One image of the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageResult {
    /// The main name (the spec's first).
    pub reference_name: String,
    /// Every name of the image index in `index.json`, the main one first.
    pub names: Vec<String>,
    /// The image index, as listed in `index.json` (with the main name's annotation).
    pub index: Descriptor,
    /// One image manifest per platform, with `platform` set, in the spec's order.
    pub manifests: Vec<Descriptor>,
    /// Per manifest (same order), its own names in `index.json` (none unless the spec
    /// asked for platform names).
    pub manifest_names: Vec<Vec<String>>,
    /// The spec's base layers, bottom first.
    pub base_layers: Vec<Descriptor>,
    /// The attestation manifests in the index (platform `unknown/unknown`), after them.
    pub attestations: Vec<Descriptor>,
    /// On a base: its name and the digest of its manifest under each of `manifests`.
    pub base: Option<BaseUse>,
}

/// The base an image was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUse {
    /// As given (`org.opencontainers.image.base.name`).
    pub name: String,
    /// `sha256:…` the name resolved to.
    pub digest: String,
    /// Per manifest of the image (same order), the base's manifest digest.
    pub manifests: Vec<String>,
    /// Digests of the base's layers (in the layout, shared by our manifests).
    pub blobs: Vec<String>,
    /// `(registry, repository)` of a registry base: where a push can mount from.
    pub repository: Option<(String, String)>,
}
