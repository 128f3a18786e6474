//! The command line, declared with clap's derive API. No I/O happens here.

use camino::Utf8PathBuf;
use clap::{ArgAction, Args, Parser, Subcommand};

use crate::config::BackendChoice;
use crate::output::{Color, Exit, Format, Shell};
use crate::package::ArchiveMode;

mod image;
mod init;
pub use image::ImageArgs;
pub use init::InitArgs;

mod installers;

pub use installers::{BinstallArgs, InstallerArgs, MergeInstallerArgs};

/// `cargo multiarch …` as cargo runs it: `cargo-multiarch multiarch …`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap_cargo_styles())]
pub enum Cargo {
    #[command(name = "multiarch", version, author)]
    Multiarch(Cli),
}

/// Cross-build every binary of a Rust workspace for amd64 and arm64 Linux,
/// package reproducible tarballs and a checksum manifest.
#[derive(Debug, Args)]
#[command(
    about,
    long_about = None,
    after_help = after_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// The top-level help's closing lines: where to read more, and the exit statuses.
fn after_help() -> String {
    format!(
        "Run `cargo multiarch help <COMMAND>` for the options and an example of each command.\n\n{}",
        Exit::HELP
    )
}

#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Use verbose output (-vv very verbose; passed on to cargo)
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Do not print cargo log messages
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Coloring
    #[arg(long, value_enum, value_name = "WHEN", global = true)]
    pub color: Option<Color>,
}

impl GlobalArgs {
    /// The status-line shell these flags ask for.
    pub fn shell(&self) -> Shell {
        Shell::new(self.color, self.quiet, self.verbose)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show which binaries would be built for which targets, with which backend and why
    #[command(
        after_help = "Example:\n  cargo multiarch plan --platform linux/amd64,linux/arm64 --message-format json\n  cargo multiarch plan --list-targets",
        arg(unlisted_verbose()),
        arg(unlisted_quiet())
    )]
    Plan(PlanArgs),

    /// Build every selected binary for every target and stage it in `out/<os>/<arch>/bin/`
    #[command(
        after_help = "Examples:\n  cargo multiarch build\n  cargo multiarch build --platform linux/arm64 --keep-going\n  cargo multiarch build -p server --target aarch64-unknown-linux-musl --backend zig"
    )]
    Build(BuildArgs),

    /// Build (unless --no-build), then write reproducible archives, SHA256SUMS and manifest.json
    #[command(
        after_help = "Examples:\n  cargo multiarch package\n  cargo multiarch package --platform linux/arm64 --compression best\n  cargo multiarch package --no-build --archive per-target"
    )]
    Package(PackageArgs),

    /// Check an out dir against its manifest: hashes, each binary's ELF/PE/Mach-O machine per platform, static linkage, SBOMs, provenance and signatures, every expected platform present
    #[command(
        after_help = "Examples:\n  cargo multiarch verify\n  cargo multiarch verify --out-dir dist --expect linux/amd64,linux/arm64 --run",
        arg(unlisted_verbose()),
        arg(status_quiet())
    )]
    Verify(VerifyArgs),

    /// Join out dirs built on different machines (one per platform) into one, refusing conflicts and incomplete sets
    #[command(
        after_help = "Example (after native amd64 and arm64 runners each ran `cargo multiarch package --platform …`):\n  cargo multiarch merge out-amd64 out-arm64 --out-dir out --expect linux/amd64,linux/arm64",
        arg(unlisted_verbose()),
        arg(status_quiet())
    )]
    Merge(MergeArgs),

    /// Build (unless --no-build), then assemble a multi-platform OCI image; no Docker daemon
    #[command(
        after_help = "Examples:\n  cargo multiarch image --bin server --tag ghcr.io/acme/server:1.4.0 --tag latest\n  cargo multiarch image --archive --ca-certificates   # also out/image.tar, for `docker load`\n  cargo multiarch image --no-build --tag ghcr.io/acme/server:1.4.0 --platform-tags --push"
    )]
    Image(ImageArgs),

    /// Sign an out dir's SHA256SUMS and provenance with a minisign key, after verifying it
    #[command(
        after_help = "Examples:\n  cargo multiarch sign --key minisign.key\n  cargo multiarch sign --key release.key --password-file pw.txt --out-dir out\nCheck with `minisign -V -p minisign.pub -m out/SHA256SUMS` or `cargo multiarch verify --public-key minisign.pub`."
    )]
    Sign(SignArgs),

    /// Check that the tools for the selected targets are installed, and say how to fix what is missing
    #[command(
        after_help = "Example:\n  cargo multiarch doctor --target aarch64-unknown-linux-musl",
        arg(unlisted_verbose()),
        arg(status_quiet())
    )]
    Doctor(DoctorArgs),

    /// Write `.github/workflows/release.yml`: native jobs per Linux architecture, merge, verify, image and a GitHub release on tags
    #[command(
        after_help = "Examples:\n  cargo multiarch init\n  cargo multiarch init --platform linux/amd64,linux/arm64,darwin/arm64 --dry-run\n  cargo multiarch init --action cargo-multiarch/cargo-multiarch@<commit> --force",
        arg(unlisted_verbose()),
        arg(status_quiet())
    )]
    Init(InitArgs),

    /// Print a shell completion script for `cargo multiarch …`
    #[command(
        after_help = "Examples:\n  cargo multiarch completions bash > ~/.cargo-multiarch.bash   # and `source` it in ~/.bashrc\n  cargo multiarch completions zsh > ~/.zfunc/_cargo-multiarch   # a directory on $fpath\n  cargo multiarch completions fish > ~/.config/fish/conf.d/cargo-multiarch.fish",
        arg(unlisted_verbose()),
        arg(unlisted_quiet())
    )]
    Completions(CompletionsArgs),

    /// Print the man page of `cargo multiarch` or of one command, or write them all to a directory
    #[command(
        after_help = "Examples:\n  cargo multiarch man | man -l -\n  cargo multiarch man build | man -l -\n  cargo multiarch man --out-dir /usr/local/share/man/man1   # all pages",
        arg(unlisted_verbose()),
        arg(status_quiet())
    )]
    Man(ManArgs),
}

