//! `voc health`: asks a running `voc serve` for `/healthz` and exits 0 when
//! it answers 200, 1 otherwise. It is the image's and the Compose file's
//! health check, where no curl exists: one HTTP/1.0 request over a plain
//! socket, with a deadline, and nothing else.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;

use crate::config::ServerConfig;

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The configuration file of the `voc serve` to check (TOML), read as
    /// it reads it, for its listen address (`VOC_LISTEN` wins over it).
    #[arg(long, short, env = "VOC_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// How long the whole check may take.
    #[arg(long, default_value = "5s", value_parser = super::duration::parse)]
    timeout: Duration,
}

/// The most of an answer read: `/healthz` says `ok`.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

pub fn run(args: HealthArgs) -> anyhow::Result<()> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let config = ServerConfig::load(args.config.as_deref(), &env)?;
    let addr = reachable(config.listen)?;
    check(addr, args.timeout)?;
    println!("voc at http://{addr} is healthy");
    Ok(())
}

/// Where a server listening on `listen` answers from this host: the
/// loopback address of the same family when it listens on all of them.
fn reachable(listen: SocketAddr) -> anyhow::Result<SocketAddr> {
    if listen.port() == 0 {
        bail!(
            "the listen address {listen} has port 0 (voc serve picks a free one at start): \
             set listen or VOC_LISTEN to the port it listens on"
        );
    }
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, listen.port()))
}

/// `GET /healthz` on `addr`, answered 200 within `timeout`.
fn check(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let unhealthy = || format!("voc at http://{addr} is not healthy");
    let status = get_status(addr, "/healthz", timeout).with_context(unhealthy)?;
    if status != 200 {
        return Err(anyhow::anyhow!("/healthz answered HTTP {status}")).with_context(unhealthy);
    }
    Ok(())
}

/// The status code of `GET path` on `addr`, the whole exchange within
/// `timeout`.
fn get_status(addr: SocketAddr, path: &str, timeout: Duration) -> anyhow::Result<u16> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| anyhow::anyhow!("no answer within {timeout:?}"))
    };
    let mut stream = TcpStream::connect_timeout(&addr, left()?).map_err(|error| {
        anyhow::anyhow!("cannot connect: {error} (is voc serve running and listening there?)")
    })?;
    stream.set_write_timeout(Some(left()?))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .context("sending the request")?;
    // An HTTP/1.0 answer ends when the server closes the connection.
    let mut answer = Vec::new();
    let mut limited = (&mut stream).take(MAX_ANSWER_BYTES);
    let mut chunk = [0u8; 4096];
    loop {
        limited.get_mut().set_read_timeout(Some(left()?))?;
        match limited.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => answer.extend_from_slice(&chunk[..read]),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                bail!("no answer within {timeout:?}")
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error).context("reading the answer"),
        }
    }
    status_of(&answer)
}

/// The status code of the HTTP answer `answer` (`HTTP/1.1 200 OK...`).
fn status_of(answer: &[u8]) -> anyhow::Result<u16> {
    let line = answer
        .split(|&byte| byte == b'\n')
        .next()
        .unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    match (words.next(), words.next().map(str::parse::<u16>)) {
        (Some(version), Some(Ok(status))) if version.starts_with("HTTP/") => Ok(status),
        _ if answer.is_empty() => bail!("the connection closed without an answer"),
        _ => bail!("the answer is not HTTP: {:?}", line.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// A one-connection server on loopback that reads the request, then
    /// writes `answer` (if any) and closes, or holds the connection open
    /// for `hold`. Gives its address and what it was asked.
    fn serve_once(
        answer: Option<&'static str>,
        hold: Duration,
    ) -> (SocketAddr, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                request.push(byte[0]);
            }
            match answer {
                Some(answer) => stream.write_all(answer.as_bytes()).unwrap(),
                None => std::thread::sleep(hold),
            }
            String::from_utf8(request).unwrap()
        });
        (addr, thread)
    }

    #[test]
    fn a_200_is_healthy_and_the_request_is_http_1_0() {
        let (addr, server) = serve_once(
            Some("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n"),
            Duration::ZERO,
        );
        check(addr, Duration::from_secs(5)).unwrap();
        let request = server.join().unwrap();
        assert!(
            request.starts_with("GET /healthz HTTP/1.0\r\n"),
            "{request}"
        );
        assert!(request.contains(&format!("Host: {addr}\r\n")), "{request}");
    }

    #[test]
    fn another_status_is_unhealthy_with_a_sentence() {
        let (addr, server) = serve_once(
            Some("HTTP/1.1 503 Service Unavailable\r\n\r\n"),
            Duration::ZERO,
        );
        let error = format!("{:#}", check(addr, Duration::from_secs(5)).unwrap_err());
        server.join().unwrap();
        assert_eq!(
            error,
            format!("voc at http://{addr} is not healthy: /healthz answered HTTP 503")
        );
    }

    #[test]
    fn no_server_silence_and_garbage_are_unhealthy() {
        let free = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = format!("{:#}", check(free, Duration::from_secs(5)).unwrap_err());
        assert!(error.contains("cannot connect"), "{error}");
        assert!(error.contains("is voc serve running"), "{error}");

        let (addr, server) = serve_once(None, Duration::from_secs(2));
        let started = Instant::now();
        let error = format!("{:#}", check(addr, Duration::from_millis(300)).unwrap_err());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the deadline holds"
        );
        assert!(error.contains("no answer within 300ms"), "{error}");
        server.join().unwrap();

        let (addr, server) = serve_once(Some("SSH-2.0-OpenSSH_9.2\r\n"), Duration::ZERO);
        let error = format!("{:#}", check(addr, Duration::from_secs(5)).unwrap_err());
        assert!(error.contains("the answer is not HTTP"), "{error}");
        server.join().unwrap();

        let (addr, server) = serve_once(Some(""), Duration::ZERO);
        let error = format!("{:#}", check(addr, Duration::from_secs(5)).unwrap_err());
        assert!(error.contains("closed without an answer"), "{error}");
        server.join().unwrap();
    }

    #[test]
    fn all_addresses_are_checked_on_loopback() {
        let reached = |listen: &str| reachable(listen.parse().unwrap()).map(|a| a.to_string());
        assert_eq!(reached("0.0.0.0:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(reached("[::]:8080").unwrap(), "[::1]:8080");
        assert_eq!(reached("10.1.2.3:9000").unwrap(), "10.1.2.3:9000");
        let error = reached("127.0.0.1:0").unwrap_err().to_string();
        assert!(error.contains("port 0"), "{error}");
    }
}
