use std::fs;
use std::io::Cursor;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use super::*;

/// 2023-11-14 22:13:20 UTC.
const MTIME: u64 = 1_700_000_000;
const OPTS: Options = Options {
    mtime: MTIME,
    level: 6,
};

fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
    (dir, path)
}

fn bytes(path: &str, data: &[u8], mode: u32) -> Entry {
    Entry {
        path: path.to_owned(),
        source: Source::Bytes(data.to_vec()),
        mode,
    }
}

/// Windows-package-like entries, unsorted, one read from a file in `dir`.
fn sample(dir: &Utf8Path) -> Vec<Entry> {
    let license = dir.join("LICENSE");
    fs::write(&license, "MIT\n").unwrap();
    vec![
        bytes(
            "app-1.0-x86_64-pc-windows-gnu/app.exe",
            &b"MZ not really ".repeat(200),
            0o755,
        ),
        bytes("app-1.0-x86_64-pc-windows-gnu/README.md", b"# app\n", 0o644),
        Entry {
            path: "app-1.0-x86_64-pc-windows-gnu/LICENSE".to_owned(),
            source: Source::File(license),
            mode: 0o644,
        },
    ]
}

fn to_vec(entries: &[Entry], opts: &Options) -> Vec<u8> {
    let mut out = Vec::new();
    let (sha, size) = write_zip(entries, opts, &mut out).unwrap();
    assert_eq!(size, out.len() as u64);
    assert_eq!(sha, Sha256Hex::of(&out));
    out
}

fn sh(script: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", script])
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{script}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn zipinfo_lists_sorted_entries_with_unix_modes_and_one_time() {
    let (_t, dir) = tempdir();
    let zip = dir.join("app.zip");
    fs::write(&zip, to_vec(&sample(&dir), &OPTS)).unwrap();
    assert!(
        Command::new("zipinfo").arg("-h").output().is_ok(),
        "`zipinfo` is not installed (hint: run `scripts/setup`, which `scripts/test` runs)"
    );
    // `-T`: sortable decimal times; the DOS time has 2-second steps.
    let listing = sh(&format!("zipinfo -T '{zip}'"));
    let rows: Vec<String> = listing
        .lines()
        .filter(|l| l.starts_with(['-', 'd']))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {} {}", f[0], f[f.len() - 2], f[f.len() - 1])
        })
        .collect();
    assert_eq!(
        rows,
        [
            "drwxr-xr-x 20231114.221320 app-1.0-x86_64-pc-windows-gnu/",
            "-rw-r--r-- 20231114.221320 app-1.0-x86_64-pc-windows-gnu/LICENSE",
            "-rw-r--r-- 20231114.221320 app-1.0-x86_64-pc-windows-gnu/README.md",
            "-rwxr-xr-x 20231114.221320 app-1.0-x86_64-pc-windows-gnu/app.exe",
        ],
        "{listing}"
    );
    sh(&format!("unzip -tq '{zip}'"));
    sh(&format!(
        "cd '{dir}' && mkdir x && unzip -q '{zip}' -d x && cmp x/app-1.0-x86_64-pc-windows-gnu/LICENSE LICENSE && test -x x/app-1.0-x86_64-pc-windows-gnu/app.exe"
    ));

    // Python's zipfile: no extra fields, no comment, deflated files, the same bytes.
    let py = format!(
        r"
import zipfile, sys
z = zipfile.ZipFile('{zip}')
assert z.testzip() is None
for i in z.infolist():
    assert i.extra == b'' and i.comment == b'', i
    assert i.date_time == (2023, 11, 14, 22, 13, 20), i.date_time
    assert i.create_system == 3, i.create_system
    print(i.filename, oct(i.external_attr >> 16), i.compress_type)
assert z.read('app-1.0-x86_64-pc-windows-gnu/LICENSE') == b'MIT\n'
"
    );
    if Command::new("python3").arg("-V").output().is_ok() {
        let out = Command::new("python3").args(["-c", &py]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "app-1.0-x86_64-pc-windows-gnu/ 0o40755 0\n\
             app-1.0-x86_64-pc-windows-gnu/LICENSE 0o100644 8\n\
             app-1.0-x86_64-pc-windows-gnu/README.md 0o100644 8\n\
             app-1.0-x86_64-pc-windows-gnu/app.exe 0o100755 8\n"
        );
    }
}

#[test]
fn same_inputs_give_identical_bytes_and_read_back() {
    let (_t, dir) = tempdir();
    let a = to_vec(&sample(&dir), &OPTS);
    let mut reversed = sample(&dir);
    reversed.reverse();
    assert_eq!(to_vec(&reversed, &OPTS), a);
    assert_ne!(to_vec(&sample(&dir), &Options { mtime: 0, level: 6 }), a);
    let stored = to_vec(
        &sample(&dir),
        &Options {
            mtime: MTIME,
            level: 0,
        },
    );
    assert!(stored.len() > a.len());
    for z in [&a, &stored] {
        let listed = list(Cursor::new(z)).unwrap();
        let names: Vec<(&str, bool, u32, u64)> = listed
            .iter()
            .map(|l| (l.name.as_str(), l.dir, l.mode, l.size))
            .collect();
        assert_eq!(
            names,
            [
                ("app-1.0-x86_64-pc-windows-gnu", true, 0o755, 0),
                ("app-1.0-x86_64-pc-windows-gnu/LICENSE", false, 0o644, 4),
                ("app-1.0-x86_64-pc-windows-gnu/README.md", false, 0o644, 6),
                ("app-1.0-x86_64-pc-windows-gnu/app.exe", false, 0o755, 2800),
            ]
        );
        assert_eq!(listed[1].sha256, Some(Sha256Hex::of(b"MIT\n")));
    }
}

