//! Page sizes shared by every paginated query.

/// Items returned when a query names no limit.
pub const DEFAULT_LIMIT: u32 = 10;
/// The most items one page returns, whatever limit is asked for.
pub const MAX_LIMIT: u32 = 30;

/// The number of items to return for a requested `limit`.
pub fn page_limit(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limit_defaults_and_caps() {
        assert_eq!(page_limit(None), 10);
        assert_eq!(page_limit(Some(3)), 3);
        assert_eq!(page_limit(Some(1000)), 30);
    }
}
