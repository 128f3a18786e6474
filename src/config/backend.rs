//! How a target is built: the backends (`--backend`, `backend = "…"`, what the plan
//! chose), one enum for the command line, the config and the plan.

use std::fmt;

use clap::ValueEnum;
use clap::builder::PossibleValue;
use serde::{Deserialize, Serialize};

/// How a target is built: `--backend`'s values (besides `auto`), `backend = "…"` in
/// `[metadata.multiarch]`, and what the plan chose.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Plain cargo: the host's or a musl C compiler, `rust-lld` for non-host musl.
    #[value(help = "Plain `cargo build` (non-host musl links with rust-lld)")]
    Cargo,
    /// zig as the target's C compiler and linker, through the wrappers the tool writes,
    /// inside the same `cargo build` as the `cargo` targets.
    #[value(help = "`zig cc` as C compiler and linker, in the shared `cargo build`")]
    Zig,
    /// `cargo zigbuild`, for what the wrappers do not handle (macOS, Windows).
    #[value(help = "`cargo zigbuild` (for what the zig wrappers do not handle: macOS, Windows)")]
    Zigbuild,
    /// `cross build`, one container per target.
    #[value(help = "`cross build` (a container with the target's toolchain)")]
    Cross,
}

/// `--backend` and `backend = "…"`: pick per target (`auto`), or one backend for every
/// target, which then never falls back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackendChoice {
    #[default]
    Auto,
    Forced(Backend),
}

impl BackendChoice {
    const ALL: [BackendChoice; 5] = [
        BackendChoice::Auto,
        BackendChoice::Forced(Backend::Cargo),
        BackendChoice::Forced(Backend::Zig),
        BackendChoice::Forced(Backend::Zigbuild),
        BackendChoice::Forced(Backend::Cross),
    ];

    /// The forced backend, if any.
    pub fn forced(self) -> Option<Backend> {
        match self {
            BackendChoice::Auto => None,
            BackendChoice::Forced(b) => Some(b),
        }
    }
}

impl ValueEnum for BackendChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        match self {
            BackendChoice::Auto => Some(
                PossibleValue::new("auto").help("Pick per target: cargo, else zig, else cross"),
            ),
            BackendChoice::Forced(b) => b.to_possible_value(),
        }
    }
}

/// The same words as `--backend` (`auto`, `cargo`, `zig`, `zigbuild`, `cross`).
impl<'de> Deserialize<'de> for BackendChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        <Self as ValueEnum>::from_str(&s, false).map_err(|_| {
            serde::de::Error::unknown_variant(&s, &["auto", "cargo", "zig", "zigbuild", "cross"])
        })
    }
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Cargo => "cargo",
            Backend::Zig => "zig",
            Backend::Zigbuild => "zigbuild",
            Backend::Cross => "cross",
        }
    }

    /// The program that runs a build with this backend: `cargo` targets and `zig`
    /// targets share one `cargo build`.
    #[must_use]
    pub fn program(self) -> Backend {
        match self {
            Backend::Cargo | Backend::Zig => Backend::Cargo,
            b => b,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
