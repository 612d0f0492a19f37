-- The study library: explicit steps with plain data between them, and a small session.
--
--   contexts --study.trials--> trials --study.requests--> requests --session:sample--> replies
--   --study.records--> records --study.selections / study.reports--> analysis data
--   --study.analyze--> fits and statistics --study.finish--> summary.json, report.html
--
-- session:choices / session:reports run trials -> requests -> sample -> records in one call
-- (with prompts, messages, temperature, n, seeds, logprobs or trials = per call). Training files
-- come from any labelling (introspect.design.trainfiles.choice_file / report_file, curricula);
-- session:finetune(parent, name, files, {seed=, hyperparameters=, suffix=}). The paper's design
-- (introspect.design.paper) is experiments/paper.lua written in these steps.
--
--   local study = require "introspect.study"
--   local s = study.session{out = "runs/x", backend = "sim"}
--   local records = s:choices{model = "sim-large", contexts = ctxs, per_context = 50, seed = 5}
local analyze = require "introspect.study.analyze"
local curriculum = require "introspect.design.curriculum"
local finetune = require "introspect.study.finetune"
local paper = require "introspect.design.paper"
local scenarios = require "introspect.design.scenarios"
local session = require "introspect.study.session"
local steps = require "introspect.study.steps"
local stimuli = require "introspect.design.stimuli"
local trainfiles = require "introspect.design.trainfiles"
local util = require "introspect.core.util"

local M = {}

M.session, M.label, M.explain = session.new, session.label, session.explain
M.trials, M.requests, M.records, M.messages = steps.trials, steps.requests, steps.records, steps.messages
M.selections, M.reports, M.counts = steps.selections, steps.reports, steps.counts
M.analyze, M.finish, M.pool, M.targets = analyze.analyze, analyze.finish, analyze.pool, analyze.targets
M.plan_text, M.settings_keys = require("introspect.client.cost").plan_table, finetune.settings_keys

