//! Off-chain inputs (`KernelArg::RemoteInput`): the chain keeps only each buffer's sha256 and
//! size; the bytes are fetched over HTTP into a content-addressed directory (one file per
//! sha256) and checked against the hash before any run. A file appears there only after its
//! hash matched, so a file present is a checked file; bytes that differ are never computed on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opengpu_types::kernel::{Kernel, KernelArg};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tracing::{debug, info, warn};

/// Name of the input directory under the daemon's state directory.
const DIR_NAME: &str = "inputs";
/// First wait between two attempts on one URL; doubles each time.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);

/// How inputs are fetched and how much of them is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchLimits {
    /// Largest total of off-chain inputs one task may have; larger tasks are refused.
    pub max_task_bytes: u64,
    /// One attempt on one URL, body included.
    pub attempt_timeout: Duration,
    /// Attempts per URL when it fails to answer (a wrong answer is not retried).
    pub attempts: u32,
    /// Checked inputs kept on disk for later tasks, least recently used deleted first.
    pub cache_bytes: u64,
}

/// Why a task's inputs cannot be used; [`InputError::reason`] is its metrics label.
#[derive(thiserror::Error, Debug)]
pub enum InputError {
    #[error("the task's off-chain inputs total {size} bytes; this provider fetches at most {max}")]
    TooLarge { size: u64, max: u64 },
    #[error("{url} served bytes that differ from the published input: {detail}")]
    Mismatch { url: String, detail: String },
    #[error("no URL of input {sha256} answered: {detail}")]
    Unreachable { sha256: String, detail: String },
    #[error("input directory: {0}")]
    Io(#[from] std::io::Error),
}

impl InputError {
    pub fn reason(&self) -> &'static str {
        match self {
            InputError::TooLarge { .. } => "input_too_large",
            InputError::Mismatch { .. } => "input_mismatch",
            InputError::Unreachable { .. } => "input_unreachable",
            InputError::Io(_) => "input_io",
        }
    }
}

/// The content-addressed input directory and its HTTP client.
pub struct InputStore {
    dir: PathBuf,
    limits: FetchLimits,
    client: reqwest::Client,
    /// Inputs a job is using, by file name, with how many jobs: never trimmed.
    pinned: Arc<Mutex<HashMap<String, usize>>>,
}

/// Keeps a task's inputs from being trimmed until dropped (after its run).
#[derive(Debug)]
pub struct Pinned {
    names: Vec<String>,
    pinned: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let mut pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        for name in &self.names {
            if let Some(count) = pinned.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    pinned.remove(name);
                }
            }
        }
    }
}

/// The file name of the input with this sha256: its lowercase hex.
pub fn file_name(sha256: &[u8]) -> String {
    hex::encode(sha256)
}

impl InputStore {
    /// The store in `<state_dir>/inputs`, created if missing; leftovers of interrupted
    /// fetches are removed.
    pub fn in_state_dir(state_dir: &Path, limits: FetchLimits) -> std::io::Result<Self> {
        let dir = state_dir.join(DIR_NAME);
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(limits.attempt_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self {
            dir,
            limits,
            client,
            pinned: Arc::default(),
        })
    }

    /// Where checked inputs live; the worker reads them from here by [`file_name`].
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Fetches and checks every off-chain input of `kernel` (those already here are reused)
    /// and pins them until the returned guard is dropped.
    pub async fn fetch_all(&self, kernel: &Kernel) -> Result<Pinned, InputError> {
        let size = kernel.remote_input_bytes();
        if size > self.limits.max_task_bytes {
            return Err(InputError::TooLarge {
                size,
                max: self.limits.max_task_bytes,
            });
        }
        let remote: Vec<(&[u8], u64, &[String])> = kernel
            .args
            .iter()
            .filter_map(|arg| match arg {
                KernelArg::RemoteInput { sha256, size, urls } => {
                    Some((sha256.as_slice(), *size, urls.as_slice()))
                }
                _ => None,
            })
            .collect();
        // Pinned first, so that a trim by another job cannot delete one fetched here; a
        // failure drops the guard, which unpins them.
        let pinned = self.pin(
            remote
                .iter()
                .map(|(sha256, _, _)| file_name(sha256))
                .collect(),
        );
        if remote.is_empty() {
            return Ok(pinned); // the common case: nothing to fetch, nothing to trim
        }
        for (sha256, size, urls) in remote {
            self.fetch_one(sha256, size, urls).await?;
        }
        self.trim();
        Ok(pinned)
    }

