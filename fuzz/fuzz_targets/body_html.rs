//! Markdown → `article::html::render`, held equal to `render_through_ammonia`.
//!
//! `render` skips ammonia's DOM for Markdown without raw HTML (`article/generated.rs`) and must
//! give exactly what ammonia gives. Any input may be fed: bodies with raw HTML go through
//! ammonia on both sides, and the comparison still holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let markdown = String::from_utf8_lossy(data);
    let base = url::Url::parse("https://example.org/articles/2021/").unwrap();
    let fast = herald::article::html::render(&markdown, &base);
    let slow = herald::article::html::render_through_ammonia(&markdown, &base);
    assert_eq!(fast, slow, "for {markdown:?}");
});
