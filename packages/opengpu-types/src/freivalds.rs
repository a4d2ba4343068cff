//! Freivalds' check that a revealed matrix product `C` is `A·B`, with a float tolerance.
//!
//! Computing `A·B` costs `m·k·n` multiply-adds; checking a claimed `C` costs `ROUNDS` times
//! `m·k + k·n + m·n`, little enough to run inside a contract when a task is settled. The same
//! function runs in the provider daemon, so a provider can check its own result before it
//! commits (one rule, two callers, like [`Kernel::validate`]).
//!
//! # Data
//!
//! `A` is `m×k`, `B` is `k×n`, `C` is `m×n`, all row-major, little-endian IEEE-754 `f32`.
//! `A` and `B` are input buffers of the task's kernel, `C` one of its output buffers; a
//! [`FreivaldsSpec`] names them by kernel argument index.
//!
//! # Algorithm
//!
//! For each round `t` in `0..ROUNDS`, a sign vector `r ∈ {−1,+1}^n` is drawn from the seed
//! (see [`seed`]): sign `j` is bit `j mod 256` of
//! `sha256(seed ‖ u32_be(t) ‖ u32_be(j / 256))`, bits taken least significant first within
//! each byte, bytes in order; a 1 bit means `−1`. Then, in `f64` (every `f32` converts
//! exactly):
//!
//! ```text
//! x = B·r   (length k)      y = A·x   (length m)      z = C·r   (length m)
//! residual_i = |y_i − z_i|
//! ```
//!
//! The round accepts iff `residual_i ≤ τ_i` for every row `i`, with the bound, computed once
//! (it does not depend on `r`, since `|r_j| = 1`):
//!
//! ```text
//! s_i = (|A|·(|B|·1))_i = Σ_j (|A||B|)_ij        (row sums of |A||B|)
//! τ_i = tolerance · s_i + 4·k·n·2^-126
//! ```
//!
//! `C` passes iff all `ROUNDS` rounds accept. Wrong byte lengths and any NaN or infinity in
//! `A`, `B` or `C` are rejected before the rounds.
//!
//! # Why an honest result passes
//!
//! Let `D = A·B − C` (exact arithmetic). In the standard rounding-error model of `f32`
//! (unit roundoff `u = 2^-24`), an entry computed as a dot product of length `k`, in any
//! summation order, with or without fused multiply-add, satisfies
//! `|D_ij| ≤ γ_k (|A||B|)_ij` with `γ_k = k·u / (1 − k·u)`: each of the `k` terms passes
//! through at most `k` roundings. Then for every `r`,
//! `residual_i = |Σ_j D_ij r_j| ≤ Σ_j |D_ij| ≤ γ_k s_i`, so an honest `C` passes whenever
//! `tolerance ≥ γ_k`: about `k · 6·10^-8`, e.g. `1.9·10^-5` at `k = 320`. A tolerance of
//! `2·k·2^-24` leaves a factor 2 of margin; `10^-4` is a safe default up to `k ≈ 800`.
//!
//! The absolute term `4·k·n·2^-126` (about `4.7·10^-38·k·n`) covers underflow: OpenCL makes
//! single-precision subnormals optional, so a device may flush to zero any product or
//! partial sum below `2^-126`. That adds at most `2k` absolute errors of `2^-126` to an
//! entry (at most doubled by the later roundings), `4·k·2^-126` per entry and `4·k·n·2^-126`
//! per row. Subnormal *inputs* would break the relative bound (a flushed input loses its
//! whole term), and inputs whose products could overflow `f32` would make an honest device
//! return infinities; [`FreivaldsSpec::validate_for`] rejects both when the task is
//! published.
//!
//! The check's own `f64` rounding is at most about `(n + k)·2^-53·s_i` for `y` and
//! `n·2^-53·(|C|·1)_i` for `z`: around `10^-7` of `τ_i` at a tolerance of `10^-4` and
//! `n + k ≤ 10^5`, absorbed by the margin above.
//!
//! The model assumes correctly rounded `+` and `×`, which OpenCL's full profile requires for
//! `float`. Kernels built with `-cl-fast-relaxed-math` or `-cl-mad-enable`, or that compute
//! in half precision, are outside it: a provider should run [`check`] on its own result
//! before committing, and decline a task whose result does not pass.
//!
//! # Why a wrong result fails
//!
//! Suppose some row `i` has an entry with `|D_ij| > 2τ_i`. Fix every sign except `r_j`. The
//! two choices of `r_j` give sums `Σ_l D_il r_l` that differ by `2|D_ij| > 2τ_i`, so at most
//! one of them lies in `[−τ_i, τ_i]`: a round accepts with probability at most 1/2. The
//! rounds use independent signs, so all `ROUNDS = 40` accept with probability at most
//! `2^-40`. (The check's `f64` rounding moves this threshold by at most about
//! `(n + k)·2^-53·s_i + n²·2^-53·max_j |D_ij|`, negligible for any size that fits a task.)
//!
//! Errors spread over a row are caught too, with a weaker guarantee: if
//! `Σ_j D_ij² ≥ 4τ_i²`, the sum `S = Σ_j D_ij r_j` has `E[S²] = Σ_j D_ij²` and
//! `E[S⁴] ≤ 3·E[S²]²`, so by Paley–Zygmund a round rejects with probability at least
//! `(3/4)²/3 = 3/16`, and 40 rounds accept with probability at most `(13/16)^40 < 2.5·10^-4`.
//!
//! **Not detected:** a `C` whose errors are at most `2τ_i` in every entry of row `i` (and
//! whose squared errors sum to less than `4τ_i²`). At this tolerance such a `C` cannot be told
//! apart from rounding. Note that `τ_i` is a bound for the whole row: for entries uniform in
//! `[−1, 1]` and `k = n = 320`, `s_i ≈ 25600`, so at tolerance `10^-4` a single entry must be
//! off by more than about 5 to be caught with certainty `1 − 2^-40` (entries of `C` are about
//! 6 in size), while an error of about 0.3 in every entry of a row is caught with probability
//! `1 − 2.5·10^-4`. Skipping even one of the `k` terms of every entry leaves
//! `sqrt(Σ_j D_ij²) ≈ 6` in every row, above that threshold in each of the 320 rows; skipping
//! more, or returning another matrix, is far above both thresholds.
//!
//! # Grinding
//!
//! The signs depend on the task, the provider's commitment and the revealed outputs, all
//! fixed before the provider can know the signs: they are derived from its own commitment.
//! The commitment includes a salt, so a cheater could re-salt and retry offline until a
//! wrong `C` passes. Each attempt costs at least one round of the check, and succeeds with
//! probability at most `2^-40` (for a single entry above `2τ_i`): the expected cost,
//! `2^40` rounds of `m·k + k·n + m·n` operations, is far above computing `A·B` honestly.
//!
//! # Cost
//!
//! `O(ROUNDS·(m·k + k·n + m·n))` time, no loop longer than the matrices, and `O(m + n + k)`
//! extra memory: the matrices are read in place from their bytes.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::Decimal;
use sha2::{Digest, Sha256};

