//! `[workspace.metadata.multiarch]` and `[package.metadata.multiarch]`.
//!
//! Parsed key by key (not with a blanket serde derive) so that every unknown key or
//! wrong type is reported with the Cargo.toml and the exact key at fault.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use crate::cli::SbomFormat;
use crate::plan::BackendChoice;

/// The keys one `metadata.multiarch` table may hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub targets: Option<Vec<String>>,
    pub out_dir: Option<Utf8PathBuf>,
    pub backend: Option<BackendChoice>,
    pub include: Vec<String>,
    pub archive_name: Option<String>,
    pub image: ImageConfig,
    /// `sbom = false`: `package` writes no SBOMs (as `--no-sbom`).
    pub sbom: Option<bool>,
    /// `sbom-format = "cyclonedx" | "spdx"` (as `--sbom-format`).
    pub sbom_format: Option<SbomFormat>,
    /// `auditable = true`: link each binary's dependency list into it (as `--auditable`).
    pub auditable: Option<bool>,
}

/// `[….metadata.multiarch.image]`: how `cargo multiarch image` shapes each image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// Repository name for the tag (default: the binary's name).
    pub name: Option<String>,
    /// Where binaries go inside the image (default `/usr/local/bin`).
    pub bin_dir: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// Extra files: path in the image → path relative to the package (or workspace) dir.
    pub files: BTreeMap<String, String>,
    /// Put every selected binary into one image instead of one image per binary.
    pub combined: Option<bool>,
    /// OCI annotations of the image index and every image manifest.
    pub annotations: BTreeMap<String, String>,
    /// Add the CA certificate bundle (`/etc/ssl/certs/ca-certificates.crt`).
    pub ca_certificates: Option<bool>,
}

const KEYS: &[&str] = &[
    "targets",
    "out-dir",
    "backend",
    "include",
    "archive-name",
    "image",
    "sbom",
    "sbom-format",
    "auditable",
];
const IMAGE_KEYS: &[&str] = &[
    "name",
    "bin-dir",
    "entrypoint",
    "cmd",
    "env",
    "labels",
    "user",
    "workdir",
    "files",
    "combined",
    "annotations",
    "ca-certificates",
];

impl Config {
    /// Reads `metadata.multiarch` out of a package's or the workspace's `metadata`
    /// value. `table` names it for messages (`[workspace.metadata.multiarch]`).
    pub fn from_metadata(metadata: &Value, manifest: &Utf8Path, table: &str) -> Result<Self> {
        let Some(value) = metadata.get("multiarch") else {
            return Ok(Self::default());
        };
        let at = |key: &str| Field {
            manifest,
            table,
            key: key.to_owned(),
        };
        let Some(map) = value.as_object() else {
            bail!(
                "`{manifest}`: `{table}` must be a table (hint: write it as `{table}` followed by `key = value` lines)"
            );
        };
        let mut config = Self::default();
        for (key, value) in map {
            let f = at(key);
            match key.as_str() {
                "targets" => config.targets = Some(f.targets(value)?),
                "out-dir" => config.out_dir = Some(f.string(value)?.into()),
                "backend" => {
                    let s = f.string(value)?;
                    config.backend = Some(
                        <BackendChoice as clap::ValueEnum>::from_str(&s, false).map_err(|_| {
                            f.error(&format!(
                                "unknown backend `{s}`; expected one of auto, cargo, zig, zigbuild, cross"
                            ))
                        })?,
                    );
                }
                "include" => config.include = f.strings(value)?,
                "archive-name" => config.archive_name = Some(f.string(value)?),
                "image" => config.image = ImageConfig::parse(value, manifest, table)?,
                "sbom" => config.sbom = Some(f.bool(value)?),
                "sbom-format" => {
                    config.sbom_format = Some(match f.string(value)?.as_str() {
                        "cyclonedx" => SbomFormat::Cyclonedx,
                        "spdx" => SbomFormat::Spdx,
                        s => {
                            return Err(f.error(&format!(
                                "unknown SBOM format `{s}`; expected one of cyclonedx, spdx"
                            )));
                        }
                    });
                }
                "auditable" => config.auditable = Some(f.bool(value)?),
                _ => return Err(f.unknown(KEYS)),
            }
        }
        Ok(config)
    }
}

