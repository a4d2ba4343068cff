//! Every payment the market makes, and the claims that keep a refused payment from blocking a
//! task. A payment is a submessage replied to on error only: when the bank refuses it (on
//! wasmd, a send to a blocked module address), its reply credits the amount to a claim that
//! the beneficiary withdraws later, and the transaction that closes the task still succeeds.
//! So no payee's choice can block settlement, expiry or cancel.

use cosmwasm_std::{
    from_json, to_json_binary, Addr, BankMsg, Coin, DepsMut, Env, Event, MessageInfo, Reply,
    Response, StdResult, Storage, SubMsg, SubMsgResult, Uint128,
};
use opengpu_types::events::{actions, ClaimCredited, ClaimWithdrawn};
use opengpu_types::ibc::PayoutRoute;
use opengpu_types::market::{MarketConfig, TaskInfo, TransferPayee};
use opengpu_types::TaskId;

use super::ibc;
use crate::state::{CLAIMS, CLAIM_TOTALS};
use crate::ContractError;

/// Reply id of a refused bank payment (`ibc::TRANSFER_REPLY` is the other one).
pub const PAYMENT_REFUSED: u64 = 1;

/// Who a payment is for, where the way it travels depends on the payee.
pub enum Payee<'a> {
    /// The task's client: its local account, or its remote sender over IBC.
    Client(&'a TaskInfo),
    /// A provider's winnings: over its payout route when the denom may travel on that channel
    /// (the market's IBC settings), else to `paid_to` on this chain; a failure either way
    /// becomes `provider`'s claim.
    Provider {
        task_id: TaskId,
        provider: &'a Addr,
        paid_to: &'a Addr,
        route: Option<&'a PayoutRoute>,
    },
}

/// The route a provider's payment in `denom` takes, if it goes over IBC.
pub fn ibc_route<'a>(
    config: &MarketConfig,
    route: Option<&'a PayoutRoute>,
    denom: &str,
) -> Option<&'a PayoutRoute> {
    route.filter(|r| config.ibc.may_send(&r.channel, denom))
}

/// Pays `payee` `amount` of `denom`; `None` for a zero amount.
pub fn pay_payee(
    storage: &mut dyn Storage,
    env: &Env,
    config: &MarketConfig,
    payee: Payee,
    denom: &str,
    amount: Uint128,
) -> Result<Option<SubMsg>, ContractError> {
    if amount.is_zero() {
        return Ok(None);
    }
    let transfer = |storage, task_id, payee, channel: &str, receiver: &str| {
        let task_id = Some(task_id);
        ibc::send(
            storage, env, config, task_id, payee, channel, receiver, denom, amount,
        )
        .map(Some)
        .map_err(ContractError::from)
    };
    match payee {
        Payee::Client(task) => match &task.remote_client {
            Some(remote) => transfer(
                storage,
                task.id,
                TransferPayee::RemoteClient {},
                &remote.channel,
                &remote.sender,
            ),
            None => Ok(pay_to(&task.client, denom, amount)?),
        },
        Payee::Provider {
            task_id,
            provider,
            paid_to,
            route,
        } => match ibc_route(config, route, denom) {
            Some(route) => transfer(
                storage,
                task_id,
                TransferPayee::Provider {
                    provider: provider.clone(),
                },
                &route.channel,
                &route.receiver,
            ),
            None => Ok(pay(provider, paid_to, denom, amount)?),
        },
    }
}

/// What a refused payment's reply needs to credit the claim; carried in the payload.
#[cosmwasm_schema::cw_serde]
struct RefusedPayment {
    beneficiary: Addr,
    recipient: Addr,
    denom: String,
    amount: Uint128,
}

/// Pays `amount` of `denom` to `recipient` on behalf of `beneficiary`, who may withdraw it as
/// a claim should the bank refuse it. `None` for a zero amount.
pub fn pay(
    beneficiary: &Addr,
    recipient: &Addr,
    denom: &str,
    amount: Uint128,
) -> StdResult<Option<SubMsg>> {
    if amount.is_zero() {
        return Ok(None);
    }
    let send = BankMsg::Send {
        to_address: recipient.to_string(),
        amount: vec![Coin::new(amount, denom)],
    };
    let payload = to_json_binary(&RefusedPayment {
        beneficiary: beneficiary.clone(),
        recipient: recipient.clone(),
        denom: denom.to_string(),
        amount,
    })?;
    Ok(Some(
        SubMsg::reply_on_error(send, PAYMENT_REFUSED).with_payload(payload),
    ))
}

