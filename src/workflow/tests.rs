use super::*;
use crate::platform::Origin;

fn target(triple: &str, platform: &str) -> Target {
    Target::new(
        triple.to_owned(),
        triple.to_owned(),
        Platform::parse(platform).unwrap(),
        triple.ends_with("musl"),
        Origin::Builtin,
    )
}

fn spec(targets: &[(&str, &str)]) -> Spec {
    let targets: Vec<Target> = targets.iter().map(|(t, p)| target(t, p)).collect();
    Spec::new(&targets, ActionRef::parse("acme/act@v1").unwrap(), "9.9.9")
}

#[test]
fn action_refs_are_owner_repo_at_ref() {
    for good in [
        "cargo-multiarch/cargo-multiarch@v0.1.0",
        "acme/mono/sub/dir@main",
        "a_b/c.d@feature/x",
        "acme/act@0123456789abcdef0123456789abcdef01234567",
    ] {
        assert_eq!(ActionRef::parse(good).unwrap().as_str(), good);
    }
    for (bad, why) in [
        ("acme/act", "names no ref"),
        ("acme@v1", "is not `OWNER/REPO[/PATH]`"),
        ("acme//act@v1", "is not `OWNER/REPO[/PATH]`"),
        ("acme/act@", "is not a tag, branch or commit"),
        ("acme/act@v1 x", "is not a tag, branch or commit"),
        ("acme/../x@v1", "is not `OWNER/REPO[/PATH]`"),
        ("acme/act@v1\n", "is not a tag, branch or commit"),
    ] {
        let e = ActionRef::parse(bad).unwrap_err().to_string();
        assert!(e.contains(why) && e.contains("(hint: "), "{bad}: {e}");
    }
    assert_eq!(
        ActionRef::own(
            "https://github.com/cargo-multiarch/cargo-multiarch",
            "0.1.0"
        )
        .unwrap()
        .as_str(),
        "cargo-multiarch/cargo-multiarch@v0.1.0"
    );
    assert_eq!(
        ActionRef::own("https://github.com/acme/x.git/", "2.0.0")
            .unwrap()
            .as_str(),
        "acme/x@v2.0.0"
    );
    let e = ActionRef::own("https://gitlab.com/a/b", "1.0.0").unwrap_err();
    assert!(e.to_string().contains("--action OWNER/REPO@REF"), "{e}");
}

#[test]
fn linux_arm64_runs_on_its_runner_and_everything_else_on_amd64() {
    let s = spec(&[
        ("x86_64-unknown-linux-musl", "linux/amd64"),
        ("aarch64-unknown-linux-musl", "linux/arm64"),
        ("aarch64-unknown-linux-gnu.2.28", "linux/arm64"),
        ("x86_64-pc-windows-gnu", "windows/amd64"),
        ("armv7-unknown-linux-musleabihf", "linux/arm/v7"),
    ]);
    let legs: Vec<(&str, &str, String, String)> = s
        .legs
        .iter()
        .map(|l| (l.name, l.runner, l.target_list(), l.platform_list()))
        .collect();
    assert_eq!(
        legs,
        [
            (
                "linux-amd64",
                "ubuntu-24.04",
                "x86_64-unknown-linux-musl,x86_64-pc-windows-gnu,armv7-unknown-linux-musleabihf"
                    .to_owned(),
                "linux/amd64,windows/amd64,linux/arm/v7".to_owned()
            ),
            (
                "linux-arm64",
                "ubuntu-24.04-arm",
                "aarch64-unknown-linux-musl,aarch64-unknown-linux-gnu.2.28".to_owned(),
                "linux/arm64".to_owned()
            ),
        ]
    );
    assert_eq!(
        s.image_targets(),
        [
            "x86_64-unknown-linux-musl",
            "armv7-unknown-linux-musleabihf",
            "aarch64-unknown-linux-musl",
            "aarch64-unknown-linux-gnu.2.28"
        ]
    );
    let text = release(&s);
    // Windows archives are zips; the attestation names each platform's.
    assert!(
        text.contains("            out/windows/amd64/*.zip\n"),
        "{text}"
    );
    assert!(
        text.contains("            out/linux/arm/v7/*.tar.gz\n"),
        "{text}"
    );
    assert!(text.contains("--expect linux/amd64,windows/amd64,linux/arm/v7,linux/arm64\n"));
}

#[test]
fn one_leg_without_linux_has_no_image_job() {
    let s = spec(&[("aarch64-apple-darwin", "darwin/arm64")]);
    assert_eq!(s.legs.len(), 1);
    assert_eq!(s.legs[0].runner, "ubuntu-24.04");
    let text = release(&s);
    assert!(!text.contains("\n  image:\n"), "{text}");
    assert!(text.contains("  release:\n    needs: merge\n"), "{text}");
    assert!(text.contains("name: merged\n          path: .\n"), "{text}");
}

#[test]
fn privileges_sit_with_the_jobs_that_need_them_and_tags_alone_publish() {
    let text = release(&spec(&[
        ("x86_64-unknown-linux-musl", "linux/amd64"),
        ("aarch64-unknown-linux-musl", "linux/arm64"),
    ]));
    assert!(text.contains("\npermissions:\n  contents: read\n"));
    assert_eq!(text.matches("persist-credentials: false").count(), 4);
    assert_eq!(text.matches("uses: actions/checkout@v4").count(), 4);
    assert_eq!(text.matches("      - uses: acme/act@v1\n").count(), 4);
    assert_eq!(text.matches("packages: write").count(), 1);
    assert_eq!(text.matches("contents: write").count(), 1);
    assert_eq!(text.matches("id-token: write").count(), 1);
    let release_job = &text[text.find("\n  release:\n").unwrap()..];
    assert!(release_job.contains("    if: startsWith(github.ref, 'refs/tags/')\n"));
    assert!(release_job.contains("--clobber"));
    assert!(release_job.contains("-path out/oci -prune -o -path '*/bin' -prune"));
    let image_job = &text[text.find("\n  image:\n").unwrap()..text.find("\n  release:\n").unwrap()];
    assert!(image_job.contains(
        "      - name: Push the image\n        if: startsWith(github.ref, 'refs/tags/')\n"
    ));
    // Valid YAML with the jobs in order is checked by the CLI tests (PyYAML).
}

#[test]
fn gitignore_gets_the_out_dir_once() {
    assert_eq!(gitignore_with("", "out/").unwrap(), "out/\n");
    assert_eq!(
        gitignore_with("/target", "out/").unwrap(),
        "/target\nout/\n"
    );
    for covered in ["out/\n", "/out\n", "/out/\n", "out\n", "a\n  out/  \nb\n"] {
        assert_eq!(gitignore_with(covered, "out/"), None, "{covered:?}");
    }
    assert_eq!(
        gitignore_with("out/\n", "dist/release/").unwrap(),
        "out/\ndist/release/\n"
    );
    assert_eq!(
        gitignore_with("outer/\n", "out/").unwrap(),
        "outer/\nout/\n"
    );
}
