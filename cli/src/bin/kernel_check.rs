//! `opengpu-kernel-check`: the child process in which `opengpu task publish` checks a kernel on
//! this machine's OpenCL device (`opengpu_opencl::child`). Not for people: it reads the kernel as
//! JSON on stdin and answers on stdout. It is a program of its own, not an `opengpu`
//! subcommand, so that `opengpu` never links the OpenCL driver.

fn main() -> std::process::ExitCode {
    opengpu_opencl::child::serve()
}
