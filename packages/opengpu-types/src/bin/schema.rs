//! Writes the JSON schema of every contract into `<out_dir>/<contract>/<contract>.json`.
//! Run by `just schema`; CI regenerates and compares to catch a stale `schema/`.

use std::path::PathBuf;

use cosmwasm_schema::generate_api;
use opengpu_types::{market, registry, vault, verification, MigrateMsg};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "schema".into()));
    let apis = [
        (
            "registry",
            generate_api! {
                name: "registry",
                instantiate: registry::InstantiateMsg,
                execute: registry::ExecuteMsg,
                query: registry::QueryMsg,
                migrate: MigrateMsg,
            },
        ),
        (
            "task-market",
            generate_api! {
                name: "task-market",
                instantiate: market::InstantiateMsg,
                execute: market::ExecuteMsg,
                query: market::QueryMsg,
                migrate: MigrateMsg,
            },
        ),
        (
            "staking-vault",
            generate_api! {
                name: "staking-vault",
                instantiate: vault::InstantiateMsg,
                execute: vault::ExecuteMsg,
                query: vault::QueryMsg,
                migrate: MigrateMsg,
            },
        ),
        (
            "verification",
            generate_api! {
                name: "verification",
                instantiate: verification::InstantiateMsg,
                execute: verification::ExecuteMsg,
                query: verification::QueryMsg,
                migrate: MigrateMsg,
            },
        ),
    ];
    for (name, api) in apis {
        let dir = out_dir.join(name);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.json"));
        let api = api.render();
        std::fs::write(&path, api.to_string()?)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
