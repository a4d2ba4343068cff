//! Which tasks the provider takes. Pure: everything it decides on is passed in, so every rule
//! is tested without a chain.

use std::collections::BTreeMap;

use cosmwasm_std::Uint128;
use opengpu_types::kernel::Kernel;
use opengpu_types::market::{CompetitionModel, TaskInfo, TaskStatus};
use opengpu_types::registry::DeviceInfo;
use opengpu_types::verification::VerificationPolicy;

use crate::config::ModelName;
use crate::pricing::{BidPrice, Work};

/// The provider's standing rules (from the config).
#[derive(Clone, Debug)]
pub struct Rules {
    pub models: Vec<ModelName>,
    pub price_floor: BTreeMap<String, Uint128>,
    pub max_collateral: Option<Uint128>,
    pub deadline_margin_blocks: u64,
    /// Running plus queued tasks at most.
    pub max_in_flight: usize,
    /// Take First Response tasks whose verification is `Unverified {}`.
    pub accept_unverified: bool,
    /// Auction bid rules per denom; a denom without one bids its price floor flat.
    pub bid_prices: BTreeMap<String, BidPrice>,
}

/// The moment's facts.
#[derive(Clone, Debug)]
pub struct Situation<'a> {
    pub device: &'a DeviceInfo,
    pub height: u64,
    /// Bonded minus locked in the vault, minus collateral promised to tasks taken but not
    /// yet committed.
    pub free_stake: Uint128,
    pub in_flight: usize,
    /// This provider already has a commitment on the task.
    pub already_committed: bool,
}

/// A task the provider will run (or, in an auction, bid on), and the price it will ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Take {
    /// The offer under Manual Confirmation: the floor, which is at most the budget. It goes
    /// inside the commitment, so the reveal must carry this same price.
    pub offer: Option<Uint128>,
    /// The sealed bid under Auction: the denom's bid rule applied to the task's work, at most
    /// the budget.
    pub bid: Option<Uint128>,
}

/// Why a task was not taken. `label()` is the metrics label.
#[derive(thiserror::Error, Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    #[error("task is {0}, not open to commits")]
    NotOpen(TaskStatus),
    #[error("already committed to this task")]
    AlreadyCommitted,
    /// Every slot is taken (under Consensus there are only `replicas`).
    #[error("task has all {0} committers it allows")]
    CommittersFull(u32),
    #[error("competition model {0} is not served")]
    ModelNotServed(CompetitionModel),
    #[error("unverified First Response task: a placeholder committed earlier would win it")]
    Unverified,
    #[error("payment denom {0} has no price floor")]
    DenomNotAccepted(String),
    #[error("payment {budget}{denom} is below the floor {floor}{denom}")]
    PriceBelowFloor {
        budget: Uint128,
        floor: Uint128,
        denom: String,
    },
    /// Auction: the bid this provider's rule asks is above the task's maximum (its budget),
    /// where the market would void it.
    #[error("bid {bid}{denom} is above the auction's maximum {maximum}{denom}")]
    PriceAboveMaximum {
        bid: Uint128,
        maximum: Uint128,
        denom: String,
    },
    #[error("device unfit: {0}")]
    DeviceUnfit(String),
    #[error("collateral {collateral} is above the configured maximum {max}")]
    CollateralTooHigh { collateral: Uint128, max: Uint128 },
    #[error("collateral {collateral} exceeds the free stake {free}")]
    InsufficientStake { collateral: Uint128, free: Uint128 },
    #[error("deadline height {deadline} leaves under {margin} blocks from height {height}")]
    DeadlineTooClose {
        deadline: u64,
        height: u64,
        margin: u64,
    },
    #[error("{0} tasks already in flight")]
    AtCapacity(usize),
}

impl Skip {
    pub fn label(&self) -> &'static str {
        match self {
            Skip::NotOpen(_) => "not_open",
            Skip::AlreadyCommitted => "already_committed",
            Skip::CommittersFull(_) => "committers_full",
            Skip::ModelNotServed(_) => "model_not_served",
            Skip::Unverified => "unverified",
            Skip::DenomNotAccepted(_) => "denom_not_accepted",
            Skip::PriceBelowFloor { .. } => "price_below_floor",
            Skip::PriceAboveMaximum { .. } => "price_above_maximum",
            Skip::DeviceUnfit(_) => "device_unfit",
            Skip::CollateralTooHigh { .. } => "collateral_too_high",
            Skip::InsufficientStake { .. } => "insufficient_stake",
            Skip::DeadlineTooClose { .. } => "deadline_too_close",
            Skip::AtCapacity(_) => "at_capacity",
        }
    }
}

