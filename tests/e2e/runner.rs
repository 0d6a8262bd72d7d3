//! The runner: `voc apply` as a CI job runs it, on conf repos that the tests
//! build with scripted histories (add, modify, rename, delete, disable,
//! directives, a change inside an image's context, a force-push), reached
//! as a local checkout or as a CI clone of a repository served by a real
//! `git daemon`, applied to the real engine, with the results checked in
//! Docker.
//!
//! Every test prefixes its stacks and images with its own [`unique_name`],
//! keeps voc's store in its own data folder, and removes its stacks with
//! [`StackGuard`]s. Services run `sleep` with a 1 s stop grace period and
//! `--stability 1s`, so a test takes seconds, not minutes.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;
use voc_tests::{
    BASE_IMAGE, CiCheckout, ConfRepo, GitDaemon, OPEN_REGISTRY, StackGuard, VocOutput, docker,
    http_status, init_bare, inspect_service, require_engine, run_voc, stack_leftovers, unique_name,
};

/// The all-zero commit id CI gives as "before" on a new branch.
const ZERO_COMMIT: &str = "0000000000000000000000000000000000000000";

/// Where the runner's commits come from.
enum Transport {
    /// `--repo` is the author's own work tree.
    Local,
    /// The author pushes to a bare repository served by `git daemon`; voc
    /// applies in a CI clone that fetches and checks out each new head.
    GitDaemon,
}

/// A CI clone and the daemon it fetches from.
struct Served {
    checkout: CiCheckout,
    _daemon: GitDaemon,
}

/// One test's conf repo, voc data folder and cleanup.
///
/// Short names (`a`, `app`) become `<prefix>-a`: stacks and images of
/// different tests never meet on the shared engine and registry.
struct Runner {
    prefix: String,
    author: ConfRepo,
    served: Option<Served>,
    data_dir: PathBuf,
    report: PathBuf,
    // Dropped in this order: stacks first, then local image tags, then the
    // folder everything lives in.
    _stacks: Vec<StackGuard>,
    image_tags: ImageTags,
    dir: TempDir,
}

/// Removes local image tags when dropped (the registry keeps its copies,
/// under names no other test uses).
struct ImageTags(Vec<String>);

impl Drop for ImageTags {
    fn drop(&mut self) {
        for tag in &self.0 {
            let _ = docker(["image", "rm", "--force", tag]);
        }
    }
}

/// The live state of a stack's `web` service.
#[derive(Debug, Clone, PartialEq)]
struct Web {
    /// `Version.Index`: moves on every update of the service.
    version: u64,
    /// The `MARKER` environment variable, which the tests change.
    marker: Option<String>,
    /// The image of the spec (with the digest voc resolved, if any).
    image: String,
    /// voc's `io.voc.commit` label.
    commit: Option<String>,
    /// voc's `io.voc.source` label.
    source: Option<String>,
}

impl Runner {
    /// A conf repo for `stacks` (short names), which the test may deploy and
    /// that are removed at the end.
    fn new(tag: &str, transport: Transport, stacks: &[&str]) -> Runner {
        require_engine();
        let prefix = unique_name(tag);
        let dir = tempfile::Builder::new()
            .prefix("voc-runner-")
            .tempdir()
            .expect("temp folder");
        let author = ConfRepo::init(dir.path().join("author")).expect("git init");
        let served = match transport {
            Transport::Local => None,
            Transport::GitDaemon => {
                let base = dir.path().join("served");
                init_bare(&base, "conf.git").expect("bare repo");
                let daemon = GitDaemon::start(&base).expect("git daemon");
                let url = daemon.url("conf.git");
                // A branch needs a commit before it can be pushed and cloned.
                author
                    .write("README.md", "The conf repo of a runner test.\n")
                    .expect("write");
                author.commit("Start the conf repo").expect("commit");
                author.publish(&url).expect("git push");
                let checkout = CiCheckout::clone(&url, dir.path().join("ci")).expect("git clone");
                Some(Served {
                    checkout,
                    _daemon: daemon,
                })
            }
        };
        let stacks = stacks
            .iter()
            .map(|short| StackGuard::new(format!("{prefix}-{short}")))
            .collect();
        Runner {
            data_dir: dir.path().join("data"),
            report: dir.path().join("report.json"),
            prefix,
            author,
            served,
            _stacks: stacks,
            image_tags: ImageTags(Vec::new()),
            dir,
        }
    }

