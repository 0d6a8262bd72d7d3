//! A real `voc serve` for end-to-end tests: started as a process with its
//! own data folder and conf repo, spoken to over HTTP (GraphQL) and
//! WebSocket (graphql-transport-ws), exactly as clients do.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::voc_binary;

/// The first admin's password in every test server.
pub const ADMIN_PASSWORD: &str = "admin-test-password";
/// The first admin's user name.
pub const ADMIN_USER: &str = "admin";

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// The conf repo's URL (`None`: voc's own local repo in its data folder).
    pub repo_url: Option<String>,
    /// Extra TOML for the configuration file.
    pub config: String,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

/// The text of a line `voc serve` wrote on stdout: the line itself, or
/// its message when it is a JSON log line (`--log-format json`).
pub fn announced(line: &str) -> String {
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|object| object["fields"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| line.to_owned())
}

/// A running `voc serve`, stopped when dropped.
pub struct VocServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The data folder (removed when dropped).
    pub data: tempfile::TempDir,
    /// The server's stderr, for failure messages.
    pub log: PathBuf,
    /// Every line the server printed on stdout so far.
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl VocServer {
    /// Starts `voc serve` and waits until it listens.
    pub fn start(options: ServerOptions) -> Result<VocServer> {
        let data = tempfile::tempdir()?;
        let config_path = data.path().join("voc.toml");
        let mut config = String::new();
        if let Some(url) = &options.repo_url {
            config.push_str(&format!("[repo]\nurl = {}\n", toml_string(url)));
        }
        config.push_str(&options.config);
        std::fs::write(&config_path, config)?;
        let log = data.path().join("serve.log");
        let stderr = std::fs::File::create(&log)?;
        let mut command = Command::new(voc_binary()?);
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .env("VOC_DATA_DIR", data.path().join("data"))
            .env("VOC_LISTEN", "127.0.0.1:0")
            .env("VOC_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, value) in &options.env {
            command.env(key, value);
        }
        let mut child = command.spawn().context("starting voc serve")?;
        let stdout = child.stdout.take().context("voc serve's stdout")?;
        let (sender, receiver) = mpsc::channel();
        let stdout_lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = stdout_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(mut kept) = kept.lock() {
                    kept.push(line.clone());
                }
                if let Some(rest) = announced(&line).strip_prefix("voc is listening on http://") {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = sender.send(addr);
                }
            }
        });
        let addr = match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "voc serve did not start listening within 60 s; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Ok(VocServer {
            child,
            url: format!("http://{addr}"),
            addr,
            data,
            log,
            stdout: stdout_lines,
        })
    }

    /// The lines the server printed on stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }

    /// The server process's id (to read its memory in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server as an operator does, with SIGTERM (what `systemctl
    /// stop` and `docker service scale` send), and waits until it has exited.
    /// An error when it is still running after `timeout` (it is killed then).
    pub fn stop(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("running kill -TERM")?;
        if !status.success() {
            bail!("kill -TERM {} failed: {status}", self.child.id());
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!(
                    "voc serve did not exit within {timeout:?} of SIGTERM; its log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The data folder voc uses.
    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("data")
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> GraphqlClient {
        GraphqlClient {
            url: self.url.clone(),
            auth: Auth::None,
        }
    }

    /// A client signed in as the first admin (session cookie).
    pub fn admin(&self) -> Result<GraphqlClient> {
        self.login(ADMIN_USER, ADMIN_PASSWORD)
    }

    /// A client signed in as `username` (session cookie).
    pub fn login(&self, username: &str, password: &str) -> Result<GraphqlClient> {
        let (body, cookies) = self.anonymous().post(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { name role } } }",
            json!({"u": username, "p": password}),
        )?;
        if body.get("errors").is_some() {
            bail!("login as {username} failed: {body}");
        }
        let session = cookies
            .iter()
            .find_map(|c| c.strip_prefix("voc_session="))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
            .ok_or_else(|| anyhow!("login set no voc_session cookie: {cookies:?}"))?;
        Ok(GraphqlClient {
            url: self.url.clone(),
            auth: Auth::Cookie(session),
        })
    }

    /// A client using an API token.
    pub fn with_token(&self, token: &str) -> GraphqlClient {
        GraphqlClient {
            url: self.url.clone(),
            auth: Auth::Bearer(token.to_owned()),
        }
    }
}

impl Drop for VocServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// How a client proves who it is.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Nothing.
    None,
    /// The session cookie's value.
    Cookie(String),
    /// An API token.
    Bearer(String),
}

/// A GraphQL client over HTTP.
#[derive(Debug, Clone)]
pub struct GraphqlClient {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its credentials.
    pub auth: Auth,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

impl GraphqlClient {
    /// POSTs a query; the whole response body, and the `Set-Cookie`s.
    pub fn post(&self, query: &str, variables: Value) -> Result<(Value, Vec<String>)> {
        let mut request = agent().post(format!("{}/graphql", self.url));
        match &self.auth {
            Auth::None => {}
            Auth::Cookie(session) => {
                request = request.header("Cookie", format!("voc_session={session}"))
            }
            Auth::Bearer(token) => {
                request = request.header("Authorization", format!("Bearer {token}"))
            }
        }
        let mut response = request
            .send_json(json!({"query": query, "variables": variables}))
            .context("POST /graphql")?;
        let cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let status = response.status();
        let text = response.body_mut().read_to_string()?;
        let body: Value = serde_json::from_str(&text)
            .with_context(|| format!("HTTP {status}: the body is not JSON: {text}"))?;
        Ok((body, cookies))
    }

