//! The image part of the release contract: `oci/` holds exactly what the manifest's
//! image artifacts reach, and `index.json` names each image as the manifest records it.
//!
//! `oci/index.json` is listed (kind `oci-layout`), so its hash is in `SHA256SUMS` and
//! under its signature; every blob is named by a digest inside a listed document.
//! What this adds: each `org.opencontainers.image.ref.name` of `index.json` points at an
//! image index or manifest the manifest lists (a re-pointed tag is named), and no file
//! of `oci/` is outside what `index.json` reaches (an attacker's extra image, blob or
//! file is refused, never shipped beside a signature that does not cover it).

use crate::image::{Checked, Ref};
use crate::layout::{self, Kind};
use crate::manifest::{Artifact, Manifest};
use crate::outdir::OutDir;

/// At most this many unlisted files are named one by one; the rest are counted.
const MAX_NAMED: usize = 20;

/// Checks `oci/` and `image.tar` against the manifest; one line per problem.
pub(super) fn check(out: &OutDir, m: &Manifest, problems: &mut Vec<String>) {
    let archive = crate::outdir::RelPath::new(layout::IMAGE_ARCHIVE).expect("a plain name");
    if !matches!(out.kind(&archive), Ok(None))
        && !m.artifacts.iter().any(|a| a.kind == Kind::ImageArchive)
    {
        problems.push(format!(
            "{}: not listed in the manifest, so no hash or signature covers it (hint: run `cargo multiarch image --archive` to record it, or remove it)",
            layout::IMAGE_ARCHIVE
        ));
    }
    let in_layout: Vec<&Artifact> = m
        .artifacts
        .iter()
        .filter(|a| a.kind.is_image() && a.kind != Kind::ImageArchive)
        .collect();
    let oci = layout::oci_dir();
    match out.kind(&oci) {
        Ok(None) => return, // each listed file is reported missing on its own
        Ok(Some(_)) if in_layout.is_empty() => {
            problems.push(format!(
                "{}: an OCI image layout the manifest does not list, so no hash or signature covers it (hint: run `cargo multiarch image` to record it, or remove `{}`)",
                layout::OCI_DIR,
                out.display(&oci)
            ));
            return;
        }
        Ok(Some(_)) => {}
        Err(e) => return problems.push(format!("{}: {e:#}", layout::OCI_DIR)),
    }
    let walked = match out
        .subdir(&oci)
        .and_then(|dir| crate::image::walk_layout(dir.root()))
    {
        Ok(w) => w,
        Err(e) => return problems.push(format!("{}: {e:#}", layout::OCI_DIR)),
    };
    problems.extend(
        walked
            .problems
            .iter()
            .map(|p| format!("{}: {p}", layout::OCI_DIR)),
    );
    check_listed(&in_layout, &walked, problems);
    check_refs(&in_layout, &walked.refs, problems);
    if let Ok(dir) = out.subdir(&oci) {
        check_bases(&dir, &in_layout, problems);
    }
    match out.subdir(&oci) {
        Ok(dir) => unlisted(&dir, &walked, problems),
        Err(e) => problems.push(format!("{}: {e:#}", layout::OCI_DIR)),
    }
}

/// `index.json` and `oci-layout` are listed, and each listed blob is one `index.json`
/// reaches, filed under its own digest.
fn check_listed(in_layout: &[&Artifact], walked: &Checked, problems: &mut Vec<String>) {
    for name in [layout::OCI_INDEX, layout::OCI_LAYOUT_FILE] {
        let path = layout::in_oci(name).expect("a plain name");
        if !in_layout
            .iter()
            .any(|a| a.kind == Kind::OciLayout && a.path == path)
        {
            problems.push(format!(
                "{path}: not listed in the manifest, so no hash or signature covers the images' names (hint: run `cargo multiarch image` again to record it)"
            ));
        }
    }
    for a in in_layout {
        if a.kind == Kind::OciLayout {
            let known = [layout::OCI_INDEX, layout::OCI_LAYOUT_FILE]
                .iter()
                .any(|n| layout::in_oci(n).is_ok_and(|p| p == a.path));
            if !known {
                problems.push(format!(
                    "{}: listed as `oci-layout`, which is `{}/{}` or `{}/{}` only",
                    a.path,
                    layout::OCI_DIR,
                    layout::OCI_INDEX,
                    layout::OCI_DIR,
                    layout::OCI_LAYOUT_FILE
                ));
            }
            continue;
        }
        let blob = layout::oci_blob(a.sha256.as_str())
            .and_then(|b| layout::in_oci(b.as_str()))
            .expect("a checked digest names a blob");
        if a.path != blob {
            problems.push(format!(
                "{}: an image blob is filed under its digest, `{blob}`",
                a.path
            ));
        } else if !walked.reached.contains(a.sha256.as_str()) {
            problems.push(format!(
                "{}: listed in the manifest, but `{}/{}` does not reach it (hint: run `cargo multiarch image` again)",
                a.path,
                layout::OCI_DIR,
                layout::OCI_INDEX
            ));
        }
    }
}

