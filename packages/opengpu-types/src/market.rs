//! task-market: tasks, escrow, commit/reveal, competition models and settlement.

use std::fmt;

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, Coin, HexBinary, Uint128};

use crate::auction::AuctionState;
use crate::consensus::FloatTolerance;
use crate::ibc::{IbcSettings, PayoutRoute, RemoteClient};

use crate::kernel::{Kernel, KernelLimits, Requirements};
use crate::verification::VerificationPolicy;
use crate::{OwnershipAction, TaskId};

/// Highest protocol fee the owner can set: 10%.
pub const MAX_FEE_BPS: u16 = 1_000;
/// Default retention of a closed task's data: about 5.8 days of 5 s blocks.
pub const DEFAULT_RETENTION_BLOCKS: u64 = 100_000;
/// Most closed tasks one `Prune` removes; each is bounded by the market's limits.
pub const MAX_PRUNE_PER_TX: u32 = 10;

#[cw_serde]
pub struct InstantiateMsg {
    pub owner: Option<String>,
    pub registry: String,
    pub vault: String,
    pub verification: String,
    /// Denoms a task may be paid in: native (`ustake`) and IBC (`ibc/...`) alike.
    pub allowed_denoms: Vec<String>,
    /// Protocol fee on each payment, in basis points, sent to `fee_collector` at settlement.
    pub fee_bps: u16,
    /// Receives protocol fees; the owner when unset.
    pub fee_collector: Option<String>,
    pub params: MarketParams,
    /// Channels for payouts home and remote publishing; none when unset.
    #[serde(default)]
    pub ibc: IbcSettings,
    /// Blocks a closed task keeps its kernel, outputs, commitments and bids before anyone may
    /// prune them (its record stays); `DEFAULT_RETENTION_BLOCKS` when unset.
    #[serde(default)]
    pub retention_blocks: Option<u64>,
}

/// Limits and windows. A task copies the windows at publish time, so a later config change never
/// alters the rules of a task already running.
#[cw_serde]
pub struct MarketParams {
    pub kernel_limits: KernelLimits,
    /// Most providers that may commit to one task; bounds every loop over a task's commitments.
    pub max_committers: u32,
    pub min_deadline_blocks: u64,
    pub max_deadline_blocks: u64,
    /// Blocks a committer has, after its commit's block, to reveal.
    pub reveal_window_blocks: u64,
    /// Manual Confirmation: blocks the client has, after offers close, to confirm one.
    pub confirm_window_blocks: u64,
    /// Least collateral (stake denom) a task may ask of each committer; at least 1.
    pub min_collateral: Uint128,
}

/// How providers compete for a task.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum CompetitionModel {
    /// The earliest commitment whose reveal passes verification wins the whole payment.
    /// Reveals may come as soon as a block after their commit: commit order decides, so a
    /// copier who commits after seeing a result can never win.
    FirstResponse,
    /// Sealed offers: the price is inside the commitment, commits close before any reveal,
    /// then the client confirms one offer, or after the confirm window anyone may finalize
    /// the cheapest valid offer.
    ManualConfirmation,
    /// Up to `replicas` providers commit; reveals open when commits close; the largest group
    /// of agreeing results with at least `quorum` members shares the payment, and valid
    /// results outside it are slashed to the winners and the client. No quorum: the client is
    /// refunded and nobody is slashed for disagreeing. See `crate::consensus`.
    Consensus {
        replicas: u32,
        quorum: u32,
        /// Exact agreement (same outputs digest) when unset.
        tolerance: Option<FloatTolerance>,
    },
    /// Sealed-bid second-price reverse auction (see `crate::auction`): providers bid until the
    /// deadline, reveal their bids within `bid_reveal_blocks`, the lowest wins at the next
    /// price up and alone computes, within `execute_blocks` of its award. The budget is the
    /// maximum price.
    Auction {
        bid_reveal_blocks: u64,
        execute_blocks: u64,
    },
}

