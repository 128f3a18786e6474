//! Property tests of what the image code reads back: digests, reference names, image
//! references, and whole OCI layouts walked by `verify_layout` (issue 10, item 8).

use std::fs;
use std::os::unix::fs::symlink;

use camino::Utf8Path;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::support::temp_dir;
use crate::digest::Sha256;
use crate::image::layout::check;
use crate::image::reference::Reference;
use crate::image::{MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_LAYER, MEDIA_TYPE_MANIFEST};
use crate::oci::{check_ref_name, digest_hex};
use crate::testgen::{Edit, Json, config, edit, json_any, nasty_string};

/// A digest no blob has: the walk mentions it only if it read the trap outside.
const MARKER: &str = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
/// Deeper than this, nested indexes are reported (`layout::MAX_DEPTH`).
const MAX_DEPTH: usize = 8;

/// Pieces of image references and OCI names, right and wrong.
const REF_PIECES: &[&str] = &[
    "ghcr.io",
    "localhost",
    "127.0.0.1:5000",
    "docker.io",
    "library",
    "acme",
    "alpha",
    "Alpha",
    "a",
    "0",
    ":",
    "/",
    "//",
    "@",
    "://",
    "1.0",
    "-x",
    ".x",
    "_",
    "__",
    "--",
    "+",
    "latest",
    "sha256:",
    "é",
    " ",
    "\0",
    "\n",
];

fn ref_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => vec(select(REF_PIECES), 1..7).prop_map(|v| v.concat()),
        1 => ("[a-z0-9./:-]{1,20}", "[A-Za-z0-9_.-]{120,135}").prop_map(|(n, t)| format!("{n}:{t}")),
        1 => nasty_string(),
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_string_is_a_sha256_digest_or_an_error(
        s in prop_oneof![nasty_string(), "(sha256:)?[0-9a-fA-F./]{62,66}", any::<String>()],
    ) {
        if let Ok(hex) = digest_hex(&s) {
            prop_assert_eq!(format!("sha256:{hex}"), s.clone());
            prop_assert_eq!(Sha256::parse(hex).unwrap().to_string(), hex);
        }
        prop_assert_eq!(digest_hex(&s).is_ok(), Sha256::parse_oci(&s).is_ok());
    }

    #[test]
    fn any_string_is_an_oci_ref_name_or_an_error(s in ref_like()) {
        if check_ref_name(&s).is_ok() {
            let b = s.as_bytes();
            prop_assert!(b[0].is_ascii_alphanumeric() && b[b.len() - 1].is_ascii_alphanumeric());
            prop_assert!(!s.contains("//"));
            prop_assert!(s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._:@+/".contains(&c)));
        }
    }

    #[test]
    fn any_string_is_an_image_reference_that_round_trips_or_an_error(s in ref_like()) {
        if let Ok(r) = Reference::parse(&s) {
            prop_assert!(!r.registry.is_empty());
            prop_assert!(r.name.split('/').all(|c| {
                let b = c.as_bytes();
                !b.is_empty()
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
                    && c.bytes().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"._-".contains(&x))
            }), "{:?}", r);
            prop_assert!(!r.tag.is_empty() && r.tag.len() <= 128, "{:?}", r);
            prop_assert!(!r.tag.starts_with(['.', '-']), "{:?}", r);
            let full = format!("{}/{}:{}", r.registry, r.name, r.tag);
            let mut again = Reference::parse(&full).unwrap();
            prop_assert!(again.tagged);
            again.tagged = r.tagged;
            prop_assert_eq!(again, r);
        }
    }
}

/// How a descriptor names its blob's digest.
#[derive(Debug, Clone)]
enum DigestForm {
    Real,
    Upper,
    Other(String),
}

/// How a descriptor gives its blob's size.
#[derive(Debug, Clone)]
enum SizeForm {
    Real,
    OffByOne,
    Raw(&'static str),
}

/// One descriptor: of an earlier node (or of the trap outside the layout, `to: None`).
#[derive(Debug, Clone)]
struct Ref {
    /// Which earlier node, modulo their number.
    to: Option<usize>,
    digest: DigestForm,
    size: SizeForm,
    /// None: the media type of what it points at.
    media_type: Option<String>,
}

#[derive(Debug, Clone)]
enum NodeKind {
    Leaf(Vec<u8>),
    Index,
    Manifest,
}

/// What is at a node's blob path.
#[derive(Debug, Clone, PartialEq)]
enum Placement {
    File,
    Missing,
    Corrupt,
    /// A symlink to an identical copy outside the layout.
    Symlink,
    Dir,
    Fifo,
}

/// What surrounds the blobs.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Plain,
    /// `blobs` is a symlink to a directory outside holding every blob and the trap.
    BlobsLink,
    /// `blobs/sha256` is.
    Sha256Link,
    /// `index.json` is a symlink to one outside that lists the marker.
    IndexLink,
    NoOciLayout,
    BadOciLayout(String),
}

