-- A run directory: where one experiment run keeps everything it writes.
--   manifest.json  options, seeds, versions, backend, model ids, hyperparameters (never a secret)
--   state.json     what has been done, for resuming (file ids, fine-tuning job ids, phases)
--   .lock          held while a run uses the directory: a second run gets a clear error
-- Every JSON file is written atomically (temporary file, then rename).
local apierror = require "introspect.client.apierror"
local cjson = require "cjson"
local pyjson = require "introspect.core.pyjson"
local sys = require "introspect.sys"
local util = require "introspect.core.util"

local M = {}
M.__index = M

-- The layout version of run directories written by this code. A directory written by another
-- layout version is refused with a message rather than mixed with.
M.FORMAT = 1

local SECRET_KEY = { "key", "token", "secret", "password", "authorization" }

-- scrub(value) -> copy of value with secret-looking entries replaced by "[redacted]" (keys
-- containing key/token/secret/password/authorization) and API-key-like tokens inside strings
-- replaced as apierror.scrub does.
function M.scrub(value)
  if type(value) == "string" then return apierror.scrub(value) end
  if type(value) ~= "table" then return value end
  local out = {}
  for k, v in pairs(value) do
    local lk = type(k) == "string" and k:lower() or ""
    local secret = false
    for _, word in ipairs(SECRET_KEY) do
      if lk:find(word, 1, true) and not lk:find("tokens", 1, true) then secret = true end
    end
    out[k] = secret and v ~= nil and v ~= false and "[redacted]" or M.scrub(v)
  end
  return out
end

-- json(value) -> pretty JSON text with sorted keys (stable, diffable), ending in a newline.
function M.json(value) return pyjson.file.encode(value) .. "\n" end

-- read_json(path) -> value | nil, err (err names the file)
function M.read_json(path)
  local text, err = util.read_file(path)
  if not text then return nil, err end
  local ok, value = pcall(cjson.decode, text)
  if not ok then return nil, string.format("%s: not valid JSON (%s)", path, tostring(value)) end
  return value
end

-- JSON of a value on one line ("{ "a": 1 }").
local function one_line(value)
  return (M.json(value):gsub("%s*\n%s*", " "):gsub(" $", ""))
end

