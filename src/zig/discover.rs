//! Where zig is: on `PATH`, or inside Python's `ziglang` package.

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use crate::fs::cache::stamp;
use crate::process::{Process, which};

const LIMIT: Duration = Duration::from_secs(5);

/// A zig found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zig {
    /// The zig executable (inside the `ziglang` package when it came from Python).
    pub path: Utf8PathBuf,
    pub version: String,
    /// True when found through `python3 -m ziglang` rather than PATH.
    pub from_python: bool,
}

impl Zig {
    /// The zig cargo-zigbuild must be told of (`CARGO_ZIGBUILD_ZIG_PATH`): one that only
    /// a Python package provides, which it does not find itself.
    pub fn zigbuild_path(&self) -> Option<&Utf8Path> {
        self.from_python.then_some(self.path.as_path())
    }
}

/// What [`probe_zig`] found, remembered with everything its answer depends on (finding
/// zig through Python costs ~100 ms of interpreter and version-manager start-up).
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ZigMemo {
    key: String,
    path: Utf8PathBuf,
    version: String,
    from_python: bool,
    /// zig's [`stamp`]: a replaced or removed zig is probed again.
    stamp: String,
}

/// What the probe's answer depends on: `PATH` and what `zig` and `python3` resolve to on
/// it, the variables that select a Python (pyenv, virtualenv, conda), and the current
/// directory (pyenv reads `.python-version` files from it upwards).
fn zig_key() -> String {
    let var = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
    format!(
        "PATH={:?}\nzig={:?}\npython3={:?}\nPYENV_VERSION={:?}\nVIRTUAL_ENV={:?}\nCONDA_PREFIX={:?}\ncwd={:?}",
        var("PATH"),
        which("zig"),
        which("python3"),
        var("PYENV_VERSION"),
        var("VIRTUAL_ENV"),
        var("CONDA_PREFIX"),
        std::env::current_dir().ok(),
    )
}

/// zig on `PATH`, else inside Python's `ziglang` package (`pip install ziglang`, which
/// cargo-zigbuild's `pip install` brings): [`probe_zig`], remembered in the user's cache
/// dir (`zig.json`) while its key holds and the zig it found is the same file.
pub fn find() -> Option<Zig> {
    let memo_path = crate::fs::cache::dir()?.join("zig.json");
    let key = zig_key();
    if let Some(zig) = crate::fs::cache::read_private(&memo_path, 16 * 1024)
        .and_then(|bytes| zig_from_memo(&bytes, &key))
    {
        return Some(zig);
    }
    let zig = probe_zig()?;
    if let Some(stamp) = stamp(zig.path.as_std_path())
        && let Ok(json) = serde_json::to_vec(&ZigMemo {
            key,
            path: zig.path.clone(),
            version: zig.version.clone(),
            from_python: zig.from_python,
            stamp,
        })
    {
        crate::fs::cache::write_private(&memo_path, &json);
    }
    Some(zig)
}

/// The zig a memo names, when the memo is well-formed, made under `key`, and its zig is
/// still the same file.
fn zig_from_memo(bytes: &[u8], key: &str) -> Option<Zig> {
    let m: ZigMemo = serde_json::from_slice(bytes).ok()?;
    (m.key == key && stamp(m.path.as_std_path()).as_ref() == Some(&m.stamp)).then_some(Zig {
        path: m.path,
        version: m.version,
        from_python: m.from_python,
    })
}

fn probe_zig() -> Option<Zig> {
    if let Some(path) = which("zig")
        && let Some(version) = Process::new(&path).arg("version").probe_stdout(LIMIT)
    {
        return Some(Zig {
            path,
            version,
            from_python: false,
        });
    }
    let python = which("python3")?;
    let script =
        "import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))";
    let path = Utf8PathBuf::from(
        Process::new(&python)
            .args(["-c", script])
            .probe_stdout(LIMIT)?,
    );
    let version = Process::new(&path).arg("version").probe_stdout(LIMIT)?;
    Some(Zig {
        path,
        version,
        from_python: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zig_memo_holds_only_for_its_key_and_the_same_zig_file() {
        let t = tempfile::tempdir().unwrap();
        let zig = Utf8PathBuf::from_path_buf(t.path().join("zig")).unwrap();
        std::fs::write(&zig, "#!/bin/sh\necho 0.15.1\n").unwrap();
        let memo = |key: &str, stamp: String| {
            serde_json::to_vec(&ZigMemo {
                key: key.to_owned(),
                path: zig.clone(),
                version: "0.15.1".into(),
                from_python: true,
                stamp,
            })
            .unwrap()
        };
        let good = memo("k", stamp(zig.as_std_path()).unwrap());
        let found = zig_from_memo(&good, "k").unwrap();
        assert_eq!(
            (found.path, found.version.as_str(), found.from_python),
            (zig.clone(), "0.15.1", true)
        );
        assert!(zig_from_memo(&good, "another PATH").is_none());
        assert!(zig_from_memo(&memo("k", "old stamp".into()), "k").is_none());
        assert!(zig_from_memo(b"{\"key\":\"k\"}", "k").is_none());
        // A replaced zig (another inode, size or mtime) is probed again.
        std::fs::remove_file(&zig).unwrap();
        std::fs::write(&zig, "#!/bin/sh\necho 0.16.0 new\n").unwrap();
        assert!(zig_from_memo(&good, "k").is_none());
    }
}
