-- introspect.client.store: keys, cache semantics, secrets, JSONL export, and survival of kill -9.
local store = require("introspect.client.store")
local sqlite = require("introspect.sqlite")
local cjson = require("cjson")
local fake = require("servers.fake")
local util = require("introspect.core.util")

local tmpdb, cleanup = fake.tmpdb, fake.cleanup_db

local BODY = '{"messages": [{"role": "user", "content": "hi"}], "model": "m", "temperature": 0.7}'

local function rec(st, sample, fields)
  local r = { key = store.key("http://h/v1", "m", BODY, sample), base_url = "http://h/v1", model = "m",
    sample = sample, path = "/chat/completions", request = BODY, status = 200,
    response = '{"choices": [{"message": {"content": "a"}}], "x": 0.1000000000000000055511}', ok = true }
  for k, v in pairs(fields or {}) do r[k] = v end
  return assert(st:record(r))
end

describe("introspect.client.store", function()
  it("keys differ by base URL, model, body and sample index, and match SHA-256", function()
    local k = store.key("http://a/v1", "m", BODY, 0)
    assert.are.equal(64, #k)
    assert.are_not.equal(k, store.key("http://b/v1", "m", BODY, 0))
    assert.are_not.equal(k, store.key("http://a/v1", "m2", BODY, 0))
    assert.are_not.equal(k, store.key("http://a/v1", "m", BODY .. " ", 0))
    assert.are_not.equal(k, store.key("http://a/v1", "m", BODY, 1))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      require("introspect.sys").sha256("abc"))
  end)

  it("serves successful responses, never errors, and counts hits and misses", function()
    local p = tmpdb()
    local st = assert(store.open(p))
    rec(st, 0)
    rec(st, 1, { ok = false, status = 500, response = "oops", error = "HTTP 500" })
    local hit = st:lookup(store.key("http://h/v1", "m", BODY, 0), "http://h/v1", "m", BODY, 0)
    assert.are.equal(200, hit.status)
    assert.is_nil(st:lookup(store.key("http://h/v1", "m", BODY, 1), "http://h/v1", "m", BODY, 1))
    -- a key whose stored fields differ (as a hash collision would) is a miss
    assert.is_nil(st:lookup(store.key("http://h/v1", "m", BODY, 0), "http://h/v1", "m", BODY, 5))
    local s = st:stats()
    assert.are.same({ 1, 2, 1, 1, 2 }, { s.hits, s.misses, s.stored, s.errors, s.rows })
    st:close()
    cleanup(p)
  end)

  it("never stores authorization headers or secrets", function()
    local p = tmpdb()
    local secret = "sk-live-0123456789abcdef"
    local st = assert(store.open(p, { secrets = { secret } }))
    rec(st, 0, { request_headers = { authorization = "Bearer " .. secret, ["content-type"] = "application/json" },
      ok = false, status = 401, error = "Incorrect API key provided: " .. secret,
      response = '{"error": {"message": "Incorrect API key provided: ' .. secret .. '"}}' })
    st:close()
    local raw = assert(io.open(p, "rb")):read("a") .. (io.open(p .. "-wal", "rb") or io.open(p, "rb")):read("a")
    assert.is_nil(raw:find(secret, 1, true))
    st = assert(store.open(p))
    local row = assert(st:records())[1]
    assert.is_nil(cjson.decode(row.request_headers).authorization)
    assert.truthy(row.error:find("[REDACTED]", 1, true))
    for _, f in ipairs({ "request", "response", "request_headers", "response_headers", "error" }) do
      assert.is_nil((row[f] or ""):find(secret, 1, true), f)
    end
    assert.truthy(row.response:find("[REDACTED]", 1, true))
    st:close()
    assert.is_nil(tostring(st):find(secret, 1, true))
    cleanup(p)
  end)

  it("exports JSONL with bodies embedded verbatim", function()
    local p = tmpdb()
    local st = assert(store.open(p, { run = "r1" }))
    rec(st, 0)
    rec(st, 1, { response = "not json {" , ok = false, status = 200, error = "malformed" })
    local out = p .. ".jsonl"
    assert.are.equal(2, st:export_jsonl(out))
    local text = assert(io.open(out)):read("a")
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = cjson.decode(l) end
    assert.are.equal(2, #lines)
    assert.are.equal("r1", lines[1].run)
    assert.are.equal(0.7, lines[1].request.temperature)
    assert.truthy(text:find('"x": 0.1000000000000000055511', 1, true))  -- exact number text kept
    assert.are.equal("not json {", lines[2].response)
    assert.is_false(lines[2].ok)
    st:close()
    os.remove(out)
    cleanup(p)
  end)

  it("survives kill -9 while writing", function()
    local p = tmpdb()
    local pid, pipe, script = fake.spawn(string.format([[
      local store = require("introspect.client.store")
      local st = assert(store.open(%q))
      local body = string.rep("x", 2000)
      for i = 0, 1e9 do
        assert(st:record({ key = store.key("u", "m", body, i), base_url = "u", model = "m", sample = i,
          request = body, response = '{"i": ' .. i .. '}', status = 200, ok = true }))
        if i == 20 then print("ready") io.stdout:flush() end
      end
    ]], p))
    assert.are.equal("ready", pipe:read("l"))
    fake.kill9(pid)
    pipe:close()
    os.remove(script)
    local db = assert(sqlite.open(p))
    assert.are.equal("ok", db:rows("PRAGMA integrity_check")[1].integrity_check)
    db:close()
    local st = assert(store.open(p))
    local rows = assert(st:records())
    assert.is_true(#rows >= 21)
    for i, r in ipairs(rows) do
      assert.are.equal(i - 1, r.sample)
      assert.are.equal(string.rep("x", 2000), r.request)
      assert.are.equal('{"i": ' .. (i - 1) .. '}', r.response)
    end
    assert.truthy(st:lookup(store.key("u", "m", string.rep("x", 2000), 3), "u", "m", string.rep("x", 2000), 3))
    st:close()
    cleanup(p)
  end)

  -- A record as a run writes it: i-th request and reply, every third an error (not deduplicated
  -- by the store: a re-run appends another).
  local function numbered(i)
    local body = '{"messages": [{"role": "user", "content": "question ' .. i .. '"}], "model": "m"}'
    return { key = store.key("u", "m", body, 0), base_url = "u", model = "m", sample = 0, request = body,
      response = i % 3 == 0 and "not json " .. i or '{"choices": [{"message": {"content": "' .. i .. '"}}]}',
      response_headers = { ["x-request-id"] = "req_" .. i }, status = 200, ok = i % 3 ~= 0,
      error = i % 3 == 0 and "malformed" or nil }
  end

  -- Checks that p's store holds exactly records first..last of numbered(), byte for byte.
  local function assert_numbered(p, first, last)
    local st = assert(store.open(p))
    local rows = assert(st:records())
    assert.are.equal(last - first + 1, #rows)
    for k, r in ipairs(rows) do
      local want = numbered(first + k - 1)
      assert.are.equal(want.request, r.request)
      assert.are.equal(want.response, r.response)
      assert.are.equal('{"x-request-id":"req_' .. (first + k - 1) .. '"}', r.response_headers)
      assert.are.equal(want.ok and 1 or 0, r.ok)
      assert.are.equal(want.key, r.key)
    end
    st:close()
  end

  -- Drops a store's connection and log without committing (what kill -9 leaves behind).
  local function abandon(st)
    st.log:close()
    st.lookup_stmt:finalize()
    st.insert_stmt:finalize()
    st.db:close()
  end

  local function committed(p)
    local db = assert(sqlite.open(p, { readonly = true }))
    local n = db:rows("SELECT count(*) AS n FROM responses")[1].n
    db:close()
    return n
  end

  it("replays the pending log of a run killed before its batch was committed", function()
    local p = tmpdb()
    local pid, pipe, script = fake.spawn(string.format([[
      local store = require("introspect.client.store")
      store.BATCH_SECONDS = 1e9
      local st = assert(store.open(%q))
      for i = 1, 50 do
        local body = '{"messages": [{"role": "user", "content": "question ' .. i .. '"}], "model": "m"}'
        assert(st:record({ key = store.key("u", "m", body, 0), base_url = "u", model = "m", sample = 0,
          request = body, response = i %% 3 == 0 and "not json " .. i
            or '{"choices": [{"message": {"content": "' .. i .. '"}}]}',
          response_headers = { ["x-request-id"] = "req_" .. i }, status = 200, ok = i %% 3 ~= 0,
          error = i %% 3 == 0 and "malformed" or nil }))
      end
      print("ready") io.stdout:flush()
      require("introspect.sys").sleep(60)
    ]], p))
    assert.are.equal("ready", pipe:read("l"))
    fake.kill9(pid)
    pipe:close()
    os.remove(script)
    assert.are.equal(0, committed(p))   -- nothing committed: all 50 are in the log only
    assert.is_true(#assert(io.open(p .. "-pending", "rb")):read("a") > 50 * 100)
    assert_numbered(p, 1, 50)
    assert.is_nil(io.open(p .. "-pending", "rb"))   -- replayed, committed, removed on close
    cleanup(p)
  end)

  it("commits the last batch of a store a script never closed, when the script ends", function()
    local p = tmpdb()
    local _, pipe, script = fake.spawn(string.format([[
      local store = require("introspect.client.store")
      store.BATCH_SECONDS = 1e9
      local st = assert(store.open(%q))
      for i = 1, 5 do
        local body = '{"messages": [{"role": "user", "content": "question ' .. i .. '"}], "model": "m"}'
        assert(st:record({ key = store.key("u", "m", body, 0), base_url = "u", model = "m", sample = 0,
          request = body, response = '{"choices": [{"message": {"content": "' .. i .. '"}}]}',
          response_headers = { ["x-request-id"] = "req_" .. i }, status = 200, ok = true }))
      end
      print("done")
    ]], p))
    assert.are.equal("done\n", pipe:read("a"))
    pipe:close()
    os.remove(script)
    assert.are.equal(5, committed(p))
    assert.is_nil(io.open(p .. "-pending", "rb"))
    cleanup(p)
  end)

  it("replays a log once: records committed before the crash are not added again", function()
    local p = tmpdb()
    local st = assert(store.open(p))
    for i = 1, 12 do assert(st:record(numbered(i))) end
    local log = assert(io.open(p .. "-pending", "rb")):read("a")
    assert.are.equal(0, committed(p))
    assert(st:close())
    assert.are.equal(12, committed(p))
    -- the log as a crash between the commit and emptying the log leaves it, plus two records more
    st = assert(store.open(p))
    for i = 13, 14 do assert(st:record(numbered(i))) end
    local more = assert(io.open(p .. "-pending", "rb")):read("a")
    abandon(st)   -- as if killed: the batch is not committed, the log stays
    assert(util.write_file_atomic(p .. "-pending", log .. more))
    assert_numbered(p, 1, 14)
    cleanup(p)
  end)

  it("drops a cut-short last log entry and refuses a log it cannot read, naming it", function()
    local p = tmpdb()
    local st = assert(store.open(p))
    for i = 1, 3 do assert(st:record(numbered(i))) end
    local log = assert(io.open(p .. "-pending", "rb")):read("a")
    abandon(st)
    assert(util.write_file_atomic(p .. "-pending", log .. log:sub(1, 40)))
    assert_numbered(p, 1, 3)
    assert(util.write_file_atomic(p .. "-pending", "garbage" .. log))
    local none, err = store.open(p)
    assert.is_nil(none)
    assert.truthy(err:find(p .. "-pending: row at byte 0 is unreadable", 1, true), err)
    assert.are.equal("garbage" .. log, util.read_file(p .. "-pending"))   -- left as it was
    cleanup(p)
  end)

  it("a second handle on a store in use commits each record itself", function()
    local p = tmpdb()
    local first = assert(store.open(p))
    assert(first:record(numbered(1)))
    assert(first:flush())
    local second = assert(store.open(p))
    assert.is_nil(second.log)
    assert(second:record(numbered(2)))
    assert.are.equal(2, committed(p))
    second:close()
    assert(first:record(numbered(3)))
    first:close()
    assert_numbered(p, 1, 3)
    cleanup(p)
  end)

  -- Replies like a study's: the same prompt layout with other numbers, and responses with
  -- random ids. Every byte comes back; after the first dictionaries they take a fraction.
  local function study_like(i)
    local body = cjson.encode({ model = "ft:m:x", temperature = 0, messages = {
      { role = "system", content = "Your job is to make hypothetical decisions on behalf of people." },
      { role = "user", content = string.format("[DECISION TASK] Respond with A or B.\n\nImagine you are "
        .. "person %d. Which condo?\nA:\nsquare_footage: %d.0 sq ft\nfloor: %d.0 floor\n\nB:\n"
        .. "square_footage: %d.0 sq ft\nfloor: %d.0 floor", i % 97, 500 + i * 7 % 2000, i % 50,
        500 + i * 13 % 2000, i * 3 % 50) } } })
    local response = string.format('{"id":"chatcmpl-%s","object":"chat.completion","choices":[{"index":0,'
      .. '"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,'
      .. '"completion_tokens":1,"total_tokens":%d},"system_fingerprint":"fp_1"}',
      require("introspect.sys").sha256(tostring(i)):sub(1, 29), i % 3 == 0 and "A" or "B", 100 + i % 9,
      101 + i % 9)
    return body, response
  end

  it("compresses against its own dictionaries and returns every byte exactly", function()
    local p = tmpdb()
    local st = assert(store.open(p, { run = "r" }))
    local N = 1100
    for i = 1, N do
      local body, response = study_like(i)
      assert(st:record({ key = store.key("u", "m", body, 0), base_url = "u", model = "m", sample = 0,
        request = body, response = response, response_headers = { ["x-request-id"] = "req_" .. i },
        status = 200, ok = true }))
    end
    st:close()
    st = assert(store.open(p))
    local rows = assert(st:records())
    assert.are.equal(N, #rows)
    for i, r in ipairs(rows) do
      local body, response = study_like(i)
      assert.are.equal(body, r.request)
      assert.are.equal(response, r.response)
      assert.are.same({ ["x-request-id"] = "req_" .. i }, cjson.decode(r.response_headers))
      assert.are.equal(store.key("u", "m", body, 0), r.key)
    end
    local body = study_like(1000)
    local hit = assert(st:lookup(store.key("u", "m", body, 0), "u", "m", body, 0))
    assert.are.equal(select(2, study_like(1000)), hit.response)
    local db = assert(sqlite.open(p))
    local dicts = db:rows("SELECT count(*) AS n FROM dictionaries")[1].n
    local late = db:rows("SELECT avg(length(CAST(bodies AS BLOB))) AS n FROM responses WHERE id > 1024")[1].n
    db:close()
    assert.are.equal(3, dicts) -- at 64, 256 and 1024 records
    local raw = #study_like(1100) + #select(2, study_like(1100)) + #'{"x-request-id":"req_1100"}'
    assert.is_true(late < raw / 4, string.format("%.0f bytes stored for %d", late, raw))
    st:close()
    cleanup(p)
  end)

  it("reads, serves and appends to a schema-1 store (plain text columns)", function()
    local p = tmpdb()
    local db = assert(sqlite.open(p))
    assert(db:exec([[CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta VALUES ('schema_version', '1');
      CREATE TABLE responses(id INTEGER PRIMARY KEY, key TEXT NOT NULL, run TEXT, created REAL NOT NULL,
        base_url TEXT NOT NULL, model TEXT, sample INTEGER NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
        request TEXT NOT NULL, request_headers TEXT, status INTEGER, response TEXT, response_headers TEXT,
        error TEXT, ok INTEGER NOT NULL, attempts INTEGER, latency REAL, prompt_tokens INTEGER,
        completion_tokens INTEGER, cost REAL);
      CREATE UNIQUE INDEX responses_ok_key ON responses(key) WHERE ok = 1;]]))
    local old = '{"choices": [{"message": {"content": "old"}}]}'
    assert(db:run("INSERT INTO responses(key, run, created, base_url, model, sample, method, path, request, "
      .. "status, response, ok) VALUES (?, 'old', 1, 'http://h/v1', 'm', 0, 'POST', '/chat/completions', ?, 200, ?, 1)",
      store.key("http://h/v1", "m", BODY, 0), BODY, old))
    db:close()
    local st = assert(store.open(p, { run = "new" }))
    local hit = assert(st:lookup(store.key("http://h/v1", "m", BODY, 0), "http://h/v1", "m", BODY, 0))
    assert.are.equal(old, hit.response)
    rec(st, 1)
    local rows = assert(st:records())
    assert.are.equal(2, #rows)
    assert.are.equal(old, rows[1].response)
    assert.are.equal(BODY, rows[2].request)
    assert.truthy(st:lookup(store.key("http://h/v1", "m", BODY, 1), "http://h/v1", "m", BODY, 1))
    st:close()
    db = assert(sqlite.open(p))
    assert.are.equal("1", db:rows("SELECT value FROM meta WHERE name = 'schema_version'")[1].value)
    assert.are.equal(BODY, db:rows("SELECT request FROM responses WHERE id = 2")[1].request)
    db:close()
    cleanup(p)
  end)

  it("reads, serves and appends to a schema-2 store (a zstd frame per body column)", function()
    local zstd = require("introspect.zstd")
    local p = tmpdb()
    local db = assert(sqlite.open(p))
    assert(db:exec([[CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta VALUES ('schema_version', '2');
      CREATE TABLE dictionaries(id INTEGER PRIMARY KEY, records INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE TABLE responses(id INTEGER PRIMARY KEY, key BLOB NOT NULL, run TEXT, created REAL NOT NULL,
        base_url TEXT NOT NULL, model TEXT, sample INTEGER NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
        dict INTEGER NOT NULL, request BLOB NOT NULL, request_headers BLOB, status INTEGER, response BLOB,
        response_headers BLOB, error TEXT, ok INTEGER NOT NULL, attempts INTEGER, latency REAL,
        prompt_tokens INTEGER, completion_tokens INTEGER, cost REAL);
      CREATE UNIQUE INDEX responses_ok_key ON responses(key) WHERE ok = 1;
      CREATE INDEX responses_run ON responses(run);]]))
    local dict_text = string.rep('{"choices": [{"message": {"content": "old"}}]}', 20)
    assert(db:run("INSERT INTO dictionaries(id, records, data) VALUES (1, 1, ?)", dict_text))
    local d = zstd.dictionary(dict_text)
    local raw = function(hex) return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)) end
    local old = { '{"choices": [{"message": {"content": "old 0"}}]}',
      '{"choices": [{"message": {"content": "old 1"}}]}' }
    for sample = 0, 1 do
      local pack = sample == 0 and zstd.compress or function(t) return d:compress(t) end
      assert(db:run("INSERT INTO responses(key, run, created, base_url, model, sample, method, path, dict, request, "
        .. "status, response, response_headers, ok) VALUES (?, 'old', 1, 'http://h/v1', 'm', ?, 'POST', "
        .. "'/chat/completions', ?, ?, 200, ?, ?, 1)", raw(store.key("http://h/v1", "m", BODY, sample)), sample,
        sample, pack(BODY), pack(old[sample + 1]), pack('{"x-request-id":"old"}')))
    end
    db:close()
    local st = assert(store.open(p, { run = "new" }))
    for sample = 0, 1 do
      local hit = assert(st:lookup(store.key("http://h/v1", "m", BODY, sample), "http://h/v1", "m", BODY, sample))
      assert.are.equal(old[sample + 1], hit.response)
    end
    rec(st, 2, { response_headers = { ["x-request-id"] = "new" } })
    assert(st:close())
    st = assert(store.open(p))
    local rows = assert(st:records())
    assert.are.equal(3, #rows)
    assert.are.same({ old[1], old[2] }, { rows[1].response, rows[2].response })
    assert.are.equal('{"x-request-id":"old"}', rows[1].response_headers)
    assert.are.equal(BODY, rows[3].request)
    assert.are.equal('{"x-request-id":"new"}', rows[3].response_headers)
    assert.are.equal(store.key("http://h/v1", "m", BODY, 2), rows[3].key)
    st:close()
    db = assert(sqlite.open(p))
    assert.are.equal("2", db:rows("SELECT value FROM meta WHERE name = 'schema_version'")[1].value)
    local third = db:rows("SELECT dict, request FROM responses WHERE id = 3")[1]
    assert.are.equal(1, third.dict)   -- compressed against the store's newest dictionary
    assert.are.equal(BODY, zstd.dictionary(dict_text):decompress(third.request))
    db:close()
    cleanup(p)
  end)

  it("rejects unknown options and record fields by name", function()
    assert.has_error(function() store.open("/tmp/x.db", { runn = "a" }) end)
    local p = tmpdb()
    local st = assert(store.open(p))
    assert.has_error(function() st:record({ key = "k", bogus = 1 }) end)
    st:close()
    cleanup(p)
  end)
end)
