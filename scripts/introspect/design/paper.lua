-- The paper's design in one table (method.md; Plunkett et al. 2025): sizes, seeds, token limits,
-- the accuracy conditions, the published file names and CSV layouts, and the published
-- reference numbers. experiments/paper.lua, introspect.analysis, introspect.run.report,
-- introspect.run.runview, the study steps and experiments/analyze-published.lua all read it
-- from here; nothing else spells these numbers or names. Data only (plus the functions that
-- spell a file name or a CSV header for k attributes).
local M = {}

-- Sizes of the study (method.md sections 1 and 3).
M.contexts = 100          -- instilled contexts 1..n; native contexts n+1..2n
M.trials = 50             -- choices per instilled context; native contexts get twice as many
M.reports = 10            -- report prompts per context and model
M.attributes = 5          -- attributes per scenario in the study (any k works in the steps)
M.scenario_contexts = 1100  -- contexts (scenario + role) written to scenarios.csv
M.train_per_context = 50  -- simulated choices per context in the instill training file
M.val_per_context = 10    -- ... and in its validation file

-- Seeds. Stimuli: the published generator seeds (rng = "python" reproduces the files).
-- Sampling: the trials of the measured choices and of the report prompts. finetune: every
-- fine-tuning job's seed unless a step gives its own.
M.seeds = {
  stimuli = { roles = 0, weights = 1, selections = 2, validation = 5, introspection = 6 },
  choices = 5, native_choices = 2, reports = 7,
  finetune = 4,
}

-- max_completion_tokens of a decision request and of a report request.
M.tokens = { choice = 5, report = 200 }

-- The accuracy conditions in the order the study reports them: which learned weights each is
-- compared with, and its labels in reports.
M.conditions = {
  { key = "base", learned = "learned", label = "Control: base model's reports vs instilled weights",
    short = "Control (base model)" },
  { key = "instilled", learned = "learned", label = "Instilled model (instilled contexts)", short = "Instilled" },
  { key = "itrained", learned = "learned", label = "Introspection-trained, held-out contexts",
    short = "Trained, held-out" },
  { key = "native_instilled", learned = "native_learned", label = "Native preferences, before training",
    short = "Native, before" },
  { key = "native_itrained", learned = "native_learned", label = "Native preferences, after training",
    short = "Native, after" },
}
M.condition_keys, M.learned_of = {}, {}
for i, c in ipairs(M.conditions) do
  M.condition_keys[i] = c.key
  M.learned_of[c.key] = c.learned
end

-- The training effects: the slope difference between each pair of conditions.
M.training_effects = {
  { key = "training_effect", untrained = "instilled", trained = "itrained" },
  { key = "native_training_effect", untrained = "native_instilled", trained = "native_itrained" },
}

-- The names the authors' R effects script selects rows by (docs/reproducing-the-paper.md, "The
-- authors' R scripts"): the instilled model's fine-tune suffix ("100-instilled-prefs-50ex"; the
-- curricula name their own, "itrained-first-50-of-100-50ex"), and the report `version` of the
-- instilled contexts 1..n ("instilled_100") and of the native contexts n+1..2n
-- ("latent_100-200"). replicate r > 1 of a fine-tune puts "rR-" before its suffix (kept within
-- the 30 characters Together keeps: "r2-itrained-first-50-of-100-50ex" stays distinct).
M.names = {
  instill_suffix = function(n) return string.format("%d-instilled-prefs-%dex", n, M.train_per_context) end,
  version = function(n) return "instilled_" .. n end,
  native_version = function(n) return string.format("latent_%d-%d", n, 2 * n) end,
  replicate_suffix = function(suffix, r) return r > 1 and ("r" .. r .. "-" .. suffix) or suffix end,
}

-- The published files of one base model MODEL, by role (suffixes after "MODEL_"). The nine
-- stimulus files are named by introspect.design.trainfiles.study_files (their names depend on n).
M.files = {
  selections = "_instilled_selections.csv",
  native_selections = "_instilled_latent_selections.csv",
  learned = "_regression_results.csv",
  native_learned = "_latent_regression_results.csv",
  soft_learned = "_soft_regression_results.csv",
  reports = {
    base = { "_weight_reports.csv" },
    instilled = { "_instilled_weight_reports.csv" },
    itrained = { "_itrained_first_50_of_100_50ex_weight_reports.csv",
                 "_itrained_last_50_of_100_50ex_weight_reports.csv" },
    native_instilled = { "_instilled_latent_weight_reports.csv" },
    native_itrained = { "_itrained_all_100_50ex_latent_weight_reports.csv" },
  },
  -- shared by every model
  scenarios = "scenarios.csv",
  scenarios_json = "candidate_scenarios.json",
  targets = "instilled_weights.csv",
}

-- columns(prefix, k) -> {prefix1, ..., prefixk}
function M.columns(prefix, k)
  local t = {}
  for i = 1, k do t[i] = prefix .. i end
  return t
end

local join = require("introspect.core.util").concat_lists

-- The published CSV layouts for k attributes.
M.headers = {
  -- explaining_model,version,scenario,report_attr1..k,A_attribute_1..k,B_attribute_1..k
  reports = function(k)
    return join({ "explaining_model", "version", "scenario" }, M.columns("report_attr", k),
      M.columns("A_attribute_", k), M.columns("B_attribute_", k))
  end,
  -- model,scenario,selection,A_attribute_1..k,B_attribute_1..k
  selections = function(k)
    return join({ "model", "scenario", "selection" }, M.columns("A_attribute_", k), M.columns("B_attribute_", k))
  end,
  -- scenario,b_attr1..k (learned weights)
  learned = function(k) return join({ "scenario" }, M.columns("b_attr", k)) end,
  -- scenario,attr1..k (target weights)
  targets = function(k) return join({ "scenario" }, M.columns("attr", k)) end,
  -- scenario,row,p_a (P(A) of each valid choice, with --logprobs)
  probs = { "scenario", "row", "p_a" },
}

-- The study's published reference numbers (method.md section 5: recomputed from the published
-- CSVs for gpt-4o-mini-2024-07-18; OLS slope and Pearson r), shown beside a run's own.
M.published = {
  model = "gpt-4o-mini-2024-07-18 (published)",
  learned_vs_target = { r = 0.871, n = 500 },
  reports = {
    base = { slope = -0.008, r = -0.008, n = 480 },
    instilled = { slope = 0.5045, r = 0.506, n = 395, contexts = 79 },
    itrained = { slope = 0.753, r = 0.752, n = 500 },
    native_instilled = { slope = 0.394, r = 0.398, n = 380, contexts = 76 },
    native_itrained = { slope = 0.699, r = 0.699, n = 500 },
  },
}

return M
