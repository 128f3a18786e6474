//! sccache's statistics (`sccache --show-stats --stats-format json`), and what one run
//! added to them: the server counts since it started, so a run's share is the
//! difference of a reading after it and one before (other builds using the same server
//! at the same time are counted in too).

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

/// Hits and misses of one language.
pub use crate::output::CacheCounts as Counts;

/// What sccache counted: hits and misses of Rust and of C/C++, the calls it ran without
/// caching and why, and the ones it could not handle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub rust: Counts,
    pub c: Counts,
    /// Compilations sccache ran without caching (bin crates, linking, build-script
    /// probes), by sccache's reason.
    pub not_cacheable: BTreeMap<String, u64>,
    /// Calls whose compiler sccache did not recognise (run anyway).
    pub unsupported: u64,
}

#[derive(Deserialize)]
struct Raw {
    stats: RawStats,
}

#[derive(Deserialize)]
struct RawStats {
    #[serde(default)]
    cache_hits: RawCounts,
    #[serde(default)]
    cache_misses: RawCounts,
    #[serde(default)]
    not_cached: BTreeMap<String, u64>,
    #[serde(default)]
    requests_unsupported_compiler: u64,
}

#[derive(Deserialize, Default)]
struct RawCounts {
    #[serde(default)]
    counts: BTreeMap<String, u64>,
}

impl RawCounts {
    fn of(&self, language: &str) -> u64 {
        self.counts.get(language).copied().unwrap_or(0)
    }
}

impl Stats {
    /// Parses sccache's JSON statistics (the fields it has had since 0.4; others are
    /// ignored).
    pub fn parse(json: &[u8]) -> Result<Self> {
        let raw: Raw = serde_json::from_slice(json).context(
            "sccache printed statistics that are not its JSON (hint: use sccache 0.4 or later)",
        )?;
        let s = raw.stats;
        Ok(Self {
            rust: Counts {
                hits: s.cache_hits.of("Rust"),
                misses: s.cache_misses.of("Rust"),
            },
            c: Counts {
                hits: s.cache_hits.of("C/C++"),
                misses: s.cache_misses.of("C/C++"),
            },
            not_cacheable: s.not_cached,
            unsupported: s.requests_unsupported_compiler,
        })
    }

    /// What was counted since `before` (saturating: a restarted server starts at 0).
    #[must_use]
    pub fn since(&self, before: &Stats) -> Stats {
        let d = |a: Counts, b: Counts| Counts {
            hits: a.hits.saturating_sub(b.hits),
            misses: a.misses.saturating_sub(b.misses),
        };
        Stats {
            rust: d(self.rust, before.rust),
            c: d(self.c, before.c),
            not_cacheable: self
                .not_cacheable
                .iter()
                .map(|(k, v)| {
                    let was = before.not_cacheable.get(k).copied().unwrap_or(0);
                    (k.clone(), v.saturating_sub(was))
                })
                .filter(|(_, v)| *v > 0)
                .collect(),
            unsupported: self.unsupported.saturating_sub(before.unsupported),
        }
    }

    /// One line: `Rust 70/75 hits (93%), C 12/12 hits (100%), 32 not cacheable (crate-type 20, …)`.
    pub fn line(&self) -> String {
        let lang = |name: &str, c: Counts| match c.rate() {
            Some(r) => format!("{name} {}/{} hits ({r:.0}%)", c.hits, c.hits + c.misses),
            None => format!("{name} nothing cacheable"),
        };
        let mut s = format!("{}, {}", lang("Rust", self.rust), lang("C", self.c));
        let total: u64 = self.not_cacheable.values().sum();
        if total > 0 {
            let why: Vec<String> = self
                .not_cacheable
                .iter()
                .map(|(k, v)| format!("{} {v}", if k == "-" { "other" } else { k }))
                .collect();
            s.push_str(&format!(", {total} not cacheable ({})", why.join(", ")));
        }
        if self.unsupported > 0 {
            s.push_str(&format!(", {} unsupported", self.unsupported));
        }
        s
    }
}
