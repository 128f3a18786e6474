use super::*;
use crate::platform::Target;

fn t(s: &str) -> Target {
    crate::testgen::known(s)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn zig_targets_of_the_linux_triples() {
    let z = |s: &str| zig_target(&t(s));
    assert_eq!(
        z("aarch64-unknown-linux-musl"),
        Some(("aarch64-linux-musl".into(), None))
    );
    assert_eq!(
        z("x86_64-unknown-linux-musl"),
        Some(("x86_64-linux-musl".into(), None))
    );
    assert_eq!(
        z("armv7-unknown-linux-musleabihf"),
        Some((
            "arm-linux-musleabihf".into(),
            Some("generic+v7a+vfp3-d32+thumb2-neon")
        ))
    );
    assert_eq!(
        z("x86_64-unknown-linux-gnu.2.17"),
        Some(("x86_64-linux-gnu.2.17".into(), None))
    );
    assert_eq!(z("aarch64-apple-darwin"), None);
    assert_eq!(z("x86_64-pc-windows-gnu"), None);
}

#[test]
fn rustcs_musl_link_line_loses_what_zig_brings_itself() {
    let args = strs(&[
        "-m64",
        "/r/lib/rustlib/aarch64-unknown-linux-musl/lib/self-contained/crt1.o",
        "/r/lib/rustlib/aarch64-unknown-linux-musl/lib/self-contained/crti.o",
        "/r/lib/rustlib/aarch64-unknown-linux-musl/lib/self-contained/crtbegin.o",
        "/t/deps/cdep-1.o",
        "-Wl,--as-needed",
        "-lgcc_s",
        "-lc",
        "-Wl,--no-undefined-version",
        "-Wl,-znostart-stop-gc",
        "-Wl,--fix-cortex-a53-843419",
        "-nostartfiles",
        "/r/lib/rustlib/aarch64-unknown-linux-musl/lib/self-contained/crtend.o",
        "/r/lib/rustlib/aarch64-unknown-linux-musl/lib/self-contained/crtn.o",
        "/r/lib/rustlib/aarch64-unknown-linux-musl/lib/self-contained/rcrt1.o",
        "-o",
        "/t/deps/cdep-1",
    ]);
    assert_eq!(
        compiler_args("aarch64-linux-musl", None, &args),
        strs(&[
            "-target",
            "aarch64-linux-musl",
            "-fno-sanitize=all",
            "-m64",
            "/t/deps/cdep-1.o",
            "-Wl,--as-needed",
            "-lunwind",
            "-nostartfiles",
            "-o",
            "/t/deps/cdep-1",
        ])
    );
}

#[test]
fn cc_rs_target_flags_give_way_to_the_wrappers() {
    let args = strs(&[
        "--target=aarch64-unknown-linux-musl",
        "-target",
        "aarch64-unknown-linux-musl",
        "-O3",
        "-ffunction-sections",
        "-Wp,-U_FORTIFY_SOURCE",
        "-Wp,-MD,dep.d",
        "-c",
        "csrc/answer.c",
    ]);
    assert_eq!(
        compiler_args("aarch64-linux-musl", None, &args),
        strs(&[
            "-target",
            "aarch64-linux-musl",
            "-fno-sanitize=all",
            "-O3",
            "-ffunction-sections",
            "-Wp,-MD,dep.d",
            "-c",
            "csrc/answer.c",
        ])
    );
}

#[test]
fn march_and_cpu_per_architecture() {
    let f = |arg: &str, zt: &str| filter_args([arg], zt);
    assert_eq!(
        f("-march=armv8-a+crypto", "aarch64-linux-musl"),
        strs(&[
            "-mcpu=generic+crypto",
            "-Xassembler",
            "-march=armv8-a+crypto"
        ])
    );
    assert_eq!(
        f("-march=armv8-a", "aarch64-linux-musl"),
        strs(&["-mcpu=generic"])
    );
    assert!(f("-march=armv7-a", "arm-linux-musleabihf").is_empty());
    assert_eq!(
        f("-march=rv64gc", "riscv64-linux-gnu"),
        strs(&["-march=generic_rv64"])
    );
    assert_eq!(
        f("-march=x86-64", "x86_64-linux-musl"),
        strs(&["-march=x86-64"])
    );
    assert_eq!(
        compiler_args("arm-linux-musleabihf", Some("generic+v7a"), &[])[3],
        "-mcpu=generic+v7a"
    );
    // glibc keeps its libc and crt objects.
    assert_eq!(f("-lc", "x86_64-linux-gnu.2.17"), strs(&["-lc"]));
    assert_eq!(
        f("-eentry", "x86_64-linux-musl"),
        strs(&["-Wl,--entry=entry"])
    );
    assert_eq!(
        f("-export-dynamic", "x86_64-linux-musl"),
        strs(&["-export-dynamic"])
    );
}

#[test]
fn wrapper_scripts_are_stable_and_quoted() {
    let target = t("aarch64-unknown-linux-musl");
    let script = wrapper_script(
        "/opt/my tools/cargo-multiarch".into(),
        ("/py/ziglang/zig".into(), "0.17.1\n"),
        Tool::Cc,
        &target,
    );
    assert_eq!(
        script,
        "#!/bin/sh\n# Written by cargo-multiarch: `zig cc` (zig 0.17.1) for aarch64-unknown-linux-musl.\nMULTIARCH_ZIG_WRAPPER=$0\nexport MULTIARCH_ZIG_WRAPPER\nexec '/opt/my tools/cargo-multiarch' multiarch __zig /py/ziglang/zig cc aarch64-linux-musl - \"$@\"\n"
    );
    assert_eq!(
        linker_dir("/w/target".into()).join(linker_name(&target)),
        "/w/target/cargo-multiarch/zig/bin/cargo-multiarch-zig-cc-aarch64-unknown-linux-musl"
    );
    assert_eq!(
        wrapper_path("/w/target".into(), &target, Tool::Cxx),
        "/w/target/cargo-multiarch/zig/aarch64-unknown-linux-musl/c++"
    );
    assert_eq!(
        Tool::Ar.env_var("aarch64-unknown-linux-musl"),
        "AR_aarch64_unknown_linux_musl"
    );
}
