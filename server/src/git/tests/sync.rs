//! Cloning and fetching over a local path and over a real `git daemon`
//! (`git://`), following new commits and force-pushes.

use super::daemon::GitDaemon;
use super::fixture::{AuthorRepo, Workspace};
use crate::git::{ChangeStatus, Credentials, Error, GitRepo, Remote};

fn remote(url: &str) -> Remote {
    Remote {
        url: url.to_owned(),
        branch: "main".to_owned(),
        credentials: Credentials::None,
    }
}

/// The scenario both transports must pass: clone, follow a new commit,
/// follow a force-push that drops it.
fn follows_new_commits_and_force_pushes(ws: &Workspace, author: &AuthorRepo, url: &str) {
    let remote = remote(url);
    let first = author
        .write("docker-compose-web.yml", "services: {}\n")
        .commit("first");
    author.git(["push", "--quiet", "origin", "main"]);

    let dest = ws.path("voc/clone");
    let repo = GitRepo::clone_or_open(&remote, &dest).unwrap();
    assert_eq!(repo.head().unwrap(), first);
    assert!(dest.join("docker-compose-web.yml").is_file());
    assert_eq!(repo.fetch(&remote).unwrap(), first);

    // A new commit.
    let second = author
        .write(
            "docker-compose-api.yml",
            "services:\n  api:\n    image: api:1\n",
        )
        .commit("second");
    author.git(["push", "--quiet", "origin", "main"]);
    let head = repo.fetch(&remote).unwrap();
    assert_eq!(head, second);
    assert!(repo.is_ancestor(&first, &second).unwrap());
    repo.checkout(&second).unwrap();
    assert!(dest.join("docker-compose-api.yml").is_file());

    // Rewritten history: `second` is dropped and replaced.
    author.git(["reset", "--quiet", "--hard", first.as_str()]);
    let rewritten = author
        .write("docker-compose-db.yml", "volumes:\n  data: {}\n")
        .commit("rewritten");
    author.git(["push", "--quiet", "--force", "origin", "main"]);
    let head = repo.fetch(&remote).unwrap();
    assert_eq!(head, rewritten);
    assert!(!repo.is_ancestor(&second, &rewritten).unwrap());
    assert!(repo.is_ancestor(&first, &rewritten).unwrap());
    assert!(
        repo.has_commit(&second).unwrap(),
        "the old head stays until gc"
    );
    let new_commits: Vec<_> = repo
        .commits(Some(&second), &rewritten)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(new_commits, vec![rewritten.clone()]);
    let mut changes = repo.diff(Some(&second), &rewritten).unwrap();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    let changes: Vec<_> = changes.into_iter().map(|c| (c.path, c.status)).collect();
    assert_eq!(
        changes,
        vec![
            ("docker-compose-api.yml".to_owned(), ChangeStatus::Deleted),
            ("docker-compose-db.yml".to_owned(), ChangeStatus::Added),
        ]
    );
    repo.checkout(&rewritten).unwrap();
    assert!(!dest.join("docker-compose-api.yml").exists());
    assert!(dest.join("docker-compose-db.yml").is_file());

    // Opening the clone again checks it is the same remote.
    drop(repo);
    let reopened = GitRepo::clone_or_open(&remote, &dest).unwrap();
    assert_eq!(reopened.head().unwrap(), rewritten);
}

#[test]
fn clone_and_fetch_over_a_local_path_follow_new_commits_and_force_pushes() {
    let ws = Workspace::new();
    let server = ws.bare_repo("server.git");
    let author = ws.author_repo("author");
    let url = server.to_str().unwrap().to_owned();
    author.git(["remote", "add", "origin", &url]);
    follows_new_commits_and_force_pushes(&ws, &author, &url);
}

#[test]
fn clone_and_fetch_over_git_daemon_follow_new_commits_and_force_pushes() {
    let ws = Workspace::new();
    ws.bare_repo("server.git");
    let daemon = GitDaemon::start(&ws.path(""));
    let url = daemon.url("server.git");
    let author = ws.author_repo("author");
    // The author pushes through the daemon too (receive-pack).
    author.git(["remote", "add", "origin", &url]);
    follows_new_commits_and_force_pushes(&ws, &author, &url);
}

