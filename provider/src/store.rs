//! Reveal plans and sealed bids on disk, in the client library's formats and naming (the one
//! recipe the CLI uses too: `opengpu_client::reveal` and `opengpu_client::bid`), with this
//! daemon's logging. A plan (outputs, salt, price) is written before its commit is broadcast
//! and removed once the reveal is in a block or the task ended, so a provider that restarts
//! between commit and reveal still reveals and keeps its collateral.
//!
//! A plan that cannot open its commitment (the format written before the price went into the
//! commitment, or one kept for another provider) is set aside as
//! `<task>-<provider>.json.unusable`, with an error in the log, and never revealed. Plans an
//! earlier daemon kept as `<task>.json` are renamed to the current naming when the store
//! opens (their format 2 is read as it is).

use std::path::{Path, PathBuf};

use opengpu_client::bid::SealedBid;
use opengpu_client::reveal::{self, RevealPlan};
use opengpu_types::TaskId;

/// This provider's reveal plans, under `<state_dir>/reveal-plans/`.
#[derive(Clone, Debug)]
pub struct PlanStore {
    plans: reveal::PlanStore,
    /// The provider whose plans these are.
    owner: String,
}

impl PlanStore {
    /// Opens the store of `owner`'s plans, renaming plans an earlier daemon kept as
    /// `<task>.json`.
    pub fn open(state_dir: &Path, owner: &str) -> std::io::Result<PlanStore> {
        let dir = state_dir.join("reveal-plans");
        std::fs::create_dir_all(&dir)?;
        let store = PlanStore {
            plans: reveal::PlanStore::new(&dir),
            owner: owner.to_string(),
        };
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name();
            let id = name
                .to_str()
                .and_then(|name| name.strip_suffix(".json"))
                .and_then(|id| id.parse::<TaskId>().ok());
            if let Some(id) = id {
                let to = store.path(id);
                std::fs::rename(dir.join(&name), &to)?;
                tracing::info!(task_id = id, plan = %to.display(), "reveal plan renamed");
            }
        }
        Ok(store)
    }

    pub fn path(&self, task_id: TaskId) -> PathBuf {
        self.plans.path(task_id, &self.owner)
    }

    pub fn aside_path(&self, task_id: TaskId) -> PathBuf {
        self.plans.aside_path(task_id, &self.owner)
    }

    /// Writes the plan durably (temporary file, fsync, rename) before the commit goes out.
    pub fn save(&self, plan: &RevealPlan) -> opengpu_client::Result<PathBuf> {
        self.plans.save(plan)
    }

    pub fn remove(&self, task_id: TaskId) {
        if let Err(e) = self.plans.remove(task_id, &self.owner) {
            tracing::warn!(task_id, error = %e, "cannot remove reveal plan");
        }
    }

    /// The saved plan of `task_id`, if any. A plan that cannot open its commitment is set
    /// aside (see the module doc) and reads as none.
    pub fn load(&self, task_id: TaskId) -> opengpu_client::Result<Option<RevealPlan>> {
        match self.plans.load(task_id, &self.owner) {
            Err(opengpu_client::Error::PlanUnusable { reason, .. }) => {
                self.set_aside(task_id, &reason);
                Ok(None)
            }
            loaded => loaded,
        }
    }

    /// Renames a plan that must not be revealed to `<task>-<provider>.json.unusable` (kept
    /// for inspection, no longer listed) and logs why, loudly: its collateral will be
    /// forfeited unless the task ends first.
    pub fn set_aside(&self, task_id: TaskId, why: &str) {
        match self.plans.set_aside(task_id, &self.owner) {
            Ok(aside) => tracing::error!(
                task_id,
                plan = %aside.display(),
                "REVEAL PLAN SET ASIDE, NOT REVEALED: {why}"
            ),
            Err(e) => tracing::error!(
                task_id,
                plan = %self.path(task_id).display(),
                error = %e,
                "reveal plan unusable ({why}) and cannot be renamed"
            ),
        }
    }

    /// Task ids of every saved plan, oldest task first.
    pub fn pending(&self) -> opengpu_client::Result<Vec<TaskId>> {
        self.plans.pending(&self.owner)
    }
}

/// Sealed auction bids on disk, under `<state_dir>/bids/`, in the client library's format and
/// naming (`opengpu_client::bid::SealedBid`, the one bid recipe the CLI uses too). A bid is
/// saved before it is sent, since only its salt opens it, and removed once it is opened or its
/// auction is over; a daemon restarted in between opens it from here.
#[derive(Clone, Debug)]
pub struct BidStore {
    dir: PathBuf,
}

impl BidStore {
    pub fn open(state_dir: &Path) -> std::io::Result<BidStore> {
        let dir = state_dir.join("bids");
        std::fs::create_dir_all(&dir)?;
        Ok(BidStore { dir })
    }

