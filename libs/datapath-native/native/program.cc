// Programs: BPF_PROG_TEST_RUN on crafted packets.
#include <bpf/bpf.h>

#include <cerrno>
#include <vector>

#include "common.h"

namespace dpn {

namespace {

// progTestRun(fd, data, ctx | null, repeat, dataOutSize, subject) -> { retval, data, ctx?, durationNs }
Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto data = ArgBuffer(info, 1);
  bool hasCtx = info[2].IsBuffer();
  std::vector<uint8_t> dataOut(ArgU32(info, 4));
  std::vector<uint8_t> ctxOut;
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = data.Data();
  opts.data_size_in = static_cast<__u32>(data.Length());
  opts.data_out = dataOut.data();
  opts.data_size_out = static_cast<__u32>(dataOut.size());
  opts.repeat = ArgInt(info, 3);
  if (hasCtx) {
    auto ctx = info[2].As<Napi::Buffer<uint8_t>>();
    ctxOut.resize(ctx.Length());
    opts.ctx_in = ctx.Data();
    opts.ctx_size_in = static_cast<__u32>(ctx.Length());
    opts.ctx_out = ctxOut.data();
    opts.ctx_size_out = static_cast<__u32>(ctxOut.size());
  }
  int ret = bpf_prog_test_run_opts(ArgInt(info, 0), &opts);
  if (ret != 0) ThrowBpfError(env, "bpf_prog_test_run_opts", Subject(info, 5), ErrFromRet(ret));
  Napi::Object result = Napi::Object::New(env);
  result.Set("retval", Napi::Number::New(env, opts.retval));
  result.Set("data", Napi::Buffer<uint8_t>::Copy(env, dataOut.data(), opts.data_size_out));
  if (hasCtx) result.Set("ctx", Napi::Buffer<uint8_t>::Copy(env, ctxOut.data(), opts.ctx_size_out));
  result.Set("durationNs", Napi::Number::New(env, opts.duration));
  return result;
}

// progInfo(fd, subject) -> { id, name, type }
Napi::Value ProgInfo(const Napi::CallbackInfo& info) {
  bpf_prog_info pinfo{};
  __u32 len = sizeof(pinfo);
  int ret = bpf_obj_get_info_by_fd(ArgInt(info, 0), &pinfo, &len);
  if (ret != 0) ThrowBpfError(info.Env(), "bpf_obj_get_info_by_fd", Subject(info, 1), ErrFromRet(ret));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("id", pinfo.id);
  out.Set("name", std::string(pinfo.name));
  return out;
}

}  // namespace

// Name of a loaded program by id (the kernel keeps the first 15 characters); "" if it is gone.
std::string ProgramNameById(uint32_t id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  if (!fd.valid()) return "";
  bpf_prog_info pinfo{};
  __u32 len = sizeof(pinfo);
  if (bpf_obj_get_info_by_fd(fd.get(), &pinfo, &len) != 0) return "";
  return pinfo.name;
}

void InitProgram(Napi::Env env, Napi::Object exports) {
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun));
  exports.Set("progInfo", Napi::Function::New(env, ProgInfo));
}

}  // namespace dpn
