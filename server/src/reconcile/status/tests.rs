use super::*;
use crate::engine::ServiceMode;

const COMMIT: &str = "abc1234def5678abc1234def5678abc1234def56";
const OLDER: &str = "0000000fffffff0000000fffffff0000000fffff";
/// 2026-11-26T03:00:00Z.
const NOW: i64 = 1_795_662_000;

fn want(name: &str) -> DesiredService {
    DesiredService {
        name: name.to_owned(),
        spec_hash: format!("hash-{name}"),
        comparable_hash: format!("cmp-{name}"),
    }
}

/// A live service as voc deployed it from `want(name)`.
fn deployed(name: &str) -> LiveService {
    LiveService {
        id: format!("id-{name}"),
        name: name.to_owned(),
        stack: "shop".to_owned(),
        image: "web:1".to_owned(),
        compose_image: Some("web:1".to_owned()),
        mode: ServiceMode::Replicated,
        replicas: Some(1),
        labels: BTreeMap::new(),
        spec_hash_label: Some(format!("hash-{name}")),
        commit_label: Some(COMMIT.to_owned()),
        comparable_hash: format!("cmp-{name}"),
        update_state: None,
        update_message: None,
    }
}

fn task(service: &str, id: &str, state: &str, desired: &str, updated_at: &str) -> LiveTask {
    LiveTask {
        id: id.to_owned(),
        service_id: format!("id-{service}"),
        slot: Some(1),
        node_id: "n1".to_owned(),
        state: state.to_owned(),
        desired_state: desired.to_owned(),
        message: None,
        error: None,
        created_at: Some(updated_at.to_owned()),
        updated_at: Some(updated_at.to_owned()),
        image: "web:1".to_owned(),
    }
}

fn services(names: &[&str]) -> Desired {
    Desired::Services {
        commit: COMMIT.to_owned(),
        services: names.iter().map(|n| want(n)).collect(),
    }
}

fn sync_of(desired: &Desired, live: &[LiveService]) -> Sync {
    sync_with(desired, live, Reachability::Read, None, Some(COMMIT))
}

fn sync_with(
    desired: &Desired,
    live: &[LiveService],
    reachability: Reachability<'_>,
    last_deploy: Option<&LastDeploy>,
    applied: Option<&str>,
) -> Sync {
    let live: Vec<&LiveService> = live.iter().collect();
    sync_status(&StatusInput {
        target: "edge",
        reachability,
        desired,
        live: &live,
        last_deploy,
        applied_commit: applied,
    })
}

#[test]
fn a_stack_as_voc_deployed_it_is_synced() {
    let sync = sync_of(
        &services(&["shop_web", "shop_db"]),
        &[deployed("shop_db"), deployed("shop_web")],
    );
    assert_eq!(sync.status, SyncStatus::Synced);
    assert_eq!(sync.reason, "every service runs what git has at abc1234");
    assert!(sync.drift.is_empty());
}

#[test]
fn a_service_changed_by_hand_is_out_of_sync_with_that_reason() {
    let mut web = deployed("shop_web");
    web.comparable_hash = "cmp-after-env-add".to_owned();
    let sync = sync_of(&services(&["shop_web"]), &[web]);
    assert_eq!(sync.status, SyncStatus::OutOfSync);
    assert_eq!(
        sync.reason,
        "service shop_web was changed by hand: its spec differs from what voc deployed"
    );
    assert_eq!(sync.drift, vec![Drift::ChangedByHand("shop_web".into())]);
}

#[test]
fn a_hand_change_is_named_even_when_a_commit_waits() {
    let mut web = deployed("shop_web");
    web.comparable_hash = "other".to_owned();
    let mut db = deployed("shop_db");
    db.spec_hash_label = Some("old".to_owned());
    let sync = sync_with(
        &services(&["shop_web", "shop_db"]),
        &[web, db],
        Reachability::Read,
        None,
        Some(OLDER),
    );
    assert_eq!(sync.status, SyncStatus::OutOfSync);
    assert!(
        sync.reason
            .starts_with("service shop_web was changed by hand")
    );
    assert_eq!(sync.drift.len(), 2);
}

#[test]
fn a_commit_not_applied_yet_is_the_reason_when_git_moved() {
    let mut web = deployed("shop_web");
    web.spec_hash_label = Some("hash-of-the-previous-commit".to_owned());
    web.comparable_hash = "cmp-of-the-previous-commit".to_owned();
    let sync = sync_with(
        &services(&["shop_web", "shop_new"]),
        &[web],
        Reachability::Read,
        None,
        Some(OLDER),
    );
    assert_eq!(sync.status, SyncStatus::OutOfSync);
    assert_eq!(sync.reason, "commit abc1234 is not applied yet");
    assert_eq!(
        sync.drift,
        vec![
            Drift::Missing("shop_new".into()),
            Drift::GitMoved("shop_web".into())
        ]
    );
    // Nothing applied at all yet reads the same.
    let sync = sync_with(
        &services(&["shop_web"]),
        &[],
        Reachability::Read,
        None,
        None,
    );
    assert_eq!(sync.reason, "commit abc1234 is not applied yet");
}

