//! No execute and query variant of one contract share a name: a generated client
//! (`@cosmwasm/ts-codegen`, checked by `just ts-check`) puts both into one class, where a shared
//! name is one method with two signatures and does not compile.

use std::collections::BTreeSet;

use cosmwasm_schema::schema_for;
use cosmwasm_schema::schemars::schema::{RootSchema, Schema};
use opengpu_types::{market, registry, vault, verification};

/// The wire names (snake_case) of an enum message's variants, as its JSON schema lists them:
/// a struct or tuple variant is a one-key object, a unit variant a string.
fn variant_names(root: &RootSchema) -> BTreeSet<String> {
    let one_of = root
        .schema
        .subschemas
        .as_ref()
        .and_then(|sub| sub.one_of.as_ref())
        .expect("an enum message is a oneOf");
    let mut names = BTreeSet::new();
    for variant in one_of {
        let Schema::Object(variant) = variant else {
            panic!("a variant is an object schema");
        };
        if let Some(values) = &variant.enum_values {
            names.extend(
                values
                    .iter()
                    .map(|v| v.as_str().expect("unit variant").to_owned()),
            );
        }
        if let Some(object) = &variant.object {
            names.extend(object.required.iter().cloned());
        }
    }
    names
}

#[track_caller]
fn assert_disjoint(contract: &str, execute: RootSchema, query: RootSchema) {
    let execute = variant_names(&execute);
    let query = variant_names(&query);
    assert!(
        !execute.is_empty() && !query.is_empty(),
        "{contract}: no variants found"
    );
    let shared: Vec<_> = execute.intersection(&query).collect();
    assert!(
        shared.is_empty(),
        "{contract}: execute and query variants share the names {shared:?}; rename the query"
    );
}

#[test]
fn execute_and_query_variants_of_one_contract_never_share_a_name() {
    assert_disjoint(
        "registry",
        schema_for!(registry::ExecuteMsg),
        schema_for!(registry::QueryMsg),
    );
    assert_disjoint(
        "task-market",
        schema_for!(market::ExecuteMsg),
        schema_for!(market::QueryMsg),
    );
    assert_disjoint(
        "staking-vault",
        schema_for!(vault::ExecuteMsg),
        schema_for!(vault::QueryMsg),
    );
    assert_disjoint(
        "verification",
        schema_for!(verification::ExecuteMsg),
        schema_for!(verification::QueryMsg),
    );
}

/// The check itself finds a shared name, of either variant shape.
#[test]
fn a_shared_name_is_found() {
    #[cosmwasm_schema::cw_serde]
    enum Execute {
        Lock { task_id: u64 },
        Bond {},
        Pause,
    }
    #[cosmwasm_schema::cw_serde]
    enum Query {
        Lock { task_id: u64 },
        Pause,
        Config {},
    }
    let execute = variant_names(&schema_for!(Execute));
    let query = variant_names(&schema_for!(Query));
    assert_eq!(
        execute.intersection(&query).collect::<Vec<_>>(),
        ["lock", "pause"]
    );
}
