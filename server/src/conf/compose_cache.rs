//! [`ComposeCache`]: what loading each stack's Compose file found, kept
//! between runs in voc's data folder, so that reading a large conf repo
//! again loads only the Compose files whose inputs changed.
//!
//! Loading is most of the time it takes to read a conf repo, and planning
//! needs it for every stack, not only the changed ones: a changed env file
//! or secret file redeploys the stacks that read it, and only loading their
//! Compose files says which stacks those are.
//!
//! An entry is found by a key made of the loader's own inputs: the Compose
//! file's path and text, and the interpolation variables. It keeps the
//! fingerprint of every file the load read or named (env files, secret and
//! config files, bind-mount sources): a hash of the content, or what the
//! path is when it is no file, and whether it leads out of the repo through
//! a symbolic link. The entry is used only when every fingerprint is still
//! the same. Given the same text and variables the loader names the same
//! files, so these are exactly the inputs of the load, and a reused entry
//! is what loading again would give.
//!
//! Loaded every time, never cached: loads that failed (which files they
//! read is not known), and loads that read a file outside the repo.
//!
//! The whole cache is dropped when the voc program changes: its version or
//! the executable itself, so that a rebuilt voc whose loader behaves
//! differently never trusts the old one's results. A cache that cannot be
//! read or written is ignored: it only ever saves time. Writes go through a
//! rename, so a reader never sees half a file; two processes saving at once
//! lose one's new entries, which costs a reload later, never a wrong result.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::{ConfProblem, RepoPath};
use super::repo_path::escapes_repo_among;
use super::stack::{ComposeCheck, check_compose_text};
use crate::compose;

/// The cache's file in voc's data folder.
pub const FILE_NAME: &str = "compose-cache.json";

/// Bump when [`Entry`] or the key changes meaning: older files are then
/// dropped rather than misread.
const FORMAT: u32 = 1;

/// Results of loading Compose files, by their inputs. Shared by the
/// threads of one read (`&self` everywhere); [`ComposeCache::save`] writes
/// what the read used and found.
#[derive(Debug)]
pub struct ComposeCache {
    /// Where it is kept; `None`: in memory only.
    path: Option<PathBuf>,
    /// [`program_identity`], computed once.
    program: String,
    /// The entries read from the file.
    stored: HashMap<String, Entry>,
    run: Mutex<Run>,
}

/// What the current process did with the cache.
#[derive(Debug, Default)]
struct Run {
    /// Keys of stored entries that were reused.
    reused: HashSet<String>,
    /// Entries made by loading.
    added: HashMap<String, Entry>,
    /// Loads that could not be cached.
    uncached: usize,
}

/// How a read used the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheCounts {
    /// Compose files whose earlier result was reused.
    pub reused: usize,
    /// Compose files loaded (their inputs changed, or they were new).
    pub loaded: usize,
}

/// One load's result and the fingerprints of the files it depends on.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// Every file the load read or named (the stack's `reads`), with its
    /// fingerprint then.
    inputs: BTreeMap<RepoPath, String>,
    images: BTreeSet<String>,
    problems: Vec<ConfProblem>,
    warnings: Vec<ConfProblem>,
}

/// The file's layout.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    program: String,
    entries: HashMap<String, Entry>,
}

impl ComposeCache {
    /// The cache kept at `path`; empty when the file is missing, cannot be
    /// read, or was written by another voc. Blocking.
    pub fn open(path: &Path) -> ComposeCache {
        let program = program_identity();
        let stored = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            .filter(|file| file.format == FORMAT && file.program == program)
            .map(|file| file.entries)
            .unwrap_or_default();
        ComposeCache {
            path: Some(path.to_owned()),
            program,
            stored,
            run: Mutex::default(),
        }
    }

    /// An empty cache that is never written (for one process, or tests).
    pub fn in_memory() -> ComposeCache {
        ComposeCache {
            path: None,
            program: program_identity(),
            stored: HashMap::new(),
            run: Mutex::default(),
        }
    }

    /// How the reads so far used the cache.
    pub fn counts(&self) -> CacheCounts {
        let run = self.run();
        CacheCounts {
            reused: run.reused.len(),
            loaded: run.added.len() + run.uncached,
        }
    }

