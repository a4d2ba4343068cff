//! The market's IBC side, over ICS-20 and wasmd's callbacks middleware (see
//! `opengpu_types::ibc`): transfers out (payouts home, payments to remote clients), how they
//! end, and tasks published from another chain.
//!
//! Every transfer out is recorded in `PENDING_TRANSFERS` under a fresh id that its memo
//! carries. The callbacks middleware calls `ibc_source_callback` once per packet, on its
//! acknowledgement or its timeout, and only for packets the market sent (wasmd refuses a
//! source callback whose address is not the packet's sender). Success removes the record; an
//! error acknowledgement or a timeout, after which ICS-20 has already returned the coins to
//! the market, removes it and credits the payee: a provider's claim (`WithdrawClaim`), or a
//! remote client's claim (`ResendRemoteClaim`). A record is removed by the first outcome, so a
//! transfer is neither lost nor paid twice. A transfer the chain refuses to send (the reply)
//! is credited the same way.

use cosmwasm_std::{
    from_json, to_json_binary, to_json_string, Coin, DepsMut, Env, Event, IbcBasicResponse,
    IbcDestinationCallbackMsg, IbcMsg, IbcPacket, IbcSourceCallbackMsg, IbcTimeout, MessageInfo,
    Reply, Response, StdResult, Storage, SubMsg, SubMsgResult, Uint128,
};
use opengpu_types::events::{
    actions, IbcTransferDelivered, IbcTransferFailed, IbcTransferSent, RemoteTaskPublished,
};
use opengpu_types::ibc::{
    validate_remote_address, Ics20Ack, Ics20Packet, OpengpuMemo, RemoteClient, TransferMemo,
};
use opengpu_types::market::{CompetitionModel, MarketConfig, PendingTransfer, TransferPayee};
use opengpu_types::TaskId;

use super::payment::{add_to_claim_total, credit, remove_from_claim_total};
use super::publish::publish;
use crate::state::{CONFIG, LAST_TRANSFER_ID, PENDING_TRANSFERS, REMOTE_CLAIMS};
use crate::ContractError;

/// Reply id of every IBC transfer: success emits `ibc_transfer_sent`, failure credits it.
pub const TRANSFER_REPLY: u64 = 2;
/// Longest failure reason an event carries.
const MAX_REASON_CHARS: usize = 200;

/// Sends `amount` of `denom` to `receiver` over `channel` and records it as pending.
#[allow(clippy::too_many_arguments)]
pub fn send(
    storage: &mut dyn Storage,
    env: &Env,
    config: &MarketConfig,
    task_id: Option<TaskId>,
    payee: TransferPayee,
    channel: &str,
    receiver: &str,
    denom: &str,
    amount: Uint128,
) -> StdResult<SubMsg> {
    let id = LAST_TRANSFER_ID.may_load(storage)?.unwrap_or_default() + 1;
    LAST_TRANSFER_ID.save(storage, &id)?;
    let timeout = env
        .block
        .time
        .plus_seconds(config.ibc.transfer_timeout_seconds);
    PENDING_TRANSFERS.save(
        storage,
        id,
        &PendingTransfer {
            id,
            task_id,
            payee,
            channel: channel.to_string(),
            receiver: receiver.to_string(),
            denom: denom.to_string(),
            amount,
            sent_height: env.block.height,
            timeout_seconds: timeout.seconds(),
        },
    )?;
    let memo = to_json_string(&TransferMemo::payout(env.contract.address.as_str(), id))?;
    let transfer = IbcMsg::Transfer {
        channel_id: channel.to_string(),
        to_address: receiver.to_string(),
        amount: Coin::new(amount, denom),
        timeout: IbcTimeout::with_timestamp(timeout),
        memo: Some(memo),
    };
    Ok(SubMsg::reply_always(transfer, TRANSFER_REPLY).with_payload(to_json_binary(&id)?))
}

