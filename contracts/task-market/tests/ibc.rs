//! Cross-chain payments: payouts home over ICS-20 and what their acknowledgement or timeout
//! leaves behind, tasks published from another chain, and their refunds going back. The IBC
//! side is the suite's test double (`opengpu_testing::FakeIbc`): ICS-20's escrow and refunds,
//! and the callbacks wasmd's middleware would make. Each test ends with the money exactly once
//! in the right place (`assert_money_invariants`: the market holds escrows plus claims).

use cosmwasm_std::{coin, to_json_string, Addr, Coin, IbcSourceCallbackMsg, Uint128};
use opengpu_task_market::ContractError;
use opengpu_testing::{
    assert_error, ics20_ack, outputs, Suite, SuiteBuilder, TaskSpec, IBC_CHANNEL, IBC_DENOM,
    PAY_DENOM, STAKE_DENOM,
};
use opengpu_types::ibc::{
    IbcChannel, IbcSettings, OpengpuMemo, PayoutRoute, RemoteClient, TaskDraft, TransferMemo,
};
use opengpu_types::market::{
    self, CompetitionModel, PendingTransfersResponse, RemoteClaimsResponse, TaskStatus,
};
use opengpu_types::registry::ProviderProfile;

const BOND: u128 = 5_000;
const HOME_PROVIDER: &str = "wasm1homeprovider";
const HOME_CLIENT: &str = "wasm1homeclient";

fn ibc_suite() -> Suite {
    SuiteBuilder::new().with_ibc_channel().build()
}

/// A bonded provider whose winnings go home to `HOME_PROVIDER` over the suite's channel.
fn routed_provider(suite: &mut Suite, name: &str) -> Addr {
    let provider = suite.addr(name);
    suite.fund(&provider, vec![coin(BOND, STAKE_DENOM)]);
    suite.bond(&provider, BOND).unwrap();
    let profile = ProviderProfile {
        payout_route: Some(PayoutRoute {
            channel: IBC_CHANNEL.into(),
            receiver: HOME_PROVIDER.into(),
        }),
        ..opengpu_testing::default_profile(name)
    };
    suite.register_with(&provider, profile).unwrap();
    provider
}

fn paid_in(denom: &str) -> TaskSpec {
    TaskSpec {
        budget: Some(coin(1_000, denom)),
        ..TaskSpec::first_response()
    }
}

/// A First Response task paid in the home token, won by a routed provider: 990 go home.
fn settle_routed(suite: &mut Suite) -> (Addr, u64) {
    let client = suite.client_with_funds("client", 10_000);
    let provider = routed_provider(suite, "provider");
    let id = suite.publish(&client, paid_in(IBC_DENOM)).unwrap();
    suite
        .commit_and_reveal(&provider, id, &outputs(0), None)
        .unwrap();
    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    (provider, id)
}

fn pending(suite: &Suite) -> PendingTransfersResponse {
    suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.market,
            &market::QueryMsg::PendingTransfers {
                start_after: None,
                limit: None,
            },
        )
        .unwrap()
}

fn remote_claims(suite: &Suite) -> RemoteClaimsResponse {
    suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.market,
            &market::QueryMsg::RemoteClaims {
                start_after: None,
                limit: None,
            },
        )
        .unwrap()
}

fn has_event(response: &cw_multi_test::AppResponse, ty: &str) -> bool {
    response.events.iter().any(|e| e.ty == format!("wasm-{ty}"))
}

