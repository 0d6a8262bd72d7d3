//! Planning: from what changed in a commit range to an ordered list of
//! actions, each with its reasons in words.
//!
//! [`plan`] is pure: the caller reads the conf repo at the range's end, the
//! files that differ, the directives of the commit messages and the targets
//! it can reach, and gets a [`Plan`] back. The rules, from the conf repo
//! format:
//!
//! - an image is built (and pushed) when its Dockerfile, its JSON file or any
//!   file under its context changed, or a directive asks for it;
//! - a stack is deployed when its Compose file, its JSON file or a file its
//!   Compose file reads changed, when it uses an image rebuilt in the same
//!   plan, or when a directive asks for it; it is removed when its Compose
//!   file is deleted, renamed away, or its `enabled` turns false;
//! - builds come first, then removals, then deploys in `dependsOn` order;
//!   each deploy waits for the builds of the images it uses and for the
//!   deploys of the stacks it depends on;
//! - anything invalid is skipped with the reason, and so is everything that
//!   needs it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::directives::Directives;
use super::files::{FileRole, is_under, role_of};
use crate::conf::model::{ConfReport, StackEntry, Subject};

/// How a file differs between the range's two commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum FileStatus {
    /// New at the end of the range.
    Added,
    /// Changed.
    Modified,
    /// Gone at the end of the range.
    Deleted,
    /// Moved from `from` (and maybe changed).
    Renamed {
        /// The old path.
        from: String,
    },
}

/// A file that differs between the range's two commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    /// The path at the end of the range (for deletions, the old path).
    pub path: String,
    /// How it changed.
    #[serde(flatten)]
    pub status: FileStatus,
    /// The short id of the last commit of the range that touched it, if known.
    pub commit: Option<String>,
}

/// Which part of the repo the plan looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Scope {
    /// Only what changed since `from`.
    Changes {
        /// The range's first commit (excluded).
        from: String,
    },
    /// Everything: every enabled stack is deployed, every image built.
    Everything {
        /// Why, in words (`first run`, `history rewritten: ...`).
        why: String,
    },
}

/// What the planner is given.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// The conf repo at the end of the range, with its problems.
    pub conf: &'a ConfReport,
    /// The end of the range.
    pub to: String,
    /// What to look at.
    pub scope: Scope,
    /// The files that differ. For [`Scope::Everything`] only deleted or
    /// renamed Compose files count (stacks gone after a force-push).
    pub changes: &'a [ChangedFile],
    /// The directives of the range's commits, merged.
    pub directives: &'a Directives,
    /// The targets of stacks that were deleted or renamed away, read from
    /// their old `stack-<name>.json` (the default target when absent).
    pub removed_stack_targets: &'a BTreeMap<String, String>,
    /// The targets this run can reach; stacks on other targets are skipped.
    pub targets: &'a BTreeSet<String>,
}

/// An ordered list of actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The end of the range.
    pub to: String,
    /// What the plan looked at.
    pub scope: Scope,
    /// `[dry-run]` was in a commit message: report only.
    pub dry_run: bool,
    /// What to do, in order.
    pub actions: Vec<Action>,
    /// What was asked for or affected but will not be done, and why.
    pub skipped: Vec<Skipped>,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Its index in [`Plan::actions`].
    pub id: usize,
    /// What to do.
    #[serde(flatten)]
    pub kind: ActionKind,
    /// The Docker target it runs against.
    pub target: String,
    /// Why, in words; never empty.
    pub reasons: Vec<String>,
    /// Actions that must succeed first.
    pub needs: Vec<usize>,
}

/// What an action does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "action", content = "name", rename_all = "lowercase")]
pub enum ActionKind {
    /// Build an image and push it.
    Build(String),
    /// Remove a stack from the swarm.
    Remove(String),
    /// Deploy (create or update) a stack.
    Deploy(String),
}

/// Something the plan will not do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The stack or image.
    pub subject: Subject,
    /// Why.
    pub reason: String,
}

impl ActionKind {
    /// The stack or image the action is about.
    pub fn subject(&self) -> Subject {
        match self {
            ActionKind::Build(image) => Subject::Image(image.clone()),
            ActionKind::Remove(stack) | ActionKind::Deploy(stack) => Subject::Stack(stack.clone()),
        }
    }
}