#[test]
fn once_the_commit_is_applied_each_drift_is_named() {
    let mut web = deployed("shop_web");
    web.spec_hash_label = Some("older".to_owned());
    let mut cli = deployed("shop_cli");
    cli.spec_hash_label = None;
    cli.comparable_hash = "differs".to_owned();
    let sync = sync_of(
        &services(&["shop_web", "shop_worker", "shop_cli"]),
        &[web, deployed("shop_extra"), cli],
    );
    assert_eq!(sync.status, SyncStatus::OutOfSync);
    assert_eq!(
        sync.reason,
        "service shop_cli was not deployed by voc; service shop_extra is not in git; \
         service shop_web runs another spec than git has; service shop_worker is missing"
    );
}

#[test]
fn a_service_the_cli_deployed_as_git_has_it_is_synced() {
    let mut cli = deployed("shop_web");
    cli.spec_hash_label = None;
    let sync = sync_of(&services(&["shop_web"]), &[cli]);
    assert_eq!(sync.status, SyncStatus::Synced);
}

#[test]
fn a_stack_git_does_not_have_is_out_of_sync_not_in_git() {
    let sync = sync_of(&Desired::Absent, &[deployed("x_a")]);
    assert_eq!(sync.status, SyncStatus::OutOfSync);
    assert_eq!(sync.reason, "the stack is not in git");
    assert_eq!(sync.drift, vec![Drift::NotInGit("x_a".into())]);
}

#[test]
fn a_failed_last_deploy_is_failed_with_its_error() {
    let job = LastDeploy {
        id: JobId(42),
        status: JobStatus::Failed,
        error: Some("pulling image web:2: not found".to_owned()),
        finished_at: Some(NOW),
    };
    let sync = sync_with(
        &services(&["shop_web"]),
        &[deployed("shop_web")],
        Reachability::Read,
        Some(&job),
        Some(COMMIT),
    );
    assert_eq!(sync.status, SyncStatus::Failed);
    assert_eq!(
        sync.reason,
        "the last deploy (job 42) failed: pulling image web:2: not found"
    );
    let silent = LastDeploy { error: None, ..job };
    let sync = sync_with(
        &services(&["shop_web"]),
        &[],
        Reachability::Read,
        Some(&silent),
        None,
    );
    assert_eq!(
        sync.reason,
        "the last deploy (job 42) failed: no error was recorded"
    );
}

#[test]
fn a_deploy_that_did_not_fail_does_not_decide_the_status() {
    for status in [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Skipped,
    ] {
        let job = LastDeploy {
            id: JobId(7),
            status,
            error: None,
            finished_at: None,
        };
        let sync = sync_with(
            &services(&["shop_web"]),
            &[deployed("shop_web")],
            Reachability::Read,
            Some(&job),
            Some(COMMIT),
        );
        assert_eq!(sync.status, SyncStatus::Synced, "{status:?}");
    }
}

#[test]
fn an_unreachable_or_unread_target_is_unknown() {
    let sync = sync_with(
        &services(&["shop_web"]),
        &[deployed("shop_web")],
        Reachability::Unreachable("connection refused"),
        None,
        Some(COMMIT),
    );
    assert_eq!(sync.status, SyncStatus::Unknown);
    assert_eq!(
        sync.reason,
        "target edge cannot be reached: connection refused"
    );
    let sync = sync_with(
        &services(&["shop_web"]),
        &[],
        Reachability::NotYetRead,
        None,
        None,
    );
    assert_eq!(sync.status, SyncStatus::Unknown);
    assert_eq!(sync.reason, "target edge has not been read yet");
}

#[test]
fn before_the_conf_repo_is_read_every_stack_is_unknown() {
    let sync = sync_of(&Desired::NotYetRead, &[deployed("shop_web")]);
    assert_eq!(sync.status, SyncStatus::Unknown);
    assert_eq!(sync.reason, "the conf repo has not been read yet");
}

#[test]
fn unloadable_files_are_unknown() {
    let desired = Desired::Unloadable("docker-compose-shop.yml:3: bad".to_owned());
    let sync = sync_of(&desired, &[deployed("shop_web")]);
    assert_eq!(sync.status, SyncStatus::Unknown);
    assert_eq!(
        sync.reason,
        "git's files for the stack cannot be loaded: docker-compose-shop.yml:3: bad"
    );
}

