use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::MetadataCommand;

use super::*;
use crate::process::Process;
use crate::testgen::write_file as write;

const GNU: &str = "x86_64-unknown-linux-gnu";
const MUSL: &str = "x86_64-unknown-linux-musl";

/// A library `name` at `dir/name` with `extra` manifest text; a build script when
/// `build`, a proc-macro crate when `proc_macro`.
fn lib(dir: &Utf8Path, name: &str, build: bool, proc_macro: bool, extra: &str) {
    let lib = if proc_macro {
        "[lib]\nproc-macro = true\n"
    } else {
        ""
    };
    write(
        dir,
        &format!("{name}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{lib}\n{extra}"
        ),
    );
    write(dir, &format!("{name}/src/lib.rs"), "");
    if build {
        write(dir, &format!("{name}/build.rs"), "fn main() {}\n");
    }
}

/// A path-only workspace (no network) with every kind of unit: bins and a lib of the
/// root, plain and platform-only dependencies, an optional one turned on by a `dep:`
/// feature and one optional on Linux but not on Windows, a proc-macro with a dependency
/// of its own, build scripts with build dependencies (one shared with a target's
/// graph, one with a build script itself), and a dev-dependency that is never built.
fn workspace() -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Utf8PathBuf::try_from(tmp.path().to_owned()).unwrap();
    write(
        &dir,
        "Cargo.toml",
        r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"

[workspace]

[[bin]]
name = "one"
path = "src/one.rs"

[[bin]]
name = "two"
path = "src/two.rs"

[dependencies]
plain = { path = "plain" }
pm = { path = "pm" }
withbuild = { path = "withbuild" }
featdep = { path = "featdep", optional = true }

[target.'cfg(target_env = "musl")'.dependencies]
musldep = { path = "musldep" }

[target.'cfg(windows)'.dependencies]
windep = { path = "windep" }
# Optional here, plain on Windows: the resolve has the edge, Linux builds none.
winish = { path = "winish" }

[target.'cfg(unix)'.dependencies]
winish = { path = "winish", optional = true }

[features]
default = ["f"]
f = ["dep:featdep"]

[dev-dependencies]
devdep = { path = "devdep" }
"#,
    );
    write(&dir, "src/lib.rs", "");
    write(&dir, "src/one.rs", "fn main() {}\n");
    write(&dir, "src/two.rs", "fn main() {}\n");
    lib(&dir, "plain", false, false, "");
    lib(
        &dir,
        "pm",
        false,
        true,
        "[dependencies]\npmdep = { path = \"../pmdep\" }\n",
    );
    lib(&dir, "pmdep", false, false, "");
    lib(
        &dir,
        "withbuild",
        true,
        false,
        "[build-dependencies]\nplain = { path = \"../plain\" }\nbdep = { path = \"../bdep\" }\n",
    );
    lib(&dir, "bdep", true, false, "");
    lib(&dir, "musldep", false, false, "");
    lib(&dir, "windep", false, false, "");
    lib(&dir, "winish", false, false, "");
    lib(&dir, "featdep", false, false, "");
    lib(&dir, "devdep", false, false, "");
    (tmp, dir)
}

fn cfg(triple: &str) -> Vec<Cfg> {
    crate::ccode::target_cfg(None, Utf8Path::new("."), triple).unwrap()
}

fn host() -> String {
    let out = crate::probe::rustc().arg("-vV").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .unwrap()
}