impl Rules {
    /// Takes `task` or says why not. Cheap checks on the task come first, the ones that
    /// depend on the provider's load last.
    pub fn decide(&self, task: &TaskInfo, kernel: &Kernel, now: &Situation) -> Result<Take, Skip> {
        if let Some(closed) = closed_to_commits(task) {
            return Err(closed);
        }
        if now.already_committed {
            return Err(Skip::AlreadyCommitted);
        }
        if !self.models.contains(&ModelName::of(&task.model)) {
            return Err(Skip::ModelNotServed(task.model));
        }
        // Under First Response the earliest valid commitment wins, and with no check any
        // right-sized bytes are valid: a placeholder committed in the publish block beats
        // every honest result. Sealed models have their own check (the client's confirmation,
        // the replicas' agreement), so only First Response is refused.
        if matches!(task.verification, VerificationPolicy::Unverified {})
            && task.model == CompetitionModel::FirstResponse
            && !self.accept_unverified
        {
            return Err(Skip::Unverified);
        }
        let floor = self.price_floor.get(&task.denom).copied();
        let bid = if task.model.is_auction() {
            let bid = self
                .bid_for(task, kernel)
                .ok_or_else(|| Skip::DenomNotAccepted(task.denom.clone()))?;
            if bid > task.budget {
                return Err(Skip::PriceAboveMaximum {
                    bid,
                    maximum: task.budget,
                    denom: task.denom.clone(),
                });
            }
            Some(bid)
        } else {
            let floor = floor.ok_or_else(|| Skip::DenomNotAccepted(task.denom.clone()))?;
            if task.budget < floor {
                return Err(Skip::PriceBelowFloor {
                    budget: task.budget,
                    floor,
                    denom: task.denom.clone(),
                });
            }
            None
        };
        if let Some(reason) = task
            .requirements
            .unmet_by(now.device, kernel.work_group_size())
        {
            return Err(Skip::DeviceUnfit(reason));
        }
        if let Some(max) = self.max_collateral {
            if task.collateral > max {
                return Err(Skip::CollateralTooHigh {
                    collateral: task.collateral,
                    max,
                });
            }
        }
        if task.collateral > now.free_stake {
            return Err(Skip::InsufficientStake {
                collateral: task.collateral,
                free: now.free_stake,
            });
        }
        if now.height.saturating_add(self.deadline_margin_blocks) > task.deadline_height {
            return Err(Skip::DeadlineTooClose {
                deadline: task.deadline_height,
                height: now.height,
                margin: self.deadline_margin_blocks,
            });
        }
        if now.in_flight >= self.max_in_flight {
            return Err(Skip::AtCapacity(now.in_flight));
        }
        let offer = if task.model.takes_price() {
            floor
        } else {
            None
        };
        Ok(Take { offer, bid })
    }

    /// What this provider bids on auction `task`: the denom's bid rule, or its price floor
    /// flat when it has no rule; `None` when the denom has neither.
    pub fn bid_for(&self, task: &TaskInfo, kernel: &Kernel) -> Option<Uint128> {
        let rule = match self.bid_prices.get(&task.denom) {
            Some(rule) => rule.clone(),
            None => BidPrice::flat(*self.price_floor.get(&task.denom)?),
        };
        Some(rule.bid(&Work::of(task, kernel)))
    }
}

/// Why `task` takes no further commitment (in an auction, no further bid) now, if it does
/// not: it ended ([`Skip::NotOpen`]), or every slot is taken ([`Skip::CommittersFull`]). The
/// policy's first rule, which a job applies again before it runs a task and before it commits.
pub fn closed_to_commits(task: &TaskInfo) -> Option<Skip> {
    if !matches!(task.status, TaskStatus::Open | TaskStatus::Committed) {
        return Some(Skip::NotOpen(task.status));
    }
    // An auction's slots are its bids (results come from the awardee alone).
    let taken = if task.model.is_auction() {
        task.auction.as_ref().map_or(0, |a| a.bid_count)
    } else {
        task.commit_count
    };
    (taken >= task.max_committers).then_some(Skip::CommittersFull(task.max_committers))
}

