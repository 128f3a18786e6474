//! The OCI JSON documents (image config, image manifest, image index), digests and
//! names. Every document is a struct serialised compactly in declaration order, so the
//! same inputs always give the same bytes and therefore the same digest.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::{Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::platform::Platform;

/// `application/vnd.oci.image.index.v1+json`
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// `application/vnd.oci.image.manifest.v1+json`
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// `application/vnd.oci.image.config.v1+json`
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// `application/vnd.oci.image.layer.v1.tar+gzip`
pub const MEDIA_TYPE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The annotation in `index.json` that names an image (`alpha:0.3.0`).
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// The `PATH` every image gets unless its settings set one (Docker's default).
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The `created_by` of the single history entry.
pub const CREATED_BY: &str = "cargo-multiarch";

/// The runtime settings of the image config (`config` in the OCI image config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// `KEY=value` entries; [`DEFAULT_PATH`] is added unless one sets `PATH`.
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
}

/// An OCI content descriptor, serialised in the OCI JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    /// `sha256:<64 lowercase hex>`
    pub digest: String,
    pub size: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_platform"
    )]
    pub platform: Option<Platform>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// A descriptor with neither platform nor annotations.
    #[must_use]
    pub fn new(media_type: &str, digest: String, size: u64) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest,
            size,
            platform: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The hex part of the digest: the blob's file name under `blobs/sha256/`.
    #[must_use]
    pub fn hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }
}

/// The OCI `platform` object: `{"architecture","os","variant"}`.
#[derive(Serialize)]
struct OciPlatform<'a> {
    architecture: &'a str,
    os: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
}

impl<'a> From<&'a Platform> for OciPlatform<'a> {
    fn from(p: &'a Platform) -> Self {
        OciPlatform {
            architecture: &p.arch,
            os: &p.os,
            variant: p.variant.as_deref(),
        }
    }
}

// serde's `serialize_with` hands over a reference to the field.
#[allow(clippy::ref_option)]
fn serialize_platform<S: Serializer>(p: &Option<Platform>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => OciPlatform::from(p).serialize(s),
        None => s.serialize_none(),
    }
}

#[derive(Serialize)]
struct ImageConfig<'a> {
    created: &'a str,
    architecture: &'a str,
    os: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
    config: RuntimeConfig<'a>,
    rootfs: RootFs<'a>,
    history: [History<'a>; 1],
}

/// Field names and order follow the OCI image config (`ImageConfig` in image-spec).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuntimeConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    env: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cmd: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    diff_ids: &'a [String],
}

#[derive(Serialize)]
struct History<'a> {
    created: &'a str,
    created_by: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: &'a Descriptor,
    layers: &'a [Descriptor],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index<'a> {
    schema_version: u32,
    media_type: &'a str,
    manifests: &'a [Descriptor],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The image config of one platform; `diff_ids` are `sha256:` digests of the
/// uncompressed layers, bottom first.
pub fn config_json(
    platform: &Platform,
    settings: &Settings,
    created: u64,
    diff_ids: &[String],
) -> Vec<u8> {
    let created = crate::date::rfc3339(created);
    let mut env: Vec<&str> = Vec::with_capacity(settings.env.len() + 1);
    if !settings.env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(DEFAULT_PATH);
    }
    env.extend(settings.env.iter().map(String::as_str));
    let p = OciPlatform::from(platform);
    let config = ImageConfig {
        created: &created,
        architecture: p.architecture,
        os: p.os,
        variant: p.variant,
        config: RuntimeConfig {
            user: settings.user.as_deref(),
            env,
            entrypoint: settings.entrypoint.as_deref(),
            cmd: settings.cmd.as_deref(),
            working_dir: settings.workdir.as_deref(),
            labels: &settings.labels,
        },
        rootfs: RootFs {
            kind: "layers",
            diff_ids,
        },
        history: [History {
            created: &created,
            created_by: CREATED_BY,
        }],
    };
    to_json(&config)
}

/// An image manifest (`schemaVersion` 2) over a config and its layers; annotations
/// serialise sorted by key.
pub fn manifest_json(
    config: &Descriptor,
    layers: &[Descriptor],
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    to_json(&Manifest {
        schema_version: 2,
        media_type: MEDIA_TYPE_MANIFEST,
        config,
        layers,
        annotations,
    })
}

