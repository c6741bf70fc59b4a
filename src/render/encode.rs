//! A rendered document in every content-coding Herald serves, with its validators.
//!
//! Hashing happens here, once per render, so a request only compares validators and picks
//! bytes (the way miniflux and actix-files avoid per-request work). Compression happens at
//! most once per render too, but on the first request that wants the coding: a cold build of
//! hundreds of feeds spent 60% of its time in gzip and brotli for documents that are mostly
//! never asked for compressed (perf on the 24,203-article archive), and an edit re-renders
//! feeds that would be compressed again before anyone reads them.
//!
//! ETags are strong and are computed from the exact bytes of each representation:
//! `"<first 20 hex digits of blake3(bytes)>"` for identity, the same over the gzip bytes plus
//! `-gz`, and over the brotli bytes plus `-br`. Hashing the bytes actually sent (rather than
//! suffixing the identity hash) keeps the tags strong even if a compressor upgrade changes the
//! compressed bytes for the same document. Both compressors are deterministic (gzip header
//! mtime 0, OS byte 255, no file name; brotli single-threaded), so tags are stable across runs
//! and machines running the same build.
//!
//! Documents at rest are held gzip-compressed ([`Encoded::packed`], a third to a quarter of
//! their identity size): complete archive pages from their render, every other document once
//! the feeds are quiet (`serve`'s packer). An identity request inflates one, kept in a small
//! shared cache for the next (`INFLATED_BUDGET`). Their tags are the same as if they were
//! held whole: the identity tag is hashed before the identity bytes are dropped, and the gzip
//! bytes are those [`gzip`] gives.

use actix_web::http::header::{HeaderValue, HttpDate};
use actix_web::web::Bytes;
use chrono::{DateTime, SubsecRound, Utc};
use std::borrow::Cow;
use std::io::{Read, Write};
use std::sync::OnceLock;

/// gzip level: best compression; it runs once per render, not per request.
const GZIP_LEVEL: u32 = 9;
/// brotli quality and window. Measured on a 315 KB feed (release build, one core of the dev
/// box; `HERALD_BROTLI_SWEEP=1 cargo test --release --lib brotli_budget -- --nocapture`):
/// q8 39.0 KB / 14 ms, q9 38.4 KB / 16 ms, q10 36.6 KB / 119 ms, q11 35.7 KB / 276 ms
/// (gzip -9: 40.0 KB / 8 ms). q10+ switch to the slow Zopfli-style search and blow the
/// ~30 ms per-render budget for ~5% smaller output; q9 is the best that fits.
const BROTLI_QUALITY: u32 = 9;
const BROTLI_LGWIN: u32 = 22;

/// One representation (content-coding) of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    pub bytes: actix_web::web::Bytes,
    /// Strong entity tag of exactly these bytes, quoted, e.g. `"3f2a…-br"`.
    pub etag: String,
}

impl Representation {
    fn new(bytes: Vec<u8>, suffix: &str) -> Self {
        let etag = etag(&bytes, suffix);
        Representation { bytes: Bytes::from(exact(bytes)), etag }
    }
}

/// The strong entity tag of `bytes`: `"<first 20 hex digits of blake3>{suffix}"`.
fn etag(bytes: &[u8], suffix: &str) -> String {
    let hash = blake3::hash(bytes).to_hex();
    format!("\"{}{suffix}\"", &hash.as_str()[..20])
}

/// `v` without spare capacity: `Bytes` keeps a vector's whole allocation, and documents are
/// held for as long as they are served (a document grown by an insertion, like the
/// stylesheet's, can have twice its length allocated; compressors get an estimate).
fn exact(mut v: Vec<u8>) -> Vec<u8> {
    v.shrink_to_fit();
    v
}

/// How a document's bytes are held.
#[derive(Debug, Clone)]
enum Held {
    /// Identity bytes; gzip on first use.
    Whole { identity: Representation, gzip: OnceLock<Representation> },
    /// gzip bytes only (see [`Encoded::packed`]); identity inflated on each use.
    Packed { identity_etag: String, gzip: Representation },
}

