//! Every kind of bad input gets its own clear error, changes no state and moves no funds.

use cosmwasm_std::{coin, coins, HexBinary, Uint128};
use cw_utils::PaymentError;
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, outputs, Suite, TaskSpec, PAY_DENOM, SALT, STAKE_DENOM};
use opengpu_types::kernel::{KernelArg, KernelError, Requirements};
use opengpu_types::market::{CompetitionModel, ExecuteMsg, TaskStatus};
use opengpu_types::publish::PublishError;
use opengpu_types::registry;
use opengpu_types::verification::VerificationPolicy;

const BOND: u128 = 5_000;

/// Publishing `spec` fails with `expected` and leaves the client's funds and the task count as
/// they were.
#[track_caller]
fn assert_publish_refused(spec: TaskSpec, expected: impl std::fmt::Display) {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    assert_error(suite.publish(&client, spec), expected);
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
    assert!(suite.tasks_with_status(TaskStatus::Open).is_empty());
    suite.assert_money_invariants();
}

#[test]
fn publish_without_funds_is_refused() {
    let spec = TaskSpec {
        budget: None,
        ..TaskSpec::default()
    };
    assert_publish_refused(spec, PaymentError::NoFunds {});
}

#[test]
fn publish_with_two_denoms_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let spec = TaskSpec::default();
    let msg = ExecuteMsg::PublishTask {
        kernel: spec.kernel,
        requirements: spec.requirements,
        collateral: spec.collateral,
        deadline_blocks: spec.deadline_blocks,
        verification: spec.verification,
        model: spec.model,
    };
    let funds = [coin(10, PAY_DENOM), coin(10, STAKE_DENOM)];
    assert_error(
        suite.execute_market(&client, &msg, &funds),
        PaymentError::MultipleDenoms {},
    );
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
}

#[test]
fn publish_in_a_denom_the_market_does_not_accept_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    suite.fund(&client, coins(500, "ufoo"));
    let spec = TaskSpec::default().budget(coin(500, "ufoo"));
    assert_error(suite.publish(&client, spec), "denom ufoo is not accepted");
    assert_eq!(suite.balance(&client, "ufoo"), 500);
}

#[test]
fn publish_with_oversize_kernel_source_is_refused() {
    let mut spec = TaskSpec::default();
    spec.kernel.source = "x".repeat(16 * 1024 + 1);
    assert_publish_refused(
        spec,
        ContractError::Publish(PublishError::InvalidKernel(KernelError::SourceTooLarge {
            got: 16 * 1024 + 1,
            max: 16 * 1024,
        })),
    );
}

#[test]
fn publish_with_oversize_outputs_is_refused() {
    let mut spec = TaskSpec::default();
    spec.kernel.args.push(KernelArg::Output { size: 64 * 1024 });
    assert_publish_refused(
        spec,
        ContractError::Publish(PublishError::InvalidKernel(KernelError::OutputTooLarge {
            got: 64 * 1024 + 16,
            max: 64 * 1024,
        })),
    );
}

#[test]
fn publish_with_malformed_kernel_is_refused() {
    let mut spec = TaskSpec::default();
    spec.kernel.local_work_size = Some(vec![3]);
    assert_publish_refused(
        spec,
        ContractError::Publish(PublishError::InvalidKernel(
            KernelError::LocalDoesNotDivide {
                dim: 0,
                local: 3,
                global: 4,
            },
        )),
    );
}

#[test]
fn publish_with_collateral_below_minimum_is_refused() {
    assert_publish_refused(
        TaskSpec::default().collateral(0),
        ContractError::Publish(PublishError::CollateralTooLow {
            got: Uint128::zero(),
            min: Uint128::new(1),
        }),
    );
}

#[test]
fn publish_with_deadline_out_of_range_is_refused() {
    assert_publish_refused(
        TaskSpec::default().deadline_blocks(1),
        ContractError::Publish(PublishError::DeadlineOutOfRange {
            got: 1,
            min: 2,
            max: 10_000,
        }),
    );
}

#[test]
fn publish_with_malformed_reference_hash_is_refused() {
    let spec = TaskSpec::default().verification(VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(vec![1, 2, 3]),
    });
    assert_publish_refused(spec, "verification policy rejected");
}

/// A suite with a client, one registered provider and one open First Response task.
fn open_task() -> (Suite, cosmwasm_std::Addr, cosmwasm_std::Addr, u64) {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    (suite, client, provider, id)
}

#[test]
fn duplicate_commit_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    assert_error(
        suite.commit(&provider, id, &outputs(0)),
        ContractError::AlreadyCommitted {
            task_id: id,
            provider: provider.to_string(),
        },
    );
    assert_eq!(suite.stake(&provider).locked, Uint128::new(100));
    assert_eq!(suite.task(id).commit_count, 1);
}

#[test]
fn commit_after_deadline_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    let deadline = suite.task(id).deadline_height;
    let now = suite.height();
    suite.advance_blocks(deadline - now + 1);
    assert_error(
        suite.commit(&provider, id, &outputs(0)),
        ContractError::CommitAfterDeadline {
            task_id: id,
            deadline,
            height: deadline + 1,
        },
    );
    assert_eq!(suite.stake(&provider).locked, Uint128::zero());
}