impl CompetitionModel {
    pub fn name(&self) -> &'static str {
        match self {
            CompetitionModel::FirstResponse => "first_response",
            CompetitionModel::ManualConfirmation => "manual_confirmation",
            CompetitionModel::Consensus { .. } => "consensus",
            CompetitionModel::Auction { .. } => "auction",
        }
    }

    /// Whether result commits close before any reveal (Manual Confirmation and Consensus). An
    /// auction's result comes from its awardee alone, so it reveals as First Response does.
    pub fn is_sealed(&self) -> bool {
        matches!(
            self,
            CompetitionModel::ManualConfirmation | CompetitionModel::Consensus { .. }
        )
    }

    pub fn is_auction(&self) -> bool {
        matches!(self, CompetitionModel::Auction { .. })
    }

    /// Whether reveals carry a price (the offer).
    pub fn takes_price(&self) -> bool {
        matches!(self, CompetitionModel::ManualConfirmation)
    }
}

impl fmt::Display for CompetitionModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cw_serde]
pub enum ExecuteMsg {
    /// Publish a task; the attached funds (one coin of an allowed denom) are its escrowed budget.
    PublishTask {
        kernel: Kernel,
        #[serde(default)]
        requirements: Requirements,
        /// Stake-denom collateral each committer locks in the vault.
        collateral: Uint128,
        /// Commits are accepted while the chain height is at most publish height + this.
        deadline_blocks: u64,
        verification: VerificationPolicy,
        model: CompetitionModel,
    },
    /// Commit to a result: `sha256(task_id ‖ provider ‖ outputs_digest ‖ price ‖ salt)` (see
    /// `opengpu_types::commitment`). Locks the task's collateral.
    Commit {
        task_id: TaskId,
        commitment: HexBinary,
    },
    /// Open a commitment, in a later block than the commit and, in sealed models, once commits
    /// have closed. `price` is the offer under Manual Confirmation (at most the budget; it is
    /// inside the commitment) and must be unset in other models.
    Reveal {
        task_id: TaskId,
        outputs: Vec<Binary>,
        salt: HexBinary,
        price: Option<Uint128>,
    },
    /// Auction, bid phase: a sealed bid `sha256("opengpu/bid/v1" ‖ task_id ‖ provider ‖ price ‖
    /// salt)` (see `opengpu_types::auction::bid_commitment`). Locks the task's collateral: a bid
    /// is a promise to execute.
    Bid {
        task_id: TaskId,
        commitment: HexBinary,
    },
    /// Auction, once bids close and until the bid-reveal phase ends: open a bid. A price above
    /// the task's maximum (its budget) makes the bid void.
    RevealBid {
        task_id: TaskId,
        price: Uint128,
        salt: HexBinary,
    },
    /// Anyone, auction: apply what the heights now decide (award once bids are revealed or the
    /// bid-reveal phase ended; hand-over once the execution window passed undelivered; refund
    /// when nobody is left). Every other auction message does the same first.
    Advance {
        task_id: TaskId,
    },
    /// Client only, Manual Confirmation: accept `provider`'s offer.
    Confirm {
        task_id: TaskId,
        provider: String,
    },
    /// Anyone: settle a task whose rules now name a winner (First Response once earlier
    /// committers' reveal windows are over; Manual Confirmation after the confirm window;
    /// Consensus once every committer revealed or the reveal phase ended: the tally).
    Finalize {
        task_id: TaskId,
    },
    /// Client only, before any commitment: full refund.
    Cancel {
        task_id: TaskId,
    },
    /// Anyone, after the deadline and every reveal window, when no valid result exists: refund
    /// the client and forfeit non-revealers' collateral to it.
    Expire {
        task_id: TaskId,
    },
    /// Pays out the sender's claims in `denom` (payments the bank refused at settlement) to
    /// `recipient`, the sender when unset.
    WithdrawClaim {
        denom: String,
        recipient: Option<String>,
    },
    /// Anyone: sends again, over IBC, what the market owes a remote client on `channel` in
    /// `denom` after an earlier transfer to it failed (error acknowledgement or timeout). The
    /// destination is fixed, so a retry can only deliver.
    ResendRemoteClaim {
        channel: String,
        receiver: String,
        denom: String,
    },
    /// Anyone: removes the kernel, outputs, commitments and bids of up to `limit` (at most
    /// `MAX_PRUNE_PER_TX`) closed tasks whose retention ended, oldest first; their records
    /// (status, settlement) stay. Closing a task also prunes one such task.
    Prune {
        limit: Option<u32>,
    },
    /// Owner only. Within the bounds of `validate`; a running task keeps the fee, windows and
    /// limits it was published with.
    UpdateConfig {
        allowed_denoms: Option<Vec<String>>,
        fee_bps: Option<u16>,
        fee_collector: Option<String>,
        params: Option<MarketParams>,
        ibc: Option<IbcSettings>,
        retention_blocks: Option<u64>,
    },
    UpdateOwnership(OwnershipAction),
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum TaskStatus {
    /// Published, no commitment yet.
    Open,
    /// At least one commitment; not yet settled.
    Committed,
    Settled,
    Cancelled,
    Expired,
}

impl TaskStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Committed => "committed",
            TaskStatus::Settled => "settled",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Expired => "expired",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TaskStatus::Settled | TaskStatus::Cancelled | TaskStatus::Expired
        )
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the market keeps of a task once its data is pruned (see `ExecuteMsg::Prune`).
#[cw_serde]
pub struct TaskRecord {
    pub id: TaskId,
    pub client: Addr,
    pub model: String,
    pub status: TaskStatus,
    pub denom: String,
    pub budget: Uint128,
    /// The winner and the price, for a settled task.
    pub winner: Option<Addr>,
    pub price: Option<Uint128>,
    pub created_height: u64,
    pub pruned_height: u64,
}

