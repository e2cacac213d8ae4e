//===- KernelRegistry.cpp - the kernels embedded in the runtime -----------===//
//
// Metadata parsing, PTX inflation, kernel selection, module cache and
// argument packing.
//
//===----------------------------------------------------------------------===//

#include "KernelRegistry.h"
#include "Json.h"
#include "Status.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>

using namespace fa4::rt;

const char *fa4::rt::getPtxParamType(ParamType type) {
  switch (type) {
  case ParamType::Ptr:
  case ParamType::I64:
    return "u64";
  case ParamType::I32:
    return "u32";
  case ParamType::F32:
    return "f32";
  case ParamType::TensorMap:
    return "b8[128]";
  }
  return "?";
}

std::string_view KernelInfo::feature(std::string_view key) const {
  auto it = features.find(key);
  return it == features.end() ? std::string_view() : std::string_view(it->second);
}

//===----------------------------------------------------------------------===//
// Metadata
//===----------------------------------------------------------------------===//

namespace {
bool getString(const json::Value *v, std::string &out) {
  if (!v || v->kind != json::Value::Kind::String)
    return false;
  out = v->string;
  return true;
}
bool getInt(const json::Value *v, int64_t &out) {
  if (!v || v->kind != json::Value::Kind::Number ||
      v->number != static_cast<double>(static_cast<int64_t>(v->number)))
    return false;
  out = static_cast<int64_t>(v->number);
  return true;
}
/// A scalar feature or config value as text.
bool getScalarText(const json::Value &v, std::string &out) {
  switch (v.kind) {
  case json::Value::Kind::Bool:
    out = v.boolean ? "true" : "false";
    return true;
  case json::Value::Kind::String:
    out = v.string;
    return true;
  case json::Value::Kind::Number: {
    int64_t i;
    if (!getInt(&v, i))
      return false;
    out = std::to_string(i);
    return true;
  }
  default:
    return false;
  }
}
} // namespace

/// Parses one kernel entry of a module's metadata.
static fa4_status parseKernel(const json::Value &entry, const ModuleInfo &module,
                              KernelInfo &info) {
  auto bad = [&](const std::string &what) {
    return fail(FA4_ERROR_INTERNAL, "kernel metadata of module '" +
                                        module.name + "' (" + module.target +
                                        ")" +
                                        (info.name.empty() ? std::string()
                                                           : ", kernel '" +
                                                                 info.name + "'") +
                                        ": " + what);
  };
  if (entry.kind != json::Value::Kind::Object)
    return bad("a kernel entry is not an object");
  if (!getString(entry.get("name"), info.name) || info.name.empty())
    return bad("a kernel has no name");
  if (!getInt(entry.get("threads"), info.threads) ||
      !getInt(entry.get("smem_bytes"), info.smemBytes))
    return bad("no threads or smem_bytes");
  if (info.threads <= 0 || info.threads > 1024 || info.smemBytes < 0)
    return bad("nonsensical launch configuration");

  const json::Value *params = entry.get("params");
  if (!params || params->kind != json::Value::Kind::Array)
    return bad("no params");
  for (const json::Value &param : params->array) {
    KernelParam p;
    std::string type;
    if (!getString(param.get("name"), p.name) || !getString(param.get("type"), type))
      return bad("a parameter lacks its name or type");
    if (type == "tensor_map") {
      p.type = ParamType::TensorMap;
      if (!getString(param.get("tensor"), p.tensor) ||
          !getInt(param.get("box_rows"), p.boxRows) ||
          !getInt(param.get("box_cols"), p.boxCols) ||
          !getInt(param.get("swizzle"), p.swizzle))
        return bad("tensor map '" + p.name + "' lacks tensor, box or swizzle");
    } else if (type == "ptr")
      p.type = ParamType::Ptr;
    else if (type == "i32")
      p.type = ParamType::I32;
    else if (type == "i64")
      p.type = ParamType::I64;
    else if (type == "f32")
      p.type = ParamType::F32;
    else
      return bad("parameter '" + p.name + "' has unknown type '" + type + "'");
    for (const KernelParam &other : info.params)
      if (other.name == p.name)
        return bad("parameter '" + p.name + "' is listed twice");
    info.params.push_back(std::move(p));
  }

  const json::Value *features = entry.get("features");
  if (!features || features->kind != json::Value::Kind::Object)
    return bad("no features");
  for (const auto &[key, value] : features->object) {
    std::string text;
    if (!getScalarText(value, text))
      return bad("feature '" + key + "' is not a scalar");
    info.features[key] = text;
  }
  if (const json::Value *config = entry.get("config")) {
    if (config->kind != json::Value::Kind::Object)
      return bad("config is not an object");
    for (const auto &[key, value] : config->object) {
      int64_t number;
      if (value.kind == json::Value::Kind::Bool)
        number = value.boolean;
      else if (!getInt(&value, number))
        return bad("config entry '" + key + "' is not an integer or bool");
      info.config[key] = number;
    }
  }
  if (const json::Value *grid = entry.get("grid")) {
    if (grid->kind != json::Value::Kind::Array || grid->array.size() != 3)
      return bad("grid is not three expressions");
    for (const json::Value &dim : grid->array) {
      std::string expr;
      if (!getString(&dim, expr))
        return bad("a grid dimension is not an expression");
      info.grid.push_back(expr);
    }
  }
  if (const json::Value *workspace = entry.get("workspace_bytes"))
    if (!getString(workspace, info.workspace))
      return bad("workspace_bytes is not an expression");
  return FA4_SUCCESS;
}

