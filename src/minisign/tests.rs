use super::*;

// A throwaway key pair made by Debian's `minisign -G -W` (0.11), and its signature of
// "hello\n" by `minisign -S -m f`: test data only, it signs nothing real.
const SECRET: &str = "untrusted comment: minisign encrypted secret key
RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAd+p47/rNrbRfAThgaiG1/oNR+D9a++ebgoOxHullyqS3o7R0cEJq7m98e7sHHzIDbJKBlMDBT7qb+VSEkHmajDuhC5dCUUOzAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
";
const PUBLIC: &str = "untrusted comment: minisign public key B4ADCDFAEF78EA77
RWR36njv+s2ttG98e7sHHzIDbJKBlMDBT7qb+VSEkHmajDuhC5dCUUOz
";
const SIGNATURE: &str = "untrusted comment: signature from minisign secret key
RUR36njv+s2ttJ7mCEiCjdJIDhclaWrzgC79RWutvBFDgW49H4IyoPWMqIf7C0mGdXGr/nbR/TxTdWjrjlPWTYOgemmXIhBrVwA=
trusted comment: timestamp:1795391186\tfile:f\thashed
MLqHzXff+DSOnEzlTwdgEmJdGveK5hUJOoPB2k0220ncZWcD/063J0CyZdCli/fgL1p8DA7PVSmcrK9Pyl0vBg==
";

fn no_password() -> Result<Zeroizing<String>> {
    panic!("an unencrypted key asks for no password")
}

#[test]
fn minisigns_own_signature_verifies_and_ours_is_identical_but_for_the_comment() {
    let public = PublicKey::parse(PUBLIC).unwrap();
    assert_eq!(public.id(), "B4ADCDFAEF78EA77");
    let comment = public.verify(b"hello\n", SIGNATURE).unwrap();
    assert_eq!(comment, "timestamp:1795391186\tfile:f\thashed");

    let secret = SecretKey::parse(SECRET, no_password).unwrap();
    assert_eq!(secret.public(), public);
    let ours = secret
        .sign(b"hello\n", "timestamp:1795391186\tfile:f\thashed")
        .unwrap();
    // Ed25519 is deterministic: the same key and prehash give minisign's bytes.
    let lines: Vec<&str> = ours.lines().collect();
    let theirs: Vec<&str> = SIGNATURE.lines().collect();
    assert_eq!(lines[1..], theirs[1..]);
    assert!(lines[0].starts_with("untrusted comment: "));
    assert_eq!(public.verify(b"hello\n", &ours).unwrap(), theirs[2][17..]);
}

#[test]
fn tampering_anywhere_fails() {
    let public = PublicKey::parse(PUBLIC).unwrap();
    let secret = SecretKey::parse(SECRET, no_password).unwrap();
    let sig = secret
        .sign(b"SHA256SUMS text\n", "file:SHA256SUMS\thashed")
        .unwrap();
    let err = |message: &[u8], sig: &str| format!("{:#}", public.verify(message, sig).unwrap_err());
    assert!(err(b"SHA256SUMS text!\n", &sig).contains("does not match the file"));
    let forged = sig.replace("file:SHA256SUMS", "file:other");
    assert!(err(b"SHA256SUMS text\n", &forged).contains("trusted comment"));
    assert!(err(b"x", "hello").contains("not a minisign signature"));
    // Another key's signature names that key.
    let other = SecretKey::parse(
        &unencrypted(&[7; 32], [1, 2, 3, 4, 5, 6, 7, 8]),
        no_password,
    )
    .unwrap();
    let sig = other.sign(b"m", "c").unwrap();
    assert!(
        err(b"m", &sig).contains(
            "made with key 0807060504030201, not with this public key (B4ADCDFAEF78EA77)"
        )
    );
}

/// A secret key file as `minisign -G -W` writes one.
fn unencrypted(seed: &[u8; 32], keynum: [u8; 8]) -> String {
    key_file(seed, keynum, None)
}

