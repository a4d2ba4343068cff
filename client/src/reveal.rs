//! Commitments to results: the one recipe the CLI, the daemon and the benchmarks use to commit
//! to a task's outputs and to open the commitment later, and the plan kept on disk in between
//! (as [`crate::bid`] does for sealed bids).
//!
//! A commitment is [`opengpu_types::commitment::commitment`] over the task, the provider, the
//! outputs digest, the price (Manual Confirmation's sealed offer; none in other models, see
//! `TaskInfo::check_price`) and a fresh [`SALT_BYTES`]-byte salt. Only the plan opens it, so
//! the plan is written durably *before* the commit goes out: a commitment whose salt is lost can
//! never be opened, and its collateral is forfeited.
//!
//! # Plan file
//!
//! `<dir>/<task>-<provider>.json` ([`PlanStore`]), readable by its owner only, written through
//! a temporary file, fsync and rename:
//!
//! ```text
//! {
//!   "version": 3,
//!   "task_id": 4,
//!   "provider": "wasm1...",
//!   "price": "300",                        Manual Confirmation only
//!   "salt": "<hex>",
//!   "outputs_digest": "<hex>",
//!   "commitment": "<hex>",
//!   "outputs": ["<base64>", ...]           the buffers themselves (the daemon), or
//!              [{"path": "/abs/c.bin", "bytes": 4096, "sha256": "<hex>"}, ...]
//!                                          the files holding them (the CLI), read again at
//!                                          reveal: a file that changed is refused
//!   "commit_txhash": "...", "commit_height": 120, "reveal_txhash": "..."    once known
//! }
//! ```
//!
//! # Earlier files
//!
//! Read as they are, so that a commitment made before an upgrade is still revealed after it:
//! - the CLI's (no `version`, a `chain_id`): the fields above;
//! - the daemon's format 2 (`"version": 2`, the price as `offer`; no `provider`, digest or
//!   commitment: the store's provider is taken, the others computed). The daemon named these
//!   `<task>.json` and renames them on start.
//!
//! The daemon's format 1 (neither `version` nor `chain_id`) predates the price in the
//! commitment: it can no longer open its commitment, and loading it is
//! [`Error::PlanUnusable`], as is a format this version does not know.

use std::path::{Path, PathBuf};

use cosmwasm_std::{Binary, HexBinary, Uint128};
use opengpu_types::commitment::{commitment, outputs_digest};
use opengpu_types::market::ExecuteMsg;
use opengpu_types::TaskId;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::durable;
use crate::error::{Error, Result};

/// Salt length of new commitments (the market takes 16 to 64 bytes).
pub const SALT_BYTES: usize = 32;
/// The plan format written (see the module doc).
pub const PLAN_VERSION: u32 = 3;

/// What opens a commitment: everything it seals, and the outputs (or where they are).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealPlan {
    pub version: u32,
    pub task_id: TaskId,
    /// The committer's address: part of the hash.
    pub provider: String,
    /// The price sealed in the commitment, which the reveal repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Uint128>,
    pub salt: HexBinary,
    pub outputs_digest: HexBinary,
    pub commitment: HexBinary,
    pub outputs: PlanOutputs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_txhash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_height: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reveal_txhash: Option<String>,
}

/// The committed output buffers, or the files that hold them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PlanOutputs {
    Inline(Vec<Binary>),
    Files(Vec<OutputFile>),
}

/// An output file as it was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputFile {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: HexBinary,
}

impl OutputFile {
    /// The file's contents, as long as they are what was committed.
    fn read(&self) -> Result<Binary> {
        let data = std::fs::read(&self.path).map_err(|source| {
            Error::io(format!("reading output {}", self.path.display()), source)
        })?;
        if data.len() as u64 != self.bytes || Sha256::digest(&data)[..] != *self.sha256.as_slice() {
            return Err(Error::OutputChanged {
                path: self.path.clone(),
            });
        }
        Ok(Binary::from(data))
    }
}

impl RevealPlan {
    /// A commitment by `provider` to `outputs` at `price`, with a fresh salt; the plan keeps
    /// the outputs.
    pub fn new(
        task_id: TaskId,
        provider: &str,
        outputs: Vec<Binary>,
        price: Option<Uint128>,
    ) -> Self {
        let digest = outputs_digest(&outputs);
        Self::seal(
            task_id,
            provider,
            digest,
            price,
            PlanOutputs::Inline(outputs),
        )
    }

