//! PoCL's on-disk cache of compiled kernels, kept under a size limit.
//!
//! PoCL stores each program it builds under `POCL_CACHE_DIR` (by default
//! `~/.cache/pocl/kcache`, which grows without bound) as `<hash[..2]>/<hash[2..]>/...`: the
//! binaries of one program in one directory two levels down. The daemon points its workers at
//! a directory under its state directory and trims it ([`trim`]) at startup and after each
//! build: whole programs go, least recently modified first, until the rest fits.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The directory, under the daemon's state directory, that PoCL caches kernels in.
pub const DIR_NAME: &str = "pocl-kcache";

/// How deep one program's directory is below the cache root.
const ENTRY_DEPTH: usize = 2;

/// Where the workers' kernel cache lives, and how large it may grow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelCache {
    pub dir: PathBuf,
    pub limit_bytes: u64,
}

impl KernelCache {
    /// The cache in `state_dir`, kept under `limit_mib` MiB.
    pub fn in_state_dir(state_dir: &Path, limit_mib: u64) -> KernelCache {
        KernelCache {
            dir: state_dir.join(DIR_NAME),
            limit_bytes: limit_mib.saturating_mul(1 << 20),
        }
    }

    /// Creates the directory and trims it to the limit.
    pub fn prepare(&self) -> io::Result<Trimmed> {
        fs::create_dir_all(&self.dir)?;
        trim(&self.dir, self.limit_bytes)
    }

    /// [`trim`]s the cache, logging (not failing) when it cannot.
    pub fn trim_logged(&self) {
        match trim(&self.dir, self.limit_bytes) {
            Ok(trimmed) if trimmed.removed > 0 => tracing::info!(
                removed = trimmed.removed,
                removed_bytes = trimmed.removed_bytes,
                kept_bytes = trimmed.kept_bytes,
                limit_bytes = self.limit_bytes,
                "kernel cache trimmed"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                dir = %self.dir.display(),
                error = %e,
                "cannot trim the kernel cache"
            ),
        }
    }
}

/// What [`trim`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Entries deleted.
    pub removed: usize,
    pub removed_bytes: u64,
    /// What the cache holds now.
    pub kept_bytes: u64,
}

/// One program's directory (or a stray file) in the cache.
struct Entry {
    path: PathBuf,
    is_dir: bool,
    bytes: u64,
    /// The newest modification inside it.
    modified: SystemTime,
}

