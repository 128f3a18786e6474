//! Build records: `out/.multiarch/<target>.json`, what `build` staged for one target.
//! `package --no-build` and `image` read these instead of cargo's target dir.

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::plan::Plan;

pub const SCHEMA: &str = "cargo-multiarch/build-record/v1";
pub const DIR: &str = ".multiarch";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRecord {
    pub schema: String,
    pub target: String,
    pub platform: String,
    pub backend: String,
    pub profile: String,
    pub binaries: Vec<StagedBinary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedBinary {
    pub package: String,
    pub version: String,
    pub binary: String,
    pub target: String,
    pub platform: String,
    pub backend: String,
    pub profile: String,
    /// Relative to the out dir: `linux/arm64/bin/alpha`.
    pub path: Utf8PathBuf,
    pub sha256: String,
    pub size: u64,
}

pub fn path(out_dir: &Utf8Path, target: &str) -> Utf8PathBuf {
    out_dir.join(DIR).join(format!("{target}.json"))
}

impl BuildRecord {
    /// The build records of the plan's targets, each holding every planned binary.
    pub fn for_plan(plan: &Plan) -> Result<Vec<Self>> {
        let all = Self::read_all(&plan.out_dir)?;
        let mut out = Vec::new();
        for t in &plan.targets {
            let target = t.target.to_string();
            let Some(r) = all.iter().find(|r| r.target == target) else {
                bail!(
                    "no build record for `{target}` in `{}` (hint: run `cargo multiarch build` first, or drop `--no-build`)",
                    path(&plan.out_dir, &target)
                );
            };
            for e in plan.entries.iter().filter(|e| e.target == t.target) {
                if !r
                    .binaries
                    .iter()
                    .any(|b| b.binary == e.binary && b.package == e.package)
                {
                    bail!(
                        "the build record for `{target}` has no `{}` (hint: run `cargo multiarch build` with the same selection first)",
                        e.binary
                    );
                }
            }
            let mut r = r.clone();
            r.binaries.retain(|b| {
                plan.entries
                    .iter()
                    .any(|e| e.target == t.target && e.binary == b.binary && e.package == b.package)
            });
            out.push(r);
        }
        Ok(out)
    }

    pub fn write(&self, out_dir: &Utf8Path) -> Result<()> {
        let p = path(out_dir, &self.target);
        std::fs::create_dir_all(p.parent().expect("record path has a parent"))
            .with_context(|| format!("cannot create `{}`", out_dir.join(DIR)))?;
        let json = serde_json::to_vec_pretty(self).expect("records serialise");
        crate::archive::write_atomic(&p, &json)
    }

    /// Every record in `out_dir`, sorted by target.
    pub fn read_all(out_dir: &Utf8Path) -> Result<Vec<Self>> {
        let dir = out_dir.join(DIR);
        let Ok(entries) = dir.read_dir_utf8() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.with_context(|| format!("cannot read `{dir}`"))?;
            if e.path().extension() != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(e.path())
                .with_context(|| format!("cannot read `{}`", e.path()))?;
            let r: Self = serde_json::from_str(&text).with_context(|| {
                format!("`{}` is not a build record of this version (hint: run `cargo multiarch build` again)", e.path())
            })?;
            out.push(r);
        }
        out.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(out)
    }

    /// Removes the record of `target` and the binaries it lists (before a rebuild, or
    /// after a failure, so nothing stale passes for fresh).
    pub fn remove(out_dir: &Utf8Path, target: &str) -> Result<()> {
        let p = path(out_dir, target);
        if let Ok(text) = std::fs::read_to_string(&p) {
            if let Ok(r) = serde_json::from_str::<Self>(&text) {
                for b in r.binaries {
                    remove_file(&out_dir.join(&b.path))?;
                }
            }
            remove_file(&p)?;
        }
        Ok(())
    }
}

pub fn remove_file(p: &Utf8Path) -> Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove `{p}`"))
        }
        _ => Ok(()),
    }
}
