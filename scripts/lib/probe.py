"""A timeline of answer times: one GET every 50 ms for SECONDS, then per
five-second window the number of answers, the slowest and the statuses.
Shows when in a load run answers were slow (the load tool gives only the
whole run's percentiles).

    python3 scripts/lib/probe.py URL SECONDS
"""
import http.client
import sys
import time
import urllib.parse

url, seconds = urllib.parse.urlsplit(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
windows = {}
conn = None
while (now := time.monotonic()) - start < seconds:
    window = int((now - start) // 5)
    try:
        if conn is None:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        t = time.monotonic()
        conn.request("GET", url.path or "/")
        response = conn.getresponse()
        response.read()
        status = str(response.status)
        elapsed = (time.monotonic() - t) * 1000
    except (OSError, http.client.HTTPException) as e:
        conn, status, elapsed = None, type(e).__name__, (time.monotonic() - now) * 1000
    w = windows.setdefault(window, {"n": 0, "max": 0.0, "statuses": {}})
    w["n"] += 1
    w["max"] = max(w["max"], elapsed)
    w["statuses"][status] = w["statuses"].get(status, 0) + 1
    time.sleep(max(0.0, 0.05 - (time.monotonic() - now)))
print("probe   window  answers  slowest ms  statuses")
for window in sorted(windows):
    w = windows[window]
    statuses = " ".join(f"{k}×{v}" for k, v in sorted(w["statuses"].items()))
    print(f"probe  {window * 5:3d}-{window * 5 + 5:<3d} s {w['n']:6d} {w['max']:11.1f}  {statuses}")
