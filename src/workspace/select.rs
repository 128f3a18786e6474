//! `-p`, `--workspace` and `--exclude`: package selection exactly as cargo does it,
//! globs included (cargo's own `glob` crate and rules, and its messages when a pattern
//! matches nothing).

use anyhow::{Result, bail};
use camino::Utf8Path;
use cargo_metadata::{Metadata, PackageId};

use super::Packages;

/// The selected members, in the order of the flags (then of the workspace).
pub(super) fn packages(
    metadata: &Metadata,
    manifest: &Utf8Path,
    select: &Packages,
) -> Result<Vec<PackageId>> {
    let members = &metadata.workspace_members;
    if !select.exclude.is_empty() && !select.workspace {
        bail!("`--exclude` can only be used together with `--workspace`");
    }
    if !select.specs.is_empty() {
        return specified(metadata, &select.specs);
    }
    if select.workspace {
        return all_but(metadata, &select.exclude);
    }
    // A member's own manifest (not the root's) selects that member, as in cargo.
    if let Some(id) = members
        .iter()
        .find(|id| metadata[*id].manifest_path == manifest)
    {
        return Ok(vec![id.clone()]);
    }
    if metadata.workspace_default_members.is_available() {
        return Ok(metadata.workspace_default_members.to_vec());
    }
    Ok(metadata
        .root_package()
        .map_or_else(|| members.clone(), |p| vec![p.id.clone()]))
}

/// The members `spec` matches, in the workspace's order.
fn matching<'a>(metadata: &'a Metadata, spec: &Spec) -> Vec<&'a PackageId> {
    metadata
        .workspace_members
        .iter()
        .filter(|id| {
            let p = &metadata[*id];
            spec.matches(&id.repr, &p.name, &p.version.to_string())
        })
        .collect()
}

/// `-p` (`args`): the members each matches, in their order, each once; an error for a
/// spec that matches nothing.
fn specified(metadata: &Metadata, args: &[String]) -> Result<Vec<PackageId>> {
    let (members, root) = (&metadata.workspace_members, &metadata.workspace_root);
    let specs = args
        .iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<Vec<_>>>()?;
    // As cargo: every pattern that matches nothing in one error, before the specs.
    let lost: Vec<&str> = specs
        .iter()
        .filter(|s| s.is_glob() && matching(metadata, s).is_empty())
        .map(|s| s.arg)
        .collect();
    if !lost.is_empty() {
        bail!(
            "package pattern(s) `{}` not found in workspace `{root}` (hint: members are: {}; a pattern matches whole names with `*`, `?`, `[ab]` and `[!a]`)",
            lost.join(", "),
            member_names(metadata, members)
        );
    }
    let mut out = Vec::new();
    for spec in &specs {
        let matched = matching(metadata, spec);
        if matched.is_empty() {
            bail!(
                "package ID specification `{}` did not match any packages in the workspace; members are: {} (hint: pass a member's name, `name@version` or a glob such as `-p 'svc-*'`)",
                spec.arg,
                member_names(metadata, members)
            );
        }
        for id in matched {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
    }
    Ok(out)
}

/// `--workspace` with `--exclude` (`args`): every member no exclusion matches
/// (warning as cargo of one that matches nothing); an error when none is left.
fn all_but(metadata: &Metadata, args: &[String]) -> Result<Vec<PackageId>> {
    let (members, root) = (&metadata.workspace_members, &metadata.workspace_root);
    let excludes = args
        .iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<Vec<_>>>()?;
    // cargo warns and carries on, in the same words; so do we.
    for (globs, what) in [(false, "package(s)"), (true, "package pattern(s)")] {
        let lost: Vec<&str> = excludes
            .iter()
            .filter(|s| s.is_glob() == globs && matching(metadata, s).is_empty())
            .map(|s| s.arg)
            .collect();
        if !lost.is_empty() {
            eprintln!(
                "warning: excluded {what} `{}` not found in workspace `{root}`",
                lost.join(", ")
            );
        }
    }
    let kept: Vec<PackageId> = members
        .iter()
        .filter(|id| !excludes.iter().any(|s| matching(metadata, s).contains(id)))
        .cloned()
        .collect();
    if kept.is_empty() {
        let flags: Vec<String> = args.iter().map(|s| format!("--exclude {s}")).collect();
        bail!(
            "`{}` excludes every package of the workspace ({}), so nothing would be built (hint: exclude fewer packages)",
            flags.join(" "),
            member_names(metadata, members)
        );
    }
    Ok(kept)
}

/// The members' names, sorted and comma-separated, for error messages.
fn member_names(metadata: &Metadata, members: &[PackageId]) -> String {
    let mut names: Vec<String> = members
        .iter()
        .map(|id| metadata[id].name.to_string())
        .collect();
    names.sort();
    names.join(", ")
}

/// One `-p`/`--exclude` argument: a full package id, `name`, `name@version`, or a glob
/// over names. As in cargo, an argument holding `*`, `?`, `[` or `]` is a glob
/// (`glob::Pattern`: `*`, `?`, `[ab]`, `[a-z]`, `[!a]`), matched against whole names.
#[derive(Debug)]
struct Spec<'a> {
    arg: &'a str,
    name: &'a str,
    glob: Option<glob::Pattern>,
    /// A version or a prefix of one in whole components (`1`, `1.2`, `1.2.3`).
    version: Option<&'a str>,
}

