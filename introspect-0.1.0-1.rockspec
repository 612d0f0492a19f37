-- LuaRocks rockspec for introspect's Lua library and C bindings (no host executable).
--   luarocks --lua-version=5.4 make                  (from the repository root; offline)
--   luarocks --lua-version=5.4 --tree=DIR make       (into a separate tree)
-- Afterwards a plain `lua5.4` with the tree's paths runs `require "introspect"`. The C bindings
-- are built against the system libraries CMakeLists.txt finds with pkg-config (lua5.4, libcurl,
-- gsl, libmicrohttpd, sqlite3; Debian: liblua5.4-dev libcurl4-openssl-dev libgsl-dev
-- libmicrohttpd-dev libsqlite3-dev libzstd-dev). JSON needs lua-cjson (Debian: lua-cjson), which is not a
-- LuaRocks dependency here so that `luarocks make` needs no network.
-- tests/cli/luarocks.sh checks that every scripts/introspect/*.lua is listed under modules.
rockspec_format = "3.0"
package = "introspect"
version = "0.1.0-1"
source = { url = "git+file://." }
description = {
  summary = "Measure how accurately LLMs describe their own decision weights",
  detailed = [[
introspect is an embeddable C host scripted in Lua 5.4 for self-report (introspection)
experiments: fine-tune to instill preferences, measure learned weights by logistic regression,
ask for self-reports and compare. This rock installs the Lua library and its C bindings.]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = {
  -- libcurl: checked by library only (Debian keeps curl/curl.h in the multiarch include directory,
  -- which the compiler searches but LuaRocks' header check does not)
  CURL = { library = "curl" },
  GSL = { header = "gsl/gsl_math.h", library = "gsl" },
  MHD = { header = "microhttpd.h", library = "microhttpd" },
  SQLITE = { header = "sqlite3.h", library = "sqlite3" },
  ZSTD = { header = "zstd.h", library = "zstd" },
}
build = {
  type = "builtin",
  modules = {
    -- C bindings (bindings/NAME.c -> introspect.NAME)
    ["introspect.rng"] = { sources = { "bindings/rng.c" }, libraries = { "m" } },
    ["introspect.pyjson"] = { sources = { "bindings/pyjson.c" }, libraries = { "m" }, incdirs = { "bindings" } },
    ["introspect.stats"] = { sources = { "bindings/stats.c", "bindings/stats_posterior.c",
      "bindings/stats_sampler.c", "bindings/stats_bootstrap.c" }, libraries = { "gsl", "gslcblas", "m" },
      incdirs = { "$(GSL_INCDIR)" }, libdirs = { "$(GSL_LIBDIR)" } },
    ["introspect.http"] = { sources = { "bindings/http.c" }, libraries = { "curl", "m" },
      incdirs = { "bindings", "$(CURL_INCDIR)" }, libdirs = { "$(CURL_LIBDIR)" } },
    ["introspect.sqlite"] = { sources = { "bindings/sqlite.c" }, libraries = { "sqlite3" },
      incdirs = { "$(SQLITE_INCDIR)" }, libdirs = { "$(SQLITE_LIBDIR)" } },
    ["introspect.httpd"] = { sources = { "bindings/httpd.c" }, libraries = { "microhttpd" },
      incdirs = { "$(MHD_INCDIR)" }, libdirs = { "$(MHD_LIBDIR)" } },
    ["introspect.sys"] = { sources = { "bindings/sys.c" } },
    ["introspect.simcore"] = { sources = { "bindings/simcore.c" }, libraries = { "m" } },
    ["introspect.worker"] = { sources = { "bindings/worker.c", "bindings/lalloc.c" }, libraries = { "pthread" } },
    ["introspect.zstd"] = { sources = { "bindings/zstd.c" }, libraries = { "zstd" },
      incdirs = { "$(ZSTD_INCDIR)" }, libdirs = { "$(ZSTD_LIBDIR)" } },
    ["introspect.coverage"] = { sources = { "bindings/coverage.c" } },
    -- the default scenario library and roles (found by ix.use when experiments/ is absent)
    ["introspect.default_scenarios"] = "experiments/scenarios/library.lua",
    ["introspect.default_roles"] = "experiments/scenarios/roles.lua",
    -- the Lua library (scripts/introspect/)
    ["introspect.analysis"] = "scripts/introspect/analysis.lua",
    ["introspect.analysis.agreement"] = "scripts/introspect/analysis/agreement.lua",
    ["introspect.analysis.bayes"] = "scripts/introspect/analysis/bayes.lua",
    ["introspect.analysis.bootstrap"] = "scripts/introspect/analysis/bootstrap.lua",
    ["introspect.analysis.contrasts"] = "scripts/introspect/analysis/contrasts.lua",
    ["introspect.analysis.replicates"] = "scripts/introspect/analysis/replicates.lua",
    ["introspect.analysis.samples"] = "scripts/introspect/analysis/samples.lua",
    ["introspect.analysis.tables"] = "scripts/introspect/analysis/tables.lua",
    ["introspect.client.apierror"] = "scripts/introspect/client/apierror.lua",
    ["introspect.client.backend"] = "scripts/introspect/client/backend.lua",
    ["introspect.cmd.help"] = "scripts/introspect/cmd/help.lua",
    ["introspect.cmd.probe"] = "scripts/introspect/cmd/probe.lua",
    ["introspect.cmd.repl"] = "scripts/introspect/cmd/repl.lua",
    ["introspect.cmd.serve"] = "scripts/introspect/cmd/serve.lua",
    ["introspect.cmd.store"] = "scripts/introspect/cmd/store.lua",
    ["introspect.cmd.version"] = "scripts/introspect/cmd/version.lua",
    ["introspect.client.cost"] = "scripts/introspect/client/cost.lua",
    ["introspect.run.entry"] = "scripts/introspect/run/entry.lua",
    ["introspect.core.suggest"] = "scripts/introspect/core/suggest.lua",
    ["introspect.client.preflight"] = "scripts/introspect/client/preflight.lua",
    ["introspect.core.csv"] = "scripts/introspect/core/csv.lua",
    ["introspect.design.curriculum"] = "scripts/introspect/design/curriculum.lua",
    ["introspect"] = "scripts/introspect/init.lua",
    ["introspect.client.planner"] = "scripts/introspect/client/planner.lua",
    ["introspect.client.openai"] = "scripts/introspect/client/openai.lua",
    ["introspect.client.batch"] = "scripts/introspect/client/batch.lua",
    ["introspect.client.files"] = "scripts/introspect/client/files.lua",
    ["introspect.client.finetune"] = "scripts/introspect/client/finetune.lua",
    ["introspect.client.finetune_openai"] = "scripts/introspect/client/finetune_openai.lua",
    ["introspect.client.finetune_command"] = "scripts/introspect/client/finetune_command.lua",
    ["introspect.client.finetune_slurm"] = "scripts/introspect/client/finetune_slurm.lua",
    ["introspect.client.finetune_together"] = "scripts/introspect/client/finetune_together.lua",
    ["introspect.core.options"] = "scripts/introspect/core/options.lua",
    ["introspect.run.plot"] = "scripts/introspect/run/plot.lua",
    ["introspect.repl.pretty"] = "scripts/introspect/repl/pretty.lua",
    ["introspect.core.progress"] = "scripts/introspect/core/progress.lua",
    ["introspect.design.paper"] = "scripts/introspect/design/paper.lua",
    ["introspect.design.prompts"] = "scripts/introspect/design/prompts.lua",
    ["introspect.core.pyjson"] = "scripts/introspect/core/pyjson.lua",
    ["introspect.core.linalg"] = "scripts/introspect/core/linalg.lua",
    ["introspect.repl.helpers"] = "scripts/introspect/repl/helpers.lua",
    ["introspect.design.replies"] = "scripts/introspect/design/replies.lua",
    ["introspect.run.report"] = "scripts/introspect/run/report.lua",
    ["introspect.run.rundir"] = "scripts/introspect/run/rundir.lua",
    ["introspect.run.runview"] = "scripts/introspect/run/runview.lua",
    ["introspect.design.scenarios"] = "scripts/introspect/design/scenarios.lua",
    ["introspect.sim.api"] = "scripts/introspect/sim/api.lua",
    ["introspect.sim.batches"] = "scripts/introspect/sim/batches.lua",
    ["introspect.sim.chat"] = "scripts/introspect/sim/chat.lua",
    ["introspect.sim.conversation"] = "scripts/introspect/sim/conversation.lua",
    ["introspect.sim.faults"] = "scripts/introspect/sim/faults.lua",
    ["introspect.sim.files"] = "scripts/introspect/sim/files.lua",
    ["introspect.sim.finetune"] = "scripts/introspect/sim/finetune.lua",
    ["introspect.sim.hash"] = "scripts/introspect/sim/hash.lua",
    ["introspect.sim"] = "scripts/introspect/sim/init.lua",
    ["introspect.sim.jobs"] = "scripts/introspect/sim/jobs.lua",
    ["introspect.sim.models"] = "scripts/introspect/sim/models.lua",
    ["introspect.sim.profiles"] = "scripts/introspect/sim/profiles.lua",
    ["introspect.sim.prompt"] = "scripts/introspect/sim/prompt.lua",
    ["introspect.sim.server"] = "scripts/introspect/sim/server.lua",
    ["introspect.sim.state"] = "scripts/introspect/sim/state.lua",
    ["introspect.sim.thread"] = "scripts/introspect/sim/thread.lua",
    ["introspect.sim.subject"] = "scripts/introspect/sim/subject.lua",
    ["introspect.sim.truth"] = "scripts/introspect/sim/truth.lua",
    ["introspect.design.stimuli"] = "scripts/introspect/design/stimuli.lua",
    ["introspect.client.store"] = "scripts/introspect/client/store.lua",
    ["introspect.client.store_schema"] = "scripts/introspect/client/store_schema.lua",
    ["introspect.study"] = "scripts/introspect/study/init.lua",
    ["introspect.study.finetune"] = "scripts/introspect/study/finetune.lua",
    ["introspect.study.analyze"] = "scripts/introspect/study/analyze.lua",
    ["introspect.study.session"] = "scripts/introspect/study/session.lua",
    ["introspect.study.steps"] = "scripts/introspect/study/steps.lua",
    ["introspect.core.tabular"] = "scripts/introspect/core/tabular.lua",
    ["introspect.design.trainfiles"] = "scripts/introspect/design/trainfiles.lua",
    ["introspect.core.util"] = "scripts/introspect/core/util.lua",
  },
}
