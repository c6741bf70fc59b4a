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
        use std::io::Write;
        let hash = blake3::hash(&body).to_hex();
        let tag = &hash.as_str()[..32];
        let mut gz =
            flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
        gz.write_all(&body).expect("gzip into a Vec");
        let gz = gz.finish().expect("gzip into a Vec");
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
            w.write_all(&body).expect("brotli into a Vec");
        }
        let last_modified =
            chrono::DateTime::from_timestamp(last_modified.timestamp(), 0).unwrap_or(last_modified);
        Encoded {
            content_type,
            identity: Representation { bytes: body.into(), etag: format!("\"{tag}\"") },
            gzip: Representation { bytes: gz.into(), etag: format!("\"{tag}-gzip\"") },
            br: Representation { bytes: br.into(), etag: format!("\"{tag}-br\"") },
            last_modified,
        }
    }

    /// The representation to send for this `Accept-Encoding`, and its `Content-Encoding`
    /// (`None` for identity). Prefers br, then gzip, then identity among equal q-values.
    pub fn pick(&self, accept_encoding: Option<&str>) -> (&Representation, Option<&'static str>) {
        let Some(header) = accept_encoding else { return (&self.identity, None) };
        let (mut br, mut gzip, mut star) = (None::<f32>, None::<f32>, None::<f32>);
        for item in header.split(',').take(64) {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q = 1.0f32;
            for param in parts {
                let param = param.trim();
                if let Some(v) = param.strip_prefix("q=").or_else(|| param.strip_prefix("Q=")) {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            match coding.as_str() {
                "br" => br = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => star = Some(q),
                _ => {}
            }
        }
        let br = br.or(star).unwrap_or(0.0);
        let gzip = gzip.or(star).unwrap_or(0.0);
        if br > 0.0 && br >= gzip {
            (&self.br, Some("br"))
        } else if gzip > 0.0 {
            (&self.gzip, Some("gzip"))
        } else {
            (&self.identity, None)
        }
    }
}
