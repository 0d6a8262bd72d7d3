//! Planning benchmark: `voc plan` on a conf repo of [`STACKS`] stacks and
//! [`COMMITS`] commits, where the last commit changes one Compose file.
//!
//! Run with `cargo bench -p voc-tests --bench plan` (it builds
//! `target/release/voc` itself; no engine is needed). The repo is generated
//! once, through `git fast-import` (one process for the whole history), and
//! kept in `target/bench-data/plan-v<REPO_VERSION>/`; change
//! [`REPO_VERSION`] when the generator changes, so that reruns never
//! measure a stale repo.
//!
//! The repo looks like the conf repo of a large organisation: stacks spread
//! over `teams/<team>/<stack>/`, one to three services each, some with a
//! `stack-<s>.json` (variables, `dependsOn`), env files, config and secret
//! files, a shared env file many stacks read, and images under `images/`.
//! Its history adds the stacks one commit at a time, then edits Compose
//! files, env files, configs, stack settings, images and docs at random
//! (seeded: every machine generates the same repo). The last commit changes
//! one Compose file, so the right plan is exactly one deploy, and every
//! run is checked to plan exactly that.
//!
//! Measured, [`RUNS`] times each (median, min, max), the wall time and the
//! CPU time (user + system) of the `voc plan --json` process:
//!
//! 1. `--from HEAD~1` with a new, empty data folder each run: the first
//!    run on a machine, or a CI job that keeps nothing between jobs;
//! 2. `--from HEAD~1` with the same data folder every run (warmed by one
//!    run first): a CI runner that keeps its data folder;
//! 3. no `--from`, the data folder's store holding HEAD~1 as applied (and
//!    warm): what a server does.
//!
//! Then where the time goes, measured in-process through the library, with
//! the calls `voc plan` makes: opening the repo and resolving the range,
//! reading the range (commits and diffs), checking that the working tree is
//! clean, walking the tree, reading the conf with every Compose file loaded
//! (what `voc validate` does) and through a warm load cache (what `voc
//! plan` does), loading the Compose files alone, and planning. The target,
//! from the issue: `voc plan` under 200 ms.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use voc::conf::compose_cache::{CacheCounts, ComposeCache};
use voc::conf::{ReadOptions, read_conf, read_conf_cached, read_conf_with};
use voc::git::{CommitId, GitRepo};
use voc::reconcile::range::{Start, read_range};
use voc::reconcile::{PlanInput, plan};

/// Stacks in the repo.
const STACKS: usize = 1_000;
/// Commits in the repo's history.
const COMMITS: usize = 10_000;
/// Images built from the repo.
const IMAGES: usize = 20;
/// Teams: the repo's top folders under `teams/`.
const TEAMS: [&str; 10] = [
    "shop", "billing", "search", "auth", "media", "ops", "data", "mail", "chat", "maps",
];
/// Timed runs of each `voc plan` variant and of each library call.
const RUNS: usize = 15;
/// The target for `voc plan`.
const TARGET: Duration = Duration::from_millis(200);
/// Bump when the generated repo changes: the cached repo is then rebuilt.
const REPO_VERSION: u32 = 1;
/// The stack whose Compose file the last commit changes.
const CHANGED_STACK: usize = 517;

