#!/usr/bin/env python3
"""Update latency and memory of a running feed server (bench/run.sh).

update.py herald PORT CONTENT OUT PID TSV LABEL   (edits, adds, deletes, a burst, then
          memory after BENCH_MEMORY_EDITS more edits)
update.py hugo PORT CONTENT - PID TSV LABEL       (title edits against `hugo server`)

Every time is from the write (or unlink) returning to the first response that shows the
change, polled in a tight loop on one keep-alive connection with If-None-Match (Herald);
`hugo server` is polled with plain GETs. The client's own round trip (an unchanged feed
answered 304, or 200 for Hugo) is measured and recorded as `poll_rtt`: it is the resolution
of every latency here. Appends `section corpus metric system rep value` lines to TSV.
"""
import html, http.client, os, random, re, sys, time, urllib.parse

mode, port, content, out, pid, tsv, label = sys.argv[1:8]
port, pid = int(port), int(pid)
EDITS = int(os.environ.get("BENCH_EDITS", "100"))
BURST = int(os.environ.get("BENCH_BURST", "1000"))
MEM_EDITS = int(os.environ.get("BENCH_MEMORY_EDITS", "1000"))
HUGO_EDITS = int(os.environ.get("BENCH_HUGO_EDITS", "20"))
SECTIONS = os.environ.get("BENCH", "build,update,serve,memory").split(",")
TIMEOUT = float(os.environ.get("BENCH_UPDATE_TIMEOUT", "30"))
QUIET = float(os.environ.get("BENCH_QUIET", "1"))
BURST_TIMEOUT = float(os.environ.get("BENCH_BURST_TIMEOUT", "300"))
PARTS = os.environ.get("BENCH_UPDATE_PARTS", "edit,add,burst").split(",")
SPACING = float(os.environ.get("BENCH_MEMORY_SPACING", "0.03"))
MAX_TITLE = 300  # src/article/parse.rs MAX_TITLE_CHARS
MARKER_CHARS = 24  # " bench-b1764460000" and the like, with room to spare
# Markers are unique to this run and all of one length: a marker left in a title by an
# earlier run (ab.sh runs several binaries on one copy), or one that is a prefix of
# another ("bench-e1" of "bench-e10"), would make a wait succeed before Herald did anything.
RUN = f"{int(time.time()) % 100000:05d}"
rows = open(tsv, "a")


def record(section, metric, system, rep, value):
    rows.write(f"{section}\t{label}\t{metric}\t{system}\t{rep}\t{value}\n")
    rows.flush()


conn = http.client.HTTPConnection("127.0.0.1", port)


