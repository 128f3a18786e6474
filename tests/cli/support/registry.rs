//! Debian's `docker-registry`, the real registry the push tests talk to.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::require;

/// Debian's `docker-registry` on a free loopback port with a temp storage dir; killed on drop.
pub struct Registry {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    pub fn start() -> Self {
        require("docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}/data\nhttp:\n  addr: {addr}\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let log = dir.path().join("registry.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        let mut registry = Registry {
            child,
            addr: addr.clone(),
            _dir: dir,
        };
        let socket: SocketAddr = addr.parse().unwrap();
        let start = Instant::now();
        while TcpStream::connect_timeout(&socket, Duration::from_millis(200)).is_err() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                registry.child.try_wait().unwrap().is_none(),
                "docker-registry exited early:\n{text}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "docker-registry did not listen on {addr} within 20 s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }
}
