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

---messages_line(messages, assistant) -> one JSONL line {"messages": [..., {"role": "assistant",
---"content": assistant}]}; messages: {{role=, content=}, ...} (a system prompt, a prefix, a
---whole conversation).
---@param messages table[]
---@param assistant string
---@return string
function M.messages_line(messages, assistant)
  local list = {}
  for i, m in ipairs(messages) do list[i] = message(m.role, m.content) end
  list[#list + 1] = message("assistant", assistant)
  return pyjson.encode(pyjson.object({ "messages", list }))
end

---chat_line(system, user, assistant) -> one JSONL line {"messages": [system, user, assistant]}
---@param system string
---@param user string
---@param assistant string
---@return string
function M.chat_line(system, user, assistant)
  return M.messages_line({ { role = "system", content = system }, { role = "user", content = user } }, assistant)
end

-- The messages of one example: hook(ctx, trial, i, default) when given, else {system, user};
-- render: the user message's renderer (prompts.renderer; default p:render one by one).
local function example_messages(p, kind, context, trials, i, hook, render)
  local default = { { role = "system", content = p:system() },
    { role = "user", content = render and render(context, trials, i) or p:render(kind, context, trials, i) } }
  if not hook then return default end
  local trial = type(trials) == "userdata" and trials:trial(i) or trials
  trial.context = trial.context or context
  local list = hook(context, trial, i, default)
  if type(list) ~= "table" or #list == 0 then
    error("trainfiles: messages hook must return a non-empty list of messages (context "
      .. tostring(context.id) .. ")", 0)
  end
  return list
end
M.example_messages = example_messages

-- weights_json(scenario, weights) -> '{"attr_name": 12, ...}' in attribute order
function M.weights_json(scenario, weights)
  local list = {}
  for j, a in ipairs(scenario.attributes) do
    list[#list + 1] = a.name
    list[#list + 1] = math.tointeger(weights[j]) or weights[j]
  end
  return pyjson.encode(pyjson.object(list))
end

---choice_line(context, trials, i, choice[, p, messages]) -> JSONL line: system, decision prompt,
---"A"/"B". p: a prompt set (prompts.new), default prompts.default; messages: a hook
---(ctx, trial, i, default) -> messages (a prefix, trigger or system prompt of its own).
---@param context table
---@param trials userdata|table a Trials set (with i) or a Trial {a=, b=}
---@param i integer
---@param choice string
---@param p? table
---@param messages? function
---@return string
function M.choice_line(context, trials, i, choice, p, messages)
  p = p or prompts.default
  return M.messages_line(example_messages(p, "decision", context, trials, i, messages), choice)
end

---report_line(context, trials, i, weights[, p, messages]) -> JSONL line: system, report prompt,
---the weights as JSON keyed by attribute name.
---@param context table
---@param trials userdata|table
---@param i integer
---@param weights number[]
---@param p? table
---@param messages? function
---@return string
function M.report_line(context, trials, i, weights, p, messages)
  p = p or prompts.default
  return M.messages_line(example_messages(p, "report", context, trials, i, messages),
    M.weights_json(context.scenario, weights))
end

local FILE_OPTIONS = { prompts = "table", messages = "function", final_newline = "boolean" }

-- examples_file(where, trials, answer, line, opts) -> JSONL text: line(ctx, trials, i, answer(ctx,
-- trial), p, messages) for every trial; answer returns nil, reason for a bad label.
local function examples_file(where, trials, answer, line, opts)
  opts = util.check_options(where, opts, FILE_OPTIONS)
  local lines = {}
  for i, t in ipairs(trials) do
    local value, why = answer(t.context, t)
    if value == nil then
      error(string.format("%s: the label of trial %d (context %s) %s", where, i, tostring(t.context.id), why), 0)
    end
    lines[i] = line(t.context, t.source or t, t.index or i, value, opts.prompts, opts.messages)
  end
  return M.jsonl(lines, { final_newline = opts.final_newline })
end

---choice_file(trials, label[, opts]) -> JSONL text: one decision example per trial, answered
---label(ctx, trial) -> "A" | "B". trials: introspect.study.steps trials (any contexts, any
---conditions mixed). opts: prompts, messages (hook), final_newline (default true).
---@param trials table[]
---@param label fun(ctx: table, trial: table): string
---@param opts? table
---@return string
function M.choice_file(trials, label, opts)
  return examples_file("trainfiles.choice_file", trials, function(ctx, t)
    local a = label(ctx, t)
    if a ~= "A" and a ~= "B" then return nil, "is " .. tostring(a) .. ', not "A" or "B"' end
    return a
  end, M.choice_line, opts)
end

---report_file(trials, weights_of[, opts]) -> JSONL text: one report example per trial, answered
---with weights_of(ctx, trial) (k numbers) as JSON. opts as choice_file.
---@param trials table[]
---@param weights_of fun(ctx: table, trial: table): number[]
---@param opts? table
---@return string
function M.report_file(trials, weights_of, opts)
  return examples_file("trainfiles.report_file", trials, function(ctx, t)
    local w = weights_of(ctx, t)
    if type(w) ~= "table" or #w ~= #ctx.scenario.attributes then
      return nil, "must be " .. #ctx.scenario.attributes .. " numbers"
    end
    return w
  end, M.report_line, opts)
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
-- opts: prompts (a prompt set), messages (a hook, as choice_line), final_newline (default: false
-- in python mode, else true).
function M.study_files(study, opts)
  opts = util.check_options("trainfiles.study_files", opts, { prompts = "table", messages = "function",
    final_newline = "boolean" })
  local p = opts.prompts or prompts.default
  local fnl = opts.final_newline
  if fnl == nil then fnl = study.rng ~= "python" end
  local jopts = { final_newline = fnl }
  local train, val = {}, {}
  local render = prompts.renderer(p, "decision")
  for _, entry in ipairs(study.choices) do
    for i = 1, #entry.trials do
      local line = M.messages_line(example_messages(p, "decision", entry.context, entry.trials, i, opts.messages,
        render), entry.choices:sub(i, i))   -- choice_line, each set's prompts rendered at once
      if i <= study.train_per_context then train[#train + 1] = line else val[#val + 1] = line end
    end
  end
  local reports = {}
  for r, entry in ipairs(study.reports) do
    reports[r] = M.report_line(entry.context, entry.trials, 1, study.weights[entry.context.id], p, opts.messages)
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
