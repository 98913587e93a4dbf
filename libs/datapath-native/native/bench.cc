// Benchmark support only: the same map syscalls issued in a C loop, so the bench can show what the
// JS-to-native crossing adds on top of the kernel's own cost. Not part of the public API.
#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "common.h"

namespace dpn {

namespace {

// benchMapSyscalls(fd, count, keySize, valueBytes) -> { updateNs, lookupNs } per operation;
// keys are 0..count-1 as little-endian u32 in the first 4 bytes.
Napi::Value BenchMapSyscalls(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  uint32_t count = ArgU32(info, 1);
  std::vector<uint8_t> key(std::max<uint32_t>(ArgU32(info, 2), 4));
  std::vector<uint8_t> value(ArgU32(info, 3), 1);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  for (uint32_t i = 0; i < count; i++) {
    std::memcpy(key.data(), &i, 4);
    if (bpf_map_update_elem(fd, key.data(), value.data(), 0) != 0) ThrowBpfError(info.Env(), "bpf_map_update_elem", "bench", errno);
  }
  auto mid = Clock::now();
  for (uint32_t i = 0; i < count; i++) {
    std::memcpy(key.data(), &i, 4);
    bpf_map_lookup_elem(fd, key.data(), value.data());
  }
  auto end = Clock::now();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("updateNs", std::chrono::duration<double, std::nano>(mid - start).count() / count);
  out.Set("lookupNs", std::chrono::duration<double, std::nano>(end - mid).count() / count);
  return out;
}

}  // namespace

void InitBench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchMapSyscalls", Napi::Function::New(env, BenchMapSyscalls));
}

}  // namespace dpn
