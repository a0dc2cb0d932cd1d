{
  "targets": [
    {
      "target_name": "shiftmix_native",
      "sources": ["<!@(node -p \"require('fs').readdirSync('src').filter(f=>f.endsWith('.cc')).sort().map(f=>'src/'+f).join(' ')\")"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldl", "-lpthread"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math"]
      }
    }
  ]
}
