-- Fuzz target: the OpenAI client's handling of whatever a server answers (introspect.client.openai):
-- error_from, request (models, a fine-tuning job), chat, and probe (three chats), all given the
-- same response through a transport that returns it. Input: "STATUS\nname: value\n...\n\nbody";
-- "$KEY" in the input stands for the client's API key, so a server echoing the key is covered.
-- Contract: none of them raises for anything a server sends; each returns its value or nil and a
-- structured error; no error text contains the key.
local openai = require("introspect.client.openai")
local apierror = require("introspect.client.apierror")
local S = require("fuzz_support")

local KEY = "sk-fuzz-KEY-0a1b2c3d4e5f6a7b8c9d"

local function response(data)
  data = data:gsub("%$KEY", KEY)
  local head, body = data:match("^(.-)\n\n(.*)$")
  if not head then head, body = data, "" end
  local line, rest = head:match("^([^\n]*)\n?(.*)$")
  local headers = {}
  for h in rest:gmatch("[^\n]+") do
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  local status = math.tointeger(tonumber(line:match("^%s*(%d%d%d)%s*$")))
  if status == nil then return { error = line, headers = {}, attempts = 1, time = 0 } end
  return { status = status, headers = headers, body = body, attempts = 1, time = 0 }
end

local current
local transport = {}
function transport.perform(_, requests, opts)
  local out = {}
  for i = 1, #requests do
    local r = {}
    for k, v in pairs(current) do r[k] = v end
    r.headers = {}
    for k, v in pairs(current.headers) do r.headers[k] = v end
    out[i] = r
    if opts and opts.on_result then opts.on_result(i, r) end
  end
  return out
end

local client = openai.new({ transport = transport, base_url = "http://fuzz.invalid/v1", api_key = KEY })
local CHAT = { model = "m", messages = { { role = "user", content = "hi" } } }

local function check(where, ok, value, err)
  if not ok then S.finding("%s raised: %s", where, tostring(value)) end
  if value == nil then
    if not apierror.is(err) then S.finding("%s: nil without a structured error (%s)", where, tostring(err)) end
    if tostring(err):find(KEY, 1, true) then S.finding("%s: the error shows the API key", where) end
  end
end

return function(data)
  current = response(data)
  local e = openai.error_from(current, { KEY })
  if e ~= nil and (not apierror.is(e) or tostring(e):find(KEY, 1, true)) then
    S.finding("error_from gave %s", tostring(e))
  end
  check("models", pcall(client.models, client))
  check("fine_tune_retrieve", pcall(client.fine_tune_retrieve, client, "ftjob-1"))
  check("chat", pcall(client.chat, client, CHAT, { no_cache = true, no_store = true }))
  local ok, caps, err = pcall(client.probe, client, "m")
  if not ok then S.finding("probe raised: %s", tostring(caps)) end
  if caps == nil and not apierror.is(err) then S.finding("probe: nil without a structured error") end
end