    fn pin(&self, names: Vec<String>) -> Pinned {
        let mut pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        for name in &names {
            *pinned.entry(name.clone()).or_default() += 1;
        }
        Pinned {
            names,
            pinned: self.pinned.clone(),
        }
    }

    async fn fetch_one(&self, sha256: &[u8], size: u64, urls: &[String]) -> Result<(), InputError> {
        let name = file_name(sha256);
        let path = self.dir.join(&name);
        if let Ok(meta) = tokio::fs::metadata(&path).await {
            if meta.len() == size {
                touch(&path);
                debug!(input = %name, "off-chain input already here");
                return Ok(());
            }
        }
        let mut failures = Vec::new();
        for url in urls {
            for attempt in 0..self.limits.attempts.max(1) {
                if attempt > 0 {
                    tokio::time::sleep(FIRST_RETRY_DELAY * 2u32.pow(attempt - 1)).await;
                }
                match self.download(url, sha256, size, &path).await {
                    Ok(took) => {
                        info!(input = %name, size, %url, ?took, "fetched and checked an off-chain input");
                        return Ok(());
                    }
                    Err(Attempt::Wrong(detail)) => {
                        // Another URL may serve the right bytes; this one will not.
                        warn!(input = %name, %url, %detail, "off-chain input does not match its hash");
                        failures.push(InputError::Mismatch {
                            url: url.clone(),
                            detail,
                        });
                        break;
                    }
                    Err(Attempt::Failed(detail)) => {
                        warn!(input = %name, %url, attempt, %detail, "off-chain input fetch failed");
                        if attempt + 1 == self.limits.attempts.max(1) {
                            failures.push(InputError::Unreachable {
                                sha256: name.clone(),
                                detail: format!("{url}: {detail}"),
                            });
                        }
                    }
                    Err(Attempt::Io(e)) => return Err(InputError::Io(e)),
                }
            }
        }
        // A wrong answer outweighs a silent mirror: the published bytes were not found.
        let mismatch = failures
            .iter()
            .position(|f| matches!(f, InputError::Mismatch { .. }));
        Err(match mismatch {
            Some(index) => failures.swap_remove(index),
            None => failures.pop().unwrap_or(InputError::Unreachable {
                sha256: name,
                detail: "the task lists no URL".into(),
            }),
        })
    }

    /// One GET of `url` into a temporary file, renamed to `path` once size and hash match.
    async fn download(
        &self,
        url: &str,
        sha256: &[u8],
        size: u64,
        path: &Path,
    ) -> Result<Duration, Attempt> {
        let started = std::time::Instant::now();
        let response = self
            .client
            .get(url)
            .timeout(self.limits.attempt_timeout)
            .send()
            .await
            .map_err(|e| Attempt::Failed(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Attempt::Failed(format!("HTTP {status}")));
        }
        if let Some(announced) = response.content_length() {
            if announced != size {
                return Err(Attempt::Wrong(format!(
                    "{announced} bytes announced, {size} published"
                )));
            }
        }
        let partial = self
            .dir
            .join(format!(".{}-{}", file_name(sha256), rand_suffix()));
        let result = self
            .write_checked(response, sha256, size, &partial)
            .await
            .and_then(|()| std::fs::rename(&partial, path).map_err(Attempt::Io));
        if result.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result.map(|()| started.elapsed())
    }

