// Errors: errno naming and construction of the BpfError class the TypeScript layer registers.
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace dpn {

namespace {
constexpr int kEnotsupp = 524;  // kernel-internal, leaks out of some BPF commands

struct AddonData {
  Napi::FunctionReference errorFactory;
};

AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// libbpf's own error numbers (4000..), e.g. for an ELF file it cannot parse.
constexpr const char* kLibbpfErrnoNames[] = {"LIBELF", "FORMAT", "KVERSION", "ENDIAN", "INTERNAL", "RELOC", "LOAD",
                                             "VERIFY", "PROG2BIG", "KVER", "PROGTYPE", "WRNGPID", "INVSEQ", "NLPARSE"};

bool IsLibbpfErrno(int err) { return err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END; }
}  // namespace

std::string ErrnoName(int err) {
  if (err == kEnotsupp) return "ENOTSUPP";
  if (IsLibbpfErrno(err)) return std::string("LIBBPF_ERRNO__") + kLibbpfErrnoNames[err - __LIBBPF_ERRNO__START];
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

std::string ErrnoText(int err) {
  if (err == kEnotsupp) return "Operation not supported";
  if (IsLibbpfErrno(err)) {
    char buf[128];
    libbpf_strerror(err, buf, sizeof(buf));
    return buf;
  }
  return std::strerror(err);
}

void ThrowBpfError(Napi::Env env, const std::string& operation, const std::string& subject, int err,
                   const std::string& detail, const std::string& verifierLog) {
  AddonData* data = Data(env);
  Napi::Value log = verifierLog.empty() ? env.Undefined() : Napi::String::New(env, verifierLog);
  if (data != nullptr && !data->errorFactory.IsEmpty()) {
    Napi::Value error = data->errorFactory.Call({Napi::String::New(env, operation), Napi::String::New(env, subject),
                                                 Napi::Number::New(env, err), Napi::String::New(env, ErrnoName(err)),
                                                 Napi::String::New(env, ErrnoText(err)),
                                                 Napi::String::New(env, detail), log});
    throw Napi::Error(env, error);
  }
  std::string message = operation + "(" + subject + "): " + ErrnoName(err) + " " + ErrnoText(err);
  if (!detail.empty()) message += " (" + detail + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("operation", operation);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", ErrnoName(err));
  error.Set("verifierLog", log);
  throw error;
}

int DupFd(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 3); }

std::string ArgString(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

int ArgInt(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsBuffer()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

std::string Subject(const Napi::CallbackInfo& info, size_t i) {
  return info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : std::string("?");
}

namespace {
Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorFactory expects a function");
  Data(info.Env())->errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value DescribeErrno(const Napi::CallbackInfo& info) {
  int err = ArgInt(info, 0);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, ErrnoName(err));
  out.Set(1u, ErrnoText(err));
  return out;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  ::close(ArgInt(info, 0));
  return info.Env().Undefined();
}

Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = DupFd(ArgInt(info, 0));
  if (fd < 0) ThrowBpfError(info.Env(), "dup", Subject(info, 1), errno);
  return Napi::Number::New(info.Env(), fd);
}
}  // namespace

void InitErrors(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory));
  exports.Set("describeErrno", Napi::Function::New(env, DescribeErrno));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("dupFd", Napi::Function::New(env, Dup));
}

}  // namespace dpn
