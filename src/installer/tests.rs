use super::*;
use crate::manifest::{self, Content};
use crate::outdir::RelPath;
use crate::platform::TargetName;

fn sha(c: char) -> Sha256 {
    Sha256::parse(&c.to_string().repeat(64)).unwrap()
}

fn archive(set: &str, target: &str, platform: &str, s: char) -> Artifact {
    let p = Platform::parse(platform).unwrap();
    let top = format!("{set}-1.0.0-{target}");
    Artifact {
        target: Some(TargetName::new(target).unwrap()),
        platform: Some(p),
        package: Some(set.to_owned()),
        version: Some("1.0.0".to_owned()),
        contents: vec![
            Content {
                path: RelPath::new(&format!("{top}/{set}{}", p.exe_suffix())).unwrap(),
                sha256: sha('b'),
                size: 1,
                mode: "0755".to_owned(),
                binary: Some(set.to_owned()),
            },
            Content {
                path: RelPath::new(&format!("{top}/README.md")).unwrap(),
                sha256: sha('c'),
                size: 1,
                mode: "0644".to_owned(),
                binary: None,
            },
        ],
        ..Artifact::new(Kind::Archive, layout::archive(p, &top).unwrap(), sha(s), 10)
    }
}

fn manifest() -> Manifest {
    Manifest {
        schema: manifest::SCHEMA.to_owned(),
        tool: manifest::tool(),
        source_date_epoch: 0,
        git: None,
        platforms: vec![Platform::parse("linux/amd64").unwrap()],
        artifacts: vec![
            archive("app", "x86_64-unknown-linux-gnu", "linux/amd64", '1'),
            archive("app", "x86_64-unknown-linux-musl", "linux/amd64", '2'),
            archive("app", "aarch64-unknown-linux-musl", "linux/arm64", '3'),
            archive("app", "x86_64-pc-windows-gnu", "windows/amd64", '4'),
            archive("tool", "x86_64-unknown-linux-musl", "linux/amd64", '5'),
        ],
    }
}

#[test]
fn url_templates_expand_version_and_tag_and_refuse_what_needs_quoting() {
    let u = UrlTemplate::parse("https://github.com/o/r/releases/download/{tag}").unwrap();
    assert_eq!(
        u.expand("1.2.3"),
        "https://github.com/o/r/releases/download/v1.2.3/"
    );
    let u = UrlTemplate::parse("http://127.0.0.1:8000/{version}/").unwrap();
    assert_eq!(u.expand("1.2.3"), "http://127.0.0.1:8000/1.2.3/");
    for bad in [
        "ftp://x/",
        "https://x/'; rm -rf ~; '",
        "https://x/$HOME/",
        "https://x/a b/",
        "https://x/`id`/",
        "https://x/{name}/",
        "https://x/a\\b",
    ] {
        assert!(UrlTemplate::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn sets_group_archives_by_name_with_musl_first() {
    let sets = sets(&manifest()).unwrap();
    assert_eq!(sets.keys().collect::<Vec<_>>(), ["app", "tool"]);
    let app = &sets["app"];
    let targets: Vec<&str> = app.choices.iter().map(|c| c.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-musl",
            "x86_64-pc-windows-gnu"
        ]
    );
    let mut m = manifest();
    m.artifacts[1].version = Some("1.0.1".to_owned());
    assert!(super::sets(&m).is_err(), "a set name that does not match");
}

#[test]
fn the_sh_installer_carries_the_unix_archives_and_parses_under_dash_and_bash() {
    let sets = sets(&manifest()).unwrap();
    let text = render_sh(&sets["app"], "https://dl.example/v1.0.0/");
    assert!(text.contains(&format!(
        "\nlinux/amd64 x86_64-unknown-linux-musl app-1.0.0-x86_64-unknown-linux-musl.tar.gz {} app-1.0.0-x86_64-unknown-linux-musl/app={}\n",
        sha('2'),
        sha('b')
    )));
    assert!(text.contains(&sha('3').to_string()));
    assert!(!text.contains(&sha('4').to_string()), "no Windows archive");
    assert!(!text.contains("README"), "only binaries are installed");
    assert_eq!(base_url(&text, true), Some("https://dl.example/v1.0.0/"));
    for placeholder in [
        "@APP@",
        "@VERSION@",
        "@TOOL_VERSION@",
        "@BASE_URL@",
        "@ARCHIVES@",
    ] {
        assert!(!text.contains(placeholder), "{placeholder} is filled");
    }
    for shell in ["dash", "bash"] {
        let status = std::process::Command::new(shell)
            .args(["-n", "-c", &text])
            .status()
            .unwrap();
        assert!(status.success(), "{shell} -n");
    }
}

#[test]
fn the_ps1_installer_carries_the_windows_archives() {
    let sets = sets(&manifest()).unwrap();
    let text = render_ps1(&sets["app"], "https://dl.example/v1.0.0/");
    assert!(text.contains(&format!(
        "@{{ Platform = 'windows/amd64'; Target = 'x86_64-pc-windows-gnu'; File = 'app-1.0.0-x86_64-pc-windows-gnu.zip'; Sha256 = '{}'; Binaries = @(@{{ Path = 'app-1.0.0-x86_64-pc-windows-gnu/app.exe'; Sha256 = '{}' }}) }}",
        sha('4'),
        sha('b')
    )));
    assert!(text.contains("$baseUrl = 'https://dl.example/v1.0.0/'"));
    assert!(text.contains("Get-FileHash -Algorithm SHA256"));
    assert!(!text.contains(&sha('2').to_string()), "no Linux archive");
    assert_eq!(base_url(&text, false), Some("https://dl.example/v1.0.0/"));
}

#[test]
fn verify_finds_an_installer_that_does_not_carry_the_manifests_archives() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutDir::create(camino::Utf8Path::from_path(dir.path()).unwrap()).unwrap();
    let mut m = manifest();
    let urls = BTreeMap::from([("app".to_owned(), "https://dl.example/".to_owned())]);
    write(&out, &mut m, &urls).unwrap();
    let listed: Vec<&str> = m
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Installer)
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(listed, ["app-installer.ps1", "app-installer.sh"]);
    assert!(m.sha256sums().contains("  app-installer.sh\n"));
    assert_eq!(
        check(&out, &m, &m.artifacts.iter().collect::<Vec<_>>()),
        Vec::<String>::new()
    );
    assert_eq!(
        listed_urls(&out, &m).unwrap(),
        BTreeMap::from([("app".to_owned(), "https://dl.example/".to_owned())])
    );

    // The archive's hash in the manifest changes: the installer no longer carries it.
    let mut changed = m.clone();
    let arm = changed
        .artifacts
        .iter_mut()
        .find(|a| a.path.as_str().contains("app-1.0.0-aarch64"))
        .unwrap();
    arm.sha256 = sha('9');
    let problems = check(
        &out,
        &changed,
        &changed.artifacts.iter().collect::<Vec<_>>(),
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("app-installer.sh: it does not carry archive `app-1.0.0-aarch64-unknown-linux-musl.tar.gz` with sha256 9999"),
        "{problems:?}"
    );

    // An installer of a set the manifest has no archives of.
    let mut stray = m.clone();
    stray
        .artifacts
        .retain(|a| a.package.as_deref() != Some("app") || a.kind != Kind::Archive);
    let problems = check(&out, &stray, &stray.artifacts.iter().collect::<Vec<_>>());
    assert!(
        problems
            .iter()
            .all(|p| p.contains("an installer of no archive set"))
            && problems.len() == 2,
        "{problems:?}"
    );
}
