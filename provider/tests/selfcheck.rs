//! The self-check on a real result: the shipped SGEMM example run by the OpenCL backend
//! (PoCL on CI) at the largest size the localnet publishes, checked with Freivalds as the
//! daemon does before committing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cosmwasm_std::{Addr, Binary, Decimal, Uint128};
use opengpu_examples::{Example, ExampleTask};
use opengpu_provider::executor::opencl::{OpenClBackend, OpenClConfig};
use opengpu_provider::executor::{Backend, DeviceSelector, ExecLimits};
use opengpu_provider::selfcheck::{check, corrupt_first_element};
use opengpu_types::commitment::{commitment, outputs_digest};
use opengpu_types::freivalds::FreivaldsSpec;
use opengpu_types::kernel::Requirements;
use opengpu_types::market::{CompetitionModel, TaskInfo, TaskStatus};
use opengpu_types::verification::VerificationPolicy;

/// Largest SGEMM side whose inputs fit the localnet's 1 MiB buffer limit (a multiple of 64).
const SIZE: u32 = 320;

fn task(example: &ExampleTask, verification: VerificationPolicy) -> TaskInfo {
    TaskInfo {
        id: 77,
        client: Addr::unchecked("client"),
        model: CompetitionModel::FirstResponse,
        requirements: Requirements::default(),
        verification,
        denom: "uatom".into(),
        budget: Uint128::new(10_000),
        collateral: Uint128::new(1_000),
        output_sizes: example.output_sizes(),
        fee_bps: 100,
        created_height: 1,
        deadline_height: 100,
        reveal_window_blocks: 50,
        confirm_window_blocks: 50,
        max_committers: 5,
        status: TaskStatus::Open,
        commit_count: 0,
        settlement: None,
        auction: None,
        remote_client: None,
    }
}

#[test]
fn sgemm_on_the_device_passes_freivalds_and_a_corrupted_element_is_refused() {
    let example = ExampleTask::new(Example::Sgemm, SIZE, 3).unwrap();
    let kernel = example.kernel();
    let backend = OpenClBackend::start(OpenClConfig {
        worker_exe: PathBuf::from(env!("CARGO_BIN_EXE_opengpu-provider")),
        selector: DeviceSelector::default(),
        limits: ExecLimits {
            time_limit: Duration::from_secs(120),
            memory_limit_bytes: 4 << 30,
        },
        workers: 1,
    })
    .expect("an OpenCL device at platform 0, device 0");
    let mut outputs = backend.run(&kernel).expect("sgemm runs").outputs;

    // The example's policy: C (argument 2) = A (0) x B (1), tolerance 1e-4.
    let spec = FreivaldsSpec {
        a_arg: 0,
        b_arg: 1,
        c_arg: 2,
        m: SIZE,
        k: SIZE,
        n: SIZE,
        tolerance: Decimal::bps(1),
    };
    let task = task(&example, VerificationPolicy::Freivalds(spec));
    let verdict = |outputs: &[Vec<u8>], salt: u8| {
        let outputs: Vec<Binary> = outputs.iter().cloned().map(Binary::from).collect();
        let digest = outputs_digest(&outputs);
        let commitment = commitment(task.id, "wasm1me", &digest, None, &[salt; 32]);
        check(&task, &kernel, &outputs, &commitment, &digest)
    };

    let started = Instant::now();
    assert_eq!(verdict(&outputs, 1), Ok(()));
    eprintln!(
        "Freivalds self-check of a {SIZE}x{SIZE} SGEMM: {:?} (debug build)",
        started.elapsed()
    );
    assert_eq!(verdict(&outputs, 2), Ok(()));

    assert!(corrupt_first_element(&mut outputs));
    for salt in 1..4 {
        let refusal = verdict(&outputs, salt).unwrap_err();
        assert_eq!(refusal.label(), "freivalds_failed", "{refusal}");
    }
}
