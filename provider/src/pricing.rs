//! What the provider bids in an auction: its cost of running the task, from a rule per payment
//! denom, the way Akash providers price bids with a pricing script. In a second-price auction
//! bidding one's true cost is the best bid (see `opengpu_types::auction`), so the rule should
//! say what a run costs, not what the market might bear.
//!
//! ```text
//! bid = max(floor, ceil(work_items × per_work_item + input_bytes × per_input_byte
//!                       + output_bytes × per_output_byte), 1)
//! ```
//!
//! `work_items` is the product of the kernel's global work size, `input_bytes` the sum of its
//! input buffers, `output_bytes` the sum of the task's output sizes. The least bid is 1: the
//! market voids a bid of 0. Integer math on 18-decimal atomics throughout, saturating at the
//! largest amount, so the bid never decreases when the work grows.

use cosmwasm_std::{Decimal, Uint128, Uint256};
use opengpu_types::kernel::{Kernel, KernelArg};
use opengpu_types::market::TaskInfo;
use serde::Deserialize;

/// One denom's bid rule (`[policy.auction.bid_price]`). Every field defaults to zero.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BidPrice {
    /// Least bid, whatever the work.
    #[serde(default)]
    pub floor: Uint128,
    /// Per work item of the NDRange (product of the global work size).
    #[serde(default)]
    pub per_work_item: Decimal,
    /// Per byte of input buffers.
    #[serde(default)]
    pub per_input_byte: Decimal,
    /// Per byte of output buffers.
    #[serde(default)]
    pub per_output_byte: Decimal,
}

/// What a task asks of the device, in the units a [`BidPrice`] prices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub work_items: u128,
    pub input_bytes: u128,
    pub output_bytes: u128,
}

impl Work {
    /// The work of `task` whose kernel is `kernel`.
    pub fn of(task: &TaskInfo, kernel: &Kernel) -> Work {
        let work_items = kernel
            .global_work_size
            .iter()
            .fold(1u128, |acc, d| acc.saturating_mul(u128::from(*d)));
        let input_bytes = kernel
            .args
            .iter()
            .map(|arg| match arg {
                KernelArg::Input { data } => data.len() as u128,
                // Fetched before the run: as much work to move as bytes on-chain.
                KernelArg::RemoteInput { size, .. } => u128::from(*size),
                _ => 0,
            })
            .fold(0u128, u128::saturating_add);
        let output_bytes = task
            .output_sizes
            .iter()
            .fold(0u128, |acc, s| acc.saturating_add(u128::from(*s)));
        Work {
            work_items,
            input_bytes,
            output_bytes,
        }
    }
}

impl BidPrice {
    /// A flat bid: `floor`, whatever the work (the fallback for a denom without a rule).
    pub fn flat(floor: Uint128) -> BidPrice {
        BidPrice {
            floor,
            ..BidPrice::default()
        }
    }