/// Deletes the least recently modified entries of the cache at `dir` (program directories
/// two levels down, and any file above them) until it holds at most `limit_bytes`; then the
/// first-level directories left empty. A missing `dir` is an empty cache. Entries that vanish
/// meanwhile (another worker's trim, PoCL replacing a file) are skipped.
pub fn trim(dir: &Path, limit_bytes: u64) -> io::Result<Trimmed> {
    let mut entries = Vec::new();
    match collect(dir, 0, &mut entries) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Trimmed::default()),
        other => other?,
    }
    let mut kept_bytes: u64 = entries.iter().map(|e| e.bytes).sum();
    let mut trimmed = Trimmed::default();
    if kept_bytes > limit_bytes {
        // Oldest first; by path among equals, so the order is the same on every run.
        entries.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
        for entry in entries {
            if kept_bytes <= limit_bytes {
                break;
            }
            let removed = if entry.is_dir {
                fs::remove_dir_all(&entry.path)
            } else {
                fs::remove_file(&entry.path)
            };
            match removed {
                Ok(()) => {
                    trimmed.removed += 1;
                    trimmed.removed_bytes += entry.bytes;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            kept_bytes = kept_bytes.saturating_sub(entry.bytes);
        }
        remove_empty_dirs(dir);
    }
    trimmed.kept_bytes = kept_bytes;
    Ok(trimmed)
}

/// The entries below `dir`, which is `depth` levels below the cache root.
fn collect(dir: &Path, depth: usize, entries: &mut Vec<Entry>) -> io::Result<()> {
    for item in fs::read_dir(dir)? {
        let item = match item {
            Ok(item) => item,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let path = item.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.is_dir() && depth + 1 < ENTRY_DEPTH {
            match collect(&path, depth + 1, entries) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        } else {
            let (bytes, modified) = measure(&path, &meta);
            entries.push(Entry {
                path,
                is_dir: meta.is_dir(),
                bytes,
                modified,
            });
        }
    }
    Ok(())
}

/// The size of the files under `path` and the newest modification time among them (a
/// directory's own, when it holds no file). Unreadable parts count as empty and old.
fn measure(path: &Path, meta: &fs::Metadata) -> (u64, SystemTime) {
    let own = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !meta.is_dir() {
        return (meta.len(), own);
    }
    let mut bytes = 0;
    let mut newest = None;
    if let Ok(items) = fs::read_dir(path) {
        for item in items.flatten() {
            let Ok(meta) = fs::symlink_metadata(item.path()) else {
                continue;
            };
            let (b, m) = measure(&item.path(), &meta);
            bytes += b;
            newest = newest.max(Some(m));
        }
    }
    (bytes, newest.unwrap_or(own))
}

/// Removes the first-level directories of the cache that are empty now.
fn remove_empty_dirs(dir: &Path) {
    let Ok(items) = fs::read_dir(dir) else {
        return;
    };
    for item in items.flatten() {
        let path = item.path();
        if path.is_dir() {
            // Fails (and is left) unless empty.
            let _ = fs::remove_dir(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::time::Duration;

    use super::*;

    /// A program of `bytes` bytes at `<dir>/<hash[..2]>/<hash[2..]>`, modified `age` ago.
    fn program(dir: &Path, hash: &str, bytes: usize, age: Duration) -> PathBuf {
        let path = dir.join(&hash[..2]).join(&hash[2..]);
        fs::create_dir_all(path.join("kernel/1-1-1")).unwrap();
        let modified = SystemTime::now() - age;
        let half = bytes / 2;
        for (file, size) in [
            (path.join("program.bc"), half),
            (path.join("kernel/1-1-1/kernel.so"), bytes - half),
        ] {
            fs::write(&file, vec![0u8; size]).unwrap();
            File::options()
                .write(true)
                .open(&file)
                .unwrap()
                .set_modified(modified)
                .unwrap();
        }
        path
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_least_recently_modified_programs_go_first_until_the_rest_fits() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let oldest = program(root, "aa01", 400, 30 * MINUTE);
        let older = program(root, "ab02", 300, 20 * MINUTE);
        let newer = program(root, "aa03", 200, 10 * MINUTE);
        let newest = program(root, "cc04", 100, MINUTE);

        // Under the limit: nothing goes.
        let kept = trim(root, 1_000).unwrap();
        assert_eq!(
            kept,
            Trimmed {
                removed: 0,
                removed_bytes: 0,
                kept_bytes: 1_000
            }
        );

        // 500 bytes allowed: the two oldest go (400 + 300 out of 1000), the rest stays.
        let trimmed = trim(root, 500).unwrap();
        assert_eq!(
            trimmed,
            Trimmed {
                removed: 2,
                removed_bytes: 700,
                kept_bytes: 300
            }
        );
        assert!(!oldest.exists() && !older.exists());
        assert!(newer.exists() && newest.exists());
        // `ab/` held only the removed program; `aa/` still holds one.
        assert!(!root.join("ab").exists());
        assert!(root.join("aa").exists());

        // Zero: everything goes, the root stays.
        let trimmed = trim(root, 0).unwrap();
        assert_eq!(trimmed.removed, 2);
        assert_eq!(trimmed.kept_bytes, 0);
        assert!(root.exists());
        assert_eq!(fs::read_dir(root).unwrap().count(), 0);
    }

    #[test]
    fn a_program_recently_rebuilt_counts_as_new_and_stray_files_are_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let rebuilt = program(root, "aa01", 400, 30 * MINUTE);
        let other = program(root, "bb02", 400, 20 * MINUTE);
        // One file of the old program was written again just now.
        fs::write(rebuilt.join("kernel/1-1-1/kernel.so"), vec![0u8; 200]).unwrap();
        let stray = root.join("stray.tmp");
        fs::write(&stray, vec![0u8; 50]).unwrap();
        File::options()
            .write(true)
            .open(&stray)
            .unwrap()
            .set_modified(SystemTime::now() - 60 * MINUTE)
            .unwrap();

        let trimmed = trim(root, 500).unwrap();
        assert_eq!(trimmed.removed, 2, "the stray file, then the other program");
        assert_eq!(trimmed.kept_bytes, 400);
        assert!(rebuilt.exists());
        assert!(!other.exists() && !stray.exists());
    }

    #[test]
    fn a_missing_cache_is_empty_and_prepare_creates_it() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            trim(&dir.path().join("none"), 0).unwrap(),
            Trimmed::default()
        );
        let cache = KernelCache::in_state_dir(dir.path(), 1);
        assert_eq!(cache.limit_bytes, 1 << 20);
        assert_eq!(cache.dir, dir.path().join(DIR_NAME));
        assert_eq!(cache.prepare().unwrap(), Trimmed::default());
        assert!(cache.dir.is_dir());
    }
}
