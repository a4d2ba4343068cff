//! The worker process, `opengpu-provider worker --platform P --device D --memory-limit-bytes N`.
//!
//! It limits its own address space, opens the device, says `Ready`, then answers one framed
//! request after another until stdin closes. Only protocol frames reach the parent's pipe on
//! stdout: file descriptor 1 is pointed at stderr, so driver chatter and kernel `printf` cannot
//! corrupt the stream.

use std::fs::File;
use std::io;
use std::os::fd::FromRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use cosmwasm_std::Binary;
use tracing::{debug, error};

use super::launch::DeviceSession;
use super::protocol::{read_frame, write_frame, Failure, FrameError, Reply, Request};
use crate::executor::DeviceSelector;

/// Exit codes the backend may see in its logs.
const EXIT_SETUP_FAILED: u8 = 2;
const EXIT_PROTOCOL_ERROR: u8 = 3;
/// A panic left the OpenCL state unknown: the worker answers, then makes way for a fresh one.
const EXIT_AFTER_PANIC: u8 = 4;
const EXIT_ORPHANED: i32 = 5;

/// Runs the worker until stdin closes; the exit code says why it stopped.
pub fn run(selector: DeviceSelector, memory_limit_bytes: u64) -> ExitCode {
    // First, before the driver maps anything: every later allocation counts against the limit.
    single_malloc_arena();
    if let Err(err) = limit_address_space(memory_limit_bytes) {
        eprintln!("cannot set RLIMIT_AS to {memory_limit_bytes} bytes: {err}");
        return ExitCode::from(EXIT_SETUP_FAILED);
    }
    init_logging();
    let mut replies = match take_stdout_for_protocol() {
        Ok(file) => file,
        Err(err) => {
            error!("cannot set up the reply pipe: {err}");
            return ExitCode::from(EXIT_SETUP_FAILED);
        }
    };
    exit_when_orphaned();
    let mut session = match DeviceSession::open(selector, memory_limit_bytes) {
        Ok(session) => session,
        Err(err) => {
            // Too small a limit shows up here first (the driver cannot even load).
            error!(
                "cannot open OpenCL device {selector:?} with a {memory_limit_bytes}-byte \
                 memory limit: {err}"
            );
            return ExitCode::from(EXIT_SETUP_FAILED);
        }
    };
    if let Err(err) = write_frame(&mut replies, &Reply::Ready) {
        error!("cannot say ready: {err}");
        return ExitCode::from(EXIT_PROTOCOL_ERROR);
    }
    let mut requests = io::stdin().lock();
    loop {
        let (reply, panicked) = match read_frame::<_, Request<'static>>(&mut requests) {
            Ok(Some(Request::Run { kernel, input_dir })) => {
                serve(&mut session, &kernel, input_dir.as_deref())
            }
            Ok(None) => return ExitCode::SUCCESS,
            Err(FrameError::NoMemory { len }) => {
                let failure = Failure::OutOfMemory(format!(
                    "a {len}-byte request does not fit the worker's memory limit of \
                     {memory_limit_bytes} bytes"
                ));
                (Reply::Failed { failure }, false)
            }
            Err(err) => {
                error!("cannot read a request: {err}");
                return ExitCode::from(EXIT_PROTOCOL_ERROR);
            }
        };
        if let Err(err) = write_frame(&mut replies, &reply) {
            error!("cannot send a reply: {err}");
            return ExitCode::from(EXIT_PROTOCOL_ERROR);
        }
        if panicked {
            return ExitCode::from(EXIT_AFTER_PANIC);
        }
    }
}

/// One launch as a reply, and whether it panicked (ocl panics on a few driver errors).
fn serve(
    session: &mut DeviceSession,
    kernel: &opengpu_types::kernel::Kernel,
    input_dir: Option<&std::path::Path>,
) -> (Reply, bool) {
    match panic::catch_unwind(AssertUnwindSafe(|| session.launch(kernel, input_dir))) {
        Ok(Ok(launched)) => {
            let reply = Reply::Ran {
                outputs: launched.outputs.into_iter().map(Binary::from).collect(),
                elapsed: launched.elapsed,
                kernel_elapsed: launched.kernel_elapsed,
                cache_hit: launched.cache_hit,
            };
            (reply, false)
        }
        Ok(Err(failure)) => {
            // Debug only: the backend reports the failure, and a crash report built from
            // stderr should not find an earlier request's "out of memory" in it.
            debug!("launch of {:?} failed: {failure:?}", kernel.entry_point);
            (Reply::Failed { failure }, false)
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            let failure = Failure::Launch(format!("worker panicked: {message}"));
            (Reply::Failed { failure }, true)
        }
    }
}

/// Sets `RLIMIT_AS`, never above the hard limit this process already has.
fn limit_address_space(bytes: u64) -> io::Result<()> {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed to them.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut current) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let limit = (bytes as libc::rlim_t).min(current.rlim_max);
    let wanted = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &wanted) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// glibc reserves 64 MiB of address space per thread that allocates; with the driver's threads
/// that is ~160 MiB of RLIMIT_AS spent on nothing. One arena keeps the limit about real memory.
fn single_malloc_arena() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only tunes the allocator; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Logs go to stderr, where the backend reads them; it adds its own time and worker pid.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// Moves the reply pipe to a private descriptor and points fd 1 at stderr.
fn take_stdout_for_protocol() -> io::Result<File> {
    // SAFETY: descriptor calls on this process's own stdout and stderr; the duplicate is
    // close-on-exec so programs the driver runs (a linker) do not inherit the pipe.
    unsafe {
        let protocol_fd = libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 3);
        if protocol_fd < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(File::from_raw_fd(protocol_fd))
    }
}

/// A worker stuck in a kernel never sees stdin close; if the daemon dies, it exits anyway.
fn exit_when_orphaned() {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    let watcher = thread::Builder::new()
        .name("parent-watch".into())
        .stack_size(64 * 1024)
        .spawn(move || loop {
            thread::sleep(Duration::from_millis(500));
            if unsafe { libc::getppid() } != parent {
                // SAFETY: _exit ends the process without running anything else.
                unsafe { libc::_exit(EXIT_ORPHANED) };
            }
        });
    if let Err(err) = watcher {
        error!("cannot watch the parent process: {err}");
    }
}
