//! What a write to the conf repo is ([`CommitRequest`]: a message, an
//! [`Author`] and [`FileEdit`]s) and how its commit is built: in the object
//! database only, on top of a given parent, without touching the working
//! tree, the index or `HEAD` of voc's clone (the deployer reads that
//! checkout; a writer must never change it under its feet).
//!
//! Pushing the commit, and rebuilding it when someone pushed first, is
//! `push.rs`'s business; [`GitRepo::restore_files`] makes the edits of a
//! rollback.
//!
//! Edits are file-level. Each carries an [`Expect`]ation about the file it
//! replaces, checked against the head the commit is built on, at every
//! attempt: this is what makes re-applying an edit on a newer head safe
//! (a file someone else changed in between is a [`Error::Conflict`], not a
//! silent overwrite) unless the caller said the edit replaces whatever is
//! there ([`Expect::Anything`]).

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{ErrorCode, FileMode, ObjectType, Oid, Signature, Tree};

use super::error::{Error, Result};
use super::{CommitId, GitRepo};

/// A person, as git records them in a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The name (`Ada Lovelace`).
    pub name: String,
    /// The e-mail address (`ada@example.org`).
    pub email: String,
}

/// What a [`FileEdit`] expects of the file it replaces, on the head the
/// commit is built on. Checked at every attempt, so an edit re-applied after
/// a concurrent push still replaces only what the caller saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Expect {
    /// No expectation: the edit replaces whatever is there (the last writer
    /// wins for this file). For full replacements such as a rollback.
    #[default]
    Anything,
    /// The file must not exist: a creation (`createStack` on a free name).
    Absent,
    /// The file must be exactly as it was at this commit, the one the
    /// caller read and rendered against (absent if it was absent then).
    /// The commit must be in voc's clone (a head returned by
    /// [`GitRepo::fetch`] is).
    AsAt(CommitId),
}

/// One file to write or delete, by repo-relative path (`/` separators, no
/// `.` or `..` components, nothing under `.git`).
#[derive(Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// The repo-relative path (`stacks/docker-compose-web.yml`).
    pub path: String,
    /// The new content; `None` deletes the file (deleting a missing file
    /// changes nothing). Folders left empty disappear, as in git.
    pub content: Option<Vec<u8>>,
    /// What the file must be on the head before the edit.
    pub expect: Expect,
}

impl FileEdit {
    /// Writes `content` to `path`, whatever is there ([`Expect::Anything`]).
    pub fn write(path: impl Into<String>, content: impl Into<Vec<u8>>) -> FileEdit {
        FileEdit {
            path: path.into(),
            content: Some(content.into()),
            expect: Expect::Anything,
        }
    }

    /// Deletes `path`, whatever is there ([`Expect::Anything`]).
    pub fn delete(path: impl Into<String>) -> FileEdit {
        FileEdit {
            path: path.into(),
            content: None,
            expect: Expect::Anything,
        }
    }

    /// The same edit, applied only when the file is as `expect` says.
    pub fn expecting(mut self, expect: Expect) -> FileEdit {
        self.expect = expect;
        self
    }
}

impl fmt::Debug for FileEdit {
    // The content may be long (or hold encrypted values): show its size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileEdit")
            .field("path", &self.path)
            .field("content_len", &self.content.as_ref().map(Vec::len))
            .field("expect", &self.expect)
            .finish()
    }
}

/// One commit to make on the followed branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRequest {
    /// The commit message.
    pub message: String,
    /// Who made the change: the API's user.
    pub author: Author,
    /// Who wrote the commit: voc's configured identity; `None`: the author.
    pub committer: Option<Author>,
    /// The files to write or delete, each path at most once.
    pub edits: Vec<FileEdit>,
}

/// The result of [`GitRepo::commit_and_push`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedCommit {
    /// The new head of the branch: the pushed commit, or, when `created` is
    /// false, the head that already held the edits.
    pub commit: CommitId,
    /// How many times the commit was built (1 when no one pushed in
    /// between).
    pub attempts: u32,
    /// Whether a commit was made. False when the edits change nothing on
    /// the head (the files already hold that content, possibly because
    /// someone pushed the same change): no empty commit is ever pushed.
    pub created: bool,
}

