// BPF objects: open an ELF file with libbpf, set constants, sizes and reused maps, load it, and hand
// each program and map to JS as its own file descriptor (the bpf_object itself is closed at once).
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common.h"

namespace dpn {

namespace {

// libbpf reports through a global print callback; while an object is being opened and loaded its
// messages (including the verifier log libbpf prints when a program is rejected) are collected here.
thread_local std::string* g_capture = nullptr;

int PrintToCapture(enum libbpf_print_level level, const char* format, va_list args) {
  if (g_capture == nullptr) {
    if (level == LIBBPF_WARN && std::getenv("CILIUM_TS_LIBBPF_DEBUG") != nullptr) return std::vfprintf(stderr, format, args);
    return 0;
  }
  if (level == LIBBPF_DEBUG) return 0;
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(line.data(), line.size(), format, args);
  line.resize(static_cast<size_t>(n));
  g_capture->append(line);
  return n;
}

class LogCapture {
 public:
  LogCapture() { g_capture = &text; }
  ~LogCapture() { g_capture = nullptr; }
  std::string text;
};

// The verifier's own text, between the markers libbpf wraps it in.
std::string VerifierLog(const std::string& captured) {
  const std::string begin = "-- BEGIN PROG LOAD LOG --\n";
  const std::string end = "-- END PROG LOAD LOG --";
  size_t b = captured.find(begin);
  if (b == std::string::npos) return "";
  b += begin.size();
  size_t e = captured.find(end, b);
  return captured.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

// libbpf's first warning names the cause (the map or program that failed); later ones only
// say that the object failed.
std::string FirstWarning(const std::string& captured) {
  size_t nl = captured.find('\n');
  std::string s = captured.substr(0, nl);
  if (s.rfind("libbpf: ", 0) == 0) s = s.substr(8);
  return s;
}

struct ObjectCloser {
  void operator()(bpf_object* obj) const { bpf_object__close(obj); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectCloser>;

void Le(uint64_t value, size_t size, uint8_t* out) {
  for (size_t i = 0; i < size; i++) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

// Encodes a JS number/bigint/boolean/Buffer into `size` little-endian bytes, checking it fits.
std::vector<uint8_t> EncodeConstant(Napi::Env env, const std::string& subject, const Napi::Value& v, size_t size) {
  std::vector<uint8_t> bytes(size, 0);
  if (v.IsBuffer()) {
    auto buf = v.As<Napi::Buffer<uint8_t>>();
    if (buf.Length() != size)
      ThrowBpfError(env, "set_constant", subject, EINVAL,
                    "Buffer is " + std::to_string(buf.Length()) + " bytes, the variable is " + std::to_string(size));
    std::memcpy(bytes.data(), buf.Data(), size);
    return bytes;
  }
  if (size > 8) ThrowBpfError(env, "set_constant", subject, EINVAL, "variable of " + std::to_string(size) + " bytes needs a Buffer");
  uint64_t raw = 0;
  bool negative = false;
  if (v.IsBoolean()) {
    raw = v.As<Napi::Boolean>().Value() ? 1 : 0;
  } else if (v.IsBigInt()) {
    bool lossless = false;
    int64_t s = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless && s < 0) {
      raw = static_cast<uint64_t>(s);
      negative = true;
    } else {
      raw = v.As<Napi::BigInt>().Uint64Value(&lossless);
      if (!lossless) ThrowBpfError(env, "set_constant", subject, ERANGE, "bigint does not fit in 64 bits");
    }
  } else if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::trunc(d) != d) ThrowBpfError(env, "set_constant", subject, EINVAL, "number must be an integer");
    if (d < -9223372036854775808.0 || d >= 18446744073709551616.0)
      ThrowBpfError(env, "set_constant", subject, ERANGE, "number does not fit in 64 bits");
    negative = d < 0;
    raw = negative ? static_cast<uint64_t>(static_cast<int64_t>(d)) : static_cast<uint64_t>(d);
  } else {
    ThrowBpfError(env, "set_constant", subject, EINVAL, "value must be a number, bigint, boolean or Buffer");
  }
  if (size < 8) {
    uint64_t bits = 8 * size;
    bool fits = negative ? static_cast<int64_t>(raw) >= -(int64_t{1} << (bits - 1)) : raw < (uint64_t{1} << bits);
    if (!fits) ThrowBpfError(env, "set_constant", subject, ERANGE, "value does not fit in " + std::to_string(size) + " bytes");
  }
  Le(raw, size, bytes.data());
  return bytes;
}

// Writes the constants into the .rodata map's initial value, finding each variable's offset and
// size through the DATASEC in the object's BTF.
void SetConstants(Napi::Env env, bpf_object* obj, const std::string& path, Napi::Object constants) {
  Napi::Array names = constants.GetPropertyNames();
  if (names.Length() == 0) return;
  bpf_map* rodata = nullptr;
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, obj) {
    const char* name = bpf_map__name(map);
    size_t len = std::strlen(name);
    if (bpf_map__is_internal(map) && len >= 7 && std::strcmp(name + len - 7, ".rodata") == 0) rodata = map;
  }
  btf* btf = bpf_object__btf(obj);
  int secId = btf != nullptr ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
  if (rodata == nullptr || secId < 0)
    ThrowBpfError(env, "set_constant", path, ENOENT, "the object has no .rodata section with BTF (no const volatile globals)");
  size_t size = 0;
  const void* initial = bpf_map__initial_value(rodata, &size);
  std::vector<uint8_t> data(static_cast<const uint8_t*>(initial), static_cast<const uint8_t*>(initial) + size);
  const btf_type* sec = btf__type_by_id(btf, static_cast<__u32>(secId));
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string want = names.Get(i).As<Napi::String>().Utf8Value();
    std::string subject = path + ":" + want;
    const btf_var_secinfo* vi = btf_var_secinfos(sec);
    bool found = false;
    for (int v = 0; v < btf_vlen(sec); v++, vi++) {
      const btf_type* var = btf__type_by_id(btf, vi->type);
      const char* varName = btf__name_by_offset(btf, var->name_off);
      if (varName == nullptr || want != varName) continue;
      std::vector<uint8_t> bytes = EncodeConstant(env, subject, constants.Get(want), vi->size);
      if (vi->offset + vi->size > data.size()) ThrowBpfError(env, "set_constant", subject, EINVAL, "variable lies outside .rodata");
      std::memcpy(data.data() + vi->offset, bytes.data(), vi->size);
      found = true;
      break;
    }
    if (!found) ThrowBpfError(env, "set_constant", subject, ENOENT, "no const volatile variable of that name in .rodata");
  }
  int ret = bpf_map__set_initial_value(rodata, data.data(), data.size());
  if (ret != 0) ThrowBpfError(env, "bpf_map__set_initial_value", path + ":.rodata", ErrFromRet(ret));
}

bpf_map* FindMap(Napi::Env env, bpf_object* obj, const std::string& path, const std::string& name, const char* op) {
  bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
  if (map == nullptr) ThrowBpfError(env, op, path + ":" + name, ENOENT, "no map of that name in the object");
  return map;
}

Napi::Object MapDescriptor(Napi::Env env, const std::string& name, int fd) {
  bpf_map_info info{};
  __u32 len = sizeof(info);
  int ret = bpf_obj_get_info_by_fd(fd, &info, &len);
  if (ret != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", name, ErrFromRet(ret));
  const char* type = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(info.type));
  Napi::Object d = Napi::Object::New(env);
  d.Set("name", name.empty() ? std::string(info.name) : name);
  d.Set("type", type != nullptr ? type : std::to_string(info.type));
  d.Set("fd", fd);
  d.Set("id", info.id);
  d.Set("keySize", info.key_size);
  d.Set("valueSize", info.value_size);
  d.Set("maxEntries", info.max_entries);
  d.Set("flags", info.map_flags);
  return d;
}

// objectLoad(path, { constants, pinRoot, maxEntries, reuseMaps: {name: fd|path}, innerMaps: {name: fd} })
Napi::Value ObjectLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0);
  Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  std::string pinRoot = opts.Get("pinRoot").IsString() ? opts.Get("pinRoot").As<Napi::String>().Utf8Value() : "";

  LogCapture capture;
  LIBBPF_OPTS(bpf_object_open_opts, openOpts);
  if (!pinRoot.empty()) openOpts.pin_root_path = pinRoot.c_str();
  errno = 0;
  ObjectPtr obj(bpf_object__open_file(path.c_str(), &openOpts));
  if (!obj) ThrowBpfError(env, "bpf_object__open_file", path, errno != 0 ? errno : EINVAL, FirstWarning(capture.text));

  // bpf_map__reuse_fd renames a map after the one it reuses; JS knows maps by their ELF names.
  std::vector<std::string> elfNames;
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, obj.get()) elfNames.emplace_back(bpf_map__name(map));

  if (opts.Get("maxEntries").IsObject()) {
    Napi::Object sizes = opts.Get("maxEntries").As<Napi::Object>();
    Napi::Array names = sizes.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      bpf_map* map = FindMap(env, obj.get(), path, name, "bpf_map__set_max_entries");
      int ret = bpf_map__set_max_entries(map, sizes.Get(name).As<Napi::Number>().Uint32Value());
      if (ret != 0) ThrowBpfError(env, "bpf_map__set_max_entries", path + ":" + name, ErrFromRet(ret));
    }
  }
  if (opts.Get("reuseMaps").IsObject()) {
    Napi::Object reuse = opts.Get("reuseMaps").As<Napi::Object>();
    Napi::Array names = reuse.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      Napi::Value source = reuse.Get(name);
      bpf_map* map = FindMap(env, obj.get(), path, name, "bpf_map__reuse_fd");
      UniqueFd pinned;
      int fd = -1;
      if (source.IsString()) {
        std::string pin = source.As<Napi::String>().Utf8Value();
        pinned.reset(bpf_obj_get(pin.c_str()));
        if (!pinned.valid()) ThrowBpfError(env, "bpf_obj_get", pin, errno);
        fd = pinned.get();
      } else {
        fd = source.As<Napi::Number>().Int32Value();
      }
      // libbpf duplicates the fd, so the pinned one we opened is closed when `pinned` goes.
      int ret = bpf_map__reuse_fd(map, fd);
      if (ret != 0) ThrowBpfError(env, "bpf_map__reuse_fd", path + ":" + name, ErrFromRet(ret));
    }
  }
  if (opts.Get("innerMaps").IsObject()) {
    Napi::Object inner = opts.Get("innerMaps").As<Napi::Object>();
    Napi::Array names = inner.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      bpf_map* outer = FindMap(env, obj.get(), path, name, "bpf_map__set_inner_map_fd");
      int ret = bpf_map__set_inner_map_fd(outer, inner.Get(name).As<Napi::Number>().Int32Value());
      if (ret != 0) ThrowBpfError(env, "bpf_map__set_inner_map_fd", path + ":" + name, ErrFromRet(ret));
    }
  }
  if (opts.Get("constants").IsObject()) SetConstants(env, obj.get(), path, opts.Get("constants").As<Napi::Object>());

  int ret = bpf_object__load(obj.get());
  if (ret != 0) {
    int err = ErrFromRet(ret);
    std::string log = VerifierLog(capture.text);
    ThrowBpfError(env, "bpf_object__load", path, err, FirstWarning(capture.text), log);
  }

  // Every program and map gets its own duplicate fd; until they are handed to JS they are owned
  // here, so a failure half-way closes what was already duplicated.
  struct Owned {
    std::string name;
    std::string type;
    UniqueFd fd;
  };
  std::vector<Owned> programs;
  std::vector<Owned> maps;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj.get()) {
    if (bpf_program__fd(prog) < 0) continue;  // not loaded (autoload off)
    UniqueFd fd(DupFd(bpf_program__fd(prog)));
    if (!fd.valid()) ThrowBpfError(env, "dup", bpf_program__name(prog), errno);
    const char* type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
    programs.push_back({bpf_program__name(prog), type != nullptr ? type : "unknown", std::move(fd)});
  }
  size_t index = 0;
  bpf_object__for_each_map(map, obj.get()) {
    const std::string& name = elfNames.at(index++);
    if (bpf_map__is_internal(map) || bpf_map__fd(map) < 0) continue;
    UniqueFd fd(DupFd(bpf_map__fd(map)));
    if (!fd.valid()) ThrowBpfError(env, "dup", name, errno);
    maps.push_back({name, "", std::move(fd)});
  }

  Napi::Array progArr = Napi::Array::New(env, programs.size());
  for (size_t i = 0; i < programs.size(); i++) {
    bpf_prog_info pinfo{};
    __u32 len = sizeof(pinfo);
    int r = bpf_obj_get_info_by_fd(programs[i].fd.get(), &pinfo, &len);
    if (r != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", programs[i].name, ErrFromRet(r));
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", programs[i].name);
    d.Set("type", programs[i].type);
    d.Set("id", pinfo.id);
    d.Set("fd", programs[i].fd.get());
    progArr.Set(static_cast<uint32_t>(i), d);
  }
  Napi::Array mapArr = Napi::Array::New(env, maps.size());
  for (size_t i = 0; i < maps.size(); i++) mapArr.Set(static_cast<uint32_t>(i), MapDescriptor(env, maps[i].name, maps[i].fd.get()));

  Napi::Object result = Napi::Object::New(env);
  result.Set("programs", progArr);
  result.Set("maps", mapArr);
  // Only now, with nothing left to throw, do the fds belong to JS.
  for (auto& p : programs) p.fd.release();
  for (auto& m : maps) m.fd.release();
  return result;
}

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) ThrowBpfError(info.Env(), "libbpf_num_possible_cpus", "/sys/devices/system/cpu/possible", -n);
  return Napi::Number::New(info.Env(), n);
}

// pinObject(fd, path, subject)
Napi::Value PinObject(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 1);
  int ret = bpf_obj_pin(ArgInt(info, 0), path.c_str());
  if (ret != 0) ThrowBpfError(info.Env(), "bpf_obj_pin", Subject(info, 2) + " -> " + path, ErrFromRet(ret));
  return info.Env().Undefined();
}

// unpinObject(path)
Napi::Value UnpinObject(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0);
  if (::unlink(path.c_str()) != 0) ThrowBpfError(info.Env(), "unlink", path, errno);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object DescribeMapFd(Napi::Env env, const std::string& name, int fd) { return MapDescriptor(env, name, fd); }

void InitObject(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(PrintToCapture);
  exports.Set("objectLoad", Napi::Function::New(env, ObjectLoad));
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  exports.Set("pinObject", Napi::Function::New(env, PinObject));
  exports.Set("unpinObject", Napi::Function::New(env, UnpinObject));
}

}  // namespace dpn
