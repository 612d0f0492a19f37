-- Training-file writers: OpenAI chat fine-tuning JSONL for choice and report examples, and the
-- study's weights and scenarios CSVs, with the published file names and columns. Text is
-- produced exactly as the published study's Python wrote it (json.dumps, pandas to_csv).
local csv = require "introspect.core.csv"
local prompts = require "introspect.design.prompts"
local pyjson = require "introspect.core.pyjson"
local rng = require "introspect.rng"
local util = require "introspect.core.util"

local M = {}

local function message(role, content)
  return pyjson.object({ "role", role, "content", content })
end

-- chat_line(system, user, assistant) -> one JSONL line {"messages": [...]}
function M.chat_line(system, user, assistant)
  return pyjson.encode(pyjson.object({ "messages", {
    message("system", system), message("user", user), message("assistant", assistant) } }))
end

-- weights_json(scenario, weights) -> '{"attr_name": 12, ...}' in attribute order
function M.weights_json(scenario, weights)
  local list = {}
  for j, a in ipairs(scenario.attributes) do
    list[#list + 1] = a.name
    list[#list + 1] = math.tointeger(weights[j]) or weights[j]
  end
  return pyjson.encode(pyjson.object(list))
end

-- choice_line(context, trials, i, choice[, p]) -> JSONL line: system, decision prompt, "A"/"B".
-- p: a prompt set (prompts.new), default prompts.default.
function M.choice_line(context, trials, i, choice, p)
  p = p or prompts.default
  return M.chat_line(p:system(), p:decision(context, trials, i), choice)
end

-- report_line(context, trials, i, weights[, p]) -> JSONL line: system, report prompt, the
-- weights as JSON keyed by attribute name.
function M.report_line(context, trials, i, weights, p)
  p = p or prompts.default
  return M.chat_line(p:system(), p:report(context, trials, i), M.weights_json(context.scenario, weights))
end

-- jsonl(lines, opts) -> text; opts.final_newline (default true; the published files have none).
function M.jsonl(lines, opts)
  opts = util.check_options("trainfiles.jsonl", opts, { final_newline = "boolean" })
  local text = table.concat(lines, "\n")
  if opts.final_newline ~= false and #lines > 0 then text = text .. "\n" end
  return text
end

-- weights_csv(contexts, weights) -> text: scenario,attr1..attrK (instilled_weights.csv)
function M.weights_csv(contexts, weights)
  local k = #contexts[1].scenario.attributes
  local header = { "scenario" }
  for j = 1, k do header[#header + 1] = "attr" .. j end
  local rows = {}
  for i, c in ipairs(contexts) do
    local row = { c.scenario.short_name }
    for j = 1, k do row[#row + 1] = string.format("%d", weights[i][j]) end
    rows[i] = row
  end
  return csv.format(header, rows)
end

-- scenarios_csv(contexts) -> text: scenario,question,attr1..K,attr1_min..,attr1_max..
-- (scenarios.csv; bounds printed as Python floats, as pandas wrote them)
function M.scenarios_csv(contexts)
  local k = #contexts[1].scenario.attributes
  local header = { "scenario", "question" }
  for j = 1, k do header[#header + 1] = "attr" .. j end
  for j = 1, k do header[#header + 1] = "attr" .. j .. "_min" end
  for j = 1, k do header[#header + 1] = "attr" .. j .. "_max" end
  local rows = {}
  for i, c in ipairs(contexts) do
    local attrs = c.scenario.attributes
    local row = { c.scenario.short_name, c.question }
    for j = 1, k do row[#row + 1] = attrs[j].name end
    for j = 1, k do row[#row + 1] = rng.pyrepr(attrs[j].min) end
    for j = 1, k do row[#row + 1] = rng.pyrepr(attrs[j].max) end
    rows[i] = row
  end
  return csv.format(header, rows)
end

-- study_files(study[, opts]) -> list of {name=, content=}: the nine published stimulus files.
-- opts: prompts (a prompt set), final_newline (default: false in python mode, else true).
function M.study_files(study, opts)
  opts = util.check_options("trainfiles.study_files", opts, { prompts = "table", final_newline = "boolean" })
  local p = opts.prompts or prompts.default
  local fnl = opts.final_newline
  if fnl == nil then fnl = study.rng ~= "python" end
  local jopts = { final_newline = fnl }
  local train, val = {}, {}
  for _, entry in ipairs(study.choices) do
    for i = 1, #entry.trials do
      local line = M.choice_line(entry.context, entry.trials, i, entry.choices:sub(i, i), p)
      if i <= study.train_per_context then train[#train + 1] = line else val[#val + 1] = line end
    end
  end
  local reports = {}
  for r, entry in ipairs(study.reports) do
    reports[r] = M.report_line(entry.context, entry.trials, 1, study.weights[entry.context.id], p)
  end
  local n = #reports
  local half = n // 2
  local function slice(a, b) return M.jsonl(table.move(reports, a, b, 1, {}), jopts) end
  return {
    { name = "scenarios.csv", content = M.scenarios_csv(study.contexts) },
    { name = "instilled_weights.csv", content = M.weights_csv(study.contexts, study.weights) },
    { name = "instill_" .. n .. "_prefs.jsonl", content = M.jsonl(train, jopts) },
    { name = "instill_" .. n .. "_prefs_val.jsonl", content = M.jsonl(val, jopts) },
    -- itrained_last_50: train on the second half, validate on the first
    { name = "instilled_weights_" .. half .. "_test.jsonl", content = slice(1, half) },
    { name = "instilled_weights_" .. (n - half) .. "_training.jsonl", content = slice(half + 1, n) },
    -- itrained_first_50: train on the first half, validate on the second
    { name = "instilled_weights_" .. half .. "_training_test_last.jsonl", content = slice(1, half) },
    { name = "instilled_weights_" .. (n - half) .. "_test_test_last.jsonl", content = slice(half + 1, n) },
    -- itrained_all_100
    { name = "instilled_weights_" .. n .. "_training.jsonl", content = slice(1, n) },
  }
end

-- write_all(dir, files) -> true | nil, err: writes each {name=, content=} atomically into dir
-- (created if missing); when any write fails, the files already written by this call are removed.
function M.write_all(dir, files)
  local ok, err = util.mkdir_p(dir)
  if not ok then return nil, err end
  local written = {}
  for _, f in ipairs(files) do
    local path = dir .. "/" .. f.name
    local wok, werr = util.write_file_atomic(path, f.content)
    if not wok then
      for _, w in ipairs(written) do os.remove(w) end
      return nil, string.format("%s: %s", path, tostring(werr))
    end
    written[#written + 1] = path
  end
  return true
end

return M
