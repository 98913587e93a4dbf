// XDP: attach in driver (native) or generic (skb) mode with libbpf, detach, and query.
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <cerrno>

#include "common.h"

namespace dpn {

namespace {

int ModeFlags(Napi::Env env, const std::string& mode) {
  if (mode == "native") return XDP_FLAGS_DRV_MODE;
  if (mode == "generic") return XDP_FLAGS_SKB_MODE;
  ThrowBpfError(env, "bpf_xdp_attach", mode, EINVAL, "mode must be native or generic");
}

// xdpAttach(progFd, iface, mode, netns, subject) -> ifindex
Napi::Value XdpAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string mode = ArgString(info, 2);
  NetnsGuard ns(env, ArgString(info, 3));
  int ifindex = ResolveIfindex(env, info[1]);
  int ret = bpf_xdp_attach(ifindex, ArgInt(info, 0), ModeFlags(env, mode), nullptr);
  if (ret != 0)
    ThrowBpfError(env, "bpf_xdp_attach", Subject(info, 4) + " " + info[1].ToString().Utf8Value() + " " + mode, ErrFromRet(ret));
  return Napi::Number::New(env, ifindex);
}

// xdpDetach(ifindex, mode, netns) -> boolean (false: the device is gone)
Napi::Value XdpDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = ArgInt(info, 0);
  std::string mode = ArgString(info, 1);
  NetnsGuard ns(env, ArgString(info, 2));
  int ret = bpf_xdp_detach(ifindex, ModeFlags(env, mode), nullptr);
  if (ret == -ENODEV) return Napi::Boolean::New(env, false);
  if (ret != 0) ThrowBpfError(env, "bpf_xdp_detach", "ifindex " + std::to_string(ifindex) + " " + mode, ErrFromRet(ret));
  return Napi::Boolean::New(env, true);
}

// xdpQuery(iface, netns) -> { progId, mode } | undefined
Napi::Value XdpQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NetnsGuard ns(env, ArgString(info, 1));
  int ifindex = ResolveIfindex(env, info[0]);
  LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  int ret = bpf_xdp_query(ifindex, 0, &opts);
  if (ret != 0) ThrowBpfError(env, "bpf_xdp_query", info[0].ToString().Utf8Value(), ErrFromRet(ret));
  const char* mode = nullptr;
  switch (opts.attach_mode) {
    case XDP_ATTACHED_DRV: mode = "native"; break;
    case XDP_ATTACHED_SKB: mode = "generic"; break;
    case XDP_ATTACHED_HW: mode = "hw"; break;
    case XDP_ATTACHED_MULTI: mode = "multi"; break;
    default: return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("progId", opts.prog_id != 0 ? opts.prog_id : (opts.drv_prog_id != 0 ? opts.drv_prog_id : opts.skb_prog_id));
  out.Set("mode", mode);
  return out;
}

}  // namespace

void InitXdp(Napi::Env env, Napi::Object exports) {
  exports.Set("xdpAttach", Napi::Function::New(env, XdpAttach));
  exports.Set("xdpDetach", Napi::Function::New(env, XdpDetach));
  exports.Set("xdpQuery", Napi::Function::New(env, XdpQuery));
}

}  // namespace dpn
