//! The Compose v3 schema (3.0 to 3.13), as `docker stack deploy` validates
//! it, and the validation of a document against it.
//!
//! The shapes mirror the CLI's JSON schemas (`config_schema_v3.x.json`):
//! every key a version allows, with the version that introduced it, so a
//! 3.4 file using a 3.7 key is told which version it needs. voc is stricter
//! than the schemas in a few places where the CLI or the engine would
//! reject the value later anyway: enumerations (`deploy.mode`,
//! `restart_policy.condition`, port `mode` and `protocol`, mount `type`...),
//! durations, byte sizes, CPU counts and negative counts are checked here,
//! with their line.
//!
//! Unlike the CLI, which reports only its "most specific" error, every
//! problem of the file is reported.

use super::field_path::FieldPath;
use super::quantity::{check_cpus, parse_bytes, parse_duration};
use super::report::Report;
use super::tree::{Node, Value};

/// The scalar types of a JSON-schema `type` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Str,
    Num,
    Null,
}

/// What a value must look like.
#[derive(Debug)]
pub(crate) enum Shape {
    /// Anything (extension fields, ignored options' insides).
    Any,
    /// A string.
    Str,
    /// A string holding a Go duration (`10s`).
    Duration,
    /// A string holding a byte size (`512M`).
    Bytes,
    /// A string holding a CPU count (`"0.5"`).
    Cpus,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// One of these strings, in any case.
    EnumIgnoreCase(&'static [&'static str]),
    /// An integer.
    Int,
    /// An integer of 0 or more.
    UInt,
    /// A number.
    Num,
    /// A number of 0 or more with no fraction (read into an unsigned integer).
    WholeNum,
    /// `true` or `false`.
    Bool,
    /// One of these scalar types.
    Scalars(&'static [Scalar]),
    /// A list.
    List { item: &'static Shape, unique: bool },
    /// A mapping with known keys.
    Object(&'static Object),
    /// A mapping of names (`^[a-zA-Z0-9._-]+$`, or `^[a-z]+$` when
    /// `lowercase`) to values of one shape.
    Named {
        value: &'static Shape,
        lowercase: bool,
    },
    /// A mapping of any non-empty keys to values of one shape.
    Dict(&'static Shape),
    /// One of these, chosen by the kind of the value.
    OneOf(&'static [Alt]),
    /// This shape, or null.
    OrNull(&'static Shape),
}

/// One alternative of [`Shape::OneOf`], available from a version on.
#[derive(Debug)]
pub(crate) struct Alt {
    /// The first 3.x minor version that allows it.
    pub since: u8,
    /// The shape.
    pub shape: Shape,
}

/// A mapping with known keys.
#[derive(Debug)]
pub(crate) struct Object {
    /// The keys.
    pub props: &'static [Prop],
    /// From which minor version `x-*` keys are allowed, if at all.
    pub extensions: Option<u8>,
    /// Whether unknown keys are allowed.
    pub open: bool,
    /// Keys that must be present.
    pub required: &'static [&'static str],
}

/// One key of an [`Object`].
#[derive(Debug)]
pub(crate) struct Prop {
    /// The key.
    pub name: &'static str,
    /// The first 3.x minor version that allows it.
    pub since: u8,
    /// Its value.
    pub shape: Shape,
}

const fn prop(name: &'static str, since: u8, shape: Shape) -> Prop {
    Prop { name, since, shape }
}

const fn alt(since: u8, shape: Shape) -> Alt {
    Alt { since, shape }
}

const fn closed(props: &'static [Prop]) -> Object {
    Object {
        props,
        extensions: None,
        open: false,
        required: &[],
    }
}

const STRINGS: Shape = Shape::List {
    item: &Shape::Str,
    unique: false,
};
const UNIQUE_STRINGS: Shape = Shape::List {
    item: &Shape::Str,
    unique: true,
};
const STRING_OR_LIST: Shape = Shape::OneOf(&[alt(0, Shape::Str), alt(0, UNIQUE_STRINGS)]);
const LIST_OR_DICT: Shape = Shape::OneOf(&[
    alt(
        0,
        Shape::Dict(&Shape::Scalars(&[Scalar::Str, Scalar::Num, Scalar::Null])),
    ),
    alt(0, UNIQUE_STRINGS),
]);
const COMMAND: Shape = Shape::OneOf(&[alt(0, Shape::Str), alt(0, STRINGS)]);
const OPTIONS: Shape = Shape::Dict(&Shape::Scalars(&[Scalar::Str, Scalar::Num]));
const EXTERNAL: Shape = Shape::OneOf(&[
    alt(0, Shape::Bool),
    alt(0, Shape::Object(&closed(&[prop("name", 0, Shape::Str)]))),
]);

const FILE_REFERENCE: Shape = Shape::OneOf(&[
    alt(0, Shape::Str),
    alt(
        0,
        Shape::Object(&Object {
            props: &[
                prop("source", 0, Shape::Str),
                prop("target", 0, Shape::Str),
                prop("uid", 0, Shape::Str),
                prop("gid", 0, Shape::Str),
                prop("mode", 0, Shape::WholeNum),
            ],
            extensions: None,
            open: true,
            required: &[],
        }),
    ),
]);

const UPDATE_CONFIG: Object = closed(&[
    prop("parallelism", 0, Shape::UInt),
    prop("delay", 0, Shape::Duration),
    prop(
        "failure_action",
        0,
        Shape::Enum(&["pause", "continue", "rollback"]),
    ),
    prop("monitor", 0, Shape::Duration),
    prop("max_failure_ratio", 0, Shape::Num),
    prop("order", 4, Shape::Enum(&["start-first", "stop-first"])),
]);

const ROLLBACK_CONFIG: Object = closed(&[
    prop("parallelism", 0, Shape::UInt),
    prop("delay", 0, Shape::Duration),
    prop("failure_action", 0, Shape::Enum(&["pause", "continue"])),
    prop("monitor", 0, Shape::Duration),
    prop("max_failure_ratio", 0, Shape::Num),
    prop("order", 0, Shape::Enum(&["start-first", "stop-first"])),
]);

const GENERIC_RESOURCES: Shape = Shape::List {
    item: &Shape::Object(&closed(&[prop(
        "discrete_resource_spec",
        0,
        Shape::Object(&closed(&[
            prop("kind", 0, Shape::Str),
            prop("value", 0, Shape::Num),
        ])),
    )])),
    unique: false,
};

const DEPLOY: Object = closed(&[
    prop(
        "mode",
        0,
        Shape::Enum(&["replicated", "global", "replicated-job", "global-job"]),
    ),
    prop("endpoint_mode", 2, Shape::EnumIgnoreCase(&["vip", "dnsrr"])),
    prop("replicas", 0, Shape::UInt),
    prop("labels", 0, LIST_OR_DICT),
    prop("rollback_config", 7, Shape::Object(&ROLLBACK_CONFIG)),
    prop("update_config", 0, Shape::Object(&UPDATE_CONFIG)),
    prop(
        "resources",
        0,
        Shape::Object(&closed(&[
            prop(
                "limits",
                0,
                Shape::Object(&closed(&[
                    prop("cpus", 0, Shape::Cpus),
                    prop("memory", 0, Shape::Bytes),
                    prop("pids", 9, Shape::Int),
                ])),
            ),
            prop(
                "reservations",
                0,
                Shape::Object(&closed(&[
                    prop("cpus", 0, Shape::Cpus),
                    prop("memory", 0, Shape::Bytes),
                    prop("generic_resources", 5, GENERIC_RESOURCES),
                ])),
            ),
        ])),
    ),
    prop(
        "restart_policy",
        0,
        Shape::Object(&closed(&[
            prop("condition", 0, Shape::Enum(&["none", "on-failure", "any"])),
            prop("delay", 0, Shape::Duration),
            prop("max_attempts", 0, Shape::UInt),
            prop("window", 0, Shape::Duration),
        ])),
    ),
    prop(
        "placement",
        0,
        Shape::Object(&closed(&[
            prop("constraints", 0, STRINGS),
            prop(
                "preferences",
                3,
                Shape::List {
                    item: &Shape::Object(&closed(&[prop("spread", 0, Shape::Str)])),
                    unique: false,
                },
            ),
            prop("max_replicas_per_node", 8, Shape::UInt),
        ])),
    ),
]);

const HEALTHCHECK: Object = closed(&[
    prop("disable", 0, Shape::Bool),
    prop("interval", 0, Shape::Duration),
    prop("retries", 0, Shape::WholeNum),
    prop("test", 0, COMMAND),
    prop("timeout", 0, Shape::Duration),
    prop("start_period", 4, Shape::Duration),
    prop("start_interval", 12, Shape::Duration),
]);

const SERVICE_NETWORK: Shape = Shape::OneOf(&[
    alt(
        0,
        Shape::Object(&closed(&[
            prop("aliases", 0, UNIQUE_STRINGS),
            prop("driver_opts", 13, OPTIONS),
            prop("ipv4_address", 0, Shape::Str),
            prop("ipv6_address", 0, Shape::Str),
        ])),
    ),
    alt(0, Shape::Scalars(&[Scalar::Null])),
]);

const PORT: Shape = Shape::OneOf(&[
    alt(0, Shape::UInt),
    alt(0, Shape::Str),
    alt(
        2,
        Shape::Object(&closed(&[
            prop("mode", 0, Shape::Enum(&["ingress", "host"])),
            prop("target", 0, Shape::UInt),
            prop("published", 0, Shape::UInt),
            prop("protocol", 0, Shape::Enum(&["tcp", "udp", "sctp"])),
        ])),
    ),
]);

const SERVICE_VOLUME: Shape = Shape::OneOf(&[
    alt(0, Shape::Str),
    alt(
        2,
        Shape::Object(&Object {
            props: &[
                prop(
                    "type",
                    0,
                    Shape::Enum(&["volume", "bind", "tmpfs", "npipe"]),
                ),
                prop("source", 0, Shape::Str),
                prop("target", 0, Shape::Str),
                prop("read_only", 0, Shape::Bool),
                prop(
                    "consistency",
                    0,
                    Shape::Enum(&["default", "consistent", "cached", "delegated"]),
                ),
                prop(
                    "bind",
                    0,
                    Shape::Object(&Object {
                        props: &[prop(
                            "propagation",
                            0,
                            Shape::Enum(&[
                                "rprivate", "private", "rshared", "shared", "rslave", "slave",
                            ]),
                        )],
                        extensions: None,
                        open: true,
                        required: &[],
                    }),
                ),
                prop(
                    "volume",
                    0,
                    Shape::Object(&Object {
                        props: &[prop("nocopy", 0, Shape::Bool)],
                        extensions: None,
                        open: true,
                        required: &[],
                    }),
                ),
                prop(
                    "tmpfs",
                    6,
                    Shape::Object(&Object {
                        props: &[prop("size", 0, Shape::UInt)],
                        extensions: None,
                        open: true,
                        required: &[],
                    }),
                ),
            ],
            extensions: None,
            open: false,
            required: &["type"],
        }),
    ),
]);

const ULIMIT: Shape = Shape::OneOf(&[
    alt(0, Shape::Int),
    alt(
        0,
        Shape::Object(&Object {
            props: &[prop("hard", 0, Shape::Int), prop("soft", 0, Shape::Int)],
            extensions: None,
            open: false,
            required: &["soft", "hard"],
        }),
    ),
]);

const BUILD: Shape = Shape::OneOf(&[
    alt(0, Shape::Str),
    alt(
        0,
        Shape::Object(&Object {
            props: &[],
            extensions: None,
            open: true,
            required: &[],
        }),
    ),
]);

/// A service.
pub(crate) const SERVICE: Object = Object {
    props: &[
        prop("deploy", 0, Shape::OrNull(&Shape::Object(&DEPLOY))),
        prop("build", 0, BUILD),
        prop("cap_add", 0, UNIQUE_STRINGS),
        prop("cap_drop", 0, UNIQUE_STRINGS),
        prop("cgroupns_mode", 9, Shape::Str),
        prop("cgroup_parent", 0, Shape::Str),
        prop("command", 0, COMMAND),
        prop(
            "configs",
            3,
            Shape::List {
                item: &FILE_REFERENCE,
                unique: false,
            },
        ),
        prop("container_name", 0, Shape::Str),
        prop(
            "credential_spec",
            3,
            Shape::Object(&closed(&[
                prop("config", 8, Shape::Str),
                prop("file", 0, Shape::Str),
                prop("registry", 0, Shape::Str),
            ])),
        ),
        prop("depends_on", 0, UNIQUE_STRINGS),
        prop("devices", 0, UNIQUE_STRINGS),
        prop("dns", 0, STRING_OR_LIST),
        prop("dns_search", 0, STRING_OR_LIST),
        prop("domainname", 0, Shape::Str),
        prop("entrypoint", 0, COMMAND),
        prop("env_file", 0, STRING_OR_LIST),
        prop("environment", 0, LIST_OR_DICT),
        prop(
            "expose",
            0,
            Shape::List {
                item: &Shape::Scalars(&[Scalar::Str, Scalar::Num]),
                unique: true,
            },
        ),
        prop("external_links", 0, UNIQUE_STRINGS),
        prop("extra_hosts", 0, LIST_OR_DICT),
        prop("healthcheck", 0, Shape::Object(&HEALTHCHECK)),
        prop("hostname", 0, Shape::Str),
        prop("image", 0, Shape::Str),
        prop("init", 7, Shape::Bool),
        prop("ipc", 0, Shape::Str),
        prop("isolation", 5, Shape::Str),
        prop("labels", 0, LIST_OR_DICT),
        prop("links", 0, UNIQUE_STRINGS),
        prop(
            "logging",
            0,
            Shape::Object(&closed(&[
                prop("driver", 0, Shape::Str),
                prop(
                    "options",
                    0,
                    Shape::Dict(&Shape::Scalars(&[Scalar::Str, Scalar::Num, Scalar::Null])),
                ),
            ])),
        ),
        prop("mac_address", 0, Shape::Str),
        prop("network_mode", 0, Shape::Str),
        prop(
            "networks",
            0,
            Shape::OneOf(&[
                alt(0, UNIQUE_STRINGS),
                alt(
                    0,
                    Shape::Named {
                        value: &SERVICE_NETWORK,
                        lowercase: false,
                    },
                ),
            ]),
        ),
        prop("pid", 0, Shape::Scalars(&[Scalar::Str, Scalar::Null])),
        prop(
            "ports",
            0,
            Shape::List {
                item: &PORT,
                unique: true,
            },
        ),
        prop("privileged", 0, Shape::Bool),
        prop("read_only", 0, Shape::Bool),
        prop("restart", 0, Shape::Str),
        prop("security_opt", 0, UNIQUE_STRINGS),
        prop("shm_size", 0, Shape::Scalars(&[Scalar::Num, Scalar::Str])),
        prop(
            "secrets",
            1,
            Shape::List {
                item: &FILE_REFERENCE,
                unique: false,
            },
        ),
        prop("sysctls", 0, LIST_OR_DICT),
        prop("stdin_open", 0, Shape::Bool),
        prop("stop_grace_period", 0, Shape::Duration),
        prop("stop_signal", 0, Shape::Str),
        prop("tmpfs", 0, STRING_OR_LIST),
        prop("tty", 0, Shape::Bool),
        prop(
            "ulimits",
            0,
            Shape::Named {
                value: &ULIMIT,
                lowercase: true,
            },
        ),
        prop("oom_score_adj", 13, Shape::Int),
        prop("user", 0, Shape::Str),
        prop("userns_mode", 0, Shape::Str),
        prop(
            "volumes",
            0,
            Shape::List {
                item: &SERVICE_VOLUME,
                unique: false,
            },
        ),
        prop("working_dir", 0, Shape::Str),
    ],
    extensions: Some(7),
    open: false,
    required: &[],
};

const NETWORK: Object = Object {
    props: &[
        prop("name", 5, Shape::Str),
        prop("driver", 0, Shape::Str),
        prop("driver_opts", 0, OPTIONS),
        prop(
            "ipam",
            0,
            Shape::Object(&closed(&[
                prop("driver", 0, Shape::Str),
                prop(
                    "config",
                    0,
                    Shape::List {
                        item: &Shape::Object(&closed(&[prop("subnet", 0, Shape::Str)])),
                        unique: false,
                    },
                ),
            ])),
        ),
        prop("external", 0, EXTERNAL),
        prop("internal", 0, Shape::Bool),
        prop("attachable", 2, Shape::Bool),
        prop("labels", 0, LIST_OR_DICT),
    ],
    extensions: Some(7),
    open: false,
    required: &[],
};

const VOLUME: Object = Object {
    props: &[
        prop("name", 4, Shape::Str),
        prop("driver", 0, Shape::Str),
        prop("driver_opts", 0, OPTIONS),
        prop("external", 0, EXTERNAL),
        prop("labels", 0, LIST_OR_DICT),
        prop("x-cluster-spec", 7, Shape::Any),
    ],
    extensions: Some(7),
    open: false,
    required: &[],
};

const SECRET: Object = Object {
    props: &[
        prop("name", 5, Shape::Str),
        prop("file", 0, Shape::Str),
        prop("external", 0, EXTERNAL),
        prop("labels", 0, LIST_OR_DICT),
        prop("driver", 8, Shape::Str),
        prop("driver_opts", 8, OPTIONS),
        prop("template_driver", 8, Shape::Str),
    ],
    extensions: Some(7),
    open: false,
    required: &[],
};

const CONFIG: Object = Object {
    props: &[
        prop("name", 5, Shape::Str),
        prop("file", 0, Shape::Str),
        prop("external", 0, EXTERNAL),
        prop("labels", 0, LIST_OR_DICT),
        prop("template_driver", 8, Shape::Str),
    ],
    extensions: Some(7),
    open: false,
    required: &[],
};

/// A whole Compose file.
pub(crate) const FILE: Object = Object {
    props: &[
        prop("version", 0, Shape::Str),
        prop(
            "services",
            0,
            Shape::Named {
                value: &Shape::Object(&SERVICE),
                lowercase: false,
            },
        ),
        prop(
            "networks",
            0,
            Shape::Named {
                value: &Shape::OrNull(&Shape::Object(&NETWORK)),
                lowercase: false,
            },
        ),
        prop(
            "volumes",
            0,
            Shape::Named {
                value: &Shape::OrNull(&Shape::Object(&VOLUME)),
                lowercase: false,
            },
        ),
        prop(
            "secrets",
            1,
            Shape::Named {
                value: &Shape::Object(&SECRET),
                lowercase: false,
            },
        ),
        prop(
            "configs",
            3,
            Shape::Named {
                value: &Shape::Object(&CONFIG),
                lowercase: false,
            },
        ),
    ],
    extensions: Some(4),
    open: false,
    required: &[],
};

/// Service keys the CLI refuses outright, with its advice.
pub(crate) const FORBIDDEN: &[(&str, &str)] = &[
    ("extends", "Support for `extends` is not implemented yet."),
    (
        "volume_driver",
        "Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there.",
    ),
    (
        "volumes_from",
        "To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.",
    ),
    ("cpu_quota", "Set resource limits using deploy.resources"),
    ("cpu_shares", "Set resource limits using deploy.resources"),
    ("cpuset", "Set resource limits using deploy.resources"),
    ("mem_limit", "Set resource limits using deploy.resources"),
    (
        "memswap_limit",
        "Set resource limits using deploy.resources",
    ),
];

/// Validates `node` as a whole file of Compose version `3.<minor>`.
pub(crate) fn validate_file(root: &Node, minor: u8, report: &mut Report) {
    Validator { minor, report }.object(root, &FILE, &FieldPath::root());
}

struct Validator<'r> {
    minor: u8,
    report: &'r mut Report,
}

impl Validator<'_> {
    fn shape(&mut self, node: &Node, shape: &Shape, path: &FieldPath) {
        let fail =
            |v: &mut Self, what: &str| v.report.problem(path, node.line, format!("must be {what}"));
        match shape {
            Shape::Any => {}
            Shape::Str => {
                if node.as_str().is_none() {
                    fail(self, "a string");
                }
            }
            Shape::Duration => self.formatted(node, path, parse_duration),
            Shape::Bytes => self.formatted(node, path, parse_bytes),
            Shape::Cpus => self.formatted(node, path, check_cpus),
            Shape::Enum(values) | Shape::EnumIgnoreCase(values) => match node.as_str() {
                None => fail(self, "a string"),
                Some(text) => {
                    let matches = |v: &&str| match shape {
                        Shape::EnumIgnoreCase(_) => v.eq_ignore_ascii_case(text),
                        _ => *v == text,
                    };
                    if !values.iter().any(matches) {
                        let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
                        fail(
                            self,
                            &format!("one of {} (it is {text:?})", list.join(", ")),
                        );
                    }
                }
            },
            Shape::Int => {
                if integer(&node.value).is_none() {
                    fail(self, "an integer");
                }
            }
            Shape::UInt => match integer(&node.value) {
                None => fail(self, "an integer"),
                Some(i) if i < 0 => fail(self, "an integer of 0 or more"),
                Some(_) => {}
            },
            Shape::Num => {
                if !matches!(node.value, Value::Int(_) | Value::Float(_)) {
                    fail(self, "a number");
                }
            }
            Shape::WholeNum => match &node.value {
                Value::Int(i) if *i >= 0 => {}
                Value::Float(f) if *f >= 0.0 && f.fract() == 0.0 => {}
                Value::Int(_) | Value::Float(_) => fail(self, "a whole number of 0 or more"),
                _ => fail(self, "a number"),
            },
            Shape::Bool => {
                if !matches!(node.value, Value::Bool(_)) {
                    fail(self, "a boolean (true or false)");
                }
            }
            Shape::Scalars(kinds) => {
                if !kinds.iter().any(|k| scalar_accepts(*k, &node.value)) {
                    fail(self, &describe(shape));
                }
            }
            Shape::List { item, unique } => {
                match node.as_seq() {
                    None => fail(self, "a list"),
                    Some(items) => {
                        for (i, child) in items.iter().enumerate() {
                            self.shape(child, item, &path.index(i));
                            if *unique
                                && let Some(first) = items[..i]
                                    .iter()
                                    .position(|earlier| earlier.value == child.value)
                            {
                                self.report.problem(
                                &path.index(i),
                                child.line,
                                format!("repeats item {first}; the items of this list must be unique"),
                            );
                            }
                        }
                    }
                }
            }
            Shape::Object(object) => self.object(node, object, path),
            Shape::Named { value, lowercase } => match node.as_map() {
                None => fail(self, "a mapping"),
                Some(entries) => {
                    for entry in entries {
                        let child = path.key(&entry.key);
                        if !is_valid_name(&entry.key, *lowercase) {
                            let rule = if *lowercase {
                                "use lowercase letters only"
                            } else {
                                "use letters, digits, '.', '_' and '-' only"
                            };
                            self.report.problem(
                                &child,
                                entry.line,
                                format!("is not a valid name: {rule}"),
                            );
                            continue;
                        }
                        self.shape(&entry.value, value, &child);
                    }
                }
            },
            Shape::Dict(value) => match node.as_map() {
                None => fail(self, "a mapping"),
                Some(entries) => {
                    for entry in entries {
                        let child = path.key(&entry.key);
                        if entry.key.is_empty() {
                            self.report.problem(&child, entry.line, "has an empty key");
                            continue;
                        }
                        self.shape(&entry.value, value, &child);
                    }
                }
            },
            Shape::OneOf(alts) => self.one_of(node, alts, path),
            Shape::OrNull(inner) => {
                if !node.is_null() {
                    self.shape(node, inner, path);
                }
            }
        }
    }

    fn formatted<T>(
        &mut self,
        node: &Node,
        path: &FieldPath,
        check: impl Fn(&str) -> Result<T, String>,
    ) {
        match node.as_str() {
            None => self.report.problem(path, node.line, "must be a string"),
            Some(text) => {
                if let Err(message) = check(text) {
                    self.report
                        .problem(path, node.line, format!("is invalid: {message}"));
                }
            }
        }
    }

    fn one_of(&mut self, node: &Node, alts: &[Alt], path: &FieldPath) {
        let available: Vec<&Alt> = alts.iter().filter(|a| a.since <= self.minor).collect();
        if let Some(chosen) = available
            .iter()
            .find(|a| kind_accepts(&a.shape, &node.value))
        {
            self.shape(node, &chosen.shape, path);
            return;
        }
        let wanted: Vec<String> = available.iter().map(|a| describe(&a.shape)).collect();
        let mut message = format!("must be {}", join_or(&wanted));
        if let Some(later) = alts
            .iter()
            .find(|a| a.since > self.minor && kind_accepts(&a.shape, &node.value))
        {
            message.push_str(&format!(
                "; {} here needs Compose file version 3.{} or later",
                describe(&later.shape),
                later.since
            ));
        }
        self.report.problem(path, node.line, message);
    }

    fn object(&mut self, node: &Node, object: &Object, path: &FieldPath) {
        let Some(entries) = node.as_map() else {
            self.report.problem(path, node.line, "must be a mapping");
            return;
        };
        for entry in entries {
            let child = path.key(&entry.key);
            if let Some(prop) = object.props.iter().find(|p| p.name == entry.key) {
                if prop.since > self.minor {
                    let message = format!(
                        "needs Compose file version 3.{} or later (this file is version 3.{}); raise `version` or remove the key",
                        prop.since, self.minor
                    );
                    self.report.problem(&child, entry.line, message);
                } else {
                    self.shape(&entry.value, &prop.shape, &child);
                }
                continue;
            }
            if entry.key.starts_with("x-")
                && let Some(since) = object.extensions
            {
                if since > self.minor {
                    let message = format!(
                        "is an extension key, which needs Compose file version 3.{since} or later here (this file is version 3.{})",
                        self.minor
                    );
                    self.report.problem(&child, entry.line, message);
                }
                continue;
            }
            if object.open
                || (std::ptr::eq(object, &SERVICE)
                    && FORBIDDEN.iter().any(|(k, _)| *k == entry.key))
            {
                continue;
            }
            self.report.problem(
                &child,
                entry.line,
                "is not a known key here; check its spelling and indentation",
            );
        }
        for required in object.required {
            if !entries.iter().any(|e| e.key == *required) {
                self.report
                    .problem(path, node.line, format!("needs the key `{required}`"));
            }
        }
    }
}

/// The value as an integer, if it is one (a float without fraction counts,
/// as it does for the CLI's JSON-schema library).
pub(crate) fn integer(value: &Value) -> Option<i128> {
    match value {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i128),
        _ => None,
    }
}

fn is_valid_name(name: &str, lowercase: bool) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            if lowercase {
                b.is_ascii_lowercase()
            } else {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
            }
        })
}

