//! The OpenCL backend.
//!
//! ```text
//! OpenClBackend (daemon process)            worker process (`opengpu-provider worker`)
//!   pool of N workers, one run each  --stdin-->  RLIMIT_AS, context + queue, program cache
//!   wait <= time_limit, else SIGKILL <--stdout-- one framed reply per request
//!   stderr drained into tracing      <--stderr-- diagnostics, driver chatter, kernel printf
//! ```
//!
//! A kernel that loops forever, exhausts memory or crashes the driver takes down its worker
//! only; the backend reports why and starts a fresh worker for the next run.

mod backend;
mod cache;
mod compile;
pub mod devices;
mod launch;
mod pool;
mod process;
mod protocol;
pub mod worker;

pub use backend::{OpenClBackend, OpenClConfig};
pub use devices::{device_info, list_platforms, DeviceListing, PlatformListing};

use ocl::core::{self, Status};
use opengpu_opencl::describe_cl_error;
use protocol::Failure;

/// The OpenCL statuses that mean an allocation failed.
fn is_out_of_memory(err: &core::Error) -> bool {
    matches!(
        err.api_status(),
        Some(Status::CL_OUT_OF_HOST_MEMORY | Status::CL_MEM_OBJECT_ALLOCATION_FAILURE)
    )
}

/// An OpenCL error as a failure: allocation errors are `OutOfMemory`, the rest `Launch`.
fn cl_failure(call: &str, err: &core::Error) -> Failure {
    let detail = describe_cl_error(call, err);
    if is_out_of_memory(err) {
        Failure::OutOfMemory(detail)
    } else {
        Failure::Launch(detail)
    }
}
