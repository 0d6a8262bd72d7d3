//! `voc serve`: the long-running server. It wires the parts together
//! (store, conf repo, targets, the loops that follow the repo and watch
//! the engines, the HTTP server) and owns nothing else.
//!
//! Start-up, in order: the data folder; the store; the conf repo (with no
//! URL configured, a local bare repo in the data folder, seeded from the
//! `templates/` shipped in the binary) and voc's clone of it; a handle per
//! Docker target (a target that is down does not stop the start); the
//! first admin; then the loops and the listener.

pub mod admin;
pub mod announce;
pub mod events;
pub mod live;
pub mod ready;
mod seed;
mod state;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

pub use events::{Events, JobEvent, StackStatusEvent, TaskEvent};
pub use state::{AppState, ConfRepo, ConfSnapshot, Target};

use crate::config::ServerConfig;
use crate::engine::Engine;
use crate::git::{Credentials, GitRepo, Remote};
use crate::store::Store;

/// The store's file in the data folder.
pub const STORE_FILE: &str = "voc.db";
/// voc's clone of the conf repo, in the data folder.
pub const CLONE_FOLDER: &str = "checkout";

/// Starts everything and serves until Ctrl-C or SIGTERM.
pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    give_back_large_blocks();
    let state = start(config).await?;
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("listening on {}", state.config.listen))?;
    let addr = listener
        .local_addr()
        .context("reading the listen address")?;
    // Tests and scripts read this line to find the port.
    announce::announce(&format!(
        "voc is listening on http://{addr} (GraphQL at /graphql, playground at /graphiql)"
    ));
    let schema = crate::api::schema(state.clone());
    let router = crate::http::router(state, schema);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving HTTP")?;
    Ok(())
}

/// Everything but the listener: the state the server runs with, its loops
/// started.
pub async fn start(config: ServerConfig) -> anyhow::Result<AppState> {
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
    lock_data_folder(&data_dir)?;
    // Before the store: a configured key file that is missing or invalid
    // stops the start before anything (the first admin) is written.
    let key_dir = data_dir.clone();
    let key_file = config.secrets_key_file.clone();
    let secret_key = tokio::task::spawn_blocking(move || match key_file {
        Some(file) => crate::secret::SecretKey::from_file(&file),
        None => crate::secret::SecretKey::load_or_create(&key_dir),
    })
    .await
    .context("reading voc's secrets key")??;

    let store_path = data_dir.join(STORE_FILE);
    let store = tokio::task::spawn_blocking(move || Store::open(&store_path))
        .await
        .context("opening the store")?
        .context("opening voc's store")?;
    end_interrupted_jobs(&store).await?;
    admin::ensure_first_admin(&store, config.admin_password.as_deref()).await?;

    let remote = remote_of(&config).await?;
    let clone = data_dir.join(CLONE_FOLDER);
    {
        let remote = remote.clone();
        let clone = clone.clone();
        let url = remote.url.clone();
        let own_repo = config.repo.url.is_none();
        tokio::task::spawn_blocking(move || {
            if own_repo {
                GitRepo::follow_moved_local_origin(&clone, &remote.url)?;
            }
            GitRepo::clone_or_open(&remote, &clone)
        })
        .await
        .context("cloning the conf repo")?
        .with_context(|| format!("cloning the conf repo {url}"))?;
    }

    let mut targets = std::collections::BTreeMap::new();
    for (name, target) in &config.targets {
        let tls = target
            .tls
            .as_ref()
            .map(|tls| (tls.ca.as_path(), tls.cert.as_path(), tls.key.as_path()));
        let engine = Engine::connect_to(target.host.as_deref(), tls)
            .with_context(|| format!("target {name}"))?
            .for_target(name);
        targets.insert(
            name.clone(),
            Target {
                name: name.clone(),
                engine,
            },
        );
    }

    let targets_names: Vec<String> = targets.keys().cloned().collect();
    let state = AppState {
        config: Arc::new(config),
        store,
        repo: Arc::new(ConfRepo { remote, clone }),
        targets: Arc::new(targets),
        events: Events::default(),
        conf: Arc::new(tokio::sync::watch::channel(None).0),
        follow: crate::reconcile::follow::Follow::default(),
        live: live::channels(targets_names),
        login_limiter: Arc::default(),
        secret_key,
        metrics: start_metrics(),
    };
    state
        .follow
        .start(state.clone())
        .await
        .context("starting the loops that follow the conf repo")?;
    live::start(&state);
    Ok(state)
}

