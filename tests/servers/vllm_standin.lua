-- A stand-in for vLLM's OpenAI-compatible server with runtime LoRA loading, built from vLLM's
-- serving_models.py: /v1/models lists the base model (root = its path) and each loaded adapter
-- (root = lora_path, parent = the base); POST /v1/load_lora_adapter {lora_name, lora_path} and
-- POST /v1/unload_lora_adapter {lora_name} answer "Success: ..." as text, or vLLM's flat
-- ErrorResponse {"object": "error", "message", "type", "param", "code"}; without
-- VLLM_ALLOW_RUNTIME_LORA_UPDATING the two routes do not exist (FastAPI's 404 {"detail": "Not
-- Found"}). Chat under an adapter answers as the simulated subject trained into that adapter
-- directory (tests/servers/adapter_state.lua); chat with logprobs and seed as vLLM does.
--   vllm_standin.new{base="sim-large", runtime_lora=true, sim={sim.api options}}
local sim = require("introspect.sim")
local json = require("introspect.core.pyjson").compact
local util = require("introspect.core.util")
local adapter_state = require("servers.adapter_state")
local chat_as = require("servers.chat_as")

local M = {}

local Standin = {}
Standin.__index = Standin

function M.new(opts)
  opts = util.check_options("vllm_standin.new", opts, { base = "string", runtime_lora = "boolean", sim = "table" })
  local base = opts.base or "sim-large"
  local sim_opts = {}
  for k, v in pairs(opts.sim or {}) do sim_opts[k] = v end
  sim_opts.profiles = { base }
  return setmetatable({ api = sim.api(sim_opts), base = base, runtime = opts.runtime_lora ~= false,
    loras = {}, lora_list = {}, counts = {} }, Standin)
end

local function reply(status, doc, text)
  return { status = status, headers = { ["content-type"] = text and "text/plain" or "application/json" },
    body = text or json.encode(doc) }
end

-- vLLM's ErrorResponse (flat)
local function err(status, message, etype)
  return reply(status, { object = "error", message = message, type = etype, param = json.null, code = status })
end

function Standin:load(body)
  if type(body) ~= "table" or type(body.lora_name) ~= "string" or body.lora_name == ""
      or type(body.lora_path) ~= "string" or body.lora_path == "" then
    return err(400, "Both 'lora_name' and 'lora_path' must be provided.", "InvalidUserInput")
  end
  if self.loras[body.lora_name] then
    return err(400, "The lora adapter '" .. body.lora_name .. "' has already been loaded.", "InvalidUserInput")
  end
  local st, why = adapter_state.read(body.lora_path)
  if not st then
    return err(404, "Loading lora " .. body.lora_name .. " failed: " .. why, "NotFoundError")
  end
  if st.base ~= self.base then
    return err(400, string.format("Loading lora %s failed: the adapter was trained on %s, this server serves %s",
      body.lora_name, st.base, self.base), "BadRequestError")
  end
  local model = adapter_state.model(st, self.api.models[self.base])
  self.api:add_model(model, "vllm")
  self.loras[body.lora_name] = { path = body.lora_path, inner = model.id }
  self.lora_list[#self.lora_list + 1] = body.lora_name
  return reply(200, nil, "Success: LoRA adapter '" .. body.lora_name .. "' added successfully.")
end

function Standin:unload(body)
  if type(body) ~= "table" or (not body.lora_name and not body.lora_int_id) then
    return err(400, "either 'lora_name' and 'lora_int_id' needs to be provided.", "InvalidUserInput")
  end
  if not self.loras[body.lora_name] then
    return err(404, "The lora adapter '" .. tostring(body.lora_name) .. "' cannot be found.", "NotFoundError")
  end
  self.loras[body.lora_name] = nil
  for i, n in ipairs(self.lora_list) do if n == body.lora_name then table.remove(self.lora_list, i) break end end
  return reply(200, nil, "Success: LoRA adapter '" .. body.lora_name .. "' removed successfully.")
end

function Standin:handle(req)
  local path = (req.path or "/"):gsub("%?.*$", "")
  local method = req.method or "GET"
  self.counts[method .. " " .. path] = (self.counts[method .. " " .. path] or 0) + 1
  if method == "POST" and (path == "/v1/load_lora_adapter" or path == "/v1/unload_lora_adapter") then
    if not self.runtime then return reply(404, { detail = "Not Found" }) end
    local body = json.decode(req.body or "")
    if path == "/v1/load_lora_adapter" then return self:load(body) end
    return self:unload(body)
  elseif method == "GET" and path == "/v1/models" then
    local data = json.array()
    data[1] = { id = self.base, object = "model", created = 0, owned_by = "vllm", root = "/models/" .. self.base,
      parent = json.null, max_model_len = 32768 }
    for _, name in ipairs(self.lora_list) do
      data[#data + 1] = { id = name, object = "model", created = 0, owned_by = "vllm", root = self.loras[name].path,
        parent = self.base, max_model_len = json.null }
    end
    return reply(200, { object = "list", data = data })
  elseif method == "POST" and path == "/v1/chat/completions" then
    local body = json.decode(req.body or "")
    if type(body) ~= "table" then return err(400, "Invalid JSON body", "BadRequestError") end
    local served = body.model
    if served ~= self.base and not self.loras[served] then
      return err(404, "The model `" .. tostring(served) .. "` does not exist.", "NotFoundError")
    end
    return chat_as(self.api, req, body, self.loras[served] and self.loras[served].inner)
  end
  return reply(404, { detail = "Not Found" })
end

return M
