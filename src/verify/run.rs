//! `verify --run`: each binary that passed every check is started with the run
//! arguments, in a process group of its own that is killed when it exits or at a time
//! limit: natively, under qemu-user for another Linux CPU (`linux/386` under
//! `qemu-i386`, `linux/arm64` under `qemu-aarch64`), under wine for `windows/amd64`.
//! macOS binaries are checked, never run, and the report says so.

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use super::{Ran, Report};
use crate::manifest::Artifact;
use crate::outdir::OutDir;
use crate::output::RunOutcome;
use crate::platform::{Format, Platform};
use crate::probe;
use crate::process::{Ended, Process};

/// How long one native or qemu run may take.
const RUN_LIMIT: Duration = Duration::from_secs(30);
/// How long one run under wine may take: its first start in a fresh prefix loads and
/// registers much of Windows.
const WINE_LIMIT: Duration = Duration::from_secs(120);
/// How long creating the wine prefix may take.
const WINE_BOOT_LIMIT: Duration = Duration::from_secs(300);

/// How a binary of a platform is started here.
#[derive(Debug, Clone, PartialEq, Eq)]
enum How {
    Native,
    Qemu(Utf8PathBuf),
    Wine,
    /// Checked only: why it is not run.
    Checked(String),
    /// It should run here but cannot: a problem, with the fix.
    Cannot(String),
}

fn how(p: Platform, host: Option<Platform>, wine: bool) -> How {
    let native = host.is_some_and(|h| h.os == p.os && h.arch == p.arch);
    if native {
        return How::Native;
    }
    match p.format() {
        Format::MachO => How::Checked("macOS binaries are checked, not run".into()),
        Format::Pe if p.arch == "amd64" && host.is_some_and(|h| h.os == "linux") => {
            if wine {
                How::Wine
            } else {
                How::Checked(
                    "Windows binaries run under wine, which is not installed (hint: `sudo apt-get install wine64`)"
                        .into(),
                )
            }
        }
        Format::Elf if p.os == "linux" && host.is_some_and(|h| h.os == "linux") => {
            let Some(arch) = probe::qemu_arch(p) else {
                return How::Checked(format!("no qemu-user runs {p} binaries"));
            };
            match probe::which(&format!("qemu-{arch}"))
                .or_else(|| probe::which(&format!("qemu-{arch}-static")))
            {
                Some(q) => How::Qemu(q),
                None => How::Cannot(format!(
                    "cannot run {p} binaries here: `qemu-{arch}` is not installed (hint: `sudo apt-get install qemu-user`)"
                )),
            }
        }
        _ => How::Checked(format!("{p} binaries do not run here")),
    }
}

/// Runs binaries that passed every check (see the module doc).
pub(super) fn run_binaries(out: &OutDir, binaries: &[&Artifact], args: &[String], r: &mut Report) {
    let host = Platform::host();
    let wine_found = Wine::find();
    let mut wine: Option<Result<Wine, String>> = None;
    for a in binaries {
        let Some(platform) = a.platform else { continue };
        let path = match out.file(&a.path) {
            Ok(p) => p,
            Err(e) => {
                r.problems.push(format!("{}: {e:#}", a.path));
                continue;
            }
        };
        let (p, label, limit) = match how(platform, host, wine_found.is_some()) {
            How::Native => (Process::new(&path), "native".to_owned(), RUN_LIMIT),
            How::Qemu(q) => {
                let name = q.file_name().unwrap_or("qemu").to_owned();
                (Process::new(q).arg(&path), name, RUN_LIMIT)
            }
            How::Wine => {
                let w = wine.get_or_insert_with(|| {
                    let (program, server) = wine_found.clone().expect("found");
                    Wine::start(program, server).map_err(|e| format!("{e:#}"))
                });
                match w {
                    Ok(w) => (w.process(&path), "wine".to_owned(), WINE_LIMIT),
                    Err(e) => {
                        r.problems.push(format!("{}: {e}", a.path));
                        continue;
                    }
                }
            }
            How::Checked(why) => {
                r.runs.push(Ran {
                    outcome: RunOutcome::Checked,
                    path: Some(a.path.clone()),
                    how: None,
                    detail: why,
                });
                continue;
            }
            How::Cannot(why) => {
                r.problems.push(format!("{}: {why}", a.path));
                continue;
            }
        };
        let p = p.args(args);
        // Its own process group, killed when it exits or at the limit: a binary that
        // daemonises or holds its output open cannot leave anything behind or hang verify.
        match p.run_limited(limit) {
            Ok(run) => match run.ended {
                Ended::Exited(status) if status.success() => {
                    let text = String::from_utf8_lossy(&run.stdout);
                    r.runs.push(Ran {
                        outcome: RunOutcome::Ok,
                        path: Some(a.path.clone()),
                        how: Some(label),
                        detail: text.lines().next().unwrap_or("").trim().to_owned(),
                    });
                }
                Ended::Exited(status) => r.problems.push(format!(
                    "{}: `{}` failed under {label} ({status}): {}",
                    a.path,
                    args.join(" "),
                    String::from_utf8_lossy(&run.stderr)
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("")
                        .trim()
                )),
                Ended::TimedOut => r.problems.push(format!(
                    "{}: `{p}` took over {} s and was killed",
                    a.path,
                    limit.as_secs()
                )),
            },
            Err(e) => r.problems.push(format!("{}: {e:#}", a.path)),
        }
    }
}

