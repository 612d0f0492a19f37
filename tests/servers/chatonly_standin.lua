-- A chat-only OpenAI-compatible server, as many hosted chat endpoints are: /v1/models and
-- /v1/chat/completions answered by the simulated subject, no files, fine-tuning or batches, and
-- the request fields it lacks refused as OpenAI refuses an unknown or unsupported one (HTTP 400
-- naming the field as param). Options:
--   chatonly_standin.new{no_logprobs=true, no_seed=true, no_temperature0=false, min_tokens=nil,
--     aliases={served name = subject's model}, sim={...}}
-- no_temperature0: only the default temperature (1) is accepted (reasoning models); min_tokens: a
-- request allowing fewer output tokens gets an empty reply cut off by the limit (finish_reason
-- "length"), as a reasoning model that spends its budget thinking.
local sim = require("introspect.sim")
local json = require("introspect.core.pyjson").compact
local util = require("introspect.core.util")

local M = {}

local Standin = {}
Standin.__index = Standin

function M.new(opts)
  opts = util.check_options("chatonly_standin.new", opts, { no_logprobs = "boolean", no_seed = "boolean",
    no_temperature0 = "boolean", min_tokens = "integer", sim = "table", aliases = "table" })
  return setmetatable({ opts = opts, api = sim.api(opts.sim or {}), counts = {} }, Standin)
end

local function err(status, message, param, code)
  return { status = status, headers = { ["content-type"] = "application/json" },
    body = json.encode({ error = { message = message, type = "invalid_request_error", param = param or json.null,
      code = code or json.null } }) }
end

function Standin:handle(req)
  local path = (req.path or "/"):gsub("%?.*$", "")
  local method = req.method or "GET"
  self.counts[method .. " " .. path] = (self.counts[method .. " " .. path] or 0) + 1
  if method == "GET" and path == "/v1/models" then return self.api:handle(req) end
  if not (method == "POST" and path == "/v1/chat/completions") then
    return err(404, "Invalid URL (" .. method .. " " .. path .. ")", nil, "unknown_url")
  end
  local body = json.decode(req.body or "")
  if type(body) ~= "table" then return err(400, "We could not parse the JSON body of your request.") end
  local o = self.opts
  if o.no_logprobs ~= false and (body.logprobs ~= nil or body.top_logprobs ~= nil) then
    return err(400, "Unrecognized request argument supplied: logprobs", "logprobs")
  end
  if o.no_seed ~= false and body.seed ~= nil then
    return err(400, "Unrecognized request argument supplied: seed", "seed")
  end
  if o.no_temperature0 and body.temperature ~= nil and body.temperature ~= 1 then
    return err(400, "Unsupported value: 'temperature' does not support " .. tostring(body.temperature)
      .. " with this model. Only the default (1) value is supported.", "temperature", "unsupported_value")
  end
  local limit = body.max_completion_tokens or body.max_tokens
  if o.min_tokens and limit and limit < o.min_tokens then
    return { status = 200, headers = { ["content-type"] = "application/json" }, body = json.encode({
      id = "chatcmpl-standin", object = "chat.completion", created = 0, model = body.model,
      choices = { { index = 0, message = { role = "assistant", content = "" }, finish_reason = "length",
        logprobs = json.null } },
      usage = { prompt_tokens = 50, completion_tokens = limit, total_tokens = 50 + limit } }) }
  end
  local alias = (o.aliases or {})[body.model]
  if alias then return require("servers.chat_as")(self.api, req, body, alias) end
  return self.api:handle(req)
end

return M
