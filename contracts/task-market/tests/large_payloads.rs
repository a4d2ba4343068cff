//! Kernels and outputs far larger than one storage value (wasmvm refuses values over 128 KiB)
//! are stored in chunks and read back whole; a commit reads none of the kernel.

use cosmwasm_std::storage_keys::to_length_prefixed;
use cosmwasm_std::{
    from_json, to_json_binary, to_json_vec, Binary, Empty, Order, QueryRequest, WasmQuery,
};
use opengpu_testing::{assert_error, Suite, SuiteBuilder, TaskSpec};
use opengpu_types::kernel::{Kernel, KernelArg};
use opengpu_types::market::{QueryMsg, TaskResponse, TaskStatus};

const BOND: u128 = 5_000;
/// wasmvm's `MAX_LENGTH_DB_VALUE`: a larger value fails on a real chain (not in multi-test).
const CHAIN_VALUE_LIMIT: usize = 128 * 1024;
const INPUT_BYTES: usize = 160 * 1024;
const OUTPUT_BYTES: usize = 224 * 1024;

/// A market that takes 1 MiB of inputs and of outputs, like the localnet's.
fn suite() -> Suite {
    SuiteBuilder::new()
        .with_params(|p| {
            p.kernel_limits.max_input_bytes = 1 << 20;
            p.kernel_limits.max_output_bytes = 1 << 20;
        })
        .build()
}

/// Bytes that differ along the buffer and between seeds, so a misplaced chunk shows.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect()
}

/// Two 160 KiB inputs (320 KiB, 427 KiB of base64) and one 224 KiB output.
fn large_kernel(local_work_size: Option<Vec<u64>>) -> Kernel {
    Kernel {
        source: "__kernel void add(__global const uchar* a, __global const uchar* b, \
                 __global uchar* out) {}"
            .into(),
        entry_point: "add".into(),
        global_work_size: vec![2048],
        local_work_size,
        args: vec![
            KernelArg::Input {
                data: Binary::from(noise(INPUT_BYTES, 1)),
            },
            KernelArg::Input {
                data: Binary::from(noise(INPUT_BYTES, 2)),
            },
            KernelArg::Output {
                size: OUTPUT_BYTES as u64,
            },
        ],
    }
}

/// The Task query's response, checked to be exactly the JSON of the `TaskResponse` it parses
/// to: the market writes it around the stored kernel JSON rather than through serde.
#[track_caller]
fn task_response(suite: &Suite, task_id: u64) -> TaskResponse {
    let request: QueryRequest<Empty> = WasmQuery::Smart {
        contract_addr: suite.market.to_string(),
        msg: to_json_binary(&QueryMsg::Task { task_id }).unwrap(),
    }
    .into();
    let bytes = suite
        .app
        .wrap()
        .raw_query(&to_json_vec(&request).unwrap())
        .unwrap()
        .unwrap();
    let response: TaskResponse = from_json(&bytes).unwrap();
    assert!(
        to_json_vec(&response).unwrap() == bytes.as_slice(),
        "the Task response is not the canonical JSON of a TaskResponse"
    );
    response
}

/// Every value the market holds, by key.
fn market_storage(suite: &Suite) -> Vec<(Vec<u8>, Vec<u8>)> {
    suite
        .app
        .contract_storage(&suite.market)
        .range(None, None, Order::Ascending)
        .collect()
}

#[test]
fn large_kernel_and_outputs_round_trip_through_the_task_and_result_queries() {
    let mut suite = suite();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    let kernel = large_kernel(Some(vec![256]));
    let spec = TaskSpec {
        kernel: kernel.clone(),
        ..TaskSpec::first_response()
    };
    let id = suite.publish(&client, spec).unwrap();
    let response = task_response(&suite, id);
    assert_eq!(response.kernel, kernel);
    assert_eq!(response.task.output_sizes, vec![OUTPUT_BYTES as u64]);

    let outputs = vec![Binary::from(noise(OUTPUT_BYTES, 3))];
    suite
        .commit_and_reveal(&provider, id, &outputs, None)
        .unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    let result = suite.result(id, None).unwrap();
    assert_eq!(result.provider, provider);
    assert_eq!(result.outputs, outputs);
    assert_eq!(suite.result(id, Some(&provider)).unwrap().outputs, outputs);
    assert_eq!(task_response(&suite, id).kernel, kernel);

    // What a real chain would have refused: every value fits, and the market holds about
    // 750 KiB in them.
    let stored = market_storage(&suite);
    let too_big: Vec<usize> = stored
        .iter()
        .map(|(_, value)| value.len())
        .filter(|len| *len > CHAIN_VALUE_LIMIT)
        .collect();
    assert!(too_big.is_empty(), "values over the limit: {too_big:?}");
    let total: usize = stored.iter().map(|(_, value)| value.len()).sum();
    assert!(total > 2 * INPUT_BYTES + OUTPUT_BYTES, "{total}");
    suite.assert_money_invariants();
}

#[test]
fn commit_checks_the_work_group_size_without_reading_the_kernel() {
    let mut suite = suite();
    let client = suite.client_with_funds("client", 10_000);
    let provider = suite.provider_with_bond("provider", BOND);
    // The suite's provider allows work-groups of 1024 items.
    let publish = |suite: &mut Suite, local: Option<Vec<u64>>| {
        let spec = TaskSpec {
            kernel: large_kernel(local),
            ..TaskSpec::first_response()
        };
        suite.publish(&client, spec).unwrap()
    };
    let too_wide = publish(&mut suite, Some(vec![2048]));
    let driver_chooses = publish(&mut suite, None);
    let fits = publish(&mut suite, Some(vec![1024]));

    // Drop every kernel chunk: a commit that read the kernel would now fail.
    let chunks = to_length_prefixed(b"kern_c");
    let keys: Vec<Vec<u8>> = market_storage(&suite)
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| key.starts_with(&chunks))
        .collect();
    assert!(keys.len() >= 3 * 7, "{} kernel chunks", keys.len());
    let mut storage = suite.app.contract_storage_mut(&suite.market.clone());
    for key in &keys {
        storage.remove(key);
    }
    drop(storage);

    let outputs = vec![Binary::from(noise(OUTPUT_BYTES, 4))];
    assert_error(
        suite.commit(&provider, too_wide, &outputs),
        "task needs work-groups of 2048 items, device allows 1024",
    );
    suite.commit(&provider, driver_chooses, &outputs).unwrap();
    suite.commit(&provider, fits, &outputs).unwrap();
    assert_eq!(suite.commitments(fits).len(), 1);
    assert!(suite.commitments(too_wide).is_empty());
    // The Task query, which does read the kernel, finds the chunks gone.
    let err = suite
        .app
        .wrap()
        .query_wasm_smart::<TaskResponse>(&suite.market, &QueryMsg::Task { task_id: fits })
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}