/// A document ready to serve: identity bytes (or, for archive pages, gzip bytes) and
/// validators now, the other codings computed once, when first asked for.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Full `Content-Type`, e.g. `application/rss+xml; charset=utf-8`.
    pub content_type: &'static str,
    held: Held,
    br: OnceLock<Representation>,
    /// The document carries an `<?xml-stylesheet?>` near its start (known without inflating
    /// a packed one; see `http::browse::for_browsers`).
    styled: bool,
    /// `Last-Modified`: the feed's updated time (whole seconds).
    pub last_modified: DateTime<Utc>,
    /// The same as an HTTP-date header value, formatted once per render, not per request.
    pub last_modified_header: HeaderValue,
    /// A complete archive page (RFC 5005): adding articles never changes it, so it is served
    /// with `Cache-Control: public, max-age=31536000, immutable`.
    pub immutable: bool,
    /// The `Link` header of a live feed when WebSub hubs are configured (`rel="hub"` and
    /// `rel="self"`, W3C WebSub §4); `None` otherwise.
    pub link: Option<HeaderValue>,
}

/// Two documents are equal when they would be served the same: the compressed forms follow
/// from the identity bytes, and those are compared by their ETag (a blake3 hash of them, kept
/// for packed pages too): comparing the bytes themselves was a third of an edit's rebuild at
/// 100,000 articles (perf: memcmp of every re-rendered document against the one it replaces),
/// and a packed page would have to be inflated first.
impl PartialEq for Encoded {
    fn eq(&self, other: &Self) -> bool {
        self.content_type == other.content_type
            && self.identity_etag() == other.identity_etag()
            && self.last_modified == other.last_modified
            && self.immutable == other.immutable
            && self.link == other.link
    }
}

impl Eq for Encoded {}

/// An HTTP-date (RFC 9110 §5.6.7) header value; dates before the epoch become the epoch.
fn http_date(at: DateTime<Utc>) -> HeaderValue {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    HeaderValue::try_from(HttpDate::from(time).to_string())
        .expect("an HTTP-date is a valid header value")
}

/// gzip with a fixed header (mtime 0, OS 255, no name), so the bytes depend only on `body`.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    gzip_with(body, GZIP_LEVEL)
}

fn gzip_with(body: &[u8], level: u32) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::with_capacity(body.len() / 3 + 64), flate2::Compression::new(level));
    enc.write_all(body).expect("writing into a Vec cannot fail");
    enc.finish().expect("writing into a Vec cannot fail")
}

/// The bytes `gz` (the output of [`gzip`]) was made from. An edit of a packed live feed
/// inflates its documents (~1 MB at 100,000 articles, ~7 MB for a feed of transcripts), so
/// this is libdeflate's whole-buffer decompression, into a buffer of the length the trailer
/// gives (ISIZE: the length mod 2^32); flate2's streaming decoder should that not be it.
fn gunzip(gz: &[u8]) -> Vec<u8> {
    let isize = gz.len().checked_sub(4).and_then(|at| gz[at..].try_into().ok());
    let len = isize.map_or(0, |b| u32::from_le_bytes(b) as usize);
    let mut out = vec![0; len];
    if libdeflater::Decompressor::new().gzip_decompress(gz, &mut out) == Ok(len) {
        return out;
    }
    out.clear();
    flate2::bufread::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .expect("Herald's own gzip output always inflates");
    out
}

/// Identity bytes inflated from packed documents, shared by every packed document.
static INFLATED: Inflated = Inflated::new(INFLATED_BUDGET);
/// What [`INFLATED`] may hold. Live feeds are packed at rest too, and a client that asks
/// for one without compression (curl, some bots) cost an inflation per request: txt-head's
/// `all.rss` (1.8 MB) went from 2,301 to 358 requests/s (`wrk -t2 -c64`). 4 MiB keeps a
/// body that size and a dozen gen-100k feeds, and little of the 400 MiB at 100,000 articles
/// (the bench, polling without compression, filled an 8 MiB cache: 395–397 MiB at rest).
const INFLATED_BUDGET: usize = 4 << 20;

/// The most recently inflated identity bodies within a byte budget, by identity tag (a hash
/// of the bytes: two documents with the same tag have the same identity bytes).
struct Inflated {
    budget: usize,
    held: std::sync::Mutex<std::collections::VecDeque<(String, Bytes)>>,
}

impl Inflated {
    const fn new(budget: usize) -> Inflated {
        Inflated { budget, held: std::sync::Mutex::new(std::collections::VecDeque::new()) }
    }