impl CommitRequest {
    /// Checks what does not depend on the head: paths, duplicates and
    /// identities. Done once, before any network I/O.
    pub(crate) fn validate(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for edit in &self.edits {
            check_path(&edit.path)?;
            if !seen.insert(edit.path.as_str()) {
                return Err(Error::InvalidEdit {
                    path: edit.path.clone(),
                    reason: "the request edits this path more than once",
                });
            }
        }
        self.signatures().map(|_| ())
    }

    /// The author's and committer's signatures, dated now.
    fn signatures(&self) -> Result<(Signature<'static>, Signature<'static>)> {
        let sign = |who: &Author| {
            Signature::now(&who.name, &who.email).map_err(|source| Error::InvalidIdentity {
                name: who.name.clone(),
                email: who.email.clone(),
                source,
            })
        };
        let author = sign(&self.author)?;
        let committer = sign(self.committer.as_ref().unwrap_or(&self.author))?;
        Ok((author, committer))
    }
}

/// Refuses paths that are not plain repo-relative file paths: they would
/// reach outside the tree (`..`), into git's own folder (`.git`), or be
/// read differently by git and by the caller (`a//b`, `./a`, `a/`).
fn check_path(path: &str) -> Result<()> {
    let invalid = |reason| {
        Err(Error::InvalidEdit {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return invalid("the path is empty");
    }
    if path.contains('\0') {
        return invalid("the path contains a NUL byte");
    }
    for component in path.split('/') {
        match component {
            "" => {
                return invalid(
                    "the path has an empty component (leading, trailing or double `/`)",
                );
            }
            "." | ".." => return invalid("the path has a `.` or `..` component"),
            c if c.eq_ignore_ascii_case(".git") => return invalid("the path is inside `.git`"),
            _ => {}
        }
    }
    Ok(())
}

impl GitRepo {
    /// Builds the commit that applies `request` on `parent`, in the object
    /// database only; `None` when the edits change nothing there. Every
    /// [`Expect`] is checked against `parent` ([`Error::Conflict`] naming
    /// `branch`). Blocking.
    pub(crate) fn build_commit(
        &self,
        request: &CommitRequest,
        parent: &CommitId,
        branch: &str,
    ) -> Result<Option<CommitId>> {
        let parent_commit = self.find_commit(parent)?;
        let base = parent_commit
            .tree()
            .map_err(|source| self.error("reading the head's tree", source))?;
        let mut updates = TreeUpdateBuilder::new();
        for edit in &request.edits {
            let current = self.file_entry(&base, &edit.path)?;
            self.check_expectation(edit, current.map(|(id, _)| id), parent, branch)?;
            match (&edit.content, current) {
                (None, None) => {}
                (None, Some(_)) => {
                    updates.remove(edit.path.as_str());
                }
                (Some(content), current) => {
                    let blob = self
                        .repo
                        .blob(content)
                        .map_err(|source| self.error("writing a file's blob", source))?;
                    // An executable stays executable; anything else (a
                    // symbolic link included) becomes a regular file.
                    let mode = match current {
                        Some((_, mode)) if mode == i32::from(FileMode::BlobExecutable) => {
                            FileMode::BlobExecutable
                        }
                        _ => FileMode::Blob,
                    };
                    if current != Some((blob, i32::from(mode))) {
                        updates.upsert(edit.path.as_str(), blob, mode);
                    }
                }
            }
        }
        let tree_id = updates
            .create_updated(&self.repo, &base)
            .map_err(|source| self.error("building the new tree", source))?;
        if tree_id == base.id() {
            return Ok(None);
        }
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(|source| self.error("reading the new tree", source))?;
        let (author, committer) = request.signatures()?;
        let commit = self
            .repo
            .commit(
                None,
                &author,
                &committer,
                &request.message,
                &tree,
                &[&parent_commit],
            )
            .map_err(|source| self.error("writing the commit", source))?;
        Ok(Some(CommitId::from_oid(commit)))
    }

    /// The blob id and file mode at `path` in `tree`, `None` if nothing is
    /// there. A folder at `path`, or a file where a folder of `path` should
    /// be, is an [`Error::InvalidEdit`]: an edit replaces files, not folders.
    fn file_entry(&self, tree: &Tree<'_>, path: &str) -> Result<Option<(Oid, i32)>> {
        let lookup_error = |source| self.error("looking a path up in the head's tree", source);
        // Walk the folders first: `get_path` answers "not found" both for a
        // missing file and for a path through a file.
        let mut prefix = String::new();
        let components: Vec<&str> = path.split('/').collect();
        for folder in &components[..components.len() - 1] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(folder);
            match tree.get_path(Path::new(&prefix)) {
                Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {}
                Ok(_) => {
                    return Err(Error::InvalidEdit {
                        path: path.to_owned(),
                        reason: "a folder on the path is a file on the branch",
                    });
                }
                Err(error) if error.code() == ErrorCode::NotFound => return Ok(None),
                Err(source) => return Err(lookup_error(source)),
            }
        }
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
                Ok(Some((entry.id(), entry.filemode())))
            }
            Ok(_) => Err(Error::InvalidEdit {
                path: path.to_owned(),
                reason: "the path is a folder (or a submodule) on the branch",
            }),
            Err(error) if error.code() == ErrorCode::NotFound => Ok(None),
            Err(source) => Err(lookup_error(source)),
        }
    }

    /// [`Error::Conflict`] unless the file at `head` (`current`, its blob)
    /// is what `edit` expects.
    fn check_expectation(
        &self,
        edit: &FileEdit,
        current: Option<Oid>,
        head: &CommitId,
        branch: &str,
    ) -> Result<()> {
        let expected_holds = match &edit.expect {
            Expect::Anything => true,
            Expect::Absent => current.is_none(),
            Expect::AsAt(commit) => {
                let tree = self
                    .find_commit(commit)?
                    .tree()
                    .map_err(|source| self.error("reading the expected commit's tree", source))?;
                // A path that was a folder then is simply not the file now.
                let then = self.file_entry(&tree, &edit.path).ok().flatten();
                then.map(|(id, _)| id) == current
            }
        };
        if expected_holds {
            Ok(())
        } else {
            Err(Error::Conflict {
                path: edit.path.clone(),
                branch: branch.to_owned(),
                head: head.clone(),
            })
        }
    }

    /// The edits that put `paths` back as they were at `at`: each file's
    /// content then, or its deletion if it did not exist then. For
    /// `rollbackStack`: commit them with [`GitRepo::commit_and_push`].
    /// Blocking.
    ///
    /// The edits expect [`Expect::Anything`] (a rollback replaces whatever
    /// is there); set another expectation to refuse concurrent changes. A
    /// path repeated in `paths` gives one edit; a path that was a folder at
    /// `at` is an [`Error::NotAFile`]; a symbolic link comes back as a
    /// regular file holding its target.
    pub fn restore_files(&self, at: &CommitId, paths: &[String]) -> Result<Vec<FileEdit>> {
        let mut seen = HashSet::new();
        let mut edits = Vec::with_capacity(paths.len());
        for path in paths {
            check_path(path)?;
            if !seen.insert(path.as_str()) {
                continue;
            }
            let edit = match self.read_file(at, path)? {
                Some(content) => FileEdit::write(path.clone(), content),
                None => FileEdit::delete(path.clone()),
            };
            edits.push(edit);
        }
        Ok(edits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_plain_files_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a/",
            "a//b",
            "./a",
            "a/../b",
            "..",
            ".git/config",
            "a/.GIT/hooks/x",
            "a\0b",
        ] {
            assert!(
                matches!(check_path(bad), Err(Error::InvalidEdit { .. })),
                "{bad:?}"
            );
        }
        for good in [
            "a",
            "stacks/docker-compose-web.yml",
            ".gitignore",
            "a/.b/c..d",
        ] {
            check_path(good).unwrap();
        }
    }

    #[test]
    fn a_request_editing_a_path_twice_or_with_a_bad_identity_is_refused() {
        let author = Author {
            name: "Ada".into(),
            email: "ada@example.org".into(),
        };
        let twice = CommitRequest {
            message: "m".into(),
            author: author.clone(),
            committer: None,
            edits: vec![FileEdit::write("a", "1"), FileEdit::delete("a")],
        };
        assert!(matches!(twice.validate(), Err(Error::InvalidEdit { .. })));
        let bad_identity = CommitRequest {
            message: "m".into(),
            author: Author {
                name: "Eve <evil>".into(),
                email: "eve@example.org".into(),
            },
            committer: None,
            edits: vec![FileEdit::write("a", "1")],
        };
        assert!(matches!(
            bad_identity.validate(),
            Err(Error::InvalidIdentity { .. })
        ));
    }

    #[test]
    fn debug_shows_the_content_size_not_the_content() {
        let edit = FileEdit::write("a", "secret-value");
        let text = format!("{edit:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("12"), "{text}");
    }
}
