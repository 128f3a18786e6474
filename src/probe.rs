//! Probes of the build machine: which toolchain, rust-std, C compilers, zig,
//! cargo-zigbuild, cross, container engines and qemu-user are really there.
//!
//! Every external command runs under a time limit. The cheap probes (rustc, PATH
//! look-ups) run at once; the slow ones (zig through Python, cargo-zigbuild, cross, a
//! container engine) are started in the background and waited for only by what needs
//! them, so a pure-Rust build never waits for Python to start.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use crate::fs::cache::stamp;
use crate::platform::Target;
use crate::process::Process;
pub(crate) use crate::process::which;
use crate::zig::{self, Zig};

const LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// `rustc -vV`'s host triple.
    pub host: String,
    /// Names the exact compiler, for caches of its answers: its sysroot and host, and
    /// the size, mtime and inode of its binary (as cargo's own rustc cache keys it).
    pub rustc_identity: Option<String>,
    /// `rustc -vV`'s first line, asked for only when wanted (`doctor`).
    rustc_version: Arc<OnceLock<Option<String>>>,
    /// Where rustc runs (whose `rust-toolchain.toml` applies).
    dir: Utf8PathBuf,
    /// The sysroot of the rustc cargo uses in the workspace directory.
    pub sysroot: Option<Utf8PathBuf>,
    /// The rustup toolchain name (the sysroot's directory under `toolchains/`).
    pub toolchain: Option<String>,
    /// Triples whose rust-std is in the sysroot.
    pub installed_targets: Vec<String>,
    pub rustup: Option<Utf8PathBuf>,
    /// zig, cargo-zigbuild, cross and a container engine: probed in the background.
    tools: Arc<Tools>,
    /// `qemu-<arch>` or `qemu-<arch>-static` by qemu arch name.
    pub qemu: BTreeMap<String, Utf8PathBuf>,
    /// Environment variables that matter, as seen (for C compilers).
    env: BTreeMap<String, String>,
}

/// The slow probes, each run once, on first use or by the background prefetch.
#[derive(Debug, Default)]
struct Tools {
    zig: OnceLock<Option<Zig>>,
    cargo_zigbuild: OnceLock<Option<Utf8PathBuf>>,
    cross: OnceLock<Option<Utf8PathBuf>>,
    /// `docker` or `podman`, when its `info` answers.
    engine: OnceLock<Option<String>>,
}

impl Tools {
    fn zig(&self) -> Option<&Zig> {
        self.zig.get_or_init(zig::find).as_ref()
    }

    fn cargo_zigbuild(&self) -> Option<&Utf8PathBuf> {
        self.cargo_zigbuild
            .get_or_init(|| which("cargo-zigbuild"))
            .as_ref()
    }

    fn cross(&self) -> Option<&Utf8PathBuf> {
        self.cross.get_or_init(|| which("cross")).as_ref()
    }

    fn engine(&self) -> Option<&String> {
        self.engine.get_or_init(probe_engine).as_ref()
    }
}

/// A C compiler for a target and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CCompiler {
    pub command: String,
    /// `CC_x86_64_unknown_linux_musl`, `TARGET_CC`, or `PATH`.
    pub source: String,
}

