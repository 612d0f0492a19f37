-- POST /v1/chat/completions of the simulated API: the hot path (parse the prompt from the
-- parser's cache, ask the subject, write the JSON by hand).
local cjson = require("cjson")
local util = require("introspect.core.util")
local hash = require("introspect.sim.hash")
local prompt = require("introspect.sim.prompt")
local conversation = require("introspect.sim.conversation")

local M = {}

local format, concat, encode_string = string.format, table.concat, cjson.encode
local decode, null = cjson.decode, cjson.null
local tointeger = math.tointeger

-- floor_int(x) -> the integer below x, printed as string.format("%d") prints it
local function floor_int(x) return format("%d", math.floor(x)) end

-- Parameters OpenAI accepts on this endpoint; anything else is rejected by name as OpenAI does.
local KNOWN = {}
for name in ([[messages model audio frequency_penalty function_call functions logit_bias logprobs
  max_completion_tokens max_tokens metadata modalities n parallel_tool_calls prediction
  presence_penalty reasoning_effort response_format seed service_tier stop store stream
  stream_options temperature tool_choice tools top_logprobs top_p user web_search_options
  prompt_cache_key safety_identifier verbosity]]):gmatch("%S+") do KNOWN[name] = true end

local ROLES = { system = true, developer = true, user = true, assistant = true, tool = true }

-- Tokens shown after "A" and "B" in top_logprobs (tiny probabilities, fixed).
local FILLERS = { { "Option", -16.5 }, { " A", -17.25 }, { "a", -18.0 }, { "**", -18.75 },
  { "The", -19.5 }, { "I", -20.25 }, { " B", -21.0 }, { "b", -21.75 }, { "\n", -22.5 },
  { "Answer", -23.25 }, { "1", -24.0 }, { "2", -24.75 }, { "A.", -25.5 }, { "B.", -26.25 },
  { "{", -27.0 }, { "Sure", -27.75 }, { "(", -28.5 }, { "\"", -29.25 } }

local function bytes_text(s)
  local b = { s:byte(1, -1) }
  return "[" .. concat(b, ",") .. "]"
end

local function num(x) return format("%.17g", x) end

-- cjson.encode and the bytes list of short strings (answers "A" and "B", tokens, model ids) repeat
local quoted, bytes_json = util.memo(encode_string), util.memo(bytes_text)

-- token_entry(token, lp_text, tops) -> JSON text of one logprobs.content entry (lp_text: the
-- logprob as num prints it).
local function token_entry(token, lp_text, tops)
  return '{"token":' .. quoted(token) .. ',"logprob":' .. lp_text .. ',"bytes":' .. bytes_json(token)
    .. ',"top_logprobs":[' .. tops .. ']}'
end

local function top_entry(token, lp_text)
  return '{"token":' .. quoted(token) .. ',"logprob":' .. lp_text .. ',"bytes":' .. bytes_json(token) .. '}'
end

-- FILLER_TEXT[k] -> the JSON of the first k filler entries, with a leading comma.
local FILLER_TEXT = { [0] = "" }
for k = 1, #FILLERS do
  FILLER_TEXT[k] = FILLER_TEXT[k - 1] .. "," .. top_entry(FILLERS[k][1], num(FILLERS[k][2]))
end

-- decision_logprobs(answer, la, lb, k) -> logprobs JSON for a one-token "A"/"B" reply.
local function decision_logprobs(answer, la, lb, k)
  local ta, tb = num(la), num(lb)
  local tops = ""
  if k > 0 then
    local ea, eb = top_entry("A", ta), top_entry("B", tb)
    if lb > la then ea, eb = eb, ea end
    tops = k == 1 and ea or (ea .. "," .. eb .. FILLER_TEXT[math.min(k - 2, #FILLERS)])
  end
  local lp = answer == "A" and ta or tb
  return '{"content":[' .. token_entry(answer, lp, tops) .. '],"refusal":null}'
end

-- text_logprobs(text, h, k) -> logprobs JSON for a longer reply: tokens of up to 4 characters,
-- each with a small deterministic negative logprob.
local function text_logprobs(text, h, k)
  local entries = {}
  local i, n = 1, 0
  while i <= #text do
    local tok = text:match("^%s*[%w_]+", i) or text:match("^%s*[^%w%s]", i) or text:sub(i, i)
    if #tok > 4 then tok = tok:sub(1, 4) end
    n = n + 1
    local lp = num(-0.5 * hash.uniform(hash.combine(h, n)))
    entries[n] = token_entry(tok, lp, k > 0 and top_entry(tok, lp) or "")
    i = i + #tok
  end
  return '{"content":[' .. concat(entries, ",") .. '],"refusal":null}'
end

local function bad(api, message, param)
  return api:error(400, message, "invalid_request_error", param)
end

-- integer_param(v) -> integer | nil
local function integer_param(v)
  if v == nil or v == null then return nil end
  if type(v) ~= "number" then return false end
  return tointeger(v) or false
end

-- validate(api, body) -> request fields | status, err-body
local function validate(api, req)
  for k in pairs(req) do
    if not KNOWN[k] then
      return nil, bad(api, "Unrecognized request argument supplied: " .. tostring(k), k)
    end
  end
  if type(req.model) ~= "string" or req.model == "" then
    return nil, bad(api, "you must provide a model parameter", "model")
  end
  local msgs = req.messages
  if type(msgs) ~= "table" or msgs[1] == nil then
    return nil, bad(api, "'messages' must be a non-empty array of messages", "messages")
  end
  for i, m in ipairs(msgs) do
    if type(m) ~= "table" or not ROLES[m.role] then
      return nil, bad(api, format("Invalid value for 'messages[%d].role': must be one of system, "
        .. "developer, user, assistant, tool.", i - 1), format("messages[%d].role", i - 1))
    end
    local content = m.content
    if content ~= nil and content ~= null and type(content) ~= "string" and not prompt.message_text(content) then
      return nil, bad(api, format("Invalid type for 'messages[%d].content': expected a string or "
        .. "an array of text parts.", i - 1), format("messages[%d].content", i - 1))
    end
  end
  if req.stream == true then
    return nil, bad(api, "Streaming is not supported by the simulated subject; set stream to false.",
      "stream")
  end
  local n = integer_param(req.n)
  if n == false or (n and (n < 1 or n > 128)) then
    return nil, bad(api, "Invalid value for 'n': must be an integer between 1 and 128.", "n")
  end
  local t = req.temperature
  if t ~= nil and t ~= null and (type(t) ~= "number" or t < 0 or t > 2 or t ~= t) then
    return nil, bad(api, "Invalid value for 'temperature': must be a number between 0 and 2.",
      "temperature")
  end
  local lp = req.logprobs
  if lp ~= nil and lp ~= null and type(lp) ~= "boolean" then
    return nil, bad(api, "Invalid type for 'logprobs': expected a boolean.", "logprobs")
  end
  local top = integer_param(req.top_logprobs)
  if top == false or (top and (top < 0 or top > 20)) then
    return nil, bad(api, "Invalid value for 'top_logprobs': must be an integer between 0 and 20.",
      "top_logprobs")
  end
  if top and lp ~= true then
    return nil, bad(api, "'logprobs' must be set to true when 'top_logprobs' is set.", "logprobs")
  end
  local seed = integer_param(req.seed)
  if seed == false then return nil, bad(api, "Invalid type for 'seed': expected an integer.", "seed") end
  local maxt = integer_param(req.max_completion_tokens)
  if maxt == nil then maxt = integer_param(req.max_tokens) end
  if maxt == false or (maxt and maxt < 1) then
    return nil, bad(api, "Invalid value for 'max_completion_tokens': must be a positive integer.",
      "max_completion_tokens")
  end
  return { n = n or 1, temperature = (t ~= null and t) or 1, logprobs = lp == true,
           top = top or 0, seed = seed, max_tokens = maxt }
end
M.validate = validate

-- answer(model, q, temperature, seed, index) -> reply text, logprob A, logprob B: the
-- subject's answer to a query read by conversation.read (a refusal when it has none).
local function answer(model, q, temperature, seed, index)
  if q.refusal then return prompt.refusal(q.refusal) end
  if q.kind == "decision" then return model:decide(q.parsed, q.phash, temperature, seed, index, q.ch) end
  return (model:report(q, temperature, seed, index))
end
M.answer = answer

-- completion(api, model, req, opts) -> status, JSON text (a successful response) | error
function M.completion(api, model, req, opts)
  local tokens = 3
  for _, m in ipairs(req.messages) do
    local content = m.content
    local text = type(content) == "string" and content or prompt.message_text(content) or ""
    tokens = tokens + #text // 4 + 4
  end
  local q = conversation.read(api, req.messages)
  local choices, completion_tokens = {}, 0
  local temperature = opts.temperature
  local sampling = temperature > 0
  local seed = opts.seed
  if sampling and seed == nil then
    -- no seed: an independent draw, as a real API samples (from the server's own stream)
    api.seedless_count = (api.seedless_count or 0) + 1
    seed = hash.combine(hash.combine(api.seed, 0x5eed1e55), api.seedless_count)
  end
  for i = 1, opts.n do
    local lp_text
    local index = sampling and i or 0
    local content, la, lb = answer(model, q, temperature, seed, index)
    if la then
      completion_tokens = completion_tokens + 1
      if opts.logprobs then lp_text = decision_logprobs(content, la, lb, opts.top) end
    else
      completion_tokens = completion_tokens + #content // 4 + 1
      if opts.logprobs then
        lp_text = text_logprobs(content, hash.combine(q.phash or 0, index), opts.top)
      end
    end
    local finish = "stop"
    if opts.max_tokens and opts.max_tokens < (#content // 4 + 1) and content ~= "A" and content ~= "B" then
      content = content:sub(1, opts.max_tokens * 4)
      finish = "length"
    end
    choices[i] = '{"index":' .. (i - 1) .. ',"message":{"role":"assistant","content":' .. quoted(content)
      .. ',"refusal":null,"annotations":[]},"logprobs":' .. (lp_text or "null") .. ',"finish_reason":"'
      .. finish .. '"}'
  end
  api.chat_count = (api.chat_count or 0) + 1
  local id = "chatcmpl-" .. hash.hex(hash.combine(api.chat_seed, api.chat_count), 16)
    .. hash.hex(hash.mix(api.chat_count + 7), 13)
  -- one concatenation (integers print as %d does)
  return 200, '{"id":"' .. id .. '","object":"chat.completion","created":' .. floor_int(api:now())
    .. ',"model":' .. quoted(req.model) .. ',"choices":[' .. concat(choices, ",")
    .. '],"usage":{"prompt_tokens":' .. tokens .. ',"completion_tokens":' .. completion_tokens
    .. ',"total_tokens":' .. (tokens + completion_tokens)
    .. ',"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},'
    .. '"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,'
    .. '"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},'
    .. '"service_tier":"default","system_fingerprint":"fp_sim_' .. (model.fingerprint or "base") .. '"}'
end

-- run(api, body) -> status, body: a chat completion from a decoded request table.
function M.run(api, req)
  local opts, s, b = validate(api, req)
  if not opts then return s, b end
  local model = api:model(req.model)
  if not model then
    return api:error(404, "The model '" .. req.model .. "' does not exist or you do not have access to it.",
      "invalid_request_error", "model", "model_not_found")
  end
  return M.completion(api, model, req, opts)
end

-- POST /v1/chat/completions
function M.create(api, req)
  local ok, body = pcall(decode, req.body or "")
  if not ok or type(body) ~= "table" or body[1] ~= nil then
    return api:error(400, "We could not parse the JSON body of your request. (HINT: This likely "
      .. "means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
      "invalid_request_error")
  end
  return M.run(api, body)
end

return M
