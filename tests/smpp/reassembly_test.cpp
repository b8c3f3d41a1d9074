// Placeholder until the reassembly tests are written.
#include <gtest/gtest.h>
