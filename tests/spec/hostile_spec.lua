-- A hostile server: the study (experiments/paper.lua, small design) against `introspect serve`
-- with every fault class turned on at once completes with results identical to a clean run, and
-- the run directory reports what was retried. Each fault class is also checked on its own: what
-- the server sends, and that the libcurl client (introspect.http) gets the right body back.
local cjson = require "cjson"
local sys = require "introspect.sys"
local util = require "introspect.core.util"
local http = require "introspect.http"
local sim = require "introspect.sim"
local support = require "paper_support"

local SMALL, run, tmpdir = support.SMALL, support.run, support.tmpdir
local KEY = "sk-hostile-test-KEY-5e1d0c7b9a"

-- Every fault class of docs/serve.md at once: latency spikes (log-normal, sigma 1), 429 with and
-- without retry-after, 500, 503, a proxy's HTML 502, resets, truncated JSON, a text/plain content
-- type, slow-loris bodies and oversized (4 MiB) bodies.
local ALL_FAULTS = "429=0.02,429_bare=0.02,500=0.02,503=0.02,html=0.02,reset=0.02,truncate=0.02,"
  .. "content_type=0.02,slow=0.004,slow_seconds=1,oversize=0.004,latency=5ms,latency_sigma=1"

-- decoded_lines(path) -> the JSON values of a JSONL file (key order does not matter)
local function decoded_lines(path)
  local out = {}
  for line in (util.read_file(path) or ""):gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

