use cosmwasm_std::{ConversionOverflowError, OverflowError, StdError, Uint128};
use cw_utils::PaymentError;
use opengpu_cw_utils::{MigrationError, OwnershipError};
use opengpu_types::market::{CompetitionModel, PriceError, TaskStatus};
use opengpu_types::publish::PublishError;

#[derive(thiserror::Error, Debug)]
pub enum ContractError {
    #[error(transparent)]
    Std(#[from] StdError),
    #[error(transparent)]
    Overflow(#[from] OverflowError),
    #[error(transparent)]
    Conversion(#[from] ConversionOverflowError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Ownership(#[from] OwnershipError),
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// A rule of `MarketConfig::check_publish`, which the CLI applies before it broadcasts.
    #[error(transparent)]
    Publish(#[from] PublishError),

    #[error("invalid config: {reason}")]
    InvalidConfig { reason: String },
    #[error("verification policy rejected: {reason}")]
    InvalidPolicy { reason: String },

    #[error("task {task_id} does not exist")]
    TaskNotFound { task_id: u64 },
    #[error("task {task_id} is {status} and takes no more actions")]
    TaskClosed { task_id: u64, status: TaskStatus },
    #[error("task {task_id} took its last commit at height {deadline}; now {height}")]
    CommitAfterDeadline {
        task_id: u64,
        deadline: u64,
        height: u64,
    },
    #[error("commitment must be a 32-byte sha256, got {len} bytes")]
    BadCommitment { len: usize },
    #[error("{provider} already committed to task {task_id}")]
    AlreadyCommitted { task_id: u64, provider: String },
    #[error("task {task_id} already has its maximum of {max} committers")]
    TooManyCommitters { task_id: u64, max: u32 },
    #[error("{provider} is not a registered provider")]
    ProviderNotRegistered { provider: String },
    #[error("{provider} may not take tasks now: paused or bonded below the registry minimum")]
    ProviderNotEligible { provider: String },
    #[error("provider's device does not meet the task's requirements: {reason}")]
    RequirementsNotMet { reason: String },

    #[error("{provider} has no commitment on task {task_id}")]
    NoCommitment { task_id: u64, provider: String },
    #[error("{provider} already revealed on task {task_id}")]
    AlreadyRevealed { task_id: u64, provider: String },
    #[error("reveal must come in a later block than the commit: earliest height {earliest}")]
    RevealTooEarly { earliest: u64 },
    #[error("reveal window closed at height {deadline}; now {height}")]
    RevealWindowClosed { deadline: u64, height: u64 },
    #[error("salt must have {min} to {max} bytes, got {len}")]
    BadSalt { len: usize, min: usize, max: usize },
    #[error("outputs and salt do not open the commitment (wrong salt or outputs)")]
    CommitmentMismatch {},
    #[error("a {model} reveal must carry a price")]
    PriceRequired { model: CompetitionModel },
    #[error("a {model} reveal takes no price")]
    PriceNotAccepted { model: CompetitionModel },
    #[error("price must be greater than zero")]
    ZeroPrice {},
    #[error("price {price} is above the task budget {budget}")]
    PriceAboveBudget { price: Uint128, budget: Uint128 },

    #[error("only the task's client {client} may do this")]
    NotClient { client: String },
    #[error("this action needs a {expected} task; task {task_id} is {model}")]
    WrongModel {
        task_id: u64,
        expected: CompetitionModel,
        model: CompetitionModel,
    },
    #[error("{provider} has no valid offer on task {task_id}")]
    NoValidOffer { task_id: u64, provider: String },
    #[error("task {task_id} cannot be cancelled: it is {status}")]
    NotCancellable { task_id: u64, status: TaskStatus },
    #[error("task {task_id} cannot be finalized yet: {reason}")]
    NothingToFinalize { task_id: u64, reason: String },
    #[error(
        "task {task_id} cannot expire before its deadline {deadline} has passed (now {height})"
    )]
    DeadlineNotReached {
        task_id: u64,
        deadline: u64,
        height: u64,
    },
    #[error("task {task_id} cannot expire while a reveal window is open (until height {until})")]
    RevealWindowOpen { task_id: u64, until: u64 },
    #[error("task {task_id} has a valid result: call Finalize instead of Expire")]
    ValidResultExists { task_id: u64 },
    #[error("task {task_id} is sealed: reveals open when commits close (after height {deadline} or once every committer slot is taken)")]
    CommitsStillOpen { task_id: u64, deadline: u64 },
    #[error("task {task_id} has no winner to pay")]
    NoWinner { task_id: u64 },
    #[error("{address} has no claim in {denom}")]
    NoClaim { address: String, denom: String },
    #[error("task from another chain refused: {reason}")]
    RemotePublish { reason: String },
    #[error("no closed task's retention has ended at height {height}: nothing to prune")]
    NothingToPrune { height: u64 },
    #[error("task {task_id} was pruned at height {height}: its kernel, outputs, commitments and bids are gone (what remains: the Record query)")]
    Pruned { task_id: u64, height: u64 },
    #[error("a claim cannot be withdrawn to the market itself")]
    ClaimToMarket {},
    #[error("task {task_id} is not an auction")]
    NotAnAuction { task_id: u64 },
    #[error(
        "bids on task {task_id} closed at height {deadline} or with every slot taken; now {height}"
    )]
    BidsClosed {
        task_id: u64,
        deadline: u64,
        height: u64,
    },
    #[error("{provider} already bid on task {task_id}")]
    AlreadyBid { task_id: u64, provider: String },
    #[error("{provider} has no bid on task {task_id}")]
    NoBid { task_id: u64, provider: String },
    #[error("{provider}'s bid on task {task_id} is already open")]
    BidAlreadyRevealed { task_id: u64, provider: String },
    #[error("bids on task {task_id} are still sealed: they open once bids close (after height {deadline} or with every slot taken)")]
    BidsStillOpen { task_id: u64, deadline: u64 },
    #[error("bid reveals on task {task_id} closed at height {end}; now {height}")]
    BidRevealClosed { task_id: u64, end: u64, height: u64 },
    #[error("price and salt do not open the bid")]
    BidMismatch {},
    #[error("task {task_id} is awarded to {awardee}, not to {sender}")]
    NotAwarded {
        task_id: u64,
        awardee: String,
        sender: String,
    },
    #[error("the execution window of task {task_id} closed at height {deadline}; now {height}")]
    ExecutionWindowClosed {
        task_id: u64,
        deadline: u64,
        height: u64,
    },
    #[error("task {task_id} has nothing to advance: {reason}")]
    NothingToAdvance { task_id: u64, reason: String },
    #[error("unknown reply id {id}")]
    UnknownReply { id: u64 },
}

/// The price rule lives in `opengpu_types` (`TaskInfo::check_price`, which the CLI applies
/// too); each way of breaking it stays its own variant here.
impl From<PriceError> for ContractError {
    fn from(e: PriceError) -> Self {
        match e {
            PriceError::Required { model } => ContractError::PriceRequired { model },
            PriceError::NotAccepted { model } => ContractError::PriceNotAccepted { model },
            PriceError::Zero => ContractError::ZeroPrice {},
            PriceError::AboveBudget { price, budget } => {
                ContractError::PriceAboveBudget { price, budget }
            }
        }
    }
}
