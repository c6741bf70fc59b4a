//! A rendered document in every content-coding Herald serves, with its validators.
//!
//! Compression and hashing happen here, once per render, so a request only compares
//! validators and picks bytes (the way miniflux and actix-files avoid per-request work).

use chrono::{DateTime, Utc};

/// One representation (content-coding) of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    pub bytes: actix_web::web::Bytes,
    /// Strong entity tag of exactly these bytes, quoted, e.g. `"3f2a…-br"`.
    pub etag: String,
}

/// A document ready to serve: identity, gzip and brotli bytes, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Full `Content-Type`, e.g. `application/rss+xml; charset=utf-8`.
    pub content_type: &'static str,
    pub identity: Representation,
    pub gzip: Representation,
    pub br: Representation,
    /// `Last-Modified`: the feed's updated time (whole seconds).
    pub last_modified: DateTime<Utc>,
}

impl Encoded {
    /// Compress `body` with gzip and brotli and compute a strong ETag for each coding.
    pub fn new(body: Vec<u8>, content_type: &'static str, last_modified: DateTime<Utc>) -> Self {
        let _ = (body, content_type, last_modified);
        todo!("render::encode::Encoded::new")
    }
}
