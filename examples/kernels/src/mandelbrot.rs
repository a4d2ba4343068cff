//! `mandelbrot`: escape counts of a square image over the whole set.

use opengpu_types::kernel::{Kernel, KernelArg};

use crate::check::{row_column, Tally};
use crate::{CheckReport, Example, ExampleError};

const SOURCE: &str = include_str!("../cl/mandelbrot.cl");

/// Iteration cap per pixel.
pub const MANDELBROT_MAX_ITERATIONS: u32 = 512;
/// The image covers [X_MIN, X_MIN + SPAN] x [Y_MIN, Y_MIN + SPAN] of the complex plane.
const X_MIN: f32 = -2.0;
const Y_MIN: f32 = -1.5;
const SPAN: f32 = 3.0;

/// Bytes of (inputs, outputs) for a `size` x `size` image: no inputs, one u32 per pixel.
pub(crate) fn buffer_bytes(size: u64) -> (u64, u64) {
    (0, size.saturating_mul(size).saturating_mul(4))
}

/// Distance between neighbouring pixels, computed once here and sent to the device as bits,
/// so both sides use the same float.
fn step(size: u32) -> f32 {
    SPAN / size as f32
}

/// The image is the same for every seed: the region is fixed.
pub(crate) fn kernel(size: u32) -> Kernel {
    Kernel {
        source: SOURCE.to_string(),
        entry_point: "mandelbrot".to_string(),
        global_work_size: vec![size as u64, size as u64],
        local_work_size: None,
        args: vec![
            KernelArg::Output {
                size: 4 * size as u64 * size as u64,
            },
            KernelArg::F32 {
                bits: X_MIN.to_bits(),
            },
            KernelArg::F32 {
                bits: Y_MIN.to_bits(),
            },
            KernelArg::F32 {
                bits: step(size).to_bits(),
            },
            KernelArg::U32 {
                value: MANDELBROT_MAX_ITERATIONS,
            },
        ],
    }
}

pub(crate) fn reference(size: u32) -> Vec<u32> {
    let step = step(size);
    (0..size)
        .flat_map(|py| (0..size).map(move |px| (px, py)))
        .map(|(px, py)| {
            let cx = X_MIN + px as f32 * step;
            let cy = Y_MIN + py as f32 * step;
            escape_count(cx, cy, MANDELBROT_MAX_ITERATIONS)
        })
        .collect()
}

/// The kernel's loop, operation for operation (Rust never fuses a multiply and an add).
fn escape_count(cx: f32, cy: f32, max_iterations: u32) -> u32 {
    let (mut x, mut y) = (0.0f32, 0.0f32);
    let mut n = 0;
    while n < max_iterations {
        let xx = x * x;
        let yy = y * y;
        if xx + yy > 4.0 {
            break;
        }
        let xy = x * y;
        x = xx - yy + cx;
        y = xy + xy + cy;
        n += 1;
    }
    n
}

/// Pixels are compared exactly, but up to 0.1% of them may differ: near the set's boundary an
/// orbit is chaotic, so a device that still fuses multiply-adds, flushes subnormals or rounds
/// one operation differently changes the escape count of a few pixels there while the image
/// stays right. A wrong kernel changes far more.
pub(crate) fn check(size: u32, got: &[u32]) -> Result<CheckReport, ExampleError> {
    let expected = reference(size);
    let allowed = expected.len() as u64 / 1000;
    Tally::u32s(Example::Mandelbrot, &expected, got).finish(
        allowed,
        "exact; up to 0.1% of pixels may differ".to_string(),
        |i| row_column(i, size as usize),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_counts_match_hand_iteration() {
        // c = 1: z = 0, 1, 2, 5; |5|^2 > 4 after 3 steps. (|2|^2 = 4 is not beyond 2.)
        assert_eq!(escape_count(1.0, 0.0, 100), 3);
        // c = 2: z = 0, 2, 6.
        assert_eq!(escape_count(2.0, 0.0, 100), 2);
        // c = 0 and c = -2 never escape.
        assert_eq!(escape_count(0.0, 0.0, 100), 100);
        assert_eq!(escape_count(-2.0, 0.0, 100), 100);
        // c = i: z = 0, i, -1+i, -i, -1+i, ... bounded.
        assert_eq!(escape_count(0.0, 1.0, 100), 100);
    }

    #[test]
    fn pixel_0_0_is_the_corner_of_least_real_and_imaginary_parts() {
        let image = reference(4);
        // Pixel (0, 0) is c = -2 - 1.5i, outside: escapes at once.
        assert_eq!(image[0], 1);
        // Pixel (2, 2) is c = -0.5 + 0i, inside the main cardioid.
        assert_eq!(image[2 * 4 + 2], MANDELBROT_MAX_ITERATIONS);
    }
}
