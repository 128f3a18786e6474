//! The user's cache dir for what the tool remembers between runs (where zig is, which
//! zig targets are warm), and the one way to read and write it: private files of the
//! user's, read back as untrusted input.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::MetadataExt as _;

use camino::{Utf8Path, Utf8PathBuf};

use super::{open_regular, write_atomic_at};

/// `$XDG_CACHE_HOME/cargo-multiarch`, else `~/.cache/cargo-multiarch`; `None` without
/// an absolute UTF-8 home.
pub(crate) fn dir() -> Option<Utf8PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".cache")))?;
    let base = Utf8PathBuf::try_from(base).ok()?;
    base.is_absolute().then(|| base.join("cargo-multiarch"))
}

/// The bytes of `path` when it is a regular file (never through a symlink) that the
/// user owns, that nobody else can write, and of at most `max` bytes; else `None`.
pub(crate) fn read_private(path: &Utf8Path, max: u64) -> Option<Vec<u8>> {
    let file = open_regular(path).ok()?;
    let meta = file.metadata().ok()?;
    if meta.uid() != rustix::process::geteuid().as_raw()
        || meta.mode() & 0o022 != 0
        || meta.len() > max
    {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Writes `bytes` to `path` atomically, mode 0600, creating its directory; a cache that
/// cannot be written only costs the next run some time, so failure is silent.
pub(crate) fn write_private(path: &Utf8Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(parent) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    let _ = write_atomic_at(path, |f| {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        Ok(())
    });
}

/// Keeps the `keep` most recently written `.json` files of `dir`.
pub(crate) fn prune(dir: &Utf8Path, keep: usize) {
    let Ok(entries) = dir.read_dir_utf8() else {
        return;
    };
    let mut memos: Vec<(std::time::SystemTime, Utf8PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension() == Some("json"))
        .filter_map(|e| {
            let meta = e.path().symlink_metadata().ok()?;
            meta.is_file()
                .then(|| Some((meta.modified().ok()?, e.path().to_owned())))
                .flatten()
        })
        .collect();
    if memos.len() <= keep {
        return;
    }
    memos.sort();
    for (_, path) in &memos[..memos.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
}

/// A file's path, size, mtime and inode: what changes when it is replaced.
#[cfg(unix)]
pub(crate) fn stamp(p: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(p).ok()?;
    Some(format!(
        "{} {} {}.{} {}",
        p.display(),
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ino()
    ))
}

#[cfg(not(unix))]
pub fn stamp(p: &std::path::Path) -> Option<String> {
    let m = std::fs::metadata(p).ok()?;
    Some(format!(
        "{} {} {:?}",
        p.display(),
        m.len(),
        m.modified().ok()?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_private_regular_small_files_of_ours_are_read() {
        use std::os::unix::fs::PermissionsExt as _;
        let t = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(t.path()).unwrap();
        let f = root.join("sub/f.json");
        write_private(&f, b"{}");
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_private(&f, 10).as_deref(), Some(&b"{}"[..]));
        assert!(read_private(&f, 1).is_none(), "too large");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o620)).unwrap();
        assert!(read_private(&f, 10).is_none(), "group-writable");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = root.join("l.json");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(read_private(&link, 10).is_none(), "a symlink");
        assert!(read_private(&root.join("sub"), 10).is_none(), "a directory");
    }
}