use crate::kernel::{Kernel, KernelArg};

/// Rounds per check; see the module doc for why 40 gives < 2^-40.
pub const ROUNDS: u32 = 40;

/// Domain separation of the seed.
const SEED_DOMAIN: &[u8] = b"opengpu/freivalds/v1";

/// Signs drawn from one hash.
const SIGNS_PER_BLOCK: usize = 256;

/// Policy parameters: A is m×k, B is k×n, C is m×n, all row-major little-endian f32.
#[cw_serde]
#[derive(Copy, Eq)]
pub struct FreivaldsSpec {
    /// Kernel argument index (in Kernel::args) of the input buffer A.
    pub a_arg: u32,
    /// Kernel argument index of the input buffer B.
    pub b_arg: u32,
    /// Kernel argument index of the output buffer C.
    pub c_arg: u32,
    pub m: u32,
    pub k: u32,
    pub n: u32,
    /// Relative tolerance (see module doc), 0 < tolerance <= 1.
    pub tolerance: Decimal,
}

impl FreivaldsSpec {
    /// Parameter checks alone: dims >= 1, 4*m*k etc. fit in u64, 0 < tolerance <= 1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, dim) in [("m", self.m), ("k", self.k), ("n", self.n)] {
            if dim == 0 {
                return Err(format!("matrix dimension {name} is zero"));
            }
        }
        for (name, rows, cols) in self.shapes() {
            if byte_len(rows, cols).is_none() {
                return Err(format!(
                    "matrix {name} ({rows}×{cols} f32) has more bytes than fit in a u64"
                ));
            }
        }
        if self.tolerance.is_zero() {
            return Err("Freivalds tolerance is zero; it must be above 0 and at most 1".into());
        }
        if self.tolerance > Decimal::one() {
            return Err(format!(
                "Freivalds tolerance {} is above 1; it must be above 0 and at most 1",
                self.tolerance
            ));
        }
        Ok(())
    }

    /// Checks against the kernel: a_arg and b_arg are KernelArg::Input with exactly 4*m*k and 4*k*n bytes,
    /// c_arg is KernelArg::Output { size: 4*m*n }, a_arg != b_arg, and every input value is a finite f32.
    /// Returns the index of C among the kernel's output buffers (counting only Output args, in order).
    ///
    /// Two more rules protect honest providers (see the module doc): no input value is
    /// subnormal, and no row sum of |A||B| exceeds half the largest f32, so that an honest
    /// f32 product can neither lose a flushed input nor overflow.
    pub fn validate_for(&self, kernel: &Kernel) -> Result<usize, String> {
        self.validate()?;
        if self.a_arg == self.b_arg {
            return Err(format!(
                "A and B are both kernel argument {}; they must be two input buffers",
                self.a_arg
            ));
        }
        let a = input_arg(kernel, 'A', self.a_arg, self.m, self.k)?;
        let b = input_arg(kernel, 'B', self.b_arg, self.k, self.n)?;
        let c_index = output_index(kernel, self.c_arg, self.m, self.n)?;
        for (name, arg, data, cols) in [('A', self.a_arg, a, self.k), ('B', self.b_arg, b, self.n)]
        {
            if let Some((index, value)) = f32_values(data)
                .enumerate()
                .find(|(_, v)| !v.is_finite() || v.is_subnormal())
            {
                let kind = if value.is_finite() {
                    "a subnormal number (devices may flush it to zero; use 0 or a normal value)"
                } else {
                    "not a finite number"
                };
                let (row, col) = position(index, cols);
                return Err(format!(
                    "input {name} (argument {arg}) at row {row}, column {col} is {value}, {kind}"
                ));
            }
        }
        let limit = f64::from(f32::MAX) / 2.0;
        let weights = abs_row_sums(b, self.k);
        for (row, a_row) in a.chunks_exact(a.len() / self.m as usize).enumerate() {
            let sum = abs_dot(a_row, &weights);
            if sum > limit {
                return Err(format!(
                    "row {row} of |A|·|B| sums to {sum:e}, beyond half the f32 range: \
                     an honest f32 product could overflow"
                ));
            }
        }
        Ok(c_index)
    }

    /// The index of C among the kernel's output buffers, checking only C's argument: for a
    /// kernel already accepted by [`Self::validate_for`] at publish, without scanning the
    /// inputs again.
    pub fn c_output_index(&self, kernel: &Kernel) -> Result<usize, String> {
        output_index(kernel, self.c_arg, self.m, self.n)
    }

    /// The input bytes of A and B in `kernel` (None when the args are not inputs).
    pub fn inputs<'k>(&self, kernel: &'k Kernel) -> Option<(&'k [u8], &'k [u8])> {
        let input = |index: u32| match kernel.args.get(index as usize) {
            Some(KernelArg::Input { data }) => Some(data.as_slice()),
            _ => None,
        };
        Some((input(self.a_arg)?, input(self.b_arg)?))
    }

    fn shapes(&self) -> [(char, u32, u32); 3] {
        [
            ('A', self.m, self.k),
            ('B', self.k, self.n),
            ('C', self.m, self.n),
        ]
    }
}

