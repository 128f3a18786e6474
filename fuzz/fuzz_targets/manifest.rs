//! `manifest.json` as read back from an out dir: any bytes give a checked manifest or
//! an error, never a panic; what parses serialises and parses back to itself.
#![no_main]

use cargo_multiarch::manifest::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data) {
        let json = serde_json::to_vec_pretty(&m).expect("manifests serialise");
        assert_eq!(
            Manifest::parse(&json).expect("a parsed manifest parses again"),
            m
        );
        let _ = m.sha256sums();
    }
});
