-- Persistence of the simulated API (option state_dir): an append-only journal
-- (journal.jsonl, one JSON record per change, fsynced) plus one file per uploaded file's
-- content. A run killed with SIGKILL and resumed finds its files, jobs, fine-tuned models and
-- batches again; a torn last journal line is ignored.
local util = require("introspect.core.util")
local json = require("introspect.core.pyjson").compact
local subject = require("introspect.sim.subject")

local M = {}

local has_sys, sys = pcall(require, "introspect.sys")

local function path(api, name) return api.state_dir .. "/" .. name end

-- record(kind, obj) -> the journal record of a change
local function record(kind, obj)
  if kind == "file" then
    return { kind = kind, id = obj.id, filename = obj.filename, purpose = obj.purpose,
             created_at = obj.created_at, bytes = #obj.content }
  elseif kind == "deleted_file" or kind == "deleted_model" then
    return { kind = kind, id = obj.id }
  elseif kind == "job" then
    local r = { kind = kind }
    for k, v in pairs(obj) do if k ~= "result" then r[k] = v end end
    if obj.result then
      r.result = { skill = obj.result.skill, contexts = obj.result.contexts,
                   fingerprint = obj.result.fingerprint, key = obj.result.key }
    end
    return r
  elseif kind == "batch" then
    local r = { kind = kind }
    for k, v in pairs(obj) do r[k] = v end
    return r
  end
  error("state: unknown record kind " .. tostring(kind))
end

-- save_all(api, changes) -> true | nil, err: appends the records of a list of {kind, obj}
-- changes in one write and one fsync (writing uploaded files' contents first), so the changes
-- of one request reach the journal together or not at all.
function M.save_all(api, changes)
  local lines = {}
  for i, change in ipairs(changes) do
    local kind, obj = change[1], change[2]
    if kind == "file" then
      local ok, err = util.write_file_atomic(path(api, obj.id .. ".data"), obj.content)
      if not ok then return nil, err end
    end
    local rec = record(kind, obj)
    rec.counter, rec.chat_count = api.counter, api.chat_count or 0
    -- records written together say how many of theirs follow: a kill can cut a long write, and
    -- the loader then drops the incomplete group instead of keeping half of a request
    if #changes > 1 then rec.group_left = #changes - i end
    lines[i] = json.encode(rec) .. "\n"
  end
  if #lines == 0 then return true end
  local f, err = io.open(path(api, "journal.jsonl"), "ab")
  if not f then return nil, err end
  f:write(table.concat(lines))
  if has_sys then
    local ok, ferr = sys.fsync(f)
    if not ok then f:close() return nil, ferr end
  else
    f:flush()
  end
  f:close()
  return true
end

-- save(api, kind, obj) -> true | nil, err: appends one record (and writes file contents).
function M.save(api, kind, obj) return M.save_all(api, { { kind, obj } }) end

-- load(api) -> true | nil, err: replays the journal into a fresh api object.
function M.load(api)
  local ok, err = util.mkdir_p(api.state_dir)
  if not ok then return nil, err end
  local text = util.read_file(path(api, "journal.jsonl"))
  if not text then return true end
  local jobs, job_order, batches, batch_order = {}, {}, {}, {}
  local lineno = 0
  local complete = text:match("^(.*\n)") or ""
  if #complete < #text then
    -- a record torn by a kill: the change it describes never completed; drop it
    local wok, werr = util.write_file_atomic(path(api, "journal.jsonl"), complete)
    if not wok then return nil, werr end
    text = complete
  end
  local journal = path(api, "journal.jsonl")
  local line_of = {}   -- job id -> journal line of its last record
  -- apply(rec, lineno): one record into the api (raises on a record of the wrong shape)
  local function integer(v) return type(v) == "number" and math.tointeger(v) or 0 end
  local function apply(rec, n)
    rec.group_left = nil
    api.counter = math.max(api.counter, integer(rec.counter))
    api.chat_count = math.max(api.chat_count or 0, integer(rec.chat_count))
    if rec.kind ~= "batch" and rec.kind ~= "job" and rec.kind ~= "file" and rec.kind ~= "deleted_file"
        and rec.kind ~= "deleted_model" then
      error("unknown kind " .. tostring(rec.kind), 0)
    end
    if type(rec.id) ~= "string" then error("no id", 0) end
    if rec.kind == "file" then
      if not rec.id:match("^file%-[%w_]+$") then error("bad file id", 0) end
      local content = util.read_file(path(api, rec.id .. ".data"))
      if content then
        api.files[rec.id] = { id = rec.id, filename = rec.filename, purpose = rec.purpose,
          created_at = math.tointeger(rec.created_at) or rec.created_at, content = content }
        api.file_list[#api.file_list + 1] = rec.id
      end
    elseif rec.kind == "deleted_file" then
      api.files[rec.id] = nil
    elseif rec.kind == "deleted_model" then
      api.models[rec.id] = nil
      api.deleted_models = api.deleted_models or {}
      api.deleted_models[rec.id] = true
    elseif rec.kind == "job" then
      if not jobs[rec.id] then job_order[#job_order + 1] = rec.id end
      jobs[rec.id], line_of[rec.id] = rec, n
    else
      if not batches[rec.id] then batch_order[#batch_order + 1] = rec.id end
      batches[rec.id] = rec
    end
  end
  local group, group_start, offset = {}, nil, 0
  for line in text:gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local rec = json.decode(line)
    if type(rec) ~= "table" then
      return nil, string.format("%s line %d: unreadable journal record", journal, lineno)
    end
    -- a group (one request's records) is applied only once all of it is there
    if #group == 0 then group_start = offset end
    group[#group + 1] = { rec, lineno }
    offset = offset + #line + 1
    if not (type(rec.group_left) == "number" and rec.group_left > 0) then
      for _, item in ipairs(group) do
        local good, why = pcall(apply, item[1], item[2])
        if not good then
          return nil, string.format("%s line %d: unreadable journal record (%s)", journal, item[2], tostring(why))
        end
      end
      group = {}
    end
  end
  if #group > 0 then
    -- the last request's records were cut short by a kill: its changes never completed
    local wok, werr = util.write_file_atomic(path(api, "journal.jsonl"), text:sub(1, group_start))
    if not wok then return nil, werr end
  end
  local results = {}
  -- rebuild(id): a job's trained model from its record (raises on a record of the wrong shape)
  local function rebuild(id)
    local rec = jobs[id]
    rec.kind = nil
    -- what the job code relies on: times, an outcome, and a result when it succeeded
    if type(rec.created) ~= "number" or type(rec.duration) ~= "number"
        or (rec.final ~= "succeeded" and rec.final ~= "failed")
        or (rec.final == "succeeded" and type(rec.result) ~= "table")
        or (rec.cancelled_at ~= nil and type(rec.cancelled_at) ~= "number") then
      error("job " .. id .. ": malformed record", 0)
    end
    if rec.result then
      local parent = api.models[rec.parent_id] or results[rec.parent_id]
      if not parent then
        error(string.format("job %s starts from unknown model %s", id, tostring(rec.parent_id)), 0)
      end
      local r = rec.result
      if type(r) ~= "table" or type(rec.fine_tuned_model) ~= "string" or type(r.contexts or {}) ~= "table" then
        error("job " .. id .. ": malformed result", 0)
      end
      if r.key ~= nil and type(r.key) ~= "string" then error("job " .. id .. ": malformed result key", 0) end
      local model = subject.derived(parent, rec.fine_tuned_model, r.skill, r.contexts or {}, r.key)
      model.fingerprint = r.fingerprint
      results[rec.fine_tuned_model] = model
      rec.result = model
      if rec.revealed and not (api.deleted_models and api.deleted_models[rec.fine_tuned_model]) then
        model.created = math.floor(rec.created + rec.duration)
        api:add_model(model, api.organization)
      end
    end
    api.jobs[id] = rec
    api.job_list[#api.job_list + 1] = id
  end
  for _, id in ipairs(job_order) do
    local good, why = pcall(rebuild, id)
    if not good then
      return nil, string.format("%s line %d: unreadable journal record (%s)", journal, line_of[id], tostring(why))
    end
  end
  for _, id in ipairs(batch_order) do
    local rec = batches[id]
    rec.kind = nil
    api.batches[id] = rec
    api.batch_list[#api.batch_list + 1] = id
  end
  return true
end

return M
