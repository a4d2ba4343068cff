//! A task's kernel checked on a local OpenCL device before it is published.
//!
//! A provider refuses a task whose kernel does not build, has no `__kernel` of the task's entry
//! point, or does not take the task's arguments; every provider refuses it alike, quietly, and
//! the client waits for the deadline with its payment in escrow. [`check_kernel`] finds these
//! faults on the client's machine first: it builds the source with the options a provider uses,
//! looks the entry point up in the built program, compares the argument count, and binds each
//! argument the way a provider binds it (nothing is launched and no task-sized buffer is made).
//!
//! The driver runs untrusted-looking code paths (a compiler) and may print to stdout or crash;
//! [`child`] runs the same check in a child process, so a caller (the `opengpu` command line)
//! keeps its own stdout clean and survives a driver that aborts.

mod check;
pub mod child;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use check::{check_kernel, describe_cl_error, truncate_build_log};

/// A kernel that passed: where it was built and what the driver found.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The OpenCL platform (driver), e.g. `Portable Computing Language`.
    pub platform: String,
    /// The device the program was built for.
    pub device: String,
    pub entry_point: String,
    /// Arguments the kernel takes (the task gives as many).
    pub args: u32,
    /// How long the driver took to build the program.
    pub build_time: Duration,
}

/// Why a kernel did not pass, or why it could not be checked.
#[derive(thiserror::Error, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// Nothing here can check it: no OpenCL platform or device, or no checker program.
    #[error("no local kernel check: {reason}")]
    Unavailable { reason: String },
    /// The source does not compile; `log` is the start of the compiler's log.
    #[error("the kernel does not build on {device}:\n{log}")]
    Build { device: String, log: String },
    /// The program built, but holds no `__kernel` of that name. `declared`: the source does
    /// hold a function of that name, which compilation did not keep as a kernel (as happens to
    /// a kernel named after an OpenCL C built-in such as `mix`).
    #[error("{}", no_entry_point(.entry_point, .kernels, *.declared))]
    NoEntryPoint {
        entry_point: String,
        kernels: Vec<String>,
        declared: bool,
    },
    #[error("kernel {entry_point:?} takes {takes} arguments; the task gives {given}")]
    ArgCount {
        entry_point: String,
        takes: u32,
        given: usize,
    },
    /// The task's argument `index` (of kind `given`) does not fit the parameter there.
    #[error(
        "argument {index} ({given}) does not fit the kernel's parameter{}: {reason}",
        .declared.as_ref().map(|d| format!(" `{d}`")).unwrap_or_default()
    )]
    ArgMismatch {
        index: usize,
        given: String,
        declared: Option<String>,
        reason: String,
    },
    /// The check itself failed (a driver error, a crash, a time-out): nothing is known about
    /// the kernel.
    #[error("the local kernel check failed: {reason}")]
    Failed { reason: String },
}

impl CheckError {
    /// Whether the error is about the kernel (every provider would refuse it), rather than
    /// about this machine's ability to check it.
    pub fn is_kernel_fault(&self) -> bool {
        !matches!(
            self,
            CheckError::Unavailable { .. } | CheckError::Failed { .. }
        )
    }
}

fn no_entry_point(entry_point: &str, kernels: &[String], declared: bool) -> String {
    let defined = match kernels {
        [] => "it holds no kernel".to_string(),
        names => format!("its kernels: {}", names.join(", ")),
    };
    let hint = if declared {
        format!(
            "; the source declares {entry_point}(...), but compilation did not keep it as a \
             kernel: a kernel named after an OpenCL C built-in function (mix, dot, clamp, ...) is \
             lost this way, rename it"
        )
    } else {
        String::new()
    };
    format!("the built program has no kernel {entry_point:?} ({defined}){hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_entry_point_names_the_kernels_there_and_the_built_in_trap() {
        let err = CheckError::NoEntryPoint {
            entry_point: "mix".into(),
            kernels: vec![],
            declared: true,
        };
        let text = err.to_string();
        assert!(
            text.starts_with("the built program has no kernel \"mix\" (it holds no kernel)"),
            "{text}"
        );
        assert!(text.contains("OpenCL C built-in"), "{text}");
        let err = CheckError::NoEntryPoint {
            entry_point: "ad".into(),
            kernels: vec!["add".into(), "sub".into()],
            declared: false,
        };
        assert_eq!(
            err.to_string(),
            "the built program has no kernel \"ad\" (its kernels: add, sub)"
        );
        assert!(err.is_kernel_fault());
    }

    #[test]
    fn only_the_kernels_faults_are_kernel_faults() {
        let unavailable = CheckError::Unavailable {
            reason: "no OpenCL platform".into(),
        };
        let failed = CheckError::Failed {
            reason: "crashed".into(),
        };
        assert!(!unavailable.is_kernel_fault() && !failed.is_kernel_fault());
        let mismatch = CheckError::ArgMismatch {
            index: 1,
            given: "u32".into(),
            declared: Some("__global float* out".into()),
            reason: "the kernel wants a buffer there".into(),
        };
        assert!(mismatch.is_kernel_fault());
        assert_eq!(
            mismatch.to_string(),
            "argument 1 (u32) does not fit the kernel's parameter `__global float* out`: the \
             kernel wants a buffer there"
        );
    }
}