#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    refs: Vec<Ref>,
    placement: Placement,
    /// None: `schemaVersion` 2.
    schema: Option<Json>,
}

#[derive(Debug, Clone)]
struct Layout {
    nodes: Vec<Node>,
    /// Each node refers to the one before it first, for deep chains.
    chain: bool,
    top: Vec<Ref>,
    shape: Shape,
    /// Edits to `index.json` (0) or a node's document (1…) before it is hashed, so
    /// descriptors still match it.
    edits: Vec<(Index, Vec<Index>, Edit)>,
}

fn reference() -> impl Strategy<Value = Ref> {
    let digest = prop_oneof![
        12 => Just(DigestForm::Real),
        1 => Just(DigestForm::Upper),
        1 => prop_oneof![
            select(&[
                "sha256:../../x",
                "sha256:../../outside/trap",
                "sha512:0000",
                "sha256:",
                "",
            ][..])
            .prop_map(str::to_owned),
            nasty_string(),
        ]
        .prop_map(DigestForm::Other),
    ];
    let size = prop_oneof![
        12 => Just(SizeForm::Real),
        1 => Just(SizeForm::OffByOne),
        1 => select(&[
            "18446744073709551615",
            "18446744073709551616",
            "-1",
            "1.5",
            "1e400",
            "\"12\"",
            "null",
        ][..])
        .prop_map(SizeForm::Raw),
    ];
    let media_type = prop_oneof![
        12 => Just(None),
        1 => select(&[
            MEDIA_TYPE_INDEX,
            MEDIA_TYPE_MANIFEST,
            MEDIA_TYPE_CONFIG,
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "",
        ][..])
        .prop_map(|s| Some(s.to_owned())),
        1 => nasty_string().prop_map(Some),
    ];
    (
        prop_oneof![20 => any::<usize>().prop_map(Some), 1 => Just(None)],
        digest,
        size,
        media_type,
    )
        .prop_map(|(to, digest, size, media_type)| Ref {
            to,
            digest,
            size,
            media_type,
        })
}

fn node() -> impl Strategy<Value = Node> {
    (
        prop_oneof![
            2 => vec(any::<u8>(), 0..64).prop_map(NodeKind::Leaf),
            2 => Just(NodeKind::Index),
            2 => Just(NodeKind::Manifest),
        ],
        vec(reference(), 0..4),
        prop_oneof![
            20 => Just(Placement::File),
            1 => Just(Placement::Missing),
            1 => Just(Placement::Corrupt),
            1 => Just(Placement::Symlink),
            1 => Just(Placement::Dir),
            1 => Just(Placement::Fifo),
        ],
        prop_oneof![12 => Just(None), 1 => crate::testgen::json_leaf().prop_map(Some)],
    )
        .prop_map(|(kind, refs, placement, schema)| Node {
            kind,
            refs,
            placement,
            schema,
        })
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        vec(node(), 0..13),
        any::<bool>(),
        vec(reference(), 0..4),
        prop_oneof![
            12 => Just(Shape::Plain),
            1 => Just(Shape::BlobsLink),
            1 => Just(Shape::Sha256Link),
            1 => Just(Shape::IndexLink),
            1 => Just(Shape::NoOciLayout),
            1 => nasty_string().prop_map(Shape::BadOciLayout),
        ],
        prop_oneof![
            3 => Just(Vec::new()),
            1 => vec((any::<Index>(), vec(any::<Index>(), 1..4), edit()), 1..3),
        ],
        prop_oneof![2 => Just(false), 1 => Just(true)],
    )
        .prop_map(|(nodes, chain, top, shape, edits, pristine)| {
            let layout = Layout {
                nodes,
                chain,
                top,
                shape,
                edits,
            };
            if pristine { layout.pristine() } else { layout }
        })
}