#[test]
fn payout_goes_home_and_a_success_ack_ends_it_once() {
    let mut suite = ibc_suite();
    let (provider, id) = settle_routed(&mut suite);

    let share = &suite.task(id).settlement.unwrap().shares[0];
    assert_eq!(share.route.as_ref().unwrap().receiver, HOME_PROVIDER);
    assert_eq!(
        suite.balance(&provider, IBC_DENOM),
        0,
        "nothing paid locally"
    );
    let sent = suite.ibc_in_flight();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].channel.as_str(), sent[0].receiver.as_str()),
        (IBC_CHANNEL, HOME_PROVIDER)
    );
    assert_eq!(sent[0].coin, coin(990, IBC_DENOM));
    let memo: TransferMemo = cosmwasm_std::from_json(sent[0].memo.as_bytes()).unwrap();
    assert_eq!(memo.src_callback.unwrap().address, suite.market.as_str());
    assert!(matches!(memo.opengpu, Some(OpengpuMemo::Transfer { .. })));
    let waiting = pending(&suite).transfers;
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].task_id, waiting[0].amount),
        (Some(id), Uint128::new(990))
    );
    suite.assert_money_invariants();

    let response = suite.ibc_ack(sent[0].sequence, true).unwrap();
    assert!(has_event(&response, "ibc_transfer_delivered"));
    assert!(pending(&suite).transfers.is_empty());
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 0);
    suite.assert_money_invariants();

    // The same acknowledgement again (a replayed callback) finds nothing to settle.
    let replay = IbcSourceCallbackMsg::Acknowledgement(cosmwasm_std::IbcAckCallbackMsg::new(
        ics20_ack(false),
        sent[0].packet(),
        suite.addr("relayer"),
    ));
    let market = suite.market.clone();
    let response = suite.source_callback(&market, replay).unwrap();
    assert!(!has_event(&response, "ibc_transfer_failed"));
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 0, "not paid twice");
    suite.assert_money_invariants();
}

#[test]
fn an_error_ack_makes_the_payout_a_claim_the_provider_withdraws() {
    let mut suite = ibc_suite();
    let (provider, _) = settle_routed(&mut suite);
    let sequence = suite.ibc_in_flight()[0].sequence;

    let response = suite.ibc_ack(sequence, false).unwrap();
    assert!(has_event(&response, "ibc_transfer_failed"));
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 990);
    assert!(pending(&suite).transfers.is_empty());
    suite.assert_money_invariants();

    suite.withdraw_claim(&provider, IBC_DENOM, None).unwrap();
    assert_eq!(suite.balance(&provider, IBC_DENOM), 990);
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 0);
    suite.assert_money_invariants();
}

#[test]
fn a_timeout_makes_the_payout_a_claim_and_a_late_ack_pays_nothing_more() {
    let mut suite = ibc_suite();
    let (provider, _) = settle_routed(&mut suite);
    let sent = suite.ibc_in_flight()[0].clone();

    suite.ibc_timeout(sent.sequence).unwrap();
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 990);
    suite.assert_money_invariants();

    let late = IbcSourceCallbackMsg::Timeout(cosmwasm_std::IbcTimeoutCallbackMsg::new(
        sent.packet(),
        suite.addr("relayer"),
    ));
    let market = suite.market.clone();
    suite.source_callback(&market, late).unwrap();
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 990, "credited once");
    suite.assert_money_invariants();
}

#[test]
fn a_denom_that_cannot_travel_on_the_route_is_paid_locally() {
    let mut suite = ibc_suite();
    let client = suite.client_with_funds("client", 10_000);
    let provider = routed_provider(&mut suite, "provider");
    let id = suite.publish(&client, paid_in(PAY_DENOM)).unwrap();
    suite
        .commit_and_reveal(&provider, id, &outputs(0), None)
        .unwrap();
    assert!(suite.ibc_sent().is_empty());
    assert_eq!(suite.balance(&provider, PAY_DENOM), 990);
    assert_eq!(suite.task(id).settlement.unwrap().shares[0].route, None);
    suite.assert_money_invariants();
}

#[test]
fn a_transfer_the_chain_refuses_still_settles_and_becomes_a_claim() {
    let mut suite = ibc_suite();
    let client = suite.client_with_funds("client", 10_000);
    let provider = routed_provider(&mut suite, "provider");
    let id = suite.publish(&client, paid_in(IBC_DENOM)).unwrap();
    suite.close_channel(IBC_CHANNEL);
    suite
        .commit_and_reveal(&provider, id, &outputs(0), None)
        .unwrap();

    assert_eq!(suite.task(id).status, TaskStatus::Settled);
    assert!(suite.ibc_sent().is_empty());
    assert!(pending(&suite).transfers.is_empty());
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 990);
    suite.assert_money_invariants();
}

