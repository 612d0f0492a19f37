-- Ground truth of the simulated subject: what a served model actually is for the context and
-- condition a chat request identifies (docs/simulated-subject.md, "Ground truth"). Tests use it
-- as the oracle for recovery; the REPL shows its weights as `sim actual`.
local M = {}

-- truth(api, model_id, messages) -> facts | nil, err
-- facts = {model=, weights= (actual weights, largest |w| = 100, attribute order), theta=
-- (intercept then slopes, logits per unit of range R_i), range= (R_i the subject uses, or nil
-- when it uses the order of magnitude of the values), names=, question=, kind=, access=,
-- report_noise=, malformed=, report_mean= (the expected report before noise and rescaling),
-- p_a= (P("A") at T = 1 for a decision prompt, with the prompt's own noise)}
function M.truth(api, model_id, messages)
  local model = api:model(model_id)
  if not model then return nil, "unknown model '" .. tostring(model_id) .. "'" end
  if type(messages) ~= "table" then return nil, "messages must be a list of chat messages" end
  local prompt = require("introspect.sim.prompt")
  local user
  for _, m in ipairs(messages) do
    if type(m) == "table" and m.role == "user" then user = prompt.message_text(m.content) end
  end
  local parsed = user and api.parser:parse(user)
  if not parsed then return nil, "no decision or report prompt in the messages" end
  local ctx = parsed.ctx
  local st = model:state(ctx)
  local facts = { model = model.id, weights = model:weights(ctx), theta = st.theta, range = st.range,
    names = ctx.names, question = ctx.question, kind = parsed.kind, access = st.access,
    report_noise = st.sigma, malformed = st.malformed, report_mean = model:report_mean(ctx) }
  if parsed.kind == "decision" then
    local z = model:logit(parsed, st)
    facts.utility_logit = z
  end
  return facts
end

return M
