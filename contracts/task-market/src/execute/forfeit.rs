//! Slashing a committer's collateral. The vault sends slashed stake to the market, never to the
//! beneficiaries directly, and the market pays it on with [`payment::pay_to`]: a beneficiary the
//! bank refuses then gets a claim instead of failing the transaction that closes the task (a
//! vault send would fail it whole).

use cosmwasm_std::{Addr, QuerierWrapper, SubMsg, Uint128};
use opengpu_types::market::MarketConfig;
use opengpu_types::vault::VaultContract;
use opengpu_types::TaskId;

use super::payment::pay_to;
use crate::ContractError;

/// What a forfeiture sends: the slash, then a payment per beneficiary, in that order.
pub struct Forfeiture {
    pub messages: Vec<SubMsg>,
    /// Stake actually taken: the parts asked, capped at the task's lock.
    pub taken: Uint128,
}

/// Slashes `provider`'s collateral on `task_id` and splits it as `parts` say, in order. The
/// slash takes at most the task's lock (so the market forwards exactly what arrives); should
/// the lock hold less than asked, the last parts get less.
pub fn forfeit(
    querier: &QuerierWrapper,
    config: &MarketConfig,
    market: &Addr,
    provider: &Addr,
    task_id: TaskId,
    parts: &[(&Addr, Uint128)],
) -> Result<Forfeiture, ContractError> {
    let vault = VaultContract(config.vault_addr.clone());
    let asked = parts
        .iter()
        .try_fold(Uint128::zero(), |sum, (_, amount)| sum.checked_add(*amount))?;
    let taken = asked.min(vault.locked(querier, provider, task_id)?);
    if taken.is_zero() {
        return Ok(Forfeiture {
            messages: vec![],
            taken,
        });
    }
    let stake_denom = vault.config(querier)?.stake_denom;
    let mut messages = vec![SubMsg::new(vault.slash(provider, task_id, taken, market)?)];
    let mut left = taken;
    for (beneficiary, amount) in parts {
        let part = (*amount).min(left);
        left = left.checked_sub(part)?;
        messages.extend(pay_to(beneficiary, &stake_denom, part)?);
    }
    Ok(Forfeiture { messages, taken })
}
