use super::*;
use crate::plan::{Facts, choose};

const ARM: &str = "aarch64-unknown-linux-musl";
const X86: &str = "x86_64-unknown-linux-musl";

fn target(triple: &str) -> TargetPlan {
    choose(&crate::testgen::known(triple), &Facts::default(), None)
}

/// The reports of what a call printed on stderr.
fn reports(stderr: &str) -> Vec<Report> {
    let mut c = Collector::default();
    for line in stderr.lines() {
        c.line(&strip_ansi(line));
    }
    c.finish()
}

fn failure(stderr: &str, triple: &str) -> Failure {
    Failure::of(
        Backend::Cargo,
        &reports(stderr),
        "exit status: 101",
        &[triple],
        &[X86, ARM],
    )
}

const E0382: &str = "   Compiling app v0.1.0 (/w/app)
error[E0382]: borrow of moved value: `s`
 --> src/main.rs:4:20
  |
4 |     println!(\"{s}\");
  |               ^^^ value borrowed here after move

For more information about this error, try `rustc --explain E0382`.
error: could not compile `app` (bin \"app\") due to 1 previous error
error[E0382]: borrow of moved value: `s`
 --> src/main.rs:4:20
error: could not compile `app` (bin \"app\") due to 1 previous error
";

#[test]
fn a_rust_compile_error_is_never_fixable_by_another_backend() {
    for triple in [X86, ARM] {
        let f = failure(E0382, triple);
        assert!(!f.fixable_by_fallback(&target(triple)));
        assert_eq!(f.first_line(), "error[E0382]: borrow of moved value: `s`");
    }
    let f = failure(
        "\x1b[1m\x1b[31merror\x1b[0m: onlyamd does not support aarch64\n",
        ARM,
    );
    assert!(!f.fixable_by_fallback(&target(ARM)));
    assert_eq!(f.first_line(), "error: onlyamd does not support aarch64");
}

#[test]
fn a_linker_or_c_compiler_failure_is_fixable_and_belongs_to_its_target() {
    let link = "error: linking with `cc` failed: exit status: 1
  |
  = note: \"cc\" \"/t/aarch64-unknown-linux-musl/release/deps/app-1.o\" \"-nodefaultlibs\"
  = note: /usr/bin/ld: /t/aarch64-unknown-linux-musl/release/deps/app-1.o: Relocations in generic ELF (EM: 183)
          collect2: error: ld returned 1 exit status

error: could not compile `app` (bin \"app\") due to 1 previous error
";
    let f = failure(link, ARM);
    assert!(f.fixable_by_fallback(&target(ARM)));
    assert_eq!(
        f.first_line(),
        "error: linking with `cc` failed: exit status: 1"
    );
    // The x86_64 target of the same call is not blamed for it (only the trailer, which
    // names no target, is left).
    let other = failure(link, X86);
    assert!(!other.fixable_by_fallback(&target(X86)));
    assert_eq!(other.reports.len(), 1);

    let cc = "error: failed to run custom build command for `cdep v0.1.0 (/w/cdep)`

Caused by:
  process didn't exit successfully: `/t/release/build/cdep-1/build-script-build` (exit status: 1)
  --- stdout
  TARGET = Some(aarch64-unknown-linux-musl)
  HOST = Some(x86_64-unknown-linux-musl)
  cargo:rerun-if-env-changed=CC_aarch64-unknown-linux-musl
  --- stderr


  error occurred in cc-rs: failed to find tool \"aarch64-linux-musl-gcc\": No such file or directory (os error 2)
";
    let f = failure(cc, ARM);
    assert!(f.fixable_by_fallback(&target(ARM)));
    assert_eq!(
        f.first_line(),
        "error: failed to run custom build command for `cdep v0.1.0 (/w/cdep)`"
    );
    // `HOST` names x86_64, but the build script ran for `TARGET`.
    assert!(!failure(cc, X86).fixable_by_fallback(&target(X86)));
    // A missing C runtime library is the toolchain's too.
    let f = failure(
        "error: linking with `cc` failed: exit status: 1\n  = note: ld: cannot find -lgcc_s\n",
        ARM,
    );
    assert!(f.fixable_by_fallback(&target(ARM)));
}

#[test]
fn a_missing_system_library_is_not_retried_and_names_the_feature_that_bundles_it() {
    let probes = Probes::default();
    let openssl = "error: failed to run custom build command for `openssl-sys v0.9.109`

Caused by:
  --- stderr
  Could not find directory of OpenSSL installation, and this `-sys` crate cannot
  proceed without this knowledge.
  pkg-config has not been configured to support cross-compilation.
";
    let t = target(ARM);
    let f = failure(openssl, ARM);
    assert!(!f.fixable_by_fallback(&t));
    assert!(f.hint(&t, &probes).is_none(), "zig would not help");
    let hint = f.system_lib(&t).unwrap().lacking(&[t.target.to_string()]);
    assert!(
        hint.contains("system's OpenSSL through `openssl-sys`"),
        "{hint}"
    );
    assert!(
        hint.contains("feature `vendored` of `openssl-sys`"),
        "{hint}"
    );

    let f = failure(
        "error: linking with `cc` failed: exit status: 1\n  = note: ld: cannot find -lssl: No such file or directory\n",
        ARM,
    );
    assert!(!f.fixable_by_fallback(&t));
    assert_eq!(f.system_lib(&t).unwrap().package, "openssl-sys");

    // An unknown build script that fails is not a backend's to fix either.
    let f = failure(
        "error: failed to run custom build command for `gen v0.1.0`\n  --- stderr\n  thread 'main' panicked\n",
        ARM,
    );
    assert!(!f.fixable_by_fallback(&t));
    assert!(f.hint(&t, &probes).is_none());
    assert!(f.system_lib(&t).is_none());
    assert_eq!(
        Failure::of(Backend::Cargo, &[], "exit status: 101", &[ARM], &[ARM]).first_line(),
        "exited with exit status: 101"
    );
}

#[test]
fn ansi_is_stripped() {
    assert_eq!(strip_ansi("\x1b[1m\x1b[31merror\x1b[0m: x"), "error: x");
}