/// A secret key file as `minisign -G` writes one, with scrypt parameters of our
/// choosing (minisign's own take 1 GiB; these take a few MiB).
fn key_file(seed: &[u8; 32], keynum: [u8; 8], password: Option<(&str, u64, u64)>) -> String {
    let key = SigningKey::from_bytes(seed);
    let mut keynum_sk = Vec::new();
    keynum_sk.extend_from_slice(&keynum);
    keynum_sk.extend_from_slice(&key.to_keypair_bytes());
    let mut b = Vec::new();
    b.extend_from_slice(SIG_ALG);
    b.extend_from_slice(if password.is_some() {
        KDF_SCRYPT
    } else {
        KDF_NONE
    });
    b.extend_from_slice(CHK_ALG);
    let salt = [9u8; 32];
    b.extend_from_slice(&salt);
    if let Some((pw, ops, mem)) = password {
        let mut h = Blake2b256::new();
        h.update(SIG_ALG);
        h.update(&keynum_sk);
        keynum_sk.extend_from_slice(&h.finalize());
        let stream = scrypt_stream(pw.as_bytes(), &salt, ops, mem).unwrap();
        for (k, s) in keynum_sk.iter_mut().zip(stream.iter()) {
            *k ^= s;
        }
        b.extend_from_slice(&ops.to_le_bytes());
        b.extend_from_slice(&mem.to_le_bytes());
    } else {
        keynum_sk.extend_from_slice(&[0; 32]);
        b.extend_from_slice(&[0; 16]);
    }
    b.extend_from_slice(&keynum_sk);
    format!("untrusted comment: test key\n{}\n", STANDARD.encode(&b))
}

#[test]
fn encrypted_keys_need_their_password() {
    let file = key_file(&[3; 32], [1; 8], Some(("hunter2", 1 << 16, 1 << 22)));
    let key = SecretKey::parse(&file, || Ok(Zeroizing::new("hunter2".to_owned()))).unwrap();
    let sig = key.sign(b"data", "file:data\thashed").unwrap();
    assert!(key.public().verify(b"data", &sig).is_ok());
    let wrong = SecretKey::parse(&file, || Ok(Zeroizing::new("hunter3".to_owned()))).unwrap_err();
    assert!(format!("{wrong:#}").contains("wrong password"), "{wrong:#}");
    let missing = SecretKey::parse(&file, || anyhow::bail!("no password given")).unwrap_err();
    assert!(format!("{missing:#}").contains("no password given"));
}

#[test]
fn scrypt_parameters_are_libsodiums() {
    // crypto_pwhash_scryptsalsa208sha256_{OPSLIMIT,MEMLIMIT}_SENSITIVE: what minisign uses.
    assert_eq!(pick_params(33_554_432, 1_073_741_824), (20, 8, 1));
    // …_INTERACTIVE.
    assert_eq!(pick_params(524_288, 16_777_216), (14, 8, 1));
    // Few operations for much memory: N from the operations.
    assert_eq!(pick_params(1 << 16, 1 << 30), (11, 8, 1));
}

#[test]
fn keys_asking_for_too_much_memory_or_damaged_are_refused() {
    let err = scrypt_stream(b"pw", &[0; 32], 1 << 40, 1 << 40).unwrap_err();
    assert!(format!("{err:#}").contains("minisign -C"), "{err:#}");
    // A flipped bit in the public half of an unencrypted key.
    let mut b = STANDARD.decode(SECRET.lines().nth(1).unwrap()).unwrap();
    b[54 + 8 + 40] ^= 1;
    let damaged = format!("untrusted comment: x\n{}\n", STANDARD.encode(&b));
    let err = SecretKey::parse(&damaged, no_password).unwrap_err();
    assert!(format!("{err:#}").contains("damaged"), "{err:#}");
    for bad in [
        "",
        "untrusted comment: x\n",
        "untrusted comment: x\nRWQ=\n",
        "hello\nRWQ\n",
    ] {
        assert!(SecretKey::parse(bad, no_password).is_err(), "{bad:?}");
        assert!(PublicKey::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn key_files_over_the_limit_are_refused_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = camino::Utf8Path::from_path(dir.path())
        .unwrap()
        .join("big.pub");
    let size = usize::try_from(MAX_KEY_BYTES).unwrap();
    std::fs::write(&path, "x".repeat(size)).unwrap();
    assert_eq!(read_small(&path, "public key").unwrap().len(), size);
    std::fs::write(&path, "x".repeat(size + 1)).unwrap();
    let err = read_small(&path, "public key").unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "the public key `{path}` is larger than 65536 bytes, the limit for a key file; refusing to read it"
        )
    );
}
