//! Freivalds: a provider reveals the product with one wrong element, wherever it is. An error
//! above the row's bound is proven by the on-chain check: rejected and slashed.

use cosmwasm_std::Binary;
use opengpu_testing::{
    matmul_kernel, matmul_outputs, matmul_outputs_off_by, matmul_policy, Suite, TaskSpec, MATMUL_N,
    PAY_DENOM, STAKE_DENOM,
};
use opengpu_types::consensus::decimal_to_f64;
use opengpu_types::events::TaskRevealed;
use opengpu_types::kernel::KernelArg;
use opengpu_types::market::CommitmentState;
use opengpu_types::verification::VerificationPolicy;

use crate::common::*;

fn floats(data: &Binary) -> Vec<f64> {
    data.chunks_exact(4)
        .map(|w| f64::from(f32::from_le_bytes([w[0], w[1], w[2], w[3]])))
        .collect()
}

/// `τ_i` of `opengpu_types::freivalds` for row `i` of the fixture: tolerance × (row sum of
/// |A||B|) plus the underflow term. An element off by more than `2τ_i` fails a round with
/// probability at least 1/2, all 40 with at most 2^-40.
fn row_bound(row: usize) -> f64 {
    let kernel = matmul_kernel();
    let input = |arg: usize| match &kernel.args[arg] {
        KernelArg::Input { data } => floats(data),
        _ => unreachable!("matmul inputs are buffers"),
    };
    let (a, b) = (input(0), input(1));
    let n = MATMUL_N as usize;
    let row_sum: f64 = (0..n)
        .flat_map(|j| (0..n).map(move |l| (row, l, j)))
        .map(|(i, l, j)| (a[i * n + l] * b[l * n + j]).abs())
        .sum();
    let VerificationPolicy::Freivalds(spec) = matmul_policy() else {
        unreachable!("the fixture policy is Freivalds")
    };
    decimal_to_f64(&spec.tolerance) * row_sum + 4.0 * (n * n) as f64 * 2f64.powi(-126)
}

#[test]
fn one_wrong_element_above_the_bound_is_rejected_and_slashed_wherever_it_is() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let cheat = suite.provider_with_bond("cheat", BOND);
    let honest = suite.provider_with_bond("honest", BOND);
    let n = MATMUL_N as usize;
    let indices = [0, 9, 27, 36, 50, 63];
    for (round, &index) in indices.iter().enumerate() {
        let bound = 2.0 * row_bound(index / n);
        // Just above the bound, alternating in sign.
        let delta = (bound * 1.01 + 1e-3) as f32 * if round % 2 == 0 { 1.0 } else { -1.0 };
        let wrong = matmul_outputs_off_by(index, delta);
        assert_ne!(wrong, matmul_outputs());
        let id = suite.publish(&client, TaskSpec::freivalds()).unwrap();
        suite.commit(&cheat, id, &wrong).unwrap();
        suite.commit(&honest, id, &matmul_outputs()).unwrap();
        suite.advance_blocks(1);
        let response = suite.reveal(&cheat, id, &wrong, None).unwrap();
        assert_eq!(
            event::<TaskRevealed>(&response).unwrap().outcome,
            "rejected",
            "element {index} off by {delta} (bound {bound})"
        );
        assert!(matches!(
            state_of(&suite, id, &cheat),
            CommitmentState::Rejected { reason } if reason.starts_with("freivalds")
        ));
        suite.reveal(&honest, id, &matmul_outputs(), None).unwrap();
        assert_eq!(suite.task(id).settlement.unwrap().winner, honest);

        let done = round as u128 + 1;
        assert_eq!(bonded(&suite, &cheat), BOND - done * COLLATERAL);
        assert_eq!(locked(&suite, &cheat), 0);
        assert_eq!(reputation(&suite, &cheat).slashed as u128, done);
        assert_eq!(suite.balance(&cheat, PAY_DENOM), 0);
        assert_eq!(suite.balance(&honest, PAY_DENOM), done * PAID);
        assert_stake_whole(&suite, &honest, BOND);
        assert_eq!(
            suite.balance(&client, STAKE_DENOM),
            FUNDS + done * COLLATERAL
        );
        assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - done * BUDGET);
        suite.assert_money_invariants();
    }
}

/// The other side of the bound: an error far below it cannot be told from a device's
/// rounding, so it passes (the module doc of `opengpu_types::freivalds` says so).
#[test]
fn an_error_within_the_rounding_bound_passes_as_rounding() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let provider = suite.provider_with_bond("provider", BOND);
    let index = 27;
    let delta = (row_bound(index / MATMUL_N as usize) / 4.0) as f32;
    let rounded = matmul_outputs_off_by(index, delta);
    assert_ne!(rounded, matmul_outputs());
    let id = suite.publish(&client, TaskSpec::freivalds()).unwrap();
    suite
        .commit_and_reveal(&provider, id, &rounded, None)
        .unwrap();
    assert_eq!(suite.task(id).settlement.unwrap().winner, provider);
    assert_stake_whole(&suite, &provider, BOND);
    suite.assert_money_invariants();
}
