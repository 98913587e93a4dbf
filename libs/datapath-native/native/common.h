// Shared pieces of the addon: fd ownership, argument helpers and the one way to throw a BpfError.
#pragma once

#include <napi.h>
#include <unistd.h>

#include <string>

namespace dpn {

// Owns a file descriptor; closes it on every path out of a scope, including thrown errors.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Errno name as the C library spells it (ENOENT), including the kernel-internal ENOTSUPP (524).
std::string ErrnoName(int err);
std::string ErrnoText(int err);

// Throws a JS BpfError (built by the factory the TypeScript layer registers) as a C++ exception,
// so RAII owners unwind on the way out.
[[noreturn]] void ThrowBpfError(Napi::Env env, const std::string& operation, const std::string& subject, int err,
                                const std::string& detail = "", const std::string& verifierLog = "");

// libbpf returns -errno or sets errno; both are normalised to a positive errno.
inline int ErrFromRet(int ret) { return ret < 0 ? -ret : (errno != 0 ? errno : EINVAL); }

int DupFd(int fd);

// {name, type, fd, id, keySize, valueSize, maxEntries, flags} of a map fd (kernel info).
Napi::Object DescribeMapFd(Napi::Env env, const std::string& name, int fd);

// Argument helpers: the TypeScript layer validates shapes, these only guard memory safety.
std::string ArgString(const Napi::CallbackInfo& info, size_t i);
int ArgInt(const Napi::CallbackInfo& info, size_t i);
uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i);
Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i);
// The subject (map or program name) is passed on every call but only read when an error is thrown.
std::string Subject(const Napi::CallbackInfo& info, size_t i);

// Switches the calling thread into a network namespace for its lifetime; switches back on
// destruction, whatever the way out. An empty path means "stay where we are".
class NetnsGuard {
 public:
  NetnsGuard(Napi::Env env, const std::string& path);
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;
  ~NetnsGuard();

 private:
  UniqueFd original_;
  bool switched_ = false;
};

std::string ProgramNameById(uint32_t id);

// Resolves a name or number to an ifindex in the current namespace (call inside a NetnsGuard).
int ResolveIfindex(Napi::Env env, const Napi::Value& iface);

void InitErrors(Napi::Env env, Napi::Object exports);
void InitObject(Napi::Env env, Napi::Object exports);
void InitMap(Napi::Env env, Napi::Object exports);
void InitProgram(Napi::Env env, Napi::Object exports);
void InitTc(Napi::Env env, Napi::Object exports);
void InitXdp(Napi::Env env, Napi::Object exports);
void InitCgroup(Napi::Env env, Napi::Object exports);
void InitRingbuf(Napi::Env env, Napi::Object exports);
void InitNetns(Napi::Env env, Napi::Object exports);
void InitBench(Napi::Env env, Napi::Object exports);

}  // namespace dpn
