//! What the user's own cargo configuration already sets, so that the settings we pass
//! with `cargo --config` never override it: `--config` outranks both environment
//! variables and config files, so we leave a key alone whenever the user set it.
//!
//! Reads the config files cargo reads, the way cargo reads them: `.cargo/config`
//! (cargo's legacy name, which it prefers when both exist) or `.cargo/config.toml` in the
//! directory cargo runs in and each of its ancestors, then `$CARGO_HOME`'s, each with the
//! files it `include`s, parsed with the `toml` crate and merged as cargo merges them (a
//! closer file wins a value, arrays are joined, tables merge key by key). Unreadable,
//! oversized or invalid files are skipped: cargo itself reports those.

use std::io::Read as _;

use camino::{Utf8Path, Utf8PathBuf};
use toml::{Table, Value};

/// The largest config file read (real ones are a few KiB).
const MAX_BYTES: u64 = 1 << 20;
/// How deep `include`s may nest (cargo refuses cycles; this also bounds them here).
const MAX_INCLUDE_DEPTH: usize = 8;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserConfig {
    /// Every config file's tables, merged.
    table: Table,
    env: Vec<(String, String)>,
}

impl UserConfig {
    /// The configuration cargo sees when run in this process's directory (as the
    /// backends run it) with this process's environment.
    pub fn load() -> Self {
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|d| Utf8PathBuf::try_from(d).ok());
        Self {
            table: cwd.map_or_else(Table::new, |cwd| discover(&cwd, cargo_home().as_deref())),
            env: std::env::vars().collect(),
        }
    }

    /// A config with the given config-file texts, closest last, and environment (for
    /// tests).
    pub fn for_tests(files: &[&str], env: &[(&str, &str)]) -> Self {
        let mut table = Table::new();
        for text in files {
            merge(&mut table, text.parse().expect("valid TOML"));
        }
        Self {
            table,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The value at `path` (`["target", triple, "linker"]`), if some file sets it.
    fn get(&self, path: &[&str]) -> Option<&Value> {
        let (last, tables) = path.split_last()?;
        let mut table = &self.table;
        for key in tables {
            table = table.get(*key)?.as_table()?;
        }
        table.get(*last)
    }

    fn has_key(&self, path: &[&str]) -> bool {
        self.get(path).is_some()
    }

    fn env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The user set a linker for `triple` (config file or `CARGO_TARGET_<T>_LINKER`).
    pub fn has_linker(&self, triple: &str) -> bool {
        self.has_key(&["target", triple, "linker"])
            || self.env(&target_env(triple, "LINKER")).is_some()
    }

    /// The user set a rustc workspace wrapper (`build.rustc-workspace-wrapper` or
    /// `RUSTC_WORKSPACE_WRAPPER`), which `--auditable`'s own would replace.
    pub fn has_workspace_wrapper(&self) -> bool {
        self.has_key(&["build", "rustc-workspace-wrapper"])
            || self.env("RUSTC_WORKSPACE_WRAPPER").is_some()
            || self.env("CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER").is_some()
    }

    /// The rustc wrapper the user set (`RUSTC_WRAPPER`, `CARGO_BUILD_RUSTC_WRAPPER` or
    /// `build.rustc-wrapper`, in cargo's order), as written.
    pub fn rustc_wrapper(&self) -> Option<String> {
        self.env("RUSTC_WRAPPER")
            .or_else(|| self.env("CARGO_BUILD_RUSTC_WRAPPER"))
            .map(str::to_owned)
            .or_else(|| {
                self.get(&["build", "rustc-wrapper"])
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            })
    }

    /// The user chose the rustc cargo runs (`RUSTC`, `CARGO_BUILD_RUSTC`, `build.rustc`).
    pub fn has_rustc(&self) -> bool {
        self.env("RUSTC").is_some()
            || self.env("CARGO_BUILD_RUSTC").is_some()
            || self.has_key(&["build", "rustc"])
    }

    /// The user set the cc-rs variable `var` (`CC_aarch64_unknown_linux_musl`), or its
    /// spelling with the target's dashes (`CC_aarch64-unknown-linux-musl`), in the
    /// environment or in a config file's `[env]`.
    pub fn has_tool_env(&self, var: &str, triple: &str) -> bool {
        let prefix = var.split('_').next().unwrap_or(var);
        [var.to_owned(), format!("{prefix}_{triple}")]
            .iter()
            .any(|k| self.env(k).is_some() || self.has_key(&["env", k]))
    }

    /// Where our rustflags go so they add to the user's instead of replacing them:
    /// cargo takes `RUSTFLAGS` alone when set (then nothing of ours applies: `None`),
    /// else every `target.<T>.rustflags` joined, else `build.rustflags`. So if the user has
    /// `build.rustflags` and no target table, we add to `build.rustflags`.
    pub fn rustflags_key(&self, triple: &str) -> Option<String> {
        if self.env("RUSTFLAGS").is_some() || self.env("CARGO_ENCODED_RUSTFLAGS").is_some() {
            return None;
        }
        let cfg_set = self
            .get(&["target"])
            .and_then(Value::as_table)
            .is_some_and(|targets| {
                targets
                    .iter()
                    .any(|(k, v)| k.starts_with("cfg(") && v.get("rustflags").is_some())
            });
        let target_set = self.has_key(&["target", triple, "rustflags"])
            || self.env(&target_env(triple, "RUSTFLAGS")).is_some()
            || cfg_set;
        let build_set =
            self.has_key(&["build", "rustflags"]) || self.env("CARGO_BUILD_RUSTFLAGS").is_some();
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
        env || self.has_key(&["build", "rustc"]) || sets_rustflags(&self.table)
    }
}

fn target_env(triple: &str, what: &str) -> String {
    format!(
        "CARGO_TARGET_{}_{what}",
        triple.to_uppercase().replace(['-', '.'], "_")
    )
}

/// `$CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> Option<Utf8PathBuf> {
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        return Utf8PathBuf::try_from(std::path::PathBuf::from(h)).ok();
    }
    std::env::home_dir().and_then(|h| Utf8PathBuf::try_from(h.join(".cargo")).ok())
}