/// What a remote client puts in its transfer's memo.
fn publish_memo(suite: &Suite, edit: impl FnOnce(&mut TaskDraft)) -> String {
    let spec = TaskSpec::first_response();
    let mut draft = TaskDraft {
        kernel: spec.kernel,
        requirements: spec.requirements,
        collateral: spec.collateral,
        deadline_blocks: spec.deadline_blocks,
        verification: spec.verification,
        model: spec.model,
    };
    edit(&mut draft);
    to_json_string(&TransferMemo::publish(suite.market.as_str(), draft)).unwrap()
}

fn home_coins(amount: u128) -> Coin {
    coin(amount, IBC_DENOM)
}

/// A task published from the home chain with one transfer of 1,000.
fn remote_task(suite: &mut Suite) -> u64 {
    let memo = publish_memo(suite, |_| {});
    let response = suite
        .ibc_receive(HOME_CLIENT, None, home_coins(1_000), &memo)
        .unwrap();
    assert!(has_event(&response, "remote_task_published"));
    suite.tasks_with_status(TaskStatus::Open).last().unwrap().id
}

#[test]
fn a_remote_client_publishes_with_one_transfer_and_is_refunded_over_ibc() {
    let mut suite = ibc_suite();
    let id = remote_task(&mut suite);
    let task = suite.task(id);
    assert_eq!(
        task.client, suite.market,
        "the market holds it for the remote client"
    );
    assert_eq!(
        task.remote_client,
        Some(RemoteClient {
            channel: IBC_CHANNEL.into(),
            sender: HOME_CLIENT.into(),
        })
    );
    assert_eq!(
        (task.denom.as_str(), task.budget.u128()),
        (IBC_DENOM, 1_000)
    );
    suite.assert_money_invariants();

    // Nobody takes it: the expiry refund goes back over the channel it came by.
    suite.advance_blocks(task.deadline_height + task.reveal_window_blocks);
    let stranger = suite.addr("stranger");
    suite.expire(&stranger, id).unwrap();
    let sent = suite.ibc_in_flight();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0].channel.as_str(),
            sent[0].receiver.as_str(),
            &sent[0].coin
        ),
        (IBC_CHANNEL, HOME_CLIENT, &home_coins(1_000))
    );
    suite.assert_money_invariants();
    suite.ibc_ack(sent[0].sequence, true).unwrap();
    assert!(pending(&suite).transfers.is_empty());
    assert!(remote_claims(&suite).claims.is_empty());
    suite.assert_money_invariants();
}

#[test]
fn a_failed_remote_refund_is_kept_and_anyone_resends_it_to_the_same_place() {
    let mut suite = ibc_suite();
    let id = remote_task(&mut suite);
    let task = suite.task(id);
    suite.advance_blocks(task.deadline_height + task.reveal_window_blocks);
    let stranger = suite.addr("stranger");
    suite.expire(&stranger, id).unwrap();
    let first = suite.ibc_in_flight()[0].sequence;
    suite.ibc_timeout(first).unwrap();

    let claims = remote_claims(&suite).claims;
    assert_eq!(claims.len(), 1);
    assert_eq!(
        (claims[0].receiver.as_str(), claims[0].amount.u128()),
        (HOME_CLIENT, 1_000)
    );
    suite.assert_money_invariants();

    // The stranger can only send it where it belongs.
    let resend = market::ExecuteMsg::ResendRemoteClaim {
        channel: IBC_CHANNEL.into(),
        receiver: HOME_CLIENT.into(),
        denom: IBC_DENOM.into(),
    };
    suite.execute_market(&stranger, &resend, &[]).unwrap();
    let sent = suite.ibc_in_flight();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].receiver.as_str(), &sent[0].coin),
        (HOME_CLIENT, &home_coins(1_000))
    );
    assert!(remote_claims(&suite).claims.is_empty());
    suite.assert_money_invariants();
    assert_error(
        suite.execute_market(&stranger, &resend, &[]),
        ContractError::NoClaim {
            address: format!("{IBC_CHANNEL}/{HOME_CLIENT}"),
            denom: IBC_DENOM.into(),
        },
    );
    let other = market::ExecuteMsg::ResendRemoteClaim {
        channel: IBC_CHANNEL.into(),
        receiver: "wasm1stranger".into(),
        denom: IBC_DENOM.into(),
    };
    assert!(suite.execute_market(&stranger, &other, &[]).is_err());

    suite.ibc_ack(sent[0].sequence, true).unwrap();
    assert!(pending(&suite).transfers.is_empty());
    suite.assert_money_invariants();
}

