//! The market's storage. A kernel and a reveal's outputs may each be larger than one storage
//! value can be (see [`blob::CHUNK_BYTES`]), so both are kept as chunked blobs.

pub mod blob;
mod outputs;

use cosmwasm_std::{from_json, to_json_vec, Addr, Binary, StdResult, Storage, Uint128};
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use opengpu_types::auction::BidInfo;
use opengpu_types::kernel::Kernel;
use opengpu_types::market::{CommitmentInfo, MarketConfig, PendingTransfer, TaskInfo, TaskRecord};
use opengpu_types::TaskId;

use crate::ContractError;
use blob::Blob;

pub const CONFIG: Item<MarketConfig> = Item::new("config");
/// The id of the last task published.
pub const LAST_TASK_ID: Item<TaskId> = Item::new("last_task");
/// A task's kernel as the message carried it (JSON, inputs in base64), kept apart from the task
/// so that only the Task query reads the source and inputs. Its size is bounded by the market's
/// kernel limits (source, argument count, `max_input_bytes`), and so is its number of chunks:
/// at most about 23 on the localnet (64 KiB of source, 1 MiB of inputs).
const KERNELS: Blob<TaskId> = Blob::new("kern_n", "kern_c");
/// What a commit needs of the kernel, saved at publish so that a commit never reads the kernel:
/// the work-group size it fixes, `None` when it leaves that to the driver.
pub const WORK_GROUP_SIZES: Map<TaskId, Option<u64>> = Map::new("wg_size");
/// A task's commitments by arrival order.
pub const COMMITMENTS: Map<(TaskId, u32), CommitmentInfo> = Map::new("commits");
/// A provider's commitment on a task, by its arrival order.
pub const COMMIT_SEQ: Map<(TaskId, &Addr), u32> = Map::new("commit_seq");
/// An auction's sealed bids by arrival order (at most `max_committers` per task).
pub const BIDS: Map<(TaskId, u32), BidInfo> = Map::new("bids");
/// A provider's bid on a task, by its arrival order.
pub const BID_SEQ: Map<(TaskId, &Addr), u32> = Map::new("bid_seq");
/// Outputs of valid reveals, by task and arrival order, in the raw layout of [`outputs`]. A
/// valid reveal matches the task's output sizes, so `max_output_bytes` bounds its chunks (17 for
/// 1 MiB).
const OUTPUTS: Blob<(TaskId, u32)> = Blob::new("out_n", "out_c");
/// Payments the bank refused, owed to a beneficiary, by denom; withdrawn with `WithdrawClaim`.
pub const CLAIMS: Map<(&Addr, &str), Uint128> = Map::new("claims");
/// Sum of `CLAIMS` and `REMOTE_CLAIMS` per denom: the market holds this beside the escrows of
/// open tasks.
pub const CLAIM_TOTALS: Map<&str, Uint128> = Map::new("claim_tot");
/// Closed tasks waiting for their retention to end: (first height they may be pruned, id).
pub const PRUNE_QUEUE: Map<(u64, TaskId), ()> = Map::new("prune_q");
/// What remains of pruned tasks: a small record each, out of `tasks` and its indexes.
pub const RECORDS: Map<TaskId, TaskRecord> = Map::new("records");
/// The market's IBC transfers in flight, by id (see `execute::ibc`).
pub const PENDING_TRANSFERS: Map<u64, PendingTransfer> = Map::new("ibc_pending");
/// The id of the last IBC transfer sent.
pub const LAST_TRANSFER_ID: Item<u64> = Item::new("ibc_last");
/// Coins owed to remote clients after a failed transfer, by (channel, receiver, denom).
pub const REMOTE_CLAIMS: Map<(&str, &str, &str), Uint128> = Map::new("ibc_claims");

pub struct TaskIndexes<'a> {
    pub status: MultiIndex<'a, String, TaskInfo, TaskId>,
    pub client: MultiIndex<'a, Addr, TaskInfo, TaskId>,
    pub client_status: MultiIndex<'a, (Addr, String), TaskInfo, TaskId>,
}

impl IndexList<TaskInfo> for TaskIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<TaskInfo>> + '_> {
        let v: Vec<&dyn Index<TaskInfo>> = vec![&self.status, &self.client, &self.client_status];
        Box::new(v.into_iter())
    }
}

