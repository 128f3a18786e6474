//! A base image's root filesystem as its layers make it, read from the layers' tar
//! headers only (no file is unpacked): what is a file, a directory or a link after
//! each layer's whiteouts (`.wh.NAME`, `.wh..wh..opq`) hide what lies below. Used to
//! check that a dynamically linked binary's ELF interpreter is in the base.

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::{Context as _, Result, bail};
use camino::Utf8PathBuf;

use super::Descriptor;

/// Entries read per layer, at most (a distribution's base has tens of thousands).
const MAX_ENTRIES: usize = 1 << 20;
/// Symlinks followed per lookup, at most (Linux's limit).
const MAX_HOPS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File,
    /// A symlink, with its target as written.
    Symlink(String),
    /// A hard link to another path of the layers.
    Hardlink(String),
}

/// Paths (relative, no leading `/`) to what the layers leave there.
#[derive(Debug, Default)]
pub(super) struct RootFs {
    nodes: BTreeMap<String, Node>,
}

/// `a/./b/` → `a/b`.
fn clean(path: &str) -> String {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

impl RootFs {
    /// Reads the layers, bottom first; each is a gzip'd or plain tar (anything else is
    /// an error naming its media type).
    pub(super) fn read(layers: &[(Descriptor, Utf8PathBuf)]) -> Result<Self> {
        let mut fs = Self::default();
        for (d, path) in layers {
            let file = crate::fs::open_regular(path)?;
            let reader: Box<dyn Read> = if d.media_type.ends_with("+gzip") {
                Box::new(flate2::read::GzDecoder::new(file))
            } else if matches!(
                d.media_type.as_str(),
                "application/vnd.oci.image.layer.v1.tar"
                    | "application/vnd.docker.image.rootfs.diff.tar"
            ) {
                Box::new(file)
            } else {
                bail!(
                    "layer `{}` is `{}`, which cannot be read here",
                    d.digest,
                    d.media_type
                );
            };
            fs.apply(reader)
                .with_context(|| format!("could not read the base's layer `{}`", d.digest))?;
        }
        Ok(fs)
    }

    /// One layer on top: its whiteouts remove what lies below, then its entries land.
    fn apply(&mut self, reader: impl Read) -> Result<()> {
        let mut tar = tar::Archive::new(reader);
        let mut added: Vec<(String, Node)> = Vec::new();
        let mut hidden: Vec<(String, bool)> = Vec::new();
        for (n, entry) in tar.entries()?.enumerate() {
            if n >= MAX_ENTRIES {
                bail!("it has over {MAX_ENTRIES} entries");
            }
            let entry = entry?;
            let path = clean(&entry.path()?.to_string_lossy());
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", &path));
            if name == ".wh..wh..opq" {
                hidden.push((dir.to_owned(), true));
                continue;
            }
            if let Some(gone) = name.strip_prefix(".wh.") {
                let gone = if dir.is_empty() {
                    gone.to_owned()
                } else {
                    format!("{dir}/{gone}")
                };
                hidden.push((gone, false));
                continue;
            }
            let link = || {
                entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|l| l.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            let node = match entry.header().entry_type() {
                tar::EntryType::Directory => Node::Dir,
                tar::EntryType::Symlink => Node::Symlink(link()),
                tar::EntryType::Link => Node::Hardlink(clean(&link())),
                _ => Node::File,
            };
            added.push((path, node));
        }
        for (path, opaque) in hidden {
            let below = format!("{path}/");
            self.nodes
                .retain(|p, _| !p.starts_with(&below) && (opaque || *p != path));
        }
        for (path, node) in added {
            self.nodes.insert(path, node);
        }
        Ok(())
    }

    /// Whether `path` (absolute) is a regular file in the root filesystem, following
    /// symlinks (relative ones from their directory, absolute ones from the root, never
    /// above it) and hard links.
    pub(super) fn has_file(&self, path: &str) -> bool {
        let mut todo: Vec<String> = clean(path).split('/').rev().map(str::to_owned).collect();
        let mut at: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            if c.is_empty() || c == "." {
                continue;
            }
            if c == ".." {
                at.pop();
                continue;
            }
            at.push(c);
            let key = at.join("/");
            let node = match self.nodes.get(&key) {
                Some(n) => n.clone(),
                // A directory no entry of its own names, only its children.
                None if self.has_children(&key) => Node::Dir,
                None => return false,
            };
            match node {
                Node::Symlink(target) | Node::Hardlink(target) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return false;
                    }
                    at.pop();
                    let hard = matches!(self.nodes.get(&key), Some(Node::Hardlink(_)));
                    if hard || target.starts_with('/') {
                        at.clear();
                    }
                    todo.extend(target.split('/').rev().map(str::to_owned));
                }
                Node::File if todo.is_empty() => return true,
                Node::File => return false,
                Node::Dir => {}
            }
        }
        false
    }

    fn has_children(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.nodes
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    }
}