#[test]
fn a_disabled_stack_is_synced_only_when_it_does_not_run() {
    let sync = sync_of(&Desired::Disabled, &[]);
    assert_eq!(sync.status, SyncStatus::Synced);
    assert_eq!(sync.reason, "the stack is disabled in git and does not run");
    let sync = sync_of(&Desired::Disabled, &[deployed("shop_web")]);
    assert_eq!(sync.status, SyncStatus::OutOfSync);
    assert_eq!(sync.reason, "the stack is disabled in git but still runs");
}

#[test]
fn every_drift_has_its_sentence() {
    let cases = [
        (Drift::Missing("s_w".into()), "service s_w is missing"),
        (Drift::NotInGit("s_w".into()), "service s_w is not in git"),
        (
            Drift::NotDeployedByVoc("s_w".into()),
            "service s_w was not deployed by voc",
        ),
        (
            Drift::GitMoved("s_w".into()),
            "service s_w runs another spec than git has",
        ),
        (
            Drift::ChangedByHand("s_w".into()),
            "service s_w was changed by hand: its spec differs from what voc deployed",
        ),
    ];
    for (drift, sentence) in cases {
        assert_eq!(drift.sentence(), sentence);
    }
}

fn health_of(service: &LiveService, tasks: &[LiveTask]) -> ServiceHealth {
    let tasks: Vec<&LiveTask> = tasks.iter().collect();
    service_health(service, &tasks, NOW)
}

#[test]
fn running_replicas_are_healthy() {
    let mut web = deployed("shop_web");
    web.replicas = Some(2);
    let tasks = [
        task(
            "shop_web",
            "t1",
            "running",
            "running",
            "2026-11-26T02:00:00Z",
        ),
        task(
            "shop_web",
            "t2",
            "running",
            "running",
            "2026-11-26T02:00:00Z",
        ),
        // An old failure and another service's task change nothing.
        task(
            "shop_web",
            "t0",
            "failed",
            "shutdown",
            "2026-11-26T02:50:00Z",
        ),
        task(
            "shop_db",
            "t9",
            "failed",
            "shutdown",
            "2026-11-26T02:59:59Z",
        ),
    ];
    assert_eq!(
        health_of(&web, &tasks),
        ServiceHealth {
            running: 2,
            desired: 2,
            health: Health::Healthy
        }
    );
}

#[test]
fn starting_tasks_are_progressing() {
    let mut web = deployed("shop_web");
    web.replicas = Some(2);
    let tasks = [
        task(
            "shop_web",
            "t1",
            "running",
            "running",
            "2026-11-26T02:59:00Z",
        ),
        task(
            "shop_web",
            "t2",
            "starting",
            "running",
            "2026-11-26T02:59:00Z",
        ),
        // A task swarm is stopping does not count as running.
        task(
            "shop_web",
            "t3",
            "running",
            "shutdown",
            "2026-11-26T02:59:00Z",
        ),
    ];
    let health = health_of(&web, &tasks);
    assert_eq!((health.running, health.desired), (1, 2));
    assert_eq!(health.health, Health::Progressing);
}

#[test]
fn a_rolling_update_is_progressing_even_with_every_task_up() {
    for state in ["updating", "rollback_started"] {
        let mut web = deployed("shop_web");
        web.update_state = Some(state.to_owned());
        let tasks = [task(
            "shop_web",
            "t1",
            "running",
            "running",
            "2026-11-26T02:00:00Z",
        )];
        assert_eq!(
            health_of(&web, &tasks).health,
            Health::Progressing,
            "{state}"
        );
    }
}

#[test]
fn recent_failures_below_the_desired_count_are_degraded() {
    let web = deployed("shop_web");
    for state in ["failed", "rejected"] {
        let tasks = [
            task("shop_web", "t1", state, "shutdown", "2026-11-26T02:59:30Z"),
            task(
                "shop_web",
                "t2",
                "starting",
                "running",
                "2026-11-26T02:59:50Z",
            ),
        ];
        assert_eq!(health_of(&web, &tasks).health, Health::Degraded, "{state}");
    }
    // A failure followed by a running replacement is healthy again.
    let tasks = [
        task(
            "shop_web",
            "t1",
            "failed",
            "shutdown",
            "2026-11-26T02:59:30Z",
        ),
        task(
            "shop_web",
            "t2",
            "running",
            "running",
            "2026-11-26T02:59:50Z",
        ),
    ];
    assert_eq!(health_of(&web, &tasks).health, Health::Healthy);
}

#[test]
fn a_paused_or_rolled_back_update_is_degraded() {
    for state in ["paused", "rollback_paused", "rollback_completed"] {
        let mut web = deployed("shop_web");
        web.update_state = Some(state.to_owned());
        let tasks = [task(
            "shop_web",
            "t1",
            "running",
            "running",
            "2026-11-26T02:00:00Z",
        )];
        assert_eq!(health_of(&web, &tasks).health, Health::Degraded, "{state}");
    }
}

