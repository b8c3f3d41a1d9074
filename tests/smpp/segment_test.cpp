// Placeholder until the segment tests are written.
#include <gtest/gtest.h>
