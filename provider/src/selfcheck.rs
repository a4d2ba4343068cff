//! The provider's own check of a result before it commits: the task's verification policy,
//! run with the same functions the chain runs (`opengpu_types::freivalds`, the outputs
//! digest). A result that fails is never committed, so the provider is never slashed for a
//! fault its own device made (a miscompiled kernel, relaxed float math, a bad memory cell);
//! the refusal is counted in `opengpu_provider_tasks_refused_total{reason}`.
//!
//! Freivalds' random vectors come from the commitment (see [`freivalds::seed`]), so the
//! check runs after the commitment is computed and before it is broadcast. A refused result
//! is never re-salted and checked again: that would be grinding for vectors that let it pass.

use cosmwasm_std::Binary;
use opengpu_types::freivalds;
use opengpu_types::kernel::Kernel;
use opengpu_types::market::TaskInfo;
use opengpu_types::verification::VerificationPolicy;

/// Why a result is not committed. `label()` is the metrics label.
#[derive(thiserror::Error, Clone, Debug, PartialEq)]
pub enum Refusal {
    /// Not the task's declared shape: the chain would slash it.
    #[error("outputs are malformed: {0}")]
    Malformed(String),
    /// The outputs digest differs from the client's reference hash: the chain would refuse it.
    #[error("outputs digest {got} differs from the task's reference hash {expected}")]
    ReferenceMismatch { expected: String, got: String },
    /// C is not A·B within the task's tolerance: the chain would slash it.
    #[error("Freivalds check failed: {0}")]
    FreivaldsFailed(String),
}

impl Refusal {
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::ReferenceMismatch { .. } => "reference_mismatch",
            Refusal::FreivaldsFailed(_) => "freivalds_failed",
        }
    }
}

/// Checks `outputs` of `task` (whose kernel is `kernel`) as the market will at reveal.
/// `commitment` and `digest` are the ones about to be committed: the Freivalds seed depends
/// on them.
pub fn check(
    task: &TaskInfo,
    kernel: &Kernel,
    outputs: &[Binary],
    commitment: &[u8; 32],
    digest: &[u8; 32],
) -> Result<(), Refusal> {
    let sizes: Vec<u64> = outputs.iter().map(|o| o.len() as u64).collect();
    if sizes != task.output_sizes {
        return Err(Refusal::Malformed(format!(
            "buffer sizes {sizes:?}, the task declares {:?}",
            task.output_sizes
        )));
    }
    match &task.verification {
        VerificationPolicy::Unverified {} => Ok(()),
        VerificationPolicy::ReferenceHash { sha256 } => {
            if sha256.as_slice() == digest.as_slice() {
                Ok(())
            } else {
                Err(Refusal::ReferenceMismatch {
                    expected: sha256.to_hex(),
                    got: hex::encode(digest),
                })
            }
        }
        VerificationPolicy::Freivalds(spec) => {
            // The market checked the spec against the kernel at publish; a spec that no
            // longer applies cannot pass there either.
            let c_index = spec
                .c_output_index(kernel)
                .map_err(Refusal::FreivaldsFailed)?;
            let (a, b) = spec.inputs(kernel).ok_or_else(|| {
                Refusal::FreivaldsFailed("A or B is not an input buffer of the kernel".into())
            })?;
            let c = outputs.get(c_index).ok_or_else(|| {
                Refusal::FreivaldsFailed(format!("no output buffer {c_index} for C"))
            })?;
            let seed = freivalds::seed(task.id, commitment, digest);
            freivalds::check(spec, a, b, c, &seed)
                .map_err(|failure| Refusal::FreivaldsFailed(failure.to_string()))
        }
    }
}

/// Fault injection (fail point `provider::corrupt_output`): adds 1e6 to element 0 of output 0
/// read as a little-endian f32, so a matrix product is wrong by far more than any tolerance;
/// flips a bit instead when that leaves the bytes unchanged (NaN, infinity, huge values) or
/// the buffer is shorter than 4 bytes. Returns false when there is no byte to corrupt.
pub fn corrupt_first_element(outputs: &mut [Vec<u8>]) -> bool {
    let Some(first) = outputs.first_mut().filter(|o| !o.is_empty()) else {
        return false;
    };
    if let Some(bytes) = first.get_mut(..4) {
        let old: [u8; 4] = bytes.try_into().expect("four bytes");
        let new = (f32::from_le_bytes(old) + 1.0e6).to_le_bytes();
        if new != old {
            bytes.copy_from_slice(&new);
            return true;
        }
    }
    first[0] ^= 1;
    true
}

#[cfg(test)]
mod tests {
    use cosmwasm_std::{Decimal, HexBinary};
    use opengpu_types::commitment::{commitment, outputs_digest};
    use opengpu_types::freivalds::FreivaldsSpec;
    use opengpu_types::kernel::KernelArg;

    use super::*;

    const M: usize = 6;
    const K: usize = 5;
    const N: usize = 7;

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// A: M×K, B: K×N with small distinct values; kernel args [A, B, C, U32].
    fn matmul() -> (Kernel, Vec<u8>) {
        let a: Vec<f32> = (0..M * K).map(|i| (i % 11) as f32 * 0.25 - 1.0).collect();
        let b: Vec<f32> = (0..K * N).map(|i| (i % 7) as f32 * 0.5 - 1.5).collect();
        let mut c = vec![0f32; M * N];
        for i in 0..M {
            for j in 0..N {
                c[i * N + j] = (0..K).map(|l| a[i * K + l] * b[l * N + j]).sum();
            }
        }
        let kernel = Kernel {
            source: "__kernel void mm() {}".into(),
            entry_point: "mm".into(),
            global_work_size: vec![1],
            local_work_size: None,
            args: vec![
                KernelArg::Input {
                    data: f32_bytes(&a).into(),
                },
                KernelArg::Input {
                    data: f32_bytes(&b).into(),
                },
                KernelArg::Output {
                    size: (4 * M * N) as u64,
                },
                KernelArg::U32 { value: K as u32 },
            ],
        };
        (kernel, f32_bytes(&c))
    }

