//===- RuntimeTest.cpp - the runtime without a GPU ------------------------===//
//
// What the runtime must get right on any machine: every bad argument of
// fa4_fwd gets its own status and a message naming it; every embedded
// kernel's metadata parses and agrees with its PTX signature; arguments are
// packed by name in metadata order (so a parameter the runtime does not
// know, such as the seed's misplaced `stream`, is an error, not a shifted
// argument list); targets map from compute capabilities.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "Json.h"
#include "KernelRegistry.h"
#include "TestUtil.h"
#include "fa4/Runtime/fa4.h"

#include <cmath>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace fa4::rt;

//===----------------------------------------------------------------------===//
// Argument validation
//===----------------------------------------------------------------------===//

/// A valid request with fake (but aligned) device pointers.
static fa4_fwd_params validParams() {
  fa4_fwd_params p;
  fa4_fwd_params_init(&p);
  p.q = reinterpret_cast<const void *>(0x10000);
  p.k = reinterpret_cast<const void *>(0x20000);
  p.v = reinterpret_cast<const void *>(0x30000);
  p.out = reinterpret_cast<void *>(0x40000);
  p.batch = 2;
  p.seqlen_q = 100;
  p.seqlen_k = 120;
  p.nheads_q = 8;
  p.nheads_kv = 2;
  p.head_dim = p.head_dim_v = 128;
  return p;
}

/// Expects fa4_fwd(p) to fail with `status` and a message containing `text`.
static void expectError(const fa4_fwd_params &p, fa4_status status,
                        const char *text, const char *what) {
  fa4_status got = fa4_fwd(&p, nullptr);
  std::string message = fa4_last_error();
  EXPECT(got == status, "(%s: status %d, want %d: %s)", what, got, status,
         message.c_str());
  EXPECT(message.find(text) != std::string::npos,
         "(%s: message '%s' lacks '%s')", what, message.c_str(), text);
}

FA4_TEST(nullParamsAndPointers) {
  EXPECT(fa4_fwd(nullptr, nullptr) == FA4_ERROR_NULL_POINTER);
  EXPECT(std::string(fa4_last_error()).find("params") != std::string::npos);
  for (const char *name : {"q", "k", "v", "out"}) {
    fa4_fwd_params p = validParams();
    if (!std::strcmp(name, "q"))
      p.q = nullptr;
    else if (!std::strcmp(name, "k"))
      p.k = nullptr;
    else if (!std::strcmp(name, "v"))
      p.v = nullptr;
    else
      p.out = nullptr;
    expectError(p, FA4_ERROR_NULL_POINTER,
                (std::string(name) + " is NULL").c_str(), name);
  }
}

FA4_TEST(dtypeAndSizes) {
  fa4_fwd_params p = validParams();
  p.dtype = static_cast<fa4_dtype>(7);
  expectError(p, FA4_ERROR_INVALID_DTYPE, "dtype 7", "dtype");

  struct {
    int64_t fa4_fwd_params::*field;
    int64_t value;
    const char *text;
  } cases[] = {
      {&fa4_fwd_params::batch, 0, "batch must be positive"},
      {&fa4_fwd_params::seqlen_q, -1, "seqlen_q must be non-negative"},
      {&fa4_fwd_params::seqlen_k, -3, "seqlen_k must be non-negative"},
      {&fa4_fwd_params::nheads_q, 0, "nheads_q must be positive"},
      {&fa4_fwd_params::nheads_kv, -1, "nheads_kv must be positive"},
      {&fa4_fwd_params::head_dim, 0, "head_dim must be positive"},
      {&fa4_fwd_params::nheads_q, 70000, "at most 65535"},
  };
  for (const auto &c : cases) {
    fa4_fwd_params p = validParams();
    p.*c.field = c.value;
    if (c.value == 70000)
      p.nheads_kv = 70000;
    expectError(p, FA4_ERROR_INVALID_SHAPE, c.text, c.text);
  }
}

