//! [`GitDaemon`]: a real `git daemon` on a free local port that serves, and
//! accepts pushes to, every repository under a folder; stopped on drop.
//!
//! The same idea as the git layer's own fixture (`server/src/git/tests`),
//! which is private to that crate.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long the daemon may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A `git daemon` serving `git://127.0.0.1:PORT/<name>` from `<base>/<name>`,
/// with pushes enabled. Drop stops it and the children it forked for
/// connections.
#[derive(Debug)]
pub struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    /// Starts `git daemon` serving the repositories under `base`, and waits
    /// until it accepts connections.
    pub fn start(base: &Path) -> Result<GitDaemon> {
        // The port is free when we look, but another process may take it
        // before the daemon binds: then the daemon exits and we try another.
        for _ in 0..5 {
            let port = free_port()?;
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
                .context("starting git daemon")?;
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                    return Ok(GitDaemon { child, port });
                }
                if child.try_wait().context("polling git daemon")?.is_some() {
                    break;
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!("git daemon did not listen on port {port} within {START_TIMEOUT:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        bail!("git daemon found no free port in 5 attempts")
    }

    /// The `git://` URL of the repository `name` under the base folder.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        // The group id is the daemon's pid (`process_group(0)`).
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local port nothing listens on right now.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .context("binding a free port")?
        .port())
}
