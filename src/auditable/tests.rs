use std::io::Read as _;

use super::*;
use crate::sbom::graph::Crate;

fn cfg(pairs: &[(&str, &str)]) -> Vec<Cfg> {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{v}\"").parse().unwrap())
        .collect()
}

fn linux(arch: &str, bits: &str) -> Vec<Cfg> {
    cfg(&[
        ("target_arch", arch),
        ("target_endian", "little"),
        ("target_os", "linux"),
        ("target_pointer_width", bits),
        ("target_vendor", "unknown"),
    ])
}

fn krate(name: &str, source: Source, kind: Kind, root: bool, deps: &[usize]) -> Crate {
    Crate {
        name: name.to_owned(),
        version: "1.2.3".to_owned(),
        source,
        kind,
        root,
        proc_macro: false,
        license: None,
        checksum: None,
        links: None,
        c_code: Vec::new(),
        dependencies: deps.to_vec(),
    }
}

fn graph() -> Graph {
    let io = Source::Registry {
        index: "https://github.com/rust-lang/crates.io-index".to_owned(),
    };
    Graph {
        package: "app".to_owned(),
        crates: vec![
            krate(
                "app",
                Source::Path {
                    path: ".".to_owned(),
                },
                Kind::Runtime,
                true,
                &[1, 2],
            ),
            krate("cc", io.clone(), Kind::Build, false, &[]),
            krate(
                "g",
                Source::Git {
                    url: "https://x/y".to_owned(),
                    rev: "abc".to_owned(),
                },
                Kind::Runtime,
                false,
                &[],
            ),
        ],
    }
}

#[test]
fn version_info_is_cargo_auditable_s_json() {
    assert_eq!(
        version_info(&graph()),
        r#"{"packages":[{"dependencies":[1,2],"name":"app","root":true,"source":"local","version":"1.2.3"},{"kind":"build","name":"cc","source":"crates.io","version":"1.2.3"},{"name":"g","source":"git","version":"1.2.3"}],"format":1}"#
    );
    let z = compress(&version_info(&graph()));
    assert_eq!(z[0], 0x78, "a zlib header");
    let mut back = String::new();
    flate2::read::ZlibDecoder::new(&z[..])
        .read_to_string(&mut back)
        .unwrap();
    assert_eq!(back, version_info(&graph()));
}