FA4_TEST(headDimsAndRatio) {
  fa4_fwd_params p = validParams();
  p.head_dim = p.head_dim_v = 80;
  expectError(p, FA4_ERROR_UNSUPPORTED_HEAD_DIM, "no kernel for head_dim 80",
              "head_dim 80");
  p = validParams();
  p.head_dim_v = 64;
  expectError(p, FA4_ERROR_UNSUPPORTED_HEAD_DIM, "head_dim_v (64)",
              "head_dim_v");
  p = validParams();
  p.nheads_q = 6;
  p.nheads_kv = 4;
  expectError(p, FA4_ERROR_INVALID_HEAD_RATIO,
              "nheads_q (6) is not a multiple of nheads_kv (4)", "ratio");
}

FA4_TEST(stridesAlignmentOverflow) {
  int64_t contiguous[4] = {100 * 8 * 128, 8 * 128, 128, 1};
  fa4_fwd_params p = validParams();
  std::memcpy(p.q_strides, contiguous, sizeof(contiguous));
  p.q_strides[3] = 2;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "q: the stride of dim 3", "dim 3");

  p = validParams();
  std::memcpy(p.k_strides, contiguous, sizeof(contiguous));
  p.k_strides[2] = -128;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "k: the head stride is negative",
              "negative");

  p = validParams();
  std::memcpy(p.out_strides, contiguous, sizeof(contiguous));
  p.out_strides[1] = 0;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "overwrite", "out stride 0");

  p = validParams();
  p.v = reinterpret_cast<const void *>(0x30008);
  expectError(p, FA4_ERROR_MISALIGNED, "v (0x30008) is not 16-byte aligned",
              "pointer");

  p = validParams();
  std::memcpy(p.q_strides, contiguous, sizeof(contiguous));
  p.q_strides[1] = 1004;
  expectError(p, FA4_ERROR_MISALIGNED,
              "q: the seq stride (1004 elements) is not a multiple of 8",
              "row stride");

  p = validParams();
  p.seqlen_k = 1 << 20;
  std::memcpy(p.k_strides, contiguous, sizeof(contiguous));
  p.k_strides[1] = 4096;
  expectError(p, FA4_ERROR_OVERFLOW, "k: (seqlen - 1) * seq stride",
              "overflow");
}

FA4_TEST(scaleLoadPathAndLse) {
  fa4_fwd_params p = validParams();
  p.softmax_scale = std::nanf("");
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "softmax_scale", "NaN scale");
  p.softmax_scale = -0.5f;
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "softmax_scale", "negative");

  p = validParams();
  p.load_path = static_cast<fa4_load_path>(9);
  expectError(p, FA4_ERROR_INVALID_ARGUMENT, "load_path 9", "bad path");

  p = validParams();
  p.lse = reinterpret_cast<float *>(0x50002);
  expectError(p, FA4_ERROR_MISALIGNED, "lse is not 4-byte aligned", "lse");
  p.lse = reinterpret_cast<float *>(0x50000);
  p.lse_strides[0] = 800;
  p.lse_strides[1] = 100;
  p.lse_strides[2] = 2;
  expectError(p, FA4_ERROR_INVALID_STRIDE, "lse: the stride of dim 2",
              "lse stride");
}

FA4_TEST(emptyQueriesAndDriverStatus) {
  // Nothing to compute: success without touching the GPU.
  fa4_fwd_params p = validParams();
  p.seqlen_q = 0;
  EXPECT(fa4_fwd(&p, nullptr) == FA4_SUCCESS, "(%s)", fa4_last_error());

  // A valid request: without a driver or GPU that is a status, not a crash.
  // (Where a GPU exists this would launch on fake pointers: not done.)
  const CudaDriver *driver;
  fa4_status status = getCudaDriver(driver);
  if (status != FA4_SUCCESS) {
    EXPECT(status == FA4_ERROR_NO_CUDA_DRIVER || status == FA4_ERROR_NO_GPU);
    fa4_fwd_params valid = validParams();
    fa4_status got = fa4_fwd(&valid, nullptr);
    EXPECT(got == status, "(got %d: %s)", got, fa4_last_error());
    EXPECT(std::strlen(fa4_last_error()) > 0);
    std::printf("  driver status here: %s\n", fa4_last_error());
  }
}

