//! The traffic listener's certificate: read from its PEM files and checked (`certificate`), and
//! re-read by the handshake that first sees the files changed (`resolver`). No Pingora here: the
//! gateway builds its acceptor on the resolver.

pub mod certificate;
pub mod resolver;

pub use certificate::{Expiry, Loaded, WARN_DAYS};
pub use resolver::ReloadingCert;
