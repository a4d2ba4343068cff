//! Inputs by content address: a task names an input buffer by sha256, size and URLs; the
//! market stores only that, whatever the size, checks its form, and keeps checks that read
//! inputs on-chain (Freivalds') from pointing at one.

use cosmwasm_std::{HexBinary, Order};
use opengpu_testing::{
    assert_error, default_kernel, default_outputs, matmul_kernel, SuiteBuilder, TaskSpec, PAY_DENOM,
};
use opengpu_types::kernel::KernelArg;
use opengpu_types::market::{QueryMsg, TaskResponse, TaskStatus};

const BOND: u128 = 5_000;
const MIB: u64 = 1 << 20;

fn remote(size: u64) -> KernelArg {
    KernelArg::RemoteInput {
        sha256: HexBinary::from([0xab; 32]),
        size,
        urls: vec![
            "http://127.0.0.1:8088/abab".into(),
            "https://mirror.example.org/inputs/abab".into(),
        ],
    }
}

#[test]
fn a_256_mib_off_chain_input_is_stored_as_its_hash_and_the_task_settles_as_usual() {
    let mut suite = SuiteBuilder::new().build();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let mut kernel = default_kernel();
    kernel.args[1] = remote(256 * MIB);
    let id = suite
        .publish(
            &client,
            TaskSpec {
                kernel: kernel.clone(),
                ..TaskSpec::first_response()
            },
        )
        .unwrap();
    let response: TaskResponse = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &QueryMsg::Task { task_id: id })
        .unwrap();
    assert_eq!(response.kernel, kernel);
    // The whole market state is a few KiB: the 256 MiB never reach the chain.
    let stored: usize = suite
        .app
        .contract_storage(&suite.market)
        .range(None, None, Order::Ascending)
        .map(|(key, value)| key.len() + value.len())
        .sum();
    assert!(stored < 16 * 1024, "market holds {stored} bytes");

    suite
        .commit_and_reveal(&provider, id, &default_outputs(), None)
        .unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    suite.assert_money_invariants();
}

#[test]
fn malformed_off_chain_inputs_are_refused_at_publish_and_nothing_is_escrowed() {
    let mut suite = SuiteBuilder::new().build();
    let client = suite.client_with_funds("client", 10_000);
    let cases: Vec<(KernelArg, &str)> = vec![
        (
            KernelArg::RemoteInput {
                sha256: HexBinary::from([1; 20]),
                size: 16,
                urls: vec!["http://h/x".into()],
            },
            "argument 1: an off-chain input's sha256 has 20 bytes, not 32",
        ),
        (
            KernelArg::RemoteInput {
                sha256: HexBinary::from([1; 32]),
                size: 16,
                urls: vec![],
            },
            "argument 1: an off-chain input needs 1 to 4 URLs; it has 0",
        ),
        (
            KernelArg::RemoteInput {
                sha256: HexBinary::from([1; 32]),
                size: 16,
                urls: vec!["file:///etc/passwd".into()],
            },
            "is not an http:// or https:// URL",
        ),
        (
            KernelArg::RemoteInput {
                sha256: HexBinary::from([1; 32]),
                size: 0,
                urls: vec!["http://h/x".into()],
            },
            "argument 1 is a zero-sized buffer",
        ),
    ];
    for (arg, message) in cases {
        let mut kernel = default_kernel();
        kernel.args[1] = arg;
        let spec = TaskSpec {
            kernel,
            ..TaskSpec::first_response()
        };
        assert_error(suite.publish(&client, spec), message);
    }
    assert_eq!(
        suite.balance(&client, PAY_DENOM),
        10_000,
        "nothing escrowed"
    );
    suite.assert_money_invariants();
}

#[test]
fn freivalds_refuses_matrices_that_are_not_on_chain() {
    let mut suite = SuiteBuilder::new().build();
    let client = suite.client_with_funds("client", 10_000);
    let mut spec = TaskSpec::freivalds();
    let KernelArg::Input { data } = &matmul_kernel().args[0] else {
        panic!("A is an on-chain input of the fixture");
    };
    spec.kernel.args[0] = KernelArg::RemoteInput {
        sha256: HexBinary::from([2; 32]),
        size: data.len() as u64,
        urls: vec!["http://127.0.0.1:8088/a".into()],
    };
    assert_error(
        suite.publish(&client, spec),
        "an off-chain input; Freivalds' check reads its matrices on-chain",
    );
    assert_eq!(suite.balance(&client, PAY_DENOM), 10_000);
}