    /// The full name of stack or image `short`.
    fn name(&self, short: &str) -> String {
        format!("{}-{short}", self.prefix)
    }

    /// The Compose file of stack `short`, at the root of the repo.
    fn compose_file(&self, short: &str) -> String {
        format!("docker-compose-{}.yml", self.name(short))
    }

    /// The JSON file of stack `short`, at the root of the repo.
    fn stack_file(&self, short: &str) -> String {
        format!("stack-{}.json", self.name(short))
    }

    /// Writes stack `short` running [`BASE_IMAGE`] with `MARKER=marker`,
    /// and its JSON file with `json` fields added to `resolveImage: never`
    /// (the base image is in no registry).
    fn write_stack(&self, short: &str, marker: &str, json: &str) {
        self.author
            .write(&self.compose_file(short), &compose(BASE_IMAGE, marker))
            .expect("write");
        let extra = if json.is_empty() {
            String::new()
        } else {
            format!(", {json}")
        };
        self.author
            .write(
                &self.stack_file(short),
                &format!("{{\"resolveImage\": \"never\"{extra}}}\n"),
            )
            .expect("write");
    }

    /// The tag (and push destination) of image `short`.
    fn image_tag(&self, short: &str) -> String {
        format!("{OPEN_REGISTRY}/{}:latest", self.name(short))
    }

    /// Writes image `short` in folder `short/`: a Dockerfile that copies
    /// `short/hello.txt` (the `greeting`) into the image, and its JSON file
    /// (tag and push to the open registry).
    fn write_image(&mut self, short: &str, greeting: &str) {
        self.write_image_with(short, "COPY hello.txt /hello.txt", greeting);
    }

    /// Like [`Runner::write_image`], with `step` as the Dockerfile's step.
    fn write_image_with(&mut self, short: &str, step: &str, greeting: &str) {
        let name = self.name(short);
        let tag = self.image_tag(short);
        self.author
            .write(
                &format!("{short}/Dockerfile-{name}"),
                &format!("FROM {BASE_IMAGE}\n{step}\n"),
            )
            .expect("write");
        self.author
            .write(
                &format!("{short}/image-{name}.json"),
                &format!("{{\"tag\": \"{tag}\", \"push\": [\"{tag}\"]}}\n"),
            )
            .expect("write");
        self.author
            .write(&format!("{short}/hello.txt"), &format!("{greeting}\n"))
            .expect("write");
        self.image_tags.0.push(tag);
    }

    /// Writes stack `short` running image `image` (short name) of the repo,
    /// resolved to its digest on deploy (voc's default).
    fn write_stack_using_image(&self, short: &str, image: &str, marker: &str) {
        self.author
            .write(
                &self.compose_file(short),
                &compose(&self.image_tag(image), marker),
            )
            .expect("write");
    }

    /// Commits the author's work tree (pushing it when served) and returns
    /// the commit's id.
    fn commit(&self, message: &str) -> String {
        let id = self.author.commit(message).expect("git commit");
        if self.served.is_some() {
            self.author.push().expect("git push");
        }
        id
    }

    /// The checkout voc applies: the author's work tree, or the CI clone.
    fn checkout(&self) -> &Path {
        match &self.served {
            Some(served) => served.checkout.path(),
            None => self.author.path(),
        }
    }

    /// Brings the CI clone to the served head (as a CI job starts).
    fn fetch(&self) {
        if let Some(served) = &self.served {
            served.checkout.checkout_latest().expect("git fetch");
        }
    }

    /// `voc apply` in the checkout (fetched first), with this test's data
    /// folder and report file, then `args`.
    fn apply(&self, args: &[&str]) -> VocOutput {
        self.apply_with_data(&self.data_dir, args)
    }

    /// [`Runner::apply`] with another data folder.
    fn apply_with_data(&self, data_dir: &Path, args: &[&str]) -> VocOutput {
        self.fetch();
        let _ = std::fs::remove_file(&self.report);
        let mut all: Vec<String> = vec![
            "apply".into(),
            "--repo".into(),
            path_arg(self.checkout()),
            "--data-dir".into(),
            path_arg(data_dir),
            "--report".into(),
            path_arg(&self.report),
            "--stability".into(),
            "1s".into(),
            "--timeout".into(),
            "90s".into(),
        ];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        run_voc(self.checkout(), &all).expect("running voc apply")
    }

    /// `voc ARGS... --data-dir <this test's>` in the checkout.
    fn voc(&self, args: &[&str]) -> VocOutput {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend(["--data-dir".to_owned(), path_arg(&self.data_dir)]);
        run_voc(self.checkout(), &all).expect("running voc")
    }

