//! Writing commits and pushing them: over a local path, a real `git daemon`
//! (where `git receive-pack` runs hooks and locks refs as a forge does) and
//! smart HTTP behind Basic auth. Other writers are played by the git CLI,
//! by hooks in the served repository, and by twenty threads at once.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::daemon::GitDaemon;
use super::fixture::{AuthorRepo, Workspace, git};
use super::http::AuthHttpServer;
use crate::git::{
    Author, CommitId, CommitRequest, Credentials, Error, Expect, FileEdit, GitRepo, Remote,
    RetryPolicy,
};

fn remote(url: &str) -> Remote {
    Remote {
        url: url.to_owned(),
        branch: "main".to_owned(),
        credentials: Credentials::None,
    }
}

fn request(message: &str, edits: Vec<FileEdit>) -> CommitRequest {
    CommitRequest {
        message: message.to_owned(),
        author: Author {
            name: "Uma User".to_owned(),
            email: "uma@example.org".to_owned(),
        },
        committer: Some(Author {
            name: "voc".to_owned(),
            email: "voc@example.org".to_owned(),
        }),
        edits,
    }
}

/// A served bare repository `served/conf.git` and an author's checkout of it
/// with one pushed commit holding `files`.
fn served(ws: &Workspace, files: &[(&str, &str)]) -> (AuthorRepo, CommitId) {
    let bare = ws.bare_repo("served/conf.git");
    let author = ws.author_repo("author");
    author.git(["remote", "add", "origin", bare.to_str().unwrap()]);
    for (path, content) in files {
        author.write(path, content);
    }
    let head = author.commit("first");
    author.git(["push", "--quiet", "origin", "main"]);
    (author, head)
}

/// `git ARGS` in the served bare repository.
fn remote_git<const N: usize>(ws: &Workspace, args: [&str; N]) -> String {
    git(&ws.path("served/conf.git"), args)
}

/// Pushes a commit from the author's checkout, after pulling what voc
/// pushed.
fn author_pushes(author: &AuthorRepo, path: &str, content: &str, message: &str) -> CommitId {
    author.git(["pull", "--quiet", "--ff-only", "origin", "main"]);
    let commit = author.write(path, content).commit(message);
    author.git(["push", "--quiet", "origin", "main"]);
    commit
}

