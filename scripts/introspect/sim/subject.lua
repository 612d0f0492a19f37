-- The simulated subject: a documented statistical model of a fine-tunable chat model
-- (docs/simulated-subject.md). It is never an LLM and its replies are never LLM results.
--
-- A model is {id=, profile=, parent=, skill={[instruction]=G}, contexts={[ctx.key]=override},
-- key=, noise_seed=, access_shift=}: a base model has no parent and no overrides; a fine-tuned
-- model stores only what its training changed. An override is {theta= (the context's weights,
-- intercept first), range=, exposure={[instruction]=S}, memory=, conditions={[condition key]=
-- delta}}: a trained condition's weights are the context's plus its delta.
local hash = require("introspect.sim.hash")
local profiles = require("introspect.sim.profiles")

local M = {}

local exp, log, abs, sqrt, floor, ceil = math.exp, math.log, math.abs, math.sqrt, math.floor, math.ceil
local combine, uniform, normal, logistic = hash.combine, hash.uniform, hash.normal, hash.logistic

local Model = {}
Model.__index = Model

-- base(profile, id) -> model. profile: a profile name or a profile table.
function M.base(profile, id)
  local p = profile
  if type(profile) == "string" then
    p = profiles.get(profile)
    if not p then error("simulated subject: unknown profile '" .. profile .. "'", 2) end
  end
  return setmetatable({ id = id or p.name or profile, profile = p, parent = nil, skill = {},
    contexts = {}, noise_seed = p.seed, access_shift = 0, skill_cache = {},
    cache = setmetatable({}, { __mode = "k" }) }, Model)
end

-- as_table(v) -> a skill or exposure table ({[instruction] = amount}); a number (a journal from
-- before wording-tied learning) is an amount that transfers to every wording ("*").
local function as_table(v)
  if type(v) == "table" then return v end
  if type(v) == "number" and v ~= 0 then return { ["*"] = v } end
  return {}
end
M.as_table = as_table

-- derived(parent, id, skill, contexts, key) -> a fine-tuned model on top of parent. Its draws
-- use a seed of its own, the parent's combined with `key` (the job's content key,
-- finetune.content_key: training file, hyperparameters, job seed), so a fine-tune's behaviour
-- never depends on its id or on what the server did before; the key also draws the replicate's
-- shift of introspective access (sd profiles.access_sd(p), from replicate_sd). A nil key (a journal written
-- before keys existed) falls back to the id.
function M.derived(parent, id, skill, contexts, key)
  local h = key and hash.string(key) or hash.string(id)
  local p = parent.profile
  return setmetatable({ id = id, profile = p, parent = parent, skill = as_table(skill),
    contexts = contexts, key = key, noise_seed = combine(parent.noise_seed, h),
    access_shift = (parent.access_shift or 0) + profiles.access_sd(p) * normal(combine(h, 0xacce55)),
    skill_cache = {}, cache = setmetatable({}, { __mode = "k" }) }, Model)
end

-- scale100(v) -> copy of v scaled so that the largest |value| is 100 (zeros stay zeros).
local function scale100(v)
  local m = 0
  for i = 1, #v do   -- m = max(m, abs(v[i])), inline (a zero's sign cannot matter)
    local x = v[i]
    if x < 0 then x = -x end
    if x > m then m = x end
  end
  local out = {}
  for i = 1, #v do out[i] = m > 0 and 100 * v[i] / m or 0 end
  return out
end
M.scale100 = scale100

-- generic(p, name, units) -> the generic guess (-100..100) for an attribute: what the subject
-- believes about that attribute in any context, from its name and units alone.
local function generic(p, name, units)
  return 200 * uniform(hash.string(name .. "\t" .. units, p.seed)) - 100
end

-- native(p, ctx) -> theta (intercept first), generic guesses, misbelief (all deterministic).
local function native(p, ctx)
  local seed = combine(p.seed, ctx.hash)
  local rho = p.native_generic
  local g, v, e = {}, {}, {}
  for i = 1, ctx.k do
    g[i] = generic(p, ctx.names[i], ctx.units[i])
    local u = 200 * uniform(combine(seed, i)) - 100
    v[i] = rho * g[i] + sqrt(1 - rho * rho) * u
    e[i] = p.misbelief_sd * normal(combine(seed, 100 + i))
  end
  v = scale100(v)
  local theta = { p.native_bias + 0.2 * normal(combine(seed, 0)) }
  for i = 1, ctx.k do theta[i + 1] = p.native_scale * v[i] / 100 end
  return theta, g, e
