//! The short syntax of `ports` (`[ip:][published:]target[/protocol]`, with
//! ranges), expanded into long-form ports exactly as the CLI does with
//! `nat.ParsePortSpec` and `ConvertPortToPortConfig`.

use std::net::IpAddr;

use crate::model::Port;

/// The ports a short-syntax entry stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShortPorts {
    /// The ports, in the CLI's order (sorted by `port/protocol` text).
    pub ports: Vec<Port>,
    /// A host IP that swarm ignores (it publishes on every address).
    pub ignored_ip: Option<String>,
}

/// Expands one short-syntax entry.
pub(crate) fn parse_port_spec(spec: &str) -> Result<ShortPorts, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [container] => ("".to_owned(), "", *container),
        [host, container] => ("".to_owned(), *host, *container),
        [ip, host, container] => ((*ip).to_owned(), *host, *container),
        [ip @ .., host, container] => (ip.join(":"), *host, *container),
        [] => ("".to_owned(), "", ""),
    };
    let (protocol, container) = split_protocol(container);
    let ip = if let Some(inner) = ip.strip_prefix('[') {
        inner
            .strip_suffix(']')
            .filter(|i| !i.contains(['[', ']']))
            .ok_or_else(|| format!("invalid IP address {ip}"))?
            .to_owned()
    } else {
        ip
    };
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no container port in {spec:?}"));
    }
    let (start, end) =
        port_range(container).ok_or_else(|| format!("invalid container port: {container}"))?;
    let (host_start, host_end) = if host.is_empty() {
        (0, 0)
    } else {
        port_range(host).ok_or_else(|| format!("invalid published port: {host}"))?
    };
    if !host.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "the container port range {container} and the published range {host} have different lengths"
        ));
    }
    let protocol = protocol.to_ascii_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!(
            "invalid protocol {protocol:?}: use tcp, udp or sctp"
        ));
    }
    // One binding per container port, keyed like the CLI's map so the order
    // is the same (text order: "100/tcp" before "99/tcp").
    struct Binding {
        key: String,
        target: u32,
        /// The published range, if published.
        published: Option<(u32, u32)>,
    }
    let mut bindings: Vec<Binding> = (start..=end)
        .map(|target| {
            let offset = target - start;
            let published = if host.is_empty() {
                None
            } else if start == end && host_start != host_end {
                Some((host_start, host_end))
            } else {
                Some((host_start + offset, host_start + offset))
            };
            Binding {
                key: format!("{target}/{protocol}"),
                target,
                published,
            }
        })
        .collect();
    bindings.sort_by(|a, b| a.key.cmp(&b.key));
    let mut ports = Vec::new();
    for binding in bindings {
        match binding.published {
            None => ports.push(port(binding.target, None, &protocol)),
            Some((from, to)) => {
                ports.extend((from..=to).map(|p| port(binding.target, Some(p), &protocol)))
            }
        }
    }
    let unspecified = ip.parse::<IpAddr>().is_ok_and(|a| a.is_unspecified());
    Ok(ShortPorts {
        ports,
        ignored_ip: (!ip.is_empty() && !unspecified).then_some(ip),
    })
}

fn port(target: u32, published: Option<u32>, protocol: &str) -> Port {
    Port {
        target,
        published,
        protocol: Some(protocol.to_owned()),
        mode: Some("ingress".to_owned()),
    }
}

/// `80/udp` -> ("udp", "80"); `80` -> ("tcp", "80").
fn split_protocol(raw: &str) -> (&str, &str) {
    let mut parts = raw.split('/');
    let port = parts.next().unwrap_or("");
    if port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(protocol) => (protocol, port),
    }
}

/// `8000` or `8000-8010` (only the first two parts of a longer range count,
/// as in the CLI).
fn port_range(text: &str) -> Option<(u32, u32)> {
    let number = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u16>().ok())
            .flatten()
            .map(u32::from)
    };
    match text.split_once('-') {
        None => number(text).map(|p| (p, p)),
        Some((start, rest)) => {
            let end = rest.split('-').next().unwrap_or("");
            let (start, end) = (number(start)?, number(end)?);
            (end >= start).then_some((start, end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(target: u32, published: Option<u32>, protocol: &str) -> Port {
        port(target, published, protocol)
    }

    #[test]
    fn short_specs_expand_like_the_cli() {
        let cases: &[(&str, Vec<Port>, Option<&str>)] = &[
            ("80", vec![p(80, None, "tcp")], None),
            ("8080:80", vec![p(80, Some(8080), "tcp")], None),
            ("8080:80/udp", vec![p(80, Some(8080), "udp")], None),
            ("8080:80/UDP", vec![p(80, Some(8080), "udp")], None),
            ("80/", vec![p(80, None, "tcp")], None),
            (
                "127.0.0.1:8081:81/udp",
                vec![p(81, Some(8081), "udp")],
                Some("127.0.0.1"),
            ),
            ("0.0.0.0:8081:81", vec![p(81, Some(8081), "tcp")], None),
            (
                "[::1]:5000:5000",
                vec![p(5000, Some(5000), "tcp")],
                Some("::1"),
            ),
            (
                "::1:5000:5000",
                vec![p(5000, Some(5000), "tcp")],
                Some("::1"),
            ),
            (
                "9000-9002:9000-9002",
                vec![
                    p(9000, Some(9000), "tcp"),
                    p(9001, Some(9001), "tcp"),
                    p(9002, Some(9002), "tcp"),
                ],
                None,
            ),
            (
                "7000-7001:70",
                vec![p(70, Some(7000), "tcp"), p(70, Some(7001), "tcp")],
                None,
            ),
            (
                "6000-6001",
                vec![p(6000, None, "tcp"), p(6001, None, "tcp")],
                None,
            ),
            (
                "98-100",
                vec![p(100, None, "tcp"), p(98, None, "tcp"), p(99, None, "tcp")],
                None,
            ),
            ("1-2-3", vec![p(1, None, "tcp"), p(2, None, "tcp")], None),
            (":80", vec![p(80, None, "tcp")], None),
        ];
        for (spec, ports, ip) in cases {
            let got = parse_port_spec(spec).unwrap();
            assert_eq!(&got.ports, ports, "{spec}");
            assert_eq!(got.ignored_ip.as_deref(), *ip, "{spec}");
        }
    }

    #[test]
    fn bad_specs_are_errors() {
        for spec in [
            "",
            "abc",
            "80:abc",
            "1:2:3:4",
            "70000",
            "80/xtp",
            "9000-9001:80-82",
            "90-80",
            "x:80:80",
            "[::1:80:80",
            "/tcp",
            "-1",
        ] {
            assert!(
                parse_port_spec(spec).is_err(),
                "{spec}: {:?}",
                parse_port_spec(spec)
            );
        }
    }
}
