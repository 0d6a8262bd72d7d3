//! Reading one repository: diffs, commit ranges, old files, revisions,
//! checkout.

use super::fixture::Workspace;
use crate::git::{ChangeStatus, CommitId, Error, FileChange, GitRepo};

/// A Compose file long enough that a one-line edit keeps it >50 % similar.
const COMPOSE: &str = "services:
  web:
    image: nginx:1.27
    deploy:
      replicas: 2
      update_config:
        parallelism: 1
        delay: 10s
    ports:
      - target: 80
        published: 8080
        mode: host
";

fn change(path: &str, status: ChangeStatus) -> FileChange {
    FileChange {
        path: path.to_owned(),
        status,
    }
}

#[test]
fn diff_reports_additions_modifications_deletions_and_a_rename_with_a_small_edit() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    author
        .write("web/docker-compose-web.yml", COMPOSE)
        .write("stack-web.json", "{\"prune\": true}\n")
        .write("api/main.rs", "fn main() {}\n");
    let first = author.commit("first");
    std::fs::create_dir_all(author.path.join("shop")).unwrap();
    author.git([
        "mv",
        "web/docker-compose-web.yml",
        "shop/docker-compose-shop.yml",
    ]);
    author
        .write(
            "shop/docker-compose-shop.yml",
            &COMPOSE.replace("replicas: 2", "replicas: 3"),
        )
        .write("api/main.rs", "fn main() { println!(\"hi\"); }\n")
        .write("image-api.json", "{\"tag\": \"api:1\"}\n");
    author.git(["rm", "--quiet", "stack-web.json"]);
    let second = author.commit("second");

    let repo = GitRepo::open(&author.path).unwrap();
    let mut changes = repo.diff(Some(&first), &second).unwrap();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(
        changes,
        vec![
            change("api/main.rs", ChangeStatus::Modified),
            change("image-api.json", ChangeStatus::Added),
            change(
                "shop/docker-compose-shop.yml",
                ChangeStatus::Renamed {
                    from: "web/docker-compose-web.yml".into()
                }
            ),
            change("stack-web.json", ChangeStatus::Deleted),
        ]
    );
    assert_eq!(repo.diff(Some(&second), &second).unwrap(), vec![]);
}

#[test]
fn diff_from_nothing_lists_every_file_as_added() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    author
        .write("docker-compose-web.yml", COMPOSE)
        .write("deep/er/Dockerfile-api", "FROM scratch\n");
    let only = author.commit("only");

    let repo = GitRepo::open(&author.path).unwrap();
    assert_eq!(
        repo.diff(None, &only).unwrap(),
        vec![
            change("deep/er/Dockerfile-api", ChangeStatus::Added),
            change("docker-compose-web.yml", ChangeStatus::Added),
        ]
    );
}

#[test]
fn commits_in_a_range_are_oldest_first_with_full_messages_and_authors() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    let first = author.write("a", "1").commit("first");
    let second = author
        .write("a", "2")
        .commit("second: bump web\n\nBody line one.\n[deploy-web] [skip voc]\n");
    let third = author.write("a", "3").commit("third");

    let repo = GitRepo::open(&author.path).unwrap();
    let range = repo.commits(Some(&first), &third).unwrap();
    let ids: Vec<&CommitId> = range.iter().map(|c| &c.id).collect();
    assert_eq!(ids, vec![&second, &third]);
    assert_eq!(range[0].summary, "second: bump web");
    assert_eq!(
        range[0].message,
        "second: bump web\n\nBody line one.\n[deploy-web] [skip voc]\n"
    );
    assert_eq!(range[0].author_name, "Ada Author");
    assert_eq!(range[0].author_email, "ada@example.org");
    assert!(range[0].time > 1_600_000_000, "{}", range[0].time);

    let all: Vec<CommitId> = repo
        .commits(None, &third)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(all, vec![first.clone(), second, third.clone()]);
    assert!(repo.commits(Some(&third), &third).unwrap().is_empty());
    assert!(repo.is_ancestor(&first, &third).unwrap());
    assert!(repo.is_ancestor(&third, &third).unwrap());
    assert!(!repo.is_ancestor(&third, &first).unwrap());
}

#[test]
fn commits_after_a_merge_list_both_branches_parents_before_children() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    let base = author.write("a", "1").commit("base");
    author.git(["checkout", "--quiet", "-b", "feature"]);
    let feature = author.write("b", "1").commit("feature");
    author.git(["checkout", "--quiet", "main"]);
    let main = author.write("c", "1").commit("main");
    author.git(["merge", "--quiet", "--no-ff", "--no-edit", "feature"]);
    let merge = author.head();

    let repo = GitRepo::open(&author.path).unwrap();
    let range: Vec<CommitId> = repo
        .commits(Some(&base), &merge)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(range.len(), 3);
    assert_eq!(range.last(), Some(&merge));
    assert!(range.contains(&feature) && range.contains(&main));
}