/// The reply to every transfer: sent (the `ibc_transfer_sent` event), or refused by the chain
/// (the coins never left: credited at once).
pub fn transfer_reply(deps: DepsMut, reply: Reply) -> Result<Response, ContractError> {
    let id: u64 = from_json(&reply.payload)?;
    let pending = PENDING_TRANSFERS.load(deps.storage, id)?;
    let response = Response::new();
    match reply.result {
        SubMsgResult::Ok(_) => Ok(response.add_event(Event::from(IbcTransferSent {
            transfer_id: id,
            channel: pending.channel,
            receiver: pending.receiver,
            denom: pending.denom,
            amount: pending.amount,
        }))),
        SubMsgResult::Err(error) => {
            PENDING_TRANSFERS.remove(deps.storage, id);
            let failed = credit_failed(deps.storage, &pending, format!("not sent: {error}"))?;
            Ok(response
                .add_attribute("action", actions::IBC_TRANSFER_NOT_SENT)
                .add_event(failed))
        }
    }
}

/// How a market transfer ended: delivered, or failed and credited.
pub fn source_callback(
    deps: DepsMut,
    _env: Env,
    msg: IbcSourceCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let (packet, ack) = match msg {
        IbcSourceCallbackMsg::Acknowledgement(ack) => {
            (ack.original_packet, Some(ack.acknowledgement))
        }
        IbcSourceCallbackMsg::Timeout(timeout) => (timeout.packet, None),
    };
    let response = IbcBasicResponse::new().add_attribute("action", actions::IBC_SOURCE_CALLBACK);
    let pending = match transfer_id(&packet)
        .map(|id| PENDING_TRANSFERS.may_load(deps.storage, id))
        .transpose()?
        .flatten()
    {
        Some(pending) if pending.channel == packet.src.channel_id => pending,
        // Not one of ours, or already settled: nothing is owed, nothing changes.
        _ => return Ok(response.add_attribute("ignored", "no pending transfer")),
    };
    PENDING_TRANSFERS.remove(deps.storage, pending.id);
    let reason = match ack {
        None => "timeout".to_string(),
        Some(ack) => match from_json::<Ics20Ack>(&ack.data)? {
            Ics20Ack::Result(_) => {
                return Ok(response.add_event(Event::from(IbcTransferDelivered {
                    transfer_id: pending.id,
                    channel: pending.channel,
                    receiver: pending.receiver,
                    denom: pending.denom,
                    amount: pending.amount,
                })))
            }
            Ics20Ack::Error(error) => format!("error acknowledgement: {error}"),
        },
    };
    Ok(response.add_event(credit_failed(deps.storage, &pending, reason)?))
}

/// The id in a market transfer's memo.
fn transfer_id(packet: &IbcPacket) -> Option<u64> {
    let data: Ics20Packet = from_json(&packet.data).ok()?;
    match from_json::<TransferMemo>(data.memo.as_bytes())
        .ok()?
        .opengpu?
    {
        OpengpuMemo::Transfer { id } => Some(id),
        OpengpuMemo::Publish(_) => None,
    }
}

/// The coins of a failed transfer are the market's again: owed to the payee.
fn credit_failed(
    storage: &mut dyn Storage,
    pending: &PendingTransfer,
    reason: String,
) -> StdResult<Event> {
    let credited_to = match &pending.payee {
        TransferPayee::Provider { provider } => {
            credit(storage, provider, &pending.denom, pending.amount)?;
            provider.to_string()
        }
        TransferPayee::RemoteClient {} => {
            let key = (
                pending.channel.as_str(),
                pending.receiver.as_str(),
                pending.denom.as_str(),
            );
            let owed = REMOTE_CLAIMS.may_load(storage, key)?.unwrap_or_default();
            REMOTE_CLAIMS.save(storage, key, &owed.checked_add(pending.amount)?)?;
            add_to_claim_total(storage, &pending.denom, pending.amount)?;
            format!("{}/{}", pending.channel, pending.receiver)
        }
    };
    Ok(Event::from(IbcTransferFailed {
        transfer_id: pending.id,
        reason: bounded(reason),
        credited_to,
        denom: pending.denom.clone(),
        amount: pending.amount,
    }))
}