    /// The policy tests' task, with `verification` and the matmul's output size.
    fn task(verification: VerificationPolicy) -> TaskInfo {
        TaskInfo {
            id: 5,
            verification,
            output_sizes: vec![(4 * M * N) as u64],
            ..crate::policy::tests::task()
        }
    }

    fn spec() -> FreivaldsSpec {
        FreivaldsSpec {
            a_arg: 0,
            b_arg: 1,
            c_arg: 2,
            m: M as u32,
            k: K as u32,
            n: N as u32,
            tolerance: Decimal::bps(1),
        }
    }

    /// Checks `c` as the job does: commitment first (its salt varies), then the check.
    fn run(task: &TaskInfo, kernel: &Kernel, c: Vec<u8>, salt: u8) -> Result<(), Refusal> {
        let outputs = vec![Binary::from(c)];
        let digest = outputs_digest(&outputs);
        let commitment = commitment(task.id, "wasm1me", &digest, None, &[salt; 32]);
        check(task, kernel, &outputs, &commitment, &digest)
    }

    #[test]
    fn an_honest_matrix_product_passes_freivalds_with_any_salt() {
        let (kernel, c) = matmul();
        let task = task(VerificationPolicy::Freivalds(spec()));
        for salt in 0..8 {
            assert_eq!(run(&task, &kernel, c.clone(), salt), Ok(()));
        }
    }

    #[test]
    fn a_corrupted_matrix_product_is_refused() {
        let (kernel, c) = matmul();
        let task = task(VerificationPolicy::Freivalds(spec()));
        let mut outputs = vec![c];
        assert!(corrupt_first_element(&mut outputs));
        for salt in 0..8 {
            let refusal = run(&task, &kernel, outputs[0].clone(), salt).unwrap_err();
            assert_eq!(refusal.label(), "freivalds_failed", "{refusal}");
            assert!(refusal.to_string().contains("row 0"), "{refusal}");
        }
        // One wrong element far inside the matrix too.
        let (_, mut c) = matmul();
        let at = 4 * (3 * N + 4);
        let v = f32::from_le_bytes(c[at..at + 4].try_into().unwrap()) + 0.5;
        c[at..at + 4].copy_from_slice(&v.to_le_bytes());
        assert_eq!(
            run(&task, &kernel, c, 1).unwrap_err().label(),
            "freivalds_failed"
        );
    }

    #[test]
    fn the_reference_hash_is_compared_with_the_outputs_digest() {
        let (kernel, c) = matmul();
        let digest = outputs_digest(&[Binary::from(c.clone())]);
        let matching = task(VerificationPolicy::ReferenceHash {
            sha256: HexBinary::from(digest.to_vec()),
        });
        assert_eq!(run(&matching, &kernel, c.clone(), 0), Ok(()));
        let mut wrong = vec![c];
        corrupt_first_element(&mut wrong);
        let refusal = run(&matching, &kernel, wrong.remove(0), 0).unwrap_err();
        assert_eq!(refusal.label(), "reference_mismatch");
        assert!(
            refusal.to_string().contains(&hex::encode(digest)),
            "{refusal}"
        );
    }

    #[test]
    fn unverified_checks_the_shape_only() {
        let (kernel, c) = matmul();
        let task = task(VerificationPolicy::Unverified {});
        assert_eq!(run(&task, &kernel, vec![0; c.len()], 0), Ok(()));
        let refusal = run(&task, &kernel, vec![0; c.len() - 4], 0).unwrap_err();
        assert_eq!(refusal.label(), "malformed");
    }

    #[test]
    fn a_spec_that_does_not_fit_the_kernel_is_refused() {
        let (kernel, c) = matmul();
        let mut bad = spec();
        bad.c_arg = 3; // the U32 argument
        let task = task(VerificationPolicy::Freivalds(bad));
        assert_eq!(
            run(&task, &kernel, c, 0).unwrap_err().label(),
            "freivalds_failed"
        );
    }

    #[test]
    fn corruption_always_changes_the_bytes() {
        for value in [0f32, 1.5, -3.0, 1e30, f32::NAN, f32::INFINITY] {
            let original = value.to_le_bytes().to_vec();
            let mut outputs = vec![original.clone()];
            assert!(corrupt_first_element(&mut outputs));
            assert_ne!(outputs[0], original, "{value}");
        }
        let mut honest = vec![2f32.to_le_bytes().to_vec()];
        corrupt_first_element(&mut honest);
        assert_eq!(
            f32::from_le_bytes(honest[0][..4].try_into().unwrap()),
            1e6 + 2.0
        );
        let mut short = vec![vec![7u8, 8]];
        assert!(corrupt_first_element(&mut short));
        assert_eq!(short[0], vec![6, 8]);
        assert!(!corrupt_first_element(&mut [Vec::new()]));
        assert!(!corrupt_first_element(&mut []));
    }
}
