use std::process::Command;

use super::*;

/// A thin little-endian Mach-O 64 header with `cputype` and one `LC_LOAD_DYLIB`.
fn thin_macho(cputype: u32, dylib: &str) -> Vec<u8> {
    let mut name = dylib.as_bytes().to_vec();
    name.push(0);
    while !(24 + name.len()).is_multiple_of(8) {
        name.push(0);
    }
    let cmdsize = u32::try_from(24 + name.len()).unwrap();
    let mut b = Vec::new();
    for v in [0xfeed_facfu32, cputype, 0, 2, 1, cmdsize, 0, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    // LC_LOAD_DYLIB: cmd, cmdsize, name offset, timestamp, current, compatibility.
    for v in [0xcu32, cmdsize, 24, 0, 0, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&name);
    b
}

#[test]
fn thin_and_fat_macho_slices_and_their_dylibs() {
    let arm = thin_macho(0x0100_000c, "/usr/lib/libSystem.B.dylib");
    let b = parse(&arm).unwrap();
    assert_eq!(b.format, Format::MachO);
    assert_eq!(b.slices.len(), 1);
    assert_eq!((b.slices[0].arch, b.slices[0].bits), ("arm64", 64));
    assert_eq!(
        b.linkage,
        Linkage::Dynamic {
            interpreter: None,
            needed: vec!["/usr/lib/libSystem.B.dylib".into()]
        }
    );
    let p = |s: &str| Platform::parse(s).unwrap();
    assert!(b.problems(p("darwin/arm64"), "`darwin/arm64`").is_empty());
    let wrong = b.problems(p("darwin/amd64"), "`darwin/amd64`");
    assert_eq!(
        wrong,
        ["is a Mach-O arm64 binary, but `darwin/amd64` needs Mach-O x86_64"]
    );

    let t = tempfile::tempdir().unwrap();
    let dir = Utf8Path::from_path(t.path()).unwrap();
    let x86 = thin_macho(0x0100_0007, "/opt/homebrew/lib/libssl.3.dylib");
    std::fs::write(dir.join("x86"), &x86).unwrap();
    std::fs::write(dir.join("arm"), &arm).unwrap();
    let mut fat_bytes = Vec::new();
    fat::write(&[dir.join("x86"), dir.join("arm")], &mut fat_bytes).unwrap();
    // Offsets aligned: x86_64 at 4 KiB, arm64 at the next 16 KiB boundary.
    assert_eq!(&fat_bytes[..8], &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]);
    assert_eq!(&fat_bytes[16..20], &4096u32.to_be_bytes());
    assert_eq!(&fat_bytes[36..40], &16384u32.to_be_bytes());
    assert_eq!(&fat_bytes[4096..4096 + x86.len()], &x86[..]);
    assert_eq!(&fat_bytes[16384..], &arm[..]);
    std::fs::write(dir.join("fat"), &fat_bytes).unwrap();
    let fat = read(&dir.join("fat")).unwrap();
    let arches: Vec<&str> = fat.slices.iter().map(|s| s.arch).collect();
    assert_eq!(arches, ["amd64", "arm64"]);
    assert_eq!(
        fat.describe(),
        "a fat Mach-O binary (Mach-O x86_64, Mach-O arm64)"
    );
    // The right slices, but a dylib macOS does not ship.
    let problems = fat.problems(p("darwin/universal2"), "`darwin/universal2`");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .starts_with("loads `/opt/homebrew/lib/libssl.3.dylib`, which macOS does not ship"),
        "{problems:?}"
    );
    assert!(!fat.problems(p("darwin/arm64"), "`darwin/arm64`").is_empty());
    if Command::new("file").arg("--version").output().is_ok() {
        let out = Command::new("file").arg(dir.join("fat")).output().unwrap();
        let out = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.contains("Mach-O universal binary with 2 architectures"),
            "{out}"
        );
    }
    // Two slices for one CPU, or a slice that is not Mach-O, are refused.
    assert!(fat::write(&[dir.join("arm"), dir.join("arm")], &mut Vec::new()).is_err());
    std::fs::write(dir.join("elf"), b"\x7fELF....").unwrap();
    assert!(fat::write(&[dir.join("elf")], &mut Vec::new()).is_err());
}

#[test]
fn pe_headers_give_machine_bitness_and_dlls() {
    // The forwarder DLL verify writes for wine is a minimal real PE32+ file.
    let dll = crate::verify::bcryptprimitives_forwarder_for_tests();
    let b = parse(&dll).unwrap();
    assert_eq!(b.format, Format::Pe);
    assert_eq!((b.slices[0].arch, b.slices[0].bits), ("amd64", 64));
    assert_eq!(b.slices[0].machine, "PE32+ AMD64 (0x8664)");
    assert_eq!(
        b.linkage,
        Linkage::Dynamic {
            interpreter: None,
            needed: vec![]
        }
    );
    let p = |s: &str| Platform::parse(s).unwrap();
    assert!(b.problems(p("windows/amd64"), "`windows/amd64`").is_empty());
    assert_eq!(
        b.problems(p("linux/amd64"), "`linux/amd64`"),
        ["is a PE32+ AMD64 (0x8664) binary, but `linux/amd64` needs ELF64 x86-64"]
    );
    assert_eq!(
        b.problems(p("windows/arm64"), "`windows/arm64`"),
        ["is a PE32+ AMD64 (0x8664) binary, but `windows/arm64` needs PE32+ ARM64"]
    );
    let mingw = Binary {
        linkage: Linkage::Dynamic {
            interpreter: None,
            needed: vec!["KERNEL32.dll".into(), "libgcc_s_seh-1.dll".into()],
        },
        ..b
    };
    let problems = mingw.problems(p("windows/amd64"), "`windows/amd64`");
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("loads `libgcc_s_seh-1.dll`, which Windows does not ship"));
}

