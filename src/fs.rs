//! Files the tool writes and reads outside an out dir's checks, the safe way: atomic
//! writes (a unique temporary name beside the file, synced and renamed), reads that
//! never follow a symlink or wait on a FIFO, and the user's cache dir ([`cache`]).
//! Everything below an out dir goes through [`crate::outdir::OutDir`] instead.

pub(crate) mod cache;

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};

/// Marks the temporary files this tool writes: `.<name>.multiarch-tmp-<pid>-<n>`.
const TEMP_MARK: &str = ".multiarch-tmp-";
/// The longest file name most filesystems take.
const MAX_COMPONENT: usize = 255;

/// Keeps a temporary name within the component limit (the unique tail is kept).
fn truncate_component(name: &str) -> String {
    if name.len() <= MAX_COMPONENT {
        return name.to_owned();
    }
    // Drop one byte more than the excess, for the leading `.`, and never cut a character.
    let mut start = name.len() - MAX_COMPONENT + 1;
    while !name.is_char_boundary(start) {
        start += 1;
    }
    format!(".{}", &name[start..])
}

pub(crate) fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMP_MARK)
}

/// Creates `base/rel`, a directory the tool owns below one the user chose (the target
/// dir), one component at a time, refusing a symbolic link or anything but a directory
/// at each: what the tool writes there (the zig wrappers, `--auditable`'s and
/// `--cache`'s scripts, which cargo then runs) never lands where a link points.
pub(crate) fn own_dir(base: &Utf8Path, rel: &str) -> Result<Utf8PathBuf> {
    let mut dir = base.to_owned();
    for name in rel.split('/') {
        if name.is_empty() || name == "." || name == ".." {
            bail!("`{rel}` is not a plain relative path");
        }
        dir.push(name);
        let meta = match dir.symlink_metadata() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match fs::create_dir(&dir) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                        return Err(e).with_context(|| {
                            format!(
                                "cannot create `{dir}` (hint: check the target dir's permissions)"
                            )
                        });
                    }
                    _ => {}
                }
                dir.symlink_metadata()
            }
            other => other,
        }
        .with_context(|| format!("cannot read `{dir}`"))?;
        if meta.file_type().is_symlink() {
            bail!(
                "`{dir}` is a symbolic link; cargo-multiarch writes the scripts cargo runs there and never follows a link (hint: remove `{dir}`)"
            );
        }
        if !meta.is_dir() {
            bail!("`{dir}` is not a directory (hint: remove it)");
        }
    }
    Ok(dir)
}

/// Writes `bytes` to `path` with `mode` (atomically, see [`write_atomic_at`]) unless
/// it holds exactly that already; true when it wrote. What is there is read without
/// following a symlink and at most one byte more than `bytes`: anything else (a FIFO,
/// a link, a huge file, another mode) is replaced. For files the tool owns under the
/// target dir (zig wrappers, `--auditable`'s wrapper and objects).
pub(crate) fn write_if_changed(path: &Utf8Path, bytes: &[u8], mode: u32) -> Result<bool> {
    use std::os::unix::fs::PermissionsExt as _;
    let current = open_regular(path).ok().and_then(|f| {
        let same_mode = f
            .metadata()
            .is_ok_and(|m| m.permissions().mode() & 0o777 == mode);
        let mut have = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(f, bytes.len() as u64 + 1),
            &mut have,
        )
        .ok()?;
        same_mode.then_some(have)
    });
    if current.as_deref() == Some(bytes) {
        return Ok(false);
    }
    let dir = path.parent().expect("a file has a parent");
    std::fs::create_dir_all(dir).with_context(|| {
        format!("cannot create `{dir}` (hint: check the target dir's permissions)")
    })?;
    write_atomic_at(path, |f| {
        f.write_all(bytes)
            .with_context(|| format!("cannot write `{path}`"))?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of `{path}`"))
    })?;
    Ok(true)
}

/// Writes `dest` atomically: `write` fills a fresh, uniquely named temporary file in
/// the same directory, which is synced and renamed over `dest`; on error it is removed
/// and `dest` is as it was. For paths the caller has checked (or trusts).
pub(crate) fn write_atomic_at<T>(
    dest: &Utf8Path,
    write: impl FnOnce(&mut File) -> Result<T>,
) -> Result<T> {
    let tmp = temp_sibling(dest);
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot create `{tmp}`"))?;
        let value = write(&mut file)?;
        file.sync_all()
            .with_context(|| format!("cannot sync `{tmp}` to disk"))?;
        drop(file);
        fs::rename(&tmp, dest).with_context(|| format!("cannot rename `{tmp}` to `{dest}`"))?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    } else if let Some(dir) = dest.parent().filter(|d| !d.as_str().is_empty())
        && let Ok(dir) = File::open(dir)
    {
        // Make the rename durable; some filesystems refuse to sync a directory.
        let _ = dir.sync_all();
    }
    result
}

/// `dir/.name.multiarch-tmp-<pid>-<n>` beside `path`: unique within this process and
/// across processes, and recognised as a leftover by [`OutDir::sweep_temps`].
pub(crate) fn temp_sibling(path: &Utf8Path) -> Utf8PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let file = path.file_name().unwrap_or("file");
    let name = truncate_component(&format!(".{file}{TEMP_MARK}{}-{n}", std::process::id()));
    match path.parent() {
        Some(d) => d.join(name),
        None => Utf8PathBuf::from(name),
    }
}

/// Opens a regular file read-only with `O_NOFOLLOW | O_NONBLOCK`, so a symlink or a
/// FIFO swapped in after a check can neither redirect nor block the read.
pub(crate) fn open_regular(path: &Utf8Path) -> Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path.as_std_path(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io::Error::from)
    .with_context(|| format!("cannot open `{path}`"))?;
    let file = File::from(fd);
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read `{path}`"))?;
    if !meta.is_file() {
        bail!("`{path}` is not a regular file");
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_dirs_are_made_and_never_reached_through_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let base = Utf8Path::from_path(tmp.path()).unwrap();
        let made = own_dir(base, "cargo-multiarch/zig/x").unwrap();
        assert!(made.is_dir());
        assert_eq!(own_dir(base, "cargo-multiarch/zig/x").unwrap(), made);
        let elsewhere = base.join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, base.join("cargo-multiarch/zig/y")).unwrap();
        let e = own_dir(base, "cargo-multiarch/zig/y/deeper")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is a symbolic link") && e.contains("hint: remove"),
            "{e}"
        );
        assert!(!elsewhere.join("deeper").exists());
        fs::write(base.join("file"), b"x").unwrap();
        assert!(
            own_dir(base, "file/sub")
                .unwrap_err()
                .to_string()
                .contains("not a directory")
        );
        assert!(own_dir(base, "a/../b").is_err());
    }
}