impl ImageConfig {
    fn parse(value: &Value, manifest: &Utf8Path, table: &str) -> Result<Self> {
        let table = format!("{table}.image");
        let Some(map) = value.as_object() else {
            bail!("`{manifest}`: `{table}` must be a table");
        };
        let mut image = Self::default();
        for (key, value) in map {
            let f = Field {
                manifest,
                table: &table,
                key: key.clone(),
            };
            match key.as_str() {
                "name" => image.name = Some(f.string(value)?),
                "bin-dir" => {
                    let dir = f.string(value)?;
                    if !dir.starts_with('/') {
                        return Err(f.error(
                            "must be an absolute path inside the image, e.g. \"/usr/local/bin\"",
                        ));
                    }
                    image.bin_dir = Some(dir);
                }
                "entrypoint" => image.entrypoint = Some(f.strings(value)?),
                "cmd" => image.cmd = Some(f.strings(value)?),
                "env" => {
                    image.env = f.strings(value)?;
                    if let Some(bad) = image.env.iter().find(|e| !e.contains('=')) {
                        return Err(
                            f.error(&format!("entry `{bad}` is not of the form `NAME=value`"))
                        );
                    }
                }
                "labels" => image.labels = f.string_map(value)?,
                "user" => image.user = Some(f.string(value)?),
                "workdir" => image.workdir = Some(f.string(value)?),
                "files" => {
                    image.files = f.string_map(value)?;
                    if let Some(bad) = image.files.keys().find(|k| !k.starts_with('/')) {
                        return Err(f.error(&format!(
                            "destination `{bad}` must be an absolute path inside the image"
                        )));
                    }
                }
                "combined" => image.combined = Some(f.bool(value)?),
                "annotations" => {
                    image.annotations = f.string_map(value)?;
                    for key in image.annotations.keys() {
                        if let Some(problem) = annotation_key_problem(key) {
                            return Err(f.error(&format!(
                                "has key `{}`, which {problem}",
                                key.escape_debug()
                            )));
                        }
                    }
                }
                "ca-certificates" => image.ca_certificates = Some(f.bool(value)?),
                _ => return Err(f.unknown(IMAGE_KEYS)),
            }
        }
        Ok(image)
    }
}

/// Why `key` cannot be an OCI annotation key, if it cannot: empty, whitespace or control
/// characters, or the image name (which `--tag` sets); with a hint.
pub fn annotation_key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("is empty (hint: write `KEY=VALUE`, e.g. `org.opencontainers.image.description=…`)")
    } else if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(
            "holds whitespace or control characters (hint: use a reverse-DNS key such as `org.opencontainers.image.description`)",
        )
    } else if key == crate::image::REF_NAME_ANNOTATION {
        Some("names the image in the layout's `index.json` (hint: set it with `--tag`)")
    } else {
        None
    }
}

struct Field<'a> {
    manifest: &'a Utf8Path,
    table: &'a str,
    key: String,
}