/// Pays `amount` to `to` itself (the beneficiary is the recipient).
pub fn pay_to(to: &Addr, denom: &str, amount: Uint128) -> StdResult<Option<SubMsg>> {
    pay(to, to, denom, amount)
}

/// The reply to a refused payment: the bank undid the send, so the coins are still here;
/// they become the beneficiary's claim.
pub fn payment_refused(deps: DepsMut, _env: Env, reply: Reply) -> Result<Response, ContractError> {
    let SubMsgResult::Err(error) = reply.result else {
        return Err(ContractError::UnknownReply { id: reply.id });
    };
    let refused: RefusedPayment = from_json(&reply.payload)?;
    credit(
        deps.storage,
        &refused.beneficiary,
        &refused.denom,
        refused.amount,
    )?;
    Ok(Response::new()
        .add_attribute("action", actions::PAYOUT_REFUSED)
        .add_attribute("error", error)
        .add_event(Event::from(ClaimCredited {
            beneficiary: refused.beneficiary.into_string(),
            recipient: refused.recipient.into_string(),
            denom: refused.denom,
            amount: refused.amount,
        })))
}

/// Credits `amount` to `beneficiary`'s claim (coins the market holds for it).
pub fn credit(
    storage: &mut dyn Storage,
    beneficiary: &Addr,
    denom: &str,
    amount: Uint128,
) -> StdResult<()> {
    let owed = CLAIMS
        .may_load(storage, (beneficiary, denom))?
        .unwrap_or_default();
    CLAIMS.save(storage, (beneficiary, denom), &owed.checked_add(amount)?)?;
    add_to_claim_total(storage, denom, amount)
}

/// Keeps `CLAIM_TOTALS` the sum of every claim, local and remote.
pub fn add_to_claim_total(
    storage: &mut dyn Storage,
    denom: &str,
    amount: Uint128,
) -> StdResult<()> {
    let total = CLAIM_TOTALS.may_load(storage, denom)?.unwrap_or_default();
    CLAIM_TOTALS.save(storage, denom, &total.checked_add(amount)?)
}

/// The other side of [`add_to_claim_total`]: a claim paid out.
pub fn remove_from_claim_total(
    storage: &mut dyn Storage,
    denom: &str,
    amount: Uint128,
) -> StdResult<()> {
    let total = CLAIM_TOTALS.load(storage, denom)?.checked_sub(amount)?;
    if total.is_zero() {
        CLAIM_TOTALS.remove(storage, denom);
    } else {
        CLAIM_TOTALS.save(storage, denom, &total)?;
    }
    Ok(())
}

/// The beneficiary withdraws its whole claim in `denom` to `recipient` (itself when unset).
/// A plain send: should the bank refuse this one too, the withdrawal fails and the claim stays.
pub fn withdraw_claim(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    denom: String,
    recipient: Option<String>,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let beneficiary = info.sender;
    let recipient = match recipient {
        Some(addr) => deps.api.addr_validate(&addr)?,
        None => beneficiary.clone(),
    };
    // Coins sent to the market itself would belong to nobody's escrow or claim.
    if recipient == env.contract.address {
        return Err(ContractError::ClaimToMarket {});
    }
    let amount = CLAIMS
        .may_load(deps.storage, (&beneficiary, &denom))?
        .ok_or_else(|| ContractError::NoClaim {
            address: beneficiary.to_string(),
            denom: denom.clone(),
        })?;
    CLAIMS.remove(deps.storage, (&beneficiary, &denom));
    remove_from_claim_total(deps.storage, &denom, amount)?;
    Ok(Response::new()
        .add_attribute("action", actions::WITHDRAW_CLAIM)
        .add_message(BankMsg::Send {
            to_address: recipient.to_string(),
            amount: vec![Coin::new(amount, denom.clone())],
        })
        .add_event(Event::from(ClaimWithdrawn {
            beneficiary: beneficiary.into_string(),
            recipient: recipient.into_string(),
            denom,
            amount,
        })))
}