#[test]
fn a_remote_clients_share_of_forfeited_collateral_goes_home_too() {
    let mut suite = ibc_suite();
    let id = remote_task(&mut suite);
    let vanisher = suite.provider_with_bond("vanisher", BOND);
    suite.commit(&vanisher, id, &outputs(0)).unwrap();
    let task = suite.task(id);
    suite.advance_blocks(task.deadline_height + task.reveal_window_blocks + 1);
    let stranger = suite.addr("stranger");
    suite.expire(&stranger, id).unwrap();

    let mut sent: Vec<(String, Coin)> = suite
        .ibc_in_flight()
        .into_iter()
        .map(|t| (t.receiver, t.coin))
        .collect();
    sent.sort_by(|a, b| a.1.denom.cmp(&b.1.denom));
    assert_eq!(
        sent,
        vec![
            (HOME_CLIENT.to_string(), home_coins(1_000)),
            (HOME_CLIENT.to_string(), coin(100, STAKE_DENOM)),
        ]
    );
    assert_eq!(suite.stake(&vanisher).bonded.u128(), BOND - 100);
    suite.assert_money_invariants();
}

#[test]
fn bad_remote_tasks_are_refused_so_the_coins_go_back() {
    let mut suite = ibc_suite();
    let zero_deadline = publish_memo(&suite, |d| d.deadline_blocks = 0);
    let manual = publish_memo(&suite, |d| d.model = CompetitionModel::ManualConfirmation);
    let no_task = to_json_string(&TransferMemo {
        dest_callback: TransferMemo::publish(suite.market.as_str(), draft_of(&suite)).dest_callback,
        ..TransferMemo::default()
    })
    .unwrap();
    let payout_memo = to_json_string(&TransferMemo::payout(suite.market.as_str(), 1)).unwrap();
    for (memo, why) in [
        (zero_deadline.as_str(), "deadline"),
        (
            manual.as_str(),
            "manual confirmation needs a client on the market chain",
        ),
        (no_task.as_str(), "the memo carries no opengpu task"),
        (payout_memo.as_str(), "the memo carries no opengpu task"),
        ("not json", "memo"),
    ] {
        let result = suite.ibc_receive(HOME_CLIENT, None, home_coins(1_000), memo);
        let err = result.expect_err(why).to_string();
        assert!(err.contains(why), "{why}: {err}");
        assert_eq!(suite.balance(&suite.market.clone(), IBC_DENOM), 0, "{why}");
    }
    // Coins sent to someone else, naming the market in the callback, are not the market's.
    let bystander = suite.addr("bystander");
    let memo = publish_memo(&suite, |_| {});
    let err = suite
        .ibc_receive(HOME_CLIENT, Some(&bystander), home_coins(1_000), &memo)
        .unwrap_err();
    assert!(err.to_string().contains("receiver must be the market"));
    // A denom the market does not take.
    let err = suite
        .ibc_receive(HOME_CLIENT, None, coin(1_000, "ibc/0A0B"), &memo)
        .unwrap_err();
    assert!(err.to_string().contains("ibc/0A0B"), "{err}");
    assert!(suite.tasks_with_status(TaskStatus::Open).is_empty());
    suite.assert_money_invariants();

    // A market with no IBC channel takes no remote task.
    let mut closed = Suite::new();
    let memo = publish_memo(&closed, |_| {});
    let err = closed
        .ibc_receive(HOME_CLIENT, None, home_coins(1_000), &memo)
        .unwrap_err();
    assert!(err
        .to_string()
        .contains("not one of the market's IBC channels"));
}

fn draft_of(suite: &Suite) -> TaskDraft {
    let memo: TransferMemo =
        cosmwasm_std::from_json(publish_memo(suite, |_| {}).as_bytes()).unwrap();
    match memo.opengpu {
        Some(OpengpuMemo::Publish(draft)) => *draft,
        _ => unreachable!("publish_memo writes a draft"),
    }
}