/// Whether some table under `table` sets a `…rustflags` key.
fn sets_rustflags(table: &Table) -> bool {
    table
        .iter()
        .any(|(k, v)| k.ends_with("rustflags") || v.as_table().is_some_and(sets_rustflags))
}

/// The merged config cargo reads when run in `cwd`: each ancestor's `.cargo/config` or
/// `.cargo/config.toml`, then `home`'s if no ancestor is it, the closest winning.
fn discover(cwd: &Utf8Path, home: Option<&Utf8Path>) -> Table {
    let mut files: Vec<Utf8PathBuf> = Vec::new();
    let in_dir = |dir: &Utf8Path| {
        // cargo reads `config` when both exist (and warns about it).
        ["config", "config.toml"]
            .iter()
            .map(|name| dir.join(name))
            .find(|f| f.is_file())
    };
    for dir in cwd.ancestors() {
        if let Some(f) = in_dir(&dir.join(".cargo")) {
            files.push(f);
        }
    }
    if let Some(f) = home.and_then(in_dir)
        && !files.contains(&f)
    {
        files.push(f);
    }
    let mut table = Table::new();
    for f in files.iter().rev() {
        if let Some(t) = load_file(f, &mut Vec::new()) {
            merge(&mut table, t);
        }
    }
    table
}

/// One config file with what it `include`s merged under it (the file itself wins), or
/// `None` if it cannot be read or parsed. `stack` holds the files being loaded, so an
/// include cycle ends.
fn load_file(path: &Utf8Path, stack: &mut Vec<Utf8PathBuf>) -> Option<Table> {
    let path = path.canonicalize_utf8().ok()?;
    if stack.len() > MAX_INCLUDE_DEPTH || stack.contains(&path) {
        return None;
    }
    let mut text = String::new();
    let file = std::fs::File::open(&path).ok()?;
    file.take(MAX_BYTES + 1).read_to_string(&mut text).ok()?;
    if text.len() as u64 > MAX_BYTES {
        return None;
    }
    let mut table: Table = text.parse().ok()?;
    let includes = table.remove("include");
    let mut merged = Table::new();
    stack.push(path.clone());
    for (include, optional) in includes.as_ref().map(include_paths).unwrap_or_default() {
        let full = path.parent().unwrap_or(&path).join(include);
        // cargo accepts only `.toml` files; a missing optional one is skipped silently.
        if full.extension() != Some("toml") || (optional && !full.is_file()) {
            continue;
        }
        if let Some(t) = load_file(&full, stack) {
            merge(&mut merged, t);
        }
    }
    stack.pop();
    merge(&mut merged, table);
    Some(merged)
}