#[test]
fn elf_slices_name_their_oci_arch() {
    let info = |machine, class, little_endian| elf::ElfInfo {
        class,
        little_endian,
        machine,
        file_type: 2,
        linkage: Linkage::Static,
    };
    for (m, c, le, arch) in [
        (62, 64, true, "amd64"),
        (3, 32, true, "386"),
        (183, 64, true, "arm64"),
        (40, 32, true, "arm"),
        (21, 64, true, "ppc64le"),
        (22, 64, false, "s390x"),
        (8, 64, true, "mips64le"),
        (258, 64, true, "loong64"),
        (243, 64, true, "riscv64"),
        (999, 64, true, "unknown"),
    ] {
        let b = from_elf(&info(m, c, le));
        assert_eq!(b.slices[0].arch, arch, "{m}");
        if arch != "unknown" {
            assert_eq!(elf_machine(arch), Some((m, c)), "{arch}");
        }
    }
    let b = from_elf(&info(3, 32, true));
    assert_eq!(b.describe(), "an ELF32 Intel 80386 binary");
    assert_eq!(
        b.problems(Platform::parse("linux/amd64").unwrap(), "`linux/amd64`"),
        ["is an ELF32 Intel 80386 binary, but `linux/amd64` needs ELF64 x86-64"]
    );
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    for bytes in [
        &b""[..],
        b"MZ",
        b"\xca\xfe\xba\xbe\0\0\0\x05",
        b"\xcf\xfa\xed\xfe",
        b"hello",
    ] {
        assert!(parse(bytes).is_err(), "{bytes:?}");
    }
    let dll = crate::verify::bcryptprimitives_forwarder_for_tests();
    for cut in 0..dll.len() {
        let _ = parse(&dll[..cut]);
    }
    for i in 0..dll.len() {
        let mut b = dll.clone();
        b[i] ^= 0x5a;
        let _ = parse(&b);
    }
}

/// A fat header of `slices` (offset, size) of a file `len` bytes long, slices zeroed.
fn fat_of(slices: &[(u32, u32)], len: usize) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xcafe_babeu32.to_be_bytes());
    b.extend_from_slice(&u32::try_from(slices.len()).unwrap().to_be_bytes());
    for &(offset, size) in slices {
        for v in [0x0100_0007u32, 3, offset, size, 12] {
            b.extend_from_slice(&v.to_be_bytes());
        }
    }
    b.resize(len.max(b.len()), 0);
    b
}

/// Finding 3 of issue 21: a fat header is checked before any slice is read: slices in
/// the file, distinct, not overlapping each other or the header, and few.
#[test]
fn fat_slices_must_be_distinct_in_bounds_and_few() {
    let err = |bytes: &[u8]| format!("{:#}", parse(bytes).unwrap_err());
    // 200 slices at one offset, each larger than the last (finding 3's file, smaller).
    let same: Vec<(u32, u32)> = (0..200).map(|i| (4096, 4096 + i)).collect();
    let e = err(&fat_of(&same, 8192 + 200));
    assert_eq!(e, "it has 200 fat slices, more than the limit of 16");
    let e = err(&fat_of(&[(4096, 100), (4096, 200)], 8192));
    assert!(e.contains("fat slices overlap each other or the fat header (one starts at byte 4096, before byte 4196)"), "{e}");
    let e = err(&fat_of(&[(4096, 100), (4000, 200)], 8192));
    assert!(e.contains("overlap"), "{e}");
    let e = err(&fat_of(&[(20, 100)], 8192));
    assert!(e.contains("one starts at byte 20, before byte 28"), "{e}");
    let e = err(&fat_of(&[(4096, 8192)], 8192));
    assert!(
        e.contains("a fat slice (bytes 4096..12288) is empty or not inside the file (8192 bytes)"),
        "{e}"
    );
    let e = err(&fat_of(&[(4096, 0)], 8192));
    assert!(e.contains("is empty"), "{e}");
    // Through a file too (the `ReadCache` path `verify` takes).
    let dir = tempfile::tempdir().unwrap();
    let path = camino::Utf8Path::from_path(dir.path()).unwrap().join("fat");
    std::fs::write(&path, fat_of(&same, 8192 + 200)).unwrap();
    let e = format!("{:#}", read(&path).unwrap_err());
    assert!(
        e.ends_with("it has 200 fat slices, more than the limit of 16"),
        "{e}"
    );
}

/// A Mach-O that loads more libraries than the limit is refused at the first one over.
#[test]
fn macho_libraries_are_bounded() {
    let one = thin_macho(0x0100_000c, "/usr/lib/libSystem.B.dylib");
    let command = one[32..].to_vec();
    let many = |n: u32| {
        let mut b = one[..32].to_vec();
        b[16..20].copy_from_slice(&n.to_le_bytes());
        let size = u32::try_from(command.len()).unwrap() * n;
        b[20..24].copy_from_slice(&size.to_le_bytes());
        for _ in 0..n {
            b.extend_from_slice(&command);
        }
        b
    };
    let limit = u32::try_from(crate::limits::MAX_LIBRARIES).unwrap();
    assert!(parse(&many(limit)).is_ok());
    let err = format!("{:#}", parse(&many(limit + 1)).unwrap_err());
    assert_eq!(err, "it has 1025 libraries, more than the limit of 1024");
}
