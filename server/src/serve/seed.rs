//! The local conf repo of a voc started without a repo URL: a bare repo in
//! the data folder whose first commit is the `templates/` folder shipped
//! in the binary (four stack definitions and an image to start from).

use std::path::Path;

use anyhow::Context;
use rust_embed::RustEmbed;

use crate::git::{Author, init_bare_with_files};

/// The local repo's folder in the data folder.
pub const LOCAL_REPO_FOLDER: &str = "conf.git";

/// The repo's `templates/` folder, compiled into the binary.
#[derive(RustEmbed)]
#[folder = "../templates/"]
struct Templates;

/// Creates the local repo at `path` unless it exists.
pub fn ensure_local_repo(path: &Path, branch: &str, author: &Author) -> anyhow::Result<()> {
    if path.join("HEAD").exists() {
        return Ok(());
    }
    let files: Vec<(String, Vec<u8>)> = Templates::iter()
        .filter_map(|name| {
            Templates::get(&name).map(|file| (name.to_string(), file.data.into_owned()))
        })
        .collect();
    init_bare_with_files(
        path,
        branch,
        &files,
        author,
        "voc: start the conf repo from voc's templates",
    )
    .with_context(|| format!("creating the local conf repo {}", path.display()))?;
    Ok(())
}