impl Probes {
    /// Probes everything, with `workspace_dir` as the directory whose toolchain
    /// (`rust-toolchain.toml`) and config apply.
    /// Probes the machine for a build in `workspace_dir`. With `prefetch`, the slow
    /// probes start now in the background (for `plan` and `doctor`, which show them all);
    /// without it they run when first asked for, so a pure-Rust build never starts Python.
    pub fn run(workspace_dir: &Utf8Path, prefetch: bool) -> Self {
        let tools = Arc::new(Tools::default());
        // Whoever needs a probe first waits for it (`OnceLock`), prefetched or not.
        if prefetch {
            let t = Arc::clone(&tools);
            std::thread::spawn(move || t.zig().map(|_| ()));
            let t = Arc::clone(&tools);
            std::thread::spawn(move || {
                t.engine();
                t.cargo_zigbuild();
                t.cross();
            });
        }
        let (host, sysroot, rustc_vv) = probe_rustc_cached(workspace_dir);
        let rustc_version = Arc::new(OnceLock::new());
        if let Some(vv) = rustc_vv {
            let _ = rustc_version.set(version_line(&vv));
        }
        let rustc_identity = sysroot.as_deref().and_then(|s| rustc_identity(s, &host));
        let rustup = which("rustup");
        let mut qemu = BTreeMap::new();
        for arch in QEMU_ARCHES {
            if let Some(p) =
                which(&format!("qemu-{arch}")).or_else(|| which(&format!("qemu-{arch}-static")))
            {
                qemu.insert(arch.to_owned(), p);
            }
        }
        let env = std::env::vars()
            .filter(|(k, _)| {
                k.starts_with("CC_")
                    || k == "TARGET_CC"
                    || k.starts_with("CARGO_TARGET_")
                    || k == "CARGO_ZIGBUILD_ZIG_PATH"
            })
            .collect();
        let toolchain = sysroot.as_ref().and_then(|s| toolchain_name(s));
        let installed_targets = sysroot
            .as_ref()
            .map(|s| installed_targets(s))
            .unwrap_or_default();
        Self {
            host,
            rustc_identity,
            rustc_version,
            dir: workspace_dir.to_owned(),
            sysroot,
            toolchain,
            installed_targets,
            rustup,
            tools,
            qemu,
            env,
        }
    }

    /// `rustc -vV`'s first line (`rustc 1.95.0 (…)`), None when rustc does not answer.
    pub fn rustc_version(&self) -> Option<&str> {
        self.rustc_version
            .get_or_init(|| {
                rustc()
                    .arg("-vV")
                    .cwd(&self.dir)
                    .probe_stdout(LIMIT)
                    .and_then(|vv| version_line(&vv))
            })
            .as_deref()
    }

    pub fn zig(&self) -> Option<&Zig> {
        self.tools.zig()
    }

    pub fn cargo_zigbuild(&self) -> Option<&Utf8PathBuf> {
        self.tools.cargo_zigbuild()
    }

    pub fn cross(&self) -> Option<&Utf8PathBuf> {
        self.tools.cross()
    }

    pub fn engine(&self) -> Option<&String> {
        self.tools.engine()
    }

    /// rust-std of every triple `target` is built as (both halves of a universal binary).
    pub fn has_rust_std(&self, target: &Target) -> bool {
        target
            .rustc_triples()
            .iter()
            .all(|triple| self.installed_targets.iter().any(|t| t == triple))
    }

    pub fn is_host(&self, target: &Target) -> bool {
        self.host == target.triple() && !target.has_glibc_suffix()
    }

    /// The command that installs rust-std for `target` in the workspace's toolchain.
    pub fn rustup_add_command(&self, triple: &str) -> String {
        match &self.toolchain {
            Some(tc) => format!("rustup target add --toolchain {tc} {triple}"),
            None => format!("rustup target add {triple}"),
        }
    }

    /// A C compiler that really targets `target`'s libc: the user's `CC_<target>` /
    /// `TARGET_CC`, else a known cross compiler on PATH. `aarch64-linux-gnu-gcc` is not
    /// one for musl (sqlite then fails to link on `open64`), so it is never taken for it.
    pub fn c_compiler(&self, target: &Target) -> Option<CCompiler> {
        let triple = target.triple();
        for key in [
            format!("CC_{triple}"),
            format!("CC_{}", triple.replace('-', "_")),
            "TARGET_CC".to_owned(),
        ] {
            if let Some(v) = self.env.get(&key).filter(|v| !v.is_empty()) {
                return Some(CCompiler {
                    command: v.clone(),
                    source: key,
                });
            }
        }
        if self.is_host(target) {
            return which("cc").map(|_| CCompiler {
                command: "cc".into(),
                source: "PATH".into(),
            });
        }
        known_c_compilers(triple)
            .iter()
            .find(|c| which(c).is_some())
            .map(|c| CCompiler {
                command: (*c).to_owned(),
                source: "PATH".into(),
            })
    }

