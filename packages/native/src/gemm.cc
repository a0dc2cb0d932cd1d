// Matrix products: through the system's BLAS when one can be opened at run time (no
// headers or link step needed, so the addon builds anywhere), else a plain blocked loop.
#include <dlfcn.h>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>
#include "kernels.h"
#include "napi-util.h"

namespace shiftmix {
namespace {

// cblas_sgemm's ABI: enums are ints (row-major 101, no-trans 111, trans 112).
using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();

struct Blas {
  SgemmFn sgemm = nullptr;
  SetThreadsFn setThreads = nullptr;
  GetThreadsFn getThreads = nullptr;
  std::string name = "builtin";
};

struct Candidate {
  const char* file;
  const char* name;
};

// OpenBLAS first: Debian's libblas.so.3 may be the slow reference BLAS, which also lacks cblas.
const Candidate kCandidates[] = {
#if defined(__APPLE__)
    {"/System/Library/Frameworks/Accelerate.framework/Accelerate", "accelerate"},
    {"libopenblas.dylib", "openblas"},
#else
    {"libopenblas.so.0", "openblas"},
    {"libopenblas.so", "openblas"},
    {"libmkl_rt.so.2", "mkl"},
    {"libmkl_rt.so", "mkl"},
    {"libblis.so.4", "blis"},
    {"libblas.so.3", "blas"},
#endif
};

Blas openBlas() {
  Blas blas;
  std::vector<Candidate> candidates;
  // SHIFTMIX_BLAS names a library to use instead; "none" keeps the builtin loop.
  const char* chosen = std::getenv("SHIFTMIX_BLAS");
  if (chosen && std::strcmp(chosen, "none") == 0) return blas;
  if (chosen && *chosen) candidates.push_back({chosen, chosen});
  else candidates.assign(std::begin(kCandidates), std::end(kCandidates));
  // OpenBLAS's idle threads spin for a long while after each product, on the cores the
  // pool's threads need for the kernels between products (5% of a step on 2 cores). A short
  // spin, read when the library loads, unless the user set one.
  setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
  for (const Candidate& c : candidates) {
    void* handle = dlopen(c.file, RTLD_NOW | RTLD_LOCAL);
    if (!handle) continue;
    auto sgemm = reinterpret_cast<SgemmFn>(dlsym(handle, "cblas_sgemm"));
    if (!sgemm) {
      dlclose(handle);
      continue;
    }
    blas.sgemm = sgemm;
    blas.name = c.name;
    blas.setThreads = reinterpret_cast<SetThreadsFn>(dlsym(handle, "openblas_set_num_threads"));
    if (!blas.setThreads) blas.setThreads = reinterpret_cast<SetThreadsFn>(dlsym(handle, "MKL_Set_Num_Threads"));
    blas.getThreads = reinterpret_cast<GetThreadsFn>(dlsym(handle, "openblas_get_num_threads"));
    if (!blas.getThreads) blas.getThreads = reinterpret_cast<GetThreadsFn>(dlsym(handle, "MKL_Get_Max_Threads"));
    return blas;
  }
  return blas;
}

const Blas& blas() {
  static std::once_flag once;
  static Blas instance;
  std::call_once(once, [] { instance = openBlas(); });
  return instance;
}

// Copies op(X) [rows, cols] of a matrix stored as [cols, rows] into row-major order.
void transposeInto(const float* x, int rows, int cols, std::vector<float>& out) {
  out.resize(static_cast<size_t>(rows) * cols);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) out[static_cast<size_t>(r) * cols + c] = x[static_cast<size_t>(c) * rows + r];
}

// C[m, n] = alpha * A[m, k] B[k, n] + beta * C, all row-major and contiguous.
SHIFTMIX_HOT void gemmPlain(int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c) {
  const int kBlock = 256;
  for (int i = 0; i < m; i++) {
    float* row = c + static_cast<size_t>(i) * n;
    // beta 0 overwrites, as in BLAS: a NaN already in C must not survive.
    if (beta == 0.0f) std::memset(row, 0, sizeof(float) * n);
    else if (beta != 1.0f)
      for (int j = 0; j < n; j++) row[j] *= beta;
  }
  for (int p0 = 0; p0 < k; p0 += kBlock) {
    const int p1 = p0 + kBlock < k ? p0 + kBlock : k;
    for (int i = 0; i < m; i++) {
      float* __restrict row = c + static_cast<size_t>(i) * n;
      for (int p = p0; p < p1; p++) {
        const float aip = alpha * a[static_cast<size_t>(i) * k + p];
        const float* __restrict brow = b + static_cast<size_t>(p) * n;
        for (int j = 0; j < n; j++) row[j] += aip * brow[j];
      }
    }
  }
}

}  // namespace

