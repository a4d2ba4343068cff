//! Reputation: the market reports each task's outcome for each provider that took part.

use cosmwasm_std::{DepsMut, Event, MessageInfo, OverflowError, OverflowOperation, Response};
use opengpu_types::events::{actions, OutcomeRecorded};
use opengpu_types::registry::Outcome;
use opengpu_types::TaskId;

use crate::state::{CONFIG, PROVIDERS};
use crate::ContractError;

use super::load_provider;

/// Market only. The market records an outcome in the same transaction that unlocks or slashes
/// the provider's collateral, and a provider cannot deregister while collateral is locked, so
/// the provider is still registered here.
pub fn record_outcome(
    deps: DepsMut,
    info: MessageInfo,
    provider: String,
    task_id: TaskId,
    outcome: Outcome,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if info.sender != config.market_addr {
        return Err(ContractError::Unauthorized {
            sender: info.sender.into_string(),
            market: config.market_addr.into_string(),
        });
    }
    let address = deps.api.addr_validate(&provider)?;
    let mut stored = load_provider(deps.storage, &address)?;
    let reputation = &mut stored.reputation;
    let counter = match outcome {
        Outcome::Won => &mut reputation.won,
        Outcome::Lost => &mut reputation.lost,
        Outcome::Expired => &mut reputation.expired,
        Outcome::Slashed => &mut reputation.slashed,
    };
    *counter = counter
        .checked_add(1)
        .ok_or(OverflowError::new(OverflowOperation::Add))?;
    PROVIDERS.save(deps.storage, &address, &stored)?;
    Ok(Response::new()
        .add_attribute("action", actions::RECORD_OUTCOME)
        .add_event(Event::from(OutcomeRecorded {
            provider: address.into_string(),
            task_id,
            outcome: outcome.to_string(),
        })))
}