    pub fn path(&self, task_id: TaskId, bidder: &str) -> PathBuf {
        SealedBid::path(&self.dir, task_id, bidder)
    }

    /// Writes `bid` (temporary file, then rename) before it goes out.
    pub fn save(&self, bid: &SealedBid) -> opengpu_client::Result<PathBuf> {
        bid.save(&self.dir)
    }

    pub fn load(&self, task_id: TaskId, bidder: &str) -> opengpu_client::Result<Option<SealedBid>> {
        SealedBid::load(&self.dir, task_id, bidder)
    }

    pub fn remove(&self, task_id: TaskId, bidder: &str) {
        if let Err(e) = SealedBid::remove(&self.dir, task_id, bidder) {
            tracing::warn!(task_id, error = %e, "cannot remove a saved bid");
        }
    }

    /// Task ids of `bidder`'s saved bids, oldest task first.
    pub fn pending(&self, bidder: &str) -> opengpu_client::Result<Vec<TaskId>> {
        SealedBid::pending(&self.dir, bidder)
    }
}

#[cfg(test)]
mod tests {
    use cosmwasm_std::{Binary, HexBinary, Uint128};
    use opengpu_types::commitment::{commitment, outputs_digest};

    use super::*;

    const ME: &str = "wasm1me";

    #[test]
    fn plans_round_trip_and_are_listed_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::open(dir.path(), ME).unwrap();
        let plan = RevealPlan::new(12, ME, vec![Binary::from(vec![1, 2, 3])], None);
        store.save(&plan).unwrap();
        store
            .save(&RevealPlan::new(3, ME, vec![], Some(Uint128::new(5))))
            .unwrap();
        assert_eq!(store.pending().unwrap(), vec![3, 12]);
        assert_eq!(store.load(12).unwrap(), Some(plan));
        store.remove(12);
        store.remove(12); // already gone: not an error
        assert_eq!(store.pending().unwrap(), vec![3]);
        assert_eq!(store.load(12).unwrap(), None);
    }

    #[test]
    fn an_earlier_daemons_plans_are_renamed_and_revealed_or_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("reveal-plans");
        std::fs::create_dir_all(&plans).unwrap();
        let outputs = vec![Binary::from(vec![1, 2, 3])];
        let salt = HexBinary::from(vec![7; 32]);
        // Format 2, as the previous daemon wrote it: the price inside the commitment.
        let v2 = serde_json::json!({
            "version": 2, "task_id": 4, "outputs": outputs, "salt": salt, "offer": "1000",
        });
        std::fs::write(plans.join("4.json"), v2.to_string()).unwrap();
        // No version: the commitment recipe without the price.
        let v1 = serde_json::json!({"task_id": 8, "outputs": outputs, "salt": salt, "offer": null});
        std::fs::write(plans.join("8.json"), v1.to_string()).unwrap();

        let store = PlanStore::open(dir.path(), ME).unwrap();
        assert!(!plans.join("4.json").exists() && !plans.join("8.json").exists());
        assert_eq!(store.pending().unwrap(), vec![4, 8]);
        let plan = store.load(4).unwrap().expect("format 2 is read");
        let price = Some(Uint128::new(1_000));
        let expected = commitment(4, ME, &outputs_digest(&outputs), price, salt.as_slice());
        assert!(plan.opens(&HexBinary::from(expected.to_vec())));
        assert_eq!(plan.price, price);

        assert_eq!(store.load(8).unwrap(), None);
        assert_eq!(store.pending().unwrap(), vec![4]);
        assert!(store.aside_path(8).exists());
    }

    #[test]
    fn saved_bids_are_listed_per_bidder_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = BidStore::open(dir.path()).unwrap();
        let mine = SealedBid::new(12, "wasm1me", Uint128::new(300));
        store.save(&mine).unwrap();
        store
            .save(&SealedBid::new(3, "wasm1me", Uint128::new(5)))
            .unwrap();
        store
            .save(&SealedBid::new(4, "wasm1other", Uint128::new(5)))
            .unwrap();
        std::fs::write(dir.path().join("bids").join("bid-x-wasm1me.json"), "{}").unwrap();
        assert_eq!(store.pending("wasm1me").unwrap(), vec![3, 12]);
        assert_eq!(store.pending("wasm1other").unwrap(), vec![4]);
        assert_eq!(store.load(12, "wasm1me").unwrap(), Some(mine));
        store.remove(12, "wasm1me");
        store.remove(12, "wasm1me"); // already gone: not an error
        assert_eq!(store.pending("wasm1me").unwrap(), vec![3]);
        assert_eq!(store.load(12, "wasm1me").unwrap(), None);
    }
}