FA4_TEST(statusStrings) {
  std::set<std::string> seen;
  for (int s = FA4_SUCCESS; s <= FA4_ERROR_INTERNAL; ++s) {
    std::string text = fa4_status_string(static_cast<fa4_status>(s));
    EXPECT(!text.empty() && seen.insert(text).second, "(status %d)", s);
  }
  EXPECT(fa4_fwd_params_size() == sizeof(fa4_fwd_params));
  EXPECT(std::string(fa4_version()).size() >= 5);
}

//===----------------------------------------------------------------------===//
// Embedded kernels
//===----------------------------------------------------------------------===//

/// The `.entry` parameter types of `name` in `ptx`, in order.
static std::vector<std::string> ptxEntryParams(const std::string &ptx,
                                               const std::string &name) {
  std::vector<std::string> types;
  size_t entry = ptx.find(".entry " + name + "(");
  if (entry == std::string::npos)
    return types;
  size_t end = ptx.find(')', entry);
  std::string list = ptx.substr(entry, end - entry);
  // .param .u64 .ptr .global .align 1 k_param_0 | .param .u32 k_param_5 |
  // .param .align 64 .b8 k_param_23[128]
  std::regex param(
      R"(\.param\s+(\.align\s+\d+\s+)?\.(\w+)(\s+\.ptr)?[^,\n]*_param_(\d+)(\[\d+\])?)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), param);
       it != std::sregex_iterator(); ++it) {
    std::string type = (*it)[2].str() + (*it)[5].str();
    if ((*it)[3].matched)
      type += " .ptr";
    if ((*it)[1].matched)
      type += " " + std::regex_replace((*it)[1].str(), std::regex(R"(\s+$)"), "");
    EXPECT(std::stoul((*it)[4].str()) == types.size(), "(param order)");
    types.push_back(type);
  }
  return types;
}

FA4_TEST(metadataAgreesWithPtxSignature) {
  const std::vector<KernelInfo> *kernels;
  EXPECT(getKernels(kernels) == FA4_SUCCESS, "(%s)", fa4_last_error());
  if (!kernels)
    return;
  EXPECT(!kernels->empty());
  for (const KernelInfo &k : *kernels) {
    std::string ptx(k.ptx, k.ptxSize);
    EXPECT(ptx.find(".target " + k.target) != std::string::npos,
           "(%s: PTX is not for %s)", k.name.c_str(), k.target.c_str());
    std::vector<std::string> types = ptxEntryParams(ptx, k.name);
    EXPECT(types.size() == k.params.size(),
           "(%s/%s: PTX has %zu params, metadata %zu)", k.target.c_str(),
           k.name.c_str(), types.size(), k.params.size());
    for (size_t i = 0; i < std::min(types.size(), k.params.size()); ++i) {
      std::string want = getPtxParamType(k.params[i].type);
      if (k.params[i].type == ParamType::Ptr)
        want += " .ptr";
      if (k.params[i].type == ParamType::TensorMap)
        want += " .align 64";
      EXPECT(types[i] == want, "(%s param %zu '%s': PTX .%s, metadata %s)",
             k.name.c_str(), i, k.params[i].name.c_str(), types[i].c_str(),
             want.c_str());
    }
    int64_t producer = k.loadPath == "tma" ? 4 * 32 : 0;
    EXPECT(k.threads == k.numWarps * 32 + producer && k.smemBytes > 0 &&
               k.smemBytes <= 101376,
           "(%s: threads %lld, smem %lld)", k.name.c_str(),
           static_cast<long long>(k.threads),
           static_cast<long long>(k.smemBytes));
  }
}

FA4_TEST(everyTargetHasTheDenseVariants) {
  const std::vector<KernelInfo> *kernels;
  if (getKernels(kernels) != FA4_SUCCESS)
    return;
  std::set<std::string> have;
  for (const KernelInfo &k : *kernels)
    have.insert(k.target + "/" + k.dtype + "/" + std::to_string(k.headDim) +
                "/" + (k.causal ? "causal" : "full"));
  for (const char *target : {"sm_120a", "sm_121a", "sm_90"})
    for (const char *dtype : {"bf16", "f16"})
      for (int d : {64, 96, 128})
        for (const char *mask : {"causal", "full"}) {
          std::string key = std::string(target) + "/" + dtype + "/" +
                            std::to_string(d) + "/" + mask;
          EXPECT(have.count(key), "(missing %s)", key.c_str());
        }
}