/// How a settled task was paid.
#[cw_serde]
pub struct Settlement {
    /// The winner; under Consensus the first member of the agreeing group.
    pub winner: Addr,
    /// Where the winner's payment went (its payout address when it committed).
    pub paid_to: Addr,
    /// The price: the whole budget under First Response and Consensus, the offer under
    /// Manual Confirmation.
    pub price: Uint128,
    /// Paid to providers in all: `price - fee`, less any indivisible remainder that went back
    /// to the client under Consensus.
    pub paid: Uint128,
    pub fee: Uint128,
    /// Returned to the client: `budget - fee - paid`.
    pub refund: Uint128,
    pub height: u64,
    /// Every paid provider with its amount: one under First Response and Manual
    /// Confirmation, each member of the agreeing group under Consensus.
    pub shares: Vec<Share>,
}

/// One provider's part of a settlement.
#[cw_serde]
pub struct Share {
    pub provider: Addr,
    pub paid_to: Addr,
    pub amount: Uint128,
    /// Set when the share went out over IBC (then `paid_to` is the provider, whose claim a
    /// failed transfer becomes).
    #[serde(default)]
    pub route: Option<PayoutRoute>,
}

#[cw_serde]
pub struct TaskInfo {
    pub id: TaskId,
    pub client: Addr,
    pub model: CompetitionModel,
    pub requirements: Requirements,
    pub verification: VerificationPolicy,
    /// Denom of the escrowed budget.
    pub denom: String,
    /// The escrowed budget.
    pub budget: Uint128,
    pub collateral: Uint128,
    /// Sizes of the kernel's output buffers, in order: the shape a reveal must have.
    pub output_sizes: Vec<u64>,
    /// Protocol fee in basis points, fixed at publish.
    pub fee_bps: u16,
    pub created_height: u64,
    /// Last height at which a commit is accepted.
    pub deadline_height: u64,
    pub reveal_window_blocks: u64,
    pub confirm_window_blocks: u64,
    pub max_committers: u32,
    pub status: TaskStatus,
    pub commit_count: u32,
    pub settlement: Option<Settlement>,
    /// Auction progress; `None` in other models.
    #[serde(default)]
    pub auction: Option<AuctionState>,
    /// Set when the task came from another chain (an ICS-20 transfer with a memo): `client` is
    /// then the market itself, and every payment owed to the client goes back over IBC.
    #[serde(default)]
    pub remote_client: Option<RemoteClient>,
}

