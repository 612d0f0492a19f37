-- Named backend profiles for the OpenAI client: where requests go and how they are sent.
-- A profile is {base_urls={...}, api_key_env=, api_key=, organization=, project=, pool={...},
-- transport=function(pool_opts) -> transport, base_url_env= (an environment variable that
-- overrides base_urls), finetune= (the fine-tuning provider: "openai" by default, "together",
-- "command"), capabilities= {chat=, logprobs=, n=, seed=, batch=, fine_tuning=,
-- runtime_adapters=}}. openai.new{profile="name"} uses one.
local util = require("introspect.core.util")

local M = {}

M.profiles = {
  -- OpenAI itself: key from OPENAI_API_KEY.
  openai = { base_urls = { "https://api.openai.com/v1" }, api_key_env = "OPENAI_API_KEY",
    pool = { concurrency = 32, max_retries = 5 } },
  -- A self-hosted OpenAI-compatible server (vLLM, llama.cpp server, Ollama) on this machine.
  -- Fine-tuning through --finetune-command (docs/finetune-command.md), locally or on Slurm; each
  -- adapter it produces is loaded into the running vLLM (INTROSPECT_LOCAL_BASE_URL overrides the URL).
  ["local"] = { base_urls = { "http://127.0.0.1:8000/v1" }, base_url_env = "INTROSPECT_LOCAL_BASE_URL",
    api_key = "none", pool = { concurrency = 64, max_retries = 3 }, finetune = "command",
    capabilities = { chat = true, logprobs = true, n = true, seed = true, batch = false, fine_tuning = true,
      runtime_adapters = true } },
  -- Together AI: chat at /v1/chat/completions, LoRA fine-tuning at /v1/fine-tunes; key from
  -- TOGETHER_API_KEY, base URL from TOGETHER_BASE_URL when set (a proxy, or the tests' stand-in).
  together = { base_urls = { "https://api.together.xyz/v1" }, base_url_env = "TOGETHER_BASE_URL",
    api_key_env = "TOGETHER_API_KEY", pool = { concurrency = 32, max_retries = 5 }, finetune = "together",
    capabilities = { chat = true, logprobs = true, n = true, seed = true, batch = false, fine_tuning = true,
      runtime_adapters = false } },
  -- The simulated subject, in process (no HTTP).
  sim = { base_urls = { "http://sim.invalid/v1" }, api_key = "sim",
    transport = function(pool_opts)
      local ok, sim = pcall(require, "introspect.sim")
      if not ok or type(sim.transport) ~= "function" then
        error("backend 'sim': introspect.sim.transport is not available", 0)
      end
      return sim.transport(pool_opts)
    end },
}

local FIELDS = { base_urls = "table", api_key_env = "string", api_key = "string",
  organization = "string", project = "string", pool = "table", transport = "function",
  base_url_env = "string", finetune = "string", capabilities = "table" }

-- define(name, profile) -> profile. Adds or replaces a profile; raises on unknown fields.
function M.define(name, profile)
  util.check_options("backend.define(" .. tostring(name) .. ")", profile, FIELDS)
  if type(profile.base_urls) ~= "table" or #profile.base_urls == 0 then
    error("backend.define(" .. tostring(name) .. "): base_urls must be a non-empty list", 2)
  end
  M.profiles[name] = profile
  return profile
end

-- get(name [, {env=}]) -> profile | nil, err
-- A name that is not a profile but looks like a URL ("http://host:port/v1") is a profile with
-- that single base URL; several URLs may be separated by commas.
function M.get(name, opts)
  util.check_options("backend.get", opts, { env = "table" })
  local p = M.profiles[name]
  if p then return p end
  if type(name) == "string" and name:match("^https?://") then
    local urls = {}
    for u in name:gmatch("[^,%s]+") do urls[#urls + 1] = u end
    return { base_urls = urls, api_key_env = "OPENAI_API_KEY" }
  end
  local names = {}
  for k in pairs(M.profiles) do names[#names + 1] = k end
  table.sort(names)
  return nil, "unknown backend '" .. tostring(name) .. "' (known: " .. table.concat(names, ", ")
    .. ", or a base URL)"
end

---sim_transport(opts, threaded) -> the simulated subject's transport: in its own thread
---(introspect.sim.thread: the subject and the client use both cores) when threaded and the
---options allow it, else in process (introspect.sim.transport). opts: sim.api options and
---max_retries.
---@param opts table
---@param threaded? boolean
---@return table
function M.sim_transport(opts, threaded)
  local sim = require "introspect.sim"
  if threaded then
    local thread = require "introspect.sim.thread"
    local api_opts, other = {}, false
    for k, v in pairs(opts) do
      if sim.API_OPTIONS[k] then api_opts[k] = v elseif k ~= "max_retries" then other = true end
    end
    if not other and thread.available(api_opts) then
      return thread.new(api_opts, { max_retries = opts.max_retries })
    end
  end
  return sim.transport(opts)
end

---simulated(name) -> whether the backend name is the simulated subject ("sim").
---@param name string
---@return boolean
function M.simulated(name) return name == "sim" end

---client(name[, opts]) -> client, simulated: the one place a backend name becomes a client.
---name: "sim" (the simulated subject in process; its state in opts.state_dir), a profile name
---("openai", "local", ...) or a base URL (retrying as the openai profile does). opts: store,
---meter, transport (replaces the backend's: e.g. introspect.client.planner for a dry run, which
---needs no key), sim (options of the simulated subject's api), state_dir, concurrency (requests
---in flight for a URL backend), threaded (the simulated subject answers in a thread of its own:
---M.sim_transport). simulated is true for the simulated subject.
---@param name string
---@param opts? table
---@return table client
---@return boolean simulated
function M.client(name, opts)
  opts = util.check_options("backend.client", opts, { store = "any", meter = "any", transport = "any",
    sim = "table", state_dir = "string", concurrency = "integer", threaded = "boolean" })
  local openai = require "introspect.client.openai"
  local common = { store = opts.store, meter = opts.meter, transport = opts.transport }
  local simulated = M.simulated(name)
  if simulated then
    common.base_urls, common.api_key = M.profiles.sim.base_urls, "introspect-simulated-subject"
    if not common.transport then
      local sim_opts = {}
      for k, v in pairs(opts.sim or {}) do sim_opts[k] = v end
      sim_opts.state_dir = sim_opts.state_dir or opts.state_dir
      if sim_opts.state_dir then util.mkdir_p(sim_opts.state_dir) end
      common.transport = M.sim_transport(sim_opts, opts.threaded)
    end
  elseif name:match("^https?://") then
    common.base_url = name
    common.pool = { concurrency = opts.concurrency or 64, max_retries = 5 }
  else
    local profile, err = M.get(name)
    if not profile then error(err, 0) end   -- a missing key is openai.new's one line
    common.profile = name
  end
  -- a planning transport sends nothing, so it needs no key
  if opts.transport and not common.api_key then common.api_key = "dry-run-sends-nothing" end
  return openai.new(common), simulated
end

---describe(name) -> text naming a backend for manifests and reports (never a key).
---@param name string
---@return string
function M.describe(name)
  if name == "sim" then return "sim: introspect's simulated subject (a statistical model, not an LLM)" end
  return name
end

return M
