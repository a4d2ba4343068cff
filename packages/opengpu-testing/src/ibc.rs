//! IBC for the suite: a test double of ICS-20 and of wasmd's callbacks middleware.
//!
//! [`FakeIbc`] takes an `IbcMsg::Transfer` as ICS-20 does: the coins leave the sender (held
//! by an escrow account) and the packet is recorded. A test then plays the relayer and the
//! other chain: [`Suite::ibc_ack`] (success: the coins stay gone; error: back to the sender
//! first, as ICS-20 refunds before the callback), [`Suite::ibc_timeout`], and
//! [`Suite::ibc_receive`] (coins arrive at the receiver, then the destination callback runs;
//! should it fail, the receive is undone, as an error acknowledgement does). Callbacks reach
//! the market through its test-only sudo route [`market_sudo`]; the real contract has no sudo
//! entry point, only the chain's callbacks middleware calls it.

use cosmwasm_std::{
    from_json, to_json_binary, to_json_vec, Addr, Api, BankMsg, Binary, BlockInfo, Coin, CosmosMsg,
    CustomMsg, CustomQuery, DepsMut, Empty, Env, IbcAckCallbackMsg, IbcAcknowledgement,
    IbcDestinationCallbackMsg, IbcEndpoint, IbcMsg, IbcPacket, IbcQuery, IbcSourceCallbackMsg,
    IbcTimeout, IbcTimeoutCallbackMsg, IbcTransferCallback, Querier, Response, StdError, StdResult,
    Storage, Uint128,
};
use cw_multi_test::{AppResponse, BankSudo, CosmosRouter, Executor, Ibc, Module, SudoMsg};
use opengpu_types::ibc::{Ics20Ack, Ics20Packet, TRANSFER_PORT};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Suite;

/// The market chain's end of the suite's channel.
pub const IBC_CHANNEL: &str = "channel-0";
/// The other chain's end.
pub const COUNTERPARTY_CHANNEL: &str = "channel-7";
/// Where transferred coins wait for their acknowledgement (ICS-20's escrow).
const ESCROW: &str = "ibc-escrow";
const PACKETS: &[u8] = b"fake_ibc/packets";
const CLOSED: &[u8] = b"fake_ibc/closed/";

/// A transfer as the fake chain recorded it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SentTransfer {
    pub sequence: u64,
    pub sender: Addr,
    pub channel: String,
    pub receiver: String,
    pub coin: Coin,
    pub memo: String,
    pub timeout_nanos: u64,
    /// Set once acknowledged or timed out.
    pub done: bool,
}

/// What the test-only sudo route of the market carries.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case")]
pub enum IbcCallback {
    Source(IbcSourceCallbackMsg),
    Destination(IbcDestinationCallbackMsg),
}

/// The market's callbacks, reached by `wasm_sudo` in tests only.
pub fn market_sudo(
    deps: DepsMut,
    env: Env,
    msg: IbcCallback,
) -> Result<Response, opengpu_task_market::ContractError> {
    use opengpu_task_market::contract as mkt;
    let basic = match msg {
        IbcCallback::Source(msg) => mkt::ibc_source_callback(deps, env, msg)?,
        IbcCallback::Destination(msg) => mkt::ibc_destination_callback(deps, env, msg)?,
    };
    Ok(Response::new()
        .add_submessages(basic.messages)
        .add_attributes(basic.attributes)
        .add_events(basic.events))
}

#[derive(Default)]
pub struct FakeIbc;

impl Ibc for FakeIbc {}

/// The escrow's address under the suite's (default) mock API.
fn escrow() -> Addr {
    cosmwasm_std::testing::MockApi::default().addr_make(ESCROW)
}

fn load_packets(storage: &dyn Storage) -> Vec<SentTransfer> {
    storage
        .get(PACKETS)
        .map(|raw| from_json(&raw).expect("fake ibc packets"))
        .unwrap_or_default()
}

fn save_packets(storage: &mut dyn Storage, packets: &[SentTransfer]) {
    storage.set(PACKETS, &to_json_vec(packets).expect("serializable"));
}

impl Module for FakeIbc {
    type ExecT = IbcMsg;
    type QueryT = IbcQuery;
    type SudoT = Empty;