    /// The bytes tagged `etag`: held ones, else `inflate()`'s, kept (oldest use dropped
    /// first) unless larger than half the budget.
    fn get_or_insert(&self, etag: &str, inflate: impl FnOnce() -> Vec<u8>) -> Bytes {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = held.iter().position(|(tag, _)| tag == etag) {
            let entry = held.remove(at).expect("a position found in it");
            let bytes = entry.1.clone();
            held.push_back(entry);
            return bytes;
        }
        drop(held); // inflating takes milliseconds: other requests go on meanwhile
        let bytes = Bytes::from(inflate());
        if bytes.len() <= self.budget / 2 {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            held.push_back((etag.to_string(), bytes.clone()));
            let mut total: usize = held.iter().map(|(_, b)| b.len()).sum();
            while total > self.budget {
                total -= held.pop_front().map_or(0, |(_, b)| b.len());
            }
        }
        bytes
    }
}

/// brotli at `BROTLI_QUALITY` / `BROTLI_LGWIN`.
pub fn brotli(body: &[u8]) -> Vec<u8> {
    brotli_with(body, BROTLI_QUALITY, BROTLI_LGWIN)
}

fn brotli_with(body: &[u8], quality: u32, lgwin: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4 + 64);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, quality, lgwin);
        w.write_all(body).expect("writing into a Vec cannot fail");
        w.flush().expect("writing into a Vec cannot fail");
    }
    out
}

impl Encoded {
    /// Hash `body` for its strong ETag; gzip and brotli follow on first use.
    pub fn new(body: Vec<u8>, content_type: &'static str, last_modified: DateTime<Utc>) -> Self {
        let styled = crate::render::stylesheet::has_stylesheet(&body);
        let held = Held::Whole { identity: Representation::new(body, ""), gzip: OnceLock::new() };
        Encoded::with_held(held, styled, content_type, last_modified)
    }

    /// A document held as its gzip bytes only, for complete archive pages: a page of
    /// summaries compresses to about a quarter, and pages are rarely requested, let alone
    /// without gzip. The validators and every coding's bytes are the same as
    /// [`Encoded::new`]'s; the identity bytes are inflated for each request that wants them,
    /// brotli from them once.
    ///
    /// The compression is paid at render, at gzip -9 like [`Encoded::gzip`] (so the gzip
    /// bytes and tag are the ones a whole document gives): ~25 ms of CPU per MB of pages here
    /// (73 MB of pages on gnews-2021: 1.1 s; gzip -1 would take half and hold 13% more).
    pub fn packed(body: Vec<u8>, content_type: &'static str, last_modified: DateTime<Utc>) -> Self {
        let styled = crate::render::stylesheet::has_stylesheet(&body);
        let held = Held::Packed {
            identity_etag: etag(&body, ""),
            gzip: Representation::new(gzip(&body), "-gz"),
        };
        Encoded::with_held(held, styled, content_type, last_modified)
    }

    fn with_held(
        held: Held,
        styled: bool,
        content_type: &'static str,
        last_modified: DateTime<Utc>,
    ) -> Self {
        Encoded {
            content_type,
            held,
            br: OnceLock::new(),
            styled,
            last_modified: last_modified.trunc_subsecs(0),
            last_modified_header: http_date(last_modified),
            immutable: false,
            link: None,
        }
    }

    /// The same document with a `Link` header (see [`Encoded::link`]).
    pub fn with_link(mut self, link: Option<HeaderValue>) -> Self {
        self.link = link;
        self
    }

    /// The same document held as [`Encoded::packed`] holds it (a gzip form already made is
    /// kept, a brotli one too).
    pub fn to_packed(&self) -> Encoded {
        let held = Held::Packed {
            identity_etag: self.identity_etag().to_string(),
            gzip: self.gzip().clone(),
        };
        Encoded { held, ..self.clone() }
    }

