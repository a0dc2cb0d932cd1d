// The N-API face of the shift mixers' kernels.
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

int64_t sizeOf(const ShiftCall& c) { return static_cast<int64_t>(c.batch) * c.length * c.dim; }

// Reads `count` Float32Array arguments and checks each holds `extent(i)` floats.
template <typename Extent>
std::vector<View> viewsChecked(napi_env env, napi_value* a, std::initializer_list<const char*> names, Extent extent) {
  std::vector<View> views;
  int i = 0;
  for (const char* name : names) {
    views.push_back(viewOf(env, a[i], name));
    needs(views.back(), extent(i), name);
    i++;
  }
  return views;
}

// groupShift(x, y, back, shifts, batch, length, dim)
napi_value GroupShift(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value a[7];
    argsOf(env, info, 7, a);
    const ShiftCall call = shiftCallOf(env, a + 3);
    const auto v = viewsChecked(env, a, {"x", "y"}, [&](int) { return sizeOf(call); });
    groupShift(call, v[0].data, v[1].data, numberOf(env, a[2], "back") != 0);
    return undefinedOf(env);
  });
}

// hsmAbForward(u, a, b, y, shifts, batch, length, dim)
napi_value HsmAbForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value a[8];
    argsOf(env, info, 8, a);
    const ShiftCall call = shiftCallOf(env, a + 4);
    const auto v = viewsChecked(env, a, {"u", "a", "b", "y"}, [&](int i) { return i == 1 || i == 2 ? call.dim : sizeOf(call); });
    hsmAbForward(call, v[0].data, v[1].data, v[2].data, v[3].data);
    return undefinedOf(env);
  });
}

// hsmAbBackward(dy, u, a, b, du, da, db, shifts, batch, length, dim)
napi_value HsmAbBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value a[11];
    argsOf(env, info, 11, a);
    const ShiftCall call = shiftCallOf(env, a + 7);
    const auto v = viewsChecked(env, a, {"dy", "u", "a", "b", "du", "da", "db"}, [&](int i) { return i == 0 || i == 1 || i == 4 ? sizeOf(call) : call.dim; });
    hsmAbBackward(call, v[0].data, v[1].data, v[2].data, v[3].data, v[4].data, v[5].data, v[6].data);
    return undefinedOf(env);
  });
}

// fusionBlendForward(g, v, y, shifts, batch, length, dim)
napi_value FusionBlendForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value a[7];
    argsOf(env, info, 7, a);
    const ShiftCall call = shiftCallOf(env, a + 3);
    const auto v = viewsChecked(env, a, {"g", "v", "y"}, [&](int) { return sizeOf(call); });
    fusionBlendForward(call, v[0].data, v[1].data, v[2].data);
    return undefinedOf(env);
  });
}

// fusionBlendBackward(dy, g, v, dg, dv, shifts, batch, length, dim)
napi_value FusionBlendBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value a[9];
    argsOf(env, info, 9, a);
    const ShiftCall call = shiftCallOf(env, a + 5);
    const auto v = viewsChecked(env, a, {"dy", "g", "v", "dg", "dv"}, [&](int) { return sizeOf(call); });
    fusionBlendBackward(call, v[0].data, v[1].data, v[2].data, v[3].data, v[4].data);
    return undefinedOf(env);
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
