//! Ready-made kernels, provider profiles, outputs and task specifications.

use cosmwasm_std::{coin, Binary, Coin, Uint128};
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
            verification: VerificationPolicy::WellFormed {},
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
