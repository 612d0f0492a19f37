-- Model checks before a run writes or spends anything: the backend's model list (GET /v1/models)
-- is fetched once, every model the run names must be on it (else one line naming the available
-- ones, closest first), and a run that names none uses the server's own base models.
--
--   local preflight = require "introspect.client.preflight"
--   local models = assert(preflight.models(client, { "sim-lrge" }))
--   --> nil, "model 'sim-lrge' is not offered by http://127.0.0.1:8080/v1 (available, closest
--   --   first: sim-large, sim-small)"
-- Provider-specific checks extend preflight.checks; the first warns of shutdown dates.
local openai = require "introspect.client.openai"
local suggest = require "introspect.core.suggest"

local M = {}

-- How many available models an error names at most.
M.SHOWN = 8

-- Extra checks run on the listed model objects: functions (model_object, client) -> nil or a
-- warning line; a provider module appends its own. OpenAI's models carry a shutdown_date once
-- their retirement is announced: a run naming one is warned (openai.shutdown_line).
M.checks = { function(m) return openai.shutdown_line(m) end }

-- HTTP statuses meaning "this server has no model list" (not an error of the run's settings).
local NO_LIST = { [404] = true, [405] = true, [501] = true }

-- list(client) -> the model objects the backend offers ({id=, owned_by=, ...}) | nil, err,
-- unlisted (true when the server has no model list: 404, 405 or 501). err: one line naming the
-- backend's base URL.
function M.list(client)
  local data, err = client:models()
  if not data then
    local unlisted = type(err) == "table" and NO_LIST[err.status] or false
    return nil, string.format("cannot list the models of %s: %s", client.base_url, tostring(err)), unlisted
  end
  local out = {}
  for _, m in ipairs(data) do
    if type(m) == "table" and type(m.id) == "string" then out[#out + 1] = m end
  end
  return out
end

-- base_models(objects) -> sorted ids of the listed models that are not fine-tunes ("ft:...").
function M.base_models(objects)
  local ids = {}
  for _, m in ipairs(objects) do
    if not m.id:match("^ft:") then ids[#ids + 1] = m.id end
  end
  table.sort(ids)
  return ids
end

-- unknown_model(model, ids, where) -> the one-line refusal naming the closest available ids.
function M.unknown_model(model, ids, where)
  local ranked = suggest.closest(model, ids)
  local shown = {}
  for i = 1, math.min(#ranked, M.SHOWN) do shown[i] = ranked[i] end
  if #ranked > M.SHOWN then shown[#shown + 1] = string.format("... %d more", #ranked - M.SHOWN) end
  return string.format("model '%s' is not offered by %s (available, closest first: %s)", model, where,
    #shown > 0 and table.concat(shown, ", ") or "none")
end

-- models(client, wanted [, {warn=, where=}]) -> models, warnings | nil, err
-- wanted: the model ids a run names (nil or empty: the server's own base models, sorted).
-- Every wanted id must be listed by the backend; err names the first that is not (a server with
-- no model list, or an empty one, cannot be checked: the wanted ids pass with a note). warnings:
-- lines from M.checks (also passed to warn(line) when given). where: how errors name the
-- backend (default its base URL).
function M.models(client, wanted, opts)
  opts = opts or {}
  local where = opts.where or client.base_url
  local objects, err, unlisted = M.list(client)
  if (unlisted or (objects and #objects == 0)) and wanted and #wanted > 0 then
    -- a server without a model list cannot be checked: say so and go on with the named models
    local line = string.format("note: %s lists no models, so %s could not be checked before the run",
      where, table.concat(wanted, ", "))
    if opts.warn then opts.warn(line) end
    return wanted, { line }
  end
  if not objects then return nil, err end
  local by_id, ids = {}, {}
  for _, m in ipairs(objects) do
    by_id[m.id] = m
    ids[#ids + 1] = m.id
  end
  local models = {}
  if wanted == nil or #wanted == 0 then
    models = M.base_models(objects)
    if #models == 0 then return nil, where .. " lists no base models" end
  else
    for i, id in ipairs(wanted) do
      if not by_id[id] then return nil, M.unknown_model(id, ids, where) end
      models[i] = id
    end
  end
  local warnings = {}
  for _, id in ipairs(models) do
    for _, check in ipairs(M.checks) do
      local line = check(by_id[id], client)
      if line then
        warnings[#warnings + 1] = line
        if opts.warn then opts.warn(line) end
      end
    end
  end
  return models, warnings
end

return M
