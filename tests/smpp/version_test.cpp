// Placeholder until the version tests are written.
#include <gtest/gtest.h>
