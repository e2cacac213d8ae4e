//===- KernelRegistry.cpp - the kernels embedded in the runtime -----------===//
//
// Metadata parsing, target selection, module cache and argument packing.
//
//===----------------------------------------------------------------------===//

#include "KernelRegistry.h"
#include "Json.h"
#include "Status.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

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

//===----------------------------------------------------------------------===//
// Metadata
//===----------------------------------------------------------------------===//

fa4_status fa4::rt::parseKernelMetadata(std::string_view text,
                                        KernelInfo &info) {
  json::Value root;
  std::string error;
  if (!json::parse(text, root, error))
    return fail(FA4_ERROR_INTERNAL, "kernel metadata: " + error);

  auto bad = [&](const std::string &what) {
    return fail(FA4_ERROR_INTERNAL,
                "kernel metadata of '" + info.name + "': " + what);
  };
  auto str = [&](const json::Value *v, std::string &out) {
    if (!v || v->kind != json::Value::Kind::String)
      return false;
    out = v->string;
    return true;
  };
  auto num = [&](const json::Value *v, int64_t &out) {
    if (!v || v->kind != json::Value::Kind::Number)
      return false;
    out = static_cast<int64_t>(v->number);
    return true;
  };
  auto flag = [&](const json::Value *v, bool &out) {
    if (!v || v->kind != json::Value::Kind::Bool)
      return false;
    out = v->boolean;
    return true;
  };

  if (!str(root.get("name"), info.name))
    return bad("no name");
  if (!str(root.get("target"), info.target) ||
      !num(root.get("threads"), info.threads) ||
      !num(root.get("smem_bytes"), info.smemBytes))
    return bad("no target, threads or smem_bytes");

  const json::Value *params = root.get("params");
  if (!params || params->kind != json::Value::Kind::Array)
    return bad("no params");
  for (const json::Value &param : params->array) {
    KernelParam p;
    std::string type;
    if (!str(param.get("name"), p.name) || !str(param.get("type"), type))
      return bad("a parameter lacks its name or type");
    if (type == "tensor_map") {
      p.type = ParamType::TensorMap;
      if (!str(param.get("tensor"), p.tensor) ||
          !num(param.get("box_rows"), p.boxRows) ||
          !num(param.get("box_cols"), p.boxCols) ||
          !num(param.get("swizzle"), p.swizzle))
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
    info.params.push_back(std::move(p));
  }

  const json::Value *f = root.get("features");
  if (!f || f->kind != json::Value::Kind::Object)
    return bad("no features");
  if (!str(f->get("dtype"), info.dtype) ||
      !str(f->get("load_path"), info.loadPath) ||
      !num(f->get("head_dim"), info.headDim) ||
      !num(f->get("head_dim_v"), info.headDimV) ||
      !num(f->get("tile_m"), info.tileM) ||
      !num(f->get("tile_n"), info.tileN) ||
      !num(f->get("num_warps"), info.numWarps) ||
      !num(f->get("num_stages"), info.numStages) ||
      !flag(f->get("causal"), info.causal) || !flag(f->get("gqa"), info.gqa) ||
      !flag(f->get("lse"), info.lse) || !flag(f->get("varlen"), info.varlen) ||
      !flag(f->get("paged_kv"), info.pagedKv) ||
      !flag(f->get("split_kv"), info.splitKv) ||
      !flag(f->get("dropout"), info.dropout) ||
      !flag(f->get("block_sparse"), info.blockSparse))
    return bad("incomplete features");
  if (info.threads <= 0 || info.tileM <= 0 || info.smemBytes < 0)
    return bad("nonsensical launch configuration");
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

/// Developer hook: kernels from `FA4_KERNEL_PATH` (colon-separated folders
/// laid out as the build's <target>/<kernel>.ptx + .json), added after the
/// embedded ones, e.g. to time tile configurations side by side.
static fa4_status loadExtraKernels(const char *path,
                                   std::vector<KernelInfo> &kernels) {
  static std::deque<std::string> ptxStorage;
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
        std::string json, ptx;
        if (!readFile(dir + "/" + name + ".json", json) ||
            !readFile(dir + "/" + name + ".ptx", ptx))
          return fail(FA4_ERROR_INTERNAL, "FA4_KERNEL_PATH: cannot read " +
                                              dir + "/" + name +
                                              ".{json,ptx}");
        KernelInfo info;
        info.name = name;
        if (fa4_status s = parseKernelMetadata(json, info); s != FA4_SUCCESS)
          return s;
        ptxStorage.push_back(std::move(ptx));
        info.ptx = ptxStorage.back().c_str();
        info.ptxSize = ptxStorage.back().size();
        kernels.push_back(std::move(info));
      }
    }
  }
  return FA4_SUCCESS;
}

