//! A new bare repository holding one first commit: the local conf repo
//! that `voc serve` creates when no remote is configured.

use std::path::Path;

use git2::{Repository, RepositoryInitOptions, Signature};

use super::error::{Error, Result};
use super::{Author, CommitId};

/// Creates a bare repository at `path` whose `branch` holds `files` (by
/// repo-relative path, `/` separators) in one commit by `author`. Refuses
/// a path that already holds something. Blocking.
pub fn init_bare_with_files(
    path: &Path,
    branch: &str,
    files: &[(String, Vec<u8>)],
    author: &Author,
    message: &str,
) -> Result<CommitId> {
    let fail = |what: &'static str| {
        let path = path.to_owned();
        move |source: git2::Error| Error::Seed {
            path: path.clone(),
            what,
            source,
        }
    };
    if path.exists() && std::fs::read_dir(path).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Error::Seed {
            path: path.to_owned(),
            what: "creating the repository (the folder is not empty)",
            source: git2::Error::from_str("folder not empty"),
        });
    }
    let mut options = RepositoryInitOptions::new();
    options.bare(true).mkpath(true).initial_head(branch);
    let repo = Repository::init_opts(path, &options).map_err(fail("creating the repository"))?;
    let mut index = git2::Index::new().map_err(fail("building the index"))?;
    for (file, content) in files {
        let blob = repo.blob(content).map_err(fail("writing a file"))?;
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: u32::try_from(content.len()).unwrap_or(u32::MAX),
            id: blob,
            flags: 0,
            flags_extended: 0,
            path: file.as_bytes().to_vec(),
        };
        index.add(&entry).map_err(fail("adding a file"))?;
    }
    let tree = index
        .write_tree_to(&repo)
        .map_err(fail("writing the tree"))?;
    let tree = repo.find_tree(tree).map_err(fail("reading the tree"))?;
    let signature =
        Signature::now(&author.name, &author.email).map_err(fail("making the signature"))?;
    let reference = format!("refs/heads/{branch}");
    let commit = repo
        .commit(Some(&reference), &signature, &signature, message, &tree, &[])
        .map_err(fail("making the commit"))?;
    CommitId::parse(&commit.to_string()).map_err(|_| Error::Seed {
        path: path.to_owned(),
        what: "reading the commit id",
        source: git2::Error::from_str("invalid id"),
    })
}
