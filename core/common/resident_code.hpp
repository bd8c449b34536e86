// Start-up runs code the daemon never runs again (configuration, plugin loading, restore), and
// fault-around made whole windows of it resident. Dropping the process's executable mappings
// from its page tables leaves the page cache alone; whatever the daemon runs next faults back in.
// The monitor does the same for its own binary (plugins/isolation-linux/monitor/child_util.hpp).
#pragma once

namespace berth::core {

// madvise(MADV_DONTNEED) over every private, executable, file-backed mapping. Only those: a
// read-only mapping may hold relocated copy-on-write pages, which this would throw away.
void drop_resident_code();

}  // namespace berth::core
