//! Building and pushing images through the Docker API: `.dockerignore`,
//! build args, labels, multi-stage targets, Dockerfiles outside the context,
//! failed builds, and pushes to the open and the authenticated registry.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use voc::engine::{Engine, Error, ImageBuild, RegistryAuth};
use voc_tests::{
    AUTH_REGISTRY, AUTH_REGISTRY_PASSWORD, AUTH_REGISTRY_USER, BASE_IMAGE, DockerCli,
    OPEN_REGISTRY, docker, docker_json, require_engine, unique_name,
};

/// Removes the images (tags) it holds when dropped, also when the test
/// panics.
struct ImageGuard(Vec<String>);

impl ImageGuard {
    fn new() -> Self {
        Self(Vec::new())
    }

    fn add(&mut self, image: impl Into<String>) -> String {
        let image = image.into();
        self.0.push(image.clone());
        image
    }
}

impl Drop for ImageGuard {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = docker(["image", "rm", "--force", image]);
        }
    }
}

/// Collects the log lines a build or push sends.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Lines {
    fn log(&self) -> impl Fn(&str) + Send + Sync + '_ {
        |line: &str| self.0.lock().unwrap().push(line.to_owned())
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let full = root.join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
    }
}

fn build(dir: &Path, dockerfile: &str, context: &str, tag: &str) -> ImageBuild {
    ImageBuild {
        dockerfile: dir.join(dockerfile),
        context: dir.join(context),
        tag: tag.to_owned(),
        build_args: BTreeMap::new(),
        target: None,
        labels: BTreeMap::new(),
    }
}

/// Builds a small image of its own (a label makes it unique) to push.
async fn build_pushable(engine: &Engine, images: &mut ImageGuard, name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "Dockerfile",
            &format!("FROM {BASE_IMAGE}\nLABEL voc.test={name}\n"),
        )],
    );
    let tag = images.add(format!("voc-e2e/{name}:local"));
    engine
        .build_image(&build(dir.path(), "Dockerfile", ".", &tag), &|_| {})
        .await
        .unwrap();
    tag
}

#[tokio::test]
async fn build_applies_dockerignore_build_args_labels_and_target() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "Dockerfile",
                &format!(
                    "FROM {BASE_IMAGE} AS base\n\
                     ARG GREETING\n\
                     LABEL stage=base\n\
                     COPY . /ctx/\n\
                     RUN test -e /ctx/app.txt && test -e /ctx/keep/me.txt\n\
                     RUN test ! -e /ctx/secret.txt && test ! -e /ctx/logs && test ! -e /ctx/keep/drop.txt\n\
                     RUN echo \"$GREETING\" > /greeting\n\
                     FROM base AS final\n\
                     LABEL stage=final\n\
                     RUN echo final > /final\n"
                ),
            ),
            (".dockerignore", "secret.txt\nlogs\nkeep/*\n!keep/me.txt\n"),
            ("app.txt", "app"),
            ("secret.txt", "do not send"),
            ("logs/today.log", "log"),
            ("keep/me.txt", "kept"),
            ("keep/drop.txt", "dropped"),
        ],
    );
    let tag = images.add(format!("voc-e2e/{}:1", unique_name("build")));
    let mut spec = build(dir.path(), "Dockerfile", ".", &tag);
    spec.build_args
        .insert("GREETING".into(), "hello from voc".into());
    spec.target = Some("base".into());
    spec.labels
        .insert("org.example.origin".into(), "e2e".into());
    let lines = Lines::default();

    let built = engine.build_image(&spec, &lines.log()).await.unwrap();

    assert!(built.id.starts_with("sha256:"), "{built:?}");
    assert_eq!(built.tag, tag);
    let log = lines.all();
    // Seven steps up to the target, plus the one that adds the API's labels.
    assert_eq!(
        log[0],
        format!("Step 1/8 : FROM {BASE_IMAGE} AS base"),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l == "Step 8/8 : LABEL org.example.origin=e2e"),
        "{log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("stage=final")),
        "built past the target: {log:#?}"
    );
    let inspect = docker_json(["image", "inspect", &tag]).unwrap();
    assert_eq!(inspect[0]["Id"], built.id.as_str());
    let labels = &inspect[0]["Config"]["Labels"];
    assert_eq!(labels["stage"], "base", "{labels}");
    assert_eq!(labels["org.example.origin"], "e2e", "{labels}");
    let out = docker([
        "run",
        "--rm",
        &tag,
        "sh",
        "-c",
        "cat /greeting; test ! -e /final && echo no-final; ls -A /ctx",
    ])
    .unwrap();
    // `.dockerignore` itself is sent (the daemon reads it) and copied, as
    // with `docker build`.
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "hello from voc",
            "no-final",
            ".dockerignore",
            "Dockerfile",
            "app.txt",
            "keep"
        ]
    );
}