/// Installs `script` as the served repository's `pre-receive` hook.
fn pre_receive_hook(ws: &Workspace, script: &str) {
    let hook = ws.path("served/conf.git/hooks/pre-receive");
    std::fs::write(&hook, script).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What `git status`, the index and `HEAD` of a checkout say, to compare
/// before and after a write.
fn checkout_state(path: &Path) -> (String, Vec<u8>, String) {
    (
        git(path, ["status", "--porcelain", "--untracked-files=all"]),
        std::fs::read(path.join(".git/index")).unwrap(),
        git(path, ["rev-parse", "HEAD"]),
    )
}

/// The nested-folders scenario, for each transport.
fn commit_lands_with_author_message_and_tree(ws: &Workspace, url: &str) {
    let (author, first) = served(
        ws,
        &[
            ("README.md", "conf\n"),
            ("stacks/web/docker-compose-web.yml", "services: {}\n"),
            ("stacks/db/docker-compose-db.yml", "volumes: {}\n"),
            ("stacks/db/db.json", "{}\n"),
            ("tools/run.sh", "#!/bin/sh\n"),
        ],
    );
    std::fs::set_permissions(
        author.path.join("tools/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let first_exec = author.commit("make run.sh executable");
    author.git(["push", "--quiet", "origin", "main"]);
    let remote = remote(url);
    let clone = ws.path("voc/clone");
    let repo = GitRepo::clone_or_open(&remote, &clone).unwrap();
    // A stray file in voc's checkout must survive, as must the index.
    std::fs::write(clone.join("stray.txt"), "not mine").unwrap();
    let before = checkout_state(&clone);

    let pushed = repo
        .commit_and_push(
            &remote,
            &request(
                "Update web, add api, drop db\n\nBody line.",
                vec![
                    FileEdit::write(
                        "stacks/api/v1/docker-compose-api.yml",
                        "services:\n  api: {}\n",
                    )
                    .expecting(Expect::Absent),
                    FileEdit::write(
                        "stacks/web/docker-compose-web.yml",
                        "services:\n  web: {}\n",
                    )
                    .expecting(Expect::AsAt(first_exec.clone())),
                    FileEdit::delete("stacks/db/docker-compose-db.yml"),
                    FileEdit::delete("stacks/db/db.json"),
                    FileEdit::write("tools/run.sh", "#!/bin/sh\necho hi\n"),
                ],
            ),
        )
        .unwrap();

    assert!(pushed.created);
    assert_eq!(pushed.attempts, 1);
    assert_eq!(
        remote_git(ws, ["rev-parse", "main"]),
        pushed.commit.as_str()
    );
    assert_eq!(
        remote_git(ws, ["log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", "main"]),
        "Uma User <uma@example.org>|voc <voc@example.org>|Update web, add api, drop db\n\nBody line."
    );
    assert_eq!(
        remote_git(ws, ["rev-parse", "main^"]),
        first_exec.as_str(),
        "the parent is the remote head"
    );
    assert_eq!(
        remote_git(ws, ["ls-tree", "-r", "--name-only", "main"]),
        "README.md\nstacks/api/v1/docker-compose-api.yml\nstacks/web/docker-compose-web.yml\ntools/run.sh",
        "the emptied folder is gone"
    );
    assert_eq!(
        remote_git(ws, ["show", "main:stacks/web/docker-compose-web.yml"]),
        "services:\n  web: {}"
    );
    assert!(
        remote_git(ws, ["ls-tree", "main", "tools/run.sh"]).starts_with("100755 "),
        "an executable stays executable"
    );
    // voc's checkout is as it was: same status, index and detached HEAD.
    assert_eq!(checkout_state(&clone), before);
    assert_eq!(repo.head().unwrap(), first_exec);
    assert!(clone.join("stacks/db/db.json").is_file());
    assert!(!clone.join("stacks/api").exists());
    // The tracking ref follows the accepted push.
    assert_eq!(repo.resolve("origin/main").unwrap(), pushed.commit);
    assert_ne!(first, pushed.commit);
}

#[test]
fn a_commit_with_adds_modifies_and_deletes_lands_over_a_local_path() {
    let ws = Workspace::new();
    let url = ws.path("served/conf.git").to_str().unwrap().to_owned();
    commit_lands_with_author_message_and_tree(&ws, &url);
}

#[test]
fn a_commit_with_adds_modifies_and_deletes_lands_over_git_daemon() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path("served")).unwrap();
    let daemon = GitDaemon::start(&ws.path("served"));
    commit_lands_with_author_message_and_tree(&ws, &daemon.url("conf.git"));
}

#[test]
fn edits_that_change_nothing_make_no_commit() {
    let ws = Workspace::new();
    let (_author, first) = served(&ws, &[("a/b.yml", "x: 1\n")]);
    let remote = remote(ws.path("served/conf.git").to_str().unwrap());
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();

    let pushed = repo
        .commit_and_push(
            &remote,
            &request(
                "no-op",
                vec![
                    FileEdit::write("a/b.yml", "x: 1\n"),
                    FileEdit::delete("not/there.yml"),
                ],
            ),
        )
        .unwrap();
    assert!(!pushed.created);
    assert_eq!(pushed.commit, first);
    assert_eq!(pushed.attempts, 1);
    assert_eq!(remote_git(&ws, ["rev-list", "--count", "main"]), "1");
}

#[test]
fn a_push_overtaken_by_an_author_is_rebuilt_on_the_new_head() {
    let ws = Workspace::new();
    let (author, first) = served(&ws, &[("README.md", "conf\n")]);
    let daemon = GitDaemon::start(&ws.path("served"));
    let remote = remote(&daemon.url("conf.git"));
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();

    let mut theirs = None;
    let pushed = repo
        .commit_and_push_unlocked(
            &remote,
            &request(
                "voc: add web",
                vec![
                    FileEdit::write("docker-compose-web.yml", "services: {}\n")
                        .expecting(Expect::Absent),
                ],
            ),
            &RetryPolicy::default(),
            &mut |attempt| {
                // Between voc's fetch and its push, a person pushes.
                if attempt == 1 {
                    theirs = Some(author_pushes(
                        &author,
                        "docker-compose-db.yml",
                        "x",
                        "theirs",
                    ));
                }
            },
        )
        .unwrap();

    let theirs = theirs.unwrap();
    assert_eq!(pushed.attempts, 2);
    assert!(pushed.created);
    // Linear: first, theirs, voc's on top.
    assert_eq!(
        remote_git(&ws, ["rev-list", "--parents", "main"]),
        format!("{} {theirs}\n{theirs} {first}\n{first}", pushed.commit)
    );
    assert_eq!(
        remote_git(&ws, ["ls-tree", "-r", "--name-only", "main"]),
        "README.md\ndocker-compose-db.yml\ndocker-compose-web.yml"
    );
}

#[test]
fn a_server_that_loses_the_race_is_told_apart_from_a_refusal_and_retried() {
    let ws = Workspace::new();
    let (_author, first) = served(&ws, &[("README.md", "conf\n")]);
    // On the first push only, the hook moves `main` itself before
    // receive-pack updates it: the lease passed, the server's compare of
    // the old value fails ("failed to update ref").
    pre_receive_hook(
        &ws,
        r#"#!/bin/sh
[ -e raced ] && exit 0
touch raced
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
export GIT_AUTHOR_NAME=Sam GIT_AUTHOR_EMAIL=sam@example.org GIT_COMMITTER_NAME=Sam GIT_COMMITTER_EMAIL=sam@example.org
old=$(git rev-parse refs/heads/main)
new=$(echo sneaked in | git commit-tree "$old^{tree}" -p "$old")
git update-ref refs/heads/main "$new" "$old"
"#,
    );
    let daemon = GitDaemon::start(&ws.path("served"));
    let remote = remote(&daemon.url("conf.git"));
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();

    let pushed = repo
        .commit_and_push(
            &remote,
            &request("voc", vec![FileEdit::write("a.yml", "a")]),
        )
        .unwrap();

    assert_eq!(pushed.attempts, 2);
    assert_eq!(
        remote_git(&ws, ["log", "--format=%s", "main"]),
        "voc\nsneaked in\nfirst"
    );
    assert_eq!(remote_git(&ws, ["rev-parse", "main~2"]), first.as_str());
}

#[test]
fn a_hook_that_refuses_the_push_is_an_error_without_retries() {
    let ws = Workspace::new();
    let (_author, first) = served(&ws, &[("README.md", "conf\n")]);
    pre_receive_hook(
        &ws,
        "#!/bin/sh\necho call >> calls\necho 'main is protected' >&2\nexit 1\n",
    );
    let daemon = GitDaemon::start(&ws.path("served"));
    let remote = remote(&daemon.url("conf.git"));
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();

    let error = repo
        .commit_and_push(
            &remote,
            &request("voc", vec![FileEdit::write("a.yml", "a")]),
        )
        .unwrap_err();

    let Error::PushRejected { reason, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(reason.contains("hook declined"), "{reason}");
    assert!(
        error
            .to_string()
            .contains("refused the push to branch `main`"),
        "{error}"
    );
    let calls = std::fs::read_to_string(ws.path("served/conf.git/calls")).unwrap();
    assert_eq!(calls.lines().count(), 1, "no retry");
    assert_eq!(remote_git(&ws, ["rev-parse", "main"]), first.as_str());
    assert_eq!(repo.resolve("origin/main").unwrap(), first);
}

#[test]
fn an_edit_of_a_file_changed_upstream_is_a_conflict_and_pushes_nothing() {
    let ws = Workspace::new();
    let (author, _first) = served(&ws, &[("stacks/docker-compose-web.yml", "v1\n")]);
    let remote = remote(ws.path("served/conf.git").to_str().unwrap());
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();
    let seen = repo.fetch(&remote).unwrap();

    // Someone changes the file after voc read it.
    let theirs = author_pushes(&author, "stacks/docker-compose-web.yml", "v2\n", "theirs");
    let error = repo
        .commit_and_push(
            &remote,
            &request(
                "voc",
                vec![
                    FileEdit::write("other.yml", "o"),
                    FileEdit::write("stacks/docker-compose-web.yml", "v3\n")
                        .expecting(Expect::AsAt(seen.clone())),
                ],
            ),
        )
        .unwrap_err();
    let Error::Conflict { path, head, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(path, "stacks/docker-compose-web.yml");
    assert_eq!(head, &theirs);
    assert_eq!(
        remote_git(&ws, ["rev-parse", "main"]),
        theirs.as_str(),
        "nothing pushed"
    );

    // Creating a file that exists is a conflict too.
    let error = repo
        .commit_and_push(
            &remote,
            &request(
                "voc",
                vec![
                    FileEdit::write("stacks/docker-compose-web.yml", "v3\n")
                        .expecting(Expect::Absent),
                ],
            ),
        )
        .unwrap_err();
    assert!(matches!(error, Error::Conflict { .. }), "{error:?}");
    assert_eq!(remote_git(&ws, ["rev-parse", "main"]), theirs.as_str());
}

#[test]
fn a_re_applied_edit_conflicts_when_its_file_changed_and_overwrites_when_it_may() {
    let ws = Workspace::new();
    let (author, _first) = served(&ws, &[("web.yml", "v1\n")]);
    let daemon = GitDaemon::start(&ws.path("served"));
    let remote = remote(&daemon.url("conf.git"));
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();
    let seen = repo.fetch(&remote).unwrap();

    // The person pushes a change to the same file between voc's build and
    // push: the re-applied edit meets a file that is no longer what voc saw.
    let mut theirs = None;
    let error = repo
        .commit_and_push_unlocked(
            &remote,
            &request(
                "voc",
                vec![FileEdit::write("web.yml", "mine\n").expecting(Expect::AsAt(seen))],
            ),
            &RetryPolicy::default(),
            &mut |attempt| {
                if attempt == 1 {
                    theirs = Some(author_pushes(&author, "web.yml", "theirs\n", "theirs"));
                }
            },
        )
        .unwrap_err();
    assert!(matches!(error, Error::Conflict { .. }), "{error:?}");
    assert_eq!(
        remote_git(&ws, ["rev-parse", "main"]),
        theirs.unwrap().as_str()
    );

    // A full replacement (a rollback, say) overwrites instead.
    let mut pushed_theirs = false;
    let pushed = repo
        .commit_and_push_unlocked(
            &remote,
            &request("voc", vec![FileEdit::write("web.yml", "mine\n")]),
            &RetryPolicy::default(),
            &mut |attempt| {
                if attempt == 1 {
                    author_pushes(&author, "web.yml", "theirs again\n", "theirs again");
                    pushed_theirs = true;
                }
            },
        )
        .unwrap();
    assert!(pushed_theirs);
    assert_eq!(pushed.attempts, 2);
    assert_eq!(remote_git(&ws, ["show", "main:web.yml"]), "mine");
    assert_eq!(
        remote_git(&ws, ["log", "-2", "--format=%s", "main"]),
        "voc\ntheirs again"
    );
}

#[test]
fn invalid_edits_are_refused_before_any_network_io() {
    let ws = Workspace::new();
    let (_author, _first) = served(&ws, &[("a/b.yml", "x"), ("file", "y")]);
    let remote = remote(ws.path("served/conf.git").to_str().unwrap());
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();

    for edit in [
        FileEdit::write("../escape", "x"),
        FileEdit::write(".git/hooks/post-checkout", "x"),
        FileEdit::write("a", "x"),           // a folder on the branch
        FileEdit::write("file/inside", "x"), // through a file
        FileEdit::delete("a"),
    ] {
        let path = edit.path.clone();
        let error = repo
            .commit_and_push(&remote, &request("bad", vec![edit]))
            .unwrap_err();
        assert!(
            matches!(error, Error::InvalidEdit { .. }),
            "{path}: {error:?}"
        );
    }
    // Checked before fetching: an unreachable remote is not even tried.
    let unreachable = Remote {
        url: ws.path("nowhere").to_str().unwrap().to_owned(),
        ..remote.clone()
    };
    let error = repo
        .commit_and_push(
            &unreachable,
            &request("bad", vec![FileEdit::write("a//b", "x")]),
        )
        .unwrap_err();
    assert!(matches!(error, Error::InvalidEdit { .. }), "{error:?}");
    assert_eq!(remote_git(&ws, ["rev-list", "--count", "main"]), "1");
}

#[test]
fn right_credentials_push_over_http_and_wrong_ones_fail_once() {
    const USER: &str = "alice";
    const PASSWORD: &str = "s3cret";
    let ws = Workspace::new();
    let (_author, first) = served(&ws, &[("README.md", "conf\n")]);
    let server = AuthHttpServer::start(&ws.path("served"), USER, PASSWORD);
    let good = Remote {
        credentials: Credentials::UserPassword {
            username: USER.into(),
            password: PASSWORD.into(),
        },
        ..remote(&server.url("conf.git"))
    };
    let repo = GitRepo::clone_or_open(&good, &ws.path("clone")).unwrap();
    let pushed = repo
        .commit_and_push(
            &good,
            &request("over http", vec![FileEdit::write("a.yml", "a")]),
        )
        .unwrap();
    assert!(pushed.created);
    assert_eq!(
        remote_git(&ws, ["rev-parse", "main"]),
        pushed.commit.as_str()
    );
    assert_eq!(server.rejected(), 0);

    let wrong = Remote {
        credentials: Credentials::UserPassword {
            username: USER.into(),
            password: "wrong".into(),
        },
        ..good
    };
    let started = Instant::now();
    let error = repo
        .commit_and_push(
            &wrong,
            &request("denied", vec![FileEdit::write("b.yml", "b")]),
        )
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(error, Error::AuthenticationFailed { .. }),
        "{error:?}"
    );
    assert_eq!(server.rejected(), 1, "the wrong password was sent again");
    assert!(
        took < Duration::from_secs(2),
        "took {took:?}: a retry loop?"
    );
    assert_eq!(
        remote_git(&ws, ["rev-parse", "main"]),
        pushed.commit.as_str()
    );
    assert_ne!(pushed.commit, first);
}

#[test]
fn restore_files_puts_paths_back_as_they_were() {
    let ws = Workspace::new();
    let (author, _first) = served(&ws, &[("keep.yml", "k\n")]);
    let old = author
        .write("stacks/docker-compose-web.yml", "web v1\n")
        .write("stacks/web.json", "{\"v\":1}\n")
        .commit("web v1");
    author.git(["push", "--quiet", "origin", "main"]);
    // Since then: the compose file changed, the settings were deleted, a
    // new file appeared, and an unrelated file changed.
    author.write("stacks/docker-compose-web.yml", "web v2\n");
    author.git(["rm", "--quiet", "stacks/web.json"]);
    author
        .write("stacks/web.env", "X=1\n")
        .write("keep.yml", "k2\n");
    author.commit("web v2");
    author.git(["push", "--quiet", "origin", "main"]);

    let remote = remote(ws.path("served/conf.git").to_str().unwrap());
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();
    let paths: Vec<String> = [
        "stacks/docker-compose-web.yml",
        "stacks/web.json",
        "stacks/web.env",
        "stacks/web.json",
    ]
    .map(String::from)
    .to_vec();
    let edits = repo.restore_files(&old, &paths).unwrap();
    assert_eq!(edits.len(), 3, "a repeated path gives one edit");
    let pushed = repo
        .commit_and_push(
            &remote,
            &request(&format!("Roll web back to {}", old.short()), edits),
        )
        .unwrap();

    for path in [
        "stacks/docker-compose-web.yml",
        "stacks/web.json",
        "stacks/web.env",
    ] {
        assert_eq!(
            repo.read_file(&pushed.commit, path).unwrap(),
            repo.read_file(&old, path).unwrap(),
            "{path}"
        );
    }
    assert_eq!(
        repo.read_file(&pushed.commit, "keep.yml").unwrap().unwrap(),
        b"k2\n",
        "other files keep their newer content"
    );
    // Restoring again changes nothing.
    let edits = repo.restore_files(&old, &paths).unwrap();
    let again = repo
        .commit_and_push(&remote, &request("again", edits))
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.commit, pushed.commit);
}

/// Statistics of the concurrent runs, printed for the report.
fn report(label: &str, took: Duration, mut latencies: Vec<Duration>, attempts: &[u32]) {
    latencies.sort();
    let total_attempts: u32 = attempts.iter().sum();
    eprintln!(
        "{label}: {} commits in {took:?}; per call median {:?}, max {:?}; attempts total {total_attempts}, max {}",
        latencies.len(),
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        attempts.iter().max().unwrap()
    );
}

/// Checks that the `count` stack files all landed, one commit each, on a
/// linear history above `first`.
fn all_landed(ws: &Workspace, first: &CommitId, pushed: &[CommitId], count: usize) {
    let range = format!("{first}..main");
    assert_eq!(
        remote_git(ws, ["rev-list", "--count", &range]),
        count.to_string()
    );
    assert_eq!(
        remote_git(ws, ["rev-list", "--merges", "--count", "main"]),
        "0"
    );
    let history = remote_git(ws, ["rev-list", &range]);
    for commit in pushed {
        assert!(history.contains(commit.as_str()), "{commit} is lost");
    }
    let files = remote_git(ws, ["ls-tree", "--name-only", "main", "stacks/"]);
    assert_eq!(files.lines().count(), count, "{files}");
}

const WRITERS: usize = 20;

#[test]
fn twenty_concurrent_writers_sharing_voc_s_clone_all_land() {
    // What `voc serve` does: one clone; each request opens it in its own
    // blocking task and calls `commit_and_push`.
    let ws = Workspace::new();
    let (_author, first) = served(&ws, &[("README.md", "conf\n")]);
    let daemon = GitDaemon::start(&ws.path("served"));
    let remote = remote(&daemon.url("conf.git"));
    let clone = ws.path("clone");
    GitRepo::clone_or_open(&remote, &clone).unwrap();

    let barrier = Arc::new(Barrier::new(WRITERS));
    let started = Instant::now();
    let threads: Vec<_> = (0..WRITERS)
        .map(|i| {
            let (remote, clone, barrier) = (remote.clone(), clone.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let repo = GitRepo::open(&clone).unwrap();
                barrier.wait();
                let call = Instant::now();
                let edit =
                    FileEdit::write(format!("stacks/docker-compose-s{i}.yml"), "services: {}\n")
                        .expecting(Expect::Absent);
                let pushed = repo
                    .commit_and_push(&remote, &request(&format!("create s{i}"), vec![edit]))
                    .unwrap();
                (pushed, call.elapsed())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let took = started.elapsed();

    let pushed: Vec<_> = results.iter().map(|(p, _)| p.commit.clone()).collect();
    all_landed(&ws, &first, &pushed, WRITERS);
    let attempts: Vec<_> = results.iter().map(|(p, _)| p.attempts).collect();
    assert!(
        attempts.iter().all(|&a| a == 1),
        "in-process writers queue: {attempts:?}"
    );
    report(
        "shared clone, one process",
        took,
        results.into_iter().map(|(_, l)| l).collect(),
        &attempts,
    );
    let repo = GitRepo::open(&clone).unwrap();
    assert_eq!(
        repo.resolve("origin/main").unwrap().as_str(),
        remote_git(&ws, ["rev-parse", "main"])
    );
}

#[test]
fn twenty_racing_writers_with_their_own_clones_all_land() {
    // What twenty voc processes (or people) do: separate clones, no shared
    // lock; only the lease and the retries keep every commit.
    let ws = Workspace::new();
    let (_author, first) = served(&ws, &[("README.md", "conf\n")]);
    let daemon = GitDaemon::start(&ws.path("served"));
    let remote = remote(&daemon.url("conf.git"));
    let clones: Vec<_> = (0..WRITERS)
        .map(|i| {
            let path = ws.path(&format!("clone{i}"));
            GitRepo::clone_or_open(&remote, &path).unwrap();
            path
        })
        .collect();

    let barrier = Arc::new(Barrier::new(WRITERS));
    let started = Instant::now();
    let threads: Vec<_> = clones
        .into_iter()
        .enumerate()
        .map(|(i, clone)| {
            let (remote, barrier) = (remote.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let repo = GitRepo::open(&clone).unwrap();
                barrier.wait();
                let call = Instant::now();
                let edit =
                    FileEdit::write(format!("stacks/docker-compose-s{i}.yml"), "services: {}\n")
                        .expecting(Expect::Absent);
                let pushed = repo
                    .commit_and_push_unlocked(
                        &remote,
                        &request(&format!("create s{i}"), vec![edit]),
                        &RetryPolicy::default(),
                        &mut |_| {},
                    )
                    .unwrap();
                (pushed, call.elapsed())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let took = started.elapsed();

    let pushed: Vec<_> = results.iter().map(|(p, _)| p.commit.clone()).collect();
    all_landed(&ws, &first, &pushed, WRITERS);
    let attempts: Vec<_> = results.iter().map(|(p, _)| p.attempts).collect();
    report(
        "separate clones racing",
        took,
        results.into_iter().map(|(_, l)| l).collect(),
        &attempts,
    );
}

#[test]
fn one_write_to_a_local_bare_repo_is_fast() {
    // Issue 4's benchmark budget for a whole `createStack` is a 150 ms
    // median; the git part must be a small share of it.
    let ws = Workspace::new();
    let (_author, _first) = served(&ws, &[("README.md", "conf\n")]);
    let remote = remote(ws.path("served/conf.git").to_str().unwrap());
    let repo = GitRepo::clone_or_open(&remote, &ws.path("clone")).unwrap();
    let mut latencies = Vec::new();
    for i in 0..20 {
        let call = Instant::now();
        repo.commit_and_push(
            &remote,
            &request(
                "s",
                vec![FileEdit::write(
                    format!("stacks/docker-compose-s{i}.yml"),
                    "x",
                )],
            ),
        )
        .unwrap();
        latencies.push(call.elapsed());
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    eprintln!(
        "local bare repo: median {median:?}, max {:?}",
        latencies[latencies.len() - 1]
    );
    assert!(median < Duration::from_millis(100), "median {median:?}");
}
