#!/usr/bin/env python3
"""Make an N-article corpus from the gnews-2021 archive (bench/run.sh; never commit its output).

gen_corpus.py SRC DEST [N]: for i in 0..N, copy SRC's article i mod 24,203 as DEST/YYYY/MM/ID.md
with a new id (the file name and the number in the source link), a new date (the file's mtime,
which is where gnews-2021 dates come from, spread over 2019-2025), a new category (the tag
line's text, one of ~300 names, half Chinese, half English) and a new size (the body cut to
1/4 or 1/2, kept, or doubled). Deterministic (seeded).
"""
import os, random, re, sys, datetime

src, dest = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
rng = random.Random(20261125)
files = sorted(
    os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs if f.endswith(".md")
)
zh = "喜马拉雅 新中国联邦 农场 新闻 评论 战队 之声 文化 纽约 东京 悉尼 伦敦 多伦多 温哥华 巴黎 柏林".split()
en = "Himalaya Farm Group News Review Voice Culture Team Tokyo Sydney London Toronto Paris Berlin Daily Weekly".split()
cats = []
while len(cats) < 300:
    if len(cats) % 2:
        name = rng.choice(zh) + rng.choice(zh) + str(len(cats))
    else:
        name = f"{rng.choice(en)} {rng.choice(en)} {len(cats)}"
    cats.append(name)
tag_re = re.compile(r"^`[^`]*`", re.M)
link_re = re.compile(r"(gnews\.org/[^)\s]*?)(\d{4,})")
t0 = datetime.datetime(2019, 1, 1).timestamp()
t1 = datetime.datetime(2025, 12, 31).timestamp()
cache = {}
for i in range(n):
    path = files[i % len(files)]
    text = cache.get(path)
    if text is None:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
        if len(cache) < 30000:
            cache[path] = text
    new_id = 5_000_000 + i
    when = rng.uniform(t0, t1)
    day = datetime.datetime.utcfromtimestamp(when)
    out = link_re.sub(lambda m: m.group(1) + str(new_id), text, count=1)
    out = tag_re.sub("` " + cats[rng.randrange(len(cats))] + "`", out, count=1)
    size = rng.choice((0.25, 0.5, 1, 1, 2))
    if size < 1:
        out = out[: max(400, int(len(out) * size))]
    elif size > 1:
        out = out + "\n\n" + out[out.find("\n\n", out.find("## ")) :]
    rel = f"{day:%Y}/{day:%m}/{new_id}.md"
    full = os.path.join(dest, rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as fh:
        fh.write(out)
    os.utime(full, (when, when))
print(f"gen_corpus: {n} articles in {dest} ({len(cats)} categories)")
