//! Which packages of each target's dependency graph compile C (what the backend choice
//! turns on), with no cargo run per target.
//!
//! The workspace holds one full resolve; each edge's platform (`cfg(…)` or a triple) is
//! evaluated against what `rustc --print cfg --target T` prints, exactly as `cargo
//! metadata --filter-platform T` keeps edges ([`Workspace::c_code_in_process`]). rustc's
//! answer is cached per rustc (its sysroot and binary) and target under the target dir. When the user's
//! configuration may change that answer (rustflags, another rustc), one `cargo metadata
//! --filter-platform` per target decides instead, as cargo would see it.

use std::io::{Read as _, Write as _};

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;

use crate::cargo_config::UserConfig;
use crate::digest::Sha256;
use crate::platform::Target;
use crate::probe::{self, Probes};
use crate::workspace::{CCode, Workspace};

/// The first line of a cache file.
const HEADER: &str = "# cargo-multiarch: rustc --print cfg, v1";
/// The largest cache file read back (a real one is about 1 KiB).
const MAX_BYTES: u64 = 64 << 10;

/// The C code in each target's graph, in the order of `targets`; the targets are
/// looked at in parallel (a cache miss runs rustc, the fallback cargo).
pub(crate) fn per_target(
    ws: &Workspace,
    probes: &Probes,
    targets: &[Target],
) -> Vec<Result<Vec<CCode>>> {
    let exact_cargo = UserConfig::load().may_change_target_cfg();
    let (dir, cache) = cfg_source(ws, probes);
    std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| {
                let cache = cache.as_ref();
                s.spawn(move || {
                    // A custom target is built by cargo whatever C it has; a universal
                    // binary's C is its two halves'.
                    if t.spec().is_some() {
                        return Ok(Vec::new());
                    }
                    let mut all: Vec<CCode> = Vec::new();
                    for triple in t.rustc_triples() {
                        let found = if exact_cargo {
                            ws.c_code_packages(triple)?
                        } else {
                            let cfg = target_cfg(cache, dir, triple)?;
                            ws.c_code_in_process(triple, &cfg)
                        };
                        for c in found {
                            if !all.contains(&c) {
                                all.push(c);
                            }
                        }
                    }
                    Ok(all)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the C-code scan thread panicked"))
            .collect()
    })
}

/// `rustc --print cfg --target <triple>` as rustc run in `dir` prints it, from the
/// cache when it holds this rustc's answer.
pub(crate) fn target_cfg(cache: Option<&Cache>, dir: &Utf8Path, triple: &str) -> Result<Vec<Cfg>> {
    if let Some(cfg) = cache.and_then(|c| c.read(triple)) {
        return Ok(cfg);
    }
    let p = probe::rustc()
        .args(["--print", "cfg", "--target", triple])
        .cwd(dir);
    let out = p.output().with_context(|| {
        format!(
            "could not read the configuration of target `{triple}` (hint: check that `{p}` works)"
        )
    })?;
    let text =
        String::from_utf8(out.stdout).with_context(|| format!("`{p}` printed invalid UTF-8"))?;
    let cfg = parse_cfg(&text).with_context(|| format!("could not parse the output of `{p}`"))?;
    if let Some(c) = cache {
        c.write(triple, &cfg);
    }
    Ok(cfg)
}

/// rustc's cfg per target, in `<target dir>/cargo-multiarch/rustc-cfg/<triple>.cfg`,
/// each file naming the rustc (a hash of [`Probes::rustc_identity`]) and target it holds.
/// Untrusted when read back: a file that is not exactly what [`Cache::write`] writes
/// for this rustc and target is a miss.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: Utf8PathBuf,
    rustc_id: String,
}

/// Where rustc is asked for a workspace's target cfg (its manifest's directory, so its
/// `rust-toolchain` applies) and the cache of that rustc's answers, when it is known.
pub(crate) fn cfg_source<'a>(ws: &'a Workspace, probes: &Probes) -> (&'a Utf8Path, Option<Cache>) {
    let dir = ws
        .manifest_path
        .parent()
        .expect("a manifest path has a parent");
    let cache = probes
        .rustc_identity
        .as_deref()
        .map(|id| Cache::new(&ws.target_dir, id));
    (dir, cache)
}

impl Cache {
    pub(crate) fn new(target_dir: &Utf8Path, rustc_id: &str) -> Self {
        Self {
            dir: target_dir.join("cargo-multiarch").join("rustc-cfg"),
            rustc_id: rustc_id.to_owned(),
        }
    }

    fn path(&self, triple: &str) -> Option<Utf8PathBuf> {
        let plain = !triple.is_empty()
            && triple
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !triple.starts_with('.');
        plain.then(|| self.dir.join(format!("{triple}.cfg")))
    }

    /// The line naming this rustc and target.
    fn key_line(&self, triple: &str) -> String {
        let key = Sha256::of(format!("{}\n--target {triple}\n", self.rustc_id).as_bytes());
        format!("# key {key} {triple}")
    }

    /// The cached cfg, or None when missing, for another rustc, or malformed.
    pub(crate) fn read(&self, triple: &str) -> Option<Vec<Cfg>> {
        let path = self.path(triple)?;
        let file = crate::fs::open_regular(&path).ok()?;
        let mut text = String::new();
        file.take(MAX_BYTES + 1).read_to_string(&mut text).ok()?;
        if text.len() as u64 > MAX_BYTES {
            return None;
        }
        parse_cache(&text, &self.key_line(triple))
    }

    /// Stores `cfg` atomically; a cache that cannot be written is only a slower next run.
    pub(crate) fn write(&self, triple: &str, cfg: &[Cfg]) {
        let Some(path) = self.path(triple) else {
            return;
        };
        let mut text = format!("{HEADER}\n{}\n", self.key_line(triple));
        for c in cfg {
            text.push_str(&c.to_string());
            text.push('\n');
        }
        let _ = std::fs::create_dir_all(&self.dir).and_then(|()| {
            crate::fs::write_atomic_at(&path, |f| Ok(f.write_all(text.as_bytes())?))
                .map_err(std::io::Error::other)
        });
    }
}

/// A cache file's cfg: the header, then exactly `key_line`, then the cfg lines.
fn parse_cache(text: &str, key_line: &str) -> Option<Vec<Cfg>> {
    let rest = text
        .strip_prefix(HEADER)?
        .strip_prefix('\n')?
        .strip_prefix(key_line)?
        .strip_prefix('\n')?;
    parse_cfg(rest).ok()
}

/// `rustc --print cfg` output: one `name` or `key="value"` per line, newline-terminated,
/// naming at least the target's architecture.
fn parse_cfg(text: &str) -> Result<Vec<Cfg>> {
    if !text.ends_with('\n') {
        bail!("it does not end with a newline");
    }
    let mut out = Vec::new();
    for line in text.lines() {
        let cfg: Cfg = line
            .parse()
            .with_context(|| format!("`{}` is not a cfg", line.escape_debug()))?;
        out.push(cfg);
    }
    if !out
        .iter()
        .any(|c| matches!(c, Cfg::KeyPair(k, _) if k.as_str() == "target_arch"))
    {
        bail!("it names no `target_arch`");
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