#[test]
fn dos_times_are_utc_and_clamped() {
    // 2023-11-14 22:13:20: time 22 × 2048 + 13 × 32 + 20 / 2, date 43 × 512 + 11 × 32 + 14.
    assert_eq!(dos_time(MTIME), (45_482, 22_382));
    assert_eq!(dos_time(0), (0, 33), "before 1980: 1980-01-01");
    // After 2107: 2107-12-31 23:59:58.
    assert_eq!(dos_time(u64::MAX), (49_021, 127 * 512 + 12 * 32 + 31));
    // 2000-02-29 00:00:01 (a leap day): 20 × 512 + 2 × 32 + 29.
    assert_eq!(dos_time(951_782_401), (0, 10_333));
}

#[test]
fn damaged_archives_are_errors_never_panics() {
    let (_t, dir) = tempdir();
    let good = to_vec(&sample(&dir), &OPTS);
    let err = |bytes: Vec<u8>| format!("{:#}", list(Cursor::new(bytes)).unwrap_err());
    assert!(err(b"PK".to_vec()).contains("too short"));
    assert!(err(vec![0; 100]).contains("no end of central directory"));
    // A flipped byte in the first file's data: its CRC no longer holds.
    let mut flipped = good.clone();
    let data_at = 30
        + "app-1.0-x86_64-pc-windows-gnu/".len()
        + 30
        + "app-1.0-x86_64-pc-windows-gnu/LICENSE".len();
    flipped[data_at] ^= 0xff;
    let e = err(flipped);
    assert!(e.contains("LICENSE"), "{e}");
    // Every truncation and every single-byte change is an error or a listing.
    for cut in 0..good.len() {
        let _ = list(Cursor::new(&good[..cut]));
    }
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] = b[i].wrapping_add(1);
        let _ = list(Cursor::new(b));
    }
}

/// A zip of `n` STORED entries whose data all run to the end of `payload`: entry `k`'s
/// local header is followed by the headers of entries `k + 1…` and the payload, each
/// with a valid CRC (finding 4 of issue 21, small).
fn nested_stored(n: usize, payload: &[u8]) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|k| format!("e{k:05}")).collect();
    let mut tail = payload.to_vec();
    let mut headers: Vec<Vec<u8>> = Vec::new();
    for name in names.iter().rev() {
        let mut crc = Crc::new();
        crc.update(&tail);
        let size = u32::try_from(tail.len()).unwrap();
        let mut h = Vec::new();
        put32(&mut h, LOCAL);
        for v in [NEEDED, UTF8, STORED, 0, 0] {
            put16(&mut h, v);
        }
        for v in [crc.sum(), size, size] {
            put32(&mut h, v);
        }
        put16(&mut h, u16::try_from(name.len()).unwrap());
        put16(&mut h, 0);
        h.extend_from_slice(name.as_bytes());
        tail.splice(0..0, h.iter().copied());
        headers.insert(0, h);
    }
    let mut central = Vec::new();
    let mut at = 0u32;
    for (name, h) in names.iter().zip(&headers) {
        put32(&mut central, CENTRAL);
        for v in [MADE_BY, NEEDED, UTF8, STORED, 0, 0] {
            put16(&mut central, v);
        }
        central.extend_from_slice(&h[14..26]);
        for v in [u16::try_from(name.len()).unwrap(), 0, 0, 0, 0] {
            put16(&mut central, v);
        }
        put32(&mut central, (S_IFREG | 0o644) << 16);
        put32(&mut central, at);
        central.extend_from_slice(name.as_bytes());
        at += u32::try_from(h.len()).unwrap();
    }
    let cd_offset = u32::try_from(tail.len()).unwrap();
    let count = u16::try_from(n).unwrap();
    let cd_size = u32::try_from(central.len()).unwrap();
    tail.extend_from_slice(&central);
    put32(&mut tail, END);
    for v in [0, 0, count, count] {
        put16(&mut tail, v);
    }
    put32(&mut tail, cd_size);
    put32(&mut tail, cd_offset);
    put16(&mut tail, 0);
    tail
}

#[test]
fn overlapping_entries_are_refused_before_they_are_hashed() {
    let payload = vec![7u8; 4096];
    // One entry alone is fine: the crafted file is a valid zip otherwise.
    let one = list(Cursor::new(nested_stored(1, &payload))).unwrap();
    assert_eq!((one[0].name.as_str(), one[0].size), ("e00000", 4096));
    let e = format!(
        "{:#}",
        list(Cursor::new(nested_stored(3, &payload))).unwrap_err()
    );
    assert_eq!(
        e,
        "`e00001`: its bytes 36..4204 overlap those of another entry (0..4204); zip entries may not overlap"
    );
    // Two central records of the same local header overlap too.
    let mut z = nested_stored(1, &payload);
    let cd_at = 36 + 4096;
    let record = z[cd_at..z.len() - 22].to_vec();
    z.splice(cd_at..cd_at, record.iter().copied());
    let end = z.len() - 22;
    z[end + 8..end + 12].copy_from_slice(&[2, 0, 2, 0]);
    z[end + 12..end + 16].copy_from_slice(&u32::try_from(2 * record.len()).unwrap().to_le_bytes());
    let e = format!("{:#}", list(Cursor::new(z)).unwrap_err());
    assert!(
        e.contains("`e00000`: its bytes 0..4132 overlap those of another entry (0..4132)"),
        "{e}"
    );
}