    /// A gcc-style linker for a non-host glibc or Windows target (musl links with rust-lld).
    pub fn cross_linker(&self, target: &Target) -> Option<String> {
        let key = format!(
            "CARGO_TARGET_{}_LINKER",
            target.triple().to_uppercase().replace('-', "_")
        );
        if let Some(v) = self.env.get(&key) {
            return Some(v.clone());
        }
        let name = match target.triple() {
            "aarch64-unknown-linux-gnu" => "aarch64-linux-gnu-gcc",
            "x86_64-unknown-linux-gnu" => "x86_64-linux-gnu-gcc",
            "riscv64gc-unknown-linux-gnu" => "riscv64-linux-gnu-gcc",
            "x86_64-pc-windows-gnu" => "x86_64-w64-mingw32-gcc",
            _ => return None,
        };
        which(name).map(|_| name.to_owned())
    }

    /// qemu-user for a target's architecture, when the host cannot run it natively.
    pub fn qemu_for(&self, target: &Target) -> Option<&Utf8PathBuf> {
        self.qemu.get(qemu_arch(target.platform())?)
    }

    /// Whether the zig backend can run: zig found (the wrappers need nothing else).
    pub fn zig_ready(&self) -> bool {
        self.zig().is_some()
    }

    /// Whether the zigbuild backend can run: zig and cargo-zigbuild both found.
    pub fn zigbuild_ready(&self) -> bool {
        self.cargo_zigbuild().is_some() && self.zig().is_some()
    }

    pub fn cross_ready(&self) -> bool {
        self.cross().is_some() && self.engine().is_some()
    }

    /// The value for `CARGO_ZIGBUILD_ZIG_PATH`, unless the user set it: cargo-zigbuild
    /// does not find a zig that only a Python package provides.
    pub fn zig_path_env(&self) -> Option<&Utf8Path> {
        if self.env.contains_key("CARGO_ZIGBUILD_ZIG_PATH") {
            return None;
        }
        self.zig().and_then(Zig::zigbuild_path)
    }
}

/// The architectures qemu-user is looked for.
const QEMU_ARCHES: [&str; 10] = [
    "aarch64",
    "x86_64",
    "i386",
    "arm",
    "riscv64",
    "ppc64le",
    "s390x",
    "mips64el",
    "loongarch64",
    "armeb",
];

/// qemu-user's name for a platform's architecture (`qemu-<name>`): `linux/386` runs
/// under `qemu-i386`, `linux/arm/v7` under `qemu-arm`.
pub(crate) fn qemu_arch(p: crate::platform::Platform) -> Option<&'static str> {
    Some(match p.arch.as_str() {
        "amd64" => "x86_64",
        "386" => "i386",
        "arm64" => "aarch64",
        "arm" => "arm",
        "armbe" => "armeb",
        "riscv64" => "riscv64",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "mips64le" => "mips64el",
        "loong64" => "loongarch64",
        _ => return None,
    })
}

/// C compilers known to target a triple's libc, as Debian and musl.cc name them.
fn known_c_compilers(triple: &str) -> &'static [&'static str] {
    match triple {
        "x86_64-unknown-linux-musl" => &["x86_64-linux-musl-gcc", "musl-gcc"],
        "aarch64-unknown-linux-musl" => &["aarch64-linux-musl-gcc"],
        "armv7-unknown-linux-musleabihf" => {
            &["armv7l-linux-musleabihf-gcc", "arm-linux-musleabihf-gcc"]
        }
        "aarch64-unknown-linux-gnu" => &["aarch64-linux-gnu-gcc"],
        "x86_64-unknown-linux-gnu" => &["x86_64-linux-gnu-gcc"],
        "riscv64gc-unknown-linux-gnu" => &["riscv64-linux-gnu-gcc"],
        "x86_64-pc-windows-gnu" => &["x86_64-w64-mingw32-gcc"],
        _ => &[],
    }
}