    fn execute<ExecC, QueryC>(
        &self,
        api: &dyn Api,
        storage: &mut dyn Storage,
        router: &dyn CosmosRouter<ExecC = ExecC, QueryC = QueryC>,
        block: &BlockInfo,
        sender: Addr,
        msg: IbcMsg,
    ) -> StdResult<AppResponse>
    where
        ExecC: CustomMsg + DeserializeOwned + 'static,
        QueryC: CustomQuery + DeserializeOwned + 'static,
    {
        let IbcMsg::Transfer {
            channel_id,
            to_address,
            amount,
            timeout,
            memo,
        } = msg
        else {
            return Err(StdError::msg("the fake IBC module only transfers"));
        };
        if storage
            .get(&[CLOSED, channel_id.as_bytes()].concat())
            .is_some()
        {
            return Err(StdError::msg(format!("channel {channel_id} is closed")));
        }
        let send = BankMsg::Send {
            to_address: escrow().into_string(),
            amount: vec![amount.clone()],
        };
        router
            .execute(api, storage, block, sender.clone(), CosmosMsg::Bank(send))
            .map_err(|e| StdError::msg(e.to_string()))?;
        let mut packets = load_packets(storage);
        packets.push(SentTransfer {
            sequence: packets.len() as u64 + 1,
            sender,
            channel: channel_id,
            receiver: to_address,
            coin: amount,
            memo: memo.unwrap_or_default(),
            timeout_nanos: timeout.timestamp().map_or(0, |t| t.nanos()),
            done: false,
        });
        save_packets(storage, &packets);
        Ok(AppResponse::default())
    }

    fn query(
        &self,
        _api: &dyn Api,
        _storage: &dyn Storage,
        _querier: &dyn Querier,
        _block: &BlockInfo,
        _request: IbcQuery,
    ) -> StdResult<Binary> {
        Err(StdError::msg("the fake IBC module answers no queries"))
    }

    fn sudo<ExecC, QueryC>(
        &self,
        _api: &dyn Api,
        _storage: &mut dyn Storage,
        _router: &dyn CosmosRouter<ExecC = ExecC, QueryC = QueryC>,
        _block: &BlockInfo,
        _msg: Empty,
    ) -> StdResult<AppResponse>
    where
        ExecC: CustomMsg + DeserializeOwned + 'static,
        QueryC: CustomQuery + DeserializeOwned + 'static,
    {
        Err(StdError::msg("no sudo"))
    }
}

impl SentTransfer {
    /// The packet as the chain would hand it back to the sender's callback.
    pub fn packet(&self) -> IbcPacket {
        let data = Ics20Packet {
            // What leaves the market chain names the token by its full path on this chain.
            denom: self.coin.denom.clone(),
            amount: Uint128::try_from(self.coin.amount).expect("fits"),
            sender: self.sender.to_string(),
            receiver: self.receiver.clone(),
            memo: self.memo.clone(),
        };
        IbcPacket::new(
            to_json_binary(&data).expect("serializable"),
            endpoint(&self.channel),
            endpoint(COUNTERPARTY_CHANNEL),
            self.sequence,
            IbcTimeout::with_timestamp(cosmwasm_std::Timestamp::from_nanos(self.timeout_nanos)),
        )
    }
}

fn endpoint(channel: &str) -> IbcEndpoint {
    IbcEndpoint {
        port_id: TRANSFER_PORT.into(),
        channel_id: channel.into(),
    }
}

/// A successful ICS-20 acknowledgement, or an error one.
pub fn ics20_ack(success: bool) -> IbcAcknowledgement {
    let ack = if success {
        Ics20Ack::Result(Binary::from(vec![1]))
    } else {
        Ics20Ack::Error("receiver refused the tokens".into())
    };
    IbcAcknowledgement::new(to_json_binary(&ack).expect("serializable"))
}

impl Suite {
    /// Every transfer the chain took, in order.
    pub fn ibc_sent(&self) -> Vec<SentTransfer> {
        load_packets(self.app.storage())
    }

    /// The transfers still waiting for a relayer.
    pub fn ibc_in_flight(&self) -> Vec<SentTransfer> {
        self.ibc_sent().into_iter().filter(|p| !p.done).collect()
    }

