//! The out dir as a trust boundary.
//!
//! Everything below an out dir may have been written by someone else (an artifact
//! uploaded by another CI job, a tampered download). Paths read from it — manifest and
//! build-record entries, OCI blob names, merge inputs — are parsed once into a
//! [`RelPath`] (relative, normal components only), and files are reached only through
//! an [`OutDir`], which refuses a symlink anywhere from the out dir down and anything
//! that is not a regular file where a file is expected, *before* opening it (a FIFO
//! never blocks a read, a device is never opened). The out dir itself is the one path
//! the user typed, so it may be reached through a symlink; nothing below it is followed.
//!
//! Writes go to a unique temporary name beside the destination and are renamed into
//! place; temporary files left by a killed run are removed by the next run that holds
//! the out dir's lock ([`OutDir::lock`]).

use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read as _, Write as _};

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Component, Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::fs::{is_temp, open_regular, temp_sibling, write_atomic_at};

/// Longest path accepted from untrusted data, and longest component.
const MAX_PATH: usize = crate::limits::MAX_PATH;
const MAX_COMPONENT: usize = crate::limits::MAX_COMPONENT;

/// A path read from untrusted data: relative, `/`-separated, only normal components
/// (no `.`, `..`, empty, absolute or Windows prefixes), no control characters or
/// backslashes, at most 1024 bytes. It cannot name anything outside the directory it
/// is joined to, except through a symlink, which [`OutDir`] refuses.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelPath(Utf8PathBuf);

impl RelPath {
    pub fn new(s: &str) -> Result<Self> {
        let shown = s.escape_debug();
        if s.is_empty() {
            bail!("an empty path");
        }
        if s.len() > MAX_PATH {
            bail!("path `{shown}` is longer than {MAX_PATH} bytes");
        }
        if s.chars().any(|c| c.is_control() || c == '\\') {
            bail!("path `{shown}` holds a control character or a backslash");
        }
        let p = Utf8Path::new(s);
        if p.is_absolute() || s.starts_with('/') {
            bail!("path `{shown}` is absolute; paths must be relative to the out dir");
        }
        for c in s.split('/') {
            match c {
                "" | "." => bail!("path `{shown}` has an empty or `.` component"),
                ".." => bail!("path `{shown}` leaves the out dir (`..`)"),
                c if c.len() > MAX_COMPONENT => {
                    bail!("path `{shown}` has a component over {MAX_COMPONENT} bytes");
                }
                _ => {}
            }
        }
        debug_assert!(
            p.components()
                .all(|c| matches!(c, Utf8Component::Normal(_)))
        );
        Ok(Self(p.to_owned()))
    }

    pub fn as_path(&self) -> &Utf8Path {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `self/name`, checked like any other path.
    pub fn join(&self, name: &str) -> Result<Self> {
        Self::new(&format!("{}/{name}", self.0))
    }

    /// The directory holding this path (None at the top).
    pub fn parent(&self) -> Option<Self> {
        self.0
            .parent()
            .filter(|p| !p.as_str().is_empty())
            .map(|p| Self(p.to_owned()))
    }

    pub fn file_name(&self) -> &str {
        self.0
            .file_name()
            .expect("a RelPath ends in a normal component")
    }
}

impl TryFrom<String> for RelPath {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<RelPath> for String {
    fn from(p: RelPath) -> Self {
        p.0.into_string()
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_str())
    }
}

/// What a path below the out dir is, read without following a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device.
    Special,
}

impl Kind {
    fn of(m: &Metadata) -> Self {
        let t = m.file_type();
        if t.is_symlink() {
            Self::Symlink
        } else if t.is_dir() {
            Self::Dir
        } else if t.is_file() {
            Self::File
        } else {
            Self::Special
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::File => "a regular file",
            Self::Dir => "a directory",
            Self::Symlink => "a symlink",
            Self::Special => "a FIFO, socket or device",
        }
    }
}

