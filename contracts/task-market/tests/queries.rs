//! Paginated task listing served from the status and client indexes; results by provider.

use cosmwasm_std::Binary;
use opengpu_testing::{outputs, Suite, TaskSpec};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::market::{QueryMsg, TaskFilter, TaskStatus, TasksResponse};
use opengpu_types::TaskId;

fn list(suite: &Suite, filter: TaskFilter, start_after: Option<TaskId>, limit: u32) -> Vec<TaskId> {
    let response: TasksResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.market,
            &QueryMsg::Tasks {
                filter: Some(filter),
                start_after,
                limit: Some(limit),
            },
        )
        .unwrap();
    response.tasks.into_iter().map(|t| t.id).collect()
}

#[test]
fn tasks_page_by_id_and_filter_by_status_and_client() {
    let mut suite = Suite::new();
    let alice = suite.client_with_funds("alice", 100_000);
    let bob = suite.client_with_funds("bob", 100_000);
    let provider = suite.provider_with_bond("provider", 5_000);
    let mut ids = vec![];
    for i in 0..6 {
        let client = if i % 2 == 0 { &alice } else { &bob };
        ids.push(suite.publish(client, TaskSpec::first_response()).unwrap());
    }
    // Task 3 (alice's) gets a commitment; task 4 (bob's) is cancelled.
    suite.commit(&provider, ids[2], &outputs(0)).unwrap();
    suite.cancel(&bob, ids[3]).unwrap();

    let all = TaskFilter::default();
    assert_eq!(list(&suite, all.clone(), None, 4), ids[..4]);
    assert_eq!(list(&suite, all, Some(ids[3]), 4), ids[4..]);

    let open = TaskFilter {
        status: Some(TaskStatus::Open),
        client: None,
    };
    assert_eq!(list(&suite, open.clone(), None, 10), vec![1, 2, 5, 6]);
    assert_eq!(list(&suite, open, Some(2), 1), vec![5]);

    let alices = TaskFilter {
        status: None,
        client: Some(alice.to_string()),
    };
    assert_eq!(list(&suite, alices.clone(), None, 10), vec![1, 3, 5]);
    assert_eq!(list(&suite, alices, Some(1), 1), vec![3]);

    let alices_open = TaskFilter {
        status: Some(TaskStatus::Open),
        client: Some(alice.to_string()),
    };
    assert_eq!(list(&suite, alices_open, None, 10), vec![1, 5]);
    let bobs_cancelled = TaskFilter {
        status: Some(TaskStatus::Cancelled),
        client: Some(bob.to_string()),
    };
    assert_eq!(list(&suite, bobs_cancelled, None, 10), vec![4]);
}

#[test]
fn page_size_is_capped_at_thirty() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 1_000_000);
    for _ in 0..35 {
        suite.publish(&client, TaskSpec::first_response()).unwrap();
    }
    assert_eq!(list(&suite, TaskFilter::default(), None, 100).len(), 30);
}

#[test]
fn result_is_each_valid_offer_with_its_digest_and_an_error_for_anyone_else() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", 10_000);
    let valid = suite.provider_with_bond("valid", 5_000);
    let silent = suite.provider_with_bond("silent", 5_000);
    let malformed = suite.provider_with_bond("malformed", 5_000);
    let stranger = suite.addr("stranger");
    let id = suite
        .publish(&client, TaskSpec::manual_confirmation())
        .unwrap();
    let short = vec![Binary::from(vec![1u8; 3])];
    suite
        .commit_offer(&valid, id, &outputs(2), Some(500))
        .unwrap();
    suite.commit(&silent, id, &outputs(0)).unwrap();
    suite
        .commit_offer(&malformed, id, &short, Some(400))
        .unwrap();
    suite.close_commits(id);
    suite.reveal(&valid, id, &outputs(2), Some(500)).unwrap();
    suite.reveal(&malformed, id, &short, Some(400)).unwrap();

    let result = suite.result(id, Some(&valid)).unwrap();
    assert_eq!(result.outputs, outputs(2));
    assert_eq!(
        result.outputs_digest.as_slice(),
        outputs_digest(&outputs(2)).as_slice()
    );
    for provider in [&silent, &malformed, &stranger] {
        let err = suite.result(id, Some(provider)).unwrap_err();
        let expected = format!("task {id} has no valid result from {provider}");
        assert!(err.to_string().contains(&expected), "{err}");
    }
}