end

-- Model:override(key) -> the nearest override for a context key along the parent chain, or nil.
function Model:override(key)
  local m = self
  while m do
    local o = m.contexts[key]
    if o then return o end
    m = m.parent
  end
  return nil
end

-- condition_key(ch) -> the text key of a condition hash in an override's conditions table.
local function condition_key(ch) return hash.hex(ch, 16) end
M.condition_key = condition_key

-- Model:state(ctx, ch) -> resolved state for a context under a condition (cached; ch nil or 0:
-- the context itself): {theta= (the condition's weights: the context's plus the condition's
-- delta), range=|nil, generic=, misbelief=, memory=|nil, exposure= {[instruction]=S}}
function Model:state(ctx, ch)
  ch = ch or 0
  local by_cond = self.cache[ctx]
  if not by_cond then
    by_cond = {}
    self.cache[ctx] = by_cond
  end
  local st = by_cond[ch]
  if st then return st end
  local p = self.profile
  local theta, g, e = native(p, ctx)
  local o = self:override(ctx.key)
  local exposure, memory, range = {}, nil, nil
  if o then
    theta = o.theta or theta
    range, exposure, memory = o.range, as_table(o.exposure), o.memory
    local delta = ch ~= 0 and o.conditions and o.conditions[condition_key(ch)]
    if delta then
      local cell = {}
      for j = 1, #theta do cell[j] = theta[j] + delta[j] end
      theta = cell
    end
  end
  st = { theta = theta, range = range, generic = g, misbelief = e, memory = memory, exposure = exposure,
         reports = {} }
  by_cond[ch] = st
  return st
end

-- word_set(text) -> set of the lower-case words of a text, and their number (cached).
local WORDS, word_count = {}, 0
local function word_set(text)
  local w = WORDS[text]
  if w then return w end
  if word_count > 1000 then WORDS, word_count = {}, 0 end
  w = { n = 0, set = {} }
  for word in text:lower():gmatch("[%w_]+") do
    if not w.set[word] then w.set[word] = true; w.n = w.n + 1 end
  end
  WORDS[text], word_count = w, word_count + 1
  return w
end

-- similarity(x, y) -> the similarity of two instruction texts: the Jaccard index of their sets of
-- lower-case words (1 for equal texts; "*" matches every wording).
local function similarity(x, y)
  if x == y or y == "*" or x == "*" then return 1 end
  local a, b = word_set(x), word_set(y)
  local both = 0
  for word in pairs(a.set) do if b.set[word] then both = both + 1 end end
  local union = a.n + b.n - both
  return union > 0 and both / union or 0
end
M.similarity = similarity

-- transferred(amounts, instruction) -> sum of amounts[J] * similarity(instruction, J)
local function transferred(amounts, instruction)
  local s = 0
  for j, amount in pairs(amounts) do s = s + amount * similarity(instruction, j) end
  return s
end
M.transferred = transferred

-- Model:report_state(st, instruction) -> {access=, sigma=, malformed=, mu=, skill=, exposure=}:
-- how the model reports under a state (Model:state) when asked in this wording (cached).
function Model:report_state(st, instruction)
  instruction = instruction or "*"
  local rs = st.reports[instruction]
  if rs then return rs end
  local p = self.profile
  local G = self.skill_cache[instruction]
  if not G then
    G = transferred(self.skill, instruction)
    self.skill_cache[instruction] = G
  end
  local S = transferred(st.exposure, instruction)
  local Gr = G * p.skill_rate
  local a = p.access + (p.access_max - p.access) * (1 - exp(-Gr)) + (self.access_shift or 0)
  a = math.min(1, math.max(0, a))
  local covered = 1 - exp(-S / 3)
  a = a + (1 - a) * p.covered_access * covered
  local sigma = p.report_noise * (p.report_noise_min + (1 - p.report_noise_min) * exp(-Gr))
  sigma = sigma * (1 - 0.5 * covered)
  rs = { access = a, sigma = sigma, malformed = p.malformed * exp(-2 * Gr) * exp(-S / 3),
         mu = st.memory and p.covered_memory * covered or 0, skill = G, exposure = S }
  st.reports[instruction] = rs
  return rs
