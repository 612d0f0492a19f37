-- The response store's pending log (DB-pending beside DB): each record written since the last
-- commit, appended with one write(2) before store:record returns, so a run killed with kill -9
-- loses nothing it was told was stored. The store replays the log on open and empties it
-- after every commit. Entries are exactly the values bound to the store's insert statement.
--
-- Entry layout (little-endian): "IX", payload length (u32), then the payload: the row id (i64),
-- one tag per value ("n" nil, "i" integer, "f" float, "s" string), and the values (i64, double,
-- or a u32 length and the bytes).
local M = {}

local pack, unpack, concat = string.pack, string.unpack, table.concat
local mtype = math.type

local MAGIC = "IX"
local HEADER = "<c2I4"
local HEADER_SIZE = 6
local TAG_FORMAT = { i = "i8", f = "d", s = "s4" }

---encode(id, values, n) -> one log entry for the row id and its n insert values (values[1..n],
---nils allowed).
---@param id integer
---@param values table
---@param n integer
---@return string
function M.encode(id, values, n)
  local tags, fmt, args = {}, { "<i8c", tostring(n) }, { id, "" }
  for i = 1, n do
    local v = values[i]
    local t = v == nil and "n" or (type(v) == "string" and "s") or (mtype(v) == "integer" and "i")
      or (mtype(v) == "float" and "f")
    if not t then error("store_log.encode: value " .. i .. " is a " .. type(v), 2) end
    tags[i] = t
    if t ~= "n" then
      fmt[#fmt + 1] = TAG_FORMAT[t]
      args[#args + 1] = v
    end
  end
  args[2] = concat(tags)
  local payload = pack(concat(fmt), table.unpack(args))
  return pack(HEADER, MAGIC, #payload) .. payload
end

---decode(text, n, where) -> list of {id=, values=} | nil, err. A last entry cut short (a
---write interrupted by a crash or a power loss) is dropped: it was never reported stored.
---Anything else unreadable is an error naming where (the log's path) and the byte offset.
---@param text string
---@param n integer values per entry
---@param where string
---@return table|nil entries
---@return string|nil err
function M.decode(text, n, where)
  local entries, pos = {}, 1
  while pos <= #text do
    if #text - pos + 1 < HEADER_SIZE then break end
    local magic, len = unpack(HEADER, text, pos)
    if magic ~= MAGIC then
      return nil, string.format("%s: entry at byte %d is unreadable", where, pos - 1)
    end
    if #text - pos + 1 - HEADER_SIZE < len then break end
    local body = pos + HEADER_SIZE
    local ok, err = pcall(function()
      local id, tags, p = unpack("<i8c" .. n, text, body)
      local values = {}
      for i = 1, n do
        local t = tags:sub(i, i)
        if t ~= "n" then
          local f = TAG_FORMAT[t]
          if not f then error("tag " .. t) end
          values[i], p = unpack("<" .. f, text, p)
        end
      end
      if p ~= body + len then error("length") end
      entries[#entries + 1] = { id = id, values = values }
    end)
    if not ok then
      return nil, string.format("%s: entry at byte %d is unreadable (%s)", where, pos - 1, tostring(err))
    end
    pos = body + len
  end
  return entries
end

return M