    /// From now on, transfers over `channel` fail when sent.
    pub fn close_channel(&mut self, channel: &str) {
        self.app
            .storage_mut()
            .set(&[CLOSED, channel.as_bytes()].concat(), &[1]);
    }

    fn finish(&mut self, sequence: u64, refund: bool) -> SentTransfer {
        let mut packets = self.ibc_sent();
        let sent = packets
            .iter_mut()
            .find(|p| p.sequence == sequence)
            .unwrap_or_else(|| panic!("no transfer {sequence}"));
        assert!(!sent.done, "transfer {sequence} already ended");
        sent.done = true;
        let sent = sent.clone();
        save_packets(self.app.storage_mut(), &packets);
        if refund {
            let escrow = escrow();
            self.app
                .send_tokens(
                    escrow,
                    sent.sender.clone(),
                    std::slice::from_ref(&sent.coin),
                )
                .expect("escrow holds the transfer");
        }
        sent
    }

    /// The relayer delivers transfer `sequence`'s acknowledgement: on an error one, ICS-20
    /// returns the coins to the sender before the callback runs.
    pub fn ibc_ack(&mut self, sequence: u64, success: bool) -> StdResult<AppResponse> {
        let sent = self.finish(sequence, !success);
        let relayer = self.addr("relayer");
        let msg = IbcSourceCallbackMsg::Acknowledgement(IbcAckCallbackMsg::new(
            ics20_ack(success),
            sent.packet(),
            relayer,
        ));
        self.source_callback(&sent.sender, msg)
    }

    /// The relayer proves transfer `sequence` timed out: the coins return, then the callback.
    pub fn ibc_timeout(&mut self, sequence: u64) -> StdResult<AppResponse> {
        let sent = self.finish(sequence, true);
        let relayer = self.addr("relayer");
        let msg = IbcSourceCallbackMsg::Timeout(IbcTimeoutCallbackMsg::new(sent.packet(), relayer));
        self.source_callback(&sent.sender, msg)
    }

    /// Calls the market's source callback directly, as the middleware would (tests of forged
    /// or repeated callbacks use this).
    pub fn source_callback(
        &mut self,
        contract: &Addr,
        msg: IbcSourceCallbackMsg,
    ) -> StdResult<AppResponse> {
        self.app
            .wasm_sudo(contract.clone(), &IbcCallback::Source(msg))
    }

    /// A transfer from `sender` on the other chain arrives for `receiver` (the market when
    /// `None`) over [`IBC_CHANNEL`] with `memo`, carrying `coin` (its denom on this chain),
    /// and its destination callback names the market. A failed callback undoes the receive.
    pub fn ibc_receive(
        &mut self,
        sender: &str,
        receiver: Option<&Addr>,
        coin: Coin,
        memo: &str,
    ) -> StdResult<AppResponse> {
        let market = self.market.clone();
        let receiver = receiver.cloned().unwrap_or_else(|| market.clone());
        self.app.sudo(SudoMsg::Bank(BankSudo::Mint {
            to_address: receiver.to_string(),
            amount: vec![coin.clone()],
        }))?;
        let data = Ics20Packet {
            denom: format!("transfer/{COUNTERPARTY_CHANNEL}/uhome"),
            amount: Uint128::try_from(coin.amount).expect("fits"),
            sender: sender.to_string(),
            receiver: receiver.to_string(),
            memo: memo.to_string(),
        };
        let packet = IbcPacket::new(
            to_json_binary(&data)?,
            endpoint(COUNTERPARTY_CHANNEL),
            endpoint(IBC_CHANNEL),
            1,
            IbcTimeout::with_timestamp(self.app.block_info().time.plus_seconds(600)),
        );
        let msg = IbcDestinationCallbackMsg {
            packet,
            ack: ics20_ack(true),
            transfer: Some(IbcTransferCallback {
                sender: sender.to_string(),
                receiver: receiver.clone(),
                funds: vec![coin.clone()],
            }),
        };
        let result = self.app.wasm_sudo(market, &IbcCallback::Destination(msg));
        if result.is_err() {
            // The error acknowledgement undoes the receive: the coins are not the receiver's.
            self.app
                .send_tokens(receiver, escrow(), &[coin])
                .expect("undoing the receive");
        }
        result
    }
}
