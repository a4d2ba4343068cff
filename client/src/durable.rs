//! Files that must outlive a crash: the saved bids and reveal plans ([`crate::bid`],
//! [`crate::reveal`]) whose salts alone open what was sent. Each is kept per task and provider
//! in one directory, as `<prefix><task>-<provider>.json`.

use std::io::Write;
use std::path::{Path, PathBuf};

use opengpu_types::TaskId;

/// `<dir>/<prefix><task>-<provider>.json`.
pub(crate) fn path(dir: &Path, prefix: &str, task_id: TaskId, provider: &str) -> PathBuf {
    dir.join(format!("{prefix}{task_id}-{provider}.json"))
}

/// Writes `bytes` to `path` (its directory created if missing) so that a crash leaves the old
/// file or the new one, never a part: a temporary file, readable by its owner only, synced,
/// then renamed over `path`.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // The rename itself survives a crash once the directory is synced (best effort: not every
    // file system lets a directory be opened for it).
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The file's contents, or `None` when there is none.
pub(crate) fn read(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes the file; one already gone is not an error.
pub(crate) fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Task ids of `provider`'s files under `dir` (named as [`path`] names them), oldest task
/// first; a missing `dir` has none.
pub(crate) fn task_ids(dir: &Path, prefix: &str, provider: &str) -> std::io::Result<Vec<TaskId>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let suffix = format!("-{provider}.json");
    let mut ids = Vec::new();
    for entry in entries {
        let name = entry?.file_name();
        let id = name
            .to_str()
            .and_then(|name| name.strip_prefix(prefix))
            .and_then(|rest| rest.strip_suffix(&suffix))
            .and_then(|id| id.parse::<TaskId>().ok().filter(|n| n.to_string() == id));
        ids.extend(id);
    }
    ids.sort_unstable();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_whole_listed_per_provider_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a").join("b");
        for (id, provider) in [(12, "wasm1me"), (3, "wasm1me"), (4, "wasm1other")] {
            write(&path(&sub, "x-", id, provider), b"{}").unwrap();
        }
        std::fs::write(sub.join("x-y-wasm1me.json"), "{}").unwrap();
        std::fs::write(sub.join("5-wasm1me.json"), "{}").unwrap();
        std::fs::write(sub.join("06-wasm1me.json"), "{}").unwrap();
        assert_eq!(task_ids(&sub, "x-", "wasm1me").unwrap(), vec![3, 12]);
        assert_eq!(task_ids(&sub, "x-", "wasm1other").unwrap(), vec![4]);
        assert_eq!(task_ids(&sub, "", "wasm1me").unwrap(), vec![5]);
        assert_eq!(
            task_ids(&dir.path().join("none"), "x-", "p").unwrap(),
            Vec::<TaskId>::new()
        );
        let file = path(&sub, "x-", 12, "wasm1me");
        assert_eq!(read(&file).unwrap().as_deref(), Some(&b"{}"[..]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "owner only");
        }
        remove(&file).unwrap();
        remove(&file).unwrap(); // already gone: not an error
        assert_eq!(read(&file).unwrap(), None);
        assert!(!sub.join("x-12-wasm1me.json.tmp").exists());
    }
}
