// Boost.JSON's compiled part for the monitor binary (the setup children parse create.json; the
// long-lived process never does).
#include <boost/json/src.hpp>
