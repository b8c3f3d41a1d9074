// Placeholder until the text tests are written.
#include <gtest/gtest.h>
