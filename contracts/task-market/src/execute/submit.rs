//! The two-phase submission every model shares: commit, then reveal in a later block (and, in
//! sealed models, only once commits have closed, so no result is public while anyone could
//! still commit to copy it).

use cosmwasm_std::{
    Addr, Binary, Deps, DepsMut, Env, Event, HexBinary, MessageInfo, Response, Uint128,
};
use opengpu_types::commitment::{self, MAX_SALT_BYTES, MIN_SALT_BYTES};
use opengpu_types::events::{actions, TaskCommitted, TaskRevealed};
use opengpu_types::market::{
    CommitmentInfo, CommitmentState, CompetitionModel, MarketConfig, TaskInfo, TaskStatus,
};
use opengpu_types::registry::{Outcome, ProviderResponse, RegistryContract};
use opengpu_types::vault::VaultContract;
use opengpu_types::verification::{Verdict, VerificationContract, VerificationPolicy};
use opengpu_types::{freivalds, TaskId};

use super::forfeit::{forfeit, Beneficiary};
use super::{auction, consensus, settle};
use crate::state::{
    load_kernel, load_task, save_outputs, save_task, COMMITMENTS, COMMIT_SEQ, CONFIG,
    WORK_GROUP_SIZES,
};
use crate::ContractError;

pub fn commit(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
    commitment: HexBinary,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let mut task = load_task(deps.storage, task_id)?;
    if task.model.is_auction() {
        return auction::commit_result(deps, env, info, task_id, commitment);
    }
    let provider = info.sender;
    let height = env.block.height;
    ensure_open(&task)?;
    if height > task.deadline_height {
        return Err(ContractError::CommitAfterDeadline {
            task_id,
            deadline: task.deadline_height,
            height,
        });
    }
    check_hash_len(&commitment)?;
    if COMMIT_SEQ.has(deps.storage, (task_id, &provider)) {
        return Err(ContractError::AlreadyCommitted {
            task_id,
            provider: provider.into_string(),
        });
    }
    if task.commit_count >= task.max_committers {
        return Err(ContractError::TooManyCommitters {
            task_id,
            max: task.max_committers,
        });
    }
    let registered = provider_may_take(deps.as_ref(), &config, &task, &provider)?;

    let seq = task.commit_count;
    let entry = CommitmentInfo {
        task_id,
        provider: provider.clone(),
        seq,
        commitment,
        collateral: task.collateral,
        payout: registered.provider.payout().clone(),
        payout_route: registered.provider.payout_route.clone(),
        committed_height: height,
        reveal_deadline_height: task.reveal_deadline_for(height),
        state: CommitmentState::Committed {},
    };
    COMMITMENTS.save(deps.storage, (task_id, seq), &entry)?;
    COMMIT_SEQ.save(deps.storage, (task_id, &provider), &seq)?;
    task.commit_count += 1;
    task.status = TaskStatus::Committed;
    save_task(deps.storage, &task)?;

    // The vault refuses the lock when free stake is short, which undoes this whole commit.
    let lock = VaultContract(config.vault_addr).lock(&provider, task_id, task.collateral)?;
    Ok(Response::new()
        .add_attribute("action", actions::COMMIT)
        .add_message(lock)
        .add_event(Event::from(TaskCommitted {
            task_id,
            provider: provider.into_string(),
            seq,
            reveal_deadline: entry.reveal_deadline_height,
        })))
}

