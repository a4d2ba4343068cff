//! [`OpenClBackend`]: the [`Backend`] the daemon uses, a pool of worker processes.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opengpu_types::kernel::Kernel;
use opengpu_types::registry::DeviceInfo;
use tracing::{info, warn};

use super::devices;
use super::pool::WorkerPool;
use super::process::{describe_call_error, CallError, WorkerCommand, WorkerProcess};
use super::protocol::{Failure, Reply, Request};
use crate::executor::kcache::{KernelCache, Trimmed};
use crate::executor::{Backend, DeviceSelector, ExecError, ExecLimits, RunOutput};

/// How long a new worker may take to open the device. Not part of a run's time limit: a
/// loaded machine should not make a short-limit task fail before it started.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Stderr fragments that mean a worker died for want of memory (Rust's allocation-failure
/// abort, LLVM's, C++'s, glibc's, OpenCL's).
const OUT_OF_MEMORY_SIGNS: [&str; 7] = [
    "memory allocation of",
    "out of memory",
    "allocation failed",
    "bad_alloc",
    "cannot allocate memory",
    "cl_out_of_host_memory",
    "cl_mem_object_allocation_failure",
];

#[derive(Clone, Debug)]
pub struct OpenClConfig {
    /// The `opengpu-provider` binary, started as `<worker_exe> worker ...`.
    pub worker_exe: PathBuf,
    pub selector: DeviceSelector,
    pub limits: ExecLimits,
    /// Worker processes, i.e. runs at a time; workers start when first needed.
    pub workers: usize,
}

/// Runs kernels in worker processes on one OpenCL device.
pub struct OpenClBackend {
    device: DeviceInfo,
    limits: ExecLimits,
    command: WorkerCommand,
    pool: WorkerPool,
    /// PoCL's kernel cache, trimmed after each build; PoCL's own default when unset.
    kernel_cache: Option<Arc<KernelCache>>,
    /// A trim is under way (on a thread of its own).
    trimming: Arc<AtomicBool>,
    /// Where checked off-chain inputs are, by sha256 (see [`crate::inputs`]).
    input_dir: Option<PathBuf>,
}

impl OpenClBackend {
    /// Checks the configuration and reads the device; starts no worker yet.
    pub fn start(config: OpenClConfig) -> Result<Self, ExecError> {
        if config.workers == 0 {
            return Err(ExecError::Unavailable(
                "the OpenCL backend needs at least one worker".into(),
            ));
        }
        if !config.worker_exe.is_file() {
            return Err(ExecError::Unavailable(format!(
                "worker executable {} does not exist",
                config.worker_exe.display()
            )));
        }
        let device = devices::device_info(config.selector)?;
        info!(
            device = %device.name,
            workers = config.workers,
            time_limit = ?config.limits.time_limit,
            memory_limit_bytes = config.limits.memory_limit_bytes,
            "OpenCL backend ready"
        );
        Ok(Self {
            device,
            limits: config.limits,
            command: WorkerCommand {
                exe: config.worker_exe,
                selector: config.selector,
                memory_limit_bytes: config.limits.memory_limit_bytes,
                pocl_cache_dir: None,
            },
            pool: WorkerPool::new(config.workers),
            kernel_cache: None,
            trimming: Arc::new(AtomicBool::new(false)),
            input_dir: None,
        })
    }

    /// Workers keep PoCL's compiled kernels in `cache` (`POCL_CACHE_DIR`), which is created
    /// and trimmed to its limit now, and again after each run that built a program. Call it
    /// before the first run: workers started earlier keep PoCL's default.
    pub fn with_kernel_cache(mut self, cache: KernelCache) -> std::io::Result<(Self, Trimmed)> {
        let trimmed = cache.prepare()?;
        info!(
            dir = %cache.dir.display(),
            limit_bytes = cache.limit_bytes,
            kept_bytes = trimmed.kept_bytes,
            removed = trimmed.removed,
            "kernel cache ready"
        );
        self.command.pocl_cache_dir = Some(cache.dir.clone());
        self.kernel_cache = Some(Arc::new(cache));
        Ok((self, trimmed))
    }

    /// Off-chain inputs are read from `dir` (checked files named by their sha256); without
    /// it a task with one fails to launch.
    pub fn with_input_dir(mut self, dir: PathBuf) -> Self {
        self.input_dir = Some(dir);
        self
    }

    /// Pids of the started workers that are idle right now (for diagnostics and tests).
    pub fn worker_pids(&self) -> Vec<u32> {
        self.pool.idle_pids()
    }

    /// The slot's worker if it is still alive, else a freshly started one.
    fn live_worker<'s>(
        &self,
        slot: &'s mut Option<WorkerProcess>,
    ) -> Result<&'s mut WorkerProcess, ExecError> {
        let mut reusable = slot.take();
        if let Some(worker) = reusable.as_mut() {
            if worker.has_exited() {
                warn!(
                    worker_pid = worker.pid(),
                    "idle worker exited; starting another"
                );
                reusable = None;
            }
        }
        let worker = match reusable {
            Some(worker) => worker,
            None => WorkerProcess::spawn(&self.command, STARTUP_TIMEOUT)?,
        };
        Ok(slot.insert(worker))
    }

    fn failure_error(&self, failure: Failure) -> ExecError {
        match failure {
            Failure::Compile(log) => ExecError::Compile(log),
            Failure::Launch(detail) => ExecError::Launch(detail),
            Failure::OutOfMemory(detail) => ExecError::OutOfMemory {
                limit_bytes: self.limits.memory_limit_bytes,
                detail,
            },
        }
    }
}