/// Ends the jobs the last voc on this data folder left queued or running,
/// before the loops create any: none of them can go on, and left alone
/// they would show as running for ever beside their retries.
async fn end_interrupted_jobs(store: &Store) -> anyhow::Result<()> {
    let store = store.clone();
    let ended = tokio::task::spawn_blocking(move || store.end_interrupted_jobs())
        .await
        .context("ending the jobs the last voc left unfinished")??;
    if ended.running + ended.queued > 0 {
        tracing::warn!(
            "ended {} running and {} queued jobs as failed: voc stopped before they finished",
            ended.running,
            ended.queued
        );
    }
    Ok(())
}

/// Installs the metrics recorder and keeps its histograms folded; `None`
/// (with a warning) when this process has one already.
fn start_metrics() -> Option<crate::metrics::Metrics> {
    let metrics = match crate::metrics::install() {
        Ok(metrics) => metrics,
        Err(error) => {
            tracing::warn!("{error}: /metrics answers 503");
            return None;
        }
    };
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Some(metrics)
}

/// The conf repo's remote: the configured URL, or the local repo in the
/// data folder (created and seeded on the first start).
async fn remote_of(config: &ServerConfig) -> anyhow::Result<Remote> {
    let credentials = match (
        &config.repo.token,
        &config.repo.username,
        &config.repo.password,
        &config.repo.ssh_key,
    ) {
        (Some(token), _, _, _) => Credentials::Token {
            token: token.clone(),
        },
        (None, Some(username), Some(password), _) => Credentials::UserPassword {
            username: username.clone(),
            password: password.clone(),
        },
        (None, username, None, Some(key)) => Credentials::SshKey {
            private_key: key.clone(),
            passphrase: None,
            username: username.clone(),
        },
        _ => Credentials::None,
    };
    let url = match &config.repo.url {
        Some(url) => url.clone(),
        None => {
            let path: PathBuf = config.data_dir.join(seed::LOCAL_REPO_FOLDER);
            let branch = config.repo.branch.clone();
            let author = crate::git::Author {
                name: config.author.name.clone(),
                email: config.author.email.clone(),
            };
            let seeded = path.clone();
            tokio::task::spawn_blocking(move || seed::ensure_local_repo(&seeded, &branch, &author))
                .await
                .context("creating the local conf repo")??;
            path.to_string_lossy().into_owned()
        }
    };
    Ok(Remote {
        url,
        branch: config.repo.branch.clone(),
        credentials,
    })
}

/// Makes glibc's malloc hand large freed blocks back to the system.
/// Its threshold for serving a block with its own mapping grows to the
/// size of each such block freed, so after the first password hash
/// (argon2 takes a 19 MiB block) every later one comes from the heap and
/// stays resident once freed: about 20 MB kept by each thread that ever
/// hashed. A fixed threshold (glibc's default of 128 KiB) stops the
/// growth: large blocks are mapped and unmapped each time.
fn give_back_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets an allocator parameter, under the
        // allocator's own lock; any thread may call it at any time.
        let applied = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
        if applied != 1 {
            tracing::warn!(
                "could not fix malloc's mmap threshold: \
                 memory may stay resident after password hashes"
            );
        }
    }
}

/// The file a running `voc serve` holds locked in its data folder.
const LOCK_FILE: &str = "voc.lock";

/// Takes the data folder for this process: two servers on one folder would
/// both reconcile and each clear the other's work files at start. The lock
/// (`flock`) is the kernel's, so it goes with the process however it ends;
/// the file keeps the holder's pid for the message.
fn lock_data_folder(data_dir: &Path) -> anyhow::Result<()> {
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsRawFd;
    let path = data_dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: flock on a descriptor this function owns; no memory involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        let by = if holder.is_empty() {
            String::new()
        } else {
            format!(" (pid {holder})")
        };
        anyhow::bail!(
            "another voc serve{by} is using the data folder {}: stop it, or give this one another data_dir",
            data_dir.display()
        );
    }
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .with_context(|| format!("writing {}", path.display()))?;
    // Held until the process exits.
    std::mem::forget(file);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
