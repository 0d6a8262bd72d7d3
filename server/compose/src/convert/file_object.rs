//! Secrets and configs: the objects a stack creates, and the references
//! services hold to them.
//!
//! The CLI names them `<stack>_<key>` and cannot change their content later
//! (the daemon refuses any update but labels). voc names them
//! `<stack>_<key>_<hash8>` after their content, so a changed file gives a new
//! object; an explicit `name:` is used verbatim, as by the CLI.

use std::collections::HashMap;

use bollard_stubs::models::{
    TaskSpecContainerSpecConfigs, TaskSpecContainerSpecFile, TaskSpecContainerSpecFile1,
    TaskSpecContainerSpecSecrets,
};
use indexmap::IndexMap;

use super::Problems;
use super::names::{self, HashedContent, Namespace};
use crate::model::{FileObject, FileReference};
use crate::spec::{FileSpecObject, LABEL_NAMESPACE};

/// Default file mode of a mounted secret or config: `0444`.
const DEFAULT_MODE: u32 = 0o444;

/// Secret or config: the two share everything but a few words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Secret,
    Config,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Config => "config",
        }
    }

    fn section(self) -> &'static str {
        match self {
            Kind::Secret => "secrets",
            Kind::Config => "configs",
        }
    }
}

/// The top-level secrets of a stack, sorted by name.
pub(super) fn secrets(
    namespace: Namespace<'_>,
    secrets: &IndexMap<String, FileObject>,
    problems: &mut Problems,
) -> Vec<FileSpecObject> {
    objects(namespace, Kind::Secret, secrets, problems)
}

/// The top-level configs of a stack, sorted by name.
pub(super) fn configs(
    namespace: Namespace<'_>,
    configs: &IndexMap<String, FileObject>,
    problems: &mut Problems,
) -> Vec<FileSpecObject> {
    objects(namespace, Kind::Config, configs, problems)
}

