// The N-API face of the shift mixers' kernels.
#include <algorithm>
#include <vector>
#include "kernels.h"
#include "napi-util.h"

namespace shiftmix::napi {
namespace {

// The last four arguments of every shift call: shifts (Int32Array, one per group), batch, length, dim.
ShiftCall shiftCallOf(napi_env env, napi_value* a) {
  const IntView shifts = intViewOf(env, a[0], "shifts");
  ShiftCall call{int(numberOf(env, a[1], "batch")), int(numberOf(env, a[2], "length")), int(numberOf(env, a[3], "dim")), shifts.data,
                 static_cast<int>(shifts.length)};
  if (call.batch < 0 || call.length < 0 || call.dim < 1 || call.groups < 1 || call.groups > call.dim)
    throw Error{"shift kernels need batch, length >= 0, dim >= 1 and between 1 and dim shifts"};
  for (int g = 0; g < call.groups; g++)
    if (shifts.data[g] < 0) throw Error{"shifts must be >= 0"};
  return call;
}

struct ShiftArgs {
  ShiftCall call;
  std::vector<float*> data;
};

// The Float32Arrays `names` come first (those whose index is in `perChannel` hold dim floats,
// the others batch * length * dim), then `others` arguments a caller reads itself, then the
// shift call's four.
ShiftArgs shiftArgsOf(napi_env env, napi_value* a, std::initializer_list<const char*> names, std::initializer_list<int> perChannel = {}, int others = 0) {
  ShiftArgs out{shiftCallOf(env, a + names.size() + others), {}};
  const int64_t size = static_cast<int64_t>(out.call.batch) * out.call.length * out.call.dim;
  int i = 0;
  for (const char* name : names) {
    const View v = viewOf(env, a[i], name);
    needs(v, std::find(perChannel.begin(), perChannel.end(), i) != perChannel.end() ? out.call.dim : size, name);
    out.data.push_back(v.data);
    i++;
  }
  return out;
}

// groupShift(x, y, back, shifts, batch, length, dim)
napi_value GroupShift(napi_env env, napi_callback_info info) {
  return withArgs<7>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"x", "y"}, {}, 1);
    groupShift(call, p[0], p[1], numberOf(env, a[2], "back") != 0);
  });
}

// hsmAbForward(u, a, b, y, shifts, batch, length, dim)
napi_value HsmAbForward(napi_env env, napi_callback_info info) {
  return withArgs<8>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"u", "a", "b", "y"}, {1, 2});
    hsmAbForward(call, p[0], p[1], p[2], p[3]);
  });
}

// hsmAbBackward(dy, u, a, b, du, da, db, shifts, batch, length, dim)
napi_value HsmAbBackward(napi_env env, napi_callback_info info) {
  return withArgs<11>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"dy", "u", "a", "b", "du", "da", "db"}, {2, 3, 5, 6});
    hsmAbBackward(call, p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
  });
}

// fusionBlendForward(g, v, y, shifts, batch, length, dim)
napi_value FusionBlendForward(napi_env env, napi_callback_info info) {
  return withArgs<7>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"g", "v", "y"});
    fusionBlendForward(call, p[0], p[1], p[2]);
  });
}

// fusionBlendBackward(dy, g, v, dg, dv, shifts, batch, length, dim)
napi_value FusionBlendBackward(napi_env env, napi_callback_info info) {
  return withArgs<9>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"dy", "g", "v", "dg", "dv"});
    fusionBlendBackward(call, p[0], p[1], p[2], p[3], p[4]);
  });
}

}  // namespace

void defineShiftKernels(napi_env env, napi_value exports) {
  defineFunctions(env, exports, {
      {"groupShift", GroupShift},
      {"hsmAbForward", HsmAbForward},
      {"hsmAbBackward", HsmAbBackward},
      {"fusionBlendForward", FusionBlendForward},
      {"fusionBlendBackward", FusionBlendBackward},
  });
}

}  // namespace shiftmix::napi
