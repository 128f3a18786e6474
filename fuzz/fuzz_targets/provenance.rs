//! `provenance.intoto.json` as read back from an out dir (`Statement::parse`): any
//! bytes give a checked statement or an error, never a panic; what parses writes out
//! and parses back to itself.
#![no_main]

use cargo_multiarch::provenance::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Statement::parse(data) {
        let again = Statement::parse(&s.to_bytes()).expect("a parsed statement parses again");
        assert_eq!(again.to_bytes(), s.to_bytes());
    }
});
