//! `CycloneDX` 1.5 JSON.
//!
//! Each crate is a `library` component (the package itself the `application` of
//! `metadata.component`) with its purl, its Cargo.lock checksum as a `SHA-256` hash, its
//! license expression and where it came from. Build-time crates (build-dependencies,
//! proc-macros and what only they use) have `scope: excluded` — `CycloneDX`'s word for
//! "not reachable at runtime" — so tools that match vulnerabilities against what
//! ships do not flag them as in the binary, and a `cargo-multiarch:kind = build`
//! property that says why. A `links` crate's native library is a `library` component
//! of its own (named by `links`), which that crate depends on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Subject, build_time_note, download_url, is_spdx_expression, purl, uuid_of};
use crate::sbom::graph::{Crate, Kind, Source};

pub(super) fn render(s: &Subject) -> Vec<u8> {
    let crates = s.crates();
    let refs = bom_refs(&crates);
    let root = Subject::single_root(&crates, s.name, s.version);
    let mut components: Vec<Value> = Vec::new();
    let mut depends: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, c) in crates.iter().enumerate() {
        if Some(i) != root {
            components.push(component(c, &refs[i], "library"));
        }
        let mut on: BTreeSet<String> = c.dependencies.iter().map(|&d| refs[d].clone()).collect();
        if let Some(links) = &c.links {
            let native = format!("{}#links={links}", refs[i]);
            components.push(native_component(c, &refs[i], &native, links));
            depends.entry(native.clone()).or_default();
            on.insert(native);
        }
        depends.entry(refs[i].clone()).or_default().extend(on);
    }
    let metadata_component = if let Some(r) = root {
        component(&crates[r], &refs[r], "application")
    } else {
        {
            let archive_ref = format!("archive:{}", s.archive.file_name());
            depends.insert(
                archive_ref.clone(),
                (0..crates.len())
                    .filter(|&i| crates[i].root)
                    .map(|i| refs[i].clone())
                    .collect(),
            );
            json!({
                "bom-ref": archive_ref,
                "type": "application",
                "name": s.name,
                "version": s.version,
            })
        }
    };
    components.sort_by(|a, b| a["bom-ref"].as_str().cmp(&b["bom-ref"].as_str()));
    let dependencies: Vec<Value> = depends
        .into_iter()
        .map(|(r, on)| json!({ "ref": r, "dependsOn": on.into_iter().collect::<Vec<_>>() }))
        .collect();
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": crate::date::rfc3339(s.source_date),
            "tools": {
                "components": [{
                    "type": "application",
                    "name": env!("CARGO_PKG_NAME"),
                    "version": env!("CARGO_PKG_VERSION"),
                }]
            },
            "component": metadata_component,
            "properties": [
                property("cargo-multiarch:target", s.target.as_str()),
                property("cargo-multiarch:platform", &s.platform.to_string()),
                property("cargo-multiarch:archive", s.archive.file_name()),
            ],
        },
        "components": components,
        "dependencies": dependencies,
    });
    let serial = uuid_of(&serde_json::to_vec(&doc).expect("JSON serialises"));
    doc["serialNumber"] = json!(format!("urn:uuid:{serial}"));
    serde_json::to_vec_pretty(&doc).expect("JSON serialises")
}

/// A bom-ref per crate: its purl, made unique when two crates share one (two path
/// crates of the same name and version).
fn bom_refs(crates: &[Crate]) -> Vec<String> {
    let purls: Vec<String> = crates.iter().map(purl).collect();
    purls
        .iter()
        .zip(crates)
        .map(|(p, c)| {
            if purls.iter().filter(|q| *q == p).count() > 1 {
                format!("{p}#{}", c.source.describe())
            } else {
                p.clone()
            }
        })
        .collect()
}

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

fn component(c: &Crate, bom_ref: &str, kind: &str) -> Value {
    let mut v = json!({
        "bom-ref": bom_ref,
        "type": kind,
        "name": c.name,
        "version": c.version,
        "purl": purl(c),
        "scope": scope(c.kind),
    });
    if let Some(sum) = &c.checksum {
        v["hashes"] = json!([{ "alg": "SHA-256", "content": sum.as_str() }]);
    }
    if let Some(l) = &c.license {
        v["licenses"] = if is_spdx_expression(l) {
            json!([{ "expression": l }])
        } else {
            json!([{ "license": { "name": l } }])
        };
    }
    let mut refs = Vec::new();
    if let Some(url) = download_url(c) {
        let kind = if matches!(c.source, Source::Git { .. }) {
            "vcs"
        } else {
            "distribution"
        };
        refs.push(json!({ "type": kind, "url": url }));
    }
    if !refs.is_empty() {
        v["externalReferences"] = json!(refs);
    }
    if c.kind == Kind::Build {
        v["description"] = json!(build_time_note(c));
    }
    let kind = match c.kind {
        Kind::Runtime => "runtime",
        Kind::Build => "build",
    };
    let mut props = vec![
        property("cargo-multiarch:kind", kind),
        property("cargo-multiarch:source", &c.source.describe()),
    ];
    if c.proc_macro {
        props.push(property("cargo-multiarch:proc-macro", "true"));
    }
    if let Some(l) = &c.links {
        props.push(property("cargo-multiarch:links", l));
    }
    for why in &c.c_code {
        props.push(property("cargo-multiarch:compiles-c", why));
    }
    v["properties"] = json!(props);
    v
}

/// The native library a `links` crate's build script builds or links.
fn native_component(c: &Crate, crate_ref: &str, bom_ref: &str, links: &str) -> Value {
    json!({
        "bom-ref": bom_ref,
        "type": "library",
        "name": links,
        "scope": scope(c.kind),
        "description": format!(
            "native library `{links}`, built or linked by the build script of `{}` {} (`links = \"{links}\"`)",
            c.name, c.version
        ),
        "properties": [
            property("cargo-multiarch:native-library-of", crate_ref),
        ],
    })
}

fn scope(kind: Kind) -> &'static str {
    match kind {
        Kind::Runtime => "required",
        Kind::Build => "excluded",
    }
}
