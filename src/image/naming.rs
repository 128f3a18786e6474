//! Which images `image` assembles and what they are called: one per binary (or one
//! combined), shaped by the `[….metadata.multiarch.image]` tables; their names from
//! `--tag`; and where `--push` sends each name. Everything here is decided before
//! anything is built or written.
//!
//! Names: a `--tag NAME:TAG` is used as given; a bare `--tag TAG` takes the name of the
//! first `NAME:TAG`, else the image's default name (`[…image] name`, else the binary's).
//! Without `--tag`, an image is `<name>:<version>`. With `--platform-tags`, every name
//! also names each platform's manifest: `<name>-<os>-<arch>[-<variant>]`.
//!
//! Push: `--push` alone sends every name to the registry it names (`REGISTRY/NAME:TAG`;
//! a name with no registry is Docker Hub's, as for `docker push`). `--push
//! REGISTRY/NAME:TAG` sends the one image there, under that tag only; `--push
//! REGISTRY/NAME` under each of the image's tags. Platform names follow their image's.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use camino::Utf8PathBuf;

use super::reference::{Reference, tag_ok};
use crate::config::ImageConfig;
use crate::oci::check_ref_name;
use crate::plan::Plan;
use crate::platform::Platform;

/// One image to assemble: its names and the binaries in it.
pub(super) struct Planned {
    /// The main name first.
    pub names: Vec<String>,
    pub binaries: Vec<String>,
    pub config: ImageConfig,
    /// Directory the config's `files` are relative to.
    pub base: Utf8PathBuf,
    pub version: String,
    pub repository: Option<String>,
}

