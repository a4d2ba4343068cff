//! One example at one size with one seed: its kernel launch, its reference outputs and the
//! check of a device's outputs against them.

use opengpu_types::freivalds::FreivaldsSpec;
use opengpu_types::kernel::Kernel;

use crate::le_bytes::{from_f32s, from_u32s, to_f32s, to_u32s};
use crate::{
    hash_chain, mandelbrot, sgemm, vector_add, CheckReport, Example, ExampleError, SizeLimit,
};

/// The localnet market's limit on the input buffers of a kernel, and separately on its output
/// buffers (`localnet/deploy.sh`). The market stores kernels and outputs in chunks, whatever
/// wasmvm's 128 KiB limit on one storage value, and the localnet's nodes take transactions and
/// queries of several MiB (`localnet/start.sh`).
pub const LOCALNET_BUFFER_LIMIT: u64 = 1 << 20;

/// An example task, validated: its size suits the kernel and the limits it was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExampleTask {
    pub example: Example,
    /// Elements for vector-add and hash-chain; matrix or image side for sgemm and mandelbrot.
    pub size: u32,
    /// Seed of the generated inputs (mandelbrot has none: its image is fixed).
    pub seed: u64,
}

impl ExampleTask {
    /// A task that can be published on the localnet: within the market's buffer limits.
    pub fn new(example: Example, size: u32, seed: u64) -> Result<Self, ExampleError> {
        Self::with_buffer_limit(example, size, seed, LOCALNET_BUFFER_LIMIT)
    }

    /// A task whose inputs, and separately whose outputs, take at most `limit` bytes: for
    /// benchmarks and tests beyond the localnet's limits.
    pub fn with_buffer_limit(
        example: Example,
        size: u32,
        seed: u64,
        limit: u64,
    ) -> Result<Self, ExampleError> {
        if size == 0 {
            return Err(ExampleError::ZeroSize { example });
        }
        let multiple = example.size_multiple();
        if !size.is_multiple_of(multiple) {
            return Err(ExampleError::NotTileMultiple {
                example,
                size,
                multiple,
            });
        }
        let (input, output) = buffer_bytes(example, size);
        for (what, bytes) in [
            (SizeLimit::InputBuffers, input),
            (SizeLimit::OutputBuffers, output),
        ] {
            if bytes > limit {
                return Err(ExampleError::TooLarge {
                    example,
                    size,
                    what,
                    bytes,
                    limit,
                    largest_size: example.largest_size(limit),
                });
            }
        }
        Ok(ExampleTask {
            example,
            size,
            seed,
        })
    }

    /// The complete launch: source, work sizes, and arguments with the generated inputs.
    pub fn kernel(&self) -> Kernel {
        match self.example {
            Example::VectorAdd => vector_add::kernel(self.size, self.seed),
            Example::Sgemm => sgemm::kernel(self.size, self.seed),
            Example::HashChain => hash_chain::kernel(self.size, self.seed),
            Example::Mandelbrot => mandelbrot::kernel(self.size),
        }
    }

    /// The on-chain check a client publishes this example with by default, when the example
    /// has one that needs no reference answer: Freivalds' check of C = A x B for `sgemm`
    /// (A, B and C its arguments 0, 1 and 2, tolerance [`crate::SGEMM_FREIVALDS_TOLERANCE`]);
    /// `None` for the others.
    pub fn freivalds(&self) -> Option<FreivaldsSpec> {
        match self.example {
            Example::Sgemm => Some(sgemm::freivalds_spec(self.size)),
            Example::VectorAdd | Example::HashChain | Example::Mandelbrot => None,
        }
    }

    /// The outputs computed on the CPU, laid out as the kernel's output buffers
    /// (little-endian).
    pub fn reference(&self) -> Vec<Vec<u8>> {
        let output = match self.example {
            Example::VectorAdd => from_f32s(&vector_add::reference(self.size, self.seed)),
            Example::Sgemm => from_f32s(&sgemm::reference(self.size, self.seed)),
            Example::HashChain => from_u32s(&hash_chain::reference(self.size, self.seed)),
            Example::Mandelbrot => from_u32s(&mandelbrot::reference(self.size)),
        };
        vec![output]
    }

