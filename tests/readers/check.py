"""Real feed readers against a running Herald: Python's feedparser, newsboat, JSON Feed 1.1.

Usage: check.py BASE_URL WORK_DIR

Every feed the OPML lists is read in every format, and every archive page reached by walking
`prev-archive` from the live Atom feed (RFC 5005). A check fails, and the script exits 1, when:
- feedparser flags a feed as ill-formed (`bozo`) or reads a different number of entries or
  different titles than the XML holds;
- `newsboat -i` imports the OPML to anything but exactly the OPML's feed URLs;
- newsboat, reloading a single feed into a fresh cache, stores a different number of items
  or different titles (newsboat reports nothing on a feed it cannot read: it simply stores
  nothing, which this count catches);
- a JSON Feed misses a field the JSON Feed 1.1 spec requires or has one of the wrong type.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime

import feedparser

ATOM = "{http://www.w3.org/2005/Atom}"
failures = []


def fail(what):
    failures.append(what)
    print("FAIL", what)


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def xml_titles(body):
    """Titles of the items (RSS) or entries (Atom), in document order, as the XML holds them."""
    root = ET.fromstring(body)
    if root.tag == "rss":
        items = root.iter("item")
        return [(i.findtext("title") or "").strip() for i in items]
    return [(e.findtext(ATOM + "title") or "").strip() for e in root.iter(ATOM + "entry")]


def check_feedparser(url, body):
    parsed = feedparser.parse(body)
    if parsed.bozo:
        fail(f"feedparser: {url}: {parsed.bozo_exception}")
        return parsed
    expected = xml_titles(body)
    got = [e.get("title", "").strip() for e in parsed.entries]
    if got != expected:
        fail(f"feedparser: {url}: read {len(got)} entries {got[:3]}…, the XML holds {len(expected)} {expected[:3]}…")
    return parsed


def newsboat(work, *args):
    env = dict(os.environ, HOME=work)  # newsboat keeps its config and lock files under $HOME
    return subprocess.run(["newsboat", *args], env=env, capture_output=True, text=True, timeout=120)


def check_newsboat_import(work, opml_path, opml_urls):
    urls_file = os.path.join(work, "imported-urls")
    open(urls_file, "w").close()
    done = newsboat(work, "-i", opml_path, "-u", urls_file, "-c", os.path.join(work, "import.db"))
    if done.returncode != 0:
        fail(f"newsboat -i {opml_path}: exit {done.returncode}: {done.stderr.strip()}")
        return
    imported = [line.split()[0] for line in open(urls_file, encoding="utf-8") if line.strip()]
    if sorted(imported) != sorted(opml_urls):
        fail(f"newsboat -i: imported {imported}, the OPML lists {opml_urls}")
    else:
        print(f"newsboat -i: imported all {len(imported)} feeds of the OPML")


def check_newsboat_feed(work, n, url, expected_titles):
    urls_file = os.path.join(work, f"urls-{n}")
    cache = os.path.join(work, f"cache-{n}.db")
    with open(urls_file, "w", encoding="utf-8") as f:
        f.write(url + "\n")
    done = newsboat(work, "-u", urls_file, "-c", cache, "-x", "reload")
    if done.returncode != 0:
        fail(f"newsboat: {url}: exit {done.returncode}: {done.stderr.strip()}")
        return
    db = sqlite3.connect(cache)
    titles = [t.strip() for (t,) in db.execute("SELECT title FROM rss_item WHERE feedurl = ?", (url,))]
    db.close()
    if sorted(titles) != sorted(expected_titles):
        fail(f"newsboat: {url}: stored {len(titles)} items, the feed holds {len(expected_titles)}")


def is_rfc3339(value):
    return isinstance(value, str) and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value
    ) is not None and datetime.fromisoformat(value.replace("Z", "+00:00")) is not None


def check_json_feed(url, body):
    """The JSON Feed 1.1 spec (https://jsonfeed.org/version/1.1): required fields and types."""
    try:
        feed = json.loads(body)
    except ValueError as e:
        fail(f"json: {url}: not JSON: {e}")
        return []
    problems = []
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append(f"version is {feed.get('version')!r}")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("title is missing")
    for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon", "description", "language"):
        if key in feed and not isinstance(feed[key], str):
            problems.append(f"{key} is not a string")
    if feed.get("feed_url") not in (None, url):
        problems.append(f"feed_url {feed.get('feed_url')} is not the URL it was fetched from")
    for author in feed.get("authors", []):
        if not any(isinstance(author.get(k), str) for k in ("name", "url", "avatar")):
            problems.append(f"author {author} has no name, url or avatar")
    for hub in feed.get("hubs", []):
        if not isinstance(hub.get("type"), str) or not isinstance(hub.get("url"), str):
            problems.append(f"hub {hub} needs a type and a url")
    items = feed.get("items")
    if not isinstance(items, list):
        problems.append("items is not an array")
        items = []
    ids = set()
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{where}.id is missing or not a string")
        elif item["id"] in ids:
            problems.append(f"{where}.id {item['id']} is repeated")
        ids.add(item.get("id"))
        if not isinstance(item.get("content_html"), str) and not isinstance(item.get("content_text"), str):
            problems.append(f"{where} has neither content_html nor content_text")
        for key in ("date_published", "date_modified"):
            if key in item and not is_rfc3339(item[key]):
                problems.append(f"{where}.{key} {item[key]!r} is not RFC 3339")
        if "tags" in item and not all(isinstance(t, str) for t in item["tags"]):
            problems.append(f"{where}.tags holds a non-string")
    for p in problems:
        fail(f"json: {url}: {p}")
    return [item.get("title", "").strip() for item in items]


def archive_pages(parsed):
    return [l["href"] for l in parsed.feed.get("links", []) if l.get("rel") == "prev-archive"]


def main():
    base, work = sys.argv[1].rstrip("/"), sys.argv[2]
    opml_body = fetch(base + "/feeds/index.opml")
    opml_path = os.path.join(work, "index.opml")
    with open(opml_path, "wb") as f:
        f.write(opml_body)
    rss_urls = [o.get("xmlUrl") for o in ET.fromstring(opml_body).iter("outline") if o.get("xmlUrl")]
    if not rss_urls:
        fail("the OPML lists no feeds")
    check_newsboat_import(work, opml_path, rss_urls)

    counted = {"feeds": 0, "pages": 0, "entries": 0}
    n = 0
    for rss_url in rss_urls:
        stem = rss_url[: -len(".rss")]
        titles = {}
        for ext in ("rss", "atom"):
            url = f"{stem}.{ext}"
            body = fetch(url)
            parsed = check_feedparser(url, body)
            titles[ext] = xml_titles(body)
            n += 1
            check_newsboat_feed(work, n, url, titles[ext])
            counted["feeds"] += 1
            counted["entries"] += len(titles[ext])
            # Walk the archive (RFC 5005) from the live Atom feed to the oldest page.
            pages = archive_pages(parsed) if ext == "atom" else []
            while pages:
                page_url = pages.pop()
                page = fetch(page_url)
                page_parsed = check_feedparser(page_url, page)
                counted["pages"] += 1
                pages.extend(archive_pages(page_parsed))
        json_titles = check_json_feed(f"{stem}.json", fetch(f"{stem}.json"))
        if not (titles["rss"] == titles["atom"] == json_titles):
            fail(f"{stem}: RSS, Atom and JSON Feed list different items")
        counted["feeds"] += 1

    print(
        f"readers: {counted['feeds']} feeds ({len(rss_urls)} × RSS, Atom, JSON Feed), "
        f"{counted['pages']} archive pages, {counted['entries']} RSS/Atom entries read by "
        f"feedparser {feedparser.__version__} and newsboat; {len(failures)} failures"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
