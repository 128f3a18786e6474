//! The flags of the installers (`package`, `merge`) and of the binstall table.

use camino::Utf8PathBuf;
use clap::Args;

/// `--installers`, `--download-url`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Installers")]
pub struct InstallerArgs {
    /// Write `<name>-installer.sh` and `<name>-installer.ps1`, which download, check and install the archive of the machine they run on [default: `installers` in `[workspace.metadata.multiarch]`]
    #[arg(long)]
    pub installers: bool,

    /// Where the installers download the archives from (`<URL><archive file name>`); `{version}` and `{tag}` (`v{version}`) expand [default: `download-url` in `[workspace.metadata.multiarch]`]
    #[arg(long, value_name = "URL")]
    pub download_url: Option<String>,
}

/// `package --binstall-metadata`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Installers")]
pub struct BinstallArgs {
    /// Print the `[package.metadata.binstall]` table of each package for these archives' names and `--download-url`, then exit (builds nothing)
    #[arg(long)]
    pub binstall_metadata: bool,

    /// With --binstall-metadata: the minisign public key `sign` signs with, for binstall's `signing` table
    #[arg(long, value_name = "FILE", requires = "binstall_metadata")]
    pub public_key: Option<Utf8PathBuf>,
}
