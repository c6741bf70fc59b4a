#!/usr/bin/env python3
"""Copy a corpus into a Hugo site's content folder with front matter (bench/run.sh).

to_hugo.py SRC DEST_CONTENT: Hugo builds pages for files without front matter, but takes
categories only from front matter, so each article without one gets
  ---
  title: <the first `#`/`##` heading, else the file name>
  categories: [<the tag line's text: the back-quoted tag after the title; a leading
                `M/D/YYYY H:MM AM/PM UTC` date is dropped; without a tag name, the first
                folder that is not a year, else `uncategorized`, as Herald does>]
  ---
and keeps its mtime (the site config takes dates from `:fileModTime`, as Herald does for
these archives). Files that already have front matter are copied as they are. Index pages
(README*.md) are copied too (Hugo has no notion of them). Not timed.
"""
import json, os, re, shutil, sys

src, dest = sys.argv[1], sys.argv[2]
title_re = re.compile(r"^#{1,2} +(.*)$", re.M)
tag_re = re.compile(r"^`([^`]*)`")
date_re = re.compile(r"^\s*\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2} [AP]M UTC\s*")
count = 0
for d, dirs, fs in os.walk(src):
    dirs[:] = [x for x in dirs if not x.startswith(".")]
    for f in fs:
        if not f.endswith(".md"):
            continue
        s = os.path.join(d, f)
        t = os.path.join(dest, os.path.relpath(s, src))
        os.makedirs(os.path.dirname(t), exist_ok=True)
        raw = open(s, "rb").read()
        if raw.startswith((b"---", b"+++")):
            shutil.copyfile(s, t)
        else:
            text = raw.decode("utf-8", "replace")
            m = title_re.search(text)
            title = m.group(1).strip() if m and m.group(1).strip() else f[:-3]
            cats = []
            if m:
                rest = text[m.end():].lstrip("\n")
                tm = tag_re.match(rest)
                if tm:
                    name = date_re.sub("", tm.group(1)).strip()
                    if name:
                        cats.append(name)
            if not cats:  # Herald's fallbacks: the first folder that is not a year, else default
                parts = [x for x in os.path.relpath(s, src).split(os.sep)[:-1] if not x.isdigit()]
                cats.append(parts[0] if parts else "uncategorized")
            fm = "---\ntitle: %s\ncategories: %s\n---\n" % (
                json.dumps(title, ensure_ascii=False),
                json.dumps(cats, ensure_ascii=False),
            )
            with open(t, "w", encoding="utf-8") as fh:
                fh.write(fm + text)
        st = os.stat(s)
        os.utime(t, (st.st_atime, st.st_mtime))
        count += 1
print(f"to_hugo: {count} files converted into {dest}")
