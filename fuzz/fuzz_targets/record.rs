//! `.multiarch/<target>.json` as read back from an out dir, for every known target:
//! any bytes give a record of that target whose binaries sit exactly at
//! `<platform>/bin/<binary>`, or an error, never a panic.
#![no_main]

use cargo_multiarch::platform::{TARGETS, Target};
use cargo_multiarch::record::BuildRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Every known triple, and the record's own target (which may carry a glibc suffix).
    let own = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| Target::parse(v.get("target")?.as_str()?).ok());
    let known = TARGETS
        .iter()
        .map(|i| Target::parse(i.triple).expect("a known triple"));
    for target in known.chain(own) {
        let Ok(r) = BuildRecord::parse(data, &target) else {
            continue;
        };
        assert_eq!(r.target, target);
        for b in &r.binaries {
            let want = format!("{}/bin/{}{}", r.platform, b.binary, target.info.exe_suffix);
            assert_eq!(b.path.as_str(), want);
        }
        let json = serde_json::to_vec(&r).expect("records serialise");
        assert_eq!(BuildRecord::parse(&json, &target).expect("parses again"), r);
    }
});
