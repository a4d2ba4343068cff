//! Bounded state: a closed task's kernel, outputs, commitments and bids are removed once its
//! retention ends (by anyone's `Prune`, or on the side of the next task that closes); its
//! record stays readable, and the market's storage stays flat however many tasks it runs.

use cosmwasm_std::{Order, Storage};
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, outputs, Suite, SuiteBuilder, TaskSpec, PAY_DENOM};
use opengpu_types::market::{self, TaskStatus};

const RETENTION: u64 = 10;

fn suite() -> Suite {
    SuiteBuilder::new().with_retention_blocks(RETENTION).build()
}

/// A First Response task published, won and settled.
fn settled_task(suite: &mut Suite, provider: &cosmwasm_std::Addr) -> u64 {
    let client = suite.addr("client");
    let id = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite
        .commit_and_reveal(provider, id, &outputs(0), None)
        .unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    id
}

fn prune(suite: &mut Suite) -> cosmwasm_std::StdResult<cw_multi_test::AppResponse> {
    let anyone = suite.addr("anyone");
    suite.execute_market(&anyone, &market::ExecuteMsg::Prune { limit: None }, &[])
}

fn task_query(suite: &Suite, task_id: u64) -> cosmwasm_std::StdResult<market::TaskResponse> {
    suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &market::QueryMsg::Task { task_id })
}

#[test]
fn a_closed_tasks_data_is_pruned_after_its_retention_and_its_record_stays() {
    let mut suite = suite();
    suite.client_with_funds("client", 100_000);
    let provider = suite.provider_with_bond("provider", 5_000);
    let id = settled_task(&mut suite, &provider);
    let closed_at = suite.height();

    // Within the retention everything is readable and nothing may be pruned.
    assert!(task_query(&suite, id).is_ok());
    assert_eq!(suite.result(id, None).unwrap().outputs, outputs(0));
    assert_error(
        prune(&mut suite),
        ContractError::NothingToPrune { height: closed_at },
    );

    suite.advance_blocks(RETENTION);
    let pruned_at = suite.height();
    prune(&mut suite).unwrap();
    assert_error(
        task_query(&suite, id),
        ContractError::Pruned {
            task_id: id,
            height: pruned_at,
        },
    );
    assert!(suite.result(id, None).is_err());
    // What remains: a small record, out of the task lists.
    let record: market::TaskRecord = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &market::QueryMsg::Record { task_id: id })
        .unwrap();
    assert_eq!(record.status, TaskStatus::Settled);
    assert_eq!(
        (record.winner, record.price.map(|p| p.u128())),
        (Some(provider.clone()), Some(1_000))
    );
    assert_eq!(record.pruned_height, pruned_at);
    assert!(suite.tasks_with_status(TaskStatus::Settled).is_empty());
    // A pruned task takes no more messages, and says why.
    assert_error(
        suite.expire(&provider, id),
        ContractError::Pruned {
            task_id: id,
            height: pruned_at,
        },
    );
    assert_error(
        prune(&mut suite),
        ContractError::NothingToPrune { height: pruned_at },
    );
    suite.assert_money_invariants();
}

#[test]
fn closing_a_task_prunes_one_whose_retention_ended() {
    let mut suite = suite();
    suite.client_with_funds("client", 100_000);
    let provider = suite.provider_with_bond("provider", 5_000);
    let first = settled_task(&mut suite, &provider);
    suite.advance_blocks(RETENTION + 1);
    let second = settled_task(&mut suite, &provider);
    assert!(
        task_query(&suite, first).is_err(),
        "pruned by the second close"
    );
    assert!(task_query(&suite, second).is_ok());
    // Cancelled and expired tasks are closed too.
    let client = suite.addr("client");
    let cancelled = suite.publish(&client, TaskSpec::first_response()).unwrap();
    suite.cancel(&client, cancelled).unwrap();
    suite.advance_blocks(RETENTION + 1);
    prune(&mut suite).unwrap();
    assert!(task_query(&suite, cancelled).is_err());
    assert!(task_query(&suite, second).is_err());
    assert_eq!(suite.balance(&client, PAY_DENOM), 100_000 - 2_000);
    suite.assert_money_invariants();
}

/// Bytes of every key and value the chain stores (bank, wasm, and the four contracts).
fn stored_bytes(storage: &dyn Storage) -> usize {
    storage
        .range(None, None, Order::Ascending)
        .map(|(k, v)| k.len() + v.len())
        .sum()
}

#[test]
fn state_stays_flat_over_a_thousand_tasks() {
    const TASKS: usize = 1_000;
    let mut suite = suite();
    suite.client_with_funds("client", 10_000_000);
    let provider = suite.provider_with_bond("provider", 5_000);
    let mut at = Vec::new();
    for n in 1..=TASKS {
        settled_task(&mut suite, &provider);
        if n == TASKS / 4 || n == TASKS {
            at.push(stored_bytes(suite.app.storage()));
        }
    }
    let per_task = (at[1] - at[0]) / (TASKS - TASKS / 4);
    // What one task keeps while it is retained: its entry, indexes, kernel, commitment and
    // outputs. Measured on the second task of a market that prunes nothing yet.
    let mut fresh = SuiteBuilder::new().build();
    fresh.client_with_funds("client", 10_000_000);
    let provider = fresh.provider_with_bond("provider", 5_000);
    settled_task(&mut fresh, &provider);
    let before = stored_bytes(fresh.app.storage());
    settled_task(&mut fresh, &provider);
    let unpruned_per_task = stored_bytes(fresh.app.storage()) - before;
    println!(
        "storage after {} tasks: {} B, after {TASKS}: {} B; {per_task} B per task kept \
         (record only) vs {unpruned_per_task} B per task unpruned",
        TASKS / 4,
        at[0],
        at[1]
    );
    // Everything else is flat: what grows is one `TaskRecord` per task (about 400 B, two
    // addresses in JSON), a fraction of even this small task's data (kernels and outputs of
    // real tasks are kilobytes to megabytes).
    assert!(
        per_task <= 512 && per_task * 5 < unpruned_per_task,
        "{per_task} B per task kept vs {unpruned_per_task} B per unpruned task"
    );
    suite.assert_money_invariants();
}
