//! Build contexts: the tar archive of a folder that `POST /build` takes,
//! made the way `docker build` makes it for the classic builder.
//!
//! - The context folder's `.dockerignore` leaves files out ([`DockerIgnore`]);
//!   the Dockerfile and `.dockerignore` themselves are always sent, because
//!   the daemon reads them (and leaves them out of `COPY . .` on its side
//!   when `.dockerignore` lists them).
//! - An excluded folder is skipped unless an exception's text starts with
//!   it (Docker's rule: `!**/keep` does not bring files back from an
//!   excluded folder, `!dir/keep` does).
//! - A Dockerfile outside the context is added under a generated name,
//!   `.dockerfile.<hash>`, which is appended to `.dockerignore` so that it
//!   stays out of the image (the CLI does the same with a random name; voc
//!   hashes the content so the archive is reproducible).
//! - Entries are sorted by name, owned by root (uid and gid 0), with the
//!   files' own permissions and modification times; symbolic links are kept
//!   as links; sockets, pipes and devices are left out.
//!
//! Planning ([`BuildContext::plan`]) reads every folder and checks every file
//! can be opened, so a bad context fails before the build starts; writing
//! ([`BuildContext::write_tar`]) then streams the files. Both block: run
//! them in `spawn_blocking`.

use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dockerignore::{DockerIgnore, ParentMatches};
use super::error::{Error, Result};

/// The name of the ignore file at the root of a context.
const DOCKERIGNORE: &str = ".dockerignore";

/// What goes into a build context, ready to be written as a tar archive.
#[derive(Debug)]
pub(crate) struct BuildContext {
    entries: Vec<Entry>,
    /// The Dockerfile's path in the archive: the `dockerfile` parameter.
    dockerfile: String,
}

#[derive(Debug)]
struct Entry {
    /// Path in the archive (`/`-separated, relative).
    name: PathBuf,
    mode: u32,
    mtime: u64,
    content: Content,
}

#[derive(Debug)]
enum Content {
    Folder,
    /// A file of the context, read when the archive is written.
    File {
        path: PathBuf,
        size: u64,
    },
    Symlink(PathBuf),
    /// A file voc generates (the outside Dockerfile, the amended
    /// `.dockerignore`).
    Generated(Vec<u8>),
}

impl BuildContext {
    /// Lists what `docker build -f DOCKERFILE CONTEXT` would send.
    pub(crate) fn plan(context: &Path, dockerfile: &Path) -> Result<Self> {
        let root = fs::canonicalize(context)
            .map_err(|e| context_error("opening the build context folder", context, e))?;
        if !root.is_dir() {
            let source = io::Error::new(io::ErrorKind::NotADirectory, "not a folder");
            return Err(context_error(
                "opening the build context folder",
                context,
                source,
            ));
        }
        let dockerfile_path = fs::canonicalize(dockerfile)
            .map_err(|e| context_error("opening the Dockerfile", dockerfile, e))?;
        let inside = dockerfile_path.strip_prefix(&root).ok().map(slash_path);

        let ignore_path = root.join(DOCKERIGNORE);
        let ignore_text = match fs::read(&ignore_path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(context_error("reading", &ignore_path, e)),
        };
        let mut ignore =
            DockerIgnore::parse(ignore_text.as_deref().unwrap_or("")).map_err(|source| {
                Error::Dockerignore {
                    path: ignore_path.clone(),
                    source,
                }
            })?;
        // Always sent, as `docker build` does (its `TrimBuildFilesFromExcludes`).
        for always in [Some(DOCKERIGNORE), inside.as_deref()]
            .into_iter()
            .flatten()
        {
            if ignore.is_excluded(always) {
                ignore
                    .push_exception(always)
                    .map_err(|source| Error::Dockerignore {
                        path: ignore_path.clone(),
                        source,
                    })?;
            }
        }

        let mut context = BuildContext {
            entries: Vec::new(),
            dockerfile: String::new(),
        };
        context.walk(&root, Path::new(""), None, &ignore)?;

        match inside {
            Some(name) => context.dockerfile = name,
            None => context.add_outside_dockerfile(&dockerfile_path, ignore_text)?,
        }
        Ok(context)
    }

    /// The Dockerfile's name in the archive, for the `dockerfile` parameter.
    pub(crate) fn dockerfile(&self) -> &str {
        &self.dockerfile
    }