end

-- magnitude(x, y) -> the order-of-magnitude scale the subject uses for an attribute whose range
-- it has not learned: 10^ceil(log10(max(|x|, |y|))).
local function magnitude(x, y)
  if x < 0 then x = -x end   -- max(abs(x), abs(y)) without the calls (a zero's sign cannot matter)
  if y < 0 then y = -y end
  local m = y > x and y or x
  if m == 0 then return 1 end
  return 10 ^ ceil(log(m, 10) - 1e-12)
end
M.magnitude = magnitude

-- prompt_hash(parsed, extra) -> integer: the identity of a prompt (context, instruction, values).
function M.prompt_hash(parsed, extra)
  return hash.string(parsed.values_text, combine(parsed.ctx.hash, extra or 0))
end

-- Model:logit(parsed, st) -> utility difference A - B in logits, without the prompt noise.
function Model:logit(parsed, st)
  st = st or self:state(parsed.ctx)
  local theta, range, a, b = st.theta, st.range, parsed.a, parsed.b
  local z = theta[1]
  for i = 1, #a do
    local r = range and range[i] or magnitude(a[i], b[i])
    z = z + theta[i + 1] * (a[i] - b[i]) / r
  end
  return z
end

-- Model:decision_logit(parsed, phash, ch) -> logit of "A" for this exact prompt under condition
-- ch: the utility difference plus the prompt's own logistic noise (fixed per prompt, so T=0 is
-- deterministic).
function Model:decision_logit(parsed, phash, ch)
  local p = self.profile
  return self:logit(parsed, self:state(parsed.ctx, ch)) + p.choice_noise * logistic(combine(p.seed, phash))
end

-- log_sigmoid(z) -> log(1 / (1 + exp(-z))), stable for large |z|.
local function log_sigmoid(z)
  if z >= 0 then return -log(1 + exp(-z)) end
  return z - log(1 + exp(z))
end
M.log_sigmoid = log_sigmoid

-- Model:decide(parsed, phash, temperature, seed, index, ch) -> "A"|"B", logprob_A, logprob_B
function Model:decide(parsed, phash, temperature, seed, index, ch)
  local z = self:decision_logit(parsed, phash, ch)
  local la, lb = log_sigmoid(z), log_sigmoid(-z)
  local answer
  if not temperature or temperature <= 0 then
    answer = z >= 0 and "A" or "B"
  else
    local u = uniform(combine(combine(phash, seed or 0), 1000 + (index or 0)))
    local pa = 1 / (1 + exp(-z / temperature))
    answer = u < pa and "A" or "B"
  end
  return answer, la, lb
end