FA4_TEST(targetSelection) {
  EXPECT(std::string(getTargetForComputeCapability(12, 0)) == "sm_120a");
  EXPECT(std::string(getTargetForComputeCapability(12, 1)) == "sm_121a");
  EXPECT(std::string(getTargetForComputeCapability(9, 0)) == "sm_90");
  EXPECT(getTargetForComputeCapability(8, 9) == nullptr);
  EXPECT(getTargetForComputeCapability(10, 0) == nullptr);
  EXPECT(getTargetForComputeCapability(12, 2) == nullptr);
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

FA4_TEST(packingFollowsMetadataOrder) {
  const std::vector<KernelInfo> *kernels;
  if (getKernels(kernels) != FA4_SUCCESS)
    return;
  for (const KernelInfo &k : *kernels) {
    // A distinct value per name, set in reverse order: the packed slots must
    // still come out in the kernel's order.
    KernelArgs args;
    std::map<std::string, uint64_t> expected;
    for (size_t i = k.params.size(); i-- > 0;) {
      const KernelParam &param = k.params[i];
      uint64_t value = 1000 + i;
      expected[param.name] = value;
      switch (param.type) {
      case ParamType::TensorMap: {
        CUtensorMap map;
        std::memset(&map, 0, sizeof(map));
        std::memcpy(&map, &value, sizeof(value));
        args.setTensorMap(param.name, map);
        break;
      }
      case ParamType::Ptr:
        args.setPtr(param.name, reinterpret_cast<const void *>(value));
        break;
      case ParamType::I32:
        args.setI32(param.name, static_cast<int32_t>(value));
        break;
      case ParamType::I64:
        args.setI64(param.name, static_cast<int64_t>(value));
        break;
      case ParamType::F32: {
        float f = static_cast<float>(value);
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        expected[param.name] = bits;
        args.setF32(param.name, f);
        break;
      }
      }
    }
    std::vector<KernelArgs::Slot> storage;
    std::vector<void *> pointers;
    EXPECT(args.pack(k, storage, pointers) == FA4_SUCCESS, "(%s)",
           fa4_last_error());
    for (size_t i = 0; i < k.params.size() && i < storage.size(); ++i) {
      uint64_t got;
      std::memcpy(&got, storage[i].bytes, sizeof(got));
      if (k.params[i].type == ParamType::I32 ||
          k.params[i].type == ParamType::F32)
        got &= 0xFFFFFFFFull;
      EXPECT(got == expected[k.params[i].name], "(%s slot %zu)",
             k.name.c_str(), i);
      EXPECT(pointers[i] == storage[i].bytes);
      EXPECT(reinterpret_cast<uintptr_t>(pointers[i]) % 64 == 0);
    }
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

//===----------------------------------------------------------------------===//
// Metadata and JSON
//===----------------------------------------------------------------------===//

FA4_TEST(malformedMetadataIsAnError) {
  KernelInfo info;
  EXPECT(parseKernelMetadata("{\"name\": \"k\"", info) == FA4_ERROR_INTERNAL);
  info = {};
  EXPECT(parseKernelMetadata(R"({"name":"k","target":"sm_90","threads":256,
      "smem_bytes":1024,"params":[{"name":"q","type":"half"}],
      "features":{}})",
                             info) == FA4_ERROR_INTERNAL);
  EXPECT(std::string(fa4_last_error()).find("unknown type 'half'") !=
         std::string::npos,
         "(%s)", fa4_last_error());
}

FA4_TEST(jsonReader) {
  json::Value v;
  std::string error;
  EXPECT(json::parse(R"({"a": [1, -2.5e1, true, null], "b": "x\"\n\u0041"})",
                     v, error),
         "(%s)", error.c_str());
  EXPECT(v.get("a") && v.get("a")->array.size() == 4);
  EXPECT(v.get("a")->array[1].number == -25.0);
  EXPECT(v.get("b") && v.get("b")->string == "x\"\nA");
  EXPECT(!json::parse("[1, 2", v, error) && !error.empty());
  EXPECT(!json::parse("{} trailing", v, error));
}

int main() { return fa4::test::runAll(); }