fa4_status fa4::rt::getKernels(const std::vector<KernelInfo> *&kernels) {
  struct Parsed {
    std::vector<KernelInfo> kernels;
    fa4_status status = FA4_SUCCESS;
    std::string message;
  };
  static Parsed parsed = [] {
    Parsed p;
    for (size_t i = 0; i < fa4_num_embedded_kernels; ++i) {
      const EmbeddedKernel &e = fa4_embedded_kernels[i];
      KernelInfo info;
      info.name = e.name;
      fa4_status s = parseKernelMetadata(
          std::string_view(e.jsonBegin, e.jsonEnd - e.jsonBegin), info);
      if (s == FA4_SUCCESS && (info.name != e.name || info.target != e.target))
        s = fail(FA4_ERROR_INTERNAL,
                 format("embedded kernel %s/%s describes itself as %s/%s",
                        e.target, e.name, info.target.c_str(),
                        info.name.c_str()));
      if (s != FA4_SUCCESS) {
        p.status = s;
        p.message = fa4_last_error();
        return p;
      }
      info.ptx = e.ptxBegin;
      info.ptxSize = static_cast<size_t>(e.ptxEnd - e.ptxBegin);
      p.kernels.push_back(std::move(info));
    }
    if (const char *path = std::getenv("FA4_KERNEL_PATH")) {
      if (fa4_status s = loadExtraKernels(path, p.kernels); s != FA4_SUCCESS) {
        p.status = s;
        p.message = fa4_last_error();
      }
    }
    return p;
  }();
  if (parsed.status != FA4_SUCCESS)
    return fail(parsed.status, parsed.message);
  kernels = &parsed.kernels;
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
  static std::map<std::pair<CUcontext, const KernelInfo *>, CUfunction> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(context, &kernel);
  if (auto it = cache.find(key); it != cache.end()) {
    function = it->second;
    return FA4_SUCCESS;
  }

  // JIT the PTX, keeping ptxas' log for the error message.
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module;
  CUresult result =
      driver.cuModuleLoadDataEx(&module, kernel.ptx, 2, options, values);
  if (result != CUDA_SUCCESS)
    return fail(FA4_ERROR_CUDA,
                describeCudaError(driver, "cuModuleLoadDataEx", result) +
                    " for kernel " + kernel.name + " (" + kernel.target +
                    "): " + log);
  FA4_CUDA_CHECK(driver, cuModuleGetFunction, &function, module,
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
      kernel.name.c_str(), kernel.target.c_str(), registers,
      static_cast<long long>(kernel.threads), maxThreads, staticSmem,
      static_cast<long long>(kernel.smemBytes), localBytes, blocks);
  if (const char *verbose = std::getenv("FA4_VERBOSE"); verbose && *verbose)
    std::fprintf(stderr, "fa4: loaded %s\n", attributes.c_str());
  if (maxThreads < kernel.threads || blocks < 1)
    return fail(FA4_ERROR_CUDA, "cannot launch " + attributes);
  cache.emplace(key, function);
  return FA4_SUCCESS;
}
