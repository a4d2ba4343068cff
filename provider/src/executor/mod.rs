//! Running a task's kernel. The daemon only sees the [`Backend`] trait; the OpenCL backend
//! runs every launch in a worker child process with a wall-clock and a memory limit, so a
//! kernel that loops forever or crashes the driver costs that task only.

use std::time::Duration;

use opengpu_types::kernel::Kernel;
use opengpu_types::registry::DeviceInfo;

pub mod kcache;
pub mod opencl;

/// Limits every kernel run is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecLimits {
    /// Wall-clock time for one run, compilation included; the worker is killed after it.
    pub time_limit: Duration,
    /// Address-space limit of the worker process (`RLIMIT_AS`), in bytes.
    pub memory_limit_bytes: u64,
}

/// Which OpenCL device to use: indexes as `opengpu-provider devices` lists them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceSelector {
    pub platform: usize,
    pub device: usize,
}

/// One run's result: the output buffers in argument order, and how long the launch took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    pub outputs: Vec<Vec<u8>>,
    /// Compile (zero on a cache hit) plus enqueue, run and read-back.
    pub elapsed: Duration,
    /// The kernel's own run, inputs already on the device: what throughput figures use.
    pub kernel_elapsed: Duration,
    /// The program came from the compile cache.
    pub cache_hit: bool,
}

/// Why a run produced no result. Each maps to a short `reason()` used as a metrics label.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    #[error("kernel does not compile: {0}")]
    Compile(String),
    #[error("kernel launch failed: {0}")]
    Launch(String),
    #[error("kernel ran longer than {0:?}; worker killed")]
    Timeout(Duration),
    #[error("worker ran out of memory (limit {limit_bytes} bytes): {detail}")]
    OutOfMemory { limit_bytes: u64, detail: String },
    #[error("worker crashed: {0}")]
    Crashed(String),
    #[error("executor unavailable: {0}")]
    Unavailable(String),
}

impl ExecError {
    /// Metrics label for this failure.
    pub fn reason(&self) -> &'static str {
        match self {
            ExecError::Compile(_) => "compile_error",
            ExecError::Launch(_) => "launch_error",
            ExecError::Timeout(_) => "timeout",
            ExecError::OutOfMemory { .. } => "out_of_memory",
            ExecError::Crashed(_) => "crashed",
            ExecError::Unavailable(_) => "unavailable",
        }
    }
}

/// A compute backend: OpenCL today; another (e.g. CUDA) implements the same trait.
///
/// `run` blocks; the daemon calls it from `spawn_blocking`. Implementations are safe to call
/// from several threads at once (up to the daemon's concurrency limit).
pub trait Backend: Send + Sync {
    /// The device runs execute on, as the registry stores it.
    fn device(&self) -> &DeviceInfo;
    /// Runs `kernel` once and returns its output buffers.
    fn run(&self, kernel: &Kernel) -> Result<RunOutput, ExecError>;
}