/// An out dir (or an OCI layout, or a merge input): the root every [`RelPath`] is
/// resolved against, never leaving it.
#[derive(Debug, Clone)]
pub struct OutDir {
    /// As the user gave it, for messages.
    shown: Utf8PathBuf,
    /// Canonical: the one place a symlink is allowed is above this.
    root: Utf8PathBuf,
}

impl OutDir {
    /// An existing directory.
    pub fn existing(dir: &Utf8Path) -> Result<Self> {
        let root = dir
            .canonicalize_utf8()
            .with_context(|| format!("cannot open `{dir}`: it does not exist or cannot be read"))?;
        if !root.is_dir() {
            bail!("`{dir}` is not a directory");
        }
        Ok(Self {
            shown: dir.to_owned(),
            root,
        })
    }

    /// The directory, created first when it is missing.
    pub fn create(dir: &Utf8Path) -> Result<Self> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create `{dir}`"))?;
        Self::existing(dir)
    }

    /// The path to show the user.
    pub fn shown(&self) -> &Utf8Path {
        &self.shown
    }

    /// The canonical directory.
    pub fn root(&self) -> &Utf8Path {
        &self.root
    }

    /// `rel` as the user would see it, for messages.
    pub fn display(&self, rel: &RelPath) -> Utf8PathBuf {
        self.shown.join(rel.as_path())
    }

    /// A directory below this one, itself a boundary (no symlink on the way).
    pub fn subdir(&self, rel: &RelPath) -> Result<Self> {
        match self.kind(rel)? {
            Some(Kind::Dir) => Ok(Self {
                shown: self.display(rel),
                root: self.root.join(rel.as_path()),
            }),
            Some(k) => bail!(
                "`{}` is {}, not a directory; refusing to use it",
                self.display(rel),
                k.describe()
            ),
            None => bail!("`{}` does not exist", self.display(rel)),
        }
    }

    /// Like [`OutDir::subdir`], creating the directory (and its parents) when missing.
    pub fn create_subdir(&self, rel: &RelPath) -> Result<Self> {
        self.create_dirs(rel)?;
        self.subdir(rel)
    }

    /// Checks every directory from the root down to `rel`'s parent is a real
    /// directory; returns the full path and what `rel` itself is (None: missing).
    fn walk(&self, rel: &RelPath) -> Result<(Utf8PathBuf, Option<Kind>)> {
        let mut at = self.root.clone();
        let parts: Vec<&str> = rel.as_str().split('/').collect();
        let (last, dirs) = parts.split_last().expect("a RelPath is never empty");
        for d in dirs {
            at.push(d);
            match lstat(&at)? {
                Some(Kind::Dir) => {}
                None => return Ok((self.root.join(rel.as_path()), None)),
                Some(k) => bail!(
                    "`{}` leads through `{at}`, which is {}; refusing to follow it out of `{}`",
                    self.display(rel),
                    k.describe(),
                    self.shown
                ),
            }
        }
        at.push(last);
        let kind = lstat(&at)?;
        Ok((at, kind))
    }

    /// What `rel` is, without following a symlink; None when it does not exist.
    pub fn kind(&self, rel: &RelPath) -> Result<Option<Kind>> {
        Ok(self.walk(rel)?.1)
    }

    /// The full path of an existing regular file, for a reader that takes a path
    /// (an archive source, a binary to run). Refuses anything else.
    pub fn file(&self, rel: &RelPath) -> Result<Utf8PathBuf> {
        match self.walk(rel)? {
            (p, Some(Kind::File)) => Ok(p),
            (_, None) => bail!("`{}` is missing", self.display(rel)),
            (_, Some(k)) => bail!(
                "`{}` is {}, not a regular file; refusing to read it",
                self.display(rel),
                k.describe()
            ),
        }
    }

    /// Opens a regular file for reading; never follows a symlink and never blocks on a
    /// FIFO (it is refused before it is opened, and the opened file is checked again).
    pub fn open(&self, rel: &RelPath) -> Result<File> {
        let path = self.file(rel)?;
        open_regular(&path).with_context(|| format!("cannot read `{}`", self.display(rel)))
    }

    /// Reads a whole regular file of at most `max` bytes.
    pub fn read(&self, rel: &RelPath, max: u64) -> Result<Vec<u8>> {
        let file = self.open(rel)?;
        let mut bytes = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read `{}`", self.display(rel)))?;
        if bytes.len() as u64 > max {
            bail!(
                "`{}` is larger than {max} bytes; refusing to read it",
                self.display(rel)
            );
        }
        Ok(bytes)
    }

    /// The sha256 and size of a regular file.
    pub fn hash(&self, rel: &RelPath) -> Result<(Sha256, u64)> {
        let mut file = self.open(rel)?;
        crate::digest::sha256_reader(&mut file)
            .with_context(|| format!("cannot read `{}`", self.display(rel)))
    }

    /// Creates `rel` and its parents as real directories (refusing a symlink or file
    /// on the way).
    pub fn create_dirs(&self, rel: &RelPath) -> Result<()> {
        let mut at = self.root.clone();
        for d in rel.as_str().split('/') {
            at.push(d);
            match lstat(&at)? {
                Some(Kind::Dir) => {}
                None => match fs::create_dir(&at) {
                    Ok(()) => {}
                    Err(e)
                        if e.kind() == io::ErrorKind::AlreadyExists
                            && lstat(&at)? == Some(Kind::Dir) => {}
                    Err(e) => return Err(e).with_context(|| format!("cannot create `{at}`")),
                },
                Some(k) => bail!(
                    "`{at}` is {}, not a directory; refusing to write through it (hint: remove it)",
                    k.describe()
                ),
            }
        }
        Ok(())
    }

    /// Where a new file at `rel` is written: its parent directories exist (created
    /// when missing, never through a symlink) and `rel` is absent or not a directory.
    pub fn writable(&self, rel: &RelPath) -> Result<Utf8PathBuf> {
        if let Some(parent) = rel.parent() {
            self.create_dirs(&parent)?;
        }
        match self.walk(rel)? {
            (_, Some(Kind::Dir)) => bail!(
                "`{}` is a directory; refusing to replace it (hint: remove it)",
                self.display(rel)
            ),
            (p, _) => Ok(p),
        }
    }

    /// Writes a file atomically: `write` fills a fresh temporary file beside `rel`,
    /// which is synced and renamed over `rel`. On error the temporary file is removed
    /// and `rel` is as it was.
    pub fn write_with<T>(
        &self,
        rel: &RelPath,
        write: impl FnOnce(&mut File) -> Result<T>,
    ) -> Result<T> {
        let dest = self.writable(rel)?;
        write_atomic_at(&dest, write)
            .with_context(|| format!("cannot write `{}`", self.display(rel)))
    }

    /// Writes a new file beside `rel` under a temporary name and leaves it there
    /// (synced) for a later [`OutDir::rename`]; returns that name and what `write`
    /// returned. The caller renames it or removes it; a kill leaves it to
    /// [`OutDir::sweep_temps`].
    pub fn write_temp<T>(
        &self,
        rel: &RelPath,
        write: impl FnOnce(&mut File) -> Result<T>,
    ) -> Result<(RelPath, T)> {
        let dest = self.writable(rel)?;
        let tmp_abs = temp_sibling(&dest);
        let tmp = RelPath::new(
            tmp_abs
                .strip_prefix(&self.root)
                .expect("a sibling of a path below the root")
                .as_str(),
        )?;
        let result = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp_abs)
                .with_context(|| format!("cannot create `{tmp_abs}`"))?;
            let value = write(&mut file)?;
            file.sync_all()
                .with_context(|| format!("cannot sync `{tmp_abs}` to disk"))?;
            Ok(value)
        })();
        match result {
            Ok(v) => Ok((tmp, v)),
            Err(e) => {
                let _ = fs::remove_file(&tmp_abs);
                Err(e)
            }
        }
    }

    /// Writes `bytes` to `rel` atomically.
    pub fn write(&self, rel: &RelPath, bytes: &[u8]) -> Result<()> {
        self.write_with(rel, |f| Ok(f.write_all(bytes)?))
    }

    /// Copies a regular file of `from` to `rel` here, byte for byte, never following a
    /// symlink on either side; returns the sha256 and size of what was copied.
    pub fn copy_from(&self, from: &OutDir, src: &RelPath, rel: &RelPath) -> Result<(Sha256, u64)> {
        let mut input = from.open(src)?;
        self.write_with(rel, |out| {
            let mut hashing = crate::digest::HashWriter::new(out);
            io::copy(&mut input, &mut hashing)
                .with_context(|| format!("cannot copy `{}`", from.display(src)))?;
            let (_, sha, size) = hashing.into_parts();
            Ok((sha, size))
        })
    }

    /// Makes a regular file here executable (0755) through its handle, never through a
    /// symlink: staged binaries are executables whatever mode a copy kept.
    pub fn set_executable(&self, rel: &RelPath) -> Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        self.open(rel)?
            .set_permissions(fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make `{}` executable", self.display(rel)))
    }

    /// Renames one path here over another (both checked).
    pub fn rename(&self, from: &RelPath, to: &RelPath) -> Result<()> {
        let src = self.file(from)?;
        let dest = self.writable(to)?;
        fs::rename(&src, &dest).with_context(|| format!("cannot rename `{src}` to `{dest}`"))
    }

    /// Removes a file (or a symlink itself, never what it points at); missing is fine.
    /// Refuses directories.
    pub fn remove(&self, rel: &RelPath) -> Result<()> {
        match self.walk(rel) {
            Ok((p, Some(Kind::File | Kind::Symlink | Kind::Special))) => {
                match fs::remove_file(&p) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        Err(e).with_context(|| format!("cannot remove `{p}`"))
                    }
                    _ => Ok(()),
                }
            }
            Ok((_, None)) => Ok(()),
            Ok((_, Some(Kind::Dir))) => bail!(
                "`{}` is a directory; refusing to remove it",
                self.display(rel)
            ),
            Err(e) => Err(e),
        }
    }

    /// Removes a directory the tool wrote and everything in it, depth first, never
    /// following a link (a link is removed itself); a file is removed as [`OutDir::remove`]
    /// does; missing is fine.
    pub fn remove_tree(&self, rel: &RelPath) -> Result<()> {
        match self.walk(rel)? {
            (_, None) => Ok(()),
            (p, Some(Kind::Dir)) => {
                for (child, kind) in self.list(Some(rel))? {
                    if kind == Kind::Dir {
                        self.remove_tree(&child)?;
                    } else {
                        self.remove(&child)?;
                    }
                }
                fs::remove_dir(&p).with_context(|| format!("cannot remove `{p}`"))
            }
            _ => self.remove(rel),
        }
    }

    /// The entries of a directory here: name and kind, sorted by name; an empty list
    /// when it does not exist. Names that are not valid path components are skipped.
    pub fn list(&self, rel: Option<&RelPath>) -> Result<Vec<(RelPath, Kind)>> {
        let dir = match rel {
            Some(r) => match self.walk(r)? {
                (p, Some(Kind::Dir)) => p,
                (_, None) => return Ok(Vec::new()),
                (_, Some(k)) => bail!(
                    "`{}` is {}, not a directory; refusing to read it",
                    self.display(r),
                    k.describe()
                ),
            },
            None => self.root.clone(),
        };
        let mut out = Vec::new();
        for e in dir
            .read_dir_utf8()
            .with_context(|| format!("cannot read `{dir}`"))?
        {
            let e = e.with_context(|| format!("cannot read `{dir}`"))?;
            let name = e.file_name();
            let child = match rel {
                Some(r) => r.join(name),
                None => RelPath::new(name),
            };
            let Ok(child) = child else { continue };
            let kind = Kind::of(
                &e.path()
                    .symlink_metadata()
                    .with_context(|| format!("cannot read `{}`", e.path()))?,
            );
            out.push((child, kind));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Removes the temporary files of runs that died (call with the lock held: no live
    /// run can own one then). Walks the tree without following symlinks.
    pub fn sweep_temps(&self) -> Result<usize> {
        let mut removed = 0;
        let mut stack: Vec<Option<RelPath>> = vec![None];
        while let Some(dir) = stack.pop() {
            for (child, kind) in self.list(dir.as_ref())? {
                match kind {
                    Kind::Dir => stack.push(Some(child)),
                    Kind::File | Kind::Symlink if is_temp(child.file_name()) => {
                        self.remove(&child)?;
                        removed += 1;
                    }
                    _ => {}
                }
            }
        }
        Ok(removed)
    }

    /// Takes the out dir's lock: exclusive for a command that writes here, shared for
    /// one that only reads. A second writer waits, saying so the way cargo does, or
    /// with `no_wait` fails at once. The OS drops the lock when the process dies.
    ///
    /// `rel` is the lock file ([`crate::layout::LOCK`]); `on_wait` is called once before
    /// blocking, to say so.
    pub fn lock(
        &self,
        rel: &RelPath,
        mode: LockMode,
        on_wait: impl FnOnce(&Utf8Path),
    ) -> Result<Lock> {
        let rel = rel.clone();
        let file = match mode {
            LockMode::Shared { .. } => {
                // A reader never creates anything: no lock file means no writer ever ran.
                match self.kind(&rel)? {
                    Some(Kind::File) => open_regular(&self.file(&rel)?)?,
                    _ => return Ok(Lock { _file: None }),
                }
            }
            LockMode::Exclusive { .. } => {
                let path = self.writable(&rel)?;
                if self.kind(&rel)?.is_some_and(|k| k != Kind::File) {
                    bail!(
                        "`{}` is not a regular file; refusing to use it as a lock (hint: remove it)",
                        self.display(&rel)
                    );
                }
                fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .with_context(|| format!("cannot open the lock file `{path}`"))?
            }
        };
        let (exclusive, no_wait) = match mode {
            LockMode::Shared { no_wait } => (false, no_wait),
            LockMode::Exclusive { no_wait } => (true, no_wait),
        };
        let attempt = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match attempt {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                if no_wait {
                    return Err(Locked {
                        out_dir: self.shown.clone(),
                    }
                    .into());
                }
                on_wait(&self.shown);
                let r = if exclusive {
                    file.lock()
                } else {
                    file.lock_shared()
                };
                r.with_context(|| format!("cannot lock out dir `{}`", self.shown))?;
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock out dir `{}`", self.shown));
            }
        }
        Ok(Lock { _file: Some(file) })
    }
}

/// Another run holds the out dir's lock, and the caller asked not to wait (`--no-wait`):
/// a typed error, so that the exit code can say so.
#[derive(Debug)]
pub(crate) struct Locked {
    pub out_dir: Utf8PathBuf,
}

impl fmt::Display for Locked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "another cargo-multiarch run holds the lock on out dir `{}` (hint: wait for it to finish, or drop `--no-wait` to wait)",
            self.out_dir
        )
    }
}

impl std::error::Error for Locked {}

/// How to lock an out dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Shared { no_wait: bool },
    Exclusive { no_wait: bool },
}

/// Held while a command works on an out dir; released on drop or when the process dies.
#[derive(Debug)]
#[must_use = "the lock is released when this is dropped"]
pub struct Lock {
    _file: Option<File>,
}

/// What `p` is, without following a symlink; None when missing.
fn lstat(p: &Utf8Path) -> Result<Option<Kind>> {
    match p.symlink_metadata() {
        Ok(m) => Ok(Some(Kind::of(&m))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read `{p}`")),
    }
}

#[cfg(test)]
mod tests;
