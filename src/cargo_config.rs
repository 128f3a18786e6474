//! What the user's own cargo configuration already sets, so that the settings we pass
//! with `cargo --config` never override it: `--config` outranks both environment
//! variables and config files, so we leave a key alone whenever the user set it.
//!
//! Reads the config files cargo reads for a build in the workspace root (that
//! directory and its ancestors, then `$CARGO_HOME`), with a line scanner that knows
//! TOML tables and dotted keys; that is all these few keys need.

use camino::{Utf8Path, Utf8PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConfig {
    /// Dotted keys set in some config file, e.g. `target.aarch64-unknown-linux-musl.linker`.
    keys: Vec<String>,
    env: Vec<(String, String)>,
}

impl UserConfig {
    pub fn load(workspace_root: &Utf8Path) -> Self {
        let mut files: Vec<Utf8PathBuf> = Vec::new();
        for dir in workspace_root.ancestors() {
            for name in ["config.toml", "config"] {
                let f = dir.join(".cargo").join(name);
                if f.is_file() {
                    files.push(f);
                    break;
                }
            }
        }
        if let Some(home) = cargo_home() {
            for name in ["config.toml", "config"] {
                let f = home.join(name);
                if f.is_file() && !files.contains(&f) {
                    files.push(f);
                    break;
                }
            }
        }
        let mut keys = Vec::new();
        for f in files {
            if let Ok(text) = std::fs::read_to_string(&f) {
                keys.extend(scan_keys(&text));
            }
        }
        Self {
            keys,
            env: std::env::vars().collect(),
        }
    }

    /// A config with the given config-file text and environment (for tests).
    pub fn for_tests(files: &[&str], env: &[(&str, &str)]) -> Self {
        Self {
            keys: files.iter().flat_map(|t| scan_keys(t)).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn has_key(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// The user set a linker for `triple` (config file or `CARGO_TARGET_<T>_LINKER`).
    pub fn has_linker(&self, triple: &str) -> bool {
        self.has_key(&format!("target.{triple}.linker"))
            || self.env(&target_env(triple, "LINKER")).is_some()
    }

    /// The user set a rustc workspace wrapper (`build.rustc-workspace-wrapper` or
    /// `RUSTC_WORKSPACE_WRAPPER`), which `--auditable`'s own would replace.
    pub fn has_workspace_wrapper(&self) -> bool {
        self.has_key("build.rustc-workspace-wrapper")
            || self.env("RUSTC_WORKSPACE_WRAPPER").is_some()
            || self.env("CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER").is_some()
    }

    /// The user set the cc-rs variable `var` (`CC_aarch64_unknown_linux_musl`), or its
    /// spelling with the target's dashes (`CC_aarch64-unknown-linux-musl`), in the
    /// environment or in a config file's `[env]`.
    pub fn has_tool_env(&self, var: &str, triple: &str) -> bool {
        let prefix = var.split('_').next().unwrap_or(var);
        [var.to_owned(), format!("{prefix}_{triple}")]
            .iter()
            .any(|k| self.env(k).is_some() || self.has_key(&format!("env.{k}")))
    }

    /// Where our rustflags go so they add to the user's instead of replacing them:
    /// cargo takes `RUSTFLAGS` alone when set (then nothing of ours applies: `None`),
    /// else every `target.<T>.rustflags` joined, else `build.rustflags`. So if the user has
    /// `build.rustflags` and no target table, we add to `build.rustflags`.
    pub fn rustflags_key(&self, triple: &str) -> Option<String> {
        if self.env("RUSTFLAGS").is_some() || self.env("CARGO_ENCODED_RUSTFLAGS").is_some() {
            return None;
        }
        let target_set = self.has_key(&format!("target.{triple}.rustflags"))
            || self.env(&target_env(triple, "RUSTFLAGS")).is_some()
            || self
                .keys
                .iter()
                .any(|k| k.starts_with("target.cfg(") && k.ends_with(".rustflags"));
        let build_set =
            self.has_key("build.rustflags") || self.env("CARGO_BUILD_RUSTFLAGS").is_some();
        Some(if build_set && !target_set {
            "build.rustflags".to_owned()
        } else {
            format!("target.{triple}.rustflags")
        })
    }
}

impl UserConfig {
    /// Whether this configuration may change what cargo learns from `rustc --print cfg`
    /// for a target: rustflags from any source (`--cfg`, `-C target-feature`, …) or another
    /// rustc (`build.rustc`). Errs on the side of yes.
    pub fn may_change_target_cfg(&self) -> bool {
        let env = [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_BUILD_RUSTC",
        ]
        .iter()
        .any(|k| self.env(k).is_some())
            || self.env.iter().any(|(k, v)| {
                !v.is_empty() && k.starts_with("CARGO_TARGET_") && k.ends_with("_RUSTFLAGS")
            });
        env || self
            .keys
            .iter()
            .any(|k| k.ends_with("rustflags") || k == "build.rustc")
    }
}

fn target_env(triple: &str, what: &str) -> String {
    format!(
        "CARGO_TARGET_{}_{what}",
        triple.to_uppercase().replace(['-', '.'], "_")
    )
}

pub fn cargo_home() -> Option<Utf8PathBuf> {
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        return Utf8PathBuf::try_from(std::path::PathBuf::from(h)).ok();
    }
    std::env::home_dir().and_then(|h| Utf8PathBuf::try_from(h.join(".cargo")).ok())
}

/// Every dotted key a TOML document sets: `[a.b]` + `c = …` gives `a.b.c`; dotted
/// keys and quoted segments (`[target."x".y]`) are unquoted. Values are not parsed.
fn scan_keys(text: &str) -> Vec<String> {
    let mut table = String::new();
    let mut keys = Vec::new();
    let mut in_multiline: Option<&str> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(close) = in_multiline {
            if line.contains(close) {
                in_multiline = None;
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            let inner = line.trim_start_matches('[');
            let inner = inner.split(']').next().unwrap_or("");
            table = unquote_path(inner);
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let key = unquote_path(key);
            keys.push(if table.is_empty() {
                key
            } else {
                format!("{table}.{key}")
            });
            let value = value.trim();
            // Skip the body of multi-line arrays and strings.
            if value.starts_with('[') && !value.contains(']') {
                in_multiline = Some("]");
            } else if (value.starts_with("\"\"\"") || value.starts_with("'''"))
                && value.len() >= 3
                && !value[3..].contains(&value[..3])
            {
                in_multiline = Some(if value.starts_with('"') {
                    "\"\"\""
                } else {
                    "'''"
                });
            }
        }
    }
    keys
}

fn unquote_path(s: &str) -> String {
    s.split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str, env: &[(&str, &str)]) -> UserConfig {
        UserConfig {
            keys: scan_keys(text),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn finds_linkers_in_tables_dotted_keys_and_env() {
        let t = "aarch64-unknown-linux-musl";
        assert!(
            cfg(
                "[target.aarch64-unknown-linux-musl]\nlinker = \"cc\"\n",
                &[]
            )
            .has_linker(t)
        );
        assert!(
            cfg(
                "[target.\"aarch64-unknown-linux-musl\"]\nlinker = \"cc\"\n",
                &[]
            )
            .has_linker(t)
        );
        assert!(cfg("target.aarch64-unknown-linux-musl.linker = \"cc\"\n", &[]).has_linker(t));
        assert!(
            cfg(
                "",
                &[("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "cc")]
            )
            .has_linker(t)
        );
        assert!(!cfg("[target.x86_64-unknown-linux-musl]\nlinker = \"cc\"\n", &[]).has_linker(t));
        assert!(!cfg("[alias]\nb = [\n  \"linker\",\n]\n", &[]).has_linker(t));
    }

    #[test]
    fn rustflags_go_where_they_add_to_the_users() {
        let t = "aarch64-unknown-linux-musl";
        assert_eq!(
            cfg("", &[]).rustflags_key(t).unwrap(),
            "target.aarch64-unknown-linux-musl.rustflags"
        );
        assert_eq!(
            cfg("[build]\nrustflags = [\"-Cfoo\"]\n", &[])
                .rustflags_key(t)
                .unwrap(),
            "build.rustflags"
        );
        assert_eq!(
            cfg("[build]\nrustflags = [\"-Cfoo\"]\n[target.aarch64-unknown-linux-musl]\nrustflags = []\n", &[]).rustflags_key(t).unwrap(),
            "target.aarch64-unknown-linux-musl.rustflags"
        );
        assert_eq!(cfg("", &[("RUSTFLAGS", "-Cfoo")]).rustflags_key(t), None);
    }

    #[test]
    fn rustflags_or_another_rustc_may_change_the_target_cfg() {
        assert!(
            !cfg(
                "[target.x.linker]\nlinker = \"cc\"\n",
                &[("CARGO_TARGET_X_LINKER", "cc")]
            )
            .may_change_target_cfg()
        );
        assert!(!cfg("", &[("RUSTFLAGS", "")]).may_change_target_cfg());
        for (text, env) in [
            ("[build]\nrustflags = [\"--cfg=x\"]\n", ("", "")),
            (
                "[target.aarch64-unknown-linux-musl]\nrustflags = []\n",
                ("", ""),
            ),
            ("[target.'cfg(unix)']\nrustflags = []\n", ("", "")),
            ("build.rustc = \"/opt/rustc\"\n", ("", "")),
            ("", ("RUSTFLAGS", "-Ctarget-feature=+aes")),
            ("", ("CARGO_ENCODED_RUSTFLAGS", "--cfg=x")),
            ("", ("CARGO_BUILD_RUSTFLAGS", "--cfg=x")),
            (
                "",
                (
                    "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS",
                    "--cfg=x",
                ),
            ),
            ("", ("CARGO_BUILD_RUSTC", "/opt/rustc")),
        ] {
            assert!(cfg(text, &[env]).may_change_target_cfg(), "{text} {env:?}");
        }
    }
}