impl fmt::Display for Action {
    /// `stack shop: deploy, docker-compose-shop.yml modified in 3f2a1c0`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (subject, verb) = match &self.kind {
            ActionKind::Build(image) => (format!("image {image}"), "build"),
            ActionKind::Remove(stack) => (format!("stack {stack}"), "remove"),
            ActionKind::Deploy(stack) => (format!("stack {stack}"), "deploy"),
        };
        write!(f, "{subject}: {verb}, {}", self.reasons.join("; "))
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: skipped, {}", self.subject, self.reason)
    }
}

impl Plan {
    /// True if there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

/// Reasons gathered per subject while reading the changes.
#[derive(Default)]
struct Wanted {
    builds: BTreeMap<String, Vec<String>>,
    deploys: BTreeMap<String, Vec<String>>,
    removes: BTreeMap<String, Vec<String>>,
}

impl Wanted {
    fn build(&mut self, image: &str, reason: String) {
        push_unique(self.builds.entry(image.to_owned()).or_default(), reason);
    }
    fn deploy(&mut self, stack: &str, reason: String) {
        push_unique(self.deploys.entry(stack.to_owned()).or_default(), reason);
    }
    fn remove(&mut self, stack: &str, reason: String) {
        push_unique(self.removes.entry(stack.to_owned()).or_default(), reason);
    }
}

fn push_unique(reasons: &mut Vec<String>, reason: String) {
    if !reasons.contains(&reason) {
        reasons.push(reason);
    }
}

/// `docker-compose-shop.yml modified in 3f2a1c0`
fn describe(change: &ChangedFile) -> String {
    let what = match &change.status {
        FileStatus::Added => format!("{} added", change.path),
        FileStatus::Modified => format!("{} modified", change.path),
        FileStatus::Deleted => format!("{} deleted", change.path),
        FileStatus::Renamed { from } => format!("{} renamed from {from}", change.path),
    };
    match &change.commit {
        Some(commit) => format!("{what} in {commit}"),
        None => what,
    }
}

/// Makes the plan. Pure: see the module documentation for the rules.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let conf = &input.conf.conf;
    let mut wanted = Wanted::default();
    let mut skipped: Vec<Skipped> = Vec::new();
    let skip = |skipped: &mut Vec<Skipped>, subject: Subject, reason: String| {
        if !skipped.iter().any(|s| s.subject == subject) {
            skipped.push(Skipped { subject, reason });
        }
    };

    match &input.scope {
        Scope::Everything { why } => {
            // Invalid images and stacks too, so that they are skipped with
            // their problem and the run fails instead of passing them over.
            for image in conf
                .images
                .keys()
                .cloned()
                .chain(conf.invalid_images.iter().cloned())
            {
                wanted.build(&image, why.clone());
            }
            for stack in conf.stacks.keys() {
                wanted.deploy(stack, why.clone());
            }
            for stack in &conf.invalid_stacks {
                wanted.deploy(stack, why.clone());
            }
            // After a force-push, the difference from the last applied
            // commit: stacks the new history no longer has are removed.
            for change in input.changes {
                read_removal(input, change, &mut wanted);
            }
        }
        Scope::Changes { .. } => {
            for change in input.changes {
                read_change(input, change, &mut wanted);
            }
        }
    }
    read_directives(input, &mut wanted, &mut skipped);

    // Builds: only valid images; a build asked for an unknown image is skipped.
    let mut builds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (image, reasons) in std::mem::take(&mut wanted.builds) {
        let subject = Subject::Image(image.clone());
        if input.conf.has_problem(&subject) {
            skip(
                &mut skipped,
                subject,
                first_problem(input.conf, &Subject::Image(image)),
            );
        } else if conf.images.contains_key(&image) {
            builds.insert(image, reasons);
        } else {
            skip(
                &mut skipped,
                subject,
                "there is no such image in the conf repo".to_owned(),
            );
        }
    }

    // Stacks that use a rebuilt image are deployed too, so they run it.
    for (name, stack) in &conf.stacks {
        for image in built_images_used_by(input, stack, &builds) {
            wanted.deploy(name, format!("uses image {image}, rebuilt in this plan"));
        }
    }

