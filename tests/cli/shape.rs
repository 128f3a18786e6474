//! `scripts/check-layers`, the shape check `scripts/test` runs: it passes on this
//! repository, and it fails, naming the fault, on a tree with an import of a higher
//! layer, an import loop, a module in no layer, or a function too long.

use std::path::Path;
use std::process::Command;

use crate::support::{repo, run};

/// A throwaway crate tree with the script, an ARCHITECTURE.md listing `layers` (top
/// row first) and `files` under `src/`.
fn tree(layers: &[(&str, &str)], files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    std::fs::copy(
        repo().join("scripts/check-layers"),
        root.join("scripts/check-layers"),
    )
    .unwrap();
    let mut md = String::from("# Architecture\n\n## Layers\n\n| layer | modules |\n|---|---|\n");
    for (layer, mods) in layers {
        md.push_str(&format!("| {layer} | {mods} |\n"));
    }
    md.push_str("\n## Next\n");
    std::fs::write(root.join("ARCHITECTURE.md"), md).unwrap();
    for (path, text) in files {
        let p = root.join("src").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn check(root: &Path) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(root.join("scripts/check-layers"));
    cmd
}

#[test]
fn the_repository_has_no_loop_no_upward_import_and_no_oversized_code() {
    let r = run(&mut check(&repo())).success();
    assert!(
        r.stdout().contains("no loops, no import of a higher layer"),
        "{}",
        r.stdout()
    );
}

#[test]
fn an_import_of_a_higher_layer_is_named() {
    let t = tree(
        &[("stages", "`build`"), ("foundation", "`fs`")],
        &[
            ("lib.rs", "mod build;\nmod fs;\n"),
            ("build.rs", "use crate::fs::write;\n"),
            ("fs.rs", "pub fn write() { crate::build::run() }\n"),
        ],
    );
    let r = run(&mut check(t.path())).failure();
    assert!(
        r.stderr()
            .contains("`fs` (foundation) imports `build` (stages), a layer above it"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr()
            .contains("import loop among 2 modules: build, fs")
    );
}

#[test]
fn a_loop_within_a_layer_and_a_module_in_no_layer_are_named() {
    let t = tree(
        &[("formats", "`a`, `b`")],
        &[
            ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
            ("a.rs", "use crate::{b::x, c};\n"),
            ("b/mod.rs", "pub fn x() { crate::a::y() }\n"),
            // Test code does not count.
            ("c.rs", "#[cfg(test)]\nmod tests {\n    use crate::a;\n}\n"),
        ],
    );
    let r = run(&mut check(t.path())).failure();
    let err = r.stderr();
    assert!(err.contains("import loop among 2 modules: a, b"), "{err}");
    assert!(err.contains("src/c is in no layer"), "{err}");
    assert!(!err.contains("`c`"), "{err}");
}

#[test]
fn a_long_function_needs_a_reason_in_its_doc() {
    let body = "    let _ = 1;\n".repeat(101);
    let long = format!("pub fn long() {{\n{body}}}\n");
    let excused = format!("/// Long: one table, row per line.\npub fn excused() {{\n{body}}}\n");
    let t = tree(
        &[("foundation", "`a`")],
        &[
            ("lib.rs", "mod a;\n"),
            ("a.rs", &format!("{long}\n{excused}")),
        ],
    );
    let r = run(&mut check(t.path())).failure();
    let err = r.stderr();
    assert!(err.contains("fn long is 103 lines"), "{err}");
    assert!(!err.contains("excused"), "{err}");
}
