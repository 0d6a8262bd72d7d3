//! `deploy.resources`: CPU counts in nano-CPUs, memory, pids and generic
//! resources, shaped as the CLI sends them (`Resources` is always present,
//! `Limits` and `Reservations` only when written).

use bollard_stubs::models::{
    GenericResourcesInner, GenericResourcesInnerDiscreteResourceSpec, Limit, ResourceObject,
    TaskSpecResources,
};

use super::{Problems, non_empty};
use crate::model::Resources;

/// Nano-CPUs in one CPU.
const NANOS_PER_CPU: i128 = 1_000_000_000;

/// Parses a CPU count (`"0.5"`, `"2"`, `"1e-3"`, `"3/2"`) into nano-CPUs, as
/// the CLI does with an exact rational number: anything finer than one
/// nano-CPU is refused rather than rounded.
pub fn parse_cpus(value: &str) -> Result<i64, String> {
    let (num, den) = parse_rational(value).ok_or_else(|| format!("invalid CPU count {value:?}"))?;
    let scaled = num
        .checked_mul(NANOS_PER_CPU)
        .ok_or_else(|| format!("CPU count {value:?} is too large"))?;
    if scaled % den != 0 {
        return Err(format!(
            "CPU count {value:?} is too precise: the unit is 0.000000001 CPU"
        ));
    }
    i64::try_from(scaled / den).map_err(|_| format!("CPU count {value:?} is too large"))
}

/// `num / den` with `den > 0`, for a decimal with optional exponent or a
/// fraction of two integers, optionally signed.
fn parse_rational(value: &str) -> Option<(i128, i128)> {
    if let Some((a, b)) = value.split_once('/') {
        let num = parse_int(a)?;
        let den = parse_int(b)?;
        if den == 0 {
            return None;
        }
        return Some(if den < 0 { (-num, -den) } else { (num, den) });
    }
    let (negative, rest) = match value.as_bytes().first()? {
        b'-' => (true, &value[1..]),
        b'+' => (false, &value[1..]),
        _ => (false, value),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], parse_int(&rest[i + 1..])?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut num: i128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        num = num.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let scale = i128::try_from(frac_part.len())
        .ok()?
        .checked_sub(exponent)?;
    let (num, den) = if scale >= 0 {
        (num, 10i128.checked_pow(u32::try_from(scale).ok()?)?)
    } else {
        (
            num.checked_mul(10i128.checked_pow(u32::try_from(-scale).ok()?)?)?,
            1,
        )
    };
    Some((if negative { -num } else { num }, den))
}

