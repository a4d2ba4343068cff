//! Publishing a task with its escrow, and cancelling it before anyone commits.

use cosmwasm_std::{Addr, Coin, DepsMut, Env, Event, MessageInfo, Response, Uint128};
use opengpu_types::auction::AuctionState;
use opengpu_types::events::{actions, TaskCancelled, TaskPublished};
use opengpu_types::ibc::{RemoteClient, TaskDraft};
use opengpu_types::market::{TaskInfo, TaskStatus};
use opengpu_types::publish::{PublishTerms, Publishable};
use opengpu_types::verification::{Verdict, VerificationContract, VerificationPolicy};
use opengpu_types::TaskId;

use super::payment::pay_to;
use super::prune::close_task;
use crate::state::{load_task, save_kernel, save_task, CONFIG, LAST_TASK_ID, WORK_GROUP_SIZES};
use crate::ContractError;

/// `PublishTask` from a local client: the attached coin is the budget.
pub fn publish_task(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    draft: TaskDraft,
) -> Result<Response, ContractError> {
    let payment = cw_utils::one_coin(&info)?;
    publish(deps, &env, info.sender, None, payment, draft)
}

/// Publishes `draft` for `client` with `payment` already held by the market: from a local
/// `PublishTask`, or from a remote client's transfer (`client` is then the market itself and
/// `remote` says where the client's payments go).
pub fn publish(
    deps: DepsMut,
    env: &Env,
    client: Addr,
    remote: Option<RemoteClient>,
    payment: Coin,
    new: TaskDraft,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let Publishable {
        output_sizes,
        max_committers,
    } = config.check_publish(PublishTerms {
        denom: &payment.denom,
        kernel: &new.kernel,
        collateral: new.collateral,
        deadline_blocks: new.deadline_blocks,
        model: &new.model,
    })?;
    let budget = Uint128::try_from(payment.amount)?;
    let verifier = VerificationContract(config.verification_addr.clone());
    match verifier.check_policy(&deps.querier, &new.verification)? {
        Verdict::Valid {} => {}
        Verdict::Invalid { reason } | Verdict::Unmatched { reason } => {
            return Err(ContractError::InvalidPolicy { reason })
        }
    }
    if let VerificationPolicy::Freivalds(spec) = &new.verification {
        spec.validate_for(&new.kernel)
            .map_err(|reason| ContractError::InvalidPolicy { reason })?;
    }

    let id = LAST_TASK_ID.load(deps.storage)? + 1;
    LAST_TASK_ID.save(deps.storage, &id)?;
    let height = env.block.height;
    let task = TaskInfo {
        id,
        client,
        model: new.model,
        requirements: new.requirements,
        verification: new.verification,
        denom: payment.denom,
        budget,
        collateral: new.collateral,
        output_sizes,
        fee_bps: config.fee_bps,
        created_height: height,
        deadline_height: height.saturating_add(new.deadline_blocks),
        reveal_window_blocks: config.params.reveal_window_blocks,
        confirm_window_blocks: config.params.confirm_window_blocks,
        max_committers,
        status: TaskStatus::Open,
        commit_count: 0,
        settlement: None,
        auction: new.model.is_auction().then(AuctionState::default),
        remote_client: remote,
    };
    save_task(deps.storage, &task)?;
    save_kernel(deps.storage, id, &new.kernel)?;
    WORK_GROUP_SIZES.save(deps.storage, id, &new.kernel.work_group_size())?;

    Ok(Response::new()
        .add_attribute("action", actions::PUBLISH_TASK)
        .add_attribute("task_id", id.to_string())
        .add_event(Event::from(TaskPublished {
            task_id: id,
            client: task.client.to_string(),
            model: task.model.to_string(),
            denom: task.denom.clone(),
            amount: task.budget,
            collateral: task.collateral,
            deadline: task.deadline_height,
        }))
        .set_data(cosmwasm_std::to_json_binary(&id)?))
}

pub fn cancel(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let mut task = load_task(deps.storage, task_id)?;
    if info.sender != task.client {
        return Err(ContractError::NotClient {
            client: task.client.into_string(),
        });
    }
    if task.status != TaskStatus::Open {
        return Err(ContractError::NotCancellable {
            task_id,
            status: task.status,
        });
    }
    let config = CONFIG.load(deps.storage)?;
    close_task(
        deps.storage,
        &config,
        &mut task,
        TaskStatus::Cancelled,
        env.block.height,
    )?;
    save_task(deps.storage, &task)?;
    Ok(Response::new()
        .add_attribute("action", actions::CANCEL)
        .add_submessages(pay_to(&task.client, &task.denom, task.budget)?)
        .add_event(Event::from(TaskCancelled {
            task_id,
            refund: task.budget,
        })))
}
