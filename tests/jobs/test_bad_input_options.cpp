// Placeholder: filled in by the hardening work (issue 22).
#include <gtest/gtest.h>
