//! Sealed auction bids: the one recipe the CLI and the daemon use to place a bid and open it
//! later. A bid's salt is the only thing that opens it, so it is written to disk before the bid
//! is sent (a bid whose salt is lost is forfeited).

use std::path::{Path, PathBuf};

use cosmwasm_std::{HexBinary, Uint128};
use opengpu_types::auction::bid_commitment;
use opengpu_types::market::ExecuteMsg;
use opengpu_types::TaskId;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::durable;
use crate::error::{Error, Result};

/// Salt length used for bids (the market accepts 16 to 64 bytes).
pub const BID_SALT_BYTES: usize = 32;
/// Saved bids are `bid-<task>-<bidder>.json`.
const PREFIX: &str = "bid-";

/// A bid as its bidder keeps it until it is opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedBid {
    pub task_id: TaskId,
    /// The bidder's address: part of the hash.
    pub bidder: String,
    pub price: Uint128,
    pub salt: HexBinary,
}

impl SealedBid {
    /// A new bid with a fresh random salt.
    pub fn new(task_id: TaskId, bidder: &str, price: Uint128) -> Self {
        let mut salt = [0u8; BID_SALT_BYTES];
        OsRng.fill_bytes(&mut salt);
        Self {
            task_id,
            bidder: bidder.to_string(),
            price,
            salt: HexBinary::from(salt.to_vec()),
        }
    }

    pub fn commitment(&self) -> HexBinary {
        HexBinary::from(bid_commitment(
            self.task_id,
            &self.bidder,
            self.price,
            self.salt.as_slice(),
        ))
    }

    /// `Bid`: places the sealed bid.
    pub fn bid_msg(&self) -> ExecuteMsg {
        ExecuteMsg::Bid {
            task_id: self.task_id,
            commitment: self.commitment(),
        }
    }

    /// `RevealBid`: opens it.
    pub fn reveal_msg(&self) -> ExecuteMsg {
        ExecuteMsg::RevealBid {
            task_id: self.task_id,
            price: self.price,
            salt: self.salt.clone(),
        }
    }

    /// Where a bid on `task_id` by `bidder` is kept under `dir`.
    pub fn path(dir: &Path, task_id: TaskId, bidder: &str) -> PathBuf {
        durable::path(dir, PREFIX, task_id, bidder)
    }

    /// Writes the bid under `dir` (created if missing), durably and atomically (temporary
    /// file, fsync, rename): a bid whose salt is lost is forfeited.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let path = Self::path(dir, self.task_id, &self.bidder);
        let json = serde_json::to_vec_pretty(self)
            .map_err(|source| Error::json("encoding a bid", source))?;
        durable::write(&path, &json)
            .map_err(|source| Error::io(format!("saving bid {}", path.display()), source))?;
        Ok(path)
    }

    /// The bid kept under `dir`, if any.
    pub fn load(dir: &Path, task_id: TaskId, bidder: &str) -> Result<Option<Self>> {
        let path = Self::path(dir, task_id, bidder);
        let context = || format!("reading bid {}", path.display());
        let Some(bytes) = durable::read(&path).map_err(|source| Error::io(context(), source))?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| Error::json(context(), source))
    }

    /// Task ids of `bidder`'s bids kept under `dir`, oldest task first (a missing `dir` has
    /// none).
    pub fn pending(dir: &Path, bidder: &str) -> Result<Vec<TaskId>> {
        durable::task_ids(dir, PREFIX, bidder)
            .map_err(|source| Error::io(format!("listing bids in {}", dir.display()), source))
    }

    /// Deletes the kept bid once it no longer matters (opened, or the auction closed).
    pub fn remove(dir: &Path, task_id: TaskId, bidder: &str) -> Result<()> {
        let path = Self::path(dir, task_id, bidder);
        durable::remove(&path)
            .map_err(|source| Error::io(format!("removing bid {}", path.display()), source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_bid_loads_back_and_opens_its_own_commitment() {
        let dir = tempfile::tempdir().unwrap();
        let bid = SealedBid::new(7, "wasm1bidder", Uint128::new(450));
        bid.save(dir.path()).unwrap();
        let loaded = SealedBid::load(dir.path(), 7, "wasm1bidder")
            .unwrap()
            .unwrap();
        assert_eq!(loaded, bid);
        assert_eq!(
            loaded.commitment(),
            HexBinary::from(bid_commitment(
                7,
                "wasm1bidder",
                bid.price,
                bid.salt.as_slice()
            ))
        );
        SealedBid::remove(dir.path(), 7, "wasm1bidder").unwrap();
        assert_eq!(SealedBid::load(dir.path(), 7, "wasm1bidder").unwrap(), None);
    }

    #[test]
    fn two_bids_at_one_price_hash_differently() {
        let a = SealedBid::new(1, "p", Uint128::new(5));
        let b = SealedBid::new(1, "p", Uint128::new(5));
        assert_ne!(a.commitment(), b.commitment());
    }
}