fa4_status fa4::rt::parseModuleMetadata(std::string_view text,
                                        const ModuleInfo &module,
                                        std::vector<KernelInfo> &kernels) {
  json::Value root;
  std::string error;
  if (!json::parse(text, root, error))
    return fail(FA4_ERROR_INTERNAL,
                "metadata of module '" + module.name + "': " + error);
  std::string name, target;
  if (!getString(root.get("module"), name) ||
      !getString(root.get("target"), target))
    return fail(FA4_ERROR_INTERNAL, "metadata of module '" + module.name +
                                        "' names no module or target");
  if (name != module.name || target != module.target)
    return fail(FA4_ERROR_INTERNAL,
                "module " + module.target + "/" + module.name +
                    " describes itself as " + target + "/" + name);
  const json::Value *list = root.get("kernels");
  if (!list || list->kind != json::Value::Kind::Array || list->array.empty())
    return fail(FA4_ERROR_INTERNAL,
                "metadata of module '" + module.name + "' lists no kernels");
  for (const json::Value &entry : list->array) {
    KernelInfo info;
    info.module = &module;
    if (fa4_status s = parseKernel(entry, module, info); s != FA4_SUCCESS)
      return s;
    kernels.push_back(std::move(info));
  }
  return FA4_SUCCESS;
}

/// Reads a whole file.
static bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream contents;
  contents << in.rdbuf();
  out = contents.str();
  return true;
}

namespace {
/// Everything the registry holds; modules have stable addresses.
struct Registry {
  std::deque<ModuleInfo> modules;
  std::vector<KernelInfo> kernels;
  fa4_status status = FA4_SUCCESS;
  std::string message;
  /// The launchable kernels by target and features (indices into
  /// `kernels`): a call's lookup is one hash of its request, not a scan of
  /// every kernel (1338 of them: the scan cost ~0.3 ms per call).
  std::unordered_map<std::string, std::vector<size_t>> byFeatures;
  /// The attention kernels' head dims and (head_dim, head_dim_v) pairs.
  HeadDims headDims;
};

/// The lookup key of a target and a feature map (the map is sorted, so
/// equal maps give equal keys).
std::string getLookupKey(std::string_view target, const FeatureMap &features) {
  std::string key(target);
  for (const auto &[name, value] : features) {
    key += '\n';
    key += name;
    key += '=';
    key += value;
  }
  return key;
}
} // namespace

