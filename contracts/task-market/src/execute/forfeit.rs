//! Slashing a committer's collateral. The vault sends slashed stake to the market, never to the
//! beneficiaries directly, and the market pays it on with [`payment::pay_payee`]: a beneficiary
//! the bank refuses then gets a claim instead of failing the transaction that closes the task
//! (a vault send would fail it whole), and a remote client is paid over IBC.

use cosmwasm_std::{Addr, DepsMut, Env, SubMsg, Uint128};
use opengpu_types::market::{MarketConfig, TaskInfo};
use opengpu_types::vault::VaultContract;

use super::payment::{pay_payee, pay_to, Payee};
use crate::ContractError;

/// Who gets a part of a forfeiture.
pub enum Beneficiary<'a> {
    /// The task's client (local, or remote over IBC).
    Client,
    /// A local account: a winner's share of an outvoted provider's collateral.
    Account(&'a Addr),
}

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
    deps: DepsMut,
    env: &Env,
    config: &MarketConfig,
    task: &TaskInfo,
    provider: &Addr,
    parts: &[(Beneficiary, Uint128)],
) -> Result<Forfeiture, ContractError> {
    let (querier, task_id, market) = (&deps.querier, task.id, &env.contract.address);
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
        messages.extend(match beneficiary {
            Beneficiary::Client => {
                let payee = Payee::Client(task);
                pay_payee(deps.storage, env, config, payee, &stake_denom, part)?
            }
            Beneficiary::Account(account) => pay_to(account, &stake_denom, part)?,
        });
    }
    Ok(Forfeiture { messages, taken })
}