/// Seed of the random vectors: sha256("opengpu/freivalds/v1" ‖ u64_be(task_id) ‖ commitment ‖ outputs_digest).
/// The provider fixed all of it before it could know the vectors (they depend on its own commitment).
pub fn seed(task_id: u64, commitment: &[u8], outputs_digest: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(SEED_DOMAIN);
    hasher.update(task_id.to_be_bytes());
    hasher.update(commitment);
    hasher.update(outputs_digest);
    hasher.finalize().into()
}

/// Why a revealed C is not accepted as A·B.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FreivaldsFailure {
    #[error("invalid Freivalds parameters: {reason}")]
    InvalidSpec { reason: String },
    #[error("matrix {matrix} has {got} bytes; a {rows}×{cols} f32 matrix has {expected}")]
    BadSize {
        matrix: char,
        rows: u32,
        cols: u32,
        expected: u64,
        got: u64,
    },
    #[error("matrix {matrix} holds a NaN or an infinity at row {row}, column {col}")]
    NonFinite { matrix: char, row: u64, col: u64 },
    #[error(
        "C is not A·B within tolerance: in round {round}, row {row} of A·B·r − C·r is \
         {residual:e} in absolute value, above the bound {bound:e}"
    )]
    Mismatch {
        round: u32,
        row: u32,
        residual: f64,
        bound: f64,
    },
}

