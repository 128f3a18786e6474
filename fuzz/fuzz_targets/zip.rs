//! A `.zip` archive as `verify` reads it back (`archive::zip::list`): any bytes give a
//! listing or an error, never a panic; what lists holds entries that share no bytes,
//! so their compressed sizes add up to less than the file.
#![no_main]

use std::io::Cursor;

use cargo_multiarch::archive::zip;
use cargo_multiarch::limits::expansion_budget;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(listed) = zip::list(Cursor::new(data)) {
        let total: u64 = listed.iter().map(|e| e.size).sum();
        assert!(total <= expansion_budget(data.len() as u64));
        for e in &listed {
            assert_eq!(e.dir, e.sha256.is_none());
            assert!(e.mode <= 0o7777);
        }
    }
});
