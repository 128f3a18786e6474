//! `cargo multiarch image`'s arguments.

use clap::Args;

use super::{BuildOptions, LockArgs, MessageArgs, SelectArgs, parse_compression};

#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub build: BuildOptions,

    /// Use what `build` or `package` staged earlier (its build records) instead of building
    #[arg(long, help_heading = "Image Options")]
    pub no_build: bool,

    /// Name the image `NAME:TAG`, or `TAG` under its name (repeatable; a bare TAG takes the name of the first NAME:TAG) [default: `<binary>:<version>`]
    #[arg(
        long = "tag",
        value_name = "[NAME:]TAG",
        help_heading = "Image Options"
    )]
    pub tags: Vec<String>,

    /// Also tag each platform's own image `<tag>-<os>-<arch>[-<variant>]` (e.g. `1.4.0-linux-arm64`), in the layout and on push
    #[arg(long, help_heading = "Image Options")]
    pub platform_tags: bool,

    /// Annotation on the image index and every image manifest (repeatable; wins over `annotations` in `[…metadata.multiarch.image]`)
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_parser = parse_annotation, help_heading = "Image Options")]
    pub annotations: Vec<(String, String)>,

    /// Add Mozilla's CA certificates as `/etc/ssl/certs/ca-certificates.crt`, a layer of its own (from the pinned `webpki-root-certs` crate; no network)
    #[arg(long, help_heading = "Image Options")]
    pub ca_certificates: bool,

    /// One image with every selected binary, instead of one image per binary
    #[arg(long, help_heading = "Image Options")]
    pub combined: bool,

    /// Put the binaries on top of this image instead of scratch: a registry reference (`REGISTRY/NAME:TAG`, `…@sha256:…`), `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` or `docker-archive:FILE[:NAME:TAG]` [default: `base` in `[…metadata.multiarch.image]`]
    #[arg(long, value_name = "REF", help_heading = "Image Options")]
    pub base: Option<String>,

    /// Also write `out/image.tar`: the OCI layout plus Docker's manifest.json, so `docker load` takes it
    #[arg(long, help_heading = "Image Options")]
    pub archive: bool,

    /// Attach no provenance or SBOM attestation manifests (for tools that refuse in-toto layers)
    #[arg(long, help_heading = "Image Options")]
    pub no_attest: bool,

    /// gzip compression of the layers: fast, default, best, or a level 0-9
    #[arg(long, default_value = "default", value_parser = parse_compression, value_name = "LEVEL", help_heading = "Image Options")]
    pub compression: u32,

    /// Push (OCI distribution API): alone, every tag to the registry it names; with a value, the one image to REGISTRY/NAME under TAG, else under each of its tags
    #[arg(
        long,
        value_name = "REGISTRY/NAME[:TAG]",
        help_heading = "Push Options"
    )]
    #[allow(
        clippy::option_option,
        reason = "clap's optional value: absent, `--push`, or `--push REF`"
    )]
    pub push: Option<Option<String>>,

    /// Registry user name [default: from the Docker config, `~/.docker/config.json`]
    #[arg(long, requires = "push", help_heading = "Push Options")]
    pub username: Option<String>,

    /// Registry password or token
    #[arg(
        long,
        env = "CARGO_MULTIARCH_REGISTRY_PASSWORD",
        hide_env_values = true,
        requires = "push",
        help_heading = "Push Options"
    )]
    pub password: Option<String>,

    /// Read the registry password from standard input
    #[arg(
        long,
        requires = "push",
        conflicts_with = "password",
        help_heading = "Push Options"
    )]
    pub password_stdin: bool,

    /// Use plain HTTP, to the registries (pushed to, or the base's) and their token servers (meant for localhost: other hosts get a warning)
    #[arg(long, help_heading = "Push Options")]
    pub insecure: bool,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub message: MessageArgs,
}

/// `KEY=VALUE` of `--annotation`, the key checked like the config's (see
/// [`crate::config::annotation_key_problem`]).
fn parse_annotation(s: &str) -> Result<(String, String), String> {
    let Some((key, value)) = s.split_once('=') else {
        return Err(format!("`{s}` is not `KEY=VALUE`"));
    };
    if let Some(problem) = crate::config::annotation_key_problem(key) {
        return Err(format!("annotation key `{}` {problem}", key.escape_debug()));
    }
    Ok((key.to_owned(), value.to_owned()))
}
