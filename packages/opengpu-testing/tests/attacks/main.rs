//! The attack suite of issue 9: each protocol attack tried from the attacker's side on the
//! multi-test Suite, each test asserting the safe outcome with exact balances (the attacker
//! poorer or refused, the honest party whole) and the money invariants at the end.
//! Known limits of the protocol are tests too, named `known_limit_*`, so that a change to
//! them is seen.
//!
//! One binary, one module per attack family:
//! - `first_response`: a placeholder committed earliest (attack 1), and unverified tasks;
//! - `lying_client`: a wrong reference hash (attack 2);
//! - `manual_confirmation`: copiers and the client's sybil against sealed offers (attack 3);
//! - `ransom`: payouts the bank refuses, claims (attack 4);
//! - `owner_powers`: fees and windows fixed at publish, bounded owner powers (attacks 5, 6);
//! - `consensus`: collusion, no quorum, silence, float tolerance, Freivalds in Consensus;
//! - `freivalds`: one wrong element of a product;
//! - `stays_fixed`: attacks that already failed before, kept failing.

mod auction;
mod common;
mod consensus;
mod first_response;
mod freivalds;
mod lying_client;
mod manual_confirmation;
mod owner_powers;
mod ransom;
mod stays_fixed;
