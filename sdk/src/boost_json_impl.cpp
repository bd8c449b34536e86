// The plugin side's private copy of Boost.JSON (header-only build), compiled with hidden
// visibility into berth_sdk_plugin so a plugin never depends on, or collides with, the daemon's.
#include <boost/json/src.hpp>
