//! `--cache sccache` for real: Redis on 127.0.0.1 is the shared cache; two sccache
//! servers, one after the other, each with empty local state, are two machines that
//! check out the same commit at the same path and build into target dirs at
//! different paths. The second one compiles nothing cacheable: it hits.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A port nobody listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `redis-server` on 127.0.0.1 in its own dir, saving nothing; killed when dropped.
pub(crate) struct Redis {
    child: Child,
    pub(crate) port: u16,
}

impl Redis {
    pub(crate) fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One "machine": its own sccache state and server port, its own target and out dir.
struct Machine {
    dir: PathBuf,
    port: u16,
}

impl Machine {
    fn new(root: &Path, name: &str) -> Self {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            dir,
            port: free_port(),
        }
    }

    /// sccache's settings of this machine: the shared Redis, nothing else of the
    /// caller's (no other backend, no wrapper of theirs).
    fn env(&self, cmd: &mut Command, redis: &Redis) {
        for (k, _) in std::env::vars() {
            if k.starts_with("SCCACHE_") {
                cmd.env_remove(k);
            }
        }
        cmd.env_remove("RUSTC_WRAPPER")
            .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
            .env("SCCACHE_DIR", self.dir.join("sccache"))
            .env("SCCACHE_SERVER_PORT", self.port.to_string())
            .env("SCCACHE_IDLE_TIMEOUT", "120")
            .env(
                "SCCACHE_REDIS_ENDPOINT",
                format!("redis://127.0.0.1:{}", redis.port),
            );
    }

    /// Builds `ws` for both targets; the `cache` event of the run. C keys leave out
    /// the checkout's path (`SCCACHE_BASEDIRS`).
    fn build(&self, ws: &Path, redis: &Redis) -> serde_json::Value {
        let mut cmd = multiarch(ws);
        self.env(&mut cmd, redis);
        cmd.env("SCCACHE_BASEDIRS", ws);
        let run = run(cmd
            .args(["build", "--cache", "sccache", "--message-format", "json"])
            .args(["--target", "x86_64-unknown-linux-musl"])
            .args(["--target", "aarch64-unknown-linux-musl"])
            .arg("--target-dir")
            .arg(self.dir.join("target"))
            .arg("--out-dir")
            .arg(self.dir.join("out")))
        .success();
        // Every event, the `cache` one included, validates against the schema.
        let events = crate::events::events(&run.stdout());
        let cache: Vec<&serde_json::Value> =
            events.iter().filter(|e| e["reason"] == "cache").collect();
        assert_eq!(cache.len(), 1, "{}", run.stdout());
        assert!(
            run.stderr().contains("Cache sccache: Rust "),
            "{}",
            run.stderr()
        );
        cache[0].clone()
    }
}

/// The staged binary of a machine's out dir.
fn binary(machine: &Path, platform: &str) -> Vec<u8> {
    std::fs::read(machine.join("out").join(platform).join("bin/cached")).unwrap()
}

impl Drop for Machine {
    fn drop(&mut self) {
        stop_sccache(self.port);
    }
}

/// Stops the sccache server on its port when dropped.
pub(crate) struct StopSccache(pub(crate) u16);

impl Drop for StopSccache {
    fn drop(&mut self) {
        stop_sccache(self.0);
    }
}

/// Stops the sccache server listening on `port`, if any.
pub(crate) fn stop_sccache(port: u16) {
    let _ = Command::new("sccache")
        .arg("--stop-server")
        .env("SCCACHE_SERVER_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn counts(event: &serde_json::Value, lang: &str) -> (u64, u64) {
    (
        event[lang]["hits"].as_u64().unwrap(),
        event[lang]["misses"].as_u64().unwrap(),
    )
}

#[test]
fn two_machines_share_one_cache_through_redis() {
    require("sccache");
    require("redis-server");
    require_zig();
    let tmp = tempfile::Builder::new()
        .prefix("multiarch-cache-")
        .tempdir_in(scratch())
        .unwrap();
    let redis = Redis::start(&tmp.path().join("redis"));
    // One checkout (the same path on both machines); target dirs at two paths.
    let (_fixture, ws) = private_fixture("cached");

    let cold = Machine::new(tmp.path(), "machine-a");
    let first = cold.build(&ws, &redis);
    let (hits, misses) = counts(&first, "rust");
    assert_eq!(hits, 0, "an empty cache hit: {first}");
    assert!(misses >= 7, "{first}");
    // C through cc-rs on both targets, and run directly (as `make` runs `$CC`) through
    // the zig wrapper on aarch64 and the cache's musl-gcc wrapper on x86_64.
    assert_eq!(counts(&first, "c"), (0, 4), "{first}");
    let cold_dir = cold.dir.clone();
    drop(cold);

    let warm = Machine::new(tmp.path(), "machine-b");
    let second = warm.build(&ws, &redis);
    let (hits, misses) = counts(&second, "rust");
    #[allow(clippy::cast_precision_loss)]
    let rate = hits as f64 / (hits + misses) as f64;
    assert!(rate >= 0.9, "Rust hits {hits}/{}: {second}", hits + misses);
    assert_eq!(counts(&second, "c"), (4, 0), "{second}");

    // Binaries built from hits are the cold build's, byte for byte.
    for platform in ["linux/amd64", "linux/arm64"] {
        assert!(
            binary(&cold_dir, platform) == binary(&warm.dir, platform),
            "{platform}: the warm build's binary differs from the cold one's"
        );
    }
    drop(warm);

    // A checkout at another path: C hits through SCCACHE_BASEDIRS, and so do the
    // crates outside the checkout (the registry's: cc and its dependencies for the
    // host, shlex for both targets); the workspace's own library, whose keys hold its
    // path (CARGO_MANIFEST_DIR), compiles again.
    let (_elsewhere, moved) = private_fixture("cached");
    assert_ne!(moved, ws);
    let other = Machine::new(tmp.path(), "machine-c");
    let third = other.build(&moved, &redis);
    assert_eq!(counts(&third, "c"), (4, 0), "{third}");
    assert_eq!(counts(&third, "rust"), (hits - 2, 2), "{third}");
    for platform in ["linux/amd64", "linux/arm64"] {
        assert!(
            binary(&cold_dir, platform) == binary(&other.dir, platform),
            "{platform}: the binary from another checkout differs"
        );
    }
}