/// `-v` for a command that runs no cargo and has nothing more to say: accepted, as the
/// flag is global (`cargo multiarch -v …`), but not listed in its help.
fn unlisted_verbose() -> clap::Arg {
    clap::Arg::new("verbose")
        .short('v')
        .long("verbose")
        .action(ArgAction::Count)
        .hide(true)
}

/// `-q` for a command that prints no status line: accepted (it is global), not listed.
fn unlisted_quiet() -> clap::Arg {
    status_quiet().hide(true)
}

/// `-q` for a command that runs no cargo: its own status lines only.
fn status_quiet() -> clap::Arg {
    clap::Arg::new("quiet")
        .short('q')
        .long("quiet")
        .action(ArgAction::SetTrue)
        .conflicts_with("verbose")
        .help("Do not print status messages")
        .help_heading(None::<&str>)
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print [default: the page of `cargo multiarch` itself]
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Option<String>,

    /// Write every page (`cargo-multiarch.1` and `cargo-multiarch-<COMMAND>.1`) into this directory instead
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<Utf8PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// `json`: the plan as one JSON document on stdout (schema `cargo-multiarch/plan/v1`)
    #[arg(
        long,
        alias = "format",
        value_enum,
        default_value_t = Format::Human,
        value_name = "FMT",
        help_heading = "Output Options"
    )]
    pub message_format: Format,

    /// Print every target rustc knows, one a line (those whose rust-std is installed
    /// marked), and plan nothing
    #[arg(long, help_heading = "Output Options")]
    pub list_targets: bool,
}

/// The selection flags without the output ones (`--out-dir`, `--profile`, `--release`):
/// doctor checks tools and writes nothing.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub packages: PackageSelect,

    #[command(flatten)]
    pub features: FeatureArgs,

    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub manifest: ManifestArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

