//! Inside the worker: one device's context and queue, the program cache, and one kernel launch
//! from source to output bytes. Every OpenCL error becomes a [`Failure`]; nothing here panics
//! on a task's input.

use std::path::Path;
use std::time::{Duration, Instant};

use ocl::core::{
    self, ArgVal, CommandQueue, Context, ContextProperties, DeviceId, Event, KernelInfo,
    KernelInfoResult, Mem, MemFlags, Program,
};
use opengpu_types::kernel::{Kernel, KernelArg};
use tracing::debug;

use super::cache::{program_key, ProgramCache};
use super::compile::{build_program, BUILD_OPTIONS};
use super::devices;
use super::protocol::Failure;
use super::{cl_failure, describe_cl_error};
use crate::executor::{DeviceSelector, ExecError};

/// Compiled programs kept per worker.
const PROGRAM_CACHE_CAPACITY: usize = 64;

/// What one successful launch produced.
pub(super) struct Launched {
    pub outputs: Vec<Vec<u8>>,
    pub elapsed: Duration,
    /// Enqueue to finish of the kernel alone, buffers already filled.
    pub kernel_elapsed: Duration,
    pub cache_hit: bool,
}

/// An open device and the programs built for it.
pub(super) struct DeviceSession {
    device: DeviceId,
    context: Context,
    queue: CommandQueue,
    max_mem_alloc_bytes: u64,
    memory_limit_bytes: u64,
    /// A CPU device's buffers live in the worker's own address space.
    buffers_in_host_memory: bool,
    /// A build outcome per source: the program, or the build log of a program that failed.
    programs: ProgramCache<Result<Program, String>>,
}

impl DeviceSession {
    pub fn open(selector: DeviceSelector, memory_limit_bytes: u64) -> Result<Self, ExecError> {
        let unavailable =
            |call: &str, err: &core::Error| ExecError::Unavailable(describe_cl_error(call, err));
        let (platform, device) = devices::select(selector)?;
        let properties = ContextProperties::new().platform(platform);
        let context = core::create_context(Some(&properties), &[device], None, None)
            .map_err(|err| unavailable("clCreateContext", &err))?;
        let queue = core::create_command_queue(&context, device, None)
            .map_err(|err| unavailable("clCreateCommandQueue", &err))?;
        Ok(Self {
            device,
            context,
            queue,
            max_mem_alloc_bytes: devices::max_mem_alloc_bytes(device)?,
            memory_limit_bytes,
            buffers_in_host_memory: devices::is_cpu(device)?,
            programs: ProgramCache::new(PROGRAM_CACHE_CAPACITY),
        })
    }

    /// Builds (or finds) the program, launches the kernel once and reads its outputs back.
    pub fn launch(
        &mut self,
        kernel: &Kernel,
        input_dir: Option<&Path>,
    ) -> Result<Launched, Failure> {
        let started = Instant::now();
        let work = WorkSize::of(kernel)?;
        self.check_buffer_sizes(&kernel.args)?;
        let (program, cache_hit) = self.program(&kernel.source)?;
        let cl_kernel = core::create_kernel(&program, &kernel.entry_point).map_err(|err| {
            Failure::Launch(format!(
                "no kernel {:?} in the program ({})",
                kernel.entry_point,
                describe_cl_error("clCreateKernel", &err)
            ))
        })?;
        match core::get_kernel_info(&cl_kernel, KernelInfo::NumArgs) {
            Ok(KernelInfoResult::NumArgs(n)) if n as usize != kernel.args.len() => {
                return Err(Failure::Launch(format!(
                    "kernel {:?} takes {n} arguments; the task gives {}",
                    kernel.entry_point,
                    kernel.args.len()
                )));
            }
            _ => {}
        }
        let buffers = self.bind_args(&cl_kernel, &kernel.args, input_dir)?;
        // Uploads and fills first, so the kernel's own time can be told apart.
        core::finish(&self.queue).map_err(|err| cl_failure("clFinish", &err))?;
        let kernel_started = Instant::now();
        // SAFETY: every argument is set and its buffer lives in `buffers` past `finish` below.
        unsafe {
            core::enqueue_kernel(
                &self.queue,
                &cl_kernel,
                work.dims,
                None,
                &work.global,
                work.local,
                None::<Event>,
                None::<&mut Event>,
            )
        }
        .map_err(|err| cl_failure("clEnqueueNDRangeKernel", &err))?;
        core::finish(&self.queue).map_err(|err| cl_failure("clFinish", &err))?;
        let kernel_elapsed = kernel_started.elapsed();
        let outputs = buffers
            .outputs
            .iter()
            .map(|(mem, len)| self.read_back(mem, *len))
            .collect::<Result<_, _>>()?;
        Ok(Launched {
            outputs,
            elapsed: started.elapsed(),
            kernel_elapsed,
            cache_hit,
        })
    }

