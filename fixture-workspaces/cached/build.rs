use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=csrc");
    // Through cc-rs, which runs the compiler through sccache (`RUSTC_WRAPPER`).
    cc::Build::new().file("csrc/answer.c").compile("answer");
    // As `make` would: the compiler cc-rs chose, run directly, then the archiver.
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let obj = out.join("direct.o");
    let cc = cc::Build::new().get_compiler();
    let status = Command::new(cc.path())
        .args(cc.args())
        .args(["-c", "csrc/direct.c", "-o"])
        .arg(&obj)
        .status()
        .unwrap();
    assert!(status.success(), "{cc:?} failed");
    let status = cc::Build::new()
        .get_archiver()
        .arg("crs")
        .arg(out.join("libdirect.a"))
        .arg(&obj)
        .status()
        .unwrap();
    assert!(status.success(), "the archiver failed");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=direct");
}
