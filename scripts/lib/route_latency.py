"""Per-route request counts, mean and p99 (from the histogram buckets) out
of a /metrics scrape: which routes make the tail.

    curl -s http://127.0.0.1:9464/metrics | python3 scripts/lib/route_latency.py
"""
import re
import sys
from collections import defaultdict

buckets = defaultdict(list)
sums, counts = {}, {}
for line in sys.stdin:
    m = re.match(r'meeloop_http_request_duration_seconds_(bucket|sum|count)\{(.*)\} (\S+)', line)
    if not m:
        continue
    kind, labels, value = m.group(1), dict(re.findall(r'(\w+)="([^"]*)"', m.group(2))), float(m.group(3))
    key = (labels["method"], labels["route"])
    if kind == "bucket":
        buckets[key].append((float(labels["le"]), value))
    elif kind == "sum":
        sums[key] = value
    else:
        counts[key] = value


def quantile(q, bs):
    bs = sorted(bs)
    total = bs[-1][1]
    rank, prev_le, prev_n = q * total, 0.0, 0.0
    for le, n in bs:
        if n >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_n) / max(n - prev_n, 1)
        prev_le, prev_n = le, n
    return prev_le


print(f"{'route':<45} {'requests':>9} {'mean ms':>8} {'p99 ms':>7}")
for key in sorted(counts, key=lambda k: -counts[k]):
    if counts[key] < 10:
        continue
    print(f"{key[0] + ' ' + key[1]:<45} {counts[key]:>9.0f} {1000 * sums[key] / counts[key]:>8.2f} "
          f"{1000 * quantile(0.99, buckets[key]):>7.1f}")