/// Each entry of `index.json` is named and points at an image index or manifest the
/// manifest lists (a name the manifest records for one image points at that image);
/// each image index the manifest lists is named there by its recorded name.
fn check_refs(in_layout: &[&Artifact], refs: &[Ref], problems: &mut Vec<String>) {
    let index_json = format!("{}/{}", layout::OCI_DIR, layout::OCI_INDEX);
    let images: Vec<&&Artifact> = in_layout
        .iter()
        .filter(|a| matches!(a.kind, Kind::OciIndex | Kind::OciManifest))
        .collect();
    let listed = |digest: &str| {
        images
            .iter()
            .find(|a| Some(a.sha256.as_str()) == digest.strip_prefix("sha256:"))
    };
    for r in refs {
        let Some(name) = &r.name else {
            problems.push(format!(
                "{index_json}: the entry for `{}` has no `{}`: every image it lists is named (hint: run `cargo multiarch image` again)",
                crate::limits::shown(&r.digest),
                crate::image::REF_NAME_ANNOTATION
            ));
            continue;
        };
        let recorded = images
            .iter()
            .find(|a| a.kind == Kind::OciIndex && a.reference.as_deref() == Some(name.as_str()));
        match (recorded, listed(&r.digest)) {
            (Some(a), _) if Some(a.sha256.as_str()) != r.digest.strip_prefix("sha256:") => {
                problems.push(format!(
                    "{index_json}: `{}` points at `{}`, but the manifest records image `{}` as `sha256:{}` (hint: the tag was re-pointed; run `cargo multiarch image` again, and publish nothing from this out dir until then)",
                    crate::limits::shown(name),
                    crate::limits::shown(&r.digest),
                    crate::limits::shown(name),
                    a.sha256
                ));
            }
            (_, None) => problems.push(format!(
                "{index_json}: `{}` points at `{}`, which the manifest does not list as an image index or manifest (hint: remove what added it, then run `cargo multiarch image` again)",
                crate::limits::shown(name),
                crate::limits::shown(&r.digest)
            )),
            _ => {}
        }
    }
    for a in images.iter().filter(|a| a.kind == Kind::OciIndex) {
        let Some(name) = &a.reference else {
            problems.push(format!(
                "{}: an image index with no `reference` (its name) in the manifest",
                a.path
            ));
            continue;
        };
        let named = refs.iter().any(|r| {
            r.name.as_deref() == Some(name.as_str())
                && r.digest.strip_prefix("sha256:") == Some(a.sha256.as_str())
        });
        if !named {
            problems.push(format!(
                "{index_json}: does not name image `{name}` `sha256:{}`, which the manifest records (hint: run `cargo multiarch image` again)",
                a.sha256
            ));
        }
    }
}

