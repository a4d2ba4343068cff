//! The check in a child process: [`serve`] is the child's `main`, [`check_in_child`] the
//! caller's side.
//!
//! Why a child: the check hands the source to the OpenCL driver's compiler, in the client's
//! process. A driver that aborts or segfaults on some source (PoCL answers some failures with an
//! assertion) would take the caller down with no word about why; one that hangs would hang it;
//! and drivers print to stdout, where `opengpu --output json` owes its caller exactly one JSON
//! document. In a child, a crash becomes an error that names the signal and the driver's last
//! words, a hang a time-out, and the child's stdout is read only for its one answer. The price
//! is a process start, a few milliseconds next to the build itself.
//!
//! The protocol: the caller writes the task's [`Kernel`] as JSON on the child's stdin and closes
//! it; the child prints a line holding a marker and the outcome, `Result<Checked, CheckError>`
//! as JSON, on its stdout and exits. Anything else the driver prints there is skipped.

use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use opengpu_types::kernel::Kernel;

use crate::{check_kernel, CheckError, Checked};

/// Starts the line with the outcome (after an ASCII record separator, which drivers do not print).
const MARKER: &str = "\u{1e}opengpu-kernel-check ";
/// How often the caller looks whether the child has exited.
const POLL: Duration = Duration::from_millis(5);
/// How long the caller waits for the pipes to close once the child has exited (a process the
/// driver started could hold them open).
const PIPE_GRACE: Duration = Duration::from_secs(1);
/// The child's last stderr lines quoted when it dies without an answer.
const STDERR_TAIL_LINES: usize = 20;

/// The child's side: reads a kernel as JSON on stdin, checks it in this process, prints the
/// outcome on stdout. Exits 0 whenever it printed an outcome, kernel faults included.
pub fn serve() -> ExitCode {
    let mut input = Vec::new();
    let outcome = match io::stdin().read_to_end(&mut input) {
        Ok(_) => match serde_json::from_slice::<Kernel>(&input) {
            Ok(kernel) => check_kernel(&kernel),
            Err(err) => Err(failed(format!("the checker cannot read its kernel: {err}"))),
        },
        Err(err) => Err(failed(format!("the checker cannot read stdin: {err}"))),
    };
    let line = match serde_json::to_string(&outcome) {
        Ok(line) => line,
        Err(err) => {
            eprintln!("cannot encode the outcome: {err}");
            return ExitCode::from(3);
        }
    };
    let mut stdout = io::stdout().lock();
    // The newline first: the driver may have left a line unfinished.
    match writeln!(stdout, "\n{MARKER}{line}").and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cannot write the outcome: {err}");
            ExitCode::from(3)
        }
    }
}

/// Runs `command` (a program whose `main` is [`serve`]) on `kernel` and returns its outcome. A
/// program that cannot be found is [`CheckError::Unavailable`]; one that crashes, answers
/// nothing or runs longer than `timeout` (it is killed) is [`CheckError::Failed`].
pub fn check_in_child(
    mut command: Command,
    kernel: &Kernel,
    timeout: Duration,
) -> Result<Checked, CheckError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let input = serde_json::to_vec(kernel)
        .map_err(|err| failed(format!("cannot encode the kernel: {err}")))?;
    let spawned = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(CheckError::Unavailable {
                reason: format!("the checker {program} is not installed"),
            })
        }
        Err(err) => return Err(failed(format!("cannot start the checker {program}: {err}"))),
    };
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    if let Some(mut stdin) = child.stdin.take() {
        // In a thread: a child that stops reading must not block the caller past `timeout`.
        // A write error means the child is gone, which its exit status explains.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let Some(status) = wait(&mut child, timeout) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed(format!(
            "the checker {program} ran longer than {} s and was killed",
            timeout.as_secs_f64()
        )));
    };
    let stdout = stdout.recv_timeout(PIPE_GRACE).unwrap_or_default();
    if let Some(outcome) = outcome(&stdout) {
        return outcome;
    }
    let stderr = stderr.recv_timeout(PIPE_GRACE).unwrap_or_default();
    Err(failed(died(&program, status, &stderr)))
}

/// Reads a pipe to its end in a thread; the bytes arrive on the channel.
fn drain(pipe: Option<impl Read + Send + 'static>) -> Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = sender.send(bytes);
        });
    }
    receiver
}

/// The child's exit status, or `None` once `timeout` has passed.
fn wait(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
            // A child that cannot be waited for is treated as one that never finished.
            Ok(None) | Err(_) => return None,
        }
    }
}

/// The outcome on the child's stdout: the last marked line.
fn outcome(stdout: &[u8]) -> Option<Result<Checked, CheckError>> {
    let text = String::from_utf8_lossy(stdout);
    let (_, after) = text.rsplit_once(MARKER)?;
    let line = after.lines().next()?;
    serde_json::from_str(line).ok()
}

/// Why a child that gave no answer stopped, with its last stderr lines.
fn died(program: &str, status: ExitStatus, stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..];
    let mut text = format!("the checker {program} stopped without an answer ({status})");
    if !tail.is_empty() {
        text.push_str(":\n");
        text.push_str(&tail.join("\n"));
    }
    text
}

fn failed(reason: String) -> CheckError {
    CheckError::Failed { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opengpu_types::kernel::KernelArg;

    fn kernel() -> Kernel {
        Kernel {
            source: "__kernel void k(__global uint* out) {}".into(),
            entry_point: "k".into(),
            global_work_size: vec![4],
            local_work_size: None,
            args: vec![KernelArg::Output { size: 16 }],
        }
    }

    /// A stand-in checker: `sh -c SCRIPT`.
    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        command
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_marked_answer_is_found_among_driver_chatter() {
        let checked = Checked {
            platform: "p".into(),
            device: "d".into(),
            entry_point: "k".into(),
            args: 1,
            build_time: Duration::from_millis(12),
        };
        let answer = serde_json::to_string(&Ok::<_, CheckError>(checked.clone())).unwrap();
        let script = format!(
            "cat >/dev/null; printf 'driver says hi'; printf '\\n{}%s\\nbye\\n' '{answer}'; \
             echo noise >&2",
            MARKER.replace('\u{1e}', "\\036")
        );
        assert_eq!(
            check_in_child(sh(&script), &kernel(), 10 * SECOND),
            Ok(checked)
        );
    }

    #[test]
    fn a_crashed_checker_is_a_failed_check_naming_the_signal_and_its_last_words() {
        let script = "cat >/dev/null; echo 'pocl: assertion failed' >&2; kill -ABRT $$";
        let err = check_in_child(sh(script), &kernel(), 10 * SECOND).unwrap_err();
        let text = err.to_string();
        assert!(!err.is_kernel_fault());
        assert!(text.contains("SIGABRT"), "{text}");
        assert!(text.ends_with("pocl: assertion failed"), "{text}");
    }

    #[test]
    fn a_hanging_checker_is_killed_after_the_timeout() {
        let started = Instant::now();
        let err = check_in_child(sh("sleep 30"), &kernel(), Duration::from_millis(200));
        assert!(started.elapsed() < 10 * SECOND);
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains("ran longer than 0.2 s and was killed"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_checker_is_unavailable_not_failed() {
        let command = Command::new("/nonexistent/opengpu-kernel-check");
        let err = check_in_child(command, &kernel(), SECOND).unwrap_err();
        assert!(
            matches!(&err, CheckError::Unavailable { reason } if reason.contains("not installed")),
            "{err:?}"
        );
    }
}
