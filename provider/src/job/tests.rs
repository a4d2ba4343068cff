//! Unit tests of the job against the in-memory market of `crate::fake`.

use cosmwasm_std::{HexBinary, Uint128};
use opengpu_types::market::TaskStatus;

use super::settle::outcome_of;
use super::*;

#[test]
fn outvoted_rejected_and_forfeited_commitments_count_as_slashed() {
    let cases = [
        (
            CommitmentState::Rejected {
                reason: "freivalds".into(),
            },
            Outcome::Slashed("rejected"),
        ),
        (CommitmentState::Outvoted {}, Outcome::Slashed("outvoted")),
        (CommitmentState::Forfeited {}, Outcome::Slashed("forfeited")),
        (
            CommitmentState::Refused {
                reason: "no match".into(),
            },
            Outcome::Failed("result_refused"),
        ),
        (CommitmentState::Released {}, Outcome::Lost),
        (
            CommitmentState::Revealed {
                outputs_digest: HexBinary::from(vec![0; 32]),
                price: Some(Uint128::new(3)),
                height: 9,
            },
            Outcome::Lost,
        ),
    ];
    for (state, outcome) in cases {
        assert_eq!(outcome_of(&state), outcome, "{state:?}");
    }
}

#[test]
fn the_deadline_gate_stops_at_the_deadline_and_the_award_gate_at_the_awards_window() {
    let task = crate::policy::tests::task(); // deadline 30
    let gate = CommitGate::Deadline;
    assert_eq!(gate.before_run(&task, "me"), None);
    assert_eq!(gate.before_commit(&task, "me", 29), None);
    assert_eq!(
        gate.before_commit(&task, "me", 30),
        Some("deadline_passed_during_run")
    );
    let mut full = task.clone();
    full.commit_count = full.max_committers;
    assert_eq!(gate.before_run(&full, "me"), Some("committers_full"));
    assert!(!gate.delivers_unmatched());

    // An auction past its bidding deadline, awarded to "me" until height 60.
    let mut auction = TaskInfo {
        model: CompetitionModel::Auction {
            bid_reveal_blocks: 5,
            execute_blocks: 20,
        },
        status: TaskStatus::Committed,
        auction: Some(opengpu_types::auction::AuctionState {
            bid_count: 2,
            revealed_count: 2,
            award: Some(opengpu_types::auction::Award {
                provider: cosmwasm_std::Addr::unchecked("me"),
                bid_seq: 1,
                bid: Uint128::new(300),
                price: Uint128::new(400),
                awarded_height: 40,
                execute_deadline: 60,
            }),
            ..Default::default()
        }),
        ..task
    };
    let gate = CommitGate::Award;
    assert_eq!(gate.before_run(&auction, "me"), None);
    assert_eq!(gate.before_commit(&auction, "me", 45), None);
    assert_eq!(
        gate.before_commit(&auction, "me", 59),
        Some("execute_window_missed")
    );
    assert_eq!(gate.before_run(&auction, "other"), Some("award_passed_on"));
    assert!(gate.delivers_unmatched());
    auction.status = TaskStatus::Expired;
    assert_eq!(gate.before_run(&auction, "me"), Some("ended_before_commit"));
}

use std::future::Future;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::fake::{no_plan, FakeBackend, Fault, World, ME};

fn stops() -> Stops {
    Stops {
        task_ended: CancellationToken::new(),
        shutdown: CancellationToken::new(),
        nudge: Arc::new(Notify::new()),
    }
}

/// Task 1, just taken.
fn fresh(world: &World) -> Start {
    Start::Fresh {
        task: Box::new(world.task.clone()),
        offer: None,
        taken_at: Instant::now(),
        received_at: Instant::now(),
        read_at: None,
    }
}

/// Polls `done` until it holds (the job runs meanwhile), for 10 s at most.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not reached in time");
}

async fn within<T>(job: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), job)
        .await
        .expect("the job ended in time")
}