    // Disabled stacks are removed rather than deployed.
    for (name, reasons) in std::mem::take(&mut wanted.deploys) {
        match conf.stacks.get(&name) {
            Some(stack) if !stack.config.enabled => {
                let file = stack
                    .config_file
                    .clone()
                    .unwrap_or_else(|| format!("stack-{name}.json"));
                let mut removal = vec![format!("enabled is false in {file}")];
                removal.extend(reasons);
                for reason in removal {
                    wanted.remove(&name, reason);
                }
            }
            _ => {
                wanted.deploys.insert(name, reasons);
            }
        }
    }

    let target_of_removed = |stack: &str| -> String {
        conf.stacks
            .get(stack)
            .map(|s| s.config.target.clone())
            .or_else(|| input.removed_stack_targets.get(stack).cloned())
            .unwrap_or_else(|| crate::conf::model::DEFAULT_TARGET.to_owned())
    };

    // Deploys: the stack must be valid, on a reachable target, and so must
    // everything it depends on.
    let mut deploys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, reasons) in wanted.deploys {
        if wanted.removes.contains_key(&name) && !conf.stacks.contains_key(&name) {
            continue;
        }
        match deployable(input, &name, &mut BTreeSet::new()) {
            Ok(()) => {
                deploys.insert(name, reasons);
            }
            Err(reason) => skip(&mut skipped, Subject::Stack(name), reason),
        }
    }

    let mut actions: Vec<Action> = Vec::new();
    let mut build_ids: BTreeMap<String, usize> = BTreeMap::new();
    for (image, reasons) in builds {
        let id = actions.len();
        build_ids.insert(image.clone(), id);
        actions.push(Action {
            id,
            kind: ActionKind::Build(image),
            target: crate::conf::model::DEFAULT_TARGET.to_owned(),
            reasons,
            needs: Vec::new(),
        });
    }
    let mut remove_ids: BTreeMap<String, usize> = BTreeMap::new();
    for (stack, reasons) in wanted.removes {
        let target = target_of_removed(&stack);
        if !input.targets.contains(&target) {
            skip(
                &mut skipped,
                Subject::Stack(stack),
                format!("target {target} is not configured here"),
            );
            continue;
        }
        let id = actions.len();
        remove_ids.insert(stack.clone(), id);
        actions.push(Action {
            id,
            kind: ActionKind::Remove(stack),
            target,
            reasons,
            needs: Vec::new(),
        });
    }

    let mut deploy_ids: BTreeMap<String, usize> = BTreeMap::new();
    for stack in dependency_order(input, &deploys) {
        let Some(entry) = conf.stacks.get(&stack) else {
            continue;
        };
        let mut needs: Vec<usize> = built_images_used_by(input, entry, &build_ids)
            .iter()
            .filter_map(|image| build_ids.get(image).copied())
            .collect();
        needs.extend(
            entry
                .config
                .depends_on
                .iter()
                .filter_map(|dep| deploy_ids.get(dep).copied()),
        );
        // A renamed stack's old copy goes first: it may hold the same ports.
        needs.extend(
            renamed_from(input, &stack)
                .iter()
                .filter_map(|old| remove_ids.get(old).copied()),
        );
        needs.sort_unstable();
        needs.dedup();
        let id = actions.len();
        deploy_ids.insert(stack.clone(), id);
        let reasons = deploys.remove(&stack).unwrap_or_default();
        actions.push(Action {
            id,
            kind: ActionKind::Deploy(stack),
            target: entry.config.target.clone(),
            reasons,
            needs,
        });
    }

    skipped.sort_by(|a, b| a.subject.cmp(&b.subject));
    Plan {
        to: input.to.clone(),
        scope: input.scope.clone(),
        dry_run: input.directives.dry_run,
        actions,
        skipped,
    }
}

fn first_problem(report: &ConfReport, subject: &Subject) -> String {
    match report
        .problems
        .iter()
        .find(|p| p.subject.as_ref() == Some(subject))
    {
        Some(problem) => format!("invalid: {problem}"),
        None => "invalid".to_owned(),
    }
}