/// What `--tag` gave.
enum Tag<'a> {
    /// `NAME:TAG`: the whole name.
    Named(&'a str),
    /// `TAG`: a tag under the image's name.
    Bare(&'a str),
}

impl<'a> Tag<'a> {
    fn parse(s: &'a str) -> Result<Self> {
        match s.rsplit_once(':') {
            Some((_, tag)) if !tag.contains('/') => {
                check_ref_name(s)?;
                if !tag_ok(tag) {
                    bail!(
                        "`--tag {s}`: tag `{tag}` must be up to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-` (hint: e.g. `--tag {}:1.4.0`)",
                        s.rsplit_once(':').map_or(s, |(n, _)| n)
                    );
                }
                Ok(Tag::Named(s))
            }
            _ if s.contains('/') => bail!(
                "`--tag {s}` names an image but no tag (hint: add one, e.g. `--tag {s}:1.4.0`)"
            ),
            _ => {
                if !tag_ok(s) {
                    bail!(
                        "`--tag {s}` is neither `NAME:TAG` nor a tag of up to 128 letters, digits, `_`, `.` or `-` not starting with `.` or `-` (hint: e.g. `--tag 1.4.0` or `--tag ghcr.io/acme/app:1.4.0`)"
                    );
                }
                Ok(Tag::Bare(s))
            }
        }
    }
}

/// The images to assemble for `plan`, named by `tags` (`--tag` values).
pub(super) fn plan_images(plan: &Plan, tags: &[String], combined: bool) -> Result<Vec<Planned>> {
    let ws = &plan.workspace;
    let mut bins: Vec<(String, String)> = Vec::new(); // (package, binary) in plan order
    for e in &plan.entries {
        if !bins.iter().any(|(p, b)| *p == e.package && *b == e.binary) {
            bins.push((e.package.clone(), e.binary.clone()));
        }
    }
    let combined = combined || ws.config.image.combined == Some(true);
    let merged = |pkg: Option<&str>| -> (ImageConfig, Utf8PathBuf) {
        let p = pkg.and_then(|name| ws.packages.iter().find(|p| p.name == name));
        match p {
            Some(p) if p.config.image != ImageConfig::default() => {
                (overlay(&ws.config.image, &p.config.image), p.dir.clone())
            }
            _ => (ws.config.image.clone(), ws.root.clone()),
        }
    };
    let mut out = Vec::new();
    if combined {
        let (config, base) = merged(None);
        let name = config.name.clone().unwrap_or_else(|| ws.name.clone());
        out.push(Planned {
            names: vec![format!("{name}:{}", ws.version)],
            binaries: bins.iter().map(|(_, b)| b.clone()).collect(),
            config,
            base,
            version: ws.version.clone(),
            repository: ws.packages.first().and_then(|p| p.repository.clone()),
        });
    } else {
        for (pkg, bin) in &bins {
            let (config, base) = merged(Some(pkg));
            let p = ws
                .packages
                .iter()
                .find(|p| &p.name == pkg)
                .expect("entries come from packages");
            // A package's own image name is for its (first) binary; others keep theirs.
            let name = match &config.name {
                Some(n) if p.bins.len() == 1 || p.bins.first() == Some(bin) => n.clone(),
                _ => bin.clone(),
            };
            out.push(Planned {
                names: vec![format!("{name}:{}", p.version)],
                binaries: vec![bin.clone()],
                config,
                base,
                version: p.version.clone(),
                repository: p.repository.clone(),
            });
        }
    }
    name_images(&mut out, tags)?;
    Ok(out)
}

/// Replaces the default names with those `tags` give.
fn name_images(images: &mut [Planned], tags: &[String]) -> Result<()> {
    let parsed: Vec<Tag> = tags.iter().map(|t| Tag::parse(t)).collect::<Result<_>>()?;
    let first_named = parsed.iter().find_map(|t| match t {
        Tag::Named(n) => Some(*n),
        Tag::Bare(_) => None,
    });
    if let Some(named) = first_named
        && images.len() != 1
    {
        bail!(
            "`--tag {named}` names one image, and {} would be assembled ({}) (hint: pick one with `--bin NAME`, pass `--combined`, or give only the tag: `--tag {}`)",
            images.len(),
            images
                .iter()
                .map(|p| p.names[0].as_str())
                .collect::<Vec<_>>()
                .join(", "),
            named.rsplit_once(':').map_or(named, |(_, t)| t)
        );
    }
    if parsed.is_empty() {
        return Ok(());
    }
    for image in images {
        let name = first_named
            .unwrap_or(&image.names[0])
            .rsplit_once(':')
            .map(|(name, _)| name.to_owned())
            .expect("every name has a tag");
        let mut names: Vec<String> = Vec::new();
        for t in &parsed {
            let full = match t {
                Tag::Named(n) => (*n).to_owned(),
                Tag::Bare(tag) => format!("{name}:{tag}"),
            };
            check_ref_name(&full)?;
            if !names.contains(&full) {
                names.push(full);
            }
        }
        image.names = names;
    }
    Ok(())
}

/// The package's image table over the workspace's, key by key.
fn overlay(ws: &ImageConfig, pkg: &ImageConfig) -> ImageConfig {
    ImageConfig {
        name: pkg.name.clone().or_else(|| ws.name.clone()),
        bin_dir: pkg.bin_dir.clone().or_else(|| ws.bin_dir.clone()),
        entrypoint: pkg.entrypoint.clone().or_else(|| ws.entrypoint.clone()),
        cmd: pkg.cmd.clone().or_else(|| ws.cmd.clone()),
        env: if pkg.env.is_empty() {
            ws.env.clone()
        } else {
            pkg.env.clone()
        },
        labels: ws
            .labels
            .clone()
            .into_iter()
            .chain(pkg.labels.clone())
            .collect(),
        user: pkg.user.clone().or_else(|| ws.user.clone()),
        workdir: pkg.workdir.clone().or_else(|| ws.workdir.clone()),
        files: if pkg.files.is_empty() {
            ws.files.clone()
        } else {
            pkg.files.clone()
        },
        combined: pkg.combined.or(ws.combined),
        annotations: ws
            .annotations
            .clone()
            .into_iter()
            .chain(pkg.annotations.clone())
            .collect(),
        ca_certificates: pkg.ca_certificates.or(ws.ca_certificates),
        base: pkg.base.clone().or_else(|| ws.base.clone()),
    }
}

/// One repository a push goes to, and the tags it gets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTo {
    /// `REGISTRY/NAME` (the registry as written, or `docker.io`).
    pub repository: String,
    pub reference: Reference,
    /// Each tag with what it names: the image index (`None`), or the image manifest
    /// of the image's platform at that position (`Some(i)`). Index tags come last, so
    /// the multi-platform tag moves only once everything else is in place.
    pub tags: Vec<(String, Option<usize>)>,
}

