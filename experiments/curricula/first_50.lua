-- The study's itrained_first_50: introspection training on contexts 1-50 (one example each,
-- labelled with the instilled target weights), validated on 51-100, evaluated on the held-out
-- contexts 51-100.
return {
  name = "itrained_first_50",
  description = "train 1-50, validate and evaluate on held-out 51-100",
  train = { 1, 50 },
  validation = { 51, 100 },
  evaluate = { 51, 100 },
  condition = "itrained",
  examples_per_context = 1,
  labels = "target",
  template = "report",
  seed = 6,
  files = { train = "instilled_weights_50_training_test_last.jsonl",
    validation = "instilled_weights_50_test_test_last.jsonl" },
}