    /// The last apply's `--report` file.
    fn report(&self) -> Value {
        let text = std::fs::read_to_string(&self.report).expect("voc wrote its report");
        serde_json::from_str(&text).expect("the report is JSON")
    }

    /// The last report's results, as `action name: status` with short
    /// names, sorted: `deploy a: succeeded`.
    fn results(&self) -> Vec<String> {
        let report = self.report();
        let cut = format!("{}-", self.prefix);
        let mut results: Vec<String> = report["report"]["results"]
            .as_array()
            .expect("a list of results")
            .iter()
            .map(|r| {
                let name = r["name"].as_str().unwrap_or_default();
                format!(
                    "{} {}: {}",
                    r["action"].as_str().unwrap_or_default(),
                    name.strip_prefix(&cut).unwrap_or(name),
                    r["status"].as_str().unwrap_or_default()
                )
            })
            .collect();
        results.sort();
        results
    }

    /// The `web` service of stack `short`, if it exists.
    fn web(&self, short: &str) -> Option<Web> {
        let service = inspect_service(&format!("{}_web", self.name(short))).expect("docker");
        let service = service?;
        let spec = &service["Spec"];
        let labels = &spec["Labels"];
        let marker = spec["TaskTemplate"]["ContainerSpec"]["Env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|e| e.strip_prefix("MARKER="))
            .map(str::to_owned);
        Some(Web {
            version: service["Version"]["Index"]
                .as_u64()
                .expect("a version index"),
            marker,
            image: spec["TaskTemplate"]["ContainerSpec"]["Image"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            commit: labels["io.voc.commit"].as_str().map(str::to_owned),
            source: labels["io.voc.source"].as_str().map(str::to_owned),
        })
    }

    /// The `web` service of stack `short`, which must exist.
    #[track_caller]
    fn live(&self, short: &str) -> Web {
        self.web(short)
            .unwrap_or_else(|| panic!("stack {} has no web service", self.name(short)))
    }

    /// Panics unless nothing of stack `short` is in the swarm.
    #[track_caller]
    fn assert_gone(&self, short: &str) {
        let left = stack_leftovers(&self.name(short)).expect("docker");
        assert!(
            left.is_empty(),
            "stack {} should not exist: {left:?}",
            self.name(short)
        );
    }

    /// Panics unless the file `path` is still in the author's work tree.
    #[track_caller]
    fn assert_file_kept(&self, path: &str) {
        assert!(
            self.author.path().join(path).is_file(),
            "{path} should still be in the conf repo"
        );
    }
}

/// A Compose file with one service, `web`, running `image` with
/// `MARKER=marker`.
fn compose(image: &str, marker: &str) -> String {
    format!(
        "services:\n  web:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n    \
         stop_grace_period: 1s\n    environment:\n      MARKER: \"{marker}\"\n"
    )
}

/// A Compose file whose line 5 is wrong (`replicas: many`).
const BROKEN_COMPOSE: &str =
    "services:\n  web:\n    image: voc-test/busybox:latest\n    deploy:\n      replicas: many\n";

fn path_arg(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_owned()
}

fn short(commit: &str) -> &str {
    &commit[..7]
}

/// The digest part of an image reference (`...@sha256:...`).
fn digest(image: &str) -> &str {
    image.split_once('@').map_or("", |(_, digest)| digest)
}

// 1. The first apply, then the same commit again.

#[test]
fn the_first_apply_deploys_every_stack_and_pushes_the_image_and_the_same_commit_again_changes_nothing()
 {
    let mut runner = Runner::new("rnfirst", Transport::GitDaemon, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_image("app", "hello");
    runner.write_stack_using_image("b", "app", "one");
    let first = runner.commit("Add stacks a and b and image app");

    let out = runner.apply(&[]);
    out.assert_exit(0)
        .assert_stdout_contains("everything (first run: nothing was applied before)")
        .assert_stdout_contains("recorded as applied to default");
    assert_eq!(
        runner.results(),
        [
            "build app: succeeded",
            "deploy a: succeeded",
            "deploy b: succeeded"
        ]
    );
    assert_eq!(runner.report()["report"]["recorded"], true);

    let a = runner.live("a");
    assert_eq!(a.marker.as_deref(), Some("one"));
    assert_eq!(a.commit.as_deref(), Some(first.as_str()));
    assert_eq!(a.source, Some(runner.compose_file("a")));
    // b runs the image just pushed, pinned to its digest.
    let b = runner.live("b");
    assert!(
        b.image
            .starts_with(&format!("{}@sha256:", runner.image_tag("app"))),
        "{b:?}"
    );
    let tags = format!("/v2/{}/tags/list", runner.name("app"));
    assert_eq!(
        http_status(OPEN_REGISTRY, &tags, None).expect("registry"),
        200
    );

    let again = runner.apply(&[]);
    again
        .assert_exit(0)
        .assert_stderr_contains(&format!("last applied to default: {}", short(&first)))
        .assert_stdout_contains("nothing to do");
    assert!(runner.results().is_empty(), "{again}");
    assert_eq!(runner.live("a"), a, "a changed\n{again}");
    assert_eq!(runner.live("b"), b, "b changed\n{again}");
}

// 2. A modified Compose file.

#[test]
fn a_modified_compose_file_updates_only_that_stack() {
    let runner = Runner::new("rnmod", Transport::GitDaemon, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    runner.commit("Add a and b");
    runner.apply(&[]).assert_exit(0);
    let (a, b) = (runner.live("a"), runner.live("b"));

    runner.write_stack("a", "two", "");
    let change = runner.commit("Change a");
    let out = runner.apply(&[]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "stack {}: deploy, {} modified in {}",
        runner.name("a"),
        runner.compose_file("a"),
        short(&change)
    ));
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    let a2 = runner.live("a");
    assert!(a2.version > a.version, "{a2:?}");
    assert_eq!(a2.marker.as_deref(), Some("two"));
    assert_eq!(a2.commit.as_deref(), Some(change.as_str()));
    assert_eq!(runner.live("b"), b, "b was touched\n{out}");
}

// 3. A renamed Compose file.

#[test]
fn a_renamed_compose_file_removes_the_old_stack_and_deploys_the_new_one() {
    let runner = Runner::new("rnren", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.commit("Add a");
    runner.apply(&[]).assert_exit(0);
    assert!(runner.web("a").is_some());

    runner
        .author
        .rename(&runner.compose_file("a"), &runner.compose_file("b"))
        .expect("git mv");
    runner
        .author
        .rename(&runner.stack_file("a"), &runner.stack_file("b"))
        .expect("git mv");
    let rename = runner.commit("Rename a to b");
    let out = runner.apply(&[]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "stack {}: remove, {} renamed from {} in {}",
        runner.name("a"),
        runner.compose_file("b"),
        runner.compose_file("a"),
        short(&rename)
    ));
    assert_eq!(
        runner.results(),
        ["deploy b: succeeded", "remove a: succeeded"]
    );
    runner.assert_gone("a");
    assert_eq!(runner.live("b").marker.as_deref(), Some("one"));
}

// 4. A deleted Compose file.

#[test]
fn a_deleted_compose_file_removes_its_stack() {
    let runner = Runner::new("rndel", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    runner.commit("Add a and b");
    runner.apply(&[]).assert_exit(0);
    let b = runner.live("b");

    runner
        .author
        .remove(&runner.compose_file("a"))
        .expect("git rm");
    runner
        .author
        .remove(&runner.stack_file("a"))
        .expect("git rm");
    let delete = runner.commit("Delete a");
    let out = runner.apply(&[]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "stack {}: remove, {} deleted in {}",
        runner.name("a"),
        runner.compose_file("a"),
        short(&delete)
    ));
    assert_eq!(runner.results(), ["remove a: succeeded"]);
    runner.assert_gone("a");
    assert_eq!(runner.live("b"), b, "b was touched\n{out}");
}

// 5. `enabled: false`, then true again.

#[test]
fn a_disabled_stack_is_removed_with_its_files_kept_and_comes_back_when_enabled() {
    let runner = Runner::new("rndis", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    runner.commit("Add a and b");
    runner.apply(&[]).assert_exit(0);
    let b = runner.live("b");

    runner.write_stack("a", "one", "\"enabled\": false");
    runner.commit("Disable a");
    let out = runner.apply(&[]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "stack {}: remove, enabled is false in {}",
        runner.name("a"),
        runner.stack_file("a")
    ));
    assert_eq!(runner.results(), ["remove a: succeeded"]);
    runner.assert_gone("a");
    runner.assert_file_kept(&runner.compose_file("a"));
    runner.assert_file_kept(&runner.stack_file("a"));

    runner.write_stack("a", "one", "\"enabled\": true");
    runner.commit("Enable a again");
    let out = runner.apply(&[]);
    out.assert_exit(0);
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert_eq!(runner.live("a").marker.as_deref(), Some("one"));
    assert_eq!(runner.live("b"), b, "b was touched\n{out}");
}

// 6. Directives.

#[test]
fn deploy_all_runs_a_job_per_stack_and_leaves_services_that_did_not_change_alone() {
    let runner = Runner::new("rndall", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    runner.commit("Add a and b");
    runner.apply(&[]).assert_exit(0);
    let (a, b) = (runner.live("a"), runner.live("b"));

    runner.commit("Redeploy everything [deploy-all]");
    let out = runner.apply(&[]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "stack {}: deploy, [deploy-all] in a commit message",
        runner.name("b")
    ));
    assert_eq!(
        runner.results(),
        ["deploy a: unchanged", "deploy b: unchanged"]
    );
    // The jobs ran and were recorded...
    for result in runner.report()["report"]["results"]
        .as_array()
        .expect("results")
    {
        assert!(result["job"].is_i64(), "no job: {result}");
    }
    let jobs = runner.voc(&["jobs", "--subject", &runner.name("a"), "--json"]);
    jobs.assert_exit(0);
    let jobs: Value = serde_json::from_str(&jobs.stdout).expect("JSON jobs");
    assert_eq!(jobs.as_array().map(Vec::len), Some(2), "{jobs:#}");
    // ...and the services were left as they were.
    assert_eq!(runner.live("a"), a);
    assert_eq!(runner.live("b"), b);
}

#[test]
fn remove_directive_removes_the_stack_and_keeps_its_files() {
    let runner = Runner::new("rnrm", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    runner.commit("Add a and b");
    runner.apply(&[]).assert_exit(0);
    let b = runner.live("b");

    let message = format!("Take a down for now [remove-{}]", runner.name("a"));
    runner.commit(&message);
    let out = runner.apply(&[]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "stack {0}: remove, [remove-{0}] in a commit message",
        runner.name("a")
    ));
    assert_eq!(runner.results(), ["remove a: succeeded"]);
    runner.assert_gone("a");
    runner.assert_file_kept(&runner.compose_file("a"));
    assert_eq!(runner.live("b"), b);
}

#[test]
fn dry_run_directive_changes_nothing_and_the_next_commit_applies_for_real() {
    let runner = Runner::new("rndry", Transport::Local, &["a"]);
    runner.write_stack("a", "one", "");
    runner.commit("Add a");
    runner.apply(&[]).assert_exit(0);
    let a = runner.live("a");

    runner.write_stack("a", "two", "");
    runner.commit("Try two [dry-run]");
    let out = runner.apply(&[]);
    out.assert_exit(0)
        .assert_stdout_contains("[dry-run] in a commit message: nothing will be changed")
        .assert_stdout_contains(&format!("stack {}: deploy", runner.name("a")));
    assert_eq!(runner.results(), ["deploy a: skipped"]);
    assert_eq!(runner.report()["report"]["recorded"], false);
    assert_eq!(runner.live("a"), a, "a dry run changed a\n{out}");

    // A dry run is about its own commit: the next one applies the range.
    runner
        .author
        .write("README.md", "Two it is.\n")
        .expect("write");
    runner.commit("Go with two");
    let out = runner.apply(&[]);
    out.assert_exit(0);
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert_eq!(runner.live("a").marker.as_deref(), Some("two"), "{out}");
}

#[test]
fn a_commit_marked_skip_voc_is_ignored() {
    let runner = Runner::new("rnskip", Transport::Local, &["a"]);
    runner.write_stack("a", "one", "");
    runner.commit("Add a");
    runner.apply(&[]).assert_exit(0);
    let a = runner.live("a");

    runner.write_stack("a", "two", "");
    let skipped = runner.commit("Not yet [skip voc]");
    let out = runner.apply(&[]);
    out.assert_exit(0)
        .assert_stdout_contains("nothing to do: every commit of the range says [skip voc]")
        .assert_stdout_contains(&format!("{} recorded as applied", short(&skipped)));
    assert!(runner.results().is_empty(), "{out}");
    assert_eq!(runner.live("a"), a, "a skipped commit changed a\n{out}");
}

#[test]
fn build_directive_rebuilds_and_pushes_the_image() {
    let mut runner = Runner::new("rnbuild", Transport::Local, &["a"]);
    runner.write_image("app", "hello");
    runner.write_stack_using_image("a", "app", "one");
    runner.commit("Add image app and stack a");
    runner.apply(&[]).assert_exit(0);
    let a = runner.live("a");

    // Without the local tag, only a new build brings it back.
    let tag = runner.image_tag("app");
    docker(["image", "rm", &tag]).expect("docker image rm");
    let message = format!("Rebuild [build-{}]", runner.name("app"));
    runner.commit(&message);
    let out = runner.apply(&[]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "image {0}: build, [build-{0}] in a commit message",
        runner.name("app")
    ));
    // The same Dockerfile and context make the same image: a is redeployed
    // (it uses the image) but nothing changes.
    assert_eq!(
        runner.results(),
        ["build app: succeeded", "deploy a: unchanged"]
    );
    docker(["image", "inspect", &tag]).expect("the image was built again");
    assert_eq!(runner.live("a"), a);
}

// 7. A change inside an image's context.

#[test]
fn a_change_in_an_image_context_rebuilds_it_and_redeploys_only_the_stack_that_uses_it() {
    let mut runner = Runner::new("rnctx", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_image("app", "hello");
    runner.write_stack_using_image("b", "app", "one");
    runner.commit("Add a, b and image app");
    runner.apply(&[]).assert_exit(0);
    let (a, b) = (runner.live("a"), runner.live("b"));

    runner
        .author
        .write("app/hello.txt", "hello again\n")
        .expect("write");
    let change = runner.commit("New greeting");
    let out = runner.apply(&[]);
    out.assert_exit(0)
        .assert_stdout_contains(&format!(
            "image {}: build, app/hello.txt modified in {}",
            runner.name("app"),
            short(&change)
        ))
        .assert_stdout_contains(&format!(
            "stack {}: deploy, uses image {}, rebuilt in this plan",
            runner.name("b"),
            runner.name("app")
        ));
    assert_eq!(
        runner.results(),
        ["build app: succeeded", "deploy b: succeeded"]
    );
    let b2 = runner.live("b");
    assert!(!digest(&b.image).is_empty(), "{b:?}");
    assert_ne!(digest(&b2.image), digest(&b.image), "b runs the old image");
    assert!(b2.version > b.version);
    assert_eq!(runner.live("a"), a, "a was touched\n{out}");
}

// 8. A force-push.

#[test]
fn a_force_push_reconciles_everything_to_the_new_head() {
    let runner = Runner::new("rnforce", Transport::GitDaemon, &["a", "b", "c"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    let base = runner.commit("Add a and b");
    runner.apply(&[]).assert_exit(0);
    runner.write_stack("a", "two", "");
    let applied = runner.commit("a: two");
    runner.apply(&[]).assert_exit(0);
    assert_eq!(runner.live("a").marker.as_deref(), Some("two"));

    // History rewritten: `applied` is no ancestor of the new head.
    runner.author.reset_hard(&base).expect("git reset");
    runner.write_stack("a", "three", "");
    runner
        .author
        .remove(&runner.compose_file("b"))
        .expect("git rm");
    runner
        .author
        .remove(&runner.stack_file("b"))
        .expect("git rm");
    runner.write_stack("c", "one", "");
    let head = runner
        .author
        .commit("a: three, b gone, c new")
        .expect("commit");
    runner.author.force_push().expect("git push --force");

    let out = runner.apply(&[]);
    out.assert_exit(0)
        .assert_stdout_contains(&format!(
            "history rewritten: {} is not an ancestor of {}",
            short(&applied),
            short(&head)
        ))
        // Git may see b's file renamed to c's: either way b goes.
        .assert_stdout_contains(&format!("stack {}: remove, ", runner.name("b")))
        .assert_stdout_contains(&format!(
            "{}.yml in the new history (compared with {})",
            runner.name("b"),
            short(&applied)
        ));
    assert_eq!(
        runner.results(),
        [
            "deploy a: succeeded",
            "deploy c: succeeded",
            "remove b: succeeded"
        ]
    );
    let a = runner.live("a");
    assert_eq!(a.marker.as_deref(), Some("three"), "{out}");
    assert_eq!(a.commit.as_deref(), Some(head.as_str()));
    assert_eq!(runner.live("c").marker.as_deref(), Some("one"));
    runner.assert_gone("b");
}

// 9. The store lost.

#[test]
fn a_lost_store_is_recovered_from_the_service_labels_and_only_newer_changes_apply() {
    let runner = Runner::new("rnlost", Transport::GitDaemon, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    let first = runner.commit("Add a and b");
    runner.apply(&[]).assert_exit(0);
    let b = runner.live("b");

    runner.write_stack("a", "two", "");
    let second = runner.commit("a: two");
    let fresh = runner.dir.path().join("fresh-data");
    let out = runner.apply_with_data(&fresh, &[]);
    out.assert_exit(0)
        .assert_stderr_contains(&format!(
            "last applied to default: {} (found on the services' labels)",
            short(&first)
        ))
        .assert_stdout_contains(&format!(
            "plan {}..{} (1 commit(s))",
            short(&first),
            short(&second)
        ));
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert_eq!(runner.live("a").marker.as_deref(), Some("two"));
    assert_eq!(runner.live("b"), b, "b was redeployed\n{out}");
}

// 10. Bad repos.

#[test]
fn a_broken_compose_file_skips_its_stack_with_file_and_line_and_deploys_the_others() {
    let runner = Runner::new("rnbroken", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner
        .author
        .write(&runner.compose_file("b"), BROKEN_COMPOSE)
        .expect("write");
    runner.commit("Add a, and b with a typo");
    let out = runner.apply(&[]);
    out.assert_exit(1)
        .assert_stdout_contains(&format!(
            "stack {}: skipped, invalid: {}:5: services.web.deploy.replicas must be an integer",
            runner.name("b"),
            runner.compose_file("b")
        ))
        .assert_stderr_contains("error: the apply did not fully succeed");
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert_eq!(runner.report()["report"]["recorded"], false);
    assert!(runner.web("a").is_some());
    runner.assert_gone("b");

    // Fixed: the next run deploys it (the broken commit was never recorded).
    runner.write_stack("b", "one", "");
    runner.commit("Fix b");
    runner.apply(&[]).assert_exit(0);
    assert_eq!(runner.live("b").marker.as_deref(), Some("one"));
}

#[test]
fn a_dockerfile_without_its_image_json_is_reported_and_nothing_is_built() {
    let runner = Runner::new("rnnojson", Transport::Local, &["a"]);
    runner.write_stack("a", "one", "");
    let image = runner.name("x");
    runner
        .author
        .write(
            &format!("x/Dockerfile-{image}"),
            &format!("FROM {BASE_IMAGE}\n"),
        )
        .expect("write");
    runner.commit("Add a, and a Dockerfile without its JSON");
    let out = runner.apply(&[]);
    out.assert_exit(1).assert_stdout_contains(&format!(
        "image {image}: skipped, invalid: x/Dockerfile-{image}: image \"{image}\" has no image-{image}.json"
    ));
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert!(runner.web("a").is_some());
}

#[test]
fn a_stack_name_used_in_two_folders_is_deployed_from_neither() {
    let runner = Runner::new("rntwice", Transport::Local, &["a", "d"]);
    runner.write_stack("a", "one", "");
    let d = runner.compose_file("d");
    runner
        .author
        .write(&format!("one/{d}"), &compose(BASE_IMAGE, "one"))
        .expect("write");
    runner
        .author
        .write(&format!("two/{d}"), &compose(BASE_IMAGE, "two"))
        .expect("write");
    runner.commit("Add a, and d twice");
    let out = runner.apply(&[]);
    out.assert_exit(1).assert_stdout_contains(&format!(
        "stack {}: skipped, invalid: two/{d}: stack \"{}\" has two Compose files: one/{d} and two/{d}",
        runner.name("d"),
        runner.name("d"),
    ));
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert!(runner.web("a").is_some());
    runner.assert_gone("d");
}

#[test]
fn a_dependency_cycle_deploys_neither_stack_of_it() {
    let runner = Runner::new("rncycle", Transport::Local, &["a", "p", "q"]);
    runner.write_stack("a", "one", "");
    let (p, q) = (runner.name("p"), runner.name("q"));
    runner.write_stack("p", "one", &format!("\"dependsOn\": [\"{q}\"]"));
    runner.write_stack("q", "one", &format!("\"dependsOn\": [\"{p}\"]"));
    runner.commit("Add a, and p and q that need each other");
    let out = runner.apply(&[]);
    out.assert_exit(1)
        .assert_stdout_contains(&format!("dependency cycle: {p} -> {q} -> {p}"))
        .assert_stdout_contains(&format!("stack {p}: skipped"))
        .assert_stdout_contains(&format!("stack {q}: skipped"));
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert!(runner.web("a").is_some());
    runner.assert_gone("p");
    runner.assert_gone("q");
}

#[test]
fn a_stack_that_depends_on_a_broken_stack_is_not_deployed_and_the_message_says_why() {
    let runner = Runner::new("rndep", Transport::Local, &["a", "b", "c"]);
    runner.write_stack("a", "one", "");
    runner
        .author
        .write(&runner.compose_file("b"), BROKEN_COMPOSE)
        .expect("write");
    let b = runner.name("b");
    runner.write_stack("c", "one", &format!("\"dependsOn\": [\"{b}\"]"));
    runner.commit("Add a, a broken b, and c that needs b");
    let out = runner.apply(&[]);
    out.assert_exit(1).assert_stdout_contains(&format!(
        "stack {}: skipped, it depends on stack {b}, which cannot be deployed: invalid: {}:5:",
        runner.name("c"),
        runner.compose_file("b")
    ));
    assert_eq!(runner.results(), ["deploy a: succeeded"]);
    assert!(runner.web("a").is_some());
    runner.assert_gone("b");
    runner.assert_gone("c");
}

#[test]
fn a_failed_build_skips_the_stack_that_uses_the_image_and_fails_the_run() {
    let mut runner = Runner::new("rnbadbld", Transport::Local, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_image_with("bad", "RUN false", "hello");
    runner.write_stack_using_image("b", "bad", "one");
    runner.commit("Add a, and b with an image that cannot build");
    let out = runner.apply(&[]);
    out.assert_exit(1)
        .assert_stderr_contains(&format!("image {}: FAILED", runner.name("bad")))
        .assert_stderr_contains(&format!(
            "stack {}: skipped, the build of image {} did not succeed",
            runner.name("b"),
            runner.name("bad")
        ))
        .assert_stderr_contains(
            "error: the apply did not fully succeed: 1 action(s) failed, 1 skipped",
        );
    assert_eq!(
        runner.results(),
        [
            "build bad: failed",
            "deploy a: succeeded",
            "deploy b: skipped"
        ]
    );
    let results = runner.report()["report"]["results"].clone();
    let build = results
        .as_array()
        .and_then(|r| r.iter().find(|r| r["action"] == "build"))
        .expect("the build's result");
    assert!(
        build["error"].as_str().is_some_and(|e| e.contains("false")),
        "the error should quote the failing step: {build}"
    );
    assert!(runner.web("a").is_some());
    runner.assert_gone("b");
}

// 11. CI's new-branch range, and the jobs it leaves.

#[test]
fn a_range_from_the_zero_commit_applies_everything_and_the_jobs_keep_their_logs() {
    let runner = Runner::new("rnzero", Transport::GitDaemon, &["a", "b"]);
    runner.write_stack("a", "one", "");
    runner.write_stack("b", "one", "");
    let head = runner.commit("Add a and b");
    let out = runner.apply(&["--from", ZERO_COMMIT, "--to", &head]);
    out.assert_exit(0).assert_stdout_contains(&format!(
        "plan up to {}: everything (the range starts at an all-zero commit (a new branch))",
        short(&head)
    ));
    assert_eq!(
        runner.results(),
        ["deploy a: succeeded", "deploy b: succeeded"]
    );
    assert!(runner.web("a").is_some() && runner.web("b").is_some());

    let jobs = runner.voc(&["jobs"]);
    jobs.assert_exit(0);
    for stack in ["a", "b"] {
        let name = runner.name(stack);
        assert!(
            jobs.stdout
                .lines()
                .any(|l| l.contains("deploy") && l.contains(&name) && l.contains("succeeded")),
            "no succeeded deploy job of {name}\n{jobs}"
        );
    }
    let listed: Value =
        serde_json::from_str(&runner.voc(&["jobs", "--json"]).stdout).expect("JSON");
    let job_of_a = listed
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["subject"] == runner.name("a")))
        .expect("a job for a");
    assert_eq!(job_of_a["commit"], head.as_str());
    let id = job_of_a["id"].to_string();
    let job = runner.voc(&["job", &id]);
    job.assert_exit(0)
        .assert_stdout_contains(&format!(
            "job {id}: deploy {} on default (succeeded)",
            runner.name("a")
        ))
        .assert_stdout_contains(&format!("commit: {head}"))
        .assert_stdout_contains(&format!("| service {}_web: created", runner.name("a")));

    let missing = runner.voc(&["job", "999999"]);
    missing
        .assert_exit(1)
        .assert_stderr_contains("there is no job 999999");
}