/// Where `--push` (`push`: its value, if any) sends each image, given each image's
/// names and platforms (in manifest order); `(image position, destination)`.
pub(super) fn push_plan(
    images: &[(&[String], &[Platform])],
    push: Option<&str>,
    platform_tags: bool,
) -> Result<Vec<(usize, PushTo)>> {
    let mut plan: Vec<(usize, PushTo)> = Vec::new();
    let mut add = |image: usize, reference: Reference, what: Option<usize>| {
        let repository = format!("{}/{}", reference.registry, reference.name);
        let tag = (reference.tag.clone(), what);
        match plan
            .iter_mut()
            .find(|(i, p)| *i == image && p.repository == repository)
        {
            Some((_, p)) => {
                if !p.tags.contains(&tag) {
                    p.tags.push(tag);
                }
            }
            None => plan.push((
                image,
                PushTo {
                    repository,
                    reference,
                    tags: vec![tag],
                },
            )),
        }
    };
    match push {
        None => {
            for (i, (names, platforms)) in images.iter().enumerate() {
                for name in *names {
                    let reference = registry_reference(name)?;
                    if platform_tags {
                        for (m, p) in platforms.iter().enumerate() {
                            let pname = super::platform_name(name, p);
                            add(i, registry_reference(&pname)?, Some(m));
                        }
                    }
                    add(i, reference, None);
                }
            }
        }
        Some(value) => {
            let [(names, platforms)] = images else {
                bail!(
                    "`--push {value}` needs exactly one image, and {} would be assembled (hint: pick one with `--bin NAME`, pass `--combined`, or use `--push` alone to push every image to the registry its `--tag` names)",
                    images.len()
                );
            };
            let target = Reference::parse(value)?;
            let tags: Vec<String> = if target.tagged {
                vec![target.tag.clone()]
            } else {
                names
                    .iter()
                    .map(|n| n.rsplit_once(':').map_or("latest", |(_, t)| t).to_owned())
                    .collect()
            };
            let repo = value
                .rsplit_once(':')
                .filter(|_| target.tagged)
                .map_or(value, |(r, _)| r);
            for tag in &tags {
                let full = format!("{repo}:{tag}");
                if platform_tags {
                    for (m, p) in platforms.iter().enumerate() {
                        add(
                            0,
                            Reference::parse(&super::platform_name(&full, p))?,
                            Some(m),
                        );
                    }
                }
                add(0, Reference::parse(&full)?, None);
            }
        }
    }
    for (_, p) in &mut plan {
        // Platform tags first, then the index's, each in the order given.
        let (platform, index): (Vec<_>, Vec<_>) =
            p.tags.iter().cloned().partition(|(_, w)| w.is_some());
        p.tags = platform.into_iter().chain(index).collect();
    }
    Ok(plan)
}

/// An image name as a push destination, refusing a bare name that `docker push` would
/// send to Docker Hub's official images (`alpha:0.3.0` → `docker.io/library/alpha`).
fn registry_reference(name: &str) -> Result<Reference> {
    let reference = Reference::parse(name)?;
    let bare = !name.rsplit_once(':').map_or(name, |(n, _)| n).contains('/');
    if bare {
        bail!(
            "`--push` would send `{name}` to Docker Hub's official images (`docker.io/library/…`): it names no registry (hint: name the image with `--tag REGISTRY/NAME:TAG` or `name` in `[…metadata.multiarch.image]`, or push with `--push REGISTRY/NAME`)"
        );
    }
    Ok(reference)
}