pub fn reveal(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: TaskId,
    outputs: Vec<Binary>,
    salt: HexBinary,
    price: Option<Uint128>,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let task = load_task(deps.storage, task_id)?;
    let provider = info.sender;
    let height = env.block.height;
    ensure_open(&task)?;
    let seq = COMMIT_SEQ
        .may_load(deps.storage, (task_id, &provider))?
        .ok_or_else(|| ContractError::NoCommitment {
            task_id,
            provider: provider.to_string(),
        })?;
    let mut entry = COMMITMENTS.load(deps.storage, (task_id, seq))?;
    if !matches!(entry.state, CommitmentState::Committed {}) {
        return Err(ContractError::AlreadyRevealed {
            task_id,
            provider: provider.into_string(),
        });
    }
    if height <= entry.committed_height {
        return Err(ContractError::RevealTooEarly {
            earliest: entry.committed_height + 1,
        });
    }
    if task.model.is_sealed() && !task.commits_closed(height) {
        return Err(ContractError::CommitsStillOpen {
            task_id,
            deadline: task.deadline_height,
        });
    }
    if height > entry.reveal_deadline_height {
        return Err(ContractError::RevealWindowClosed {
            deadline: entry.reveal_deadline_height,
            height,
        });
    }
    if !(MIN_SALT_BYTES..=MAX_SALT_BYTES).contains(&salt.len()) {
        return Err(ContractError::BadSalt {
            len: salt.len(),
            min: MIN_SALT_BYTES,
            max: MAX_SALT_BYTES,
        });
    }
    task.check_price(price)?;
    let digest = commitment::outputs_digest(&outputs);
    let expected = commitment::commitment(task_id, provider.as_str(), &digest, price, &salt);
    if entry.commitment.as_slice() != expected.as_slice() {
        return Err(ContractError::CommitmentMismatch {});
    }

    let mut verdict = VerificationContract(config.verification_addr.clone()).check(
        &deps.querier,
        &task.verification,
        task.output_sizes.clone(),
        &outputs,
        &digest,
    )?;
    if let (Verdict::Valid {}, VerificationPolicy::Freivalds(spec)) = (&verdict, &task.verification)
    {
        verdict = freivalds_verdict(deps.storage, &task, spec, &entry, &outputs, &digest)?;
    }
    if task.model.is_auction() {
        let delivery = auction::Delivery {
            entry,
            verdict,
            outputs,
            digest,
        };
        return auction::deliver(deps, &env, &config, task, delivery);
    }
    let mut response = Response::new().add_attribute("action", actions::REVEAL);
    let valid = verdict.is_valid();
    let outcome = verdict.outcome_name();
    match verdict {
        Verdict::Valid {} => {
            entry.state = CommitmentState::Revealed {
                outputs_digest: HexBinary::from(digest),
                price,
                height,
            };
            save_outputs(deps.storage, task_id, seq, &outputs)?;
        }
        Verdict::Invalid { reason } => {
            // Proven wrong: the collateral goes to the client, the reveal is recorded as
            // rejected, and the provider's reputation counts a slash.
            entry.state = CommitmentState::Rejected {
                reason: reason.clone(),
            };
            let forfeiture = forfeit(
                deps.branch(),
                &env,
                &config,
                &task,
                &provider,
                &[(Beneficiary::Client, entry.collateral)],
            )?;
            response = response
                .add_attribute("rejected", reason)
                .add_submessages(forfeiture.messages)
                .add_message(
                    RegistryContract(config.registry_addr.clone()).record_outcome(
                        &provider,
                        task_id,
                        Outcome::Slashed,
                    )?,
                );
        }
        Verdict::Unmatched { reason } => {
            // The client's hash is its word, not proof: refuse the result, release the stake.
            entry.state = CommitmentState::Refused {
                reason: reason.clone(),
            };
            response = response
                .add_attribute("refused", reason)
                .add_message(VaultContract(config.vault_addr.clone()).unlock(&provider, task_id)?)
                .add_message(
                    RegistryContract(config.registry_addr.clone()).record_outcome(
                        &provider,
                        task_id,
                        Outcome::Lost,
                    )?,
                );
        }
    }
    COMMITMENTS.save(deps.storage, (task_id, seq), &entry)?;
    response = response.add_event(Event::from(TaskRevealed {
        task_id,
        provider: provider.into_string(),
        valid,
        price: price.unwrap_or_default(),
        outcome: outcome.to_string(),
    }));

    // Settle in this transaction as soon as the rules name a winner: First Response's earliest
    // valid commitment; Consensus once every committer has answered.
    match task.model {
        CompetitionModel::FirstResponse => {
            if let Some(winner) = settle::first_response_winner(deps.storage, &task, height)? {
                let price = task.budget;
                response = settle::settle(deps, &env, &config, task, &[winner], price, response)?;
            }
        }
        CompetitionModel::Consensus { .. } => {
            if consensus::all_answered(deps.storage, &task)? {
                response = consensus::tally(deps, &env, &config, task, response)?;
            }
        }
        CompetitionModel::ManualConfirmation | CompetitionModel::Auction { .. } => {}
    }
    Ok(response)
}

/// Freivalds' check of C = A·B, with random vectors seeded by the commitment (fixed before the
/// provider could know them) and the outputs digest. A failure is proof of a wrong product.
fn freivalds_verdict(
    storage: &dyn cosmwasm_std::Storage,
    task: &TaskInfo,
    spec: &freivalds::FreivaldsSpec,
    entry: &CommitmentInfo,
    outputs: &[Binary],
    digest: &[u8; 32],
) -> Result<Verdict, ContractError> {
    let kernel = load_kernel(storage, task.id)?;
    // The spec was checked against this kernel at publish; only C's place is needed here.
    let c_index = spec
        .c_output_index(&kernel)
        .map_err(|reason| ContractError::InvalidPolicy { reason })?;
    let (a, b) = spec
        .inputs(&kernel)
        .ok_or_else(|| ContractError::InvalidPolicy {
            reason: "freivalds inputs are not input buffers".into(),
        })?;
    let seed = freivalds::seed(task.id, entry.commitment.as_slice(), digest);
    Ok(
        match freivalds::check(spec, a, b, outputs[c_index].as_slice(), &seed) {
            Ok(()) => Verdict::Valid {},
            Err(failure) => Verdict::Invalid {
                reason: format!("freivalds: {failure}"),
            },
        },
    )
}

/// A commitment or sealed bid is a sha256: 32 bytes.
pub(super) fn check_hash_len(commitment: &HexBinary) -> Result<(), ContractError> {
    if commitment.len() != 32 {
        return Err(ContractError::BadCommitment {
            len: commitment.len(),
        });
    }
    Ok(())
}

/// Whether `provider` may take `task` (commit, or bid in an auction): registered, eligible
/// (active and bonded at the registry minimum), and its device meets the task's requirements.
pub(super) fn provider_may_take(
    deps: Deps,
    config: &MarketConfig,
    task: &TaskInfo,
    provider: &Addr,
) -> Result<ProviderResponse, ContractError> {
    let registered = RegistryContract(config.registry_addr.clone())
        .provider(&deps.querier, provider)
        .map_err(|_| ContractError::ProviderNotRegistered {
            provider: provider.to_string(),
        })?;
    if !registered.eligible {
        return Err(ContractError::ProviderNotEligible {
            provider: provider.to_string(),
        });
    }
    let work_group_size = WORK_GROUP_SIZES.load(deps.storage, task.id)?;
    if let Some(reason) = task
        .requirements
        .unmet_by(&registered.provider.device, work_group_size)
    {
        return Err(ContractError::RequirementsNotMet { reason });
    }
    Ok(registered)
}

pub(super) fn ensure_open(task: &TaskInfo) -> Result<(), ContractError> {
    if task.status.is_final() {
        return Err(ContractError::TaskClosed {
            task_id: task.id,
            status: task.status,
        });
    }
    Ok(())
}