#[test]
fn a_missing_branch_is_reported_by_name_on_clone_and_on_fetch() {
    let ws = Workspace::new();
    ws.bare_repo("server.git");
    let daemon = GitDaemon::start(&ws.path(""));
    let url = daemon.url("server.git");
    let author = ws.author_repo("author");
    author.git(["remote", "add", "origin", &url]);
    author.write("a", "1").commit("first");
    author.git(["push", "--quiet", "origin", "main"]);

    let mut missing = remote(&url);
    missing.branch = "prod".into();
    let error = GitRepo::clone_or_open(&missing, &ws.path("clone-prod")).unwrap_err();
    assert!(matches!(error, Error::BranchNotFound { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("branch `prod` does not exist on `{url}`")
    );
    assert!(
        !ws.path("clone-prod").exists(),
        "a failed clone leaves nothing behind"
    );

    let repo = GitRepo::clone_or_open(&remote(&url), &ws.path("clone")).unwrap();
    let error = repo.fetch(&missing).unwrap_err();
    assert!(matches!(error, Error::BranchNotFound { .. }), "{error:?}");
}

#[test]
fn clone_or_open_refuses_another_remote_a_non_repository_and_a_bad_branch() {
    let ws = Workspace::new();
    let server = ws.bare_repo("server.git");
    let author = ws.author_repo("author");
    let url = server.to_str().unwrap().to_owned();
    author.git(["remote", "add", "origin", &url]);
    author.write("a", "1").commit("first");
    author.git(["push", "--quiet", "origin", "main"]);
    let dest = ws.path("clone");
    GitRepo::clone_or_open(&remote(&url), &dest).unwrap();

    let other = remote("/somewhere/else.git");
    let error = GitRepo::clone_or_open(&other, &dest).unwrap_err();
    assert!(
        matches!(error, Error::OriginMismatch { ref actual, .. } if actual.as_deref() == Some(url.as_str())),
        "{error:?}"
    );
    let repo = GitRepo::open(&dest).unwrap();
    assert!(matches!(
        repo.fetch(&other).unwrap_err(),
        Error::OriginMismatch { .. }
    ));

    let junk = ws.path("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("file"), "x").unwrap();
    assert!(matches!(
        GitRepo::clone_or_open(&remote(&url), &junk).unwrap_err(),
        Error::Open { .. }
    ));

    let mut bad = remote(&url);
    bad.branch = "main:evil".into();
    assert!(matches!(
        GitRepo::clone_or_open(&bad, &ws.path("bad")).unwrap_err(),
        Error::InvalidBranch { .. }
    ));

    // An empty folder is a place to clone into.
    let empty = ws.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    GitRepo::clone_or_open(&remote(&url), &empty).unwrap();
}

#[test]
fn fetch_into_a_checkout_without_origin_adds_it() {
    let ws = Workspace::new();
    let server = ws.bare_repo("server.git");
    let author = ws.author_repo("author");
    let url = server.to_str().unwrap().to_owned();
    author.git(["remote", "add", "origin", &url]);
    let first = author.write("a", "1").commit("first");
    author.git(["push", "--quiet", "origin", "main"]);

    let plain = ws.author_repo("plain");
    let repo = GitRepo::open(&plain.path).unwrap();
    assert_eq!(repo.fetch(&remote(&url)).unwrap(), first);
    assert_eq!(repo.resolve("origin/main").unwrap(), first);
}

#[test]
fn an_unreachable_remote_fails_with_the_url_and_branch() {
    let ws = Workspace::new();
    let port = super::daemon::free_port();
    let url = format!("git://127.0.0.1:{port}/nothing.git");
    let error = GitRepo::clone_or_open(&remote(&url), &ws.path("clone")).unwrap_err();
    assert!(matches!(error, Error::Fetch { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("fetching branch `main` from `{url}`")
    );
    assert!(
        !ws.path("clone").exists(),
        "a failed clone leaves nothing behind"
    );
}

#[test]
fn a_remote_that_never_answers_times_out_once_timeouts_are_set() {
    // A server that accepts connections and then says nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    // SAFETY: nextest (the project's runner) runs each test in its own
    // process, where no other thread uses libgit2 yet. Under `cargo test`
    // the other tests' threads would see the new values too, which are
    // generous enough not to disturb them.
    unsafe {
        crate::git::set_network_timeouts(
            std::time::Duration::from_secs(2),
            std::time::Duration::from_secs(2),
        )
        .unwrap();
    }
    let ws = Workspace::new();
    let started = std::time::Instant::now();
    let url = format!("git://127.0.0.1:{port}/conf.git");
    let error = GitRepo::clone_or_open(&remote(&url), &ws.path("clone")).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(error, Error::Fetch { .. }), "{error:?}");
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
}