/// Runs ROUNDS rounds. Err when C is not A·B within tolerance.
pub fn check(
    spec: &FreivaldsSpec,
    a: &[u8],
    b: &[u8],
    c: &[u8],
    seed: &[u8; 32],
) -> Result<(), FreivaldsFailure> {
    spec.validate()
        .map_err(|reason| FreivaldsFailure::InvalidSpec { reason })?;
    for ((matrix, rows, cols), data) in spec.shapes().into_iter().zip([a, b, c]) {
        // `validate` has checked that the length fits in a u64.
        let expected = byte_len(rows, cols).unwrap_or(u64::MAX);
        if data.len() as u64 != expected {
            return Err(FreivaldsFailure::BadSize {
                matrix,
                rows,
                cols,
                expected,
                got: data.len() as u64,
            });
        }
        if let Some(index) = f32s(data).position(|v| !v.is_finite()) {
            let (row, col) = position(index, cols);
            return Err(FreivaldsFailure::NonFinite { matrix, row, col });
        }
    }
    let (m, k, n) = (spec.m as usize, spec.k as usize, spec.n as usize);
    // Bytes per row; the lengths are exact multiples, and nonzero since every dim is >= 1.
    let (a_row, b_row, c_row) = (a.len() / m, b.len() / k, c.len() / m);

    let bounds = row_bounds(spec, a, b);
    let mut signs = vec![0f64; n];
    let mut x = vec![0f64; k];
    for round in 0..ROUNDS {
        fill_signs(seed, round, &mut signs);
        for (x_l, b_l) in x.iter_mut().zip(b.chunks_exact(b_row)) {
            *x_l = dot(b_l, &signs);
        }
        let rows = a.chunks_exact(a_row).zip(c.chunks_exact(c_row));
        for (row, ((a_i, c_i), bound)) in rows.zip(&bounds).enumerate() {
            let residual = (dot(a_i, &x) - dot(c_i, &signs)).abs();
            if residual > *bound || residual.is_nan() {
                return Err(FreivaldsFailure::Mismatch {
                    round,
                    row: row as u32,
                    residual,
                    bound: *bound,
                });
            }
        }
    }
    Ok(())
}

/// `τ_i = tolerance · (|A|·(|B|·1))_i + 4·k·n·2^-126` for every row of A; the inputs have
/// the sizes of `spec`, which is valid.
fn row_bounds(spec: &FreivaldsSpec, a: &[u8], b: &[u8]) -> Vec<f64> {
    let tolerance = to_f64(spec.tolerance);
    let (k, n) = (f64::from(spec.k), f64::from(spec.n));
    let underflow = 4.0 * k * n * f64::from(f32::MIN_POSITIVE);
    let weights = abs_row_sums(b, spec.k);
    a.chunks_exact(a.len() / spec.m as usize)
        .map(|a_i| tolerance * abs_dot(a_i, &weights) + underflow)
        .collect()
}

/// Writes round `round`'s signs into `signs`, one hash per 256 of them.
fn fill_signs(seed: &[u8; 32], round: u32, signs: &mut [f64]) {
    for (block, chunk) in signs.chunks_mut(SIGNS_PER_BLOCK).enumerate() {
        let mut hasher = Sha256::new();
        hasher.update(seed);
        hasher.update(round.to_be_bytes());
        hasher.update((block as u32).to_be_bytes());
        let bits: [u8; 32] = hasher.finalize().into();
        for (t, sign) in chunk.iter_mut().enumerate() {
            *sign = if (bits[t / 8] >> (t % 8)) & 1 == 1 {
                -1.0
            } else {
                1.0
            };
        }
    }
}

/// The f32 values of little-endian bytes, widened exactly to f64 (a trailing partial value is
/// ignored; callers check lengths first).
fn f32s(bytes: &[u8]) -> impl Iterator<Item = f64> + '_ {
    f32_values(bytes).map(f64::from)
}