#[cfg(test)]
pub(crate) mod tests {
    use cosmwasm_std::{Addr, HexBinary};
    use opengpu_types::kernel::{KernelArg, Requirements};
    use opengpu_types::registry::DeviceType;

    use super::*;

    fn rules() -> Rules {
        Rules {
            models: vec![ModelName::FirstResponse],
            price_floor: BTreeMap::from([("uatom".to_string(), Uint128::new(100))]),
            max_collateral: Some(Uint128::new(5_000)),
            deadline_margin_blocks: 3,
            max_in_flight: 2,
            accept_unverified: false,
            bid_prices: BTreeMap::new(),
        }
    }

    fn consensus() -> CompetitionModel {
        CompetitionModel::Consensus {
            replicas: 3,
            quorum: 2,
            tolerance: None,
        }
    }

    /// A First Response task the default rules take; other tests start from it.
    pub(crate) fn task() -> TaskInfo {
        TaskInfo {
            id: 1,
            client: Addr::unchecked("client"),
            model: CompetitionModel::FirstResponse,
            requirements: Requirements::default(),
            verification: VerificationPolicy::ReferenceHash {
                sha256: HexBinary::from(vec![0; 32]),
            },
            denom: "uatom".into(),
            budget: Uint128::new(1_000),
            collateral: Uint128::new(1_000),
            output_sizes: vec![4],
            fee_bps: 100,
            created_height: 10,
            deadline_height: 30,
            reveal_window_blocks: 50,
            confirm_window_blocks: 50,
            max_committers: 5,
            status: TaskStatus::Open,
            commit_count: 0,
            settlement: None,
            auction: None,
            remote_client: None,
        }
    }

    fn kernel() -> Kernel {
        Kernel {
            source: "__kernel void k(__global uint *o) { o[0] = 1; }".into(),
            entry_point: "k".into(),
            global_work_size: vec![1],
            local_work_size: Some(vec![64]),
            args: vec![KernelArg::Output { size: 4 }],
        }
    }

    fn device() -> DeviceInfo {
        DeviceInfo {
            name: "cpu".into(),
            device_type: DeviceType::Cpu,
            compute_units: 2,
            global_mem_bytes: 1 << 30,
            max_work_group_size: 4096,
            fp64: false,
        }
    }

    fn decide(
        task: &TaskInfo,
        kernel: &Kernel,
        edit: impl FnOnce(&mut Situation),
    ) -> Result<Take, Skip> {
        decide_with(&rules(), task, kernel, edit)
    }

    fn decide_with(
        rules: &Rules,
        task: &TaskInfo,
        kernel: &Kernel,
        edit: impl FnOnce(&mut Situation),
    ) -> Result<Take, Skip> {
        let device = device();
        let mut now = Situation {
            device: &device,
            height: 20,
            free_stake: Uint128::new(10_000),
            in_flight: 0,
            already_committed: false,
        };
        edit(&mut now);
        rules.decide(task, kernel, &now)
    }

    #[test]
    fn a_fitting_task_is_taken() {
        assert_eq!(
            decide(&task(), &kernel(), |_| {}),
            Ok(Take {
                offer: None,
                bid: None
            })
        );
    }

    #[test]
    fn manual_confirmation_offers_the_floor() {
        let mut rules = rules();
        rules.models.push(ModelName::ManualConfirmation);
        let mut task = task();
        task.model = CompetitionModel::ManualConfirmation;
        let device = device();
        let now = Situation {
            device: &device,
            height: 20,
            free_stake: Uint128::new(10_000),
            in_flight: 0,
            already_committed: false,
        };
        assert_eq!(
            rules.decide(&task, &kernel(), &now),
            Ok(Take {
                offer: Some(Uint128::new(100)),
                bid: None,
            })
        );
    }

