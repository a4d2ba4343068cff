//! Example opengpu tasks: four OpenCL kernels with deterministic inputs, CPU references and
//! result checks, so that a client can publish a known workload and verify what came back, and
//! a provider can test and benchmark its executor.
//!
//! ```
//! use opengpu_examples::{Example, ExampleTask};
//!
//! let task = ExampleTask::new(Example::VectorAdd, 1024, 7).unwrap();
//! let kernel = task.kernel();
//! assert_eq!(kernel.entry_point, "vector_add");
//! // A device's outputs are checked against the CPU reference.
//! let report = task.check(&task.reference()).unwrap();
//! assert_eq!(report.mismatches, 0);
//! ```

mod check;
mod column_sums;
mod error;
mod example;
mod hash_chain;
mod le_bytes;
mod mandelbrot;
mod seeded;
mod sgemm;
mod task;
mod vector_add;

pub use check::CheckReport;
pub use column_sums::{
    column_sums_matrix, COLUMN_SUMS_COLUMNS, COLUMN_SUMS_ENTRY, COLUMN_SUMS_SOURCE,
};
pub use error::{ExampleError, SizeLimit};
pub use example::Example;
pub use hash_chain::HASH_CHAIN_ROUNDS;
pub use mandelbrot::MANDELBROT_MAX_ITERATIONS;
pub use sgemm::{sgemm_reference, SGEMM_FREIVALDS_TOLERANCE, SGEMM_TILE};
pub use task::{ExampleTask, LOCALNET_BUFFER_LIMIT};
