//! minisign keys and signatures as `verify --public-key` and `sign` read them: any
//! text gives a key, a verdict or an error, never a panic, and no secret key asks for
//! a password (the password callback refuses, so no scrypt runs) before its form is
//! checked. A signature is checked against a fixed key and message.
#![no_main]

use cargo_multiarch::minisign::{PublicKey, SecretKey};
use libfuzzer_sys::fuzz_target;

/// The throwaway public key of `src/minisign/tests.rs`.
const PUBLIC: &str = "untrusted comment: minisign public key B4ADCDFAEF78EA77
RWR36njv+s2ttG98e7sHHzIDbJKBlMDBT7qb+VSEkHmajDuhC5dCUUOz
";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = PublicKey::parse(text) {
        assert_eq!(k.id().len(), 16);
    }
    let _ = SecretKey::parse(text, || anyhow::bail!("no password here"));
    let key = PublicKey::parse(PUBLIC).expect("the test key");
    let _ = key.verify(b"hello\n", text);
});
