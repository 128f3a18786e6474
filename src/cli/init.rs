//! `cargo multiarch init`'s arguments.

use camino::Utf8PathBuf;
use clap::Args;

use crate::workflow::ActionRef;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Rust target triple to build for (repeatable or a comma list) [default: the workspace's targets]
    #[arg(long = "target", value_name = "TRIPLE")]
    pub targets: Vec<String>,

    /// Platform to build for, as `docker buildx --platform` takes it (comma list), e.g. linux/amd64,linux/arm64
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    pub platforms: Vec<String>,

    /// The action the workflow uses, `OWNER/REPO@REF` (a tag, or a commit to pin it) [default: this version's release of cargo-multiarch's own]
    #[arg(long, value_name = "OWNER/REPO@REF", value_parser = parse_action)]
    pub action: Option<ActionRef>,

    /// Overwrite an existing `.github/workflows/release.yml`
    #[arg(long)]
    pub force: bool,

    /// Print the workflow instead of writing anything
    #[arg(long)]
    pub dry_run: bool,

    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,
}

fn parse_action(s: &str) -> Result<ActionRef, String> {
    ActionRef::parse(s).map_err(|e| e.to_string())
}
