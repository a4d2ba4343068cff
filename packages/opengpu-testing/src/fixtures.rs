//! Ready-made kernels, provider profiles, outputs and task specifications.

use cosmwasm_std::{coin, Binary, Coin, Decimal, Uint128};
use opengpu_types::consensus::FloatTolerance;
use opengpu_types::freivalds::FreivaldsSpec;
use opengpu_types::kernel::{Kernel, KernelArg, Requirements};
use opengpu_types::market::CompetitionModel;
use opengpu_types::registry::{DeviceInfo, DeviceType, ProviderProfile};
use opengpu_types::verification::VerificationPolicy;

use crate::builder::PAY_DENOM;

/// Salt used by the suite's commit/reveal helpers unless a test picks another.
pub const SALT: [u8; 32] = [0x5a; 32];

/// Adds two vectors of four `uint`s into a 16-byte output buffer.
pub fn default_kernel() -> Kernel {
    Kernel {
        source: "__kernel void add(__global const uint* a, __global const uint* b, \
                 __global uint* out) { size_t i = get_global_id(0); out[i] = a[i] + b[i]; }"
            .into(),
        entry_point: "add".into(),
        global_work_size: vec![4],
        local_work_size: Some(vec![2]),
        args: vec![
            KernelArg::Input {
                data: Binary::from(le_words(&[1, 2, 3, 4])),
            },
            KernelArg::Input {
                data: Binary::from(le_words(&[10, 20, 30, 40])),
            },
            KernelArg::Output { size: 16 },
        ],
    }
}

/// The correct result of `default_kernel`.
pub fn default_outputs() -> Vec<Binary> {
    vec![Binary::from(le_words(&[11, 22, 33, 44]))]
}

/// A well-formed 16-byte result that differs for each `seed` (seed 0 is the correct one).
pub fn outputs(seed: u32) -> Vec<Binary> {
    if seed == 0 {
        return default_outputs();
    }
    vec![Binary::from(le_words(&[seed, seed, seed, seed]))]
}

/// Side of the square matrices of `matmul_kernel`.
pub const MATMUL_N: u32 = 8;

/// C = A·B for 8×8 f32 matrices (A's element (i,j) is `(i + 2j) % 5 - 2`, B's `(3i + j) % 7 - 3`:
/// small integers, so the product is exact in f32).
pub fn matmul_kernel() -> Kernel {
    let n = MATMUL_N as usize;
    let a: Vec<f32> = (0..n * n)
        .map(|x| ((x / n + 2 * (x % n)) % 5) as f32 - 2.0)
        .collect();
    let b: Vec<f32> = (0..n * n)
        .map(|x| ((3 * (x / n) + x % n) % 7) as f32 - 3.0)
        .collect();
    Kernel {
        source: "__kernel void matmul(__global const float* a, __global const float* b, \
                 __global float* c, uint n) { size_t i = get_global_id(0), j = get_global_id(1); \
                 float s = 0; for (uint k = 0; k < n; k++) s += a[i*n+k] * b[k*n+j]; c[i*n+j] = s; }"
            .into(),
        entry_point: "matmul".into(),
        global_work_size: vec![n as u64, n as u64],
        local_work_size: None,
        args: vec![
            KernelArg::Input {
                data: Binary::from(le_floats(&a)),
            },
            KernelArg::Input {
                data: Binary::from(le_floats(&b)),
            },
            KernelArg::Output {
                size: (4 * n * n) as u64,
            },
            KernelArg::U32 { value: MATMUL_N },
        ],
    }
}

/// The Freivalds policy for `matmul_kernel`.
pub fn matmul_policy() -> VerificationPolicy {
    VerificationPolicy::Freivalds(FreivaldsSpec {
        a_arg: 0,
        b_arg: 1,
        c_arg: 2,
        m: MATMUL_N,
        k: MATMUL_N,
        n: MATMUL_N,
        tolerance: Decimal::permille(1),
    })
}

