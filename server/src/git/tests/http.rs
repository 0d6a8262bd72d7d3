//! [`AuthHttpServer`]: git's smart HTTP protocol (`git http-backend` run as a
//! CGI program) behind HTTP Basic authentication, on a free local port. It
//! answers 401 to a request without the expected `Authorization` header and
//! counts those answers, so a test can see that a client does not loop.
//!
//! Plain HTTP, one request per connection (`Connection: close`): enough to
//! exercise libgit2's credential callback exactly as over HTTPS, without TLS.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use base64::Engine;

pub struct AuthHttpServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    /// 401 answers to requests without credentials.
    challenged: AtomicUsize,
    /// 401 answers to requests with wrong credentials.
    rejected: AtomicUsize,
    /// Requests passed to `git http-backend`.
    served: AtomicUsize,
}

impl AuthHttpServer {
    /// Serves the repositories under `root`, to `username`/`password` only.
    pub fn start(root: &Path, username: &str, password: &str) -> AuthHttpServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a port");
        let address = listener.local_addr().expect("reading the bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Counts::default());
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
        );
        let root = root.to_owned();
        let thread = {
            let stop = Arc::clone(&stop);
            let counts = Arc::clone(&counts);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (root, expected, counts) =
                        (root.clone(), expected.clone(), Arc::clone(&counts));
                    std::thread::spawn(move || {
                        // A client that hangs up mid-request is the client's
                        // problem; the test sees it in the client's result.
                        let _ = handle(stream, &root, &expected, &counts);
                    });
                }
            })
        };
        AuthHttpServer {
            address,
            stop,
            thread: Some(thread),
            counts,
        }
    }

    /// The URL of the repository `name` under the root.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.address)
    }

    /// 401 answers so far to requests with wrong credentials.
    pub fn rejected(&self) -> usize {
        self.counts.rejected.load(Ordering::SeqCst)
    }

    /// 401 answers so far to requests without credentials.
    pub fn challenged(&self) -> usize {
        self.counts.challenged.load(Ordering::SeqCst)
    }

    /// Requests so far that reached `git http-backend`.
    pub fn served(&self) -> usize {
        self.counts.served.load(Ordering::SeqCst)
    }
}

impl Drop for AuthHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn handle(stream: TcpStream, root: &Path, expected: &str, counts: &Counts) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let request = read_request(&mut reader, &mut writer)?;
    match request.headers.get("authorization") {
        Some(value) if value == expected => {}
        found => {
            let counter = if found.is_some() {
                &counts.rejected
            } else {
                &counts.challenged
            };
            counter.fetch_add(1, Ordering::SeqCst);
            return respond(
                &mut writer,
                "401 Unauthorized",
                &[("WWW-Authenticate".into(), "Basic realm=\"voc-test\"".into())],
                b"",
            );
        }
    }
    counts.served.fetch_add(1, Ordering::SeqCst);
    let (status, headers, body) = run_backend(root, &request)?;
    respond(&mut writer, &status, &headers, &body)
}

fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> std::io::Result<Request> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    if headers
        .get("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut body = Vec::new();
    if let Some(length) = headers.get("content-length") {
        let length: usize = length.parse().unwrap_or(0);
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok(Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
    })
}

type Response = (String, Vec<(String, String)>, Vec<u8>);

/// Runs `git http-backend` as a CGI program for `request`.
fn run_backend(root: &Path, request: &Request) -> std::io::Result<Response> {
    let header = |name: &str| request.headers.get(name).cloned().unwrap_or_default();
    let mut child = Command::new("git")
        .arg("http-backend")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", PathBuf::from(root))
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &request.method)
        .env("PATH_INFO", &request.path)
        .env("QUERY_STRING", &request.query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .env("HTTP_GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", "voc-test")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let body = request.body.clone();
    // Write from another thread: the backend may answer before it has read
    // everything, and both pipes could fill up.
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let output = child.wait_with_output()?;
    let _ = writer.join();

    let out = output.stdout;
    let (head, body) = match find(&out, b"\r\n\r\n") {
        Some(at) => (&out[..at], &out[at + 4..]),
        None => match find(&out, b"\n\n") {
            Some(at) => (&out[..at], &out[at + 2..]),
            None => (&out[..], &[][..]),
        },
    };
    let mut status = "200 OK".to_owned();
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(head).lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("status") {
                status = value.trim().to_owned();
            } else {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
    }
    Ok((status, headers, body.to_vec()))
}

fn respond(
    writer: &mut TcpStream,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    writer.write_all(head.as_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