impl DoctorArgs {
    /// The selection as the commands that build take it, the output flags at their defaults.
    pub fn select(&self) -> SelectArgs {
        SelectArgs {
            packages: self.packages.clone(),
            features: self.features.clone(),
            targets: self.targets.clone(),
            output: OutputArgs::default(),
            manifest: self.manifest.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub build: BuildOptions,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

/// How a command reports what it did.
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Output Options")]
pub struct MessageArgs {
    /// `json`: one JSON event per line on stdout (schema `cargo-multiarch/event/v1`); status lines stay on stderr
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FMT")]
    pub message_format: Format,
}

/// How to wait for another run working on the same out dir.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct LockArgs {
    /// Fail at once when another run holds the out dir's lock, instead of waiting for it
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Build Options")]
pub struct BuildOptions {
    /// Do not install missing rust-std with rustup; fail with the command to run instead
    #[arg(long)]
    pub no_install: bool,

    /// Stage the targets that built even when others fail (the run still exits non-zero)
    #[arg(long)]
    pub keep_going: bool,

    /// Strip symbols from the binaries (`profile.<name>.strip = true`)
    #[arg(long)]
    pub strip: bool,

    /// Number of parallel jobs, passed to cargo
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<String>,
    /// Link each binary's dependency list into it, as `cargo auditable` does (a `.dep-v0` section)
    #[arg(long)]
    pub auditable: bool,

    /// Compile through a shared cache: `sccache` (its `SCCACHE_*` settings choose where it
    /// stores; on by default when `RUSTC_WRAPPER` names sccache)
    #[arg(long, value_name = "CACHE", env = "CARGO_MULTIARCH_CACHE")]
    pub cache: Option<crate::config::Cache>,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub build: BuildOptions,

    /// Package what `build` staged earlier (its build records) instead of building
    #[arg(long, help_heading = "Package Options")]
    pub no_build: bool,

    /// One archive per package and target, or one per target with every binary
    #[arg(long, value_enum, default_value_t = ArchiveMode::PerPackage, help_heading = "Package Options")]
    pub archive: ArchiveMode,

    /// gzip compression: fast, default, best, or a level 0-9
    #[arg(long, default_value = "default", value_parser = parse_compression, value_name = "LEVEL", help_heading = "Package Options")]
    pub compression: u32,

    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        help_heading = "Package Options",
        help = "SBOM written beside each archive: `<archive>.cdx.json` (CycloneDX 1.5) or `<archive>.spdx.json` (SPDX 2.3) [default: cyclonedx]"
    )]
    pub sbom_format: Option<crate::sbom::Format>,

    /// Write no SBOM beside the archives
    #[arg(long, conflicts_with = "sbom_format", help_heading = "Package Options")]
    pub no_sbom: bool,

    #[command(flatten)]
    pub installers: InstallerArgs,

    #[command(flatten)]
    pub binstall: BinstallArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub out: OutDirArg,

    /// Path to Cargo.toml (to find the workspace's out dir)
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,

    /// Platforms that must be present (comma list) [default: the manifest's `platforms`]
    #[arg(long, value_name = "OS/ARCH,…")]
    pub expect: Vec<String>,

    /// Run every binary (natively or under qemu-user) and report what it printed; nothing runs when any check fails
    #[arg(long)]
    pub run: bool,

    /// With --run: run the binaries that passed their own checks even when other checks failed
    #[arg(long, requires = "run")]
    pub run_anyway: bool,

    /// Arguments for `--run`
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "--version",
        allow_hyphen_values = true,
        requires = "run"
    )]
    pub run_args: String,

    /// Fail when an archive has no SBOM (`<archive>.cdx.json` or `.spdx.json`) in the manifest,
    /// or one whose crates are not its build record's dependency graph
    #[arg(long)]
    pub expect_sbom: bool,

    /// Check the minisign signatures of SHA256SUMS and the provenance with this public key
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<Utf8PathBuf>,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The minisign secret key (`minisign -G` writes one; `-W` for one without a password)
    #[arg(long, value_name = "FILE")]
    pub key: Utf8PathBuf,

    /// Read the key's password from the first line of this file [default: `$CARGO_MULTIARCH_SIGN_PASSWORD`, else a prompt]
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<Utf8PathBuf>,

    #[command(flatten)]
    pub out: OutDirArg,

    /// Path to Cargo.toml (to find the workspace's out dir)
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Out dirs to join (each with its manifest.json)
    #[arg(required = true, value_name = "DIR")]
    pub inputs: Vec<Utf8PathBuf>,

    /// Where to write the joined set
    #[arg(long, value_name = "DIR")]
    pub out_dir: Utf8PathBuf,

    /// Platforms the joined set must hold (comma list) [default: every input's platforms]
    #[arg(long, value_name = "OS/ARCH,…")]
    pub expect: Vec<String>,

    #[command(flatten)]
    pub installers: MergeInstallerArgs,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

