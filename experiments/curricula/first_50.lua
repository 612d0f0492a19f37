-- The study's itrained_first_50: introspection training on the first half of the instilled
-- contexts (1-50 of 100; one example each, labelled with the instilled target weights),
-- validated and evaluated on the held-out second half (51-100). n: instilled contexts.
return function(n)
  local half = n // 2
  return {
    name = "itrained_first_50",
    description = "train on the first half, validate and evaluate on the held-out second half",
    train = { 1, half },
    validation = { half + 1, n },
    evaluate = { half + 1, n },
    condition = "itrained",
    examples_per_context = 1,
    labels = "target",
    template = "report",
    seed = 6,
    -- the fine-tune's suffix, as the published models' (the authors' R scripts select by it)
    suffix = "itrained-first-" .. half .. "-of-" .. n .. "-50ex",
    -- the trained model's reports, named as the published files
    files = { reports = "itrained_first_" .. half .. "_of_" .. n .. "_50ex_weight_reports.csv",
      train = "instilled_weights_" .. half .. "_training_test_last.jsonl",
      validation = "instilled_weights_" .. half .. "_test_test_last.jsonl" },
  }
end
