#include "pool.h"
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace shiftmix {
namespace {

class Pool {
 public:
  ~Pool() { resize(1); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      generation_++;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
    // Each new thread waits for the generation after this one. Read when it starts, the
    // generation could already be that of the next run or resize, which it would then
    // sleep through (and the caller wait on it forever).
    const uint64_t start = generation_;
    for (int i = 1; i < threads; i++) workers_.emplace_back([this, i, start] { loop(i, start); });
  }

  // Runs chunk(i) for i in [0, chunks) with chunks <= size(); chunk 0 on the caller.
  void run(int chunks, const std::function<void(int)>& chunk) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &chunk;
      chunks_ = chunks;
      pending_ = chunks - 1;
      generation_++;
    }
    wake_.notify_all();
    chunk(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
  }

  std::mutex busy;  // held by the thread whose job the pool is running

 private:
  void loop(int index, uint64_t seen) {
    for (;;) {
      const std::function<void(int)>* task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        if (index >= chunks_) continue;
        task = task_;
      }
      (*task)(index);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* task_ = nullptr;
  int chunks_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool instance;
  static std::once_flag once;
  std::call_once(once, [] { instance.resize(std::max(1u, std::thread::hardware_concurrency())); });
  return instance;
}

}  // namespace

int poolThreads() { return pool().size(); }

void setPoolThreads(int threads) {
  std::lock_guard<std::mutex> lock(pool().busy);
  pool().resize(std::max(1, threads));
}

// Runs chunk(i, begin, end) for the chunks of [0, n), on the pool when it is free.
static void chunked(int64_t n, int64_t grain, const std::function<void(int, int64_t, int64_t)>& chunk, int* count) {
  Pool& p = pool();
  const int64_t most = grain > 0 ? std::max<int64_t>(1, n / grain) : n;
  int chunks = static_cast<int>(std::min<int64_t>(p.size(), most));
  std::unique_lock<std::mutex> held(p.busy, std::try_to_lock);
  if (!held.owns_lock()) chunks = 1;
  *count = chunks;
  if (chunks <= 1) return chunk(0, 0, n);
  p.run(chunks, [&](int i) { chunk(i, n * i / chunks, n * (i + 1) / chunks); });
}

void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  int count = 0;
  chunked(n, grain, [&](int, int64_t a, int64_t b) { body(a, b); }, &count);
}

void parallelSums(int64_t n, int64_t grain, int width, const std::function<void(int64_t, int64_t, double*)>& body, double* out) {
  std::fill(out, out + width, 0.0);
  if (n <= 0) return;
  // Room for as many chunks as the pool has threads; chunk i adds into row i.
  std::vector<double> acc(static_cast<size_t>(pool().size()) * width, 0.0);
  int count = 0;
  chunked(n, grain, [&](int i, int64_t a, int64_t b) { body(a, b, acc.data() + static_cast<size_t>(i) * width); }, &count);
  for (int i = 0; i < count; i++)
    for (int w = 0; w < width; w++) out[w] += acc[static_cast<size_t>(i) * width + w];
}

}  // namespace shiftmix