impl TaskInfo {
    /// Whether no further commitment can arrive at `height`: the deadline passed or every
    /// committer slot is taken.
    pub fn commits_closed(&self, height: u64) -> bool {
        height > self.deadline_height || self.commit_count >= self.max_committers
    }

    /// Height after which no reveal can arrive: the last commit's reveal window ends here.
    pub fn reveals_close_height(&self) -> u64 {
        self.deadline_height
            .saturating_add(self.reveal_window_blocks)
    }

    /// The last height at which a commitment made at `committed_height` may be revealed: its
    /// own window under First Response; in sealed models, the end of the reveal phase, which
    /// starts only when commits close and so always reaches past the commit deadline.
    pub fn reveal_deadline_for(&self, committed_height: u64) -> u64 {
        if self.model.is_sealed() {
            self.reveals_close_height()
        } else {
            committed_height.saturating_add(self.reveal_window_blocks)
        }
    }

    /// Auction: whether no further bid can arrive at `height`.
    pub fn bids_closed(&self, height: u64) -> bool {
        let bids = self.auction.as_ref().map_or(0, |a| a.bid_count);
        height > self.deadline_height || bids >= self.max_committers
    }

    /// Auction: the last height at which a bid may be revealed.
    pub fn bid_reveal_end(&self) -> u64 {
        match self.model {
            CompetitionModel::Auction {
                bid_reveal_blocks, ..
            } => self.deadline_height.saturating_add(bid_reveal_blocks),
            _ => self.deadline_height,
        }
    }

    /// Manual Confirmation: height after which anyone may finalize the cheapest offer.
    pub fn confirm_deadline_height(&self) -> u64 {
        self.reveals_close_height()
            .saturating_add(self.confirm_window_blocks)
    }

    /// The price rule of a commitment and its reveal: a model that takes a price (Manual
    /// Confirmation's sealed offer) requires one from 1 up to the budget; the others take
    /// none. The market applies it at reveal; the CLI before it commits and reveals.
    pub fn check_price(&self, price: Option<Uint128>) -> Result<(), PriceError> {
        match (self.model.takes_price(), price) {
            (false, None) => Ok(()),
            (false, Some(_)) => Err(PriceError::NotAccepted { model: self.model }),
            (true, None) => Err(PriceError::Required { model: self.model }),
            (true, Some(price)) if price.is_zero() => Err(PriceError::Zero),
            (true, Some(price)) if price > self.budget => Err(PriceError::AboveBudget {
                price,
                budget: self.budget,
            }),
            (true, Some(_)) => Ok(()),
        }
    }
}

/// Why a price breaks [`TaskInfo::check_price`].
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PriceError {
    #[error("a {model} reveal must carry a price")]
    Required { model: CompetitionModel },
    #[error("a {model} reveal takes no price")]
    NotAccepted { model: CompetitionModel },
    #[error("price must be greater than zero")]
    Zero,
    #[error("price {price} is above the task budget {budget}")]
    AboveBudget { price: Uint128, budget: Uint128 },
}

#[cw_serde]
pub enum CommitmentState {
    /// Waiting for the reveal.
    Committed {},
    /// Opened and verified valid.
    Revealed {
        outputs_digest: HexBinary,
        price: Option<Uint128>,
        height: u64,
    },
    /// Opened, proven wrong and slashed.
    Rejected { reason: String },
    /// Opened, but did not match the client's reference hash: no proof of a fault, so the
    /// collateral was released and the result takes no part.
    Refused { reason: String },
    /// Consensus: valid, but outside the agreeing group; slashed to the winners and client.
    Outvoted {},
    /// Never revealed in its window: collateral forfeited to the client.
    Forfeited {},
    /// Not revealed, but the task ended before its window did: collateral released.
    Released {},
}