-- describe(identity) -> "backend sim, models sim-small, sim-large, design {...}" (one line)
function M.describe(identity)
  local parts = {}
  if identity.backend then parts[#parts + 1] = "backend " .. tostring(identity.backend) end
  if type(identity.models) == "table" then parts[#parts + 1] = "models " .. table.concat(identity.models, ", ") end
  if identity.design ~= nil then
    parts[#parts + 1] = "design " .. one_line(identity.design)
  end
  return table.concat(parts, "; ")
end

-- Compares a run's recorded identity with a new one; returns nil or the differing part's name.
local function differs(old, new)
  for _, k in ipairs({ "backend", "models", "design" }) do
    if new[k] ~= nil and old[k] ~= nil and M.json(M.scrub(old[k])) ~= M.json(M.scrub(new[k])) then return k end
  end
  return nil
end

-- check(dir, identity) -> true | nil, err: whether a run with this identity may use dir: it
-- does not exist, holds no run yet, or holds a run of the same identity (resuming). err names
-- the existing run and suggests --out. Reads only.
function M.check(dir, identity)
  local manifest_path = dir .. "/manifest.json"
  if not identity or not util.file_exists(manifest_path) then return true end
  local old, err = M.read_json(manifest_path)
  if not old then return nil, err end
  if type(old.identity) ~= "table" then return true end
  local key = differs(old.identity, identity)
  if not key then return true end
  local a, b = old.identity[key], identity[key]
  local function one(ident)
    return M.describe({ [key] = ident[key] })
  end
  local theirs, ours = one(old.identity), one(identity)
  if key == "design" and type(a) == "table" and type(b) == "table" then
    -- name only the settings that differ: "design: reports 2" against "design: reports 3"
    local names, seen = {}, {}
    for _, t in ipairs({ a, b }) do
      for k in pairs(t) do
        if not seen[k] and M.json(M.scrub(a[k])) ~= M.json(M.scrub(b[k])) then names[#names + 1], seen[k] = k, true end
      end
    end
    table.sort(names, function(x, y) return tostring(x) < tostring(y) end)
    local function some(t)
      local parts = {}
      for _, k in ipairs(names) do
        parts[#parts + 1] = tostring(k) .. " " .. (t[k] == nil and "unset" or one_line(t[k]))
      end
      return "design: " .. table.concat(parts, ", ")
    end
    theirs, ours = some(a), some(b)
  end
  return nil, string.format("%s holds another run (%s, started %s); this one has %s. Use --out=DIR for a " ..
    "new run directory, or re-run with the run's own settings to resume it", dir, theirs,
    tostring(old.created or "?"), ours)
end

-- A run that exists only in memory: what a dry run uses, so it creates no directory and never
-- writes into an existing one. Same methods as a run; write keeps the content in run.files.
local function in_memory(dir, opts)
  local self = setmetatable({ dir = dir, resumed = false, dry_run = true, files = {}, state = {} }, M)
  self.manifest = { format = M.FORMAT, name = opts.name, identity = opts.identity }
  for k, v in pairs(M.scrub(opts.manifest or {})) do self.manifest[k] = v end
  return self
end

-- open(dir, opts) -> run | nil, err
-- opts: name (run name), manifest (table merged into manifest.json; scrubbed of secrets),
-- identity ({backend=, models=, design=}: what makes two runs the same run; recorded in the
-- manifest, and a directory holding a run of another identity is refused by name, see check),
-- dry_run (true: nothing is created, locked or written; the run lives in memory).
-- Creates the directory, takes its lock, checks the layout version and identity of an existing
-- run, and loads state.json for resuming.
function M.open(dir, opts)
  opts = util.check_options("rundir.open", opts, { name = "string", manifest = "table", identity = "table",
    dry_run = "boolean" })
  if opts.dry_run then return in_memory(dir, opts) end
  local cok, cerr = M.check(dir, opts.identity)
  if not cok then return nil, cerr end
  local ok, err = util.mkdir_p(dir)
  if not ok then return nil, err end
  local lock, lerr, pid = sys.lock(dir .. "/.lock")
  if not lock and not pid and lerr and lerr:find("held by another process", 1, true) then
    -- the holder took the lock an instant ago and has not written its pid yet
    for _ = 1, 50 do
      sys.sleep(0.01)
      pid = tonumber((util.read_file(dir .. "/.lock") or ""):match("^(%d+)"))
      if pid then break end
    end
  end
  if not lock then
    if pid then
      return nil, string.format("run directory %s is in use by process %d (another run?); " ..
        "wait for it to finish or choose another --out", dir, pid)
    end
    return nil, lerr
  end
  local self = setmetatable({ dir = dir, lock = lock, resumed = false }, M)
  local manifest_path = dir .. "/manifest.json"
  if util.file_exists(manifest_path) then
    local old, merr = M.read_json(manifest_path)
    if not old then lock:release(); return nil, merr end
    if old.format ~= M.FORMAT then
      lock:release()
      return nil, string.format("%s was written by introspect run format %s; this version writes " ..
        "format %d: resume it with the version that started it, or use a new --out", manifest_path,
        tostring(old.format), M.FORMAT)
    end
    local key = type(old.identity) == "table" and opts.identity and differs(old.identity, opts.identity)
    if key then
      lock:release()
      return nil, select(2, M.check(dir, opts.identity))
    end
    self.manifest = old
    self.resumed = true
  else
    self.manifest = { format = M.FORMAT, name = opts.name, created = os.date("!%Y-%m-%dT%H:%M:%SZ") }
  end
  for k, v in pairs(M.scrub(opts.manifest or {})) do self.manifest[k] = v end
  if opts.identity then self.manifest.identity = M.scrub(opts.identity) end
  local state_path = dir .. "/state.json"
  if util.file_exists(state_path) then
    local st, serr = M.read_json(state_path)
    if not st then lock:release(); return nil, serr end
    self.state = st
  else
    self.state = {}
  end
  local wok, werr = self:save_manifest()
  if not wok then lock:release(); return nil, werr end
  return self
end

-- run:path(name) -> dir/name
function M:path(name) return self.dir .. "/" .. name end

-- run:save_manifest() -> true | nil, err
function M:save_manifest()
  if self.dry_run then return true end
  return util.write_file_atomic(self:path("manifest.json"), M.json(M.scrub(self.manifest)))
end

-- run:set_manifest(key, value): records a manifest entry (scrubbed) and saves it.
function M:set_manifest(key, value)
  self.manifest[key] = M.scrub(value)
  assert(self:save_manifest())
end

-- run:get(key) -> value recorded in state.json (nil if never recorded)
function M:get(key) return self.state[key] end

-- run:set(key, value): records a state entry and saves state.json before returning, so a
-- crash right after still finds it.
function M:set(key, value)
  self.state[key] = value
  if self.dry_run then return end
  assert(util.write_file_atomic(self:path("state.json"), M.json(self.state)))
end

-- run:once(key, fn) -> value: returns the recorded value of key, or runs fn(), records its
-- result under key and returns it. The building block of resumable phases.
function M:once(key, fn)
  local v = self.state[key]
  if v ~= nil then return v, true end
  v = fn()
  self:set(key, v)
  return v, false
end

-- run:write(name, content) -> path; atomic; raises with the path on failure. (A dry run's
-- in-memory run keeps the content in run.files[name] instead.)
function M:write(name, content)
  local path = self:path(name)
  if self.dry_run then
    self.files[name] = content
    return path
  end
  local ok, err = util.write_file_atomic(path, content)
  if not ok then error(string.format("cannot write %s: %s", path, tostring(err)), 2) end
  return path
end

-- run:close(): releases the lock.
function M:close()
  if self.lock then self.lock:release() end
end
M.__close = M.close
M.__gc = M.close

function M:__tostring()
  return string.format("introspect run %s%s", self.dir, self.resumed and " (resumed)" or "")
end

return M
