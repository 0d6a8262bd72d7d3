//! [`GitDaemon`]: a real `git daemon` on a free local port, serving (and
//! accepting pushes to) every repository under a folder; killed on drop.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the daemon may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    /// Starts `git daemon` serving `base` (`git://127.0.0.1:PORT/<name>` is
    /// `base/<name>`), and waits until it accepts connections.
    pub fn start(base: &Path) -> GitDaemon {
        // The port is free when we look but another process may take it
        // before the daemon binds: then the daemon exits and we try another.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("git")
                .arg("daemon")
                .arg("--export-all")
                .arg(format!("--base-path={}", base.display()))
                .arg("--reuseaddr")
                .arg(format!("--port={port}"))
                .arg("--listen=127.0.0.1")
                .arg("--enable=receive-pack")
                .arg("--informative-errors")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                // The daemon forks a child per connection that would inherit
                // the test's stderr and outlive the test: silence them all.
                .stderr(Stdio::null())
                // Its own process group, so drop can end the connection
                // children too.
                .process_group(0)
                .spawn()
                .expect("starting git daemon");
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                    return GitDaemon { child, port };
                }
                if child.try_wait().expect("polling git daemon").is_some() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "git daemon did not listen on {port}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("git daemon could not find a free port");
    }

    /// The `git://` URL of the repository `name` under the base folder.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        // The group id is the daemon's pid (process_group(0)).
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("binding a free port")
        .port()
}