#[test]
#[cfg_attr(
    not(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")),
    ignore = "needs an x86_64-unknown-linux-gnu host: it builds for that and its musl twin"
)]
fn the_estimate_is_the_number_of_units_cargo_reports() {
    let host = host();
    assert_eq!(host, GNU, "rustc's host is not the test's");
    let (_tmp, dir) = workspace();
    let metadata = {
        let out = Process::cargo()
            .args(["metadata", "--format-version=1", "--offline"])
            .cwd(&dir)
            .output()
            .unwrap();
        MetadataCommand::parse(String::from_utf8(out.stdout).unwrap()).unwrap()
    };
    let root = metadata.root_package().unwrap().id.repr.clone();
    let (gnu_cfg, musl_cfg, host_cfg) = (cfg(GNU), cfg(MUSL), cfg(&host));
    let est = estimate(
        &metadata,
        &On {
            triple: &host,
            cfg: &host_cfg,
        },
        &[
            (
                On {
                    triple: GNU,
                    cfg: &gnu_cfg,
                },
                vec![(root.as_str(), 2)],
            ),
            (
                On {
                    triple: MUSL,
                    cfg: &musl_cfg,
                },
                vec![(root.as_str(), 1)],
            ),
        ],
    )
    .unwrap();
    // gnu: app's lib and 2 bins, plain, featdep, withbuild and its build script's run.
    // musl: the same with 1 bin, and musldep.
    // host: pm, pmdep; plain and bdep (build deps); bdep's script compiled and run;
    // withbuild's script compiled (once for both targets).
    assert_eq!(
        est,
        Estimate {
            targets: vec![7, 7],
            host: 7
        }
    );

    // What cargo reports, building the same: `one` and `two` for gnu, `one` for musl.
    let target_dir = dir.join("target");
    let build = |target: &str, bins: &[&str]| {
        let mut p = Process::cargo()
            .args([
                "build",
                "--message-format=json",
                "--offline",
                "--target",
                target,
            ])
            .arg(format!("--target-dir={target_dir}"))
            .cwd(&dir);
        for b in bins {
            p = p.arg(format!("--bin={b}"));
        }
        p.output().unwrap().stdout
    };
    let count = |stdout: &[u8], counts: &mut Vec<u64>| {
        for msg in Message::parse_stream(stdout) {
            if let Some((i, _)) = classify(&msg.unwrap(), &[GNU, MUSL]) {
                counts[i] += 1;
            }
        }
    };
    let mut counts = vec![0; 3];
    count(&build(GNU, &["one", "two"]), &mut counts);
    let mut musl = vec![0; 3];
    count(&build(MUSL, &["one"]), &mut musl);
    // The host units were all reported by the first call (fresh ones are reported too:
    // the second call reports them again, and they are the same units).
    assert_eq!(counts[0], 7, "gnu");
    assert_eq!(musl[1], 7, "musl");
    assert_eq!(counts[2], 7, "host");
    assert_eq!(musl[2], 7, "host, fresh");
}

#[test]
fn units_are_counted_where_cargo_put_them() {
    let triples = [GNU, "aarch64-unknown-linux-musl"];
    assert_eq!(
        bucket(
            Utf8Path::new("/t/aarch64-unknown-linux-musl/release/deps/liba.rlib"),
            &triples
        ),
        1
    );
    assert_eq!(
        bucket(Utf8Path::new("/t/release/deps/libpm.so"), &triples),
        2
    );
    // cross's container paths.
    assert_eq!(
        bucket(
            Utf8Path::new("/target/x86_64-unknown-linux-gnu/release/build/a-1/out"),
            &triples
        ),
        0
    );
    let artifact = |kind: &str, file: &str| {
        let line = format!(
            r#"{{"reason":"compiler-artifact","package_id":"path+file:///w/withbuild#0.1.0","manifest_path":"/w/Cargo.toml","target":{{"kind":["{kind}"],"crate_types":["bin"],"name":"build-script-build","src_path":"/w/build.rs","edition":"2021","doc":false,"doctest":false,"test":false}},"profile":{{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":false}},"features":[],"filenames":["{file}"],"executable":null,"fresh":true}}"#
        );
        serde_json::from_str::<Message>(&line).unwrap()
    };
    // A build script is compiled for the host, wherever its file is.
    assert_eq!(
        classify(
            &artifact(
                "custom-build",
                "/t/release/build/withbuild-1/build-script-build"
            ),
            &triples
        ),
        Some((2, "withbuild (build script)".to_owned()))
    );
    assert_eq!(
        classify(
            &artifact("lib", "/t/x86_64-unknown-linux-gnu/release/deps/libx.rlib"),
            &triples
        ),
        Some((0, "build-script-build".to_owned()))
    );
    let run = serde_json::from_str::<Message>(
        r#"{"reason":"build-script-executed","package_id":"registry+https://github.com/rust-lang/crates.io-index#ring@0.17.8","linked_libs":[],"linked_paths":[],"cfgs":[],"env":[],"out_dir":"/t/aarch64-unknown-linux-musl/release/build/ring-2/out"}"#,
    )
    .unwrap();
    assert_eq!(
        classify(&run, &triples),
        Some((1, "ring (build script)".to_owned()))
    );
    let finished =
        serde_json::from_str::<Message>(r#"{"reason":"build-finished","success":true}"#).unwrap();
    assert_eq!(classify(&finished, &triples), None);
}

#[test]
fn package_names_come_from_any_id_form() {
    assert_eq!(package_name("path+file:///w/crates/alpha#0.3.0"), "alpha");
    assert_eq!(package_name("path+file:///w/x#beta@0.3.0"), "beta");
    assert_eq!(
        package_name("registry+https://github.com/rust-lang/crates.io-index#cc@1.2.3"),
        "cc"
    );
}

#[test]
fn without_a_resolve_there_is_no_estimate() {
    let mut m: Metadata = serde_json::from_str(
        r#"{"packages":[],"workspace_members":[],"resolve":null,"target_directory":"/t","version":1,"workspace_root":"/w","metadata":null}"#,
    )
    .unwrap();
    m.resolve = None;
    assert_eq!(
        estimate(
            &m,
            &On {
                triple: GNU,
                cfg: &[]
            },
            &[]
        ),
        None
    );
}