#[test]
fn global_services_want_the_tasks_swarm_wants_running() {
    let mut agent = deployed("shop_agent");
    agent.mode = ServiceMode::Global;
    agent.replicas = None;
    let tasks = [
        task(
            "shop_agent",
            "t1",
            "running",
            "running",
            "2026-11-26T02:00:00Z",
        ),
        task(
            "shop_agent",
            "t2",
            "preparing",
            "running",
            "2026-11-26T02:00:00Z",
        ),
    ];
    let health = health_of(&agent, &tasks);
    assert_eq!((health.running, health.desired), (1, 2));
    assert_eq!(health.health, Health::Progressing);
}

#[test]
fn jobs_count_completed_tasks() {
    let mut job = deployed("shop_migrate");
    job.mode = ServiceMode::ReplicatedJob;
    job.replicas = Some(1);
    let tasks = [task(
        "shop_migrate",
        "t1",
        "complete",
        "complete",
        "2026-11-26T02:00:00Z",
    )];
    let health = health_of(&job, &tasks);
    assert_eq!((health.running, health.desired), (1, 1));
    assert_eq!(health.health, Health::Healthy);
}

#[test]
fn zero_replicas_are_healthy() {
    let mut web = deployed("shop_web");
    web.replicas = Some(0);
    assert_eq!(health_of(&web, &[]).health, Health::Healthy);
}

#[test]
fn a_stack_is_as_healthy_as_its_worst_service_and_missing_without_any() {
    let of = |health| ServiceHealth {
        running: 0,
        desired: 0,
        health,
    };
    assert_eq!(stack_health(&[]), Health::Missing);
    assert_eq!(
        stack_health(&[of(Health::Healthy), of(Health::Healthy)]),
        Health::Healthy
    );
    assert_eq!(
        stack_health(&[of(Health::Healthy), of(Health::Progressing)]),
        Health::Progressing
    );
    assert_eq!(
        stack_health(&[of(Health::Degraded), of(Health::Progressing)]),
        Health::Degraded
    );
}

#[test]
fn the_task_diff_finds_new_changed_and_gone_tasks() {
    let t = |id: &str, state: &str| task("shop_web", id, state, "running", "2026-11-26T02:00:00Z");
    let before = vec![
        t("same", "running"),
        t("moved", "starting"),
        t("gone", "running"),
    ];
    let mut erred = t("erred", "running");
    let mut after = vec![
        t("same", "running"),
        t("moved", "running"),
        t("new", "pending"),
    ];
    let changes = diff_tasks(&before, &after);
    let summary: Vec<(Option<&str>, Option<&str>)> = changes
        .iter()
        .map(|c| {
            (
                c.before.map(|t| t.state.as_str()),
                c.after.map(|t| t.state.as_str()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("starting"), Some("running")),
            (None, Some("pending")),
            (Some("running"), None),
        ]
    );
    assert_eq!(changes[2].before.unwrap().id, "gone");

    // A new error or desired state alone is a change too.
    let before = vec![erred.clone(), t("stopping", "running")];
    erred.error = Some("oom".to_owned());
    let mut stopping = t("stopping", "running");
    stopping.desired_state = "shutdown".to_owned();
    after = vec![erred, stopping];
    assert_eq!(diff_tasks(&before, &after).len(), 2);
    assert!(diff_tasks(&after, &after).is_empty());
    assert!(diff_tasks(&[], &[]).is_empty());
}

#[test]
fn docker_timestamps_parse_to_unix_seconds() {
    let cases = [
        ("1970-01-01T00:00:00Z", Some(0)),
        ("2026-11-26T03:00:00Z", Some(NOW)),
        ("2026-11-26T03:00:00.123456789Z", Some(NOW)),
        ("2026-11-26T04:00:00+01:00", Some(NOW)),
        ("2000-02-29T00:00:00Z", Some(951_782_400)),
        ("2026-13-01T00:00:00Z", None),
        ("2026-11-26 03:00:00Z", None),
        ("2026-11-26T03:00:00", None),
        ("yesterday", None),
        ("0001-01-01T00:00:00Z", Some(-62_135_596_800)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_rfc3339(text), expected, "{text}");
    }
}

#[test]
fn unix_seconds_format_as_rfc3339_and_parse_back() {
    let cases = [
        (0, "1970-01-01T00:00:00Z"),
        (NOW, "2026-11-26T03:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_799, "2000-02-29T23:59:59Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"),
    ];
    for (secs, text) in cases {
        assert_eq!(format_rfc3339(secs), text);
        assert_eq!(parse_rfc3339(text), Some(secs));
    }
    for secs in (-100_000..100_000).map(|n: i64| n * 86_399 + 7) {
        assert_eq!(parse_rfc3339(&format_rfc3339(secs)), Some(secs), "{secs}");
    }
}
