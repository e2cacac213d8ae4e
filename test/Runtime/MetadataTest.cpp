//===- MetadataTest.cpp - metadata, launch rules, packing -----------------===//
//
// The runtime reads every kernel's parameters, features and launch rules
// from metadata; these tests feed it metadata directly: modules of several
// kernels, malformed entries, the grid and workspace expressions (and the
// refusal of a workspace no entry point provides), and
// packing by name (so a parameter the runtime does not know, such as the
// seed's misplaced `stream`, is an error, not a shifted argument list).
//
//===----------------------------------------------------------------------===//

#include "Expr.h"
#include "Json.h"
#include "KernelRegistry.h"
#include "Launch.h"
#include "TestUtil.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace fa4::rt;

namespace {
ModuleInfo testModule() {
  ModuleInfo module;
  module.name = "m";
  module.target = "sm_90";
  return module;
}
} // namespace

FA4_TEST(moduleWithSeveralKernels) {
  ModuleInfo module = testModule();
  std::vector<KernelInfo> kernels;
  fa4_status s = parseModuleMetadata(R"j({"module": "m", "target": "sm_90",
      "kernels": [
        {"name": "attend", "threads": 256, "smem_bytes": 49152,
         "grid": ["cdiv(seqlen_q, 128)", "nheads_q", "batch * num_splits"],
         "workspace_bytes": "batch * nheads_q * num_splits * 4",
         "params": [{"name": "q", "type": "ptr"}, {"name": "n", "type": "i32"}],
         "features": {"kernel": "attention", "causal": true, "head_dim": 128},
         "config": {"tile_m": 128, "q_in_registers": false}},
        {"name": "combine", "threads": 128, "smem_bytes": 0,
         "grid": ["batch", "1", "1"], "workspace_bytes": "0",
         "params": [{"name": "o", "type": "ptr"}],
         "features": {"kernel": "combine"}}]})j",
                                     module, kernels);
  EXPECT(s == FA4_SUCCESS, "(%s)", fa4_last_error());
  EXPECT(kernels.size() == 2);
  if (kernels.size() != 2)
    return;
  const KernelInfo &attend = kernels[0];
  EXPECT(attend.name == "attend" && attend.module == &module);
  EXPECT(attend.feature("causal") == "true" &&
         attend.feature("head_dim") == "128" &&
         attend.feature("kernel") == "attention" && attend.feature("x").empty());
  EXPECT(attend.config.at("tile_m") == 128 &&
         attend.config.at("q_in_registers") == 0);
  EXPECT(attend.isLaunchable() && attend.grid[2] == "batch * num_splits");
  EXPECT(kernels[1].name == "combine" && kernels[1].params.size() == 1);
}

FA4_TEST(malformedMetadataIsAnError) {
  ModuleInfo module = testModule();
  std::vector<KernelInfo> kernels;
  struct {
    const char *json;
    const char *message;
  } cases[] = {
      {R"j({"module": "m")j", "metadata of module 'm'"},
      {R"j({"module": "other", "target": "sm_90", "kernels": []})j",
       "describes itself as sm_90/other"},
      {R"j({"module": "m", "target": "sm_90", "kernels": []})j",
       "lists no kernels"},
      {R"j({"module": "m", "target": "sm_90", "kernels": [{"name": "k",
         "threads": 256, "smem_bytes": 1024,
         "params": [{"name": "q", "type": "half"}], "features": {}}]})j",
       "unknown type 'half'"},
      {R"j({"module": "m", "target": "sm_90", "kernels": [{"name": "k",
         "threads": 0, "smem_bytes": 1024, "params": [], "features": {}}]})j",
       "nonsensical launch configuration"},
      {R"j({"module": "m", "target": "sm_90", "kernels": [{"name": "k",
         "threads": 32, "smem_bytes": 0, "features": {},
         "params": [{"name": "q", "type": "ptr"}, {"name": "q", "type": "i32"}]}]})j",
       "listed twice"},
      {R"j({"module": "m", "target": "sm_90", "kernels": [{"name": "k",
         "threads": 32, "smem_bytes": 0, "params": [], "features": {},
         "grid": ["1", "1"]}]})j",
       "grid is not three expressions"},
      {R"j({"module": "m", "target": "sm_90", "kernels": [{"name": "k",
         "threads": 32, "smem_bytes": 0, "params": [],
         "features": {"a": [1]}}]})j",
       "feature 'a' is not a scalar"},
  };
  for (const auto &c : cases) {
    kernels.clear();
    EXPECT(parseModuleMetadata(c.json, module, kernels) == FA4_ERROR_INTERNAL,
           "(%s)", c.message);
    EXPECT(std::string(fa4_last_error()).find(c.message) != std::string::npos,
           "(%s: got '%s')", c.message, fa4_last_error());
  }
}

