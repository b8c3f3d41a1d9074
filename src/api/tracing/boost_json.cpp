// Boost.JSON is used header-only, so that the build needs no package beyond libboost1.81-dev
// (the compiled library is a separate package, libboost-json1.81-dev): its definitions are
// compiled here, once for every user of smppd_tracing.
#include <boost/json/src.hpp>
