//! The library's error type, and the extraction of a readable reason from a chain's raw log.

use std::path::PathBuf;

/// Everything that can go wrong talking to the chain or handling keys.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    #[error("cannot reach the node at {url}: {reason}")]
    Rpc { url: String, reason: String },
    #[error("the node refused the request: {0}")]
    NodeRejected(String),
    #[error("query {path} failed: {reason}")]
    Query { path: String, reason: String },
    #[error("contract query failed: {0}")]
    ContractQuery(String),
    #[error("transaction rejected before inclusion: {0}")]
    CheckTx(String),
    #[error("transaction {txhash} failed at height {height}: {reason}")]
    TxFailed {
        txhash: String,
        height: u64,
        reason: String,
    },
    #[error("simulation failed: {0}")]
    Simulate(String),
    #[error("transaction {txhash} was not included within {seconds}s")]
    TxTimeout { txhash: String, seconds: u64 },
    #[error("account {0} does not exist on chain yet: fund it first")]
    AccountNotFound(String),
    #[error("account sequence stayed mismatched after {attempts} attempts: {reason}")]
    SequenceMismatch { attempts: u32, reason: String },
    #[error("cannot decode {what}: {reason}")]
    Decode { what: String, reason: String },
    #[error("invalid {what} {value:?}: {reason}")]
    Invalid {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("key {0:?} not found in the keyring (see `opengpu keys list`)")]
    KeyNotFound(String),
    #[error("key {0:?} already exists")]
    KeyExists(String),
    #[error("wrong passphrase, or the key file {0} is corrupted")]
    WrongPassphrase(PathBuf),
    #[error("no passphrase: set OPENGPU_KEYRING_PASSPHRASE or run on a terminal")]
    NoPassphrase,
    #[error("invalid mnemonic: {0}")]
    Mnemonic(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("deployment: {0}")]
    Deployment(String),
    /// A reveal plan that cannot open its commitment (an unknown or outdated format, or one
    /// kept for another task or provider): see [`crate::reveal`].
    #[error("reveal plan {path}: {reason}")]
    PlanUnusable { path: PathBuf, reason: String },
    /// An output file a reveal plan names no longer holds what was committed.
    #[error("{path} changed since the commit: it no longer matches the committed hash")]
    OutputChanged { path: PathBuf },
    /// A reveal plan whose outputs and salt give another commitment than the one it records.
    #[error("the reveal plan of task {task_id} does not open its own commitment")]
    PlanDoesNotOpen { task_id: u64 },
    #[error("event: {0}")]
    Event(#[from] opengpu_types::events::EventError),
    #[error("{0}")]
    Crypto(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn json(context: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Json {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn decode(what: impl Into<String>, reason: impl ToString) -> Self {
        Error::Decode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid(
        what: &'static str,
        value: impl Into<String>,
        reason: impl ToString,
    ) -> Self {
        Error::Invalid {
            what,
            value: value.into(),
            reason: reason.to_string(),
        }
    }

    /// Whether the chain refused the transaction for a stale account sequence.
    pub fn is_sequence_mismatch(&self) -> bool {
        match self {
            Error::CheckTx(log) | Error::Simulate(log) => is_sequence_mismatch(log),
            _ => false,
        }
    }

    /// Whether the node already holds this exact transaction: another process signed the
    /// same message with the same sequence (signatures are deterministic).
    pub fn is_duplicate_tx(&self) -> bool {
        matches!(self, Error::CheckTx(log) if log.contains("tx already exists in cache"))
    }

    /// The sequence the chain said it expected, for a sequence mismatch.
    pub fn expected_sequence(&self) -> Option<u64> {
        match self {
            Error::CheckTx(log) | Error::Simulate(log) => expected_sequence(log),
            _ => None,
        }
    }
}

/// Whether a raw log reports an account sequence mismatch (SDK error code 32).
pub fn is_sequence_mismatch(log: &str) -> bool {
    log.contains("account sequence mismatch") || log.contains("incorrect account sequence")
}

/// The sequence the chain expected, from `account sequence mismatch, expected 5, got 4`. The
/// node's check state counts transactions still in its mempool, which a fresh account query
/// (committed state) does not, so this number is the better one to retry with.
pub fn expected_sequence(log: &str) -> Option<u64> {
    let rest = &log[log.find("account sequence mismatch, expected ")?..];
    let digits: String = rest["account sequence mismatch, expected ".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The part of a raw chain log a person needs to read.
///
/// A failed CosmWasm execute logs `failed to execute message; message index: 0: <contract
/// error>: execute wasm contract failed`, sometimes followed by a Go stack location in brackets
/// and the gas used; a failed smart query logs `... <contract error>: query wasm contract
/// failed`. This returns `<contract error>` alone; any other log comes back trimmed of the
/// same trailers.
pub fn readable_log(log: &str) -> String {
    let mut text = log.trim();
    // gRPC status wrapping, as a simulation's log carries it.
    if text.starts_with("rpc error: code = ") {
        if let Some((_, rest)) = text.split_once(" desc = ") {
            text = rest;
        }
    }
    // Trailers the SDK adds after the reason, outermost first.
    if let Some(at) = text.find(" With gas wanted:") {
        text = &text[..at];
    }
    // A Go source location such as `[CosmWasm/wasmd@v0.61.0/x/wasm/keeper/keeper.go:420]`: the
    // reason ends where the first such bracket starts.
    let mut from = 0;
    while let Some(found) = text[from..].find(" [") {
        let at = from + found;
        let inside = text[at + 2..].split(']').next().unwrap_or("");
        if inside.contains(".go:") {
            text = &text[..at];
            break;
        }
        from = at + 2;
    }
    for suffix in [
        ": unknown request",
        ": execute wasm contract failed",
        ": query wasm contract failed",
        ": instantiate wasm contract failed",
    ] {
        if let Some(stripped) = text.strip_suffix(suffix) {
            text = stripped;
        }
    }
    if let Some(rest) = text.strip_prefix("failed to execute message; message index: ") {
        text = rest.split_once(": ").map(|(_, r)| r).unwrap_or(rest);
    }
    // CosmWasm's error wrappers, e.g. `kind: Other, error: <reason>` from a smart query.
    loop {
        let before = text;
        for prefix in ["Generic error: ", "Querier contract error: "] {
            if let Some(rest) = text.strip_prefix(prefix) {
                text = rest;
            }
        }
        if text.starts_with("kind: ") {
            if let Some((_, rest)) = text.split_once(", error: ") {
                text = rest;
            }
        }
        if text == before {
            break;
        }
    }
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_error_is_extracted_from_an_execute_log() {
        let log = "failed to execute message; message index: 0: task 3 does not exist: \
                   execute wasm contract failed";
        assert_eq!(readable_log(log), "task 3 does not exist");
    }

    #[test]
    fn simulation_trailers_are_dropped() {
        let log = "rpc error: code = Unknown desc = failed to execute message; message index: 0: denom uatom is not accepted; \
                   accepted denoms: ustake: execute wasm contract failed \
                   [CosmWasm/wasmd@v0.61.0/x/wasm/keeper/keeper.go:420] With gas wanted: \
                   '18446744073709551615' and gas used: '123456' : unknown request";
        assert_eq!(
            readable_log(log),
            "denom uatom is not accepted; accepted denoms: ustake"
        );
    }

    #[test]
    fn query_errors_lose_their_wrappers() {
        let log = "Generic error: Querier contract error: task 9 does not exist: query wasm \
                   contract failed: unknown request";
        assert_eq!(readable_log(log), "task 9 does not exist");
    }

    #[test]
    fn smart_query_error_kinds_are_dropped() {
        let log = "kind: Other, error: wasm1abc is not registered: query wasm contract failed";
        assert_eq!(readable_log(log), "wasm1abc is not registered");
    }

    #[test]
    fn other_logs_pass_through() {
        let log = "spendable balance 0ustake is smaller than 1000ustake: insufficient funds";
        assert_eq!(readable_log(log), log);
        let mismatch = "account sequence mismatch, expected 5, got 4: incorrect account sequence";
        assert!(is_sequence_mismatch(mismatch));
        assert_eq!(expected_sequence(mismatch), Some(5));
        assert_eq!(expected_sequence("out of gas"), None);
    }
}
