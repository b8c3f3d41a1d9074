// Boost.JSON's implementation, compiled once for the whole program (see CMakeLists.txt).
#include <boost/json/src.hpp>