/// The rustc cargo will use: `$RUSTC`, else the one beside `$CARGO`, else `rustc`.
pub(crate) fn rustc() -> Process {
    if let Some(r) = std::env::var_os("RUSTC") {
        return Process::new(r);
    }
    if let Some(cargo) = std::env::var_os("CARGO") {
        let beside = std::path::Path::new(&cargo).with_file_name("rustc");
        if beside.is_file() {
            return Process::new(beside);
        }
    }
    Process::new("rustc")
}

/// What decides which rustc [`rustc`] runs and what it answers: the program itself
/// (`$RUSTC`, the one beside `$CARGO`, or `rustc` on `PATH`, usually rustup's proxy) and
/// rustup's choice of toolchain: `RUSTUP_TOOLCHAIN`, `RUSTUP_HOME`, its settings (the
/// default and the overrides) and the `rust-toolchain(.toml)` files from `dir` upwards.
fn rustc_key(dir: &Utf8Path) -> Option<String> {
    let program = which::which(rustc().program()).ok()?;
    let var = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
    let mut key = format!(
        "dir={dir}\nrustc={}\nRUSTUP_TOOLCHAIN={:?}\nRUSTUP_HOME={:?}\n",
        stamp(&program)?,
        var("RUSTUP_TOOLCHAIN"),
        var("RUSTUP_HOME"),
    );
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".rustup")))?;
    key.push_str(&stamp(&rustup_home.join("settings.toml")).unwrap_or_default());
    for d in dir.ancestors() {
        for f in ["rust-toolchain", "rust-toolchain.toml"] {
            if let Some(s) = stamp(d.join(f).as_std_path()) {
                key.push('\n');
                key.push_str(&s);
            }
        }
    }
    Some(key)
}

/// The host and sysroot [`probe_rustc`] found, remembered under [`rustc_key`].
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RustcMemo {
    key: String,
    host: String,
    sysroot: Utf8PathBuf,
    /// The sysroot's `bin/rustc` [`stamp`]: an updated toolchain is probed again.
    stamp: String,
}

/// The host and sysroot a memo names, when it was made under `key` and the sysroot's
/// rustc is still the same file.
fn rustc_from_memo(bytes: &[u8], key: &str) -> Option<(String, Utf8PathBuf)> {
    let m: RustcMemo = serde_json::from_slice(bytes).ok()?;
    (m.key == key
        && !m.host.is_empty()
        && !m.host.contains(char::is_whitespace)
        && stamp(m.sysroot.join("bin/rustc").as_std_path()).as_ref() == Some(&m.stamp))
    .then_some((m.host, m.sysroot))
}

/// [`probe_rustc`], remembered in the user's cache dir per [`rustc_key`]: a rustc
/// start through rustup's proxy costs ~18 ms of CPU on every run.
fn probe_rustc_cached(dir: &Utf8Path) -> (String, Option<Utf8PathBuf>, Option<String>) {
    let Some((key, memo)) = rustc_key(dir).and_then(|key| {
        let memo = crate::fs::cache::dir()?.join("rustc").join(format!(
            "{}.json",
            crate::digest::Sha256::of(key.as_bytes())
        ));
        Some((key, memo))
    }) else {
        return probe_rustc(dir);
    };
    if let Some((host, sysroot)) =
        crate::fs::cache::read_private(&memo, 64 * 1024).and_then(|b| rustc_from_memo(&b, &key))
    {
        return (host, Some(sysroot), None);
    }
    let found = probe_rustc(dir);
    if let (host, Some(sysroot), None) = &found
        && let Some(stamp) = stamp(sysroot.join("bin/rustc").as_std_path())
        && let Ok(json) = serde_json::to_vec(&RustcMemo {
            key,
            host: host.clone(),
            sysroot: sysroot.clone(),
            stamp,
        })
    {
        crate::fs::cache::write_private(&memo, &json);
        if let Some(parent) = memo.parent() {
            crate::fs::cache::prune(parent, 128);
        }
    }
    found
}

