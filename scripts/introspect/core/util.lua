-- Small helpers shared by the Lua library: option checking, atomic file writes, paths.
local M = {}

local function typename(v)
  return math.type(v) or type(v)
end

-- check_options(where, opts, spec) -> opts
-- spec maps each allowed key to a type name ("string", "number", "integer", "boolean",
-- "table", "function", "any") or to a list of allowed string values. Unknown keys and wrong
-- types raise an error naming `where` and the key. `opts` may be nil (returns {}).
function M.check_options(where, opts, spec)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(string.format("%s: options must be a table, got %s", where, type(opts)), 3)
  end
  for k, v in pairs(opts) do
    local want = spec[k]
    if want == nil then
      local names = {}
      for name in pairs(spec) do names[#names + 1] = tostring(name) end
      table.sort(names)
      error(string.format("%s: unknown option '%s' (known: %s)", where, tostring(k),
        table.concat(names, ", ")), 3)
    end
    if type(want) == "table" then
      local ok = false
      for _, allowed in ipairs(want) do if v == allowed then ok = true end end
      if not ok then
        error(string.format("%s: option '%s' must be one of %s, got %s", where, k,
          table.concat(want, "|"), tostring(v)), 3)
      end
    elseif want ~= "any" then
      local got = typename(v)
      local match = got == want or (want == "number" and (got == "integer" or got == "float"))
      if not match then
        error(string.format("%s: option '%s' must be %s, got %s", where, k, want, got), 3)
      end
    end
  end
  return opts
end

-- write_file_atomic(path, content) -> true | nil, err
-- Writes to path..".tmp" then renames, so readers never see a partial file.
function M.write_file_atomic(path, content)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(content)
  if ok then ok, werr = f:flush() end
  local cok, cerr = f:close()
  if not ok or not cok then
    os.remove(tmp)
    return nil, string.format("%s: %s", path, tostring(werr or cerr))
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp); return nil, rerr end
  return true
end

-- read_file(path) -> string | nil, err
function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- is_dir(path) -> whether path names a directory (opening "path/." succeeds only for one)
local function is_dir(path)
  local d = io.open(path .. "/.", "rb")
  if d then d:close() end
  return d ~= nil
end

-- mkdir_p(path) -> true | nil, err: creates path and its missing parents with sys.mkdir, one
-- directory at a time (no process: forking one with a study's heap took tens of milliseconds).
function M.mkdir_p(path)
  if is_dir(path) then return true end
  local mkdir = require("introspect.sys").mkdir
  local prefix = path:sub(1, 1) == "/" and "/" or ""
  for part in path:gmatch("[^/]+") do
    prefix = prefix .. part
    local ok, err = mkdir(prefix)
    if not ok and not is_dir(prefix) then return nil, "cannot create directory " .. path .. " (" .. err .. ")" end
    prefix = prefix .. "/"
  end
  return true
end

-- scratch_dir(prefix) -> the path of a new empty directory under the system's temporary
-- directory (TMPDIR or /tmp) | nil, err. Its caller removes it (remove_tree).
function M.scratch_dir(prefix)
  local base = (os.getenv("TMPDIR") or "/tmp"):gsub("/+$", "")
  local p = io.popen("mktemp -d '" .. (base .. "/" .. prefix):gsub("'", "'\\''") .. ".XXXXXX' 2>/dev/null")
  local path = p and p:read("l")
  if p then p:close() end
  if not path or path == "" then return nil, "cannot create a temporary directory in " .. base end
  return path
end

-- remove_tree(path) -> true | nil, err: removes a directory made by scratch_dir and all it holds.
function M.remove_tree(path)
  if not path:match("^/.+%.%w%w%w%w%w%w$") then return nil, "remove_tree: not a scratch directory: " .. path end
  local ok = os.execute("rm -rf -- '" .. path:gsub("'", "'\\''") .. "'")
  if ok then return true end
  return nil, "cannot remove " .. path
end

-- file_exists(path) -> boolean
function M.file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

---lines(text) -> an iterator over the lines of text: split at each "\n", one "\r" before it
---dropped, the text after the last "\n" a last line (what gmatch("(.-)\r?\n") gives over
---text .. "\n", found with a plain find: a tenth of gmatch's time on JSONL files).
---@param text string
---@return fun(): string|nil
function M.lines(text)
  local find, sub, pos = string.find, string.sub, 1
  return function()
    if not pos then return nil end
    local e = find(text, "\n", pos, true)
    local line = sub(text, pos, e and e - 1)
    pos = e and e + 1
    if line:byte(-1) == 13 then line = sub(line, 1, -2) end
    return line
  end
end

---memo(f) -> a function giving f(s) for a string s, remembered for strings of up to 64 bytes
---(at most 1000 at a time, then forgotten all at once): for pure functions of short texts that
---repeat (JSON of answers, tokens, model ids, attribute names).
---@param f fun(s: string): any
---@return fun(s: string): any
function M.memo(f)
  local cache, count = {}, 0
  return function(s)
    local v = cache[s]
    if v ~= nil then return v end
    v = f(s)
    if #s <= 64 then
      if count >= 1000 then cache, count = {}, 0 end
      cache[s], count = v, count + 1
    end
    return v
  end
end

---concat_lists(...) -> one new array with the items of each array argument, in order.
---@param ... any[]
---@return any[]
function M.concat_lists(...)
  local out = {}
  for _, list in ipairs({ ... }) do for _, v in ipairs(list) do out[#out + 1] = v end end
  return out
end

return M
