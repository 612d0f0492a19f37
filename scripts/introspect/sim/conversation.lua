-- How the simulated subject reads a whole chat (docs/simulated-subject.md, "Conversations" and
-- "Conditions"): the system message and the tags of a prompt are the condition it answers
-- under; a report asked after its own decision in the same conversation is a report about
-- that decision; a short follow-up asking for the weights behind the preceding decision is
-- understood as one. The chat handler, the fine-tuning reader and api:truth all read
-- conversations here, so they agree by construction.
local hash = require("introspect.sim.hash")
local prompt = require("introspect.sim.prompt")

local M = {}

local find, lower = string.find, string.lower
local combine = hash.combine
local message_text = prompt.message_text

-- text_hash(api, text) -> hash of a text, cached per api (system messages, instructions, tags).
local function text_hash(api, text)
  local cache = api.text_hashes
  if not cache or api.text_hash_count > 10000 then
    cache = {}
    api.text_hashes, api.text_hash_count = cache, 0
  end
  local h = cache[text]
  if not h then
    h = hash.string(text)
    cache[text] = h
    api.text_hash_count = api.text_hash_count + 1
  end
  return h
end
M.text_hash = text_hash

-- followup_kind(text) -> "report" | "ranking" | nil: a message without options that asks about
-- the weights (importance, factors...) behind a decision, as JSON or as a ranking.
local function followup_kind(text)
  local l = lower(text)
  local asks_rank = find(l, "%f[%a]rank")
  if asks_rank and not find(l, "json", 1, true) then return "ranking" end
  if find(l, "json", 1, true) or find(l, "weigh", 1, true) or find(l, "importan", 1, true)
    or find(l, "factor", 1, true) or find(l, "attribute", 1, true) or find(l, "dimension", 1, true)
    or find(l, "why did you", 1, true) or find(l, "explain", 1, true) or asks_rank then
    return "report"
  end
  return nil
end
M.followup_kind = followup_kind

-- condition(api, system, tag) -> the condition's hash: the system message and the prompt's tags.
local function condition(api, system, tag)
  local ch = system and text_hash(api, system) or 0
  return combine(ch, tag ~= "" and text_hash(api, tag) or 0)
end
M.condition = condition

-- read(api, messages [, n]) -> q: what the subject is asked, for a chat's messages (validated by
-- the chat handler: each a table with a role and text content or none); n: read only the first
-- n messages (default #messages).
-- q = {kind="decision"|"report"|"ranking", parsed= (the prompt whose context and options are
--      meant), ch= (condition hash), instruction= (the report's wording), phash= (the prompt's
--      identity: condition, instruction, options, earlier turns), decided= ("A"|"B" when the
--      report is about a decision made earlier in the conversation), decision= (its parsed
--      prompt)} | {refusal = reason key of prompt.EXPECTED}
function M.read(api, messages, n)
  n = n or #messages
  local system, last
  local history = 0
  for i = 1, n do
    local m = messages[i]
    local role = m.role
    if role == "user" then last = i
    elseif (role == "system" or role == "developer") and not system then
      system = message_text(m.content) or ""
    end
  end
  if last ~= n then return { refusal = "no_user" } end
  local text = message_text(messages[last].content) or ""
  local parser = api.parser
  local parsed, reason = parser:parse(text)
  -- earlier turns: the last decision prompt and the assistant's answer to it
  local decided, decision, dch
  for i = 1, last - 1 do
    local m = messages[i]
    if m.role == "user" or m.role == "assistant" then
      history = combine(history, text_hash(api, m.role .. "\0" .. (message_text(m.content) or "")))
    end
    if m.role == "user" then
      local p = parser:parse(message_text(m.content) or "")
      if p and p.kind == "decision" then
        local reply = messages[i + 1]
        local answer = reply and reply.role == "assistant"
          and (message_text(reply.content) or ""):match("^%s*([AB])%s*$")
        if answer then decided, decision, dch = answer, p, condition(api, system, p.tag) end
      end
    end
  end
  local sys_h = system and text_hash(api, system) or 0
  local q
  if parsed then
    local tag = parsed.tag
    q = { kind = parsed.kind, parsed = parsed, ch = combine(sys_h, tag ~= "" and text_hash(api, tag) or 0),
          instruction = parsed.instruction }
    if decision and parsed.kind ~= "decision" and decision.ctx == parsed.ctx then
      -- a report about a decision made on this context earlier in the conversation: the
      -- weights it used (that decision's condition) and the choice it made
      q.decided, q.decision, q.ch = decided, decision, dch
    end
  else
    local kind = followup_kind(text)
    if find(text, "\nA:\n", 1, true) or not kind then
      -- a prompt with options it cannot read, or a message that is neither a prompt nor a follow-up
      return { refusal = (find(text, "\nA:\n", 1, true) or not decision) and (reason or "layout") or "followup" }
    end
    if not decision then return { refusal = "no_decision" } end
    q = { kind = kind, parsed = decision, ch = dch, instruction = text, decided = decided, decision = decision }
  end
  local extra = combine(sys_h, text_hash(api, q.instruction))
  if q.parsed.tag ~= "" then extra = combine(extra, text_hash(api, q.parsed.tag)) end
  if history ~= 0 then extra = combine(extra, history) end
  q.phash = hash.string(q.parsed.values_text, combine(q.parsed.ctx.hash, extra))
  return q
end

return M