    #[test]
    fn each_rule_names_its_reason() {
        let k = kernel();
        type Edit = Box<dyn Fn(&mut Situation)>;
        let cases: Vec<(TaskInfo, Edit, &str)> = vec![
            (
                {
                    let mut t = task();
                    t.status = TaskStatus::Settled;
                    t
                },
                Box::new(|_| {}),
                "not_open",
            ),
            (
                task(),
                Box::new(|n| n.already_committed = true),
                "already_committed",
            ),
            (
                {
                    let mut t = task();
                    t.commit_count = 5;
                    t
                },
                Box::new(|_| {}),
                "committers_full",
            ),
            (
                {
                    let mut t = task();
                    t.model = CompetitionModel::ManualConfirmation;
                    t
                },
                Box::new(|_| {}),
                "model_not_served",
            ),
            (
                {
                    let mut t = task();
                    t.denom = "ustake".into();
                    t
                },
                Box::new(|_| {}),
                "denom_not_accepted",
            ),
            (
                {
                    let mut t = task();
                    t.budget = Uint128::new(99);
                    t
                },
                Box::new(|_| {}),
                "price_below_floor",
            ),
            (
                {
                    let mut t = task();
                    t.requirements.fp64 = true;
                    t
                },
                Box::new(|_| {}),
                "device_unfit",
            ),
            (
                {
                    let mut t = task();
                    t.collateral = Uint128::new(5_001);
                    t
                },
                Box::new(|_| {}),
                "collateral_too_high",
            ),
            (
                task(),
                Box::new(|n| n.free_stake = Uint128::new(999)),
                "insufficient_stake",
            ),
            (
                {
                    let mut t = task();
                    t.verification = VerificationPolicy::Unverified {};
                    t
                },
                Box::new(|_| {}),
                "unverified",
            ),
            (task(), Box::new(|n| n.height = 28), "deadline_too_close"),
            (task(), Box::new(|n| n.in_flight = 2), "at_capacity"),
        ];
        for (task, edit, label) in cases {
            let skip = decide(&task, &k, |n| edit(n)).expect_err(label);
            assert_eq!(skip.label(), label, "{skip}");
        }
    }

    #[test]
    fn the_margin_is_inclusive_and_a_work_group_too_large_is_unfit() {
        assert!(decide(&task(), &kernel(), |n| n.height = 27).is_ok());
        let mut big = kernel();
        big.local_work_size = Some(vec![8192]);
        big.global_work_size = vec![8192];
        let skip = decide(&task(), &big, |_| {}).unwrap_err();
        assert_eq!(skip.label(), "device_unfit");
    }

    #[test]
    fn unverified_first_response_is_skipped_unless_accepted() {
        let mut unverified = task();
        unverified.verification = VerificationPolicy::Unverified {};
        assert_eq!(
            decide(&unverified, &kernel(), |_| {}),
            Err(Skip::Unverified)
        );
        let accepting = Rules {
            accept_unverified: true,
            ..rules()
        };
        assert_eq!(
            decide_with(&accepting, &unverified, &kernel(), |_| {}),
            Ok(Take {
                offer: None,
                bid: None
            })
        );
    }

    #[test]
    fn unverified_sealed_tasks_are_taken() {
        let rules = Rules {
            models: vec![ModelName::ManualConfirmation, ModelName::Consensus],
            ..rules()
        };
        for (model, offer) in [
            (
                CompetitionModel::ManualConfirmation,
                Some(Uint128::new(100)),
            ),
            (consensus(), None),
        ] {
            let mut t = task();
            t.model = model;
            t.verification = VerificationPolicy::Unverified {};
            assert_eq!(
                decide_with(&rules, &t, &kernel(), |_| {}),
                Ok(Take { offer, bid: None }),
                "{model}"
            );
        }
    }

    #[test]
    fn consensus_is_served_when_configured_and_skipped_once_its_replicas_committed() {
        let mut t = task();
        t.model = consensus();
        t.max_committers = 3; // the market sets it to `replicas`
        t.commit_count = 2;
        let skip = decide(&t, &kernel(), |_| {}).unwrap_err();
        assert_eq!(skip.label(), "model_not_served");

        let serving = Rules {
            models: vec![ModelName::Consensus],
            ..rules()
        };
        assert_eq!(
            decide_with(&serving, &t, &kernel(), |_| {}),
            Ok(Take {
                offer: None,
                bid: None
            })
        );
        t.commit_count = 3;
        assert_eq!(
            decide_with(&serving, &t, &kernel(), |_| {}),
            Err(Skip::CommittersFull(3))
        );
    }

