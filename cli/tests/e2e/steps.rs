//! Steps the tests share, each one or two `opengpu` calls with the checks that always apply.

use serde_json::Value;

use crate::cli::amount;
use crate::localnet::Localnet;
use crate::vector_add::VectorAdd;

/// The market's protocol fee on a payment of `price` (floored, as the market computes it)
/// and the address that receives it.
pub fn protocol_fee(net: &Localnet, price: u128) -> (u128, String) {
    let market = &net.params()["market"];
    let bps = market["fee_bps"].as_u64().expect("fee_bps") as u128;
    let collector = market["fee_collector"].as_str().expect("fee_collector");
    (price * bps / 10_000, collector.to_string())
}

/// The registry's minimum bond (what deploy.sh configured).
pub fn min_bond(net: &Localnet) -> u128 {
    amount(&net.params()["registry"]["min_bond"])
}

/// As `name`: `stake bond` the registry's minimum, then `provider register`. Returns the fees
/// (ustake) of the two transactions.
pub fn become_provider(net: &Localnet, name: &str) -> u128 {
    let bond = min_bond(net);
    let bonded = net.cli_json(&["--from", name, "stake", "bond", &format!("{bond}ustake")]);
    assert_eq!(amount(&bonded["bonded"]), bond);
    let registered = net.cli_json(&["--from", name, "provider", "register", "--moniker", name]);
    assert_eq!(registered["provider"]["eligible"], true, "{registered}");
    assert_eq!(net.stake(name), (bond, 0));
    net.tx_fee(&bonded) + net.tx_fee(&registered)
}

/// As `client`: `task publish` the vector addition with `flags` (payment, model, ...) added.
/// Returns the task id and the publish fee (ustake).
pub fn publish(net: &Localnet, task: &VectorAdd, flags: &[&str]) -> (String, u128) {
    let mut args: Vec<String> = ["--from", "client", "task", "publish"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(task.publish_args());
    args.extend(flags.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let published = net.cli_json(&args);
    let id = published["task_id"]
        .as_u64()
        .expect("publish prints the task id");
    (id.to_string(), net.tx_fee(&published))
}

/// `task show ID -o json`: `{task, kernel, commitments, offers}`.
pub fn show(net: &Localnet, id: &str) -> Value {
    net.cli_json(&["task", "show", id])
}

/// The state (`committed`, `revealed`, `rejected`, ...) of `provider`'s commitment in
/// `task show` output.
pub fn commitment_state(shown: &Value, provider: &str) -> String {
    let commitment = shown["commitments"]
        .as_array()
        .expect("commitments is a list")
        .iter()
        .find(|c| c["provider"] == provider)
        .unwrap_or_else(|| panic!("no commitment of {provider} in {shown}"));
    let state = commitment["state"]
        .as_object()
        .expect("state is an enum object");
    state.keys().next().expect("a state").clone()
}

/// As `provider`: `task commit ID --outputs FILE --price PRICE`, a sealed Manual Confirmation
/// offer. Returns the command's JSON and its fee.
pub fn commit_offer(
    net: &Localnet,
    provider: &str,
    id: &str,
    output: &std::path::Path,
    price: &str,
) -> (Value, u128) {
    commit_with(net, provider, id, output, &["--price", price])
}

/// As `provider`: `task commit ID --outputs FILE`. Returns the command's JSON (it has the
/// `reveal_file`) and its fee.
pub fn commit(net: &Localnet, provider: &str, id: &str, output: &std::path::Path) -> (Value, u128) {
    commit_with(net, provider, id, output, &[])
}

fn commit_with(
    net: &Localnet,
    provider: &str,
    id: &str,
    output: &std::path::Path,
    extra: &[&str],
) -> (Value, u128) {
    let output = output.display().to_string();
    let mut args = vec![
        "--from",
        provider,
        "task",
        "commit",
        id,
        "--outputs",
        &output,
    ];
    args.extend_from_slice(extra);
    let committed = net.cli_json(&args);
    let fee = net.tx_fee(&committed);
    (committed, fee)
}

/// Waits (up to two minutes) until the chain is past `height`.
pub fn wait_past_height(net: &Localnet, height: u64) {
    crate::daemon::wait_for(
        &format!("a block above {height}"),
        std::time::Duration::from_secs(120),
        || {
            let now = net.cli_json(&["chain", "status"])["status"]["latest_height"].as_u64()?;
            (now > height).then_some(())
        },
    );
}
