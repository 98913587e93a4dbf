{
  "targets": [
    {
      "target_name": "datapath_native",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/netns.cc",
        "native/object.cc",
        "native/map.cc",
        "native/program.cc",
        "native/tc.cc",
        "native/xdp.cc",
        "native/cgroup.cc",
        "native/ringbuf.cc",
        "native/bench.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-fexceptions", "-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-unused-parameter"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
