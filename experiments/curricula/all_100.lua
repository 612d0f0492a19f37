-- The study's itrained_all_100: introspection training on all instilled contexts (1-100), no
-- validation file, evaluated on the model's native (never instilled) preferences, contexts
-- 101-200. n: instilled contexts.
return function(n)
  return {
    name = "itrained_all_100",
    description = "train on all instilled contexts, evaluate on the native contexts",
    train = { 1, n },
    evaluate = { n + 1, 2 * n },
    condition = "native_itrained",
    examples_per_context = 1,
    labels = "target",
    template = "report",
    seed = 6,
    -- the fine-tune's suffix, as the published models' (the authors' R scripts select by it)
    suffix = "itrained-all-" .. n .. "-50ex",
    -- the trained model's reports, named as the published files
    files = { reports = "itrained_all_" .. n .. "_50ex_latent_weight_reports.csv",
      train = "instilled_weights_" .. n .. "_training.jsonl" },
  }
end
