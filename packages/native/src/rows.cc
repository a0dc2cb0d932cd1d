// Row copies and row sums over the wasm heap, for the tfjs kernels that move rows: Concat,
// Slice and SplitV (one call per input or piece, where tfjs's JS copies a row at a time),
// and UnsortedSegmentSum, the token embedding's gradient (rows added into a table by id).
// Copies move bits: int32 tensors come as float views of the same bytes.
#include <cstring>

#include "kernels.h"
#include "napi-util.h"

namespace shiftmix {

// dst[dstOffset + r * dstStride + i] = src[srcOffset + r * srcStride + i] for i < rowLength.
void copyRows(int64_t rows, int64_t rowLength, const float* src, int64_t srcStride, float* dst, int64_t dstStride) {
  if (rowLength == srcStride && rowLength == dstStride) {
    std::memcpy(dst, src, sizeof(float) * size_t(rows * rowLength));
    return;
  }
  for (int64_t r = 0; r < rows; r++) std::memcpy(dst + r * dstStride, src + r * srcStride, sizeof(float) * size_t(rowLength));
}

// out [segments, inner] = 0, then row i of x [rows, inner] added into row ids[i]; ids
// outside [0, segments) are skipped, as tf.unsortedSegmentSum does. Rows are added in
// order, so every sum is the one core's reference computes.
SHIFTMIX_HOT void segmentSumRows(int64_t rows, int inner, int64_t segments, const float* x, const int32_t* ids, float* out) {
  std::memset(out, 0, sizeof(float) * size_t(segments * inner));
  for (int64_t i = 0; i < rows; i++) {
    const int64_t s = ids[i];
    if (s < 0 || s >= segments) continue;
    const float* __restrict xr = x + i * inner;
    float* __restrict o = out + s * inner;
    for (int j = 0; j < inner; j++) o[j] += xr[j];
  }
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

int64_t countOf(napi_env env, napi_value value, const char* name) {
  const double n = numberOf(env, value, name);
  if (!(n >= 0) || n != double(int64_t(n))) throw Error{std::string(name) + " must be a whole number >= 0"};
  return int64_t(n);
}

// copyRows(src, srcOffset, srcStride, dst, dstOffset, dstStride, rows, rowLength)
napi_value CopyRows(napi_env env, napi_callback_info info) {
  return withArgs<8>(env, info, [&](napi_value* a) {
    const View src = viewOf(env, a[0], "src"), dst = viewOf(env, a[3], "dst");
    const int64_t srcOffset = countOf(env, a[1], "srcOffset"), srcStride = countOf(env, a[2], "srcStride");
    const int64_t dstOffset = countOf(env, a[4], "dstOffset"), dstStride = countOf(env, a[5], "dstStride");
    const int64_t rows = countOf(env, a[6], "rows"), rowLength = countOf(env, a[7], "rowLength");
    if (rows == 0 || rowLength == 0) return;
    if (rowLength > srcStride || rowLength > dstStride) throw Error{"rowLength must not exceed either stride"};
    needs(src, srcOffset + (rows - 1) * srcStride + rowLength, "src");
    needs(dst, dstOffset + (rows - 1) * dstStride + rowLength, "dst");
    copyRows(rows, rowLength, src.data + srcOffset, srcStride, dst.data + dstOffset, dstStride);
  });
}

// segmentSumRows(x, ids, out, rows, inner, segments)
napi_value SegmentSumRows(napi_env env, napi_callback_info info) {
  return withArgs<6>(env, info, [&](napi_value* a) {
    const View x = viewOf(env, a[0], "x"), out = viewOf(env, a[2], "out");
    const IntView ids = intViewOf(env, a[1], "ids");
    const Rows r = rowsOf(env, a[3], a[4]);
    const int64_t segments = countOf(env, a[5], "segments");
    needs(x, r.size(), "x");
    needs(ids.length, r.rows, "ids");
    needs(out, segments * r.dim, "out");
    segmentSumRows(r.rows, r.dim, segments, x.data, ids.data, out.data);
  });
}

SHIFTMIX_BINDING("copyRows", CopyRows);
SHIFTMIX_BINDING("segmentSumRows", SegmentSumRows);

}  // namespace
}  // namespace shiftmix::napi