    /// Writes the entries this process reused or made (older ones are
    /// dropped, so the file holds one entry per stack); does nothing when
    /// that is what the file already holds. Blocking.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let run = self.run();
        if run.added.is_empty() && run.reused.len() == self.stored.len() {
            return Ok(());
        }
        let mut entries: HashMap<String, Entry> = run.added.clone();
        for key in &run.reused {
            if let Some(entry) = self.stored.get(key) {
                entries.insert(key.clone(), entry.clone());
            }
        }
        let file = CacheFile {
            format: FORMAT,
            program: self.program.clone(),
            entries,
        };
        let text = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        // A unique temporary name, then a rename: readers see the old file
        // or the new one, whole.
        let temporary = path.with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }

    /// [`check_compose_text`], or its earlier result when none of its
    /// inputs changed. `root` must be canonical; `links` are the repo's
    /// symbolic links when a walk found them all.
    pub fn check(
        &self,
        root: &Path,
        file: &str,
        text: String,
        variables: &compose::Variables,
        links: Option<&BTreeSet<RepoPath>>,
    ) -> ComposeCheck {
        let key = key(file, &text, variables);
        if let Some(entry) = self.stored.get(&key)
            && is_current(root, entry, links)
        {
            self.run().reused.insert(key);
            return entry.to_check();
        }
        let check = check_compose_text(root, file, text, variables, links);
        if !check.from_repo_only {
            self.run().uncached += 1;
            return check;
        }
        let entry = Entry {
            inputs: check
                .reads
                .iter()
                .map(|read| (read.clone(), fingerprint(root, read, links)))
                .collect(),
            images: check.images.clone(),
            problems: check.problems.clone(),
            warnings: check.warnings.clone(),
        };
        self.run().added.insert(key, entry);
        check
    }

    fn run(&self) -> MutexGuard<'_, Run> {
        // The run's bookkeeping stays consistent even if a thread panicked
        // while holding the lock: each update is a single insert.
        self.run.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Entry {
    fn to_check(&self) -> ComposeCheck {
        ComposeCheck {
            reads: self.inputs.keys().cloned().collect(),
            images: self.images.clone(),
            problems: self.problems.clone(),
            warnings: self.warnings.clone(),
            from_repo_only: true,
        }
    }
}

/// True if every file `entry` depends on is as it was.
fn is_current(root: &Path, entry: &Entry, links: Option<&BTreeSet<RepoPath>>) -> bool {
    entry
        .inputs
        .iter()
        .all(|(path, print)| fingerprint(root, path, links) == *print)
}

/// The key of a load: a hash of everything it reads besides other files.
fn key(file: &str, text: &str, variables: &compose::Variables) -> String {
    let mut hasher = Sha256::new();
    // Each part is preceded by its length, so no two inputs hash alike by
    // moving bytes from one part to the next.
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(file.as_bytes());
    part(text.as_bytes());
    for (name, value) in variables {
        part(name.as_bytes());
        part(value.as_bytes());
    }
    to_hex(&hasher.finalize())
}

/// What the file at `path` is now, as far as a load can tell: the hash of
/// its content, or what it is when it is not a file, marked with `!` when
/// it leads out of the repo through a symbolic link.
fn fingerprint(root: &Path, path: &str, links: Option<&BTreeSet<RepoPath>>) -> String {
    let absolute = root.join(path);
    // `metadata` and `read` follow symbolic links, as the loader does.
    // What the path is comes first: reading a named pipe would block.
    let what = match std::fs::metadata(&absolute) {
        Ok(meta) if meta.is_file() => match std::fs::read(&absolute) {
            Ok(bytes) => to_hex(&Sha256::digest(&bytes)),
            Err(_) => "unreadable".to_owned(),
        },
        Ok(meta) if meta.is_dir() => "folder".to_owned(),
        Ok(_) => "other".to_owned(),
        Err(_) => "missing".to_owned(),
    };
    if escapes_repo_among(root, &absolute, links) {
        format!("{what}!")
    } else {
        what
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which voc wrote a cache: its version, and the size and modification
/// time of its executable when known.
fn program_identity() -> String {
    let executable = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_nanos());
            format!("{} bytes, modified {modified}", meta.len())
        })
        .unwrap_or_default();
    format!("voc {} ({executable})", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests;
