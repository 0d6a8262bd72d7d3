//! `voc keygen`: prints a new age key for the conf repo's secrets, to give
//! `voc serve` as a file (`secrets_key_file`), e.g. a swarm secret:
//! `voc keygen | docker secret create voc_secrets_key -`.

use clap::Args;

#[derive(Debug, Args)]
pub struct KeygenArgs {}

pub fn run(_args: KeygenArgs) -> anyhow::Result<()> {
    let (identity, text) = crate::secret::new_identity();
    // The key goes to stdout only, for a pipe; the public half is also
    // said on stderr, for the person who ran it.
    print!("{text}");
    eprintln!(
        "voc keygen: made a new key; its public key is {}",
        identity.to_public()
    );
    Ok(())
}
