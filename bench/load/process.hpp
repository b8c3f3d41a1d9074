// Process set-up shared by smpp_loadgen and smpp_sink.
#pragma once

#include <malloc.h>
#include <sys/resource.h>
#include <sys/time.h>

namespace smppd::bench {

// Every session is a descriptor: take all the system allows (the hard limit).
inline void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// A session gives back its buffers above 16 KiB once drained, so under load every burst frees
// and re-allocates them; with glibc's default trim threshold that returns the memory to the
// kernel and faults it in again (30,000 page faults in 3 s in the sink). Keep it instead.
inline void keep_freed_memory() {
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

// CPU seconds of this process so far: {user, system}.
struct CpuSeconds {
  double user = 0;
  double system = 0;
};
inline CpuSeconds cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return {s(u.ru_utime), s(u.ru_stime)};
}

}  // namespace smppd::bench