#[test]
fn forged_source_callbacks_change_nothing() {
    let mut suite = ibc_suite();
    let (provider, _) = settle_routed(&mut suite);
    let sent = suite.ibc_in_flight()[0].clone();
    let market = suite.market.clone();
    let relayer = suite.addr("relayer");

    // The right id on another channel, and a packet with no opengpu memo: ignored.
    let mut elsewhere = sent.clone();
    elsewhere.channel = "channel-9".into();
    let mut no_memo = sent.clone();
    no_memo.memo = String::new();
    for forged in [elsewhere, no_memo] {
        let msg = IbcSourceCallbackMsg::Timeout(cosmwasm_std::IbcTimeoutCallbackMsg::new(
            forged.packet(),
            relayer.clone(),
        ));
        suite.source_callback(&market, msg).unwrap();
        assert_eq!(suite.claim_of(&provider, IBC_DENOM), 0);
        assert_eq!(pending(&suite).transfers.len(), 1);
    }
    // The real outcome still settles it.
    suite.ibc_ack(sent.sequence, true).unwrap();
    assert!(pending(&suite).transfers.is_empty());
    suite.assert_money_invariants();
}

#[test]
fn ibc_settings_are_the_owners_and_bounded() {
    let mut suite = Suite::new();
    let update = |ibc: IbcSettings| market::ExecuteMsg::UpdateConfig {
        allowed_denoms: None,
        fee_bps: None,
        fee_collector: None,
        params: None,
        ibc: Some(ibc),
        retention_blocks: None,
    };
    let good = IbcSettings {
        channels: vec![IbcChannel {
            channel_id: IBC_CHANNEL.into(),
            denoms: vec![IBC_DENOM.into()],
        }],
        transfer_timeout_seconds: 60,
    };
    let stranger = suite.addr("stranger");
    assert!(suite
        .execute_market(&stranger, &update(good.clone()), &[])
        .is_err());
    let owner = suite.owner.clone();
    let mut bad = good.clone();
    bad.channels[0].channel_id = "chan".into();
    assert!(suite.execute_market(&owner, &update(bad), &[]).is_err());
    let mut bad = good.clone();
    bad.transfer_timeout_seconds = 0;
    assert!(suite.execute_market(&owner, &update(bad), &[]).is_err());
    suite
        .execute_market(&owner, &update(good.clone()), &[])
        .unwrap();
    let config: market::MarketConfig = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &market::QueryMsg::Config {})
        .unwrap();
    assert_eq!(config.ibc, good);
}

#[test]
fn no_account_can_call_the_callbacks_as_messages() {
    let mut suite = ibc_suite();
    let (_, _) = settle_routed(&mut suite);
    let sent = suite.ibc_in_flight()[0].clone();
    let stranger = suite.addr("stranger");
    let forged = serde_json::json!({
        "ibc_source_callback": {
            "timeout": { "packet": sent.packet(), "relayer": stranger.to_string() }
        }
    });
    let market = suite.market.clone();
    let result =
        cw_multi_test::Executor::execute_contract(&mut suite.app, stranger, market, &forged, &[]);
    assert!(result.is_err());
    assert_eq!(pending(&suite).transfers.len(), 1);
    suite.assert_money_invariants();
}

#[test]
fn the_owner_removing_the_channel_cannot_strand_a_payout_in_flight() {
    let mut suite = ibc_suite();
    let (provider, _) = settle_routed(&mut suite);
    let sequence = suite.ibc_in_flight()[0].sequence;
    let owner = suite.owner.clone();
    let remove = market::ExecuteMsg::UpdateConfig {
        allowed_denoms: None,
        fee_bps: None,
        fee_collector: None,
        params: None,
        ibc: Some(IbcSettings::default()),
        retention_blocks: None,
    };
    suite.execute_market(&owner, &remove, &[]).unwrap();
    suite.ibc_timeout(sequence).unwrap();
    assert_eq!(suite.claim_of(&provider, IBC_DENOM), 990);
    suite.withdraw_claim(&provider, IBC_DENOM, None).unwrap();
    assert_eq!(suite.balance(&provider, IBC_DENOM), 990);
    suite.assert_money_invariants();
}