#[test]
fn commit_with_a_malformed_commitment_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    let msg = ExecuteMsg::Commit {
        task_id: id,
        commitment: HexBinary::from(vec![0u8; 31]),
    };
    assert_error(
        suite.execute_market(&provider, &msg, &[]),
        ContractError::BadCommitment { len: 31 },
    );
}

#[test]
fn commit_with_attached_funds_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite.fund(&provider, coins(10, PAY_DENOM));
    let msg = ExecuteMsg::Commit {
        task_id: id,
        commitment: HexBinary::from(vec![0u8; 32]),
    };
    assert_error(
        suite.execute_market(&provider, &msg, &coins(10, PAY_DENOM)),
        PaymentError::NonPayable {},
    );
    assert_eq!(suite.balance(&provider, PAY_DENOM), 10);
}

#[test]
fn commit_by_an_unregistered_account_is_refused() {
    let (mut suite, _, _, id) = open_task();
    let stranger = suite.addr("stranger");
    assert_error(
        suite.commit(&stranger, id, &outputs(0)),
        ContractError::ProviderNotRegistered {
            provider: stranger.to_string(),
        },
    );
}

#[test]
fn commit_by_a_paused_provider_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite
        .execute_registry(&provider, &registry::ExecuteMsg::Pause {})
        .unwrap();
    assert_error(
        suite.commit(&provider, id, &outputs(0)),
        ContractError::ProviderNotEligible {
            provider: provider.to_string(),
        },
    );
}

#[test]
fn commit_without_enough_free_stake_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", 1_000);
    let id = suite
        .publish(&client, TaskSpec::first_response().collateral(1_001))
        .unwrap();
    assert_error(suite.commit(&provider, id, &outputs(0)), "1001");
    assert_eq!(suite.task(id).commit_count, 0);
    assert_eq!(suite.stake(&provider).locked, Uint128::zero());
}

#[test]
fn commit_by_a_device_below_requirements_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let spec = TaskSpec {
        requirements: Requirements {
            min_global_mem_bytes: 1 << 40,
            ..Requirements::default()
        },
        ..TaskSpec::default()
    };
    let id = suite.publish(&client, spec).unwrap();
    assert_error(suite.commit(&provider, id, &outputs(0)), "global memory");
}

#[test]
fn commit_beyond_max_committers_is_refused() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    for i in 0..5 {
        let provider = suite.provider_with_bond(&format!("provider-{i}"), BOND);
        suite.commit(&provider, id, &outputs(0)).unwrap();
    }
    let sixth = suite.provider_with_bond("provider-5", BOND);
    assert_error(
        suite.commit(&sixth, id, &outputs(0)),
        ContractError::TooManyCommitters {
            task_id: id,
            max: 5,
        },
    );
}

#[test]
fn reveal_without_commit_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    assert_error(
        suite.reveal(&provider, id, &outputs(0), None),
        ContractError::NoCommitment {
            task_id: id,
            provider: provider.to_string(),
        },
    );
}

#[test]
fn reveal_in_the_commit_block_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    let now = suite.height();
    assert_error(
        suite.reveal(&provider, id, &outputs(0), None),
        ContractError::RevealTooEarly { earliest: now + 1 },
    );
}

#[test]
fn reveal_with_wrong_salt_is_refused_and_can_be_retried() {
    let (mut suite, _, provider, id) = open_task();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    assert_error(
        suite.reveal_with_salt(&provider, id, &outputs(0), &[1u8; 32], None),
        ContractError::CommitmentMismatch {},
    );
    assert_eq!(suite.task(id).status, TaskStatus::Committed);
    suite
        .reveal_with_salt(&provider, id, &outputs(0), &SALT, None)
        .unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
}

#[test]
fn reveal_of_other_outputs_than_committed_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    assert_error(
        suite.reveal(&provider, id, &outputs(3), None),
        ContractError::CommitmentMismatch {},
    );
}

#[test]
fn reveal_with_a_short_salt_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    assert_error(
        suite.reveal_with_salt(&provider, id, &outputs(0), &[1u8; 4], None),
        ContractError::BadSalt {
            len: 4,
            min: 16,
            max: 64,
        },
    );
}

#[test]
fn reveal_after_the_reveal_window_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    let deadline = suite.commitments(id)[0].reveal_deadline_height;
    let now = suite.height();
    suite.advance_blocks(deadline - now + 1);
    assert_error(
        suite.reveal(&provider, id, &outputs(0), None),
        ContractError::RevealWindowClosed {
            deadline,
            height: deadline + 1,
        },
    );
}

#[test]
fn first_response_reveal_with_a_price_is_refused() {
    let (mut suite, _, provider, id) = open_task();
    suite.commit(&provider, id, &outputs(0)).unwrap();
    suite.advance_blocks(1);
    assert_error(
        suite.reveal(&provider, id, &outputs(0), Some(5)),
        ContractError::PriceNotAccepted {
            model: CompetitionModel::FirstResponse,
        },
    );
}

#[test]
fn result_query_before_settlement_names_the_missing_winner() {
    let (suite, _, _, id) = open_task();
    let err = suite.result(id, None).unwrap_err();
    assert!(err.to_string().contains("has no winner yet"), "{err}");
}