    fn auction() -> CompetitionModel {
        CompetitionModel::Auction {
            bid_reveal_blocks: 10,
            execute_blocks: 20,
        }
    }

    fn auction_rules() -> Rules {
        Rules {
            models: vec![ModelName::Auction],
            bid_prices: BTreeMap::from([(
                "uatom".to_string(),
                BidPrice {
                    floor: Uint128::new(300),
                    per_work_item: "0.5".parse().unwrap(),
                    ..BidPrice::default()
                },
            )]),
            ..rules()
        }
    }

    fn auction_task() -> TaskInfo {
        TaskInfo {
            model: auction(),
            auction: Some(Default::default()),
            remote_client: None,
            ..task()
        }
    }

    #[test]
    fn an_auction_is_bid_on_at_the_rules_price() {
        let mut k = kernel();
        k.global_work_size = vec![64];
        assert_eq!(
            decide_with(&auction_rules(), &auction_task(), &k, |_| {}),
            Ok(Take {
                offer: None,
                bid: Some(Uint128::new(300)), // 0.5 x 64 = 32 < floor
            })
        );
        k.global_work_size = vec![1_000];
        assert_eq!(
            decide_with(&auction_rules(), &auction_task(), &k, |_| {}),
            Ok(Take {
                offer: None,
                bid: Some(Uint128::new(500)),
            })
        );
        // Not served unless configured.
        let skip = decide(&auction_task(), &k, |_| {}).unwrap_err();
        assert_eq!(skip.label(), "model_not_served");
    }

    #[test]
    fn an_auction_bid_above_the_budget_is_not_placed() {
        let mut k = kernel();
        k.global_work_size = vec![2_002]; // 1001 > the budget of 1000
        let skip = decide_with(&auction_rules(), &auction_task(), &k, |_| {}).unwrap_err();
        assert_eq!(
            skip,
            Skip::PriceAboveMaximum {
                bid: Uint128::new(1_001),
                maximum: Uint128::new(1_000),
                denom: "uatom".into(),
            }
        );
        assert_eq!(skip.label(), "price_above_maximum");
        k.global_work_size = vec![2_000];
        assert!(decide_with(&auction_rules(), &auction_task(), &k, |_| {}).is_ok());
    }

    #[test]
    fn a_denom_without_a_bid_rule_bids_its_floor_flat_and_one_without_either_is_skipped() {
        let mut rules = auction_rules();
        rules.bid_prices.clear();
        assert_eq!(
            decide_with(&rules, &auction_task(), &kernel(), |_| {}),
            Ok(Take {
                offer: None,
                bid: Some(Uint128::new(100)),
            })
        );
        let mut t = auction_task();
        t.denom = "ustake".into();
        let skip = decide_with(&rules, &t, &kernel(), |_| {}).unwrap_err();
        assert_eq!(skip.label(), "denom_not_accepted");
        // A bid rule alone is enough for an auction (no price floor for the denom).
        rules
            .bid_prices
            .insert("ustake".into(), BidPrice::flat(Uint128::new(7)));
        assert_eq!(
            decide_with(&rules, &t, &kernel(), |_| {}).map(|take| take.bid),
            Ok(Some(Uint128::new(7)))
        );
    }

    #[test]
    fn an_auction_counts_bids_against_its_slots_and_keeps_the_other_checks() {
        let rules = auction_rules();
        let mut t = auction_task();
        t.auction.as_mut().unwrap().bid_count = 5;
        assert_eq!(
            decide_with(&rules, &t, &kernel(), |_| {}),
            Err(Skip::CommittersFull(5))
        );
        let t = auction_task();
        for (edit, label) in [
            (
                Box::new(|n: &mut Situation| n.height = 28) as Box<dyn Fn(&mut Situation)>,
                "deadline_too_close",
            ),
            (
                Box::new(|n: &mut Situation| n.free_stake = Uint128::new(999)),
                "insufficient_stake",
            ),
            (Box::new(|n: &mut Situation| n.in_flight = 2), "at_capacity"),
        ] {
            let skip = decide_with(&rules, &t, &kernel(), |n| edit(n)).expect_err(label);
            assert_eq!(skip.label(), label);
        }
    }
}
