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
pub(crate) fn config_json(
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

/// The image config of one platform on a base: the base's config (its `Env`, with
/// ours winning per variable, `User`, `WorkingDir`, `Labels` under ours, `ExposedPorts`
/// and the rest) with our `Entrypoint` and `Cmd`, our settings, `diff_ids` (the base's
/// then ours) and our history entry after the base's. Keys serialise sorted, so the
/// same base and inputs give the same bytes.
pub(crate) fn config_json_on(
    base: &serde_json::Value,
    platform: &Platform,
    settings: &Settings,
    created: u64,
    diff_ids: &[String],
) -> Vec<u8> {
    use serde_json::{Value, json};
    let created = crate::date::rfc3339(created);
    let mut doc = match base {
        Value::Object(o) => o.clone(),
        _ => serde_json::Map::new(),
    };
    let mut config = match doc.remove("config") {
        Some(Value::Object(o)) => o,
        _ => serde_json::Map::new(),
    };
    let mut env: Vec<String> = config
        .get("Env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    for ours in &settings.env {
        let key = ours.split_once('=').map_or(ours.as_str(), |(k, _)| k);
        match env
            .iter_mut()
            .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
        {
            Some(e) => e.clone_from(ours),
            None => env.push(ours.clone()),
        }
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.to_owned());
    }
    config.insert("Env".to_owned(), json!(env));
    let mut labels = match config.remove("Labels") {
        Some(Value::Object(o)) => o,
        _ => serde_json::Map::new(),
    };
    for (k, v) in &settings.labels {
        labels.insert(k.clone(), json!(v));
    }
    if !labels.is_empty() {
        config.insert("Labels".to_owned(), Value::Object(labels));
    }
    for (key, ours) in [
        ("Entrypoint", settings.entrypoint.as_ref().map(|v| json!(v))),
        ("Cmd", settings.cmd.as_ref().map(|v| json!(v))),
    ] {
        match ours {
            Some(v) => config.insert(key.to_owned(), v),
            None => config.remove(key),
        };
    }
    for (key, ours) in [("User", &settings.user), ("WorkingDir", &settings.workdir)] {
        if let Some(v) = ours {
            config.insert(key.to_owned(), json!(v));
        }
    }
    let mut history: Vec<Value> = doc
        .remove("history")
        .and_then(|h| match h {
            Value::Array(a) => Some(a),
            _ => None,
        })
        .unwrap_or_default();
    history.push(json!({"created": created, "created_by": CREATED_BY}));
    let p = OciPlatform::from(platform);
    doc.insert("created".to_owned(), json!(created));
    doc.insert("architecture".to_owned(), json!(p.architecture));
    doc.insert("os".to_owned(), json!(p.os));
    match p.variant {
        Some(v) => doc.insert("variant".to_owned(), json!(v)),
        None => doc.remove("variant"),
    };
    doc.insert("config".to_owned(), Value::Object(config));
    doc.insert(
        "rootfs".to_owned(),
        json!({"type": "layers", "diff_ids": diff_ids}),
    );
    doc.insert("history".to_owned(), Value::Array(history));
    to_json(&Value::Object(doc))
}

/// An image manifest (`schemaVersion` 2) over a config and its layers; annotations
/// serialise sorted by key.
pub(crate) fn manifest_json(
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
pub(crate) fn index_json(
    manifests: &[Descriptor],
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
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
pub(crate) fn describe(media_type: &str, bytes: &[u8]) -> Descriptor {
    Descriptor::new(
        media_type,
        format!("sha256:{}", sha256_hex(bytes)),
        bytes.len() as u64,
    )
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
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
pub(crate) fn digest_hex(digest: &str) -> Result<&str> {
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
pub(crate) fn check_ref_name(name: &str) -> Result<()> {
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

    #[test]
    fn a_config_on_a_base_keeps_the_base_settings_under_ours() {
        let base = serde_json::json!({
            "architecture": "arm64", "os": "linux", "author": "base",
            "config": {"Env": ["PATH=/opt/bin", "A=base", "B=base"], "User": "1000",
                       "WorkingDir": "/srv", "Labels": {"l": "base", "m": "base"},
                       "ExposedPorts": {"80/tcp": {}}, "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:b"]},
            "history": [{"created_by": "base"}]
        });
        let settings = Settings {
            entrypoint: Some(vec!["/app".to_owned()]),
            env: vec!["B=ours".to_owned(), "C=ours".to_owned()],
            labels: BTreeMap::from([("m".to_owned(), "ours".to_owned())]),
            workdir: Some("/work".to_owned()),
            ..Settings::default()
        };
        let p = Platform::parse("linux/arm64").unwrap();
        let ids = ["sha256:b".to_owned(), "sha256:o".to_owned()];
        let bytes = config_json_on(&base, &p, &settings, 0, &ids);
        let c: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            c["config"]["Env"],
            serde_json::json!(["PATH=/opt/bin", "A=base", "B=ours", "C=ours"])
        );
        assert_eq!(c["config"]["User"], "1000");
        assert_eq!(c["config"]["WorkingDir"], "/work");
        assert_eq!(
            c["config"]["Labels"],
            serde_json::json!({"l": "base", "m": "ours"})
        );
        assert_eq!(c["config"]["ExposedPorts"]["80/tcp"], serde_json::json!({}));
        assert_eq!(c["config"]["Entrypoint"], serde_json::json!(["/app"]));
        assert!(c["config"].get("Cmd").is_none(), "{c}");
        assert_eq!(c["rootfs"]["diff_ids"], serde_json::json!(ids));
        assert_eq!(c["history"][0]["created_by"], "base");
        assert_eq!(c["history"][1]["created_by"], CREATED_BY);
        assert_eq!(c["author"], "base");
        // The same inputs, the same bytes.
        assert_eq!(bytes, config_json_on(&base, &p, &settings, 0, &ids));
    }
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
