//! ammonia's result for HTML that pulldown-cmark wrote from Markdown without raw HTML, reached
//! without building a DOM.
//!
//! Why: ammonia parses its input with html5ever, cleans the tree and serialises it again. That
//! was half the time of rendering a body (8.9 % of all CPU in a 100,000-article build). When the
//! Markdown holds no raw HTML, every tag in pulldown-cmark's output is one it wrote itself: a
//! short fixed list, well nested, with attribute values it escaped. For that input, what
//! ammonia does comes down to a few rewrites, done here in one pass:
//!
//! - void elements lose their `/` (`<br />` → `<br>`);
//! - attributes outside ammonia's allow-list go (`style` on table cells, `class` on code
//!   blocks and footnotes, `id` on footnotes);
//! - `href` and `src` are checked and made absolute exactly as ammonia does, and every link
//!   gets `rel="noopener noreferrer"`;
//! - text and attribute values are escaped the way html5ever's serialiser escapes them.
//!
//! Anything else (an unknown tag or attribute, an entity pulldown-cmark does not write, a link
//! inside a link, a relative URL that cannot be resolved, a CR or NUL that html5ever would
//! rewrite) returns `None`, and the caller runs ammonia. The tests and the `body_html` fuzz target hold this output equal to
//! ammonia's.

use memchr::{memchr, memchr3};
use url::{ParseError, Url};

/// The URL schemes ammonia's default builder allows.
#[rustfmt::skip]
const URL_SCHEMES: &[&str] = &[
    "bitcoin", "ftp", "ftps", "geo", "http", "https", "im", "irc", "ircs", "magnet", "mailto",
    "mms", "mx", "news", "nntp", "openpgp4fpr", "sip", "sms", "smsto", "ssh", "tel", "url",
    "webcal", "wtai", "xmpp",
];

/// The elements pulldown-cmark writes for the Markdown options Herald enables (task list
/// boxes are replaced by text before rendering). All are on ammonia's default allow-list.
#[rustfmt::skip]
const TAGS: &[&str] = &[
    "a", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "img", "li", "ol", "p", "pre", "strong", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
];

/// What ammonia does with an attribute pulldown-cmark writes.
enum Attribute {
    Keep,
    Url,
    Drop,
}

fn attribute(tag: &str, name: &str) -> Option<Attribute> {
    Some(match (tag, name) {
        ("a", "href") | ("img", "src") => Attribute::Url,
        (_, "title") | ("img", "alt") | ("ol", "start") => Attribute::Keep,
        (_, "style" | "class" | "id") => Attribute::Drop,
        _ => return None,
    })
}

/// ammonia's rendering of `html`, which pulldown-cmark wrote from Markdown holding no raw
/// HTML, with relative URLs resolved against `base`. `None` when the input is not of that
/// shape.
pub(super) fn clean(html: &str, base: &Url) -> Option<String> {
    if memchr::memchr2(b'\r', 0, html.as_bytes()).is_some() {
        return None;
    }
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut in_link = false;
    let mut rest = html;
    while !rest.is_empty() {
        let cut = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        push_text(&mut out, &rest[..cut])?;
        rest = &rest[cut..];
        if !rest.is_empty() {
            rest = push_tag(&mut out, rest, base, &mut in_link)?;
        }
    }
    Some(out)
}

