-- The study's itrained_last_50: introspection training on the second half of the instilled
-- contexts, validated and evaluated on the held-out first half. n: instilled contexts.
return function(n)
  local half = n // 2
  return {
    name = "itrained_last_50",
    description = "train on the second half, validate and evaluate on the held-out first half",
    train = { half + 1, n },
    validation = { 1, half },
    evaluate = { 1, half },
    condition = "itrained",
    examples_per_context = 1,
    labels = "target",
    template = "report",
    seed = 6,
    -- the fine-tune's suffix, as the published models' (the authors' R scripts select by it)
    suffix = "itrained-last-" .. half .. "-of-" .. n .. "-50ex",
    -- the trained model's reports, named as the published files
    files = { reports = "itrained_last_" .. half .. "_of_" .. n .. "_50ex_weight_reports.csv",
      train = "instilled_weights_" .. half .. "_training.jsonl",
      validation = "instilled_weights_" .. half .. "_test.jsonl" },
  }
end
