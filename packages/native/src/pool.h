// A small persistent thread pool for the kernels that are not matrix products (those go
// to the BLAS and its own threads, never at the same time as these).
#pragma once
#include <cstdint>
#include <functional>

namespace shiftmix {

// Threads the kernels may use, the calling one included (default: the machine's cores).
int poolThreads();
void setPoolThreads(int threads);

// Runs body(begin, end) over [0, n) in contiguous chunks, one per thread, none smaller
// than `grain` items (below that, fewer threads). The calling thread takes a chunk too.
// When another thread of the process holds the pool (two worker threads of Node), the
// caller runs everything itself.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

// parallelFor whose chunks each add terms into their own `width` zeroed doubles; out gets
// their sum, chunk by chunk in order (the same floats for the same thread count).
void parallelSums(int64_t n, int64_t grain, int width, const std::function<void(int64_t, int64_t, double*)>& body, double* out);

}  // namespace shiftmix
