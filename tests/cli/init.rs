//! `cargo multiarch init`: the release workflow it writes from the plan, `--dry-run`,
//! `--force`, `--action` and the `.gitignore` line; and that workflow executed by
//! `tests/ci/run_workflow.py` on `cdep` (C code) with a macOS target cross-built on
//! the amd64 job.

use std::path::Path;

use crate::support::{multiarch, private_fixture, run, sh};
use crate::workflow::{ReleaseRun, VERSION, cdep_archive, fixture_repo};

const WORKFLOW: &str = ".github/workflows/release.yml";

fn init(dir: &Path, args: &[&str]) -> crate::support::Run {
    run(multiarch(dir).arg("init").args(args))
}

#[test]
fn init_writes_the_workflow_ignores_out_and_never_overwrites_without_force() {
    let (_tmp, dir) = private_fixture("cdep");
    std::fs::write(dir.join(".gitignore"), "/target").unwrap();
    let r = init(
        &dir,
        &["--platform", "linux/amd64,linux/arm64,darwin/arm64"],
    )
    .success();
    assert!(
        r.stderr().contains(&format!(
            "Wrote {WORKFLOW} (uses cargo-multiarch/cargo-multiarch@v{VERSION})"
        )),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("Ignored out/ in .gitignore"),
        "{}",
        r.stderr()
    );
    let written = std::fs::read_to_string(dir.join(WORKFLOW)).unwrap();
    let yaml: serde_yaml_like::Doc = serde_yaml_like::parse(&written);
    // One native job per Linux architecture; macOS cross-built on the amd64 one.
    assert_eq!(
        yaml.matrix,
        [
            (
                "linux-amd64",
                "ubuntu-24.04",
                "x86_64-unknown-linux-musl,aarch64-apple-darwin"
            ),
            (
                "linux-arm64",
                "ubuntu-24.04-arm",
                "aarch64-unknown-linux-musl"
            )
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    assert_eq!(yaml.jobs, ["package", "merge", "image", "release"]);
    // Every checkout leaves no token behind; every job uses the default action.
    assert_eq!(written.matches("uses: actions/checkout@v4").count(), 4);
    assert_eq!(written.matches("persist-credentials: false").count(), 4);
    assert_eq!(
        written
            .matches(&format!(
                "uses: cargo-multiarch/cargo-multiarch@v{VERSION}\n"
            ))
            .count(),
        4
    );
    // The image is made of the Linux targets only.
    assert!(
        written.contains(
            "image --no-build --target x86_64-unknown-linux-musl,aarch64-unknown-linux-musl "
        ),
        "{written}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "/target\nout/\n"
    );

    // Again: refused, the workflow untouched, the hint names --force.
    std::fs::write(dir.join(WORKFLOW), "# mine\n").unwrap();
    let r = init(&dir, &[]).exit(1);
    assert!(
        r.stderr()
            .contains("exists already (hint: run `cargo multiarch init --force` to overwrite it"),
        "{}",
        r.stderr()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(WORKFLOW)).unwrap(),
        "# mine\n"
    );

    // --dry-run prints what --force writes, and writes nothing.
    let action = "acme/fork@0123456789abcdef0123456789abcdef01234567";
    let printed = init(&dir, &["--dry-run", "--action", action])
        .success()
        .stdout();
    assert_eq!(
        std::fs::read_to_string(dir.join(WORKFLOW)).unwrap(),
        "# mine\n"
    );
    assert!(
        printed.contains(&format!("      - uses: {action}\n")),
        "{printed}"
    );
    init(&dir, &["--force", "--action", action]).success();
    assert_eq!(
        std::fs::read_to_string(dir.join(WORKFLOW)).unwrap(),
        printed
    );
    // The .gitignore line is added once.
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "/target\nout/\n"
    );

    // A bad action is a usage error.
    let r = init(&dir, &["--dry-run", "--action", "acme@v1"]).exit(2);
    assert!(
        r.stderr().contains("`acme` is not `OWNER/REPO[/PATH]`"),
        "{}",
        r.stderr()
    );
}

/// A minimal reading of the generated YAML through `PyYAML`: the job ids and the
/// package job's matrix legs (name, runner, targets).
mod serde_yaml_like {
    pub struct Doc {
        pub jobs: Vec<String>,
        pub matrix: Vec<(String, String, String)>,
    }

    pub fn parse(text: &str) -> Doc {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("w.yml"), text).unwrap();
        let out = crate::support::sh(
            dir.path(),
            "python3 -c 'import yaml; d = yaml.safe_load(open(\"w.yml\")); print(\" \".join(d[\"jobs\"])); [print(l[\"name\"], l[\"runner\"], l[\"targets\"]) for l in d[\"jobs\"][\"package\"][\"strategy\"][\"matrix\"][\"include\"]]'",
        );
        let mut lines = out.lines();
        let jobs = lines
            .next()
            .unwrap()
            .split(' ')
            .map(str::to_owned)
            .collect();
        let matrix = lines
            .map(|l| {
                let v: Vec<&str> = l.split(' ').collect();
                (v[0].to_owned(), v[1].to_owned(), v[2].to_owned())
            })
            .collect();
        Doc { jobs, matrix }
    }
}

#[test]
fn generated_workflow_runs_on_c_code_with_macos_cross_built_on_the_amd64_job() {
    crate::support::require_python("yaml");
    let run = ReleaseRun::start("-init");
    let fixture = fixture_repo("cdep", &format!("v{VERSION}"));
    init(
        fixture.path(),
        &[
            "--target",
            "x86_64-unknown-linux-musl,aarch64-unknown-linux-musl,aarch64-apple-darwin",
        ],
    )
    .success();
    sh(
        fixture.path(),
        "git add -A && git -c user.name=ci -c user.email=ci@localhost commit -q -m init && git tag -f v0.1.0 >/dev/null",
    );
    let (jobs, log) = run.run(&fixture.path().join(WORKFLOW), fixture.path());
    let names: Vec<&str> = jobs.iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "package linux-amd64",
            "package linux-arm64",
            "merge",
            "image",
            "release"
        ],
        "{log}"
    );
    let ran = |name: &str| {
        jobs.iter()
            .flat_map(|j| j["steps"].as_array().unwrap())
            .filter(|s| s["name"] == name && s["result"] == "success")
            .count()
    };
    for step in [
        "Sign",
        "Attest the archives and binaries",
        "Push the image",
        "Publish the release",
        "Install cargo-zigbuild",
    ] {
        assert_eq!(ran(step), 1, "{step}\n{log}");
    }
    assert!(
        log.contains("aarch64-apple-darwin: zigbuild"),
        "macOS was not planned with cargo-zigbuild:\n{log}"
    );
    let published = run.published("release");
    run.check_published(published.path(), "linux/amd64,linux/arm64,darwin/arm64");
    run.check_registry(published.path());
    run.check_release(
        published.path(),
        &[
            cdep_archive("darwin/arm64", "aarch64-apple-darwin"),
            cdep_archive("linux/amd64", "x86_64-unknown-linux-musl"),
            cdep_archive("linux/arm64", "aarch64-unknown-linux-musl"),
        ],
    );
    let _ = std::fs::remove_dir_all(&run.root);
}