    /// A commitment by `provider` to the contents of `files` (path, data), in order, at
    /// `price`, with a fresh salt; the plan keeps the paths, and the reveal reads the files
    /// again.
    pub fn for_files(
        task_id: TaskId,
        provider: &str,
        files: &[(PathBuf, Vec<u8>)],
        price: Option<Uint128>,
    ) -> Self {
        let buffers: Vec<Binary> = files
            .iter()
            .map(|(_, data)| Binary::from(data.as_slice()))
            .collect();
        let records = files
            .iter()
            .map(|(path, data)| OutputFile {
                path: path.clone(),
                bytes: data.len() as u64,
                sha256: HexBinary::from(Sha256::digest(data).to_vec()),
            })
            .collect();
        Self::seal(
            task_id,
            provider,
            outputs_digest(&buffers),
            price,
            PlanOutputs::Files(records),
        )
    }

    fn seal(
        task_id: TaskId,
        provider: &str,
        digest: [u8; 32],
        price: Option<Uint128>,
        outputs: PlanOutputs,
    ) -> Self {
        let mut salt = [0u8; SALT_BYTES];
        OsRng.fill_bytes(&mut salt);
        Self::with_salt(task_id, provider, digest, price, salt.to_vec(), outputs)
    }

    fn with_salt(
        task_id: TaskId,
        provider: &str,
        digest: [u8; 32],
        price: Option<Uint128>,
        salt: Vec<u8>,
        outputs: PlanOutputs,
    ) -> Self {
        let hash = commitment(task_id, provider, &digest, price, &salt);
        RevealPlan {
            version: PLAN_VERSION,
            task_id,
            provider: provider.to_string(),
            price,
            salt: HexBinary::from(salt),
            outputs_digest: HexBinary::from(digest.to_vec()),
            commitment: HexBinary::from(hash.to_vec()),
            outputs,
            commit_txhash: None,
            commit_height: None,
            reveal_txhash: None,
        }
    }

    /// Whether this plan opens `on_chain`, the provider's commitment as the market holds it.
    pub fn opens(&self, on_chain: &HexBinary) -> bool {
        self.commitment == *on_chain
    }

    /// `Commit`: seals the outputs (and the price).
    pub fn commit_msg(&self) -> ExecuteMsg {
        ExecuteMsg::Commit {
            task_id: self.task_id,
            commitment: self.commitment.clone(),
        }
    }

    /// The committed outputs, checked: files read again must hold what was committed
    /// ([`Error::OutputChanged`]), and the digest, price and salt must give the recorded
    /// commitment ([`Error::PlanDoesNotOpen`]).
    pub fn outputs(&self) -> Result<Vec<Binary>> {
        let outputs = match &self.outputs {
            PlanOutputs::Inline(outputs) => outputs.clone(),
            PlanOutputs::Files(files) => {
                files.iter().map(OutputFile::read).collect::<Result<_>>()?
            }
        };
        let digest = outputs_digest(&outputs);
        let expected = commitment(
            self.task_id,
            &self.provider,
            &digest,
            self.price,
            self.salt.as_slice(),
        );
        if digest.as_slice() != self.outputs_digest.as_slice()
            || expected.as_slice() != self.commitment.as_slice()
        {
            return Err(Error::PlanDoesNotOpen {
                task_id: self.task_id,
            });
        }
        Ok(outputs)
    }

    /// `Reveal`: opens the commitment with the checked [`outputs`](Self::outputs), the salt
    /// and the sealed price.
    pub fn reveal_msg(&self) -> Result<ExecuteMsg> {
        Ok(ExecuteMsg::Reveal {
            task_id: self.task_id,
            outputs: self.outputs()?,
            salt: self.salt.clone(),
            price: self.price,
        })
    }

