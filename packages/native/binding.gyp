{
  "targets": [
    {
      "target_name": "shiftmix_native",
      "sources": ["src/addon.cc", "src/addon-train.cc", "src/napi-util.cc", "src/gemm.cc", "src/attention.cc", "src/norm.cc", "src/pointwise.cc", "src/adamw.cc", "src/shift.cc", "src/addon-shift.cc", "src/pool.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldl", "-lpthread"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math"]
      }
    }
  ]
}
