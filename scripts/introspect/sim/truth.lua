-- Ground truth of the simulated subject: what a served model actually is for the context and
-- condition a chat request identifies (docs/simulated-subject.md, "Ground truth"). Tests use it
-- as the oracle for recovery; the REPL shows its weights as `sim actual`. It reads the messages
-- with conversation.read, exactly as the chat handler does.
local conversation = require("introspect.sim.conversation")
local prompt = require("introspect.sim.prompt")

local M = {}

-- truth(api, model_id, messages) -> facts | nil, err
-- facts = {model=, kind=, question=, names=, condition= (key of the condition: system message
-- and tags), tag=, weights= (actual weights under that condition, largest |w| = 100, attribute
-- order), context_weights= (the context's own, which untrained conditions inherit), theta=
-- (intercept then slopes, logits per unit of range), range= (R_i, or nil when it uses the order
-- of magnitude), access=, report_noise=, malformed=, skill=, report_mean= (the expected report
-- before noise and rescaling, including the rationalization pull), decided=, utility_logit= and
-- p_a= (a decision: the logit without and P("A") with the prompt's own noise)}
function M.truth(api, model_id, messages)
  local model = api:model(model_id)
  if not model then return nil, "unknown model '" .. tostring(model_id) .. "'" end
  if type(messages) ~= "table" or messages[1] == nil then return nil, "messages must be a list of chat messages" end
  for i, m in ipairs(messages) do
    if type(m) ~= "table" or type(m.role) ~= "string" then
      return nil, string.format("messages[%d] has no role", i - 1)
    end
  end
  local q = conversation.read(api, messages)
  if q.refusal then return nil, prompt.refusal(q.refusal) end
  local parsed = q.parsed
  local ctx = parsed.ctx
  local subject = require("introspect.sim.subject")
  local st = model:state(ctx, q.ch)
  local mean, rs = model:report_mean(ctx, q.ch, q.instruction, q.decided, q.decision)
  local facts = { model = model.id, kind = q.kind, question = ctx.question, names = ctx.names,
    condition = subject.condition_key(q.ch), tag = parsed.tag, weights = model:weights(ctx, q.ch),
    context_weights = model:weights(ctx), theta = st.theta, range = st.range, access = rs.access,
    report_noise = rs.sigma, malformed = rs.malformed, skill = rs.skill, report_mean = mean,
    decided = q.decided }
  if q.kind == "decision" then
    facts.utility_logit = model:logit(parsed, st)
    facts.p_a = 1 / (1 + math.exp(-model:decision_logit(parsed, q.phash, q.ch)))
  end
  return facts
end

return M
