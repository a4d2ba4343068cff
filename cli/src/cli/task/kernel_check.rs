//! `task publish`'s local check of the kernel, before anything is broadcast: the kernel is
//! built on this machine's first OpenCL device (PoCL counts), its entry point looked up and its
//! arguments bound as a provider binds them (`opengpu_opencl`). A kernel every provider would
//! refuse fails here, with the driver's reason, instead of waiting out its deadline in escrow.
//!
//! The check runs in a child process, `opengpu-kernel-check` (installed next to `opengpu`): the
//! driver's compiler may crash, hang or print to stdout, and `opengpu` must outlive the first,
//! time out the second and keep its stdout for its own output (see `opengpu_opencl::child`).
//! `opengpu` itself thus never loads an OpenCL driver.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use opengpu_opencl::child::check_in_child;
use opengpu_opencl::{CheckError, Checked};
use opengpu_types::kernel::Kernel;

/// The checker program, found next to `opengpu`, else on `PATH`.
const CHECKER: &str = "opengpu-kernel-check";
/// Names another checker program.
const CHECKER_ENV: &str = "OPENGPU_KERNEL_CHECK";
/// A build that takes longer hangs: large kernels build in seconds on a CPU device.
const TIMEOUT: Duration = Duration::from_secs(120);

/// What `--local-check` and `--no-local-check` ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalCheck {
    /// Check where a device is found; warn and go on where none is.
    Auto,
    /// Check, and fail where no device is found (`--local-check`).
    Required,
    /// Do not check (`--no-local-check`).
    Skip,
}

/// Checks `kernel` as `mode` asks. `Ok(None)` when it was not checked (skipped, or no device
/// here under [`LocalCheck::Auto`], which is said on stderr).
pub async fn run(kernel: &Kernel, mode: LocalCheck) -> Result<Option<Checked>> {
    if mode == LocalCheck::Skip {
        return Ok(None);
    }
    let command = checker();
    let kernel = kernel.clone();
    let outcome = tokio::task::spawn_blocking(move || check_in_child(command, &kernel, TIMEOUT))
        .await
        .context("the local kernel check")?;
    decide(outcome, mode)
}

/// What the command does with the check's outcome.
fn decide(outcome: Result<Checked, CheckError>, mode: LocalCheck) -> Result<Option<Checked>> {
    match outcome {
        Ok(checked) => Ok(Some(checked)),
        Err(err) if err.is_kernel_fault() => Err(anyhow!(
            "{err}\nnothing was published: every provider would refuse this kernel \
             (--no-local-check publishes it unchecked)"
        )),
        Err(err @ CheckError::Unavailable { .. }) => {
            if mode == LocalCheck::Required {
                bail!("{err}, and --local-check requires it");
            }
            eprintln!("warning: {err}; publishing the kernel unchecked");
            Ok(None)
        }
        Err(err) => Err(anyhow!(
            "{err}\nnothing was published; --no-local-check publishes without the check"
        )),
    }
}

/// `$OPENGPU_KERNEL_CHECK`, else `opengpu-kernel-check` next to this executable, else on `PATH`.
fn checker() -> Command {
    if let Some(path) = std::env::var_os(CHECKER_ENV) {
        return Command::new(path);
    }
    let sibling = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(CHECKER))
        .filter(|path| path.is_file());
    Command::new(sibling.unwrap_or_else(|| PathBuf::from(CHECKER)))
}

/// The check in `--output json`.
pub fn json(checked: &Checked) -> serde_json::Value {
    serde_json::json!({
        "platform": checked.platform,
        "device": checked.device,
        "entry_point": checked.entry_point,
        "args": checked.args,
        "build_ms": checked.build_time.as_millis() as u64,
    })
}

/// The check in text output.
pub fn line(checked: &Checked) -> String {
    format!(
        "kernel {} checked on {} ({}): builds in {} ms, takes the task's {} arguments",
        checked.entry_point,
        checked.device,
        checked.platform,
        checked.build_time.as_millis(),
        checked.args
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> Result<Checked, CheckError> {
        Err(CheckError::Unavailable {
            reason: "no OpenCL platform (driver) is installed".into(),
        })
    }

    #[test]
    fn no_device_is_a_warning_unless_the_check_was_asked_for() {
        assert_eq!(decide(unavailable(), LocalCheck::Auto).unwrap(), None);
        let err = decide(unavailable(), LocalCheck::Required)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "no local kernel check: no OpenCL platform (driver) is installed, and --local-check \
             requires it"
        );
    }

    #[test]
    fn a_kernel_fault_or_a_failed_check_stops_the_publish() {
        let fault = Err(CheckError::ArgCount {
            entry_point: "k".into(),
            takes: 2,
            given: 1,
        });
        let err = decide(fault, LocalCheck::Auto).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "kernel \"k\" takes 2 arguments; the task gives 1\nnothing was published"
            ),
            "{err}"
        );
        let failed = Err(CheckError::Failed {
            reason: "the checker stopped without an answer (signal: 6)".into(),
        });
        let err = decide(failed, LocalCheck::Auto).unwrap_err().to_string();
        assert!(err.contains("--no-local-check publishes without"), "{err}");
    }
}