/// An image index: both the per-image index blob and (with no annotations) the
/// layout's `index.json`.
pub fn index_json(manifests: &[Descriptor], annotations: &BTreeMap<String, String>) -> Vec<u8> {
    to_json(&Index {
        schema_version: 2,
        media_type: MEDIA_TYPE_INDEX,
        manifests,
        annotations,
    })
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("the OCI documents hold only strings, numbers and string maps")
}

/// The descriptor of some bytes.
pub fn describe(media_type: &str, bytes: &[u8]) -> Descriptor {
    Descriptor::new(
        media_type,
        format!("sha256:{}", sha256_hex(bytes)),
        bytes.len() as u64,
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The hex part of a `sha256:<64 lowercase hex>` digest, or an error saying why not.
/// Only such digests are accepted, so a blob path built from one stays in `blobs/sha256/`.
pub fn digest_hex(digest: &str) -> Result<&str> {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        bail!("digest `{digest}` is not a `sha256:` digest, the only algorithm supported");
    };
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        bail!("digest `{digest}` does not have 64 lowercase hex digits");
    }
    Ok(hex)
}

/// Checks a value for `org.opencontainers.image.ref.name` against the image-layout
/// grammar: components of `[A-Za-z0-9]+` joined by `-._:@+`, `--` or `/`.
pub fn check_ref_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.split('/').all(|component| {
            let b = component.as_bytes();
            let alnum = |c: u8| c.is_ascii_alphanumeric();
            let sep = |c: u8| b"-._:@+".contains(&c);
            !b.is_empty()
                && alnum(b[0])
                && alnum(b[b.len() - 1])
                && b.windows(2)
                    .all(|w| !(sep(w[0]) && sep(w[1])) || w == b"--")
                && b.iter().all(|&c| alnum(c) || sep(c))
        });
    if !ok {
        bail!(
            "image name `{name}` is not a valid OCI reference name (letters and digits joined by `-._:@+` or `/`, e.g. `alpha:0.3.0`) (hint: rename the image)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;

    #[test]
    fn config_has_fixed_shape_and_default_path() {
        let settings = Settings {
            entrypoint: Some(vec!["/usr/local/bin/alpha".into()]),
            labels: [(
                "org.opencontainers.image.version".to_owned(),
                "0.3.0".to_owned(),
            )]
            .into(),
            ..Settings::default()
        };
        let arm = Platform::parse("linux/arm/v7").unwrap();
        let json =
            String::from_utf8(config_json(&arm, &settings, 0, &["sha256:ab".into()])).unwrap();
        assert_eq!(
            json,
            r#"{"created":"1970-01-01T00:00:00Z","architecture":"arm","os":"linux","variant":"v7","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/usr/local/bin/alpha"],"Labels":{"org.opencontainers.image.version":"0.3.0"}},"rootfs":{"type":"layers","diff_ids":["sha256:ab"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"cargo-multiarch"}]}"#
        );
        // A user PATH replaces the default one.
        let settings = Settings {
            env: vec!["PATH=/bin".into(), "A=1".into()],
            ..Settings::default()
        };
        let json = String::from_utf8(config_json(&arm, &settings, 0, &[])).unwrap();
        assert!(json.contains(r#""Env":["PATH=/bin","A=1"]"#), "{json}");
    }

    #[test]
    fn descriptors_serialise_in_oci_shape() {
        let mut d = Descriptor::new(MEDIA_TYPE_MANIFEST, format!("sha256:{}", "a".repeat(64)), 7);
        d.platform = Some(Platform::parse("linux/arm64").unwrap());
        let json = String::from_utf8(index_json(&[d], &BTreeMap::new())).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":7,"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
                "a".repeat(64)
            )
        );
    }

    #[test]
    fn digests_and_ref_names_are_checked() {
        assert!(digest_hex(&format!("sha256:{}", "0".repeat(64))).is_ok());
        for bad in [
            "sha512:00",
            "sha256:../../etc/passwd",
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            assert!(digest_hex(bad).is_err(), "{bad}");
        }
        for good in ["alpha:0.3.0", "ghcr.io/acme/alpha:1.0", "a--b", "v1"] {
            check_ref_name(good).unwrap();
        }
        for bad in ["", "alpha:", ":x", "a b", "a//b", "a..b"] {
            assert!(check_ref_name(bad).is_err(), "{bad}");
        }
    }
}