pub fn tasks<'a>() -> IndexedMap<TaskId, TaskInfo, TaskIndexes<'a>> {
    IndexedMap::new(
        "tasks",
        TaskIndexes {
            status: MultiIndex::new(|_, t| t.status.as_str().to_string(), "tasks", "tasks__st"),
            client: MultiIndex::new(|_, t| t.client.clone(), "tasks", "tasks__c"),
            client_status: MultiIndex::new(
                |_, t| (t.client.clone(), t.status.as_str().to_string()),
                "tasks",
                "tasks__cl",
            ),
        },
    )
}

pub fn load_task(storage: &dyn Storage, task_id: TaskId) -> Result<TaskInfo, ContractError> {
    match tasks().may_load(storage, task_id)? {
        Some(task) => Ok(task),
        None => Err(match RECORDS.may_load(storage, task_id)? {
            Some(record) => ContractError::Pruned {
                task_id,
                height: record.pruned_height,
            },
            None => ContractError::TaskNotFound { task_id },
        }),
    }
}

/// Saves a task, keeping its indexes in step with its status.
pub fn save_task(storage: &mut dyn Storage, task: &TaskInfo) -> StdResult<()> {
    tasks().save(storage, task.id, task)
}

/// The task's commitments in arrival order; at most `max_committers` of them.
pub fn load_commitments(storage: &dyn Storage, task: &TaskInfo) -> StdResult<Vec<CommitmentInfo>> {
    (0..task.commit_count)
        .map(|seq| COMMITMENTS.load(storage, (task.id, seq)))
        .collect()
}

/// An auction's bids in arrival order; at most `max_committers` of them.
pub fn load_bids(storage: &dyn Storage, task: &TaskInfo) -> StdResult<Vec<BidInfo>> {
    let count = task.auction.as_ref().map_or(0, |a| a.bid_count);
    (0..count)
        .map(|seq| BIDS.load(storage, (task.id, seq)))
        .collect()
}

/// Removes a closed task's kernel, outputs, commitments, bids and its entry in `tasks`
/// (indexes included): every key the task wrote; the caller keeps a `TaskRecord`. Bounded by `max_committers` commitments and bids and the market's blob
/// limits, like every other loop over a task.
pub fn remove_task_data(storage: &mut dyn Storage, task: &TaskInfo) -> StdResult<()> {
    KERNELS.remove(storage, task.id)?;
    WORK_GROUP_SIZES.remove(storage, task.id);
    for commitment in load_commitments(storage, task)? {
        COMMITMENTS.remove(storage, (task.id, commitment.seq));
        COMMIT_SEQ.remove(storage, (task.id, &commitment.provider));
        OUTPUTS.remove(storage, (task.id, commitment.seq))?;
    }
    for bid in load_bids(storage, task)? {
        BIDS.remove(storage, (task.id, bid.seq));
        BID_SEQ.remove(storage, (task.id, &bid.provider));
    }
    tasks().remove(storage, task.id)
}

pub fn save_kernel(storage: &mut dyn Storage, task_id: TaskId, kernel: &Kernel) -> StdResult<()> {
    KERNELS.save(storage, task_id, &to_json_vec(kernel)?)
}

/// The kernel, parsed (Freivalds reads its inputs).
pub fn load_kernel(storage: &dyn Storage, task_id: TaskId) -> StdResult<Kernel> {
    from_json(load_kernel_json(storage, task_id)?)
}

/// The kernel's JSON exactly as `to_json_vec` wrote it.
pub fn load_kernel_json(storage: &dyn Storage, task_id: TaskId) -> StdResult<Vec<u8>> {
    KERNELS.load(storage, task_id)
}

/// Stores a valid reveal's outputs under the commitment's arrival order `seq`.
pub fn save_outputs(
    storage: &mut dyn Storage,
    task_id: TaskId,
    seq: u32,
    outputs: &[Binary],
) -> StdResult<()> {
    OUTPUTS.save(storage, (task_id, seq), &outputs::encode(outputs))
}

/// The outputs of commitment `seq`'s valid reveal.
pub fn load_outputs(storage: &dyn Storage, task_id: TaskId, seq: u32) -> StdResult<Vec<Binary>> {
    outputs::decode(&OUTPUTS.load(storage, (task_id, seq))?)
}
