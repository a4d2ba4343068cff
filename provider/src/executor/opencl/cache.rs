//! The worker's compiled-program cache: bounded, least recently used entry evicted first.
//!
//! Keys are `sha256(build options ‖ 0 ‖ source)`, so two tasks that ship the same source share
//! one compilation. Values are whatever the worker stores, compile failures included, so a
//! broken kernel that is published again is not recompiled.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

pub type ProgramKey = [u8; 32];

/// The cache key of `source` built with `build_options`.
pub fn program_key(source: &str, build_options: &str) -> ProgramKey {
    let mut hasher = Sha256::new();
    hasher.update(build_options.as_bytes());
    // The separator keeps ("a", "bc") and ("ab", "c") apart.
    hasher.update([0u8]);
    hasher.update(source.as_bytes());
    hasher.finalize().into()
}

/// At most `capacity` entries; inserting into a full cache evicts the least recently used.
pub struct ProgramCache<V> {
    capacity: usize,
    /// Each value with the tick of its last use.
    entries: HashMap<ProgramKey, (V, u64)>,
    tick: u64,
}

impl<V> ProgramCache<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            tick: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The cached value, marked as just used.
    pub fn get(&mut self, key: &ProgramKey) -> Option<&V> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(value, last_used)| {
            *last_used = tick;
            &*value
        })
    }

    /// Stores `value`, evicting the least recently used entry when full; returns the stored value.
    pub fn insert(&mut self, key: ProgramKey, value: V) -> &V {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            // A linear scan is fine for a few dozen programs, each of which cost a compile.
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, last_used))| *last_used)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.tick += 1;
        self.entries.insert(key, (value, self.tick));
        &self.entries[&key].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_source_and_options_and_their_boundary() {
        let key = program_key("__kernel void k() {}", "");
        assert_eq!(key, program_key("__kernel void k() {}", ""));
        assert_ne!(key, program_key("__kernel void k() { }", ""));
        assert_ne!(
            key,
            program_key("__kernel void k() {}", "-cl-fast-relaxed-math")
        );
        assert_ne!(program_key("bc", "a"), program_key("c", "ab"));
    }

    #[test]
    fn full_cache_evicts_the_least_recently_used() {
        let [a, b, c] = [[1u8; 32], [2u8; 32], [3u8; 32]];
        let mut cache = ProgramCache::new(2);
        cache.insert(a, "a");
        cache.insert(b, "b");
        // Using `a` makes `b` the oldest.
        assert_eq!(cache.get(&a), Some(&"a"));
        cache.insert(c, "c");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&b), None);
        assert_eq!(cache.get(&a), Some(&"a"));
        assert_eq!(cache.get(&c), Some(&"c"));
    }

    #[test]
    fn reinserting_a_key_replaces_its_value_only() {
        let [a, b] = [[1u8; 32], [2u8; 32]];
        let mut cache = ProgramCache::new(2);
        cache.insert(a, 1);
        cache.insert(b, 2);
        cache.insert(a, 3);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&a), Some(&3));
        assert_eq!(cache.get(&b), Some(&2));
    }
}