/// The product `matmul_kernel` computes, as its one output buffer.
pub fn matmul_outputs() -> Vec<Binary> {
    let kernel = matmul_kernel();
    let floats = |arg: &KernelArg| match arg {
        KernelArg::Input { data } => data
            .chunks_exact(4)
            .map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect::<Vec<f32>>(),
        _ => unreachable!("matmul inputs are buffers"),
    };
    let (a, b) = (floats(&kernel.args[0]), floats(&kernel.args[1]));
    let n = MATMUL_N as usize;
    let c: Vec<f32> = (0..n * n)
        .map(|x| (0..n).map(|k| a[(x / n) * n + k] * b[k * n + x % n]).sum())
        .collect();
    vec![Binary::from(le_floats(&c))]
}

/// `matmul_outputs` with element `index` moved by `delta`.
pub fn matmul_outputs_off_by(index: usize, delta: f32) -> Vec<Binary> {
    let mut bytes = matmul_outputs()[0].to_vec();
    let at = &mut bytes[4 * index..4 * index + 4];
    let value = f32::from_le_bytes([at[0], at[1], at[2], at[3]]) + delta;
    at.copy_from_slice(&value.to_le_bytes());
    vec![Binary::from(bytes)]
}

fn le_floats(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn le_words(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A GPU with 8 GiB that asks 10 of the payment denom per task.
pub fn default_profile(moniker: &str) -> ProviderProfile {
    ProviderProfile {
        moniker: moniker.into(),
        device: DeviceInfo {
            name: "Test GPU".into(),
            device_type: DeviceType::Gpu,
            compute_units: 32,
            global_mem_bytes: 8 << 30,
            max_work_group_size: 1024,
            fp64: true,
        },
        prices: vec![coin(10, PAY_DENOM)],
        payout_addr: None,
        payout_route: None,
    }
}

/// Everything `PublishTask` takes, with defaults a test overrides field by field.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    pub kernel: Kernel,
    pub requirements: Requirements,
    pub collateral: Uint128,
    pub deadline_blocks: u64,
    pub verification: VerificationPolicy,
    pub model: CompetitionModel,
    /// Attached as funds; `None` attaches nothing.
    pub budget: Option<Coin>,
}

impl Default for TaskSpec {
    fn default() -> Self {
        Self {
            kernel: default_kernel(),
            requirements: Requirements::default(),
            collateral: Uint128::new(100),
            deadline_blocks: 20,
            verification: VerificationPolicy::Unverified {},
            model: CompetitionModel::FirstResponse,
            budget: Some(coin(1_000, PAY_DENOM)),
        }
    }
}

impl TaskSpec {
    pub fn first_response() -> Self {
        Self::default()
    }

    pub fn manual_confirmation() -> Self {
        Self {
            model: CompetitionModel::ManualConfirmation,
            ..Self::default()
        }
    }

    /// Consensus with exact agreement.
    pub fn consensus(replicas: u32, quorum: u32) -> Self {
        Self {
            model: CompetitionModel::Consensus {
                replicas,
                quorum,
                tolerance: None,
            },
            ..Self::default()
        }
    }

    /// Consensus agreeing within a float tolerance.
    pub fn consensus_within(replicas: u32, quorum: u32, tolerance: FloatTolerance) -> Self {
        Self {
            model: CompetitionModel::Consensus {
                replicas,
                quorum,
                tolerance: Some(tolerance),
            },
            ..Self::default()
        }
    }

    /// A sealed-bid auction: the budget (1000) is the maximum price; bids until the deadline
    /// (20 blocks), 5 blocks to reveal bids, 10 to execute.
    pub fn auction() -> Self {
        Self {
            model: CompetitionModel::Auction {
                bid_reveal_blocks: 5,
                execute_blocks: 10,
            },
            ..Self::default()
        }
    }

    /// First Response on `matmul_kernel`, checked by Freivalds.
    pub fn freivalds() -> Self {
        Self {
            kernel: matmul_kernel(),
            verification: matmul_policy(),
            ..Self::default()
        }
    }

    pub fn model(mut self, model: CompetitionModel) -> Self {
        self.model = model;
        self
    }

    pub fn budget(mut self, budget: Coin) -> Self {
        self.budget = Some(budget);
        self
    }

    pub fn collateral(mut self, collateral: u128) -> Self {
        self.collateral = Uint128::new(collateral);
        self
    }

    pub fn deadline_blocks(mut self, blocks: u64) -> Self {
        self.deadline_blocks = blocks;
        self
    }

    pub fn verification(mut self, policy: VerificationPolicy) -> Self {
        self.verification = policy;
        self
    }
}
