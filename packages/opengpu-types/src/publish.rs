//! The market's rules for a new task that its config sets: the payment denom, the kernel
//! limits, the collateral minimum, the deadline range and the competition model's bounds.
//!
//! The market applies [`MarketConfig::check_publish`] in `PublishTask`; the CLI applies the same
//! function to the config it queried, before it broadcasts, so a task the market would refuse
//! fails on the client's machine with no fee spent.

use cosmwasm_std::Uint128;

use crate::auction;
use crate::consensus;
use crate::kernel::{Kernel, KernelError};
use crate::market::{CompetitionModel, MarketConfig};

/// What a `PublishTask` asks for, with the denom of the coin it pays.
#[derive(Clone, Copy, Debug)]
pub struct PublishTerms<'a> {
    pub denom: &'a str,
    pub kernel: &'a Kernel,
    /// Stake-denom collateral each committer locks.
    pub collateral: Uint128,
    pub deadline_blocks: u64,
    pub model: &'a CompetitionModel,
}

/// What the rules fix of a task that passes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publishable {
    /// Sizes of the kernel's output buffers, in argument order: the shape of every reveal.
    pub output_sizes: Vec<u64>,
    /// Most providers that may commit (or bid): a consensus task's replicas, else the market's
    /// `max_committers`.
    pub max_committers: u32,
}

/// Which of the market's publish rules a task breaks.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PublishError {
    #[error("denom {denom} is not accepted; accepted denoms: {accepted}")]
    DenomNotAccepted { denom: String, accepted: String },
    #[error("invalid kernel: {0}")]
    InvalidKernel(#[from] KernelError),
    #[error("collateral {got} is below the minimum {min}")]
    CollateralTooLow { got: Uint128, min: Uint128 },
    #[error("deadline of {got} blocks is outside the allowed {min}..={max}")]
    DeadlineOutOfRange { got: u64, min: u64, max: u64 },
    #[error("competition model rejected: {reason}")]
    InvalidModel { reason: String },
}

impl MarketConfig {
    /// Checks `terms` against this config's publish rules, in this order: the denom is
    /// accepted, the kernel fits the kernel limits ([`Kernel::validate`]), the collateral is
    /// at least the minimum, the deadline is within the range, and the model within its
    /// bounds ([`consensus::validate`] with `max_committers`, [`auction::validate`]).
    ///
    /// The verification policy is not here: the market asks the verification contract.
    pub fn check_publish(&self, terms: PublishTerms) -> Result<Publishable, PublishError> {
        if !self.allowed_denoms.iter().any(|d| d == terms.denom) {
            return Err(PublishError::DenomNotAccepted {
                denom: terms.denom.to_string(),
                accepted: self.allowed_denoms.join(", "),
            });
        }
        let params = &self.params;
        let output_sizes = terms.kernel.validate(&params.kernel_limits)?;
        if terms.collateral < params.min_collateral {
            return Err(PublishError::CollateralTooLow {
                got: terms.collateral,
                min: params.min_collateral,
            });
        }
        let deadlines = params.min_deadline_blocks..=params.max_deadline_blocks;
        if !deadlines.contains(&terms.deadline_blocks) {
            return Err(PublishError::DeadlineOutOfRange {
                got: terms.deadline_blocks,
                min: params.min_deadline_blocks,
                max: params.max_deadline_blocks,
            });
        }
        let invalid_model = |reason| PublishError::InvalidModel { reason };
        let max_committers = match *terms.model {
            CompetitionModel::Consensus {
                replicas,
                quorum,
                tolerance,
            } => {
                consensus::validate(replicas, quorum, tolerance.as_ref(), params.max_committers)
                    .map_err(invalid_model)?;
                replicas
            }
            CompetitionModel::Auction {
                bid_reveal_blocks,
                execute_blocks,
            } => {
                auction::validate(bid_reveal_blocks, execute_blocks).map_err(invalid_model)?;
                params.max_committers
            }
            CompetitionModel::FirstResponse | CompetitionModel::ManualConfirmation => {
                params.max_committers
            }
        };
        Ok(Publishable {
            output_sizes,
            max_committers,
        })
    }
}

#[cfg(test)]
mod tests {
    use cosmwasm_std::{Addr, Binary};

    use super::*;
    use crate::kernel::{KernelArg, KernelLimits};
    use crate::market::MarketParams;

    fn config() -> MarketConfig {
        MarketConfig {
            registry_addr: Addr::unchecked("registry"),
            vault_addr: Addr::unchecked("vault"),
            verification_addr: Addr::unchecked("verification"),
            allowed_denoms: vec!["uatom".into(), "ustake".into()],
            fee_bps: 100,
            fee_collector: Addr::unchecked("collector"),
            ibc: Default::default(),
            retention_blocks: crate::market::DEFAULT_RETENTION_BLOCKS,
            params: MarketParams {
                kernel_limits: KernelLimits {
                    max_source_bytes: 1024,
                    max_args: 8,
                    max_input_bytes: 64,
                    max_output_bytes: 64,
                },
                max_committers: 5,
                min_deadline_blocks: 5,
                max_deadline_blocks: 100,
                reveal_window_blocks: 10,
                confirm_window_blocks: 10,
                min_collateral: Uint128::new(10),
            },
        }
    }