fn objects(
    namespace: Namespace<'_>,
    kind: Kind,
    objects: &IndexMap<String, FileObject>,
    problems: &mut Problems,
) -> Vec<FileSpecObject> {
    let mut out: Vec<FileSpecObject> = Vec::with_capacity(objects.len());
    for (key, object) in objects {
        let path = format!("{}.{key}", kind.section());
        if let Some(converted) = object_spec(namespace, kind, key, object, &path, problems) {
            if let Some(other) = out.iter().find(|o| o.name == converted.name) {
                problems.push(
                    path,
                    format!(
                        "gets the same name {:?} as {} {:?}",
                        converted.name,
                        kind.word(),
                        other.key
                    ),
                );
            } else {
                out.push(converted);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn object_spec(
    namespace: Namespace<'_>,
    kind: Kind,
    key: &str,
    object: &FileObject,
    path: &str,
    problems: &mut Problems,
) -> Option<FileSpecObject> {
    if object.external {
        return Some(FileSpecObject {
            key: key.to_owned(),
            name: object.name.clone().unwrap_or_else(|| key.to_owned()),
            external: true,
            labels: IndexMap::new(),
            data: Vec::new(),
            driver: None,
            driver_opts: IndexMap::new(),
            template_driver: None,
        });
    }
    let driver = if kind == Kind::Secret {
        object.driver.clone()
    } else {
        None
    };
    // A secret from a driver has no data of its own (the CLI sends none).
    let data = if driver.is_some() {
        Vec::new()
    } else if let Some(content) = &object.content {
        content.clone()
    } else {
        problems.push(
            path,
            format!(
                "has no content: set `file` or mark the {} external",
                kind.word()
            ),
        );
        return None;
    };
    let driver_opts = if driver.is_some() {
        object.driver_opts.clone()
    } else {
        IndexMap::new()
    };
    let name = match &object.name {
        Some(name) => name.clone(),
        None => {
            let opts: Vec<(&str, &str)> = driver_opts
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let hash = names::content_hash(&HashedContent {
                data: &data,
                template_driver: object.template_driver.as_deref(),
                driver: driver.as_deref(),
                driver_opts: &opts,
            });
            names::hashed_name(&namespace.scope(key), &hash)
        }
    };
    if !names::is_file_object_name(&name) {
        problems.push(
            path,
            format!(
                "gives the {} name {name:?}, which Docker refuses: at most {} characters \
                 among [a-zA-Z0-9-_.], starting and ending with a letter or a digit",
                kind.word(),
                names::MAX_FILE_OBJECT_NAME
            ),
        );
        return None;
    }
    let mut labels = object.labels.clone();
    labels.insert(LABEL_NAMESPACE.to_owned(), namespace.stack().to_owned());
    Some(FileSpecObject {
        key: key.to_owned(),
        name,
        external: false,
        labels,
        data,
        driver,
        driver_opts,
        template_driver: object.template_driver.clone(),
    })
}

/// How services refer to the stack's secrets and configs, by key.
#[derive(Debug, Default)]
pub(super) struct FileObjectNames {
    secrets: HashMap<String, RefName>,
    configs: HashMap<String, RefName>,
}

/// The name a service reference carries, and the name it is sorted by.
#[derive(Debug, Clone)]
struct RefName {
    /// The swarm name (hashed by voc).
    name: String,
    /// The name the docker CLI would give the object: references are sorted
    /// by it so they come in the CLI's order whatever the hash.
    sort_key: String,
}

impl FileObjectNames {
    /// Indexes the converted objects by key; `secrets` and `configs` are the
    /// file's top-level sections they were converted from.
    pub(super) fn new(
        namespace: Namespace<'_>,
        secrets: (&IndexMap<String, FileObject>, &[FileSpecObject]),
        configs: (&IndexMap<String, FileObject>, &[FileSpecObject]),
    ) -> Self {
        Self {
            secrets: index(namespace, secrets),
            configs: index(namespace, configs),
        }
    }

    /// The swarm name of config `key`, if the stack defines it.
    pub(super) fn config_name(&self, key: &str) -> Option<&str> {
        self.configs.get(key).map(|r| r.name.as_str())
    }

    fn lookup(&self, kind: Kind, key: &str) -> Option<&RefName> {
        match kind {
            Kind::Secret => self.secrets.get(key),
            Kind::Config => self.configs.get(key),
        }
    }
}

fn index(
    namespace: Namespace<'_>,
    (declared, converted): (&IndexMap<String, FileObject>, &[FileSpecObject]),
) -> HashMap<String, RefName> {
    converted
        .iter()
        .map(|o| {
            let cli_name = match declared.get(&o.key) {
                Some(FileObject {
                    name: Some(name), ..
                }) => name.clone(),
                Some(FileObject { external: true, .. }) => o.key.clone(),
                _ => namespace.scope(&o.key),
            };
            (
                o.key.clone(),
                RefName {
                    name: o.name.clone(),
                    sort_key: cli_name,
                },
            )
        })
        .collect()
}

/// A reference converted, before sorting.
struct Reference {
    sort_key: String,
    name: String,
    target: String,
    uid: String,
    gid: String,
    mode: u32,
}

fn references(
    kind: Kind,
    refs: &[FileReference],
    names: &FileObjectNames,
    service_path: &str,
    problems: &mut Problems,
) -> Vec<Reference> {
    let mut out: Vec<Reference> = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let path = format!("{service_path}.{}.{i}", kind.section());
        let Some(found) = names.lookup(kind, &r.source) else {
            problems.push(
                path,
                format!("refers to undefined {} {:?}", kind.word(), r.source),
            );
            continue;
        };
        let target = r
            .target
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| r.source.clone());
        if out.iter().any(|o| o.target == target) {
            problems.push(
                path,
                format!("mounts a second {} at target {target:?}", kind.word()),
            );
            continue;
        }
        out.push(Reference {
            sort_key: found.sort_key.clone(),
            name: found.name.clone(),
            target,
            uid: r
                .uid
                .clone()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "0".to_owned()),
            gid: r
                .gid
                .clone()
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| "0".to_owned()),
            mode: r.mode.unwrap_or(DEFAULT_MODE),
        });
    }
    // The CLI sorts by name; references to the same object come out in
    // random order (they pass through a Go map). voc orders those by target,
    // so the same file always gives the same spec.
    out.sort_by(|a, b| {
        a.sort_key
            .cmp(&b.sort_key)
            .then_with(|| a.target.cmp(&b.target))
    });
    out
}

