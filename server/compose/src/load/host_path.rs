//! Host paths named in a Compose file (`env_file`, secret and config
//! files, bind mount sources), made absolute against the folder of the
//! (first) Compose file the way Go's `filepath.Join` does: lexically, with
//! `.` and `..` resolved and repeated slashes removed.

use std::path::{Path, PathBuf};

/// `path` made absolute against `working_dir` (left alone if already absolute).
pub(crate) fn resolve(working_dir: &Path, path: &str) -> PathBuf {
    if path.starts_with('/') || is_windows_absolute(path) {
        return PathBuf::from(path);
    }
    PathBuf::from(clean(&format!("{}/{path}", working_dir.display())))
}

/// Whether a path is absolute for Windows (`C:\x`, `C:/x`, `\\server\x`):
/// the CLI leaves those alone too, for a Windows client with a Linux daemon.
pub(crate) fn is_windows_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with("\\\\")
        || (bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'\\' | b'/'))
}

/// Go's `path.Clean` on a `/`-separated path: no empty or `.` elements,
/// `..` resolved lexically (never above the root of a rooted path), no
/// trailing `/`, `.` if nothing is left. The docker CLI cleans bind sources
/// this way, and Docker cleans `.dockerignore` patterns the same way.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_the_working_dir_and_are_cleaned() {
        let wd = Path::new("/srv/app");
        let cases = [
            ("./a", "/srv/app/a"),
            ("a/b/", "/srv/app/a/b"),
            ("../x", "/srv/x"),
            ("../../../x", "/x"),
            (".", "/srv/app"),
            ("a//b/./c/..", "/srv/app/a/b"),
            ("~/x", "/srv/app/~/x"),
            ("/abs/../kept", "/abs/../kept"),
            ("C:\\data", "C:\\data"),
            ("\\\\server\\share", "\\\\server\\share"),
        ];
        for (path, want) in cases {
            assert_eq!(resolve(wd, path), PathBuf::from(want), "{path}");
        }
    }

    #[test]
    fn clean_matches_go() {
        let cases = [
            ("", "."),
            ("a/../..", ".."),
            ("/..", "/"),
            ("//a//b", "/a/b"),
            ("a/./b/", "a/b"),
        ];
        for (path, want) in cases {
            assert_eq!(clean(path), want, "{path}");
        }
    }
}
