// tc: attach programs to the clsact qdisc (direct action) with libbpf, and list what is attached.
// libbpf can only query one known (handle, priority); listing needs a netlink filter dump.
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common.h"

namespace dpn {

namespace {

bpf_tc_attach_point Direction(Napi::Env env, const std::string& d) {
  if (d == "ingress") return BPF_TC_INGRESS;
  if (d == "egress") return BPF_TC_EGRESS;
  ThrowBpfError(env, "bpf_tc_attach", d, EINVAL, "direction must be ingress or egress");
}

// tcAttach(progFd, iface, direction, priority, handle, netns, subject) -> { ifindex, priority, handle }
Napi::Value TcAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string direction = ArgString(info, 2);
  NetnsGuard ns(env, ArgString(info, 5));
  int ifindex = ResolveIfindex(env, info[1]);
  std::string subject = Subject(info, 6) + " " + info[1].ToString().Utf8Value() + " " + direction;
  LIBBPF_OPTS(bpf_tc_hook, hook);
  hook.ifindex = ifindex;
  hook.attach_point = Direction(env, direction);
  int ret = bpf_tc_hook_create(&hook);
  if (ret != 0 && ret != -EEXIST) ThrowBpfError(env, "bpf_tc_hook_create", subject, ErrFromRet(ret));
  LIBBPF_OPTS(bpf_tc_opts, opts);
  opts.prog_fd = ArgInt(info, 0);
  opts.priority = ArgU32(info, 3);
  opts.handle = ArgU32(info, 4);
  // With an explicit slot, replacing what is there is the atomic way to regenerate a program.
  if (opts.priority != 0 && opts.handle != 0) opts.flags = BPF_TC_F_REPLACE;
  ret = bpf_tc_attach(&hook, &opts);
  if (ret != 0) ThrowBpfError(env, "bpf_tc_attach", subject, ErrFromRet(ret));
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", ifindex);
  out.Set("priority", opts.priority);
  out.Set("handle", opts.handle);
  return out;
}

// tcDetach(ifindex, direction, priority, handle, netns) -> boolean (false: already gone)
Napi::Value TcDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = ArgInt(info, 0);
  std::string direction = ArgString(info, 1);
  NetnsGuard ns(env, ArgString(info, 4));
  LIBBPF_OPTS(bpf_tc_hook, hook);
  hook.ifindex = ifindex;
  hook.attach_point = Direction(env, direction);
  LIBBPF_OPTS(bpf_tc_opts, opts);
  opts.priority = ArgU32(info, 2);
  opts.handle = ArgU32(info, 3);
  int ret = bpf_tc_detach(&hook, &opts);
  if (ret == -ENOENT || ret == -ENODEV) return Napi::Boolean::New(env, false);
  if (ret != 0) ThrowBpfError(env, "bpf_tc_detach", "ifindex " + std::to_string(ifindex) + " " + direction, ErrFromRet(ret));
  return Napi::Boolean::New(env, true);
}

struct Attachment {
  uint32_t priority;
  uint32_t handle;
  uint32_t progId;
};

// Dumps the filters of one clsact direction with RTM_GETTFILTER and keeps the cls_bpf ones.
std::vector<Attachment> DumpFilters(Napi::Env env, int ifindex, bool ingress) {
  std::vector<Attachment> out;
  UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock.valid()) ThrowBpfError(env, "socket", "NETLINK_ROUTE", errno);
  struct {
    nlmsghdr nh;
    tcmsg tc;
  } req{};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
  req.nh.nlmsg_type = RTM_GETTFILTER;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.tc.tcm_family = AF_UNSPEC;
  req.tc.tcm_ifindex = ifindex;
  req.tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  if (::send(sock.get(), &req, req.nh.nlmsg_len, 0) < 0) ThrowBpfError(env, "send", "RTM_GETTFILTER", errno);
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(sock.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowBpfError(env, "recv", "RTM_GETTFILTER", errno);
    }
    int len = static_cast<int>(n);
    for (auto* nh = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
      if (nh->nlmsg_type == NLMSG_DONE) return out;
      if (nh->nlmsg_type == NLMSG_ERROR) {
        int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(nh))->error;
        if (err == 0) return out;
        // No clsact qdisc on the device: nothing attached.
        if (err == EINVAL || err == ENOENT) return {};
        ThrowBpfError(env, "RTM_GETTFILTER", "ifindex " + std::to_string(ifindex), err);
      }
      if (nh->nlmsg_type != RTM_NEWTFILTER) continue;
      auto* tc = reinterpret_cast<tcmsg*>(NLMSG_DATA(nh));
      int alen = static_cast<int>(nh->nlmsg_len - NLMSG_LENGTH(sizeof(tcmsg)));
      bool isBpf = false;
      uint32_t progId = 0;
      for (auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(tc) + NLMSG_ALIGN(sizeof(tcmsg))); RTA_OK(a, alen);
           a = RTA_NEXT(a, alen)) {
        if (a->rta_type == TCA_KIND) isBpf = std::strcmp(static_cast<const char*>(RTA_DATA(a)), "bpf") == 0;
        if (a->rta_type == TCA_OPTIONS) {
          int olen = static_cast<int>(RTA_PAYLOAD(a));
          for (auto* o = static_cast<rtattr*>(RTA_DATA(a)); RTA_OK(o, olen); o = RTA_NEXT(o, olen))
            if (o->rta_type == TCA_BPF_ID) std::memcpy(&progId, RTA_DATA(o), sizeof(progId));
        }
      }
      if (isBpf && progId != 0 && tc->tcm_handle != 0) out.push_back({TC_H_MAJ(tc->tcm_info) >> 16, tc->tcm_handle, progId});
    }
  }
}

// tcList(iface, netns) -> [{ ifindex, direction, priority, handle, progId, progName }]
Napi::Value TcList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NetnsGuard ns(env, ArgString(info, 1));
  int ifindex = ResolveIfindex(env, info[0]);
  Napi::Array result = Napi::Array::New(env);
  uint32_t i = 0;
  for (bool ingress : {true, false}) {
    for (const Attachment& a : DumpFilters(env, ifindex, ingress)) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("ifindex", ifindex);
      o.Set("direction", ingress ? "ingress" : "egress");
      o.Set("priority", a.priority);
      o.Set("handle", a.handle);
      o.Set("progId", a.progId);
      o.Set("progName", ProgramNameById(a.progId));
      result.Set(i++, o);
    }
  }
  return result;
}

}  // namespace

void InitTc(Napi::Env env, Napi::Object exports) {
  exports.Set("tcAttach", Napi::Function::New(env, TcAttach));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("tcList", Napi::Function::New(env, TcList));
}

}  // namespace dpn
