// Placeholder until the time tests are written.
#include <gtest/gtest.h>
