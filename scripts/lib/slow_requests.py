"""Where the slow answers of a cluster run came from, out of nginx's access
log (format, separated by |: msec, request_time, upstream_response_time,
upstream_addr, status, "method uri"). Prints the slowest 1 % by five-second window, by route and by
instance, and how much of their time the instance took.

    python3 scripts/lib/slow_requests.py ACCESS_LOG
"""
import collections
import re
import sys

rows = []
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("|")
    if len(parts) != 6:
        continue
    msec, total, upstream, addr, status, request = parts
    # Several values when nginx tried a second instance: "0.011, 0.003".
    upstream_times = [float(t) for t in re.split(r"[ ,:]+", upstream) if t not in ("", "-")]
    method, _, uri = request.partition(" ")
    path = re.sub(r"\?.*", "", uri)
    path = re.sub(r"/\d+", "/{id}", path)
    rows.append((float(msec), float(total), sum(upstream_times), addr, status, f"{method} {path}"))
if not rows:
    sys.exit("no requests logged")
rows.sort()
start = rows[0][0]
by_time = sorted(r[1] for r in rows)
p99 = by_time[int(len(by_time) * 0.99)]
slow = [r for r in rows if r[1] >= p99]
print(f"nginx: {len(rows)} requests, p99 {p99 * 1000:.0f} ms; the {len(slow)} at or above it:")
upstream_share = sum(r[2] for r in slow) / max(sum(r[1] for r in slow), 1e-9)
print(f"  time spent in the instances: {upstream_share:.0%} of theirs")
for title, key in [("by window (s)", lambda r: int((r[0] - start) // 5) * 5),
                   ("by route", lambda r: r[5]),
                   ("by instance", lambda r: r[3])]:
    counts = collections.Counter(key(r) for r in slow)
    items = sorted(counts.items()) if title.startswith("by window") else counts.most_common(8)
    print(f"  {title}: " + ", ".join(f"{k}: {v}" for k, v in items))
