//! TEMPORARY (not to commit): compares voc's converted specs with the
//! requests docker stack deploy sent (captured in /tmp/conv/captured).
use serde_json::{Value, json};
use std::path::PathBuf;

fn as_daemon_reads(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_lowercase(), as_daemon_reads(v)))
                .filter(|(k, v)| !matches!(v, Value::Null) && !(k == "privileges") && !(k == "forceupdate") && !(v.as_f64() == Some(0.0) && k == "maxfailureratio") && !(k=="order" && *v == json!("")) && !(k=="nonewprivileges"))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(as_daemon_reads).collect()),
        other => other.clone(),
    }
}

#[test]
fn tmp_capture_check() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/stacks");
    let mut report = String::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    dirs.sort();
    for d in dirs {
        let stack = format!("cap{}", &d[..2]);
        let vars: voc::compose::load::Variables = std::fs::read_to_string(root.join(&d).join("vars.json")).ok()
            .map(|t| serde_json::from_str::<std::collections::BTreeMap<String,String>>(&t).unwrap().into_iter().collect()).unwrap_or_default();
        let loaded = voc::compose::load::load_files(&[root.join(&d).join("docker-compose.yml")], &vars).unwrap();
        let spec = voc::compose::convert(&stack, &loaded.file).unwrap();
        let captured = std::fs::read_to_string(format!("/tmp/conv/captured/{d}.jsonl")).unwrap();
        for line in captured.lines() {
            let mut cli: Value = serde_json::from_str(line).unwrap();
            if cli.get("CheckDuplicate").is_some() {
                let name = cli["Name"].as_str().unwrap().to_owned();
                let Some(ours) = spec.networks.iter().find(|n| n.name == name) else { report += &format!("{d}: network {name} missing\n"); continue };
                let mut ours = serde_json::to_value(&ours.create).unwrap();
                let c = cli.as_object_mut().unwrap();
                for k in ["CheckDuplicate", "Scope", "Ingress", "ConfigOnly", "ConfigFrom"] { c.remove(k); }
                if ours.get("Options").is_none() { ours["Options"] = Value::Null; }
                let (a, b) = (as_daemon_reads(&cli), as_daemon_reads(&ours));
                if a != b { report += &format!("{d}: network {name}\n  cli: {a}\n  voc: {b}\n"); }
                continue;
            }
            if cli.get("TaskTemplate").is_none() {
                let name = cli["Name"].as_str().unwrap().to_owned();
                let found = spec.secrets.iter().chain(&spec.configs).find(|o| o.name == name || o.name.starts_with(&format!("{name}_")));
                let Some(o) = found else { report += &format!("{d}: object {name} missing\n"); continue };
                let data = b64(&o.data);
                let ours = json!({"Name": name, "Labels": o.labels, "Data": data, "Templating": o.template_driver.as_ref().map(|t| json!({"Name": t}))});
                let (a, b) = (as_daemon_reads(&cli), as_daemon_reads(&ours));
                if a != b { report += &format!("{d}: object {name}\n  cli: {a}\n  voc: {b}\n"); }
                continue;
            }
            let name = cli["Name"].as_str().unwrap().to_owned();
            let Some(ours) = spec.services.iter().find(|s| s.name == name) else { report += &format!("{d}: {name} missing\n"); continue };
            let mut ours = serde_json::to_value(&ours.spec).unwrap();
            for (list, id, nm) in [("Secrets","SecretID","SecretName"),("Configs","ConfigID","ConfigName")] {
                for v in [&mut cli, &mut ours] {
                    if let Some(a) = v["TaskTemplate"]["ContainerSpec"].get_mut(list).and_then(Value::as_array_mut) {
                        for r in a.iter_mut() { r.as_object_mut().unwrap().remove(id); r.as_object_mut().unwrap().remove(nm); }
                        a.sort_by_key(|r| r.to_string());
                    }
                }
            }
            let (a, b) = (as_daemon_reads(&cli), as_daemon_reads(&ours));
            if a != b {
                report += &format!("{d}: {name}\n  cli: {a}\n  voc: {b}\n");
            }
        }
    }
    assert!(report.is_empty(), "{report}");
}

fn b64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() { out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char) } else { out.push('=') }
        }
    }
    out
}
