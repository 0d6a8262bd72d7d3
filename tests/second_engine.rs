//! [`SecondEngine`]: a second, independent Docker engine for the tests of
//! several targets, reached as a remote engine is: over TCP with mutual
//! TLS, with certificates the harness makes with `openssl`.
//!
//! It runs in a network namespace of its own, linked to the host by a veth
//! pair on a /30 of `10.231.0.0/16` (the host side `.1`, the engine `.2`),
//! so it has its own address, its own iptables and bridges, and its own
//! single-node swarm advertised on that address. That address is reachable
//! from this machine only: the link is host-only, which is what a loopback
//! port would give, with a real network stack in between (stopping the
//! engine leaves a closed port, as a remote host whose daemon stopped).
//!
//! dockerd is started with `nsenter --net=/var/run/netns/<name>`, not
//! `ip netns exec`, which remounts `/sys` and leaves dockerd without its
//! devices cgroup. It keeps everything apart from the host's engine: its
//! own `--data-root` (under `/var/lib/voc-test/second/`), `--exec-root`
//! (under `/run/voc2e/`, which holds its containerd), pid file and unix
//! socket, which the harness uses for its own checks.
//!
//! Names carry the test process's id, so parallel test processes never
//! meet, and every start first removes what dead test processes left
//! behind (dockerd, containerd and shims, mounts, namespace, folders).

use std::ffi::OsStr;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::BASE_IMAGE;

/// Every name the harness gives (network namespace, folders) starts so.
const PREFIX: &str = "voc2e-";
/// Interface names start so (at most 15 characters in all).
const LINK_PREFIX: &str = "v2e";
/// Where data roots and certificates go.
const STATE_ROOT: &str = "/var/lib/voc-test/second";
/// Where exec roots (sockets, containerd's state) and subnet claims go.
const RUN_ROOT: &str = "/run/voc2e";
/// The port the engine serves TLS on, in its namespace.
pub const TLS_PORT: u16 = 2376;
/// How long dockerd may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long dockerd may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How many /30s fit in `10.231.0.0/16`.
const SUBNETS: u32 = 16384;

/// A second Docker engine with its own swarm, over mutual TLS on
/// `tcp://10.231.X.Y:2376`. Dropping it removes everything it made.
#[derive(Debug)]
pub struct SecondEngine {
    /// The network namespace's name, also the folders' names.
    name: String,
    /// Data root, certificates, dockerd's log.
    state_dir: PathBuf,
    /// Exec root: the unix socket, the pid file, containerd.
    run_dir: PathBuf,
    /// The claim on the subnet (a file in `RUN_ROOT`).
    subnet_claim: PathBuf,
    /// The engine's address (the namespace's side of the link).
    address: Ipv4Addr,
    /// The running dockerd, when started.
    dockerd: Option<Child>,
}