    /// The identity representation: borrowed when held whole, inflated when packed.
    pub fn identity(&self) -> Cow<'_, Representation> {
        match &self.held {
            Held::Whole { identity, .. } => Cow::Borrowed(identity),
            Held::Packed { identity_etag, .. } => Cow::Owned(Representation {
                bytes: self.identity_bytes(),
                etag: identity_etag.clone(),
            }),
        }
    }

    /// The identity bytes to send: shared when held whole; when packed, inflated and kept a
    /// while in the shared cache (`INFLATED`), for the next client asking without
    /// compression. The mirror and the item cache call [`Encoded::identity_bytes`]: what they
    /// inflate is written out or cut once, and would only push requested bodies out.
    fn served_identity(&self) -> Bytes {
        match &self.held {
            Held::Whole { identity, .. } => identity.bytes.clone(),
            Held::Packed { gzip, identity_etag } => {
                INFLATED.get_or_insert(identity_etag, || gunzip(&gzip.bytes))
            }
        }
    }

    /// The identity bytes: shared when held whole, inflated when packed.
    pub fn identity_bytes(&self) -> Bytes {
        match &self.held {
            Held::Whole { identity, .. } => identity.bytes.clone(),
            Held::Packed { gzip, .. } => Bytes::from(gunzip(&gzip.bytes)),
        }
    }

    /// Whether `bytes` are this document's identity bytes. A packed page is compared by its
    /// tag (blake3 of the bytes), without inflating it.
    pub fn identity_is(&self, bytes: &[u8]) -> bool {
        match &self.held {
            Held::Whole { identity, .. } => identity.bytes == bytes,
            Held::Packed { identity_etag, .. } => etag(bytes, "") == *identity_etag,
        }
    }

    /// The identity representation's entity tag (nothing inflated).
    pub fn identity_etag(&self) -> &str {
        match &self.held {
            Held::Whole { identity, .. } => &identity.etag,
            Held::Packed { identity_etag, .. } => identity_etag,
        }
    }

    /// Whether the document carries an `<?xml-stylesheet?>` processing instruction.
    pub fn has_stylesheet(&self) -> bool {
        self.styled
    }

    /// Whether the document is held as gzip bytes only (see [`Encoded::packed`]).
    pub fn is_packed(&self) -> bool {
        matches!(self.held, Held::Packed { .. })
    }

    /// The gzip representation (compressed on the first call).
    pub fn gzip(&self) -> &Representation {
        match &self.held {
            Held::Whole { identity, gzip: cell } => {
                cell.get_or_init(|| Representation::new(gzip(&identity.bytes), "-gz"))
            }
            Held::Packed { gzip, .. } => gzip,
        }
    }

    /// The brotli representation (compressed on the first call).
    pub fn br(&self) -> &Representation {
        self.br.get_or_init(|| Representation::new(brotli(&self.identity_bytes()), "-br"))
    }

    /// The entity tag of the representation in `coding` (compressing it if not yet done, but
    /// never inflating: a conditional request for a packed page is answered from its tag).
    pub fn etag(&self, coding: Coding) -> &str {
        match coding {
            Coding::Br => &self.br().etag,
            Coding::Gzip => &self.gzip().etag,
            Coding::Identity => self.identity_etag(),
        }
    }

    /// The bytes of the representation in `coding`.
    pub fn bytes(&self, coding: Coding) -> Bytes {
        match coding {
            Coding::Br => self.br().bytes.clone(),
            Coding::Gzip => self.gzip().bytes.clone(),
            Coding::Identity => self.served_identity(),
        }
    }

    /// The same document marked immutable (see [`Encoded::immutable`]).
    pub fn with_immutable(mut self, immutable: bool) -> Self {
        self.immutable = immutable;
        self
    }
}

/// A content-coding Herald can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Br,
    Gzip,
    Identity,
}

impl Coding {
    /// The `Content-Encoding` to send with it (`None` for identity).
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Coding::Br => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        }
    }
}

/// A weight in thousandths (RFC 9110 `qvalue` has at most three decimals).
type Q = u16;

/// Parse a `q` parameter value leniently: clamp to `0..=1`, `None` for garbage.
fn parse_q(v: &str) -> Option<Q> {
    let v = v.trim().trim_matches('"');
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let f: f64 = v.parse().ok()?;
    Some((f.clamp(0.0, 1.0) * 1000.0).round() as Q)
}

