// The single Catch2 main for workloads_tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