/// The host triple and the sysroot, from one rustc run (`--print host-tuple`, rustc
/// 1.84 and later), else from `rustc -vV` and `rustc --print sysroot` (whose `-vV` is
/// then returned too).
fn probe_rustc(dir: &Utf8Path) -> (String, Option<Utf8PathBuf>, Option<String>) {
    if let Some(out) = rustc()
        .args(["--print", "sysroot", "--print", "host-tuple"])
        .cwd(dir)
        .probe_stdout(LIMIT)
        && let Some((sysroot, host)) = out.split_once('\n')
        && !sysroot.is_empty()
        && !host.is_empty()
        && !host.contains('\n')
    {
        return (host.to_owned(), Some(Utf8PathBuf::from(sysroot)), None);
    }
    // Both at once: each is a process start of the toolchain's rustc.
    let (vv, sysroot) = std::thread::scope(|s| {
        let sysroot = s.spawn(|| {
            rustc()
                .args(["--print", "sysroot"])
                .cwd(dir)
                .probe_stdout(LIMIT)
                .map(Utf8PathBuf::from)
        });
        let vv = rustc()
            .arg("-vV")
            .cwd(dir)
            .probe_stdout(LIMIT)
            .unwrap_or_default();
        (vv, sysroot.join().ok().flatten())
    });
    let host = vv
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or("unknown")
        .to_owned();
    (host, sysroot, Some(vv))
}

fn version_line(vv: &str) -> Option<String> {
    vv.lines()
        .next()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
}

/// What names the rustc in `sysroot` for caches: the sysroot, the host, and its
/// binary's size, mtime and inode (a toolchain update replaces the binary), plus
/// `$RUSTC`'s when set. None when the binary cannot be read.
fn rustc_identity(sysroot: &Utf8Path, host: &str) -> Option<String> {
    let mut id = format!("sysroot {sysroot}\nhost {host}\n");
    id.push_str(&stamp(sysroot.join("bin/rustc").as_std_path())?);
    if let Some(r) = std::env::var_os("RUSTC") {
        let path = which::which(&r).ok()?;
        id.push('\n');
        id.push_str(&stamp(&path)?);
    }
    Some(id)
}

fn toolchain_name(sysroot: &Utf8Path) -> Option<String> {
    let parent = sysroot.parent()?;
    (parent.file_name() == Some("toolchains"))
        .then(|| sysroot.file_name().map(str::to_owned))
        .flatten()
}

fn installed_targets(sysroot: &Utf8Path) -> Vec<String> {
    let Ok(entries) = sysroot.join("lib/rustlib").read_dir_utf8() else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("lib").is_dir())
        .map(|e| e.file_name().to_owned())
        .collect();
    out.sort();
    out
}