    /// Reads a plan file's contents, of this format or an earlier one (see the module doc);
    /// `provider` is the store's, taken by a daemon plan of format 2.
    fn parse(bytes: &[u8], provider: &str, path: &Path) -> Result<Self> {
        let json = |source| Error::json(format!("reading reveal plan {}", path.display()), source);
        let unusable = |reason: String| Error::PlanUnusable {
            path: path.to_path_buf(),
            reason,
        };
        let probe: Probe = serde_json::from_slice(bytes).map_err(json)?;
        match (probe.version, probe.chain_id) {
            (Some(PLAN_VERSION), _) => serde_json::from_slice(bytes).map_err(json),
            (Some(2), None) => {
                let old: DaemonPlanV2 = serde_json::from_slice(bytes).map_err(json)?;
                Ok(Self::with_salt(
                    old.task_id,
                    provider,
                    outputs_digest(&old.outputs),
                    old.offer,
                    old.salt.to_vec(),
                    PlanOutputs::Inline(old.outputs),
                ))
            }
            (None, Some(_)) => {
                let old: CliPlanV0 = serde_json::from_slice(bytes).map_err(json)?;
                Ok(RevealPlan {
                    version: PLAN_VERSION,
                    task_id: old.task_id,
                    provider: old.provider,
                    price: old.price,
                    salt: old.salt,
                    outputs_digest: old.outputs_digest,
                    commitment: old.commitment,
                    outputs: PlanOutputs::Files(old.outputs),
                    commit_txhash: old.commit_txhash,
                    commit_height: old.commit_height,
                    reveal_txhash: old.reveal_txhash,
                })
            }
            (None | Some(1), None) => Err(unusable(
                "format 1, whose commitment recipe has no price in it: it cannot open a \
                 commitment under the current market"
                    .into(),
            )),
            (Some(version), _) => Err(unusable(format!(
                "format {version}, which this version does not read (it reads {PLAN_VERSION}, \
                 and the earlier daemon and CLI formats)"
            ))),
        }
    }
}

/// What tells the formats apart.
#[derive(Deserialize)]
struct Probe {
    version: Option<u32>,
    chain_id: Option<String>,
}

/// The daemon's plan of format 2.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DaemonPlanV2 {
    #[allow(dead_code)]
    version: u32,
    task_id: TaskId,
    outputs: Vec<Binary>,
    salt: HexBinary,
    #[serde(default)]
    offer: Option<Uint128>,
}

/// The CLI's plan before the formats were one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CliPlanV0 {
    #[allow(dead_code)]
    chain_id: String,
    task_id: TaskId,
    provider: String,
    outputs: Vec<OutputFile>,
    outputs_digest: HexBinary,
    #[serde(default)]
    price: Option<Uint128>,
    salt: HexBinary,
    commitment: HexBinary,
    #[serde(default)]
    commit_txhash: Option<String>,
    #[serde(default)]
    commit_height: Option<u64>,
    #[serde(default)]
    reveal_txhash: Option<String>,
}

/// Reveal plans kept in one directory, as `<task>-<provider>.json`, from before their commit
/// is sent until they no longer matter.
#[derive(Clone, Debug)]
pub struct PlanStore {
    dir: PathBuf,
}

impl PlanStore {
    /// The plans under `dir` (created at the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        PlanStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the plan of `provider`'s commitment to `task_id` is kept.
    pub fn path(&self, task_id: TaskId, provider: &str) -> PathBuf {
        durable::path(&self.dir, "", task_id, provider)
    }

    /// Where [`set_aside`](Self::set_aside) moves it.
    pub fn aside_path(&self, task_id: TaskId, provider: &str) -> PathBuf {
        self.path(task_id, provider).with_extension("json.unusable")
    }

    /// Writes `plan` durably and atomically (temporary file, fsync, rename); returns its
    /// path. Called before the commit goes out, and again to record what happened.
    pub fn save(&self, plan: &RevealPlan) -> Result<PathBuf> {
        let path = self.path(plan.task_id, &plan.provider);
        let json = serde_json::to_vec_pretty(plan)
            .map_err(|source| Error::json("encoding a reveal plan", source))?;
        durable::write(&path, &json).map_err(|source| {
            Error::io(format!("saving reveal plan {}", path.display()), source)
        })?;
        Ok(path)
    }

    /// The plan of `provider`'s commitment to `task_id`, if one is kept. A plan that cannot
    /// open that commitment (an outdated format, or one kept for another task or provider) is
    /// [`Error::PlanUnusable`].
    pub fn load(&self, task_id: TaskId, provider: &str) -> Result<Option<RevealPlan>> {
        let path = self.path(task_id, provider);
        let Some(bytes) = durable::read(&path).map_err(|source| {
            Error::io(format!("reading reveal plan {}", path.display()), source)
        })?
        else {
            return Ok(None);
        };
        let plan = RevealPlan::parse(&bytes, provider, &path)?;
        if plan.task_id != task_id || plan.provider != provider {
            return Err(Error::PlanUnusable {
                path,
                reason: format!(
                    "it holds the commitment of {} to task {}",
                    plan.provider, plan.task_id
                ),
            });
        }
        Ok(Some(plan))
    }

    /// Deletes the plan once it no longer matters (revealed, or the task ended); one already
    /// gone is not an error.
    pub fn remove(&self, task_id: TaskId, provider: &str) -> Result<()> {
        let path = self.path(task_id, provider);
        durable::remove(&path)
            .map_err(|source| Error::io(format!("removing reveal plan {}", path.display()), source))
    }

