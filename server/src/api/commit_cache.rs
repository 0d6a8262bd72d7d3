//! The commits of jobs, read once per SHA from voc's clone and kept: a
//! commit never changes, so a list of jobs costs one git read per distinct
//! commit, however many jobs share it and however often it is asked for.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::error::{ApiError, ApiResult};
use super::repository::Commit;
use crate::git::{CommitId, GitRepo};

/// How many commits are kept; past that the cache starts over (a full
/// cache costs a few hundred kilobytes at most).
const MAX_COMMITS: usize = 4096;

/// One slot per SHA: concurrent readers of the same commit wait for one
/// read.
type Slot = Arc<OnceCell<Option<Commit>>>;

/// Commits by SHA, as the API shows them (`None`: not in the clone when
/// read; such slots are dropped so a later fetch can find the commit).
#[derive(Default)]
pub struct CommitCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl CommitCache {
    /// The commit `sha` of the clone at `clone`, `None` when the clone
    /// does not have it.
    pub async fn get(&self, clone: PathBuf, sha: &str) -> ApiResult<Option<Commit>> {
        let Ok(id) = CommitId::parse(sha) else {
            return Ok(None);
        };
        let slot = self.slot(sha);
        let commit = slot.get_or_try_init(|| read(clone, id)).await?.clone();
        if commit.is_none() {
            self.forget(sha, &slot);
        }
        Ok(commit)
    }

    fn slot(&self, sha: &str) -> Slot {
        // A poisoned map is still a valid map.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= MAX_COMMITS && !slots.contains_key(sha) {
            slots.clear();
        }
        slots.entry(sha.to_owned()).or_default().clone()
    }

    fn forget(&self, sha: &str, slot: &Slot) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.get(sha).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            slots.remove(sha);
        }
    }
}

/// Reads one commit off the async workers.
async fn read(clone: PathBuf, id: CommitId) -> ApiResult<Option<Commit>> {
    let info = tokio::task::spawn_blocking(move || GitRepo::open(&clone)?.commit_info(&id))
        .await
        .map_err(ApiError::internal)?;
    match info {
        Ok(info) => Ok(Some(Commit::from(info))),
        Err(crate::git::Error::CommitNotFound { .. }) => Ok(None),
        Err(error) => Err(ApiError::internal(format!(
            "voc could not read a job's commit from its clone: {}",
            crate::engine::error::ErrorChain(&error)
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::{Author, init_bare_with_files};

    #[tokio::test]
    async fn a_commit_is_read_once_and_an_unknown_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("conf.git");
        let author = Author {
            name: "Ada Lovelace".to_owned(),
            email: "ada@example.org".to_owned(),
        };
        let files = [("a.txt".to_owned(), b"a".to_vec())];
        let id = init_bare_with_files(&repo, "main", &files, &author, "first\n").unwrap();
        let cache = CommitCache::default();

        let commit = cache.get(repo.clone(), id.as_str()).await.unwrap().unwrap();
        assert_eq!(commit.author, "Ada Lovelace <ada@example.org>");
        assert_eq!(commit.sha, id.as_str());
        assert_eq!(commit.short_sha, &id.as_str()[..7]);

        // Cached: answered without the repository.
        std::fs::remove_dir_all(&repo).unwrap();
        let again = cache.get(repo.clone(), id.as_str()).await.unwrap().unwrap();
        assert_eq!(again.message, commit.message);

        // Neither a missing commit nor a malformed SHA is kept.
        let files = [("b.txt".to_owned(), b"b".to_vec())];
        init_bare_with_files(&repo, "main", &files, &author, "second\n").unwrap();
        let missing = "0123456789abcdef0123456789abcdef01234567";
        assert!(cache.get(repo.clone(), missing).await.unwrap().is_none());
        assert!(!cache.slots.lock().unwrap().contains_key(missing));
        assert!(cache.get(repo, "not a sha").await.unwrap().is_none());
    }
}