/// A service's secret references, sorted as the CLI sorts them. The IDs are
/// left for the engine to fill in.
pub(super) fn secret_references(
    refs: &[FileReference],
    names: &FileObjectNames,
    service_path: &str,
    problems: &mut Problems,
) -> Vec<TaskSpecContainerSpecSecrets> {
    references(Kind::Secret, refs, names, service_path, problems)
        .into_iter()
        .map(|r| TaskSpecContainerSpecSecrets {
            file: Some(TaskSpecContainerSpecFile {
                name: Some(r.target),
                uid: Some(r.uid),
                gid: Some(r.gid),
                mode: Some(r.mode),
            }),
            secret_id: None,
            secret_name: Some(r.name),
        })
        .collect()
}

/// A service's config references, sorted as the CLI sorts them, plus the
/// runtime reference a `credential_spec.config` needs. The IDs are left for
/// the engine to fill in.
pub(super) fn config_references(
    refs: &[FileReference],
    credential_spec_config: Option<&str>,
    names: &FileObjectNames,
    service_path: &str,
    problems: &mut Problems,
) -> Vec<TaskSpecContainerSpecConfigs> {
    let mut converted: Vec<(String, TaskSpecContainerSpecConfigs)> =
        references(Kind::Config, refs, names, service_path, problems)
            .into_iter()
            .map(|r| {
                let spec = TaskSpecContainerSpecConfigs {
                    file: Some(TaskSpecContainerSpecFile1 {
                        name: Some(r.target),
                        uid: Some(r.uid),
                        gid: Some(r.gid),
                        mode: Some(r.mode),
                    }),
                    runtime: None,
                    config_id: None,
                    config_name: Some(r.name),
                };
                (r.sort_key, spec)
            })
            .collect();
    if let Some(key) = credential_spec_config {
        match names.lookup(Kind::Config, key) {
            Some(found) => converted.push((
                found.sort_key.clone(),
                TaskSpecContainerSpecConfigs {
                    file: None,
                    runtime: Some(HashMap::new()),
                    config_id: None,
                    config_name: Some(found.name.clone()),
                },
            )),
            None => problems.push(
                format!("{service_path}.credential_spec.config"),
                format!("refers to undefined config {key:?}"),
            ),
        }
        converted.sort_by(|a, b| a.0.cmp(&b.0));
    }
    converted.into_iter().map(|(_, spec)| spec).collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn file(content: &str) -> FileObject {
        FileObject {
            file: Some(PathBuf::from("/x")),
            content: Some(content.as_bytes().to_vec()),
            ..Default::default()
        }
    }

    fn convert_secrets(
        stack: &str,
        map: &[(&str, FileObject)],
    ) -> (Vec<FileSpecObject>, Vec<String>) {
        let map: IndexMap<String, FileObject> = map
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let mut problems = Problems::default();
        let out = secrets(Namespace::new(stack), &map, &mut problems);
        (
            out,
            problems
                .list
                .iter()
                .map(|p| format!("{} {}", p.location.path, p.message))
                .collect(),
        )
    }

    #[test]
    fn objects_are_named_after_their_content_unless_named() {
        let named = FileObject {
            name: Some("fixed-name".into()),
            ..file("b")
        };
        let external = FileObject {
            external: true,
            ..Default::default()
        };
        let external_named = FileObject {
            external: true,
            name: Some("other".into()),
            ..Default::default()
        };
        let (out, problems) = convert_secrets(
            "shop",
            &[
                ("site", file("hello\n")),
                ("named", named),
                ("ext", external),
                ("ext2", external_named),
            ],
        );
        assert!(problems.is_empty(), "{problems:?}");
        let got: Vec<(&str, &str, bool)> = out
            .iter()
            .map(|o| (o.key.as_str(), o.name.as_str(), o.external))
            .collect();
        assert_eq!(
            got,
            [
                ("ext", "ext", true),
                ("named", "fixed-name", false),
                ("ext2", "other", true),
                ("site", "shop_site_5891b5b5", false)
            ]
        );
        let site = &out[3];
        assert_eq!(site.data, b"hello\n");
        assert_eq!(
            site.labels.get(LABEL_NAMESPACE).map(String::as_str),
            Some("shop")
        );
        assert!(out[0].labels.is_empty(), "external objects get no labels");
    }

    #[test]
    fn user_labels_are_kept_and_namespace_wins() {
        let mut obj = file("x");
        obj.labels.insert("a".into(), "1".into());
        obj.labels.insert(LABEL_NAMESPACE.into(), "fake".into());
        let (out, _) = convert_secrets("shop", &[("s", obj)]);
        assert_eq!(out[0].labels.get("a").map(String::as_str), Some("1"));
        assert_eq!(
            out[0].labels.get(LABEL_NAMESPACE).map(String::as_str),
            Some("shop")
        );
    }

    #[test]
    fn driver_secrets_carry_no_data_and_hash_their_driver() {
        let mut obj = FileObject {
            driver: Some("vault".into()),
            ..Default::default()
        };
        obj.driver_opts.insert("path".into(), "a".into());
        let (out, problems) = convert_secrets("shop", &[("s", obj.clone())]);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(out[0].data.is_empty());
        assert_eq!(out[0].driver.as_deref(), Some("vault"));
        obj.driver_opts.insert("path".into(), "b".into());
        let (other, _) = convert_secrets("shop", &[("s", obj)]);
        assert_ne!(out[0].name, other[0].name);
    }

    #[test]
    fn problems_name_the_object() {
        let (_, problems) = convert_secrets(
            "shop",
            &[
                ("empty", FileObject::default()),
                (
                    "bad",
                    FileObject {
                        name: Some("bad name".into()),
                        ..file("x")
                    },
                ),
                (
                    "one",
                    FileObject {
                        name: Some("same".into()),
                        ..file("x")
                    },
                ),
                (
                    "two",
                    FileObject {
                        name: Some("same".into()),
                        ..file("y")
                    },
                ),
            ],
        );
        assert_eq!(
            problems,
            [
                "secrets.empty has no content: set `file` or mark the secret external",
                "secrets.bad gives the secret name \"bad name\", which Docker refuses: at most 64 characters \
                 among [a-zA-Z0-9-_.], starting and ending with a letter or a digit",
                "secrets.two gets the same name \"same\" as secret \"one\"",
            ]
        );
    }

    #[test]
    fn long_keys_are_cut_to_fit() {
        let key = "k".repeat(70);
        let (out, problems) = convert_secrets("shop", &[(key.as_str(), file("x"))]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out[0].name.len(), 64);
    }

    fn reference(source: &str) -> FileReference {
        FileReference {
            source: source.into(),
            ..Default::default()
        }
    }

    #[test]
    fn references_default_like_the_cli_and_sort_by_cli_name() {
        // Keys and contents chosen so that sorting by hashed name would
        // differ from the CLI's order: `shop_a` < `shop_a_b`, but
        // `shop_a_e3b98a4d` > `shop_a_b_…`.
        let declared: IndexMap<String, FileObject> =
            [("a".to_owned(), file("t")), ("a_b".to_owned(), file("y"))]
                .into_iter()
                .collect();
        let mut problems = Problems::default();
        let objects = secrets(Namespace::new("shop"), &declared, &mut problems);
        let empty = IndexMap::new();
        let names =
            FileObjectNames::new(Namespace::new("shop"), (&declared, &objects), (&empty, &[]));
        let a = names.secrets["a"].name.clone();
        let a_b = names.secrets["a_b"].name.clone();
        assert!(
            a > a_b,
            "the test needs hashed names that sort against the CLI's order: {a} {a_b}"
        );
        let refs = vec![
            reference("a_b"),
            FileReference {
                source: "a".into(),
                target: Some("/run/a".into()),
                uid: Some("1000".into()),
                gid: Some("1001".into()),
                mode: Some(0o400),
            },
        ];
        let mut problems = Problems::default();
        let out = secret_references(&refs, &names, "services.web", &mut problems);
        assert!(problems.is_empty());
        let got: Vec<_> = out
            .iter()
            .map(|s| {
                let f = s.file.as_ref().unwrap();
                (
                    s.secret_name.clone().unwrap(),
                    f.name.clone().unwrap(),
                    f.uid.clone().unwrap(),
                    f.gid.clone().unwrap(),
                    f.mode.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (a, "/run/a".into(), "1000".into(), "1001".into(), 0o400),
                (a_b, "a_b".into(), "0".into(), "0".into(), 0o444),
            ]
        );
        assert!(out.iter().all(|s| s.secret_id.is_none()));
    }

    #[test]
    fn references_to_one_object_are_ordered_by_target_and_targets_are_unique() {
        let declared: IndexMap<String, FileObject> =
            [("k".to_owned(), file("x"))].into_iter().collect();
        let mut problems = Problems::default();
        let objects = secrets(Namespace::new("shop"), &declared, &mut problems);
        let empty = IndexMap::new();
        let names =
            FileObjectNames::new(Namespace::new("shop"), (&declared, &objects), (&empty, &[]));
        let with_target = |t: &str| FileReference {
            target: Some(t.into()),
            ..reference("k")
        };
        let refs = [
            with_target("zz"),
            reference("k"),
            with_target("aa"),
            with_target("k"),
        ];
        let out = secret_references(&refs, &names, "services.web", &mut problems);
        let targets: Vec<_> = out
            .iter()
            .map(|s| s.file.as_ref().unwrap().name.clone().unwrap())
            .collect();
        assert_eq!(targets, ["aa", "k", "zz"]);
        let got: Vec<String> = problems
            .list
            .iter()
            .map(|p| format!("{} {}", p.location.path, p.message))
            .collect();
        assert_eq!(
            got,
            ["services.web.secrets.3 mounts a second secret at target \"k\""]
        );
    }

    #[test]
    fn undefined_references_are_problems() {
        let names = FileObjectNames::default();
        let mut problems = Problems::default();
        secret_references(&[reference("nope")], &names, "services.web", &mut problems);
        config_references(
            &[reference("gone")],
            Some("cred"),
            &names,
            "services.web",
            &mut problems,
        );
        let got: Vec<String> = problems
            .list
            .iter()
            .map(|p| format!("{} {}", p.location.path, p.message))
            .collect();
        assert_eq!(
            got,
            [
                "services.web.secrets.0 refers to undefined secret \"nope\"",
                "services.web.configs.0 refers to undefined config \"gone\"",
                "services.web.credential_spec.config refers to undefined config \"cred\"",
            ]
        );
    }

    #[test]
    fn credential_spec_config_adds_a_runtime_reference() {
        let objects = vec![FileSpecObject {
            key: "cred".into(),
            name: "given".into(),
            external: false,
            labels: IndexMap::new(),
            data: vec![],
            driver: None,
            driver_opts: IndexMap::new(),
            template_driver: None,
        }];
        let declared: IndexMap<String, FileObject> = [(
            "cred".to_owned(),
            FileObject {
                name: Some("given".into()),
                ..file("c")
            },
        )]
        .into_iter()
        .collect();
        let empty = IndexMap::new();
        let names =
            FileObjectNames::new(Namespace::new("shop"), (&empty, &[]), (&declared, &objects));
        let mut problems = Problems::default();
        let out = config_references(&[], Some("cred"), &names, "services.web", &mut problems);
        assert_eq!(
            out,
            [TaskSpecContainerSpecConfigs {
                runtime: Some(HashMap::new()),
                config_name: Some("given".into()),
                ..Default::default()
            }]
        );
        assert_eq!(names.config_name("cred"), Some("given"));
    }
}
