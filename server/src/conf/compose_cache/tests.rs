//! The cache against the walker without it: every read through the cache
//! must give the report a full read gives, and reload exactly the stacks
//! whose inputs changed.

use std::path::Path;

use tempfile::TempDir;

use super::*;
use crate::conf::model::ConfReport;
use crate::conf::walk::{ReadOptions, read_conf_cached, read_conf_with};

/// A conf repo in a temp folder.
struct Repo {
    dir: TempDir,
}

impl Repo {
    fn new(files: &[(&str, &str)]) -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        for (path, text) in files {
            repo.write(path, text);
        }
        repo
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Reads through `cache`, checks the report is the one a full read
    /// gives, and returns it with how the cache was used by this read.
    fn read(&self, cache: &ComposeCache) -> (ConfReport, CacheCounts) {
        let before = cache.counts();
        let cached = read_conf_cached(self.path(), &ReadOptions::default(), cache);
        let full = read_conf_with(self.path(), &ReadOptions::default());
        assert_eq!(cached.conf, full.conf);
        assert_eq!(cached.problems, full.problems);
        assert_eq!(cached.warnings, full.warnings);
        let after = cache.counts();
        let counts = CacheCounts {
            reused: after.reused - before.reused,
            loaded: after.loaded - before.loaded,
        };
        (cached, counts)
    }
}

fn counts(reused: usize, loaded: usize) -> CacheCounts {
    CacheCounts { reused, loaded }
}

fn lines(report: &ConfReport) -> Vec<String> {
    report.problems.iter().map(ToString::to_string).collect()
}

fn shop_repo() -> Repo {
    Repo::new(&[
        (
            "shop/docker-compose-shop.yml",
            "services:\n  web:\n    image: shop/web:${TAG}\n    env_file: web.env\n    secrets: [key]\n    volumes:\n      - ./static:/srv\nsecrets:\n  key:\n    file: ../keys/key.txt\n",
        ),
        ("shop/stack-shop.json", r#"{"variables": {"TAG": "1"}}"#),
        ("shop/web.env", "A=1\n"),
        ("shop/static/index.html", "hello\n"),
        ("keys/key.txt", "secret\n"),
        (
            "db/docker-compose-db.yml",
            "services:\n  db:\n    image: postgres:16\n",
        ),
        (
            "cache/docker-compose-cache.yml",
            "services:\n  cache:\n    image: redis:7\n    environment:\n      MODE: ${REDIS_MODE}\n",
        ),
    ])
}

#[test]
fn a_second_read_reuses_every_load_and_gives_the_same_report() {
    let repo = shop_repo();
    let cache = ComposeCache::in_memory();
    let (first, first_counts) = repo.read(&cache);
    assert_eq!(first_counts, counts(0, 3));
    assert_eq!(
        first.warnings.len(),
        1,
        "the unset REDIS_MODE: {:?}",
        first.warnings
    );
    let (_, again) = repo.read(&cache.reopened());
    assert_eq!(again, counts(3, 0));
}

#[test]
fn a_changed_input_reloads_only_the_stacks_that_read_it() {
    let repo = shop_repo();
    let cache = ComposeCache::in_memory();
    repo.read(&cache);
    let cases: &[(&str, &str)] = &[
        // A file the load reads.
        ("shop/web.env", "A=2\n"),
        ("keys/key.txt", "another secret\n"),
        // The variables.
        ("shop/stack-shop.json", r#"{"variables": {"TAG": "2"}}"#),
        // The Compose file itself.
        (
            "db/docker-compose-db.yml",
            "services:\n  db:\n    image: postgres:17\n",
        ),
    ];
    let mut cache = cache;
    for (path, text) in cases {
        cache = cache.reopened();
        repo.write(path, text);
        let (_, changed) = repo.read(&cache);
        assert_eq!(changed, counts(2, 1), "after changing {path}");
    }
    // A file in a bind-mounted folder is no input: the load only names the
    // folder.
    cache = cache.reopened();
    repo.write("shop/static/index.html", "bye\n");
    assert_eq!(repo.read(&cache).1, counts(3, 0));
}

#[test]
fn an_input_that_becomes_invalid_or_a_link_out_of_the_repo_is_seen() {
    let repo = shop_repo();
    let cache = ComposeCache::in_memory();
    repo.read(&cache);

    let cache = cache.reopened();
    repo.write("shop/web.env", "not a variable line\n");
    let (report, _) = repo.read(&cache);
    assert!(
        lines(&report)
            .iter()
            .any(|l| l.contains("env file") && l.contains("is invalid")),
        "{:?}",
        lines(&report)
    );

    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("key.txt"), "secret\n").unwrap();
    let key = repo.path().join("keys/key.txt");
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink(outside.path().join("key.txt"), &key).unwrap();
    repo.write("shop/web.env", "A=1\n");
    let cache = cache.reopened();
    let (report, _) = repo.read(&cache);
    assert!(
        lines(&report)
            .iter()
            .any(|l| l.contains("keys/key.txt, a symbolic link that leads out of the repo")),
        "{:?}",
        lines(&report)
    );
    // Cached with its problem, and reused while nothing changes.
    assert_eq!(repo.read(&cache.reopened()).1, counts(3, 0));
}

#[test]
fn failed_loads_and_loads_that_read_outside_the_repo_are_never_cached() {
    let outside = tempfile::tempdir().unwrap();
    let env = outside.path().join("outside.env");
    std::fs::write(&env, "A=1\n").unwrap();
    let repo = Repo::new(&[
        (
            "docker-compose-out.yml",
            &format!(
                "services:\n  web:\n    image: busybox\n    env_file: {}\n",
                env.display()
            ),
        ),
        (
            "docker-compose-broken.yml",
            "services:\n  web:\n    image: busybox\n    env_file: missing.env\n",
        ),
    ]);
    let cache = ComposeCache::in_memory();
    let (report, first) = repo.read(&cache);
    assert_eq!(first, counts(0, 2));
    assert_eq!(report.conf.stacks.len(), 1);
    let cache = cache.reopened();
    std::fs::write(&env, "not a variable line\n").unwrap();
    repo.write("missing.env", "B=2\n");
    let (report, again) = repo.read(&cache);
    assert_eq!(again, counts(0, 2));
    assert_eq!(report.conf.stacks.len(), 1, "{:?}", lines(&report));
    assert!(report.conf.stacks.contains_key("broken"));
}

#[test]
fn the_cache_is_kept_in_a_file_and_dropped_when_another_voc_wrote_it() {
    let repo = shop_repo();
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("data").join(FILE_NAME);
    let cache = ComposeCache::open(&path);
    assert_eq!(repo.read(&cache).1, counts(0, 3));
    cache.save().unwrap();
    let saved = std::fs::metadata(&path).unwrap().modified().unwrap();

    let cache = ComposeCache::open(&path);
    assert_eq!(repo.read(&cache).1, counts(3, 0));
    // Nothing new: the file is left alone.
    cache.save().unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), saved);

    // A stack that is gone drops out of the file.
    std::fs::remove_file(repo.path().join("db/docker-compose-db.yml")).unwrap();
    let cache = ComposeCache::open(&path);
    assert_eq!(repo.read(&cache).1, counts(2, 0));
    cache.save().unwrap();
    assert_eq!(ComposeCache::open(&path).stored.len(), 2);

    let text = std::fs::read_to_string(&path).unwrap();
    let mut file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file["program"] = "voc 0.0.0 (another build)".into();
    std::fs::write(&path, file.to_string()).unwrap();
    assert_eq!(repo.read(&ComposeCache::open(&path)).1, counts(0, 2));

    std::fs::write(&path, "{ not json").unwrap();
    assert_eq!(repo.read(&ComposeCache::open(&path)).1, counts(0, 2));
}

