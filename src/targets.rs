//! The half of target ⇄ platform that asks rustc: the cfg of a target (`rustc --print
//! cfg --target T`, cached per rustc and target under the target dir, the same cache
//! the C-code scan reads) and rustc's list of targets (`rustc --print target-list`,
//! cached per rustc in the user's cache dir). Nothing here is a fixed list of targets.

use std::sync::{Mutex, OnceLock};

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;

use crate::ccode::{self, Cache};
use crate::platform::map::{self, TargetCfg};
use crate::platform::{
    DEFAULT_TARGETS, Origin, Platform, Target, TargetName, UNIVERSAL2, UNIVERSAL2_PARTS,
    check_distinct_platforms, glibc_split, split_flag,
};
use crate::probe::{self, Probes};

/// The largest target list read back from the cache (rustc's is about 8 KiB).
const MAX_LIST: u64 = 256 << 10;

/// Resolves what users write (`--target`, `--platform`, `targets = […]`) into targets,
/// asking the rustc cargo will use, in `dir`.
#[derive(Debug)]
pub(crate) struct Rustc {
    dir: Utf8PathBuf,
    cache: Option<Cache>,
    /// Names the rustc, for the target-list cache ([`Probes::rustc_identity`]).
    identity: Option<String>,
    list: OnceLock<Result<Vec<String>, String>>,
    /// Resolved cfg per triple, for this run.
    cfgs: Mutex<Vec<(String, TargetCfg)>>,
}

