// Network namespaces: run one netlink operation inside the namespace named by a netns file.
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common.h"

namespace dpn {

NetnsGuard::NetnsGuard(Napi::Env env, const std::string& path) {
  if (path.empty()) return;
  original_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original_.valid()) ThrowBpfError(env, "open", "/proc/thread-self/ns/net", errno);
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target.valid()) ThrowBpfError(env, "open", path, errno, "network namespace file");
  if (::setns(target.get(), CLONE_NEWNET) != 0) ThrowBpfError(env, "setns", path, errno);
  switched_ = true;
}

NetnsGuard::~NetnsGuard() {
  if (!switched_) return;
  if (::setns(original_.get(), CLONE_NEWNET) != 0) {
    // The JS thread would keep running in a foreign namespace and every later socket would be
    // created there; that is worse than stopping.
    std::fprintf(stderr, "datapath-native: cannot return to the original network namespace: %s\n",
                 std::strerror(errno));
    std::abort();
  }
}

int ResolveIfindex(Napi::Env env, const Napi::Value& iface) {
  if (iface.IsNumber()) {
    int ifindex = iface.As<Napi::Number>().Int32Value();
    if (ifindex <= 0) ThrowBpfError(env, "if_nametoindex", std::to_string(ifindex), ENODEV);
    return ifindex;
  }
  std::string name = iface.ToString().Utf8Value();
  errno = 0;
  unsigned int ifindex = if_nametoindex(name.c_str());
  if (ifindex == 0) ThrowBpfError(env, "if_nametoindex", name, errno != 0 ? errno : ENODEV);
  return static_cast<int>(ifindex);
}

namespace {
// ifindexOf(iface, netns)
Napi::Value IfindexOf(const Napi::CallbackInfo& info) {
  NetnsGuard ns(info.Env(), ArgString(info, 1));
  return Napi::Number::New(info.Env(), ResolveIfindex(info.Env(), info[0]));
}
}  // namespace

void InitNetns(Napi::Env env, Napi::Object exports) { exports.Set("ifindexOf", Napi::Function::New(env, IfindexOf)); }

}  // namespace dpn
