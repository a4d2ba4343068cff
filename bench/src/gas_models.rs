//! Gas of the messages the other checks and models add: a Freivalds-checked SGEMM at the
//! largest size the localnet publishes, a sealed Manual Confirmation offer confirmed by the
//! client, a 2-replica Consensus whose last reveal tallies, and sealed-bid auctions (one
//! delivered, one handed over after its winner vanished).

use std::time::Duration;

use cosmwasm_std::{Binary, Coin, HexBinary, Uint128};
use opengpu_client::bid::SealedBid;
use opengpu_client::reveal::RevealPlan;
use opengpu_client::{ChainClient, Signer, TxOutcome};
use opengpu_examples::{Example, ExampleTask};
use opengpu_types::commitment::outputs_digest;
use opengpu_types::events::{
    AuctionAwarded, AuctionDefaulted, ConsensusTallied, TaskPublished, TaskSettled,
};
use opengpu_types::kernel::{Kernel, Requirements};
use opengpu_types::market::{CompetitionModel, ExecuteMsg};
use opengpu_types::verification::VerificationPolicy;

use crate::chain::Chain;

/// One measured message: what it was, gas used, gas wanted.
pub type Row = (String, u64, u64);

/// The localnet's shortest deadline: sealed reveals open soon after.
const DEADLINE_BLOCKS: u64 = 5;

struct Bench<'a> {
    chain: &'a ChainClient,
    market: String,
    rows: Vec<Row>,
}

impl Bench<'_> {
    /// Sends `msg` as `signer` and records its gas under `name`; returns the block height.
    async fn measure(
        &mut self,
        name: String,
        signer: &mut Signer,
        msg: &ExecuteMsg,
        funds: &[Coin],
    ) -> anyhow::Result<TxOutcome> {
        let tx = signer.execute(self.chain, &self.market, msg, funds).await?;
        self.rows.push((name, tx.gas_used, tx.gas_wanted));
        Ok(tx)
    }

    async fn publish(
        &mut self,
        name: String,
        client: &mut Signer,
        kernel: Kernel,
        verification: VerificationPolicy,
        model: CompetitionModel,
    ) -> anyhow::Result<(u64, u64)> {
        let msg = ExecuteMsg::PublishTask {
            kernel,
            requirements: Requirements::default(),
            collateral: Uint128::new(1_000),
            deadline_blocks: DEADLINE_BLOCKS,
            verification,
            model,
        };
        let tx = self
            .measure(name, client, &msg, &[Coin::new(10_000u128, "uatom")])
            .await?;
        let published = tx
            .event::<TaskPublished>(Some(&self.market))?
            .ok_or_else(|| anyhow::anyhow!("no task_published event"))?;
        Ok((published.task_id, published.deadline))
    }

    /// Commits `provider` to `outputs` at `price`; returns the block height and the plan that
    /// opens the commitment.
    async fn commit(
        &mut self,
        name: String,
        provider: &mut Signer,
        task_id: u64,
        outputs: &[Binary],
        price: Option<Uint128>,
    ) -> anyhow::Result<(u64, RevealPlan)> {
        let plan = RevealPlan::new(task_id, &provider.address(), outputs.to_vec(), price);
        let tx = self
            .measure(name, provider, &plan.commit_msg(), &[])
            .await?;
        Ok((tx.height, plan))
    }

    async fn reveal(
        &mut self,
        name: String,
        provider: &mut Signer,
        plan: &RevealPlan,
    ) -> anyhow::Result<TxOutcome> {
        self.measure(name, provider, &plan.reveal_msg()?, &[]).await
    }

    /// Commits `provider` to `outputs` (no price), then reveals in the next block: the First
    /// Response path, and an auction's delivery. Returns the reveal.
    async fn deliver(
        &mut self,
        names: [String; 2],
        provider: &mut Signer,
        task_id: u64,
        outputs: &[Binary],
    ) -> anyhow::Result<TxOutcome> {
        let [commit, reveal] = names;
        let (height, plan) = self
            .commit(commit, provider, task_id, outputs, None)
            .await?;
        self.wait_past(height).await?;
        self.reveal(reveal, provider, &plan).await
    }

    async fn wait_past(&self, height: u64) -> anyhow::Result<()> {
        self.chain
            .wait_for_height_above(height, Duration::from_secs(60))
            .await?;
        Ok(())
    }
}