fn parse_int(s: &str) -> Option<i128> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `deploy.resources` as the task's `Resources`; `path` is the service's.
pub(super) fn resources(
    source: &Resources,
    path: &str,
    problems: &mut Problems,
) -> TaskSpecResources {
    let mut cpus = |value: &Option<String>, field: &str| -> Option<i64> {
        let value = value.as_deref().filter(|v| !v.is_empty())?;
        match parse_cpus(value) {
            Ok(0) => None,
            Ok(n) => Some(n),
            Err(message) => {
                problems.push(format!("{path}.deploy.resources.{field}.cpus"), message);
                None
            }
        }
    };
    let limits = source.limits.as_ref().map(|l| Limit {
        nano_cpus: cpus(&l.cpus, "limits"),
        memory_bytes: l.memory.filter(|m| *m != 0),
        pids: l.pids.filter(|p| *p != 0),
    });
    let reservations = source.reservations.as_ref().map(|r| ResourceObject {
        nano_cpus: cpus(&r.cpus, "reservations"),
        memory_bytes: r.memory.filter(|m| *m != 0),
        generic_resources: non_empty(
            r.generic_resources
                .iter()
                .map(|g| GenericResourcesInner {
                    named_resource_spec: None,
                    discrete_resource_spec: Some(GenericResourcesInnerDiscreteResourceSpec {
                        kind: non_empty(g.kind.clone()),
                        value: Some(g.value).filter(|v| *v != 0),
                    }),
                })
                .collect(),
        ),
    });
    TaskSpecResources {
        limits,
        reservations,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GenericResource, ResourceLimit};

    #[test]
    fn cpu_counts_are_exact() {
        let ok: &[(&str, i64)] = &[
            ("1", 1_000_000_000),
            ("0.5", 500_000_000),
            (".5", 500_000_000),
            ("2.", 2_000_000_000),
            ("0.000000001", 1),
            ("1e-3", 1_000_000),
            ("1.5E1", 15_000_000_000),
            ("3/2", 1_500_000_000),
            ("+0.25", 250_000_000),
            ("-1", -1_000_000_000),
            ("0", 0),
            ("0.0000000010", 1),
        ];
        for (input, want) in ok {
            assert_eq!(parse_cpus(input), Ok(*want), "{input}");
        }
        for input in [
            "", ".", "a", "1.2.3", "1e", "1/0", "0x10", " 1", "1 ", "--1", "1/2/3", "e3",
        ] {
            assert!(parse_cpus(input).is_err(), "{input:?} should be refused");
        }
        assert_eq!(
            parse_cpus("0.0000000001"),
            Err("CPU count \"0.0000000001\" is too precise: the unit is 0.000000001 CPU".into())
        );
        assert!(parse_cpus("1e30").unwrap_err().contains("too large"));
    }

    #[test]
    fn resources_keep_the_clis_shape() {
        let mut problems = Problems::default();
        assert_eq!(
            resources(&Resources::default(), "services.web", &mut problems),
            TaskSpecResources::default()
        );

        let source = Resources {
            limits: Some(ResourceLimit {
                cpus: Some("0.5".into()),
                memory: Some(1 << 20),
                pids: Some(10),
                ..Default::default()
            }),
            reservations: Some(ResourceLimit {
                cpus: Some("0.25".into()),
                memory: Some(0),
                generic_resources: vec![GenericResource {
                    kind: "gpu".into(),
                    value: 2,
                }],
                ..Default::default()
            }),
        };
        let got = resources(&source, "services.web", &mut problems);
        assert!(problems.is_empty());
        assert_eq!(
            got,
            TaskSpecResources {
                limits: Some(Limit {
                    nano_cpus: Some(500_000_000),
                    memory_bytes: Some(1 << 20),
                    pids: Some(10)
                }),
                reservations: Some(ResourceObject {
                    nano_cpus: Some(250_000_000),
                    memory_bytes: None,
                    generic_resources: Some(vec![GenericResourcesInner {
                        named_resource_spec: None,
                        discrete_resource_spec: Some(GenericResourcesInnerDiscreteResourceSpec {
                            kind: Some("gpu".into()),
                            value: Some(2),
                        }),
                    }]),
                }),
                ..Default::default()
            }
        );

        // An empty block is still sent, as an empty object.
        let empty_limits = Resources {
            limits: Some(ResourceLimit::default()),
            reservations: None,
        };
        let got = resources(&empty_limits, "services.web", &mut problems);
        assert_eq!(got.limits, Some(Limit::default()));
    }

    #[test]
    fn bad_cpu_counts_name_the_field() {
        let mut problems = Problems::default();
        let source = Resources {
            limits: Some(ResourceLimit {
                cpus: Some("lots".into()),
                ..Default::default()
            }),
            reservations: Some(ResourceLimit {
                cpus: Some("1e-10".into()),
                ..Default::default()
            }),
        };
        resources(&source, "services.web", &mut problems);
        let got: Vec<String> = problems
            .list
            .iter()
            .map(|p| format!("{} {}", p.location.path, p.message))
            .collect();
        assert_eq!(
            got,
            [
                "services.web.deploy.resources.limits.cpus invalid CPU count \"lots\"",
                "services.web.deploy.resources.reservations.cpus CPU count \"1e-10\" is too precise: the unit is 0.000000001 CPU",
            ]
        );
    }
}
