-- Read-only view of a run directory written by introspect.study (experiments/paper.lua):
-- `ix.open("runs/x")` returns a Run whose methods load its tables (summary.json, manifest.json,
-- scenarios.csv, instilled_weights.csv and each model's selections, reports and learned
-- weights) as introspect.core.tabular tables, which print as aligned columns in the REPL.
local analysis = require "introspect.analysis"
local cjson = require "cjson.safe"
local csv = require "introspect.core.csv"
local paper = require "introspect.design.paper"
local pyrepr = require("introspect.rng").pyrepr
local tabular = require "introspect.core.tabular"
local util = require "introspect.core.util"

local M = {}

local Run = {}
Run.__index = Run
Run.__name = "introspect.run.runview"
M.Run = Run

-- Rows shown when a long table is printed (the table keeps them all in t.rows).
M.MAX_ROWS = 20

local CONDITIONS = paper.condition_keys

local function read_json(path)
  local text, err = util.read_file(path)
  if not text then return nil, err end
  local value, jerr = cjson.decode(text)
  if value == nil then return nil, string.format("%s: malformed JSON: %s", path, tostring(jerr)) end
  return value
end

-- list_dir(dir) -> sorted list of file names in dir (no subdirectories' contents).
local function list_dir(dir)
  local p = io.popen("ls -1A '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  local names = {}
  if p then
    for line in p:lines() do names[#names + 1] = line end
    p:close()
  end
  table.sort(names)
  return names
end

-- open(dir) -> Run | raises "ix.open: DIR: ..." when dir is not a run directory (no
-- manifest.json).
function M.open(dir)
  if type(dir) ~= "string" then error("ix.open: argument 1 must be a run directory path", 2) end
  dir = dir:gsub("/+$", "")
  local manifest, err = read_json(dir .. "/manifest.json")
  if not manifest then error("ix.open: " .. dir .. " is not a run directory (" .. tostring(err) .. ")", 2) end
  return setmetatable({ dir = dir, manifest_data = manifest }, Run)
end

function Run:__tostring()
  local models = self:models()
  return string.format("run %s (%s; models: %s; created %s)\nmethods: summary() models() files() manifest() "
    .. "contexts() targets() learned(m [, \"native\"]) selections(m [, \"native\"]) reports(m [, condition]) "
    .. "context(id_or_name, m)", self.dir, tostring(self.manifest_data.backend or "?"),
    #models > 0 and table.concat(models, ", ") or "none", tostring(self.manifest_data.created or "?"))
end

-- run:path(name) -> dir .. "/" .. name
function Run:path(name) return self.dir .. "/" .. name end

-- run:manifest() -> the decoded manifest.json (a plain table).
function Run:manifest() return self.manifest_data end

-- run:models() -> list of the run's base models (from the manifest, else from summary.json).
function Run:models()
  local list = {}
  if type(self.manifest_data.models) == "table" then
    for i, m in ipairs(self.manifest_data.models) do list[i] = m end
  else
    local s = read_json(self:path("summary.json"))
    if type(s) == "table" and type(s.models) == "table" then
      for m in pairs(s.models) do list[#list + 1] = m end
      table.sort(list)
    end
  end
  return list
end

-- run:files() -> table of the files in the run directory (name, bytes).
function Run:files()
  local rows = {}
  for _, name in ipairs(list_dir(self.dir)) do
    local f = io.open(self:path(name), "rb")
    local size = f and f:seek("end")
    if f then f:close() end
    rows[#rows + 1] = { name, size }
  end
  return tabular.new({ "file", "bytes" }, rows, { title = self.dir })
end

local function need(value, err, where)
  if value == nil then error(string.format("%s: %s", where, tostring(err)), 3) end
  return value
end

-- run:summary() -> table of report accuracy per model and condition (slope of z(learned) on
-- z(mean report) with its 95% interval, r, n, contexts), from summary.json; notes give the
-- learned-vs-target r and the training effects. Field `data`: the decoded summary.json.
function Run:summary()
  local s = need(read_json(self:path("summary.json")))
  local rows, notes = {}, {}
  local models = {}
  for m in pairs(s.models or {}) do models[#models + 1] = m end
  table.sort(models)
  for _, m in ipairs(models) do
    local info = s.models[m]
    for _, cond in ipairs(CONDITIONS) do
      local r = info.reports and info.reports[cond]
      if r then
        rows[#rows + 1] = { m, cond, r.slope, r.lo, r.hi, r.r, math.tointeger(r.n) or r.n,
          math.tointeger(r.contexts) or r.contexts }
      end
    end
    if info.learned_vs_target then
      local lt = info.learned_vs_target
      notes[#notes + 1] = string.format("%s: learned vs target r = %.3f (n = %s)", m, lt.r,
        tostring(math.tointeger(lt.n) or lt.n))
    end
    for _, key in ipairs({ "training_effect", "native_training_effect" }) do
      local e = info[key]
      if type(e) == "table" and e.diff then
        notes[#notes + 1] = string.format("%s: %s %.3f [%.3f, %.3f]", m, key:gsub("_", " "), e.diff, e.lo, e.hi)
      end
    end
  end
  local t = tabular.new({ "model", "condition", "slope", "95% lo", "95% hi", "r", "n", "contexts" }, rows,
    { title = self.dir .. "/summary.json: report accuracy", notes = notes, decimals = 3 })
  t.data = s
  return t
end

-- run:contexts() -> table of the run's contexts from scenarios.csv (scenario, question,
-- attribute names).
function Run:contexts()
  local t = need(csv.read(self:path("scenarios.csv"), { required = { "scenario", "question" } }))
  local rows = {}
  for i, r in ipairs(t.rows) do
    local names = {}
    while r["attr" .. (#names + 1)] do names[#names + 1] = r["attr" .. (#names + 1)] end
    rows[i] = { i, r.scenario, r.question, table.concat(names, ", ") }
  end
  return tabular.new({ "#", "scenario", "question", "attributes" }, rows, { max_rows = M.MAX_ROWS })
end

local function weights_table(path, title)
  local w, problems = analysis.read_weights(path)
  need(w, problems, "ix.open")
  local rows, k = {}, 0
  for i, s in ipairs(w.order) do
    rows[i] = { s }
    for j = 1, #w[s] do rows[i][j + 1] = w[s][j] end
    k = math.max(k, #w[s])
  end
  local header = { "scenario" }
  for j = 1, k do header[j + 1] = "w" .. j end
  local t = tabular.new(header, rows, { title = title, max_rows = M.MAX_ROWS, decimals = 0,
    notes = #problems > 0 and problems or nil })
  t.weights = w
  return t
end

-- run:targets() -> table of the target (instilled) weights per context; field `weights` maps
-- scenario -> list (as introspect.analysis.read_weights).
function Run:targets()
  return weights_table(self:path("instilled_weights.csv"), "target weights")
end

local function label(model) return (model:gsub("[^%w%._%-]", "_")) end

local function check_model(self, model, where)
  if type(model) ~= "string" then
    error(string.format("%s: argument 1 must be a model name (one of: %s)", where,
      table.concat(self:models(), ", ")), 3)
  end
  return label(model)
end

-- run:learned(model [, "native"]) -> table of the weights learned from the model's choices
-- (instilled contexts; "native": the native contexts); field `weights` as in targets().
function Run:learned(model, which)
  local l = check_model(self, model, "run:learned")
  local file = which == "native" and paper.files.native_learned or paper.files.learned
  return weights_table(self:path(l .. file), model .. (which == "native" and " native" or "")
    .. " learned weights")
end

-- run:selections(model [, "native"]) -> table of the model's choices (scenario, selection,
-- A and B values); field `selections` as introspect.analysis.read_selections returns.
function Run:selections(model, which)
  local l = check_model(self, model, "run:selections")
  local path = self:path(l .. (which == "native" and paper.files.native_selections or paper.files.selections))
  local list, problems = analysis.read_selections(path)
  need(list, problems, "run:selections")
  local rows = {}
  for i, s in ipairs(list) do
    local a, b = {}, {}
    for j = 1, #s.a do a[j], b[j] = pyrepr(s.a[j]), pyrepr(s.b[j]) end
    rows[i] = { s.scenario, s.selection, table.concat(a, " "), table.concat(b, " ") }
  end
  local t = tabular.new({ "scenario", "selection", "A", "B" }, rows,
    { title = path, max_rows = M.MAX_ROWS, notes = #problems > 0 and problems or nil })
  t.selections = list
  return t
end

-- condition_of(file, l) -> the report condition of a *_weight_reports.csv file of label l.
local function condition_of(name, l)
  local rest = name:sub(#l + 2)
  if name:sub(1, #l + 1) ~= l .. "_" or not rest:match("weight_reports%.csv$") then return nil end
  for _, cond in ipairs({ "base", "instilled", "native_instilled" }) do
    if "_" .. rest == paper.files.reports[cond][1] then return cond end
  end
  if rest:match("^itrained_.*_latent_weight_reports%.csv$") then return "native_itrained" end
  if rest:match("^itrained_.*_weight_reports%.csv$") then return "itrained" end
  return nil
end

-- run:reports(model [, condition]) -> table of the model's valid self-reports in one
-- condition ("base" (default), "instilled", "itrained", "native_instilled", "native_itrained"):
-- explaining model, scenario, the reported weights; field `reports` as read_reports returns.
function Run:reports(model, condition)
  local l = check_model(self, model, "run:reports")
  condition = condition or "base"
  if not analysis.LEARNED_OF[condition] then
    error("run:reports: argument 2 must be one of " .. table.concat(CONDITIONS, ", "), 2)
  end
  local list, notes = {}, {}
  for _, name in ipairs(list_dir(self.dir)) do
    if condition_of(name, l) == condition then
      local r, problems = analysis.read_reports(self:path(name))
      need(r, problems, "run:reports")
      for _, x in ipairs(r) do list[#list + 1] = x end
      for _, p in ipairs(problems) do notes[#notes + 1] = p end
      notes[#notes + 1] = "from " .. name
    end
  end
  local rows, k = {}, 0
  for i, r in ipairs(list) do
    rows[i] = { r.model, r.scenario }
    for j = 1, #r.report do rows[i][j + 2] = r.report[j] end
    k = math.max(k, #r.report)
  end
  local header = { "explaining_model", "scenario" }
  for j = 1, k do header[j + 2] = "r" .. j end
  local t = tabular.new(header, rows, { title = model .. " reports: " .. condition, max_rows = M.MAX_ROWS,
    notes = notes, decimals = 0 })
  t.reports = list
  return t
end

-- run:context(which, model) -> one context side by side: per attribute the target weight, the
-- learned weight and the mean report in each condition that has reports for it (of the first
-- fine-tuned model, by name, with reports on the context). `which` is the
-- context's position in scenarios.csv (1-based) or its scenario name.
function Run:context(which, model)
  local ctx = self:contexts()
  local row
  for _, r in ipairs(ctx.rows) do
    if r[1] == which or r[2] == which then row = r end
  end
  if not row then error("run:context: no context " .. tostring(which) .. " in " .. self.dir, 2) end
  local name = row[2]
  local targets = self:targets().weights[name]
  local learned_ok, learned = pcall(self.learned, self, model)
  local native_ok, native = pcall(self.learned, self, model, "native")
  local learned_w = (learned_ok and learned.weights[name]) or (native_ok and native.weights[name]) or nil
  local header, cols = { "attribute", "target", "learned" }, {}
  for _, cond in ipairs(CONDITIONS) do
    local means = analysis.mean_reports(self:reports(model, cond).reports)
    local explaining = {}
    for m in pairs(means) do explaining[#explaining + 1] = m end
    table.sort(explaining)
    for _, m in ipairs(explaining) do   -- the first fine-tuned model (by name) with reports on it
      if means[m][name] then
        header[#header + 1] = cond
        cols[#cols + 1] = means[m][name]
        break
      end
    end
  end
  local names = {}
  for n in row[4]:gmatch("[^,%s]+") do names[#names + 1] = n end
  local rows = {}
  for j = 1, #names do
    rows[j] = { names[j], targets and targets[j], learned_w and learned_w[j] }
    for k, col in ipairs(cols) do rows[j][3 + k] = col[j] end
  end
  return tabular.new(header, rows, { title = string.format("%s (%s): %s", name, model, row[3]), decimals = 1,
    notes = { "mean reports per condition (columns after 'learned'), over all of the model's fine-tunes" } })
end

return M
