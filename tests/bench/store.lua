-- Benchmark: the client's own cost on the study's path. 20,000 study-style decision requests (20
-- contexts, logprobs on, as the sim answers them) are answered by the simulated subject three
-- ways in the same run: (1) the subject alone, its API handler called directly (the floor: what
-- the request costs the subject); (2) the OpenAI client sending them through the in-process
-- transport and recording every response in a fresh response store; (3) the same from the
-- store (all cache hits). The requests go in 20 blocks of 1,000, and each block is timed the
-- three ways one after the other, so that the machine's load (shared, 2 cores) weighs on the
-- floor and on the client alike. Targets: (2) at most 1.5x the CPU of (1) per request, and the
-- store at most 600 bytes per response (file size after a checkpoint, beside the raw bodies' size).
-- (4), also per block: the store's mechanism alone on the same requests and replies, with no
-- client and no Lua per record beyond filling one row: the SHA-256 key, the zstd frame against
-- the store's dictionary, SQLite's insert with the pending log's append, and the commit of the
-- block. It is what any client of this store design pays however its Lua is written, printed
-- beside the target's allowance.
local cjson = require "cjson"
local sys = require "introspect.sys"
local sqlite = require "introspect.sqlite"

package.path = "tests/?.lua;" .. package.path
local S = require "sim_support"
local sim = require "introspect.sim"
local openai = require "introspect.client.openai"
local store = require "introspect.client.store"
local schema = require "introspect.client.store_schema"

local N = 20000
local bodies, texts = {}, {}
local contexts = S.contexts(20)
for c = 1, 20 do
  local t = S.trials(contexts[c], N // 20, 40 + c)
  for j = 1, N // 20 do
    bodies[#bodies + 1] = { model = "sim-large", temperature = 0, logprobs = true, top_logprobs = 2,
      messages = { { role = "system", content = S.SYSTEM },
        { role = "user", content = S.decision(contexts[c], t, j) } } }
    texts[#texts + 1] = cjson.encode(bodies[#bodies])
  end
end

local api = sim.api({})
local headers = { ["content-type"] = "application/json", authorization = "Bearer sk-sim" }
local path = os.tmpname()
local st = assert(store.open(path, { run = "bench" }))
local client = openai.new({ api_key = "sk-sim", base_url = "http://sim.invalid/v1",
  transport = sim.transport(sim.api({}), {}), store = st })
-- (4): a store of its own, its row filled and inserted as Store:record does (store.lua)
local floor_path = os.tmpname()
local fst = assert(store.open(floor_path, { run = "bench" }))
local POS = schema.POSITION[fst.version]
local function floor_block(first, last, replies)
  local row, base = fst.row, "http://floor.invalid/v1"
  assert(fst.db:exec("BEGIN IMMEDIATE"))
  for i = first, last do
    local res = replies[i - first + 1]
    local hdrs = cjson.encode(res.headers)
    local frame = fst.zdict and fst.zdict:compress(schema.lengths(texts[i], nil, res.body, hdrs), texts[i], "",
      res.body, hdrs) or require("introspect.zstd").compress(schema.content(texts[i], nil, res.body, hdrs))
    row[1], row[2], row[3], row[4] = schema.raw_key(store.key(base, "sim-large", texts[i], 0)), "bench", 0, base
    row[5], row[6], row[7], row[8] = "sim-large", 0, "POST", "/chat/completions"
    row[POS.status], row[POS.ok], row[POS.attempts], row[POS.latency] = res.status, 1, 1, 0.001
    row[POS.prompt_tokens], row[POS.completion_tokens], row[POS.dict], row[POS.bodies] = 165, 1, fst.dict_id, frame
    assert(fst.insert_stmt:insert(row, fst.ncolumns, fst.log))
  end
  assert(fst.db:exec("COMMIT"))
  assert(fst.log:truncate())
  if first == 1 then assert(fst:build_dictionary()) end   -- the client's store has one by now too
end
local BLOCK = 1000
local raw, subject, cpu, wall, errors, floor = 0, 0, { 0, 0 }, { 0, 0 }, 0, 0
for first = 1, N, BLOCK do
  local last = math.min(N, first + BLOCK - 1)
  -- (1) the subject alone
  local c0 = sys.cputime()
  local replies = {}
  for i = first, last do
    local res = api:handle({ method = "POST", path = "/v1/chat/completions", headers = headers, body = texts[i] })
    raw = raw + #res.body
    replies[i - first + 1] = res
  end
  subject = subject + sys.cputime() - c0
  -- (2) and (3): client + transport + store
  local block = table.move(bodies, first, last, 1, {})
  for pass = 1, 2 do
    local cpu0, wall0 = sys.cputime(), sys.now()
    local _, summary = client:chat_many(block)
    cpu[pass], wall[pass] = cpu[pass] + sys.cputime() - cpu0, wall[pass] + sys.now() - wall0
    errors = errors + summary.errors
  end
  -- (4) the store's mechanism alone
  local f0 = sys.cputime()
  floor_block(first, last, replies)
  floor = floor + sys.cputime() - f0
end
fst:close()
for _, suffix in ipairs({ "", "-wal", "-shm", "-pending" }) do os.remove(floor_path .. suffix) end
subject = subject / N
print(string.format("subject alone (api:handle): %.1f us CPU per request", subject * 1e6))
local results = {}
for pass, label in ipairs({ "sent and stored", "served from the store" }) do
  results[pass] = cpu[pass] / N
  print(string.format("client + sim transport + store, %s: %.1f us CPU per request (%.0f req/s, %d errors)",
    label, results[pass] * 1e6, N / wall[pass], pass == 1 and errors or 0))
end
local rows = #assert(st:records())
st:close()
local db = assert(sqlite.open(path))
db:exec("PRAGMA wal_checkpoint(TRUNCATE)")
db:close()
local f = assert(io.open(path, "rb"))
local bytes = f:seek("end")
f:close()
for _, suffix in ipairs({ "", "-wal", "-shm" }) do os.remove(path .. suffix) end
local req_bytes = 0
for i = 1, N do req_bytes = req_bytes + #texts[i] end
print(string.format("store: %d responses in %d bytes: %.0f bytes per response (raw request + response "
  .. "bodies: %.0f bytes per response); target <= 600", rows, bytes, bytes / rows, (raw + req_bytes) / N))
print(string.format("ratio: sending and storing %.2fx the subject's own CPU per request (target <= 1.5); "
  .. "from the store %.2fx", results[1] / subject, results[2] / subject))
print(string.format("floor: the store's mechanism alone (key, zstd frame, SQLite insert and pending log, commit; "
  .. "no client) %.1f us CPU per record: %.2fx the subject's CPU, against the %.2fx the target leaves for the "
  .. "client, its transport and the store together", floor / N * 1e6, floor / N / subject, 0.5))