    /// Refuses buffers that cannot fit before asking the driver: under RLIMIT_AS, PoCL 3.1
    /// answers a failed allocation with an assertion (abort), not an error code.
    fn check_buffer_sizes(&self, args: &[KernelArg]) -> Result<(), Failure> {
        let (mut device_bytes, mut output_bytes, mut file_bytes) = (0u64, 0u64, 0u64);
        for (index, arg) in args.iter().enumerate() {
            let size = match arg {
                KernelArg::Input { data } => data.len() as u64,
                KernelArg::RemoteInput { size, .. } => {
                    file_bytes = file_bytes.saturating_add(*size);
                    *size
                }
                KernelArg::Output { size } => {
                    output_bytes = output_bytes.saturating_add(*size);
                    *size
                }
                _ => continue,
            };
            if size == 0 {
                return Err(Failure::Launch(format!(
                    "argument {index} is a zero-sized buffer"
                )));
            }
            if size > self.max_mem_alloc_bytes {
                return Err(Failure::OutOfMemory(format!(
                    "argument {index} needs a {size}-byte buffer; the device allocates at most {} \
                     bytes per buffer",
                    self.max_mem_alloc_bytes
                )));
            }
            device_bytes = device_bytes.saturating_add(size);
        }
        // Host memory: a CPU device's buffers themselves, every off-chain input once more
        // (read from its file before the upload), and every output three times over
        // (read-back, its base64 text, the reply frame).
        let host_bytes = if self.buffers_in_host_memory {
            device_bytes
        } else {
            0
        }
        .saturating_add(file_bytes)
        .saturating_add(output_bytes.saturating_mul(3));
        let free = free_address_space(self.memory_limit_bytes).unwrap_or(self.memory_limit_bytes);
        if host_bytes > free {
            return Err(Failure::OutOfMemory(format!(
                "buffers need {host_bytes} bytes of host memory; {free} bytes of the worker's \
                 {}-byte limit are free",
                self.memory_limit_bytes
            )));
        }
        Ok(())
    }

    /// The built program for `source` and whether it came from the cache.
    fn program(&mut self, source: &str) -> Result<(Program, bool), Failure> {
        let key = program_key(source, BUILD_OPTIONS);
        let (outcome, cache_hit) = match self.programs.get(&key) {
            Some(outcome) => (outcome.clone(), true),
            None => {
                let started = Instant::now();
                let outcome = build_program(&self.context, self.device, source)?;
                let outcome = self.programs.insert(key, outcome).clone();
                debug!(
                    took = ?started.elapsed(),
                    built = outcome.is_ok(),
                    cached_programs = self.programs.len(),
                    "compiled a program"
                );
                (outcome, false)
            }
        };
        outcome
            .map(|program| (program, cache_hit))
            .map_err(Failure::Compile)
    }

    /// Sets every argument; returns the buffers, which must outlive the launch.
    fn bind_args(
        &self,
        cl_kernel: &core::Kernel,
        args: &[KernelArg],
        input_dir: Option<&Path>,
    ) -> Result<BoundBuffers, Failure> {
        let mut buffers = BoundBuffers::default();
        for (index, arg) in args.iter().enumerate() {
            let set = |value: ArgVal| {
                core::set_kernel_arg(cl_kernel, index as u32, value).map_err(|err| {
                    Failure::Launch(format!(
                        "argument {index} ({}) does not fit the kernel: {}",
                        arg.kind(),
                        describe_cl_error("clSetKernelArg", &err)
                    ))
                })
            };
            match arg {
                KernelArg::Input { data } => {
                    let flags = MemFlags::READ_ONLY | MemFlags::COPY_HOST_PTR;
                    let mem = self.create_buffer(flags, data.len(), Some(data.as_slice()))?;
                    set(ArgVal::mem(&mem))?;
                    buffers.inputs.push(mem);
                }
                KernelArg::RemoteInput { sha256, size, .. } => {
                    let data = read_input_file(input_dir, sha256, *size)?;
                    let flags = MemFlags::READ_ONLY | MemFlags::COPY_HOST_PTR;
                    let mem = self.create_buffer(flags, data.len(), Some(&data))?;
                    set(ArgVal::mem(&mem))?;
                    buffers.inputs.push(mem);
                }
                KernelArg::Output { size } => {
                    let len = byte_len(*size)?;
                    // Read-write: a kernel may accumulate into its zeroed output.
                    let mem = self.create_buffer(MemFlags::READ_WRITE, len, None)?;
                    core::enqueue_fill_buffer(
                        &self.queue,
                        &mem,
                        0u8,
                        0,
                        len,
                        None::<Event>,
                        None::<&mut Event>,
                        None,
                    )
                    .map_err(|err| cl_failure("clEnqueueFillBuffer", &err))?;
                    set(ArgVal::mem(&mem))?;
                    buffers.outputs.push((mem, len));
                }
                KernelArg::Local { size } => set(ArgVal::local::<u8>(&byte_len(*size)?))?,
                KernelArg::U32 { value } => set(ArgVal::scalar(value))?,
                KernelArg::I32 { value } => set(ArgVal::scalar(value))?,
                KernelArg::U64 { value } => set(ArgVal::scalar(&value.u64()))?,
                KernelArg::I64 { value } => set(ArgVal::scalar(&value.i64()))?,
                KernelArg::F32 { bits } => set(ArgVal::scalar(&f32::from_bits(*bits)))?,
                KernelArg::F64 { bits } => set(ArgVal::scalar(&f64::from_bits(bits.u64())))?,
            }
        }
        Ok(buffers)
    }

