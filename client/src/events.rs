//! Events of an included transaction, and their reading into the typed events of
//! `opengpu_types::events`.

use opengpu_types::events::ContractEvent;
use serde::Serialize;

use crate::error::Result;

/// One ABCI event: its type (`wasm-task_published`, `transfer`, ...) and attributes in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

impl TxEvent {
    /// The first value of attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v.as_str()))
    }

    /// The contract that emitted this event, for `wasm-*` events.
    pub fn contract(&self) -> Option<&str> {
        self.attribute("_contract_address")
    }

    /// Reads this event as `E` when its type is `E`'s.
    pub fn typed<E: ContractEvent>(&self) -> Option<Result<E>> {
        (self.kind == E::chain_type()).then(|| {
            let attrs: Vec<(&str, &str)> = self
                .attributes
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            E::from_attributes(attrs).map_err(Into::into)
        })
    }
}

impl From<&cosmrs::tendermint::abci::Event> for TxEvent {
    fn from(event: &cosmrs::tendermint::abci::Event) -> Self {
        TxEvent {
            kind: event.kind.clone(),
            attributes: event
                .attributes
                .iter()
                .map(|a| {
                    (
                        String::from_utf8_lossy(a.key_bytes()).into_owned(),
                        String::from_utf8_lossy(a.value_bytes()).into_owned(),
                    )
                })
                .collect(),
        }
    }
}

/// Every event of type `E` in `events`, from `contract` when given, in order.
pub fn typed_events<E: ContractEvent>(
    events: &[TxEvent],
    contract: Option<&str>,
) -> Result<Vec<E>> {
    events
        .iter()
        .filter(|event| contract.is_none() || event.contract() == contract)
        .filter_map(TxEvent::typed::<E>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opengpu_types::events::{TaskPublished, TaskSettled};

    fn event(kind: &str, attrs: &[(&str, &str)]) -> TxEvent {
        TxEvent {
            kind: kind.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn typed_events_are_read_from_their_contract_only() {
        let published = [
            ("_contract_address", "wasm1market"),
            ("task_id", "3"),
            ("client", "wasm1client"),
            ("model", "first_response"),
            ("denom", "ustake"),
            ("amount", "1000"),
            ("collateral", "100"),
            ("deadline", "120"),
        ];
        let events = vec![
            event(
                "message",
                &[("action", "/cosmwasm.wasm.v1.MsgExecuteContract")],
            ),
            event(
                "wasm",
                &[
                    ("_contract_address", "wasm1market"),
                    ("action", "publish_task"),
                ],
            ),
            event("wasm-task_published", &published),
        ];
        let typed: Vec<TaskPublished> = typed_events(&events, Some("wasm1market")).unwrap();
        assert_eq!(typed.len(), 1);
        assert_eq!((typed[0].task_id, typed[0].amount.u128()), (3, 1000));
        assert!(typed_events::<TaskPublished>(&events, Some("wasm1other"))
            .unwrap()
            .is_empty());
        assert!(typed_events::<TaskSettled>(&events, None)
            .unwrap()
            .is_empty());

        let broken = vec![event("wasm-task_published", &published[..3])];
        assert!(typed_events::<TaskPublished>(&broken, None).is_err());
    }
}