void fa4::rt::loadModulesFromPath(const char *path,
                                  std::deque<ModuleInfo> &modules,
                                  std::vector<KernelInfo> &kernels,
                                  std::vector<std::string> &problems) {
  std::stringstream folders(path);
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    if (folder.empty())
      continue;
    for (const char *target : {"sm_120a", "sm_121a", "sm_90"}) {
      std::string dir = folder + "/" + target;
      DIR *handle = opendir(dir.c_str());
      if (!handle)
        continue;
      std::vector<std::string> names;
      while (dirent *entry = readdir(handle)) {
        std::string file = entry->d_name;
        if (file.size() > 5 && file.substr(file.size() - 5) == ".json")
          names.push_back(file.substr(0, file.size() - 5));
      }
      closedir(handle);
      std::sort(names.begin(), names.end());
      for (const std::string &name : names) {
        std::string base = dir + "/" + name;
        std::string json, ptx;
        if (!readFile(base + ".json", json) || !readFile(base + ".ptx", ptx)) {
          problems.push_back("cannot read " + base + ".{json,ptx}");
          continue;
        }
        ModuleInfo &module = modules.emplace_back();
        module.name = name;
        module.target = target;
        module.ptxSize = ptx.size();
        module.ptx = std::move(ptx);
        // Parse into a scratch list: a malformed module adds nothing.
        std::vector<KernelInfo> parsed;
        if (parseModuleMetadata(json, module, parsed) != FA4_SUCCESS) {
          problems.push_back(base + ".json: " + fa4_last_error());
          clearError();
          modules.pop_back();
          continue;
        }
        for (KernelInfo &kernel : parsed)
          kernels.push_back(std::move(kernel));
      }
    }
  }
}

static Registry loadRegistry() {
  Registry r;
  for (size_t i = 0; i < fa4_num_embedded_modules; ++i) {
    const EmbeddedModule &e = fa4_embedded_modules[i];
    ModuleInfo &module = r.modules.emplace_back();
    module.name = e.name;
    module.target = e.target;
    module.compressed = e.ptxBegin;
    module.compressedSize = static_cast<size_t>(e.ptxEnd - e.ptxBegin);
    module.ptxSize = e.ptxSize;
    fa4_status s = parseModuleMetadata(
        std::string_view(e.jsonBegin, e.jsonEnd - e.jsonBegin), module,
        r.kernels);
    if (s != FA4_SUCCESS) {
      r.status = s;
      r.message = fa4_last_error();
      return r;
    }
  }
  // Developer hook: modules from FA4_KERNEL_PATH, added after the embedded
  // ones (e.g. to time tile configurations side by side). The registry is
  // built once per process, so each problem is reported once.
  if (const char *path = std::getenv("FA4_KERNEL_PATH")) {
    std::vector<std::string> problems;
    loadModulesFromPath(path, r.modules, r.kernels, problems);
    for (const std::string &problem : problems)
      std::fprintf(stderr, "fa4: FA4_KERNEL_PATH: skipping %s\n",
                   problem.c_str());
  }
  return r;
}

/// Fills the registry's lookup tables (after `kernels` stops growing).
static void indexRegistry(Registry &r) {
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    const KernelInfo &k = r.kernels[i];
    if (k.isLaunchable())
      r.byFeatures[getLookupKey(k.target(), k.features)].push_back(i);
    if (k.feature("kernel") != "attention")
      continue;
    int64_t d = std::atoll(std::string(k.feature("head_dim")).c_str());
    int64_t dv = std::atoll(std::string(k.feature("head_dim_v")).c_str());
    r.headDims.dims.insert(d);
    r.headDims.pairs.insert({d, dv});
  }
}

static Registry &getRegistry() {
  static Registry registry = [] {
    Registry r = loadRegistry();
    if (r.status == FA4_SUCCESS)
      indexRegistry(r);
    return r;
  }();
  return registry;
}

fa4_status fa4::rt::getHeadDims(const HeadDims *&headDims) {
  Registry &registry = getRegistry();
  if (registry.status != FA4_SUCCESS)
    return fail(registry.status, registry.message);
  headDims = &registry.headDims;
  return FA4_SUCCESS;
}

fa4_status fa4::rt::getKernels(const std::vector<KernelInfo> *&kernels) {
  Registry &registry = getRegistry();
  if (registry.status != FA4_SUCCESS)
    return fail(registry.status, registry.message);
  kernels = &registry.kernels;
  return FA4_SUCCESS;
}