/// Records what one changed file affects.
fn read_change(input: &PlanInput<'_>, change: &ChangedFile, wanted: &mut Wanted) {
    let conf = &input.conf.conf;
    let reason = describe(change);

    let old_path = old_path(change);
    read_removal(input, change, wanted);
    if change.status == FileStatus::Deleted {
        // A deleted JSON file or read file changes its stack, which stays.
        if let FileRole::StackConfig { stack } = role_of(&change.path) {
            wanted.deploy(&stack, reason.clone());
        }
    } else {
        match role_of(&change.path) {
            FileRole::ComposeFile { stack } | FileRole::StackConfig { stack } => {
                wanted.deploy(&stack, reason.clone())
            }
            FileRole::Dockerfile { image } | FileRole::ImageConfig { image } => {
                wanted.build(&image, reason.clone())
            }
            _ => {}
        }
    }

    for (name, stack) in &conf.stacks {
        if stack.reads.contains(&change.path)
            || old_path.is_some_and(|old| stack.reads.contains(old))
        {
            wanted.deploy(name, reason.clone());
        }
    }
    for (name, image) in &conf.images {
        let touches = |path: &str| {
            path == image.dockerfile || path == image.config_file || is_under(path, &image.context)
        };
        if touches(&change.path) || old_path.is_some_and(touches) {
            wanted.build(name, reason.clone());
        }
    }
}

/// The old side of a rename or a deletion.
fn old_path(change: &ChangedFile) -> Option<&str> {
    match &change.status {
        FileStatus::Renamed { from } => Some(from.as_str()),
        FileStatus::Deleted => Some(change.path.as_str()),
        _ => None,
    }
}

/// Records the removal of a stack whose Compose file is gone at the end of
/// the range (deleted, or renamed to another stack's name).
fn read_removal(input: &PlanInput<'_>, change: &ChangedFile, wanted: &mut Wanted) {
    if let Some(old) = old_path(change)
        && let FileRole::ComposeFile { stack } = role_of(old)
        && !input.conf.conf.stacks.contains_key(&stack)
        && !input.conf.conf.invalid_stacks.contains(&stack)
    {
        wanted.remove(&stack, describe(change));
    }
}

/// Adds what the directives ask for.
fn read_directives(input: &PlanInput<'_>, wanted: &mut Wanted, skipped: &mut Vec<Skipped>) {
    let conf = &input.conf.conf;
    let directives = input.directives;
    if directives.build_all {
        for image in conf.images.keys() {
            wanted.build(image, "[build-all] in a commit message".to_owned());
        }
    }
    if directives.deploy_all {
        for stack in conf.stacks.keys() {
            wanted.deploy(stack, "[deploy-all] in a commit message".to_owned());
        }
    }
    for image in &directives.build {
        wanted.build(image, format!("[build-{image}] in a commit message"));
    }
    for stack in &directives.deploy {
        if conf.stacks.contains_key(stack) || input.conf.has_problem(&Subject::Stack(stack.clone()))
        {
            wanted.deploy(stack, format!("[deploy-{stack}] in a commit message"));
        } else {
            skipped.push(Skipped {
                subject: Subject::Stack(stack.clone()),
                reason: format!("[deploy-{stack}] names no stack of the conf repo"),
            });
        }
    }
    for stack in &directives.remove {
        wanted.remove(stack, format!("[remove-{stack}] in a commit message"));
        wanted.deploys.remove(stack);
    }
}

/// The images of the repo (by name) that `stack` runs, among `built`.
fn built_images_used_by<T>(
    input: &PlanInput<'_>,
    stack: &StackEntry,
    built: &BTreeMap<String, T>,
) -> Vec<String> {
    let conf = &input.conf.conf;
    built
        .keys()
        .filter(|name| {
            conf.images.get(*name).is_some_and(|image| {
                let produced: Vec<String> = std::iter::once(&image.config.tag)
                    .chain(&image.config.push)
                    .map(|r| normalized_reference(r))
                    .collect();
                stack
                    .images
                    .iter()
                    .any(|used| produced.contains(&normalized_reference(used)))
            })
        })
        .cloned()
        .collect()
}

