-- The response store: every request and response of a run in SQLite (WAL mode), keyed by a
-- hash of (base URL, model, full request body, sample index). Successful responses double as a
-- cache; errors are recorded but never served from the cache.
--
-- Durability without a commit per record: records go into one open transaction, committed every
-- BATCH records or BATCH_SECONDS (and by store:flush() and store:close()); each record's row is
-- also appended to the pending log DB-pending (sqlite.log: one write(2) of the values bound)
-- before store:record returns, and a store opened after a crash (kill -9) replays that log
-- first, so nothing reported stored is lost. A store whose log another live process holds commits each
-- record on its own.
--
-- Schema 3 (new stores) keeps a record's four bodies (request, response and their headers) as
-- one zstd frame (column `bodies`: their lengths, then the bodies) compressed against a
-- dictionary of earlier records of the same store (rebuilt from an even sample of the records at
-- 64, 256, 1024, 4096 and 16384 records; each row names its dictionary, 0 for none), and the
-- key as its 32 raw bytes. Every byte of every reply is kept; `store:records()` reads them back.
-- Schema 2 stores (a frame per body column) and schema 1 stores (plain text columns, hex keys)
-- open, read and append in their own layout.
local sqlite = require("introspect.sqlite")
local sys = require("introspect.sys")
local zstd = require("introspect.zstd")
local cjson = require("cjson")
local util = require("introspect.core.util")
local apierror = require("introspect.client.apierror")
local schema = require("introspect.client.store_schema")

local M = {}

M.SCHEMA_VERSION = #schema.SQL
-- a commit after this many records, or once the oldest uncommitted one is this old
M.BATCH, M.BATCH_SECONDS = 1000, 1.0

-- record counts at which a new dictionary is built, and how many records it samples
local DICT_AT = { [64] = true, [256] = true, [1024] = true, [4096] = true, [16384] = true }
local DICT_SAMPLE = 64
-- zstd level of the frames compressed against a dictionary: level 1 measured 7% fewer
-- instructions and 5% smaller frames than level 3 on the study's records (callgrind)
local DICT_LEVEL = 1

-- Request headers never stored (credentials).
M.SECRET_HEADERS = { authorization = true, ["proxy-authorization"] = true, ["api-key"] = true,
  ["x-api-key"] = true, cookie = true, ["set-cookie"] = true }

local Store = {}
Store.__index = Store

local SECRETS = setmetatable({}, { __mode = "k" })   -- store -> secrets scrubbed (not a field)

-- plain(secrets) -> whether no secret holds a character JSON escapes (or may: control
-- characters, '"', '\\', '/')
local function plain(secrets)
  for _, s in ipairs(secrets) do if s:find('[%c"\\/]') then return false end end
  return true
end