FA4_TEST(launchRuleExpressions) {
  SizeMap sizes = {{"seqlen_q", 1000}, {"batch", 3}, {"nheads_q", 16},
                   {"zero", 0}};
  struct {
    const char *expr;
    int64_t value;
  } good[] = {{"cdiv(seqlen_q, 128)", 8},
              {"max(cdiv(zero, 128), 1)", 1},
              {"batch * nheads_q + 2", 50},
              {"min(batch, 2) * (nheads_q - 6)", 20},
              {" 7 ", 7},
              {"cdiv(0 - 5, 2)", -2}};
  for (const auto &c : good) {
    int64_t value = -1;
    std::string error;
    EXPECT(evaluate(c.expr, sizes, value, error) && value == c.value,
           "(%s = %lld, want %lld: %s)", c.expr, static_cast<long long>(value),
           static_cast<long long>(c.value), error.c_str());
  }
  struct {
    const char *expr;
    const char *message;
  } bad[] = {{"cdiv(seqlen_q, zero)", "cdiv by 0"},
             {"num_splits", "unknown size 'num_splits'"},
             {"batch *", "unexpected end"},
             {"batch batch", "unexpected 'b'"},
             {"max(1)", "expected ','"},
             {"9223372036854775807 + 1", "overflow"},
             {"99999999999999999999", "integer too large"}};
  for (const auto &c : bad) {
    int64_t value;
    std::string error;
    EXPECT(!evaluate(c.expr, sizes, value, error) &&
               error.find(c.message) != std::string::npos,
           "(%s: '%s')", c.expr, error.c_str());
  }
}

FA4_TEST(packingRejectsUnknownAndMistypedParameters) {
  // The seed's bug: a kernel whose argument list has `stream` in the middle.
  // Packing by name makes that a clear error instead of shifted arguments.
  KernelInfo kernel;
  kernel.name = "k";
  kernel.params = {{"q", ParamType::Ptr, "", 0, 0, 0},
                   {"stream", ParamType::Ptr, "", 0, 0, 0},
                   {"seqlen_q", ParamType::I32, "", 0, 0, 0}};
  KernelArgs args;
  args.setPtr("q", nullptr);
  args.setI32("seqlen_q", 5);
  std::vector<KernelArgs::Slot> storage;
  std::vector<void *> pointers;
  EXPECT(args.pack(kernel, storage, pointers) == FA4_ERROR_INTERNAL);
  EXPECT(std::string(fa4_last_error()).find("parameter 1 'stream'") !=
             std::string::npos,
         "(%s)", fa4_last_error());

  kernel.params = {{"seqlen_q", ParamType::I64, "", 0, 0, 0}};
  EXPECT(args.pack(kernel, storage, pointers) == FA4_ERROR_INTERNAL);
  EXPECT(std::string(fa4_last_error()).find("as u64") != std::string::npos,
         "(%s)", fa4_last_error());
}