impl Field<'_> {
    fn error(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "`{}`: key `{}` in `{}` {what}",
            self.manifest,
            self.key,
            self.table
        )
    }

    fn unknown(&self, known: &[&str]) -> anyhow::Error {
        anyhow::anyhow!(
            "`{}`: unknown key `{}` in `{}`; known keys: {} (hint: fix or remove `{}`)",
            self.manifest,
            self.key,
            self.table,
            known.join(", "),
            self.key
        )
    }

    fn type_error(&self, want: &str, got: &Value) -> anyhow::Error {
        let got = match got {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "a table",
        };
        self.error(&format!("must be {want}, found {got}"))
    }

    fn string(&self, v: &Value) -> Result<String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.type_error("a string", v))
    }

    fn bool(&self, v: &Value) -> Result<bool> {
        v.as_bool().ok_or_else(|| self.type_error("a boolean", v))
    }

    fn strings(&self, v: &Value) -> Result<Vec<String>> {
        let want = "an array of strings";
        let items = v.as_array().ok_or_else(|| self.type_error(want, v))?;
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| self.type_error(want, v))
            })
            .collect()
    }

    /// A `targets` list: never empty and without empty items (`""`, `"a,"`), which
    /// would otherwise mean "build nothing" or "the defaults".
    fn targets(&self, v: &Value) -> Result<Vec<String>> {
        let list = self.strings(v)?;
        if list.is_empty() {
            return Err(self.error(
                "is an empty list, so nothing would be built (hint: name at least one target, e.g. `targets = [\"x86_64-unknown-linux-musl\"]`, or remove the key for the default targets)",
            ));
        }
        if let Some(bad) = list
            .iter()
            .find(|t| t.split(',').any(|i| i.trim().is_empty()))
        {
            return Err(self.error(&format!(
                "has an empty item `{bad}` (hint: remove it, or write the target's name)"
            )));
        }
        Ok(list)
    }

    fn string_map(&self, v: &Value) -> Result<BTreeMap<String, String>> {
        let want = "a table of strings";
        let map = v.as_object().ok_or_else(|| self.type_error(want, v))?;
        map.iter()
            .map(|(k, i)| {
                Ok((
                    k.clone(),
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.type_error(want, v))?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: &Value) -> Result<Config> {
        Config::from_metadata(
            &json!({ "multiarch": v }),
            "/w/Cargo.toml".into(),
            "[workspace.metadata.multiarch]",
        )
    }

    #[test]
    fn reads_every_key() {
        let c = parse(&json!({
            "targets": ["aarch64-unknown-linux-musl"],
            "out-dir": "dist",
            "backend": "zig",
            "include": ["extra/*.txt"],
            "image": {"entrypoint": ["/usr/local/bin/app"], "labels": {"a": "b"}, "files": {"/etc/app.toml": "app.toml"}, "combined": true}
        }))
        .unwrap();
        assert_eq!(c.targets.unwrap(), ["aarch64-unknown-linux-musl"]);
        assert_eq!(c.out_dir.unwrap(), "dist");
        assert_eq!(
            c.backend,
            Some(BackendChoice::Forced(crate::plan::Backend::Zig))
        );
        assert_eq!(c.include, ["extra/*.txt"]);
        assert_eq!(c.image.entrypoint.unwrap(), ["/usr/local/bin/app"]);
        assert_eq!(c.image.labels["a"], "b");
        assert_eq!(c.image.combined, Some(true));
    }

    #[test]
    fn image_annotations_and_ca_certificates() {
        let c = parse(&json!({"image": {
            "annotations": {"org.opencontainers.image.description": "an app"},
            "ca-certificates": true
        }}))
        .unwrap();
        assert_eq!(
            c.image.annotations["org.opencontainers.image.description"],
            "an app"
        );
        assert_eq!(c.image.ca_certificates, Some(true));
        for (bad, why) in [
            ("", "has key ``, which is empty"),
            ("a key", "has key `a key`, which holds whitespace"),
            ("a\tb", "has key `a\\tb`, which holds whitespace"),
            (
                "org.opencontainers.image.ref.name",
                "has key `org.opencontainers.image.ref.name`, which names the image in the layout's `index.json` (hint: set it with `--tag`)",
            ),
        ] {
            let e = parse(&json!({"image": {"annotations": {bad: "x"}}}))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!(
                    "key `annotations` in `[workspace.metadata.multiarch].image` {why}"
                )),
                "{e}"
            );
        }
        let e = parse(&json!({"image": {"ca-certificates": "yes"}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be a boolean, found a string"), "{e}");
    }

    #[test]
    fn reads_the_supply_chain_keys() {
        let c = parse(&json!({"sbom": false, "sbom-format": "spdx", "auditable": true})).unwrap();
        assert_eq!(
            (c.sbom, c.sbom_format, c.auditable),
            (Some(false), Some(SbomFormat::Spdx), Some(true))
        );
        let e = parse(&json!({"sbom-format": "swid"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`sbom-format`") && e.contains("cyclonedx, spdx"),
            "{e}"
        );
        let e = parse(&json!({"auditable": "yes"})).unwrap_err().to_string();
        assert!(e.contains("`auditable`") && e.contains("a boolean"), "{e}");
    }

    #[test]
    fn absent_table_is_default() {
        assert_eq!(
            Config::from_metadata(&Value::Null, "/w/Cargo.toml".into(), "x").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let e = parse(&json!({"targetz": []})).unwrap_err().to_string();
        assert!(
            e.contains(
                "`/w/Cargo.toml`: unknown key `targetz` in `[workspace.metadata.multiarch]`"
            ),
            "{e}"
        );
        let e = parse(&json!({"image": {"entry": []}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown key `entry` in `[workspace.metadata.multiarch].image`"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = parse(&json!({"targets": "aarch64-unknown-linux-musl"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("key `targets` in `[workspace.metadata.multiarch]` must be an array of strings, found a string"), "{e}");
        let e = parse(&json!({"backend": "docker"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown backend `docker`"), "{e}");
        let e = parse(&json!({"image": {"env": ["NOEQ"]}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`NOEQ` is not of the form"), "{e}");
    }

    #[test]
    fn empty_targets_or_an_empty_target_is_an_error() {
        let e = parse(&json!({"targets": []})).unwrap_err().to_string();
        assert!(
            e.starts_with("`/w/Cargo.toml`: key `targets` in `[workspace.metadata.multiarch]` is an empty list, so nothing would be built (hint: "),
            "{e}"
        );
        for bad in ["", " ", "x86_64-unknown-linux-musl,"] {
            let e = parse(&json!({"targets": ["aarch64-unknown-linux-musl", bad]}))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("key `targets` in `[workspace.metadata.multiarch]` has an empty item `{bad}` (hint: ")),
                "{e}"
            );
        }
    }
}