fa4_status fa4::rt::getModulePtx(const ModuleInfo &module, const char *&ptx) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  if (module.ptx.empty() && module.compressed) {
    // Inflate once; the module outlives every caller (the registry is
    // never destroyed before exit).
    std::string text(module.ptxSize + 1, '\0');
    uLongf size = static_cast<uLongf>(module.ptxSize);
    int result = uncompress(reinterpret_cast<Bytef *>(text.data()), &size,
                            module.compressed,
                            static_cast<uLong>(module.compressedSize));
    if (result != Z_OK || size != module.ptxSize)
      return fail(FA4_ERROR_INTERNAL,
                  format("embedded PTX of %s/%s does not inflate (zlib %d, "
                         "%lu of %zu bytes)",
                         module.target.c_str(), module.name.c_str(), result,
                         static_cast<unsigned long>(size), module.ptxSize));
    text.resize(module.ptxSize);
    const_cast<ModuleInfo &>(module).ptx = std::move(text);
  }
  ptx = module.ptx.c_str();
  return FA4_SUCCESS;
}

const char *fa4::rt::getTargetForComputeCapability(int major, int minor) {
  if (major == 12 && minor == 0)
    return "sm_120a";
  if (major == 12 && minor == 1)
    return "sm_121a";
  if (major == 9 && minor == 0)
    return "sm_90";
  return nullptr;
}