impl<'a> Spec<'a> {
    fn parse(arg: &'a str) -> Result<Self> {
        let (name, version) = arg
            .split_once('@')
            .map_or((arg, None), |(n, v)| (n, Some(v)));
        let glob = if arg.contains(['*', '?', '[', ']']) {
            Some(glob::Pattern::new(name).map_err(|e| {
                anyhow::anyhow!(
                    "cannot build glob pattern from `{arg}`: {e} (hint: a class is written `[ab]` or `[!a]`; `[[]` matches a `[`)"
                )
            })?)
        } else {
            None
        };
        Ok(Self {
            arg,
            name,
            glob,
            version,
        })
    }

    fn is_glob(&self) -> bool {
        self.glob.is_some()
    }

    fn matches(&self, id: &str, name: &str, version: &str) -> bool {
        if self.arg == id {
            return true;
        }
        let name_ok = match &self.glob {
            Some(g) => g.matches(name),
            None => self.name == name,
        };
        name_ok
            && self.version.is_none_or(|v| {
                version == v
                    || version
                        .strip_prefix(v)
                        .is_some_and(|rest| rest.starts_with('.'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(spec: &str, name: &str, version: &str) -> bool {
        Spec::parse(spec)
            .unwrap()
            .matches("path+file:///ws#x@0.0.0", name, version)
    }

    #[test]
    fn names_and_versions() {
        assert!(matches("alpha", "alpha", "0.3.0"));
        assert!(!matches("alph", "alpha", "0.3.0"));
        assert!(matches("alpha@0.3.0", "alpha", "0.3.0"));
        assert!(matches("alpha@0.3", "alpha", "0.3.0"));
        assert!(matches("alpha@0", "alpha", "0.3.0"));
        // A version prefix is whole components: 0.3 is not 0.30.
        assert!(!matches("alpha@0.3", "alpha", "0.30.1"));
        assert!(!matches("alpha@0.4", "alpha", "0.3.0"));
        let id = "path+file:///ws/crates/alpha#0.3.0";
        assert!(Spec::parse(id).unwrap().matches(id, "alpha", "0.3.0"));
    }

    #[test]
    fn globs_follow_cargo() {
        for (pat, name, hit) in [
            ("svc-*", "svc-api", true),
            ("svc-*", "svc-", true),
            ("svc-*", "my-svc-api", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("alph[a]", "alpha", true),
            ("alph[a]", "alphb", false),
            ("[ab]*", "beta", true),
            ("[ab]*", "gamma", false),
            ("[!a]*", "beta", true),
            ("[!a]*", "alpha", false),
            ("[a-c]eta", "beta", true),
            ("*", "anything", true),
            // Whole names only, case-sensitive, as cargo's `Pattern::matches`.
            ("alpha", "alpha-admin", false),
            ("Alph*", "alpha", false),
        ] {
            assert_eq!(matches(pat, name, "1.0.0"), hit, "{pat} vs {name}");
        }
        assert!(matches("svc-*@1", "svc-api", "1.2.0"));
        assert!(!matches("svc-*@2", "svc-api", "1.2.0"));
    }

    #[test]
    fn glob_is_what_cargo_calls_one() {
        for (arg, glob) in [
            ("alpha", false),
            ("alpha@1.0", false),
            ("a*", true),
            ("a?", true),
            ("alph[a]", true),
            ("x]", true),
        ] {
            assert_eq!(Spec::parse(arg).unwrap().is_glob(), glob, "{arg}");
        }
    }

    #[test]
    fn a_broken_pattern_is_cargos_error_with_a_hint() {
        let err = Spec::parse("alph[").unwrap_err().to_string();
        assert!(
            err.starts_with("cannot build glob pattern from `alph[`: "),
            "{err}"
        );
        assert!(err.contains("(hint: a class is written `[ab]`"), "{err}");
    }
}