-- key(base_url, model, body, sample) -> 64-hex SHA-256 of the length-prefixed fields
-- ("19:introspect-store-v1", base URL, model, sample index, body; "\n" between them).
function M.key(base_url, model, body, sample)
  model = model or ""
  local index = tostring(sample or 0)
  -- the pieces hashed as one text, not joined into a copy of the body first
  return sys.sha256("19:introspect-store-v1\n", #base_url, ":", base_url, "\n", #model, ":", model,
    "\n", #index, ":", index, "\n", #body, ":", body)
end

-- The key as stored: raw bytes from schema 2 on, hex text in schema 1.
local function stored_key(self, key)
  if self.version == 1 then return key end
  return schema.raw_key(key)
end

-- dictionary(self, id) -> zstd dictionary handle (loaded once) | nil, err
local function dictionary(self, id)
  local d = self.dicts[id]
  if d then return d end
  local rows = self.db:rows("SELECT data FROM dictionaries WHERE id = ?", id)
  if not rows or not rows[1] then return nil, "store: " .. self.path .. ": dictionary " .. id .. " is missing" end
  d = zstd.dictionary(rows[1].data, DICT_LEVEL)
  self.dicts[id] = d
  return d
end

-- frame(self, request, request_headers, response, response_headers) -> the schema-3 zstd
-- frame of schema.content(...), against the newest dictionary (concatenated in C, no Lua copy)
local function frame(self, a, b, c, d)
  local z = self.zdict
  if not z then return zstd.compress(schema.content(a, b, c, d)) end
  return z:compress(schema.lengths(a, b, c, d), a or "", b or "", c or "", d or "")
end

-- decode(self, row) -> row with the stored body columns as text and the key as hex | nil, err
local function decode(self, row)
  if self.version == 1 or row.dict == nil then return row end
  local d, err
  if row.dict ~= 0 then
    d, err = dictionary(self, row.dict)
    if not d then return nil, err end
  end
  local fields = row.bodies and { "bodies" } or schema.BODIES
  for _, f in ipairs(fields) do
    if row[f] then
      local text, zerr
      if d then text, zerr = d:decompress(row[f]) else text, zerr = zstd.decompress(row[f]) end
      if text and f == "bodies" then
        local ok, perr = pcall(schema.unpack_bodies, row, text)
        if not ok then text, zerr = nil, perr end
      end
      if not text then
        return nil, string.format("store: %s: record %d: %s unreadable (%s)", self.path, row.id, f, zerr)
      end
      if f ~= "bodies" then row[f] = text end
    end
  end
  row.key = schema.hex_key(row.key)
  row.dict, row.bodies = nil, nil
  return row
end

-- begin(self) -> true | nil, err: opens the batch transaction unless one is open.
local function begin(self)
  if self.in_txn then return true end
  local ok, err = self.db:exec("BEGIN IMMEDIATE")
  if not ok then return nil, err end
  self.in_txn, self.txn_started, self.pending = true, sys.now(), 0
  return true
end

-- fail(self, err) -> nil, message: the store refuses every write from now on (a failed commit or
-- log write); what the log holds is replayed by the next open.
local function fail(self, err)
  if self.in_txn then self.db:exec("ROLLBACK") end
  self.in_txn = false
  self.failed = "store: " .. self.path .. ": " .. err
  return nil, self.failed
end

-- replay(self) -> true | nil, err: inserts the pending log's records not yet in the store (a
-- crash between a commit and emptying the log leaves some there: same id and key), commits,
-- and empties the log.
local function replay(self)
  local where = self.path .. "-pending"
  local entries, err = self.log:rows()
  if not entries then return nil, "store: " .. err end
  if #entries == 0 then return true end
  local n = #schema.COLUMNS[self.version]
  for _, e in ipairs(entries) do
    if e.n ~= n then return nil, string.format("store: %s: a row of %d values, not %d", where, e.n, n) end
  end
  local ok, berr = begin(self)
  if not ok then return nil, "store: " .. self.path .. ": " .. berr end
  for _, e in ipairs(entries) do
    local rows, rerr = self.db:rows("SELECT key FROM responses WHERE id = ?", e.id)
    if not rows then return fail(self, "replaying " .. where .. ": " .. tostring(rerr)) end
    if not (rows[1] and rows[1].key == e.values[1]) then
      local st, id = self.insert_stmt, e.id
      if rows[1] then id = nil end   -- the id went to another record: a new one
      local bound, serr = st:bind(id, table.unpack(e.values, 1, n))
      local step
      if bound then step, serr = st:step() end
      st:reset()
      if step ~= "done" then return fail(self, "replaying " .. where .. ": " .. tostring(serr)) end
    end
  end
  return self:flush()
end

