//! `.multiarch/<target>.json` as read back from an out dir, for common targets and the
//! record's own: any bytes give a record of that target whose binaries sit exactly at
//! `<platform>/bin/<binary><exe suffix>`, or an error, never a panic.
#![no_main]

use cargo_multiarch::platform::TargetName;
use cargo_multiarch::record::BuildRecord;
use libfuzzer_sys::fuzz_target;

const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "i686-unknown-linux-musl",
    "x86_64-pc-windows-gnu",
    "aarch64-apple-darwin",
    "universal2-apple-darwin",
];

fuzz_target!(|data: &[u8]| {
    // Common targets, and the record's own (which may carry a glibc suffix).
    let own = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| TargetName::new(v.get("target")?.as_str()?).ok());
    let known = TARGETS
        .iter()
        .map(|t| TargetName::new(t).expect("a plain name"));
    for target in known.chain(own) {
        let Ok(r) = BuildRecord::parse(data, &target, None) else {
            continue;
        };
        assert_eq!(r.target, target);
        for b in &r.binaries {
            let want = format!("{}/bin/{}{}", r.platform, b.binary, r.platform.exe_suffix());
            assert_eq!(b.path.as_str(), want);
        }
        let json = serde_json::to_vec(&r).expect("records serialise");
        let again = BuildRecord::parse(&json, &target, Some(r.platform)).expect("parses again");
        assert_eq!(again, r);
    }
});