/// Copy one tag from the start of `rest` (which begins with `<`) as ammonia would write it,
/// and return what follows it.
fn push_tag<'a>(
    out: &mut String,
    rest: &'a str,
    base: &Url,
    in_link: &mut bool,
) -> Option<&'a str> {
    let (closing, after) = match rest[1..].strip_prefix('/') {
        Some(after) => (true, after),
        None => (false, &rest[1..]),
    };
    let name_len = after.bytes().take_while(u8::is_ascii_alphanumeric).count();
    let name = &after[..name_len];
    if !TAGS.contains(&name) {
        return None;
    }
    let mut rest = &after[name_len..];
    if closing {
        rest = rest.strip_prefix('>')?;
        if name == "a" {
            *in_link = false;
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
        return Some(rest);
    }
    if name == "a" {
        if *in_link {
            // html5ever closes the outer link first; leave that to it.
            return None;
        }
        *in_link = true;
    }
    out.push('<');
    out.push_str(name);
    loop {
        rest = rest.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix("/>").or_else(|| rest.strip_prefix('>')) {
            rest = after;
            break;
        }
        let eq = memchr(b'=', rest.as_bytes())?;
        let attr = &rest[..eq];
        let value_start = rest[eq..].strip_prefix("=\"")?;
        let end = memchr(b'"', value_start.as_bytes())?;
        let raw = &value_start[..end];
        rest = &value_start[end + 1..];
        match attribute(name, attr)? {
            Attribute::Drop => {}
            Attribute::Keep => push_attribute(out, attr, &decode(raw)?),
            Attribute::Url => {
                if let Some(url) = checked_url(&decode(raw)?, base)? {
                    push_attribute(out, attr, &url);
                }
            }
        }
    }
    if name == "a" {
        out.push_str(r#" rel="noopener noreferrer""#);
    }
    out.push('>');
    Some(rest)
}

fn push_attribute(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    value.chars().for_each(|ch| push_escaped(out, ch, true));
    out.push('"');
}

/// ammonia's check of a URL attribute: an absolute URL stays as written if its scheme is
/// allowed (`Some(Some(url))`), a relative one is resolved against `base`, anything else is
/// dropped (`Some(None)`).
///
/// `None` when a relative URL cannot be resolved (`//bad host/`): ammonia drops the attribute
/// then too, but by `swap_remove`, which moves the tag's last attribute into its place, and
/// that order is left to ammonia itself (a fuzzing find).
fn checked_url(value: &str, base: &Url) -> Option<Option<String>> {
    match Url::parse(value) {
        Ok(url) => Some(URL_SCHEMES.contains(&url.scheme()).then(|| value.to_string())),
        Err(ParseError::RelativeUrlWithoutBase) => base.join(value).ok().map(|u| Some(u.into())),
        Err(_) => Some(None),
    }
}

/// Undo the escaping pulldown-cmark applies to attribute values (`escape_html`, `escape_href`).
fn decode(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..amp]);
        let (ch, len) = entity(&rest[amp..])?;
        out.push(ch);
        rest = &rest[amp + len..];
    }
    out.push_str(rest);
    Some(out)
}

/// The entities pulldown-cmark writes, and their lengths.
fn entity(at: &str) -> Option<(char, usize)> {
    [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#x27;", '\'')]
        .into_iter()
        .find(|(name, _)| at.starts_with(name))
        .map(|(name, ch)| (ch, name.len()))
}

/// Append text that pulldown-cmark escaped as html5ever's serialiser writes it: its entities
/// are read back, then `&`, `<`, `>` and U+00A0 escaped.
fn push_text(out: &mut String, text: &str) -> Option<()> {
    let mut rest = text;
    while let Some(at) = memchr3(b'&', b'>', 0xC2, rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (ch, len) = match tail.as_bytes()[0] {
            b'&' => entity(tail)?,
            _ => tail.chars().next().map(|ch| (ch, ch.len_utf8()))?,
        };
        push_escaped(out, ch, false);
        rest = &tail[len..];
    }
    out.push_str(rest);
    Some(())
}

/// Append one character as html5ever's serialiser writes it, in text or in an attribute value.
fn push_escaped(out: &mut String, ch: char, attribute: bool) {
    match ch {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' if attribute => out.push_str("&quot;"),
        '\u{a0}' => out.push_str("&nbsp;"),
        ch => out.push(ch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lists above are ammonia's defaults: an upgrade that changes them fails here, not in
    /// a feed.
    #[test]
    fn the_lists_are_ammonias_defaults() {
        let ammonia = ammonia::Builder::default();
        let mut schemes: Vec<_> = ammonia.clone_url_schemes().into_iter().collect();
        schemes.sort_unstable();
        assert_eq!(schemes, URL_SCHEMES);
        let tags = ammonia.clone_tags();
        let generic = ammonia.clone_generic_attributes();
        let by_tag = ammonia.clone_tag_attributes();
        for tag in TAGS {
            assert!(tags.contains(tag), "{tag}");
            for name in ["href", "src", "title", "alt", "start", "style", "class", "id"] {
                let allowed = generic.contains(name)
                    || by_tag.get(tag).is_some_and(|names| names.contains(name));
                match attribute(tag, name) {
                    Some(Attribute::Keep | Attribute::Url) => assert!(allowed, "{tag} {name}"),
                    Some(Attribute::Drop) => assert!(!allowed, "{tag} {name}"),
                    None => {}
                }
            }
        }
        assert!(ammonia.clone_allowed_classes().is_empty());
    }
}