    fn kernel() -> Kernel {
        Kernel {
            source: "__kernel void k(__global const uint* a, __global uint* out) {}".into(),
            entry_point: "k".into(),
            global_work_size: vec![4],
            local_work_size: None,
            args: vec![
                KernelArg::Input {
                    data: Binary::from(vec![0u8; 16]),
                },
                KernelArg::Output { size: 16 },
                KernelArg::Output { size: 8 },
            ],
        }
    }

    fn check(edit: impl FnOnce(&mut Terms)) -> Result<Publishable, PublishError> {
        let mut terms = Terms {
            denom: "uatom".into(),
            kernel: kernel(),
            collateral: Uint128::new(10),
            deadline_blocks: 5,
            model: CompetitionModel::FirstResponse,
        };
        edit(&mut terms);
        config().check_publish(PublishTerms {
            denom: &terms.denom,
            kernel: &terms.kernel,
            collateral: terms.collateral,
            deadline_blocks: terms.deadline_blocks,
            model: &terms.model,
        })
    }

    /// Owned terms, for editing in tests.
    struct Terms {
        denom: String,
        kernel: Kernel,
        collateral: Uint128,
        deadline_blocks: u64,
        model: CompetitionModel,
    }

    #[test]
    fn a_task_within_the_rules_gets_its_output_shape_and_committer_cap() {
        assert_eq!(
            check(|_| {}),
            Ok(Publishable {
                output_sizes: vec![16, 8],
                max_committers: 5
            })
        );
        let consensus = CompetitionModel::Consensus {
            replicas: 3,
            quorum: 2,
            tolerance: None,
        };
        assert_eq!(check(|t| t.model = consensus).unwrap().max_committers, 3);
        let auction = CompetitionModel::Auction {
            bid_reveal_blocks: 10,
            execute_blocks: 20,
        };
        assert_eq!(check(|t| t.model = auction).unwrap().max_committers, 5);
    }

    #[test]
    fn a_denom_the_market_does_not_accept_is_refused_listing_those_it_does() {
        assert_eq!(
            check(|t| t.denom = "ufoo".into()),
            Err(PublishError::DenomNotAccepted {
                denom: "ufoo".into(),
                accepted: "uatom, ustake".into()
            })
        );
    }

    #[test]
    fn a_kernel_over_the_limits_is_refused() {
        let err = check(|t| t.kernel.source = "x".repeat(1025)).unwrap_err();
        assert_eq!(
            err,
            PublishError::InvalidKernel(KernelError::SourceTooLarge {
                got: 1025,
                max: 1024
            })
        );
        assert_eq!(
            err.to_string(),
            "invalid kernel: kernel source has 1025 bytes; the limit is 1024"
        );
    }

    #[test]
    fn collateral_below_the_minimum_is_refused() {
        assert_eq!(
            check(|t| t.collateral = Uint128::new(10)).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            check(|t| t.collateral = Uint128::new(9)),
            Err(PublishError::CollateralTooLow {
                got: Uint128::new(9),
                min: Uint128::new(10)
            })
        );
    }

    #[test]
    fn a_deadline_outside_the_range_is_refused_at_both_ends() {
        assert!(check(|t| t.deadline_blocks = 100).is_ok());
        for got in [4, 101] {
            assert_eq!(
                check(|t| t.deadline_blocks = got),
                Err(PublishError::DeadlineOutOfRange {
                    got,
                    min: 5,
                    max: 100
                })
            );
        }
    }

    #[test]
    fn a_model_outside_its_bounds_is_refused() {
        let too_many = CompetitionModel::Consensus {
            replicas: 6,
            quorum: 4,
            tolerance: None,
        };
        let err = check(|t| t.model = too_many).unwrap_err();
        assert!(
            matches!(&err, PublishError::InvalidModel { reason } if reason.contains("max_committers")),
            "{err}"
        );
        let no_execution = CompetitionModel::Auction {
            bid_reveal_blocks: 10,
            execute_blocks: 0,
        };
        assert!(matches!(
            check(|t| t.model = no_execution),
            Err(PublishError::InvalidModel { .. })
        ));
    }

    #[test]
    fn the_first_broken_rule_is_the_one_reported() {
        let err = check(|t| {
            t.denom = "ufoo".into();
            t.collateral = Uint128::zero();
        })
        .unwrap_err();
        assert!(matches!(err, PublishError::DenomNotAccepted { .. }));
        let err = check(|t| {
            t.collateral = Uint128::zero();
            t.deadline_blocks = 0;
        })
        .unwrap_err();
        assert!(matches!(err, PublishError::CollateralTooLow { .. }));
    }
}