#[cw_serde]
pub struct CommitmentInfo {
    pub task_id: TaskId,
    pub provider: Addr,
    /// Order of arrival, from 0.
    pub seq: u32,
    pub commitment: HexBinary,
    pub collateral: Uint128,
    /// Where a payment for this commitment goes: the provider's payout address when it
    /// committed. Fixed, so no later change can make the market's payment fail.
    pub payout: Addr,
    /// The provider's payout route when it committed: the payment goes over IBC when its
    /// denom may travel on that channel.
    #[serde(default)]
    pub payout_route: Option<PayoutRoute>,
    pub committed_height: u64,
    /// Last height at which this commitment may be revealed.
    pub reveal_deadline_height: u64,
    pub state: CommitmentState,
}

/// A valid revealed result.
#[cw_serde]
pub struct Offer {
    pub provider: Addr,
    pub seq: u32,
    pub outputs_digest: HexBinary,
    /// Manual Confirmation: the asked price.
    pub price: Option<Uint128>,
    pub revealed_height: u64,
}

#[cw_serde]
#[derive(Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub client: Option<String>,
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    #[returns(MarketConfig)]
    Config {},
    /// One task with its kernel.
    #[returns(TaskResponse)]
    Task { task_id: TaskId },
    /// One task without its kernel: what a provider polls while it works on the task (the
    /// kernel can be a megabyte; this answer is a few hundred bytes).
    #[returns(TaskInfo)]
    TaskInfo { task_id: TaskId },
    /// Tasks by id, optionally only one status and/or one client (served from indexes).
    #[returns(TasksResponse)]
    Tasks {
        filter: Option<TaskFilter>,
        start_after: Option<TaskId>,
        limit: Option<u32>,
    },
    /// A task's commitments in arrival order.
    #[returns(CommitmentsResponse)]
    Commitments {
        task_id: TaskId,
        start_after: Option<u32>,
        limit: Option<u32>,
    },
    /// A task's valid revealed results.
    #[returns(OffersResponse)]
    Offers { task_id: TaskId },
    /// The outputs a provider revealed; the winner's when `provider` is unset.
    #[returns(ResultResponse)]
    Result {
        task_id: TaskId,
        provider: Option<String>,
    },
    /// An auction's bids in arrival order: sealed ones show only their hash.
    #[returns(crate::auction::BidsResponse)]
    Bids {
        task_id: TaskId,
        start_after: Option<u32>,
        limit: Option<u32>,
    },
    /// Payments the bank refused at settlement, owed to `address`, per denom.
    #[returns(ClaimsResponse)]
    Claims { address: String },
    /// All claims owed, per denom: the market holds these beside the escrows.
    #[returns(ClaimsResponse)]
    ClaimTotals {},
    /// What remains of a pruned task.
    #[returns(TaskRecord)]
    Record { task_id: TaskId },
    /// The market's IBC transfers not yet acknowledged or timed out, by id.
    #[returns(PendingTransfersResponse)]
    PendingTransfers {
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    /// What the market owes remote clients after a failed transfer (see `ResendRemoteClaim`).
    #[returns(RemoteClaimsResponse)]
    RemoteClaims {
        start_after: Option<(String, String, String)>,
        limit: Option<u32>,
    },
    #[returns(crate::Ownership)]
    Ownership {},
}

#[cw_serde]
pub struct ClaimsResponse {
    pub claims: Vec<Coin>,
}

#[cw_serde]
pub struct MarketConfig {
    pub registry_addr: Addr,
    pub vault_addr: Addr,
    pub verification_addr: Addr,
    pub allowed_denoms: Vec<String>,
    pub fee_bps: u16,
    pub fee_collector: Addr,
    pub params: MarketParams,
    #[serde(default)]
    pub ibc: IbcSettings,
    /// See [`InstantiateMsg::retention_blocks`].
    #[serde(default = "default_retention_blocks")]
    pub retention_blocks: u64,
}