impl SecondEngine {
    /// Makes the namespace, the link and the certificates, starts dockerd,
    /// makes it a swarm manager and loads [`BASE_IMAGE`] into it.
    pub fn start() -> Result<SecondEngine> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        remove_leftovers();
        let pid = std::process::id();
        let count = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{pid}-{count}");
        std::fs::create_dir_all(RUN_ROOT).with_context(|| format!("creating {RUN_ROOT}"))?;
        let (index, subnet_claim) = claim_subnet(pid, count)?;
        let [a, b] = [index / 64, (index % 64) * 4];
        let host_side = Ipv4Addr::new(10, 231, a as u8, b as u8 + 1);
        let address = Ipv4Addr::new(10, 231, a as u8, b as u8 + 2);
        let mut engine = SecondEngine {
            state_dir: Path::new(STATE_ROOT).join(&name),
            run_dir: Path::new(RUN_ROOT).join(&name),
            name,
            subnet_claim,
            address,
            dockerd: None,
        };
        // From here on, drop cleans up whatever was made.
        engine.make_network(host_side)?;
        engine.make_certificates()?;
        engine.start_daemon()?;
        engine
            .docker(["swarm", "init", "--advertise-addr", &address.to_string()])
            .context("making the second engine a swarm manager")?;
        engine.load_base_image()?;
        Ok(engine)
    }

    /// `tcp://<address>:2376`, as voc's configuration names it.
    pub fn host(&self) -> String {
        format!("tcp://{}:{TLS_PORT}", self.address)
    }

    /// The engine's address.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The client's files, as `DOCKER_CERT_PATH` expects them (`ca.pem`,
    /// `cert.pem`, `key.pem`).
    pub fn client_cert_dir(&self) -> PathBuf {
        self.state_dir.join("client")
    }

    /// The TOML of a voc target `name` for this engine.
    pub fn target_config(&self, name: &str) -> String {
        let client = self.client_cert_dir();
        let path = |file: &str| client.join(file).to_string_lossy().into_owned();
        format!(
            "[targets.{name}]\nhost = \"{}\"\ntls_ca = \"{}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            self.host(),
            path("ca.pem"),
            path("cert.pem"),
            path("key.pem")
        )
    }

    /// Runs the docker CLI against this engine (through its unix socket).
    pub fn docker<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = Command::new("docker")
            .arg("-H")
            .arg(self.socket_url())
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .context("running docker")?;
        if !out.status.success() {
            bail!(
                "docker {:?} on the second engine failed ({}): {}",
                args,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `docker service inspect NAME` on this engine, `None` when there is
    /// no such service.
    pub fn inspect_service(&self, name: &str) -> Result<Option<serde_json::Value>> {
        let names = self.docker(["service", "ls", "--format", "{{.Name}}"])?;
        if !names.lines().any(|line| line == name) {
            return Ok(None);
        }
        let all: serde_json::Value =
            serde_json::from_str(&self.docker(["service", "inspect", name])?)?;
        Ok(all.get(0).cloned())
    }

    /// True when dockerd answers on its unix socket.
    pub fn answers(&self) -> bool {
        self.docker(["version", "--format", "{{.Server.Version}}"])
            .is_ok()
    }

    /// Stops dockerd (SIGTERM, as an operator stops it; SIGKILL after 30
    /// s) and waits until it has exited and its TLS port is closed.
    pub fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.dockerd.take() else {
            return Ok(());
        };
        signal(child.id(), "TERM");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while child.try_wait()?.is_none() {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "the second engine's dockerd did not stop within {STOP_TIMEOUT:?}; its log:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Starts dockerd again (after [`SecondEngine::stop`]), with its data:
    /// the swarm and the stacks come back. Waits until it answers.
    pub fn start_daemon(&mut self) -> Result<()> {
        if self.dockerd.is_some() {
            return Ok(());
        }
        std::fs::create_dir_all(self.state_dir.join("data"))?;
        std::fs::create_dir_all(&self.run_dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.state_dir.join("dockerd.log"))?;
        let tls = |file: &str| self.state_dir.join(file);
        // nsenter with only --net execs dockerd in place: the child is
        // dockerd itself.
        let child = Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{}", self.name))
            .arg("dockerd")
            .arg("--data-root")
            .arg(self.state_dir.join("data"))
            .arg("--exec-root")
            .arg(&self.run_dir)
            .arg("--pidfile")
            .arg(self.run_dir.join("dockerd.pid"))
            .arg("-H")
            .arg(self.socket_url())
            .arg("-H")
            .arg(self.host())
            .arg("--tlsverify")
            .arg("--tlscacert")
            .arg(tls("ca.pem"))
            .arg("--tlscert")
            .arg(tls("server-cert.pem"))
            .arg("--tlskey")
            .arg(tls("server-key.pem"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting the second engine's dockerd")?;
        self.dockerd = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        let tls_port = SocketAddr::from((self.address, TLS_PORT));
        loop {
            if self.answers()
                && TcpStream::connect_timeout(&tls_port, Duration::from_millis(500)).is_ok()
            {
                return Ok(());
            }
            if let Some(child) = self.dockerd.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.dockerd = None;
                bail!(
                    "the second engine's dockerd exited ({status}); its log:\n{}",
                    self.log_tail()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "the second engine's dockerd did not answer within {START_TIMEOUT:?}; its log:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The end of dockerd's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.state_dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn socket_url(&self) -> String {
        format!("unix://{}", self.run_dir.join("docker.sock").display())
    }

    fn make_network(&self, host_side: Ipv4Addr) -> Result<()> {
        let (host_link, ns_link) = link_names(&self.name);
        let netns = format!("--net=/var/run/netns/{}", self.name);
        run("ip", ["netns", "add", &self.name])?;
        run(
            "ip",
            [
                "link", "add", &host_link, "type", "veth", "peer", "name", &ns_link,
            ],
        )?;
        run("ip", ["link", "set", &ns_link, "netns", &self.name])?;
        run(
            "ip",
            ["addr", "add", &format!("{host_side}/30"), "dev", &host_link],
        )?;
        run("ip", ["link", "set", &host_link, "up"])?;
        run(
            "nsenter",
            [
                netns.as_str(),
                "ip",
                "addr",
                "add",
                &format!("{}/30", self.address),
                "dev",
                &ns_link,
            ],
        )?;
        run(
            "nsenter",
            [netns.as_str(), "ip", "link", "set", &ns_link, "up"],
        )?;
        run("nsenter", [netns.as_str(), "ip", "link", "set", "lo", "up"])?;
        Ok(())
    }

    fn make_certificates(&self) -> Result<()> {
        crate::tls_files::make_tls_files(&self.state_dir, &self.name, self.address.into())
    }

    fn load_base_image(&self) -> Result<()> {
        let mut save = Command::new("docker")
            .args(["save", BASE_IMAGE])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .context("running docker save")?;
        let saved = save.stdout.take().context("docker save's output")?;
        let load = Command::new("docker")
            .arg("-H")
            .arg(self.socket_url())
            .arg("load")
            .stdin(saved)
            .output()
            .context("running docker load")?;
        let saved = save.wait()?;
        if !saved.success() || !load.status.success() {
            bail!(
                "loading {BASE_IMAGE} into the second engine failed: {}",
                String::from_utf8_lossy(&load.stderr).trim()
            );
        }
        Ok(())
    }
}

impl Drop for SecondEngine {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!("SecondEngine: {error:#}");
        }
        remove_engine(&self.name);
        let _ = std::fs::remove_file(&self.subnet_claim);
    }
}

/// Claims a free /30 of `10.231.0.0/16` for this process with a file
/// created exclusively (atomic between processes); a claim whose process
/// is gone is taken over. Returns the subnet's index and the claim.
fn claim_subnet(pid: u32, count: u32) -> Result<(u32, PathBuf)> {
    let start = (pid.wrapping_mul(7).wrapping_add(count)) % SUBNETS;
    for offset in 0..SUBNETS {
        let index = (start + offset) % SUBNETS;
        let claim = Path::new(RUN_ROOT).join(format!("subnet-{index}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&claim)
        {
            Ok(mut file) => {
                write!(file, "{pid}")?;
                return Ok((index, claim));
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = std::fs::read_to_string(&claim).unwrap_or_default();
                if owner
                    .trim()
                    .parse()
                    .is_ok_and(|owner: u32| !is_alive(owner))
                {
                    // Its process is gone: free it, and try this one again
                    // on a later pass.
                    let _ = std::fs::remove_file(&claim);
                }
            }
            Err(error) => return Err(error).context("claiming a subnet"),
        }
    }
    bail!("no free /30 in 10.231.0.0/16 for a second engine")
}

fn link_names(name: &str) -> (String, String) {
    // `voc2e-<pid>-<n>` -> `v2e<pid>h<n>` and `v2e<pid>n<n>`.
    let rest = name.trim_start_matches(PREFIX);
    let (pid, count) = rest.split_once('-').unwrap_or((rest, "0"));
    (
        format!("{LINK_PREFIX}{pid}h{count}"),
        format!("{LINK_PREFIX}{pid}n{count}"),
    )
}

fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The test process a harness name belongs to.
fn owner_of(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// Removes what test processes that no longer run left behind.
fn remove_leftovers() {
    let mut names: Vec<String> = Vec::new();
    if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
        names.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|line| line.split_whitespace().next())
                .filter(|name| name.starts_with(PREFIX))
                .map(str::to_owned),
        );
    }
    for root in [STATE_ROOT, RUN_ROOT] {
        if let Ok(entries) = std::fs::read_dir(root) {
            names.extend(
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|name| name.starts_with(PREFIX)),
            );
        }
    }
    names.sort();
    names.dedup();
    for name in names {
        if owner_of(&name).is_some_and(|pid| !is_alive(pid)) {
            remove_engine(&name);
        }
    }
    // A link whose namespace was never made (a start that failed early).
    if let Ok(out) = Command::new("ip").args(["-o", "link", "show"]).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some(link) = line.split(": ").nth(1) else {
                continue;
            };
            let link = link.split('@').next().unwrap_or(link);
            let pid = link
                .strip_prefix(LINK_PREFIX)
                .and_then(|rest| rest.split(['h', 'n']).next())
                .and_then(|pid| pid.parse::<u32>().ok());
            if pid.is_some_and(|pid| !is_alive(pid)) {
                let _ = run("ip", ["link", "del", link]);
            }
        }
    }
}

/// Stops and removes everything of engine `name`: dockerd (by its pid
/// file), the processes that run from its exec root (its containerd and
/// the containers' shims), the mounts under its folders, its namespace
/// (and so its link), its folders.
fn remove_engine(name: &str) {
    let state_dir = Path::new(STATE_ROOT).join(name);
    let run_dir = Path::new(RUN_ROOT).join(name);
    if let Ok(pid) = std::fs::read_to_string(run_dir.join("dockerd.pid"))
        && let Ok(pid) = pid.trim().parse::<u32>()
        && is_alive(pid)
    {
        signal(pid, "TERM");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while is_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        signal(pid, "KILL");
    }
    for pid in processes_mentioning(&[&state_dir, &run_dir]) {
        signal(pid, "KILL");
    }
    unmount_under(&[&state_dir, &run_dir]);
    let _ = run("ip", ["netns", "del", name]);
    let _ = std::fs::remove_dir_all(&state_dir);
    let _ = std::fs::remove_dir_all(&run_dir);
}

/// The processes whose command line names one of `dirs`.
fn processes_mentioning(dirs: &[&Path]) -> Vec<u32> {
    let needles: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            // Arguments end with a space here: a folder is matched whole,
            // not as the prefix of another engine's (`-1` and `-10`).
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            needles
                .iter()
                .any(|needle| {
                    cmdline.contains(&format!("{needle}/"))
                        || cmdline.contains(&format!("{needle} "))
                })
                .then_some(pid)
        })
        .filter(|pid| *pid != std::process::id())
        .collect()
}

/// Unmounts (lazily, deepest first) every mount point under `dirs`.
fn unmount_under(dirs: &[&Path]) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<&str> = mounts
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| dirs.iter().any(|dir| Path::new(point).starts_with(dir)))
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.len()));
    for point in points {
        let _ = run("umount", ["-l", point]);
    }
}

fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn run<I, S>(program: &str, args: I) -> Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {:?} failed ({}): {}",
            args,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_links_that_fit_and_their_owner() {
        let (host, ns) = link_names("voc2e-4194303-12");
        assert_eq!(host, "v2e4194303h12");
        assert_eq!(ns, "v2e4194303n12");
        assert!(host.len() <= 15);
        assert_eq!(owner_of("voc2e-4194303-12"), Some(4_194_303));
        assert_eq!(owner_of("other-1-2"), None);
    }
}
