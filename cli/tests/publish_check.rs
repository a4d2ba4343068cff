//! `opengpu task publish` checks the kernel on this machine's OpenCL device (PoCL on CI) before
//! it touches the network. No chain: the deployment names a node that is not there, so a
//! command that got past the check fails connecting, and one stopped by the check never tries.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const OPENGPU: &str = env!("CARGO_BIN_EXE_opengpu");

/// What a command that got past every local check says.
const UNREACHABLE: &str = "cannot reach the node at";

/// A kernel named after the OpenCL C built-in `mix`: it builds, but the program has no kernel
/// `mix` afterwards (PoCL keeps it as `_cl_mix`), so every provider refuses the task.
const MIX: &str = "__kernel void mix(__global const float* a, __global float* out) {
    out[get_global_id(0)] = a[get_global_id(0)] * 0.5f;
}";
const SCALE: &str = "__kernel void scale(__global const float* a, __global float* out) {
    out[get_global_id(0)] = a[get_global_id(0)] * 0.5f;
}";

struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// Kernel files, an input, and a deployment whose node is a closed loopback port.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("mix.cl"), MIX).unwrap();
        std::fs::write(path("scale.cl"), SCALE).unwrap();
        std::fs::write(path("in.bin"), [0u8; 16]).unwrap();
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().unwrap().port()
        };
        let contract = |code_id: u64, address: &str| serde_json::json!({"code_id": code_id, "checksum": "00", "address": address});
        let deployment = serde_json::json!({
            "chain_id": "nowhere-1",
            "rpc": format!("http://127.0.0.1:{port}"),
            "bech32_prefix": "wasm",
            "stake_denom": "ustake",
            "gas_price": "0.025ustake",
            "contracts": {
                "registry": contract(1, "wasm1registry"),
                "task_market": contract(2, "wasm1market"),
                "staking_vault": contract(3, "wasm1vault"),
                "verification": contract(4, "wasm1verification"),
            },
        });
        std::fs::write(path("deployment.json"), deployment.to_string()).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `opengpu task publish` of `file` (entry point `entry`, an input and an output buffer),
    /// with `extra` flags and `env`.
    fn publish(&self, file: &str, entry: &str, extra: &[&str], env: &[(&str, &Path)]) -> Output {
        let mut cmd = Command::new(OPENGPU);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("OPENGPU_") {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(self.dir.path())
            .arg("--home")
            .arg(self.path("home"))
            .arg("--deployment")
            .arg(self.path("deployment.json"))
            .args(["task", "publish", "--kernel", file, "--entry", entry])
            .args([
                "--global",
                "4",
                "--arg",
                "buffer:in.bin",
                "--arg",
                "output:16",
            ])
            .args([
                "--payment",
                "100ustake",
                "--deadline-blocks",
                "10",
                "--unverified",
            ])
            .args(extra);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("run opengpu")
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_kernel_whose_entry_point_is_missing_fails_locally_and_nothing_is_sent() {
    let work = Workdir::new();
    let output = work.publish("mix.cl", "mix", &[], &[]);
    let err = stderr(&output);
    assert!(!output.status.success(), "{err}");
    assert!(
        err.starts_with("error: the built program has no kernel \"mix\""),
        "{err}"
    );
    assert!(err.contains("OpenCL C built-in"), "{err}");
    assert!(err.contains("nothing was published"), "{err}");
    // Stopped before the network: no attempt to reach the node.
    assert!(!err.contains(UNREACHABLE), "{err}");
    assert!(output.stdout.is_empty());
}

#[test]
fn without_the_check_the_same_kernel_would_go_to_the_chain() {
    let work = Workdir::new();
    let output = work.publish("mix.cl", "mix", &["--no-local-check"], &[]);
    let err = stderr(&output);
    assert!(err.contains(UNREACHABLE), "{err}");
    assert!(!err.contains("no kernel"), "{err}");
}

#[test]
fn a_kernel_that_passes_the_check_goes_on_to_the_chain() {
    let work = Workdir::new();
    let output = work.publish("scale.cl", "scale", &["--local-check"], &[]);
    let err = stderr(&output);
    assert!(err.starts_with(&format!("error: {UNREACHABLE}")), "{err}");
    // The checker's driver chatter stays in the child.
    assert!(output.stdout.is_empty());
}

#[test]
fn a_wrong_argument_list_is_refused_naming_the_parameter() {
    let work = Workdir::new();
    let output = work.publish("scale.cl", "scale", &["--arg", "u32:4"], &[]);
    let err = stderr(&output);
    assert!(
        err.starts_with("error: kernel \"scale\" takes 2 arguments; the task gives 3"),
        "{err}"
    );
    assert!(!err.contains(UNREACHABLE), "{err}");
}

#[test]
fn with_no_opencl_platform_the_publish_warns_unless_the_check_was_asked_for() {
    let work = Workdir::new();
    // The ICD loader finds no driver in an empty vendors directory.
    let vendors = work.path("no-vendors");
    std::fs::create_dir(&vendors).unwrap();
    let env = [("OCL_ICD_VENDORS", vendors.as_path())];
    let output = work.publish("mix.cl", "mix", &[], &env);
    let err = stderr(&output);
    assert!(
        err.starts_with(
            "warning: no local kernel check: no OpenCL platform (driver) is installed; \
             publishing the kernel unchecked"
        ),
        "{err}"
    );
    assert!(err.contains(UNREACHABLE), "{err}");

    let output = work.publish("mix.cl", "mix", &["--local-check"], &env);
    let err = stderr(&output);
    assert_eq!(
        err.trim_end(),
        "error: no local kernel check: no OpenCL platform (driver) is installed, and \
         --local-check requires it"
    );
}

#[test]
fn with_no_checker_the_publish_warns_unless_the_check_was_asked_for() {
    let work = Workdir::new();
    let missing = work.path("no-such-checker");
    let env = [("OPENGPU_KERNEL_CHECK", missing.as_path())];
    let output = work.publish("mix.cl", "mix", &[], &env);
    let err = stderr(&output);
    assert!(
        err.starts_with("warning: no local kernel check: the checker ")
            && err.contains("is not installed; publishing the kernel unchecked"),
        "{err}"
    );
    assert!(err.contains(UNREACHABLE), "{err}");

    let output = work.publish("mix.cl", "mix", &["--local-check"], &env);
    let err = stderr(&output);
    assert!(err.contains("and --local-check requires it"), "{err}");
    assert!(!err.contains(UNREACHABLE), "{err}");
}
