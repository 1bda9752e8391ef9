//! Serves the certificate on disk: each handshake looks at the files' metadata (two `stat`s) and
//! the first to see them changed re-reads them, so a renewal reaches new connections without a
//! restart, and connections already open keep theirs. A pair that fails to load (half-written,
//! a key not yet replaced) is logged once and the previous certificate stays in service.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::certificate::{self, Loaded};
use crate::config::TlsFiles;

/// What identifies one version of a file: replaced by rename (a new inode) or rewritten in
/// place (a new mtime or length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    inode: u64,
    mtime_ns: i128,
    len: u64,
}

impl Version {
    fn of(meta: &Metadata) -> Self {
        Self {
            inode: meta.ino(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            len: meta.len(),
        }
    }
}

type Stamp = (Version, Version);

struct Current {
    stamp: Option<Stamp>,
    loaded: Loaded,
}

#[derive(Debug)]
pub struct ReloadingCert {
    files: TlsFiles,
    current: ArcSwap<CurrentDebug>,
    /// The stamp whose load failed last, so it is not retried (and logged) per handshake.
    failed: Mutex<Option<Stamp>>,
}

/// `Current`, printable without its key.
struct CurrentDebug(Current);

impl std::fmt::Debug for CurrentDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Current")
            .field("not_after", &self.0.loaded.not_after)
            .finish_non_exhaustive()
    }
}

impl ReloadingCert {
    /// Loads the pair now; fails when it does not load.
    pub fn load(files: &TlsFiles) -> Result<Arc<Self>, String> {
        let stamp = stamp(files);
        let loaded = certificate::load(files)?;
        crate::telemetry::metrics::set_certificate_expiry(loaded.not_after);
        Ok(Arc::new(Self {
            files: files.clone(),
            current: ArcSwap::from_pointee(CurrentDebug(Current { stamp, loaded })),
            failed: Mutex::new(None),
        }))
    }

    /// The certificate in service.
    pub fn current(&self) -> Loaded {
        self.current.load().0.loaded.clone()
    }

    /// Re-reads the files when they changed since the certificate in service was read.
    pub fn refresh(&self) {
        let Some(now) = stamp(&self.files) else {
            // A file is missing for a moment (being replaced): keep serving the current one.
            return;
        };
        if self.current.load().0.stamp == Some(now) {
            return;
        }
        let mut failed = self.failed.lock();
        if *failed == Some(now) || self.current.load().0.stamp == Some(now) {
            return;
        }
        match certificate::load(&self.files) {
            Ok(loaded) => {
                tracing::info!(
                    cert = %self.files.cert.display(),
                    not_after = %certificate::format_time(loaded.not_after),
                    "TLS certificate reloaded"
                );
                crate::telemetry::metrics::set_certificate_expiry(loaded.not_after);
                self.current.store(Arc::new(CurrentDebug(Current {
                    stamp: Some(now),
                    loaded,
                })));
                *failed = None;
            }
            Err(error) => {
                tracing::warn!(%error, "TLS certificate files changed but do not load; the previous certificate stays in service");
                *failed = Some(now);
            }
        }
    }
}

fn stamp(files: &TlsFiles) -> Option<Stamp> {
    let cert = std::fs::metadata(&files.cert).ok()?;
    let key = std::fs::metadata(&files.key).ok()?;
    Some((Version::of(&cert), Version::of(&key)))
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.refresh();
        Some(self.current.load().0.loaded.key.clone())
    }
}