    async fn write_checked(
        &self,
        mut response: reqwest::Response,
        sha256: &[u8],
        size: u64,
        partial: &Path,
    ) -> Result<(), Attempt> {
        let mut file = tokio::fs::File::create(partial)
            .await
            .map_err(Attempt::Io)?;
        let mut hasher = Sha256::new();
        let mut written = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Attempt::Failed(e.to_string()))?
        {
            written = written.saturating_add(chunk.len() as u64);
            if written > size {
                return Err(Attempt::Wrong(format!(
                    "more than the {size} bytes published"
                )));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(Attempt::Io)?;
        }
        if written != size {
            return Err(Attempt::Wrong(format!("{written} bytes, {size} published")));
        }
        let got = hasher.finalize();
        if got[..] != *sha256 {
            return Err(Attempt::Wrong(format!(
                "sha256 {}, published {}",
                hex::encode(got),
                hex::encode(sha256)
            )));
        }
        file.sync_all().await.map_err(Attempt::Io)?;
        Ok(())
    }

    /// Deletes the least recently used unpinned inputs until the rest fit the cache size.
    fn trim(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf, String)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let meta = entry.metadata().ok()?;
                (!name.starts_with('.') && meta.is_file()).then(|| {
                    let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    (used, meta.len(), entry.path(), name)
                })
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        let pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        for (_, len, path, name) in files {
            if total <= self.limits.cache_bytes {
                break;
            }
            if pinned.contains_key(&name) {
                continue;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
                debug!(input = %name, "dropped a cached off-chain input");
            }
        }
    }
}

enum Attempt {
    /// The URL answered with other bytes than published: retrying it will not help.
    Wrong(String),
    /// No answer, an HTTP error or a broken transfer: worth another attempt.
    Failed(String),
    Io(std::io::Error),
}

/// Marks an input as just used, for the least-recently-used trim.
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

