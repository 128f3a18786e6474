//! What to build, as the stages take it: the packages, binaries, features, targets,
//! profile and out dir a command selected. `commands` makes one from the command line
//! (the clap structs of `cli` mirror these groups, flag for flag).

#![allow(
    clippy::struct_field_names,
    reason = "the fields are cargo's own flag names: `--features`, `--all-features`, `--target`, `--manifest-path`"
)]

use camino::Utf8PathBuf;

use crate::config::BackendChoice;

/// Everything that selects what a command builds or reads.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub packages: Packages,
    pub features: Features,
    pub targets: Targets,
    pub output: Output,
    pub manifest: Manifest,
}

/// Which packages and binaries, as cargo selects them (`-p`, `--workspace`,
/// `--exclude`, `--bin`).
#[derive(Debug, Clone, Default)]
pub struct Packages {
    pub specs: Vec<String>,
    pub workspace: bool,
    pub exclude: Vec<String>,
    pub bins: Vec<String>,
}

/// `--features`, `--all-features`, `--no-default-features`.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

/// `--target`, `--platform`, `--backend`, `--target-dir`.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub targets: Vec<String>,
    pub platforms: Vec<String>,
    pub backend: Option<BackendChoice>,
    pub target_dir: Option<Utf8PathBuf>,
}

/// `--out-dir` and the profile.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub out_dir: Option<Utf8PathBuf>,
    pub profile: Option<String>,
}

impl Output {
    /// The profile to build with: `--profile`, else `release`.
    pub fn profile(&self) -> &str {
        self.profile.as_deref().unwrap_or("release")
    }
}

/// `--manifest-path`, `--locked`, `--offline`, `--frozen`.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub manifest_path: Option<Utf8PathBuf>,
    pub locked: bool,
    pub offline: bool,
    pub frozen: bool,
}
