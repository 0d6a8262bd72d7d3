//! Paths on disk turned into [`RepoPath`]s (relative to the repo root,
//! `/`-separated, as git names them), and the check that a path does not
//! lead out of the repo through a symbolic link.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use super::model::{ConfProblem, RepoPath};

/// `path` relative to `root` as a [`RepoPath`] (`""` for the root
/// itself); `None` when it is not under `root`. Lexical: both must be
/// absolute and normalised (no `..`), as the Compose loader makes them.
pub fn to_repo_path(root: &Path, path: &Path) -> Option<RepoPath> {
    let relative = path.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// True if `path`, under the canonical `root`, exists and resolves
/// (through symbolic links) to somewhere outside it. voc reads only what
/// is in the repo, so that a conf repo deploys the same wherever it is
/// checked out, and a link cannot make the server read its own files.
pub fn escapes_repo(root: &Path, path: &Path) -> bool {
    if has_no_link_below(root, path) {
        return false;
    }
    match path.canonicalize() {
        Ok(real) => !real.starts_with(root),
        // Missing files are reported by whoever needs them.
        Err(_) => false,
    }
}

/// [`escapes_repo`], knowing `links`: every symbolic link of the repo
/// outside `.git`, by repo path, as a walk of the whole repo just found
/// them (`None` when the walk could not see everything). A path under the
/// root, written without `..`, outside `.git`, none of whose leading parts
/// is a link, cannot lead out of the repo: the answer then takes no system
/// call, where looking on disk takes one per part of the path, and the
/// thousands of files of a large repo add up.
pub fn escapes_repo_among(root: &Path, path: &Path, links: Option<&BTreeSet<RepoPath>>) -> bool {
    if let Some(links) = links
        && is_clear_of(root, path, links)
    {
        return false;
    }
    escapes_repo(root, path)
}

/// True if `path` is plainly under `root`, outside `.git`, and none of its
/// leading parts is one of `links`.
fn is_clear_of(root: &Path, path: &Path, links: &BTreeSet<RepoPath>) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    let mut prefix = String::new();
    for component in relative.components() {
        let Component::Normal(part) = component else {
            return false;
        };
        // The walk skips names that are not UTF-8, so it cannot vouch for
        // what is under them.
        let Some(part) = part.to_str() else {
            return false;
        };
        if prefix.is_empty() && part == ".git" {
            return false;
        }
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        if links.contains(&prefix) {
            return false;
        }
    }
    true
}

/// True if `path` is under `root`, plainly (no `..`), and none of its
/// components below `root` is a symbolic link, or one is missing: then it
/// cannot lead out of the repo. One `lstat` per component below the root,
/// where `canonicalize` reads every component from `/`: for the thousands
/// of files of a large repo, the difference is a good part of reading it.
fn has_no_link_below(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    let mut current = root.to_path_buf();
    for component in relative.components() {
        let Component::Normal(part) = component else {
            return false;
        };
        current.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => return false,
            Ok(_) => {}
            // Missing (or unreadable), so `canonicalize` would fail too.
            Err(_) => return true,
        }
    }
    true
}

/// Reads the conf file `file` (a [`RepoPath`] under the canonical
/// `root`) as text; the problem, about `file`, when it cannot be read, is
/// not UTF-8, or is a symbolic link that leads out of the repo.
pub fn read_repo_file(root: &Path, file: &str) -> Result<String, ConfProblem> {
    read_repo_file_among(root, file, None)
}

/// [`read_repo_file`], knowing the repo's links (see
/// [`escapes_repo_among`]).
pub fn read_repo_file_among(
    root: &Path,
    file: &str,
    links: Option<&BTreeSet<RepoPath>>,
) -> Result<String, ConfProblem> {
    let path = root.join(file);
    if escapes_repo_among(root, &path, links) {
        return Err(
            ConfProblem::new(file, "is a symbolic link that leads out of the repo")
                .with_hint("voc reads only what is in the repo: put the file itself there"),
        );
    }
    let bytes = std::fs::read(&path)
        .map_err(|error| ConfProblem::new(file, format!("cannot be read: {error}")))?;
    String::from_utf8(bytes).map_err(|_| ConfProblem::new(file, "is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_root_become_repo_paths() {
        let root = Path::new("/srv/repo");
        let cases = [
            ("/srv/repo/a/b.yml", Some("a/b.yml")),
            ("/srv/repo", Some("")),
            ("/srv/repo/./a", Some("a")),
            ("/srv/repository/a", None),
            ("/etc/passwd", None),
        ];
        for (path, expected) in cases {
            assert_eq!(
                to_repo_path(root, Path::new(path)).as_deref(),
                expected,
                "{path}"
            );
        }
    }

    #[test]
    fn known_links_spare_the_disk_only_for_paths_clear_of_them() {
        let root = Path::new("/srv/repo");
        let links = BTreeSet::from(["a/link".to_owned(), "file-link".to_owned()]);
        let cases = [
            ("/srv/repo/a/b/c.env", true),
            ("/srv/repo/a/linked.env", true),
            ("/srv/repo/a/link", false),
            ("/srv/repo/a/link/c.env", false),
            ("/srv/repo/file-link", false),
            ("/srv/repo/.git/config", false),
            ("/srv/repo/a/../c.env", false),
            ("/srv/other/c.env", false),
        ];
        for (path, clear) in cases {
            assert_eq!(is_clear_of(root, Path::new(path), &links), clear, "{path}");
        }
    }

    #[test]
    fn links_out_of_the_repo_are_found() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path().canonicalize().unwrap();
        std::fs::write(root.join("plain"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("plain"), root.join("in")).unwrap();
        assert!(escapes_repo(&root, &root.join("out")));
        assert!(!escapes_repo(&root, &root.join("in")));
        assert!(!escapes_repo(&root, &root.join("plain")));
        assert!(!escapes_repo(&root, &root.join("missing")));

        // Links to folders, anywhere below the root.
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/file"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("a/outside")).unwrap();
        std::os::unix::fs::symlink(root.join("a/b"), root.join("a/inside")).unwrap();
        assert!(escapes_repo(&root, &root.join("a/outside/secret")));
        assert!(escapes_repo(&root, &root.join("a/outside")));
        assert!(!escapes_repo(&root, &root.join("a/inside/file")));
        assert!(!escapes_repo(&root, &root.join("a/b/file")));
        assert!(!escapes_repo(&root, &root.join("a/b/missing/file")));
        // A path written with `..` is resolved, not trusted.
        assert!(escapes_repo(&root, &root.join("a/../out")));
        assert!(!escapes_repo(&root, &root.join("a/../plain")));

        std::fs::write(root.join("binary"), [0xff, 0xfe]).unwrap();
        let read = |file: &str| read_repo_file(&root, file).map_err(|p| p.to_string());
        assert_eq!(read("plain"), Ok("x".to_owned()));
        assert_eq!(read("in"), Ok("x".to_owned()));
        assert_eq!(
            read("out"),
            Err("out: is a symbolic link that leads out of the repo (voc reads only what is in the repo: put the file itself there)".to_owned())
        );
        assert_eq!(read("binary"), Err("binary: is not UTF-8 text".to_owned()));
        assert!(
            read("missing")
                .unwrap_err()
                .starts_with("missing: cannot be read: ")
        );
    }
}
