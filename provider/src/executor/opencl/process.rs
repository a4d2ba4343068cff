//! The backend's handle on one worker process: spawn and wait for `Ready`, one request at a
//! time with a deadline, SIGKILL and reap on timeout or drop. Two threads per worker read its
//! pipes, so neither a reply nor a flood of stderr can block the worker or the caller:
//! replies arrive over a channel the caller waits on with a timeout, stderr lines go to
//! tracing and a short tail kept for crash reports.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tracing::{debug, warn};

use super::protocol::{read_frame, write_frame, FrameError, Reply, Request};
use crate::executor::{DeviceSelector, ExecError};

/// Stderr lines kept for the report when a worker dies.
const STDERR_TAIL_LINES: usize = 20;
/// Longer lines (a kernel `printf` without newlines) are cut.
const STDERR_LINE_MAX_BYTES: usize = 1024;
/// How long a worker that closed its stdout gets to finish exiting before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How to start a worker.
#[derive(Clone, Debug)]
pub(super) struct WorkerCommand {
    pub exe: PathBuf,
    pub selector: DeviceSelector,
    pub memory_limit_bytes: u64,
    /// PoCL's kernel cache (`POCL_CACHE_DIR`); PoCL's default when unset.
    pub pocl_cache_dir: Option<PathBuf>,
}

/// Why a request got no reply.
#[derive(Debug)]
pub(super) enum CallError {
    /// No reply within the time limit; the worker has been killed.
    TimedOut,
    /// The worker exited (or closed its pipes) before replying.
    Died {
        pid: u32,
        status: Option<ExitStatus>,
        stderr_tail: Vec<String>,
    },
    /// The worker sent something that is not a reply; it has been killed.
    Protocol(String),
    /// The request could not be encoded; nothing was sent and the worker is fine.
    Unsendable(FrameError),
}

/// A running worker, idle between requests. Dropping it kills it.
pub(super) struct WorkerProcess {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<Result<Reply, FrameError>>,
    stderr: StderrTail,
    /// Set once the child has been reaped.
    exit: Option<ExitStatus>,
}

