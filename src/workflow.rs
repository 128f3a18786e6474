//! The GitHub Actions release workflow `cargo multiarch init` writes, from the plan:
//! one native job per Linux architecture GitHub has runners for (`ubuntu-24.04`,
//! `ubuntu-24.04-arm`), every other target cross-built on the amd64 one; then merge →
//! verify → image → release, each a job of its own with only the permissions it needs.
//! Signing, attestation, the push and the release happen on tags only. The text is
//! built here from plain values (target names and platforms the plan resolved, an
//! [`ActionRef`] checked on parsing), so nothing in it needs quoting.

use std::fmt::Write as _;

use anyhow::{Result, bail};

use crate::platform::{Platform, Target};

/// Where the workflow goes, below the workspace root.
pub(crate) const PATH: &str = ".github/workflows/release.yml";

/// The GitHub runners the per-architecture jobs run on.
const RUNNER_AMD64: &str = "ubuntu-24.04";
const RUNNER_ARM64: &str = "ubuntu-24.04-arm";

/// `OWNER/REPO[/PATH]@REF`: the action the workflow's steps use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef(String);

impl ActionRef {
    /// Checks `OWNER/REPO[/PATH]@REF` as GitHub names actions.
    pub fn parse(s: &str) -> Result<Self> {
        let hint = "(hint: name the action as `OWNER/REPO@REF`, e.g. `--action cargo-multiarch/cargo-multiarch@v0.1.0`, or a commit: `OWNER/REPO@<40 hex digits>`)";
        let Some((path, reference)) = s.split_once('@') else {
            bail!("`{}` names no ref {hint}", s.escape_debug());
        };
        let word = |w: &str| {
            !w.is_empty()
                && !w.starts_with('.')
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() < 2 || !parts.iter().all(|p| word(p)) {
            bail!(
                "`{}` is not `OWNER/REPO[/PATH]` {hint}",
                path.escape_debug()
            );
        }
        if !reference.split('/').all(word) {
            bail!(
                "`{}` is not a tag, branch or commit {hint}",
                reference.escape_debug()
            );
        }
        Ok(Self(s.to_owned()))
    }

    /// This tool's own action at its release tag: `repository` (a github.com URL) and
    /// `v{version}`.
    pub fn own(repository: &str, version: &str) -> Result<Self> {
        let Some(path) = repository
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .strip_prefix("https://github.com/")
        else {
            bail!(
                "this build's repository `{repository}` is not on github.com (hint: name the action with `--action OWNER/REPO@REF`)"
            );
        };
        Self::parse(&format!("{path}@v{version}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One per-architecture job of the workflow's matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leg {
    /// `linux-amd64` or `linux-arm64`: the artifact's name and the job's.
    pub name: &'static str,
    pub runner: &'static str,
    /// Target names as `--target` takes them, with their platforms.
    pub targets: Vec<(String, Platform)>,
}

impl Leg {
    fn new(name: &'static str, runner: &'static str) -> Self {
        Self {
            name,
            runner,
            targets: Vec::new(),
        }
    }

    fn target_list(&self) -> String {
        join(self.targets.iter().map(|(t, _)| t))
    }

    fn platform_list(&self) -> String {
        let mut seen: Vec<Platform> = Vec::new();
        for (_, p) in &self.targets {
            if !seen.contains(p) {
                seen.push(*p);
            }
        }
        join(seen.iter().map(ToString::to_string))
    }
}

/// What the workflow is written from.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub legs: Vec<Leg>,
    pub action: ActionRef,
    /// The version of the tool writing it (said in the header).
    pub tool_version: String,
}

impl Spec {
    /// The legs of `targets`: Linux arm64 targets on the arm64 runner, every other on
    /// the amd64 one (natively for Linux amd64, cross-built for the rest); a leg with
    /// no target is left out.
    pub(crate) fn new(targets: &[Target], action: ActionRef, tool_version: &str) -> Self {
        let mut amd64 = Leg::new("linux-amd64", RUNNER_AMD64);
        let mut arm64 = Leg::new("linux-arm64", RUNNER_ARM64);
        for t in targets {
            let p = t.platform();
            let leg = if p.os.as_str() == "linux" && p.arch.as_str() == "arm64" {
                &mut arm64
            } else {
                &mut amd64
            };
            leg.targets.push((t.requested.clone(), p));
        }
        Self {
            legs: [amd64, arm64]
                .into_iter()
                .filter(|l| !l.targets.is_empty())
                .collect(),
            action,
            tool_version: tool_version.to_owned(),
        }
    }

    fn targets(&self) -> impl Iterator<Item = &(String, Platform)> {
        self.legs.iter().flat_map(|l| &l.targets)
    }

    fn platforms(&self) -> Vec<Platform> {
        let mut out: Vec<Platform> = Vec::new();
        for (_, p) in self.targets() {
            if !out.contains(p) {
                out.push(*p);
            }
        }
        out
    }

    /// The Linux targets: what the image is made of.
    fn image_targets(&self) -> Vec<&str> {
        self.targets()
            .filter(|(_, p)| p.os.as_str() == "linux")
            .map(|(t, _)| t.as_str())
            .collect()
    }
}

/// The workflow's text.
pub(crate) fn release(spec: &Spec) -> String {
    let platforms = join(spec.platforms().iter().map(ToString::to_string));
    let image = spec.image_targets();
    let mut out = header(spec, &platforms);
    out.push_str(&package_job(spec));
    out.push_str(&merge_job(spec, &platforms));
    let last = if image.is_empty() {
        "merged"
    } else {
        out.push_str(&image_job(spec, &join(image.iter().copied()), &platforms));
        "imaged"
    };
    out.push_str(&release_job(spec, last));
    out
}

fn join<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(",")
}

fn header(spec: &Spec, platforms: &str) -> String {
    let mut legs = String::new();
    for leg in &spec.legs {
        let _ = writeln!(
            legs,
            "#   {} ({}): {}",
            leg.name,
            leg.runner,
            leg.target_list().replace(',', ", ")
        );
    }
    format!(
        r#"# Written by `cargo multiarch init` (cargo-multiarch {version}) from this workspace's
# plan; run it again with `--force` after changing the targets. Platforms: {platforms}.
{legs}#
# Every push and pull request builds, merges, verifies and assembles the image; a tag
# `v*` also signs, attests, pushes the image and publishes the GitHub release (its
# assets: the archives with their .sha256, .sig and SBOMs, the installers, SHA256SUMS
# and its signature, the provenance and manifest.json; never bin/ or oci/).
#
# Signing (optional): the text of a minisign secret key (`minisign -G -W` for one
# without a password) in the repository secret MINISIGN_KEY, its password, if any, in
# MINISIGN_PASSWORD; publish the `.pub` half. The image goes to ghcr.io/<owner>/<repo>
# with the workflow's token; for another registry set the variable IMAGE and the
# secrets REGISTRY_USERNAME and REGISTRY_PASSWORD.

name: release

on:
  push:
    branches: [main]
    tags: ["v*"]
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

jobs:
"#,
        version = spec.tool_version,
    )
}

/// The steps every job starts with: the checkout (no token left behind in .git) and
/// the tool.
fn setup_steps(spec: &Spec, with: &str) -> String {
    format!(
        r"      - uses: actions/checkout@v4
        with:
          persist-credentials: false

      - uses: {action}
        with:
          {with}
",
        action = spec.action.as_str()
    )
}

fn package_job(spec: &Spec) -> String {
    let mut matrix = String::new();
    for leg in &spec.legs {
        let _ = write!(
            matrix,
            "          - name: {}\n            runner: {}\n            targets: {}\n            platforms: {}\n",
            leg.name,
            leg.runner,
            leg.target_list(),
            leg.platform_list(),
        );
    }
    format!(
        r"  package:
    name: package ${{{{ matrix.name }}}}
    strategy:
      matrix:
        include:
{matrix}    runs-on: ${{{{ matrix.runner }}}}
    steps:
{setup}
      - name: Build and package
        run: cargo multiarch package --locked --target ${{{{ matrix.targets }}}} --out-dir out

      - name: Verify
        run: cargo multiarch verify --out-dir out --expect ${{{{ matrix.platforms }}}}

      # Artifacts keep neither file modes nor hidden files (out/.multiarch/): the out
      # tree travels as one tar file.
      - name: Archive out/
        run: tar -cf out.tar -C out .

      - uses: actions/upload-artifact@v4
        with:
          name: package-${{{{ matrix.name }}}}
          path: out.tar
          if-no-files-found: error
          retention-days: 7

",
        // The compile cache every runner shares (`cache: sccache`: GitHub Actions' cache,
        // or the backend a runner's `SCCACHE_*` environment names).
        setup = setup_steps(
            spec,
            "targets: ${{ matrix.targets }}\n          cache: sccache"
        ),
    )
}

/// The steps that fetch the out tree an earlier job uploaded as `artifact`.
fn unpack_steps(artifact: &str) -> String {
    format!(
        r"      - uses: actions/download-artifact@v4
        with:
          name: {artifact}
          path: .

      - name: Unpack out/
        run: mkdir out && tar -xf out.tar -C out && rm out.tar
"
    )
}

/// The steps that hand the out tree to the next job as `artifact`.
fn upload_steps(artifact: &str) -> String {
    format!(
        r"      - name: Archive out/
        run: tar -cf out.tar -C out .

      - uses: actions/upload-artifact@v4
        with:
          name: {artifact}
          path: out.tar
          if-no-files-found: error
          retention-days: 7
"
    )
}

fn merge_job(spec: &Spec, platforms: &str) -> String {
    format!(
        r#"  merge:
    needs: package
    runs-on: {RUNNER_AMD64}
    steps:
{setup}
      - uses: actions/download-artifact@v4
        with:
          pattern: package-*
          path: artifacts

      - name: Unpack the per-architecture out trees
        run: |
          for tar in artifacts/package-*/out.tar; do
            dir=in/$(basename "$(dirname "$tar")")
            mkdir -p "$dir"
            tar -xf "$tar" -C "$dir"
          done

      - name: Merge
        run: cargo multiarch merge in/* --out-dir out --expect {platforms}

      # The guard: never publish a release that lacks a platform.
      - name: Verify
        run: cargo multiarch verify --out-dir out --expect {platforms}

{upload}
"#,
        setup = setup_steps(spec, "tool-only: true"),
        upload = upload_steps("merged"),
    )
}

fn image_job(spec: &Spec, targets: &str, platforms: &str) -> String {
    format!(
        r#"  image:
    needs: merge
    runs-on: {RUNNER_AMD64}
    permissions:
      contents: read
      packages: write # to push the image to ghcr.io on tags
    steps:
{setup}
{unpack}
      # <registry>/<owner>/<repo> (lowercase) and the tag: the version on a tag
      # `v<version>`, else `sha-<commit>`.
      - name: Name the image
        env:
          IMAGE: ${{{{ vars.IMAGE }}}}
        run: |
          image=${{IMAGE:-ghcr.io/$GITHUB_REPOSITORY}}
          tag=sha-${{GITHUB_SHA::12}}
          if [ "$GITHUB_REF_TYPE" = tag ]; then tag=${{GITHUB_REF_NAME#v}}; fi
          echo "IMAGE_REF=${{image,,}}:$tag" >> "$GITHUB_ENV"

      # One image with every binary, from the merged tree's Linux binaries; no build.
      - name: Assemble the image
        run: cargo multiarch image --no-build --target {targets} --out-dir out --combined --tag "$IMAGE_REF" --platform-tags

      - name: Verify the image
        run: cargo multiarch verify --out-dir out --expect {platforms}

      - name: Push the image
        if: startsWith(github.ref, 'refs/tags/')
        env:
          REGISTRY_USERNAME: ${{{{ secrets.REGISTRY_USERNAME || github.actor }}}}
          REGISTRY_PASSWORD: ${{{{ secrets.REGISTRY_PASSWORD || secrets.GITHUB_TOKEN }}}}
          REGISTRY_INSECURE: ${{{{ vars.REGISTRY_INSECURE }}}}
        run: |
          flags=(--target {targets} --out-dir out --combined --username "$REGISTRY_USERNAME" --password-stdin)
          [ "$REGISTRY_INSECURE" != true ] || flags+=(--insecure)
          printf '%s\n' "$REGISTRY_PASSWORD" | cargo multiarch image --no-build "${{flags[@]}}" --tag "$IMAGE_REF" --platform-tags --push

{upload}
"#,
        setup = setup_steps(spec, "tool-only: true"),
        unpack = unpack_steps("merged"),
        upload = upload_steps("imaged"),
    )
}

/// Globs of what GitHub's attestation covers: each platform's archives and binaries.
fn attest_subjects(spec: &Spec) -> String {
    let mut out = String::new();
    for p in spec.platforms() {
        let dir = p.dir();
        let _ = write!(
            out,
            "            out/{dir}/*.{ext}\n            out/{dir}/bin/*\n",
            ext = p.archive_ext()
        );
    }
    out
}

fn release_job(spec: &Spec, artifact: &str) -> String {
    format!(
        r#"  release:
    needs: {needs}
    if: startsWith(github.ref, 'refs/tags/')
    runs-on: {RUNNER_AMD64}
    permissions:
      contents: write # the release
      id-token: write # the attestation's Sigstore certificate
      attestations: write # to store it
    env:
      SIGNING: ${{{{ secrets.MINISIGN_KEY != '' }}}}
    steps:
{setup}
{unpack}
      # out/SHA256SUMS.minisig, the provenance's and each archive's `.sig` (what
      # cargo-binstall checks); `sign` verifies first.
      - name: Sign
        if: env.SIGNING == 'true'
        env:
          MINISIGN_KEY: ${{{{ secrets.MINISIGN_KEY }}}}
          CARGO_MULTIARCH_SIGN_PASSWORD: ${{{{ secrets.MINISIGN_PASSWORD }}}}
        run: |
          umask 077
          printf '%s\n' "$MINISIGN_KEY" > "$RUNNER_TEMP/minisign.key"
          cargo multiarch sign --key "$RUNNER_TEMP/minisign.key" --out-dir out
          rm -f "$RUNNER_TEMP/minisign.key"

      # GitHub's attestation of the archives and binaries (`gh attestation verify`).
      - name: Attest the archives and binaries
        if: github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository
        uses: actions/attest-build-provenance@v2
        with:
          subject-path: |
{subjects}
{upload}
      # The release's assets, flat (their names are unique by construction): never
      # the staged binaries (bin/) or the OCI layout (oci/), which went to the registry.
      - name: Publish the release
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          TAG: ${{{{ github.ref_name }}}}
        run: |
          mapfile -t assets < <(find out -path out/oci -prune -o -path '*/bin' -prune -o -type f \
            \( -name '*.tar.gz' -o -name '*.zip' -o -name '*.sha256' -o -name '*.sig' \
            -o -name '*.cdx.json' -o -name '*.spdx.json' -o -name '*-installer.sh' -o -name '*-installer.ps1' \
            -o -name SHA256SUMS -o -name SHA256SUMS.minisig -o -name manifest.json \
            -o -name provenance.intoto.json -o -name provenance.intoto.json.minisig \) -print | LC_ALL=C sort)
          dup=$(printf '%s\n' "${{assets[@]##*/}}" | sort | uniq -d)
          if [ -n "$dup" ]; then
            echo "::error::two release assets would be named $dup"
            exit 1
          fi
          gh release view "$TAG" --repo "$GITHUB_REPOSITORY" > /dev/null 2>&1 ||
            gh release create "$TAG" --repo "$GITHUB_REPOSITORY" --title "$TAG" --generate-notes
          gh release upload "$TAG" --repo "$GITHUB_REPOSITORY" --clobber "${{assets[@]}}"
"#,
        needs = if artifact == "imaged" {
            "image"
        } else {
            "merge"
        },
        setup = setup_steps(spec, "tool-only: true"),
        unpack = unpack_steps(artifact),
        subjects = attest_subjects(spec),
        upload = upload_steps("release"),
    )
}

/// `.gitignore`'s text with `entry` added, or `None` when a line ignores it already.
pub(crate) fn gitignore_with(existing: &str, entry: &str) -> Option<String> {
    let bare = entry.trim_matches('/');
    let covered = existing.lines().map(str::trim).any(|l| {
        let l = l.trim_end_matches('/');
        l == bare || l.strip_prefix('/') == Some(bare)
    });
    if covered {
        return None;
    }
    let mut out = existing.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(entry);
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests;
