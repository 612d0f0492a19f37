-- /v1/models of the simulated API.
local json = require("introspect.core.pyjson").compact

local M = {}

local function model_object(api, id)
  local m = api.models[id]
  return { id = id, object = "model", created = m.created, owned_by = m.owned_by }
end

-- GET /v1/models
function M.list(api)
  require("introspect.sim.jobs").refresh_all(api)
  local data = json.array()
  for _, id in ipairs(api.model_list) do
    if api.models[id] then data[#data + 1] = model_object(api, id) end
  end
  return 200, json.encode({ object = "list", data = data })
end

-- GET /v1/models/{id}
function M.retrieve(api, _, id)
  if not api:model(id) then
    return api:error(404, "The model '" .. id .. "' does not exist", nil, "model", "model_not_found")
  end
  return 200, json.encode(model_object(api, id))
end

-- DELETE /v1/models/{id}: fine-tuned models only.
function M.delete(api, _, id)
  local m = api:model(id)
  if not m then
    return api:error(404, "The model '" .. id .. "' does not exist", nil, "model", "model_not_found")
  end
  if not m.parent then
    return api:error(403, "You cannot delete a base model.", nil, "model", "model_not_deletable")
  end
  api.models[id] = nil
  api:save("deleted_model", { id = id })
  return 200, json.encode({ id = id, object = "model", deleted = true })
end

return M