/// At most `MAX_REASON_CHARS` of an error text: events stay small whatever the chain said.
fn bounded(mut reason: String) -> String {
    if let Some((cut, _)) = reason.char_indices().nth(MAX_REASON_CHARS) {
        reason.truncate(cut);
        reason.push_str("...");
    }
    reason
}

/// Anyone: sends a remote claim again (its destination is fixed, so this can only deliver).
pub fn resend_remote_claim(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    channel: String,
    receiver: String,
    denom: String,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let key = (channel.as_str(), receiver.as_str(), denom.as_str());
    let amount =
        REMOTE_CLAIMS
            .may_load(deps.storage, key)?
            .ok_or_else(|| ContractError::NoClaim {
                address: format!("{channel}/{receiver}"),
                denom: denom.clone(),
            })?;
    REMOTE_CLAIMS.remove(deps.storage, key);
    remove_from_claim_total(deps.storage, &denom, amount)?;
    let config = CONFIG.load(deps.storage)?;
    let transfer = send(
        deps.storage,
        &env,
        &config,
        None,
        TransferPayee::RemoteClient {},
        &channel,
        &receiver,
        &denom,
        amount,
    )?;
    Ok(Response::new()
        .add_attribute("action", actions::RESEND_REMOTE_CLAIM)
        .add_submessage(transfer))
}

/// A transfer to the market with a task in its memo: publish it for the remote sender. Any
/// error fails the transfer on this chain (error acknowledgement), and ICS-20 returns the
/// coins to the sender.
pub fn destination_callback(
    deps: DepsMut,
    env: Env,
    msg: IbcDestinationCallbackMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let transfer = msg.transfer.ok_or(ContractError::RemotePublish {
        reason: "not a successful ICS-20 transfer".into(),
    })?;
    let refuse = |reason: &str| ContractError::RemotePublish {
        reason: reason.to_string(),
    };
    // The callback may name the market for coins sent to someone else: those are not ours.
    if transfer.receiver != env.contract.address {
        return Err(refuse("the transfer's receiver must be the market"));
    }
    let channel = msg.packet.dest.channel_id.clone();
    let config = CONFIG.load(deps.storage)?;
    if !config.ibc.has_channel(&channel) {
        return Err(ContractError::RemotePublish {
            reason: format!("channel {channel} is not one of the market's IBC channels"),
        });
    }
    validate_remote_address(&transfer.sender).map_err(|e| refuse(&e.to_string()))?;
    let data: Ics20Packet = from_json(&msg.packet.data)?;
    let memo: TransferMemo =
        from_json(data.memo.as_bytes()).map_err(|e| ContractError::RemotePublish {
            reason: format!("memo: {e}"),
        })?;
    let Some(OpengpuMemo::Publish(draft)) = memo.opengpu else {
        return Err(refuse("the memo carries no opengpu task"));
    };
    // Manual Confirmation needs the client to confirm on this chain; a remote client cannot.
    if draft.model == CompetitionModel::ManualConfirmation {
        return Err(refuse(
            "manual confirmation needs a client on the market chain",
        ));
    }
    let [payment] = <[Coin; 1]>::try_from(transfer.funds)
        .map_err(|_| refuse("a transfer carries exactly one coin"))?;
    let remote = RemoteClient {
        channel: channel.clone(),
        sender: transfer.sender.clone(),
    };
    let market = env.contract.address.clone();
    let published = publish(deps, &env, market, Some(remote), payment, *draft)?;
    let task_id: TaskId = from_json(published.data.as_ref().ok_or(refuse("no task id"))?)?;
    Ok(IbcBasicResponse::new()
        .add_attribute("action", actions::IBC_DESTINATION_CALLBACK)
        .add_attributes(published.attributes)
        .add_events(published.events)
        .add_event(Event::from(RemoteTaskPublished {
            task_id,
            channel,
            sender: transfer.sender,
        })))
}