/// One item of a flag or config list.
enum Item<'a> {
    Target(&'a str),
    Platform(&'a str),
}

impl Rustc {
    /// A resolver for rustc run in `dir`, caching under `target_dir` when given (the
    /// cfg cache lives beside cargo's own cache of rustc's answers).
    pub(crate) fn new(dir: &Utf8Path, target_dir: Option<&Utf8Path>, probes: &Probes) -> Self {
        let identity = probes.rustc_identity.clone();
        Self {
            dir: dir.to_owned(),
            cache: target_dir
                .zip(identity.as_deref())
                .map(|(t, id)| Cache::new(t, id)),
            identity,
            list: OnceLock::new(),
            cfgs: Mutex::new(Vec::new()),
        }
    }

    /// One resolver for the whole test process, with no cache: every answer comes from
    /// the real rustc (once per triple).
    #[cfg(test)]
    pub(crate) fn for_tests() -> &'static Self {
        static R: OnceLock<Rustc> = OnceLock::new();
        R.get_or_init(|| Self {
            dir: Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            cache: None,
            identity: None,
            list: OnceLock::new(),
            cfgs: Mutex::new(Vec::new()),
        })
    }

    /// rustc's targets (`rustc --print target-list`), from the cache when it holds this
    /// rustc's list.
    pub(crate) fn target_list(&self) -> Result<&[String]> {
        self.list
            .get_or_init(|| self.load_list().map_err(|e| format!("{e:#}")))
            .as_deref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Where this rustc's list is remembered, and the key the memo must hold.
    fn list_memo(&self) -> Option<(Utf8PathBuf, String)> {
        let id = self.identity.as_deref()?;
        let key = crate::digest::Sha256::of(id.as_bytes()).to_string();
        let path = crate::fs::cache::dir()?
            .join("rustc-targets")
            .join(format!("{key}.json"));
        Some((path, key))
    }

    fn load_list(&self) -> Result<Vec<String>> {
        let memo = self.list_memo();
        if let Some((path, key)) = &memo
            && let Some(bytes) = crate::fs::cache::read_private(path, MAX_LIST)
            && let Some(list) = parse_list_memo(&bytes, key)
        {
            return Ok(list);
        }
        let p = probe::rustc()
            .args(["--print", "target-list"])
            .cwd(&self.dir);
        let out = p.output().with_context(|| {
            format!("could not list rustc's targets (hint: check that `{p}` works)")
        })?;
        let text = String::from_utf8(out.stdout)
            .with_context(|| format!("`{p}` printed invalid UTF-8"))?;
        let list: Vec<String> = text.lines().map(str::to_owned).collect();
        if list.is_empty() || list.iter().any(|t| TargetName::new(t).is_err()) {
            bail!("`{p}` printed something that is not a list of targets");
        }
        if let Some((path, key)) = memo
            && let Ok(json) = serde_json::to_vec(&ListMemo {
                key,
                targets: list.clone(),
            })
        {
            crate::fs::cache::write_private(&path, &json);
            if let Some(parent) = path.parent() {
                crate::fs::cache::prune(parent, 16);
            }
        }
        Ok(list)
    }

    /// rustc's cfg for a built-in triple, once per run.
    fn cfg(&self, triple: &str) -> Result<TargetCfg> {
        if let Some((_, c)) = self
            .cfgs
            .lock()
            .expect("no panics while held")
            .iter()
            .find(|(t, _)| t == triple)
        {
            return Ok(c.clone());
        }
        let cfg = TargetCfg::from_cfg(&self.cfg_list(triple)?);
        self.cfgs
            .lock()
            .expect("no panics while held")
            .push((triple.to_owned(), cfg.clone()));
        Ok(cfg)
    }

    /// What `rustc --print cfg --target <triple>` prints (cached), for a built-in triple.
    pub(crate) fn cfg_list(&self, triple: &str) -> Result<Vec<Cfg>> {
        ccode::target_cfg(self.cache.as_ref(), &self.dir, triple)
    }

    /// The target `s` names: one of rustc's triples (with zig's glibc suffix for a
    /// Linux glibc one), `universal2-apple-darwin`, or a custom target's `.json` file.
    pub(crate) fn target(&self, s: &str) -> Result<Target> {
        let s = s.trim();
        if Utf8Path::new(s).extension() == Some("json") {
            return self.spec(s);
        }
        if s == UNIVERSAL2 {
            let parts = UNIVERSAL2_PARTS
                .iter()
                .map(|t| self.builtin(t, t))
                .collect::<Result<Vec<_>>>()?;
            let platform = Platform::new("darwin", "universal2", None).expect("plain names");
            return Ok(Target::new(
                s.to_owned(),
                s.to_owned(),
                platform,
                false,
                Origin::Universal(parts),
            ));
        }
        if let Some((base, _)) = glibc_split(s) {
            return self.builtin(s, base);
        }
        self.builtin(s, s)
    }

    fn builtin(&self, requested: &str, triple: &str) -> Result<Target> {
        if TargetName::new(requested).is_err() {
            bail!(
                "`{}` is not a target (hint: name one of rustc's targets, e.g. `aarch64-unknown-linux-musl`; `cargo multiarch plan --list-targets` lists them)",
                requested.escape_debug()
            );
        }
        // Asking rustc for the list first turns an unknown name into a helpful error
        // (and costs a file read once cached).
        if let Ok(list) = self.target_list()
            && !list.iter().any(|t| t == triple)
        {
            bail!("{}", unknown_target(requested, list));
        }
        let cfg = self.cfg(triple)?;
        let platform = map::platform_of(triple, &cfg)?;
        Ok(Target::new(
            requested.to_owned(),
            triple.to_owned(),
            platform,
            cfg.env == "musl",
            Origin::Builtin,
        ))
    }

    /// A custom target specification: its cfg from rustc, which reads such files only
    /// on nightly (`-Zunstable-options`).
    fn spec(&self, given: &str) -> Result<Target> {
        let path = crate::workspace::absolute(Utf8Path::new(given))?;
        if !path.is_file() {
            bail!(
                "custom target file `{given}` does not exist (hint: a target ending in `.json` is a path to a target specification, relative to the current directory)"
            );
        }
        let stem = path.file_stem().unwrap_or_default().to_owned();
        TargetName::new(&stem).with_context(|| {
            format!("custom target file `{given}` has a name unfit for an out dir")
        })?;
        let p = probe::rustc()
            .args(["-Zunstable-options", "--print", "cfg", "--target"])
            .arg(path.as_str())
            .cwd(&self.dir);
        let out = p.capture().with_context(|| {
            format!("could not read custom target `{given}` (hint: check that `{p}` works)")
        })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            bail!(
                "rustc cannot read custom target `{given}`: {} (hint: custom targets need a nightly toolchain: `cargo +nightly multiarch …`, or `channel = \"nightly\"` in `rust-toolchain.toml`)",
                err.lines().next().unwrap_or("").trim()
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let cfg: Vec<Cfg> = text
            .lines()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .with_context(|| format!("could not parse the output of `{p}`"))?;
        let cfg = TargetCfg::from_cfg(&cfg);
        // The ARM version comes from the LLVM triple the file names.
        let llvm = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("llvm-target")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| stem.clone());
        let platform = map::platform_of(&llvm, &cfg)?;
        Ok(Target::new(
            stem.clone(),
            stem,
            platform,
            cfg.env == "musl",
            Origin::Spec(path),
        ))
    }

    /// The best of rustc's targets for `p` (see [`map::candidates`]): the first
    /// candidate whose cfg maps back to exactly `p`.
    pub(crate) fn for_platform(&self, p: &Platform) -> Result<Target> {
        if p.os == "darwin" && p.arch == "universal2" && p.variant.is_none() {
            return self.target(UNIVERSAL2);
        }
        let list = self.target_list()?;
        for triple in map::candidates(p, list) {
            if let Ok(t) = self.builtin(triple, triple)
                && t.platform() == *p
            {
                return Ok(t);
            }
        }
        bail!(
            "no target rustc knows builds for platform `{p}` (hint: {}; or name the target with `--target`)",
            known_platforms(self, &p.to_string())
        )
    }

    /// Resolves the `--target` and `--platform` flags (each may be repeated and hold a
    /// comma list) into targets, in the order given, without duplicates. An empty value
    /// or an empty item is an error naming the flag: it never means "the defaults". Two
    /// targets mapping to one platform is an error, since both would write to the same
    /// `out/<os>/<arch>/`.
    pub(crate) fn resolve(&self, targets: &[String], platforms: &[String]) -> Result<Vec<Target>> {
        let targets = split_flag("--target", "x86_64-unknown-linux-musl", targets)?;
        let mut items: Vec<Item> = targets.iter().map(|t| Item::Target(t)).collect();
        let platforms = split_flag("--platform", "linux/amd64,linux/arm64", platforms)?;
        items.extend(platforms.iter().map(|p| Item::Platform(p)));
        self.resolve_items(&items)
    }

    /// The targets a `targets` list from the config names (its items are checked
    /// non-empty when the config is read), in order, without duplicates.
    pub(crate) fn resolve_config(&self, list: &[String]) -> Result<Vec<Target>> {
        let items: Vec<Item> = list
            .iter()
            .flat_map(|s| s.split(','))
            .map(Item::Target)
            .collect();
        self.resolve_items(&items)
    }

    /// [`DEFAULT_TARGETS`].
    pub(crate) fn defaults(&self) -> Result<Vec<Target>> {
        let items: Vec<Item> = DEFAULT_TARGETS.iter().map(|t| Item::Target(t)).collect();
        self.resolve_items(&items)
    }

    /// Each item at the same time (a cfg not cached yet is a rustc run), then in order.
    fn resolve_items(&self, items: &[Item]) -> Result<Vec<Target>> {
        let resolved: Vec<Result<Target>> = std::thread::scope(|s| {
            let handles: Vec<_> = items
                .iter()
                .map(|item| {
                    s.spawn(move || match item {
                        Item::Target(t) => self.target(t),
                        Item::Platform(p) => self.for_platform(&Platform::parse(p)?),
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a target resolution panicked"))
                .collect()
        });
        let mut out: Vec<Target> = Vec::new();
        for t in resolved {
            let t = t?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        check_distinct_platforms(&out)?;
        Ok(out)
    }
}

/// A remembered `rustc --print target-list`: untrusted when read back, so a memo for
/// another rustc, or holding anything but plain names, is a miss.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ListMemo {
    key: String,
    targets: Vec<String>,
}

fn parse_list_memo(bytes: &[u8], key: &str) -> Option<Vec<String>> {
    let m: ListMemo = serde_json::from_slice(bytes).ok()?;
    (m.key == key && !m.targets.is_empty() && m.targets.iter().all(|t| TargetName::new(t).is_ok()))
        .then_some(m.targets)
}

/// The error for a name rustc does not know: the closest of its targets first, then
/// all of them, as `rustc --print target-list` prints them.
fn unknown_target(requested: &str, list: &[String]) -> String {
    // Within a third of the length (at least 3 edits): a triple has several parts.
    let most = (requested.len() / 3).max(3);
    let close = closest(requested, list.iter().map(String::as_str), most);
    let list_them = format!(
        "`cargo multiarch plan --list-targets` lists rustc's {} targets",
        list.len()
    );
    if close.is_empty() {
        format!(
            "unknown target `{requested}` (hint: {list_them}; a custom target is a path to its `.json` file)"
        )
    } else {
        format!(
            "unknown target `{requested}` (hint: did you mean {}? {list_them})",
            close.join(", ")
        )
    }
}

/// The names in `list` at most `most` edits from `given`, best first, at most five,
/// each in backticks: the fewest edits, then the longest common prefix, then by name.
fn closest<'a>(given: &str, list: impl Iterator<Item = &'a str>, most: usize) -> Vec<String> {
    let prefix = |t: &str| {
        given
            .chars()
            .zip(t.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let mut close: Vec<(usize, std::cmp::Reverse<usize>, &str)> = list
        .map(|t| (edit_distance(given, t), std::cmp::Reverse(prefix(t)), t))
        .filter(|(d, _, _)| *d <= most)
        .collect();
    close.sort_unstable();
    close
        .iter()
        .take(5)
        .map(|(_, _, t)| format!("`{t}`"))
        .collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The platforms of rustc's targets that [`map::candidates`] finds for common OCI
/// platforms, for an error's hint: those closest to `given` first, as a question.
fn known_platforms(rustc: &Rustc, given: &str) -> String {
    const COMMON: &[&str] = &[
        "linux/amd64",
        "linux/arm64",
        "linux/386",
        "linux/arm/v7",
        "linux/arm/v6",
        "linux/ppc64le",
        "linux/riscv64",
        "linux/s390x",
        "linux/loong64",
        "windows/amd64",
        "windows/arm64",
        "darwin/amd64",
        "darwin/arm64",
        "darwin/universal2",
    ];
    let known: Vec<&str> = match rustc.target_list() {
        Ok(list) => COMMON
            .iter()
            .copied()
            .filter(|p| {
                *p == "darwin/universal2"
                    || !map::candidates(&Platform::parse(p).expect("valid"), list).is_empty()
            })
            .collect(),
        Err(_) => COMMON.to_vec(),
    };
    let close = closest(given, known.iter().copied(), 2);
    let rest = known
        .iter()
        .map(|p| format!("`{p}`"))
        .filter(|p| !close.contains(p));
    let rest = rest.collect::<Vec<_>>().join(", ");
    if close.is_empty() {
        format!("platforms with a target here include {rest}")
    } else {
        format!(
            "did you mean {}? other platforms with a target here: {rest}",
            close.join(", ")
        )
    }
}
