use cosmwasm_std::{Addr, StdResult, Storage, Uint128};
use cw_storage_plus::{Item, Map};
use opengpu_types::vault::{Claim, VaultConfig};
use opengpu_types::TaskId;
use serde::{Deserialize, Serialize};

use crate::ContractError;

pub const CONFIG: Item<VaultConfig> = Item::new("cfg");
/// Per staker; removed when both amounts are zero.
pub const STAKES: Map<&Addr, Stake> = Map::new("st");
/// Per staker, oldest first; at most `max_claims_per_address` long, so loops over it are
/// bounded. Removed when empty.
pub const CLAIMS: Map<&Addr, Vec<Claim>> = Map::new("cl");
/// (provider, task id) -> collateral locked for that task; never zero.
pub const LOCKS: Map<(&Addr, TaskId), Uint128> = Map::new("lk");
/// Sums over all stakers, so `Totals {}` and the invariants need no iteration.
pub const TOTALS: Item<Totals> = Item::new("tot");

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stake {
    pub bonded: Uint128,
    /// Sum of this provider's locks; never more than `bonded`.
    pub locked: Uint128,
}

impl Stake {
    pub fn free(&self) -> Result<Uint128, ContractError> {
        Ok(self.bonded.checked_sub(self.locked)?)
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub bonded: Uint128,
    pub locked: Uint128,
    pub unbonding: Uint128,
}

pub fn load_stake(storage: &dyn Storage, addr: &Addr) -> StdResult<Stake> {
    Ok(STAKES.may_load(storage, addr)?.unwrap_or_default())
}

/// Saves the stake, or removes it when nothing is bonded.
pub fn save_stake(storage: &mut dyn Storage, addr: &Addr, stake: &Stake) -> StdResult<()> {
    if stake.bonded.is_zero() && stake.locked.is_zero() {
        STAKES.remove(storage, addr);
        Ok(())
    } else {
        STAKES.save(storage, addr, stake)
    }
}

pub fn load_claims(storage: &dyn Storage, addr: &Addr) -> StdResult<Vec<Claim>> {
    Ok(CLAIMS.may_load(storage, addr)?.unwrap_or_default())
}

/// Saves the claims, or removes the entry when there are none.
pub fn save_claims(storage: &mut dyn Storage, addr: &Addr, claims: &[Claim]) -> StdResult<()> {
    if claims.is_empty() {
        CLAIMS.remove(storage, addr);
        Ok(())
    } else {
        CLAIMS.save(storage, addr, &claims.to_vec())
    }
}