fn scalar_accepts(kind: Scalar, value: &Value) -> bool {
    matches!(
        (kind, value),
        (Scalar::Str, Value::Str(_))
            | (Scalar::Num, Value::Int(_) | Value::Float(_))
            | (Scalar::Null, Value::Null)
    )
}

/// Whether `shape` is meant for values of this kind (the value may still
/// be wrong inside).
fn kind_accepts(shape: &Shape, value: &Value) -> bool {
    match shape {
        Shape::Any => true,
        Shape::Str
        | Shape::Duration
        | Shape::Bytes
        | Shape::Cpus
        | Shape::Enum(_)
        | Shape::EnumIgnoreCase(_) => {
            matches!(value, Value::Str(_))
        }
        Shape::Int | Shape::UInt => integer(value).is_some(),
        Shape::Num | Shape::WholeNum => matches!(value, Value::Int(_) | Value::Float(_)),
        Shape::Bool => matches!(value, Value::Bool(_)),
        Shape::Scalars(kinds) => kinds.iter().any(|k| scalar_accepts(*k, value)),
        Shape::List { .. } => matches!(value, Value::Seq(_)),
        Shape::Object(_) | Shape::Named { .. } | Shape::Dict(_) => matches!(value, Value::Map(_)),
        Shape::OneOf(alts) => alts.iter().any(|a| kind_accepts(&a.shape, value)),
        Shape::OrNull(inner) => value == &Value::Null || kind_accepts(inner, value),
    }
}