-- open(path [, {run=, secrets=}]) -> store | nil, err
-- run: a label stored with each record; secrets: strings (API keys) scrubbed from everything
-- written. A new store gets schema 3; a schema-1 or -2 store is read and appended to as it is.
-- Replays the pending log of a run that died (unless a live process holds it).
function M.open(path, opts)
  opts = util.check_options("store.open", opts, { run = "string", secrets = "table" })
  local db, err = sqlite.open(path, { busy_timeout = 10000 })
  if not db then return nil, "store: " .. err end
  local ok, serr = db:exec("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
  local rows = ok and db:rows("SELECT value FROM meta WHERE name = 'schema_version'")
  if not rows then db:close() return nil, "store: " .. path .. ": " .. tostring(serr) end
  local version = rows[1] and tonumber(rows[1].value) or M.SCHEMA_VERSION
  if not schema.SQL[version] then
    db:close()
    return nil, string.format("store: %s has schema version %s, expected 1 to %d", path, rows[1].value,
      M.SCHEMA_VERSION)
  end
  ok, serr = db:exec(schema.SQL[version])
  if not ok then db:close() return nil, "store: " .. path .. ": " .. serr end
  db:run("INSERT OR IGNORE INTO meta(name, value) VALUES ('schema_version', ?)", tostring(version))
  local s = { db = db, path = path, run = opts.run, hits = 0, misses = 0,
    stored = 0, errors = 0, version = version, dicts = {}, dict_id = 0, in_txn = false, pending = 0,
    row = {}, ncolumns = #schema.COLUMNS[version] }
  local secrets = {}
  for _, v in ipairs(opts.secrets or {}) do secrets[#secrets + 1] = v end
  s.scrub = function(text) return apierror.scrub(text, secrets) end
  s.lookup_stmt = assert(db:prepare("SELECT * FROM responses WHERE key = ? AND ok = 1"))
  local columns = schema.COLUMNS[version]
  s.insert_stmt = assert(db:prepare(string.format("INSERT OR IGNORE INTO responses(id, %s) VALUES (?%s)",
    table.concat(columns, ", "), string.rep(", ?", #columns))))
  local log, lerr, busy = sqlite.log(path .. "-pending")
  s.log = log
  -- the store gets its finalizer (Store.__gc) after its handles: finalized first, it can commit
  setmetatable(s, Store)
  SECRETS[s] = secrets
  s.plain_secrets = plain(secrets)
  if log then
    local rok, rerr = replay(s)
    if not rok then s:close() return nil, rerr end
  elseif not busy then
    s:close()
    return nil, "store: " .. lerr
  end
  if version >= 2 then
    local last = db:rows("SELECT max(id) AS id FROM dictionaries")
    if last and last[1] and last[1].id then
      s.dict_id = last[1].id
      s.zdict = assert(dictionary(s, s.dict_id))
    end
  end
  local count = db:rows("SELECT max(id) AS n FROM responses")
  s.count = count and count[1] and count[1].n or 0
  return s
end

-- store:add_secret(s): scrubs s from everything written from now on.
function Store:add_secret(secret)
  local list = SECRETS[self]
  for _, s in ipairs(list) do if s == secret then return end end
  list[#list + 1] = secret
  self.plain_secrets = plain(list)
end

-- store:lookup(key, base_url, model, body, sample) -> record | nil
-- A cached successful response for the key whose stored fields match exactly (so a hash
-- collision can never serve a wrong answer). Counts a hit or a miss.
function Store:lookup(key, base_url, model, body, sample)
  -- inside the batch transaction: no read transaction (file locks) per lookup
  if self.log and not self.failed and not self.locked then
    if self.in_txn and sys.now() - self.txn_started >= M.BATCH_SECONDS then self:flush() end
    self.locked = not begin(self)   -- another writer: lookups read without waiting again
  end
  local st = self.lookup_stmt
  st:bind(stored_key(self, key))
  local rec
  if st:step() == "row" then rec = st:row() end
  st:reset()
  if rec then rec = decode(self, rec) end
  if rec and rec.base_url == base_url and (rec.model or "") == (model or "")
    and rec.sample == (sample or 0) and rec.request == self.scrub(body) then
    self.hits = self.hits + 1
    return rec
  end
  self.misses = self.misses + 1
  return nil
end

local lower = util.memo(string.lower)   -- header names repeat

-- clean(text, secrets) -> whether text holds no secret, "sk-" or "Bearer" (scrub changes nothing)
local function clean(text, secrets)
  if text:find("sk-", 1, true) or text:find("Bearer", 1, true) then return false end
  for _, s in ipairs(secrets) do
    if text:find(s, 1, true) then return false end
  end
  return true
end

-- headers_json(self, headers) -> JSON of the headers without credentials, values scrubbed.
-- Encoded as they are when the JSON text is clean: JSON escapes no letter, digit or "-", so no
-- value then holds a key-like token, nor a secret without JSON-escaped characters (a secret
-- with one, or any doubt, scrubs each value).
local function headers_json(self, headers)
  if not headers then return nil end
  local kept = headers
  for k in pairs(headers) do
    if M.SECRET_HEADERS[lower(k)] then
      kept = {}
      for k2, v in pairs(headers) do if not M.SECRET_HEADERS[lower(k2)] then kept[k2] = v end end
      break
    end
  end
  local text = cjson.encode(kept)
  if self.plain_secrets and clean(text, SECRETS[self]) then return text end
  local scrubbed = {}
  for k, v in pairs(kept) do scrubbed[k] = self.scrub(v) end
  return cjson.encode(scrubbed)
end

local RECORD_FIELDS = { key = "string", base_url = "string", model = "string", sample = "integer",
  method = "string", path = "string", request = "string", request_headers = "table",
  status = "integer", response = "string", response_headers = "table", error = "string",
  ok = "boolean", attempts = "integer", latency = "number", prompt_tokens = "integer",
  completion_tokens = "integer", cost = "number" }

-- The Lua type of each field's values, and the fields that must hold integers
local RECORD_TYPES, INTEGER_FIELDS = {}, {}
for k, want in pairs(RECORD_FIELDS) do
  RECORD_TYPES[k] = (want == "integer" or want == "number") and "number" or want
  INTEGER_FIELDS[k] = want == "integer" or nil
end
local math_type = math.type

-- values(self, r) -> the insert statement's values for record r (scrubbed, bodies encoded as
-- the store's schema keeps them), indexed like schema.COLUMNS[version]: the store's one row
-- table, every column of it set anew (no table per record).
local function values(self, r)
  local scrub, version, list = self.scrub, self.version, self.row
  local at = schema.POSITION[version]
  list[1], list[2], list[3], list[4], list[5], list[6], list[7], list[8] = stored_key(self, r.key), self.run,
    os.time(), scrub(r.base_url), r.model, r.sample or 0, r.method or "POST", r.path or ""
  list[at.status], list[at.error], list[at.ok], list[at.attempts] = r.status, r.error and scrub(r.error),
    r.ok and 1 or 0, r.attempts
  list[at.latency], list[at.prompt_tokens], list[at.completion_tokens], list[at.cost] = r.latency,
    r.prompt_tokens, r.completion_tokens, r.cost
  local request, request_headers = scrub(r.request or ""), headers_json(self, r.request_headers)
  local response, response_headers = r.response and scrub(r.response), headers_json(self, r.response_headers)
  if version == 3 then
    list[at.dict], list[at.bodies] = self.dict_id, frame(self, request, request_headers, response, response_headers)
    return list
  end
  if version == 2 then
    local z = self.zdict
    local function pack(text)
      if text == nil then return nil end
      if z then return z:compress(text) end
      return zstd.compress(text)
    end
    list[at.dict] = self.dict_id
    request, request_headers, response, response_headers = pack(request), pack(request_headers),
      pack(response), pack(response_headers)
  end
  list[at.request], list[at.request_headers] = request, request_headers
  list[at.response], list[at.response_headers] = response, response_headers
  return list
end

-- store:record{key=, base_url=, model=, sample=, method=, path=, request=, request_headers=,
-- status=, response=, response_headers=, error=, ok=, attempts=, latency=, prompt_tokens=,
-- completion_tokens=, cost=} -> id | nil, err
-- Stored (in the pending log, committed with its batch) when this returns. Authorization
-- headers are dropped and secrets scrubbed. Only ok=true records are served by lookup (a
-- duplicate ok key is ignored). After a failed commit or log write (a full disk) every record
-- returns that error.
function Store:record(r)
  for k, v in pairs(r) do
    if type(v) ~= RECORD_TYPES[k] or (INTEGER_FIELDS[k] and math_type(v) ~= "integer") then
      util.check_options("store:record", r, RECORD_FIELDS)
    end
  end
  if self.failed then return nil, self.failed end
  local list = values(self, r)
  if self.log then
    local ok, err = begin(self)
    if not ok then return nil, "store: " .. self.path .. ": " .. err end
  end
  -- bind, step, reset and (when a row went in) the pending log's append, in one call
  local id, changes, where = self.insert_stmt:insert(list, self.ncolumns, self.log)
  if not id then
    if where ~= "log" then return nil, "store: " .. self.path .. ": " .. tostring(changes) end
    local disk = changes:find("No space", 1, true) and "database or disk is full (" or "("
    return fail(self, disk .. self.path .. "-pending: " .. changes .. ")")
  end
  if self.log and changes > 0 then
    self.pending = self.pending + 1
    if self.pending >= M.BATCH or sys.now() - self.txn_started >= M.BATCH_SECONDS then
      local fok, ferr = self:flush()
      if not fok then return nil, ferr end
    end
  end
  if r.ok then self.stored = self.stored + 1 else self.errors = self.errors + 1 end
  if self.version >= 2 and DICT_AT[id] and id > self.count then
    local fok, ferr = self:flush()
    if not fok then return nil, ferr end
    self:build_dictionary()
  end
  self.count = math.max(self.count or 0, id)
  return id
end

-- store:flush() -> true | nil, err: commits the records of the open batch and empties the
-- pending log (a no-op without one).
function Store:flush()
  if self.failed then return nil, self.failed end
  if not self.in_txn then return true end
  local ok, err = self.db:exec("COMMIT")
  if not ok then return fail(self, err) end
  self.in_txn, self.pending = false, 0
  ok, err = self.log:truncate()
  if not ok then return fail(self, err) end
  return true
end

-- store:build_dictionary() -> true | nil, err: a new zstd dictionary from DICT_SAMPLE records
-- spread evenly over the store (their bodies, decoded, as the schema frames them), used for the
-- records written next.
function Store:build_dictionary()
  local n = self.db:rows("SELECT count(*) AS n FROM responses")[1].n
  local step = math.max(1, n // DICT_SAMPLE)
  local rows, err = self.db:rows("SELECT * FROM responses WHERE (id - 1) % ? = 0 ORDER BY id LIMIT ?",
    step, DICT_SAMPLE)
  if not rows then return nil, "store: " .. tostring(err) end
  local parts = {}
  for _, row in ipairs(rows) do
    local rec = decode(self, row)
    if rec and self.version == 3 then
      parts[#parts + 1] = schema.content(rec.request, rec.request_headers, rec.response, rec.response_headers)
    elseif rec then
      for _, f in ipairs(schema.BODIES) do parts[#parts + 1] = rec[f] end
    end
  end
  local data = table.concat(parts)
  local ok, ierr = self.db:run("INSERT INTO dictionaries(records, data) VALUES (?, ?)", n, data)
  if not ok then return nil, "store: " .. tostring(ierr) end
  self.dict_id = self.db:last_insert_rowid()
  self.zdict = zstd.dictionary(data, DICT_LEVEL)
  self.dicts[self.dict_id] = self.zdict
  return true
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

-- store:totals() -> {requests=, failed=, input_tokens=, output_tokens=, cost=, by_model={model =
-- {requests=, cost=}}}: over every session that wrote the store (a resumed run's whole history).
-- requests counts the answered requests (each key once); failed the keys never answered.
function Store:totals()
  local rows = self.db:rows("SELECT model, count(CASE WHEN ok = 1 THEN 1 END) AS n, "
    .. "count(DISTINCT CASE WHEN ok = 0 AND key NOT IN (SELECT key FROM responses WHERE ok = 1) "
    .. "THEN key END) AS failed, "
    .. "coalesce(sum(prompt_tokens), 0) AS input, coalesce(sum(completion_tokens), 0) AS output, "
    .. "coalesce(sum(cost), 0) AS cost FROM responses GROUP BY model") or {}
  local t = { requests = 0, failed = 0, input_tokens = 0, output_tokens = 0, cost = 0, by_model = {} }
  for _, r in ipairs(rows) do
    t.requests, t.failed = t.requests + r.n, t.failed + r.failed
    t.input_tokens, t.output_tokens = t.input_tokens + r.input, t.output_tokens + r.output
    t.cost = t.cost + r.cost
    if r.model then t.by_model[r.model] = { requests = r.n, cost = r.cost } end
  end
  return t
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
-- One JSON object per record (decoded by store:records); request and response bodies are
-- embedded verbatim when they are JSON (numbers keep their exact text), else as strings. Written atomically.
function Store:export_jsonl(path, opts)
  opts = util.check_options("store:export_jsonl", opts, { run = "string" })
  local rows, err = self:records(opts)
  if not rows then return nil, err end
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

-- store:records([{run=}]) -> rows | nil, err
-- Every record (of one run) in id order as stored, with the request, response and their
-- headers (JSON) as the exact text received and the key as hex, whatever the schema.
function Store:records(opts)
  opts = util.check_options("store:records", opts, { run = "string" })
  local rows, err
  if opts.run then
    rows, err = self.db:rows("SELECT * FROM responses WHERE run = ? ORDER BY id", opts.run)
  else
    rows, err = self.db:rows("SELECT * FROM responses ORDER BY id")
  end
  if not rows then return nil, "store: " .. tostring(err) end
  for i, row in ipairs(rows) do
    local rec, derr = decode(self, row)
    if not rec then return nil, derr end
    rows[i] = rec
  end
  return rows
end

-- store:close() -> true | nil, err: commits the open batch (an error if that fails: the
-- pending log keeps its records for the next open), then closes the database and the log.
function Store:close()
  local ok, err = true, nil
  if self.db and self.in_txn then ok, err = self:flush() end
  for _, k in ipairs({ "lookup_stmt", "insert_stmt" }) do
    if self[k] then self[k]:finalize() end
    self[k] = nil
  end
  for id, d in pairs(self.dicts or {}) do d:close() self.dicts[id] = nil end
  self.zdict = nil
  if self.db then self.db:close() end
  self.db = nil
  if self.log then self.log:finish() end
  self.log = nil
  if not ok then return nil, err end
  return true
end

function Store:__tostring()
  return string.format("response store %s (%d hits, %d misses)", self.path, self.hits, self.misses)
end

Store.__close = Store.close
-- a store dropped without close (a script that ends without it) still commits its last batch
Store.__gc = Store.close

return M