std::vector<const KernelInfo *>
fa4::rt::findKernels(std::string_view target, const FeatureMap &request) {
  std::vector<const KernelInfo *> found;
  Registry &registry = getRegistry();
  if (registry.status != FA4_SUCCESS)
    return found;
  auto it = registry.byFeatures.find(getLookupKey(target, request));
  if (it == registry.byFeatures.end())
    return found;
  // Developer hook: FA4_KERNEL names the variant to use among those that
  // match (e.g. a tile configuration loaded through FA4_KERNEL_PATH).
  const char *forced = std::getenv("FA4_KERNEL");
  if (forced && !*forced)
    forced = nullptr;
  for (size_t i : it->second)
    if (!forced || registry.kernels[i].name == forced)
      found.push_back(&registry.kernels[i]);
  return found;
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

void KernelArgs::set(std::string name, ParamType type, const void *bytes,
                     size_t size) {
  Arg arg{std::move(name), type, {}};
  std::memcpy(arg.value.bytes, bytes, size);
  for (Arg &existing : args) {
    if (existing.name == arg.name) {
      existing = std::move(arg);
      return;
    }
  }
  args.push_back(std::move(arg));
}

void KernelArgs::setPtr(std::string name, const void *value) {
  set(std::move(name), ParamType::Ptr, &value, sizeof(value));
}
void KernelArgs::setI32(std::string name, int32_t value) {
  set(std::move(name), ParamType::I32, &value, sizeof(value));
}
void KernelArgs::setI64(std::string name, int64_t value) {
  set(std::move(name), ParamType::I64, &value, sizeof(value));
}
void KernelArgs::setF32(std::string name, float value) {
  set(std::move(name), ParamType::F32, &value, sizeof(value));
}
void KernelArgs::setTensorMap(std::string name, const CUtensorMap &value) {
  static_assert(sizeof(CUtensorMap) == 128, "a CUtensorMap is 128 bytes");
  set(std::move(name), ParamType::TensorMap, &value, sizeof(value));
}

bool KernelArgs::has(std::string_view name) const {
  for (const Arg &arg : args)
    if (arg.name == name)
      return true;
  return false;
}

fa4_status KernelArgs::pack(const KernelInfo &kernel, std::vector<Slot> &storage,
                            std::vector<void *> &pointers) const {
  storage.assign(kernel.params.size(), Slot{});
  pointers.assign(kernel.params.size(), nullptr);
  for (size_t i = 0; i < kernel.params.size(); ++i) {
    const KernelParam &param = kernel.params[i];
    const Arg *found = nullptr;
    for (const Arg &arg : args)
      if (arg.name == param.name)
        found = &arg;
    if (!found)
      return fail(FA4_ERROR_INTERNAL,
                  format("kernel %s wants parameter %zu '%s', which the "
                         "runtime does not provide",
                         kernel.name.c_str(), i, param.name.c_str()));
    if (found->type != param.type)
      return fail(FA4_ERROR_INTERNAL,
                  format("kernel %s wants parameter '%s' as %s, the runtime "
                         "has it as %s",
                         kernel.name.c_str(), param.name.c_str(),
                         getPtxParamType(param.type),
                         getPtxParamType(found->type)));
    storage[i] = found->value;
    pointers[i] = storage[i].bytes;
  }
  return FA4_SUCCESS;
}

//===----------------------------------------------------------------------===//
// Module cache
//===----------------------------------------------------------------------===//

fa4_status fa4::rt::getFunction(const CudaDriver &driver, CUcontext context,
                                const KernelInfo &kernel,
                                CUfunction &function) {
  static std::mutex mutex;
  static std::map<std::pair<CUcontext, const ModuleInfo *>, CUmodule> modules;
  static std::map<std::pair<CUcontext, const KernelInfo *>, CUfunction> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(context, &kernel);
  if (auto it = cache.find(key); it != cache.end()) {
    function = it->second;
    return FA4_SUCCESS;
  }

  // JIT the module's PTX once per context, keeping ptxas' log for the
  // error message.
  auto moduleKey = std::make_pair(context, kernel.module);
  auto loaded = modules.find(moduleKey);
  if (loaded == modules.end()) {
    const char *ptx;
    if (fa4_status s = getModulePtx(*kernel.module, ptx); s != FA4_SUCCESS)
      return s;
    char log[4096] = {0};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                              CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
    CUmodule module;
    CUresult result =
        driver.cuModuleLoadDataEx(&module, ptx, 2, options, values);
    if (result != CUDA_SUCCESS)
      return fail(FA4_ERROR_CUDA,
                  describeCudaError(driver, "cuModuleLoadDataEx", result) +
                      " for module " + kernel.module->name + " (" +
                      kernel.target() + "): " + log);
    loaded = modules.emplace(moduleKey, module).first;
  }
  FA4_CUDA_CHECK(driver, cuModuleGetFunction, &function, loaded->second,
                 kernel.name.c_str());
  // More than 48 KB of dynamic shared memory needs an explicit opt-in.
  FA4_CUDA_CHECK(driver, cuFuncSetAttribute, function,
                 CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                 static_cast<int>(kernel.smemBytes));

  // What the JIT made of it: a kernel that cannot run one CTA per SM (too
  // many registers for its threads, too much shared memory) fails here with
  // the numbers, not later as a bare launch error.
  int registers = 0, maxThreads = 0, staticSmem = 0, localBytes = 0;
  FA4_CUDA_CHECK(driver, cuFuncGetAttribute, &registers,
                 CU_FUNC_ATTRIBUTE_NUM_REGS, function);
  FA4_CUDA_CHECK(driver, cuFuncGetAttribute, &maxThreads,
                 CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, function);
  FA4_CUDA_CHECK(driver, cuFuncGetAttribute, &staticSmem,
                 CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function);
  FA4_CUDA_CHECK(driver, cuFuncGetAttribute, &localBytes,
                 CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, function);
  int blocks = 0;
  FA4_CUDA_CHECK(driver, cuOccupancyMaxActiveBlocksPerMultiprocessor, &blocks,
                 function, static_cast<int>(kernel.threads),
                 static_cast<size_t>(kernel.smemBytes));
  std::string attributes = format(
      "kernel %s (%s): %d registers, %lld threads (max %d), %d + %lld B "
      "shared, %d B local, %d CTA(s) per SM",
      kernel.name.c_str(), kernel.target().c_str(), registers,
      static_cast<long long>(kernel.threads), maxThreads, staticSmem,
      static_cast<long long>(kernel.smemBytes), localBytes, blocks);
  if (const char *verbose = std::getenv("FA4_VERBOSE"); verbose && *verbose)
    std::fprintf(stderr, "fa4: loaded %s\n", attributes.c_str());
  if (maxThreads < kernel.threads || blocks < 1)
    return fail(FA4_ERROR_CUDA, "cannot launch " + attributes);
  cache.emplace(key, function);
  return FA4_SUCCESS;
}