def get(path, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    for attempt in (0, 1):
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            return r.status, r.getheader("ETag"), body
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            if attempt:
                raise


class Feed:
    """A feed polled with conditional GETs; `body` is its latest text."""

    def __init__(self, path, conditional=True):
        self.path, self.conditional, self.etag = path, conditional, None
        self.refresh()

    def refresh(self):
        status, etag, body = get(self.path, self.etag if self.conditional else None)
        if status == 200:
            self.etag, self.body = etag, body.decode("utf-8", "replace")
        elif status == 404:  # a feed that went away (or is not there yet)
            self.etag, self.body = None, ""
        elif status != 304:
            raise RuntimeError(f"{self.path}: HTTP {status}")
        return status

    def wait(self, pred, t0):
        deadline = t0 + TIMEOUT
        while True:
            self.refresh()
            if pred(self.body):
                return time.perf_counter() - t0
            if time.perf_counter() > deadline:
                return float("inf")


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def memory():
    status = open(f"/proc/{pid}/status").read()
    get_kb = lambda k: int(re.search(rf"^{k}:\s+(\d+) kB", status, re.M).group(1))
    return get_kb("VmRSS") / 1024, get_kb("VmHWM") / 1024


def settle(what):
    """Wait until Herald holds no feed document uncompressed (it packs them once the feeds
    have been quiet for 2 s; `herald_feed_documents_uncompressed`), then 2 s more: jemalloc
    hands freed pages back within about a second (src/main.rs). A build without the gauge
    gets the 2 s only. Returns the seconds spent waiting for the packing."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 300:
        _, _, body = get("/metrics")
        m = re.search(rb"^herald_feed_documents_uncompressed (\d+)", body, re.M)
        if not m or m.group(1) == b"0":
            break
        time.sleep(0.5)
    waited = time.perf_counter() - t0
    if waited > 0.5:
        print(f"  {what}: documents packed {waited:.1f} s later")
    time.sleep(2)
    return waited


def poll_rtt(feed):
    feed.refresh()
    ts = []
    for _ in range(200):
        t = time.perf_counter()
        feed.refresh()
        ts.append(time.perf_counter() - t)
    return pct(ts, 50)


title_re = re.compile(r"^(##(?!#) ?)(.*?)(?: bench-[a-z]\d+)*$", re.M)


def retitle(path, marker):
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        text = fh.read()
    if text.startswith("---"):  # front matter (Hugo copies): the title key
        new = re.sub(
            r'^title: "(.*?)(?: bench-[a-z]\d+)*"$', rf'title: "\1 {marker}"', text, count=1, flags=re.M
        )
    else:
        new = title_re.sub(lambda m: f"{m.group(1)}{m.group(2)} {marker}", text, count=1)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(new)


link_re = re.compile(r"<item>.*?<link>([^<]*)</link>", re.S)
item_re = re.compile(r"<item>\s*<title>([^<]*)</title>\s*<link>([^<]*)</link>", re.S)


def paths_of(body):
    base = f"http://127.0.0.1:{port}/articles/"
    return [urllib.parse.unquote(l[len(base):]) for l in link_re.findall(body) if l.startswith(base)]


def herald():
    feeds = {}  # slug -> (name, [paths])
    for f in sorted(os.listdir(out)):
        if f.endswith(".rss") and f != "all.rss":
            body = open(os.path.join(out, f), encoding="utf-8").read()
            name = html.unescape(re.search(r"<channel>\s*<title>([^<]*)</title>", body).group(1))
            feeds[f[:-4]] = (name.split(": ", 1)[-1], paths_of(body))
    slug_of = {p: s for s, (_, ps) in feeds.items() for p in ps}
    settle("start")
    rss, hwm = memory()  # steady state after start
    record("memory", "rss_start_mib", "herald", 0, rss)
    record("memory", "hwm_start_mib", "herald", 0, hwm)
    all_feed = Feed("/feeds/all.rss")
    record("update", "poll_rtt_ms", "herald", 0, poll_rtt(all_feed) * 1000)
    def titled(p):
        # A title that shows a marker: Herald cuts titles over MAX_TITLE characters (with
        # "…"), and a marker appended to a title that long would never be seen. The raw
        # heading is never shorter than the plain title Herald makes of it.
        m = title_re.search(open(os.path.join(content, p), encoding="utf-8", errors="replace").read(4096))
        return m is not None and len(m.group(2)) + 1 + MARKER_CHARS <= MAX_TITLE
    cand = [p for p in paths_of(all_feed.body) if p in slug_of and titled(p)
            and not open(os.path.join(content, p), "rb").read(3) == b"---"]
    if not cand:
        print("update: no editable article in all.rss", file=sys.stderr)
        return
    cat_feeds = {}

    def cat(slug):
        if slug not in cat_feeds:
            cat_feeds[slug] = Feed(f"/feeds/{urllib.parse.quote(slug)}.rss")
        return cat_feeds[slug]

    def edit_series(n, tag, section):
        cats, alls = [], []
        for i in range(n):
            p = cand[i % len(cand)]
            marker = f"bench-{tag}{RUN}{i:04d}"
            has = lambda b: marker in b
            f = cat(slug_of[p])
            f.refresh()
            all_feed.refresh()
            retitle(os.path.join(content, p), marker)
            t0 = time.perf_counter()
            cats.append(f.wait(has, t0))
            alls.append(all_feed.wait(has, t0))
            if section:
                record(section, "edit_category_ms", "herald", i, cats[-1] * 1000)
                record(section, "edit_all_ms", "herald", i, alls[-1] * 1000)
        return cats, alls

    if "update" in SECTIONS and "edit" in PARTS:
        cats, alls = edit_series(EDITS, "e", "update")
        print(f"  edit x{EDITS}: category p50 {pct(cats,50)*1000:.1f} ms p99 {pct(cats,99)*1000:.1f} ms;"
              f" all p50 {pct(alls,50)*1000:.1f} ms p99 {pct(alls,99)*1000:.1f} ms")
    if "update" in SECTIONS and "add" in PARTS:
        # Add a new article (front matter, dated an hour ahead so it tops its feeds), then delete it.
        os.makedirs(os.path.join(content, "bench-added"), exist_ok=True)
        time.sleep(0.5)
        slugs = sorted(feeds)
        adds, dels = [], []
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        body = open(os.path.join(content, cand[0]), encoding="utf-8", errors="replace").read()[-1500:]
        for i in range(EDITS):
            slug = slugs[i % len(slugs)]
            name = feeds[slug][0]
            marker = f"bench-a{RUN}{i:04d}"
            f = cat(slug)
            f.refresh()
            all_feed.refresh()
            path = os.path.join(content, "bench-added", f"a{i}.md")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(f'---\ntitle: "New {marker}"\ndate: {when}\ncategories: ["{name}"]\n---\n\n{body}\n')
            t0 = time.perf_counter()
            adds.append(max(f.wait(lambda b: marker in b, t0), all_feed.wait(lambda b: marker in b, t0)))
            os.unlink(path)
            t0 = time.perf_counter()
            dels.append(max(f.wait(lambda b: marker not in b, t0), all_feed.wait(lambda b: marker not in b, t0)))
            record("update", "add_ms", "herald", i, adds[-1] * 1000)
            record("update", "delete_ms", "herald", i, dels[-1] * 1000)
        print(f"  add x{EDITS}: p50 {pct(adds,50)*1000:.1f} ms p99 {pct(adds,99)*1000:.1f} ms;"
              f" delete p50 {pct(dels,50)*1000:.1f} ms p99 {pct(dels,99)*1000:.1f} ms")
    if "update" in SECTIONS and "burst" in PARTS:
        # Burst: retitle BURST files at once: the articles the feeds show now (round robin over
        # categories), then others picked at random. Every feed is polled until each pooled
        # article it showed before shows its new title (an article either keeps its place or,
        # dated by mtime, moves up: it never leaves its category's feed) and no pooled article
        # is shown with its old title, and then nothing changes for BENCH_QUIET seconds. The
        # figure is the time of the last change.
        watched = {"all": all_feed}
        watched.update({s: cat(s) for s in feeds})
        for f in watched.values():
            f.refresh()
        shown_now = {s: paths_of(f.body) for s, f in watched.items()}
        pool, k = [], 0
        lists = [ps for s, ps in shown_now.items() if s != "all" and ps]
        seen = set()
        while len(pool) < BURST and any(k < len(ps) for ps in lists):
            for ps in lists:
                if k < len(ps) and ps[k] not in seen and titled(ps[k]) and open(os.path.join(content, ps[k]), "rb").read(3) != b"---":
                    pool.append(ps[k])
                    seen.add(ps[k])
            k += 1
        pool = pool[:BURST]
        seen = set(pool)
        others = [os.path.relpath(os.path.join(d, f), content)
                  for d, _, fs in os.walk(content) for f in fs if f.endswith(".md")]
        random.Random(7).shuffle(others)
        for p in others:
            if len(pool) >= BURST:
                break
            if p not in seen and titled(p) and open(os.path.join(content, p), "rb").read(3) != b"---":
                pool.append(p)
                seen.add(p)
        want = {s: len(seen & set(ps)) for s, ps in shown_now.items()}
        base = f"http://127.0.0.1:{port}/articles/"
        pool_links = {base + urllib.parse.quote(p) for p in pool}
        marker = f"bench-b{int(time.time())}"

        def current(body, n):
            items = item_re.findall(body)
            marked = sum(marker in t for t, _ in items)
            stale = any(marker not in t and l in pool_links for t, l in items)
            return marked >= n and not stale

        t_start = time.perf_counter()
        for p in pool:
            retitle(os.path.join(content, p), marker)
        t0 = time.perf_counter()
        last, passes, done_at = 0.0, 0, None
        while time.perf_counter() < t0 + BURST_TIMEOUT:
            for f in watched.values():
                if f.refresh() == 200:
                    last = time.perf_counter() - t0
            passes += 1
            if done_at is None and all(current(watched[s].body, n) for s, n in want.items()):
                done_at = time.perf_counter() - t0
            if done_at is not None and time.perf_counter() - t0 - last > QUIET:
                break
        pass_ms = (time.perf_counter() - t0) / passes * 1000
        shown = sum(marker in t for f in watched.values() for t, _ in item_re.findall(f.body))
        t_burst = last if done_at is not None else float("inf")
        record("update", "burst_ms", "herald", 0, t_burst * 1000)
        record("update", "burst_write_ms", "herald", 0, (t0 - t_start) * 1000)
        record("update", "burst_feeds", "herald", 0, len(watched))
        record("update", "burst_pass_ms", "herald", 0, pass_ms)
        print(f"  burst of {len(pool)} files: every feed current {t_burst*1000:.0f} ms after the last write"
              f" (writing took {(t0-t_start)*1000:.0f} ms; {len(watched)} feeds polled, one pass {pass_ms:.1f} ms;"
              f" {shown} new titles shown, {sum(want.values())} expected at least)")
    if "memory" in SECTIONS:
        # Both readings at rest, like the one after start (see `settle`): a reading taken
        # right after the update section would count memory about to be packed or freed.
        settle("before the memory edits")
        rss, hwm = memory()
        record("memory", "rss_before_edits_mib", "herald", 0, rss)
        record("memory", "hwm_before_edits_mib", "herald", 0, hwm)
        # MEM_EDITS title edits BENCH_MEMORY_SPACING s apart (longer than the debounce), then
        # wait for the last one to be served.
        for i in range(MEM_EDITS):
            p = cand[i % len(cand)]
            retitle(os.path.join(content, p), f"bench-m{i}")
            time.sleep(SPACING)
        t0 = time.perf_counter()
        f = cat(slug_of[p])
        done = f.wait(lambda b: f"bench-m{MEM_EDITS - 1}" in b, t0)
        settle("after the memory edits")
        rss2, hwm2 = memory()
        record("memory", "rss_after_edits_mib", "herald", 0, rss2)
        record("memory", "hwm_after_edits_mib", "herald", 0, hwm2)
        print(f"  memory: RSS {rss:.1f} MiB (peak {hwm:.1f}) -> after {MEM_EDITS} edits {rss2:.1f} MiB (peak {hwm2:.1f})")


def hugo():
    feed = Feed("/index.xml", conditional=False)
    record("update", "poll_rtt_ms", "hugo", 0, poll_rtt(feed) * 1000)
    files = sorted(
        (os.path.join(d, f) for d, _, fs in os.walk(content) for f in fs if f.endswith(".md")),
        key=os.path.getmtime, reverse=True)[:HUGO_EDITS]
    ts = []
    for i in range(HUGO_EDITS):
        marker = f"bench-h{RUN}{i:04d}"
        feed.refresh()
        retitle(files[i % len(files)], marker)
        t0 = time.perf_counter()
        ts.append(feed.wait(lambda b: marker in b, t0))
        record("update", "edit_all_ms", "hugo", i, ts[-1] * 1000)
    print(f"  hugo server edit x{HUGO_EDITS}: p50 {pct(ts,50)*1000:.1f} ms p99 {pct(ts,99)*1000:.1f} ms")


herald() if mode == "herald" else hugo()