#[tokio::test]
async fn a_commit_whose_inclusion_is_unknown_is_revealed_once_found() {
    let world = World::new();
    let chain = &world.chain;
    chain.with(|m| m.hold = 1); // the commit waits in the mempool: its wait times out
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
    // The job looked for its commitment on chain, did not find it, and kept its plan.
    until(|| chain.with(|m| m.looks >= 1)).await;
    assert_eq!(chain.sent(), ["commit"]);
    assert_eq!(shared.store.pending().unwrap(), vec![1]);
    chain.land();
    assert_eq!(within(job).await.unwrap(), Outcome::Won);
    assert_eq!(chain.sent(), ["commit", "reveal"]);
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_first_commit_is_revealed_without_reading_the_chain_again() {
    let world = World::new();
    let chain = &world.chain;
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
    assert_eq!(outcome, Outcome::Won);
    assert_eq!(chain.sent(), ["commit", "reveal"]);
    // The commit's own block told where it stands: no look at the commitments.
    assert_eq!(chain.with(|m| m.looks), 0);
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_commit_seen_in_its_block_is_revealed_at_once_without_asking_the_node() {
    let world = World::new();
    let chain = &world.chain;
    let shared = Arc::new(world.shared(FakeBackend::new()));
    // Blocks arrive from the event source.
    let source = crate::fake::follow_blocks(chain.clone(), shared.clone());
    until(|| shared.heights.fresh()).await;
    let started = Instant::now();
    let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
    let elapsed = started.elapsed();
    source.abort();
    assert_eq!(outcome, Outcome::Won);
    assert_eq!(chain.sent(), ["commit", "reveal"]);
    let (committed, revealed) = chain.with(|m| (m.included[0].height, m.included[1].height));
    assert_eq!(
        revealed,
        committed + 1,
        "revealed in the block after the commit"
    );
    // Both inclusions came from the blocks, well before the node would be asked.
    assert_eq!(chain.with(|m| (m.tx_waits, m.looks)), (0, 0));
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_task_read_in_the_latest_block_is_not_read_again_before_its_commit() {
    for (read_at, reads_before_commit) in [(100, 0), (99, 2)] {
        let world = World::new();
        let chain = &world.chain;
        let shared = Arc::new(world.shared(FakeBackend::new()));
        let source = crate::fake::follow_blocks(chain.clone(), shared.clone());
        until(|| shared.heights.fresh_latest() == Some(100)).await;
        // Read by the daemon after block `read_at` was reported.
        let start = match fresh(&world) {
            Start::Fresh {
                task,
                offer,
                taken_at,
                received_at,
                ..
            } => Start::Fresh {
                task,
                offer,
                taken_at,
                received_at,
                read_at: Some(read_at),
            },
            _ => unreachable!(),
        };
        let outcome = within(run(shared.clone(), 1, start, stops())).await;
        source.abort();
        assert_eq!(outcome, Outcome::Won);
        assert_eq!(chain.sent(), ["commit", "reveal"]);
        // And one read once revealed, to see the task settled.
        let reads = chain.with(|m| m.info_reads);
        assert_eq!(reads, reads_before_commit + 1, "read at {read_at}");
    }
}

#[tokio::test]
async fn a_commit_that_never_lands_is_given_up_once_commits_close() {
    let world = World::new();
    let chain = &world.chain;
    chain.with(|m| m.hold = 1);
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
    until(|| chain.with(|m| m.looks >= 1)).await;
    assert_eq!(
        shared.store.pending().unwrap(),
        vec![1],
        "kept while it may land"
    );
    // The deadline passes with the commit still out of any block: it can never land.
    chain.with(|m| m.height = world.task.task.deadline_height);
    assert_eq!(within(job).await.unwrap(), Outcome::Failed("commit_failed"));
    assert_eq!(chain.sent(), ["commit"]);
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_commit_whose_answer_was_lost_but_that_landed_is_revealed_and_paid() {
    let world = World::new();
    let chain = &world.chain;
    // The node took the commit into a block; the provider saw a transport error.
    chain.with(|m| m.faults.push_back(Fault::AnswerLost));
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
    assert_eq!(outcome, Outcome::Won);
    assert_eq!(chain.sent(), ["commit", "reveal"]);
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_commit_refused_before_the_mempool_removes_its_plan() {
    let world = World::new();
    let chain = &world.chain;
    chain.with(|m| m.faults.push_back(Fault::Refused));
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
    assert_eq!(outcome, Outcome::Failed("commit_refused"));
    assert_eq!(chain.sent(), ["commit"]);
    assert!(no_plan(&shared));
    assert_eq!(chain.with(|m| m.commitment(1, ME).cloned()), None);
}

#[tokio::test]
async fn a_node_that_goes_down_after_taking_the_commit_is_waited_out_then_revealed() {
    let world = World::new();
    let chain = &world.chain;
    // The node takes the commit into its mempool and stops answering.
    chain.with(|m| {
        m.hold = 1;
        m.faults.push_back(Fault::NodeDown);
    });
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
    until(|| chain.with(|m| m.failed_calls >= 5)).await;
    assert_eq!(
        shared.store.pending().unwrap(),
        vec![1],
        "kept while unknown"
    );
    assert!(!job.is_finished(), "the job waits for the node");
    // The commit lands while the node cannot be reached; then it answers again.
    chain.land();
    chain.with(|m| m.unreachable = false);
    assert_eq!(within(job).await.unwrap(), Outcome::Won);
    assert_eq!(chain.sent(), ["commit", "reveal"]);
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_node_unreachable_while_the_commitment_is_awaited_keeps_the_plan() {
    let world = World::new();
    let chain = &world.chain;
    chain.with(|m| m.hold = 1); // the commit waits in the mempool: its wait times out
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
    until(|| chain.with(|m| m.looks >= 1)).await;
    chain.with(|m| m.unreachable = true);
    until(|| chain.with(|m| m.failed_calls >= 5)).await;
    assert_eq!(shared.store.pending().unwrap(), vec![1]);
    assert!(!job.is_finished(), "the job waits for the node");
    chain.land();
    chain.with(|m| m.unreachable = false);
    assert_eq!(within(job).await.unwrap(), Outcome::Won);
    assert_eq!(chain.sent(), ["commit", "reveal"]);
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_commit_lost_on_the_way_is_given_up_once_the_task_closes_to_commits() {
    let world = World::new();
    let chain = &world.chain;
    // A transport error, and the node never saw the commit: the provider cannot tell.
    chain.with(|m| m.faults.push_back(Fault::Lost));
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops()));
    until(|| chain.with(|m| m.looks >= 2)).await;
    assert_eq!(
        shared.store.pending().unwrap(),
        vec![1],
        "kept while unknown"
    );
    chain.with(|m| m.height = world.task.task.deadline_height);
    assert_eq!(within(job).await.unwrap(), Outcome::Failed("commit_failed"));
    assert_eq!(
        chain.sent(),
        Vec::<String>::new(),
        "nothing reached the node"
    );
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_stop_while_the_node_is_unreachable_keeps_the_plan_for_a_restart() {
    let world = World::new();
    let chain = &world.chain;
    chain.with(|m| {
        m.hold = 1;
        m.faults.push_back(Fault::NodeDown);
    });
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let stops = stops();
    let shutdown = stops.shutdown.clone();
    let job = tokio::spawn(run(shared.clone(), 1, fresh(&world), stops));
    until(|| chain.with(|m| m.failed_calls >= 2)).await;
    shutdown.cancel();
    assert_eq!(within(job).await.unwrap(), Outcome::Abandoned);
    assert_eq!(shared.store.pending().unwrap(), vec![1]);
}

#[tokio::test]
async fn a_reveal_whose_answer_was_lost_is_found_on_chain_and_not_sent_again() {
    let world = World::new();
    let chain = &world.chain;
    let is_commit = |msg: &ExecuteMsg| matches!(msg, ExecuteMsg::Commit { .. });
    // Once the commit is in: the reveal lands, but its answer is lost.
    chain.after(is_commit, |m| m.faults.push_back(Fault::AnswerLost));
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
    assert_eq!(outcome, Outcome::Won);
    assert_eq!(chain.sent(), ["commit", "reveal"]);
    assert!(no_plan(&shared));
}

#[tokio::test]
async fn a_task_that_ends_while_its_kernel_runs_is_not_committed() {
    for daemon_saw_it in [true, false] {
        let world = World::new();
        let stops = stops();
        let ended = stops.task_ended.clone();
        let chain = world.chain.clone();
        // The client cancels (or the task expires) while the kernel runs; the daemon may
        // or may not have passed the event on by the time the run ends.
        let backend = FakeBackend::new().during_run(move || {
            chain.with(|m| m.task(1).status = TaskStatus::Cancelled);
            if daemon_saw_it {
                ended.cancel();
            }
        });
        let shared = Arc::new(world.shared(backend));
        let outcome = within(run(shared.clone(), 1, fresh(&world), stops)).await;
        let reason = if daemon_saw_it {
            "ended_during_run"
        } else {
            "ended_before_commit"
        };
        assert_eq!(outcome, Outcome::Dropped(reason));
        assert_eq!(world.chain.sent(), Vec::<String>::new(), "nothing sent");
        assert!(no_plan(&shared));
    }
}

/// Task 1 under `model`, with this provider's commitment revealed (valid): what is left
/// is to wait for the task to settle.
fn revealed_under(world: &World, model: CompetitionModel) {
    world.chain.with(|m| {
        m.task(1).model = model;
        m.commit(1, ME, HexBinary::from(vec![7; 32])).unwrap();
        m.height += 1;
        m.commitments.get_mut(&1).unwrap()[0].state = CommitmentState::Revealed {
            outputs_digest: HexBinary::from(vec![0; 32]),
            price: Some(Uint128::new(500)),
            height: m.height,
        };
    });
}

#[tokio::test]
async fn a_job_awaiting_settlement_is_woken_by_the_tasks_end_not_by_polling() {
    let world = World::new();
    let chain = &world.chain;
    // Manual Confirmation: the client confirms (or the confirm window ends, 70 blocks on).
    revealed_under(&world, CompetitionModel::ManualConfirmation);
    let shared = Arc::new(world.shared(FakeBackend::new()));
    shared.heights.note_block(101); // blocks arrive from the event source
    let stops = stops();
    let ended = stops.task_ended.clone();
    let job = tokio::spawn(run(shared.clone(), 1, Start::AwaitSettlement, stops));
    until(|| chain.with(|m| m.info_reads >= 1)).await;
    // No event: the job waits, and does not look at the chain again.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(chain.with(|m| m.info_reads), 1, "no polling while waiting");
    assert!(!job.is_finished());
    // The client confirms: the task is settled, and the daemon passes its event on.
    chain.with(|m| m.settle(1, ME));
    ended.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(1), job)
        .await
        .expect("woken by the event")
        .unwrap();
    assert_eq!(outcome, Outcome::Won);
    assert_eq!(chain.with(|m| m.info_reads), 2);
    assert_eq!(chain.with(|m| m.kernel_reads), 0, "no kernel read to wait");
}

#[tokio::test]
async fn a_missed_end_event_is_caught_by_the_slow_poll() {
    let world = World::new();
    let chain = &world.chain;
    // An auction settles with its awardee's reveal: no height to wait for.
    revealed_under(
        &world,
        CompetitionModel::Auction {
            bid_reveal_blocks: 5,
            execute_blocks: 20,
        },
    );
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let job = tokio::spawn(run(shared.clone(), 1, Start::AwaitSettlement, stops()));
    until(|| chain.with(|m| m.info_reads >= 1)).await;
    // Settled while the event source was reconnecting: no event reaches the job.
    chain.with(|m| m.settle(1, ME));
    let outcome = tokio::time::timeout(SETTLE_FALLBACK * 2, job)
        .await
        .expect("found by the fallback poll")
        .unwrap();
    assert_eq!(outcome, Outcome::Won);
}

#[tokio::test]
async fn a_job_reads_the_task_without_its_kernel_while_it_waits() {
    let world = World::new();
    let shared = Arc::new(world.shared(FakeBackend::new()));
    let outcome = within(run(shared.clone(), 1, fresh(&world), stops())).await;
    assert_eq!(outcome, Outcome::Won);
    let (kernel_reads, info_reads) = world.chain.with(|m| (m.kernel_reads, m.info_reads));
    assert_eq!(kernel_reads, 0, "the kernel came with the task taken");
    assert!(info_reads >= 2, "{info_reads}");
}

#[cfg(feature = "failpoints")]
#[test]
fn the_corrupt_output_fail_point_is_off_unless_configured() {
    crate::fake::assert_fail_point_toggles("provider::corrupt_output", corrupt_output_requested);
}