/// The ELF header fields of an object: (class, machine, flags), and whether `.dep-v0`
/// and `contents` are in it.
fn elf_header(bytes: &[u8]) -> (u8, u16, u32) {
    assert_eq!(&bytes[..4], b"\x7fELF");
    let class = bytes[4];
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    let at = if class == 2 { 48 } else { 36 };
    let flags = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    (class, machine, flags)
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn object_files_carry_the_section_for_each_architecture_with_its_flags() {
    let data = b"zlib bytes here";
    let x86 = object_file("x86_64-unknown-linux-musl", &linux("x86_64", "64"), data).unwrap();
    assert_eq!(elf_header(&x86), (2, 62, 0));
    assert!(holds(&x86, b".dep-v0") && holds(&x86, data) && holds(&x86, b"AUDITABLE_VERSION_INFO"));
    let arm64 = object_file("aarch64-unknown-linux-musl", &linux("aarch64", "64"), data).unwrap();
    assert_eq!(elf_header(&arm64), (2, 183, 0));
    let mut armhf = linux("arm", "32");
    armhf.extend(cfg(&[("target_abi", "eabihf")]));
    let arm32 = object_file("armv7-unknown-linux-musleabihf", &armhf, data).unwrap();
    assert_eq!(
        elf_header(&arm32),
        (1, 40, elf::EF_ARM_EABI_VER5.0 | elf::EF_ARM_ABI_FLOAT_HARD)
    );
    let rv = object_file("riscv64gc-unknown-linux-gnu", &linux("riscv64", "64"), data).unwrap();
    assert_eq!(
        elf_header(&rv),
        (
            2,
            243,
            elf::EF_RISCV_RVC.0 | elf::EF_RISCV_FLOAT_ABI_DOUBLE.0
        )
    );
    let win = cfg(&[
        ("target_arch", "x86_64"),
        ("target_os", "windows"),
        ("target_pointer_width", "64"),
        ("target_vendor", "pc"),
    ]);
    let coff = object_file("x86_64-pc-windows-gnu", &win, data).unwrap();
    assert_eq!(u16::from_le_bytes([coff[0], coff[1]]), 0x8664, "COFF AMD64");
    assert!(holds(&coff, b".dep-v0") && holds(&coff, data));
    assert_eq!(
        keep("x86_64-pc-windows-gnu", &win),
        Keep::Undefined(SYMBOL.to_owned())
    );
    let mac = cfg(&[
        ("target_arch", "aarch64"),
        ("target_os", "macos"),
        ("target_pointer_width", "64"),
        ("target_vendor", "apple"),
    ]);
    let macho = object_file("aarch64-apple-darwin", &mac, data).unwrap();
    assert_eq!(&macho[..4], &[0xcf, 0xfa, 0xed, 0xfe], "Mach-O 64");
    assert_eq!(
        keep("aarch64-apple-darwin", &mac),
        Keep::Undefined(format!("_{SYMBOL}"))
    );
    assert_eq!(
        keep("x86_64-pc-windows-msvc", &win),
        Keep::MsvcInclude(SYMBOL.to_owned())
    );
    let err = object_file(
        "wasm32-unknown-unknown",
        &cfg(&[("target_arch", "wasm32")]),
        data,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`--auditable`") && err.contains("hint:"),
        "{err}"
    );
}

/// Runs a wrapper script with a stand-in rustc that prints its arguments.
fn run_wrapper(script: &Utf8Path, args: &[&str], primary: bool) -> String {
    let mut cmd = std::process::Command::new(script);
    cmd.arg("echo").args(args).env("CARGO_PKG_NAME", "app");
    if primary {
        cmd.env("CARGO_PRIMARY_PACKAGE", "1");
    } else {
        cmd.env_remove("CARGO_PRIMARY_PACKAGE");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[test]
fn the_wrapper_links_the_object_into_selected_binaries_only_and_is_content_addressed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Utf8Path::from_path(tmp.path()).unwrap();
    let t = crate::testgen::known("x86_64-unknown-linux-musl");
    let targets = vec![TargetGraphs {
        target: t,
        cfg: linux("x86_64", "64"),
        graphs: vec![graph()],
    }];
    let (w, wrote) = prepare(dir, Utf8Path::new(crate::backend::CROSS_TARGET), &targets).unwrap();
    assert!(wrote);
    assert_eq!(w.name, "cargo-multiarch-auditable");
    let (again, wrote) =
        prepare(dir, Utf8Path::new(crate::backend::CROSS_TARGET), &targets).unwrap();
    assert_eq!(
        (again.clone(), wrote),
        (w.clone(), false),
        "the same lists: nothing written"
    );
    let first_path = w
        .path
        .to_str()
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let script = Utf8PathBuf::from(&first_path).join(&w.name);
    let object = Utf8PathBuf::from(&first_path).join("x86_64-unknown-linux-musl/app.o");
    assert!(object.is_file());
    assert!(
        w.cross_program
            .starts_with("/target/cargo-multiarch/auditable/")
    );

    let link = format!("-Clink-arg={object}");
    let bin = [
        "--crate-name",
        "app",
        "--crate-type",
        "bin",
        "--target",
        "x86_64-unknown-linux-musl",
    ];
    assert_eq!(
        run_wrapper(&script, &bin, true),
        format!(
            "{} {link} -Clink-arg=-Wl,-u,AUDITABLE_VERSION_INFO",
            bin.join(" ")
        )
    );
    // A bare linker takes `-u SYM` itself.
    let lld = [
        "--crate-type=bin",
        "--target=x86_64-unknown-linux-musl",
        "-C",
        "linker=rust-lld",
    ];
    assert_eq!(
        run_wrapper(&script, &lld, true),
        format!(
            "{} {link} -Clink-arg=-u -Clink-arg=AUDITABLE_VERSION_INFO",
            lld.join(" ")
        )
    );
    // Not primary, not a bin, a build script (no --target), another target: untouched.
    for (args, primary) in [
        (&bin[..], false),
        (
            &[
                "--crate-type",
                "lib",
                "--target",
                "x86_64-unknown-linux-musl",
            ][..],
            true,
        ),
        (
            &["--crate-name", "build_script_build", "--crate-type", "bin"][..],
            true,
        ),
        (
            &[
                "--crate-type",
                "bin",
                "--target",
                "aarch64-unknown-linux-musl",
            ][..],
            true,
        ),
        (&["-vV"][..], true),
    ] {
        assert_eq!(
            run_wrapper(&script, args, primary),
            args.join(" "),
            "{args:?}"
        );
    }

    // Another dependency list: another wrapper name (so cargo relinks).
    let mut other = targets.clone();
    other[0].graphs[0].crates[2].version = "1.2.4".to_owned();
    let (w2, wrote) = prepare(dir, Utf8Path::new(crate::backend::CROSS_TARGET), &other).unwrap();
    assert!(wrote);
    assert_eq!(w2.name, w.name, "one name for cargo");
    assert_ne!(
        w2.path, w.path,
        "another directory, so no run overwrites another's"
    );
}