-- Model:weights(ctx, ch) -> the subject's actual current weights for a context under condition
-- ch (nil: the context's own), scaled like the study's weights (largest |w| = 100).
function Model:weights(ctx, ch)
  local theta = self:state(ctx, ch).theta
  local v = {}
  for i = 2, #theta do v[i - 1] = theta[i] end
  return scale100(v)
end

-- rationale(parsed, st, decided) -> the report that would best justify choosing `decided` on
-- these options: the signed normalized differences s * (A_i - B_i) / R_i, largest |.| = 100.
local function rationale(parsed, st, decided)
  local s, c, a, b = decided == "A" and 1 or -1, {}, parsed.a, parsed.b
  for i = 1, #a do
    local r = st.range and st.range[i] or magnitude(a[i], b[i])
    c[i] = s * (a[i] - b[i]) / r
  end
  return scale100(c)
end
M.rationale = rationale

-- Model:report_mean(ctx, ch, instruction, decided, decision) -> the expected report (before
-- per-prompt noise and rescaling) about the weights of condition ch, asked in `instruction`;
-- after a decision `decided` on the options `decision` (a parsed prompt), pulled toward the
-- choice's rationale by the profile's `rationalization`.
function Model:report_mean(ctx, ch, instruction, decided, decision)
  local st = self:state(ctx, ch)
  local rs = self:report_state(st, instruction)
  local p = self.profile
  local w = self:weights(ctx, ch)
  local a, gs = rs.access, p.generic_share
  local r = {}
  for i = 1, ctx.k do
    r[i] = a * w[i] + (1 - a) * (gs * st.generic[i] + (1 - gs) * st.misbelief[i])
    if st.memory then r[i] = (1 - rs.mu) * r[i] + rs.mu * st.memory[i] end
  end
  if decided then
    local c, pull = rationale(decision, st, decided), p.rationalization
    for i = 1, ctx.k do r[i] = (1 - pull) * r[i] + pull * c[i] end
  end
  return r, rs
end

local function round(x) return floor(x + 0.5) end

local json_key = require("introspect.core.util").memo(require("cjson").encode)   -- names repeat

-- humanize(name) -> a wrong key for a malformed reply ("caffeine_content" -> "Caffeine content").
local function humanize(name)
  local h = name:gsub("_", " "):gsub("^%l", string.upper)
  if h == name then h = name .. " weight" end
  return h
end

-- ranking_text(r, names, n, kind) -> a ranking reply: the first n names in order of decreasing
-- |r| (ties: attribute order), one "i. name" line each; a malformed kind changes it as it
-- changes a JSON reply (extra_text: a sentence first; wrong_keys: humanized names).
function M.ranking_text(r, names, n, kind)
  local order = {}
  for i = 1, #names do order[i] = i end
  table.sort(order, function(x, y)
    if abs(r[x]) ~= abs(r[y]) then return abs(r[x]) > abs(r[y]) end
    return x < y
  end)
  local lines = {}
  for pos = 1, n do
    local name = names[order[pos]]
    lines[pos] = string.format("%d. %s", pos, kind == "wrong_keys" and humanize(name) or name)
  end
  local text = table.concat(lines, "\n")
  if kind == "extra_text" then text = "Here is how I ranked them, most important first:\n" .. text end
  return text
end

-- Model:report(q, temperature, seed, index) -> reply text, kind: a report for a query from
-- conversation.read ({parsed=, phash=, ch=, instruction=, decided=, decision=}): usually a JSON
-- object; a ranking of the attributes by importance when q.kind == "ranking". The older form
-- Model:report(parsed, phash, temperature, seed, index) asks with the prompt's own instruction
-- and no condition.
function Model:report(q, temperature, seed, index, old_index)
  if q.ctx then   -- report(parsed, phash, temperature, seed, index)
    q, temperature, seed, index = { parsed = q, phash = temperature, kind = q.kind, instruction = q.instruction },
      seed, index, old_index
  end
  local parsed = q.parsed
  local ctx = parsed.ctx
  local mean, rs = self:report_mean(ctx, q.ch, q.instruction, q.decided, q.decision)
  local h = combine(self.noise_seed, q.phash)
  local hs = combine(combine(h, seed or 0), 1000 + (index or 0))
  local t = temperature or 0
  local r = {}
  for i = 1, ctx.k do
    r[i] = mean[i] + rs.sigma * normal(combine(h, 200 + i))
    if t > 0 then r[i] = r[i] + t * 0.5 * rs.sigma * normal(combine(hs, 200 + i)) end
  end
  r = scale100(r)
  local keys = ctx.names
  local kind = "valid"
  local uh = t > 0 and hs or h
  if uniform(combine(uh, 300)) < rs.malformed then
    local f = floor(uniform(combine(uh, 301)) * 3)
    kind = f == 0 and "extra_text" or f == 1 and "wrong_keys" or "missing_key"
  end
  local n = ctx.k
  if kind == "missing_key" and n > 1 then n = n - 1 end
  if (q.kind or parsed.kind) == "ranking" then return M.ranking_text(r, keys, n, kind), kind end
  local parts = {}
  for i = 1, n do
    local key = kind == "wrong_keys" and humanize(keys[i]) or keys[i]
    parts[i] = json_key(key) .. ": " .. string.format("%d", round(r[i]))
  end
  local text = "{" .. table.concat(parts, ", ") .. "}"
  if kind == "extra_text" then
    text = "Here are the weights I believe I used:\n" .. text
  elseif uniform(combine(uh, 302)) < 0.1 then
    text = "```json\n" .. text .. "\n```"
  end
  return text, kind
end

return M