/// "a string", "an integer", "a string or a list"...
fn describe(shape: &Shape) -> String {
    match shape {
        Shape::Any => "anything".into(),
        Shape::Str
        | Shape::Duration
        | Shape::Bytes
        | Shape::Cpus
        | Shape::Enum(_)
        | Shape::EnumIgnoreCase(_) => "a string".into(),
        Shape::Int | Shape::UInt => "an integer".into(),
        Shape::Num | Shape::WholeNum => "a number".into(),
        Shape::Bool => "a boolean".into(),
        Shape::Scalars(kinds) => {
            let names: Vec<String> = kinds
                .iter()
                .map(|k| {
                    match k {
                        Scalar::Str => "a string",
                        Scalar::Num => "a number",
                        Scalar::Null => "null",
                    }
                    .to_owned()
                })
                .collect();
            join_or(&names)
        }
        Shape::List { item, .. } => match item {
            Shape::Str => "a list of strings".into(),
            _ => "a list".into(),
        },
        Shape::Object(_) | Shape::Named { .. } | Shape::Dict(_) => "a mapping".into(),
        Shape::OneOf(alts) => {
            let names: Vec<String> = alts.iter().map(|a| describe(&a.shape)).collect();
            join_or(&names)
        }
        Shape::OrNull(inner) => format!("{} or null", describe(inner)),
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::tree::parse_document;

    fn problems(text: &str, minor: u8) -> Vec<String> {
        let root = parse_document(text).unwrap().unwrap();
        let mut report = Report::new(Path::new("c.yml"));
        validate_file(&root, minor, &mut report);
        report.problems.iter().map(ToString::to_string).collect()
    }

    fn service(body: &str) -> String {
        format!("services:\n  web:\n    image: x\n{body}")
    }

    #[test]
    fn a_complete_valid_file_has_no_problems() {
        let text = concat!(
            "version: \"3.13\"\n",
            "x-common: &common {a: 1}\n",
            "services:\n",
            "  web:\n",
            "    image: nginx\n",
            "    command: [\"a\", \"b\"]\n",
            "    environment: {A: 1, B: x, C: null, D: 1.5}\n",
            "    labels: [\"a=b\"]\n",
            "    ports: [80, \"81:81\", {target: 82, published: 8082, mode: host, protocol: udp}]\n",
            "    volumes: [\"data:/data\", {type: bind, source: ./x, target: /x, bind: {propagation: rshared}}]\n",
            "    secrets: [s, {source: s, target: t, uid: \"1\", gid: \"1\", mode: 0444}]\n",
            "    networks: {front: {aliases: [a]}, back: null}\n",
            "    healthcheck: {test: [\"CMD\", \"true\"], interval: 10s, retries: 3, start_period: 1m}\n",
            "    ulimits: {nofile: {soft: 1, hard: 2}, nproc: 5}\n",
            "    stop_grace_period: 1m30s\n",
            "    x-meta: {anything: [1]}\n",
            "    deploy:\n",
            "      mode: replicated\n",
            "      replicas: 2\n",
            "      endpoint_mode: VIP\n",
            "      resources: {limits: {cpus: \"0.5\", memory: 512M, pids: 10}, reservations: {memory: 1g}}\n",
            "      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3}\n",
            "      update_config: {parallelism: 2, order: start-first, failure_action: rollback}\n",
            "      placement: {constraints: [\"node.role==manager\"], preferences: [{spread: node.id}], max_replicas_per_node: 1}\n",
            "networks:\n  front:\n  back: {driver: overlay, attachable: true, external: false}\n",
            "volumes:\n  data: {}\n",
            "secrets:\n  s: {file: ./s.txt}\n",
            "configs:\n  c: {external: {name: c1}}\n",
        );
        assert_eq!(problems(text, 13), Vec::<String>::new());
    }

    #[test]
    fn each_rule_reports_its_message_and_line() {
        let cases: &[(&str, &str)] = &[
            (
                "    foo: 1\n",
                "c.yml:4: services.web.foo is not a known key here; check its spelling and indentation",
            ),
            (
                "    read_only: \"yes\"\n",
                "c.yml:4: services.web.read_only must be a boolean (true or false)",
            ),
            (
                "    deploy:\n      replicas: \"3\"\n",
                "c.yml:5: services.web.deploy.replicas must be an integer",
            ),
            (
                "    deploy:\n      replicas: -1\n",
                "c.yml:5: services.web.deploy.replicas must be an integer of 0 or more",
            ),
            (
                "    deploy:\n      mode: daemon\n",
                "c.yml:5: services.web.deploy.mode must be one of \"replicated\", \"global\", \"replicated-job\", \"global-job\" (it is \"daemon\")",
            ),
            (
                "    deploy:\n      restart_policy: {condition: always}\n",
                "c.yml:5: services.web.deploy.restart_policy.condition must be one of \"none\", \"on-failure\", \"any\" (it is \"always\")",
            ),
            (
                "    command: 1\n",
                "c.yml:4: services.web.command must be a string or a list of strings",
            ),
            (
                "    environment: \"A=1\"\n",
                "c.yml:4: services.web.environment must be a mapping or a list of strings",
            ),
            (
                "    environment: {A: true}\n",
                "c.yml:4: services.web.environment.A must be a string, a number or null",
            ),
            (
                "    cap_add: [A, B, A]\n",
                "c.yml:4: services.web.cap_add[2] repeats item 0; the items of this list must be unique",
            ),
            (
                "    stop_grace_period: 10\n",
                "c.yml:4: services.web.stop_grace_period must be a string",
            ),
            (
                "    stop_grace_period: 1x\n",
                "c.yml:4: services.web.stop_grace_period is invalid: \"1x\" is not a duration: unknown unit \"x\" (use h, m, s, ms, us or ns)",
            ),
            (
                "    deploy:\n      resources:\n        limits: {memory: 12q}\n",
                "c.yml:6: services.web.deploy.resources.limits.memory is invalid: \"12q\" has an unknown unit \"q\": use b, k, m, g, t or p (binary multiples)",
            ),
            (
                "    deploy:\n      resources:\n        limits: {cpus: 0.5}\n",
                "c.yml:6: services.web.deploy.resources.limits.cpus must be a string",
            ),
            (
                "    ports: [1.5]\n",
                "c.yml:4: services.web.ports[0] must be an integer, a string or a mapping",
            ),
            (
                "    ports: [{target: 80, foo: 1}]\n",
                "c.yml:4: services.web.ports[0].foo is not a known key here; check its spelling and indentation",
            ),
            (
                "    volumes: [{source: a, target: /a}]\n",
                "c.yml:4: services.web.volumes[0] needs the key `type`",
            ),
            (
                "    ulimits: {nofile: {soft: 1}}\n",
                "c.yml:4: services.web.ulimits.nofile needs the key `hard`",
            ),
            (
                "    ulimits: {NOFILE: 1}\n",
                "c.yml:4: services.web.ulimits.NOFILE is not a valid name: use lowercase letters only",
            ),
            (
                "    networks: {front: 1}\n",
                "c.yml:4: services.web.networks.front must be a mapping or null",
            ),
            (
                "    healthcheck: {retries: 1.5}\n",
                "c.yml:4: services.web.healthcheck.retries must be a whole number of 0 or more",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(
                problems(&service(body), 13),
                vec![(*want).to_owned()],
                "{body}"
            );
        }
    }

    #[test]
    fn keys_newer_than_the_file_version_name_the_version_they_need() {
        let cases: &[(&str, u8, &str)] = &[
            (
                "    init: true\n",
                6,
                "c.yml:4: services.web.init needs Compose file version 3.7 or later (this file is version 3.6); raise `version` or remove the key",
            ),
            (
                "    x-foo: 1\n",
                6,
                "c.yml:4: services.web.x-foo is an extension key, which needs Compose file version 3.7 or later here (this file is version 3.6)",
            ),
            (
                "    ports: [{target: 80}]\n",
                1,
                "c.yml:4: services.web.ports[0] must be an integer or a string; a mapping here needs Compose file version 3.2 or later",
            ),
            (
                "    secrets: []\n",
                0,
                "c.yml:4: services.web.secrets needs Compose file version 3.1 or later (this file is version 3.0); raise `version` or remove the key",
            ),
        ];
        for (body, minor, want) in cases {
            assert_eq!(
                problems(&service(body), *minor),
                vec![(*want).to_owned()],
                "{body}"
            );
        }
        assert_eq!(
            problems(&service("    init: true\n"), 7),
            Vec::<String>::new()
        );
    }

    #[test]
    fn top_level_rules() {
        let cases: &[(&str, &str)] = &[
            ("services: []\n", "c.yml:1: services must be a mapping"),
            (
                "services:\n  web:\n",
                "c.yml:2: services.web must be a mapping",
            ),
            (
                "services:\n  \"my web\": {image: x}\n",
                "c.yml:2: services.my web is not a valid name: use letters, digits, '.', '_' and '-' only",
            ),
            ("version: 3.8\n", "c.yml:1: version must be a string"),
            (
                "foo: 1\n",
                "c.yml:1: foo is not a known key here; check its spelling and indentation",
            ),
            ("secrets:\n  s:\n", "c.yml:2: secrets.s must be a mapping"),
            (
                "networks:\n  n: {foo: 1}\n",
                "c.yml:2: networks.n.foo is not a known key here; check its spelling and indentation",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(problems(text, 13), vec![(*want).to_owned()], "{text}");
        }
        assert_eq!(
            problems("networks:\n  n:\nvolumes:\n  v:\nx-a: 1\n", 13),
            Vec::<String>::new()
        );
    }

    #[test]
    fn forbidden_keys_are_left_to_their_own_check() {
        assert_eq!(
            problems(&service("    extends: x\n    mem_limit: 1g\n"), 13),
            Vec::<String>::new()
        );
    }
}