/// The annotations of an image: the defaults (`org.opencontainers.image.*`), then the
/// config's, then the command line's; a later value wins for the same key.
pub(super) fn annotations(
    defaults: &BTreeMap<String, String>,
    config: &BTreeMap<String, String>,
    cli: &[(String, String)],
) -> BTreeMap<String, String> {
    let mut all = defaults.clone();
    all.extend(config.clone());
    all.extend(cli.iter().cloned());
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_base_wins_over_the_workspace_base() {
        let ws = ImageConfig {
            base: Some("127.0.0.1:5000/base:1".to_owned()),
            ..ImageConfig::default()
        };
        let own = ImageConfig {
            base: Some("oci:python:3.12".to_owned()),
            ..ImageConfig::default()
        };
        assert_eq!(overlay(&ws, &own).base.as_deref(), Some("oci:python:3.12"));
        assert_eq!(
            overlay(&ws, &ImageConfig::default()).base.as_deref(),
            Some("127.0.0.1:5000/base:1")
        );
    }

    fn planned(name: &str) -> Planned {
        Planned {
            names: vec![name.to_owned()],
            binaries: vec![],
            config: ImageConfig::default(),
            base: Utf8PathBuf::new(),
            version: "0.3.0".to_owned(),
            repository: None,
        }
    }

    fn named(images: &[&str], tags: &[&str]) -> Result<Vec<Vec<String>>> {
        let mut images: Vec<Planned> = images.iter().map(|n| planned(n)).collect();
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        name_images(&mut images, &tags)?;
        Ok(images.into_iter().map(|p| p.names).collect())
    }

    #[test]
    fn tags_name_images() {
        assert_eq!(named(&["alpha:0.3.0"], &[]).unwrap(), [["alpha:0.3.0"]]);
        assert_eq!(
            named(&["alpha:0.3.0", "beta:0.3.0"], &["1.0", "latest", "1.0"]).unwrap(),
            [["alpha:1.0", "alpha:latest"], ["beta:1.0", "beta:latest"]]
        );
        // A bare tag takes the name of the first NAME:TAG, wherever it is.
        assert_eq!(
            named(
                &["alpha:0.3.0"],
                &["latest", "ghcr.io/acme/app:1.4.0", "localhost:5000/x:2"]
            )
            .unwrap(),
            [[
                "ghcr.io/acme/app:latest",
                "ghcr.io/acme/app:1.4.0",
                "localhost:5000/x:2"
            ]]
        );
        let e = named(&["alpha:0.3.0", "beta:0.3.0"], &["1.0", "acme/app:1.0"])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("`--tag acme/app:1.0` names one image, and 2 would be assembled (alpha:0.3.0, beta:0.3.0)"),
            "{e}"
        );
        for (bad, want) in [
            (
                "ghcr.io/acme/app",
                "names an image but no tag (hint: add one, e.g. `--tag ghcr.io/acme/app:1.4.0`)",
            ),
            ("localhost:5000/app", "names an image but no tag"),
            (".x", "is neither `NAME:TAG` nor a tag"),
            ("a b", "is neither"),
            ("app:", "is not a valid OCI reference name"),
        ] {
            let e = format!("{:#}", named(&["alpha:0.3.0"], &[bad]).unwrap_err());
            assert!(e.contains(want), "{bad}: {e}");
        }
    }

    fn tags(plan: &[(usize, PushTo)]) -> Vec<String> {
        plan.iter()
            .flat_map(|(i, p)| {
                p.tags.iter().map(move |(t, w)| {
                    let what = w.map_or("index".to_owned(), |m| format!("manifest {m}"));
                    format!("{i} {}:{t} {what}", p.repository)
                })
            })
            .collect()
    }

    #[test]
    fn push_goes_where_the_names_or_the_value_say() {
        let platforms = [
            Platform::parse("linux/amd64").unwrap(),
            Platform::parse("linux/arm/v7").unwrap(),
        ];
        let names = [
            "ghcr.io/acme/app:1.4.0".to_owned(),
            "ghcr.io/acme/app:latest".to_owned(),
        ];
        let one = [(&names[..], &platforms[..])];
        // `--push` alone: every name, platform tags first, then the index tags.
        assert_eq!(
            tags(&push_plan(&one, None, true).unwrap()),
            [
                "0 ghcr.io/acme/app:1.4.0-linux-amd64 manifest 0",
                "0 ghcr.io/acme/app:1.4.0-linux-arm-v7 manifest 1",
                "0 ghcr.io/acme/app:latest-linux-amd64 manifest 0",
                "0 ghcr.io/acme/app:latest-linux-arm-v7 manifest 1",
                "0 ghcr.io/acme/app:1.4.0 index",
                "0 ghcr.io/acme/app:latest index",
            ]
        );
        // `--push REF:TAG`: that tag only (as before); `--push REF`: the image's tags.
        assert_eq!(
            tags(&push_plan(&one, Some("127.0.0.1:5000/x/y:v1"), false).unwrap()),
            ["0 127.0.0.1:5000/x/y:v1 index"]
        );
        assert_eq!(
            tags(&push_plan(&one, Some("127.0.0.1:5000/x/y"), true).unwrap()),
            [
                "0 127.0.0.1:5000/x/y:1.4.0-linux-amd64 manifest 0",
                "0 127.0.0.1:5000/x/y:1.4.0-linux-arm-v7 manifest 1",
                "0 127.0.0.1:5000/x/y:latest-linux-amd64 manifest 0",
                "0 127.0.0.1:5000/x/y:latest-linux-arm-v7 manifest 1",
                "0 127.0.0.1:5000/x/y:1.4.0 index",
                "0 127.0.0.1:5000/x/y:latest index",
            ]
        );
        // Names in two registries: one push each.
        let two = [
            "ghcr.io/acme/app:1".to_owned(),
            "quay.io/acme/app:1".to_owned(),
        ];
        let plan = push_plan(&[(&two[..], &platforms[..1])], None, false).unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[1].1.reference.registry, "quay.io");

        let bare = ["alpha:0.3.0".to_owned()];
        let e = push_plan(&[(&bare[..], &platforms[..])], None, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("names no registry (hint: name the image with `--tag REGISTRY/NAME:TAG`"),
            "{e}"
        );
        let e = push_plan(
            &[(&names[..], &platforms[..]), (&bare[..], &platforms[..])],
            Some("ghcr.io/a/b:1"),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("needs exactly one image, and 2 would be assembled"),
            "{e}"
        );
        // A platform tag past 128 characters is refused before anything is pushed.
        let long = [format!("ghcr.io/acme/app:{}", "v".repeat(120))];
        let e = format!(
            "{:#}",
            push_plan(&[(&long[..], &platforms[..])], None, true).unwrap_err()
        );
        assert!(e.contains("must be up to 128"), "{e}");
        assert!(push_plan(&[(&long[..], &platforms[..])], None, false).is_ok());
    }

    #[test]
    fn annotations_later_wins() {
        let d = BTreeMap::from([
            ("a".to_owned(), "default".to_owned()),
            ("b".to_owned(), "default".to_owned()),
        ]);
        let c = BTreeMap::from([
            ("b".to_owned(), "config".to_owned()),
            ("c".to_owned(), "config".to_owned()),
        ]);
        let all = annotations(&d, &c, &[("c".to_owned(), "cli".to_owned())]);
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            [
                ("a".into(), "default".into()),
                ("b".into(), "config".into()),
                ("c".into(), "cli".into())
            ]
        );
    }
}
