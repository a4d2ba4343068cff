//! Reveal plans on disk. A plan (outputs, salt, offer) is written before its commit is
//! broadcast and removed once the reveal is in a block or the task ended, so a provider that
//! restarts between commit and reveal still reveals and keeps its collateral.

use std::io::Write;
use std::path::{Path, PathBuf};

use cosmwasm_std::{Binary, HexBinary, Uint128};
use opengpu_types::TaskId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevealPlan {
    pub task_id: TaskId,
    pub outputs: Vec<Binary>,
    pub salt: HexBinary,
    pub offer: Option<Uint128>,
}

#[derive(Clone, Debug)]
pub struct PlanStore {
    dir: PathBuf,
}

impl PlanStore {
    pub fn open(state_dir: &Path) -> std::io::Result<PlanStore> {
        let dir = state_dir.join("reveal-plans");
        std::fs::create_dir_all(&dir)?;
        Ok(PlanStore { dir })
    }

    pub fn path(&self, task_id: TaskId) -> PathBuf {
        self.dir.join(format!("{task_id}.json"))
    }

    /// Writes the plan durably (temporary file, fsync, rename) before the commit goes out.
    pub fn save(&self, plan: &RevealPlan) -> std::io::Result<()> {
        let path = self.path(plan.task_id);
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&serde_json::to_vec(plan).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    }

    pub fn remove(&self, task_id: TaskId) {
        let path = self.path(task_id);
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove reveal plan");
            }
        }
    }

    pub fn load(&self, task_id: TaskId) -> std::io::Result<Option<RevealPlan>> {
        match std::fs::read(self.path(task_id)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Task ids of every saved plan, oldest task first.
    pub fn pending(&self) -> std::io::Result<Vec<TaskId>> {
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name.strip_suffix(".json").and_then(|s| s.parse().ok()) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip_and_are_listed_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::open(dir.path()).unwrap();
        let plan = RevealPlan {
            task_id: 12,
            outputs: vec![Binary::from(vec![1, 2, 3])],
            salt: HexBinary::from(vec![7; 32]),
            offer: Some(Uint128::new(5)),
        };
        store.save(&plan).unwrap();
        store
            .save(&RevealPlan {
                task_id: 3,
                ..plan.clone()
            })
            .unwrap();
        assert_eq!(store.pending().unwrap(), vec![3, 12]);
        assert_eq!(store.load(12).unwrap(), Some(plan));
        store.remove(12);
        store.remove(12); // already gone: not an error
        assert_eq!(store.pending().unwrap(), vec![3]);
        assert_eq!(store.load(12).unwrap(), None);
    }
}