/// Builds with the docker CLI's classic builder, for comparison.
fn cli_build(tag: &str, dockerfile: &Path, context: &Path) {
    let out = Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "--quiet", "--tag", tag, "--file"])
        .arg(dockerfile)
        .arg(context)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every path under `/ctx` in `image` with its mode, owner and type, then
/// the checksum of every file.
fn context_listing(image: &str) -> Vec<String> {
    let script = "cd /ctx && find . -exec stat -c '%n %a %u:%g %F' {} + | sort && find . -type f -exec md5sum {} + | sort";
    docker(["run", "--rm", image, "sh", "-c", script])
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn build_context_is_what_docker_build_sends() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let repo = tempfile::tempdir().unwrap();
    let dockerfile = format!("FROM {BASE_IMAGE}\nCOPY . /ctx/\n");
    let ignore = "# Docker's rules, quirks included\n\
                  *.log\n!keep.log\n\
                  docs\n!docs/keep.md\n\
                  **.tmp\n\
                  */b\n!a\n\
                  build/**\n!build/out/ship.bin\n\
                  temp?\n[x-z]*.txt\n\
                  /rooted\n./dotted\n\
                  vendor/\n!**/vendor-keep\n\
                  docker\n  # not a comment\n";
    let files = [
        "app.log",
        "keep.log",
        "sub/app.log",
        "docs/readme.md",
        "docs/keep.md",
        "a/b/c.txt",
        "a/x.txt",
        "q/b/c.txt",
        "build/out/ship.bin",
        "build/out/other.bin",
        "build/top.bin",
        "temp1",
        "temp12",
        "x1.txt",
        "y.txt",
        "m.txt",
        "rooted",
        "sub/rooted",
        "dotted",
        "vendor/vendor-keep",
        "vendor/lib.rs",
        "sub/profile.tmp",
        "z.tmp",
        "docker/notes.md",
        "# not a comment",
    ];
    let ctx = repo.path().join("ctx");
    let mut contents: Vec<(String, String)> = files
        .iter()
        .map(|f| (format!("ctx/{f}"), format!("content of {f}")))
        .collect();
    contents.push(("ctx/.dockerignore".into(), ignore.into()));
    contents.push(("ctx/docker/Dockerfile".into(), dockerfile.clone()));
    contents.push(("Dockerfile-outside".into(), dockerfile));
    let contents: Vec<(&str, &str)> = contents
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    write(repo.path(), &contents);
    std::os::unix::fs::symlink("a/x.txt", ctx.join("link")).unwrap();
    fs::set_permissions(
        ctx.join("m.txt"),
        std::os::unix::fs::PermissionsExt::from_mode(0o751),
    )
    .unwrap();

    // The Dockerfile inside the context (in an excluded folder), then outside it.
    for (case, dockerfile) in [
        ("inside", ctx.join("docker/Dockerfile")),
        ("outside", repo.path().join("Dockerfile-outside")),
    ] {
        let name = unique_name(case);
        let voc_tag = images.add(format!("voc-e2e/{name}:voc"));
        let cli_tag = images.add(format!("voc-e2e/{name}:cli"));
        let spec = ImageBuild {
            dockerfile: dockerfile.clone(),
            context: ctx.clone(),
            tag: voc_tag.clone(),
            build_args: BTreeMap::new(),
            target: None,
            labels: BTreeMap::new(),
        };
        engine.build_image(&spec, &|_| {}).await.unwrap();
        cli_build(&cli_tag, &dockerfile, &ctx);

        let mut from_voc = context_listing(&voc_tag);
        let mut from_cli = context_listing(&cli_tag);
        if case == "outside" {
            // Both append the generated Dockerfile's name to `.dockerignore`:
            // a random one for the CLI, a content hash for voc.
            from_voc.retain(|l| !l.ends_with("./.dockerignore"));
            from_cli.retain(|l| !l.ends_with("./.dockerignore"));
        }
        assert_eq!(from_voc, from_cli, "{case}");
        let names: Vec<&str> = from_voc
            .iter()
            .filter_map(|l| l.split(' ').next())
            .collect();
        for kept in [
            "./keep.log",
            "./sub/app.log",
            "./docs/keep.md",
            "./a/x.txt",
            "./build/out/ship.bin",
            "./temp12",
            "./m.txt",
            "./link",
        ] {
            assert!(
                names.contains(&kept),
                "{case}: {kept} missing from {names:?}"
            );
        }
        for left_out in [
            "./app.log",
            "./docs/readme.md",
            "./a/b/c.txt",
            "./q/b",
            "./sub/profile.tmp",
            "./rooted",
            "./dotted",
            "./vendor",
            "./docker/notes.md",
        ] {
            assert!(
                !names.contains(&left_out),
                "{case}: {left_out} in {names:?}"
            );
        }
    }
}