---finetune_settings(path, {backend=, finetune_command=, curricula=}) -> the per-stage settings
---table of a --finetune-settings file (docs/providers.md), checked against the stages' names
---("instill" and each curriculum's) and the keys the backend's provider accepts; raises one
---line naming the file, stage and key.
---@param path string
---@param opts {backend: string, finetune_command?: string, curricula: table[]}
---@return table
function M.finetune_settings(path, opts)
  opts = util.check_options("study.finetune_settings", opts, { backend = "string", finetune_command = "string",
    curricula = "table" })
  local stages = { "instill" }
  for _, c in ipairs(opts.curricula or {}) do stages[#stages + 1] = c.name end
  local settings, err = require("introspect.client.finetune").load_settings(path,
    { stages = stages, keys = finetune.settings_keys(opts.backend, opts.finetune_command) })
  if not settings then error(err, 0) end
  return settings
end

---ids(first, last) -> {first, ..., last}
---@param first integer
---@param last integer
---@return integer[]
function M.ids(first, last)
  local t = {}
  for i = first, last do t[#t + 1] = i end
  return t
end

---pick(contexts, ids) -> the contexts with those ids (positions), raising on one that does not exist.
---@param contexts table[]
---@param ids integer[]
---@return table[]
function M.pick(contexts, ids)
  local out = {}
  for i, id in ipairs(ids) do
    out[i] = contexts[id] or error(string.format("context %d does not exist (%d contexts)", id, #contexts), 2)
  end
  return out
end

---inputs{scenarios=, roles=, contexts=, rng=, attributes=} -> inputs: loads and checks the
---scenario and role files before anything is written (a one-line error naming the file and
---item). contexts: instilled contexts n (as many native ones again; default the paper's 100);
---attributes: per scenario (default the paper's 5).
---@param opts table
---@return table {list=, roles=, n=, rng=, scenarios=, roles_path=}
function M.inputs(opts)
  opts = util.check_options("study.inputs", opts, { scenarios = "string", roles = "string", contexts = "integer",
    rng = { "default", "python" }, attributes = "integer" })
  local n, mode = opts.contexts or paper.contexts, opts.rng or "default"
  local path = opts.scenarios or "experiments/scenarios/library.lua"
  local list, err = scenarios.load(path, { attributes = opts.attributes or paper.attributes })
  if not list then error(err, 0) end
  local roles, rerr = scenarios.load_roles(opts.roles or "experiments/scenarios/roles.lua",
    { header = mode ~= "python" })
  if not roles then error(rerr, 0) end
  if #list < 2 * n then
    error(string.format("%s: %d scenarios, the study needs %d (%d instilled + %d native contexts)",
      path, #list, 2 * n, n, n), 0)
  end
  return { list = list, roles = roles, n = n, rng = mode, scenarios = opts.scenarios, roles_path = opts.roles }
end

---stimuli(session, inputs[, {prompts=, messages=}]) -> stim: contexts 1..2n (n instilled, n
---native), the target weights, and the study's nine files (scenarios.csv, instilled_weights.csv,
---the instill training and validation files, the introspection-training files) written in the
---prompt set and messages given. stim = {contexts=, weights=, n=, rng=, targets=,
---instill = {train=, validation=}}.
---@param s introspect.Session
---@param inputs table from study.inputs
---@param opts? table
---@return table
function M.stimuli(s, inputs, opts)
  opts = util.check_options("study.stimuli", opts, { prompts = "table", messages = "function" })
  local list, n, mode = inputs.list, inputs.n, inputs.rng
  local count = math.min(#list, mode == "python" and paper.scenario_contexts or 2 * n)
  local contexts = scenarios.contexts(list, inputs.roles,
    { count = count, rng = mode, seed = paper.seeds.stimuli.roles })
  local st = s:timed("stimuli", stimuli.study, contexts, { rng = mode, instilled = n })
  local names = {}
  for _, f in ipairs(trainfiles.study_files(st, { prompts = opts.prompts, messages = opts.messages })) do
    s:write(f.name, f.content)
    names[#names + 1] = f.name
  end
  s.run:set_manifest("stimuli", { scenarios = inputs.scenarios, roles = inputs.roles_path, rng = mode,
    contexts = n, native_contexts = n, files = names })
  return { contexts = contexts, weights = st.weights, n = n, rng = mode,
    targets = analyze.targets(M.pick(contexts, M.ids(1, n)), st.weights),
    instill = { train = s:path("instill_" .. n .. "_prefs.jsonl"),
      validation = s:path("instill_" .. n .. "_prefs_val.jsonl") } }
end

---curriculum(path, n) -> a curriculum (plain Lua, introspect.design.curriculum) for n instilled
---contexts; raises naming the file.
---@param path string
---@param n integer
---@return table
function M.curriculum(path, n)
  local c, err = curriculum.load(path, { n = n })
  if not c then error(err, 0) end
  return c
end

---curricula(names, dir, n) -> curricula: each name a path (with a "/") or a file DIR/NAME.lua.
---@param names string[]
---@param dir string
---@param n integer
---@return table[]
function M.curricula(names, dir, n)
  local out = {}
  for i, name in ipairs(names) do out[i] = M.curriculum(name:find("/") and name or dir .. "/" .. name .. ".lua", n) end
  return out
end

---curriculum_files(session, c, stim[, {label_of=, prompts=, messages=}]) -> {train=path,
---validation=path|nil}: writes the curriculum's training files in the given prompt set and
---messages. label_of(context) -> weights (default the target weights; a curriculum with labels =
---"learned" needs one).
---@param s introspect.Session
---@param c table
---@param stim table from study.stimuli (contexts, weights, rng)
---@param opts? table
---@return table
function M.curriculum_files(s, c, stim, opts)
  opts = util.check_options("study.curriculum_files", opts, { label_of = "function", prompts = "table",
    messages = "function" })
  local label_of = opts.label_of
  if not label_of then
    if c.labels ~= "target" then error(c.source .. ": labels = '" .. c.labels .. "' needs label_of", 2) end
    label_of = function(ctx) return stim.weights[ctx.id] end
  end
  local files = curriculum.files(c, stim.contexts, label_of, { rng = stim.rng, final_newline = stim.rng ~= "python",
    prompts = opts.prompts, messages = opts.messages })
  local out = {}
  for _, role in ipairs({ "train", "validation" }) do
    if files[role] then
      local name = c.files[role] or (c.name .. "_" .. (role == "train" and "training" or role) .. ".jsonl")
      out[role] = s:write(name, files[role])
    end
  end
  return out
end

---lineage(base, r, ft) -> replicate r of a base model's fine-tunes (paper.lua --replicates): {base=,
---r=, key= (summary key: the base model, or "BASE rR"), label= (file prefix), name(stage) (the
---fine-tune's name, "_rR" added), ft(suffix) (session:finetune's options: ft's hyperparameters,
---seed ft.seed + r - 1, the suffix with "rR-" before it)}. Replicate 1 is the study's own run.
---@param base string
---@param r integer
---@param ft {seed?: integer, hyperparameters?: table}
---@return table
function M.lineage(base, r, ft)
  local tag = r > 1 and ("_r" .. r) or ""
  local key = r > 1 and (base .. " r" .. r) or base
  return { base = base, r = r, key = key, label = session.label(key), name = function(stage) return stage .. tag end,
    ft = function(suffix)
      return { seed = (ft.seed or paper.seeds.finetune) + r - 1, hyperparameters = ft.hyperparameters,
        suffix = suffix and paper.names.replicate_suffix(suffix, r) }
    end }
end

return M
