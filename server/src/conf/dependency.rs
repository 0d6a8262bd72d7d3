//! `dependsOn` across the repo: every stack named must exist, deploy to the
//! same target and be enabled when the stack that needs it is, and the
//! dependencies must not form a cycle (a cycle is reported on each stack
//! in it, with its path: `a -> b -> a`).
//!
//! Names, self-dependencies and repeats inside one file are checked with
//! the file ([`super::stack`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::json::JsonDocument;
use super::model::{ConfProblem, StackConfig, Subject};
use super::suggest::did_you_mean;

/// What the check needs to know of one stack.
#[derive(Debug, Clone, Copy)]
pub struct DependencyNode<'a> {
    /// Its `stack-<name>.json` and the parsed file, when it has one.
    pub settings: Option<(&'a str, &'a JsonDocument)>,
    /// Its settings (defaults without a file).
    pub config: &'a StackConfig,
}

/// Checks the `dependsOn` of every stack in `stacks` (all the stacks that
/// have a Compose file, by name), and reports cycles.
pub fn check_dependencies(stacks: &BTreeMap<String, DependencyNode<'_>>) -> Vec<ConfProblem> {
    let mut problems = Vec::new();
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, node) in stacks {
        let Some((file, document)) = node.settings else {
            continue;
        };
        let problem = |i: usize, message: String| {
            ConfProblem::new(file, message)
                .at_line(document.line(&format!("/dependsOn/{i}")))
                .about(Subject::Stack(name.clone()))
        };
        let mut seen = BTreeSet::new();
        for (i, dependency) in node.config.depends_on.iter().enumerate() {
            // Self-dependencies and repeats are the file's own problems.
            if dependency == name || !seen.insert(dependency.as_str()) {
                continue;
            }
            let Some(other) = stacks.get(dependency) else {
                let hint = did_you_mean(dependency, stacks.keys().map(String::as_str))
                    .unwrap_or_else(|| {
                        format!("add docker-compose-{dependency}.yml, or remove \"{dependency}\" from dependsOn")
                    });
                problems.push(
                    problem(
                        i,
                        format!("stack \"{name}\" depends on stack \"{dependency}\", which does not exist"),
                    )
                    .with_hint(hint),
                );
                continue;
            };
            edges.entry(name).or_default().push(dependency);
            if other.config.target != node.config.target {
                problems.push(
                    problem(
                        i,
                        format!(
                            "stack \"{name}\" (target \"{}\") depends on stack \"{dependency}\", which deploys to target \"{}\"",
                            node.config.target, other.config.target
                        ),
                    )
                    .with_hint("a stack can only depend on stacks of its own target"),
                );
            }
            if node.config.enabled && !other.config.enabled {
                problems.push(
                    problem(
                        i,
                        format!("stack \"{name}\" depends on stack \"{dependency}\", which is disabled"),
                    )
                    .with_hint(format!(
                        "enable \"{dependency}\", or remove it from dependsOn: a disabled stack is never deployed"
                    )),
                );
            }
        }
    }
    for (name, node) in stacks {
        let Some(cycle) = shortest_cycle(&edges, name) else {
            continue;
        };
        let Some((file, document)) = node.settings else {
            continue;
        };
        // The line of the entry that starts the cycle.
        let first = cycle.get(1).copied().unwrap_or_default();
        let index = node.config.depends_on.iter().position(|d| d == first);
        let line = index.and_then(|i| document.line(&format!("/dependsOn/{i}")));
        problems.push(
            ConfProblem::new(file, format!("dependency cycle: {}", cycle.join(" -> ")))
                .at_line(line)
                .with_hint(
                    "remove one of these dependencies: stacks in a cycle can never be deployed",
                )
                .about(Subject::Stack(name.clone())),
        );
    }
    problems
}

