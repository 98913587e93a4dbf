// Module entry: each kernel concept registers its functions.
#include "common.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  dpn::InitErrors(env, exports);
  dpn::InitObject(env, exports);
  dpn::InitMap(env, exports);
  dpn::InitProgram(env, exports);
  dpn::InitTc(env, exports);
  dpn::InitXdp(env, exports);
  dpn::InitCgroup(env, exports);
  dpn::InitRingbuf(env, exports);
  dpn::InitNetns(env, exports);
  dpn::InitBench(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(datapath_native, Init)