impl ComposeCache {
    /// What another process would open after this one saved: the entries
    /// it reused or made, in memory.
    fn reopened(&self) -> ComposeCache {
        let run = self.run();
        let mut stored = run.added.clone();
        for key in &run.reused {
            stored.insert(key.clone(), self.stored[key].clone());
        }
        ComposeCache {
            path: None,
            program: self.program.clone(),
            stored,
            run: Mutex::default(),
        }
    }
}

#[test]
fn files_read_through_a_linked_folder_are_checked_on_disk() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("app.env"), "A=1\n").unwrap();
    let repo = Repo::new(&[
        (
            "shop/docker-compose-shop.yml",
            "services:\n  web:\n    image: busybox\n    env_file: ../conf/app.env\n",
        ),
        (
            "db/docker-compose-db.yml",
            "services:\n  db:\n    image: busybox\n    env_file: ../inside/app.env\n",
        ),
        ("real/app.env", "B=2\n"),
    ]);
    std::os::unix::fs::symlink(outside.path(), repo.path().join("conf")).unwrap();
    std::os::unix::fs::symlink(repo.path().join("real"), repo.path().join("inside")).unwrap();
    let cache = ComposeCache::in_memory();
    for _ in 0..2 {
        let (report, _) = repo.read(&cache);
        assert_eq!(
            lines(&report),
            [
                "shop/docker-compose-shop.yml: uses conf/app.env, a symbolic link that leads out of the repo (a conf repo must deploy the same wherever it is checked out: put the file itself in the repo)"
            ]
        );
        assert!(report.conf.stacks.contains_key("db"));
    }
}