    /// The archive's entry names, in order (folders end with `/`).
    #[cfg(test)]
    fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| {
                let name = slash_path(&e.name);
                if matches!(e.content, Content::Folder) {
                    format!("{name}/")
                } else {
                    name
                }
            })
            .collect()
    }

    fn walk(
        &mut self,
        dir: &Path,
        rel: &Path,
        parent: Option<&ParentMatches>,
        ignore: &DockerIgnore,
    ) -> Result<()> {
        let read_error = |e| context_error("reading the folder", dir, e);
        let mut names = fs::read_dir(dir)
            .map_err(read_error)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<Vec<OsString>>>()
            .map_err(read_error)?;
        // Byte order, like Go's `filepath.WalkDir`.
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for file_name in names {
            let path = dir.join(&file_name);
            let name = rel.join(&file_name);
            let metadata =
                fs::symlink_metadata(&path).map_err(|e| context_error("reading", &path, e))?;
            let (excluded, matched) = ignore.matches(&slash_path(&name), parent);
            if excluded {
                if metadata.is_dir() && ignore.may_reinclude_under(&slash_path(&name)) {
                    self.walk(&path, &name, Some(&matched), ignore)?;
                }
                continue;
            }
            let file_type = metadata.file_type();
            let content = if file_type.is_dir() {
                Content::Folder
            } else if file_type.is_symlink() {
                Content::Symlink(
                    fs::read_link(&path)
                        .map_err(|e| context_error("reading the link", &path, e))?,
                )
            } else if file_type.is_file() {
                // Fail now rather than halfway through the upload, as the
                // CLI's `ValidateContextDirectory` does.
                File::open(&path).map_err(|e| context_error("opening", &path, e))?;
                Content::File {
                    path: path.clone(),
                    size: metadata.len(),
                }
            } else {
                continue;
            };
            let is_dir = matches!(content, Content::Folder);
            self.entries.push(Entry {
                name: name.clone(),
                mode: mode(&metadata),
                mtime: mtime(&metadata),
                content,
            });
            if is_dir {
                self.walk(&path, &name, Some(&matched), ignore)?;
            }
        }
        Ok(())
    }

    /// Adds a Dockerfile that lives outside the context under a generated
    /// name, and lists that name in `.dockerignore`.
    fn add_outside_dockerfile(
        &mut self,
        dockerfile: &Path,
        ignore_text: Option<String>,
    ) -> Result<()> {
        let content = fs::read(dockerfile)
            .map_err(|e| context_error("reading the Dockerfile", dockerfile, e))?;
        let metadata = fs::metadata(dockerfile)
            .map_err(|e| context_error("reading the Dockerfile", dockerfile, e))?;
        let hash = Sha256::digest(&content);
        let hex: String = hash.iter().take(10).map(|b| format!("{b:02x}")).collect();
        let name = format!(".dockerfile.{hex}");

        let ignore = match ignore_text {
            Some(text) => format!("{text}\n{name}\n"),
            None => format!("{DOCKERIGNORE}\n{name}\n"),
        };
        let generated = |name: &str, bytes: Vec<u8>| Entry {
            name: PathBuf::from(name),
            mode: 0o600,
            mtime: mtime(&metadata),
            content: Content::Generated(bytes),
        };
        match self
            .entries
            .iter_mut()
            .find(|e| e.name == Path::new(DOCKERIGNORE))
        {
            Some(existing) => existing.content = Content::Generated(ignore.into_bytes()),
            None => self
                .entries
                .push(generated(DOCKERIGNORE, ignore.into_bytes())),
        }
        self.entries.push(generated(&name, content));
        self.entries.sort_by(|a, b| {
            a.name
                .as_os_str()
                .as_bytes()
                .cmp(b.name.as_os_str().as_bytes())
        });
        self.dockerfile = name;
        Ok(())
    }

    /// Writes the archive to `out`.
    pub(crate) fn write_tar<W: Write>(&self, out: W) -> Result<()> {
        let mut builder = tar::Builder::new(out);
        for entry in &self.entries {
            let mut header = tar::Header::new_gnu();
            header.set_mode(entry.mode);
            header.set_mtime(entry.mtime);
            header.set_uid(0);
            header.set_gid(0);
            let written = match &entry.content {
                Content::Folder => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    builder.append_data(&mut header, &entry.name, io::empty())
                }
                Content::Symlink(target) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    builder.append_link(&mut header, &entry.name, target)
                }
                Content::File { path, size } => {
                    let file = File::open(path).map_err(|e| context_error("opening", path, e))?;
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(*size);
                    // A file that grows while being sent must not overflow
                    // its entry; one that shrinks fails the copy.
                    builder.append_data(
                        &mut header,
                        &entry.name,
                        ExactReader::new(file.take(*size), *size),
                    )
                }
                Content::Generated(bytes) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(bytes.len() as u64);
                    builder.append_data(&mut header, &entry.name, bytes.as_slice())
                }
            };
            written.map_err(|e| context_error("archiving", &entry.name, e))?;
        }
        builder
            .into_inner()
            .map_err(|e| context_error("archiving", Path::new("the build context"), e))?;
        Ok(())
    }
}