/// `nginx` and `docker.io/library/nginx:latest` are the same image; a
/// digest pins nothing a rebuild could change, so it is dropped for matching.
fn normalized_reference(reference: &str) -> String {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let name_part = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let tagged = if name_part.contains(':') {
        without_digest.to_owned()
    } else {
        format!("{without_digest}:latest")
    };
    let trimmed = tagged.strip_prefix("docker.io/").unwrap_or(&tagged);
    trimmed
        .strip_prefix("library/")
        .unwrap_or(trimmed)
        .to_owned()
}

/// Ok if `stack` can be deployed: valid, on a reachable target, its images'
/// builds not failed already, and the same for everything it depends on.
fn deployable(
    input: &PlanInput<'_>,
    stack: &str,
    visiting: &mut BTreeSet<String>,
) -> Result<(), String> {
    let conf = &input.conf.conf;
    let subject = Subject::Stack(stack.to_owned());
    let Some(entry) = conf.stacks.get(stack) else {
        return Err(if input.conf.has_problem(&subject) {
            first_problem(input.conf, &subject)
        } else {
            "there is no such stack in the conf repo".to_owned()
        });
    };
    if input.conf.has_problem(&subject) {
        return Err(first_problem(input.conf, &subject));
    }
    if !input.targets.contains(&entry.config.target) {
        return Err(format!(
            "target {} is not configured here",
            entry.config.target
        ));
    }
    if !visiting.insert(stack.to_owned()) {
        return Err(format!("dependsOn forms a cycle through stack {stack}"));
    }
    for dependency in &entry.config.depends_on {
        match conf.stacks.get(dependency) {
            Some(dep) if !dep.config.enabled => {
                return Err(format!(
                    "it depends on stack {dependency}, which is disabled"
                ));
            }
            _ => {}
        }
        if let Err(reason) = deployable(input, dependency, visiting) {
            return Err(format!(
                "it depends on stack {dependency}, which cannot be deployed: {reason}"
            ));
        }
    }
    visiting.remove(stack);
    Ok(())
}

/// The stacks to deploy, dependencies first, ties broken by name.
fn dependency_order(input: &PlanInput<'_>, deploys: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let conf = &input.conf.conf;
    let mut ordered: Vec<String> = Vec::new();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut pending: BTreeSet<String> = deploys.keys().cloned().collect();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|stack| {
                conf.stacks.get(*stack).is_none_or(|entry| {
                    entry
                        .config
                        .depends_on
                        .iter()
                        .all(|dep| !pending.contains(dep) || placed.contains(dep))
                })
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            // Cycles were refused by `deployable`; keep going by name anyway.
            ordered.extend(pending.iter().cloned());
            break;
        }
        for stack in ready {
            pending.remove(&stack);
            placed.insert(stack.clone());
            ordered.push(stack);
        }
    }
    ordered
}