/// A throwaway wine prefix (`WINEPREFIX`) for one verify run, removed with its
/// wineserver when dropped.
struct Wine {
    program: Utf8PathBuf,
    server: Option<Utf8PathBuf>,
    prefix: Utf8PathBuf,
}

impl Wine {
    /// wine (Debian's `wine64` package installs `/usr/lib/wine/wine64`; the `wine`
    /// package puts `wine` on PATH) and its wineserver.
    fn find() -> Option<(Utf8PathBuf, Option<Utf8PathBuf>)> {
        let lib = |name: &str| {
            let p = Utf8PathBuf::from(format!("/usr/lib/wine/{name}"));
            p.is_file().then_some(p)
        };
        let program = probe::which("wine64")
            .or_else(|| probe::which("wine"))
            .or_else(|| lib("wine64"))?;
        let server = probe::which("wineserver").or_else(|| lib("wineserver64"));
        Some((program, server))
    }

    /// Creates the prefix (`wineboot --init`, the slow part: a first start registers
    /// much of Windows), and adds what Rust binaries need that old wine lacks.
    fn start(program: Utf8PathBuf, server: Option<Utf8PathBuf>) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let base = Utf8PathBuf::try_from(std::env::temp_dir())
            .context("the temporary directory is not UTF-8 (hint: set `TMPDIR` to a UTF-8 path)")?;
        sweep_stale_prefixes(&base);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let prefix = base.join(format!("{PREFIX_NAME}{}-{nanos}", std::process::id()));
        std::fs::create_dir(&prefix)
            .with_context(|| format!("cannot create the wine prefix `{prefix}`"))?;
        let wine = Self {
            program,
            server,
            prefix,
        };
        let boot = wine.process(Utf8Path::new("wineboot")).arg("--init");
        match boot.run_limited(WINE_BOOT_LIMIT)?.ended {
            Ended::Exited(s) if s.success() => {}
            Ended::Exited(s) => anyhow::bail!(
                "`{boot}` failed ({s}): wine cannot create a prefix (hint: check that `wine64 wineboot` works)"
            ),
            Ended::TimedOut => anyhow::bail!(
                "`{boot}` took over {} s (hint: check that `wine64 wineboot` works)",
                WINE_BOOT_LIMIT.as_secs()
            ),
        }
        // Rust's std imports `ProcessPrng` from `bcryptprimitives.dll` (since 1.78),
        // which wine 8 (Debian 12) does not have: a DLL that forwards it to
        // `advapi32.SystemFunction036` (RtlGenRandom) lets those binaries start.
        let system32 = wine.prefix.join("drive_c/windows/system32");
        let dll = system32.join("bcryptprimitives.dll");
        if system32.is_dir() && !dll.exists() {
            std::fs::write(&dll, bcryptprimitives_forwarder())
                .with_context(|| format!("cannot write `{dll}`"))?;
        }
        Ok(wine)
    }

    fn process(&self, exe: &Utf8Path) -> Process {
        Process::new(&self.program)
            .arg(exe)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            // No Mono or Gecko installer dialog, no window.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
    }
}

/// The prefix name's start: `cargo-multiarch-wine-<pid>-<nanos>`.
const PREFIX_NAME: &str = "cargo-multiarch-wine-";