/// The error a run reports when its worker gave no reply.
fn call_error(err: &CallError, limits: &ExecLimits) -> ExecError {
    let detail = describe_call_error(err);
    match err {
        CallError::TimedOut => ExecError::Timeout(limits.time_limit),
        CallError::Unsendable(_) => ExecError::Launch(detail),
        CallError::Protocol(_) => ExecError::Crashed(detail),
        CallError::Died { stderr_tail, .. } => {
            let stderr = stderr_tail.join("\n").to_lowercase();
            if OUT_OF_MEMORY_SIGNS.iter().any(|sign| stderr.contains(sign)) {
                ExecError::OutOfMemory {
                    limit_bytes: limits.memory_limit_bytes,
                    detail,
                }
            } else {
                ExecError::Crashed(detail)
            }
        }
    }
}

impl Backend for OpenClBackend {
    fn device(&self) -> &DeviceInfo {
        &self.device
    }

    fn run(&self, kernel: &Kernel) -> Result<RunOutput, ExecError> {
        let result = self.run_on_worker(kernel);
        // A run that did not take its program from the worker's cache built it, and PoCL
        // may have added it to its cache on disk.
        if !matches!(&result, Ok(output) if output.cache_hit) {
            self.trim_kernel_cache();
        }
        result
    }
}

impl OpenClBackend {
    /// Trims the kernel cache on a thread of its own, so that the run's result is not held
    /// up by it; one trim at a time (one under way already sees this build, or the next
    /// build's trim does).
    fn trim_kernel_cache(&self) {
        let Some(cache) = &self.kernel_cache else {
            return;
        };
        if self.trimming.swap(true, Ordering::AcqRel) {
            return;
        }
        let (cache, trimming) = (cache.clone(), self.trimming.clone());
        let spawned = std::thread::Builder::new()
            .name("kcache-trim".into())
            .spawn(move || {
                cache.trim_logged();
                trimming.store(false, Ordering::Release);
            });
        if let Err(e) = spawned {
            self.trimming.store(false, Ordering::Release);
            warn!(error = %e, "cannot start the kernel cache trim");
        }
    }
}

impl OpenClBackend {
    fn run_on_worker(&self, kernel: &Kernel) -> Result<RunOutput, ExecError> {
        let mut checkout = self.pool.checkout();
        let worker = self.live_worker(&mut checkout.worker)?;
        let pid = worker.pid();
        let request = Request::Run {
            kernel: Cow::Borrowed(kernel),
            input_dir: self.input_dir.as_deref().map(Cow::Borrowed),
        };
        match worker.call(&request, self.limits.time_limit) {
            Ok(Reply::Ran {
                outputs,
                elapsed,
                kernel_elapsed,
                cache_hit,
            }) => Ok(RunOutput {
                outputs: outputs.into_iter().map(Vec::from).collect(),
                elapsed,
                kernel_elapsed,
                cache_hit,
            }),
            Ok(Reply::Failed { failure }) => Err(self.failure_error(failure)),
            Ok(Reply::Ready) => {
                checkout.worker = None;
                Err(ExecError::Crashed(format!(
                    "worker {pid} answered a run with a second ready"
                )))
            }
            Err(err) => {
                let error = call_error(&err, &self.limits);
                if !matches!(err, CallError::Unsendable(_)) {
                    // Already killed and reaped; the next run on this slot starts a new one.
                    warn!(
                        worker_pid = pid,
                        reason = error.reason(),
                        "worker lost: {error}"
                    );
                    checkout.worker = None;
                }
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use super::*;

    #[test]
    fn a_worker_that_died_for_memory_is_out_of_memory_otherwise_crashed() {
        let limits = ExecLimits {
            time_limit: Duration::from_secs(1),
            memory_limit_bytes: 1 << 30,
        };
        let died = |line: &str| CallError::Died {
            pid: 42,
            status: Some(ExitStatus::from_raw(libc::SIGABRT)),
            stderr_tail: vec!["starting".into(), line.into()],
        };
        let out_of_memory = call_error(
            &died("memory allocation of 1073741824 bytes failed"),
            &limits,
        );
        assert!(
            matches!(&out_of_memory, ExecError::OutOfMemory { limit_bytes, detail }
                if *limit_bytes == 1 << 30 && detail.contains("signal 6")),
            "{out_of_memory:?}"
        );
        assert!(matches!(
            call_error(&died("LLVM ERROR: out of memory"), &limits),
            ExecError::OutOfMemory { .. }
        ));
        assert!(matches!(
            call_error(&died("Segmentation fault"), &limits),
            ExecError::Crashed(detail) if detail.contains("worker 42 was killed by signal 6")
        ));
        assert_eq!(
            call_error(&CallError::TimedOut, &limits),
            ExecError::Timeout(Duration::from_secs(1))
        );
    }
}
