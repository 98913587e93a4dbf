// cgroup v2: attach socket-layer programs (connect, sendmsg, ...) to a cgroup directory.
#include <bpf/bpf.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common.h"

namespace dpn {

namespace {

struct AttachTypeName {
  const char* name;
  bpf_attach_type type;
};

constexpr AttachTypeName kAttachTypes[] = {
    {"connect4", BPF_CGROUP_INET4_CONNECT},         {"connect6", BPF_CGROUP_INET6_CONNECT},
    {"sendmsg4", BPF_CGROUP_UDP4_SENDMSG},          {"sendmsg6", BPF_CGROUP_UDP6_SENDMSG},
    {"recvmsg4", BPF_CGROUP_UDP4_RECVMSG},          {"recvmsg6", BPF_CGROUP_UDP6_RECVMSG},
    {"getpeername4", BPF_CGROUP_INET4_GETPEERNAME}, {"getpeername6", BPF_CGROUP_INET6_GETPEERNAME},
    {"post_bind4", BPF_CGROUP_INET4_POST_BIND},     {"post_bind6", BPF_CGROUP_INET6_POST_BIND},
    {"sock_create", BPF_CGROUP_INET_SOCK_CREATE},
};

bpf_attach_type AttachType(Napi::Env env, const char* op, const std::string& name) {
  for (const auto& t : kAttachTypes)
    if (name == t.name) return t.type;
  ThrowBpfError(env, op, name, EINVAL, "unknown cgroup attach type");
}

UniqueFd OpenCgroup(Napi::Env env, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) ThrowBpfError(env, "open", path, errno, "cgroup directory");
  return fd;
}

// cgroupAttach(progFd, path, attachType, subject)
Napi::Value CgroupAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 1);
  std::string typeName = ArgString(info, 2);
  bpf_attach_type type = AttachType(env, "bpf_prog_attach", typeName);
  UniqueFd cg = OpenCgroup(env, path);
  // ALLOW_MULTI lets several agents (and nested cgroups) keep their programs side by side.
  int ret = bpf_prog_attach(ArgInt(info, 0), cg.get(), type, BPF_F_ALLOW_MULTI);
  if (ret != 0) ThrowBpfError(env, "bpf_prog_attach", Subject(info, 3) + " " + path + " " + typeName, ErrFromRet(ret));
  return env.Undefined();
}

// cgroupDetach(progFd, path, attachType) -> boolean (false: not attached or cgroup gone)
Napi::Value CgroupDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 1);
  std::string typeName = ArgString(info, 2);
  bpf_attach_type type = AttachType(env, "bpf_prog_detach2", typeName);
  UniqueFd cg(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg.valid() && errno == ENOENT) return Napi::Boolean::New(env, false);
  if (!cg.valid()) ThrowBpfError(env, "open", path, errno, "cgroup directory");
  int ret = bpf_prog_detach2(ArgInt(info, 0), cg.get(), type);
  if (ret == -ENOENT) return Napi::Boolean::New(env, false);
  if (ret != 0) ThrowBpfError(env, "bpf_prog_detach2", path + " " + typeName, ErrFromRet(ret));
  return Napi::Boolean::New(env, true);
}

// cgroupQuery(path, attachType) -> number[] (program ids)
Napi::Value CgroupQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0);
  bpf_attach_type type = AttachType(env, "bpf_prog_query", ArgString(info, 1));
  UniqueFd cg = OpenCgroup(env, path);
  std::vector<__u32> ids(64);
  for (;;) {
    __u32 count = static_cast<__u32>(ids.size());
    __u32 flags = 0;
    int ret = bpf_prog_query(cg.get(), type, 0, &flags, ids.data(), &count);
    if (ret == -ENOSPC) {
      ids.resize(ids.size() * 4);
      continue;
    }
    if (ret != 0) ThrowBpfError(env, "bpf_prog_query", path, ErrFromRet(ret));
    Napi::Array out = Napi::Array::New(env, count);
    for (__u32 i = 0; i < count; i++) out.Set(i, ids[i]);
    return out;
  }
}

}  // namespace

void InitCgroup(Napi::Env env, Napi::Object exports) {
  exports.Set("cgroupAttach", Napi::Function::New(env, CgroupAttach));
  exports.Set("cgroupDetach", Napi::Function::New(env, CgroupDetach));
  exports.Set("cgroupQuery", Napi::Function::New(env, CgroupQuery));
}

}  // namespace dpn
