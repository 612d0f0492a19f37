-- The study's itrained_all_100: introspection training on all 100 instilled contexts, no
-- validation file, evaluated on the model's native (never instilled) preferences, contexts
-- 101-200.
return {
  name = "itrained_all_100",
  description = "train 1-100, evaluate on native contexts 101-200",
  train = { 1, 100 },
  evaluate = { 101, 200 },
  condition = "native_itrained",
  examples_per_context = 1,
  labels = "target",
  template = "report",
  seed = 6,
  files = { train = "instilled_weights_100_training.jsonl" },
}