#[tokio::test]
async fn dockerfile_outside_the_context_is_sent_and_kept_out_of_the_image() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        &[
            (
                "Dockerfile-app",
                &format!("FROM {BASE_IMAGE}\nCOPY . /ctx/\n"),
            ),
            ("app/main.txt", "main"),
            ("app/.dockerignore", "*.tmp\n"),
            ("app/scratch.tmp", "tmp"),
        ],
    );
    let tag = images.add(format!("voc-e2e/{}:1", unique_name("outside")));

    engine
        .build_image(&build(repo.path(), "Dockerfile-app", "app", &tag), &|_| {})
        .await
        .unwrap();

    let out = docker(["run", "--rm", &tag, "ls", "-A", "/ctx"]).unwrap();
    // The generated `.dockerfile.*` is listed in `.dockerignore`, so the
    // daemon leaves it out of `COPY`, as with `docker build -f ../Dockerfile`.
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [".dockerignore", "main.txt"]
    );
}

#[tokio::test]
async fn failed_build_quotes_the_end_of_its_log() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "Dockerfile",
            &format!("FROM {BASE_IMAGE}\nRUN echo about-to-fail && false\nRUN echo never\n"),
        )],
    );
    let tag = images.add(format!("voc-e2e/{}:1", unique_name("fail")));
    let lines = Lines::default();

    let error = engine
        .build_image(&build(dir.path(), "Dockerfile", ".", &tag), &lines.log())
        .await
        .unwrap_err();

    let text = error.to_string();
    match &error {
        Error::BuildFailed {
            tag: failed,
            message,
            log,
        } => {
            assert_eq!(failed, &tag);
            assert!(message.contains("returned a non-zero code: 1"), "{message}");
            assert!(log.iter().any(|l| l == "about-to-fail"), "{log:#?}");
            assert!(log.len() <= 20);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        text.starts_with(&format!("building image `{tag}`: The command")),
        "{text}"
    );
    assert!(text.contains("\nlast lines of the log:\n"), "{text}");
    assert!(
        text.contains("  | Step 2/3 : RUN echo about-to-fail && false"),
        "{text}"
    );
    assert!(text.contains("  | about-to-fail"), "{text}");
    assert!(!text.contains("never"), "{text}");
    assert!(lines.all().iter().any(|l| l == "about-to-fail"));
    assert!(
        docker(["image", "inspect", &tag]).is_err(),
        "a failed build left its tag"
    );
}

#[tokio::test]
async fn bad_context_fails_before_the_build_starts() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("Dockerfile", &format!("FROM {BASE_IMAGE}\n")),
            (".dockerignore", "[\n"),
        ],
    );
    let tag = format!("voc-e2e/{}:1", unique_name("badctx"));
    let lines = Lines::default();

    let error = engine
        .build_image(&build(dir.path(), "Dockerfile", ".", &tag), &lines.log())
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Dockerignore { .. }), "{error:?}");
    assert!(
        lines.all().is_empty(),
        "the build started: {:?}",
        lines.all()
    );
    let missing = engine
        .build_image(&build(dir.path(), "Dockerfile-missing", ".", &tag), &|_| {})
        .await
        .unwrap_err();
    assert!(
        missing.to_string().starts_with("opening the Dockerfile"),
        "{missing}"
    );
}

#[tokio::test]
async fn pushed_image_can_be_pulled_back_by_digest() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let name = unique_name("push");
    let source = build_pushable(&engine, &mut images, &name).await;
    let destination = images.add(format!("{OPEN_REGISTRY}/voc-e2e/{name}:v1"));
    let lines = Lines::default();

    let pushed = engine
        .push_image(&source, &destination, None, &lines.log())
        .await
        .unwrap();

    assert_eq!(pushed.destination, destination);
    assert!(
        pushed.digest.starts_with("sha256:") && pushed.digest.len() == 71,
        "{pushed:?}"
    );
    let log = lines.all();
    assert!(
        log[0].starts_with("The push refers to repository"),
        "{log:#?}"
    );
    let layer_done = |l: &String| {
        l.ends_with(": Pushed")
            || l.ends_with(": Layer already exists")
            || l.contains(": Mounted from ")
    };
    assert!(log.iter().any(layer_done), "{log:#?}");
    assert!(log.last().unwrap().contains(&pushed.digest), "{log:#?}");
    // Condensed: no layer shows the same status twice.
    let mut seen = std::collections::HashSet::new();
    assert!(log.iter().all(|l| seen.insert(l.clone())), "{log:#?}");

    docker(["image", "rm", &destination]).unwrap();
    let by_digest = format!("{OPEN_REGISTRY}/voc-e2e/{name}@{}", pushed.digest);
    images.add(by_digest.clone());
    docker(["pull", "--quiet", &by_digest]).unwrap();
    let pulled = docker_json(["image", "inspect", &by_digest]).unwrap();
    let source_id = docker_json(["image", "inspect", &source]).unwrap()[0]["Id"].clone();
    assert_eq!(pulled[0]["Id"], source_id);
}