impl Layout {
    /// The same graph with nothing wrong: every descriptor exact, every blob in place.
    fn pristine(mut self) -> Self {
        let clean = |r: &mut Ref| {
            r.to.get_or_insert(0);
            r.digest = DigestForm::Real;
            r.size = SizeForm::Real;
            r.media_type = None;
        };
        for (i, n) in self.nodes.iter_mut().enumerate() {
            n.refs.iter_mut().for_each(clean);
            n.placement = Placement::File;
            n.schema = None;
            if i == 0 {
                n.refs.clear();
                if matches!(n.kind, NodeKind::Manifest) {
                    n.kind = NodeKind::Index;
                }
            } else if n.refs.is_empty() && matches!(n.kind, NodeKind::Manifest) {
                n.refs.push(Ref {
                    to: Some(0),
                    digest: DigestForm::Real,
                    size: SizeForm::Real,
                    media_type: None,
                });
            }
        }
        self.top.iter_mut().for_each(clean);
        if self.nodes.is_empty() {
            self.top.clear();
        }
        self.shape = Shape::Plain;
        self.edits.clear();
        self
    }

    /// True when nothing is wrong with it: `verify_layout` must then find no problem.
    fn sound(&self) -> bool {
        let docs = self
            .nodes
            .iter()
            .filter(|n| !matches!(n.kind, NodeKind::Leaf(_)))
            .count();
        let clean = |r: &Ref| {
            r.to.is_some()
                && matches!(r.digest, DigestForm::Real)
                && matches!(r.size, SizeForm::Real)
                && r.media_type.is_none()
        };
        self.shape == Shape::Plain
            && self.edits.is_empty()
            && (self.top.is_empty() || !self.nodes.is_empty())
            && docs <= MAX_DEPTH
            && self.top.iter().all(clean)
            && self.nodes.iter().enumerate().all(|(i, n)| {
                n.placement == Placement::File
                    && n.schema.is_none()
                    && n.refs.iter().all(clean)
                    // Node 0's descriptors can only name the trap; a manifest needs a config.
                    && (i != 0 || n.refs.is_empty())
                    && !(matches!(n.kind, NodeKind::Manifest) && (n.refs.is_empty() || i == 0))
            })
    }
}

/// A built node: its bytes and how a descriptor of it looks.
struct Built {
    bytes: Vec<u8>,
    hex: String,
    media_type: &'static str,
}

fn descriptor(r: &Ref, to: &Built) -> Json {
    let digest = match &r.digest {
        DigestForm::Real => format!("sha256:{}", to.hex),
        DigestForm::Upper => format!("sha256:{}", to.hex.to_uppercase()),
        DigestForm::Other(s) => s.clone(),
    };
    let size = match r.size {
        SizeForm::Real => to.bytes.len().to_string(),
        SizeForm::OffByOne => (to.bytes.len() + 1).to_string(),
        SizeForm::Raw(s) => s.to_owned(),
    };
    Json::Object(vec![
        (
            "mediaType".into(),
            Json::str(r.media_type.as_deref().unwrap_or(to.media_type)),
        ),
        ("digest".into(), Json::str(&digest)),
        ("size".into(), Json::Raw(size)),
    ])
}

fn document(media_type: &str, schema: Option<&Json>, fields: Vec<(String, Json)>) -> Json {
    let mut o = vec![
        (
            "schemaVersion".into(),
            schema.cloned().unwrap_or(Json::Raw("2".into())),
        ),
        ("mediaType".into(), Json::str(media_type)),
    ];
    o.extend(fields);
    Json::Object(o)
}

fn built(bytes: Vec<u8>, media_type: &'static str) -> Built {
    Built {
        hex: Sha256::of(&bytes).as_str().to_owned(),
        bytes,
        media_type,
    }
}

