"""Prepares the mixed load (scripts/bench-mixed.sh, scripts/cluster.sh).

    python3 scripts/lib/mixed_setup.py BASE_URL SERVE_LOG OUT_FILE CODES...

On a `serve --demo` with the 342 CBS municipalities imported: every
municipality gets expertise on cloud migration (levels from a fixed seed);
the coordinators of CODES (created beforehand, password in
MEELOOP_USER_PASSWORD) log in on the API (a token) and on the login page (a
session cookie). Writes OUT_FILE for scripts/lib/mixed.lua: one line per
coordinator "token<TAB>cookie<TAB>organisation id", then one line per
search word "q<TAB>word".
"""
import http.cookiejar
import json
import os
import random
import re
import sys
import urllib.parse
import urllib.request

base, log, out, codes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
api = base + "/api/v1"
password = os.environ["MEELOOP_USER_PASSWORD"]
# The demo prints "  role  email  password" once per account.
passwords = {p[1]: p[2] for p in (l.split() for l in open(log)) if len(p) == 3 and "@" in p[1]}


def call(method, path, token=None, body=None):
    req = urllib.request.Request(api + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return json.load(r) if r.status != 204 else None


def token_of(email, pw):
    return call("POST", "/auth/login", body={"email": email, "password": pw})["accessToken"]


def cookie_of(email, pw):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]*)"', form).group(1)
    data = urllib.parse.urlencode({"csrf": csrf, "email": email, "password": pw}).encode()
    opener.open(base + "/login", data=data)
    return next(c.value for c in jar if c.name == "meeloop_session")


admin = token_of("admin@meeloop.example", passwords["admin@meeloop.example"])
rng = random.Random(42)
cursor, orgs = None, []
while True:
    page = call("GET", "/admin/organisations?kind=municipality&limit=100"
                + (f"&cursor={cursor}" if cursor else ""), admin)
    orgs += [o for o in page["items"] if o["code"] != "GM1900"]
    cursor = page.get("nextCursor")
    if not cursor:
        break
for o in orgs:
    call("PUT", f"/organisations/{o['id']}/expertise/cloud-migration", admin,
         {"level": rng.randint(1, 5), "sinceYear": rng.randint(2015, 2026),
          "willingToHost": rng.random() < 0.8})
ids = {o["code"]: o["id"] for o in orgs}
words = sorted({w[:n] for o in orgs for w in re.findall(r"[A-Za-z]{4,}", o["name"]) for n in (3, 5)})
rng.shuffle(words)
with open(out, "w") as f:
    for code in codes:
        email = f"bench-{code.lower()}@bench.example"
        f.write(f"{token_of(email, password)}\t{cookie_of(email, password)}\t{ids[code]}\n")
    for w in words[:200]:
        f.write(f"q\t{urllib.parse.quote(w)}\n")
print(f"{len(orgs)} municipalities with expertise, {len(codes)} coordinators signed in, "
      f"{min(200, len(words))} search words")
