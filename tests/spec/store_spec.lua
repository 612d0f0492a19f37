-- introspect.client.store: keys, cache semantics, secrets, JSONL export, and survival of kill -9.
local store = require("introspect.client.store")
local sqlite = require("introspect.sqlite")
local cjson = require("cjson")
local fake = require("servers.fake")

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
    local db = assert(sqlite.open(p))
    local row = db:rows("SELECT request_headers, error FROM responses")[1]
    assert.is_nil(cjson.decode(row.request_headers).authorization)
    assert.truthy(row.error:find("[REDACTED]", 1, true))
    db:close()
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
    os.execute("kill -9 " .. pid)
    pipe:close()
    os.remove(script)
    local db = assert(sqlite.open(p))
    assert.are.equal("ok", db:rows("PRAGMA integrity_check")[1].integrity_check)
    local rows = db:rows("SELECT sample, length(request) AS n, response FROM responses ORDER BY sample")
    assert.is_true(#rows >= 21)
    for i, r in ipairs(rows) do
      assert.are.equal(i - 1, r.sample)
      assert.are.equal(2000, r.n)
      assert.are.equal('{"i": ' .. (i - 1) .. '}', r.response)
    end
    db:close()
    local st = assert(store.open(p))
    assert.truthy(st:lookup(store.key("u", "m", string.rep("x", 2000), 3), "u", "m", string.rep("x", 2000), 3))
    st:close()
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
