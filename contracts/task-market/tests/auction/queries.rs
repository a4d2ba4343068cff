//! Cancel before and after the first bid, and the paginated `Bids` query.

use cosmwasm_std::Uint128;
use opengpu_task_market::ContractError;
use opengpu_testing::{assert_error, SuiteBuilder, PAY_DENOM};
use opengpu_types::auction::{BidInfo, BidState, BidsResponse};
use opengpu_types::market::{self, TaskStatus};
use opengpu_types::TaskId;

use crate::*;

fn page(
    suite: &Suite,
    task_id: TaskId,
    start_after: Option<u32>,
    limit: Option<u32>,
) -> Vec<BidInfo> {
    let response: BidsResponse = suite
        .app
        .wrap()
        .query_wasm_smart(
            &suite.market,
            &market::QueryMsg::Bids {
                task_id,
                start_after,
                limit,
            },
        )
        .unwrap();
    response.bids
}

fn seqs(bids: &[BidInfo]) -> Vec<u32> {
    bids.iter().map(|b| b.seq).collect()
}

#[test]
fn cancel_refunds_before_any_bid_and_is_refused_after_one() {
    let mut suite = Suite::new();
    let client = suite.client_with_funds("client", FUNDS);
    let a = suite.provider_with_bond("a", BOND);
    let untouched = suite.publish(&client, TaskSpec::auction()).unwrap();
    let bid_on = auction_with_bids(&mut suite, &client, &[(&a, 300)]);

    suite.cancel(&client, untouched).unwrap();
    assert_eq!(suite.task(untouched).status, TaskStatus::Cancelled);
    assert_eq!(suite.balance(&client, PAY_DENOM), FUNDS - BUDGET);

    assert_error(
        suite.cancel(&client, bid_on),
        ContractError::NotCancellable {
            task_id: bid_on,
            status: TaskStatus::Committed,
        },
    );
    // A cancelled task takes no bid.
    assert_error(
        suite.bid(&a, untouched, 300),
        ContractError::TaskClosed {
            task_id: untouched,
            status: TaskStatus::Cancelled,
        },
    );
    assert_eq!(stake(&suite, &a), (BOND, COLLATERAL, 0));
    suite.assert_money_invariants();
}

#[test]
fn bids_page_in_arrival_order_and_sealed_bids_show_only_their_hash() {
    let mut suite = SuiteBuilder::new()
        .with_params(|p| p.max_committers = 12)
        .build();
    let client = suite.client_with_funds("client", FUNDS);
    let id = suite.publish(&client, TaskSpec::auction()).unwrap();
    let mut providers = vec![];
    for i in 0..12u32 {
        let provider = suite.provider_with_bond(&format!("p{i}"), BOND);
        suite.bid(&provider, id, 100 + u128::from(i)).unwrap();
        providers.push(provider);
    }

    let first = page(&suite, id, None, None);
    assert_eq!(
        seqs(&first),
        (0..10).collect::<Vec<_>>(),
        "default page of 10"
    );
    assert_eq!(seqs(&page(&suite, id, Some(9), None)), vec![10, 11]);
    assert_eq!(seqs(&page(&suite, id, Some(3), Some(2))), vec![4, 5]);
    assert_eq!(page(&suite, id, None, Some(100)).len(), 12);
    assert!(page(&suite, id, Some(11), None).is_empty());
    for (i, bid) in first.iter().enumerate() {
        assert_eq!(bid.provider, providers[i]);
        assert_eq!(
            bid.commitment,
            Suite::bid_commitment_for(&providers[i], id, 100 + i as u128)
        );
        assert_eq!(bid.state, BidState::Sealed {});
        assert_eq!(bid.state.price(), None);
        assert_eq!(bid.collateral.u128(), COLLATERAL);
    }

    // Opened bids show their price.
    suite.close_bids(id);
    suite.reveal_bid(&providers[4], id, 104).unwrap();
    let opened = &page(&suite, id, Some(3), Some(1))[0];
    assert_eq!(opened.state.price(), Some(Uint128::new(104)));
    assert!(suite
        .app
        .wrap()
        .query_wasm_smart::<BidsResponse>(
            &suite.market,
            &market::QueryMsg::Bids {
                task_id: id + 1,
                start_after: None,
                limit: None,
            },
        )
        .is_err());
    suite.assert_money_invariants();
}