/// A reader that fails if its inner reader ends before `expected` bytes.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> ExactReader<R> {
    fn new(inner: R, expected: u64) -> Self {
        Self {
            inner,
            remaining: expected,
        }
    }
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while being archived",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn context_error(step: &'static str, path: &Path, source: io::Error) -> Error {
    Error::BuildContext {
        step,
        path: path.to_owned(),
        source,
    }
}

/// `path` with `/` separators, as patterns see it (lossy for names that
/// are not UTF-8; the archive keeps their real bytes).
fn slash_path(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn mode(metadata: &Metadata) -> u32 {
    metadata.permissions().mode() & 0o7777
}

fn mtime(metadata: &Metadata) -> u64 {
    u64::try_from(metadata.mtime()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context folder made of `(path, content)` pairs; a path ending in
    /// `/` is an empty folder.
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            if path.ends_with('/') {
                fs::create_dir_all(&full).unwrap();
            } else {
                fs::create_dir_all(full.parent().unwrap()).unwrap();
                fs::write(&full, content).unwrap();
            }
        }
        dir
    }

    fn archive(context: &BuildContext) -> Vec<(String, tar::EntryType, Vec<u8>)> {
        let mut bytes = Vec::new();
        context.write_tar(&mut bytes).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let mut content = Vec::new();
                entry.read_to_end(&mut content).unwrap();
                let header = entry.header();
                assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
                (
                    entry.path().unwrap().to_string_lossy().into_owned(),
                    header.entry_type(),
                    content,
                )
            })
            .collect()
    }

    #[test]
    fn ignored_files_and_folders_are_left_out_but_build_files_stay() {
        let dir = folder(&[
            ("Dockerfile", "FROM scratch\n"),
            (
                ".dockerignore",
                "*.log\nsecret\nbuild\nDockerfile\n.dockerignore\n!build/keep.txt\n",
            ),
            ("app.txt", "app"),
            ("debug.log", "log"),
            ("secret", "s"),
            ("src/main.rs", "fn main() {}"),
            ("src/deep/x.log", "not top-level"),
            ("build/out.bin", "bin"),
            ("build/keep.txt", "keep"),
            ("empty/", ""),
        ]);
        let context = BuildContext::plan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(context.dockerfile(), "Dockerfile");
        assert_eq!(
            context.names(),
            [
                ".dockerignore",
                "Dockerfile",
                "app.txt",
                // Entered for the exception, but not itself archived.
                "build/keep.txt",
                "empty/",
                "src/",
                "src/deep/",
                "src/deep/x.log",
                "src/main.rs",
            ]
        );
        let entries = archive(&context);
        assert_eq!(entries.len(), 9);
        assert_eq!(
            entries[3],
            (
                "build/keep.txt".to_owned(),
                tar::EntryType::Regular,
                b"keep".to_vec()
            )
        );
        assert_eq!(entries[4].1, tar::EntryType::Directory);
    }

    #[test]
    fn exceptions_not_starting_with_a_folder_do_not_reach_into_it() {
        let dir = folder(&[
            ("Dockerfile", ""),
            (".dockerignore", "docs\n!**/README.md\n"),
            ("docs/README.md", ""),
            ("README.md", ""),
        ]);
        let context = BuildContext::plan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(
            context.names(),
            [".dockerignore", "Dockerfile", "README.md"]
        );
    }

    #[test]
    fn a_dockerfile_in_an_excluded_folder_is_still_sent_alone() {
        let dir = folder(&[
            ("docker/Dockerfile", "FROM scratch\n"),
            ("docker/notes.txt", ""),
            (".dockerignore", "docker\n"),
            ("a.txt", ""),
        ]);
        let context =
            BuildContext::plan(dir.path(), &dir.path().join("docker/Dockerfile")).unwrap();
        assert_eq!(context.dockerfile(), "docker/Dockerfile");
        assert_eq!(
            context.names(),
            [".dockerignore", "a.txt", "docker/Dockerfile"]
        );
    }

    #[test]
    fn a_dockerfile_outside_the_context_gets_a_content_hashed_name() {
        let repo = folder(&[
            ("Dockerfile-api", "FROM scratch\n"),
            ("api/main.go", "package main"),
        ]);
        let context = BuildContext::plan(
            &repo.path().join("api"),
            &repo.path().join("Dockerfile-api"),
        )
        .unwrap();
        let name = context.dockerfile().to_owned();
        assert!(
            name.starts_with(".dockerfile.") && name.len() == ".dockerfile.".len() + 20,
            "{name}"
        );
        assert_eq!(context.names(), [name.as_str(), ".dockerignore", "main.go"]);
        let entries = archive(&context);
        assert_eq!(entries[0].2, b"FROM scratch\n");
        assert_eq!(
            String::from_utf8_lossy(&entries[1].2),
            format!(".dockerignore\n{name}\n")
        );

        // Same content, same name: the archive is reproducible.
        let again = BuildContext::plan(
            &repo.path().join("api"),
            &repo.path().join("Dockerfile-api"),
        )
        .unwrap();
        assert_eq!(again.dockerfile(), name);
        let mut first = Vec::new();
        let mut second = Vec::new();
        context.write_tar(&mut first).unwrap();
        again.write_tar(&mut second).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn an_outside_dockerfile_is_appended_to_an_existing_dockerignore() {
        let repo = folder(&[
            ("Dockerfile", "FROM scratch\n"),
            ("ctx/.dockerignore", "*.tmp"),
            ("ctx/a.tmp", ""),
        ]);
        let context =
            BuildContext::plan(&repo.path().join("ctx"), &repo.path().join("Dockerfile")).unwrap();
        let name = context.dockerfile().to_owned();
        let entries = archive(&context);
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, [name.as_str(), ".dockerignore"]);
        assert_eq!(
            String::from_utf8_lossy(&entries[1].2),
            format!("*.tmp\n{name}\n")
        );
    }

    #[test]
    fn links_modes_and_sort_order_are_kept() {
        let dir = folder(&[("Dockerfile", ""), ("b", "b"), ("a/z", "z"), ("B", "upper")]);
        std::os::unix::fs::symlink("a/z", dir.path().join("link")).unwrap();
        fs::set_permissions(dir.path().join("b"), fs::Permissions::from_mode(0o750)).unwrap();
        let context = BuildContext::plan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(
            context.names(),
            ["B", "Dockerfile", "a/", "a/z", "b", "link"]
        );
        let mut bytes = Vec::new();
        context.write_tar(&mut bytes).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.link_name()
                        .unwrap()
                        .map(|l| l.to_string_lossy().into_owned()),
                )
            })
            .collect();
        assert_eq!(entries[4], ("b".to_owned(), 0o750, None));
        assert_eq!(entries[5].0, "link");
        assert_eq!(entries[5].2.as_deref(), Some("a/z"));
    }

    #[test]
    fn long_names_survive_the_archive() {
        let long = format!("{}/{}.txt", "d".repeat(120), "f".repeat(150));
        let dir = folder(&[("Dockerfile", ""), (long.as_str(), "x")]);
        let context = BuildContext::plan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let names: Vec<String> = archive(&context).into_iter().map(|e| e.0).collect();
        assert!(names.contains(&long), "{names:?}");
    }

    #[test]
    fn bad_contexts_fail_before_anything_is_sent() {
        let dir = folder(&[("Dockerfile", ""), (".dockerignore", "ok\n[\n")]);
        let error = BuildContext::plan(dir.path(), &dir.path().join("Dockerfile")).unwrap_err();
        assert!(matches!(error, Error::Dockerignore { .. }), "{error:?}");
        assert!(format!("{error}").contains(".dockerignore"), "{error}");

        let dir = folder(&[("Dockerfile", "")]);
        let error = BuildContext::plan(&dir.path().join("missing"), &dir.path().join("Dockerfile"))
            .unwrap_err();
        assert!(
            format!("{error}").starts_with("opening the build context folder"),
            "{error}"
        );
        let error =
            BuildContext::plan(dir.path(), &dir.path().join("Dockerfile-nope")).unwrap_err();
        assert!(
            format!("{error}").starts_with("opening the Dockerfile"),
            "{error}"
        );
        let error = BuildContext::plan(
            &dir.path().join("Dockerfile"),
            &dir.path().join("Dockerfile"),
        )
        .unwrap_err();
        assert!(
            format!("{error}").starts_with("opening the build context folder"),
            "{error}"
        );
    }
}
