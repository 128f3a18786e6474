//! Issue 21, "bounded readers" (findings 3, 4 and 5): an archive or binary crafted to
//! make a reader use memory or time out of proportion to its size, put into a real
//! out dir with every hash fixed up, so only the reader stands in its way. `verify`
//! runs in a child process under a 1 GiB address-space limit (`prlimit --as`) and is
//! killed after 60 s: it must finish, exit 4, and print a problem naming the file
//! and the limit, in lines of bounded length.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{EPOCH, edit_manifest, multiarch, require, run, sha256_hex};

/// The address space `verify` gets: far above what it needs, far below what the
/// crafted files made it take before.
const ADDRESS_SPACE: u64 = 1 << 30;
/// How long `verify` may take before the test kills it.
const DEADLINE: Duration = Duration::from_secs(60);
/// The most output `verify` may print, and the longest line.
const MAX_OUTPUT: u64 = 64 << 10;
const MAX_LINE: usize = 2000;

/// A packaged `hello` (both platforms) in a fresh out dir.
fn packaged() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let fixture = crate::support::shared_fixture("hello");
    run(multiarch(&fixture)
        .arg("package")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(crate::support::shared_target_dir("hello"))
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    out
}

/// The path of the first artifact of `kind` in `out`'s manifest.
fn first(out: &Path, kind: &str) -> String {
    let m: Value = crate::support::json(&out.join("manifest.json"));
    m["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Puts `bytes` at `new_path` in `out` in place of the artifact at `old_path` (and its
/// sidecar, for an archive), with the manifest, provenance and SHA256SUMS fixed up.
fn replace(out: &Path, old_path: &str, new_path: &str, bytes: &[u8]) {
    let sha = sha256_hex(bytes);
    if old_path != new_path {
        std::fs::remove_file(out.join(old_path)).unwrap();
    }
    std::fs::write(out.join(new_path), bytes).unwrap();
    if std::fs::remove_file(out.join(format!("{old_path}.sha256"))).is_ok() {
        let name = Path::new(new_path).file_name().unwrap().to_str().unwrap();
        std::fs::write(
            out.join(format!("{new_path}.sha256")),
            format!("{sha}  {name}\n"),
        )
        .unwrap();
    }
    edit_manifest(out, |m| {
        let a = m["artifacts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["path"] == old_path)
            .unwrap();
        a["path"] = new_path.into();
        a["sha256"] = sha.clone().into();
        a["size"] = bytes.len().into();
    });
}

/// What a bounded `verify` did.
struct Bounded {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `verify --out-dir OUT` under [`ADDRESS_SPACE`], killed after [`DEADLINE`]; fails
/// the test when it is killed, or prints more than [`MAX_OUTPUT`] or a line longer
/// than [`MAX_LINE`].
fn bounded_verify(out: &Path) -> Bounded {
    require("prlimit");
    let logs = tempfile::tempdir().unwrap();
    let (so, se) = (logs.path().join("stdout"), logs.path().join("stderr"));
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={ADDRESS_SPACE}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_cargo-multiarch"))
        .args(["multiarch", "verify", "--out-dir"])
        .arg(out)
        .current_dir(out)
        .env("NO_COLOR", "1")
        // glibc reserves 64 MiB of address space per thread arena; keep that small.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&so).unwrap())
        .stderr(std::fs::File::create(&se).unwrap());
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`verify` was still running after {DEADLINE:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |path: &Path| {
        let len = std::fs::metadata(path).unwrap().len();
        assert!(
            len <= MAX_OUTPUT,
            "`verify` printed {len} bytes to {}",
            path.display()
        );
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let longest = text.lines().map(str::len).max().unwrap_or(0);
        assert!(
            longest <= MAX_LINE,
            "`verify` printed a line of {longest} bytes"
        );
        text
    };
    let (stdout, stderr) = (read(&so), read(&se));
    assert!(
        status.code().is_some(),
        "`verify` was killed ({status}), out of memory under {ADDRESS_SPACE} bytes of address space?\n{stderr}"
    );
    Bounded {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// `r` failed verification (exit 4) with a problem line about `path` containing `what`.
#[track_caller]
fn refused(r: &Bounded, path: &str, what: &str) {
    assert_eq!(r.code, Some(4), "{}\n{}", r.stdout, r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.lines()
            .any(|l| l.contains(&format!("{path}: ")) && l.contains(what)),
        "no problem naming `{path}` and `{what}`:\n{all}"
    );
}

/// A zip of `n` STORED entries whose data each run to the end of `payload`: entry `k`'s
/// local header is followed by those of entries `k + 1…` and then the payload, every
/// CRC valid (computed back to front with `Crc::combine`).
fn nested_stored_zip(n: usize, payload: &[u8]) -> Vec<u8> {
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    let mut crc_next = flate2::Crc::new();
    crc_next.update(payload);
    let mut len_next = payload.len();
    let mut headers: Vec<Vec<u8>> = Vec::with_capacity(n);
    for k in (0..n).rev() {
        let name = format!("e{k:05}");
        let size = u32::try_from(len_next).unwrap();
        let mut h = Vec::new();
        le32(&mut h, 0x0403_4b50);
        for v in [20, 1 << 11, 0, 0, 0x21] {
            le16(&mut h, v);
        }
        for v in [crc_next.sum(), size, size] {
            le32(&mut h, v);
        }
        le16(&mut h, u16::try_from(name.len()).unwrap());
        le16(&mut h, 0);
        h.extend_from_slice(name.as_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(&h);
        crc.combine(&crc_next);
        crc_next = crc;
        len_next += h.len();
        headers.push(h);
    }
    headers.reverse();
    let mut file = headers.concat();
    file.extend_from_slice(payload);
    let mut central = Vec::new();
    let mut at = 0u32;
    for h in &headers {
        le32(&mut central, 0x0201_4b50);
        for v in [0x0314, 20, 1 << 11, 0, 0, 0x21] {
            le16(&mut central, v);
        }
        central.extend_from_slice(&h[14..26]);
        for v in [u16::try_from(h.len() - 30).unwrap(), 0, 0, 0, 0] {
            le16(&mut central, v);
        }
        le32(&mut central, 0o100_644 << 16);
        le32(&mut central, at);
        central.extend_from_slice(&h[30..]);
        at += u32::try_from(h.len()).unwrap();
    }
    let cd_offset = u32::try_from(file.len()).unwrap();
    file.extend_from_slice(&central);
    le32(&mut file, 0x0605_4b50);
    let count = u16::try_from(n).unwrap();
    for v in [0, 0, count, count] {
        le16(&mut file, v);
    }
    le32(&mut file, u32::try_from(central.len()).unwrap());
    le32(&mut file, cd_offset);
    le16(&mut file, 0);
    file
}

/// Finding 4: a 6.5 MB zip of 20,000 STORED entries that all end at the end of the
/// data made `verify` hash each (100 GB in all); entries may not overlap now.
#[test]
fn verify_refuses_zip_entries_that_overlap() {
    let out = packaged();
    let zip = nested_stored_zip(20_000, &vec![0x5a; 5 << 20]);
    assert!(zip.len() < 7 << 20, "{}", zip.len());
    let old = first(out.path(), "archive");
    let new = old.replace(".tar.gz", ".zip");
    replace(out.path(), &old, &new, &zip);
    let r = bounded_verify(out.path());
    refused(
        &r,
        &new,
        "`e00001`: its bytes 36..5962880 overlap those of another entry (0..5962880); zip entries may not overlap",
    );
}

/// Finding 3: a fat Mach-O of 200 `fat_arch` entries at one offset with different
/// sizes made `verify` read and cache each slice whole (1.64 GB for 8.4 MB); the
/// header is checked before any slice is read now.
#[test]
fn verify_refuses_fat_macho_slices_that_share_bytes() {
    let out = packaged();
    let n: u32 = 200;
    let len: u32 = 8 << 20;
    let mut fat = Vec::with_capacity(len as usize);
    fat.extend_from_slice(&0xcafe_babeu32.to_be_bytes());
    fat.extend_from_slice(&n.to_be_bytes());
    for i in 0..n {
        for v in [0x0100_0007u32, 3, 4096, len - 4096 - i * 4096, 12] {
            fat.extend_from_slice(&v.to_be_bytes());
        }
    }
    fat.resize(4096, 0);
    // A thin Mach-O header at the slices' offset, so each slice parses as one.
    for v in [0xfeed_facfu32, 0x0100_0007, 3, 2, 0, 0, 0, 0] {
        fat.extend_from_slice(&v.to_le_bytes());
    }
    fat.resize(len as usize, 0);
    let bin = first(out.path(), "binary");
    replace(out.path(), &bin, &bin, &fat);
    let r = bounded_verify(out.path());
    refused(&r, &bin, "it has 200 fat slices, more than the limit of 16");
}

/// Finding 5: a `.tar.gz` whose GNU long name (`././@LongLink`) is 256 MiB (256 KB
/// compressed) made `verify` read it whole, several times over, and print it whole in
/// a problem line; a long name over 4096 bytes is refused from its header now.
#[test]
fn verify_refuses_a_tar_long_name_over_the_limit() {
    let out = packaged();
    let name_len: u64 = 256 << 20;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let mut write = |b: &[u8]| std::io::Write::write_all(&mut gz, b).unwrap();
    let header = |kind: tar::EntryType, name: &str, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        h.as_bytes().to_vec()
    };
    write(&header(
        tar::EntryType::GNULongName,
        "././@LongLink",
        name_len,
    ));
    let chunk = vec![b'n'; 1 << 20];
    for _ in 0..name_len >> 20 {
        write(&chunk);
    }
    write(&header(tar::EntryType::Regular, "short", 0));
    write(&[0; 1024]);
    let bytes = gz.finish().unwrap();
    assert!(bytes.len() < 1 << 20, "{}", bytes.len());
    let archive = first(out.path(), "archive");
    replace(out.path(), &archive, &archive, &bytes);
    let r = bounded_verify(out.path());
    refused(
        &r,
        &archive,
        "a GNU long name of 268435456 bytes, more than the limit of 4096; refusing to read it",
    );
}