/// The shortest path of dependencies from `start` back to itself
/// (`[start, b, start]`), if there is one.
fn shortest_cycle<'a>(
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
    start: &'a str,
) -> Option<Vec<&'a str>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(current) = queue.pop_front() {
        for &next in edges.get(current).into_iter().flatten() {
            if next == start {
                let mut path = vec![start, current];
                let mut at = current;
                while at != start {
                    let Some(&previous) = came_from.get(at) else {
                        break;
                    };
                    at = previous;
                    path.push(at);
                }
                // Built backwards from the end: start, current, ..., start.
                path.reverse();
                return Some(path);
            }
            if !came_from.contains_key(next) {
                came_from.insert(next, current);
                queue.push_back(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stacks as `(name, target, enabled, dependsOn)`, each with a JSON
    /// file whose `dependsOn` entries are on lines 2, 3, ...
    fn check(stacks: &[(&str, &str, bool, &[&str])]) -> Vec<String> {
        let configs: Vec<(String, String, StackConfig, JsonDocument)> = stacks
            .iter()
            .map(|(name, target, enabled, depends_on)| {
                let config = StackConfig {
                    target: (*target).to_owned(),
                    enabled: *enabled,
                    depends_on: depends_on.iter().map(|d| (*d).to_owned()).collect(),
                    ..StackConfig::default()
                };
                let entries: Vec<String> = depends_on.iter().map(|d| format!("\"{d}\"")).collect();
                let text = format!("{{\"dependsOn\": [\n{}\n]}}", entries.join(",\n"));
                let document = JsonDocument::parse(&text).unwrap();
                (
                    (*name).to_owned(),
                    format!("stack-{name}.json"),
                    config,
                    document,
                )
            })
            .collect();
        let nodes: BTreeMap<String, DependencyNode<'_>> = configs
            .iter()
            .map(|(name, file, config, document)| {
                (
                    name.clone(),
                    DependencyNode {
                        settings: Some((file.as_str(), document)),
                        config,
                    },
                )
            })
            .collect();
        check_dependencies(&nodes)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn valid_dependencies_pass() {
        let problems = check(&[
            ("web", "default", true, &["db", "cache"]),
            ("db", "default", true, &[]),
            ("cache", "default", true, &["db"]),
            ("old", "default", false, &["db"]),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// Stacks as `check` takes them.
    type Stacks<'a> = &'a [(&'a str, &'a str, bool, &'a [&'a str])];

    #[test]
    fn each_broken_dependency_is_reported_on_its_line() {
        let cases: &[(Stacks<'_>, &[&str])] = &[
            (
                &[
                    ("web", "default", true, &["db", "dbb"]),
                    ("db", "default", true, &[]),
                ],
                &[
                    "stack-web.json:3: stack \"web\" depends on stack \"dbb\", which does not exist (did you mean \"db\"?)",
                ],
            ),
            (
                &[("web", "default", true, &["queue"])],
                &[
                    "stack-web.json:2: stack \"web\" depends on stack \"queue\", which does not exist (add docker-compose-queue.yml, or remove \"queue\" from dependsOn)",
                ],
            ),
            (
                &[
                    ("web", "default", true, &["db"]),
                    ("db", "other", true, &[]),
                ],
                &[
                    "stack-web.json:2: stack \"web\" (target \"default\") depends on stack \"db\", which deploys to target \"other\" (a stack can only depend on stacks of its own target)",
                ],
            ),
            (
                &[
                    ("web", "default", true, &["db"]),
                    ("db", "default", false, &[]),
                ],
                &[
                    "stack-web.json:2: stack \"web\" depends on stack \"db\", which is disabled (enable \"db\", or remove it from dependsOn: a disabled stack is never deployed)",
                ],
            ),
        ];
        for (stacks, expected) in cases {
            assert_eq!(check(stacks), *expected);
        }
    }

    #[test]
    fn cycles_are_reported_on_every_stack_in_them_with_their_path() {
        let problems = check(&[
            ("a", "default", true, &["b"]),
            ("b", "default", true, &["x", "c"]),
            ("c", "default", true, &["a"]),
            ("x", "default", true, &[]),
            ("y", "default", true, &["a"]),
        ]);
        let hint = " (remove one of these dependencies: stacks in a cycle can never be deployed)";
        assert_eq!(
            problems,
            [
                format!("stack-a.json:2: dependency cycle: a -> b -> c -> a{hint}"),
                format!("stack-b.json:3: dependency cycle: b -> c -> a -> b{hint}"),
                format!("stack-c.json:2: dependency cycle: c -> a -> b -> c{hint}"),
            ]
        );
    }

    #[test]
    fn the_shortest_cycle_is_reported() {
        let problems = check(&[
            ("a", "default", true, &["b", "c"]),
            ("b", "default", true, &["c"]),
            ("c", "default", true, &["a"]),
        ]);
        assert!(problems[0].contains("a -> c -> a"), "{problems:?}");
        let problems = check(&[
            ("a", "default", true, &["b"]),
            ("b", "default", true, &["a"]),
        ]);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].contains("a -> b -> a"), "{problems:?}");
    }
}