std::string blasName() { return blas().name; }

int blasThreads() { return blas().getThreads ? blas().getThreads() : 1; }

void setBlasThreads(int threads) {
  if (blas().setThreads && threads >= 1) blas().setThreads(threads);
}

void gemmStrided(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float beta,
                 float* c, int ldc) {
  if (m == 0 || n == 0) return;
  const Blas& lib = blas();
  if (lib.sgemm) {
    lib.sgemm(101, transA ? 112 : 111, transB ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Without a BLAS: gather op(A), op(B) and C into contiguous rows, multiply, scatter C back.
  std::vector<float> pa(static_cast<size_t>(m) * k), pb(static_cast<size_t>(k) * n), pc(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; i++)
    for (int p = 0; p < k; p++) pa[static_cast<size_t>(i) * k + p] = transA ? a[static_cast<size_t>(p) * lda + i] : a[static_cast<size_t>(i) * lda + p];
  for (int p = 0; p < k; p++)
    for (int j = 0; j < n; j++) pb[static_cast<size_t>(p) * n + j] = transB ? b[static_cast<size_t>(j) * ldb + p] : b[static_cast<size_t>(p) * ldb + j];
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) pc[static_cast<size_t>(i) * n + j] = beta == 0.0f ? 0.0f : c[static_cast<size_t>(i) * ldc + j];
  gemmPlain(m, n, k, alpha, pa.data(), pb.data(), beta == 0.0f ? 0.0f : beta, pc.data());
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) c[static_cast<size_t>(i) * ldc + j] = pc[static_cast<size_t>(i) * n + j];
}

void gemm(const GemmCall& call, const float* a, const float* b, float* c) {
  if (call.m == 0 || call.n == 0) return;
  const Blas& lib = blas();
  const int lda = call.transA ? call.m : call.k;
  const int ldb = call.transB ? call.k : call.n;
  std::vector<float> packedA, packedB;
  for (int i = 0; i < call.batch; i++) {
    const float* ai = a + i * call.strideA;
    const float* bi = b + i * call.strideB;
    float* ci = c + i * call.strideC;
    if (lib.sgemm) {
      lib.sgemm(101, call.transA ? 112 : 111, call.transB ? 112 : 111, call.m, call.n, call.k, call.alpha, ai, lda, bi, ldb, call.beta, ci, call.n);
      continue;
    }
    if (call.transA) transposeInto(ai, call.m, call.k, packedA);
    if (call.transB) transposeInto(bi, call.k, call.n, packedB);
    gemmPlain(call.m, call.n, call.k, call.alpha, call.transA ? packedA.data() : ai, call.transB ? packedB.data() : bi, call.beta, ci);
  }
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// gemm(a, b, c, transA, transB, m, n, k, batch, strideA, strideB, strideC, alpha, beta)
napi_value Gemm(napi_env env, napi_callback_info info) {
  return withArgs<14>(env, info, [&](napi_value* argv) {
    const View a = viewOf(env, argv[0], "a"), b = viewOf(env, argv[1], "b"), c = viewOf(env, argv[2], "c");
    double n[11];
    for (int i = 0; i < 11; i++) n[i] = numberOf(env, argv[3 + i], "gemm size");
    shiftmix::GemmCall call{n[0] != 0, n[1] != 0, int(n[2]), int(n[3]), int(n[4]), int(n[5]),
                            int64_t(n[6]), int64_t(n[7]), int64_t(n[8]), float(n[9]), float(n[10])};
    if (call.m < 0 || call.n < 0 || call.k < 0 || call.batch < 1) throw Error{"gemm sizes must be >= 0 and batch >= 1"};
    const int64_t last = call.batch - 1;
    needs(a, last * call.strideA + int64_t(call.m) * call.k, "a");
    needs(b, last * call.strideB + int64_t(call.k) * call.n, "b");
    needs(c, last * call.strideC + int64_t(call.m) * call.n, "c");
    shiftmix::gemm(call, a.data, b.data, c.data);
  });
}

SHIFTMIX_BINDING("gemm", Gemm);

}  // namespace
}  // namespace shiftmix::napi