#[tokio::test]
async fn push_without_a_tag_pushes_latest() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let name = unique_name("latest");
    let source = build_pushable(&engine, &mut images, &name).await;
    let repository = format!("{OPEN_REGISTRY}/voc-e2e/{name}");
    images.add(format!("{repository}:latest"));

    let pushed = engine
        .push_image(&source, &repository, None, &|_| {})
        .await
        .unwrap();

    assert_eq!(pushed.destination, format!("{repository}:latest"));
}

#[tokio::test]
async fn push_to_the_authenticated_registry_needs_the_right_password() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let name = unique_name("auth");
    let source = build_pushable(&engine, &mut images, &name).await;
    let destination = images.add(format!("{AUTH_REGISTRY}/voc-e2e/{name}:v1"));
    let auth = |password: &str| RegistryAuth {
        username: AUTH_REGISTRY_USER.into(),
        password: password.into(),
        serveraddress: AUTH_REGISTRY.into(),
    };

    let anonymous = engine
        .push_image(&source, &destination, None, &|_| {})
        .await
        .unwrap_err();
    // A password whose JSON encodes to `+` and `/` in standard base64: if
    // the header were not URL-safe base64, the daemon would fail to decode
    // it and push anonymously ("no basic auth credentials").
    let wrong = engine
        .push_image(&source, &destination, Some(&auth("a>>>b???c~~~")), &|_| {})
        .await
        .unwrap_err();
    let pushed = engine
        .push_image(
            &source,
            &destination,
            Some(&auth(AUTH_REGISTRY_PASSWORD)),
            &|_| {},
        )
        .await
        .unwrap();

    for (error, reason) in [
        (&anonymous, "no basic auth credentials"),
        (&wrong, "unauthorized: authentication required"),
    ] {
        let text = error.to_string();
        assert!(matches!(error, Error::PushFailed { .. }), "{error:?}");
        assert!(
            text.starts_with(&format!("pushing image `{destination}`: {reason}\n")),
            "{text}"
        );
        assert!(
            text.contains("\nlast lines of the log:\n  | The push refers to repository"),
            "{text}"
        );
    }
    assert!(pushed.digest.starts_with("sha256:"), "{pushed:?}");
    // What was pushed is there for whoever logs in.
    let config = tempfile::tempdir().unwrap();
    let cli = DockerCli::with_config_dir(config.path());
    cli.docker_with_stdin(
        [
            "login",
            "--username",
            AUTH_REGISTRY_USER,
            "--password-stdin",
            AUTH_REGISTRY,
        ],
        AUTH_REGISTRY_PASSWORD,
    )
    .unwrap();
    docker(["image", "rm", &destination]).unwrap();
    cli.docker(["pull", "--quiet", &destination]).unwrap();
    let pulled = docker_json(["image", "inspect", &destination]).unwrap();
    let digests = pulled[0]["RepoDigests"].to_string();
    assert!(digests.contains(&pushed.digest), "{digests}");
}

#[tokio::test]
async fn push_errors_name_the_destination() {
    require_engine();
    let engine = Engine::connect().await.unwrap();
    let mut images = ImageGuard::new();
    let name = unique_name("unreach");
    let source = build_pushable(&engine, &mut images, &name).await;
    let unreachable = images.add(format!("127.0.0.1:5999/voc-e2e/{name}:v1"));

    let error = engine
        .push_image(&source, &unreachable, None, &|_| {})
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("pushing image `{unreachable}`: ")),
        "{text}"
    );
    assert!(text.contains("connection refused"), "{text}");

    let missing = format!("voc-e2e/{name}-missing:1");
    let error = engine
        .push_image(
            &missing,
            &format!("{OPEN_REGISTRY}/x/{name}:1"),
            None,
            &|_| {},
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tag { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("tagging image `{missing}` as ")),
        "{error}"
    );

    let error = engine
        .push_image(&source, "Not A Reference", None, &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidReference { .. }), "{error:?}");
}
