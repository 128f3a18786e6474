//! Packs every file of a directory with `archive::write_tar_gz_file`, for timing against
//! `tar -cf - dir | gzip -N > x.tar.gz && sha256sum x.tar.gz` with hyperfine:
//!
//! ```text
//! cargo build --release --example archive_bench
//! hyperfine 'target/release/examples/archive_bench DIR 6 /tmp/ours.tar.gz' \
//!     'tar -cf - DIR | gzip -6 > /tmp/theirs.tar.gz && sha256sum /tmp/theirs.tar.gz'
//! ```

use anyhow::{Context as _, Result};
use camino::Utf8PathBuf;
use cargo_multiarch::archive::{self, Entry, Options, Source};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: archive_bench DIR LEVEL OUT";
    let dir = Utf8PathBuf::from(args.next().context(usage)?);
    let level = args
        .next()
        .context(usage)?
        .parse()
        .context("LEVEL must be 0-9")?;
    let out = Utf8PathBuf::from(args.next().context(usage)?);
    let top = dir.file_name().context("DIR has no name")?;
    let mut entries = Vec::new();
    for file in dir
        .read_dir_utf8()
        .with_context(|| format!("could not list `{dir}`"))?
    {
        let file = file?;
        let path = format!("{top}/{}", file.file_name());
        entries.push(Entry {
            path,
            source: Source::File(file.into_path()),
            mode: 0o755,
        });
    }
    let written = archive::write_tar_gz_file(&entries, &Options { mtime: 0, level }, &out)?;
    println!("{}  {out}", written.sha256);
    Ok(())
}
