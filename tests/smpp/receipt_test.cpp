// Placeholder until the receipt tests are written.
#include <gtest/gtest.h>
