// Maps: create, open pinned, and the element operations (single and batched). Sizes are passed
// from JS with every call and checked here, so the kernel never reads past a Buffer.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"

namespace dpn {

namespace {

constexpr int kEnotsupp = 524;

void CheckSize(Napi::Env env, const char* op, const std::string& subject, const char* what, size_t got, size_t want) {
  if (got != want)
    ThrowBpfError(env, op, subject, EINVAL,
                  std::string(what) + " is " + std::to_string(got) + " bytes, the map expects " + std::to_string(want));
}

bpf_map_type MapTypeFromName(Napi::Env env, const std::string& name) {
  for (int t = 0; t < 64; t++) {
    const char* s = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(t));
    if (s != nullptr && name == s) return static_cast<bpf_map_type>(t);
  }
  ThrowBpfError(env, "bpf_map_create", name, EINVAL, "unknown map type");
}

// mapCreate(type, name, keySize, valueSize, maxEntries, flags, innerFd)
Napi::Value MapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string typeName = ArgString(info, 0);
  std::string name = ArgString(info, 1);
  bpf_map_type type = MapTypeFromName(env, typeName);
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  opts.map_flags = ArgU32(info, 5);
  int inner = ArgInt(info, 6);
  if (inner >= 0) opts.inner_map_fd = static_cast<__u32>(inner);
  UniqueFd fd(bpf_map_create(type, name.empty() ? nullptr : name.c_str(), ArgU32(info, 2), ArgU32(info, 3),
                             ArgU32(info, 4), &opts));
  if (!fd.valid()) ThrowBpfError(env, "bpf_map_create", name.empty() ? typeName : name, errno);
  Napi::Object d = DescribeMapFd(env, name, fd.get());
  fd.release();
  return d;
}

// mapOpenPinned(path)
Napi::Value MapOpenPinned(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0);
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) ThrowBpfError(info.Env(), "bpf_obj_get", path, errno);
  Napi::Object d = DescribeMapFd(info.Env(), "", fd.get());
  fd.release();
  return d;
}

// mapInfo(fd, name)
Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  return DescribeMapFd(info.Env(), ArgString(info, 1), ArgInt(info, 0));
}

// mapLookupInto(fd, key, keySize, out, subject) -> boolean (false: no such key). The value is
// written into `out`, a Buffer the caller reuses: creating a Buffer in native code costs more than
// the syscall, copying one in JS does not.
Napi::Value MapLookupInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto key = ArgBuffer(info, 1);
  auto out = ArgBuffer(info, 3);
  CheckSize(env, "bpf_map_lookup_elem", Subject(info, 4), "key", key.Length(), ArgU32(info, 2));
  if (bpf_map_lookup_elem(ArgInt(info, 0), key.Data(), out.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowBpfError(env, "bpf_map_lookup_elem", Subject(info, 4), errno);
  }
  return Napi::Boolean::New(env, true);
}

// mapUpdate(fd, key, keySize, value, valueBytes, flags, subject)
Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto key = ArgBuffer(info, 1);
  auto value = ArgBuffer(info, 3);
  CheckSize(env, "bpf_map_update_elem", Subject(info, 6), "key", key.Length(), ArgU32(info, 2));
  CheckSize(env, "bpf_map_update_elem", Subject(info, 6), "value", value.Length(), ArgU32(info, 4));
  if (bpf_map_update_elem(ArgInt(info, 0), key.Data(), value.Data(), ArgU32(info, 5)) != 0)
    ThrowBpfError(env, "bpf_map_update_elem", Subject(info, 6), errno);
  return env.Undefined();
}

// mapDelete(fd, key, keySize, subject) -> boolean
Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto key = ArgBuffer(info, 1);
  CheckSize(env, "bpf_map_delete_elem", Subject(info, 3), "key", key.Length(), ArgU32(info, 2));
  if (bpf_map_delete_elem(ArgInt(info, 0), key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowBpfError(env, "bpf_map_delete_elem", Subject(info, 3), errno);
  }
  return Napi::Boolean::New(env, true);
}

// mapNextKeyInto(fd, key | null, out, subject) -> boolean (false: no more keys); `out` is keySize bytes.
Napi::Value MapNextKeyInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = ArgBuffer(info, 2);
  const void* cur = nullptr;
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    auto key = ArgBuffer(info, 1);
    CheckSize(env, "bpf_map_get_next_key", Subject(info, 3), "key", key.Length(), out.Length());
    cur = key.Data();
  }
  if (bpf_map_get_next_key(ArgInt(info, 0), cur, out.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowBpfError(env, "bpf_map_get_next_key", Subject(info, 3), errno);
  }
  return Napi::Boolean::New(env, true);
}

