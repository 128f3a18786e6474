//! SPDX 2.3 JSON.
//!
//! Each crate is a package with its purl (an external reference), its Cargo.lock
//! checksum as the `SHA256` of its `.crate` file, its declared license and its
//! download location. The document `DESCRIBES` the package (or, for a per-target
//! archive, the archive, which `CONTAINS` each package); a crate `DEPENDS_ON` what it
//! uses at runtime, and a build-time crate is a `BUILD_DEPENDENCY_OF` the crate whose
//! build needs it. A `links` crate's native library is a package of its own.

use serde_json::{Value, json};

use super::{Subject, build_time_note, download_url, is_spdx_expression, purl, uuid_of};
use crate::sbom::graph::{Crate, Kind};

pub(super) fn render(s: &Subject) -> Vec<u8> {
    let crates = s.crates();
    let ids: Vec<String> = crates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "SPDXRef-Package-{i}-{}-{}",
                id_part(&c.name),
                id_part(&c.version)
            )
        })
        .collect();
    let root = Subject::single_root(&crates, s.name, s.version);
    let mut packages: Vec<Value> = Vec::new();
    let mut relationships: Vec<(String, &str, String)> = Vec::new();
    let described = if let Some(r) = root {
        ids[r].clone()
    } else {
        {
            let id = "SPDXRef-Archive".to_owned();
            packages.push(json!({
                "SPDXID": id,
                "name": s.name,
                "versionInfo": s.version,
                "packageFileName": s.archive.file_name(),
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "primaryPackagePurpose": "ARCHIVE",
                "copyrightText": "NOASSERTION",
            }));
            for (i, c) in crates.iter().enumerate() {
                if c.root {
                    relationships.push((id.clone(), "CONTAINS", ids[i].clone()));
                }
            }
            id
        }
    };
    relationships.push(("SPDXRef-DOCUMENT".to_owned(), "DESCRIBES", described));
    for (i, c) in crates.iter().enumerate() {
        packages.push(package(c, &ids[i]));
        for &d in &c.dependencies {
            if c.kind == Kind::Runtime && crates[d].kind == Kind::Build {
                relationships.push((ids[d].clone(), "BUILD_DEPENDENCY_OF", ids[i].clone()));
            } else {
                relationships.push((ids[i].clone(), "DEPENDS_ON", ids[d].clone()));
            }
        }
        if let Some(links) = &c.links {
            let id = format!("SPDXRef-Native-{i}-{}", id_part(links));
            packages.push(json!({
                "SPDXID": id,
                "name": links,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "primaryPackagePurpose": "LIBRARY",
                "copyrightText": "NOASSERTION",
                "comment": format!(
                    "native library `{links}`, built or linked by the build script of `{}` {} (`links = \"{links}\"`)",
                    c.name, c.version
                ),
            }));
            relationships.push((ids[i].clone(), "DEPENDS_ON", id));
        }
    }
    packages.sort_by(|a, b| a["SPDXID"].as_str().cmp(&b["SPDXID"].as_str()));
    relationships.sort();
    relationships.dedup();
    let relationships: Vec<Value> = relationships
        .into_iter()
        .map(|(a, kind, b)| {
            json!({ "spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b })
        })
        .collect();
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": s.archive.file_name(),
        "creationInfo": {
            "created": crate::date::rfc3339(s.source_date),
            "creators": [format!("Tool: {}-{}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))],
            "comment": format!(
                "The crates compiled into the binaries of `{}` for `{}` ({}).",
                s.archive.file_name(),
                s.target.as_str(),
                s.platform
            ),
        },
        "packages": packages,
        "relationships": relationships,
    });
    let uuid = uuid_of(&serde_json::to_vec(&doc).expect("JSON serialises"));
    doc["documentNamespace"] = json!(format!(
        "https://spdx.org/spdxdocs/{}-{uuid}",
        id_part(s.archive.file_name())
    ));
    serde_json::to_vec_pretty(&doc).expect("JSON serialises")
}

/// What an SPDX id may hold: letters, digits, `.` and `-`.
fn id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn package(c: &Crate, id: &str) -> Value {
    let license = c
        .license
        .as_deref()
        .filter(|l| is_spdx_expression(l))
        .unwrap_or("NOASSERTION");
    let mut v = json!({
        "SPDXID": id,
        "name": c.name,
        "versionInfo": c.version,
        "downloadLocation": download_url(c).unwrap_or_else(|| "NOASSERTION".to_owned()),
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": license,
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": if c.root { "APPLICATION" } else { "LIBRARY" },
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl(c),
        }],
    });
    if let Some(sum) = &c.checksum {
        v["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": sum.as_str() }]);
        v["packageFileName"] = json!(format!("{}-{}.crate", c.name, c.version));
    }
    if let (Some(l), "NOASSERTION") = (&c.license, license) {
        v["licenseComments"] = json!(format!(
            "Cargo.toml says `license = \"{l}\"`, which is not an SPDX expression"
        ));
    }
    let mut notes = vec![format!("source: {}", c.source.describe())];
    if c.kind == Kind::Build {
        notes.push(build_time_note(c).to_owned());
    }
    if let Some(l) = &c.links {
        notes.push(format!("links = \"{l}\""));
    }
    notes.extend(c.c_code.iter().map(|w| format!("compiles C: {w}")));
    v["comment"] = json!(notes.join("; "));
    v
}
