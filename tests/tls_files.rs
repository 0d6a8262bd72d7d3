//! Certificates for tests of mutual TLS, made with `openssl` as
//! `docs/targets.md` tells an operator to: a CA, a server certificate for
//! an IP address, a client certificate. EC P-256 keys, quick to make (RSA
//! works the same).

use std::ffi::OsStr;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Writes into `dir`: `ca.pem` and `ca-key.pem`; `server-cert.pem` and
/// `server-key.pem` for `server_ip`; and `client/` with `ca.pem`,
/// `cert.pem`, `key.pem` (the layout `DOCKER_CERT_PATH` expects). `name`
/// goes into the CA's common name.
pub fn make_tls_files(dir: &Path, name: &str, server_ip: IpAddr) -> Result<()> {
    let client = dir.join("client");
    std::fs::create_dir_all(&client)?;
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    let ca_subject = format!("/CN={name}-ca");
    openssl(
        ["req", "-x509", "-nodes", "-days", "2"]
            .into_iter()
            .chain(ec)
            .chain([
                "-subj",
                &ca_subject,
                "-keyout",
                &file("ca-key.pem"),
                "-out",
                &file("ca.pem"),
            ]),
    )?;
    let sign = |name: &str, subject: &str, extensions: &str| -> Result<()> {
        let ext = file(&format!("{name}.ext"));
        std::fs::write(&ext, extensions)?;
        openssl(["req", "-nodes"].into_iter().chain(ec).chain([
            "-subj",
            subject,
            "-keyout",
            &file(&format!("{name}-key.pem")),
            "-out",
            &file(&format!("{name}.csr")),
        ]))?;
        openssl([
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &file(&format!("{name}.csr")),
            "-CA",
            &file("ca.pem"),
            "-CAkey",
            &file("ca-key.pem"),
            "-CAcreateserial",
            "-extfile",
            &ext,
            "-out",
            &file(&format!("{name}-cert.pem")),
        ])
    };
    sign(
        "server",
        &format!("/CN={server_ip}"),
        &format!("subjectAltName=IP:{server_ip}\nextendedKeyUsage=serverAuth\n"),
    )?;
    sign("client", "/CN=voc", "extendedKeyUsage=clientAuth\n")?;
    std::fs::copy(dir.join("ca.pem"), client.join("ca.pem"))?;
    std::fs::copy(dir.join("client-cert.pem"), client.join("cert.pem"))?;
    std::fs::copy(dir.join("client-key.pem"), client.join("key.pem"))?;
    Ok(())
}

fn openssl<I, S>(args: I) -> Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new("openssl")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .context("running openssl")?;
    if !out.status.success() {
        bail!(
            "openssl {:?} failed ({}): {}",
            args,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
