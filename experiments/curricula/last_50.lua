-- The study's itrained_last_50: introspection training on contexts 51-100, validated on 1-50,
-- evaluated on the held-out contexts 1-50.
return {
  name = "itrained_last_50",
  description = "train 51-100, validate and evaluate on held-out 1-50",
  train = { 51, 100 },
  validation = { 1, 50 },
  evaluate = { 1, 50 },
  condition = "itrained",
  examples_per_context = 1,
  labels = "target",
  template = "report",
  seed = 6,
  files = { train = "instilled_weights_50_training.jsonl", validation = "instilled_weights_50_test.jsonl" },
}