/// Stacks whose Compose file was renamed into `stack`'s.
fn renamed_from(input: &PlanInput<'_>, stack: &str) -> Vec<String> {
    let Scope::Changes { .. } = input.scope else {
        return Vec::new();
    };
    input
        .changes
        .iter()
        .filter_map(|change| match (&change.status, role_of(&change.path)) {
            (FileStatus::Renamed { from }, FileRole::ComposeFile { stack: new })
                if new == stack =>
            {
                match role_of(from) {
                    FileRole::ComposeFile { stack: old } if old != stack => Some(old),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::ImageConfig;
    use crate::conf::model::{Conf, ConfProblem, ImageEntry, StackConfig};

    /// A conf repo built in code: stacks at the root, images in their own folder.
    #[derive(Default)]
    struct Repo {
        report: ConfReport,
    }

    impl Repo {
        fn stack(mut self, name: &str, configure: impl FnOnce(&mut StackEntry)) -> Self {
            let mut entry = StackEntry {
                name: name.to_owned(),
                compose_file: format!("docker-compose-{name}.yml"),
                config_file: None,
                config: StackConfig::default(),
                reads: BTreeSet::new(),
                images: BTreeSet::from(["busybox:latest".to_owned()]),
            };
            configure(&mut entry);
            self.report.conf.stacks.insert(name.to_owned(), entry);
            self
        }

        fn image(mut self, name: &str, tag: &str) -> Self {
            let config_file = format!("{name}/image-{name}.json");
            let text = format!(r#"{{"tag": "{tag}", "push": ["127.0.0.1:5000/{tag}"]}}"#);
            let config = ImageConfig::parse(&text, &config_file).unwrap();
            self.report.conf.images.insert(
                name.to_owned(),
                ImageEntry {
                    name: name.to_owned(),
                    dockerfile: format!("{name}/Dockerfile-{name}"),
                    config_file,
                    config,
                    context: name.to_owned(),
                },
            );
            self
        }

        fn problem(mut self, file: &str, subject: Subject) -> Self {
            // As the walker does: a subject with a problem is left out of
            // the valid maps and listed as invalid.
            match &subject {
                Subject::Stack(name) => {
                    self.report.conf.stacks.remove(name);
                    self.report.conf.invalid_stacks.insert(name.clone());
                }
                Subject::Image(name) => {
                    self.report.conf.images.remove(name);
                    self.report.conf.invalid_images.insert(name.clone());
                }
                Subject::Definition(name) => {
                    self.report.conf.invalid_definitions.insert(name.clone());
                }
            }
            self.report.problems.push(ConfProblem {
                file: file.to_owned(),
                line: Some(3),
                message: "services.web.deploy.replicas must be an integer".to_owned(),
                hint: None,
                subject: Some(subject),
            });
            self
        }
    }

    fn changed(path: &str, status: FileStatus) -> ChangedFile {
        ChangedFile {
            path: path.to_owned(),
            status,
            commit: Some("3f2a1c0".to_owned()),
        }
    }

    fn plan_changes(repo: &Repo, changes: &[ChangedFile], directives: &Directives) -> Plan {
        let targets = BTreeSet::from(["default".to_owned()]);
        plan(&PlanInput {
            conf: &repo.report,
            to: "b".repeat(40),
            scope: Scope::Changes {
                from: "a".repeat(40),
            },
            changes,
            directives,
            removed_stack_targets: &BTreeMap::new(),
            targets: &targets,
        })
    }

    fn lines(plan: &Plan) -> Vec<String> {
        plan.actions
            .iter()
            .map(ToString::to_string)
            .chain(plan.skipped.iter().map(ToString::to_string))
            .collect()
    }

    #[test]
    fn a_modified_compose_file_deploys_only_its_stack_with_the_reason() {
        let repo = Repo::default().stack("shop", |_| {}).stack("blog", |_| {});
        let plan = plan_changes(
            &repo,
            &[changed("docker-compose-shop.yml", FileStatus::Modified)],
            &Directives::default(),
        );
        assert_eq!(
            lines(&plan),
            ["stack shop: deploy, docker-compose-shop.yml modified in 3f2a1c0"]
        );
    }

    #[test]
    fn files_a_stack_reads_redeploy_it() {
        let repo = Repo::default().stack("shop", |s| {
            s.reads.insert("shop/site.conf".to_owned());
        });
        let plan = plan_changes(
            &repo,
            &[changed("shop/site.conf", FileStatus::Modified)],
            &Directives::default(),
        );
        assert_eq!(
            lines(&plan),
            ["stack shop: deploy, shop/site.conf modified in 3f2a1c0"]
        );
        let plan = plan_changes(
            &repo,
            &[changed("shop/other.conf", FileStatus::Modified)],
            &Directives::default(),
        );
        assert!(plan.is_empty());
    }

    #[test]
    fn a_deleted_compose_file_removes_the_stack_on_its_old_target() {
        let repo = Repo::default();
        let targets = BTreeSet::from(["default".to_owned(), "edge".to_owned()]);
        let removed = BTreeMap::from([("shop".to_owned(), "edge".to_owned())]);
        let changes = [changed("docker-compose-shop.yml", FileStatus::Deleted)];
        let plan = plan(&PlanInput {
            conf: &repo.report,
            to: "b".repeat(40),
            scope: Scope::Changes {
                from: "a".repeat(40),
            },
            changes: &changes,
            directives: &Directives::default(),
            removed_stack_targets: &removed,
            targets: &targets,
        });
        assert_eq!(
            lines(&plan),
            ["stack shop: remove, docker-compose-shop.yml deleted in 3f2a1c0"]
        );
        assert_eq!(plan.actions[0].target, "edge");
    }

    #[test]
    fn a_renamed_stack_removes_the_old_one_before_deploying_the_new_one() {
        let repo = Repo::default().stack("store", |_| {});
        let changes = [changed(
            "docker-compose-store.yml",
            FileStatus::Renamed {
                from: "docker-compose-shop.yml".to_owned(),
            },
        )];
        let plan = plan_changes(&repo, &changes, &Directives::default());
        assert_eq!(
            lines(&plan),
            [
                "stack shop: remove, docker-compose-store.yml renamed from docker-compose-shop.yml in 3f2a1c0",
                "stack store: deploy, docker-compose-store.yml renamed from docker-compose-shop.yml in 3f2a1c0",
            ]
        );
        assert_eq!(plan.actions[1].needs, [0]);
    }

    #[test]
    fn a_stack_moved_to_another_folder_is_redeployed_not_removed() {
        let repo = Repo::default().stack("shop", |s| {
            s.compose_file = "web/docker-compose-shop.yml".to_owned()
        });
        let changes = [changed(
            "web/docker-compose-shop.yml",
            FileStatus::Renamed {
                from: "docker-compose-shop.yml".to_owned(),
            },
        )];
        let plan = plan_changes(&repo, &changes, &Directives::default());
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(plan.actions[0].kind, ActionKind::Deploy("shop".to_owned()));
    }

    #[test]
    fn a_disabled_stack_is_removed() {
        let repo = Repo::default().stack("shop", |s| {
            s.config.enabled = false;
            s.config_file = Some("stack-shop.json".to_owned());
        });
        let plan = plan_changes(
            &repo,
            &[changed("stack-shop.json", FileStatus::Modified)],
            &Directives::default(),
        );
        assert_eq!(
            lines(&plan),
            [
                "stack shop: remove, enabled is false in stack-shop.json; stack-shop.json modified in 3f2a1c0"
            ]
        );
    }

    #[test]
    fn images_build_first_and_stacks_using_them_wait_and_redeploy() {
        let repo = Repo::default()
            .image("api", "shop/api:1.0")
            .stack("shop", |s| {
                s.images = BTreeSet::from(["127.0.0.1:5000/shop/api:1.0".to_owned()]);
            });
        let plan = plan_changes(
            &repo,
            &[changed("api/src/main.rs", FileStatus::Modified)],
            &Directives::default(),
        );
        assert_eq!(
            lines(&plan),
            [
                "image api: build, api/src/main.rs modified in 3f2a1c0",
                "stack shop: deploy, uses image api, rebuilt in this plan",
            ]
        );
        assert_eq!(plan.actions[1].needs, [0]);
    }

    #[test]
    fn depends_on_orders_deploys_and_an_invalid_dependency_skips_its_dependents() {
        let repo = Repo::default()
            .stack("app", |s| s.config.depends_on = vec!["db".to_owned()])
            .stack("db", |_| {})
            .stack("zeta", |_| {});
        let plan = plan_changes(&repo, &[], &Directives::parse("[deploy-all]"));
        let order: Vec<_> = plan.actions.iter().map(|a| a.kind.clone()).collect();
        assert_eq!(
            order,
            [
                ActionKind::Deploy("db".into()),
                ActionKind::Deploy("zeta".into()),
                ActionKind::Deploy("app".into())
            ]
        );
        assert_eq!(plan.actions[2].needs, [0]);

        let broken = Repo::default()
            .stack("app", |s| s.config.depends_on = vec!["db".to_owned()])
            .problem("docker-compose-db.yml", Subject::Stack("db".into()));
        let plan = plan_changes(
            &broken,
            &[
                changed("docker-compose-db.yml", FileStatus::Modified),
                changed("docker-compose-app.yml", FileStatus::Modified),
            ],
            &Directives::default(),
        );
        assert!(plan.actions.is_empty(), "{:?}", lines(&plan));
        assert_eq!(
            lines(&plan),
            [
                "stack app: skipped, it depends on stack db, which cannot be deployed: invalid: docker-compose-db.yml:3: services.web.deploy.replicas must be an integer",
                "stack db: skipped, invalid: docker-compose-db.yml:3: services.web.deploy.replicas must be an integer",
            ]
        );
    }

    #[test]
    fn directives_force_builds_deploys_and_removals() {
        let repo = Repo::default()
            .image("api", "api:1")
            .stack("shop", |_| {})
            .stack("blog", |_| {});
        let plan = plan_changes(
            &repo,
            &[],
            &Directives::parse("[build-api] [deploy-blog] [remove-shop] [deploy-nope]"),
        );
        assert_eq!(
            lines(&plan),
            [
                "image api: build, [build-api] in a commit message",
                "stack shop: remove, [remove-shop] in a commit message",
                "stack blog: deploy, [deploy-blog] in a commit message",
                "stack nope: skipped, [deploy-nope] names no stack of the conf repo",
            ]
        );
        let plan = plan_changes(&repo, &[], &Directives::parse("[do-all] [dry-run]"));
        assert!(plan.dry_run);
        assert_eq!(plan.actions.len(), 3);
    }

    #[test]
    fn everything_scope_deploys_all_and_skips_invalid_and_unreachable() {
        let repo = Repo::default()
            .stack("shop", |_| {})
            .stack("edge", |s| s.config.target = "edge".to_owned())
            .problem("docker-compose-bad.yml", Subject::Stack("bad".into()))
            .problem("x/Dockerfile-x", Subject::Image("x".into()));
        let targets = BTreeSet::from(["default".to_owned()]);
        let plan = plan(&PlanInput {
            conf: &repo.report,
            to: "b".repeat(40),
            scope: Scope::Everything {
                why: "first run".to_owned(),
            },
            changes: &[],
            directives: &Directives::default(),
            removed_stack_targets: &BTreeMap::new(),
            targets: &targets,
        });
        assert_eq!(
            lines(&plan),
            [
                "stack shop: deploy, first run",
                "stack bad: skipped, invalid: docker-compose-bad.yml:3: services.web.deploy.replicas must be an integer",
                "stack edge: skipped, target edge is not configured here",
                "image x: skipped, invalid: x/Dockerfile-x:3: services.web.deploy.replicas must be an integer",
            ]
        );
    }

    #[test]
    fn everything_scope_after_a_force_push_removes_the_stacks_the_new_history_lacks() {
        let repo = Repo::default().stack("shop", |_| {}).stack("blog", |_| {});
        let targets = BTreeSet::from(["default".to_owned()]);
        let gone = |path: &str, status| ChangedFile {
            path: path.to_owned(),
            status,
            commit: Some("the new history (compared with 3f2a1c0)".to_owned()),
        };
        let changes = [
            gone("docker-compose-old.yml", FileStatus::Deleted),
            gone(
                "docker-compose-blog.yml",
                FileStatus::Renamed {
                    from: "docker-compose-moved.yml".to_owned(),
                },
            ),
            // Stacks the new history still has are deployed, not removed.
            gone("docker-compose-shop.yml", FileStatus::Modified),
        ];
        let plan = plan(&PlanInput {
            conf: &repo.report,
            to: "b".repeat(40),
            scope: Scope::Everything {
                why: "history rewritten".to_owned(),
            },
            changes: &changes,
            directives: &Directives::default(),
            removed_stack_targets: &BTreeMap::new(),
            targets: &targets,
        });
        assert_eq!(
            lines(&plan),
            [
                "stack moved: remove, docker-compose-blog.yml renamed from docker-compose-moved.yml in the new history (compared with 3f2a1c0)",
                "stack old: remove, docker-compose-old.yml deleted in the new history (compared with 3f2a1c0)",
                "stack blog: deploy, history rewritten",
                "stack shop: deploy, history rewritten",
            ]
        );
    }

    #[test]
    fn image_references_match_across_spellings() {
        for (a, b) in [
            ("nginx", "docker.io/library/nginx:latest"),
            ("shop/api:1", "docker.io/shop/api:1"),
            ("127.0.0.1:5000/api", "127.0.0.1:5000/api:latest"),
            ("api:1@sha256:00", "api:1"),
        ] {
            assert_eq!(
                normalized_reference(a),
                normalized_reference(b),
                "{a} vs {b}"
            );
        }
        assert_ne!(
            normalized_reference("127.0.0.1:5000/api"),
            normalized_reference("api")
        );
        let _ = Conf::default();
    }
}