impl WorkerProcess {
    /// Starts a worker and waits up to `startup_timeout` for it to open the device.
    pub fn spawn(command: &WorkerCommand, startup_timeout: Duration) -> Result<Self, ExecError> {
        let mut child = Command::new(&command.exe);
        if let Some(dir) = &command.pocl_cache_dir {
            child.env("POCL_CACHE_DIR", dir);
        }
        let mut child = child
            .arg("worker")
            .arg("--platform")
            .arg(command.selector.platform.to_string())
            .arg("--device")
            .arg(command.selector.device.to_string())
            .arg("--memory-limit-bytes")
            .arg(command.memory_limit_bytes.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group, so a kill also reaches any helper the driver started.
            .process_group(0)
            .spawn()
            .map_err(|err| {
                ExecError::Unavailable(format!(
                    "cannot start worker {}: {err}",
                    command.exe.display()
                ))
            })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ExecError::Unavailable("worker pipes missing".into()));
        };
        let pid = child.id();
        let pipes = StderrTail::drain(pid, stderr).and_then(|stderr| {
            let replies = read_replies(pid, stdout)?;
            Ok((stderr, replies))
        });
        let (stderr, replies) = match pipes {
            Ok(pipes) => pipes,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ExecError::Unavailable(format!(
                    "cannot start worker pipe threads: {err}"
                )));
            }
        };
        let mut worker = Self {
            child,
            stdin,
            replies,
            stderr,
            exit: None,
        };
        match worker.wait_reply(startup_timeout) {
            Ok(Reply::Ready) => {
                debug!(worker_pid = pid, "worker ready");
                Ok(worker)
            }
            Ok(other) => Err(ExecError::Unavailable(format!(
                "worker {pid} sent {other:?} instead of ready"
            ))),
            Err(CallError::TimedOut) => Err(ExecError::Unavailable(format!(
                "worker {pid} did not open the device within {startup_timeout:?}"
            ))),
            Err(err) => Err(ExecError::Unavailable(format!(
                "worker failed to start: {}",
                describe_call_error(&err)
            ))),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the worker has exited since its last request (e.g. killed from outside).
    pub fn has_exited(&mut self) -> bool {
        if self.exit.is_none() {
            match self.child.try_wait() {
                Ok(Some(status)) => self.exit = Some(status),
                Ok(None) => return false,
                Err(_) => return true,
            }
        }
        true
    }

    /// Sends `request` and waits at most `timeout` for its reply.
    pub fn call(&mut self, request: &Request<'_>, timeout: Duration) -> Result<Reply, CallError> {
        let deadline = Instant::now() + timeout;
        // A crash report should show what this request did, not an earlier one.
        self.stderr.clear();
        match write_frame(&mut self.stdin, request) {
            Ok(()) => {}
            // A broken pipe: the worker is gone; find out how.
            Err(FrameError::Io(_)) => return Err(self.died()),
            Err(err) => return Err(CallError::Unsendable(err)),
        }
        self.wait_reply(deadline.saturating_duration_since(Instant::now()))
    }

    fn wait_reply(&mut self, timeout: Duration) -> Result<Reply, CallError> {
        match self.replies.recv_timeout(timeout) {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(FrameError::Io(_) | FrameError::Truncated)) => Err(self.died()),
            Ok(Err(err)) => {
                self.kill();
                Err(CallError::Protocol(err.to_string()))
            }
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(CallError::TimedOut)
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.died()),
        }
    }

    /// The worker closed its reply pipe: collects its exit status and last stderr lines.
    fn died(&mut self) -> CallError {
        let give_up = Instant::now() + EXIT_GRACE;
        while !self.has_exited() && Instant::now() < give_up {
            thread::sleep(Duration::from_millis(10));
        }
        self.kill();
        CallError::Died {
            pid: self.pid(),
            status: self.exit,
            stderr_tail: self.stderr.lines(Duration::from_millis(500)),
        }
    }

    /// SIGKILLs the worker's process group and reaps the worker: no zombie is left behind.
    fn kill(&mut self) {
        if self.exit.is_some() {
            return;
        }
        let pid = self.pid() as libc::pid_t;
        // SAFETY: the worker is not reaped yet, so its pid (= group id) is still ours.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => self.exit = Some(status),
            Err(err) => warn!(worker_pid = pid, "cannot reap worker: {err}"),
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// "exited with code 3", "killed by signal 9", or what else is known about a call failure.
pub(super) fn describe_call_error(err: &CallError) -> String {
    match err {
        CallError::TimedOut => "no reply in time".into(),
        CallError::Protocol(detail) => format!("worker broke the protocol: {detail}"),
        CallError::Unsendable(err) => format!("request cannot be sent: {err}"),
        CallError::Died {
            pid,
            status,
            stderr_tail,
        } => {
            let how = match status {
                Some(status) => match (status.code(), status.signal()) {
                    (Some(code), _) => format!("exited with code {code}"),
                    (_, Some(signal)) => format!("was killed by signal {signal}"),
                    _ => format!("ended with {status}"),
                },
                None => "ended".into(),
            };
            let stderr = if stderr_tail.is_empty() {
                "(no stderr)".to_string()
            } else {
                stderr_tail.join(" | ")
            };
            format!("worker {pid} {how}; last stderr: {stderr}")
        }
    }
}

/// Forwards reply frames to a channel; the channel disconnects when the pipe closes.
fn read_replies(
    pid: u32,
    stdout: ChildStdout,
) -> std::io::Result<Receiver<Result<Reply, FrameError>>> {
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name(format!("worker-{pid}-replies"))
        .spawn(move || {
            let mut stdout = BufReader::new(stdout);
            loop {
                match read_frame::<_, Reply>(&mut stdout) {
                    Ok(Some(reply)) => {
                        if sender.send(Ok(reply)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(err) => {
                        let _ = sender.send(Err(err));
                        return;
                    }
                }
            }
        })?;
    Ok(receiver)
}

/// The last lines a worker wrote to stderr; every line also goes to tracing.
struct StderrTail {
    lines: Arc<Mutex<VecDeque<String>>>,
    /// Disconnects when the reading thread has seen the end of the pipe.
    finished: Receiver<()>,
}

impl StderrTail {
    fn drain(pid: u32, stderr: ChildStderr) -> std::io::Result<Self> {
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let (finished_sender, finished) = mpsc::channel::<()>();
        let tail = Arc::clone(&lines);
        thread::Builder::new()
            .name(format!("worker-{pid}-stderr"))
            .spawn(move || {
                let _finished = finished_sender;
                let mut stderr = BufReader::new(stderr);
                while let Some(line) = read_bounded_line(&mut stderr) {
                    log_worker_line(pid, &line);
                    let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                    if tail.len() == STDERR_TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            })?;
        Ok(Self { lines, finished })
    }

    fn clear(&self) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The kept lines, after waiting up to `wait` for the pipe to be read to its end.
    fn lines(&self, wait: Duration) -> Vec<String> {
        let _ = self.finished.recv_timeout(wait);
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().cloned().collect()
    }
}

/// One line without its newline, cut at `STDERR_LINE_MAX_BYTES`; `None` at the end of the pipe.
fn read_bounded_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = Vec::new();
    loop {
        let buffer = match reader.fill_buf() {
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Ok([]) | Err(_) if line.is_empty() => return None,
            Ok([]) | Err(_) => break,
            Ok(buffer) => buffer,
        };
        let (chunk, used, ends_line) = match buffer.iter().position(|b| *b == b'\n') {
            Some(newline) => (&buffer[..newline], newline + 1, true),
            None => (buffer, buffer.len(), false),
        };
        let room = STDERR_LINE_MAX_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        if ends_line {
            break;
        }
    }
    Some(String::from_utf8_lossy(&line).trim_end().to_string())
}

/// The worker's own warnings and errors stay visible; driver chatter and kernel output are
/// debug level, since a kernel could print without end.
fn log_worker_line(pid: u32, line: &str) {
    let level = line.trim_start();
    if level.starts_with("ERROR") || level.starts_with("WARN") {
        warn!(worker_pid = pid, "worker: {line}");
    } else {
        debug!(worker_pid = pid, "worker: {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_lines_are_split_and_cut_to_the_limit() {
        let long = "x".repeat(STDERR_LINE_MAX_BYTES * 3);
        let text = format!("first\n{long}\nlast without newline");
        let mut reader = BufReader::with_capacity(16, text.as_bytes());
        assert_eq!(read_bounded_line(&mut reader).as_deref(), Some("first"));
        assert_eq!(
            read_bounded_line(&mut reader).map(|line| line.len()),
            Some(STDERR_LINE_MAX_BYTES)
        );
        assert_eq!(
            read_bounded_line(&mut reader).as_deref(),
            Some("last without newline")
        );
        assert_eq!(read_bounded_line(&mut reader), None);
    }
}
