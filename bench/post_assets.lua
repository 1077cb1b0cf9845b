-- wrk script: creates assets (form 01a, section IV) as fast as the server takes them.
--
--   wrk -t2 -c32 -d30s --latency -s "$PWD/bench/post_assets.lua" http://127.0.0.1:8080 -- "$PWD/bench/out/postgresql/wrk_targets.lua"
--
-- (Debian's wrk 4.1 did not find the script by a relative path: give both paths absolute.)
--
-- The targets file (written by `cargo bench --bench national -- --out-dir DIR`) holds a bearer
-- token, the campaign and units whose report 01 is open. Each request goes to the next unit of
-- that list, with an asset code unique to this run, thread and request (codes are unique per
-- unit and campaign), so every request should answer 201. Other statuses are counted and
-- printed at the end: a benchmark with errors measures the errors.

local thread_count = 0
local threads = {}

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_no", thread_count)
  table.insert(threads, thread)
end

function init(args)
  local targets = dofile(args[1])
  campaign = targets.campaign
  units = targets.units
  run_tag = string.format("%x", os.time())
  counter = 0
  statuses = {}
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. targets.token,
  }
end

function request()
  counter = counter + 1
  local unit = units[((counter * 7 + thread_no * 13) % #units) + 1]
  local body = string.format(
    '{"asset_type":"01","section":"IV","code":"W%s-%d-%d","name":"Máy tính để bàn",'
      .. '"unit_of_measure":"bộ","qty_books":2,"qty_counted":2,"original_cost":30000000,'
      .. '"depreciation":12000000,"usage_status":"1","origin":"purchased","year_in_use":2022,'
      .. '"fields":{"specification":"Core i5, 8 GB RAM"}}',
    run_tag, thread_no, counter)
  return wrk.format("POST", "/api/v1/campaigns/" .. campaign .. "/units/" .. unit .. "/assets", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d responses\n", status, n))
  end
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 90, 99 }) do
    io.write(string.format("p%d latency: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