local function list(dir, pattern)
  local names = {}
  for _, f in ipairs(support.files(dir)) do
    local name = f:sub(#dir + 2)
    if name:match(pattern) then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

local CHAT = { model = "sim-large", temperature = 0, messages = { { role = "user", content =
  "[DECISION TASK] Respond with \"A\" or \"B\".\n\nWhich one?\nA:\nPrice: 10 dollars\n\nB:\nPrice: 20 dollars" } } }

describe("the study against a hostile server", function()
  local clean_dir = tmpdir()
  local clean_out, clean_code = run(SMALL .. " --out=" .. clean_dir)
  local url, pid, log = support.serve("--key=" .. KEY .. " --faults=" .. ALL_FAULTS .. ",seed=11")
  local dir = tmpdir()
  local outputs, codes = {}, {}
  -- A request that exhausts its retries is kept in the store as an error and the run says so;
  -- running the same command again (against the same server) retries exactly those.
  for i = 1, 4 do
    outputs[i], codes[i] = run(SMALL .. " --backend=" .. url .. " --poll-interval=0.05 --out=" .. dir,
      "OPENAI_API_KEY=" .. KEY)
    if codes[i] ~= 3 then break end -- 3: finished, but some requests failed after their retries
  end
  sys.kill(pid, "TERM")
  local server_log = util.read_file(log) or ""

  it("completes", function()
    assert.equal(0, clean_code, clean_out)
    for i, code in ipairs(codes) do assert.equal(i == #codes and 0 or 3, code, outputs[i]) end
    assert.is_nil(outputs[#outputs]:find("requests failed", 1, true), outputs[#outputs])
  end)

  it("met every fault class the server logs", function()
    local seen = {}
    for status in server_log:gmatch("POST /v1/chat/completions (%d+) ") do seen[status] = (seen[status] or 0) + 1 end
    for _, status in ipairs({ "429", "500", "502", "503", "0" }) do
      assert.is_true((seen[status] or 0) > 0, "no " .. status .. " in the server log")
    end
  end)

  it("gives results identical to the clean run", function()
    local csvs = list(clean_dir, "%.csv$")
    assert.is_true(#csvs >= 10, #csvs .. " CSV files")
    assert.same(csvs, list(dir, "%.csv$"))
    for _, name in ipairs(csvs) do
      assert.equal(util.read_file(clean_dir .. "/" .. name), util.read_file(dir .. "/" .. name), name)
    end
    local replies = list(clean_dir, "^replies/")
    assert.is_true(#replies > 0)
    for _, name in ipairs(replies) do
      assert.same(decoded_lines(clean_dir .. "/" .. name), decoded_lines(dir .. "/" .. name), name)
    end
    assert.same(support.read_json(clean_dir .. "/summary.json").models,
      support.read_json(dir .. "/summary.json").models)
  end)

  it("reports what was retried", function()
    local store = support.read_json(dir .. "/manifest.json").store
    assert.is_table(store)
    assert.is_true(store.retried > 0 and store.retries >= store.retried, cjson.encode(store))
    assert.equal(store.retried, support.sqlite_count(dir .. "/responses.sqlite", "attempts > 1"))
    assert.matches("%d+ retries", outputs[1])
    print(string.format("\n  hostile run: %d invocation(s); %d of %d stored responses needed retries (%d retries)",
      #outputs, store.retried, store.rows, store.retries))
  end)
end)

describe("fault classes", function()
  local function handle(faults)
    local api = sim.api({ faults = faults })
    return api:handle({ method = "POST", path = "/v1/chat/completions",
      headers = { ["content-type"] = "application/json" }, body = cjson.encode(CHAT) })
  end
  local clean = handle(nil)
  -- bodies compared without their "created" second (a later call may fall in the next second)
  local timeless = require("sim_support").timeless

  it("answer as documented in process", function()
    assert.equal(200, clean.status)
    local bare = handle("429_bare=1")
    assert.equal(429, bare.status)
    assert.is_nil(bare.headers["retry-after"])
    assert.is_nil(bare.headers["retry-after-ms"])
    assert.equal("1", handle("429=1").headers["retry-after"])
    local html = handle("html=1")
    assert.equal(502, html.status)
    assert.equal("text/html", html.headers["content-type"])
    assert.matches("<h1>502 Bad Gateway</h1>", html.body)
    local ctype = handle("content_type=1")
    assert.equal(200, ctype.status)
    assert.matches("^text/plain", ctype.headers["content-type"])
    assert.equal(timeless(clean.body), timeless(ctype.body))
    local big = handle("oversize=1,oversize_bytes=100000")
    assert.equal(100000, #big.body)
    assert.same(cjson.decode(timeless(clean.body)), cjson.decode(timeless(big.body)))
    local slow = handle("slow=1,slow_seconds=0.5")
    assert.equal("slow", slow.fault)
    assert.equal(0.5, slow.fault_seconds)
    assert.equal(timeless(clean.body), timeless(slow.body))
    assert.has_error(function() sim.api({ faults = "html=0.6,slow=0.6" }) end,
      "faults: the rates add up to more than 1")
  end)

  it("leave the draws of the older classes unchanged", function()
    local a = sim.api({ faults = "500=0.3,reset=0.2,seed=5" })
    local b = sim.api({ faults = "500=0.3,reset=0.2,html=0,slow=0,seed=5" })
    for _ = 1, 200 do
      local x = a:handle({ method = "POST", path = "/v1/chat/completions", headers = {}, body = cjson.encode(CHAT) })
      local y = b:handle({ method = "POST", path = "/v1/chat/completions", headers = {}, body = cjson.encode(CHAT) })
      assert.equal(x.status, y.status)
      assert.equal(x.fault, y.fault)
    end
  end)

  it("reach the libcurl client over HTTP, which gets the clean body back", function()
    local expected = cjson.decode(clean.body).choices[1].message.content
    local function fetch(faults, opts)
      local url, pid = support.serve("--faults=" .. faults)
      local pool = http.pool({ max_retries = 6, backoff_base = 0.01, backoff_max = 0.05 })
      local started = sys.now()
      local res = pool:perform({ { method = "POST", url = url .. "/chat/completions",
        headers = { ["content-type"] = "application/json" }, body = cjson.encode(CHAT),
        timeout = opts and opts.timeout } })[1]
      local took = sys.now() - started
      pool:close()
      sys.kill(pid, "TERM")
      return res, took
    end
    for _, faults in ipairs({ "content_type=1", "oversize=1", "html=0.5,seed=1", "429_bare=0.5,seed=2" }) do
      local res = fetch(faults)
      assert.equal(200, res.status, faults .. ": " .. tostring(res.error))
      assert.equal(expected, cjson.decode(res.body).choices[1].message.content, faults)
    end
    local big = fetch("oversize=1")
    assert.equal(4 << 20, #big.body)
    local slow, took = fetch("slow=1,slow_seconds=1.5")
    assert.equal(200, slow.status)
    assert.equal(expected, cjson.decode(slow.body).choices[1].message.content)
    assert.is_true(took >= 1.4, string.format("slow body arrived in %.2f s", took))
    -- a client whose timeout is shorter than the trickle gives up on that attempt and retries
    local cut = fetch("slow=1,slow_seconds=3", { timeout = 0.5 })
    assert.is_string(cut.error)
    assert.is_true(cut.attempts > 1)
  end)
end)
