//! A binary's headers as `verify`, `merge` and `image` read them (`binary::parse`:
//! ELF, PE, Mach-O, fat Mach-O, WebAssembly): any bytes give a description or an
//! error, never a panic; a fat file never has more slices than the limit.
#![no_main]

use cargo_multiarch::binary;
use cargo_multiarch::limits::MAX_FAT_SLICES;
use cargo_multiarch::platform::Platform;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = binary::parse(data) {
        assert!(!b.slices.is_empty() && b.slices.len() <= MAX_FAT_SLICES);
        let _ = b.describe();
        for p in ["linux/amd64", "windows/amd64", "darwin/universal2"] {
            let _ = b.problems(Platform::parse(p).expect("a platform"), p);
        }
    }
});