/// The coding to send for a request's `Accept-Encoding` (RFC 9110 §12.5.3).
///
/// * No header: identity (the RFC allows any coding, but some old clients send none and
///   cannot decode; identity is always safe).
/// * Codings are matched case-insensitively; `x-gzip` counts as `gzip`; `*` gives its
///   weight to codings not listed; `q=0` excludes.
/// * identity is acceptable unless excluded (`identity;q=0`, or `*;q=0` with no
///   `identity` entry); when not listed it gets the lowest non-zero weight, so any
///   compression the client asked for wins.
/// * Highest weight wins; ties prefer br, then gzip, then identity.
/// * If nothing is acceptable, identity is sent anyway (§12.5.3 lets the server ignore
///   the field rather than fail); malformed members are skipped, never a panic.
pub fn choose(accept_encoding: Option<&str>) -> Coding {
    let Some(header) = accept_encoding else {
        return Coding::Identity;
    };
    // Explicit weights; a coding listed twice keeps its highest weight.
    let (mut br, mut gzip, mut identity, mut star): (Option<Q>, Option<Q>, Option<Q>, Option<Q>) =
        (None, None, None, None);
    for member in header.split(',') {
        let mut parts = member.split(';');
        let coding = parts.next().unwrap_or("").trim();
        if coding.is_empty() {
            continue;
        }
        let mut q: Q = 1000;
        let mut bad = false;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                match parse_q(value) {
                    Some(v) => q = v,
                    None => bad = true,
                }
            }
        }
        if bad {
            continue;
        }
        let slot = if coding.eq_ignore_ascii_case("br") {
            &mut br
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if coding.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if coding == "*" {
            &mut star
        } else {
            continue;
        };
        *slot = Some(slot.map_or(q, |old| old.max(q)));
    }
    let br = br.or(star).unwrap_or(0);
    let gzip = gzip.or(star).unwrap_or(0);
    let identity = identity.or(star).unwrap_or(1);
    // Candidates in tie-break order; the first with the highest weight wins.
    let mut best = (Coding::Identity, 0);
    for (coding, q) in [(Coding::Br, br), (Coding::Gzip, gzip), (Coding::Identity, identity)] {
        if q > best.1 {
            best = (coding, q);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{at, fixtures, meta, Fixture};
    use std::io::Read;

    fn encoded(body: &[u8]) -> Encoded {
        Encoded::new(body.to_vec(), "application/rss+xml; charset=utf-8", at(2021, 3, 5, 0, 0, 0))
    }

    fn unbrotli(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::Decompressor::new(b, 4096).read_to_end(&mut out).unwrap();
        out
    }

    fn sample_feed() -> Vec<u8> {
        let fx = fixtures();
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        crate::render::rss::render(&meta(), &items)
    }

    #[test]
    fn codings_decompress_to_identity() {
        for body in [sample_feed(), Vec::new(), b"x".to_vec()] {
            let e = encoded(&body);
            assert_eq!(&e.identity().bytes[..], &body[..]);
            assert_eq!(gunzip(&e.gzip().bytes), body);
            assert_eq!(unbrotli(&e.br().bytes), body);
        }
    }

    #[test]
    fn gzip_header_is_fixed() {
        let gz = gzip(b"hello");
        // magic, CM=deflate, no flags, mtime 0, XFL=2 (best), OS=255 (unknown)
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    }

    #[test]
    fn etags_are_strong_distinct_and_stable() {
        let body = sample_feed();
        let a = encoded(&body);
        let b = encoded(&body);
        assert_eq!(a, b, "same input, same bytes and tags");
        for (r, suffix) in [(&*a.identity(), "\""), (a.gzip(), "-gz\""), (a.br(), "-br\"")] {
            assert!(r.etag.starts_with('"') && r.etag.ends_with(suffix), "{}", r.etag);
            assert!(!r.etag.starts_with("W/"));
            assert_eq!(r.etag.len(), 22 + suffix.len() - 1);
        }
        assert_ne!(a.identity_etag(), a.gzip().etag);
        assert_ne!(a.gzip().etag, a.br().etag);
        assert_ne!(a.identity_etag(), encoded(b"other").identity_etag());
        assert_eq!(a.last_modified, at(2021, 3, 5, 0, 0, 0));
    }

    #[test]
    fn etags_known_values() {
        // Pinned: a change here means every client cache is invalidated (or, worse, the
        // compressors stopped being deterministic). blake3("Herald") is a fixed value.
        let e = encoded(b"Herald");
        assert_eq!(e.identity_etag(), format!("\"{}\"", &blake3::hash(b"Herald").to_hex()[..20]));
        assert_eq!(e.identity_etag(), "\"1b6c6789678f42cb817c\"");
        assert_eq!(e.gzip().etag, "\"f291caac9f7af6963988-gz\"");
        assert_eq!(e.br().etag, "\"dc7e0594476417cb04d1-br\"");
    }

    #[test]
    fn last_modified_whole_seconds() {
        let t = at(2021, 3, 5, 0, 0, 7) + chrono::Duration::milliseconds(999);
        let e = Encoded::new(Vec::new(), "text/plain", t);
        assert_eq!(e.last_modified, at(2021, 3, 5, 0, 0, 7));
    }

    /// Deterministic, varied text (an LCG over a mixed English/Chinese vocabulary), so the
    /// budget test compresses something feed-like rather than one repeated item.
    fn prose(seed: u64, words: usize) -> String {
        const VOCAB: &[&str] = &[
            "the",
            "feed",
            "server",
            "watches",
            "articles",
            "and",
            "renders",
            "category",
            "news",
            "<em>important</em>",
            "report",
            "新闻",
            "俄罗斯",
            "中共",
            "关系",
            "分析",
            "经济",
            "政治",
            "announced",
            "today",
            "according",
            "to",
            "sources",
            "&amp;",
            "2021",
            "January",
            "喜马拉雅",
            "<a href=\"https://example.org/x\">link</a>",
            "rust",
            "performance",
            "。",
            "，",
        ];
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut out = String::from("<p>");
        for i in 0..words {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            out.push_str(VOCAB[(x >> 33) as usize % VOCAB.len()]);
            out.push_str(if i % 60 == 59 { "</p>\n<p>" } else { " " });
        }
        out.push_str("</p>");
        out
    }

    #[test]
    fn brotli_budget() {
        // A ~300 KB feed of 60 distinct articles. The timing is printed, not asserted (debug
        // builds are ~10x slower); run with `--release -- --nocapture` to see real numbers.
        let base = &fixtures()[0];
        let fx: Vec<Fixture> = (0..60u64)
            .map(|i| Fixture {
                article: crate::article::Article {
                    title: format!("{} #{i}", base.article.title),
                    ..base.article.clone()
                },
                id: format!("{}-{i}", base.id),
                link: format!("{}-{i}", base.link),
                content_html: prose(i, 500),
            })
            .collect();
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        let body = crate::render::rss::render(&meta(), &items);
        assert!((250_000..400_000).contains(&body.len()), "{}", body.len());
        let t = std::time::Instant::now();
        let br = brotli(&body);
        let br_time = t.elapsed();
        let t = std::time::Instant::now();
        let gz = gzip(&body);
        let gz_time = t.elapsed();
        eprintln!(
            "{} bytes: brotli q{BROTLI_QUALITY} {} bytes in {br_time:?}, gzip -{GZIP_LEVEL} {} bytes in {gz_time:?}",
            body.len(),
            br.len(),
            gz.len()
        );
        assert!(br.len() < gz.len());
        if std::env::var_os("HERALD_BROTLI_SWEEP").is_some() {
            for q in 5..=11 {
                let t = std::time::Instant::now();
                let n = brotli_with(&body, q, BROTLI_LGWIN).len();
                eprintln!("  q{q}: {n} bytes in {:?}", t.elapsed());
            }
        }
    }

    fn pick(h: Option<&str>) -> Option<&'static str> {
        choose(h).content_encoding()
    }

    #[test]
    fn each_coding_its_own_tag_and_bytes() {
        for e in [encoded(b"body"), packed(b"body")] {
            for (coding, rep) in [
                (Coding::Br, e.br().clone()),
                (Coding::Gzip, e.gzip().clone()),
                (Coding::Identity, e.identity().into_owned()),
            ] {
                assert_eq!(e.etag(coding), rep.etag, "{coding:?}");
                assert_eq!(e.bytes(coding), rep.bytes, "{coding:?}");
            }
        }
    }

    fn packed(body: &[u8]) -> Encoded {
        Encoded::packed(
            body.to_vec(),
            "application/rss+xml; charset=utf-8",
            at(2021, 3, 5, 0, 0, 0),
        )
    }

    #[test]
    fn packed_serves_what_whole_serves() {
        for body in [sample_feed(), Vec::new(), b"Herald".to_vec()] {
            let (whole, packed) = (encoded(&body), packed(&body));
            assert!(packed.is_packed() && !whole.is_packed());
            assert_eq!(*packed.identity(), *whole.identity(), "identity bytes and tag");
            assert_eq!(packed.identity_etag(), whole.identity_etag());
            assert_eq!(packed.gzip(), whole.gzip(), "gzip bytes and tag");
            assert_eq!(packed.br(), whole.br(), "brotli bytes and tag");
            assert_eq!(packed, whole);
        }
        assert_eq!(packed(b"Herald").identity_etag(), "\"1b6c6789678f42cb817c\"");
    }

    #[test]
    fn packed_holds_the_gzip_bytes_only() {
        let body = sample_feed();
        let e = packed(&body);
        assert_eq!(e.gzip().bytes.as_ptr(), e.gzip().bytes.as_ptr());
        // Sent: inflated once, then shared from the cache while it fits...
        let sent = |e: &Encoded| e.bytes(Coding::Identity);
        assert_eq!(sent(&e).as_ptr(), sent(&e).as_ptr());
        // ...unless larger than half its budget.
        let big: Vec<u8> = (0..INFLATED_BUDGET / 2 + 1).map(|i| (i % 251) as u8).collect();
        let big = packed(&big);
        assert_ne!(sent(&big).as_ptr(), sent(&big).as_ptr());
        // The mirror's and the item cache's inflations are never kept.
        assert_ne!(e.identity_bytes().as_ptr(), e.identity_bytes().as_ptr());
        assert!(
            e.gzip().bytes.len() < body.len() / 2,
            "{} of {}",
            e.gzip().bytes.len(),
            body.len()
        );
        // The whole document lends its identity bytes.
        let w = encoded(&body);
        assert_eq!(w.identity().bytes.as_ptr(), w.identity().bytes.as_ptr());
    }

    #[test]
    fn to_packed_keeps_bytes_tags_and_metadata() {
        let body = sample_feed();
        let link = HeaderValue::from_static("<https://hub.example/>; rel=\"hub\"");
        let whole = encoded(&body).with_immutable(true).with_link(Some(link));
        let _ = whole.br();
        let p = whole.to_packed();
        assert!(p.is_packed());
        assert_eq!(p, whole);
        assert_eq!((p.immutable, &p.link, p.content_type), (true, &whole.link, whole.content_type));
        assert_eq!(p.gzip(), packed(&body).gzip());
        assert_eq!(p.br(), whole.br());
        assert_eq!(*p.identity(), *whole.identity());
    }

    /// Known without inflating: `for_browsers` asks on every feed request.
    #[test]
    fn a_stylesheet_is_known_whole_and_packed() {
        let styled = crate::render::stylesheet::insert(sample_feed(), "/feeds/rss.xsl");
        for (body, expected) in [(styled, true), (sample_feed(), false)] {
            assert_eq!(encoded(&body).has_stylesheet(), expected);
            assert_eq!(packed(&body).has_stylesheet(), expected);
            assert_eq!(encoded(&body).to_packed().has_stylesheet(), expected);
        }
    }

    /// The inflated bodies are shared while they fit the budget, the least recently used
    /// dropped first; one larger than half the budget is never kept.
    #[test]
    fn inflated_bodies_are_kept_within_a_budget() {
        let cache = Inflated::new(100);
        let calls = std::cell::Cell::new(0);
        let get = |tag: &str, len: usize| {
            cache.get_or_insert(tag, || {
                calls.set(calls.get() + 1);
                vec![tag.as_bytes()[0]; len]
            })
        };
        let a = get("a", 40);
        assert_eq!(get("a", 40).as_ptr(), a.as_ptr(), "kept");
        get("b", 40);
        get("a", 40); // used again: b is now the oldest
        get("c", 40); // 120 > 100: b goes
        assert_eq!(calls.get(), 3);
        assert_eq!(get("a", 40).as_ptr(), a.as_ptr());
        get("b", 40);
        assert_eq!(calls.get(), 4, "b was dropped and inflated again");
        get("d", 51);
        get("d", 51);
        assert_eq!(calls.get(), 6, "over half the budget: never kept");
        assert_eq!(&get("c", 40)[..], &[b'c'; 40][..]);
    }

    #[test]
    fn packed_equality_follows_the_bytes() {
        assert_eq!(packed(b"a"), packed(b"a"));
        assert_ne!(packed(b"a"), packed(b"b"));
        assert_ne!(packed(b"a"), encoded(b"b"));
        assert_ne!(packed(b"a").with_immutable(true), packed(b"a"));
    }

    /// What the mirror compares its files with: the identity bytes, whole or packed.
    #[test]
    fn identity_is_the_identity_bytes_whether_held_whole_or_packed() {
        let body = sample_feed();
        let mut other = body.clone();
        other[0] ^= 1;
        for e in [encoded(&body), packed(&body)] {
            assert!(e.identity_is(&body), "packed: {}", e.is_packed());
            assert!(!e.identity_is(&other), "packed: {}", e.is_packed());
            assert!(!e.identity_is(&body[1..]), "packed: {}", e.is_packed());
            assert_eq!(e.identity_bytes(), e.identity().bytes);
        }
    }

    #[test]
    fn held_bytes_have_no_spare_capacity() {
        let mut v = Vec::with_capacity(4096);
        v.extend_from_slice(b"a short document");
        let rep = Representation::new(v, "");
        let held = rep.bytes.try_into_mut().expect("the only handle");
        assert_eq!(held.capacity(), held.len());
    }

    #[test]
    fn pick_basics() {
        assert_eq!(pick(None), None, "no header: identity");
        assert_eq!(pick(Some("")), None, "empty header: identity only");
        assert_eq!(pick(Some("gzip, deflate, br, zstd")), Some("br"));
        assert_eq!(pick(Some("gzip, deflate")), Some("gzip"));
        assert_eq!(pick(Some("deflate")), None);
        assert_eq!(pick(Some("zstd, deflate")), None);
        assert_eq!(pick(Some("identity")), None);
        assert_eq!(pick(Some("br")), Some("br"));
        assert_eq!(pick(Some("x-gzip")), Some("gzip"));
    }

    #[test]
    fn pick_q_values() {
        assert_eq!(pick(Some("br;q=0.5, gzip;q=0.8")), Some("gzip"));
        assert_eq!(pick(Some("br;q=0.8, gzip;q=0.8")), Some("br"), "tie prefers br");
        assert_eq!(
            pick(Some("gzip;q=1.0, identity;q=1")),
            Some("gzip"),
            "tie prefers gzip over identity"
        );
        assert_eq!(pick(Some("br;q=0, gzip")), Some("gzip"));
        assert_eq!(pick(Some("br;q=0, gzip;q=0")), None);
        assert_eq!(
            pick(Some("gzip;q=0.001")),
            Some("gzip"),
            "listed coding beats unlisted identity"
        );
        assert_eq!(pick(Some("gzip;q=0.5, identity;q=0.9")), None);
        assert_eq!(pick(Some("br;q=0.000, gzip;q=0.0")), None);
        assert_eq!(pick(Some("gzip;q=0.5, gzip;q=0.9, br;q=0.7")), Some("gzip"), "max of repeats");
    }

    #[test]
    fn pick_wildcard() {
        assert_eq!(pick(Some("*")), Some("br"));
        assert_eq!(pick(Some("*;q=0.5, br;q=0.4")), Some("gzip"), "* covers unlisted gzip");
        assert_eq!(pick(Some("br;q=0, *")), Some("gzip"));
        assert_eq!(pick(Some("*;q=0")), None, "nothing acceptable: identity anyway");
        assert_eq!(pick(Some("*;q=0, gzip")), Some("gzip"));
        assert_eq!(
            pick(Some("identity;q=0")),
            None,
            "no acceptable coding at all: identity anyway"
        );
        assert_eq!(pick(Some("identity;q=0, gzip;q=0.1")), Some("gzip"));
        assert_eq!(pick(Some("*;q=0.2, identity;q=0.9")), None);
    }

    #[test]
    fn pick_case_and_whitespace() {
        assert_eq!(pick(Some("GZIP")), Some("gzip"));
        assert_eq!(pick(Some("Br;Q=0.9 , GZip ; q = 0.95")), Some("gzip"));
        assert_eq!(pick(Some("  br  ")), Some("br"));
        assert_eq!(pick(Some("BR;q=0, gzip")), Some("gzip"));
    }

    #[test]
    fn pick_tolerates_garbage() {
        for h in [
            ",,,",
            ";;;",
            "br;q=",
            "br;q=abc",
            "br;q=nan",
            "br;q=inf",
            "br;q=-1",
            "br;q=1e3",
            "br;q",
            "=;=,=",
            "\u{0}\u{7f}ü😀",
            "gzip;q=0.5;q=0.7",
            "br;level=5",
            "q=1",
            "br;q=0.5.5",
            "br;q=99999999999999999999999999999999999",
        ] {
            let _ = pick(Some(h));
        }
        assert_eq!(pick(Some("br;q=abc, gzip")), Some("gzip"), "a member with a bad q is skipped");
        assert_eq!(pick(Some("br;q=1.5")), Some("br"), "q above 1 clamps");
        assert_eq!(pick(Some("br;level=5")), Some("br"), "unknown params ignored");
        assert_eq!(pick(Some(",gzip,,")), Some("gzip"));
        assert_eq!(pick(Some("gzip;q=\"0.5\", br;q=0.4")), Some("gzip"));
    }
}
