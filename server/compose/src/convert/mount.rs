//! Service `volumes` as container mounts: named volumes (scoped to the
//! stack, with the stack label for the engine to create lazily), anonymous
//! volumes, binds, tmpfs and named pipes. The CLI never creates volumes;
//! neither does voc.

use bollard_stubs::models::{
    Mount, MountBindOptions, MountTmpfsOptions, MountType, MountVolumeOptions,
    MountVolumeOptionsDriverConfig,
};
use indexmap::IndexMap;

use super::names::Namespace;
use super::{Problems, non_empty, parse_enum};
use crate::model::{ServiceVolume, Volume};
use crate::spec::LABEL_NAMESPACE;

/// A service's mounts, in file order; `path` is the service's.
pub(super) fn mounts(
    namespace: Namespace<'_>,
    volumes: &[ServiceVolume],
    declared: &IndexMap<String, Volume>,
    path: &str,
    problems: &mut Problems,
) -> Vec<Mount> {
    volumes
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            mount(
                namespace,
                v,
                declared,
                &format!("{path}.volumes.{i}"),
                problems,
            )
        })
        .collect()
}

fn mount(
    namespace: Namespace<'_>,
    volume: &ServiceVolume,
    declared: &IndexMap<String, Volume>,
    path: &str,
    problems: &mut Problems,
) -> Option<Mount> {
    let mut result = Mount {
        target: Some(volume.target.clone()),
        source: volume.source.clone().filter(|s| !s.is_empty()),
        typ: None,
        read_only: volume.read_only.then_some(true),
        consistency: volume.consistency.clone().filter(|c| !c.is_empty()),
        ..Default::default()
    };
    let mut incompatible = |options: &str, kind: &str| {
        problems.push(
            path,
            format!("{options} options are incompatible with type {kind}"),
        );
    };
    match volume.kind.as_str() {
        "volume" | "" => {
            result.typ = Some(MountType::VOLUME);
            if volume.tmpfs_size.is_some() {
                incompatible("tmpfs", "volume");
                return None;
            }
            if volume.bind_propagation.is_some() {
                incompatible("bind", "volume");
                return None;
            }
            // Anonymous volume: nothing to scope, no options.
            let Some(key) = result.source.clone() else {
                return Some(result);
            };
            let Some(stack_volume) = declared.get(&key) else {
                problems.push(path, format!("refers to undefined volume {key:?}"));
                return None;
            };
            result.source = Some(match (&stack_volume.name, stack_volume.external) {
                (Some(name), _) => name.clone(),
                (None, true) => key.clone(),
                (None, false) => namespace.scope(&key),
            });
            let mut options = MountVolumeOptions {
                no_copy: volume.volume_nocopy.then_some(true),
                ..Default::default()
            };
            if !stack_volume.external {
                let mut labels: std::collections::HashMap<String, String> = stack_volume
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                labels.insert(LABEL_NAMESPACE.to_owned(), namespace.stack().to_owned());
                options.labels = Some(labels);
                if stack_volume.driver.is_some() || !stack_volume.driver_opts.is_empty() {
                    options.driver_config = Some(MountVolumeOptionsDriverConfig {
                        name: stack_volume.driver.clone().filter(|d| !d.is_empty()),
                        options: non_empty(
                            stack_volume
                                .driver_opts
                                .iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        ),
                    });
                }
            }
            result.volume_options = Some(options);
        }
        "bind" | "npipe" => {
            let kind = volume.kind.as_str();
            result.typ = Some(if kind == "bind" {
                MountType::BIND
            } else {
                MountType::NPIPE
            });
            if result.source.is_none() {
                problems.push(
                    path,
                    format!("invalid {kind} source, source cannot be empty"),
                );
                return None;
            }
            if volume.volume_nocopy {
                incompatible("volume", kind);
                return None;
            }
            if volume.tmpfs_size.is_some() {
                incompatible("tmpfs", kind);
                return None;
            }
            if let Some(propagation) = &volume.bind_propagation {
                result.bind_options = Some(MountBindOptions {
                    propagation: if propagation.is_empty() {
                        None
                    } else {
                        parse_enum(
                            propagation,
                            "private, rprivate, shared, rshared, slave, rslave",
                            format!("{path}.bind.propagation"),
                            problems,
                        )
                    },
                    ..Default::default()
                });
            }
        }
        "tmpfs" => {
            result.typ = Some(MountType::TMPFS);
            if result.source.is_some() {
                problems.push(path, "invalid tmpfs source, source must be empty");
                return None;
            }
            if volume.bind_propagation.is_some() {
                incompatible("bind", "tmpfs");
                return None;
            }
            if volume.volume_nocopy {
                incompatible("volume", "tmpfs");
                return None;
            }
            if let Some(size) = volume.tmpfs_size {
                result.tmpfs_options = Some(MountTmpfsOptions {
                    size_bytes: Some(size).filter(|s| *s != 0),
                    ..Default::default()
                });
            }
        }
        other => {
            problems.push(
                path,
                format!("has type {other:?}: the type must be volume, bind, tmpfs or npipe"),
            );
            return None;
        }
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard_stubs::models::MountBindOptionsPropagationEnum;

    use super::*;

    fn volume(kind: &str, source: Option<&str>, target: &str) -> ServiceVolume {
        ServiceVolume {
            kind: kind.into(),
            source: source.map(Into::into),
            target: target.into(),
            ..Default::default()
        }
    }

    fn stack_labels(extra: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        let mut labels: HashMap<String, String> = extra
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        labels.insert(LABEL_NAMESPACE.into(), "shop".into());
        Some(labels)
    }

    fn declared() -> IndexMap<String, Volume> {
        let mut map = IndexMap::new();
        map.insert("data".to_owned(), Volume::default());
        map.insert(
            "named".to_owned(),
            Volume {
                name: Some("given".into()),
                ..Default::default()
            },
        );
        map.insert(
            "ext".to_owned(),
            Volume {
                external: true,
                ..Default::default()
            },
        );
        let mut opts = IndexMap::new();
        opts.insert("type".to_owned(), "tmpfs".to_owned());
        let mut labels = IndexMap::new();
        labels.insert("a".to_owned(), "1".to_owned());
        map.insert(
            "drv".to_owned(),
            Volume {
                driver: Some("local".into()),
                driver_opts: opts,
                labels,
                ..Default::default()
            },
        );
        map
    }

    #[test]
    fn mounts_convert_like_the_cli() {
        let cases: Vec<(ServiceVolume, Mount)> = vec![
            (
                volume("volume", Some("data"), "/data"),
                Mount {
                    target: Some("/data".into()),
                    source: Some("shop_data".into()),
                    typ: Some(MountType::VOLUME),
                    volume_options: Some(MountVolumeOptions {
                        labels: stack_labels(&[]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ),
            (
                ServiceVolume {
                    read_only: true,
                    volume_nocopy: true,
                    ..volume("volume", Some("named"), "/n")
                },
                Mount {
                    target: Some("/n".into()),
                    source: Some("given".into()),
                    typ: Some(MountType::VOLUME),
                    read_only: Some(true),
                    volume_options: Some(MountVolumeOptions {
                        no_copy: Some(true),
                        labels: stack_labels(&[]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ),
            (
                volume("volume", Some("ext"), "/e"),
                Mount {
                    target: Some("/e".into()),
                    source: Some("ext".into()),
                    typ: Some(MountType::VOLUME),
                    volume_options: Some(MountVolumeOptions::default()),
                    ..Default::default()
                },
            ),
            (
                volume("volume", Some("drv"), "/d"),
                Mount {
                    target: Some("/d".into()),
                    source: Some("shop_drv".into()),
                    typ: Some(MountType::VOLUME),
                    volume_options: Some(MountVolumeOptions {
                        labels: stack_labels(&[("a", "1")]),
                        driver_config: Some(MountVolumeOptionsDriverConfig {
                            name: Some("local".into()),
                            options: Some(
                                [("type".to_owned(), "tmpfs".to_owned())]
                                    .into_iter()
                                    .collect(),
                            ),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ),
            (
                volume("volume", None, "/anon"),
                Mount {
                    target: Some("/anon".into()),
                    typ: Some(MountType::VOLUME),
                    ..Default::default()
                },
            ),
            (
                ServiceVolume {
                    read_only: true,
                    consistency: Some("cached".into()),
                    ..volume("bind", Some("/srv"), "/s")
                },
                Mount {
                    target: Some("/s".into()),
                    source: Some("/srv".into()),
                    typ: Some(MountType::BIND),
                    read_only: Some(true),
                    consistency: Some("cached".into()),
                    ..Default::default()
                },
            ),
            (
                ServiceVolume {
                    bind_propagation: Some("rslave".into()),
                    ..volume("bind", Some("/srv"), "/s")
                },
                Mount {
                    target: Some("/s".into()),
                    source: Some("/srv".into()),
                    typ: Some(MountType::BIND),
                    bind_options: Some(MountBindOptions {
                        propagation: Some(MountBindOptionsPropagationEnum::RSLAVE),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ),
            (
                volume("tmpfs", None, "/t"),
                Mount {
                    target: Some("/t".into()),
                    typ: Some(MountType::TMPFS),
                    ..Default::default()
                },
            ),
            (
                ServiceVolume {
                    tmpfs_size: Some(1000),
                    ..volume("tmpfs", None, "/t")
                },
                Mount {
                    target: Some("/t".into()),
                    typ: Some(MountType::TMPFS),
                    tmpfs_options: Some(MountTmpfsOptions {
                        size_bytes: Some(1000),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ),
            (
                volume(
                    "npipe",
                    Some(r"\\.\pipe\docker_engine"),
                    r"\\.\pipe\docker_engine",
                ),
                Mount {
                    target: Some(r"\\.\pipe\docker_engine".into()),
                    source: Some(r"\\.\pipe\docker_engine".into()),
                    typ: Some(MountType::NPIPE),
                    ..Default::default()
                },
            ),
        ];
        for (input, want) in cases {
            let mut problems = Problems::default();
            let got = mounts(
                Namespace::new("shop"),
                std::slice::from_ref(&input),
                &declared(),
                "services.web",
                &mut problems,
            );
            assert!(problems.is_empty(), "{input:?}: {:?}", problems.list);
            assert_eq!(got, [want], "{input:?}");
        }
    }

    #[test]
    fn bad_mounts_are_problems() {
        let cases: Vec<(ServiceVolume, &str)> = vec![
            (
                volume("volume", Some("nope"), "/x"),
                "refers to undefined volume \"nope\"",
            ),
            (
                ServiceVolume {
                    tmpfs_size: Some(1),
                    ..volume("volume", Some("data"), "/x")
                },
                "tmpfs options are incompatible with type volume",
            ),
            (
                ServiceVolume {
                    bind_propagation: Some("rshared".into()),
                    ..volume("volume", None, "/x")
                },
                "bind options are incompatible with type volume",
            ),
            (
                volume("bind", None, "/x"),
                "invalid bind source, source cannot be empty",
            ),
            (
                ServiceVolume {
                    volume_nocopy: true,
                    ..volume("bind", Some("/a"), "/x")
                },
                "volume options are incompatible with type bind",
            ),
            (
                ServiceVolume {
                    tmpfs_size: Some(1),
                    ..volume("bind", Some("/a"), "/x")
                },
                "tmpfs options are incompatible with type bind",
            ),
            (
                volume("tmpfs", Some("/a"), "/x"),
                "invalid tmpfs source, source must be empty",
            ),
            (
                ServiceVolume {
                    bind_propagation: Some("rshared".into()),
                    ..volume("tmpfs", None, "/x")
                },
                "bind options are incompatible with type tmpfs",
            ),
            (
                ServiceVolume {
                    volume_nocopy: true,
                    ..volume("tmpfs", None, "/x")
                },
                "volume options are incompatible with type tmpfs",
            ),
            (
                volume("npipe", None, "/x"),
                "invalid npipe source, source cannot be empty",
            ),
            (
                volume("cluster", Some("c"), "/x"),
                "has type \"cluster\": the type must be volume, bind, tmpfs or npipe",
            ),
            (
                ServiceVolume {
                    bind_propagation: Some("sideways".into()),
                    ..volume("bind", Some("/a"), "/x")
                },
                "must be one of private, rprivate, shared, rshared, slave, rslave, not \"sideways\"",
            ),
        ];
        for (input, want) in cases {
            let mut problems = Problems::default();
            mounts(
                Namespace::new("shop"),
                &[volume("tmpfs", None, "/ok"), input.clone()],
                &declared(),
                "services.web",
                &mut problems,
            );
            let got: Vec<&str> = problems.list.iter().map(|p| p.message.as_str()).collect();
            assert_eq!(got, [want], "{input:?}");
            assert!(
                problems.list[0]
                    .location
                    .path
                    .starts_with("services.web.volumes.1"),
                "{:?}",
                problems.list[0].location.path
            );
        }
    }
}
