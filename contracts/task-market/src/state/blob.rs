//! Byte strings larger than one storage value, stored as numbered chunks.
//!
//! A blob under key `k` is its chunk count at `k` in one namespace and chunk `i` as raw bytes at
//! `(k, i)` in another. Loading reads exactly `count` keys; nothing ranges over storage.

use cosmwasm_std::{Empty, StdError, StdResult, Storage};
use cw_storage_plus::{KeyDeserialize, Map, Prefixer, PrimaryKey};

/// Bytes per chunk. wasmvm refuses to write a storage value over 128 KiB
/// (`MAX_LENGTH_DB_VALUE` in cosmwasm-vm: "Value too big ... limit is 131072"), on every
/// CosmWasm chain and whatever the contract's gas. Half of it keeps well clear of the limit
/// while the flat cost of a write (2000 gas on wasmd) stays negligible next to the per-byte cost
/// (30 gas a byte) of a full chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// A map from `K` to byte strings of any length, each stored in chunks of at most
/// [`CHUNK_BYTES`]. Callers bound the length of what they save: loops here run once per chunk.
pub struct Blob<K> {
    counts: Map<K, u32>,
    /// Only its key layout is used: chunks are written raw, not as JSON.
    chunks: Map<(K, u32), Empty>,
}

impl<K> Blob<K> {
    /// Chunk counts live in `counts_namespace`, the chunks in `chunks_namespace`: two
    /// namespaces, so a count can never be read as a chunk or the other way round.
    pub const fn new(counts_namespace: &'static str, chunks_namespace: &'static str) -> Self {
        Blob {
            counts: Map::new(counts_namespace),
            chunks: Map::new(chunks_namespace),
        }
    }
}

impl<'a, K> Blob<K>
where
    K: PrimaryKey<'a> + Prefixer<'a> + KeyDeserialize + Clone,
{
    /// Stores `bytes` under `key`, replacing (and leaving no stale chunk of) what was there.
    pub fn save(&self, storage: &mut dyn Storage, key: K, bytes: &[u8]) -> StdResult<()> {
        let count = u32::try_from(bytes.len().div_ceil(CHUNK_BYTES))
            .map_err(|_| StdError::msg(format!("blob of {} bytes is too large", bytes.len())))?;
        let old_count = self.counts.may_load(storage, key.clone())?.unwrap_or(0);
        // `chunks` never yields an empty slice, and storage refuses empty values.
        for (index, chunk) in (0u32..).zip(bytes.chunks(CHUNK_BYTES)) {
            storage.set(&self.chunks.key((key.clone(), index)), chunk);
        }
        for index in count..old_count {
            storage.remove(&self.chunks.key((key.clone(), index)));
        }
        self.counts.save(storage, key, &count)
    }

    /// The bytes under `key`, or `None` when nothing was saved there (an empty blob is
    /// `Some(vec![])`).
    pub fn may_load(&self, storage: &dyn Storage, key: K) -> StdResult<Option<Vec<u8>>> {
        let Some(count) = self.counts.may_load(storage, key.clone())? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        for index in 0..count {
            let chunk = storage
                .get(&self.chunks.key((key.clone(), index)))
                .ok_or_else(|| {
                    StdError::msg(format!("blob chunk {index} of {count} is missing"))
                })?;
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    pub fn load(&self, storage: &dyn Storage, key: K) -> StdResult<Vec<u8>> {
        self.may_load(storage, key)?
            .ok_or_else(|| StdError::msg("blob not found"))
    }

    /// Removes the blob and all its chunks; nothing is left under `key`.
    pub fn remove(&self, storage: &mut dyn Storage, key: K) -> StdResult<()> {
        let count = self.counts.may_load(storage, key.clone())?.unwrap_or(0);
        for index in 0..count {
            storage.remove(&self.chunks.key((key.clone(), index)));
        }
        self.counts.remove(storage, key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;
    use cosmwasm_std::Order;

    const BLOB: Blob<(u64, u32)> = Blob::new("blob_n", "blob_c");

    /// Bytes that differ from chunk to chunk, so a chunk stored out of place shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn stored_values(storage: &MockStorage) -> Vec<Vec<u8>> {
        storage
            .range(None, None, Order::Ascending)
            .map(|(_, value)| value)
            .collect()
    }

    #[test]
    fn round_trips_every_length_and_keeps_each_value_within_a_chunk() {
        for len in [
            0,
            1,
            CHUNK_BYTES - 1,
            CHUNK_BYTES,
            CHUNK_BYTES + 1,
            3 * CHUNK_BYTES,
            5 << 20,
        ] {
            let mut storage = MockStorage::new();
            let bytes = pattern(len);
            BLOB.save(&mut storage, (7, 1), &bytes).unwrap();
            assert_eq!(BLOB.load(&storage, (7, 1)).unwrap(), bytes, "length {len}");
            let values = stored_values(&storage);
            // One count plus one value per started chunk.
            assert_eq!(values.len(), 1 + len.div_ceil(CHUNK_BYTES), "length {len}");
            assert!(
                values.iter().all(|v| v.len() <= CHUNK_BYTES),
                "length {len}"
            );
        }
    }

    #[test]
    fn blobs_under_neighbouring_keys_stay_apart() {
        let mut storage = MockStorage::new();
        let (a, b) = (pattern(CHUNK_BYTES + 5), vec![9u8; 2 * CHUNK_BYTES]);
        BLOB.save(&mut storage, (1, 0), &a).unwrap();
        BLOB.save(&mut storage, (1, 1), &b).unwrap();
        assert_eq!(BLOB.load(&storage, (1, 0)).unwrap(), a);
        assert_eq!(BLOB.load(&storage, (1, 1)).unwrap(), b);
        assert_eq!(BLOB.may_load(&storage, (2, 0)).unwrap(), None);
        assert!(BLOB.load(&storage, (2, 0)).is_err());
    }

    #[test]
    fn a_shorter_blob_replaces_a_longer_one_without_stale_chunks() {
        let mut storage = MockStorage::new();
        BLOB.save(&mut storage, (3, 0), &pattern(4 * CHUNK_BYTES))
            .unwrap();
        BLOB.save(&mut storage, (3, 0), &[1, 2, 3]).unwrap();
        assert_eq!(BLOB.load(&storage, (3, 0)).unwrap(), vec![1, 2, 3]);
        assert_eq!(stored_values(&storage).len(), 2);
    }

    #[test]
    fn remove_leaves_nothing() {
        let mut storage = MockStorage::new();
        BLOB.save(&mut storage, (4, 2), &pattern(3 * CHUNK_BYTES + 1))
            .unwrap();
        BLOB.remove(&mut storage, (4, 2)).unwrap();
        assert_eq!(BLOB.may_load(&storage, (4, 2)).unwrap(), None);
        assert!(stored_values(&storage).is_empty());
        // Removing what is not there is not an error.
        BLOB.remove(&mut storage, (4, 2)).unwrap();
    }

    #[test]
    fn a_missing_chunk_is_an_error_not_a_short_blob() {
        let mut storage = MockStorage::new();
        BLOB.save(&mut storage, (5, 0), &pattern(2 * CHUNK_BYTES))
            .unwrap();
        storage.remove(&BLOB.chunks.key(((5, 0), 1)));
        let err = BLOB.load(&storage, (5, 0)).unwrap_err();
        assert!(err.to_string().contains("chunk 1 of 2 is missing"), "{err}");
    }
}