/// Measures every row; `providers` are two bonded, registered accounts.
pub async fn run(chain: &Chain, providers: [&str; 2]) -> anyhow::Result<Vec<Row>> {
    let mut client = chain.signer("client")?;
    let mut first = chain.signer(providers[0])?;
    let mut second = chain.signer(providers[1])?;
    let mut bench = Bench {
        chain: &chain.client,
        market: chain.contracts.task_market.clone(),
        rows: vec![],
    };
    let settled = |tx: &TxOutcome, market: &str| -> anyhow::Result<()> {
        anyhow::ensure!(
            tx.event::<TaskSettled>(Some(market))?.is_some(),
            "the message did not settle the task"
        );
        Ok(())
    };

    // Freivalds at the largest SGEMM the localnet takes (inputs 2 x n^2 f32 on-chain).
    let size = Example::Sgemm.largest_publishable_size();
    let sgemm = ExampleTask::new(Example::Sgemm, size, 1)?;
    let spec = sgemm
        .freivalds()
        .ok_or_else(|| anyhow::anyhow!("sgemm has a Freivalds policy"))?;
    let outputs: Vec<Binary> = sgemm.reference().into_iter().map(Binary::from).collect();
    let (id, _) = bench
        .publish(
            format!(
                "PublishTask, SGEMM n={size} with Freivalds ({} KiB inputs)",
                8 * size * size / 1024
            ),
            &mut client,
            sgemm.kernel(),
            VerificationPolicy::Freivalds(spec),
            CompetitionModel::FirstResponse,
        )
        .await?;
    let names = [
        format!("Commit, SGEMM n={size}"),
        format!(
            "Reveal, SGEMM n={size} ({} KiB output; Freivalds' check, 40 rounds; settles)",
            4 * size * size / 1024
        ),
    ];
    let tx = bench.deliver(names, &mut first, id, &outputs).await?;
    settled(&tx, &bench.market)?;

    // Sealed Manual Confirmation: the price is inside the commitment; reveal after commits
    // close; the client confirms.
    let small = ExampleTask::new(Example::HashChain, 1024, 1)?;
    let small_outputs: Vec<Binary> = small.reference().into_iter().map(Binary::from).collect();
    let reference = VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(outputs_digest(&small_outputs).to_vec()),
    };
    let price = Some(Uint128::new(600));
    let (id, deadline) = bench
        .publish(
            "PublishTask, Manual Confirmation (hash chain, 4 KiB output)".into(),
            &mut client,
            small.kernel(),
            reference.clone(),
            CompetitionModel::ManualConfirmation,
        )
        .await?;
    let (_, offer) = bench
        .commit(
            "Commit, sealed offer (price inside)".into(),
            &mut first,
            id,
            &small_outputs,
            price,
        )
        .await?;
    bench.wait_past(deadline).await?;
    bench
        .reveal("Reveal, sealed offer".into(), &mut first, &offer)
        .await?;
    let confirm = ExecuteMsg::Confirm {
        task_id: id,
        provider: first.address(),
    };
    let tx = bench
        .measure(
            "Confirm (pays the offer, refunds the rest)".into(),
            &mut client,
            &confirm,
            &[],
        )
        .await?;
    settled(&tx, &bench.market)?;

    // Consensus, 2 replicas, quorum 2: both slots taken closes commits; the last reveal tallies.
    let (id, _) = bench
        .publish(
            "PublishTask, Consensus 2 of 2 (hash chain)".into(),
            &mut client,
            small.kernel(),
            VerificationPolicy::Unverified {},
            CompetitionModel::Consensus {
                replicas: 2,
                quorum: 2,
                tolerance: None,
            },
        )
        .await?;
    let (_, replica_1) = bench
        .commit(
            "Commit, Consensus replica 1".into(),
            &mut first,
            id,
            &small_outputs,
            None,
        )
        .await?;
    let (height, replica_2) = bench
        .commit(
            "Commit, Consensus replica 2 (closes commits)".into(),
            &mut second,
            id,
            &small_outputs,
            None,
        )
        .await?;
    bench.wait_past(height).await?;
    bench
        .reveal("Reveal, Consensus replica 1".into(), &mut first, &replica_1)
        .await?;
    let tx = bench
        .reveal(
            "Reveal, Consensus replica 2 (tallies, pays both, unlocks)".into(),
            &mut second,
            &replica_2,
        )
        .await?;
    anyhow::ensure!(
        tx.event::<ConsensusTallied>(Some(&bench.market))?.is_some(),
        "the last reveal did not tally"
    );

    auction(&mut bench, &mut client, [&mut first, &mut second], &small).await?;
    Ok(bench.rows)
}