    /// Renames a plan that must not be revealed to `<task>-<provider>.json.unusable`: kept for
    /// inspection, no longer [`pending`](Self::pending). Returns the new path.
    pub fn set_aside(&self, task_id: TaskId, provider: &str) -> Result<PathBuf> {
        let path = self.path(task_id, provider);
        let aside = self.aside_path(task_id, provider);
        std::fs::rename(&path, &aside).map_err(|source| {
            Error::io(
                format!("setting reveal plan {} aside", path.display()),
                source,
            )
        })?;
        Ok(aside)
    }

    /// Task ids of `provider`'s kept plans, oldest task first (a missing directory has none).
    pub fn pending(&self, provider: &str) -> Result<Vec<TaskId>> {
        durable::task_ids(&self.dir, "", provider).map_err(|source| {
            Error::io(
                format!("listing reveal plans in {}", self.dir.display()),
                source,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "wasm1me";

    #[test]
    fn a_plan_commits_with_a_fresh_salt_and_opens_its_commitment() {
        let outputs = vec![Binary::from(vec![1, 2, 3]), Binary::from(vec![4])];
        let price = Some(Uint128::new(300));
        let plan = RevealPlan::new(9, ME, outputs.clone(), price);
        assert_eq!(plan.salt.len(), SALT_BYTES);
        let expected = commitment(
            9,
            ME,
            &outputs_digest(&outputs),
            price,
            plan.salt.as_slice(),
        );
        assert_eq!(plan.commitment.as_slice(), expected.as_slice());
        assert!(plan.opens(&HexBinary::from(expected.to_vec())));
        assert_eq!(
            plan.commit_msg(),
            ExecuteMsg::Commit {
                task_id: 9,
                commitment: HexBinary::from(expected.to_vec()),
            }
        );
        assert_eq!(
            plan.reveal_msg().unwrap(),
            ExecuteMsg::Reveal {
                task_id: 9,
                outputs: outputs.clone(),
                salt: plan.salt.clone(),
                price,
            }
        );
        // Two commitments to the same result differ (fresh salts); the price is bound.
        let again = RevealPlan::new(9, ME, outputs.clone(), price);
        assert_ne!(again.commitment, plan.commitment);
        let mut cheaper = plan.clone();
        cheaper.price = Some(Uint128::new(299));
        assert!(matches!(
            cheaper.outputs(),
            Err(Error::PlanDoesNotOpen { task_id: 9 })
        ));
    }

    #[test]
    fn plans_round_trip_and_are_listed_per_provider_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::new(dir.path().join("plans"));
        assert_eq!(store.pending(ME).unwrap(), Vec::<TaskId>::new());
        let plan = RevealPlan::new(12, ME, vec![Binary::from(vec![1, 2, 3])], None);
        let path = store.save(&plan).unwrap();
        assert!(path.ends_with("plans/12-wasm1me.json"));
        store
            .save(&RevealPlan::new(3, ME, vec![], Some(Uint128::new(5))))
            .unwrap();
        store
            .save(&RevealPlan::new(4, "wasm1other", vec![], None))
            .unwrap();
        assert_eq!(store.pending(ME).unwrap(), vec![3, 12]);
        assert_eq!(store.load(12, ME).unwrap(), Some(plan));
        assert_eq!(store.load(12, "wasm1other").unwrap(), None);
        store.remove(12, ME).unwrap();
        store.remove(12, ME).unwrap(); // already gone: not an error
        assert_eq!(store.pending(ME).unwrap(), vec![3]);
        assert_eq!(store.load(12, ME).unwrap(), None);
        let aside = store.set_aside(3, ME).unwrap();
        assert!(aside.ends_with("3-wasm1me.json.unusable") && aside.exists());
        assert_eq!(store.pending(ME).unwrap(), Vec::<TaskId>::new());
    }

    #[test]
    fn a_plan_of_files_reads_them_again_and_refuses_one_that_changed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("c.bin");
        std::fs::write(&out, [9u8; 8]).unwrap();
        let plan = RevealPlan::for_files(4, ME, &[(out.clone(), vec![9u8; 8])], None);
        let store = PlanStore::new(dir.path());
        store.save(&plan).unwrap();
        let loaded = store.load(4, ME).unwrap().unwrap();
        assert_eq!(loaded.outputs().unwrap(), vec![Binary::from(vec![9u8; 8])]);
        let digest = outputs_digest(&[Binary::from(vec![9u8; 8])]);
        assert_eq!(
            loaded.commitment.as_slice(),
            commitment(4, ME, &digest, None, loaded.salt.as_slice()).as_slice(),
            "the same commitment as for the buffers themselves"
        );
        std::fs::write(&out, [8u8; 8]).unwrap();
        match loaded.outputs() {
            Err(Error::OutputChanged { path }) => assert_eq!(path, out),
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&out).unwrap();
        let err = loaded.outputs().unwrap_err().to_string();
        assert!(err.contains("reading output"), "{err}");
    }

    #[test]
    fn the_clis_earlier_plans_still_load_and_open() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("c.bin");
        std::fs::write(&out, [9u8; 8]).unwrap();
        let plan = RevealPlan::for_files(
            4,
            ME,
            &[(out.clone(), vec![9u8; 8])],
            Some(Uint128::new(300)),
        );
        let PlanOutputs::Files(files) = &plan.outputs else {
            unreachable!()
        };
        // As the CLI wrote them before the formats were one.
        let old = serde_json::json!({
            "chain_id": "local-1",
            "task_id": 4,
            "provider": ME,
            "outputs": files,
            "outputs_digest": plan.outputs_digest,
            "price": "300",
            "salt": plan.salt,
            "commitment": plan.commitment,
            "commit_txhash": "AB",
            "commit_height": 17,
            "reveal_txhash": null,
        });
        let store = PlanStore::new(dir.path());
        std::fs::write(store.path(4, ME), old.to_string()).unwrap();
        let loaded = store.load(4, ME).unwrap().unwrap();
        assert_eq!(
            loaded,
            RevealPlan {
                commit_txhash: Some("AB".into()),
                commit_height: Some(17),
                ..plan
            }
        );
        assert_eq!(loaded.outputs().unwrap(), vec![Binary::from(vec![9u8; 8])]);
    }

    #[test]
    fn the_daemons_format_2_loads_and_format_1_is_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::new(dir.path());
        let outputs = vec![Binary::from(vec![1, 2, 3])];
        let salt = HexBinary::from(vec![7; 32]);
        let v2 = serde_json::json!({
            "version": 2,
            "task_id": 8,
            "outputs": outputs,
            "salt": salt,
            "offer": "1000",
        });
        std::fs::write(store.path(8, ME), v2.to_string()).unwrap();
        let loaded = store.load(8, ME).unwrap().unwrap();
        let price = Some(Uint128::new(1_000));
        let expected = commitment(8, ME, &outputs_digest(&outputs), price, salt.as_slice());
        assert_eq!(loaded.commitment.as_slice(), expected.as_slice());
        assert_eq!(loaded.price, price);
        assert_eq!(loaded.provider, ME);
        assert_eq!(loaded.reveal_msg().unwrap(), {
            ExecuteMsg::Reveal {
                task_id: 8,
                outputs: outputs.clone(),
                salt: salt.clone(),
                price,
            }
        });
        // Without `offer`: no price.
        let bare = serde_json::json!({"version": 2, "task_id": 9, "outputs": [], "salt": salt});
        std::fs::write(store.path(9, ME), bare.to_string()).unwrap();
        assert_eq!(store.load(9, ME).unwrap().unwrap().price, None);

        let v1 =
            serde_json::json!({"task_id": 10, "outputs": ["AQID"], "salt": salt, "offer": null});
        std::fs::write(store.path(10, ME), v1.to_string()).unwrap();
        let err = store.load(10, ME).unwrap_err();
        assert!(
            matches!(&err, Error::PlanUnusable { reason, .. } if reason.contains("format 1")),
            "{err}"
        );
        let v9 = serde_json::json!({"version": 9, "task_id": 11});
        std::fs::write(store.path(11, ME), v9.to_string()).unwrap();
        let err = store.load(11, ME).unwrap_err().to_string();
        assert!(err.contains("format 9"), "{err}");
        std::fs::write(store.path(12, ME), "{").unwrap();
        assert!(matches!(store.load(12, ME), Err(Error::Json { .. })));
    }

    #[test]
    fn a_plan_kept_under_another_name_is_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::new(dir.path());
        let plan = RevealPlan::new(5, "wasm1other", vec![], None);
        std::fs::write(store.path(5, ME), serde_json::to_vec(&plan).unwrap()).unwrap();
        let err = store.load(5, ME).unwrap_err().to_string();
        assert!(err.contains("commitment of wasm1other to task 5"), "{err}");
    }
}