fn rand_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use cosmwasm_std::HexBinary;
    use hyper::service::{make_service_fn, service_fn};
    use hyper::{Body, Response, StatusCode};

    use super::*;

    /// An HTTP server on loopback answering every GET with `body`; counts the requests.
    async fn serve(body: Vec<u8>) -> (SocketAddr, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let (counter, body) = (hits.clone(), Arc::new(body));
        let make = make_service_fn(move |_| {
            let (counter, body) = (counter.clone(), body.clone());
            async move {
                Ok::<_, Infallible>(service_fn(move |_| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let body = body.clone();
                    async move { Ok::<_, Infallible>(Response::new(Body::from(body.to_vec()))) }
                }))
            }
        });
        let server = hyper::Server::bind(&"127.0.0.1:0".parse().unwrap()).serve(make);
        let addr = server.local_addr();
        tokio::spawn(server);
        (addr, hits)
    }

    /// A server that answers 503 to everything.
    async fn unavailable() -> SocketAddr {
        let make = make_service_fn(|_| async {
            Ok::<_, Infallible>(service_fn(|_| async {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                Ok::<_, Infallible>(response)
            }))
        });
        let server = hyper::Server::bind(&"127.0.0.1:0".parse().unwrap()).serve(make);
        let addr = server.local_addr();
        tokio::spawn(server);
        addr
    }

    fn limits() -> FetchLimits {
        FetchLimits {
            max_task_bytes: 1 << 20,
            attempt_timeout: Duration::from_secs(5),
            attempts: 2,
            cache_bytes: 1 << 20,
        }
    }

    fn kernel(inputs: &[(&[u8], Vec<String>)]) -> Kernel {
        let mut args: Vec<KernelArg> = inputs
            .iter()
            .map(|(bytes, urls)| KernelArg::RemoteInput {
                sha256: HexBinary::from(Sha256::digest(bytes).to_vec()),
                size: bytes.len() as u64,
                urls: urls.clone(),
            })
            .collect();
        args.push(KernelArg::Output { size: 4 });
        Kernel {
            source: "__kernel void k() {}".into(),
            entry_point: "k".into(),
            global_work_size: vec![1],
            local_work_size: None,
            args,
        }
    }

    fn url(addr: SocketAddr) -> String {
        format!("http://{addr}/input")
    }

    fn stored(store: &InputStore, bytes: &[u8]) -> Option<Vec<u8>> {
        std::fs::read(store.dir().join(file_name(&Sha256::digest(bytes)))).ok()
    }

    #[tokio::test]
    async fn an_input_is_fetched_checked_kept_and_not_fetched_twice() {
        let dir = tempfile::tempdir().unwrap();
        let store = InputStore::in_state_dir(dir.path(), limits()).unwrap();
        let bytes = vec![42u8; 100_000];
        let (addr, hits) = serve(bytes.clone()).await;
        let task = kernel(&[(&bytes, vec![url(addr)])]);
        store.fetch_all(&task).await.unwrap();
        assert_eq!(stored(&store, &bytes), Some(bytes.clone()));
        store.fetch_all(&task).await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn bytes_that_differ_from_the_hash_are_refused_and_never_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = InputStore::in_state_dir(dir.path(), limits()).unwrap();
        let published = vec![1u8; 4096];
        let mut served = published.clone();
        served[100] ^= 1; // same size, one bit off
        let (addr, hits) = serve(served).await;
        let err = store
            .fetch_all(&kernel(&[(&published, vec![url(addr)])]))
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "input_mismatch", "{err}");
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "a wrong answer is not retried"
        );
        assert_eq!(stored(&store, &published), None);
        assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_longer_or_shorter_body_is_a_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let store = InputStore::in_state_dir(dir.path(), limits()).unwrap();
        let published = vec![3u8; 1000];
        for served in [vec![3u8; 1001], vec![3u8; 999]] {
            let (addr, _) = serve(served).await;
            let err = store
                .fetch_all(&kernel(&[(&published, vec![url(addr)])]))
                .await
                .unwrap_err();
            assert_eq!(err.reason(), "input_mismatch", "{err}");
        }
    }

    #[tokio::test]
    async fn a_silent_mirror_is_retried_then_the_next_url_serves() {
        let dir = tempfile::tempdir().unwrap();
        let store = InputStore::in_state_dir(dir.path(), limits()).unwrap();
        let bytes = b"the right bytes".to_vec();
        let down = unavailable().await;
        let (up, _) = serve(bytes.clone()).await;
        store
            .fetch_all(&kernel(&[(&bytes, vec![url(down), url(up)])]))
            .await
            .unwrap();
        assert_eq!(stored(&store, &bytes), Some(bytes));

        let err = store
            .fetch_all(&kernel(&[(b"other", vec![url(down)])]))
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "input_unreachable", "{err}");
    }

    #[tokio::test]
    async fn a_task_over_the_size_limit_is_refused_before_any_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let small = FetchLimits {
            max_task_bytes: 10,
            ..limits()
        };
        let store = InputStore::in_state_dir(dir.path(), small).unwrap();
        let (addr, hits) = serve(vec![0; 11]).await;
        let err = store
            .fetch_all(&kernel(&[(&[0; 11], vec![url(addr)])]))
            .await
            .unwrap_err();
        assert_eq!(err.reason(), "input_too_large");
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn the_cache_drops_the_least_recently_used_inputs_but_never_a_pinned_one() {
        let dir = tempfile::tempdir().unwrap();
        let tight = FetchLimits {
            cache_bytes: 2500,
            ..limits()
        };
        let store = InputStore::in_state_dir(dir.path(), tight).unwrap();
        let inputs: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 1000]).collect();
        let mut pins = Vec::new();
        for bytes in &inputs {
            let (addr, _) = serve(bytes.clone()).await;
            pins.push(
                store
                    .fetch_all(&kernel(&[(bytes, vec![url(addr)])]))
                    .await
                    .unwrap(),
            );
            // Distinct modification times, so that "least recently used" is well defined.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // All three pinned: kept over the limit.
        assert!(inputs.iter().all(|b| stored(&store, b).is_some()));
        drop(pins);
        let (addr, _) = serve(vec![9; 1000]).await;
        let _pin = store
            .fetch_all(&kernel(&[(&[9; 1000], vec![url(addr)])]))
            .await
            .unwrap();
        assert_eq!(stored(&store, &inputs[0]), None, "oldest dropped");
        assert_eq!(stored(&store, &inputs[1]), None, "next oldest dropped");
        assert!(stored(&store, &inputs[2]).is_some());
        assert!(stored(&store, &[9; 1000]).is_some());
    }
}
