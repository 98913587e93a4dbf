// Ring buffers: ring_buffer__poll on a native thread; events are copied into a bounded queue and
// handed to JS in batches through a thread-safe function, so the event loop never blocks on the kernel.
#include <bpf/libbpf.h>

#include <atomic>
#include <cstring>
#include <cerrno>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace dpn {

namespace {

struct RingBufferFree {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};

struct PollState {
  std::mutex mu;
  std::deque<std::vector<uint8_t>> pending;
  double events = 0;
  double batches = 0;
  double dropped = 0;
  int pollError = 0;
  bool scheduled = false;  // a delivery is queued on the JS thread
  size_t maxBatch = 256;
  size_t maxPending = 65536;
  int timeoutMs = 100;
  std::atomic<bool> stop{false};
  UniqueFd mapFd;
  std::unique_ptr<ring_buffer, RingBufferFree> rb;
  std::thread thread;
  Napi::ThreadSafeFunction tsfn;
};

int OnSample(void* ctx, void* data, size_t size) {
  auto* s = static_cast<PollState*>(ctx);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->pending.size() >= s->maxPending) {
    s->dropped++;
    return 0;
  }
  auto* bytes = static_cast<uint8_t*>(data);
  s->pending.emplace_back(bytes, bytes + size);
  return 0;
}

// Runs on the JS thread: drains the queue in batches of at most maxBatch.
void Deliver(Napi::Env env, Napi::Function callback, PollState* s) {
  if (env == nullptr) return;  // the environment is shutting down
  for (;;) {
    std::vector<std::vector<uint8_t>> batch;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->pending.empty()) {
        s->scheduled = false;
        return;
      }
      size_t n = std::min(s->maxBatch, s->pending.size());
      for (size_t i = 0; i < n; i++) {
        batch.push_back(std::move(s->pending.front()));
        s->pending.pop_front();
      }
      s->events += static_cast<double>(n);
      s->batches++;
    }
    // One Buffer per batch, each event prefixed by its u32 length: a single allocation, which the
    // TypeScript side splits into views.
    size_t total = 0;
    for (const auto& e : batch) total += 4 + e.size();
    auto packed = Napi::Buffer<uint8_t>::New(env, total);
    uint8_t* out = packed.Data();
    for (const auto& e : batch) {
      uint32_t len = static_cast<uint32_t>(e.size());
      std::memcpy(out, &len, 4);
      std::memcpy(out + 4, e.data(), e.size());
      out += 4 + e.size();
    }
    try {
      callback.Call({packed});
    } catch (...) {
      // Let the next poll schedule the rest; the exception surfaces as an uncaught one.
      std::lock_guard<std::mutex> lock(s->mu);
      s->scheduled = false;
      throw;
    }
  }
}

void PollLoop(PollState* s) {
  while (!s->stop.load()) {
    int n = ring_buffer__poll(s->rb.get(), s->timeoutMs);
    if (n < 0 && n != -EINTR) {
      std::lock_guard<std::mutex> lock(s->mu);
      s->pollError = -n;
      break;
    }
    bool schedule = false;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (!s->pending.empty() && !s->scheduled) schedule = s->scheduled = true;
    }
    if (schedule) s->tsfn.BlockingCall(s, Deliver);
  }
  // Events consumed before stopping are still delivered before close() resolves.
  ring_buffer__consume(s->rb.get());
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->pending.empty() && !s->scheduled) schedule = s->scheduled = true;
  }
  if (schedule) s->tsfn.BlockingCall(s, Deliver);
  s->tsfn.Release();
}

class RingBufferReader : public Napi::ObjectWrap<RingBufferReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeRingBufferReader",
                       {InstanceMethod<&RingBufferReader::Stats>("stats"), InstanceMethod<&RingBufferReader::Close>("close")});
  }

  // new NativeRingBufferReader(mapFd, onBatch(packed), maxBatch, maxPending, pollTimeoutMs, subject)
  explicit RingBufferReader(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<RingBufferReader>(info), closed_(Napi::Promise::Deferred::New(info.Env())) {
    Napi::Env env = info.Env();
    state_ = std::make_unique<PollState>();
    PollState* s = state_.get();
    std::string subject = Subject(info, 5);
    s->mapFd.reset(DupFd(ArgInt(info, 0)));
    if (!s->mapFd.valid()) ThrowBpfError(env, "dup", subject, errno);
    if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "onEvents must be a function");
    s->maxBatch = std::max<uint32_t>(ArgU32(info, 2), 1);
    s->maxPending = std::max<uint32_t>(ArgU32(info, 3), 1);
    s->timeoutMs = std::max(ArgInt(info, 4), 1);
    errno = 0;
    s->rb.reset(ring_buffer__new(s->mapFd.get(), OnSample, s, nullptr));
    if (!s->rb) ThrowBpfError(env, "ring_buffer__new", subject, errno != 0 ? errno : EINVAL);
    // The finalizer runs on the JS thread after the last queued delivery: only then is it safe to
    // free the state and tell JS that no callback will follow.
    s->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "ring-buffer-reader", 0, 1,
                                            [this](Napi::Env) { Finished(); });
    // Keep this object alive while the thread may reach it, whatever JS does with its handle.
    Ref();
    running_ = true;
    s->thread = std::thread(PollLoop, s);
  }

  ~RingBufferReader() override {
    // Only reachable after Finished() (the reference is held until then) or if construction failed.
    if (state_ && state_->thread.joinable()) state_->thread.join();
  }

 private:
  void Finished() {
    state_->thread.join();
    int err = state_->pollError;
    state_->rb.reset();
    state_->mapFd.reset();
    running_ = false;
    if (err != 0) {
      Napi::Object e = Napi::Error::New(Env(), "ring_buffer__poll: " + ErrnoName(err) + " " + ErrnoText(err)).Value();
      closed_.Reject(e);
    } else {
      closed_.Resolve(Env().Undefined());
    }
    Unref();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Object out = Napi::Object::New(info.Env());
    std::lock_guard<std::mutex> lock(state_->mu);
    out.Set("events", state_->events);
    out.Set("batches", state_->batches);
    out.Set("droppedInUserspace", state_->dropped);
    out.Set("pending", static_cast<double>(state_->pending.size()));
    out.Set("running", running_ && !state_->stop.load());
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo&) {
    state_->stop.store(true);
    return closed_.Promise();
  }

  std::unique_ptr<PollState> state_;
  Napi::Promise::Deferred closed_;
  bool running_ = false;
};

}  // namespace

void InitRingbuf(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeRingBufferReader", RingBufferReader::Define(env));
}

}  // namespace dpn