/// Each dynamically linked binary of `binaries` (for an image on `base`, or on scratch
/// when `None`) finds its ELF interpreter in the base's root filesystem for its
/// platform; `image` names the image for messages.
pub(super) fn check_interpreters(
    image: &str,
    binaries: &[&crate::manifest::Artifact],
    base: Option<&super::Base>,
) -> Result<()> {
    let mut read: BTreeMap<crate::platform::Platform, RootFs> = BTreeMap::new();
    for a in binaries {
        let Some(crate::binary::Linkage::Dynamic {
            interpreter: Some(interpreter),
            ..
        }) = &a.linkage
        else {
            continue;
        };
        let (Some(platform), Some(name)) = (a.platform, a.binary.as_deref()) else {
            continue;
        };
        let Some(base) = base else {
            bail!(
                "`{name}` for {platform} is dynamically linked (its interpreter is `{interpreter}`), so it cannot run in image `{image}` from scratch (hint: put it on a base with its C library, e.g. `--base gcr.io/distroless/cc-debian12`, or build a static `*-musl` target)"
            );
        };
        let Some(bp) = base.for_platform(&platform) else {
            continue; // refused before anything was built
        };
        let fs = match read.entry(platform) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(
                RootFs::read(&bp.layers)
                    .with_context(|| format!("could not read base `{}`", base.name))?,
            ),
        };
        if !fs.has_file(interpreter) {
            bail!(
                "`{name}` for {platform} needs the ELF interpreter `{interpreter}`, which base `{}` does not have for {platform} (hint: choose a base with the C library the binary was linked against, e.g. a glibc one for `*-gnu` targets, or build a static `*-musl` target)",
                base.name
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o755);
            match link {
                Some(target) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    b.append_link(&mut h, path, target).unwrap();
                }
                None if path.ends_with('/') => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, path, &[][..]).unwrap();
                }
                None => {
                    h.set_size(1);
                    b.append_data(&mut h, path, &b"x"[..]).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn symlinks_and_whiteouts_are_followed_within_the_layers() {
        let mut fs = RootFs::default();
        fs.apply(
            &layer(&[
                ("usr/", None),
                ("usr/lib64/ld-linux-x86-64.so.2", None),
                ("lib64", Some("usr/lib64")),
                ("lib", Some("/usr/lib")),
                ("usr/lib/ld-musl-aarch64.so.1", None),
                ("escape", Some("../../../usr/lib64")),
                ("loop", Some("loop")),
            ])[..],
        )
        .unwrap();
        assert!(fs.has_file("/lib64/ld-linux-x86-64.so.2"));
        assert!(fs.has_file("/lib/ld-musl-aarch64.so.1"));
        assert!(
            fs.has_file("/escape/ld-linux-x86-64.so.2"),
            "`..` stops at the root"
        );
        assert!(!fs.has_file("/lib64"), "a directory is not a file");
        assert!(!fs.has_file("/loop"));
        assert!(!fs.has_file("/lib64/missing.so"));

        fs.apply(&layer(&[("usr/lib64/.wh.ld-linux-x86-64.so.2", None)])[..])
            .unwrap();
        assert!(!fs.has_file("/lib64/ld-linux-x86-64.so.2"), "whited out");
        fs.apply(&layer(&[("usr/lib/.wh..wh..opq", None), ("usr/lib/other", None)])[..])
            .unwrap();
        assert!(
            !fs.has_file("/lib/ld-musl-aarch64.so.1"),
            "an opaque directory"
        );
        assert!(fs.has_file("/lib/other"));
    }

    proptest::proptest! {
        #![proptest_config(crate::testgen::config(256))]

        /// Any bytes as a layer are read or refused, never a panic; any path asked of
        /// what was read is answered, also through links that loop.
        #[test]
        fn any_layer_and_any_path_are_answered(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            path in "[a-z/.]{0,24}",
        ) {
            let mut fs = RootFs::default();
            let _ = fs.apply(&bytes[..]);
            fs.apply(&layer(&[("a", Some("b")), ("b", Some("../a")), ("c/", None)])[..]).unwrap();
            let _ = fs.has_file(&path);
        }
    }
}