// mapLookupBatch(fd, keySize, valueBytes, batchSize, subject) -> { keys, values, count } | null when
// the map type has no batch support (the caller iterates instead).
Napi::Value MapLookupBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  size_t keySize = ArgU32(info, 1);
  size_t valueBytes = ArgU32(info, 2);
  uint32_t batch = std::max<uint32_t>(ArgU32(info, 3), 1);
  std::vector<uint8_t> keys;
  std::vector<uint8_t> values;
  // The kernel's batch cursor is a bucket index for hash maps and a key for arrays: room for both.
  std::vector<uint8_t> inBatch(std::max<size_t>(keySize, 8));
  std::vector<uint8_t> outBatch(inBatch.size());
  bool first = true;
  size_t total = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (;;) {
    keys.resize((total + batch) * keySize);
    values.resize((total + batch) * valueBytes);
    __u32 count = batch;
    int ret = bpf_map_lookup_batch(fd, first ? nullptr : inBatch.data(), outBatch.data(), keys.data() + total * keySize,
                                   values.data() + total * valueBytes, &count, &opts);
    int err = ret != 0 ? errno : 0;
    if (ret != 0 && first && (err == EINVAL || err == kEnotsupp || err == EOPNOTSUPP)) return env.Null();
    if (ret != 0 && err == ENOSPC) {
      // A hash bucket holds more elements than fit in one batch: retry the same cursor, larger.
      batch *= 2;
      continue;
    }
    if (ret != 0 && err != ENOENT) ThrowBpfError(env, "bpf_map_lookup_batch", Subject(info, 4), err);
    total += count;
    if (err == ENOENT) break;
    first = false;
    std::memcpy(inBatch.data(), outBatch.data(), inBatch.size());
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("keys", Napi::Buffer<uint8_t>::Copy(env, keys.data(), total * keySize));
  result.Set("values", Napi::Buffer<uint8_t>::Copy(env, values.data(), total * valueBytes));
  result.Set("count", Napi::Number::New(env, static_cast<double>(total)));
  return result;
}

// mapUpdateBatch(fd, keys, values, count, keySize, valueBytes, flags, subject)
Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto keys = ArgBuffer(info, 1);
  auto values = ArgBuffer(info, 2);
  __u32 count = ArgU32(info, 3);
  std::string op = "bpf_map_update_batch";
  CheckSize(env, op.c_str(), Subject(info, 7), "keys", keys.Length(), size_t{count} * ArgU32(info, 4));
  CheckSize(env, op.c_str(), Subject(info, 7), "values", values.Length(), size_t{count} * ArgU32(info, 5));
  if (count == 0) return env.Undefined();
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  opts.elem_flags = ArgU32(info, 6);
  __u32 done = count;
  if (bpf_map_update_batch(ArgInt(info, 0), keys.Data(), values.Data(), &done, &opts) != 0)
    ThrowBpfError(env, op, Subject(info, 7), errno,
                  std::to_string(done) + " of " + std::to_string(count) + " elements were written");
  return env.Undefined();
}

// mapDeleteBatch(fd, keys, count, keySize, subject) -> number deleted; keys that are absent are skipped.
Napi::Value MapDeleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto keys = ArgBuffer(info, 1);
  __u32 count = ArgU32(info, 2);
  size_t keySize = ArgU32(info, 3);
  CheckSize(env, "bpf_map_delete_batch", Subject(info, 4), "keys", keys.Length(), size_t{count} * keySize);
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  size_t offset = 0;
  double deleted = 0;
  while (offset < count) {
    __u32 n = count - static_cast<__u32>(offset);
    int ret = bpf_map_delete_batch(ArgInt(info, 0), keys.Data() + offset * keySize, &n, &opts);
    deleted += n;
    if (ret == 0) break;
    if (errno != ENOENT) ThrowBpfError(env, "bpf_map_delete_batch", Subject(info, 4), errno);
    offset += n + 1;  // the key at `n` was absent
  }
  return Napi::Number::New(env, deleted);
}

}  // namespace

void InitMap(Napi::Env env, Napi::Object exports) {
  exports.Set("mapCreate", Napi::Function::New(env, MapCreate));
  exports.Set("mapOpenPinned", Napi::Function::New(env, MapOpenPinned));
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("mapLookupInto", Napi::Function::New(env, MapLookupInto));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapNextKeyInto", Napi::Function::New(env, MapNextKeyInto));
  exports.Set("mapLookupBatch", Napi::Function::New(env, MapLookupBatch));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch));
  exports.Set("mapDeleteBatch", Napi::Function::New(env, MapDeleteBatch));
}

}  // namespace dpn
