//! The flags of the installers (`package`, `merge`) and of the binstall table.

use camino::Utf8PathBuf;
use clap::Args;

/// `package --installers`, `--download-url`.
#[derive(Debug, Clone, Default, Args)]
pub struct InstallerArgs {
    /// Write `<name>-installer.sh` and `<name>-installer.ps1`, which download, check and install the archive of the machine they run on [default: `installers` in `[workspace.metadata.multiarch]`]
    #[arg(long, help_heading = "Installers")]
    pub installers: bool,

    /// Where the installers download the archives from (`<URL><archive file name>`); `{version}` and `{tag}` (`v{version}`) expand [default: `download-url` in `[workspace.metadata.multiarch]`]
    #[arg(long, value_name = "URL", help_heading = "Installers")]
    pub download_url: Option<String>,
}

/// `merge --installers`, `--download-url`.
#[derive(Debug, Clone, Default, Args)]
pub struct MergeInstallerArgs {
    /// Write the installers of every archive set even when no input has any (needs --download-url) [default: for each set an input has installers for]
    #[arg(long, help_heading = "Installers")]
    pub installers: bool,

    /// Where the installers download the archives from; `{version}` and `{tag}` (`v{version}`) expand [default: the URL the inputs' installers name]
    #[arg(long, value_name = "URL", help_heading = "Installers")]
    pub download_url: Option<String>,
}

/// `package --binstall-metadata`.
#[derive(Debug, Clone, Default, Args)]
pub struct BinstallArgs {
    /// Print the `[package.metadata.binstall]` table of each package for these archives' names and `--download-url`, then exit (builds nothing)
    #[arg(long, help_heading = "Installers")]
    pub binstall_metadata: bool,

    /// With --binstall-metadata: the minisign public key `sign` signs with, for binstall's `signing` table
    #[arg(
        long,
        value_name = "FILE",
        requires = "binstall_metadata",
        help_heading = "Installers"
    )]
    pub public_key: Option<Utf8PathBuf>,
}