FA4_TEST(workspaceIsRequiredToBeProvided) {
  // No entry point owns scratch memory yet, so a kernel whose rule asks for
  // some is refused by name rather than launched without it.
  KernelInfo kernel;
  kernel.name = "split";
  Launch launch;
  launch.kernel = &kernel;
  launch.sizes = {{"batch", 2}, {"nheads_q", 4}};
  kernel.workspace = "0";
  EXPECT(checkWorkspace(launch) == FA4_SUCCESS, "(%s)", fa4_last_error());
  kernel.workspace = "batch * nheads_q * 4";
  EXPECT(checkWorkspace(launch) == FA4_ERROR_INTERNAL);
  EXPECT(std::string(fa4_last_error()).find("split needs 32 bytes of workspace") !=
             std::string::npos,
         "(%s)", fa4_last_error());
  kernel.workspace = "num_splits * 4";
  EXPECT(checkWorkspace(launch) == FA4_ERROR_INTERNAL);
  EXPECT(std::string(fa4_last_error()).find("unknown size 'num_splits'") !=
             std::string::npos,
         "(%s)", fa4_last_error());
}

/// FA4_KERNEL_PATH's loader: a malformed or unreadable module is skipped
/// and named; the other modules of the folder still load.
FA4_TEST(kernelPathSkipsMalformedModules) {
  char dir[] = "/tmp/fa4-kernel-path-XXXXXX";
  EXPECT(mkdtemp(dir) != nullptr);
  std::string root = dir, targetDir = root + "/sm_90";
  EXPECT(mkdir(targetDir.c_str(), 0700) == 0);
  auto write = [&](const std::string &name, const std::string &text) {
    std::FILE *f = std::fopen((targetDir + "/" + name).c_str(), "w");
    EXPECT(f != nullptr);
    if (f) {
      std::fputs(text.c_str(), f);
      std::fclose(f);
    }
  };
  write("good.json", R"({"module": "good", "target": "sm_90", "kernels": [
      {"name": "good", "threads": 32, "smem_bytes": 0, "grid": ["1", "1", "1"],
       "workspace_bytes": "0", "params": [], "features": {"kernel": "x"}}]})");
  write("good.ptx", "// ptx");
  write("bad.json",
        R"({"module": "bad", "target": "sm_90", "kernels": [{"name": )");
  write("bad.ptx", "// ptx");
  write("noptx.json", "{}");
  std::deque<ModuleInfo> modules;
  std::vector<KernelInfo> kernels;
  std::vector<std::string> problems;
  loadModulesFromPath(root.c_str(), modules, kernels, problems);
  EXPECT(kernels.size() == 1 && kernels[0].name == "good" &&
             kernels[0].module == &modules.back(),
         "(%zu kernels)", kernels.size());
  EXPECT(modules.size() == 1, "(%zu modules)", modules.size());
  EXPECT(problems.size() == 2, "(%zu problems)", problems.size());
  for (const std::string &problem : problems)
    EXPECT(problem.find(targetDir + "/bad.json: ") == 0 ||
               problem.find("cannot read " + targetDir + "/noptx") == 0,
           "(%s)", problem.c_str());
  for (const char *name :
       {"good.json", "good.ptx", "bad.json", "bad.ptx", "noptx.json"})
    std::remove((targetDir + "/" + name).c_str());
  rmdir(targetDir.c_str());
  rmdir(dir);
}

FA4_TEST(jsonReader) {
  json::Value v;
  std::string error;
  EXPECT(json::parse(R"j({"a": [1, -2.5e1, true, null], "b": "x\"\n\u0041"})j",
                     v, error),
         "(%s)", error.c_str());
  EXPECT(v.get("a") && v.get("a")->array.size() == 4);
  EXPECT(v.get("a")->array[1].number == -25.0);
  EXPECT(v.get("b") && v.get("b")->string == "x\"\nA");
  EXPECT(!json::parse("[1, 2", v, error) && !error.empty());
  EXPECT(!json::parse("{} trailing", v, error));
}