    fn create_buffer(
        &self,
        flags: MemFlags,
        len: usize,
        data: Option<&[u8]>,
    ) -> Result<Mem, Failure> {
        // SAFETY: `data`, when given, has exactly `len` bytes (ocl checks) and COPY_HOST_PTR
        // copies it during the call; without it no host pointer is passed.
        unsafe { core::create_buffer(&self.context, flags, len, data) }
            .map_err(|err| cl_failure("clCreateBuffer", &err))
    }

    fn read_back(&self, mem: &Mem, len: usize) -> Result<Vec<u8>, Failure> {
        let mut host = Vec::new();
        // Under RLIMIT_AS a plain `vec![0; len]` would abort the worker instead of failing.
        host.try_reserve_exact(len).map_err(|_| {
            Failure::OutOfMemory(format!("no host memory to read back {len} output bytes"))
        })?;
        host.resize(len, 0);
        // SAFETY: a blocking read into `host`, which holds exactly the buffer's `len` bytes.
        unsafe {
            core::enqueue_read_buffer(
                &self.queue,
                mem,
                true,
                0,
                &mut host,
                None::<Event>,
                None::<&mut Event>,
            )
        }
        .map_err(|err| cl_failure("clEnqueueReadBuffer", &err))?;
        Ok(host)
    }
}

/// The buffers of one launch.
#[derive(Default)]
struct BoundBuffers {
    /// Kept only so they live until the launch is over.
    inputs: Vec<Mem>,
    /// With their sizes in bytes, in argument order.
    outputs: Vec<(Mem, usize)>,
}

/// The NDRange in the padded form `clEnqueueNDRangeKernel` takes.
struct WorkSize {
    dims: u32,
    global: [usize; 3],
    local: Option<[usize; 3]>,
}

impl WorkSize {
    fn of(kernel: &Kernel) -> Result<Self, Failure> {
        let padded = |sizes: &[u64], what: &str| -> Result<[usize; 3], Failure> {
            if sizes.is_empty() || sizes.len() > 3 || sizes.contains(&0) {
                return Err(Failure::Launch(format!(
                    "{what} work size {sizes:?} needs 1 to 3 non-zero dimensions"
                )));
            }
            let mut out = [1usize; 3];
            for (slot, size) in out.iter_mut().zip(sizes) {
                *slot = usize::try_from(*size).map_err(|_| {
                    Failure::Launch(format!("{what} work size {size} does not fit this host"))
                })?;
            }
            Ok(out)
        };
        let global = padded(&kernel.global_work_size, "global")?;
        let local = match &kernel.local_work_size {
            Some(local) if local.len() != kernel.global_work_size.len() => {
                return Err(Failure::Launch(format!(
                    "local work size {local:?} and global {:?} differ in dimensions",
                    kernel.global_work_size
                )));
            }
            Some(local) => Some(padded(local, "local")?),
            None => None,
        };
        Ok(Self {
            dims: kernel.global_work_size.len() as u32,
            global,
            local,
        })
    }
}

/// Address space still free under `limit`, from the size `/proc/self/statm` reports.
fn free_address_space(limit: u64) -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().next()?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page_size = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    Some(limit.saturating_sub(pages.saturating_mul(page_size)))
}

/// The bytes of a checked off-chain input: the daemon fetched it into `input_dir` under its
/// sha256 and checked it there before asking for the run.
fn read_input_file(input_dir: Option<&Path>, sha256: &[u8], size: u64) -> Result<Vec<u8>, Failure> {
    let dir = input_dir.ok_or_else(|| {
        Failure::Launch("the task has an off-chain input and this worker no input directory".into())
    })?;
    let path = dir.join(hex::encode(sha256));
    let mut data = Vec::new();
    // Under RLIMIT_AS an allocation that cannot succeed must fail here, not abort the worker.
    data.try_reserve_exact(byte_len(size)?).map_err(|_| {
        Failure::OutOfMemory(format!("no memory to read a {size}-byte off-chain input"))
    })?;
    let unreadable =
        |e: std::io::Error| Failure::Launch(format!("off-chain input {}: {e}", path.display()));
    let file = std::fs::File::open(&path).map_err(unreadable)?;
    let on_disk = file.metadata().map_err(unreadable)?.len();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, size), &mut data)
        .map_err(unreadable)?;
    if on_disk != size || data.len() as u64 != size {
        return Err(Failure::Launch(format!(
            "off-chain input {} has {} bytes, the task {size}",
            path.display(),
            data.len()
        )));
    }
    Ok(data)
}

fn byte_len(size: u64) -> Result<usize, Failure> {
    usize::try_from(size)
        .map_err(|_| Failure::OutOfMemory(format!("a {size}-byte buffer does not fit this host")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_address_space_is_the_limit_less_what_is_mapped() {
        let free = free_address_space(u64::MAX).expect("/proc/self/statm");
        assert!(free < u64::MAX, "this process maps something");
        assert_eq!(free_address_space(0), Some(0));
    }
}
