//! `[workspace.metadata.multiarch]` and `[package.metadata.multiarch]`.
//!
//! Deserialised with serde (`deny_unknown_fields`); [`serde_path_to_error`] tells which
//! key failed, so every unknown key or wrong type is reported with the Cargo.toml, the
//! table and the key at fault, the valid keys, and a hint.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::Value;

use crate::sbom::Format as SbomFormat;

mod backend;

pub(crate) use backend::{Backend, BackendChoice};

/// The keys one `metadata.multiarch` table may hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(deserialize_with = "targets")]
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
    /// `installers = true`: `package` writes the `.sh` and `.ps1` installers (as
    /// `--installers`).
    pub installers: Option<bool>,
    /// `download-url = "…"`: where the installers download the release's files from
    /// (as `--download-url`; `{version}` and `{tag}` expand).
    pub download_url: Option<String>,
    /// `cache = "sccache"`: compile through a shared compile cache (as `--cache`).
    pub cache: Option<Cache>,
}

/// `--cache` and `cache = "…"`: where compilations are shared across runs and machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    /// Compile through sccache (rustc and C), with sccache's own backend configuration.
    #[value(help = "rustc and C through sccache, with its own backend (`SCCACHE_*`)")]
    Sccache,
    /// No cache, even when `RUSTC_WRAPPER` names sccache (cargo still runs it then).
    #[value(help = "No cache of ours (a `RUSTC_WRAPPER` of yours still runs)")]
    None,
}

/// `[….metadata.multiarch.image]`: how `cargo multiarch image` shapes each image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageConfig {
    /// Repository name for the tag (default: the binary's name).
    pub name: Option<String>,
    /// Where binaries go inside the image (default `/usr/local/bin`).
    #[serde(deserialize_with = "bin_dir")]
    pub bin_dir: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    #[serde(deserialize_with = "env")]
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// Extra files: path in the image → path relative to the package (or workspace) dir.
    #[serde(deserialize_with = "files")]
    pub files: BTreeMap<String, String>,
    /// Put every selected binary into one image instead of one image per binary.
    pub combined: Option<bool>,
    /// OCI annotations of the image index and every image manifest.
    #[serde(deserialize_with = "annotations")]
    pub annotations: BTreeMap<String, String>,
    /// Add the CA certificate bundle (`/etc/ssl/certs/ca-certificates.crt`).
    pub ca_certificates: Option<bool>,
    /// The image the binaries go on (`--base`'s forms); scratch when absent.
    pub base: Option<String>,
}

impl Config {
    /// Reads `metadata.multiarch` out of a package's or the workspace's `metadata`
    /// value. `table` names it for messages (`[workspace.metadata.multiarch]`).
    pub fn from_metadata(metadata: &Value, manifest: &Utf8Path, table: &str) -> Result<Self> {
        let Some(value) = metadata.get("multiarch") else {
            return Ok(Self::default());
        };
        if !value.is_object() {
            bail!(
                "`{manifest}`: `{table}` must be a table (hint: write it as `{table}` followed by `key = value` lines)"
            );
        }
        serde_path_to_error::deserialize(value).map_err(|e| problem(manifest, table, &e))
    }
}

/// `targets`: never empty and without empty items (`""`, `"a,"`), which would
/// otherwise mean "build nothing" or "the defaults".
fn targets<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    if list.is_empty() {
        return Err(D::Error::custom(
            "is an empty list, so nothing would be built (hint: name at least one target, e.g. `targets = [\"x86_64-unknown-linux-musl\"]`, or remove the key for the default targets)",
        ));
    }
    if let Some(bad) = list
        .iter()
        .find(|t| t.split(',').any(|i| i.trim().is_empty()))
    {
        return Err(D::Error::custom(format!(
            "has an empty item `{bad}` (hint: remove it, or write the target's name)"
        )));
    }
    Ok(Some(list))
}

fn bin_dir<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let dir = String::deserialize(d)?;
    if !dir.starts_with('/') {
        return Err(D::Error::custom(
            "must be an absolute path inside the image, e.g. \"/usr/local/bin\"",
        ));
    }
    Ok(Some(dir))
}

fn env<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let env = Vec::<String>::deserialize(d)?;
    if let Some(bad) = env.iter().find(|e| !e.contains('=')) {
        return Err(D::Error::custom(format!(
            "entry `{bad}` is not of the form `NAME=value`"
        )));
    }
    Ok(env)
}