    /// The whole response (`data` and `errors`).
    pub fn query(&self, query: &str, variables: Value) -> Result<Value> {
        Ok(self.post(query, variables)?.0)
    }

    /// The response's `data`; an error when the response has `errors`.
    pub fn data(&self, query: &str, variables: Value) -> Result<Value> {
        let body = self.query(query, variables)?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    /// The `extensions.code` of the first error of a response that must fail.
    pub fn error_code(&self, query: &str, variables: Value) -> Result<(String, Value)> {
        let body = self.query(query, variables)?;
        let error = body["errors"][0].clone();
        if error.is_null() {
            bail!("expected an error, got {body}");
        }
        Ok((
            error["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            error,
        ))
    }

    /// Starts a subscription over `/graphql/ws` (a session cookie goes with
    /// the server's own `Origin`, as a browser on voc's page sends it).
    pub fn subscribe(&self, query: &str, variables: Value) -> Result<Subscription> {
        let origin = self.url.clone();
        self.subscribe_from(&origin, query, variables)
    }

    /// [`GraphqlClient::subscribe`] as from a page at `origin` (which goes
    /// with a session cookie only).
    pub fn subscribe_from(
        &self,
        origin: &str,
        query: &str,
        variables: Value,
    ) -> Result<Subscription> {
        let addr = self.url.trim_start_matches("http://").to_owned();
        let stream = TcpStream::connect(&addr)?;
        stream.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{addr}/graphql/ws"
        ))?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
        let mut params = json!({});
        match &self.auth {
            Auth::None => {}
            Auth::Cookie(session) => {
                request
                    .headers_mut()
                    .insert("Cookie", format!("voc_session={session}").parse()?);
                request.headers_mut().insert("Origin", origin.parse()?);
            }
            Auth::Bearer(token) => params = json!({"authorization": format!("Bearer {token}")}),
        }
        let (mut socket, _) = tungstenite::client(request, stream)
            .map_err(|e| anyhow!("WebSocket handshake: {e}"))?;
        socket.send(tungstenite::Message::text(
            json!({"type": "connection_init", "payload": params}).to_string(),
        ))?;
        let mut subscription = Subscription { socket };
        let ack = subscription.next_message(Duration::from_secs(10))?;
        if ack["type"] != "connection_ack" {
            bail!("expected connection_ack, got {ack}");
        }
        subscription.socket.send(tungstenite::Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
                .to_string(),
        ))?;
        Ok(subscription)
    }
}

/// One subscription on its own WebSocket.
pub struct Subscription {
    socket: tungstenite::WebSocket<TcpStream>,
}

impl Subscription {
    fn next_message(&mut self, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    let message: Value = serde_json::from_str(text.as_str())?;
                    if message["type"] == "ping" {
                        self.socket.send(tungstenite::Message::text(
                            json!({"type": "pong"}).to_string(),
                        ))?;
                        continue;
                    }
                    return Ok(message);
                }
                Ok(tungstenite::Message::Close(frame)) => {
                    bail!("the server closed the socket: {frame:?}")
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e.into()),
            }
            if Instant::now() > deadline {
                bail!("no message within {timeout:?}");
            }
        }
    }

    /// The next `next` payload's `data` (an error for `error` or `complete`).
    pub fn next(&mut self, timeout: Duration) -> Result<Value> {
        let message = self.next_message(timeout)?;
        match message["type"].as_str() {
            Some("next") => {
                if let Some(errors) = message["payload"].get("errors") {
                    bail!("subscription error: {errors}");
                }
                Ok(message["payload"]["data"].clone())
            }
            _ => bail!("subscription ended: {message}"),
        }
    }

    /// Reads events until `matches` accepts one, or `timeout`.
    pub fn until(
        &mut self,
        timeout: Duration,
        mut matches: impl FnMut(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Ok(event) if matches(&event) => return Ok(event),
                Ok(event) => seen.push(event),
                Err(e) => bail!("{e}; events seen: {seen:?}"),
            }
        }
        bail!("no matching event within {timeout:?}; events seen: {seen:?}")
    }
}

/// A bare git repository for a server to follow, made from the files of
/// `files` (path, content) in one commit on `main`, by the git CLI.
pub fn bare_repo_with(dir: &Path, files: &[(&str, &str)]) -> Result<PathBuf> {
    let work = dir.join("work");
    let bare = dir.join("remote.git");
    std::fs::create_dir_all(&work)?;
    for (path, content) in files {
        let file = work.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, content)?;
    }
    let git = |args: &[&str], cwd: &Path| -> Result<()> {
        let output = Command::new("git")
            .args(["-c", "user.name=test", "-c", "user.email=test@example.org"])
            .args(args)
            .current_dir(cwd)
            .output()?;
        if !output.status.success() {
            bail!("git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(())
    };
    git(&["init", "-q", "-b", "main"], &work)?;
    git(&["add", "-A"], &work)?;
    git(&["commit", "-q", "-m", "first"], &work)?;
    git(
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap_or_default(),
            bare.to_str().unwrap_or_default(),
        ],
        dir,
    )?;
    Ok(bare)
}
