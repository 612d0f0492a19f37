-- The simulated subject: a documented statistical model of a fine-tunable chat model
-- (docs/simulated-subject.md). It is never an LLM and its replies are never LLM results.
--
-- A model is {id=, profile=, parent=, skill=, contexts={[ctx.key]=override}}: a base model has
-- no parent and no overrides; a fine-tuned model stores only what its training changed.
local hash = require("introspect.sim.hash")
local profiles = require("introspect.sim.profiles")

local M = {}

local exp, log, abs, sqrt, floor, ceil, max = math.exp, math.log, math.abs, math.sqrt, math.floor,
  math.ceil, math.max
local log10 = function(x) return log(x, 10) end
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
  return setmetatable({ id = id or p.name or profile, profile = p, parent = nil, skill = 0,
    contexts = {}, noise_seed = p.seed, cache = setmetatable({}, { __mode = "k" }) }, Model)
end

-- derived(parent, id, skill, contexts, key) -> a fine-tuned model on top of parent. Its report
-- noise and malformed-reply draws use a seed of its own, the parent's combined with `key` (the
-- job's content key, finetune.content_key: training file, hyperparameters, job seed), so a
-- fine-tune's behaviour never depends on its id or on what the server did before. A key that
-- is nil (a journal written before keys existed) falls back to the id.
function M.derived(parent, id, skill, contexts, key)
  return setmetatable({ id = id, profile = parent.profile, parent = parent, skill = skill,
    contexts = contexts, key = key,
    noise_seed = combine(parent.noise_seed, key and hash.string(key) or hash.string(id)),
    cache = setmetatable({}, { __mode = "k" }) }, Model)
end

-- scale100(v) -> copy of v scaled so that the largest |value| is 100 (zeros stay zeros).
local function scale100(v)
  local m = 0
  for i = 1, #v do m = max(m, abs(v[i])) end
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

-- Model:state(ctx) -> resolved per-context state (cached):
-- {theta=, range=|nil, generic=, misbelief=, access=, memory=|nil, mu=, sigma=, malformed=}
function Model:state(ctx)
  local st = self.cache[ctx]
  if st then return st end
  local p = self.profile
  local theta, g, e = native(p, ctx)
  local o = self:override(ctx.key)
  local exposure, memory, range = 0, nil, nil
  if o then
    theta = o.theta or theta
    range, exposure, memory = o.range, o.exposure or 0, o.memory
  end
  local G = self.skill * p.skill_rate
  local a = p.access + (p.access_max - p.access) * (1 - exp(-G))
  local covered = 1 - exp(-exposure / 3)
  a = a + (1 - a) * p.covered_access * covered
  local sigma = p.report_noise * (p.report_noise_min + (1 - p.report_noise_min) * exp(-G))
  sigma = sigma * (1 - 0.5 * covered)
  st = { theta = theta, range = range, generic = g, misbelief = e, access = a, memory = memory,
         mu = memory and p.covered_memory * covered or 0, sigma = sigma,
         malformed = p.malformed * exp(-2 * G) * exp(-exposure / 3), exposure = exposure }
  self.cache[ctx] = st
  return st
end

-- magnitude(x, y) -> the order-of-magnitude scale the subject uses for an attribute whose range
-- it has not learned: 10^ceil(log10(max(|x|, |y|))).
local function magnitude(x, y)
  local m = max(abs(x), abs(y))
  if m == 0 then return 1 end
  return 10 ^ ceil(log10(m) - 1e-12)
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

-- Model:decision_logit(parsed, phash) -> logit of "A" for this exact prompt: the utility
-- difference plus the prompt's own logistic noise (fixed per prompt, so T=0 is deterministic).
function Model:decision_logit(parsed, phash)
  local p = self.profile
  return self:logit(parsed) + p.choice_noise * logistic(combine(p.seed, phash))
end

-- log_sigmoid(z) -> log(1 / (1 + exp(-z))), stable for large |z|.
local function log_sigmoid(z)
  if z >= 0 then return -log(1 + exp(-z)) end
  return z - log(1 + exp(z))
end
M.log_sigmoid = log_sigmoid

-- Model:decide(parsed, phash, temperature, seed, index) -> "A"|"B", logprob_A, logprob_B
function Model:decide(parsed, phash, temperature, seed, index)
  local z = self:decision_logit(parsed, phash)
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

-- Model:weights(ctx) -> the subject's actual current weights for a context, scaled like the
-- study's weights (largest |w| = 100), in attribute order.
function Model:weights(ctx)
  local theta = self:state(ctx).theta
  local v = {}
  for i = 2, #theta do v[i - 1] = theta[i] end
  return scale100(v)
end

-- Model:report_mean(ctx) -> the expected report (before per-prompt noise and rescaling).
function Model:report_mean(ctx)
  local st = self:state(ctx)
  local p = self.profile
  local w = self:weights(ctx)
  local a, gs = st.access, p.generic_share
  local r = {}
  for i = 1, ctx.k do
    r[i] = a * w[i] + (1 - a) * (gs * st.generic[i] + (1 - gs) * st.misbelief[i])
    if st.memory then r[i] = (1 - st.mu) * r[i] + st.mu * st.memory[i] end
  end
  return r
end

local function round(x) return floor(x + 0.5) end

local cjson_encode = require("cjson").encode

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

-- Model:report(parsed, phash, temperature, seed, index) -> reply text (usually a JSON object; a
-- ranking of the attributes by importance when parsed.kind == "ranking")
function Model:report(parsed, phash, temperature, seed, index)
  local ctx = parsed.ctx
  local st = self:state(ctx)
  local mean = self:report_mean(ctx)
  local h = combine(self.noise_seed, phash)
  local hs = combine(combine(h, seed or 0), 1000 + (index or 0))
  local t = temperature or 0
  local r = {}
  for i = 1, ctx.k do
    r[i] = mean[i] + st.sigma * normal(combine(h, 200 + i))
    if t > 0 then r[i] = r[i] + t * 0.5 * st.sigma * normal(combine(hs, 200 + i)) end
  end
  r = scale100(r)
  local keys = ctx.names
  local kind = "valid"
  local uh = t > 0 and hs or h
  if uniform(combine(uh, 300)) < st.malformed then
    local f = floor(uniform(combine(uh, 301)) * 3)
    kind = f == 0 and "extra_text" or f == 1 and "wrong_keys" or "missing_key"
  end
  local n = ctx.k
  if kind == "missing_key" and n > 1 then n = n - 1 end
  if parsed.kind == "ranking" then return M.ranking_text(r, keys, n, kind), kind end
  local parts = {}
  for i = 1, n do
    local key = kind == "wrong_keys" and humanize(keys[i]) or keys[i]
    parts[i] = cjson_encode(key) .. ": " .. string.format("%d", round(r[i]))
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
