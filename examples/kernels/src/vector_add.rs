//! `vector-add`: c = a + b.

use cosmwasm_std::Binary;
use opengpu_types::kernel::{Kernel, KernelArg};

use crate::check::{element, Tally};
use crate::le_bytes::from_f32s;
use crate::seeded::SplitMix64;
use crate::{CheckReport, Example, ExampleError};

const SOURCE: &str = include_str!("../cl/vector_add.cl");

/// Bytes of (inputs, outputs) for `size` elements.
pub(crate) fn buffer_bytes(size: u64) -> (u64, u64) {
    (8 * size, 4 * size)
}

fn inputs(size: u32, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = SplitMix64::new(seed);
    let a = rng.f32_vec(size as usize);
    let b = rng.f32_vec(size as usize);
    (a, b)
}

pub(crate) fn kernel(size: u32, seed: u64) -> Kernel {
    let (a, b) = inputs(size, seed);
    Kernel {
        source: SOURCE.to_string(),
        entry_point: "vector_add".to_string(),
        global_work_size: vec![size as u64],
        local_work_size: None,
        args: vec![
            KernelArg::Input {
                data: Binary::from(from_f32s(&a)),
            },
            KernelArg::Input {
                data: Binary::from(from_f32s(&b)),
            },
            KernelArg::Output {
                size: 4 * size as u64,
            },
        ],
    }
}

pub(crate) fn reference(size: u32, seed: u64) -> Vec<f32> {
    let (a, b) = inputs(size, seed);
    add(&a, &b)
}

fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// A sum is one IEEE-754 rounding, so any conforming device matches exactly; one unit of
/// relative rounding error is allowed for devices that round a last bit differently.
pub(crate) fn check(size: u32, seed: u64, got: &[f32]) -> Result<CheckReport, ExampleError> {
    let expected = reference(size, seed);
    Tally::f32s(Example::VectorAdd, &expected, got, |i| {
        f32::EPSILON as f64 * expected[i].abs() as f64
    })
    .finish(0, "|error| <= eps * |expected|".to_string(), element)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_element_wise() {
        assert_eq!(add(&[1.0, -0.5], &[0.25, 0.5]), vec![1.25, 0.0]);
    }
}