/// A sealed-bid auction between two bidders: bids, bid reveals (the last awards), the
/// winner's commit and reveal (settles at the second price); then a second auction whose
/// winner vanishes, so `Advance` slashes it and hands the task over.
async fn auction(
    bench: &mut Bench<'_>,
    client: &mut Signer,
    bidders: [&mut Signer; 2],
    task: &ExampleTask,
) -> anyhow::Result<()> {
    let [low, high] = bidders;
    let outputs: Vec<Binary> = task.reference().into_iter().map(Binary::from).collect();
    let reference = VerificationPolicy::ReferenceHash {
        sha256: HexBinary::from(outputs_digest(&outputs).to_vec()),
    };
    let model = CompetitionModel::Auction {
        bid_reveal_blocks: 5,
        execute_blocks: 10,
    };
    for round in ["delivered", "handed over"] {
        let (id, deadline) = bench
            .publish(
                format!("PublishTask, Auction (hash chain; {round})"),
                client,
                task.kernel(),
                reference.clone(),
                model,
            )
            .await?;
        let low_bid = SealedBid::new(id, &low.address(), Uint128::new(400));
        let high_bid = SealedBid::new(id, &high.address(), Uint128::new(700));
        bench
            .measure(
                "Bid (sealed, locks collateral)".into(),
                low,
                &low_bid.bid_msg(),
                &[],
            )
            .await?;
        bench
            .measure("Bid, second bidder".into(), high, &high_bid.bid_msg(), &[])
            .await?;
        bench.wait_past(deadline).await?;
        bench
            .measure("RevealBid".into(), high, &high_bid.reveal_msg(), &[])
            .await?;
        let tx = bench
            .measure(
                "RevealBid, last (awards at the second price, releases the loser)".into(),
                low,
                &low_bid.reveal_msg(),
                &[],
            )
            .await?;
        let award = tx
            .event::<AuctionAwarded>(Some(&bench.market))?
            .ok_or_else(|| anyhow::anyhow!("the last bid reveal did not award"))?;
        anyhow::ensure!(award.price == high_bid.price, "not paid the second price");
        if round == "delivered" {
            let names = [
                "Commit, awardee".into(),
                "Reveal, awardee (settles at the clearing price)".into(),
            ];
            let tx = bench.deliver(names, low, id, &outputs).await?;
            anyhow::ensure!(
                tx.event::<TaskSettled>(Some(&bench.market))?.is_some(),
                "the awardee's reveal did not settle"
            );
        } else {
            bench.wait_past(award.execute_deadline).await?;
            let tx = bench
                .measure(
                    "Advance (slashes the vanished winner, hands over)".into(),
                    client,
                    &ExecuteMsg::Advance { task_id: id },
                    &[],
                )
                .await?;
            anyhow::ensure!(
                tx.event::<AuctionDefaulted>(Some(&bench.market))?.is_some(),
                "Advance did not hand the task over"
            );
            // The runner-up delivers, so the bench leaves nothing open.
            let names = [
                "Commit, runner-up".into(),
                "Reveal, runner-up (settles)".into(),
            ];
            bench.deliver(names, high, id, &outputs).await?;
        }
    }
    Ok(())
}
