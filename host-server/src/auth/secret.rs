//! The HS256 secret file: `DATA_DIR/auth-secret` by default, 64 random hex characters (32 bytes
//! of entropy) written once, atomically, with mode 0600. The file's content (without trailing
//! whitespace) is the HMAC key, so any JWT library can sign tokens with it.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The secret's file name inside the data directory.
pub const FILE_NAME: &str = "auth-secret";
/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Reads the secret at `path`: it must exist, be at least [`MIN_SECRET_BYTES`] long and not be
/// readable or writable by group or others.
pub fn load(path: &Path) -> anyhow::Result<Vec<u8>> {
    check_private(path)?;
    let mut secret =
        fs::read(path).with_context(|| format!("reading the auth secret {}", path.display()))?;
    while secret.last().is_some_and(u8::is_ascii_whitespace) {
        secret.pop();
    }
    if secret.len() < MIN_SECRET_BYTES {
        anyhow::bail!(
            "the auth secret {} is shorter than {MIN_SECRET_BYTES} bytes",
            path.display()
        );
    }
    Ok(secret)
}

/// Reads the secret at `path`, creating it first (with a fresh random value) if it does not
/// exist. Two processes racing to create it end up with the same secret.
pub fn load_or_create(path: &Path) -> anyhow::Result<Vec<u8>> {
    if !path.exists() {
        create(path)?;
    }
    load(path)
}

#[cfg(unix)]
fn check_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = fs::metadata(path)
        .with_context(|| format!("reading the auth secret {}", path.display()))?;
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the auth secret {} is accessible to other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Writes a new random secret to a private temporary file, then links it into place, so
/// `path` never holds a partial secret and an existing one is never replaced.
fn create(path: &Path) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for the secret: {e}"))?;
    let mut text = String::with_capacity(65);
    for byte in bytes {
        text.push_str(&format!("{byte:02x}"));
    }
    text.push('\n');
    let temporary = dir.join(format!(
        ".{FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    let written = (|| -> anyhow::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        match fs::hard_link(&temporary, path) {
            Ok(()) => {}
            // Someone else created it first: theirs wins.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("creating {}", path.display()));
            }
        }
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    let _ = fs::remove_file(&temporary);
    written
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_secret_is_created_once_privately_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_path(dir.path());
        let first = load_or_create(&path).unwrap();
        assert_eq!(first.len(), 64);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load_or_create(&path).unwrap(), first);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from(FILE_NAME)]);
    }

    #[test]
    fn a_readable_or_short_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        fs::write(&path, "x".repeat(40)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load(&path).is_ok());
        fs::write(&path, "short\n").unwrap();
        assert!(load(&path).is_err());
    }
}