#[test]
fn read_file_returns_a_file_as_it_was_at_an_old_commit() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    let old = author
        .write("stacks/stack-web.json", "{\"enabled\": true}\n")
        .commit("add");
    author.git(["rm", "--quiet", "stacks/stack-web.json"]);
    author.write("other", "x");
    let new = author.commit("remove");

    let repo = GitRepo::open(&author.path).unwrap();
    assert_eq!(
        repo.read_file(&old, "stacks/stack-web.json")
            .unwrap()
            .as_deref(),
        Some(&b"{\"enabled\": true}\n"[..])
    );
    assert_eq!(repo.read_file(&new, "stacks/stack-web.json").unwrap(), None);
    assert_eq!(repo.read_file(&new, "no/such/file").unwrap(), None);
    assert!(matches!(
        repo.read_file(&old, "stacks").unwrap_err(),
        Error::NotAFile { .. }
    ));
}

#[test]
fn resolve_accepts_ids_short_ids_branches_tags_and_head() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    let first = author.write("a", "1").commit("first");
    author.git(["tag", "--annotate", "--message", "release", "v1"]);
    author.git(["tag", "light"]);
    let second = author.write("a", "2").commit("second");

    let repo = GitRepo::open(&author.path).unwrap();
    assert_eq!(repo.resolve(first.as_str()).unwrap(), first);
    assert_eq!(repo.resolve(first.short()).unwrap(), first);
    assert_eq!(repo.resolve("v1").unwrap(), first);
    assert_eq!(repo.resolve("light").unwrap(), first);
    assert_eq!(repo.resolve("main").unwrap(), second);
    assert_eq!(repo.resolve("HEAD").unwrap(), second);
    assert_eq!(repo.resolve("HEAD~1").unwrap(), first);
    assert_eq!(repo.head().unwrap(), second);
    let error = repo.resolve("no-such-branch").unwrap_err();
    assert!(matches!(error, Error::Resolve { ref rev, .. } if rev == "no-such-branch"));
    assert_eq!(error.to_string(), "resolving revision `no-such-branch`");
}

#[test]
fn open_finds_the_repository_from_a_subfolder_and_fails_clearly_elsewhere() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    author.write("deep/sub/file", "x").commit("first");

    let repo = GitRepo::open(&author.path.join("deep/sub")).unwrap();
    assert_eq!(
        repo.workdir().unwrap().canonicalize().unwrap(),
        author.path.canonicalize().unwrap()
    );

    let outside = tempfile::tempdir().unwrap();
    let error = GitRepo::open(outside.path()).unwrap_err();
    assert!(matches!(error, Error::Open { .. }));
    assert!(
        error
            .to_string()
            .starts_with("opening the git repository at")
    );
}

#[test]
fn checkout_makes_the_worktree_exactly_the_commit() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    author.write("keep", "old\n").write(".gitignore", "*.log\n");
    let old = author.commit("old");
    author.write("keep", "new\n").write("added/later", "x");
    let new = author.commit("new");

    let repo = GitRepo::open(&author.path).unwrap();
    // Local noise that must not survive: an edit, an untracked and an
    // ignored file.
    author
        .write("added/later", "edited")
        .write("untracked/file", "x")
        .write("build.log", "x");
    repo.checkout(&old).unwrap();

    let root = &author.path;
    assert_eq!(std::fs::read_to_string(root.join("keep")).unwrap(), "old\n");
    for gone in ["added/later", "added", "untracked/file", "build.log"] {
        assert!(!root.join(gone).exists(), "{gone} still exists");
    }
    assert_eq!(repo.head().unwrap(), old);
    assert_eq!(author.git(["status", "--porcelain"]), "");

    repo.checkout(&new).unwrap();
    assert_eq!(
        std::fs::read_to_string(root.join("added/later")).unwrap(),
        "x"
    );
    assert_eq!(repo.head().unwrap(), new);
    // The branch was not moved: HEAD is detached.
    assert_eq!(repo.resolve("main").unwrap(), new);
    assert_eq!(author.git(["rev-parse", "--abbrev-ref", "HEAD"]), "HEAD");
}

#[test]
fn a_commit_missing_from_the_repository_is_reported_as_such() {
    let ws = Workspace::new();
    let author = ws.author_repo("conf");
    let only = author.write("a", "1").commit("only");
    let repo = GitRepo::open(&author.path).unwrap();
    let missing = CommitId::parse("1234567890123456789012345678901234567890").unwrap();

    assert!(repo.has_commit(&only).unwrap());
    assert!(!repo.has_commit(&missing).unwrap());
    for error in [
        repo.diff(Some(&missing), &only).unwrap_err(),
        repo.is_ancestor(&missing, &only).unwrap_err(),
        repo.checkout(&missing).unwrap_err(),
        repo.read_file(&missing, "a").unwrap_err(),
    ] {
        assert!(matches!(error, Error::CommitNotFound { .. }), "{error:?}");
    }
}
