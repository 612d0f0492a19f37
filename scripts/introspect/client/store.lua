-- The response store: every request and response of a run in SQLite (WAL mode), keyed by a
-- hash of (base URL, model, full request body, sample index). Successful responses double as a
-- cache; errors are recorded but never served from the cache. Each record is its own committed
-- transaction, so a run killed at any moment (kill -9) keeps everything it had received.
local sqlite = require("introspect.sqlite")
local sys = require("introspect.sys")
local cjson = require("cjson")
local util = require("introspect.core.util")
local apierror = require("introspect.client.apierror")

local M = {}

M.SCHEMA_VERSION = 1

local SCHEMA = [[
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS responses(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  run TEXT,
  created REAL NOT NULL,
  base_url TEXT NOT NULL,
  model TEXT,
  sample INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  request TEXT NOT NULL,
  request_headers TEXT,
  status INTEGER,
  response TEXT,
  response_headers TEXT,
  error TEXT,
  ok INTEGER NOT NULL,
  attempts INTEGER,
  latency REAL,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  cost REAL);
CREATE UNIQUE INDEX IF NOT EXISTS responses_ok_key ON responses(key) WHERE ok = 1;
CREATE INDEX IF NOT EXISTS responses_run ON responses(run);
]]

-- Request headers never stored (credentials).
M.SECRET_HEADERS = { authorization = true, ["proxy-authorization"] = true, ["api-key"] = true,
  ["x-api-key"] = true, cookie = true, ["set-cookie"] = true }

local Store = {}
Store.__index = Store

-- key(base_url, model, body, sample) -> 64-hex SHA-256 of the length-prefixed fields.
function M.key(base_url, model, body, sample)
  local parts = { "introspect-store-v1", base_url, model or "", tostring(sample or 0), body }
  local buf = {}
  for i, p in ipairs(parts) do buf[i] = #p .. ":" .. p end
  return sys.sha256(table.concat(buf, "\n"))
end