pub(crate) fn parse_compression(s: &str) -> Result<u32, String> {
    match s {
        "fast" => Ok(1),
        "default" => Ok(6),
        "best" => Ok(9),
        n => match n.parse::<u32>() {
            Ok(n) if n <= 9 => Ok(n),
            _ => Err(format!("`{n}` is not fast, default, best or a level 0-9")),
        },
    }
}

/// What to build: the workspace, its packages and binaries, features, profile and
/// targets. Shared by every command that reads the workspace.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectArgs {
    #[command(flatten)]
    pub packages: PackageSelect,

    #[command(flatten)]
    pub features: FeatureArgs,

    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub manifest: ManifestArgs,
}

/// Which packages and binaries, as cargo selects them.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Package Selection")]
pub struct PackageSelect {
    /// Package to build (see `cargo help pkgid`; globs as cargo's: `*`, `?`, `[ab]`, `[!a]`)
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub specs: Vec<String>,

    /// Build all packages in the workspace
    #[arg(long, alias = "all")]
    pub workspace: bool,

    /// Exclude packages from the build (with --workspace)
    #[arg(long, value_name = "SPEC")]
    pub exclude: Vec<String>,

    /// Build only the named binary (repeatable)
    #[arg(long = "bin", value_name = "NAME")]
    pub bins: Vec<String>,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Feature Selection")]
pub struct FeatureArgs {
    /// Space or comma separated list of features to activate
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,

    /// Activate all available features
    #[arg(long)]
    pub all_features: bool,

    /// Do not activate the `default` feature
    #[arg(long)]
    pub no_default_features: bool,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Targets and Output")]
pub struct TargetArgs {
    /// Rust target triple to build for (repeatable or a comma list) [default: `x86_64-unknown-linux-musl`, `aarch64-unknown-linux-musl`]
    #[arg(long = "target", value_name = "TRIPLE")]
    pub targets: Vec<String>,

    /// Platform to build for, as `docker buildx --platform` takes it (comma list), e.g. linux/amd64,linux/arm64
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    pub platforms: Vec<String>,

    /// How to build each target
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<BackendChoice>,

    /// Directory for all generated artifacts of cargo
    #[arg(long, value_name = "DIRECTORY")]
    pub target_dir: Option<Utf8PathBuf>,
}

/// `--out-dir`: the out dir a command writes or reads (declared once).
#[derive(Debug, Clone, Default, Args)]
pub struct OutDirArg {
    /// The out dir [default: `out-dir` in `[workspace.metadata.multiarch]`, else out/ at the workspace root]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<Utf8PathBuf>,
}

/// Where the outputs go and which profile builds them.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Targets and Output")]
pub struct OutputArgs {
    #[command(flatten)]
    pub out: OutDirArg,

    /// Build with the given profile [default: release]
    #[arg(long, value_name = "PROFILE-NAME", conflicts_with = "release")]
    pub profile: Option<String>,

    /// Build with the release profile (the default)
    #[arg(short, long)]
    pub release: bool,
}

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Manifest Options")]
pub struct ManifestArgs {
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,

