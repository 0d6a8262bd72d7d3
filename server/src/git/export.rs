//! Writing a commit's files into a folder of their own, without touching
//! the repository's working tree or index: `voc plan --to <old commit>` must
//! not change the user's checkout.

use std::path::Path;

use git2::{ObjectType, TreeWalkMode, TreeWalkResult};

use super::error::Result;
use super::{CommitId, GitRepo};

impl GitRepo {
    /// Writes every file of `commit` into `dest` (created if missing; it
    /// should be empty), keeping executable bits and symbolic links.
    /// Blocking.
    pub fn export(&self, commit: &CommitId, dest: &Path) -> Result<()> {
        let tree = self
            .find_commit(commit)?
            .tree()
            .map_err(|source| self.error("reading a commit's tree", source))?;
        // The blobs are written by hand rather than through a checkout,
        // because libgit2's checkout into another folder still rewrites the
        // repository's index.
        let mut failure: Option<git2::Error> = None;
        tree.walk(TreeWalkMode::PreOrder, |folder, entry| {
            if entry.kind() != Some(ObjectType::Blob) {
                return TreeWalkResult::Ok;
            }
            let Ok(name) = entry.name() else {
                return TreeWalkResult::Ok;
            };
            let path = dest.join(folder).join(name);
            match write_blob(&self.repo, entry, &path) {
                Ok(()) => TreeWalkResult::Ok,
                Err(error) => {
                    failure = Some(error);
                    TreeWalkResult::Abort
                }
            }
        })
        .map_err(|source| self.error("exporting a commit", source))?;
        match failure {
            Some(source) => Err(self.error("exporting a commit", source)),
            None => Ok(()),
        }
    }
}

impl GitRepo {
    /// True if the working tree has no change against HEAD: no modified,
    /// deleted or untracked file (ignored files do not count). A bare
    /// repository is never clean. Blocking.
    pub fn is_clean(&self) -> Result<bool> {
        if self.repo.is_bare() {
            return Ok(false);
        }
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false);
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .map_err(|source| self.error("reading the working tree's status", source))?;
        Ok(statuses.is_empty())
    }
}

fn write_blob(
    repo: &git2::Repository,
    entry: &git2::TreeEntry<'_>,
    path: &Path,
) -> Result<(), git2::Error> {
    let io = |error: std::io::Error| {
        git2::Error::from_str(&format!("writing {}: {error}", path.display()))
    };
    let blob = repo.find_blob(entry.id())?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    match entry.filemode() {
        // A symbolic link's blob is its target.
        0o120000 => {
            let target = String::from_utf8_lossy(blob.content()).into_owned();
            std::os::unix::fs::symlink(target, path).map_err(io)
        }
        mode => {
            std::fs::write(path, blob.content()).map_err(io)?;
            if mode == 0o100755 {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                    .map_err(io)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixture::Workspace;
    use super::*;

    #[test]
    fn export_writes_an_old_commit_and_leaves_the_checkout_alone() {
        let ws = Workspace::new();
        let author = ws.author_repo("conf");
        author
            .write("docker-compose-shop.yml", "old\n")
            .write("sub/file.txt", "sub\n");
        let old = author.commit("first");
        author.write("docker-compose-shop.yml", "new\n");
        author.git(["rm", "-q", "sub/file.txt"]);
        let new = author.commit("second");

        let repo = GitRepo::open(&author.path).unwrap();
        let dest = ws.path("export");
        repo.export(&old, &dest).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join("docker-compose-shop.yml")).unwrap(),
            "old\n"
        );
        assert_eq!(
            std::fs::read_to_string(dest.join("sub/file.txt")).unwrap(),
            "sub\n"
        );

        assert_eq!(repo.head().unwrap(), new);
        assert_eq!(
            std::fs::read_to_string(author.path.join("docker-compose-shop.yml")).unwrap(),
            "new\n"
        );
        assert!(!author.path.join("sub/file.txt").exists());
        assert_eq!(author.git(["status", "--porcelain"]), "");
        assert!(repo.is_clean().unwrap());
        author.write("new.txt", "x\n");
        assert!(!repo.is_clean().unwrap());
    }
}
