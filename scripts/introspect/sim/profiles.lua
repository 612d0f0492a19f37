-- Parameter sets of the simulated subject. Every parameter is explained in
-- docs/simulated-subject.md; a custom profile is a table with the same fields (missing fields
-- are taken from `base`).
local M = {}

-- Fields and their meaning (see docs/simulated-subject.md for the model equations):
M.FIELDS = {
  seed = "integer: seeds every deterministic draw of this profile",
  native_scale = "logit change for the full range of the most important attribute (native)",
  native_generic = "share (0..1) of the generic guess in the native weights",
  native_bias = "native intercept: logit in favour of option A",
  choice_noise = "scale of the per-prompt logistic noise added to the logit",
  access = "introspective access before any report training (0..1)",
  access_max = "introspective access reached by unlimited report training (0..1)",
  generic_share = "share of the generic guess (vs a per-context misbelief) when access is missing",
  misbelief_sd = "sd of the per-context misbelief (100-scale)",
  report_noise = "sd of the per-prompt report noise before training (100-scale)",
  report_noise_min = "fraction of report noise left after unlimited report training",
  malformed = "rate of malformed report replies before report training",
  skill_rate = "general skill gained per effective report example (per 100 examples)",
  covered_access = "extra access (0..1 of the remainder) for contexts covered by report training",
  covered_memory = "weight (0..1) of memorised target reports for covered contexts",
  learning_rate = "likelihood weight per epoch and unit learning-rate multiplier (choice examples)",
  prior_sd = "sd of the prior around the current slopes in a fine-tune",
  intercept_prior_sd = "sd of the prior around the current intercept in a fine-tune",
  update_noise = "sd of the seeded noise added to each updated slope (fine-tune randomness)",
  replicate_lr_sd = "sd of log learning strength between replicates (choice learning and skill gain per job seed)",
  replicate_sd = "between-replicate sd of report accuracy a fine-tune's seed causes (via a shift in access)",
  generalization = "0..1: share of the context's pooled fit in a trained condition's weights",
  rationalization = "0..1: pull of a report after a decision toward the rationale of the choice made",
}

M.base = {
  seed = 1,
  native_scale = 4.0,
  native_generic = 0.2,
  native_bias = 0.15,
  choice_noise = 1.0,
  access = 0.35,
  access_max = 0.62,
  generic_share = 0.5,
  misbelief_sd = 45,
  report_noise = 35,
  report_noise_min = 0.5,
  malformed = 0.2,
  skill_rate = 1.0,
  covered_access = 0.5,
  covered_memory = 0.6,
  learning_rate = 0.4,
  prior_sd = 3.0,
  intercept_prior_sd = 1.0,
  update_noise = 0.4,
  replicate_lr_sd = 0.25,
  replicate_sd = 0.07,
  generalization = 0.3,
  rationalization = 0.3,
}

local function derive(overrides)
  local p = {}
  for k, v in pairs(M.base) do p[k] = v end
  for k, v in pairs(overrides) do p[k] = v end
  return p
end
M.derive = derive

-- sim-small: a weaker subject (noisier choices and reports, many malformed reports), in the
-- spirit of the study's smaller model.
M["sim-small"] = derive {
  seed = 20240718,
  native_scale = 3.0,
  choice_noise = 1.0,
  access = 0.32,
  access_max = 0.50,
  report_noise = 40,
  malformed = 0.40,
}

-- sim-large: a stronger subject (sharper choices, better reports, few malformed replies).
M["sim-large"] = derive {
  seed = 20240806,
  native_scale = 4.0,
  choice_noise = 0.8,
  access = 0.31,
  access_max = 0.52,
  report_noise = 30,
  malformed = 0.08,
}

M.names = { "sim-small", "sim-large" }

-- accuracy(p, a) -> the report accuracy (Pearson r of mean reports with the weights) the
-- profile's equations imply at access a, for weights uniform on -100..100 and 10 reports per
-- context: a*s_w / sqrt(a^2*s_w^2 + (1 - a)^2*s_u^2 + s_n^2), s_w = 100/sqrt(3),
-- s_u^2 = generic_share^2*s_w^2 + (1 - generic_share)^2*misbelief_sd^2, s_n = report_noise/sqrt(10).
function M.accuracy(p, a)
  local sw2 = 100 * 100 / 3
  local gs = p.generic_share
  local su2 = gs * gs * sw2 + (1 - gs) ^ 2 * p.misbelief_sd ^ 2
  local sn2 = p.report_noise ^ 2 / 10
  return a * math.sqrt(sw2) / math.sqrt(a * a * sw2 + (1 - a) ^ 2 * su2 + sn2)
end

-- access_sd(p) -> the sd of a replicate's access shift that gives report accuracy the
-- between-replicate sd replicate_sd: replicate_sd / (d accuracy / d access at p.access).
function M.access_sd(p)
  local sd = p.replicate_sd or 0
  if sd == 0 then return 0 end
  local a, h = p.access, 1e-4
  return sd / ((M.accuracy(p, a + h) - M.accuracy(p, a - h)) / (2 * h))
end

-- get(name) -> profile | nil
function M.get(name)
  if name == "base" or name == "names" or name == "FIELDS" then return nil end
  local p = M[name]
  if type(p) == "table" then return p end
  return nil
end

return M