/// Each image manifest names the base the manifest records for it (its
/// `org.opencontainers.image.base.name` and `.digest`), and none names a base the
/// manifest does not record.
fn check_bases(dir: &OutDir, in_layout: &[&Artifact], problems: &mut Vec<String>) {
    use crate::image::{BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION};
    for a in in_layout.iter().filter(|a| a.kind == Kind::OciManifest) {
        let Ok(rel) = layout::oci_blob(a.sha256.as_str()) else {
            continue;
        };
        // A missing or corrupt blob is the walk's to report.
        let Ok(doc) = dir
            .read(&rel, crate::limits::MAX_OCI_JSON_BYTES)
            .and_then(|b| Ok(serde_json::from_slice::<serde_json::Value>(&b)?))
        else {
            continue;
        };
        let named = |key: &str| doc["annotations"][key].as_str().map(str::to_owned);
        let in_manifest = (named(BASE_NAME_ANNOTATION), named(BASE_DIGEST_ANNOTATION));
        let recorded = a
            .base
            .as_ref()
            .map(|b| (Some(b.name.clone()), Some(b.digest.clone())));
        let recorded = recorded.unwrap_or((None, None));
        if in_manifest != recorded {
            let show = |(n, d): &(Option<String>, Option<String>)| match (n, d) {
                (None, None) => "no base".to_owned(),
                (n, d) => format!(
                    "base `{}` `{}`",
                    crate::limits::shown(n.as_deref().unwrap_or("(none)")),
                    crate::limits::shown(d.as_deref().unwrap_or("(none)"))
                ),
            };
            problems.push(format!(
                "{}: the image manifest names {}, but the manifest records {} (hint: run `cargo multiarch image` again)",
                a.path,
                show(&in_manifest),
                show(&recorded)
            ));
        }
    }
}

/// What a directory entry is, read without following a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    File,
    Dir,
    /// A symlink, FIFO, socket or device: never part of a layout.
    Other,
}

/// The entries of `dir` (names shown escaped, whatever bytes they hold), or why it
/// cannot be read.
fn entries(dir: &camino::Utf8Path) -> std::io::Result<Vec<(String, Entry)>> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        let kind = if t.is_file() {
            Entry::File
        } else if t.is_dir() {
            Entry::Dir
        } else {
            Entry::Other
        };
        found.push((e.file_name().to_string_lossy().into_owned(), kind));
    }
    Ok(found)
}

/// Every file of `oci/` is `oci-layout`, `index.json`, or a blob `index.json` reaches;
/// only `blobs/` and `blobs/sha256/` are directories. Nothing is followed.
fn unlisted(dir: &OutDir, walked: &Checked, problems: &mut Vec<String>) {
    let expected = |at: &str, name: &str, kind: Entry| match (at, name) {
        ("", n) if n == layout::OCI_INDEX || n == layout::OCI_LAYOUT_FILE => kind == Entry::File,
        ("", "blobs") | ("blobs", "sha256") => kind == Entry::Dir,
        (at, hex) if at == layout::OCI_BLOBS => kind == Entry::File && walked.reached.contains(hex),
        _ => false,
    };
    let mut extra: Vec<String> = Vec::new();
    // Down to `blobs/sha256` through real directories only: a symlink is never listed.
    for at in ["", "blobs", layout::OCI_BLOBS] {
        let path = if at.is_empty() {
            dir.root().to_owned()
        } else {
            dir.root().join(at)
        };
        let found = match entries(&path) {
            Ok(found) => found,
            Err(e) => {
                problems.push(format!("{}/{at}: cannot be listed: {e}", layout::OCI_DIR));
                break;
            }
        };
        let mut deeper = false;
        for (name, kind) in found {
            if !expected(at, &name, kind) {
                let name = crate::limits::shown(&name).clone();
                extra.push(if at.is_empty() {
                    name
                } else {
                    format!("{at}/{name}")
                });
            } else if kind == Entry::Dir {
                deeper = true;
            }
        }
        if !deeper && at != layout::OCI_BLOBS {
            break;
        }
    }
    extra.sort();
    for path in extra.iter().take(MAX_NAMED) {
        problems.push(format!(
            "{}/{path}: not part of the release: no image the manifest lists reaches it (hint: remove it, then run `cargo multiarch image` again)",
            layout::OCI_DIR
        ));
    }
    if extra.len() > MAX_NAMED {
        problems.push(format!(
            "{}: {} more file(s) that no image the manifest lists reaches",
            layout::OCI_DIR,
            extra.len() - MAX_NAMED
        ));
    }
}
