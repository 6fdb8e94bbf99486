-- The mixed load of docs/performance.md for wrk:
--   MIXED_DATA=FILE wrk -t2 -c64 -d60s --latency -s scripts/lib/mixed.lua http://127.0.0.1:PORT
-- FILE comes from scripts/lib/mixed_setup.py. Per request, by chance:
--   30 % directory search   GET /api/v1/organisations?kind=municipality&limit=20&q=WORD
--   30 % API matches        GET /api/v1/matches?topic=cloud-migration (a coordinator's token)
--   15 % the peers page     GET /peers?topic=cloud-migration (a coordinator's session)
--   10 % the dashboard      GET /dashboard
--   10 % the knowledge base GET /knowledge?topic=cloud-migration
--    5 % a profile change   PATCH /api/v1/organisations/ID {"size": N} (the coordinator's own)
-- Counts answers by class; a 200 to a PATCH (a body starting {"id") is a
-- write the server confirmed, compared with the database afterwards by
-- scripts/cluster.sh.

local users, words = {}, {}
-- Globals, so done() can read them from each thread (tables do not cross).
ok_count, client_count, server_count, patched_count = 0, 0, 0, 0
local threads = {}

local function load(path)
   for line in io.lines(path) do
      local a, b, c = line:match("^([^\t]*)\t([^\t]*)\t?([^\t]*)$")
      if a == "q" then
         words[#words + 1] = b
      elseif a then
         users[#users + 1] = { token = a, cookie = "meeloop_session=" .. b, org = c }
      end
   end
end

function setup(thread)
   threads[#threads + 1] = thread
end

function init(args)
   load(os.getenv("MIXED_DATA"))
   math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
   local u = users[math.random(#users)]
   local r = math.random(100)
   if r <= 30 then
      return wrk.format("GET", "/api/v1/organisations?kind=municipality&limit=20&q=" .. words[math.random(#words)])
   elseif r <= 60 then
      return wrk.format("GET", "/api/v1/matches?topic=cloud-migration", { Authorization = "Bearer " .. u.token })
   elseif r <= 75 then
      return wrk.format("GET", "/peers?topic=cloud-migration", { Cookie = u.cookie })
   elseif r <= 85 then
      return wrk.format("GET", "/dashboard", { Cookie = u.cookie })
   elseif r <= 95 then
      return wrk.format("GET", "/knowledge?topic=cloud-migration", { Cookie = u.cookie })
   else
      return wrk.format("PATCH", "/api/v1/organisations/" .. u.org,
         { Authorization = "Bearer " .. u.token, ["Content-Type"] = "application/json" },
         '{"size": ' .. math.random(1000, 900000) .. '}')
   end
end

function response(status, headers, body)
   if status >= 500 then
      server_count = server_count + 1
   elseif status >= 400 then
      client_count = client_count + 1
   else
      ok_count = ok_count + 1
      if body:sub(1, 6) == '{"id":' then
         patched_count = patched_count + 1
      end
   end
end

function done(summary, latency, requests)
   local total = { ok = 0, client = 0, server = 0, patched = 0 }
   for _, t in ipairs(threads) do
      total.ok = total.ok + t:get("ok_count")
      total.client = total.client + t:get("client_count")
      total.server = total.server + t:get("server_count")
      total.patched = total.patched + t:get("patched_count")
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d seconds=%.1f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f ok=%d http4xx=%d http5xx=%d patched=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, total.ok, total.client, total.server, total.patched,
      e.connect, e.read, e.write, e.timeout))
end