/// The f32 values of little-endian bytes (a trailing partial value is ignored).
fn f32_values(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

/// Row `· v` for a row of f32 bytes.
fn dot(row: &[u8], v: &[f64]) -> f64 {
    f32s(row).zip(v).map(|(a, b)| a * b).sum()
}

/// `|row| · v` for a row of f32 bytes and nonnegative `v`.
fn abs_dot(row: &[u8], v: &[f64]) -> f64 {
    f32s(row).zip(v).map(|(a, b)| a.abs() * b).sum()
}

/// `|M|·1` for a row-major matrix of f32 bytes with `rows` rows (at least 1).
fn abs_row_sums(matrix: &[u8], rows: u32) -> Vec<f64> {
    matrix
        .chunks_exact(matrix.len() / rows as usize)
        .map(|row| f32s(row).map(f64::abs).sum())
        .collect()
}

fn byte_len(rows: u32, cols: u32) -> Option<u64> {
    u64::from(rows).checked_mul(u64::from(cols))?.checked_mul(4)
}

fn position(index: usize, cols: u32) -> (u64, u64) {
    let cols = u64::from(cols.max(1));
    (index as u64 / cols, index as u64 % cols)
}

/// A `Decimal` in `[0, 1]` as the nearest f64.
fn to_f64(value: Decimal) -> f64 {
    value.atomics().u128() as f64 / Decimal::one().atomics().u128() as f64
}

fn input_arg(
    kernel: &Kernel,
    name: char,
    index: u32,
    rows: u32,
    cols: u32,
) -> Result<&[u8], String> {
    let data = match kernel.args.get(index as usize) {
        Some(KernelArg::Input { data }) => data.as_slice(),
        Some(KernelArg::RemoteInput { .. }) => {
            return Err(format!(
                "matrix {name} is kernel argument {index}, an off-chain input; Freivalds' check \
                 reads its matrices on-chain, so A and B must be published as input buffers"
            ))
        }
        Some(_) => {
            return Err(format!(
                "matrix {name} is kernel argument {index}, which is not an input buffer"
            ))
        }
        None => {
            return Err(format!(
                "matrix {name} is kernel argument {index}, but the kernel has {} arguments",
                kernel.args.len()
            ))
        }
    };
    let expected = byte_len(rows, cols).unwrap_or(u64::MAX);
    if data.len() as u64 != expected {
        return Err(format!(
            "input {name} (argument {index}) has {} bytes; a {rows}×{cols} f32 matrix has {expected}",
            data.len()
        ));
    }
    Ok(data)
}

fn output_index(kernel: &Kernel, index: u32, rows: u32, cols: u32) -> Result<usize, String> {
    let size = match kernel.args.get(index as usize) {
        Some(KernelArg::Output { size }) => *size,
        Some(_) => {
            return Err(format!(
                "matrix C is kernel argument {index}, which is not an output buffer"
            ))
        }
        None => {
            return Err(format!(
                "matrix C is kernel argument {index}, but the kernel has {} arguments",
                kernel.args.len()
            ))
        }
    };
    let expected = byte_len(rows, cols).unwrap_or(u64::MAX);
    if size != expected {
        return Err(format!(
            "output C (argument {index}) has {size} bytes; a {rows}×{cols} f32 matrix has {expected}"
        ));
    }
    Ok(kernel.args[..index as usize]
        .iter()
        .filter(|arg| matches!(arg, KernelArg::Output { .. }))
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Binary;
    use proptest::prelude::*;

    /// xorshift64*: small, deterministic, good enough for test data.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }

        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// Uniform in [−1, 1].
        fn unit(&mut self) -> f32 {
            ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        }
    }

    fn random_matrix(rng: &mut Rng, len: usize) -> Vec<f32> {
        (0..len).map(|_| rng.unit()).collect()
    }

    /// C = A·B in f32, inner sum in increasing order.
    fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0f32;
                for l in 0..k {
                    acc += a[i * k + l] * b[l * n + j];
                }
                c[i * n + j] = acc;
            }
        }
        c
    }

    fn bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn spec(m: u32, k: u32, n: u32) -> FreivaldsSpec {
        FreivaldsSpec {
            a_arg: 0,
            b_arg: 2,
            c_arg: 4,
            m,
            k,
            n,
            tolerance: Decimal::from_ratio(1u128, 10_000u128),
        }
    }

    fn test_seed(i: u64) -> [u8; 32] {
        seed(i, &[i as u8; 32], &[0xAB; 32])
    }

    struct Case {
        spec: FreivaldsSpec,
        a: Vec<f32>,
        b: Vec<f32>,
        c: Vec<f32>,
    }

    impl Case {
        fn new(m: u32, k: u32, n: u32, data_seed: u64) -> Self {
            let mut rng = Rng::new(data_seed);
            let (mu, ku, nu) = (m as usize, k as usize, n as usize);
            let a = random_matrix(&mut rng, mu * ku);
            let b = random_matrix(&mut rng, ku * nu);
            let c = matmul(&a, &b, mu, ku, nu);
            Case {
                spec: spec(m, k, n),
                a,
                b,
                c,
            }
        }

        fn check(&self, seed: &[u8; 32]) -> Result<(), FreivaldsFailure> {
            check(
                &self.spec,
                &bytes(&self.a),
                &bytes(&self.b),
                &bytes(&self.c),
                seed,
            )
        }

        fn bounds(&self) -> Vec<f64> {
            row_bounds(&self.spec, &bytes(&self.a), &bytes(&self.b))
        }

        /// Moves C[i][j] by `factor` times the bound of row i.
        fn corrupt(&mut self, i: usize, j: usize, factor: f64) {
            let bound = self.bounds()[i];
            let index = i * self.spec.n as usize + j;
            self.c[index] = (f64::from(self.c[index]) + factor * bound) as f32;
        }
    }

    /// Kernel args: [A, U32, B, Output (another result), C].
    fn kernel(a: Vec<u8>, b: Vec<u8>, c_size: u64) -> Kernel {
        Kernel {
            source: "__kernel void sgemm() {}".into(),
            entry_point: "sgemm".into(),
            global_work_size: vec![1],
            local_work_size: None,
            args: vec![
                KernelArg::Input { data: a.into() },
                KernelArg::U32 { value: 7 },
                KernelArg::Input { data: b.into() },
                KernelArg::Output { size: 4 },
                KernelArg::Output { size: c_size },
            ],
        }
    }

    fn case_kernel(case: &Case) -> Kernel {
        kernel(
            bytes(&case.a),
            bytes(&case.b),
            4 * u64::from(case.spec.m) * u64::from(case.spec.n),
        )
    }

    #[test]
    fn honest_products_pass() {
        for (m, k, n) in [(8, 16, 4), (64, 64, 64), (1, 1, 1), (3, 300, 5)] {
            let case = Case::new(m, k, n, u64::from(m * 1000 + k + n));
            for s in 0..5 {
                assert_eq!(case.check(&test_seed(s)), Ok(()), "{m}×{k}×{n}, seed {s}");
            }
        }
    }

    #[test]
    fn honest_products_in_another_summation_order_pass() {
        // Reverse order with fused multiply-add, as a GPU might compute it.
        let mut case = Case::new(16, 128, 16, 9);
        let (m, k, n) = (16, 128, 16);
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0f32;
                for l in (0..k).rev() {
                    acc = case.a[i * k + l].mul_add(case.b[l * n + j], acc);
                }
                case.c[i * n + j] = acc;
            }
        }
        assert_eq!(case.check(&test_seed(1)), Ok(()));
    }

    #[test]
    fn an_entry_off_by_more_than_twice_the_bound_fails_with_every_seed() {
        for (m, k, n) in [(8, 16, 4), (64, 64, 64)] {
            for (i, j) in [(0, 0), (m as usize - 1, n as usize - 1), (3, 2)] {
                for factor in [2.5, -2.5] {
                    let mut case = Case::new(m, k, n, 5);
                    case.corrupt(i, j, factor);
                    for s in 0..8 {
                        let result = case.check(&test_seed(s));
                        assert!(
                            matches!(result, Err(FreivaldsFailure::Mismatch { row, .. }) if row as usize == i),
                            "{m}×{k}×{n}, entry ({i}, {j}), seed {s}: {result:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn an_error_within_the_bound_passes_with_every_seed() {
        let mut case = Case::new(8, 16, 4, 6);
        case.corrupt(2, 1, 0.9);
        for s in 0..8 {
            assert_eq!(case.check(&test_seed(s)), Ok(()));
        }
    }

    #[test]
    fn columns_beyond_the_first_hash_block_are_checked() {
        let mut case = Case::new(2, 3, 600, 7);
        assert_eq!(case.check(&test_seed(0)), Ok(()));
        case.corrupt(1, 599, 2.5);
        assert!(matches!(
            case.check(&test_seed(0)),
            Err(FreivaldsFailure::Mismatch { row: 1, .. })
        ));
    }

    #[test]
    fn skipping_one_term_of_the_inner_sum_fails() {
        let mut case = Case::new(64, 64, 64, 8);
        let (k, n) = (64, 64);
        for i in 0..64 {
            for j in 0..n {
                case.c[i * n + j] -= case.a[i * k + k - 1] * case.b[(k - 1) * n + j];
            }
        }
        assert!(matches!(
            case.check(&test_seed(3)),
            Err(FreivaldsFailure::Mismatch { .. })
        ));
    }

    #[test]
    fn non_finite_values_fail_before_the_rounds() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut case = Case::new(8, 16, 4, 1);
            case.c[4 * 2 + 3] = bad;
            assert_eq!(
                case.check(&test_seed(0)),
                Err(FreivaldsFailure::NonFinite {
                    matrix: 'C',
                    row: 2,
                    col: 3
                })
            );
            let mut case = Case::new(8, 16, 4, 1);
            case.b[5] = bad;
            assert_eq!(
                case.check(&test_seed(0)),
                Err(FreivaldsFailure::NonFinite {
                    matrix: 'B',
                    row: 1,
                    col: 1
                })
            );
        }
    }

    #[test]
    fn wrong_lengths_fail() {
        let case = Case::new(8, 16, 4, 2);
        let (a, b, c) = (bytes(&case.a), bytes(&case.b), bytes(&case.c));
        let seed = test_seed(0);
        let short = |v: &[u8]| v[..v.len() - 1].to_vec();
        let long = |v: &[u8]| [v, &[0u8; 4][..]].concat();
        assert_eq!(
            check(&case.spec, &short(&a), &b, &c, &seed),
            Err(FreivaldsFailure::BadSize {
                matrix: 'A',
                rows: 8,
                cols: 16,
                expected: 512,
                got: 511
            })
        );
        assert!(matches!(
            check(&case.spec, &a, &long(&b), &c, &seed),
            Err(FreivaldsFailure::BadSize {
                matrix: 'B',
                got: 260,
                ..
            })
        ));
        assert!(matches!(
            check(&case.spec, &a, &b, &[], &seed),
            Err(FreivaldsFailure::BadSize {
                matrix: 'C',
                got: 0,
                ..
            })
        ));
        // A and B swapped.
        assert!(matches!(
            check(&case.spec, &b, &a, &c, &seed),
            Err(FreivaldsFailure::BadSize {
                matrix: 'A',
                got: 256,
                ..
            })
        ));
    }

    #[test]
    fn check_rejects_an_invalid_spec() {
        let mut case = Case::new(2, 2, 2, 3);
        case.spec.tolerance = Decimal::zero();
        assert!(matches!(
            case.check(&test_seed(0)),
            Err(FreivaldsFailure::InvalidSpec { .. })
        ));
    }

    #[test]
    fn failures_read_well() {
        let mismatch = FreivaldsFailure::Mismatch {
            round: 3,
            row: 7,
            residual: 12.5,
            bound: 0.25,
        };
        assert_eq!(
            mismatch.to_string(),
            "C is not A·B within tolerance: in round 3, row 7 of A·B·r − C·r is 1.25e1 in \
             absolute value, above the bound 2.5e-1"
        );
        let size = FreivaldsFailure::BadSize {
            matrix: 'C',
            rows: 2,
            cols: 3,
            expected: 24,
            got: 20,
        };
        assert_eq!(
            size.to_string(),
            "matrix C has 20 bytes; a 2×3 f32 matrix has 24"
        );
    }

    #[test]
    fn validate_rejects_bad_parameters() {
        assert_eq!(spec(8, 16, 4).validate(), Ok(()));
        let mut one = spec(1, 1, 1);
        one.tolerance = Decimal::one();
        assert_eq!(one.validate(), Ok(()));
        assert_eq!(spec(u32::MAX, 1, 1).validate(), Ok(()));

        type Breaks = fn(&mut FreivaldsSpec);
        let cases: Vec<(Breaks, &str)> = vec![
            (|s| s.m = 0, "dimension m is zero"),
            (|s| s.k = 0, "dimension k is zero"),
            (|s| s.n = 0, "dimension n is zero"),
            (|s| s.tolerance = Decimal::zero(), "tolerance is zero"),
            (
                |s| s.tolerance = Decimal::from_ratio(1_000_001u128, 1_000_000u128),
                "above 1",
            ),
        ];
        for (breaks, message) in cases {
            let mut s = spec(8, 16, 4);
            breaks(&mut s);
            let err = s.validate().unwrap_err();
            assert!(err.contains(message), "{err:?} should contain {message:?}");
        }
        // 4·m·k overflows a u64 only when both are near 2^32; u32 dims can reach it.
        let err = spec(u32::MAX, u32::MAX, 1).validate().unwrap_err();
        assert!(err.contains("matrix A") && err.contains("u64"), "{err}");
    }

    #[test]
    fn validate_for_accepts_a_matmul_kernel_and_finds_c() {
        let case = Case::new(8, 16, 4, 4);
        let kernel = case_kernel(&case);
        assert_eq!(case.spec.validate_for(&kernel), Ok(1));
        let a = bytes(&case.a);
        let b = bytes(&case.b);
        assert_eq!(
            case.spec.inputs(&kernel),
            Some((a.as_slice(), b.as_slice()))
        );
    }

    #[test]
    fn validate_for_rejects_bad_args() {
        let case = Case::new(8, 16, 4, 4);
        let good = case_kernel(&case);
        type Breaks = fn(&mut FreivaldsSpec, &mut Kernel);
        let cases: Vec<(Breaks, &str)> = vec![
            (|s, _| s.tolerance = Decimal::zero(), "tolerance is zero"),
            (|s, _| s.b_arg = s.a_arg, "both kernel argument 0"),
            (|s, _| s.a_arg = 1, "not an input buffer"),
            (|s, _| s.b_arg = 9, "the kernel has 5 arguments"),
            (|s, _| s.c_arg = 2, "not an output buffer"),
            (|s, _| s.c_arg = 5, "the kernel has 5 arguments"),
            (|s, _| s.c_arg = 3, "output C (argument 3) has 4 bytes"),
            (|s, _| s.k = 8, "input A (argument 0) has 512 bytes"),
            (|s, _| s.n = 2, "input B (argument 2) has 256 bytes"),
            (
                |_, k| k.args[0] = KernelArg::Output { size: 512 },
                "not an input buffer",
            ),
            (
                |_, k| set_input_value(k, 0, 17, f32::NAN),
                "input A (argument 0) at row 1, column 1 is NaN, not a finite number",
            ),
            (
                |_, k| set_input_value(k, 2, 3, f32::INFINITY),
                "input B (argument 2) at row 0, column 3 is inf",
            ),
            (
                |_, k| set_input_value(k, 2, 0, f32::MIN_POSITIVE / 2.0),
                "subnormal",
            ),
            (
                |_, k| {
                    set_input_value(k, 0, 0, 1e30);
                    set_input_value(k, 2, 0, 1e30);
                },
                "could overflow",
            ),
        ];
        for (breaks, message) in cases {
            let (mut s, mut k) = (case.spec, good.clone());
            breaks(&mut s, &mut k);
            let err = s.validate_for(&k).unwrap_err();
            assert!(err.contains(message), "{err:?} should contain {message:?}");
        }
        // Zero inputs are fine, negative zero too.
        let mut zeros = good.clone();
        set_input_value(&mut zeros, 0, 0, 0.0);
        set_input_value(&mut zeros, 0, 1, -0.0);
        assert_eq!(case.spec.validate_for(&zeros), Ok(1));
    }

    fn set_input_value(kernel: &mut Kernel, arg: usize, index: usize, value: f32) {
        if let KernelArg::Input { data } = &mut kernel.args[arg] {
            let mut bytes = data.to_vec();
            bytes[4 * index..4 * index + 4].copy_from_slice(&value.to_le_bytes());
            *data = Binary::from(bytes);
        }
    }

    #[test]
    fn inputs_are_none_unless_both_args_are_inputs() {
        let case = Case::new(2, 2, 2, 4);
        let kernel = case_kernel(&case);
        for (a_arg, b_arg) in [(1, 2), (0, 4), (0, 9)] {
            let s = FreivaldsSpec {
                a_arg,
                b_arg,
                ..case.spec
            };
            assert_eq!(s.inputs(&kernel), None);
        }
    }

    #[test]
    fn seed_follows_the_documented_layout_and_binds_every_field() {
        let commitment = [3u8; 32];
        let digest = [4u8; 32];
        let base = seed(42, &commitment, &digest);
        assert_eq!(base, seed(42, &commitment, &digest));
        let mut preimage = b"opengpu/freivalds/v1".to_vec();
        preimage.extend_from_slice(&42u64.to_be_bytes());
        preimage.extend_from_slice(&commitment);
        preimage.extend_from_slice(&digest);
        assert_eq!(base, <[u8; 32]>::from(Sha256::digest(&preimage)));

        assert_ne!(base, seed(43, &commitment, &digest));
        assert_ne!(base, seed(42, &[5u8; 32], &digest));
        assert_ne!(base, seed(42, &commitment, &[6u8; 32]));
    }

    #[test]
    fn signs_follow_the_documented_bits() {
        let seed = [9u8; 32];
        let mut signs = vec![0f64; 300];
        fill_signs(&seed, 7, &mut signs);
        for (block, chunk) in signs.chunks(256).enumerate() {
            let mut preimage = seed.to_vec();
            preimage.extend_from_slice(&7u32.to_be_bytes());
            preimage.extend_from_slice(&(block as u32).to_be_bytes());
            let hash = Sha256::digest(&preimage);
            for (t, sign) in chunk.iter().enumerate() {
                let bit = (hash[t / 8] >> (t % 8)) & 1;
                assert_eq!(*sign, if bit == 1 { -1.0 } else { 1.0 });
            }
        }
        let mut other_round = vec![0f64; 300];
        fill_signs(&seed, 8, &mut other_round);
        assert_ne!(signs, other_round);
    }

    proptest! {
        #[test]
        fn honest_products_pass_and_corrupted_ones_fail(
            m in 1u32..=12,
            k in 1u32..=24,
            n in 1u32..=12,
            data_seed in any::<u64>(),
            seed_bytes in any::<[u8; 32]>(),
            i in any::<prop::sample::Index>(),
            j in any::<prop::sample::Index>(),
            factor in prop_oneof![2.1f64..10.0, -10.0f64..-2.1],
        ) {
            let mut case = Case::new(m, k, n, data_seed);
            prop_assert_eq!(case.check(&seed_bytes), Ok(()));
            let (i, j) = (i.index(m as usize), j.index(n as usize));
            case.corrupt(i, j, factor);
            let failed_row = matches!(
                case.check(&seed_bytes),
                Err(FreivaldsFailure::Mismatch { row, .. }) if row as usize == i
            );
            prop_assert!(failed_row);
        }
    }
}
