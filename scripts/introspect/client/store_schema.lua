-- The response store's on-disk layouts (client/store.lua uses them): the SQL of schemas 1, 2
-- and 3, the columns each one's insert binds, how schema 3 frames a record's four bodies, and
-- keys as stored (hex text in schema 1, 32 raw bytes from schema 2 on).
local sys = require("introspect.sys")

local M = {}

local SCHEMA_V1 = [[
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

-- Schema 2: key is 32 raw bytes; request, request_headers, response, response_headers are zstd
-- frames against dictionaries(id = dict) (dict 0: no dictionary).
local DICTIONARIES = [[
CREATE TABLE IF NOT EXISTS dictionaries(id INTEGER PRIMARY KEY, records INTEGER NOT NULL,
  data BLOB NOT NULL);
]]
local SCHEMA_V2 = DICTIONARIES .. SCHEMA_V1:gsub("  key TEXT", "  key BLOB")
  :gsub("  path TEXT NOT NULL,\n", "%0  dict INTEGER NOT NULL,\n")
  :gsub("  (request[_%w]*) TEXT", "  %1 BLOB"):gsub("  (response[_%w]*) TEXT", "  %1 BLOB")

-- Schema 3: as schema 2 with the four bodies in one frame (`bodies`), and no index on run.
local SCHEMA_V3 = DICTIONARIES .. SCHEMA_V2:match("CREATE TABLE IF NOT EXISTS responses.-;\n")
  :gsub("  request BLOB NOT NULL,\n  request_headers BLOB,\n", "  bodies BLOB NOT NULL,\n")
  :gsub("  response BLOB,\n  response_headers BLOB,\n", "")
  .. "CREATE UNIQUE INDEX IF NOT EXISTS responses_ok_key ON responses(key) WHERE ok = 1;\n"

-- SQL[version]: the statements creating (if absent) a store of that schema
M.SQL = { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3 }

-- The columns each schema's insert statement binds (after the row id), in order.
M.COLUMNS = {
  { "key", "run", "created", "base_url", "model", "sample", "method", "path", "request",
    "request_headers", "status", "response", "response_headers", "error", "ok", "attempts", "latency",
    "prompt_tokens", "completion_tokens", "cost" },
}
M.COLUMNS[2] = { table.unpack(M.COLUMNS[1], 1, 8) }
table.insert(M.COLUMNS[2], "dict")
table.move(M.COLUMNS[1], 9, #M.COLUMNS[1], 10, M.COLUMNS[2])
M.COLUMNS[3] = { table.unpack(M.COLUMNS[2], 1, 9) }
table.insert(M.COLUMNS[3], "bodies")
for _, c in ipairs({ "status", "error", "ok", "attempts", "latency", "prompt_tokens", "completion_tokens",
  "cost" }) do table.insert(M.COLUMNS[3], c) end

M.BODIES = { "request", "request_headers", "response", "response_headers" }
local LENGTHS = "<i4i4i4i4"   -- schema 3: the four bodies' lengths (-1: none) before the bodies

-- POSITION[version][column] -> the column's index in COLUMNS[version]
M.POSITION = {}
for v, list in ipairs(M.COLUMNS) do
  M.POSITION[v] = {}
  for i, c in ipairs(list) do M.POSITION[v][c] = i end
end

---lengths(request, request_headers, response, response_headers) -> the 16 bytes that open a
---schema-3 frame's text: the four lengths (-1 for none), little-endian i32.
---@return string
function M.lengths(a, b, c, d)
  return string.pack(LENGTHS, a and #a or -1, b and #b or -1, c and #c or -1, d and #d or -1)
end

---content(request, request_headers, response, response_headers) -> the text of a schema-3 frame
---(the lengths, then the bodies present).
---@return string
function M.content(a, b, c, d)
  return M.lengths(a, b, c, d) .. (a or "") .. (b or "") .. (c or "") .. (d or "")
end

---unpack_bodies(row, text): sets row's four bodies from a schema-3 frame's text; raises when
---the lengths do not add up to the text.
---@param row table
---@param text string
function M.unpack_bodies(row, text)
  local n = { string.unpack(LENGTHS, text) }
  local pos = n[5]
  for i, f in ipairs(M.BODIES) do
    if n[i] >= 0 then
      row[f] = text:sub(pos, pos + n[i] - 1)
      pos = pos + n[i]
    end
  end
  if pos ~= #text + 1 then error("bodies do not add up to the frame") end
end

local UNHEX = {}
for i = 0, 255 do UNHEX[string.format("%02x", i)] = string.char(i) end

---raw_key(hex) -> the 32 bytes a 64-hex key stands for (in C when the key is lower-case hex
---digits; any other text keeps each character that is not a lower-case hex pair).
---@param hex string
---@return string
function M.raw_key(hex) return sys.unhex(hex) or (hex:gsub("%x%x", UNHEX)) end

---hex_key(raw) -> the key's 64 hex digits.
---@param raw string
---@return string
function M.hex_key(raw) return sys.hex(raw) end

return M
