//! Reveal plans and sealed bids on disk. A plan (outputs, salt, offer) is written before its commit is
//! broadcast and removed once the reveal is in a block or the task ended, so a provider that
//! restarts between commit and reveal still reveals and keeps its collateral.
//!
//! Plans carry a format version. A plan of another version (those written before the price
//! went into the commitment have none) cannot open its commitment under the current market:
//! it is set aside as `<task>.json.unusable`, with an error in the log, and never revealed.

use std::io::Write;
use std::path::{Path, PathBuf};

use cosmwasm_std::{Binary, HexBinary, Uint128};
use opengpu_client::bid::SealedBid;
use opengpu_types::commitment::{commitment, outputs_digest};
use opengpu_types::TaskId;
use serde::{Deserialize, Serialize};

/// The plan format this daemon writes and reveals. 1 (no `version` field): the commitment
/// recipe without the price. 2: `commitment(task, provider, digest, offer, salt)`.
pub const PLAN_VERSION: u32 = 2;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevealPlan {
    /// [`PLAN_VERSION`] when written by this daemon; 1 when absent (older daemons).
    #[serde(default = "first_version")]
    pub version: u32,
    pub task_id: TaskId,
    pub outputs: Vec<Binary>,
    pub salt: HexBinary,
    /// The price inside the commitment, which the reveal must repeat: the offer under Manual
    /// Confirmation, `None` in models without a price.
    #[serde(default)]
    pub offer: Option<Uint128>,
}

fn first_version() -> u32 {
    1
}

impl RevealPlan {
    pub fn new(
        task_id: TaskId,
        outputs: Vec<Binary>,
        salt: HexBinary,
        offer: Option<Uint128>,
    ) -> RevealPlan {
        RevealPlan {
            version: PLAN_VERSION,
            task_id,
            outputs,
            salt,
            offer,
        }
    }

    pub fn outputs_digest(&self) -> [u8; 32] {
        outputs_digest(&self.outputs)
    }

    /// The commitment this plan opens for `provider`: what is committed, and what a resumed
    /// plan is checked against before its reveal.
    pub fn commitment(&self, provider: &str) -> [u8; 32] {
        commitment(
            self.task_id,
            provider,
            &self.outputs_digest(),
            self.offer,
            self.salt.as_slice(),
        )
    }
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

    /// The saved plan of `task_id`, if any. A plan of another format version is set aside
    /// (see the module doc) and reads as none.
    pub fn load(&self, task_id: TaskId) -> std::io::Result<Option<RevealPlan>> {
        let plan: RevealPlan = match std::fs::read(self.path(task_id)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if plan.version != PLAN_VERSION {
            self.set_aside(
                task_id,
                &format!(
                    "plan format {} (this daemon reveals format {PLAN_VERSION}: the price is \
                     inside the commitment); its commitment cannot be opened",
                    plan.version
                ),
            );
            return Ok(None);
        }
        Ok(Some(plan))
    }

    /// Renames a plan that must not be revealed to `<task>.json.unusable` (kept for
    /// inspection, no longer listed) and logs why, loudly: its collateral will be forfeited
    /// unless the task ends first.
    pub fn set_aside(&self, task_id: TaskId, why: &str) {
        let path = self.path(task_id);
        let aside = self.aside_path(task_id);
        match std::fs::rename(&path, &aside) {
            Ok(()) => tracing::error!(
                task_id,
                plan = %aside.display(),
                "REVEAL PLAN SET ASIDE, NOT REVEALED: {why}"
            ),
            Err(e) => tracing::error!(
                task_id,
                plan = %path.display(),
                error = %e,
                "reveal plan unusable ({why}) and cannot be renamed"
            ),
        }
    }

    pub fn aside_path(&self, task_id: TaskId) -> PathBuf {
        self.dir.join(format!("{task_id}.json.unusable"))
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
    use super::*;

    #[test]
    fn plans_round_trip_and_are_listed_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::open(dir.path()).unwrap();
        let plan = RevealPlan::new(
            12,
            vec![Binary::from(vec![1, 2, 3])],
            HexBinary::from(vec![7; 32]),
            Some(Uint128::new(5)),
        );
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

    #[test]
    fn the_committed_price_survives_the_round_trip_and_opens_the_commitment() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::open(dir.path()).unwrap();
        let outputs = vec![Binary::from(vec![9; 8])];
        let salt = HexBinary::from(vec![3; 32]);
        let price = Some(Uint128::new(1_000));
        let plan = RevealPlan::new(4, outputs.clone(), salt.clone(), price);
        store.save(&plan).unwrap();
        let loaded = store.load(4).unwrap().expect("saved");
        assert_eq!(loaded.offer, price);
        assert_eq!(loaded.version, PLAN_VERSION);
        let expected = commitment(
            4,
            "wasm1me",
            &outputs_digest(&outputs),
            price,
            salt.as_slice(),
        );
        assert_eq!(loaded.commitment("wasm1me"), expected);
        // The price is bound: the same plan without it opens another commitment.
        let unpriced = RevealPlan::new(4, outputs, salt, None);
        assert_ne!(unpriced.commitment("wasm1me"), expected);
    }

    #[test]
    fn a_plan_of_the_old_format_is_set_aside_not_revealed() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::open(dir.path()).unwrap();
        // What the previous daemon wrote: no version (its commitment had no price in it).
        let old = serde_json::json!({
            "task_id": 8,
            "outputs": ["AQID"],
            "salt": "07".repeat(32),
            "offer": null,
        });
        std::fs::write(store.path(8), old.to_string()).unwrap();
        assert_eq!(store.pending().unwrap(), vec![8]);
        assert_eq!(store.load(8).unwrap(), None);
        assert_eq!(store.pending().unwrap(), Vec::<TaskId>::new());
        assert!(store.aside_path(8).exists());
        // A plan without `offer` at all still parses (as `None`).
        let bare = serde_json::json!({
            "version": PLAN_VERSION,
            "task_id": 9,
            "outputs": [],
            "salt": "07".repeat(16),
        });
        std::fs::write(store.path(9), bare.to_string()).unwrap();
        assert_eq!(store.load(9).unwrap().expect("current format").offer, None);
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