    /// Byte sizes of the output buffers, in argument order.
    pub fn output_sizes(&self) -> Vec<u64> {
        vec![buffer_bytes(self.example, self.size).1]
    }

    /// Compares a device's outputs with the reference: floats within a tolerance derived from
    /// the computation (see each example's module), integers exactly.
    pub fn check<O: AsRef<[u8]>>(&self, outputs: &[O]) -> Result<CheckReport, ExampleError> {
        let expected_sizes = self.output_sizes();
        if outputs.len() != expected_sizes.len() {
            return Err(ExampleError::WrongOutputCount {
                example: self.example,
                expected: expected_sizes.len(),
                got: outputs.len(),
            });
        }
        for (index, (output, expected)) in outputs.iter().zip(&expected_sizes).enumerate() {
            let got = output.as_ref().len() as u64;
            if got != *expected {
                return Err(ExampleError::WrongOutputSize {
                    example: self.example,
                    index,
                    expected: *expected,
                    got,
                });
            }
        }
        let output = outputs[0].as_ref();
        match self.example {
            Example::VectorAdd => vector_add::check(self.size, self.seed, &to_f32s(output)),
            Example::Sgemm => sgemm::check(self.size, self.seed, &to_f32s(output)),
            Example::HashChain => hash_chain::check(self.size, self.seed, &to_u32s(output)),
            Example::Mandelbrot => mandelbrot::check(self.size, &to_u32s(output)),
        }
    }

    /// Floating-point operations of one run, for GFLOP/s figures: 2n^3 for sgemm; `None` for
    /// the others, whose work is not usefully counted in flops.
    pub fn flops(&self) -> Option<u64> {
        match self.example {
            Example::Sgemm => Some(sgemm::flops(self.size)),
            _ => None,
        }
    }
}

