use cosmwasm_std::{Addr, Binary, StdResult, Storage};
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use opengpu_types::kernel::Kernel;
use opengpu_types::market::{CommitmentInfo, MarketConfig, TaskInfo};
use opengpu_types::TaskId;

use crate::ContractError;

pub const CONFIG: Item<MarketConfig> = Item::new("config");
/// The id of the last task published.
pub const LAST_TASK_ID: Item<TaskId> = Item::new("last_task");
/// Kept apart from the task so that settlement paths don't load the source and inputs.
pub const KERNELS: Map<TaskId, Kernel> = Map::new("kernels");
/// A task's commitments by arrival order.
pub const COMMITMENTS: Map<(TaskId, u32), CommitmentInfo> = Map::new("commits");
/// A provider's commitment on a task, by its arrival order.
pub const COMMIT_SEQ: Map<(TaskId, &Addr), u32> = Map::new("commit_seq");
/// Outputs of valid reveals, by task and arrival order.
pub const OUTPUTS: Map<(TaskId, u32), Vec<Binary>> = Map::new("outputs");

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
    tasks()
        .may_load(storage, task_id)?
        .ok_or(ContractError::TaskNotFound { task_id })
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
