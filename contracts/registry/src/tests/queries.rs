use cosmwasm_std::testing::mock_env;
use cosmwasm_std::{Addr, Uint128};
use opengpu_types::registry::{
    ExecuteMsg, ProviderFilter, ProviderResponse, ProviderStatus, ProvidersResponse, QueryMsg,
};

use super::{profile, Setup, MIN_BOND};
use crate::contract::query;

fn providers(
    s: &Setup,
    filter: Option<ProviderFilter>,
    start_after: Option<&Addr>,
    limit: Option<u32>,
) -> Vec<Addr> {
    let response: ProvidersResponse = s.query(QueryMsg::Providers {
        filter,
        start_after: start_after.map(Addr::to_string),
        limit,
    });
    response.providers.into_iter().map(|p| p.address).collect()
}

fn status(status: ProviderStatus) -> Option<ProviderFilter> {
    Some(ProviderFilter {
        status: Some(status),
        ..Default::default()
    })
}

/// Registers `n` providers, each bonded `MIN_BOND`, and returns them sorted by address.
fn register_many(s: &mut Setup, n: usize) -> Vec<Addr> {
    let mut addrs: Vec<Addr> = (0..n).map(|i| s.addr(&format!("provider{i}"))).collect();
    let stakes: Vec<(&Addr, u128, u128)> = addrs.iter().map(|a| (a, MIN_BOND, 0)).collect();
    s.stakes(&stakes);
    for addr in &addrs {
        s.register(addr);
    }
    addrs.sort();
    addrs
}

#[test]
fn provider_query_reports_bond_and_eligibility() {
    let mut s = Setup::new();
    let alice = s.addr("alice");
    let owner = s.owner.clone();
    s.stakes(&[(&alice, MIN_BOND + 5, 0)]);
    s.register(&alice);
    let ask = |s: &Setup| -> ProviderResponse {
        s.query(QueryMsg::Provider {
            address: alice.to_string(),
        })
    };

    let res = ask(&s);
    assert_eq!(res.provider.address, alice);
    assert_eq!(res.bonded, Uint128::new(MIN_BOND + 5));
    assert!(res.eligible);

    // Paused: not eligible, whatever the bond.
    s.execute(&alice, ExecuteMsg::Pause {}).unwrap();
    assert!(!ask(&s).eligible);
    s.execute(&alice, ExecuteMsg::Resume {}).unwrap();
    assert!(ask(&s).eligible);

    // Active but bonded below a raised minimum: not eligible.
    let raise = ExecuteMsg::UpdateConfig {
        min_bond: Some(Uint128::new(MIN_BOND + 6)),
    };
    s.execute(&owner, raise).unwrap();
    let res = ask(&s);
    assert_eq!(res.provider.status, ProviderStatus::Active);
    assert!(!res.eligible);
}

#[test]
fn provider_query_for_unknown_address_is_an_error() {
    let s = Setup::new();
    let msg = QueryMsg::Provider {
        address: s.addr("nobody").to_string(),
    };
    let err = query(s.deps.as_ref(), mock_env(), msg).unwrap_err();
    assert!(err.to_string().contains("is not registered"));
}

#[test]
fn providers_are_paginated_by_address() {
    let mut s = Setup::new();
    let all = register_many(&mut s, 5);
    assert_eq!(providers(&s, None, None, None), all);
    assert_eq!(providers(&s, None, None, Some(2)), all[..2]);
    assert_eq!(providers(&s, None, Some(&all[1]), Some(2)), all[2..4]);
    assert_eq!(providers(&s, None, Some(&all[4]), None), Vec::<Addr>::new());
}

#[test]
fn providers_page_is_capped_at_30() {
    let mut s = Setup::new();
    let all = register_many(&mut s, 31);
    assert_eq!(providers(&s, None, None, Some(100)).len(), 30);
    assert_eq!(providers(&s, None, None, None).len(), 10);
    assert_eq!(providers(&s, None, Some(&all[29]), Some(100)), all[30..]);
}

#[test]
fn providers_status_filter_follows_pause_resume_and_deregister() {
    let mut s = Setup::new();
    let all = register_many(&mut s, 4);
    s.execute(&all[1], ExecuteMsg::Pause {}).unwrap();
    s.execute(&all[3], ExecuteMsg::Pause {}).unwrap();
    let active = providers(&s, status(ProviderStatus::Active), None, None);
    let paused = providers(&s, status(ProviderStatus::Paused), None, None);
    assert_eq!(active, vec![all[0].clone(), all[2].clone()]);
    assert_eq!(paused, vec![all[1].clone(), all[3].clone()]);

    // Pagination inside the index.
    let page = providers(&s, status(ProviderStatus::Paused), Some(&all[1]), None);
    assert_eq!(page, vec![all[3].clone()]);

    s.execute(&all[1], ExecuteMsg::Resume {}).unwrap();
    s.execute(&all[3], ExecuteMsg::Deregister {}).unwrap();
    let active = providers(&s, status(ProviderStatus::Active), None, None);
    assert_eq!(active, vec![all[0].clone(), all[1].clone(), all[2].clone()]);
    assert!(providers(&s, status(ProviderStatus::Paused), None, None).is_empty());
}

#[test]
fn providers_device_filters_combine_with_status() {
    let mut s = Setup::new();
    let names = ["big-fp64", "big", "small-fp64"];
    let addrs: Vec<Addr> = names.iter().map(|n| s.addr(n)).collect();
    let stakes: Vec<(&Addr, u128, u128)> = addrs.iter().map(|a| (a, MIN_BOND, 0)).collect();
    s.stakes(&stakes);
    for (addr, (mem, fp64)) in
        addrs
            .iter()
            .zip([(16u64 << 30, true), (16 << 30, false), (1 << 30, true)])
    {
        let mut p = profile();
        p.device.global_mem_bytes = mem;
        p.device.fp64 = fp64;
        s.register_with(addr, p);
    }
    let sorted = |mut v: Vec<Addr>| {
        v.sort();
        v
    };
    let filter = |min_mem: Option<u64>, fp64: Option<bool>| {
        Some(ProviderFilter {
            status: None,
            min_global_mem_bytes: min_mem,
            fp64,
        })
    };
    let big = providers(&s, filter(Some(8 << 30), None), None, None);
    assert_eq!(big, sorted(vec![addrs[0].clone(), addrs[1].clone()]));
    let fp64 = providers(&s, filter(None, Some(true)), None, None);
    assert_eq!(fp64, sorted(vec![addrs[0].clone(), addrs[2].clone()]));
    let no_fp64 = providers(&s, filter(None, Some(false)), None, None);
    assert_eq!(no_fp64, vec![addrs[1].clone()]);
    assert_eq!(
        providers(&s, filter(Some(8 << 30), Some(true)), None, None),
        vec![addrs[0].clone()]
    );

    s.execute(&addrs[0], ExecuteMsg::Pause {}).unwrap();
    let paused_big = Some(ProviderFilter {
        status: Some(ProviderStatus::Paused),
        min_global_mem_bytes: Some(8 << 30),
        fp64: None,
    });
    assert_eq!(
        providers(&s, paused_big, None, None),
        vec![addrs[0].clone()]
    );
    // A page counts matches, not scanned entries.
    assert_eq!(
        providers(&s, filter(None, Some(true)), None, Some(1)).len(),
        1
    );
}