/// Bytes of (all inputs, all outputs).
pub(crate) fn buffer_bytes(example: Example, size: u32) -> (u64, u64) {
    let size = size as u64;
    match example {
        Example::VectorAdd => vector_add::buffer_bytes(size),
        Example::Sgemm => sgemm::buffer_bytes(size),
        Example::HashChain => hash_chain::buffer_bytes(size),
        Example::Mandelbrot => mandelbrot::buffer_bytes(size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_validated_with_the_rule_they_break() {
        assert_eq!(
            ExampleTask::new(Example::VectorAdd, 0, 1),
            Err(ExampleError::ZeroSize {
                example: Example::VectorAdd
            })
        );
        assert_eq!(
            ExampleTask::new(Example::Sgemm, 100, 1),
            Err(ExampleError::NotTileMultiple {
                example: Example::Sgemm,
                size: 100,
                multiple: 64
            })
        );
        // 512 x 512 f32 matrices: 2 MiB of inputs.
        let err = ExampleTask::new(Example::Sgemm, 512, 1).unwrap_err();
        assert_eq!(
            err,
            ExampleError::TooLarge {
                example: Example::Sgemm,
                size: 512,
                what: SizeLimit::InputBuffers,
                bytes: 2 << 20,
                limit: 1 << 20,
                largest_size: 320,
            }
        );
        assert_eq!(
            err.to_string(),
            "sgemm size 512 needs 2097152 bytes of input buffers; the limit is 1048576 \
             (largest sgemm size within it: 320)"
        );
        // Up to the limits, all is accepted: 800 KiB of inputs; exactly 1 MiB of output.
        assert!(ExampleTask::new(Example::Sgemm, 320, 1).is_ok());
        assert!(ExampleTask::new(Example::Mandelbrot, 512, 1).is_ok());
        assert_eq!(
            ExampleTask::new(Example::Mandelbrot, 513, 1),
            Err(ExampleError::TooLarge {
                example: Example::Mandelbrot,
                size: 513,
                what: SizeLimit::OutputBuffers,
                bytes: 513 * 513 * 4,
                limit: 1 << 20,
                largest_size: 512,
            })
        );
        assert!(ExampleTask::with_buffer_limit(Example::Sgemm, 512, 1, 2 << 20).is_ok());
    }

    #[test]
    fn largest_sizes_fit_and_one_step_more_does_not() {
        for example in Example::ALL {
            let largest = example.largest_publishable_size();
            assert_eq!(
                largest,
                example.largest_size(LOCALNET_BUFFER_LIMIT),
                "{example}"
            );
            assert!(ExampleTask::new(example, largest, 0).is_ok(), "{example}");
            let next = largest + example.size_multiple();
            assert!(ExampleTask::new(example, next, 0).is_err(), "{example}");
        }
        assert_eq!(
            Example::VectorAdd.largest_size(LOCALNET_BUFFER_LIMIT),
            131_072
        );
        assert_eq!(
            Example::HashChain.largest_size(LOCALNET_BUFFER_LIMIT),
            262_144
        );
        assert_eq!(Example::Sgemm.largest_size(LOCALNET_BUFFER_LIMIT), 320);
        assert_eq!(Example::Mandelbrot.largest_size(LOCALNET_BUFFER_LIMIT), 512);
        assert_eq!(Example::Sgemm.largest_size(100), 0);
    }

    #[test]
    fn default_sizes_are_publishable_and_kernels_pass_the_localnet_limits() {
        let limits = opengpu_types::kernel::KernelLimits {
            max_source_bytes: 65_536,
            max_args: 32,
            max_input_bytes: LOCALNET_BUFFER_LIMIT,
            max_output_bytes: LOCALNET_BUFFER_LIMIT,
        };
        for example in Example::ALL {
            let task = ExampleTask::new(example, example.default_size(), 3).unwrap();
            let kernel = task.kernel();
            assert_eq!(
                kernel.validate(&limits),
                Ok(task.output_sizes()),
                "{example}"
            );
            let reference = task.reference();
            let sizes: Vec<u64> = reference.iter().map(|o| o.len() as u64).collect();
            assert_eq!(sizes, task.output_sizes(), "{example}");
        }
    }

    #[test]
    fn inputs_depend_on_the_seed_and_only_on_it() {
        for example in [Example::VectorAdd, Example::Sgemm, Example::HashChain] {
            let task = |seed| ExampleTask::new(example, 64, seed).unwrap().kernel();
            assert_eq!(task(1), task(1), "{example}");
            assert_ne!(task(1).args, task(2).args, "{example}");
        }
    }

    #[test]
    fn check_accepts_the_reference_and_rejects_a_corrupted_output() {
        for example in Example::ALL {
            let task = ExampleTask::new(example, 64, 11).unwrap();
            let reference = task.reference();
            let report = task.check(&reference).unwrap();
            assert_eq!(report.mismatches, 0, "{example}");
            assert_eq!(report.max_abs_error, 0.0, "{example}");
            assert_eq!(report.elements, reference[0].len() as u64 / 4, "{example}");

            // Flip a high bit in every 16th element: too many for any tolerance.
            let mut corrupted = reference.clone();
            for word in corrupted[0].chunks_exact_mut(4).step_by(16) {
                word[3] ^= 0x40;
            }
            let err = task.check(&corrupted).unwrap_err();
            assert!(
                matches!(err, ExampleError::Mismatch { .. }),
                "{example}: {err}"
            );
        }
    }

    #[test]
    fn check_names_wrong_shapes() {
        let task = ExampleTask::new(Example::HashChain, 8, 0).unwrap();
        assert_eq!(
            task.check::<Vec<u8>>(&[]),
            Err(ExampleError::WrongOutputCount {
                example: Example::HashChain,
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            task.check(&[vec![0u8; 31]]),
            Err(ExampleError::WrongOutputSize {
                example: Example::HashChain,
                index: 0,
                expected: 32,
                got: 31
            })
        );
    }

    #[test]
    fn sgemm_tolerance_accepts_rounding_but_not_a_missing_product() {
        let task = ExampleTask::new(Example::Sgemm, 64, 5).unwrap();
        let reference = task.reference();
        let values = to_f32s(&reference[0]);
        // Every element one ulp off: well within the n * eps bound.
        let nudged: Vec<f32> = values
            .iter()
            .map(|v| f32::from_bits(v.to_bits() + 1))
            .collect();
        assert_eq!(task.check(&[from_f32s(&nudged)]).unwrap().mismatches, 0);
        // One element missing the product a[0][0] * b[0][0].
        let mut dropped = values.clone();
        let kernel = task.kernel();
        let input = |i: usize| match &kernel.args[i] {
            opengpu_types::kernel::KernelArg::Input { data } => to_f32s(data.as_slice()),
            other => panic!("argument {i} is {other:?}"),
        };
        dropped[0] -= input(0)[0] * input(1)[0];
        let err = task.check(&[from_f32s(&dropped)]).unwrap_err();
        assert!(
            err.to_string().contains("1 of 4096 elements")
                && err.to_string().contains("row 0, column 0"),
            "{err}"
        );
    }

    #[test]
    fn mandelbrot_tolerates_a_few_differing_pixels_only() {
        let task = ExampleTask::new(Example::Mandelbrot, 100, 0).unwrap();
        let mut counts = to_u32s(&task.reference()[0]);
        // 10 000 pixels: 10 may differ.
        for count in counts.iter_mut().take(10) {
            *count += 1;
        }
        let report = task.check(&[from_u32s(&counts)]).unwrap();
        assert_eq!((report.mismatches, report.allowed_mismatches), (10, 10));
        counts[10] += 1;
        assert!(task.check(&[from_u32s(&counts)]).is_err());
    }

    #[test]
    fn sgemm_publishes_a_freivalds_policy_its_reference_passes() {
        use opengpu_types::freivalds;
        let task = ExampleTask::new(Example::Sgemm, 64, 21).unwrap();
        let spec = task.freivalds().expect("sgemm has a Freivalds policy");
        let kernel = task.kernel();
        // C is the kernel's first (only) output buffer.
        assert_eq!(spec.validate_for(&kernel), Ok(0));
        let (a, b) = spec.inputs(&kernel).expect("A and B are inputs");
        let reference = task.reference();
        let seed = [7u8; 32];
        assert_eq!(freivalds::check(&spec, a, b, &reference[0], &seed), Ok(()));
        // One wrong element is caught.
        let mut wrong = to_f32s(&reference[0]);
        wrong[5 * 64 + 9] += 64.0;
        assert!(freivalds::check(&spec, a, b, &from_f32s(&wrong), &seed).is_err());
        // The largest publishable size validates too (no overflow, no subnormal input).
        let largest = Example::Sgemm.largest_publishable_size();
        let task = ExampleTask::new(Example::Sgemm, largest, 3).unwrap();
        assert_eq!(
            task.freivalds().unwrap().validate_for(&task.kernel()),
            Ok(0)
        );
        for example in [Example::VectorAdd, Example::HashChain, Example::Mandelbrot] {
            assert_eq!(ExampleTask::new(example, 64, 1).unwrap().freivalds(), None);
        }
    }

    #[test]
    fn only_sgemm_counts_flops() {
        let sgemm = ExampleTask::new(Example::Sgemm, 64, 0).unwrap();
        assert_eq!(sgemm.flops(), Some(2 * 64 * 64 * 64));
        let add = ExampleTask::new(Example::VectorAdd, 128, 0).unwrap();
        assert_eq!(add.flops(), None);
    }
}