fn probe_engine() -> Option<String> {
    for engine in ["docker", "podman"] {
        if which(engine).is_some()
            && Process::new(engine)
                .args(["info", "--format", "{{.ServerVersion}}"])
                .probe_stdout(Duration::from_secs(3))
                .is_some_and(|v| !v.is_empty())
        {
            return Some(engine.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rustc_memo_holds_only_for_its_key_and_the_same_toolchain() {
        let t = tempfile::tempdir().unwrap();
        let sysroot = Utf8PathBuf::from_path_buf(t.path().to_owned()).unwrap();
        std::fs::create_dir_all(sysroot.join("bin")).unwrap();
        std::fs::write(sysroot.join("bin/rustc"), "1").unwrap();
        let memo = |key: &str, host: &str| {
            serde_json::to_vec(&RustcMemo {
                key: key.to_owned(),
                host: host.to_owned(),
                sysroot: sysroot.clone(),
                stamp: stamp(sysroot.join("bin/rustc").as_std_path()).unwrap(),
            })
            .unwrap()
        };
        let good = memo("k", "x86_64-unknown-linux-gnu");
        assert_eq!(
            rustc_from_memo(&good, "k"),
            Some(("x86_64-unknown-linux-gnu".to_owned(), sysroot.clone()))
        );
        assert!(rustc_from_memo(&good, "other toolchain file").is_none());
        assert!(rustc_from_memo(&memo("k", "a b"), "k").is_none());
        assert!(rustc_from_memo(&memo("k", ""), "k").is_none());
        // `rustup update` replaces the toolchain's rustc.
        std::fs::remove_file(sysroot.join("bin/rustc")).unwrap();
        std::fs::write(sysroot.join("bin/rustc"), "22").unwrap();
        assert!(rustc_from_memo(&good, "k").is_none());
    }

    #[test]
    fn the_rustc_key_changes_with_a_toolchain_file() {
        let t = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::from_path_buf(t.path().join("ws")).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let before = rustc_key(&dir).unwrap();
        std::fs::write(
            t.path().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"1.89\"\n",
        )
        .unwrap();
        assert_ne!(rustc_key(&dir).unwrap(), before);
    }

    #[test]
    fn qemu_arch_names() {
        let q = |p: &str| qemu_arch(crate::platform::Platform::parse(p).unwrap());
        assert_eq!(q("linux/arm64"), Some("aarch64"));
        assert_eq!(q("linux/386"), Some("i386"));
        assert_eq!(q("linux/arm/v7"), Some("arm"));
        assert_eq!(q("linux/riscv64"), Some("riscv64"));
        assert_eq!(q("linux/wasm"), None);
        for a in QEMU_ARCHES {
            assert!(QEMU_ARCHES.iter().filter(|b| **b == a).count() == 1);
        }
    }

    #[test]
    fn toolchain_name_from_sysroot() {
        assert_eq!(
            toolchain_name("/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu".into())
                .as_deref(),
            Some("stable-x86_64-unknown-linux-gnu")
        );
        assert_eq!(toolchain_name("/usr".into()), None);
    }

    #[test]
    fn rustc_identity_changes_with_the_binary() {
        let tmp = tempfile::tempdir().unwrap();
        let sysroot = Utf8PathBuf::try_from(tmp.path().to_owned()).unwrap();
        let host = "x86_64-unknown-linux-gnu";
        assert_eq!(rustc_identity(&sysroot, host), None, "no binary");
        std::fs::create_dir(sysroot.join("bin")).unwrap();
        let bin = sysroot.join("bin/rustc");
        std::fs::write(&bin, "one").unwrap();
        let id = rustc_identity(&sysroot, host).unwrap();
        assert!(id.contains(sysroot.as_str()) && id.contains(host), "{id}");
        assert_eq!(rustc_identity(&sysroot, host).unwrap(), id);
        assert_ne!(
            rustc_identity(&sysroot, "aarch64-unknown-linux-gnu").unwrap(),
            id
        );
        // An update in place: same size, another time.
        let f = std::fs::File::options().write(true).open(&bin).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_ne!(rustc_identity(&sysroot, host).unwrap(), id);
    }

    #[test]
    fn the_real_rustc_answers_in_one_run() {
        let dir = Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let (host, sysroot, vv) = probe_rustc(&dir);
        assert!(host.contains("-linux-"), "{host}");
        assert!(sysroot.unwrap().join("lib/rustlib").is_dir());
        assert_eq!(vv, None, "rustc >= 1.84 prints host-tuple");
    }

    #[test]
    fn gnu_cross_gcc_is_never_a_musl_compiler() {
        assert!(
            !known_c_compilers("aarch64-unknown-linux-musl").contains(&"aarch64-linux-gnu-gcc")
        );
    }
}