fn mknod_fifo(path: &Utf8Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path.as_std_path(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

/// Writes `layout` under `top/layout`, with copies of every blob and the trap under
/// `top/outside`. Returns the layout dir.
fn write(layout: &Layout, top: &Utf8Path) -> camino::Utf8PathBuf {
    let edit_of = |doc: usize, j: &mut Json| {
        for (which, path, e) in &layout.edits {
            if which.index(layout.nodes.len() + 1) == doc {
                j.edit(path, e.clone());
            }
        }
    };
    // The trap: an index outside the layout listing a blob no one has.
    let trap_doc = document(
        MEDIA_TYPE_INDEX,
        None,
        vec![(
            "manifests".into(),
            Json::Array(vec![descriptor(
                &Ref {
                    to: None,
                    digest: DigestForm::Other(format!("sha256:{MARKER}")),
                    size: SizeForm::Real,
                    media_type: Some(MEDIA_TYPE_MANIFEST.into()),
                },
                &built(Vec::new(), MEDIA_TYPE_MANIFEST),
            )]),
        )],
    );
    let trap = built(trap_doc.render().into_bytes(), MEDIA_TYPE_INDEX);

    let mut nodes: Vec<Built> = Vec::new();
    for (i, n) in layout.nodes.iter().enumerate() {
        let mut targets: Vec<(&Ref, &Built)> = Vec::new();
        for (k, r) in n.refs.iter().enumerate() {
            let to = match r.to {
                _ if i == 0 => None,
                Some(_) if layout.chain && k == 0 => Some(&nodes[i - 1]),
                Some(ix) => Some(&nodes[ix % i]),
                None => None,
            };
            targets.push((r, to.unwrap_or(&trap)));
        }
        let b = match &n.kind {
            NodeKind::Leaf(bytes) => built(bytes.clone(), MEDIA_TYPE_LAYER),
            NodeKind::Index => {
                let list = targets.iter().map(|(r, to)| descriptor(r, to)).collect();
                let mut doc = document(
                    MEDIA_TYPE_INDEX,
                    n.schema.as_ref(),
                    vec![("manifests".into(), Json::Array(list))],
                );
                edit_of(i + 1, &mut doc);
                built(doc.render().into_bytes(), MEDIA_TYPE_INDEX)
            }
            NodeKind::Manifest => {
                let mut fields = Vec::new();
                if let Some((r, to)) = targets.first() {
                    fields.push(("config".into(), descriptor(r, to)));
                }
                let layers = targets.iter().skip(1).map(|(r, to)| descriptor(r, to));
                fields.push(("layers".into(), Json::Array(layers.collect())));
                let mut doc = document(MEDIA_TYPE_MANIFEST, n.schema.as_ref(), fields);
                edit_of(i + 1, &mut doc);
                built(doc.render().into_bytes(), MEDIA_TYPE_MANIFEST)
            }
        };
        nodes.push(b);
    }
    let top_list = layout
        .top
        .iter()
        .map(|r| {
            let to = match r.to {
                Some(ix) if !nodes.is_empty() => &nodes[ix % nodes.len()],
                _ => &trap,
            };
            descriptor(r, to)
        })
        .collect();
    let mut index = document(
        MEDIA_TYPE_INDEX,
        None,
        vec![("manifests".into(), Json::Array(top_list))],
    );
    edit_of(0, &mut index);

    let dir = top.join("layout");
    let outside = top.join("outside");
    let outside_blobs = outside.join("blobs/sha256");
    fs::create_dir_all(&outside_blobs).unwrap();
    for b in nodes.iter().chain([&trap]) {
        fs::write(outside_blobs.join(&b.hex), &b.bytes).unwrap();
    }
    fs::write(outside.join("trap"), &trap.bytes).unwrap();
    let listing_marker = document(
        MEDIA_TYPE_INDEX,
        None,
        vec![(
            "manifests".into(),
            Json::Array(vec![descriptor(
                &Ref {
                    to: None,
                    digest: DigestForm::Real,
                    size: SizeForm::Real,
                    media_type: None,
                },
                &trap,
            )]),
        )],
    );
    fs::write(outside.join("index.json"), listing_marker.render()).unwrap();

    fs::create_dir_all(&dir).unwrap();
    match &layout.shape {
        Shape::NoOciLayout => {}
        Shape::BadOciLayout(s) => fs::write(dir.join("oci-layout"), s).unwrap(),
        _ => fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap(),
    }
    if layout.shape == Shape::IndexLink {
        symlink(outside.join("index.json"), dir.join("index.json")).unwrap();
    } else {
        fs::write(dir.join("index.json"), index.render()).unwrap();
    }
    match layout.shape {
        Shape::BlobsLink => {
            symlink("../outside/blobs", dir.join("blobs")).unwrap();
            return dir;
        }
        Shape::Sha256Link => {
            fs::create_dir(dir.join("blobs")).unwrap();
            symlink(&outside_blobs, dir.join("blobs/sha256")).unwrap();
            return dir;
        }
        _ => {}
    }
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    // The trap is reachable only by a symlink out of the layout.
    let _ = symlink(outside.join("trap"), blobs.join(&trap.hex));
    for (n, b) in layout.nodes.iter().zip(&nodes) {
        let path = blobs.join(&b.hex);
        if path.symlink_metadata().is_ok() {
            continue; // an identical blob was placed already
        }
        match n.placement {
            Placement::File => fs::write(&path, &b.bytes).unwrap(),
            Placement::Missing => {}
            Placement::Corrupt => fs::write(&path, [&b.bytes[..], b"x"].concat()).unwrap(),
            Placement::Symlink => symlink(outside_blobs.join(&b.hex), &path).unwrap(),
            Placement::Dir => fs::create_dir(&path).unwrap(),
            Placement::Fifo => mknod_fifo(&path),
        }
    }
    dir
}

proptest! {
    #![proptest_config(config(256))]

    /// Any layout, however broken or hostile, is walked to a list of problems without
    /// a panic, and nothing outside the layout is ever read: the trap outside lists
    /// the marker digest, so reading it would put the marker in the walk's results.
    #[test]
    fn any_layout_is_walked_without_reading_outside_it(layout in layout()) {
        let (_t, top) = temp_dir();
        let dir = write(&layout, &top);
        let checked = check(&dir).unwrap();
        prop_assert!(!checked.reached.contains(MARKER), "{:#?}", checked.problems);
        prop_assert!(!checked.problems.iter().any(|p| p.contains(MARKER)), "{:#?}", checked.problems);
        if layout.sound() {
            prop_assert!(checked.problems.is_empty(), "{:#?}", checked.problems);
        }
    }

    /// Arbitrary `index.json`, `oci-layout` and blob files.
    #[test]
    fn arbitrary_layout_files_never_panic(
        index in prop_oneof![json_any().prop_map(|j| j.render().into_bytes()), any::<Vec<u8>>()],
        oci_layout in prop_oneof![json_any().prop_map(|j| j.render().into_bytes()), any::<Vec<u8>>()],
        blobs in vec(
            (
                prop_oneof![any::<[u8; 4]>().prop_map(|b| Sha256::of(&b).to_string()), nasty_string()],
                prop_oneof![json_any().prop_map(|j| j.render().into_bytes()), any::<Vec<u8>>()],
            ),
            0..4,
        ),
    ) {
        let (_t, dir) = temp_dir();
        fs::write(dir.join("index.json"), &index).unwrap();
        fs::write(dir.join("oci-layout"), &oci_layout).unwrap();
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        for (name, bytes) in &blobs {
            if crate::outdir::RelPath::new(name).is_ok_and(|p| p.parent().is_none()) {
                let _ = fs::write(dir.join("blobs/sha256").join(name), bytes);
            }
        }
        let _ = check(&dir).unwrap();
    }
}

/// A chain of nested indexes deeper than the walk follows is reported, not followed
/// forever; `index.json` listing itself (by a digest its blob cannot have) is a
/// problem, not a loop.
#[test]
fn deep_chains_and_self_references_end() {
    let (_t, top) = temp_dir();
    let n = |refs| Node {
        kind: NodeKind::Index,
        refs,
        placement: Placement::File,
        schema: None,
    };
    let r = || Ref {
        to: Some(0),
        digest: DigestForm::Real,
        size: SizeForm::Real,
        media_type: None,
    };
    let mut nodes = vec![n(Vec::new())];
    nodes.extend((0..20).map(|_| n(vec![r()])));
    let mut top_ref = r();
    top_ref.to = Some(20);
    let layout = Layout {
        nodes,
        chain: true,
        top: vec![top_ref],
        shape: Shape::Plain,
        edits: Vec::new(),
    };
    let dir = write(&layout, &top);
    let problems = check(&dir).unwrap().problems;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("(a loop?)"), "{problems:#?}");

    // A blob whose name is the digest it lists: its content cannot hash to that name.
    let hex = "a".repeat(64);
    let doc = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{MEDIA_TYPE_INDEX}","digest":"sha256:{hex}","size":1}}]}}"#
    );
    fs::write(dir.join("index.json"), &doc).unwrap();
    fs::write(dir.join("blobs/sha256").join(&hex), &doc).unwrap();
    let problems = check(&dir).unwrap().problems;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("has "), "{problems:#?}");
}
