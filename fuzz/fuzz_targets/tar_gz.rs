//! A `.tar.gz` archive as `verify` reads it back (`archive::list_tar_gz`): any bytes
//! give a listing or an error, never a panic, within the limits (a long name is never
//! read past 4096 bytes, the bytes read stay within the archive's budget). An input
//! whose first byte is even is a raw tar stream, gzipped here first, so the fuzzer
//! reaches the tar headers without having to find a valid gzip stream.
#![no_main]

use std::io::Write as _;

use cargo_multiarch::archive::list_tar_gz;
use cargo_multiarch::limits::MAX_ENTRIES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let gz;
    let bytes = match data.split_first() {
        Some((first, tar)) if first % 2 == 0 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).expect("in memory");
            gz = e.finish().expect("in memory");
            &gz[..]
        }
        _ => data,
    };
    if let Ok(listed) = list_tar_gz(bytes, bytes.len() as u64) {
        assert!(listed.len() as u64 <= MAX_ENTRIES);
        for e in &listed {
            assert!(!e.name.ends_with('/'));
            assert_eq!(e.dir, e.sha256.is_none());
            assert!(e.mode <= 0o7777);
        }
    }
});
