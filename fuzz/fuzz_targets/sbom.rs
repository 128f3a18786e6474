//! An SBOM as `verify --expect-sbom` reads it back (`sbom::read::parse`, CycloneDX 1.5
//! or SPDX 2.3): any bytes give a checked description or an error, never a panic, and
//! comparing what parsed with an empty graph gives problems, never a panic.
#![no_main]

use cargo_multiarch::sbom::{Format, read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::CycloneDx, Format::Spdx] {
        if let Ok(d) = read::parse(data, format) {
            let _ = read::compare(&d, "a.tar.gz", "x86_64-unknown-linux-musl", &[]);
        }
    }
});