fn main() -> anyhow::Result<()> {
    let load_at_start = load_average();
    let voc_binary = voc_tests::voc_binary()?;
    let load_after_build = load_average();
    let repo_path = ensure_repo()?;
    let changed = stack_name(CHANGED_STACK);

    let repo = GitRepo::open(&repo_path)?;
    let head = repo.resolve("HEAD")?;
    let parent = repo.resolve("HEAD~1")?;
    let scratch = tempfile::tempdir()?;
    let planner = Planner {
        voc: &voc_binary,
        repo: &repo_path,
        changed: &changed,
    };

    eprintln!("voc plan --from HEAD~1, a new data folder each run");
    let new_folder = (0..RUNS)
        .map(|run| planner.run(&scratch.path().join(format!("new-{run}")), Some(&parent)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    eprintln!("voc plan --from HEAD~1, one data folder for every run");
    let kept = scratch.path().join("kept");
    planner.run(&kept, Some(&parent))?;
    let same_folder = (0..RUNS)
        .map(|_| planner.run(&kept, Some(&parent)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    eprintln!("voc plan, the store holding HEAD~1 as applied");
    let stored = scratch.path().join("stored");
    let store = voc::store::Store::open(&stored.join("voc.db"))?;
    store.set_last_applied(voc::conf::model::DEFAULT_TARGET, &parent)?;
    drop(store);
    planner.run(&stored, None)?;
    let from_store = (0..RUNS)
        .map(|_| planner.run(&stored, None))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let version = (0..RUNS)
        .map(|_| {
            run_child(
                Command::new(&voc_binary)
                    .arg("--version")
                    .stdout(Stdio::null()),
            )
            .map(|(sample, _)| sample)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    eprintln!("where the time goes, in-process");
    let phases = measure_phases(&repo_path, &head, &parent, &changed, &kept)?;
    let load_at_end = load_average();

    println!();
    println!(
        "plan benchmark: {STACKS} stacks, {COMMITS} commits, the last one changing {}; {} CPUs",
        compose_path(CHANGED_STACK),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!(
        "load average: {load_at_start} at start, {load_after_build} after building voc, {load_at_end} at the end"
    );
    println!();
    println!(
        "{:<48} {:>26}   {:>26}",
        format!("voc plan --json, {RUNS} runs"),
        "wall: median  min    max",
        "CPU: median  min    max"
    );
    let row = |label: &str, samples: &[Sample], verdict: bool| {
        let walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
        let cpus: Vec<Duration> = samples.iter().map(|s| s.cpu).collect();
        let verdict = match verdict {
            false => String::new(),
            true if median(&walls) < TARGET => format!("  under {}", ms(TARGET)),
            true => format!("  OVER {}", ms(TARGET)),
        };
        println!(
            "{label:<48} {:>10} {:>7} {:>7}   {:>10} {:>7} {:>7}{verdict}",
            ms(median(&walls)),
            ms(min(&walls)),
            ms(max(&walls)),
            ms(median(&cpus)),
            ms(min(&cpus)),
            ms(max(&cpus)),
        );
    };
    row(
        "--from HEAD~1, a new data folder each run",
        &new_folder,
        true,
    );
    row("--from HEAD~1, the same data folder", &same_folder, true);
    row("no --from, the store holds HEAD~1", &from_store, true);
    row("(for scale: voc --version)", &version, false);
    println!();
    phases.print();
    Ok(())
}

/// One process's wall time and CPU time (user + system).
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
}

/// Runs `voc plan` on the generated repo.
struct Planner<'a> {
    voc: &'a Path,
    repo: &'a Path,
    changed: &'a str,
}

impl Planner<'_> {
    /// Runs `voc plan --json` once and checks that it plans exactly the
    /// deploy of the changed stack.
    fn run(&self, data_dir: &Path, from: Option<&CommitId>) -> anyhow::Result<Sample> {
        let mut command = Command::new(self.voc);
        command
            .arg("plan")
            .arg("--repo")
            .arg(self.repo)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--json");
        if let Some(from) = from {
            command.args(["--from", from.as_str()]);
        }
        let (sample, stdout) = run_child(&mut command)?;
        let json: serde_json::Value =
            serde_json::from_slice(&stdout).context("voc plan's output is not JSON")?;
        let actions = json["plan"]["actions"]
            .as_array()
            .context("no plan.actions in voc plan's output")?;
        let planned: Vec<String> = actions
            .iter()
            .map(|a| format!("{} {}", a["action"], a["name"]).replace('"', ""))
            .collect();
        ensure!(
            planned == [format!("deploy {}", self.changed)],
            "voc plan planned {planned:?}, not the one deploy of {}",
            self.changed
        );
        Ok(sample)
    }
}

/// Runs `command` to its end and returns its wall and CPU times and its
/// stdout; fails unless it succeeds.
fn run_child(command: &mut Command) -> anyhow::Result<(Sample, Vec<u8>)> {
    command.stdin(Stdio::null()).stderr(Stdio::piped());
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = command.output()?;
    let wall = started.elapsed();
    // The child is reaped by now, so its times are in the children's.
    let cpu = children_cpu().saturating_sub(cpu_before);
    ensure!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((Sample { wall, cpu }, output.stdout))
}

/// The user and system time of every child process reaped so far.
fn children_cpu() -> Duration {
    // SAFETY: `getrusage` only writes the struct it is given, which is
    // plain data and valid when zeroed.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The library calls `voc plan` makes, each timed [`RUNS`] times.
#[derive(Default)]
struct Phases {
    open_and_resolve: Vec<Duration>,
    range: Vec<Duration>,
    is_clean: Vec<Duration>,
    walk: Vec<Duration>,
    read_conf: Vec<Duration>,
    load_compose: Vec<Duration>,
    read_cached: Vec<Duration>,
    cache_counts: CacheCounts,
    plan: Vec<Duration>,
}

fn measure_phases(
    repo_path: &Path,
    head: &CommitId,
    parent: &CommitId,
    changed: &str,
    data_dir: &Path,
) -> anyhow::Result<Phases> {
    let mut phases = Phases::default();
    let options = ReadOptions {
        targets: None,
        ..ReadOptions::default()
    };
    let cache_file = data_dir.join(voc::conf::compose_cache::FILE_NAME);
    let root = repo_path.canonicalize()?;
    for _ in 0..RUNS {
        let started = Instant::now();
        let repo = GitRepo::open(repo_path)?;
        let to = repo.resolve("HEAD")?;
        let from = repo.resolve(parent.as_str())?;
        phases.open_and_resolve.push(started.elapsed());
        ensure!(&to == head, "HEAD moved");

        let started = Instant::now();
        let range = read_range(&repo, &Start::Given(from), &to)?;
        phases.range.push(started.elapsed());

        let started = Instant::now();
        let clean = repo.is_clean()?;
        phases.is_clean.push(started.elapsed());
        ensure!(clean, "the generated repo's working tree is not clean");

        let started = Instant::now();
        let found = walk(&root)?;
        phases.walk.push(started.elapsed());
        ensure!(
            found.len() == STACKS,
            "the walk found {} Compose files",
            found.len()
        );

        let started = Instant::now();
        let full = read_conf_with(repo_path, &options);
        phases.read_conf.push(started.elapsed());

        // The loader alone, on every Compose file, on this thread.
        let started = Instant::now();
        for file in &found {
            let settings = file.with_file_name(format!(
                "stack-{}.json",
                file.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_prefix("docker-compose-"))
                    .and_then(|n| n.strip_suffix(".yml"))
                    .unwrap_or_default()
            ));
            let variables = match std::fs::read(&settings) {
                Ok(bytes) => serde_json::from_slice::<voc::conf::StackConfig>(&bytes)?.variables,
                Err(_) => Default::default(),
            };
            voc::compose::load_files(std::slice::from_ref(file), &variables)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        }
        phases.load_compose.push(started.elapsed());

        // As `voc plan` does it: open the cache, read, save.
        let started = Instant::now();
        let cache = ComposeCache::open(&cache_file);
        let conf = read_conf_cached(repo_path, &options, &cache);
        cache.save()?;
        phases.read_cached.push(started.elapsed());
        phases.cache_counts = cache.counts();
        ensure!(
            conf.conf == full.conf && conf.problems == full.problems,
            "reading through the cache gave another conf than reading everything"
        );

        let targets = [voc::conf::model::DEFAULT_TARGET.to_owned()].into();
        let started = Instant::now();
        let planned = plan(&PlanInput {
            conf: &conf,
            to: to.as_str().to_owned(),
            scope: range.scope.clone(),
            changes: &range.changes,
            directives: &range.directives,
            removed_stack_targets: &range.removed_stack_targets,
            targets: &targets,
        });
        phases.plan.push(started.elapsed());
        ensure!(
            planned.actions.len() == 1
                && planned.actions[0].kind.subject().to_string() == format!("stack {changed}"),
            "the library planned {:?}",
            planned.actions
        );
    }
    Ok(phases)
}

/// The Compose files under `folder`, found the way the walker finds them:
/// every folder read, entries sorted, links to folders not followed.
fn walk(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut entries: Vec<_> = std::fs::read_dir(folder)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    let mut found = Vec::new();
    for entry in entries {
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            found.extend(walk(&entry.path())?);
        } else if name
            .to_str()
            .is_some_and(|n| n.starts_with("docker-compose-"))
        {
            found.push(entry.path());
        }
    }
    Ok(found)
}

impl Phases {
    fn print(&self) {
        println!(
            "{:<62} {:>9} {:>9} {:>9}",
            format!("where the time goes (library, in-process, {RUNS} runs)"),
            "median",
            "min",
            "max"
        );
        let row = |label: &str, times: &[Duration]| {
            println!(
                "{label:<62} {:>9} {:>9} {:>9}",
                ms(median(times)),
                ms(min(times)),
                ms(max(times))
            );
        };
        row(
            "git: open the repo, resolve HEAD and HEAD~1",
            &self.open_and_resolve,
        );
        row(
            "git: read the range (commits, diff, attribution)",
            &self.range,
        );
        row("git: is the working tree clean (status)", &self.is_clean);
        row(
            "conf: walking the tree alone (read_dir of every folder)",
            &self.walk,
        );
        row(
            "conf: loading the Compose files alone, one thread",
            &self.load_compose,
        );
        row(
            "conf: read_conf_with, everything loaded (voc validate)",
            &self.read_conf,
        );
        let counts = self.cache_counts;
        row(
            &format!(
                "conf: read through the cache ({} reused, {} loaded)",
                counts.reused, counts.loaded
            ),
            &self.read_cached,
        );
        row("plan: the pure planner", &self.plan);
    }
}
/// The generated repo, made now unless a complete one is cached.
fn ensure_repo() -> anyhow::Result<PathBuf> {
    let folder = target_dir().join(format!("bench-data/plan-v{REPO_VERSION}"));
    let repo = folder.join("repo");
    let ready = folder.join("ready");
    if ready.exists() {
        eprintln!("using the repo generated before in {}", repo.display());
        return Ok(repo);
    }
    if folder.exists() {
        std::fs::remove_dir_all(&folder)
            .with_context(|| format!("removing the incomplete {}", folder.display()))?;
    }
    std::fs::create_dir_all(&repo)?;
    eprintln!(
        "generating {STACKS} stacks and {COMMITS} commits in {}",
        repo.display()
    );
    let started = Instant::now();
    generate(&repo)?;
    let report = read_conf(&repo);
    ensure!(
        report.problems.is_empty() && report.conf.stacks.len() == STACKS,
        "the generated repo is not a valid conf repo of {STACKS} stacks: {} stacks, problems: {:?}",
        report.conf.stacks.len(),
        report
            .problems
            .iter()
            .take(5)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    std::fs::write(&ready, "")?;
    eprintln!("  generated in {:.1} s", started.elapsed().as_secs_f64());
    Ok(repo)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn git(repo: &Path, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .context("running git")?;
    ensure!(
        output.status.success(),
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Writes the whole history with one `git fast-import`, then checks the
/// head out.
fn generate(repo: &Path) -> anyhow::Result<()> {
    git(repo, &["init", "-q", "-b", "main"])?;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .spawn()
        .context("running git fast-import")?;
    let stdin = child.stdin.take().context("git fast-import's stdin")?;
    let mut history = History::new(std::io::BufWriter::new(stdin));
    history.write_all()?;
    let mut out = history.finish()?;
    out.flush()?;
    drop(out);
    let status = child.wait()?;
    ensure!(status.success(), "git fast-import failed");
    git(repo, &["reset", "-q", "--hard", "main"])?;
    Ok(())
}

/// A deterministic generator (SplitMix64): the same repo everywhere.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn stack_name(i: usize) -> String {
    const APPS: [&str; 10] = [
        "api", "web", "worker", "cron", "cache", "db", "queue", "proxy", "admin", "metrics",
    ];
    format!(
        "{}-{}-{}",
        TEAMS[i % TEAMS.len()],
        APPS[(i / TEAMS.len()) % APPS.len()],
        i / 100
    )
}

fn stack_folder(i: usize) -> String {
    format!("teams/{}/{}", TEAMS[i % TEAMS.len()], stack_name(i))
}

fn compose_path(i: usize) -> String {
    format!("{}/docker-compose-{}.yml", stack_folder(i), stack_name(i))
}

fn image_name(k: usize) -> String {
    format!("img{k:02}")
}

/// What kind of stack `i` is: which files it has beside its Compose file.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// One service, nothing else.
    Minimal,
    /// An env file.
    EnvFile,
    /// Two services, a config file and a network.
    Config,
    /// `stack-<s>.json` with variables, and a secret file.
    Variables,
    /// `stack-<s>.json` with `dependsOn`, the shared env file, a healthcheck.
    Dependent,
}

fn kind(i: usize) -> Kind {
    // Stacks 0..10 have nothing to depend on in their team yet.
    match i % 5 {
        0 => Kind::Minimal,
        1 => Kind::EnvFile,
        2 => Kind::Config,
        3 => Kind::Variables,
        _ if i < 2 * TEAMS.len() => Kind::EnvFile,
        _ => Kind::Dependent,
    }
}

/// The files of stack `i` at `revision` of each of them.
fn compose_text(i: usize, revision: usize) -> String {
    let name = stack_name(i);
    let image = if i.is_multiple_of(7) {
        // Uses an image built from the repo.
        format!("registry.example.org/{}:1.0.0", image_name(i % IMAGES))
    } else {
        format!(
            "registry.example.org/{}/{name}:1.{revision}.0",
            TEAMS[i % TEAMS.len()]
        )
    };
    let port = 20_000 + i;
    let mut text = String::from("version: \"3.8\"\n\nservices:\n");
    match kind(i) {
        Kind::Minimal => text.push_str(&format!(
            "  app:\n    image: {image}\n    deploy:\n      replicas: {}\n      restart_policy:\n        condition: on-failure\n    ports:\n      - target: 8080\n        published: {port}\n        mode: host\n",
            1 + revision % 3
        )),
        Kind::EnvFile => text.push_str(&format!(
            "  app:\n    image: {image}\n    env_file: app.env\n    environment:\n      LOG_LEVEL: info\n      STACK: {name}\n    deploy:\n      replicas: 2\n      update_config:\n        parallelism: 1\n        delay: 10s\n      resources:\n        limits:\n          memory: 256M\n"
        )),
        Kind::Config => text.push_str(&format!(
            "  app:\n    image: {image}\n    networks: [backend]\n    deploy:\n      replicas: 2\n  proxy:\n    image: registry.example.org/base/nginx:1.27\n    configs:\n      - source: nginx\n        target: /etc/nginx/conf.d/default.conf\n    networks: [backend]\n    ports:\n      - target: 80\n        published: {port}\n        mode: host\n    deploy:\n      labels:\n        io.example.revision: \"{revision}\"\n\nnetworks:\n  backend:\n    driver: overlay\n\nconfigs:\n  nginx:\n    file: ./nginx.conf\n"
        )),
        Kind::Variables => text.push_str(
            "  app:\n    image: registry.example.org/${TEAM}/${APP}:${TAG}\n    secrets: [db_password]\n    environment:\n      DB_PASSWORD_FILE: /run/secrets/db_password\n    deploy:\n      replicas: ${REPLICAS:-1}\n  backup:\n    image: registry.example.org/base/backup:2.1\n    command: [\"backup\", \"--every\", \"1h\"]\n    secrets: [db_password]\n\nsecrets:\n  db_password:\n    file: ./db_password.txt\n",
        ),
        Kind::Dependent => text.push_str(&format!(
            "  app:\n    image: {image}\n    env_file:\n      - ../../../shared/common.env\n    healthcheck:\n      test: [\"CMD\", \"wget\", \"-q\", \"-O-\", \"http://localhost:8080/health\"]\n      interval: 30s\n      timeout: 5s\n      retries: 3\n    labels:\n      io.example.team: {}\n    deploy:\n      replicas: 1\n      placement:\n        constraints: [node.role == worker]\n",
            TEAMS[i % TEAMS.len()]
        )),
    }
    text
}

fn settings_text(i: usize, revision: usize) -> Option<String> {
    match kind(i) {
        Kind::Variables => Some(format!(
            "{{\n  \"variables\": {{\n    \"TEAM\": \"{}\",\n    \"APP\": \"{}\",\n    \"TAG\": \"2.{revision}.0\",\n    \"REPLICAS\": \"{}\"\n  }},\n  \"resolveImage\": \"changed\"\n}}\n",
            TEAMS[i % TEAMS.len()],
            stack_name(i),
            1 + revision % 2
        )),
        Kind::Dependent => Some(format!(
            "{{\n  \"dependsOn\": [\"{}\"],\n  \"selfHeal\": {}\n}}\n",
            stack_name(i - 2 * TEAMS.len()),
            revision % 2 == 1
        )),
        _ => None,
    }
}

/// The files beside the Compose file (name, text).
fn extra_files(i: usize, revision: usize) -> Vec<(String, String)> {
    let folder = stack_folder(i);
    match kind(i) {
        Kind::EnvFile => vec![(
            format!("{folder}/app.env"),
            format!(
                "# settings of {}\nDATABASE_URL=postgres://db:5432/app\nCACHE_TTL={}\nFEATURE_FLAGS=a,b,c\n",
                stack_name(i),
                60 + revision
            ),
        )],
        Kind::Config => vec![(
            format!("{folder}/nginx.conf"),
            format!(
                "server {{\n  listen 80;\n  location / {{\n    proxy_pass http://app:8080;\n    proxy_read_timeout {}s;\n  }}\n}}\n",
                30 + revision
            ),
        )],
        Kind::Variables => vec![(
            format!("{folder}/db_password.txt"),
            format!("not-a-real-password-{revision}\n"),
        )],
        _ => Vec::new(),
    }
}

/// The history, written as a `git fast-import` stream.
struct History<W: Write> {
    out: W,
    random: Random,
    commits: usize,
    /// Each stack's revision per file kind: Compose, settings, extra file.
    revisions: Vec<[usize; 3]>,
    image_revisions: Vec<usize>,
    doc_revision: usize,
}

impl<W: Write> History<W> {
    fn new(out: W) -> Self {
        History {
            out,
            random: Random(0x766f_6320_706c_616e),
            commits: 0,
            revisions: vec![[0; 3]; STACKS],
            image_revisions: vec![0; IMAGES],
            doc_revision: 0,
        }
    }

    fn write_all(&mut self) -> anyhow::Result<()> {
        let mut files = vec![
            ("README.md".to_owned(), self.readme()),
            (
                "shared/common.env".to_owned(),
                "TZ=Europe/Paris\nLOG_FORMAT=json\n".to_owned(),
            ),
        ];
        for k in 0..IMAGES {
            files.extend(self.image_files(k));
        }
        self.commit("initial layout: shared settings and base images", &files)?;
        for i in 0..STACKS {
            let mut files = vec![(compose_path(i), compose_text(i, 0))];
            if let Some(settings) = settings_text(i, 0) {
                files.push((settings_path(i), settings));
            }
            files.extend(extra_files(i, 0));
            self.commit(&format!("add stack {}", stack_name(i)), &files)?;
        }
        while self.commits < COMMITS - 1 {
            self.random_edit()?;
        }
        let i = CHANGED_STACK;
        self.revisions[i][0] += 1;
        let files = [(compose_path(i), compose_text(i, self.revisions[i][0]))];
        self.commit(&format!("{}: new release", stack_name(i)), &files)?;
        Ok(())
    }

    fn random_edit(&mut self) -> anyhow::Result<()> {
        let roll = self.random.below(100);
        let i = self.random.below(STACKS);
        let name = stack_name(i);
        let (message, files) = match roll {
            0..50 => {
                self.revisions[i][0] += 1;
                (
                    format!("{name}: new release"),
                    vec![(compose_path(i), compose_text(i, self.revisions[i][0]))],
                )
            }
            50..75 if !extra_files(i, 0).is_empty() => {
                self.revisions[i][2] += 1;
                (
                    format!("{name}: tune settings"),
                    extra_files(i, self.revisions[i][2]),
                )
            }
            75..85 if settings_text(i, 0).is_some() => {
                self.revisions[i][1] += 1;
                let text = settings_text(i, self.revisions[i][1]).unwrap_or_default();
                (
                    format!("{name}: stack settings"),
                    vec![(settings_path(i), text)],
                )
            }
            85..90 => {
                let k = self.random.below(IMAGES);
                self.image_revisions[k] += 1;
                (
                    format!("{}: bump base image", image_name(k)),
                    self.image_files(k),
                )
            }
            _ => {
                self.doc_revision += 1;
                (
                    "docs: update the README".to_owned(),
                    vec![("README.md".to_owned(), self.readme())],
                )
            }
        };
        self.commit(&message, &files)
    }

    fn image_files(&self, k: usize) -> Vec<(String, String)> {
        let name = image_name(k);
        let revision = self.image_revisions[k];
        vec![
            (
                format!("images/{name}/Dockerfile-{name}"),
                format!(
                    "FROM registry.example.org/base/debian:12.{revision}\nCOPY app /usr/local/bin/app\nCMD [\"app\"]\n"
                ),
            ),
            (
                format!("images/{name}/image-{name}.json"),
                format!(
                    "{{\n  \"tag\": \"registry.example.org/{name}:1.0.0\",\n  \"push\": \"registry.example.org/{name}:1.0.0\"\n}}\n"
                ),
            ),
            (
                format!("images/{name}/app"),
                format!("#!/bin/sh\necho {name} {revision}\n"),
            ),
        ]
    }

    fn readme(&self) -> String {
        format!(
            "# Our swarm\n\nEverything that runs on it: one folder per team under `teams/`.\n\nRevision {}.\n",
            self.doc_revision
        )
    }

    fn commit(&mut self, message: &str, files: &[(String, String)]) -> anyhow::Result<()> {
        self.commits += 1;
        let mark = self.commits;
        let time = 1_700_000_000 + 600 * mark;
        let out = &mut self.out;
        writeln!(out, "commit refs/heads/main")?;
        writeln!(out, "mark :{mark}")?;
        writeln!(out, "committer Bench <bench@voc.invalid> {time} +0000")?;
        writeln!(out, "data {}", message.len())?;
        writeln!(out, "{message}")?;
        if mark > 1 {
            writeln!(out, "from :{}", mark - 1)?;
        }
        for (path, text) in files {
            writeln!(out, "M 100644 inline {path}")?;
            writeln!(out, "data {}", text.len())?;
            writeln!(out, "{text}")?;
        }
        writeln!(out)?;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<W> {
        if self.commits != COMMITS {
            bail!("generated {} commits, not {COMMITS}", self.commits);
        }
        writeln!(self.out, "done")?;
        Ok(self.out)
    }
}

fn settings_path(i: usize) -> String {
    format!("{}/stack-{}.json", stack_folder(i), stack_name(i))
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn min(times: &[Duration]) -> Duration {
    times.iter().min().copied().unwrap_or_default()
}

fn max(times: &[Duration]) -> Duration {
    times.iter().max().copied().unwrap_or_default()
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}