    /// The bid for `work` (see the module doc).
    pub fn bid(&self, work: &Work) -> Uint128 {
        let cost = |count: u128, per_unit: Decimal| {
            Uint256::from(per_unit.atomics())
                .checked_mul(Uint256::from(count))
                .unwrap_or(Uint256::MAX)
        };
        let atomics = cost(work.work_items, self.per_work_item)
            .saturating_add(cost(work.input_bytes, self.per_input_byte))
            .saturating_add(cost(work.output_bytes, self.per_output_byte));
        let one = Uint256::from(Decimal::one().atomics());
        // ceil(atomics / one), without overflowing at the top.
        let whole = atomics / one + Uint256::from(u8::from(!(atomics % one).is_zero()));
        let whole = Uint128::try_from(whole).unwrap_or(Uint128::MAX);
        whole.max(self.floor).max(Uint128::one())
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cosmwasm_std::Binary;
    use proptest::prelude::*;

    use super::*;

    fn rule(floor: u128, item: &str, input: &str, output: &str) -> BidPrice {
        BidPrice {
            floor: Uint128::new(floor),
            per_work_item: Decimal::from_str(item).unwrap(),
            per_input_byte: Decimal::from_str(input).unwrap(),
            per_output_byte: Decimal::from_str(output).unwrap(),
        }
    }

    fn work(work_items: u128, input_bytes: u128, output_bytes: u128) -> Work {
        Work {
            work_items,
            input_bytes,
            output_bytes,
        }
    }

    #[test]
    fn the_floor_holds_until_the_work_costs_more() {
        let r = rule(500, "0.002", "0.0001", "0.0001");
        // 0.002 × 1000 + 0.0001 × 4000 + 0.0001 × 4000 = 2.8 -> the floor.
        assert_eq!(r.bid(&work(1_000, 4_000, 4_000)), Uint128::new(500));
        // 0.002 × 1_000_000 + 0.0001 × 8_000_000 + 0.0001 × 4_000_000 = 2000 + 800 + 400.
        assert_eq!(
            r.bid(&work(1_000_000, 8_000_000, 4_000_000)),
            Uint128::new(3_200)
        );
    }

    #[test]
    fn fractions_round_up() {
        let r = rule(0, "0.001", "0", "0");
        assert_eq!(r.bid(&work(1_001, 0, 0)), Uint128::new(2)); // 1.001
        assert_eq!(r.bid(&work(2_000, 0, 0)), Uint128::new(2)); // exactly 2
        assert_eq!(r.bid(&work(2_001, 0, 0)), Uint128::new(3));
    }

    #[test]
    fn a_bid_is_never_zero_and_a_flat_rule_ignores_the_work() {
        assert_eq!(BidPrice::default().bid(&work(0, 0, 0)), Uint128::one());
        let flat = BidPrice::flat(Uint128::new(700));
        assert_eq!(flat.bid(&work(u128::MAX, u128::MAX, 1)), Uint128::new(700));
    }

    #[test]
    fn huge_work_saturates_instead_of_wrapping() {
        let r = rule(0, "1000000", "1000000", "1000000");
        assert_eq!(r.bid(&work(u128::MAX, u128::MAX, u128::MAX)), Uint128::MAX);
    }

    #[test]
    fn work_counts_items_inputs_and_outputs() {
        let mut task = crate::policy::tests::task();
        task.output_sizes = vec![16, 48];
        let kernel = Kernel {
            source: "k".into(),
            entry_point: "k".into(),
            global_work_size: vec![8, 4, 2],
            local_work_size: None,
            args: vec![
                KernelArg::Input {
                    data: Binary::from(vec![0; 100]),
                },
                KernelArg::U32 { value: 3 },
                KernelArg::Input {
                    data: Binary::from(vec![0; 28]),
                },
                KernelArg::Local { size: 4096 },
                KernelArg::Output { size: 16 },
                KernelArg::Output { size: 48 },
            ],
        };
        assert_eq!(Work::of(&task, &kernel), work(64, 128, 64));
    }

    fn price() -> impl Strategy<Value = Decimal> {
        (0u128..10_000_000_000_000_000_000u128)
            .prop_map(|atomics| Decimal::new(Uint128::new(atomics)))
    }

    proptest! {
        #[test]
        fn more_work_never_bids_less(
            floor in 0u128..1_000_000,
            (item, input, output) in (price(), price(), price()),
            base in (0u128..1 << 64, 0u128..1 << 40, 0u128..1 << 40),
            extra in (0u128..1 << 64, 0u128..1 << 40, 0u128..1 << 40),
        ) {
            let r = BidPrice {
                floor: Uint128::new(floor),
                per_work_item: item,
                per_input_byte: input,
                per_output_byte: output,
            };
            let small = work(base.0, base.1, base.2);
            let large = work(base.0 + extra.0, base.1 + extra.1, base.2 + extra.2);
            prop_assert!(r.bid(&large) >= r.bid(&small));
            prop_assert!(r.bid(&small) >= Uint128::new(floor).max(Uint128::one()));
        }
    }
}
