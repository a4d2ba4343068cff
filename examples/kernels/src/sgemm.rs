//! `sgemm`: C = A x B for square f32 matrices, with a register-blocked kernel (each work item
//! keeps an 8 x 16 block of C in float16 registers).

use cosmwasm_std::{Binary, Decimal};
use opengpu_types::freivalds::FreivaldsSpec;
use opengpu_types::kernel::{Kernel, KernelArg};

use crate::check::{row_column, Tally};
use crate::le_bytes::from_f32s;
use crate::seeded::SplitMix64;
use crate::{CheckReport, Example, ExampleError};

const SOURCE: &str = include_str!("../cl/sgemm.cl");

/// Matrix sizes must be multiples of this: a work-group of the kernel covers 16 rows x 64
/// columns of C.
pub const SGEMM_TILE: u32 = 64;
/// Work-group shape the kernel requires (`reqd_work_group_size` in `cl/sgemm.cl`): 4 items
/// along x (columns of C), 2 along y (rows).
const GROUP: [u64; 2] = [4, 2];
/// Each work item computes a block of C of this many rows (`BLOCK_ROWS` in `cl/sgemm.cl`)...
const BLOCK_ROWS: u64 = 8;
/// ... and this many columns, one float16 (`BLOCK_COLS`).
const BLOCK_COLS: u64 = 16;

/// Relative tolerance of the Freivalds check the example is published with: 1e-4. An honest
/// f32 product of inner dimension `n` is within about `n * 2^-24` (see
/// `opengpu_types::freivalds`), 1.9e-5 at the largest publishable size 320, so this leaves a
/// margin of 5 there (and stays safe up to n of about 800).
pub const SGEMM_FREIVALDS_TOLERANCE: Decimal = Decimal::bps(1);

/// Kernel argument indices of A, B (inputs) and C (output) in [`kernel`].
const A_ARG: u32 = 0;
const B_ARG: u32 = 1;
const C_ARG: u32 = 2;

/// Bytes of (inputs, outputs) for `n` x `n` matrices (saturating: sizes are checked with it).
pub(crate) fn buffer_bytes(n: u64) -> (u64, u64) {
    let elements = n.saturating_mul(n);
    (elements.saturating_mul(8), elements.saturating_mul(4))
}

fn inputs(n: u32, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = SplitMix64::new(seed);
    let len = n as usize * n as usize;
    let a = rng.f32_vec(len);
    let b = rng.f32_vec(len);
    (a, b)
}

pub(crate) fn kernel(n: u32, seed: u64) -> Kernel {
    let (a, b) = inputs(n, seed);
    let n_u64 = n as u64;
    Kernel {
        source: SOURCE.to_string(),
        entry_point: "sgemm".to_string(),
        // x: blocks of columns, y: blocks of rows.
        global_work_size: vec![n_u64 / BLOCK_COLS, n_u64 / BLOCK_ROWS],
        local_work_size: Some(GROUP.to_vec()),
        args: vec![
            KernelArg::Input {
                data: Binary::from(from_f32s(&a)),
            },
            KernelArg::Input {
                data: Binary::from(from_f32s(&b)),
            },
            KernelArg::Output {
                size: 4 * n as u64 * n as u64,
            },
            KernelArg::U32 { value: n },
        ],
    }
}

/// The Freivalds policy of an `n` x `n` task: C (argument 2) = A (argument 0) x B (argument 1),
/// checked on chain at reveal with [`SGEMM_FREIVALDS_TOLERANCE`].
pub(crate) fn freivalds_spec(n: u32) -> FreivaldsSpec {
    FreivaldsSpec {
        a_arg: A_ARG,
        b_arg: B_ARG,
        c_arg: C_ARG,
        m: n,
        k: n,
        n,
        tolerance: SGEMM_FREIVALDS_TOLERANCE,
    }
}

pub(crate) fn reference(n: u32, seed: u64) -> Vec<f32> {
    let (a, b) = inputs(n, seed);
    sgemm_reference(&a, &b, n as usize)
}

