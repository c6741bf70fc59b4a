//! RSS 2.0 (RSS Advisory Board spec) with `atom:link rel="self"` and `content:encoded`.

use super::{FeedItem, FeedMeta};

pub fn render(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
    let _ = (meta, items);
    todo!("render::rss::render")
}
