//! Atom 1.0 (RFC 4287).

use super::{FeedItem, FeedMeta};

pub fn render(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
    let _ = (meta, items);
    todo!("render::atom::render")
}
