//! Conditional GET (RFC 9110 §13): `If-None-Match` first, `If-Modified-Since` only without it.

use actix_web::http::header::{HttpDate, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use actix_web::http::Method;
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use std::time::{Duration, SystemTime};

/// Longest `If-None-Match` field value scanned; entity tags past it are ignored. actix already
/// bounds the request head (128 KiB), this only makes the bound explicit.
const MAX_IF_NONE_MATCH: usize = 64 * 1024;

/// Whether the request's preconditions say the client's copy is current (answer 304).
///
/// `etag` is the strong, quoted entity tag of the representation that would be sent;
/// `last_modified` is `None` for resources without a `Last-Modified`.
pub(crate) fn not_modified(
    req: &HttpRequest,
    etag: &str,
    last_modified: Option<DateTime<Utc>>,
) -> bool {
    // §13.1.2 and §13.1.3: only GET and HEAD turn a false condition into 304.
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return false;
    }
    let mut has_inm = false;
    for value in req.headers().get_all(IF_NONE_MATCH) {
        has_inm = true;
        if if_none_match_matches(value.as_bytes(), etag) {
            return true;
        }
    }
    // §13.2.2 step 4: If-Modified-Since is evaluated only when If-None-Match is absent.
    if has_inm {
        return false;
    }
    let Some(last_modified) = last_modified else { return false };
    let mut values = req.headers().get_all(IF_MODIFIED_SINCE);
    // §13.1.3: ignore the field unless it is exactly one valid HTTP-date.
    let (Some(value), None) = (values.next(), values.next()) else { return false };
    let Some(since) = value.to_str().ok().and_then(|s| s.trim().parse::<HttpDate>().ok()) else {
        return false;
    };
    let since = SystemTime::from(since);
    to_system_time(last_modified) <= since
}

/// `Last-Modified` precision: whole seconds.
pub(crate) fn to_system_time(at: DateTime<Utc>) -> SystemTime {
    let secs = at.timestamp();
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// Weak comparison (§8.8.3.2) of every entity tag in an `If-None-Match` field value with
/// `etag`; `*` matches (the resource exists). Linear in the field length; a malformed member
/// is skipped up to the next comma.
pub(crate) fn if_none_match_matches(field: &[u8], etag: &str) -> bool {
    let target = opaque(etag.as_bytes());
    let field = &field[..field.len().min(MAX_IF_NONE_MATCH)];
    let n = field.len();
    let mut i = 0;
    loop {
        while i < n && matches!(field[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        if i >= n {
            return false;
        }
        if field[i] == b'*' {
            return true;
        }
        if field[i..].starts_with(b"W/") {
            i += 2;
        }
        if i < n && field[i] == b'"' {
            let start = i;
            i += 1;
            while i < n && field[i] != b'"' {
                i += 1;
            }
            if i >= n {
                return false; // unterminated
            }
            i += 1;
            if &field[start..i] == target {
                return true;
            }
        } else {
            // Not an entity tag: skip this member.
            while i < n && field[i] != b',' {
                i += 1;
            }
        }
    }
}

/// The quoted opaque tag of an entity tag (without a `W/` prefix).
fn opaque(etag: &[u8]) -> &[u8] {
    etag.strip_prefix(b"W/").unwrap_or(etag)
}

#[cfg(test)]
mod tests {
    use super::if_none_match_matches as m;

    #[test]
    fn if_none_match_forms() {
        let tag = "\"abc\"";
        assert!(m(b"\"abc\"", tag));
        assert!(m(b"W/\"abc\"", tag));
        assert!(m(b"\"x\", W/\"abc\"", tag));
        assert!(m(b"\"x\",\"abc\"", tag));
        assert!(m(b"*", tag));
        assert!(!m(b"\"abcd\"", tag));
        assert!(!m(b"abc", tag));
        assert!(!m(b"\"ab", tag));
        assert!(!m(b"", tag));
        assert!(!m(b"w/\"abc\"", tag)); // the W is case-sensitive
        assert!(m(b"junk, \"abc\"", tag));
        // Commas inside an opaque tag are part of it.
        assert!(m(b"\"a,b\"", "\"a,b\""));
        assert!(!m(b"\"a,b\"", "\"a\""));
    }

    #[test]
    fn long_list_is_matched_to_its_end() {
        // (How fast is a benchmark's business, not a test's: the scan is one pass.)
        let mut field = String::new();
        for i in 0..5000 {
            field.push_str(&format!("\"tag-{i}\", "));
        }
        field.push_str("\"abc\"");
        assert!(m(field.as_bytes(), "\"abc\""));
        assert!(!m(field.as_bytes(), "\"zzz\""));
    }
}
