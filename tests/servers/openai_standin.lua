-- A stand-in for OpenAI's API in the states a first real run meets after the fine-tuning
-- wind-down, built from the API reference's error shapes and answering everything else with the
-- simulated subject (introspect.sim). An object with handle(req) -> res, like sim.api, so it runs
-- in process (sim.transport(standin)) or over HTTP (tests/servers/standin.lua).
--   standin.new{refuse_finetune=true, insufficient_quota=true, drop_after_create={jobs=1, batches=1},
--     enqueued_token_limit=N, shutdown_dates={model=date}, sim={sim.api options}}
-- standin.counts[path] counts requests by method and path ("POST /v1/files").
local sim = require("introspect.sim")
local json = require("introspect.core.pyjson").compact
local util = require("introspect.core.util")

local M = {}

local Standin = {}
Standin.__index = Standin

local OPTIONS = { refuse_finetune = "boolean", insufficient_quota = "boolean", drop_after_create = "table",
  enqueued_token_limit = "integer", shutdown_dates = "table", sim = "table" }

function M.new(opts)
  opts = util.check_options("openai_standin.new", opts, OPTIONS)
  local drops = opts.drop_after_create or {}
  return setmetatable({ opts = opts, api = sim.api(opts.sim or {}), counts = {}, failed_batches = {},
    drops = { jobs = drops.jobs or 0, batches = drops.batches or 0 } }, Standin)
end

-- OpenAI's error body.
local function err(status, message, etype, code, param)
  return { status = status, headers = { ["content-type"] = "application/json", ["x-request-id"] = "req_standin" },
    body = json.encode({ error = { message = message, type = etype, param = param or json.null,
      code = code or json.null } }) }
end

-- Rough tokens of a batch input file's bodies (characters / 4, as OpenAI's docs estimate).
local function batch_tokens(api, body)
  local doc = json.decode(body or "")
  local f = type(doc) == "table" and api.files[doc.input_file_id]
  return f and (#f.content // 4) or 0
end

function Standin:handle(req)
  local path = (req.path or "/"):gsub("%?.*$", "")
  local key = (req.method or "GET") .. " " .. path
  self.counts[key] = (self.counts[key] or 0) + 1
  if self.opts.insufficient_quota and path == "/v1/chat/completions" then
    return err(429, "You exceeded your current quota, please check your plan and billing details. For more "
      .. "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
      "insufficient_quota", "insufficient_quota")
  end
  if self.opts.refuse_finetune and req.method == "POST" and path == "/v1/fine_tuning/jobs" then
    return err(403, "You are not allowed to create fine-tuning jobs: self-serve fine-tuning is no longer "
      .. "available to this organization.", "invalid_request_error", nil)
  end
  if req.method == "POST" and path == "/v1/batches" and self.opts.enqueued_token_limit then
    local tokens = batch_tokens(self.api, req.body)
    local res = self.api:handle(req)
    if res.status == 200 and tokens > self.opts.enqueued_token_limit then
      local b = json.decode(res.body)
      self.failed_batches[b.id] = tokens
    end
    return res
  end
  local res = self.api:handle(req)
  if req.method == "GET" and self.failed_batches[path:match("^/v1/batches/([^/]+)$") or ""] then
    local b = json.decode(res.body)
    b.status, b.output_file_id, b.error_file_id = "failed", json.null, json.null
    b.errors = { object = "list", data = { { code = "token_limit_exceeded", line = json.null, param = json.null,
      message = string.format("Enqueued token limit reached for %s in organization org-standin. Limit: %d "
        .. "enqueued tokens. Please try again once some in_progress batches have been completed.",
        "the model", self.opts.enqueued_token_limit) } } }
    res.body = json.encode(b)
  end
  if req.method == "GET" and path == "/v1/models" and self.opts.shutdown_dates then
    local doc = json.decode(res.body)
    for _, m in ipairs(doc.data) do m.shutdown_date = self.opts.shutdown_dates[m.id] or json.null end
    res.body = json.encode(doc)
  end
  -- a job or batch the server accepted, whose response never reached the client
  if req.method == "POST" and res.status == 200 then
    local kind = path == "/v1/fine_tuning/jobs" and "jobs" or path == "/v1/batches" and "batches" or nil
    if kind and self.drops[kind] > 0 then
      self.drops[kind] = self.drops[kind] - 1
      res.fault = "reset"
    end
  end
  return res
end

return M
