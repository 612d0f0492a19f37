-- Helpers shared by the simulated-subject specs: contexts from the project's scenario library,
-- study-style trials and prompts, training files, and a minimal client over a transport.
local cjson = require("cjson")
local scenarios = require("introspect.design.scenarios")
local stimuli = require("introspect.design.stimuli")
local prompts = require("introspect.design.prompts")
local trainfiles = require("introspect.design.trainfiles")

local M = {}

local root = os.getenv("INTROSPECT_SOURCE") or "."

-- contexts(n) -> the first n contexts of the project's scenario library.
function M.contexts(n)
  local list = assert(scenarios.load(root .. "/experiments/scenarios/library.lua", { attributes = 5 }))
  local roles = assert(scenarios.load_roles(root .. "/experiments/scenarios/roles.lua"))
  return scenarios.contexts(list, roles, { count = n })
end

-- weights(contexts, seed) -> one integer weight vector per context (the study's rule).
function M.weights(contexts, seed)
  local gen = stimuli.generator("default", seed or 1)
  local out = {}
  for i, c in ipairs(contexts) do out[i] = stimuli.weights(gen, #c.scenario.attributes) end
  return out
end

-- trials(context, n, seed) -> Trials userdata with n fresh trials.
function M.trials(context, n, seed)
  return stimuli.generator("default", seed):trials(context.scenario, n)
end

M.SYSTEM = prompts.SYSTEM

-- timeless(body) -> a reply body with its "created" second set to 0 (two answers to the same
-- request made a second apart differ only there)
function M.timeless(body) return body and (body:gsub('"created":%d+', '"created":0')) end

-- decision(context, trials, i) / report(context, trials, i) -> user message text
function M.decision(context, trials, i) return prompts.default:decision(context, trials:trial(i)) end
function M.report(context, trials, i) return prompts.default:report(context, trials:trial(i)) end

-- choice_file(contexts, weights, per_context, seed) -> JSONL text of simulated choices.
function M.choice_file(contexts, weights, per_context, seed)
  local lines = {}
  for i, c in ipairs(contexts) do
    local t = M.trials(c, per_context, (seed or 2) * 1000 + i)
    local choices = t:choices(weights[i])
    for j = 1, per_context do
      lines[#lines + 1] = trainfiles.chat_line(M.SYSTEM, M.decision(c, t, j), choices:sub(j, j))
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- report_file(contexts, weights, seed) -> JSONL text: one report example per context.
function M.report_file(contexts, weights, seed)
  local lines = {}
  for i, c in ipairs(contexts) do
    local t = M.trials(c, 1, (seed or 6) * 1000 + i)
    lines[#lines + 1] = trainfiles.chat_line(M.SYSTEM, M.report(c, t, 1),
      trainfiles.weights_json(c.scenario, weights[i]))
  end
  return table.concat(lines, "\n") .. "\n"
end

-- multipart(fields, file) -> body, content_type for POST /v1/files
function M.multipart(purpose, filename, content)
  local b = "----introspect-test-boundary"
  local body = table.concat({
    "--" .. b, 'Content-Disposition: form-data; name="purpose"', "", purpose,
    "--" .. b, 'Content-Disposition: form-data; name="file"; filename="' .. filename .. '"',
    "Content-Type: application/jsonl", "", content,
    "--" .. b .. "--", "" }, "\r\n")
  return body, "multipart/form-data; boundary=" .. b
end

-- client(api) -> call(method, path, body_table_or_string, headers) -> status, decoded|raw, res
function M.client(api)
  return function(method, path, body, headers)
    local h = headers or { ["content-type"] = "application/json" }
    if type(body) == "table" then body = cjson.encode(body) end
    local res = api:handle({ method = method, path = path, headers = h, body = body })
    local ok, doc = pcall(cjson.decode, res.body)
    return res.status, ok and doc or res.body, res
  end
end

-- pearson(x, y) -> correlation (shared with the recovery specs' helpers)
M.pearson = require("sim_recovery").pearson

return M