    /// Assert that `Cargo.lock` will remain unchanged
    #[arg(long)]
    pub locked: bool,

    /// Run without accessing the network
    #[arg(long)]
    pub offline: bool,

    /// Equivalent to specifying both --locked and --offline
    #[arg(long)]
    pub frozen: bool,
}

impl Command {
    /// The command's name and its `--message-format`, for those that report events.
    pub fn reporting(&self) -> Option<(&'static str, Format)> {
        let (name, output) = match self {
            Command::Build(a) => ("build", a.message),
            Command::Package(a) => ("package", a.message),
            Command::Verify(a) => ("verify", a.message),
            Command::Merge(a) => ("merge", a.message),
            Command::Image(a) => ("image", a.message),
            Command::Doctor(a) => ("doctor", a.message),
            Command::Plan(_)
            | Command::Sign(_)
            | Command::Init(_)
            | Command::Completions(_)
            | Command::Man(_) => {
                return None;
            }
        };
        Some((name, output.message_format))
    }
}

impl OutputArgs {
    pub fn profile(&self) -> &str {
        self.profile.as_deref().unwrap_or("release")
    }
}

fn clap_cargo_styles() -> clap::builder::Styles {
    use clap::builder::styling::{AnsiColor, Effects};
    clap::builder::Styles::styled()
        .header(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .usage(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .literal(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .placeholder(AnsiColor::Cyan.on_default())
        .error(AnsiColor::Red.on_default().effects(Effects::BOLD))
        .valid(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .invalid(AnsiColor::Yellow.on_default().effects(Effects::BOLD))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cargo::command().debug_assert();
    }

    fn image(args: &[&str]) -> Result<ImageArgs, clap::Error> {
        let Cargo::Multiarch(cli) =
            Cargo::try_parse_from(["cargo", "multiarch", "image"].iter().chain(args))?;
        let Command::Image(image) = cli.command else {
            panic!("not image")
        };
        Ok(image)
    }

    #[test]
    fn image_push_takes_an_optional_value_and_annotations_are_checked() {
        assert_eq!(image(&[]).unwrap().push, None);
        assert_eq!(image(&["--push", "--insecure"]).unwrap().push, Some(None));
        assert_eq!(
            image(&["--push", "ghcr.io/a/b:1"]).unwrap().push,
            Some(Some("ghcr.io/a/b:1".into()))
        );
        assert_eq!(
            image(&["--push=ghcr.io/a/b"]).unwrap().push,
            Some(Some("ghcr.io/a/b".into()))
        );
        let a = image(&["--annotation", "a.b=c=d", "--annotation", "e="]).unwrap();
        assert_eq!(
            a.annotations,
            [("a.b".into(), "c=d".into()), ("e".into(), String::new())]
        );
        for (bad, why) in [
            ("novalue", "`novalue` is not `KEY=VALUE`"),
            ("=x", "annotation key `` is empty"),
            ("a b=x", "annotation key `a b` holds whitespace"),
        ] {
            let e = image(&["--annotation", bad]).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let t = image(&["--tag", "1.0", "--tag", "latest", "--platform-tags"]).unwrap();
        assert_eq!(t.tags, ["1.0", "latest"]);
        assert!(t.platform_tags && !t.no_build);
    }

    #[test]
    fn parses_as_cargo_subcommand() {
        let Cargo::Multiarch(cli) = Cargo::try_parse_from([
            "cargo",
            "multiarch",
            "plan",
            "-p",
            "alpha",
            "--target",
            "aarch64-unknown-linux-musl,x86_64-unknown-linux-musl",
            "--platform",
            "linux/arm64",
            "--format",
            "json",
            "-vv",
        ])
        .unwrap();
        let Command::Plan(plan) = cli.command else {
            panic!("not plan")
        };
        assert_eq!(plan.select.packages.specs, ["alpha"]);
        assert_eq!(plan.select.targets.targets.len(), 1);
        assert_eq!(plan.message_format, Format::Json);
        assert_eq!(cli.global.verbose, 2);
    }
}
