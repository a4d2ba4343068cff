use cosmwasm_std::Addr;
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use opengpu_types::registry::{Provider, ProviderStatus, RegistryConfig, Reputation};

pub const CONFIG: Item<RegistryConfig> = Item::new("cfg");

/// Providers by address, indexed by status so that `Providers { filter: { status } }` reads
/// one index prefix instead of scanning every provider.
pub const PROVIDERS: IndexedMap<&Addr, Provider, ProviderIndexes> = IndexedMap::new(
    "prv",
    ProviderIndexes {
        status: MultiIndex::new(status_index, "prv", "prv__st"),
    },
);

/// Reputation of deregistered providers, restored if they register again: leaving the registry
/// must not wash away a slash record.
pub const PAST_REPUTATION: Map<&Addr, Reputation> = Map::new("rep");

pub struct ProviderIndexes<'a> {
    pub status: MultiIndex<'a, u8, Provider, Addr>,
}

impl IndexList<Provider> for ProviderIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<Provider>> + '_> {
        let indexes: Vec<&dyn Index<Provider>> = vec![&self.status];
        Box::new(indexes.into_iter())
    }
}

/// The status index key; one byte per status keeps index entries small.
pub fn status_key(status: ProviderStatus) -> u8 {
    match status {
        ProviderStatus::Active => 0,
        ProviderStatus::Paused => 1,
    }
}

fn status_index(_pk: &[u8], provider: &Provider) -> u8 {
    status_key(provider.status)
}
