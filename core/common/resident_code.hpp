// Start-up runs code the daemon never runs again (configuration, plugin loading, restore), and
// fault-around made whole windows of it resident, as did the dynamic linker reading symbol and
// string tables. Dropping those clean file pages from the process's page tables leaves the page
// cache alone; whatever the daemon runs next faults back in.
// The monitor does the same for its own binary (plugins/isolation-linux/monitor/child_util.hpp).
#pragma once

namespace berth::core {

// madvise(MADV_DONTNEED) over every private, file-backed mapping that holds only clean file
// pages: all executable ones, and the read-only ones without a copy-on-write page (smaps'
// Anonymous: 0); a read-only mapping with relocated data in it (RELRO) is left alone, since this
// would throw its relocations away. Call it when no other thread maps or unmaps libraries.
void drop_resident_code();

}  // namespace berth::core
