// Programs: BPF_PROG_TEST_RUN on crafted packets.
#include <bpf/bpf.h>

#include <cerrno>

#include "common.h"

namespace dpn {

namespace {

// progTestRun(fd, data, ctx | null, repeat, dataOut, ctxOut | null, results, subject): the packet and
// context come back in the caller's reusable Buffers, and retval, data size out, ctx size out and
// duration in `results` (a Uint32Array of 4), because creating Buffers and objects in native code
// costs more than the run itself.
Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto data = ArgBuffer(info, 1);
  auto dataOut = ArgBuffer(info, 4);
  if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[6].As<Napi::Uint32Array>().ElementLength() < 4)
    throw Napi::TypeError::New(env, "results must be a Uint32Array of 4");
  auto results = info[6].As<Napi::Uint32Array>();
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = data.Data();
  opts.data_size_in = static_cast<__u32>(data.Length());
  opts.data_out = dataOut.Data();
  opts.data_size_out = static_cast<__u32>(dataOut.Length());
  opts.repeat = ArgInt(info, 3);
  if (info[2].IsBuffer()) {
    auto ctx = info[2].As<Napi::Buffer<uint8_t>>();
    auto ctxOut = ArgBuffer(info, 5);
    opts.ctx_in = ctx.Data();
    opts.ctx_size_in = static_cast<__u32>(ctx.Length());
    opts.ctx_out = ctxOut.Data();
    opts.ctx_size_out = static_cast<__u32>(ctxOut.Length());
  }
  int ret = bpf_prog_test_run_opts(ArgInt(info, 0), &opts);
  if (ret != 0) ThrowBpfError(env, "bpf_prog_test_run_opts", Subject(info, 7), ErrFromRet(ret));
  results[0] = opts.retval;
  results[1] = opts.data_size_out;
  results[2] = opts.ctx_size_out;
  results[3] = opts.duration;
  return env.Undefined();
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
