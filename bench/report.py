#!/usr/bin/env python3
"""Turn bench/run.sh's results.tsv into the Markdown table (report.py TSV MACHINE)."""
import statistics as st, sys, time
from collections import defaultdict

tsv, machine = sys.argv[1], sys.argv[2]
data = defaultdict(dict)  # (section, corpus, metric, system) -> {rep: value}
corpora = []
for line in open(tsv):
    section, corpus, metric, system, rep, value = line.rstrip("\n").split("\t")
    if value == "":
        continue
    data[(section, corpus, metric, system)][int(rep)] = float(value)
    if corpus not in corpora:
        corpora.append(corpus)


def vals(*k):
    return list(data.get(k, {}).values())


def med(*k):
    v = vals(*k)
    return st.median(v) if v else None


def pct(p, *k):
    v = sorted(vals(*k))
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else None


def ratio(section, corpus, metric, a, b):
    """Median over rounds of a/b, pairing the interleaved runs of the same round."""
    x, y = data.get((section, corpus, metric, a), {}), data.get((section, corpus, metric, b), {})
    r = [x[i] / y[i] for i in x if i in y and y[i]]
    return (st.median(r), len(r)) if r else (None, 0)


def f(v, unit="", d=1):
    if v is None:
        return "—"
    if v == float("inf"):
        return "timeout"
    return f"{v:,.{d}f}{unit}"


out = [f"Machine: {machine}; {time.strftime('%Y-%m-%d')}.", ""]
rows = [c for c in corpora if vals("build", c, "cold_build", "herald")]
if rows:
    out += ["**Cold build** (`herald build` vs floor and Hugo; medians, ratios = median of per-round ratios)", "",
            "| corpus | Herald | floor | Hugo | Herald ÷ floor (≤ 2) | Hugo ÷ Herald (≥ 10) | rounds |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in rows:
        rf, n = ratio("build", c, "cold_build", "herald", "floor")
        rh, nh = ratio("build", c, "cold_build", "hugo", "herald")
        out.append(f"| {c} | {f(med('build', c, 'cold_build', 'herald'), ' ms', 0)} | {f(med('build', c, 'cold_build', 'floor'), ' ms', 0)}"
                   f" | {f(med('build', c, 'cold_build', 'hugo'), ' ms', 0)} | {f(rf, '×', 2)} | {f(rh, '×', 2)} | {n}/{nh} |")
    out.append("")
rows = [c for c in corpora if vals("update", c, "edit_category_ms", "herald") or vals("update", c, "edit_all_ms", "hugo")]
if rows:
    out += ["**Update latency** (write returned → served feed shows it; ms, p50 / p99; targets: edit p50 ≤ 15, p99 ≤ 50; burst ≤ 1,000)", "",
            "| corpus | edit: category feed | edit: `all` | add | delete | burst (feeds) | poll RTT | `hugo server` edit | Herald ÷ `hugo server` (p50) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in rows:
        pp = lambda m, s="herald": f"{f(pct(50, 'update', c, m, s))} / {f(pct(99, 'update', c, m, s))}" if vals('update', c, m, s) else "—"
        h50, e50 = pct(50, "update", c, "edit_all_ms", "hugo"), pct(50, "update", c, "edit_all_ms", "herald")
        out.append(f"| {c} | {pp('edit_category_ms')} | {pp('edit_all_ms')} | {pp('add_ms')} | {pp('delete_ms')}"
                   f" | {f(med('update', c, 'burst_ms', 'herald'), '', 0)} ({f(med('update', c, 'burst_feeds', 'herald'), '', 0)})"
                   f" | {f(med('update', c, 'poll_rtt_ms', 'herald'), '', 2)}"
                   f" | {pp('edit_all_ms', 'hugo')} | {f(e50 / h50 if h50 and e50 else None, '×', 2)} |")
    out.append("")
rows = [c for c in corpora if vals("serve", c, "plain_rps", "herald")]
for c in rows:
    out += [f"**Serving** `/feeds/all.rss` of {c} (wrk -t2 -c64; medians; targets: gzip and 304 req/s ≥ 1.0× nginx, p99 ≤ 1.5×)", "",
            "| request | Herald req/s | nginx req/s | Herald ÷ nginx req/s | Herald p99 | nginx p99 | Herald ÷ nginx p99 | rounds |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for t, label in [("plain", "GET"), ("gzip", "GET gzip"), ("br", "GET br (Herald only)"), ("304", "conditional → 304"), ("healthz", "minimal (`/healthz`, nginx `return 200`)")]:
        rr, n = ratio("serve", c, f"{t}_rps", "herald", "nginx")
        rp, _ = ratio("serve", c, f"{t}_p99_ms", "herald", "nginx")
        out.append(f"| {label} | {f(med('serve', c, f'{t}_rps', 'herald'), '', 0)} | {f(med('serve', c, f'{t}_rps', 'nginx'), '', 0)} | {f(rr, '×', 2)}"
                   f" | {f(med('serve', c, f'{t}_p99_ms', 'herald'), ' ms', 2)} | {f(med('serve', c, f'{t}_p99_ms', 'nginx'), ' ms', 2)} | {f(rp, '×', 2)} | {n or len(vals('serve', c, f'{t}_rps', 'herald'))} |")
    out.append("")
rows = [c for c in corpora if vals("memory", c, "startup_ms", "herald")]
if rows:
    out += ["**Memory** of `herald serve` (MiB; targets: steady ≤ 64 at 5,804, ≤ 400 at 100,000, no growth)", "",
            "| corpus | ready in | RSS after start (peak) | RSS after the update tests (peak) | RSS after 1,000 more edits (peak) | growth over the 1,000 edits | `hugo server` ready in |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in rows:
        a, b = med("memory", c, "rss_before_edits_mib", "herald"), med("memory", c, "rss_after_edits_mib", "herald")
        out.append(f"| {c} | {f(med('memory', c, 'startup_ms', 'herald'), ' ms', 0)}"
                   f" | {f(med('memory', c, 'rss_start_mib', 'herald'))} ({f(med('memory', c, 'hwm_start_mib', 'herald'))})"
                   f" | {f(a)} ({f(med('memory', c, 'hwm_before_edits_mib', 'herald'))})"
                   f" | {f(b)} ({f(med('memory', c, 'hwm_after_edits_mib', 'herald'))}) | {f(b - a if a is not None and b is not None else None, '', 1)}"
                   f" | {f(med('memory', c, 'startup_ms', 'hugo'), ' ms', 0)} |")
    out.append("")
print("\n".join(out))