fn default_retention_blocks() -> u64 {
    DEFAULT_RETENTION_BLOCKS
}

/// Who a failed transfer's coins are owed to.
#[cw_serde]
pub enum TransferPayee {
    /// A provider's payout: its claim on the market chain.
    Provider { provider: Addr },
    /// A remote client: a remote claim anyone may resend.
    RemoteClient {},
}

/// An IBC transfer of the market in flight.
#[cw_serde]
pub struct PendingTransfer {
    pub id: u64,
    /// The task it pays for; `None` for a resent remote claim (which may sum several tasks).
    pub task_id: Option<TaskId>,
    pub payee: TransferPayee,
    pub channel: String,
    pub receiver: String,
    pub denom: String,
    pub amount: Uint128,
    pub sent_height: u64,
    /// Block time (seconds) after which the transfer times out on the other chain.
    pub timeout_seconds: u64,
}

#[cw_serde]
pub struct PendingTransfersResponse {
    pub transfers: Vec<PendingTransfer>,
}

/// Coins owed to a remote client after a failed transfer.
#[cw_serde]
pub struct RemoteClaim {
    pub channel: String,
    pub receiver: String,
    pub denom: String,
    pub amount: Uint128,
}

#[cw_serde]
pub struct RemoteClaimsResponse {
    pub claims: Vec<RemoteClaim>,
}

#[cw_serde]
pub struct TaskResponse {
    pub task: TaskInfo,
    pub kernel: Kernel,
}

#[cw_serde]
pub struct TasksResponse {
    pub tasks: Vec<TaskInfo>,
}

#[cw_serde]
pub struct CommitmentsResponse {
    pub commitments: Vec<CommitmentInfo>,
}

#[cw_serde]
pub struct OffersResponse {
    pub offers: Vec<Offer>,
}

#[cw_serde]
pub struct ResultResponse {
    pub provider: Addr,
    pub outputs: Vec<Binary>,
    pub outputs_digest: HexBinary,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(model: CompetitionModel) -> TaskInfo {
        TaskInfo {
            id: 1,
            client: Addr::unchecked("client"),
            model,
            requirements: Requirements::default(),
            verification: VerificationPolicy::Unverified {},
            denom: "uatom".into(),
            budget: Uint128::new(1_000),
            collateral: Uint128::new(100),
            output_sizes: vec![4],
            fee_bps: 0,
            created_height: 1,
            deadline_height: 10,
            reveal_window_blocks: 5,
            confirm_window_blocks: 5,
            max_committers: 3,
            status: TaskStatus::Open,
            commit_count: 0,
            settlement: None,
            auction: None,
            remote_client: None,
        }
    }

    #[test]
    fn only_manual_confirmation_takes_a_price_from_one_up_to_the_budget() {
        let mc = task(CompetitionModel::ManualConfirmation);
        assert_eq!(mc.check_price(Some(Uint128::new(1))), Ok(()));
        assert_eq!(mc.check_price(Some(Uint128::new(1_000))), Ok(()));
        assert_eq!(
            mc.check_price(None),
            Err(PriceError::Required { model: mc.model })
        );
        assert_eq!(mc.check_price(Some(Uint128::zero())), Err(PriceError::Zero));
        assert_eq!(
            mc.check_price(Some(Uint128::new(1_001))),
            Err(PriceError::AboveBudget {
                price: Uint128::new(1_001),
                budget: Uint128::new(1_000)
            })
        );
        let first = task(CompetitionModel::FirstResponse);
        assert_eq!(first.check_price(None), Ok(()));
        assert_eq!(
            first.check_price(Some(Uint128::new(5))),
            Err(PriceError::NotAccepted {
                model: CompetitionModel::FirstResponse
            })
        );
    }
}