/// The paths of an `include` value and whether each is optional: `"a.toml"`,
/// `["a.toml", { path = "b.toml", optional = true }]`, or `[[include]]` tables.
fn include_paths(value: &Value) -> Vec<(&str, bool)> {
    fn one(v: &Value) -> Option<(&str, bool)> {
        match v {
            Value::String(s) => Some((s.as_str(), false)),
            Value::Table(t) => Some((
                t.get("path")?.as_str()?,
                t.get("optional").and_then(Value::as_bool).unwrap_or(false),
            )),
            _ => None,
        }
    }
    match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        v => one(v).into_iter().collect(),
    }
}

/// Merges `higher` into `base` as cargo merges a closer config into a farther one:
/// tables key by key, arrays joined (the farther file's items first), any other value
/// replaced.
fn merge(base: &mut Table, higher: Table) {
    for (key, value) in higher {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(old)), Value::Table(new)) => merge(old, new),
            (Some(Value::Array(old)), Value::Array(new)) => old.extend(new),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str, env: &[(&str, &str)]) -> UserConfig {
        UserConfig::for_tests(&[text], env)
    }

    #[test]
    fn finds_the_rustc_wrapper_and_rustc_in_cargos_order() {
        assert_eq!(cfg("", &[]).rustc_wrapper(), None);
        assert_eq!(
            cfg("[build]\nrustc-wrapper = \"/opt/sccache\"\n", &[]).rustc_wrapper(),
            Some("/opt/sccache".to_owned())
        );
        assert_eq!(
            cfg(
                "[build]\nrustc-wrapper = \"/opt/sccache\"\n",
                &[("RUSTC_WRAPPER", "ccache")]
            )
            .rustc_wrapper(),
            Some("ccache".to_owned())
        );
        assert_eq!(
            cfg(
                "",
                &[
                    ("RUSTC_WRAPPER", ""),
                    ("CARGO_BUILD_RUSTC_WRAPPER", "sccache")
                ]
            )
            .rustc_wrapper(),
            Some("sccache".to_owned())
        );
        assert!(!cfg("", &[]).has_rustc());
        assert!(cfg("build.rustc = \"/r\"\n", &[]).has_rustc());
        assert!(cfg("", &[("RUSTC", "/r")]).has_rustc());
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

    /// A tree of directories with the given files, and the config cargo reads in `cwd`.
    fn tree(files: &[(&str, &str)], cwd: &str, home: &str) -> (tempfile::TempDir, UserConfig) {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap().to_owned();
        for (path, text) in files {
            let f = root.join(path);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        std::fs::create_dir_all(root.join(cwd)).unwrap();
        let user = UserConfig {
            table: discover(&root.join(cwd), Some(&root.join(home))),
            env: Vec::new(),
        };
        (tmp, user)
    }

    fn strings(user: &UserConfig, path: &[&str]) -> Vec<String> {
        match user.get(path) {
            Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
            Some(v) => vec![v.as_str().unwrap().to_owned()],
            None => Vec::new(),
        }
    }

    #[test]
    fn inline_tables_quoted_and_dotted_keys_are_keys() {
        let t = "aarch64-unknown-linux-musl";
        // `[env]` entries as inline tables; a whole target as an inline table.
        let user = cfg(
            "env = { CC_aarch64_unknown_linux_musl = { value = \"zcc\", force = true } }\ntarget = { aarch64-unknown-linux-musl = { linker = \"cc\" } }\n",
            &[],
        );
        assert!(user.has_tool_env("CC_aarch64_unknown_linux_musl", t));
        assert!(user.has_linker(t));
        // A quoted key holding dots is one key, not three.
        let user = cfg("[target.\"x86_64-custom.json\"]\nlinker = \"cc\"\n", &[]);
        assert!(user.has_linker("x86_64-custom.json"));
        assert!(!user.has_linker("x86_64-custom"));
        // A multi-line string that looks like a table header sets nothing.
        let text = "[build]\nrustc = \"\"\"\n[target.aarch64-unknown-linux-musl]\nlinker = \"x\"\n\"\"\"\n";
        assert!(!cfg(text, &[]).has_linker(t));
        // A table header's comment, and a value with `=` in it.
        let text = "[target.aarch64-unknown-linux-musl] # ours\nlinker = \"a=b\"\n";
        assert!(cfg(text, &[]).has_linker(t));
    }

    #[test]
    fn discovery_runs_from_the_cwd_up_then_cargo_home_the_closest_winning() {
        let (_t, user) = tree(
            &[
                (
                    "a/.cargo/config.toml",
                    "[build]\nrustc = \"/a/rustc\"\nrustflags = [\"-Ca\"]\n",
                ),
                (
                    "a/b/.cargo/config.toml",
                    "build.rustc = \"/b/rustc\"\nbuild.rustflags = [\"-Cb\"]\n",
                ),
                // cargo reads the legacy name when both exist.
                ("a/b/c/.cargo/config", "build.rustflags = [\"-Cc\"]\n"),
                (
                    "a/b/c/.cargo/config.toml",
                    "build.rustflags = [\"-Cignored\"]\n",
                ),
                (
                    "home/config.toml",
                    "build.rustflags = [\"-Chome\"]\nbuild.jobs = 3\n",
                ),
                // Beside the cwd, not above it: not read.
                ("a/x/.cargo/config.toml", "build.rustc = \"/x/rustc\"\n"),
            ],
            "a/b/c/d",
            "home",
        );
        assert_eq!(strings(&user, &["build", "rustc"]), ["/b/rustc"]);
        assert_eq!(
            strings(&user, &["build", "rustflags"]),
            ["-Chome", "-Ca", "-Cb", "-Cc"]
        );
        assert_eq!(user.get(&["build", "jobs"]), Some(&Value::Integer(3)));
        // CARGO_HOME inside the tree is read once.
        let (_t, user) = tree(
            &[("w/.cargo/config.toml", "build.rustflags = [\"-Cw\"]\n")],
            "w/src",
            "w/.cargo",
        );
        assert_eq!(strings(&user, &["build", "rustflags"]), ["-Cw"]);
    }

    #[test]
    fn includes_load_under_the_file_that_names_them() {
        let (_t, user) = tree(
            &[
                (
                    "w/.cargo/config.toml",
                    "include = [\"linkers.toml\", { path = \"missing.toml\", optional = true }, { path = \"flags.toml\" }, \"not-toml.txt\"]\n[build]\nrustc = \"/w/rustc\"\nrustflags = [\"-Cmain\"]\n",
                ),
                (
                    ".cargo/linkers.toml",
                    "target.x86_64-unknown-linux-musl.linker = \"wrong dir\"\n",
                ),
                (
                    "w/.cargo/linkers.toml",
                    "include = [\"nested/more.toml\"]\n[target.aarch64-unknown-linux-musl]\nlinker = \"cc\"\n",
                ),
                (
                    "w/.cargo/nested/more.toml",
                    "env.CC_x = \"cc\"\ninclude = [\"../config.toml\"]\n",
                ),
                (
                    "w/.cargo/flags.toml",
                    "build.rustc = \"/inc/rustc\"\nbuild.rustflags = [\"-Cinc\"]\n",
                ),
                ("w/.cargo/not-toml.txt", "build.jobs = 1\n"),
            ],
            "w",
            "home",
        );
        assert!(user.has_linker("aarch64-unknown-linux-musl"));
        assert!(!user.has_linker("x86_64-unknown-linux-musl"));
        assert!(user.has_tool_env("CC_x", "x"));
        // The including file wins a value; arrays keep the includes' items first.
        assert_eq!(strings(&user, &["build", "rustc"]), ["/w/rustc"]);
        assert_eq!(strings(&user, &["build", "rustflags"]), ["-Cinc", "-Cmain"]);
        assert_eq!(user.get(&["build", "jobs"]), None);
        assert_eq!(user.get(&["include"]), None);
    }

    #[test]
    fn oversized_or_invalid_files_are_skipped() {
        let big = format!(
            "build.rustc = \"x\"\n#{}\n",
            "x".repeat(usize::try_from(MAX_BYTES).unwrap())
        );
        let (_t, user) = tree(
            &[
                ("w/.cargo/config.toml", &big),
                ("home/config.toml", "build = [\n"),
            ],
            "w",
            "home",
        );
        assert_eq!(user, UserConfig::default());
    }
}