fn files<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let files = BTreeMap::<String, String>::deserialize(d)?;
    if let Some(bad) = files.keys().find(|k| !k.starts_with('/')) {
        return Err(D::Error::custom(format!(
            "destination `{bad}` must be an absolute path inside the image"
        )));
    }
    Ok(files)
}

fn annotations<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let annotations = BTreeMap::<String, String>::deserialize(d)?;
    for key in annotations.keys() {
        if let Some(problem) = annotation_key_problem(key) {
            return Err(D::Error::custom(format!(
                "has key `{}`, which {problem}",
                key.escape_debug()
            )));
        }
    }
    Ok(annotations)
}

/// Why `key` cannot be an OCI annotation key, if it cannot: empty, whitespace or control
/// characters, or the image name (which `--tag` sets); with a hint.
pub(crate) fn annotation_key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("is empty (hint: write `KEY=VALUE`, e.g. `org.opencontainers.image.description=…`)")
    } else if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(
            "holds whitespace or control characters (hint: use a reverse-DNS key such as `org.opencontainers.image.description`)",
        )
    } else if key == crate::oci::REF_NAME_ANNOTATION {
        Some("names the image in the layout's `index.json` (hint: set it with `--tag`)")
    } else {
        None
    }
}

/// The message for a table that did not deserialise: `` `Cargo.toml`: key `k` in
/// `[table]` … `` naming what was wrong and how to fix it. serde's own texts (unknown
/// field, invalid type, unknown variant) are reworded; the checks above word their own.
fn problem(
    manifest: &Utf8Path,
    table: &str,
    e: &serde_path_to_error::Error<serde_json::Error>,
) -> anyhow::Error {
    use serde_path_to_error::Segment;
    let mut path: Vec<&Segment> = e.path().iter().collect();
    let mut table = table.to_owned();
    if path.len() > 1 && matches!(path[0], Segment::Map { key } if key == "image") {
        table.push_str(".image");
        path.remove(0);
    }
    let key = match path.first() {
        Some(Segment::Map { key }) => key.clone(),
        _ => String::new(),
    };
    let inner = e.inner().to_string();
    // What serde lists after "expected": the valid keys or values, in backticks.
    let listed = |text: &str| -> Vec<String> {
        let after = text.split_once("expected").map_or("", |(_, a)| a);
        after
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        let unknown = rest.split('`').next().unwrap_or_default();
        return anyhow::anyhow!(
            "`{manifest}`: unknown key `{unknown}` in `{table}`; known keys: {} (hint: fix or remove `{unknown}`)",
            listed(rest).join(", ")
        );
    }
    if let Some(rest) = inner.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or_default();
        return anyhow::anyhow!(
            "`{manifest}`: unknown {key} `{value}` in `{table}`; expected one of {} (hint: set `{key}` to one of them)",
            listed(rest).join(", ")
        );
    }
    let what = match inner
        .strip_prefix("invalid type: ")
        .and_then(|t| t.split_once(", expected "))
    {
        Some((got, want)) => {
            let got = match got.split([' ', '`']).next().unwrap_or_default() {
                "boolean" => "a boolean",
                "integer" | "floating" => "a number",
                "string" => "a string",
                "sequence" => "an array",
                "map" => "a table",
                _ => "nothing",
            };
            let nested = path.len() > 1;
            let want = match (want, path.get(1)) {
                (_, Some(Segment::Seq { .. })) | ("a sequence", None) => "an array of strings",
                (_, Some(Segment::Map { .. })) | ("a map", None) => "a table of strings",
                ("a boolean", _) => "a boolean",
                (w, _) if w.starts_with("struct ") => "a table",
                _ => "a string",
            };
            let at = if nested {
                format!(" at `{}`", e.path())
            } else {
                String::new()
            };
            let example = match want {
                "a boolean" => format!("`{key} = true`"),
                "an array of strings" => format!("`{key} = [\"…\"]`"),
                "a table of strings" | "a table" => format!("`{key} = {{ name = \"…\" }}`"),
                _ => format!("`{key} = \"…\"`"),
            };
            format!("must be {want}, found {got}{at} (hint: write it as {example})")
        }
        None => inner,
    };
    anyhow::anyhow!("`{manifest}`: key `{key}` in `{table}` {what}")
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
    fn reads_the_installer_keys() {
        let c = parse(&json!({"installers": true, "download-url": "https://x/{tag}/"})).unwrap();
        assert_eq!(
            (c.installers, c.download_url.as_deref()),
            (Some(true), Some("https://x/{tag}/"))
        );
        let e = parse(&json!({"installers": "yes"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`installers`") && e.contains("a boolean"), "{e}");
    }

    #[test]
    fn reads_the_cache_key() {
        assert_eq!(
            parse(&json!({"cache": "sccache"})).unwrap().cache,
            Some(Cache::Sccache)
        );
        assert_eq!(
            parse(&json!({"cache": "none"})).unwrap().cache,
            Some(Cache::None)
        );
        assert_eq!(parse(&json!({})).unwrap().cache, None);
        let e = parse(&json!({"cache": "ccache"})).unwrap_err().to_string();
        assert!(e.contains("`cache`") && e.contains("sccache, none"), "{e}");
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

    #[test]
    fn image_base_is_read() {
        let c = parse(&json!({"image": {"base": "oci:base:1"}})).unwrap();
        assert_eq!(c.image.base.as_deref(), Some("oci:base:1"));
    }

    #[test]
    fn every_problem_names_the_file_the_table_the_key_and_a_fix() {
        let e = |v: Value| parse(&v).unwrap_err().to_string();
        let t = "`/w/Cargo.toml`: key";
        let ws = "`[workspace.metadata.multiarch]`";
        assert_eq!(
            e(json!({"targetz": []})),
            format!(
                "`/w/Cargo.toml`: unknown key `targetz` in {ws}; known keys: targets, out-dir, backend, include, archive-name, image, sbom, sbom-format, auditable, installers, download-url, cache (hint: fix or remove `targetz`)"
            )
        );
        assert_eq!(
            e(json!({"image": {"entry": []}})),
            "`/w/Cargo.toml`: unknown key `entry` in `[workspace.metadata.multiarch].image`; known keys: name, bin-dir, entrypoint, cmd, env, labels, user, workdir, files, combined, annotations, ca-certificates, base (hint: fix or remove `entry`)"
        );
        assert_eq!(
            e(json!({"image": "x"})),
            format!(
                "{t} `image` in {ws} must be a table, found a string (hint: write it as `image = {{ name = \"…\" }}`)"
            )
        );
        assert_eq!(
            e(json!({"out-dir": 3})),
            format!(
                "{t} `out-dir` in {ws} must be a string, found a number (hint: write it as `out-dir = \"…\"`)"
            )
        );
        assert_eq!(
            e(json!({"targets": ["a", 1]})),
            format!(
                "{t} `targets` in {ws} must be an array of strings, found a number at `targets[1]` (hint: write it as `targets = [\"…\"]`)"
            )
        );
        assert_eq!(
            e(json!({"image": {"labels": {"a": true}}})),
            format!(
                "{t} `labels` in `[workspace.metadata.multiarch].image` must be a table of strings, found a boolean at `image.labels.a` (hint: write it as `labels = {{ name = \"…\" }}`)"
            )
        );
        assert_eq!(
            e(json!({"backend": "docker"})),
            format!(
                "`/w/Cargo.toml`: unknown backend `docker` in {ws}; expected one of auto, cargo, zig, zigbuild, cross (hint: set `backend` to one of them)"
            )
        );
        assert_eq!(
            e(json!({"image": {"bin-dir": "bin"}})),
            "`/w/Cargo.toml`: key `bin-dir` in `[workspace.metadata.multiarch].image` must be an absolute path inside the image, e.g. \"/usr/local/bin\""
        );
        assert_eq!(
            e(json!({"image": {"files": {"etc/a": "a"}}})),
            "`/w/Cargo.toml`: key `files` in `[workspace.metadata.multiarch].image` destination `etc/a` must be an absolute path inside the image"
        );
        assert_eq!(
            Config::from_metadata(&json!({"multiarch": []}), "/w/Cargo.toml".into(), "[x]")
                .unwrap_err()
                .to_string(),
            "`/w/Cargo.toml`: `[x]` must be a table (hint: write it as `[x]` followed by `key = value` lines)"
        );
    }

    #[test]
    fn the_config_and_the_command_line_spell_values_alike() {
        use clap::ValueEnum as _;
        for b in BackendChoice::value_variants() {
            let name = b.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(
                parse(&json!({ "backend": name })).unwrap().backend,
                Some(*b)
            );
        }
        for f in SbomFormat::value_variants() {
            let name = f.to_possible_value().unwrap().get_name().to_owned();
            let c = parse(&json!({ "sbom-format": name })).unwrap();
            assert_eq!(c.sbom_format, Some(*f));
        }
    }
}
