//! `hash-chain`: every input word hashed [`HASH_CHAIN_ROUNDS`] times in a row.

use cosmwasm_std::Binary;
use opengpu_types::kernel::{Kernel, KernelArg};

use crate::check::{element, Tally};
use crate::le_bytes::from_u32s;
use crate::seeded::SplitMix64;
use crate::{CheckReport, Example, ExampleError};

const SOURCE: &str = include_str!("../cl/hash_chain.cl");

/// Rounds of the mixer per element: enough work per item that the launch is compute-bound.
pub const HASH_CHAIN_ROUNDS: u32 = 1024;

/// Bytes of (inputs, outputs) for `size` words.
pub(crate) fn buffer_bytes(size: u64) -> (u64, u64) {
    (4 * size, 4 * size)
}

fn inputs(size: u32, seed: u64) -> Vec<u32> {
    SplitMix64::new(seed).u32_vec(size as usize)
}

pub(crate) fn kernel(size: u32, seed: u64) -> Kernel {
    Kernel {
        source: SOURCE.to_string(),
        entry_point: "hash_chain".to_string(),
        global_work_size: vec![size as u64],
        local_work_size: None,
        args: vec![
            KernelArg::Input {
                data: Binary::from(from_u32s(&inputs(size, seed))),
            },
            KernelArg::Output {
                size: 4 * size as u64,
            },
            KernelArg::U32 {
                value: HASH_CHAIN_ROUNDS,
            },
        ],
    }
}

pub(crate) fn reference(size: u32, seed: u64) -> Vec<u32> {
    inputs(size, seed)
        .into_iter()
        .map(|x| chain(x, HASH_CHAIN_ROUNDS))
        .collect()
}

/// The kernel's `mix` (Chris Wellons' lowbias32).
fn mix(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

fn chain(mut x: u32, rounds: u32) -> u32 {
    for _ in 0..rounds {
        x = mix(x.wrapping_add(0x9e37_79b9));
    }
    x
}

/// Integer arithmetic: every device must match exactly.
pub(crate) fn check(size: u32, seed: u64, got: &[u32]) -> Result<CheckReport, ExampleError> {
    let expected = reference(size, seed);
    Tally::u32s(Example::HashChain, &expected, got).finish(0, "exact".to_string(), element)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_matches_values_computed_independently() {
        // Computed with Python's arbitrary-precision integers masked to 32 bits.
        assert_eq!(mix(1), 0x6889_90c0);
        assert_eq!(mix(0xdead_beef), 0xe628_c683);
        assert_eq!(mix(0), 0, "lowbias32 fixes zero, hence the added constant");
        assert_eq!(chain(0, 1), 0x01fc_e552);
        assert_eq!(chain(12_345, 1024), 0x4d69_259e);
        assert_eq!(chain(5, 0), 5);
    }
}
