//! The `<?xml-stylesheet?>` processing instruction that makes a browser show a feed as a
//! readable page (XSLT served at `/feeds/rss.xsl` and `/feeds/atom.xsl`), while feed readers
//! get the same XML and ignore it.
//!
//! The `href` is relative to the feed (`rss.xsl`, next to `/feeds/x.rss`): browsers apply
//! XSLT only from the document's own origin, and a relative reference also keeps working
//! behind a reverse proxy that mounts Herald under a path prefix.

/// The stylesheet of RSS documents, relative to the feed's URL.
pub const RSS_HREF: &str = "rss.xsl";
/// The stylesheet of Atom documents, relative to the feed's URL.
pub const ATOM_HREF: &str = "atom.xsl";

/// Insert `<?xml-stylesheet type="text/xsl" href="{href}"?>` right after the XML declaration
/// (or at the very start when there is none: nothing may precede the declaration).
pub fn insert(mut doc: Vec<u8>, href: &str) -> Vec<u8> {
    let pi = format!("<?xml-stylesheet type=\"text/xsl\" href=\"{href}\"?>\n");
    let at = if doc.starts_with(b"<?xml ") || doc.starts_with(b"<?xml?") {
        match doc.windows(2).position(|w| w == b"?>") {
            Some(end) => {
                let mut at = end + 2;
                if doc.get(at) == Some(&b'\n') {
                    at += 1;
                } else {
                    // Keep the declaration on a line of its own.
                    doc.insert(at, b'\n');
                    at += 1;
                }
                at
            }
            None => 0,
        }
    } else {
        0
    };
    doc.splice(at..at, pi.into_bytes());
    doc
}

/// Whether `doc` carries a stylesheet processing instruction (looked for near the start only).
pub fn has_stylesheet(doc: &[u8]) -> bool {
    doc[..doc.len().min(256)].windows(16).any(|w| w == b"<?xml-stylesheet")
}

/// Both documents of one feed with their stylesheets: what `Site::render_feed` serves.
pub fn attach(rss: Vec<u8>, atom: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    (insert(rss, RSS_HREF), insert(atom, ATOM_HREF))
}

/// The stylesheet of RSS archive pages, served two folders deeper
/// (`/feeds/{slug}/archive/{n}.rss`), so the relative link still reaches `/feeds/rss.xsl`.
pub const ARCHIVE_RSS_HREF: &str = "../../rss.xsl";
/// The stylesheet of Atom archive pages (see [`ARCHIVE_RSS_HREF`]).
pub const ARCHIVE_ATOM_HREF: &str = "../../atom.xsl";

/// [`attach`] for archive pages (see [`ARCHIVE_RSS_HREF`]). `render::archive::page` puts them
/// in its documents' heads before writing the items; this is the reference its tests use.
pub fn attach_archive(rss: Vec<u8>, atom: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    (insert(rss, ARCHIVE_RSS_HREF), insert(atom, ARCHIVE_ATOM_HREF))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_declaration() {
        let doc = insert(b"<?xml version=\"1.0\"?>\n<feed/>".to_vec(), ATOM_HREF);
        assert_eq!(
            String::from_utf8(doc).unwrap(),
            "<?xml version=\"1.0\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"atom.xsl\"?>\n<feed/>"
        );
        let doc = insert(b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>".to_vec(), RSS_HREF);
        assert_eq!(
            String::from_utf8(doc).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"rss.xsl\"?>\n<rss/>"
        );
    }

    #[test]
    fn detected() {
        assert!(has_stylesheet(&insert(b"<?xml version=\"1.0\"?><rss/>".to_vec(), RSS_HREF)));
        assert!(!has_stylesheet(b"<?xml version=\"1.0\"?><rss/>"));
    }

    #[test]
    fn without_a_declaration() {
        let doc = insert(b"<rss/>".to_vec(), RSS_HREF);
        assert_eq!(
            String::from_utf8(doc).unwrap(),
            "<?xml-stylesheet type=\"text/xsl\" href=\"rss.xsl\"?>\n<rss/>"
        );
    }
}