/// C = A x B for `n` x `n` row-major matrices: the plain i-k-j loop, which sums each element's
/// products in k order as the kernel does.
pub fn sgemm_reference(a: &[f32], b: &[f32], n: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; n * n];
    for (a_row, c_row) in a.chunks_exact(n).zip(c.chunks_exact_mut(n)) {
        for (a_ik, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
            for (c_ij, b_kj) in c_row.iter_mut().zip(b_row) {
                *c_ij += a_ik * b_kj;
            }
        }
    }
    c
}

/// Devices sum the `n` products of an element in other orders, with or without fused
/// multiply-adds. Any such sum is within n*u*S of the exact dot product (u = eps/2, S = the
/// sum of |a_ik * b_kj|), and so is the reference, so two correct results differ by at most
/// n*eps*S. The check allows twice that, with S bounded by sum_k |a_ik| * max_k |b_kj|
/// (cheap: one pass over each matrix). That is about 0.1% of a typical element at n = 256, while
/// a wrong or missing product moves an element by ~0.25.
pub(crate) fn check(n: u32, seed: u64, got: &[f32]) -> Result<CheckReport, ExampleError> {
    let n_usize = n as usize;
    let (a, b) = inputs(n, seed);
    let expected = sgemm_reference(&a, &b, n_usize);
    let row_abs_sums: Vec<f64> = a
        .chunks_exact(n_usize)
        .map(|row| row.iter().map(|v| v.abs() as f64).sum())
        .collect();
    let mut column_abs_max = vec![0.0f64; n_usize];
    for row in b.chunks_exact(n_usize) {
        for (max, v) in column_abs_max.iter_mut().zip(row) {
            *max = max.max(v.abs() as f64);
        }
    }
    let factor = 2.0 * n as f64 * f32::EPSILON as f64;
    Tally::f32s(Example::Sgemm, &expected, got, |i| {
        factor * row_abs_sums[i / n_usize] * column_abs_max[i % n_usize]
    })
    .finish(
        0,
        "|error| <= 2 * n * eps * sum_k |A[i][k]| * max_k |B[k][j]|".to_string(),
        |i| row_column(i, n_usize),
    )
}

pub(crate) fn flops(n: u32) -> u64 {
    2 * (n as u64).pow(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_multiplies_a_hand_computed_case() {
        // [1 2] [5 6]   [19 22]
        // [3 4] [7 8] = [43 50]
        let c = sgemm_reference(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0], 2);
        assert_eq!(c, vec![19.0, 22.0, 43.0, 50.0]);
    }

    #[test]
    fn launch_covers_the_matrix_with_8x16_blocks() {
        let k = kernel(128, 1);
        assert!(matches!(k.args[A_ARG as usize], KernelArg::Input { .. }));
        assert!(matches!(k.args[B_ARG as usize], KernelArg::Input { .. }));
        assert!(matches!(k.args[C_ARG as usize], KernelArg::Output { .. }));
        // 128 / 16 column blocks along x, 128 / 8 row blocks along y.
        assert_eq!(k.global_work_size, vec![8, 16]);
        assert_eq!(k.local_work_size, Some(vec![4, 2]));
        // One group covers 4*16 = 64 columns and 2*8 = 16 rows, so the tile divides n and every
        // size that is a multiple of it divides into whole groups.
        assert_eq!(GROUP[0] * BLOCK_COLS, SGEMM_TILE as u64);
        assert_eq!(SGEMM_TILE as u64 % (GROUP[1] * BLOCK_ROWS), 0);
        for n in [64u32, 320, 1024] {
            let k = kernel(n, 1);
            for (global, local) in k.global_work_size.iter().zip(GROUP) {
                assert_eq!(global % local, 0, "n = {n}");
            }
        }
    }

    #[test]
    fn the_source_declares_the_launch_shape() {
        assert!(SOURCE.contains("reqd_work_group_size(4, 2, 1)"));
        assert!(SOURCE.contains("#define BLOCK_ROWS 8 "));
        assert!(SOURCE.contains("#define BLOCK_COLS 16 "));
    }
}
