// exp and tanh that compilers vectorize (the C library's expf is a call per element):
// x = k ln2 + r with |r| <= ln2 / 2, exp(r) by its Taylor series to degree 7 (truncation
// below float rounding there), 2^k built from the exponent bits. Branch-free, so a loop
// around them becomes SIMD.
#pragma once
#include <cstdint>
#include <cstring>

namespace shiftmix {

inline float fastExp(float x) {
  // expf underflows to 0 below about -87.3 and overflows above 88.7; clamp, then select.
  const float xc = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  const float k = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  // Cody and Waite's two-part ln 2 keeps r exact to float precision.
  const float r = (xc - k * 0.693359375f) - k * -2.12194440e-4f;
  const float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float y = p * scale;
  return x < -87.3f ? 0.0f : (x > 88.7f ? __builtin_inff() : y);
}

// tanh with exp(-2|u|), which cannot overflow.
inline float fastTanh(float u) {
  const float e = fastExp(-2.0f * __builtin_fabsf(u));
  return __builtin_copysignf((1.0f - e) / (1.0f + e), u);
}

}  // namespace shiftmix