/// Removes the prefixes of runs that were killed before they could (a prefix is some
/// 700 MB): directories of ours, named by a process that is gone.
fn sweep_stale_prefixes(base: &Utf8Path) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = base.read_dir_utf8() else {
        return;
    };
    let me = rustix::process::geteuid().as_raw();
    for e in entries.filter_map(Result::ok) {
        let Some(pid) = e
            .file_name()
            .strip_prefix(PREFIX_NAME)
            .and_then(|rest| rest.split('-').next())
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let ours = e
            .path()
            .symlink_metadata()
            .is_ok_and(|m| m.is_dir() && m.uid() == me);
        if ours && !Utf8Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            let _ = Process::new(server)
                .arg("-k")
                .env("WINEPREFIX", &self.prefix)
                .run_limited(Duration::from_secs(10));
        }
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}

/// A PE32+ DLL named `bcryptprimitives.dll` with no code and one export, `ProcessPrng`,
/// forwarded to `advapi32.SystemFunction036` (both fill a buffer with random bytes;
/// std ignores the result). Built here byte by byte: 1 KiB of headers and an export
/// directory.
pub(super) fn bcryptprimitives_forwarder() -> Vec<u8> {
    const RVA: u32 = 0x1000;
    let dll_name = b"bcryptprimitives.dll\0";
    let export = b"ProcessPrng\0";
    let target = b"advapi32.SystemFunction036\0";
    // The export directory (40 bytes), the three one-entry tables, then the strings.
    let (o_funcs, o_names, o_ords, o_dll) = (0x28u32, 0x2cu32, 0x30u32, 0x34u32);
    let o_export = o_dll + len32(dll_name);
    let o_target = o_export + len32(export);
    let size = o_target + len32(target);

    let mut edata = Vec::new();
    for v in [0u32, 0] {
        edata.extend_from_slice(&v.to_le_bytes()); // characteristics, time stamp
    }
    edata.extend_from_slice(&[0; 4]); // version
    for v in [
        RVA + o_dll,
        1,
        1,
        1,
        RVA + o_funcs,
        RVA + o_names,
        RVA + o_ords,
        // AddressOfFunctions[0]: inside the export directory, so a forwarder.
        RVA + o_target,
        RVA + o_export,
    ] {
        edata.extend_from_slice(&v.to_le_bytes());
    }
    edata.extend_from_slice(&[0, 0, 0, 0]); // ordinal 0, padding
    edata.extend_from_slice(dll_name);
    edata.extend_from_slice(export);
    edata.extend_from_slice(target);
    debug_assert_eq!(edata.len(), size as usize);

    let mut f = vec![0u8; 0x400];
    f[..2].copy_from_slice(b"MZ");
    f[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    let mut h = Vec::new();
    h.extend_from_slice(b"PE\0\0");
    // COFF: AMD64, one section, 240-byte optional header, executable DLL.
    for v in [0x8664u16, 1] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&[0; 12]);
    for v in [240u16, 0x2022] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    // Optional header (PE32+), no entry point.
    h.extend_from_slice(&0x20bu16.to_le_bytes());
    h.extend_from_slice(&[0, 0]);
    for v in [0u32, 0x200, 0, 0, RVA] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&0x1_8000_0000u64.to_le_bytes());
    for v in [0x1000u32, 0x200] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    for v in [6u16, 0, 0, 0, 6, 0] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0u32, 0x2000, 0x200, 0] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    // Console subsystem; NX-compatible.
    for v in [3u16, 0x100] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0x10_0000u64, 0x1000, 0x10_0000, 0x1000] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0u32, 16] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    // Data directories: only the export table.
    h.extend_from_slice(&RVA.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&[0; 15 * 8]);
    // The one section, `.edata`: initialised, readable.
    h.extend_from_slice(b".edata\0\0");
    for v in [size, RVA, 0x200, 0x200, 0, 0] {
        h.extend_from_slice(&v.to_le_bytes());
    }
    h.extend_from_slice(&[0; 4]);
    h.extend_from_slice(&0x4000_0040u32.to_le_bytes());
    f[0x40..0x40 + h.len()].copy_from_slice(&h);
    f[0x200..0x200 + edata.len()].copy_from_slice(&edata);
    f
}

fn len32(b: &[u8]) -> u32 {
    u32::try_from(b.len()).expect("a short string")
}

#[cfg(test)]
mod tests;