-- open(path [, {run=, secrets=}]) -> store | nil, err
-- run: a label stored with each record; secrets: strings (API keys) scrubbed from everything
-- written.
function M.open(path, opts)
  opts = util.check_options("store.open", opts, { run = "string", secrets = "table" })
  local db, err = sqlite.open(path, { busy_timeout = 10000 })
  if not db then return nil, "store: " .. err end
  local ok, serr = db:exec(SCHEMA)
  if not ok then db:close() return nil, "store: " .. path .. ": " .. serr end
  local rows = db:rows("SELECT value FROM meta WHERE name = 'schema_version'")
  if rows and rows[1] and tonumber(rows[1].value) ~= M.SCHEMA_VERSION then
    db:close()
    return nil, string.format("store: %s has schema version %s, expected %d", path, rows[1].value,
      M.SCHEMA_VERSION)
  end
  db:run("INSERT OR IGNORE INTO meta(name, value) VALUES ('schema_version', ?)",
    tostring(M.SCHEMA_VERSION))
  local s = setmetatable({ db = db, path = path, run = opts.run, hits = 0, misses = 0,
    stored = 0, errors = 0 }, Store)
  -- secrets live in a closure, not a field, so printing the store never shows them
  local secrets = {}
  for _, v in ipairs(opts.secrets or {}) do secrets[#secrets + 1] = v end
  s.scrub = function(text) return apierror.scrub(text, secrets) end
  s.lookup_stmt = assert(db:prepare(
    "SELECT * FROM responses WHERE key = ? AND ok = 1"))
  s.insert_stmt = assert(db:prepare([[INSERT OR IGNORE INTO responses(key, run, created, base_url,
      model, sample, method, path, request, request_headers, status, response, response_headers,
      error, ok, attempts, latency, prompt_tokens, completion_tokens, cost)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]]))
  return s
end

-- store:add_secret(s): scrubs s from everything written from now on.
function Store:add_secret(secret)
  local previous = self.scrub
  self.scrub = function(text) return apierror.scrub(previous(text), { secret }) end
end

-- store:lookup(key, base_url, model, body, sample) -> record | nil
-- A cached successful response for the key whose stored fields match exactly (so a hash
-- collision can never serve a wrong answer). Counts a hit or a miss.
function Store:lookup(key, base_url, model, body, sample)
  local st = self.lookup_stmt
  st:bind(key)
  local rec
  if st:step() == "row" then rec = st:row() end
  st:reset()
  if rec and rec.base_url == base_url and (rec.model or "") == (model or "")
    and rec.sample == (sample or 0) and rec.request == self.scrub(body) then
    self.hits = self.hits + 1
    return rec
  end
  self.misses = self.misses + 1
  return nil
end

local function headers_json(headers, scrub, strip)
  if not headers then return nil end
  local kept = {}
  for k, v in pairs(headers) do
    if not (strip and M.SECRET_HEADERS[k:lower()]) then kept[k] = scrub(v) end
  end
  return cjson.encode(kept)
end

local RECORD_FIELDS = { key = "string", base_url = "string", model = "string", sample = "integer",
  method = "string", path = "string", request = "string", request_headers = "table",
  status = "integer", response = "string", response_headers = "table", error = "string",
  ok = "boolean", attempts = "integer", latency = "number", prompt_tokens = "integer",
  completion_tokens = "integer", cost = "number" }

-- store:record{key=, base_url=, model=, sample=, method=, path=, request=, request_headers=,
-- status=, response=, response_headers=, error=, ok=, attempts=, latency=, prompt_tokens=,
-- completion_tokens=, cost=} -> id | nil, err
-- Writes one record in its own transaction. Authorization headers are dropped and secrets
-- scrubbed. Only ok=true records are served by lookup (a duplicate ok key is ignored).
function Store:record(r)
  util.check_options("store:record", r, RECORD_FIELDS)
  local scrub = self.scrub
  local st = self.insert_stmt
  local bound, berr = st:bind(r.key, self.run, os.time(), scrub(r.base_url), r.model, r.sample or 0,
    r.method or "POST", r.path or "", scrub(r.request or ""), headers_json(r.request_headers, scrub, true), r.status,
    r.response and scrub(r.response), headers_json(r.response_headers, scrub, true),
    r.error and scrub(r.error), r.ok and 1 or 0, r.attempts, r.latency, r.prompt_tokens,
    r.completion_tokens, r.cost)
  local step, err
  if bound then step, err = st:step() end
  st:reset()
  if step ~= "done" then return nil, "store: " .. self.path .. ": " .. tostring(berr or err) end
  local id = self.db:last_insert_rowid()
  if r.ok then self.stored = self.stored + 1 else self.errors = self.errors + 1 end
  return id
end

-- store:stats() -> {hits=, misses=, stored=, errors=, rows=, retried=, retries=}
-- retried: stored responses that needed more than one attempt; retries: the extra attempts (over
-- the whole store, so a resumed run counts its earlier sessions too).
function Store:stats()
  local rows = self.db:rows("SELECT count(*) AS n, count(CASE WHEN attempts > 1 THEN 1 END) AS retried, "
    .. "coalesce(sum(CASE WHEN attempts > 1 THEN attempts - 1 END), 0) AS retries FROM responses")
  local r = rows and rows[1] or {}
  return { hits = self.hits, misses = self.misses, stored = self.stored, errors = self.errors,
    rows = r.n or 0, retried = r.retried or 0, retries = r.retries or 0 }
end

-- Returns text as raw JSON when it is valid JSON (newlines outside strings made spaces), else
-- as a JSON string.
local function raw_or_string(text)
  if text == nil then return "null" end
  local ok = pcall(cjson.decode, text)
  if ok then return (text:gsub("[\r\n]", " ")) end
  return cjson.encode(text)
end

local EXPORT_COLUMNS = { "id", "key", "run", "created", "base_url", "model", "sample", "method",
  "path", "status", "ok", "error", "attempts", "latency", "prompt_tokens", "completion_tokens",
  "cost" }

-- store:export_jsonl(path [, {run=}]) -> count | nil, err
-- One JSON object per record; request and response bodies are embedded verbatim when they are
-- JSON (numbers keep their exact text), else as strings. Written atomically.
function Store:export_jsonl(path, opts)
  opts = util.check_options("store:export_jsonl", opts, { run = "string" })
  local rows, err
  if opts.run then
    rows, err = self.db:rows("SELECT * FROM responses WHERE run = ? ORDER BY id", opts.run)
  else
    rows, err = self.db:rows("SELECT * FROM responses ORDER BY id")
  end
  if not rows then return nil, "store: " .. tostring(err) end
  local lines = {}
  for i, r in ipairs(rows) do
    local parts = {}
    for _, c in ipairs(EXPORT_COLUMNS) do
      local v = r[c]
      if c == "ok" then v = v == 1 end
      if v ~= nil then parts[#parts + 1] = cjson.encode(c) .. ":" .. cjson.encode(v) end
    end
    parts[#parts + 1] = '"request":' .. raw_or_string(r.request)
    parts[#parts + 1] = '"response":' .. raw_or_string(r.response)
    if r.response_headers then parts[#parts + 1] = '"response_headers":' .. r.response_headers end
    lines[i] = "{" .. table.concat(parts, ",") .. "}\n"
  end
  local ok, werr = util.write_file_atomic(path, table.concat(lines))
  if not ok then return nil, werr end
  return #rows
end

-- store:close() -> true
function Store:close()
  for _, k in ipairs({ "lookup_stmt", "insert_stmt" }) do
    if self[k] then self[k]:finalize() end
    self[k] = nil
  end
  if self.db then self.db:close() end
  self.db = nil
  return true
end

function Store:__tostring()
  return string.format("response store %s (%d hits, %d misses)", self.path, self.hits, self.misses)
end

Store.__close = Store.close

return M
