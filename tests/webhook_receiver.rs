//! [`HookReceiver`]: a small HTTP server in the test process that receives
//! voc's notifications, records every attempt, and answers `500` to the
//! first attempts of each delivery (by its `X-Voc-Delivery`) before it
//! accepts, so that retries are seen for real. [`TlsFront`] puts it behind
//! HTTPS (stunnel, with a test CA) for the HTTPS path.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line's path.
    pub path: String,
    /// Headers, by lowercase name.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    stop: AtomicBool,
}

/// An HTTP server on `127.0.0.1:<free port>`; stopped when dropped.
#[derive(Debug)]
pub struct HookReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl HookReceiver {
    /// Starts a receiver that answers `500` to the first `refusals`
    /// attempts of each delivery, then `200`.
    pub fn start(refusals: usize) -> Result<HookReceiver> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        std::thread::spawn(move || {
            let mut attempts: HashMap<String, usize> = HashMap::new();
            for stream in listener.incoming() {
                if serving.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                // One at a time: voc sends one notification at a time per
                // target anyway.
                if let Ok(received) = answer(stream, refusals, &mut attempts)
                    && let Ok(mut all) = serving.received.lock()
                {
                    all.push(received);
                }
            }
        });
        Ok(HookReceiver { addr, shared })
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .map(|all| all.clone())
            .unwrap_or_default()
    }

    /// The requests it accepted (answered 200), in order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    /// Waits until an accepted request's JSON body matches `matches`.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> Result<Received> {
        crate::wait_for(what, timeout, || {
            Ok(self.accepted().into_iter().find(|r| matches(&r.json())))
        })
        .with_context(|| format!("requests received: {:#?}", self.summary()))
    }

    /// One line per request, for failure messages.
    pub fn summary(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| format!("{} {}", r.status, String::from_utf8_lossy(&r.body)))
            .collect()
    }
}

impl Drop for HookReceiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Reads one request from `stream` and answers it.
fn answer(
    stream: TcpStream,
    refusals: usize,
    attempts: &mut HashMap<String, usize>,
) -> Result<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let delivery = headers.get("x-voc-delivery").cloned().unwrap_or_default();
    let seen = attempts.entry(delivery).or_insert(0);
    *seen += 1;
    let status = if *seen <= refusals { 500 } else { 200 };
    let text = if status == 200 { "ok" } else { "not now" };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        if status == 200 {
            "OK"
        } else {
            "Internal Server Error"
        },
        text.len()
    )?;
    stream.flush()?;
    Ok(Received {
        path,
        headers,
        body,
        status,
        at: Instant::now(),
    })
}

/// HTTPS in front of a local port: stunnel on `127.0.0.1:<free port>` with
/// a certificate for 127.0.0.1 from a CA of its own (`ca_file`). Stopped
/// when dropped.
#[derive(Debug)]
pub struct TlsFront {
    child: Child,
    port: u16,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsFront {
    /// Starts stunnel forwarding to `127.0.0.1:<backend>`.
    pub fn start(backend: u16) -> Result<TlsFront> {
        let dir = tempfile::tempdir()?;
        crate::tls_files::make_tls_files(dir.path(), "voc-hook", Ipv4Addr::LOCALHOST.into())?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let conf = dir.path().join("stunnel.conf");
        let file = |name: &str| dir.path().join(name).display().to_string();
        std::fs::write(
            &conf,
            format!(
                "foreground = yes\npid =\n[hook]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{backend}\ncert = {}\nkey = {}\n",
                file("server-cert.pem"),
                file("server-key.pem")
            ),
        )?;
        let child = Command::new("stunnel")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting stunnel")?;
        let mut front = TlsFront {
            child,
            port,
            ca: dir.path().join("ca.pem"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if front.child.try_wait()?.is_some() || Instant::now() >= deadline {
                bail!("stunnel did not listen on 127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(front)
    }

    /// `https://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/hook", self.port)
    }

    /// The CA that signed its certificate (for `SSL_CERT_FILE`).
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
