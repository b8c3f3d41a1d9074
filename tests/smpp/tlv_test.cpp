// Placeholder until the tlv tests are written.
#include <gtest/gtest.h>
